//! GitHub REST, without I/O: URLs, wire types, pagination links, error classification and
//! the retry policy. The HTTP adapters (`shell::adapters::github_transport`, `github`) only
//! move bytes.

use crate::domain::{BranchName, CommitSha, FileMode, RepoName, TreeFile};
use crate::error::AppError;
use crate::gitobj::{complete_dirs, ListedEntry};
use serde::de::{DeserializeSeed, Deserializer, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt;

pub const API_VERSION: &str = "2022-11-28";
pub const ACCEPT_JSON: &str = "application/vnd.github+json";
/// Raw bytes instead of JSON with base64 (blobs).
pub const ACCEPT_RAW: &str = "application/vnd.github.raw";
pub const USER_AGENT: &str = "project-sync/0.1 (+https://github.com/project-sync)";
/// GitHub's maximum page size for list endpoints.
pub const MAX_PER_PAGE: u32 = 100;

/// Joins the configured base (`https://api.github.com`, `https://HOST/api/v3`, an emulator)
/// with an API path that starts with `/`.
pub fn api_url(base: &str, path: &str) -> String {
    format!("{}{}", base.trim_end_matches('/'), path)
}

/// Percent-encodes one URL path segment (RFC 3986 unreserved characters pass through).
pub fn encode_segment(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for b in raw.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A branch as path segments: slashes stay separators, everything else is encoded.
pub fn encode_branch_path(branch: &BranchName) -> String {
    branch.as_str().split('/').map(encode_segment).collect::<Vec<_>>().join("/")
}

pub fn repo_path(repo: &RepoName) -> String {
    format!("/repos/{}/{}", encode_segment(repo.owner()), encode_segment(repo.repo()))
}

pub fn branches_path(repo: &RepoName) -> String {
    format!("{}/branches?per_page={MAX_PER_PAGE}", repo_path(repo))
}

pub fn head_ref_path(repo: &RepoName, branch: &BranchName) -> String {
    format!("{}/git/ref/heads/{}", repo_path(repo), encode_branch_path(branch))
}

pub fn tree_path(repo: &RepoName, tree_ish: &str, recursive: bool) -> String {
    let q = if recursive { "?recursive=1" } else { "" };
    format!("{}/git/trees/{}{q}", repo_path(repo), encode_segment(tree_ish))
}

pub fn blob_path(repo: &RepoName, sha: &str) -> String {
    format!("{}/git/blobs/{}", repo_path(repo), encode_segment(sha))
}

pub fn tarball_path(repo: &RepoName, commit: &crate::domain::CommitSha) -> String {
    format!("{}/tarball/{}", repo_path(repo), commit)
}

/// Finds the `rel="next"` target of a `Link` header (RFC 8288, as GitHub writes it).
pub fn next_link(link_header: Option<&str>) -> Option<String> {
    let header = link_header?;
    for part in header.split(',') {
        let mut pieces = part.split(';');
        let target = pieces.next()?.trim();
        let is_next = pieces.any(|p| {
            let p = p.trim();
            p == "rel=\"next\"" || p == "rel=next"
        });
        if is_next && target.starts_with('<') && target.ends_with('>') {
            return Some(target[1..target.len() - 1].to_string());
        }
    }
    None
}

#[derive(Debug, Clone, Deserialize)]
pub struct RepoInfo {
    pub full_name: String,
    pub default_branch: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct BranchWire {
    pub name: String,
    pub commit: BranchCommitWire,
    #[serde(default)]
    pub protected: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct BranchCommitWire {
    pub sha: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GitRefWire {
    pub object: GitObjectWire,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GitObjectWire {
    pub sha: String,
    #[serde(rename = "type")]
    pub kind: String,
}

/// A tree answer as GitHub sends it (what the fakes serve; `parse_tree` reads it).
#[derive(Debug, Clone, serde::Serialize)]
pub struct TreeWire {
    pub sha: String,
    pub tree: Vec<TreeEntryWire>,
    pub truncated: bool,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct TreeEntryWire {
    pub path: String,
    pub mode: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub sha: String,
    pub size: Option<u64>,
}

/// One entry of a tree answer, borrowed from the answer's bytes where it can be.
#[derive(Deserialize)]
struct EntryRef<'a> {
    #[serde(borrow)]
    path: Cow<'a, str>,
    #[serde(borrow)]
    mode: Cow<'a, str>,
    #[serde(borrow, rename = "type")]
    kind: Cow<'a, str>,
    #[serde(borrow)]
    sha: Cow<'a, str>,
    size: Option<u64>,
}

/// A tree listing split into what we keep (files, symlinks, submodules) and the
/// subdirectories, each with its own tree sha.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TreeListing {
    pub sha: String,
    pub files: Vec<TreeFile>,
    pub dirs: Vec<(String, String)>,
    pub truncated: bool,
    /// For a truncated listing: the directories it provably holds whole (their recomputed
    /// tree ids match, recursively; see `gitobj::complete_dirs`), re-rooted like the paths.
    pub complete: std::collections::BTreeSet<String>,
}

impl TreeListing {
    /// The part of a truncated listing that lies in provably whole directories: their
    /// files, and their subdirectories' shas. Everything else must be listed again.
    /// Taken out of the listing, not copied: a truncated listing is 100,000 entries.
    pub fn take_whole_part(&mut self) -> (Vec<TreeFile>, Vec<(String, String)>) {
        fn parent(path: &str) -> &str {
            path.rsplit_once('/').map_or("", |(p, _)| p)
        }
        let complete = &self.complete;
        let mut files = std::mem::take(&mut self.files);
        files.retain(|f| complete.contains(parent(&f.path)));
        let mut dirs = std::mem::take(&mut self.dirs);
        dirs.retain(|(p, _)| complete.contains(parent(p)) || complete.contains(p.as_str()));
        (files, dirs)
    }
}

/// Parses a tree answer (entries re-rooted under `prefix`, empty for the root tree)
/// straight into a listing: each entry is checked and kept as it is read, so the entries of
/// a 100,000-entry answer never exist twice next to its bytes (as wire structs and as the
/// listing). That is most of a first sync's peak memory.
pub fn parse_tree(body: &[u8], prefix: &str) -> Result<TreeListing, GhError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let mut listing = ListingSeed { prefix }.deserialize(&mut de).map_err(|e| GhError::Malformed(e.to_string()))?;
    de.end().map_err(|e| GhError::Malformed(e.to_string()))?;
    if listing.truncated {
        listing.complete = complete_part(&listing, prefix);
    }
    Ok(listing)
}

/// The directories a truncated listing provably holds whole (`gitobj::complete_dirs`, over
/// the listing's own entries with the prefix taken off again), re-rooted like the paths.
fn complete_part(listing: &TreeListing, prefix: &str) -> std::collections::BTreeSet<String> {
    let unroot = |p: &'_ str| -> String {
        if prefix.is_empty() {
            p.to_string()
        } else {
            p.strip_prefix(prefix).and_then(|r| r.strip_prefix('/')).unwrap_or(p).to_string()
        }
    };
    let (file_paths, dir_paths): (Vec<String>, Vec<String>) =
        (listing.files.iter().map(|f| unroot(&f.path)).collect(), listing.dirs.iter().map(|(p, _)| unroot(p)).collect());
    let files = listing.files.iter().zip(&file_paths).map(|(f, path)| ListedEntry {
        path,
        mode: f.mode.as_str(),
        sha: f.sha.as_str(),
        is_tree: false,
    });
    let dirs = listing.dirs.iter().zip(&dir_paths).map(|((_, sha), path)| ListedEntry { path, mode: "040000", sha, is_tree: true });
    let entries: Vec<ListedEntry> = files.chain(dirs).collect();
    let reroot = |d: &String| {
        if prefix.is_empty() {
            d.clone()
        } else if d.is_empty() {
            prefix.to_string()
        } else {
            format!("{prefix}/{d}")
        }
    };
    complete_dirs(&listing.sha, &entries).iter().map(reroot).collect()
}

struct ListingSeed<'p> {
    prefix: &'p str,
}

impl<'de> DeserializeSeed<'de> for ListingSeed<'_> {
    type Value = TreeListing;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<TreeListing, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ListingSeed<'_> {
    type Value = TreeListing;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a git tree")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TreeListing, A::Error> {
        let mut listing = TreeListing::default();
        let mut sha = None;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match key.as_ref() {
                "sha" => sha = Some(map.next_value::<String>()?),
                "truncated" => listing.truncated = map.next_value()?,
                "tree" => map.next_value_seed(EntriesSeed { prefix: self.prefix, listing: &mut listing })?,
                _ => map.next_value::<IgnoredAny>().map(|_| ())?,
            }
        }
        listing.sha = sha.ok_or_else(|| A::Error::missing_field("sha"))?;
        Ok(listing)
    }
}

