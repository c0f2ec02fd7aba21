//! JSON-RPC 2.0 as MCP's Streamable HTTP transport carries it: one message per `POST` body
//! (batches were removed in the 2025-06-18 revision), ids that are strings or integers
//! (never null), and the error objects the spec and its SDKs read.
//!
//! Written with serde rather than taken from `rmcp`: the dozen shapes we need cost 37 KB of
//! wasm against rmcp's 84–305 KB gzipped, and rmcp's server loop needs tokio, which the
//! Workers fetch handler does not run (measured; see the commit that added this file).

use serde::Serialize;
use serde_json::{json, Map, Value};

/// Invalid JSON was received.
pub const PARSE_ERROR: i32 = -32700;
/// The JSON sent is not a valid request object (an array, a wrong `jsonrpc`, a null id).
pub const INVALID_REQUEST: i32 = -32600;
pub const METHOD_NOT_FOUND: i32 = -32601;
/// A parameter is missing or wrong; the message names it.
pub const INVALID_PARAMS: i32 = -32602;
pub const INTERNAL_ERROR: i32 = -32603;
/// `resources/read` of a resource that does not exist (2025-06-18 and 2025-11-25).
pub const RESOURCE_NOT_FOUND: i32 = -32002;
/// 2026-07-28: a routing header disagrees with the body it came with.
pub const HEADER_MISMATCH: i32 = -32020;
/// 2026-07-28: the revision asked for is not one this server speaks.
pub const UNSUPPORTED_PROTOCOL_VERSION: i32 = -32022;

/// A request's id, echoed in its answer. The spec allows strings and integers; a fractional
/// or out-of-range number is refused rather than answered under another id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum RequestId {
    Number(i64),
    Text(String),
}

/// One message a client posts.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// Wants an answer.
    Request { id: RequestId, method: String, params: Map<String, Value> },
    /// Wants none (`notifications/initialized`, `notifications/cancelled`): HTTP 202.
    Notification { method: String },
    /// The client's answer to a request of ours. We send none, so it is only acknowledged.
    Response,
}

/// A JSON-RPC error object.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    pub code: i32,
    pub message: String,
    pub data: Option<Value>,
}

impl RpcError {
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        RpcError { code, message: message.into(), data: None }
    }

    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }

    /// A wrong or missing parameter, named in the message and in `data.field` so a client
    /// (or the model reading it) knows which one to mend.
    pub fn invalid_params(field: &str, reason: impl std::fmt::Display) -> Self {
        RpcError::new(INVALID_PARAMS, format!("{field}: {reason}")).with_data(json!({ "field": field }))
    }

    fn body(&self) -> Value {
        let mut error = json!({ "code": self.code, "message": self.message });
        if let Some(data) = &self.data {
            error["data"] = data.clone();
        }
        error
    }
}

/// Reads one message. A body that is not JSON is a parse error; JSON that is not one
/// message object (an array, a missing method, a null id) is an invalid request.
pub fn parse(body: &[u8]) -> Result<Incoming, RpcError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| RpcError::new(PARSE_ERROR, format!("Parse error: {e}")))?;
    let Value::Object(mut message) = value else {
        let what = if value.is_array() { "a batch (batches are not part of MCP since 2025-06-18)" } else { "not an object" };
        return Err(RpcError::new(INVALID_REQUEST, format!("Invalid request: the body is {what}")));
    };
    if message.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Err(RpcError::new(INVALID_REQUEST, "Invalid request: \"jsonrpc\" must be \"2.0\""));
    }
    let Some(method) = message.get("method") else {
        return if message.contains_key("result") || message.contains_key("error") {
            Ok(Incoming::Response)
        } else {
            Err(RpcError::new(INVALID_REQUEST, "Invalid request: no \"method\""))
        };
    };
    let method = method.as_str().ok_or_else(|| RpcError::new(INVALID_REQUEST, "Invalid request: \"method\" must be a string"))?.to_owned();
    let params = match message.remove("params") {
        None => Map::new(),
        Some(Value::Object(params)) => params,
        Some(_) => return Err(RpcError::new(INVALID_REQUEST, "Invalid request: \"params\" must be an object")),
    };
    match message.get("id") {
        None => Ok(Incoming::Notification { method }),
        Some(id) => Ok(Incoming::Request { id: request_id(id)?, method, params }),
    }
}

fn request_id(id: &Value) -> Result<RequestId, RpcError> {
    match id {
        Value::String(text) => Ok(RequestId::Text(text.clone())),
        Value::Number(n) => n
            .as_i64()
            .map(RequestId::Number)
            .ok_or_else(|| RpcError::new(INVALID_REQUEST, "Invalid request: \"id\" must be an integer or a string")),
        _ => Err(RpcError::new(INVALID_REQUEST, "Invalid request: \"id\" must be an integer or a string")),
    }
}

/// The answer to request `id`.
pub fn success(id: &RequestId, result: Value) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "result": result })
}

/// An error answer; `id` is null when the request's own id could not be read.
pub fn failure(id: Option<&RequestId>, error: &RpcError) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "error": error.body() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(body: &str) -> Result<Incoming, i32> {
        parse(body.as_bytes()).map_err(|e| e.code)
    }

    #[test]
    fn messages_parse_into_their_kind() {
        assert_eq!(
            parsed(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#),
            Ok(Incoming::Request { id: RequestId::Number(1), method: "tools/list".into(), params: Map::new() })
        );
        assert_eq!(
            parsed(r#"{"jsonrpc":"2.0","id":"a","method":"ping","params":{"x":1}}"#),
            Ok(Incoming::Request {
                id: RequestId::Text("a".into()),
                method: "ping".into(),
                params: json!({"x":1}).as_object().cloned().unwrap()
            })
        );
        assert_eq!(
            parsed(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#),
            Ok(Incoming::Notification { method: "notifications/initialized".into() })
        );
        assert_eq!(parsed(r#"{"jsonrpc":"2.0","id":3,"result":{}}"#), Ok(Incoming::Response));
    }

    #[test]
    fn malformed_messages_get_the_codes_clients_expect() {
        let table = [
            ("{", PARSE_ERROR),
            ("", PARSE_ERROR),
            (r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#, INVALID_REQUEST),
            ("42", INVALID_REQUEST),
            (r#"{"id":1,"method":"ping"}"#, INVALID_REQUEST),
            (r#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#, INVALID_REQUEST),
            (r#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#, INVALID_REQUEST),
            (r#"{"jsonrpc":"2.0","id":1.5,"method":"ping"}"#, INVALID_REQUEST),
            (r#"{"jsonrpc":"2.0","id":1,"method":7}"#, INVALID_REQUEST),
            (r#"{"jsonrpc":"2.0","id":1,"method":"ping","params":[1]}"#, INVALID_REQUEST),
            (r#"{"jsonrpc":"2.0","id":1}"#, INVALID_REQUEST),
        ];
        for (body, code) in table {
            assert_eq!(parsed(body), Err(code), "{body}");
        }
    }

    #[test]
    fn answers_echo_the_id_and_carry_error_data() {
        assert_eq!(success(&RequestId::Text("x".into()), json!({})), json!({"jsonrpc":"2.0","id":"x","result":{}}));
        let error = RpcError::invalid_params("path", "is required");
        assert_eq!(
            failure(Some(&RequestId::Number(7)), &error),
            json!({"jsonrpc":"2.0","id":7,"error":{"code":-32602,"message":"path: is required","data":{"field":"path"}}})
        );
        assert_eq!(
            failure(None, &RpcError::new(PARSE_ERROR, "Parse error")),
            json!({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}})
        );
    }
}
