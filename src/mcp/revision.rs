//! Which revision of MCP a request speaks, and the checks each era asks of it.
//!
//! Two eras share the endpoint. The legacy one (2025-06-18, 2025-11-25) opens with
//! `initialize`, after which the client names the agreed revision in `MCP-Protocol-Version`.
//! The modern one (2026-07-28) has no handshake: every request carries its revision in
//! `params._meta` and mirrors it, its method and its target in headers, which must agree
//! with the body. The TypeScript SDK speaks 2025-11-25; the Python SDK probes 2026-07-28 with
//! `server/discover` first, so both eras are served.

use super::jsonrpc::{RpcError, HEADER_MISMATCH, INVALID_PARAMS, UNSUPPORTED_PROTOCOL_VERSION};
use base64ct::{Base64, Encoding};
use serde_json::{json, Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Revision {
    V2025_06_18,
    V2025_11_25,
    V2026_07_28,
}

/// What we speak, newest first (the order `server/discover` and refusals list them in).
pub const SUPPORTED: [Revision; 3] = [Revision::V2026_07_28, Revision::V2025_11_25, Revision::V2025_06_18];

/// The newest revision that opens with `initialize`: what a client asking for one we do not
/// speak is offered, as the lifecycle's negotiation says.
pub const LATEST_WITH_HANDSHAKE: Revision = Revision::V2025_11_25;

pub const META_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
pub const META_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
pub const META_SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";

impl Revision {
    pub fn as_str(self) -> &'static str {
        match self {
            Revision::V2025_06_18 => "2025-06-18",
            Revision::V2025_11_25 => "2025-11-25",
            Revision::V2026_07_28 => "2026-07-28",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        SUPPORTED.into_iter().find(|r| r.as_str() == raw)
    }

    /// The revisions before 2026-07-28 open with `initialize` and keep no per-request `_meta`.
    pub fn is_modern(self) -> bool {
        self >= Revision::V2026_07_28
    }
}

/// The revision `initialize` answers with: the one asked for when we speak it and it has a
/// handshake, else the newest that has one.
pub fn negotiate(requested: Option<&str>) -> Revision {
    match requested.and_then(Revision::parse) {
        Some(revision) if !revision.is_modern() => revision,
        _ => LATEST_WITH_HANDSHAKE,
    }
}

/// A refusal at the transport: an HTTP status and the JSON-RPC error its body carries.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub status: u16,
    pub error: RpcError,
}

impl Refusal {
    fn bad_request(error: RpcError) -> Self {
        Refusal { status: 400, error }
    }
}

/// The revision named by a request's `MCP-Protocol-Version` header. A request without one
/// is read as legacy (`initialize` carries none, and clients before 2025-06-18 sent none);
/// its answers take the newest legacy shapes, which older clients read too.
pub fn from_header(header: Option<&str>) -> Result<Revision, Refusal> {
    match header {
        None => Ok(LATEST_WITH_HANDSHAKE),
        Some(raw) => Revision::parse(raw.trim()).ok_or_else(|| Refusal::bad_request(unsupported(raw))),
    }
}

/// 2026-07-28's `UnsupportedProtocolVersionError`, listing what we speak so a client can
/// retry with one of them.
pub fn unsupported(requested: &str) -> RpcError {
    let supported: Vec<&str> = SUPPORTED.iter().map(|r| r.as_str()).collect();
    RpcError::new(
        UNSUPPORTED_PROTOCOL_VERSION,
        format!("Unsupported protocol version {requested:?}; this server speaks {}", supported.join(", ")),
    )
    .with_data(json!({ "supported": supported, "requested": requested }))
}

/// The routing headers of a modern request, as they arrived.
#[derive(Debug, Clone, Copy, Default)]
pub struct RoutingHeaders<'a> {
    pub protocol_version: Option<&'a str>,
    pub method: Option<&'a str>,
    pub name: Option<&'a str>,
}

