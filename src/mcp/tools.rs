//! The tools an agent sees in `tools/list`: names, what each does, the JSON Schema of its
//! arguments and of its structured result, and the hints a client shows a person before a
//! call (read-only, destructive, idempotent, reaching outside the service).
//!
//! Results are the REST API's views (the same field names as `/api/v1`), so what an agent
//! learns from one it can use with the other. An output schema names the fields a result
//! always has and leaves the rest open, so that a view that gains a field stays valid.

use serde_json::{json, Value};

/// One tool's description.
pub struct Tool {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub input: Value,
    pub output: Value,
    pub hints: Hints,
}

/// MCP's tool annotations. Every one is set: a client takes an absent `destructiveHint`
/// and `openWorldHint` as true.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hints {
    pub read_only: bool,
    pub destructive: bool,
    pub idempotent: bool,
    /// Whether the tool reaches GitHub (starting a sync does; every read answers from what
    /// the service holds).
    pub open_world: bool,
}

const READ: Hints = Hints { read_only: true, destructive: false, idempotent: true, open_world: false };

impl Tool {
    /// The tool as `tools/list` lists it.
    pub fn listing(&self) -> Value {
        json!({
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "inputSchema": self.input,
            "outputSchema": self.output,
            "annotations": {
                "title": self.title,
                "readOnlyHint": self.hints.read_only,
                "destructiveHint": self.hints.destructive,
                "idempotentHint": self.hints.idempotent,
                "openWorldHint": self.hints.open_world,
            },
        })
    }
}

/// Every tool, in the order `tools/list` gives them (deterministic, as 2026-07-28 asks).
pub fn catalogue() -> Vec<Tool> {
    vec![
        tool("list_projects", "List projects", "The caller's projects: id, name, repository, branch and the sync whose state is current.", input(&[("cursor", cursor())], &[]), page("projects", project()), READ),
        tool("list_syncs", "List syncs", "A project's syncs, newest first: status, commit, counts of added, modified, removed and renamed files.", input(&[("project", id("The project's id.")), ("cursor", cursor())], &["project"]), page("syncs", sync()), READ),
        tool("get_sync", "Get a sync", "One sync: status, progress, counts, the commit it reached; poll it to follow a sync you started.", input(&[("sync", id("The sync's id."))], &["sync"]), sync(), READ),
        tool("list_files", "List files", "The files of a project's state: the current one, or the state right after sync `at`. Narrow with `prefix` (a directory or the start of a path).", input(&[("project", id("The project's id.")), ("at", at()), ("prefix", text("Only paths that start with this.", 4096)), ("cursor", cursor())], &["project"]), page_at("files", file()), READ),
        tool("read_file", "Read a file", "The text of a file at any state, whole or a range of lines, with its git blob sha. A file whose text is not kept (binary, too large, an LFS pointer, a symlink or submodule) is described instead; a long text is cut and the range to ask for next is given.", read_file_input(), read_file_output(), READ),
        tool("search_text", "Search text", "Full-text search over a project's files (the current state, or the state right after sync `at`): each hit with its path, line numbers and a short excerpt.", input(&[("project", id("The project's id.")), ("query", text("Words to find (full-text search, not a regular expression).", 500)), ("at", at()), ("cursor", cursor())], &["project", "query"]), search_output(), READ),
        tool("get_changes", "Get a sync's changes", "What one sync changed: added, modified, removed and renamed paths with their blob shas; a rename carries its similarity (0-100, as git scores it).", input(&[("sync", id("The sync's id.")), ("cursor", cursor())], &["sync"]), sync_changes(), READ),
        tool("compare", "Compare two states", "What changed between two states of a project: from sync `from` (default: the state before `to`) to sync `to` (default: the current state). Renames carry their similarity; `renames` says whether renames with edits were looked for (they are when the states differ little enough to read their texts).", input(&[("project", id("The project's id.")), ("from", id("The older state's sync id.")), ("to", id("The newer state's sync id.")), ("cursor", cursor())], &["project"]), compared(), READ),
        tool("file_history", "File history", "Every version of one path, newest first, with the sync that brought each and the one that replaced it.", input(&[("project", id("The project's id.")), ("path", text("The file's path in the repository.", 4096)), ("cursor", cursor())], &["project", "path"]), page("versions", version()), READ),
        tool("start_sync", "Start a sync", "Starts a sync of the project's branch from GitHub (or of `branch`, or a dry run that only reports what would change). Returns the sync; follow it with get_sync.", input(&[("project", id("The project's id.")), ("branch", text("Another branch to sync.", 255)), ("dryRun", json!({"type": "boolean", "description": "Report what would change and change nothing."}))], &["project"]), started(), Hints { read_only: false, destructive: false, idempotent: false, open_world: true }),
        tool("cancel_sync", "Cancel a sync", "Cancels a running sync; the project's state stays what it was.", input(&[("sync", id("The running sync's id."))], &["sync"]), sync(), Hints { read_only: false, destructive: true, idempotent: true, open_world: false }),
        tool("restore", "Restore a state", "Makes the state right after an earlier sync the project's current state again (as a new sync in the chain; nothing is lost). Returns the restore; follow it with get_sync.", input(&[("project", id("The project's id.")), ("sync", id("The completed sync whose state to restore."))], &["project", "sync"]), started(), Hints { read_only: false, destructive: true, idempotent: false, open_world: false }),
    ]
}

