//! A tool's answer as MCP carries it: the structured result with the same JSON as a text
//! block (for clients that read no structure), or a tool error whose text is a sentence the
//! model can act on.

use serde_json::{json, Value};

/// A successful call: `structuredContent` and its JSON as text.
pub fn success(content: Value) -> Value {
    let text = serde_json::to_string(&content).unwrap_or_default();
    json!({ "content": [{ "type": "text", "text": text }], "structuredContent": content })
}

/// A failure the caller can act on (not found, busy, no state): `isError` and why.
pub fn failure(message: &str) -> Value {
    json!({ "isError": true, "content": [{ "type": "text", "text": sentence(message) }] })
}

/// A message as a sentence: a capital first letter and one full stop.
fn sentence(message: &str) -> String {
    let mut chars = message.trim().chars();
    let first: String = chars.next().map(|c| c.to_uppercase().collect()).unwrap_or_default();
    let rest = chars.as_str().trim_end_matches('.');
    format!("{first}{rest}.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_become_sentences() {
        for (message, want) in [
            ("project not found", "Project not found."),
            ("the sync already ended (COMPLETE).", "The sync already ended (COMPLETE)."),
            ("  émoi ", "Émoi."),
            ("", "."),
        ] {
            assert_eq!(sentence(message), want, "{message:?}");
        }
    }

    #[test]
    fn a_result_carries_its_json_twice_and_a_failure_says_why() {
        let ok = success(json!({ "files": [], "at": "s-1" }));
        assert_eq!(ok["structuredContent"]["at"], "s-1");
        assert_eq!(serde_json::from_str::<Value>(ok["content"][0]["text"].as_str().unwrap()).unwrap(), ok["structuredContent"]);
        assert!(ok.get("isError").is_none());
        let failed = failure("sync not found");
        assert_eq!(failed["isError"], true);
        assert_eq!(failed["content"], json!([{ "type": "text", "text": "Sync not found." }]));
    }
}