/// The checks of 2026-07-28's "Server Validation": the `_meta` envelope is there, and every
/// mirrored header is present and equals the body's value (an `Mcp-Name` may come in the
/// `=?base64?…?=` form and is decoded first).
pub fn check_modern(method: &str, params: &Map<String, Value>, headers: RoutingHeaders<'_>) -> Result<(), Refusal> {
    let meta = params.get("_meta").and_then(Value::as_object);
    let version = meta.and_then(|m| m.get(META_VERSION)).and_then(Value::as_str);
    let Some(version) = version else {
        return Err(Refusal::bad_request(RpcError::invalid_params(&format!("_meta.{META_VERSION}"), "is required in this revision")));
    };
    if meta.and_then(|m| m.get(META_CAPABILITIES)).and_then(Value::as_object).is_none() {
        return Err(Refusal::bad_request(RpcError::invalid_params(
            &format!("_meta.{META_CAPABILITIES}"),
            "is required in this revision (an object)",
        )));
    }
    mirrored("MCP-Protocol-Version", headers.protocol_version.map(str::to_owned), version)?;
    mirrored("Mcp-Method", headers.method.map(str::to_owned), method)?;
    if let Some(target) = named_target(method, params) {
        let decoded = match headers.name {
            Some(raw) => Some(decode_sentinel(raw).ok_or_else(|| mismatch(format!("Mcp-Name header {raw:?} is not valid base64")))?),
            None => None,
        };
        mirrored("Mcp-Name", decoded, target)?;
    }
    match Revision::parse(version) {
        Some(revision) if revision.is_modern() => Ok(()),
        _ => Err(Refusal::bad_request(unsupported(version))),
    }
}

/// The body value `Mcp-Name` mirrors, for the methods that have one.
fn named_target<'p>(method: &str, params: &'p Map<String, Value>) -> Option<&'p str> {
    let field = match method {
        "tools/call" | "prompts/get" => "name",
        "resources/read" => "uri",
        _ => return None,
    };
    Some(params.get(field).and_then(Value::as_str).unwrap_or(""))
}

fn mirrored(header: &str, value: Option<String>, body: &str) -> Result<(), Refusal> {
    match value {
        None => Err(mismatch(format!("the {header} header is required"))),
        Some(value) if value == body => Ok(()),
        Some(value) => Err(mismatch(format!("{header} header value {value:?} does not match body value {body:?}"))),
    }
}

fn mismatch(message: String) -> Refusal {
    Refusal::bad_request(RpcError::new(HEADER_MISMATCH, format!("Header mismatch: {message}")))
}

/// A header value as sent: plain, or `=?base64?<UTF-8 in base64>?=`.
fn decode_sentinel(raw: &str) -> Option<String> {
    match raw.strip_prefix("=?base64?").and_then(|rest| rest.strip_suffix("?=")) {
        None => Some(raw.to_owned()),
        Some(encoded) => String::from_utf8(Base64::decode_vec(encoded).ok()?).ok(),
    }
}

