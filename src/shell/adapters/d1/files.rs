//! `file_versions` as the API reads them: the files active at a chain position, a path's
//! history, and what a sync changed. (The engine's writes are in `engine_store`.)

use super::{n, s, Db, DbResult, PROJECT_NO};
use crate::diff::FileEntry;
use crate::domain::{FileKind, FileMode, ObjectSha, ProjectId, SyncId};
use crate::engine::StoreError;
use crate::merge::{merge_page, Keyed, Pair};
pub(super) use crate::rows::FileRow;
use crate::rows::{FileHistoryRow, StoredChange};
use serde::Deserialize;

/// A version is active at chain position ?2 when introduced at or before it and not
/// superseded by then.
pub(super) const VISIBLE_AT: &str = "introduced_seq <= ?2 AND (superseded_seq IS NULL OR superseded_seq > ?2)";

/// The columns of a `FileRow`.
const FILE_COLUMNS: &str = "path, mode, kind, sha, size, introduced_sync_id AS sync_id, content_skipped";

/// The columns of an `EntryRow`, on the version rows of `f`.
pub(super) const ENTRY_COLUMNS: &str = "f.path, f.mode, f.kind, f.sha, f.size";

/// A version as the engine and the compare read it: what the file is, not which sync
/// brought it.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct EntryRow {
    pub(super) path: String,
    mode: String,
    kind: String,
    sha: ObjectSha,
    size: Option<u64>,
}

impl EntryRow {
    pub(super) fn entry(self) -> Result<FileEntry, StoreError> {
        let bad = |what: &str| StoreError::Other(format!("stored {what} of {} is invalid", self.path));
        Ok(FileEntry {
            mode: FileMode::parse(&self.mode).ok_or_else(|| bad("mode"))?,
            kind: FileKind::parse(&self.kind).ok_or_else(|| bad("kind"))?,
            sha: self.sha,
            size: self.size,
            path: self.path,
        })
    }
}

/// One version and where its kept text is, if any (`GET /files/content`).
#[derive(Debug, Clone, Deserialize)]
pub struct ContentRow {
    pub kind: String,
    pub sha: String,
    pub size: Option<u64>,
    /// The pack and offset of its text, when the service keeps it.
    pub pack: Option<String>,
    pub pack_offset: Option<u64>,
    /// Why no text is kept, as stored (`crate::content::skipped_for_api` says it).
    pub content_skipped: Option<String>,
}

impl Db {
    /// Files active right after the sync at `seq`, under `prefix`, in path order after `after`.
    /// Both ends of the prefix bound the key range (no UTF-8 text has the byte 0xFF), so a
    /// page past the prefix's last file reads nothing beyond it.
    pub async fn files_at_seq(&self, project: &ProjectId, seq: u64, prefix: &str, after: &str, limit: u32) -> DbResult<Vec<FileRow>> {
        // One lower bound (SQLite ranges an index on one of two and filters by the other,
        // which would read every earlier page of the prefix again).
        let lower = if after >= prefix { "path > ?3" } else { "path >= ?3" };
        self.all(
            &format!(
                "SELECT {FILE_COLUMNS} FROM file_versions \
                     WHERE project_no = {PROJECT_NO} AND {VISIBLE_AT} AND {lower} \
                     AND path < ?4 || CAST(X'FF' AS TEXT) ORDER BY path LIMIT ?5"
            ),
            &[s(project), n(seq), s(after.max(prefix)), s(prefix), n(u64::from(limit))],
        )
        .await
    }

    /// The version of `path` active at `seq`, with where its text is kept (`scope`: the
    /// repository's content scope). One query.
    pub async fn content_at_seq(&self, project: &ProjectId, seq: u64, path: &str, scope: &str) -> DbResult<Option<ContentRow>> {
        self.first(
            &format!(
                "SELECT f.kind, f.sha, f.size, \
                   CASE WHEN b.status = 'text' AND f.content_skipped IS NULL THEN p.key END AS pack, \
                   CASE WHEN b.status = 'text' AND f.content_skipped IS NULL THEN b.pack_offset END AS pack_offset, \
                   f.content_skipped \
                 FROM file_versions f LEFT JOIN blob_contents b ON b.repository = ?4 AND b.sha = f.sha \
                 LEFT JOIN packs p ON p.id = b.pack_id \
                 WHERE f.project_no = {PROJECT_NO} AND f.path = ?3 AND {VISIBLE_AT}"
            ),
            &[s(project), n(seq), s(path), s(scope)],
        )
        .await
    }

    /// Every committed version of a path, newest first, introduced before chain position
    /// `before`, each with its position (the page key): the primary key's own order, so a
    /// page reads its own rows. Rows and marks of a sync still running are hidden.
    pub async fn file_history(
        &self,
        project: &ProjectId,
        current_seq: u64,
        path: &str,
        before: u64,
        limit: u32,
    ) -> DbResult<Vec<FileHistoryRow>> {
        // One upper bound (SQLite ranges an index on one of two, and filters by the other).
        let below = before.min(current_seq + 1);
        self.all(
            &format!(
                "SELECT {FILE_COLUMNS}, introduced_seq, \
                   CASE WHEN superseded_seq <= ?2 THEN superseded_by_sync_id END AS superseded_by_sync_id \
                 FROM file_versions WHERE project_no = {PROJECT_NO} AND path = ?3 AND introduced_seq < ?4 \
                 ORDER BY introduced_seq DESC LIMIT ?5"
            ),
            &[s(project), n(current_seq), s(path), n(below), n(u64::from(limit))],
        )
        .await
    }

