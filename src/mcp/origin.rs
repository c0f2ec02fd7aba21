//! The MCP endpoint's `Origin` check, which the transport makes a MUST against DNS
//! rebinding: a browser page of another site must not reach a user's tools with the
//! user's cookies or a token it found. Agents (SDK clients in node or Python, desktop
//! apps) send no `Origin`; a browser sends its page's.

use url::Url;

/// Allowed: no `Origin` at all, the service's own origin, or one the operator listed
/// (`MCP_ALLOWED_ORIGINS`). Refused: any other, `null` (sandboxed and file pages) and
/// anything that is not a URL's origin.
pub fn allowed(origin: Option<&str>, own: &Url, listed: &[String]) -> bool {
    let Some(origin) = origin else {
        return true;
    };
    let Some(origin) = serialized(origin) else {
        return false;
    };
    origin == own.origin().ascii_serialization() || listed.iter().filter_map(|o| serialized(o)).any(|o| o == origin)
}

/// An origin as a browser writes it (`scheme://host[:port]`, default ports dropped,
/// lowercase), or `None` for `null` and anything with a path, query or credentials.
fn serialized(raw: &str) -> Option<String> {
    let url = Url::parse(raw.trim()).ok()?;
    let bare =
        url.path() == "/" && url.query().is_none() && url.fragment().is_none() && url.username().is_empty() && url.password().is_none();
    let origin = url.origin();
    (bare && origin.is_tuple()).then(|| origin.ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_allowed_only_when_absent_ours_or_listed() {
        let own = Url::parse("https://sync.example.com/mcp").unwrap();
        let listed = vec!["https://agent.example.org".to_owned(), "not a url".to_owned()];
        let table = [
            (None, true),
            (Some("https://sync.example.com"), true),
            (Some("https://SYNC.example.com:443"), true),
            (Some("https://agent.example.org"), true),
            (Some("https://agent.example.org/"), true),
            (Some("http://sync.example.com"), false),
            (Some("https://sync.example.com:8443"), false),
            (Some("https://evil.example"), false),
            (Some("https://sync.example.com.evil.example"), false),
            (Some("null"), false),
            (Some(""), false),
            (Some("https://agent.example.org/path"), false),
            (Some("https://user@agent.example.org"), false),
        ];
        for (origin, expected) in table {
            assert_eq!(allowed(origin, &own, &listed), expected, "{origin:?}");
        }
    }

    #[test]
    fn a_local_service_allows_its_own_loopback_origin_only() {
        let own = Url::parse("http://127.0.0.1:8787/mcp").unwrap();
        assert!(allowed(Some("http://127.0.0.1:8787"), &own, &[]));
        assert!(!allowed(Some("http://localhost:8787"), &own, &[]));
        assert!(!allowed(Some("http://127.0.0.1:9999"), &own, &[]));
    }
}