struct EntriesSeed<'l, 'p> {
    prefix: &'p str,
    listing: &'l mut TreeListing,
}

impl<'de> DeserializeSeed<'de> for EntriesSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for EntriesSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("tree entries")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(e) = seq.next_element::<EntryRef<'de>>()? {
            keep_entry(self.listing, self.prefix, e).map_err(|e| A::Error::custom(e.to_string()))?;
        }
        Ok(())
    }
}

/// Adds one entry to the listing: a directory with its tree sha, or a file checked.
fn keep_entry(listing: &mut TreeListing, prefix: &str, e: EntryRef<'_>) -> Result<(), GhError> {
    let path = if prefix.is_empty() { e.path.into_owned() } else { format!("{prefix}/{}", e.path) };
    if e.kind == "tree" {
        listing.dirs.push((path, e.sha.into_owned()));
        return Ok(());
    }
    let mode = FileMode::parse(&e.mode).ok_or_else(|| GhError::Malformed(format!("unknown mode {} at {path}", e.mode)))?;
    let sha = CommitSha::parse(&e.sha).map_err(|e| GhError::Malformed(e.0))?;
    let size = if mode == FileMode::Submodule { None } else { Some(e.size.unwrap_or(0)) };
    listing.files.push(TreeFile { path, mode, sha, size });
    Ok(())
}

