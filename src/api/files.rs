//! Files: the views of a state's files, a path's history, the memory entries and the
//! changes a sync made.

use serde::Serialize;

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
}
