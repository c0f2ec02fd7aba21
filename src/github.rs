//! GitHub REST, without I/O: URLs and pagination links here; the wire types and the tree
//! answer's streaming parse (`tree`); failures, rate limits and the retry policy (`failure`).
//! The HTTP adapters (`shell::adapters::github_transport`, `github`) only move bytes.

mod failure;
mod tree;

pub use failure::*;
pub use tree::*;

use crate::domain::{BranchName, RepoName};

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

#[cfg(test)]
mod tests;