/// Rate-limit headers GitHub sends with every answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateInfo {
    pub remaining: Option<u64>,
    /// Epoch seconds at which the primary limit resets.
    pub reset_at: Option<u64>,
    /// `Retry-After` seconds (secondary limits, abuse detection).
    pub retry_after: Option<u64>,
}

/// What went wrong talking to GitHub, in terms a caller can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GhError {
    NotFound(String),
    Unauthorized,
    EmptyRepository,
    /// Primary or secondary rate limit; wait this many seconds.
    RateLimited {
        wait_secs: u64,
        secondary: bool,
    },
    /// 5xx, or a dropped connection, or a stall: worth retrying.
    Unavailable(String),
    /// An answer we could not read.
    Malformed(String),
    /// Any other refusal (422 validation failures and the like).
    Refused {
        status: u16,
        message: String,
    },
    /// No credential to send: a GitHub App installation that is suspended, deleted or
    /// cannot mint tokens (the sentence names it).
    Credential(String),
}

impl fmt::Display for GhError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GhError::NotFound(what) => write!(f, "GitHub: {what} not found"),
            GhError::Unauthorized => f.write_str("GitHub refused the token (401 Bad credentials)"),
            GhError::EmptyRepository => f.write_str("GitHub: the repository is empty"),
            GhError::RateLimited { wait_secs, secondary } => {
                write!(f, "GitHub {} rate limit reached; retry in {wait_secs} s", if *secondary { "secondary" } else { "primary" })
            }
            GhError::Unavailable(why) => write!(f, "GitHub is unavailable: {why}"),
            GhError::Malformed(why) => write!(f, "GitHub sent an answer we could not read: {why}"),
            GhError::Refused { status, message } => {
                write!(f, "GitHub refused ({status}): {message}")
            }
            GhError::Credential(why) => f.write_str(why),
        }
    }
}

impl From<GhError> for AppError {
    fn from(e: GhError) -> Self {
        match e {
            GhError::RateLimited { wait_secs, .. } => AppError::RateLimited { retry_after: wait_secs.max(1), message: e.to_string() },
            other => AppError::GitHub(other.to_string()),
        }
    }
}

#[derive(Deserialize)]
struct GhErrorBody {
    message: Option<String>,
}

/// Secondary limits without `Retry-After`: GitHub says wait at least a minute.
const SECONDARY_DEFAULT_WAIT: u64 = 60;

