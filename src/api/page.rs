//! Lists and their pages: `?limit=&cursor=`, the opaque cursors, and the query-string and
//! entity-tag helpers of every read.

use crate::auth::{base64url_decode, base64url_encode};
use crate::error::{AppError, AppResult};
use serde::Serialize;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 500;

/// `?limit=&cursor=` of every list.
#[derive(Debug, Clone, PartialEq)]
pub struct PageRequest {
    pub limit: u32,
    /// The decoded sort key to continue after.
    pub after: Option<Vec<String>>,
}

/// Whether an `If-None-Match` value names the entity tag `tag` (weakly or strongly, in a
/// list, or as `*`).
pub fn etag_matches(if_none_match: Option<&str>, tag: &str) -> bool {
    if_none_match.is_some_and(|v| v.split(',').map(|t| t.trim().trim_start_matches("W/").trim_matches('"')).any(|t| t == tag || t == "*"))
}

/// Reads one query parameter (first occurrence), percent-decoded.
pub fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k).as_deref() == Some(name)).then(|| percent_decode(v).unwrap_or_default())
    })
}

/// `application/x-www-form-urlencoded` decoding; `None` when the bytes are not UTF-8.
pub fn percent_decode(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?, 16) {
                Ok(b) => {
                    out.push(b);
                    i += 2;
                }
                Err(_) => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

impl PageRequest {
    pub fn parse(query: &str) -> AppResult<Self> {
        let limit = match query_param(query, "limit") {
            None => DEFAULT_LIMIT,
            Some(raw) => match raw.parse::<u32>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => return Err(AppError::invalid("limit", format!("must be a whole number from 1 to {MAX_LIMIT}"))),
            },
        };
        let after = match query_param(query, "cursor").filter(|c| !c.is_empty()) {
            None => None,
            Some(raw) => Some(decode_cursor(&raw).ok_or_else(|| AppError::invalid("cursor", "is not a cursor this API gave out"))?),
        };
        Ok(PageRequest { limit, after })
    }

    /// A page of `limit` from an opaque cursor given some other way than a query string
    /// (an MCP tool's `cursor` argument): the same cursors, the same refusal.
    pub fn from_cursor(cursor: Option<&str>, limit: u32) -> AppResult<Self> {
        let after = match cursor.filter(|c| !c.is_empty()) {
            None => None,
            Some(raw) => Some(decode_cursor(raw).ok_or_else(|| AppError::invalid("cursor", "is not a cursor this API gave out"))?),
        };
        Ok(PageRequest { limit, after })
    }

    /// The key at position `i` of the cursor, if any.
    pub fn after_key(&self, i: usize) -> Option<&str> {
        self.after.as_ref().and_then(|k| k.get(i)).map(String::as_str)
    }

    /// A numeric key of the cursor (an offset, an id), refused as not ours when it is not one.
    pub fn after_number(&self, i: usize) -> AppResult<Option<u64>> {
        self.after_key(i)
            .map(|raw| raw.parse::<u64>().map_err(|_| AppError::invalid("cursor", "is not a cursor this API gave out")))
            .transpose()
    }

    /// The chain position a list reads: the one its first page read (carried by the
    /// cursor at position `i`), or `current` for a first page, so every page of one
    /// listing is one snapshot. A cursor naming a position past `current` was not ours.
    pub fn snapshot(&self, i: usize, current: u64) -> AppResult<u64> {
        match self.after.as_ref().map(|k| k.get(i)) {
            None => Ok(current),
            Some(Some(raw)) => match raw.parse::<u64>() {
                Ok(seq) if seq <= current => Ok(seq),
                _ => Err(AppError::invalid("cursor", "is not a cursor this API gave out")),
            },
            Some(None) => Err(AppError::invalid("cursor", "is not a cursor this API gave out")),
        }
    }
}

pub fn encode_cursor(key: &[String]) -> String {
    base64url_encode(serde_json::to_string(key).unwrap_or_default().as_bytes())
}

