//! A `tools/call` parsed once: the tool's name and its arguments become one typed call, or
//! an invalid-params error that names the argument at fault. Unknown arguments are refused,
//! as the input schemas say, so a misspelt `startline` never silently reads the whole file.

use super::jsonrpc::RpcError;
use crate::domain::{BranchName, Invalid, ProjectId, SyncId};
use serde_json::{Map, Value};

/// The longest path, prefix and cursor accepted (a path in git has no limit; GitHub's trees
/// hold none near this).
const MAX_PATH_BYTES: usize = 4096;
const MAX_CURSOR_BYTES: usize = 2048;
const MAX_QUERY_CHARS: usize = 500;

#[derive(Debug, Clone, PartialEq)]
pub enum ToolCall {
    ListProjects { cursor: Option<String> },
    ListSyncs { project: ProjectId, cursor: Option<String> },
    GetSync { sync: SyncId },
    ListFiles { project: ProjectId, at: Option<SyncId>, prefix: Option<String>, cursor: Option<String> },
    ReadFile { project: ProjectId, path: String, at: Option<SyncId>, lines: LineRange },
    SearchText { project: ProjectId, query: String, at: Option<SyncId>, cursor: Option<String> },
    GetChanges { sync: SyncId, cursor: Option<String> },
    Compare { project: ProjectId, from: Option<SyncId>, to: Option<SyncId>, cursor: Option<String> },
    FileHistory { project: ProjectId, path: String, cursor: Option<String> },
    StartSync { project: ProjectId, branch: Option<BranchName>, dry_run: bool },
    CancelSync { sync: SyncId },
    Restore { project: ProjectId, sync: SyncId },
}

/// The lines `read_file` was asked for, 1-based and inclusive; `None` is an open end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LineRange {
    pub start: Option<u32>,
    pub end: Option<u32>,
}

/// Reads `tools/call`'s params: `name` and `arguments`.
pub fn parse(params: &Map<String, Value>) -> Result<ToolCall, RpcError> {
    let name = params.get("name").and_then(Value::as_str).ok_or_else(|| RpcError::invalid_params("name", "must be a tool's name"))?;
    let empty = Map::new();
    let arguments = match params.get("arguments") {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(arguments)) => arguments,
        Some(_) => return Err(RpcError::invalid_params("arguments", "must be an object")),
    };
    call(name, &Args(arguments))
}

fn call(name: &str, a: &Args<'_>) -> Result<ToolCall, RpcError> {
    Ok(match name {
        "list_projects" => {
            a.only(&["cursor"])?;
            ToolCall::ListProjects { cursor: a.cursor()? }
        }
        "list_syncs" => {
            a.only(&["project", "cursor"])?;
            ToolCall::ListSyncs { project: a.project()?, cursor: a.cursor()? }
        }
        "get_sync" => {
            a.only(&["sync"])?;
            ToolCall::GetSync { sync: a.sync("sync")? }
        }
        "list_files" => {
            a.only(&["project", "at", "prefix", "cursor"])?;
            ToolCall::ListFiles {
                project: a.project()?,
                at: a.optional_sync("at")?,
                prefix: a.text("prefix", MAX_PATH_BYTES)?,
                cursor: a.cursor()?,
            }
        }
        "read_file" => {
            a.only(&["project", "path", "at", "startLine", "endLine"])?;
            ToolCall::ReadFile { project: a.project()?, path: a.path()?, at: a.optional_sync("at")?, lines: a.lines()? }
        }
        "search_text" => {
            a.only(&["project", "query", "at", "cursor"])?;
            ToolCall::SearchText { project: a.project()?, query: a.query()?, at: a.optional_sync("at")?, cursor: a.cursor()? }
        }
        "get_changes" => {
            a.only(&["sync", "cursor"])?;
            ToolCall::GetChanges { sync: a.sync("sync")?, cursor: a.cursor()? }
        }
        "compare" => {
            a.only(&["project", "from", "to", "cursor"])?;
            ToolCall::Compare { project: a.project()?, from: a.optional_sync("from")?, to: a.optional_sync("to")?, cursor: a.cursor()? }
        }
        "file_history" => {
            a.only(&["project", "path", "cursor"])?;
            ToolCall::FileHistory { project: a.project()?, path: a.path()?, cursor: a.cursor()? }
        }
        "start_sync" => {
            a.only(&["project", "branch", "dryRun"])?;
            let branch = a.text("branch", 255)?.map(|b| BranchName::parse(&b)).transpose().map_err(|e| invalid("branch", e))?;
            ToolCall::StartSync { project: a.project()?, branch, dry_run: a.flag("dryRun")? }
        }
        "cancel_sync" => {
            a.only(&["sync"])?;
            ToolCall::CancelSync { sync: a.sync("sync")? }
        }
        "restore" => {
            a.only(&["project", "sync"])?;
            ToolCall::Restore { project: a.project()?, sync: a.sync("sync")? }
        }
        unknown => return Err(RpcError::invalid_params("name", format!("Unknown tool: {unknown}"))),
    })
}

