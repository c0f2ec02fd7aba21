//! What the server answers by itself, and what it hands to the shell: the protocol's own
//! methods (`initialize`, `ping`, `server/discover`, the lists) are answered here; a tool
//! call or a resource read becomes a typed request for the shell to carry out against D1
//! and R2. `finish` gives a result the fields its revision requires.

use super::calls::{self, ToolCall};
use super::jsonrpc::{RpcError, METHOD_NOT_FOUND};
use super::resources::{self, FileResource};
use super::revision::{negotiate, Revision, META_SERVER_INFO, SUPPORTED};
use super::tools;
use serde_json::{json, Map, Value};

pub const SERVER_NAME: &str = "project-sync";
pub const SERVER_TITLE: &str = "Project Sync";

const INSTRUCTIONS: &str = "Project Sync keeps copies of GitHub branches and every state they were synced at. \
Start with list_projects; list_files, read_file and search_text read the current state or, with `at`, the state right \
after any sync (list_syncs gives their ids); get_changes and compare say what changed. Reads never call GitHub.";

/// What to do with one request.
#[derive(Debug, Clone, PartialEq)]
pub enum Dispatch {
    /// Answered without I/O.
    Answer(Value),
    /// A tool to run.
    Tool(ToolCall),
    /// A file to read as a resource.
    Read(FileResource),
    Refuse(RpcError),
}

pub fn dispatch(revision: Revision, method: &str, params: &Map<String, Value>, version: &str) -> Dispatch {
    let legacy = !revision.is_modern();
    match method {
        "initialize" if legacy => Dispatch::Answer(initialized(params, version)),
        "ping" if legacy => Dispatch::Answer(json!({})),
        "server/discover" if !legacy => Dispatch::Answer(discovered(version)),
        "tools/list" => single_page(params, || json!({ "tools": tools::catalogue().iter().map(tools::Tool::listing).collect::<Vec<_>>() })),
        "resources/templates/list" => single_page(params, || json!({ "resourceTemplates": resources::templates() })),
        // Files are offered through templates; the list of concrete resources would be every
        // file of every project, which is what list_files pages through.
        "resources/list" => single_page(params, || json!({ "resources": [] })),
        "tools/call" => calls::parse(params).map_or_else(Dispatch::Refuse, Dispatch::Tool),
        "resources/read" => match params.get("uri").and_then(Value::as_str) {
            Some(uri) => resources::parse(uri).map_or_else(Dispatch::Refuse, Dispatch::Read),
            None => Dispatch::Refuse(RpcError::invalid_params("uri", "is required")),
        },
        _ => Dispatch::Refuse(RpcError::new(METHOD_NOT_FOUND, format!("Method not found: {method}"))),
    }
}

/// Lists that fit one page take no cursor: one that is sent was not ours.
fn single_page(params: &Map<String, Value>, list: impl FnOnce() -> Value) -> Dispatch {
    match params.get("cursor") {
        None | Some(Value::Null) => Dispatch::Answer(list()),
        Some(_) => Dispatch::Refuse(RpcError::invalid_params("cursor", "is not a cursor of this list (it has one page)")),
    }
}

fn capabilities() -> Value {
    json!({ "tools": {}, "resources": {} })
}

fn initialized(params: &Map<String, Value>, version: &str) -> Value {
    let revision = negotiate(params.get("protocolVersion").and_then(Value::as_str));
    json!({
        "protocolVersion": revision.as_str(),
        "capabilities": capabilities(),
        "serverInfo": { "name": SERVER_NAME, "title": SERVER_TITLE, "version": version },
        "instructions": INSTRUCTIONS,
    })
}

fn discovered(version: &str) -> Value {
    json!({
        "supportedVersions": SUPPORTED.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "capabilities": capabilities(),
        "instructions": INSTRUCTIONS,
        "_meta": { META_SERVER_INFO: { "name": SERVER_NAME, "title": SERVER_TITLE, "version": version } },
    })
}