/// The HTTP status an error answer goes with. Legacy clients (the TypeScript SDK) read the
/// JSON-RPC error only from a 2xx, so only what cannot be read as a request is a 400 there;
/// 2026-07-28 maps malformed and invalid requests to 400 and an unknown method to 404.
pub fn error_status(revision: Revision, code: i32) -> u16 {
    use super::jsonrpc::{INVALID_REQUEST, METHOD_NOT_FOUND, PARSE_ERROR};
    match code {
        PARSE_ERROR | INVALID_REQUEST => 400,
        INVALID_PARAMS | HEADER_MISMATCH | UNSUPPORTED_PROTOCOL_VERSION if revision.is_modern() => 400,
        METHOD_NOT_FOUND if revision.is_modern() => 404,
        _ => 200,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mcp::jsonrpc::{INVALID_REQUEST, METHOD_NOT_FOUND, PARSE_ERROR};

    fn modern_params(version: &str, extra: Value) -> Map<String, Value> {
        let mut params = json!({ "_meta": { META_VERSION: version, META_CAPABILITIES: {} } });
        for (k, v) in extra.as_object().cloned().unwrap_or_default() {
            params[k] = v;
        }
        params.as_object().cloned().unwrap()
    }

    fn headers<'a>(version: &'a str, method: &'a str, name: Option<&'a str>) -> RoutingHeaders<'a> {
        RoutingHeaders { protocol_version: Some(version), method: Some(method), name }
    }

    #[test]
    fn initialize_answers_the_revision_asked_for_or_the_newest_with_a_handshake() {
        let table = [
            (Some("2025-06-18"), "2025-06-18"),
            (Some("2025-11-25"), "2025-11-25"),
            (Some("2025-03-26"), "2025-11-25"),
            (Some("2024-11-05"), "2025-11-25"),
            (Some("2026-07-28"), "2025-11-25"),
            (Some("banana"), "2025-11-25"),
            (None, "2025-11-25"),
        ];
        for (asked, answered) in table {
            assert_eq!(negotiate(asked).as_str(), answered, "{asked:?}");
        }
    }

    #[test]
    fn the_header_names_the_era_or_is_refused_with_what_we_speak() {
        assert_eq!(from_header(None), Ok(Revision::V2025_11_25));
        assert_eq!(from_header(Some("2025-06-18")), Ok(Revision::V2025_06_18));
        assert_eq!(from_header(Some("2026-07-28")), Ok(Revision::V2026_07_28));
        let refusal = from_header(Some("1999-01-01")).unwrap_err();
        assert_eq!(refusal.status, 400);
        assert_eq!(refusal.error.code, UNSUPPORTED_PROTOCOL_VERSION);
        assert_eq!(refusal.error.data, Some(json!({"supported": ["2026-07-28", "2025-11-25", "2025-06-18"], "requested": "1999-01-01"})));
    }

    #[test]
    fn a_modern_request_whose_headers_agree_with_its_body_passes() {
        let params = modern_params("2026-07-28", json!({ "name": "read_file", "arguments": {} }));
        assert_eq!(check_modern("tools/call", &params, headers("2026-07-28", "tools/call", Some("read_file"))), Ok(()));
        let encoded = format!("=?base64?{}?=", Base64::encode_string("read_file".as_bytes()));
        assert_eq!(check_modern("tools/call", &params, headers("2026-07-28", "tools/call", Some(&encoded))), Ok(()));
        let params = modern_params("2026-07-28", json!({ "uri": "project-sync://p/files/é" }));
        let encoded = format!("=?base64?{}?=", Base64::encode_string("project-sync://p/files/é".as_bytes()));
        assert_eq!(check_modern("resources/read", &params, headers("2026-07-28", "resources/read", Some(&encoded))), Ok(()));
        let params = modern_params("2026-07-28", json!({}));
        assert_eq!(check_modern("tools/list", &params, headers("2026-07-28", "tools/list", None)), Ok(()));
    }

    #[test]
    fn modern_requests_that_disagree_or_lack_their_envelope_are_refused() {
        let call = modern_params("2026-07-28", json!({ "name": "read_file" }));
        let table: Vec<(&str, Map<String, Value>, RoutingHeaders<'_>, i32)> = vec![
            ("tools/call", call.clone(), headers("2026-07-28", "tools/call", Some("list_files")), HEADER_MISMATCH),
            ("tools/call", call.clone(), headers("2026-07-28", "tools/call", None), HEADER_MISMATCH),
            ("tools/call", call.clone(), headers("2026-07-28", "tools/list", Some("read_file")), HEADER_MISMATCH),
            (
                "tools/call",
                call.clone(),
                RoutingHeaders { protocol_version: Some("2026-07-28"), method: None, name: Some("read_file") },
                HEADER_MISMATCH,
            ),
            ("tools/call", call.clone(), headers("2026-07-28", "tools/call", Some("=?base64?***?=")), HEADER_MISMATCH),
            (
                "tools/call",
                modern_params("2025-11-25", json!({ "name": "read_file" })),
                headers("2026-07-28", "tools/call", Some("read_file")),
                HEADER_MISMATCH,
            ),
            (
                "tools/call",
                modern_params("2025-11-25", json!({ "name": "read_file" })),
                headers("2025-11-25", "tools/call", Some("read_file")),
                UNSUPPORTED_PROTOCOL_VERSION,
            ),
            ("tools/list", Map::new(), headers("2026-07-28", "tools/list", None), INVALID_PARAMS),
            (
                "tools/list",
                json!({ "_meta": { META_VERSION: "2026-07-28" } }).as_object().cloned().unwrap(),
                headers("2026-07-28", "tools/list", None),
                INVALID_PARAMS,
            ),
        ];
        for (i, (method, params, headers, code)) in table.into_iter().enumerate() {
            let refusal = check_modern(method, &params, headers).unwrap_err();
            assert_eq!((refusal.status, refusal.error.code), (400, code), "row {i}: {}", refusal.error.message);
        }
    }

    #[test]
    fn error_statuses_follow_each_era() {
        let table = [
            (Revision::V2025_11_25, PARSE_ERROR, 400),
            (Revision::V2025_11_25, INVALID_REQUEST, 400),
            (Revision::V2025_11_25, INVALID_PARAMS, 200),
            (Revision::V2025_11_25, METHOD_NOT_FOUND, 200),
            (Revision::V2025_06_18, METHOD_NOT_FOUND, 200),
            (Revision::V2026_07_28, INVALID_PARAMS, 400),
            (Revision::V2026_07_28, METHOD_NOT_FOUND, 404),
            (Revision::V2026_07_28, HEADER_MISMATCH, 400),
            (Revision::V2026_07_28, -32603, 200),
        ];
        for (revision, code, status) in table {
            assert_eq!(error_status(revision, code), status, "{revision:?} {code}");
        }
    }
}