    /// What a completed sync (at chain position `seq`) changed, derived from the versions
    /// it introduced and superseded, in path order after `after`: one window of at most
    /// `limit` rows of each (in path order through the position indexes, named: the primary
    /// key's `project_no` prefix would read the whole project), merged up to the path both
    /// reached (`crate::merge`), so a page reads in proportion to it whatever the sync
    /// changed. The changes, and the last path the window covers (`None`: the end). Those
    /// rows never change once the sync completed, so the pages of one sync are one snapshot.
    pub async fn changes_window(
        &self,
        project: &ProjectId,
        seq: u64,
        after: &str,
        limit: u32,
    ) -> DbResult<(Vec<StoredChange>, Option<String>)> {
        let (index, by_seq) = introduced_by(seq, "n");
        let args = [s(project), n(seq), s(after), n(u64::from(limit))];
        let introduced = self.stmt(
            &format!(
                "SELECT n.path AS path, \
                   CASE WHEN n.previous_path IS NOT NULL THEN 'renamed' WHEN o.path IS NOT NULL THEN 'modified' ELSE 'added' END AS change, \
                   n.previous_path AS previousPath, n.sha AS sha, o.sha AS previousSha, n.similarity AS similarity \
                 FROM file_versions n {index} \
                 LEFT JOIN file_versions o INDEXED BY file_versions_superseded ON o.project_no = n.project_no \
                   AND o.superseded_seq = n.introduced_seq AND o.path = COALESCE(n.previous_path, n.path) \
                 WHERE n.project_no = {PROJECT_NO} AND n.introduced_seq = ?2 AND {by_seq} AND n.path > ?3 ORDER BY n.path LIMIT ?4"
            ),
            &args,
        )?;
        // Superseded paths, each saying whether it is no removal (the sync introduced its
        // path again, or renamed it).
        let superseded = self.stmt(
            &format!(
                "SELECT o.path AS path, 'removed' AS change, NULL AS previousPath, o.sha AS sha, NULL AS previousSha, \
                   (EXISTS (SELECT 1 FROM file_versions n WHERE n.project_no = o.project_no AND n.path = o.path AND n.introduced_seq = ?2) \
                    OR EXISTS (SELECT 1 FROM file_versions n INDEXED BY file_versions_renamed_from \
                      WHERE n.project_no = o.project_no AND n.introduced_seq = ?2 AND n.previous_path = o.path)) AS kept \
                 FROM file_versions o INDEXED BY file_versions_superseded \
                 WHERE o.project_no = {PROJECT_NO} AND o.superseded_seq = ?2 AND o.path > ?3 ORDER BY o.path LIMIT ?4"
            ),
            &args,
        )?;
        let mut pages = self.batch_all::<ChangeRow>(vec![introduced, superseded]).await?.into_iter();
        let (new, old) = (pages.next().unwrap_or_default(), pages.next().unwrap_or_default());
        let full = |page: &[ChangeRow]| page.len() as u32 >= limit;
        let merged = merge_page(&old, !full(&old), &new, !full(&new));
        let changes = merged
            .pairs
            .into_iter()
            .filter_map(|pair| match pair {
                Pair::Both { wanted, .. } | Pair::WantedOnly(wanted) => Some(wanted.change),
                Pair::HeldOnly(old) => (old.kept != Some(1)).then_some(old.change),
            })
            .collect();
        Ok((changes, merged.through))
    }

    /// What a dry run found, in path order after `after` (written once, before it completed).
    pub async fn preview_changes(&self, sync: &SyncId, after: &str, limit: u32) -> DbResult<Vec<StoredChange>> {
        self.all(
            "SELECT path, change, previous_path AS previousPath, sha, previous_sha AS previousSha, reason, similarity \
             FROM dry_run_changes WHERE sync_id = ?1 AND path > ?2 ORDER BY path LIMIT ?3",
            &[s(sync), s(after), n(u64::from(limit))],
        )
        .await
    }
}

/// How the file versions a sync at chain position `seq` introduced are found (alias `t`):
/// the index to name after the table and its alias, and the condition to add. A first
/// sync's rows (position 1) are its whole state, read through the primary key; a later
/// sync's through `file_versions_introduced`, which leaves first syncs' rows out (it cost a
/// D1 row and ~105 bytes a file of every first sync). Directories have no such index.
pub(super) fn introduced_by(seq: u64, t: &str) -> (String, String) {
    if seq == 1 {
        (String::new(), format!("{t}.introduced_seq = 1"))
    } else {
        ("INDEXED BY file_versions_introduced".into(), format!("{t}.introduced_seq > 1"))
    }
}

/// A row of a sync's changes window: a change, or a superseded path that is none (`kept`).
#[derive(Debug, Clone, Deserialize)]
struct ChangeRow {
    #[serde(flatten)]
    change: StoredChange,
    #[serde(default)]
    kept: Option<u8>,
}

impl Keyed for ChangeRow {
    fn key(&self) -> &str {
        &self.change.path
    }
}