/// A result as its revision wants it. 2026-07-28 marks every result complete, and gives
/// lists and reads a cache lifetime and scope: zero and private, since what a user may read
/// changes with every sync and is theirs alone.
pub fn finish(revision: Revision, method: &str, mut result: Value, version: &str) -> Value {
    if !revision.is_modern() {
        return result;
    }
    if let Value::Object(fields) = &mut result {
        fields.insert("resultType".into(), json!("complete"));
        if method.ends_with("/list") || method == "resources/read" || method == "server/discover" {
            fields.insert("ttlMs".into(), json!(0));
            fields.insert("cacheScope".into(), json!("private"));
        }
        let meta = fields.entry("_meta").or_insert_with(|| json!({}));
        if let Value::Object(meta) = meta {
            meta.entry(META_SERVER_INFO).or_insert_with(|| json!({ "name": SERVER_NAME, "version": version }));
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mcp::jsonrpc::INVALID_PARAMS;

    fn params(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    fn answer(revision: Revision, method: &str, p: Value) -> Value {
        match dispatch(revision, method, &params(p), "9.9.9") {
            Dispatch::Answer(result) => result,
            other => panic!("{method}: {other:?}"),
        }
    }

    fn refused(revision: Revision, method: &str, p: Value) -> i32 {
        match dispatch(revision, method, &params(p), "9.9.9") {
            Dispatch::Refuse(error) => error.code,
            other => panic!("{method}: {other:?}"),
        }
    }

    #[test]
    fn initialize_negotiates_and_describes_the_server() {
        let result = answer(
            Revision::V2025_11_25,
            "initialize",
            json!({ "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"} }),
        );
        assert_eq!(result["protocolVersion"], "2025-06-18");
        assert_eq!(result["capabilities"], json!({ "tools": {}, "resources": {} }));
        assert_eq!(result["serverInfo"], json!({ "name": "project-sync", "title": "Project Sync", "version": "9.9.9" }));
        assert_eq!(
            answer(Revision::V2025_11_25, "initialize", json!({ "protocolVersion": "2024-11-05" }))["protocolVersion"],
            "2025-11-25"
        );
    }

    #[test]
    fn each_era_has_only_its_own_methods() {
        assert_eq!(refused(Revision::V2026_07_28, "initialize", json!({})), METHOD_NOT_FOUND);
        assert_eq!(refused(Revision::V2026_07_28, "ping", json!({})), METHOD_NOT_FOUND);
        assert_eq!(refused(Revision::V2025_11_25, "server/discover", json!({})), METHOD_NOT_FOUND);
        assert_eq!(answer(Revision::V2025_06_18, "ping", json!({})), json!({}));
        let discovered = answer(Revision::V2026_07_28, "server/discover", json!({}));
        assert_eq!(discovered["supportedVersions"], json!(["2026-07-28", "2025-11-25", "2025-06-18"]));
        assert_eq!(refused(Revision::V2025_11_25, "prompts/list", json!({})), METHOD_NOT_FOUND);
        assert_eq!(refused(Revision::V2025_11_25, "sampling/createMessage", json!({})), METHOD_NOT_FOUND);
    }

    #[test]
    fn lists_are_one_page_and_calls_are_handed_on() {
        let tools = answer(Revision::V2025_11_25, "tools/list", json!({}));
        assert_eq!(tools["tools"].as_array().unwrap().len(), 12);
        assert!(tools.get("nextCursor").is_none());
        assert_eq!(refused(Revision::V2025_11_25, "tools/list", json!({ "cursor": "x" })), INVALID_PARAMS);
        assert_eq!(answer(Revision::V2025_11_25, "resources/templates/list", json!({}))["resourceTemplates"].as_array().unwrap().len(), 2);
        assert!(matches!(
            dispatch(Revision::V2025_11_25, "tools/call", &params(json!({ "name": "list_projects" })), "1"),
            Dispatch::Tool(ToolCall::ListProjects { .. })
        ));
        assert!(matches!(
            dispatch(Revision::V2025_11_25, "resources/read", &params(json!({ "uri": "project-sync://projects/p/files/a" })), "1"),
            Dispatch::Read(_)
        ));
        assert_eq!(refused(Revision::V2025_11_25, "resources/read", json!({})), INVALID_PARAMS);
        assert_eq!(refused(Revision::V2025_11_25, "tools/call", json!({ "name": "drop_tables" })), INVALID_PARAMS);
    }

    #[test]
    fn modern_results_carry_their_revisions_fields_and_legacy_ones_do_not() {
        let legacy = finish(Revision::V2025_11_25, "tools/list", json!({ "tools": [] }), "1");
        assert_eq!(legacy, json!({ "tools": [] }));
        let listed = finish(Revision::V2026_07_28, "tools/list", json!({ "tools": [] }), "1");
        assert_eq!(listed["resultType"], "complete");
        assert_eq!((listed["ttlMs"].clone(), listed["cacheScope"].clone()), (json!(0), json!("private")));
        assert_eq!(listed["_meta"][META_SERVER_INFO]["name"], "project-sync");
        let called = finish(Revision::V2026_07_28, "tools/call", json!({ "content": [] }), "1");
        assert_eq!(called["resultType"], "complete");
        assert!(called.get("ttlMs").is_none());
    }
}
