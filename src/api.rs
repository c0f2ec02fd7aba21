//! The contract's request bodies, parsed and validated once, and its response shapes.
//!
//! Parsing reports the first wrong field by name; unknown fields are refused so a typo
//! never silently does nothing.

use crate::auth::{base64url_decode, base64url_encode};
use crate::domain::{BranchName, Counts, Id, RepoName, Stats, SyncKind, SyncStatus, Trigger};
use crate::error::{AppError, AppResult};
use crate::github_app::InstallationId;
use crate::pathfilter::PathFilter;
use serde::Serialize;
use serde_json::{Map, Value};

/// Every `/api` body but a webhook's (CONTRACT.md, bounds of 2026-12-07: 1 MB).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_GITHUB_TOKEN_BYTES: usize = 1024;
pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 500;

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

fn reject_unknown(map: &Map<String, Value>, known: &[&str]) -> AppResult<()> {
    match map.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(AppError::invalid(k.as_str(), format!("is not a known field (expected one of: {})", known.join(", ")))),
        None => Ok(()),
    }
}

// An optional field is absent or of its type: `null` is refused (400) unless the API
// reference says the field is nullable (PATCH's `githubToken` and `installationId`), so the
// service takes exactly what the document describes (issue 19, defect 11).

fn opt_string<'a>(map: &'a Map<String, Value>, field: &str) -> AppResult<Option<&'a str>> {
    match map.get(field) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(AppError::invalid(field, "must be a string")),
    }
}

fn req_string<'a>(map: &'a Map<String, Value>, field: &str) -> AppResult<&'a str> {
    opt_string(map, field)?.ok_or_else(|| AppError::invalid(field, "is required"))
}

fn opt_bool(map: &Map<String, Value>, field: &str) -> AppResult<Option<bool>> {
    match map.get(field) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(AppError::invalid(field, "must be true or false")),
    }
}

/// A JSON number that is an installation id (absent is `None`).
fn opt_installation(map: &Map<String, Value>, field: &str) -> AppResult<Option<InstallationId>> {
    match map.get(field) {
        None => Ok(None),
        Some(v) => v
            .as_u64()
            .and_then(InstallationId::new)
            .map(Some)
            .ok_or_else(|| AppError::invalid(field, "must be a GitHub App installation id (a positive integer)")),
    }
}

const EITHER_CREDENTIAL: &str = "a project uses either its own githubToken or an installation, not both";

/// `include` and `exclude` as a request gives them (absent: `None`), each list validated.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FilterChange {
    pub include: Option<Vec<String>>,
    pub exclude: Option<Vec<String>>,
}

