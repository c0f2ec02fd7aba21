//! Files as MCP resources: one URI template for a file in the current state and one for a
//! file right after a sync, so a client that browses resources reaches the same text as
//! `read_file`. Paths use RFC 6570's reserved expansion (`{+path}`): slashes stay, other
//! reserved bytes are percent-encoded.

use super::jsonrpc::RpcError;
use crate::domain::{ProjectId, SyncId};
use serde_json::{json, Value};

const SCHEME: &str = "project-sync://projects/";

/// A file named by a resource URI.
#[derive(Debug, Clone, PartialEq)]
pub struct FileResource {
    pub project: ProjectId,
    pub at: Option<SyncId>,
    pub path: String,
}

pub fn templates() -> Value {
    json!([
        {
            "uriTemplate": format!("{SCHEME}{{project}}/files/{{+path}}"),
            "name": "file",
            "title": "A file in a project's current state",
            "description": "The text of a file as the project's current state holds it.",
            "mimeType": "text/plain",
        },
        {
            "uriTemplate": format!("{SCHEME}{{project}}/syncs/{{sync}}/files/{{+path}}"),
            "name": "file-at-sync",
            "title": "A file right after a sync",
            "description": "The text of a file in the state a sync left (any sync of the project's history).",
            "mimeType": "text/plain",
        },
    ])
}

/// The URI of a file, the inverse of `parse`.
pub fn uri(resource: &FileResource) -> String {
    let path: String = resource.path.split('/').map(percent_encode).collect::<Vec<_>>().join("/");
    match &resource.at {
        Some(sync) => format!("{SCHEME}{}/syncs/{sync}/files/{path}", resource.project),
        None => format!("{SCHEME}{}/files/{path}", resource.project),
    }
}

/// Reads a resource URI of either template; anything else is invalid params naming `uri`.
pub fn parse(uri: &str) -> Result<FileResource, RpcError> {
    let bad = |why: &str| RpcError::invalid_params("uri", format!("{why}; file URIs look like {SCHEME}<project>/files/<path>"));
    let rest = uri.strip_prefix(SCHEME).ok_or_else(|| bad("is not one of this server's resources"))?;
    let (project, rest) = rest.split_once('/').ok_or_else(|| bad("names no file"))?;
    let project = ProjectId::parse(project).map_err(|e| bad(&e.0))?;
    let (at, path) = match rest.strip_prefix("syncs/") {
        Some(rest) => {
            let (sync, rest) = rest.split_once('/').ok_or_else(|| bad("names no file"))?;
            (Some(SyncId::parse(sync).map_err(|e| bad(&e.0))?), rest)
        }
        None => (None, rest),
    };
    let path = path.strip_prefix("files/").filter(|p| !p.is_empty()).ok_or_else(|| bad("names no file"))?;
    let path = percent_decode(path).ok_or_else(|| bad("has a broken percent-escape"))?;
    Ok(FileResource { project, at, path })
}

fn percent_encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn percent_decode(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_round_trip_through_both_templates() {
        let table = [
            FileResource { project: ProjectId::parse("p-1").unwrap(), at: None, path: "README.md".into() },
            FileResource {
                project: ProjectId::parse("p-1").unwrap(),
                at: Some(SyncId::parse("s-2").unwrap()),
                path: "src/dir with space/é#?.rs".into(),
            },
            FileResource { project: ProjectId::parse("p-1").unwrap(), at: None, path: "a%b/100%.txt".into() },
        ];
        for resource in table {
            let uri = uri(&resource);
            assert!(!uri.contains(' ') && !uri.contains('#') && !uri.contains('?'), "{uri}");
            assert_eq!(parse(&uri), Ok(resource));
        }
        assert_eq!(parse("project-sync://projects/p-1/files/docs/a.md").unwrap().path, "docs/a.md");
    }

    #[test]
    fn other_uris_are_refused_naming_the_uri() {
        for uri in [
            "file:///etc/passwd",
            "project-sync://projects/",
            "project-sync://projects/p-1",
            "project-sync://projects/p-1/files/",
            "project-sync://projects/P 1/files/a",
            "project-sync://projects/p-1/syncs/s-1",
            "project-sync://projects/p-1/syncs/../files/a",
            "project-sync://projects/p-1/files/%zz",
            "project-sync://projects/p-1/files/%ff",
        ] {
            let error = parse(uri).unwrap_err();
            assert_eq!(error.data.unwrap()["field"], "uri", "{uri}");
        }
    }
}