pub(super) fn decode_cursor(raw: &str) -> Option<Vec<String>> {
    serde_json::from_slice(&base64url_decode(raw)?).ok()
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// `rows` was fetched with `limit + 1`; the extra row only says there is a next page.
    pub fn from_overfetch(mut rows: Vec<T>, limit: u32, key: impl Fn(&T) -> Vec<String>) -> Self {
        let next_cursor = if rows.len() > limit as usize {
            rows.truncate(limit as usize);
            rows.last().map(|last| encode_cursor(&key(last)))
        } else {
            None
        };
        Page { items: rows, next_cursor }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::fields::err_field;

    #[test]
    fn entity_tags() {
        let sha = "a".repeat(40);
        for (header, matches) in [
            (Some(format!("\"{sha}\"")), true),
            (Some(format!("W/\"{sha}\"")), true),
            (Some(format!("\"x\", \"{sha}\"")), true),
            (Some("*".to_string()), true),
            (Some("\"b\"".to_string()), false),
            (None, false),
        ] {
            assert_eq!(etag_matches(header.as_deref(), &sha), matches, "{header:?}");
        }
    }

    #[test]
    fn numeric_cursor_keys() {
        let page = PageRequest::parse(&format!("cursor={}", encode_cursor(&["120".into(), "x".into()]))).unwrap();
        assert_eq!(page.after_number(0).unwrap(), Some(120));
        assert_eq!(err_field(page.after_number(1)), "cursor");
        assert_eq!(PageRequest::parse("").unwrap().after_number(0).unwrap(), None);
    }

    #[test]
    fn pages() {
        assert_eq!(PageRequest::parse("").unwrap(), PageRequest { limit: 50, after: None });
        assert_eq!(PageRequest::parse("limit=500").unwrap().limit, 500);
        for bad in ["limit=0", "limit=501", "limit=x", "limit=-1", "cursor=%%%", "cursor=bm90IGpzb24"] {
            assert!(PageRequest::parse(bad).is_err(), "{bad}");
        }
        let key = vec!["a/b c".to_string(), "ü".to_string()];
        let q = format!("limit=2&cursor={}", encode_cursor(&key));
        assert_eq!(PageRequest::parse(&q).unwrap().after, Some(key));
        let page = Page::from_overfetch(vec![1, 2, 3], 2, |n| vec![n.to_string()]);
        assert_eq!(page.items, vec![1, 2]);
        assert_eq!(decode_cursor(page.next_cursor.as_deref().unwrap()), Some(vec!["2".to_string()]));
        assert!(Page::from_overfetch(vec![1, 2], 2, |n| vec![n.to_string()]).next_cursor.is_none());
    }

    #[test]
    fn cursors_carry_their_snapshot() {
        let first = PageRequest::parse("").unwrap();
        assert_eq!(first.snapshot(1, 7).unwrap(), 7, "a first page reads the current state");
        let later = PageRequest::parse(&format!("cursor={}", encode_cursor(&["a/b".into(), "5".into()]))).unwrap();
        assert_eq!(later.snapshot(1, 9).unwrap(), 5, "later pages read the first page's state");
        assert!(later.snapshot(1, 4).is_err(), "a position past the current one is not ours");
        let old = PageRequest::parse(&format!("cursor={}", encode_cursor(&["a/b".into()]))).unwrap();
        assert!(old.snapshot(1, 9).is_err(), "a cursor without a snapshot is refused");
        let bad = PageRequest::parse(&format!("cursor={}", encode_cursor(&["a".into(), "x".into()]))).unwrap();
        assert!(bad.snapshot(1, 9).is_err());
    }

    #[test]
    fn query_decoding() {
        assert_eq!(query_param("prefix=src%2Fa+b&x=1", "prefix").as_deref(), Some("src/a b"));
        assert_eq!(query_param("q=%C3%BC", "q").as_deref(), Some("ü"));
        assert_eq!(query_param("q=100%", "q").as_deref(), Some("100%"));
        assert_eq!(query_param("a=1", "b"), None);
        assert_eq!(query_param("flag", "flag").as_deref(), Some(""));
    }
}