impl FilterChange {
    fn parse(map: &Map<String, Value>) -> AppResult<Self> {
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
fn patterns(map: &Map<String, Value>, field: &str) -> AppResult<Option<Vec<String>>> {
    strings(map, field, "patterns")
}

/// An array of strings (`what` they are, for the message); absent is `None`.
fn strings(map: &Map<String, Value>, field: &str, what: &str) -> AppResult<Option<Vec<String>>> {
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

fn display_name(field: &str, raw: &str) -> AppResult<String> {
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

fn branch(field: &str, raw: &str) -> AppResult<BranchName> {
    BranchName::parse(raw).map_err(|e| AppError::invalid(field, e))
}

fn github_token(raw: &str) -> AppResult<String> {
    let t = raw.trim();
    if t.is_empty() || t.len() > MAX_GITHUB_TOKEN_BYTES || t.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(AppError::invalid("githubToken", "must be a non-empty token without spaces"));
    }
    Ok(t.to_string())
}

#[derive(Debug, Clone, PartialEq)]
pub struct CreateUser {
    pub name: String,
}

impl CreateUser {
    pub fn parse(body: &[u8]) -> AppResult<Self> {
        let m = parse_object(body, false)?;
        reject_unknown(&m, &["name"])?;
        Ok(CreateUser { name: display_name("name", req_string(&m, "name")?)? })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CreateProject {
    pub name: String,
    pub repository: RepoName,
    pub branch: Option<BranchName>,
    pub tracked: bool,
    pub github_token: Option<String>,
    pub installation_id: Option<InstallationId>,
    pub filter: PathFilter,
}

impl CreateProject {
    pub fn parse(body: &[u8]) -> AppResult<Self> {
        let m = parse_object(body, false)?;
        reject_unknown(&m, &["name", "repository", "branch", "tracked", "githubToken", "installationId", "include", "exclude"])?;
        let project = CreateProject {
            name: display_name("name", req_string(&m, "name")?)?,
            repository: RepoName::parse(req_string(&m, "repository")?).map_err(|e| AppError::invalid("repository", e))?,
            branch: opt_string(&m, "branch")?.map(|b| branch("branch", b)).transpose()?,
            tracked: opt_bool(&m, "tracked")?.unwrap_or(false),
            github_token: opt_string(&m, "githubToken")?.map(github_token).transpose()?,
            installation_id: opt_installation(&m, "installationId")?,
            filter: FilterChange::parse(&m)?.over(&PathFilter::default())?,
        };
        if project.github_token.is_some() && project.installation_id.is_some() {
            return Err(AppError::invalid("installationId", EITHER_CREDENTIAL));
        }
        Ok(project)
    }
}

/// `githubToken: null` removes a stored token; absent leaves it alone.
#[derive(Debug, Clone, PartialEq)]
pub enum TokenChange {
    Keep,
    Remove,
    Set(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct PatchProject {
    pub name: Option<String>,
    pub branch: Option<BranchName>,
    pub tracked: Option<bool>,
    pub github_token: TokenChange,
    /// `Some(None)` removes the installation; `None` leaves it alone.
    pub installation_id: Option<Option<InstallationId>>,
    /// The lists given replace the project's; an absent one is kept.
    pub filter: FilterChange,
}

impl PatchProject {
    pub fn parse(body: &[u8]) -> AppResult<Self> {
        let m = parse_object(body, false)?;
        reject_unknown(&m, &["name", "branch", "tracked", "githubToken", "installationId", "include", "exclude"])?;
        let github_token = match m.get("githubToken") {
            None => TokenChange::Keep,
            Some(Value::Null) => TokenChange::Remove,
            Some(Value::String(s)) => TokenChange::Set(github_token(s)?),
            Some(_) => return Err(AppError::invalid("githubToken", "must be a string or null")),
        };
        let patch = PatchProject {
            name: opt_string(&m, "name")?.map(|n| display_name("name", n)).transpose()?,
            branch: opt_string(&m, "branch")?.map(|b| branch("branch", b)).transpose()?,
            tracked: opt_bool(&m, "tracked")?,
            // `null` stops using the installation; absent leaves it alone.
            installation_id: match m.get("installationId") {
                None => None,
                Some(Value::Null) => Some(None),
                Some(_) => Some(opt_installation(&m, "installationId")?),
            },
            github_token,
            filter: FilterChange::parse(&m)?,
        };
        if matches!(patch.github_token, TokenChange::Set(_)) && matches!(patch.installation_id, Some(Some(_))) {
            return Err(AppError::invalid("installationId", EITHER_CREDENTIAL));
        }
        if m.is_empty() {
            return Err(AppError::invalid(
                "body",
                "names no field to change (name, branch, tracked, githubToken, installationId, include, exclude)",
            ));
        }
        Ok(patch)
    }
}

/// `POST /installations` (admin): grant an installation to a user.
#[derive(Debug, Clone, PartialEq)]
pub struct GrantInstallation {
    pub installation_id: InstallationId,
    pub user_id: Id,
}

impl GrantInstallation {
    pub fn parse(body: &[u8]) -> AppResult<Self> {
        let m = parse_object(body, false)?;
        reject_unknown(&m, &["installationId", "userId"])?;
        let installation_id = opt_installation(&m, "installationId")?.ok_or_else(|| AppError::invalid("installationId", "is required"))?;
        let user_id = Id::parse(req_string(&m, "userId")?).map_err(|e| AppError::invalid("userId", e))?;
        Ok(GrantInstallation { installation_id, user_id })
    }
}

/// `POST /projects/{id}/hooks`. The URL's scheme and origin are checked where the
/// service's own origin is known (`hooks::check_url`).
#[derive(Debug, Clone, PartialEq)]
pub struct CreateHook {
    pub url: String,
    pub secret: Option<String>,
    pub events: Vec<crate::hooks::HookEvent>,
}

impl CreateHook {
    pub fn parse(body: &[u8]) -> AppResult<Self> {
        let m = parse_object(body, false)?;
        reject_unknown(&m, &["url", "secret", "events"])?;
        let url = req_string(&m, "url")?.to_string();
        let secret = opt_string(&m, "secret")?.map(String::from);
        if let Some(secret) = &secret {
            crate::hooks::check_secret(secret).map_err(|e| AppError::invalid("secret", e))?;
        }
        let events = crate::hooks::parse_events(strings(&m, "events", "names")?.as_deref()).map_err(|e| AppError::invalid("events", e))?;
        Ok(CreateHook { url, secret, events })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct StartSync {
    pub branch: Option<BranchName>,
    pub dry_run: bool,
    /// With a dry run: the filter to preview, over the project's.
    pub filter: FilterChange,
}

impl StartSync {
    pub fn parse(body: &[u8]) -> AppResult<Self> {
        let m = parse_object(body, true)?;
        reject_unknown(&m, &["branch", "dryRun", "include", "exclude"])?;
        let start = StartSync {
            branch: opt_string(&m, "branch")?.map(|b| branch("branch", b)).transpose()?,
            dry_run: opt_bool(&m, "dryRun")?.unwrap_or(false),
            filter: FilterChange::parse(&m)?,
        };
        if !start.dry_run && !start.filter.is_empty() {
            let field = if start.filter.include.is_some() { "include" } else { "exclude" };
            return Err(AppError::invalid(field, "previews a filter only with \"dryRun\": true (a project's filter is set with PATCH)"));
        }
        Ok(start)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Restore {
    pub sync_id: Id,
}

impl Restore {
    pub fn parse(body: &[u8]) -> AppResult<Self> {
        let m = parse_object(body, false)?;
        reject_unknown(&m, &["syncId"])?;
        let raw = req_string(&m, "syncId")?;
        Ok(Restore { sync_id: Id::parse(raw).map_err(|e| AppError::invalid("syncId", e))? })
    }
}

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

fn decode_cursor(raw: &str) -> Option<Vec<String>> {
    serde_json::from_slice(&base64url_decode(raw)?).ok()
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T: Serialize> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T: Serialize> Page<T> {
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

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserCreated {
    pub id: String,
    pub name: String,
    pub token: String,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectView {
    pub id: String,
    pub name: String,
    pub repository: String,
    pub branch: String,
    pub tracked: bool,
    pub current_sync_id: Option<String>,
    pub current_commit_sha: Option<String>,
    pub created_at: String,
    /// Whether a GitHub token of the project's own is stored (the token itself never leaves).
    pub has_github_token: bool,
    /// The GitHub App installation whose tokens the project's requests use.
    pub installation_id: Option<InstallationId>,
    /// `include` and `exclude`.
    #[serde(flatten)]
    pub filter: crate::pathfilter::FilterLists,
}

/// A hook as the API shows it (never its secret).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HookView {
    pub id: String,
    pub url: String,
    pub events: Vec<crate::hooks::HookEvent>,
    /// Whether deliveries are signed.
    pub has_secret: bool,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryView {
    pub id: String,
    pub event: crate::hooks::HookEvent,
    pub sync_id: String,
    pub status: String,
    pub attempts: u32,
    pub last_status_code: Option<u16>,
    pub last_error: Option<String>,
    pub created_at: String,
    pub delivered_at: Option<String>,
}

/// An installation granted to a user.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InstallationView {
    pub installation_id: InstallationId,
    pub account: String,
    pub repository_selection: String,
    pub user_id: String,
    pub created_at: String,
}

/// A repository an installation reaches.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InstallationRepoView {
    pub repository: String,
    pub private: bool,
    pub default_branch: String,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncView {
    pub id: String,
    pub project_id: String,
    pub kind: SyncKind,
    pub trigger: Trigger,
    pub branch: String,
    pub commit_sha: Option<String>,
    pub status: SyncStatus,
    pub progress: u8,
    pub message: String,
    pub previous_sync_id: Option<String>,
    pub restored_from_sync_id: Option<String>,
    pub counts: Counts,
    pub stats: Stats,
    pub error: Option<String>,
    pub started_at: String,
    pub completed_at: Option<String>,
    /// The filter that made its state (`include`, `exclude`).
    #[serde(flatten)]
    pub filter: crate::pathfilter::FilterLists,
    pub dry_run: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncStarted {
    pub sync: SyncView,
    pub events_url: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BranchView {
    pub name: String,
    pub commit_sha: String,
    pub protected: bool,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileView {
    pub path: String,
    pub mode: String,
    pub kind: String,
    pub sha: String,
    pub size: Option<u64>,
    pub sync_id: String,
    /// Why no text is kept: `binary`, `too-large`, `not-text`, `lfs-pointer`; `None` when
    /// it is, and for symlinks and submodules.
    pub content_skipped: Option<String>,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileHistoryView {
    pub path: String,
    pub mode: String,
    pub kind: String,
    pub sha: String,
    pub size: Option<u64>,
    pub sync_id: String,
    pub content_skipped: Option<String>,
    pub superseded_by_sync_id: Option<String>,
}

/// One memory entry: a chunk of an active text file.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemoryView {
    pub id: String,
    pub path: String,
    pub sha: String,
    pub chunk: u32,
    pub text: String,
    pub sync_id: String,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeView {
    pub path: String,
    pub change: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_path: Option<String>,
    pub sha: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_sha: Option<String>,
    /// `"filtered"` when a filter change, not the branch, added or removed the path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl From<&crate::diff::Change> for ChangeView {
    fn from(c: &crate::diff::Change) -> ChangeView {
        use crate::diff::Change;
        let (change, old) = match c {
            Change::Added { .. } => ("added", None),
            Change::Modified { old, .. } => ("modified", Some(old)),
            Change::Renamed { old, .. } => ("renamed", Some(old)),
            Change::Removed { .. } => ("removed", None),
        };
        let sha = match c {
            Change::Removed { old } => old.sha.to_string(),
            Change::Added { new } | Change::Modified { new, .. } | Change::Renamed { new, .. } => new.sha.to_string(),
        };
        ChangeView {
            path: c.path().to_string(),
            change: change.into(),
            previous_path: matches!(c, Change::Renamed { .. }).then(|| old.map(|o| o.path.clone())).flatten(),
            sha,
            previous_sha: old.map(|o| o.sha.to_string()),
            reason: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err_field(r: AppResult<impl std::fmt::Debug>) -> String {
        match r {
            Err(AppError::InvalidRequest { field, .. }) => field,
            other => panic!("expected a 400, got {other:?}"),
        }
    }

    #[test]
    fn create_project_validation() {
        let ok = CreateProject::parse(br#"{"name":" Site ","repository":"acme/widgets","branch":"feature/x","tracked":true}"#).unwrap();
        assert_eq!(ok.name, "Site");
        assert_eq!(ok.branch.unwrap().as_str(), "feature/x");
        assert!(ok.tracked);
        let cases: &[(&[u8], &str)] = &[
            (b"", "body"),
            (b"[]", "body"),
            (b"{not json", "body"),
            (br#"{"repository":"acme/widgets"}"#, "name"),
            (br#"{"name":"","repository":"acme/widgets"}"#, "name"),
            (br#"{"name":"x"}"#, "repository"),
            (br#"{"name":"x","repository":"nope"}"#, "repository"),
            (br#"{"name":"x","repository":"a/b","branch":"a..b"}"#, "branch"),
            (br#"{"name":"x","repository":"a/b","branch":7}"#, "branch"),
            (br#"{"name":"x","repository":"a/b","tracked":"yes"}"#, "tracked"),
            (br#"{"name":"x","repository":"a/b","githubToken":"has space"}"#, "githubToken"),
            (br#"{"name":"x","repository":"a/b","colour":"red"}"#, "colour"),
        ];
        for (body, field) in cases {
            assert_eq!(err_field(CreateProject::parse(body)), *field, "{}", String::from_utf8_lossy(body));
        }
        let big = vec![b' '; MAX_BODY_BYTES + 1];
        assert_eq!(CreateProject::parse(&big).unwrap_err().status(), 413);
    }

    #[test]
    fn a_project_has_one_credential() {
        let p = CreateProject::parse(br#"{"name":"x","repository":"a/b","installationId":42}"#).unwrap();
        assert_eq!(p.installation_id.map(InstallationId::get), Some(42));
        let cases: &[&[u8]] = &[
            br#"{"name":"x","repository":"a/b","installationId":42,"githubToken":"ghp_x"}"#,
            br#"{"name":"x","repository":"a/b","installationId":0}"#,
            br#"{"name":"x","repository":"a/b","installationId":"42"}"#,
            br#"{"name":"x","repository":"a/b","installationId":4.5}"#,
            br#"{"name":"x","repository":"a/b","installationId":-3}"#,
        ];
        for body in cases {
            assert_eq!(err_field(CreateProject::parse(body)), "installationId", "{}", String::from_utf8_lossy(body));
        }
        let set = PatchProject::parse(br#"{"installationId":7}"#).unwrap();
        assert_eq!(set.installation_id, Some(InstallationId::new(7)));
        assert_eq!(PatchProject::parse(br#"{"installationId":null}"#).unwrap().installation_id, Some(None), "null removes it");
        assert_eq!(PatchProject::parse(br#"{"name":"y"}"#).unwrap().installation_id, None, "absent keeps it");
        let both = PatchProject::parse(br#"{"installationId":7,"githubToken":"ghp_x"}"#);
        assert_eq!(err_field(both), "installationId");
        let swap = PatchProject::parse(br#"{"installationId":7,"githubToken":null}"#).unwrap();
        assert_eq!((swap.github_token, swap.installation_id), (TokenChange::Remove, Some(InstallationId::new(7))));

        let grant = GrantInstallation::parse(br#"{"installationId":9,"userId":"u-1"}"#).unwrap();
        assert_eq!((grant.installation_id.get(), grant.user_id.as_str()), (9, "u-1"));
        assert_eq!(err_field(GrantInstallation::parse(br#"{"userId":"u-1"}"#)), "installationId");
        assert_eq!(err_field(GrantInstallation::parse(br#"{"installationId":9}"#)), "userId");
        assert_eq!(err_field(GrantInstallation::parse(br#"{"installationId":9,"userId":"u","x":1}"#)), "x");
    }

    #[test]
    fn patch_and_start_and_restore() {
        let p = PatchProject::parse(br#"{"githubToken":null,"tracked":false}"#).unwrap();
        assert_eq!((p.github_token, p.tracked), (TokenChange::Remove, Some(false)));
        assert_eq!(err_field(PatchProject::parse(b"{}")), "body");
        assert_eq!(StartSync::parse(b"").unwrap().branch, None);
        assert_eq!(StartSync::parse(br#"{"branch":"dev"}"#).unwrap().branch.unwrap().as_str(), "dev");
        assert_eq!(err_field(StartSync::parse(br#"{"branch":""}"#)), "branch");
        assert_eq!(err_field(Restore::parse(br#"{"syncId":"../x"}"#)), "syncId");
        assert_eq!(err_field(Restore::parse(b"{}")), "syncId");
    }

    #[test]
    fn changes_read_as_the_changes_endpoint_writes_them() {
        use crate::diff::{Change, FileEntry};
        use crate::domain::{FileKind, FileMode, ObjectSha};
        let entry = |path: &str, sha: char| FileEntry {
            path: path.into(),
            mode: FileMode::Regular,
            kind: FileKind::File,
            sha: ObjectSha::parse(&sha.to_string().repeat(40)).unwrap(),
            size: Some(1),
        };
        let view = |c: Change| serde_json::to_value(ChangeView::from(&c)).unwrap();
        let (a, b) = ("a".repeat(40), "b".repeat(40));
        assert_eq!(view(Change::Added { new: entry("x", 'a') }), serde_json::json!({"path": "x", "change": "added", "sha": a}));
        assert_eq!(view(Change::Removed { old: entry("x", 'a') }), serde_json::json!({"path": "x", "change": "removed", "sha": a}));
        assert_eq!(
            view(Change::Modified { old: entry("x", 'a'), new: entry("x", 'b') }),
            serde_json::json!({"path": "x", "change": "modified", "sha": b, "previousSha": a})
        );
        assert_eq!(
            view(Change::Renamed { old: entry("x", 'a'), new: entry("y", 'a') }),
            serde_json::json!({"path": "y", "change": "renamed", "previousPath": "x", "sha": a, "previousSha": a})
        );
    }

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

    #[test]
    fn filters_are_validated_where_they_are_given() {
        let p = CreateProject::parse(br#"{"name":"x","repository":"a/b","include":["/src/"],"exclude":["*.lock"]}"#).unwrap();
        assert_eq!(p.filter.include().collect::<Vec<_>>(), ["/src/"]);
        assert_eq!(p.filter.exclude().collect::<Vec<_>>(), ["*.lock"]);
        assert!(CreateProject::parse(br#"{"name":"x","repository":"a/b"}"#).unwrap().filter.is_everything());
        for (body, field, names) in [
            (&br#"{"name":"x","repository":"a/b","include":["ok","[bad"]}"#[..], "include", "[bad"),
            (br#"{"name":"x","repository":"a/b","exclude":["!neg"]}"#, "exclude", "!neg"),
            (br#"{"name":"x","repository":"a/b","exclude":[""]}"#, "exclude", "\"\""),
            (br#"{"name":"x","repository":"a/b","include":"src"}"#, "include", "array"),
            (br#"{"name":"x","repository":"a/b","include":[7]}"#, "include", "strings"),
        ] {
            match CreateProject::parse(body) {
                Err(AppError::InvalidRequest { field: f, reason: message }) => {
                    assert_eq!(f, field, "{message}");
                    assert!(message.contains(names), "{message}");
                }
                other => panic!("{other:?}"),
            }
        }
        let patch = PatchProject::parse(br#"{"exclude":["/vendor/"]}"#).unwrap();
        let current = PathFilter::parse(&["/src/"], &["x"]).unwrap();
        let next = patch.filter.over(&current).unwrap();
        assert_eq!(next.include().collect::<Vec<_>>(), ["/src/"], "an absent list is kept");
        assert_eq!(next.exclude().collect::<Vec<_>>(), ["/vendor/"]);
        assert!(PatchProject::parse(br#"{"include":[]}"#).unwrap().filter.over(&current).unwrap().include().next().is_none());
    }

    #[test]
    fn a_dry_run_may_preview_a_filter_and_a_sync_may_not() {
        let dry = StartSync::parse(br#"{"dryRun":true,"include":["/docs/"]}"#).unwrap();
        assert!(dry.dry_run);
        assert_eq!(dry.filter.include.as_deref(), Some(&["/docs/".to_string()][..]));
        assert!(!StartSync::parse(b"").unwrap().dry_run);
        assert_eq!(err_field(StartSync::parse(br#"{"include":["/docs/"]}"#)), "include");
        assert_eq!(err_field(StartSync::parse(br#"{"dryRun":false,"exclude":["a"]}"#)), "exclude");
        assert_eq!(err_field(StartSync::parse(br#"{"dryRun":"yes"}"#)), "dryRun");
        assert_eq!(err_field(StartSync::parse(br#"{"dryRun":true,"exclude":["a//b"]}"#)), "exclude");
    }

    /// Issue 19, defect 11: `null` is taken only where web/openapi.json says a field is
    /// nullable; everywhere else it is a 400 naming the field (it was read as "absent").
    #[test]
    fn null_is_refused_unless_the_reference_says_nullable() {
        let hook = |f: &str| err_field(CreateHook::parse(format!(r#"{{"url":"https://h.example.com/in","{f}":null}}"#).as_bytes()));
        assert_eq!(hook("events"), "events");
        assert_eq!(hook("secret"), "secret");
        assert_eq!(err_field(CreateHook::parse(br#"{"url":null}"#)), "url");
        for f in ["branch", "tracked", "githubToken", "installationId", "include", "exclude"] {
            let body = format!(r#"{{"name":"n","repository":"o/r","{f}":null}}"#);
            assert_eq!(err_field(CreateProject::parse(body.as_bytes())), f, "create {f}");
        }
        for f in ["name", "branch", "tracked", "include", "exclude"] {
            assert_eq!(err_field(PatchProject::parse(format!(r#"{{"{f}":null}}"#).as_bytes())), f, "patch {f}");
        }
        for f in ["branch", "dryRun", "include", "exclude"] {
            assert_eq!(err_field(StartSync::parse(format!(r#"{{"{f}":null}}"#).as_bytes())), f, "start {f}");
        }
        // The two the reference makes nullable keep their meaning.
        assert_eq!(PatchProject::parse(br#"{"githubToken":null}"#).unwrap().github_token, TokenChange::Remove);
        assert_eq!(PatchProject::parse(br#"{"installationId":null}"#).unwrap().installation_id, Some(None));
        let doc: Value = serde_json::from_str(include_str!("../web/openapi.json")).unwrap();
        let schemas = &doc["components"]["schemas"];
        for (schema, field) in [("CreateHook", "events"), ("PatchProject", "branch"), ("CreateProject", "tracked")] {
            let t = schemas[schema]["properties"][field].to_string();
            assert!(!t.contains("null"), "{schema}.{field} is not nullable in the reference: {t}");
        }
        assert!(schemas["PatchProject"]["properties"]["githubToken"].to_string().contains("null"));
    }

    #[test]
    fn hooks_are_validated() {
        let h = CreateHook::parse(br#"{"url":"https://h.example.com/in","secret":"s","events":["sync.failed"]}"#).unwrap();
        assert_eq!(h.events, vec![crate::hooks::HookEvent::Failed]);
        assert_eq!(CreateHook::parse(br#"{"url":"https://h.example.com/in"}"#).unwrap().events.len(), 3);
        assert_eq!(err_field(CreateHook::parse(br#"{"secret":"s"}"#)), "url");
        assert_eq!(err_field(CreateHook::parse(br#"{"url":"https://h/","secret":""}"#)), "secret");
        assert_eq!(err_field(CreateHook::parse(br#"{"url":"https://h/","events":[]}"#)), "events");
        assert_eq!(err_field(CreateHook::parse(br#"{"url":"https://h/","events":["push"]}"#)), "events");
        assert_eq!(err_field(CreateHook::parse(br#"{"url":"https://h/","events":"sync.failed"}"#)), "events");
        assert_eq!(err_field(CreateHook::parse(br#"{"url":"https://h/","extra":1}"#)), "extra");
    }
}