/// Turns a non-2xx answer into a `GhError` (`what` names the object for 404s).
pub fn classify_failure(status: u16, rate: RateInfo, body: &str, now_secs: u64, what: &str) -> GhError {
    let message = serde_json::from_str::<GhErrorBody>(body).ok().and_then(|b| b.message).unwrap_or_default();
    let lower = message.to_ascii_lowercase();
    match status {
        401 => GhError::Unauthorized,
        403 | 429 => {
            if let Some(wait) = rate.retry_after {
                GhError::RateLimited { wait_secs: wait, secondary: true }
            } else if rate.remaining == Some(0) {
                let wait = rate.reset_at.map(|r| r.saturating_sub(now_secs)).unwrap_or(60);
                GhError::RateLimited { wait_secs: wait.max(1), secondary: false }
            } else if lower.contains("secondary rate limit") || lower.contains("abuse") || status == 429 {
                GhError::RateLimited { wait_secs: SECONDARY_DEFAULT_WAIT, secondary: true }
            } else {
                GhError::Refused { status, message: non_empty(message, "forbidden") }
            }
        }
        404 => GhError::NotFound(what.to_string()),
        409 if lower.contains("empty") => GhError::EmptyRepository,
        500..=599 => GhError::Unavailable(format!("HTTP {status}")),
        _ => GhError::Refused { status, message: non_empty(message, "request refused") },
    }
}

fn non_empty(s: String, fallback: &str) -> String {
    if s.is_empty() {
        fallback.to_string()
    } else {
        s
    }
}

/// How a failed request is retried: a bounded number of attempts with exponential backoff and
/// jitter for transient faults, and waits for rate limits only when they are short.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_delay_ms: u64,
    pub max_delay_ms: u64,
    /// A rate-limit wait longer than this is not slept through: the caller gives up cleanly.
    pub max_rate_limit_wait_secs: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { max_attempts: 4, base_delay_ms: 250, max_delay_ms: 8_000, max_rate_limit_wait_secs: 20 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    RetryAfterMs(u64),
    GiveUp,
}

