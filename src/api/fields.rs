//! The JSON field readers every request body uses: the object, unknown fields refused, and
//! each field read as its type, so a request reports its first wrong field by name.

use crate::domain::BranchName;
use crate::error::{AppError, AppResult};
use crate::github_app::InstallationId;
use crate::pathfilter::PathFilter;
use serde_json::{Map, Value};

/// Every `/api` body but a webhook's (CONTRACT.md, bounds of 2026-12-07: 1 MB).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_GITHUB_TOKEN_BYTES: usize = 1024;

/// Parses a JSON object body; an empty body counts as `{}` where `allow_empty`.
pub fn parse_object(body: &[u8], allow_empty: bool) -> AppResult<Map<String, Value>> {
    if body.len() > MAX_BODY_BYTES {
        return Err(AppError::TooLarge(format!("the request body is over {MAX_BODY_BYTES} bytes")));
    }
    if allow_empty && body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(AppError::invalid("body", "must be a JSON object")),
        Err(e) => Err(AppError::invalid("body", format!("is not valid JSON ({e})"))),
    }
}

pub(super) fn reject_unknown(map: &Map<String, Value>, known: &[&str]) -> AppResult<()> {
    match map.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(AppError::invalid(k.as_str(), format!("is not a known field (expected one of: {})", known.join(", ")))),
        None => Ok(()),
    }
}

// An optional field is absent or of its type: `null` is refused (400) unless the API
// reference says the field is nullable (PATCH's `githubToken` and `installationId`), so the
// service takes exactly what the document describes (issue 19, defect 11).

pub(super) fn opt_string<'a>(map: &'a Map<String, Value>, field: &str) -> AppResult<Option<&'a str>> {
    match map.get(field) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(AppError::invalid(field, "must be a string")),
    }
}

pub(super) fn req_string<'a>(map: &'a Map<String, Value>, field: &str) -> AppResult<&'a str> {
    opt_string(map, field)?.ok_or_else(|| AppError::invalid(field, "is required"))
}

pub(super) fn opt_bool(map: &Map<String, Value>, field: &str) -> AppResult<Option<bool>> {
    match map.get(field) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(AppError::invalid(field, "must be true or false")),
    }
}

/// A JSON number that is an installation id (absent is `None`).
pub(super) fn opt_installation(map: &Map<String, Value>, field: &str) -> AppResult<Option<InstallationId>> {
    match map.get(field) {
        None => Ok(None),
        Some(v) => v
            .as_u64()
            .and_then(InstallationId::new)
            .map(Some)
            .ok_or_else(|| AppError::invalid(field, "must be a GitHub App installation id (a positive integer)")),
    }
}

/// `include` and `exclude` as a request gives them (absent: `None`), each list validated.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FilterChange {
    pub include: Option<Vec<String>>,
    pub exclude: Option<Vec<String>>,
}

impl FilterChange {
    pub(super) fn parse(map: &Map<String, Value>) -> AppResult<Self> {
        let change = FilterChange { include: patterns(map, "include")?, exclude: patterns(map, "exclude")? };
        change.over(&PathFilter::default())?;
        Ok(change)
    }

    pub fn is_empty(&self) -> bool {
        self.include.is_none() && self.exclude.is_none()
    }

    /// The filter with the given lists replacing those of `current`.
    pub fn over(&self, current: &PathFilter) -> AppResult<PathFilter> {
        let keep = |l: Option<&Vec<String>>, old: Vec<String>| l.cloned().unwrap_or(old);
        let include = keep(self.include.as_ref(), current.include().map(String::from).collect());
        let exclude = keep(self.exclude.as_ref(), current.exclude().map(String::from).collect());
        PathFilter::parse(&include, &exclude).map_err(|e| AppError::invalid(e.field, e.reason))
    }
}

/// A list of patterns: an array of strings (absent is `None`).
pub(super) fn patterns(map: &Map<String, Value>, field: &str) -> AppResult<Option<Vec<String>>> {
    strings(map, field, "patterns")
}

/// An array of strings (`what` they are, for the message); absent is `None`.
pub(super) fn strings(map: &Map<String, Value>, field: &str, what: &str) -> AppResult<Option<Vec<String>>> {
    let items = match map.get(field) {
        None => return Ok(None),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(AppError::invalid(field, format!("must be an array of {what}"))),
    };
    items
        .iter()
        .map(|v| v.as_str().map(String::from).ok_or_else(|| AppError::invalid(field, format!("must be an array of strings ({what})"))))
        .collect::<AppResult<Vec<_>>>()
        .map(Some)
}

pub(super) fn display_name(field: &str, raw: &str) -> AppResult<String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(AppError::invalid(field, "must not be empty"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(AppError::invalid(field, format!("must be at most {MAX_NAME_CHARS} characters")));
    }
    if name.chars().any(char::is_control) {
        return Err(AppError::invalid(field, "must not contain control characters"));
    }
    Ok(name.to_string())
}

pub(super) fn branch(field: &str, raw: &str) -> AppResult<BranchName> {
    BranchName::parse(raw).map_err(|e| AppError::invalid(field, e))
}

pub(super) fn github_token(raw: &str) -> AppResult<String> {
    let t = raw.trim();
    if t.is_empty() || t.len() > MAX_GITHUB_TOKEN_BYTES || t.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(AppError::invalid("githubToken", "must be a non-empty token without spaces"));
    }
    Ok(t.to_string())
}

#[cfg(test)]
pub(super) fn err_field(r: AppResult<impl std::fmt::Debug>) -> String {
    match r {
        Err(AppError::InvalidRequest { field, .. }) => field,
        other => panic!("expected a 400, got {other:?}"),
    }
}