fn invalid(field: &str, why: Invalid) -> RpcError {
    RpcError::invalid_params(field, why)
}

/// A call's arguments, read field by field.
struct Args<'a>(&'a Map<String, Value>);

impl Args<'_> {
    fn only(&self, known: &[&str]) -> Result<(), RpcError> {
        match self.0.keys().find(|k| !known.contains(&k.as_str())) {
            Some(unknown) => {
                Err(RpcError::invalid_params(unknown, format!("is not an argument of this tool (it takes {})", known.join(", "))))
            }
            None => Ok(()),
        }
    }

    /// A string argument, absent or null as `None`; empty or over `max` bytes is refused.
    fn text(&self, field: &str, max: usize) -> Result<Option<String>, RpcError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Err(RpcError::invalid_params(field, "must not be empty")),
            Some(Value::String(s)) if s.len() > max => Err(RpcError::invalid_params(field, format!("is longer than {max} bytes"))),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(RpcError::invalid_params(field, "must be a string")),
        }
    }

    fn required(&self, field: &str, max: usize) -> Result<String, RpcError> {
        self.text(field, max)?.ok_or_else(|| RpcError::invalid_params(field, "is required"))
    }

    fn project(&self) -> Result<ProjectId, RpcError> {
        ProjectId::parse(&self.required("project", 64)?).map_err(|e| invalid("project", e))
    }

    fn sync(&self, field: &str) -> Result<SyncId, RpcError> {
        SyncId::parse(&self.required(field, 64)?).map_err(|e| invalid(field, e))
    }

    fn optional_sync(&self, field: &str) -> Result<Option<SyncId>, RpcError> {
        self.text(field, 64)?.map(|raw| SyncId::parse(&raw).map_err(|e| invalid(field, e))).transpose()
    }

    fn path(&self) -> Result<String, RpcError> {
        let path = self.required("path", MAX_PATH_BYTES)?;
        if path.starts_with('/') || path.ends_with('/') || path.split('/').any(|s| s.is_empty() || s == "." || s == "..") {
            return Err(RpcError::invalid_params("path", "must be a file's path in the repository, like \"src/main.rs\""));
        }
        Ok(path)
    }

    fn query(&self) -> Result<String, RpcError> {
        let query = self.required("query", MAX_QUERY_CHARS * 4)?;
        if query.chars().count() > MAX_QUERY_CHARS {
            return Err(RpcError::invalid_params("query", format!("is longer than {MAX_QUERY_CHARS} characters")));
        }
        if query.trim().is_empty() {
            return Err(RpcError::invalid_params("query", "must hold a word to search for"));
        }
        Ok(query)
    }

    fn cursor(&self) -> Result<Option<String>, RpcError> {
        self.text("cursor", MAX_CURSOR_BYTES)
    }

    fn flag(&self, field: &str) -> Result<bool, RpcError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(RpcError::invalid_params(field, "must be true or false")),
        }
    }

    fn line(&self, field: &str) -> Result<Option<u32>, RpcError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => match v.as_u64() {
                Some(n) if n >= 1 => Ok(Some(u32::try_from(n).unwrap_or(u32::MAX))),
                _ => Err(RpcError::invalid_params(field, "must be a line number, 1 or more")),
            },
        }
    }

    fn lines(&self) -> Result<LineRange, RpcError> {
        let range = LineRange { start: self.line("startLine")?, end: self.line("endLine")? };
        match (range.start, range.end) {
            (Some(start), Some(end)) if end < start => {
                Err(RpcError::invalid_params("endLine", format!("must not come before startLine ({start})")))
            }
            _ => Ok(range),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mcp::jsonrpc::INVALID_PARAMS;
    use serde_json::json;

    fn parsed(name: &str, arguments: Value) -> Result<ToolCall, String> {
        let params = json!({ "name": name, "arguments": arguments });
        parse(params.as_object().unwrap()).map_err(|e| {
            assert_eq!(e.code, INVALID_PARAMS);
            e.data.and_then(|d| d["field"].as_str().map(str::to_owned)).unwrap_or_default()
        })
    }

    fn project() -> ProjectId {
        ProjectId::parse("p-1").unwrap()
    }

    fn sync(raw: &str) -> SyncId {
        SyncId::parse(raw).unwrap()
    }

    #[test]
    fn arguments_become_typed_calls() {
        assert_eq!(parsed("list_projects", json!({})), Ok(ToolCall::ListProjects { cursor: None }));
        assert_eq!(
            parsed("list_syncs", json!({"project": "p-1", "cursor": "abc"})),
            Ok(ToolCall::ListSyncs { project: project(), cursor: Some("abc".into()) })
        );
        assert_eq!(
            parsed("read_file", json!({"project": "p-1", "path": "src/a b.rs", "at": "s-2", "startLine": 3, "endLine": 3})),
            Ok(ToolCall::ReadFile {
                project: project(),
                path: "src/a b.rs".into(),
                at: Some(sync("s-2")),
                lines: LineRange { start: Some(3), end: Some(3) }
            })
        );
        assert_eq!(
            parsed("start_sync", json!({"project": "p-1", "branch": "feature/x", "dryRun": true})),
            Ok(ToolCall::StartSync { project: project(), branch: Some(BranchName::parse("feature/x").unwrap()), dry_run: true })
        );
        assert_eq!(
            parsed("compare", json!({"project": "p-1", "to": "s-9", "from": null})),
            Ok(ToolCall::Compare { project: project(), from: None, to: Some(sync("s-9")), cursor: None })
        );
        assert_eq!(parse(json!({"name": "list_projects"}).as_object().unwrap()), Ok(ToolCall::ListProjects { cursor: None }));
    }

    #[test]
    fn a_wrong_argument_is_named() {
        let long = "x".repeat(4097);
        let table = [
            ("list_syncs", json!({}), "project"),
            ("list_syncs", json!({"project": "P 1"}), "project"),
            ("list_syncs", json!({"project": 7}), "project"),
            ("list_syncs", json!({"project": "p-1", "limit": 5}), "limit"),
            ("get_sync", json!({"sync": ""}), "sync"),
            ("list_files", json!({"project": "p-1", "at": "../x"}), "at"),
            ("list_files", json!({"project": "p-1", "prefix": long}), "prefix"),
            ("read_file", json!({"project": "p-1"}), "path"),
            ("read_file", json!({"project": "p-1", "path": "/etc/passwd"}), "path"),
            ("read_file", json!({"project": "p-1", "path": "a/../b"}), "path"),
            ("read_file", json!({"project": "p-1", "path": "a", "startLine": 0}), "startLine"),
            ("read_file", json!({"project": "p-1", "path": "a", "startLine": 1.5}), "startLine"),
            ("read_file", json!({"project": "p-1", "path": "a", "startLine": 9, "endLine": 3}), "endLine"),
            ("read_file", json!({"project": "p-1", "path": "a", "startline": 2}), "startline"),
            ("search_text", json!({"project": "p-1", "query": "   "}), "query"),
            ("search_text", json!({"project": "p-1", "query": "é".repeat(501)}), "query"),
            ("start_sync", json!({"project": "p-1", "branch": "bad..name"}), "branch"),
            ("start_sync", json!({"project": "p-1", "dryRun": "yes"}), "dryRun"),
            ("restore", json!({"project": "p-1"}), "sync"),
            ("no_such_tool", json!({}), "name"),
        ];
        for (name, arguments, field) in table {
            assert_eq!(parsed(name, arguments.clone()), Err(field.to_owned()), "{name} {arguments}");
        }
        assert!(parse(json!({"name": "list_projects", "arguments": [1]}).as_object().unwrap()).is_err());
        assert!(parse(json!({"arguments": {}}).as_object().unwrap()).is_err());
    }

    /// What the schema says a tool takes, the parser takes: each tool's required arguments
    /// alone, and then every argument its schema describes, each with a value of its type.
    #[test]
    fn every_catalogued_tool_parses_the_arguments_its_schema_describes() {
        let value = |field: &str, schema: &Value| match schema["type"].as_str() {
            Some("integer") => json!(2),
            Some("boolean") => json!(true),
            _ if field == "path" || field == "prefix" => json!("README.md"),
            _ if field == "query" => json!("sync"),
            _ if field == "branch" => json!("main"),
            _ => json!("x-1"),
        };
        for tool in crate::mcp::tools::catalogue() {
            let properties = tool.input["properties"].as_object().unwrap();
            let mut required = Map::new();
            for field in tool.input["required"].as_array().unwrap() {
                let field = field.as_str().unwrap();
                required.insert(field.to_owned(), value(field, &properties[field]));
            }
            assert!(parsed(tool.name, Value::Object(required)).is_ok(), "{}: its required arguments", tool.name);
            let every: Map<String, Value> = properties.iter().map(|(field, schema)| (field.clone(), value(field, schema))).collect();
            assert_eq!(parsed(tool.name, Value::Object(every)).map(|_| ()), Ok(()), "{}: every argument its schema describes", tool.name);
        }
    }
}