impl RetryPolicy {
    /// `attempt` counts from 1 (the attempt that just failed); `jitter` is uniform in [0, 1).
    pub fn decide(&self, attempt: u32, err: &GhError, jitter: f64) -> RetryDecision {
        if attempt >= self.max_attempts {
            return RetryDecision::GiveUp;
        }
        match err {
            GhError::Unavailable(_) => {
                let exp = self.base_delay_ms.saturating_mul(1u64 << (attempt - 1).min(16));
                let capped = exp.min(self.max_delay_ms);
                // "Full jitter": spread retries so that many clients do not retry in step.
                let jittered = (capped as f64 * (0.5 + jitter.clamp(0.0, 1.0) / 2.0)) as u64;
                RetryDecision::RetryAfterMs(jittered.max(1))
            }
            GhError::RateLimited { wait_secs, .. } if *wait_secs <= self.max_rate_limit_wait_secs => {
                RetryDecision::RetryAfterMs(wait_secs.saturating_mul(1000).max(1000))
            }
            _ => RetryDecision::GiveUp,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let repo = RepoName::parse("acme/widgets").unwrap();
        let br = BranchName::parse("feature/ünï").unwrap();
        assert_eq!(api_url("https://ghe.example.com/api/v3/", "/repos/a/b"), "https://ghe.example.com/api/v3/repos/a/b");
        assert_eq!(head_ref_path(&repo, &br), "/repos/acme/widgets/git/ref/heads/feature/%C3%BCn%C3%AF");
        assert_eq!(tree_path(&repo, "abc", true), "/repos/acme/widgets/git/trees/abc?recursive=1");
        assert_eq!(branches_path(&repo), "/repos/acme/widgets/branches?per_page=100");
    }

    #[test]
    fn link_headers() {
        let cases: &[(Option<&str>, Option<&str>)] = &[
            (None, None),
            (Some(""), None),
            (
                Some(r#"<https://api.github.com/x?page=2>; rel="next", <https://api.github.com/x?page=5>; rel="last""#),
                Some("https://api.github.com/x?page=2"),
            ),
            (Some(r#"<https://h/x?page=1>; rel="prev", <https://h/x?page=3>; rel="next""#), Some("https://h/x?page=3")),
            (Some(r#"<https://h/x?page=1>; rel="first", <https://h/x?page=1>; rel="prev""#), None),
        ];
        for (header, want) in cases {
            assert_eq!(next_link(*header).as_deref(), *want, "{header:?}");
        }
    }

    #[test]
    fn tree_listing_keeps_files_and_notes_dirs() {
        let sha = "a".repeat(40);
        let body = serde_json::json!({
            "sha": "t", "url": "https://api.github.com/x", "truncated": false, "tree": [
                {"path": "src", "mode": "040000", "type": "tree", "sha": sha, "url": "u"},
                {"path": "src/a.rs", "mode": "100644", "type": "blob", "sha": sha, "size": 5, "url": "u"},
                {"path": "run.sh", "mode": "100755", "type": "blob", "sha": sha, "size": 1},
                {"path": "link", "mode": "120000", "type": "blob", "sha": sha, "size": 4},
                {"path": "vendor/lib", "mode": "160000", "type": "commit", "sha": sha}
            ]
        });
        let l = parse_tree(body.to_string().as_bytes(), "root").unwrap();
        assert_eq!(l.dirs, vec![("root/src".to_string(), sha.clone())]);
        assert_eq!(l.files.len(), 4);
        assert_eq!(l.files[0].path, "root/src/a.rs");
        assert_eq!(l.files[3].mode, FileMode::Submodule);
        assert_eq!(l.files[3].size, None);
        let bad = [
            r#"{"tree": []}"#,
            r#"{"sha": "t", "tree": [{"path": "x", "mode": "100000", "type": "blob", "sha": "s"}]}"#,
            r#"{"sha": "t"} x"#,
        ];
        for body in bad {
            assert!(matches!(parse_tree(body.as_bytes(), ""), Err(GhError::Malformed(_))), "{body}");
        }
    }

    #[test]
    fn failures_are_classified() {
        let none = RateInfo::default();
        let now = 1_000;
        let cases: Vec<(u16, RateInfo, &str, GhError)> = vec![
            (401, none, r#"{"message":"Bad credentials"}"#, GhError::Unauthorized),
            (404, none, r#"{"message":"Not Found"}"#, GhError::NotFound("repo".into())),
            (409, none, r#"{"message":"Git Repository is empty."}"#, GhError::EmptyRepository),
            (503, none, "", GhError::Unavailable("HTTP 503".into())),
            (
                403,
                RateInfo { remaining: Some(0), reset_at: Some(1_042), retry_after: None },
                r#"{"message":"API rate limit exceeded"}"#,
                GhError::RateLimited { wait_secs: 42, secondary: false },
            ),
            (
                403,
                RateInfo { remaining: Some(10), reset_at: None, retry_after: Some(7) },
                r#"{"message":"You have exceeded a secondary rate limit"}"#,
                GhError::RateLimited { wait_secs: 7, secondary: true },
            ),
            (
                429,
                none,
                r#"{"message":"You have exceeded a secondary rate limit"}"#,
                GhError::RateLimited { wait_secs: 60, secondary: true },
            ),
            (
                403,
                RateInfo { remaining: Some(10), ..none },
                r#"{"message":"Resource not accessible"}"#,
                GhError::Refused { status: 403, message: "Resource not accessible".into() },
            ),
        ];
        for (status, rate, body, want) in cases {
            assert_eq!(classify_failure(status, rate, body, now, "repo"), want, "{status} {body}");
        }
    }

    #[test]
    fn retry_policy() {
        let p = RetryPolicy::default();
        let unavailable = GhError::Unavailable("x".into());
        assert_eq!(p.decide(1, &unavailable, 0.0), RetryDecision::RetryAfterMs(125));
        assert_eq!(p.decide(2, &unavailable, 0.999_999), RetryDecision::RetryAfterMs(499));
        assert_eq!(p.decide(4, &unavailable, 0.5), RetryDecision::GiveUp);
        let short = GhError::RateLimited { wait_secs: 3, secondary: true };
        assert_eq!(p.decide(1, &short, 0.5), RetryDecision::RetryAfterMs(3000));
        let long = GhError::RateLimited { wait_secs: 3600, secondary: false };
        assert_eq!(p.decide(1, &long, 0.5), RetryDecision::GiveUp);
        assert_eq!(p.decide(1, &GhError::NotFound("x".into()), 0.5), RetryDecision::GiveUp);
    }

    #[test]
    fn rate_limits_become_429_and_others_422() {
        let (s, b) = AppError::from(GhError::RateLimited { wait_secs: 9, secondary: false }).to_http();
        assert_eq!((s, b["error"]["retryAfter"].as_u64()), (429, Some(9)));
        assert_eq!(AppError::from(GhError::Unauthorized).status(), 422);
        assert_eq!(AppError::from(GhError::EmptyRepository).status(), 422);
    }
}
