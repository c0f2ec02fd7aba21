//! GitHub's wire types. A tree answer is read as it streams (`tree/reader.rs`).

use serde::Deserialize;

mod reader;
pub use reader::*;

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
