//! Files: the views of a state's files, a path's history, the memory entries and the
//! changes a sync made.

use super::Page;
use crate::content::skipped_for_api;
use crate::domain::{ObjectSha, SyncId};
use crate::rows::{ChangeKind, ChangeReason, FileHistoryRow, FileRow, StoredChange};
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
    /// The version, as `/files` shows a file.
    #[serde(flatten)]
    pub file: FileView,
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
    pub change: ChangeKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_path: Option<String>,
    pub sha: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_sha: Option<String>,
    /// `"filtered"` when a filter change, not the branch, added or removed the path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<ChangeReason>,
    /// A rename's similarity to its previous path, 0 to 100 (100: the same blob); only on
    /// `renamed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub similarity: Option<u8>,
}

impl From<&StoredChange> for ChangeView {
    fn from(c: &StoredChange) -> ChangeView {
        ChangeView {
            path: c.path.clone(),
            change: c.change,
            previous_path: c.previous_path.clone(),
            sha: c.sha.to_string(),
            previous_sha: c.previous_sha.as_ref().map(ObjectSha::to_string),
            reason: c.reason,
            similarity: c.similarity,
        }
    }
}

/// `/syncs/{id}/changes`: a page of changes, and `renameLimitExceeded: true` when git's
/// rename limit stopped that sync's search for renames with edits. Only then: a list is
/// `{items, nextCursor}` everywhere, and this one says more only when there is something to
/// warn of (the sync itself always says it, as `renameLimitExceeded`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangesPage {
    #[serde(flatten)]
    pub page: Page<ChangeView>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub rename_limit_exceeded: bool,
}

impl From<&FileRow> for FileView {
    fn from(row: &FileRow) -> FileView {
        FileView {
            path: row.path.clone(),
            mode: row.mode.clone(),
            kind: row.kind.clone(),
            sha: row.sha.to_string(),
            size: row.size,
            sync_id: row.sync_id.to_string(),
            content_skipped: skipped_for_api(row.content_skipped.as_deref()),
        }
    }
}

impl From<&FileHistoryRow> for FileHistoryView {
    fn from(row: &FileHistoryRow) -> FileHistoryView {
        FileHistoryView {
            file: FileView::from(&row.file),
            superseded_by_sync_id: row.superseded_by_sync_id.as_ref().map(SyncId::to_string),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::Change;
    use serde_json::json;

    #[test]
    fn changes_read_as_the_changes_endpoint_writes_them() {
        use crate::diff::FileEntry;
        use crate::domain::{FileKind, FileMode};
        let entry = |path: &str, sha: char| FileEntry {
            path: path.into(),
            mode: FileMode::Regular,
            kind: FileKind::File,
            sha: ObjectSha::parse(&sha.to_string().repeat(40)).unwrap(),
            size: Some(1),
        };
        let view = |c: Change| serde_json::to_value(ChangeView::from(&StoredChange::from(&c))).unwrap();
        let (a, b) = ("a".repeat(40), "b".repeat(40));
        assert_eq!(view(Change::Added { new: entry("x", 'a') }), serde_json::json!({"path": "x", "change": "added", "sha": a}));
        assert_eq!(view(Change::Removed { old: entry("x", 'a') }), serde_json::json!({"path": "x", "change": "removed", "sha": a}));
        assert_eq!(
            view(Change::Modified { old: entry("x", 'a'), new: entry("x", 'b') }),
            serde_json::json!({"path": "x", "change": "modified", "sha": b, "previousSha": a})
        );
        assert_eq!(
            view(Change::Renamed { old: entry("x", 'a'), new: entry("y", 'a'), similarity: 100 }),
            serde_json::json!({"path": "y", "change": "renamed", "previousPath": "x", "sha": a, "previousSha": a, "similarity": 100})
        );
        assert_eq!(
            view(Change::Renamed { old: entry("x", 'a'), new: entry("y", 'b'), similarity: 87 }),
            serde_json::json!({"path": "y", "change": "renamed", "previousPath": "x", "sha": b, "previousSha": a, "similarity": 87})
        );
    }

    /// Dry runs stored their changes in the `ChangeView` shape (and `dry_run_changes` reads back
    /// with those names): today's JSON parses into the storage type, and shows as it did.
    #[test]
    fn stored_changes_read_as_they_were_written() {
        let (a, b) = ("a".repeat(40), "b".repeat(40));
        for today in [
            json!({"path": "x", "change": "added", "sha": a}),
            json!({"path": "x", "change": "added", "sha": a, "reason": "filtered"}),
            json!({"path": "x", "change": "removed", "previousPath": null, "sha": a, "previousSha": null, "reason": null}),
            json!({"path": "x", "change": "modified", "sha": b, "previousSha": a}),
            json!({"path": "y", "change": "renamed", "previousPath": "x", "sha": a, "previousSha": a}),
            json!({"path": "y", "change": "renamed", "previousPath": "x", "sha": b, "previousSha": a, "similarity": 87}),
            json!({"path": "y", "change": "renamed", "previousPath": "x", "sha": a, "previousSha": a, "similarity": 100, "reason": null}),
        ] {
            let stored: StoredChange = serde_json::from_value(today.clone()).expect("today's JSON parses");
            let shown = serde_json::to_value(ChangeView::from(&stored)).unwrap();
            let without_nulls: serde_json::Map<_, _> =
                today.as_object().unwrap().iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), v.clone())).collect();
            assert_eq!(shown, serde_json::Value::Object(without_nulls));
        }
        assert!(serde_json::from_value::<StoredChange>(json!({"path": "x", "change": "copied", "sha": a})).is_err());
    }

    /// A sync's changes page is the list every page is, and warns of a limited rename search
    /// only when there was one.
    #[test]
    fn a_changes_page_says_the_rename_limit_only_when_it_stopped_the_search() {
        let page = |limited| {
            let items = vec![ChangeView::from(
                &serde_json::from_value::<StoredChange>(json!({"path": "x", "change": "added", "sha": "a".repeat(40)})).unwrap(),
            )];
            serde_json::to_value(ChangesPage { page: Page { items, next_cursor: None }, rename_limit_exceeded: limited }).unwrap()
        };
        let item = json!({"path": "x", "change": "added", "sha": "a".repeat(40)});
        assert_eq!(page(false), json!({"items": [item], "nextCursor": null}));
        assert_eq!(page(true), json!({"items": [item], "nextCursor": null, "renameLimitExceeded": true}));
    }

    /// A version in a path's history is the file as `/files` shows it, plus the sync that
    /// replaced it: the same field names, in the same order, as the endpoint always wrote.
    #[test]
    fn a_history_entry_is_a_file_and_what_replaced_it() {
        let a = "a".repeat(40);
        let row: FileHistoryRow = serde_json::from_value(json!({
            "path": "src/x.rs", "mode": "100644", "kind": "file", "sha": a, "size": 3, "sync_id": "s-1",
            "content_skipped": null, "superseded_by_sync_id": "s-2", "introduced_seq": 1
        }))
        .unwrap();
        let shown = serde_json::to_string(&FileHistoryView::from(&row)).unwrap();
        let expected = format!(
            r#"{{"path":"src/x.rs","mode":"100644","kind":"file","sha":"{a}","size":3,"syncId":"s-1","contentSkipped":null,"supersededBySyncId":"s-2"}}"#
        );
        assert_eq!(shown, expected);
    }
}