fn tool(name: &'static str, title: &'static str, description: &'static str, input: Value, output: Value, hints: Hints) -> Tool {
    Tool { name, title, description, input, output, hints }
}

fn input(properties: &[(&str, Value)], required: &[&str]) -> Value {
    let properties: serde_json::Map<String, Value> = properties.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
    json!({ "type": "object", "properties": properties, "required": required, "additionalProperties": false })
}

fn id(description: &str) -> Value {
    json!({ "type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[a-z0-9-]+$", "description": description })
}

fn at() -> Value {
    id("A completed sync's id: read the state right after it. Leave out for the current state.")
}

fn cursor() -> Value {
    json!({ "type": "string", "description": "The `nextCursor` of the previous page." })
}

fn text(description: &str, max: u32) -> Value {
    json!({ "type": "string", "minLength": 1, "maxLength": max, "description": description })
}

fn line(description: &str) -> Value {
    json!({ "type": "integer", "minimum": 1, "description": description })
}

fn read_file_input() -> Value {
    input(
        &[
            ("project", id("The project's id.")),
            ("path", text("The file's path in the repository.", 4096)),
            ("at", at()),
            ("startLine", line("The first line to return (1-based).")),
            ("endLine", line("The last line to return (inclusive).")),
        ],
        &["project", "path"],
    )
}

/// An object output with these fields always present and others allowed.
fn shape(properties: Value, required: &[&str]) -> Value {
    json!({ "type": "object", "properties": properties, "required": required })
}

fn nullable(kind: &str) -> Value {
    json!({ "type": [kind, "null"] })
}

fn page(items: &str, item: Value) -> Value {
    shape(json!({ items: { "type": "array", "items": item }, "nextCursor": { "type": "string" } }), &[items])
}

/// A compare's page: its changes, and how far it looked for renames (with edits as git
/// does; only by unique basename past git's rename limit; exact only when the states
/// differ in more than a page can read the texts of).
fn compared() -> Value {
    let renames = json!({ "type": "string", "enum": ["with-edits", "limit-exceeded", "exact-only"] });
    shape(
        json!({ "changes": { "type": "array", "items": change() }, "renames": renames, "nextCursor": { "type": "string" } }),
        &["changes", "renames"],
    )
}

fn page_at(items: &str, item: Value) -> Value {
    shape(
        json!({ items: { "type": "array", "items": item }, "at": { "type": "string" }, "nextCursor": { "type": "string" } }),
        &[items, "at"],
    )
}

fn project() -> Value {
    shape(
        json!({ "id": {"type": "string"}, "name": {"type": "string"}, "repository": {"type": "string"}, "branch": {"type": "string"},
                "currentSyncId": nullable("string"), "currentCommitSha": nullable("string") }),
        &["id", "name", "repository", "branch", "currentSyncId"],
    )
}

fn sync() -> Value {
    shape(
        json!({ "id": {"type": "string"}, "projectId": {"type": "string"}, "kind": {"type": "string"}, "status": {"type": "string"},
                "progress": {"type": "integer"}, "branch": {"type": "string"}, "commitSha": nullable("string"), "counts": {"type": "object"},
                "startedAt": {"type": "string"}, "completedAt": nullable("string"),
                "renameLimitExceeded": {"type": "boolean", "description": "git's rename limit stopped the search for renames with edits."} }),
        &["id", "projectId", "kind", "status", "progress", "counts"],
    )
}

fn started() -> Value {
    shape(json!({ "sync": sync(), "follow": { "type": "string" } }), &["sync", "follow"])
}

fn file() -> Value {
    shape(
        json!({ "path": {"type": "string"}, "sha": {"type": "string"}, "kind": {"type": "string"}, "size": nullable("integer"), "syncId": {"type": "string"} }),
        &["path", "sha", "kind"],
    )
}

fn version() -> Value {
    shape(
        json!({ "path": {"type": "string"}, "sha": {"type": "string"}, "syncId": {"type": "string"}, "supersededBySyncId": nullable("string") }),
        &["path", "sha", "syncId"],
    )
}

fn change() -> Value {
    shape(
        json!({ "path": {"type": "string"}, "change": {"type": "string"}, "sha": {"type": "string"}, "previousPath": {"type": "string"},
                "similarity": {"type": "integer", "minimum": 0, "maximum": 100,
                               "description": "renamed only: how similar the file is to its previous path, as git scores it (100: the same content)."} }),
        &["path", "change"],
    )
}

/// A sync's changes: the page, and `renameLimitExceeded` when git's rename limit stopped its
/// search for renames with edits (present only then).
fn sync_changes() -> Value {
    let mut out = page("changes", change());
    out["properties"]["renameLimitExceeded"] = json!({"type": "boolean",
        "description": "Present (true) when the sync had too many added and removed files to look for every rename with edits: some moved files show as removed and added."});
    out
}

fn read_file_output() -> Value {
    shape(
        json!({ "path": {"type": "string"}, "sha": {"type": "string"}, "at": {"type": "string"}, "kind": {"type": "string"},
                "size": nullable("integer"), "text": {"type": "string"}, "startLine": {"type": "integer"}, "endLine": {"type": "integer"},
                "totalLines": {"type": "integer"}, "skipped": {"type": "string"},
                "truncated": shape(json!({ "nextStartLine": {"type": "integer"}, "note": {"type": "string"} }), &["nextStartLine", "note"]) }),
        &["path", "sha", "at", "kind"],
    )
}

fn search_output() -> Value {
    let hit = shape(
        json!({ "path": {"type": "string"}, "sha": {"type": "string"}, "startLine": {"type": "integer"}, "endLine": {"type": "integer"}, "excerpt": {"type": "string"} }),
        &["path", "startLine", "endLine", "excerpt"],
    );
    shape(json!({ "hits": { "type": "array", "items": hit }, "at": {"type": "string"}, "nextCursor": {"type": "string"} }), &["hits", "at"])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn the_catalogue_names_each_tool_the_issue_asks_for_once() {
        let names: Vec<&str> = catalogue().iter().map(|t| t.name).collect();
        let expected = [
            "list_projects",
            "list_syncs",
            "get_sync",
            "list_files",
            "read_file",
            "search_text",
            "get_changes",
            "compare",
            "file_history",
            "start_sync",
            "cancel_sync",
            "restore",
        ];
        assert_eq!(names, expected);
        assert_eq!(names.iter().collect::<HashSet<_>>().len(), names.len());
        for name in names {
            assert!(name.len() <= 128 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'), "{name}");
        }
    }

    #[test]
    fn every_schema_is_an_object_whose_required_fields_it_describes() {
        for tool in catalogue() {
            for schema in [&tool.input, &tool.output] {
                assert_eq!(schema["type"], "object", "{}", tool.name);
                let properties = schema["properties"].as_object().unwrap();
                for field in schema["required"].as_array().unwrap() {
                    assert!(properties.contains_key(field.as_str().unwrap()), "{}: {field} required but not described", tool.name);
                }
            }
            assert_eq!(tool.input["additionalProperties"], false, "{}: unknown arguments are refused", tool.name);
        }
    }

    #[test]
    fn only_the_tools_that_change_state_say_so() {
        for tool in catalogue() {
            let listing = tool.listing();
            let hints = &listing["annotations"];
            let changes = matches!(tool.name, "start_sync" | "cancel_sync" | "restore");
            assert_eq!(hints["readOnlyHint"], !changes, "{}", tool.name);
            assert_eq!(hints["destructiveHint"], matches!(tool.name, "cancel_sync" | "restore"), "{}", tool.name);
            assert_eq!(hints["openWorldHint"], tool.name == "start_sync", "{}: only a sync reads GitHub", tool.name);
            for key in ["readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"] {
                assert!(hints[key].is_boolean(), "{}: {key} set", tool.name);
            }
        }
    }
}
