//! `file_versions` as the API reads them: the files active at a chain position, a path's
//! history, and what a sync changed. (The engine's writes are in `engine_store`.)

use super::{n, s, Db, DbError, DbResult};
use crate::api::{ChangeView, FileHistoryView, FileView};
use crate::diff::FileEntry;
use serde::Deserialize;

/// A version is active at chain position ?2 when introduced at or before it and not
/// superseded by then.
pub(super) const VISIBLE_AT: &str = "introduced_seq <= ?2 AND (superseded_seq IS NULL OR superseded_seq > ?2)";

#[derive(Debug, Clone, Deserialize)]
pub(super) struct FileRow {
    pub path: String,
    pub mode: String,
    pub kind: String,
    pub sha: String,
    pub size: Option<u64>,
    pub sync_id: String,
    #[serde(default)]
    pub content_skipped: Option<String>,
}

/// The columns of a `FileRow`.
const FILE_COLUMNS: &str = "path, mode, kind, sha, size, introduced_sync_id AS sync_id, content_skipped";

impl FileRow {
    fn view(self) -> FileView {
        let content_skipped = crate::content::skipped_for_api(self.content_skipped.as_deref());
        FileView {
            path: self.path,
            mode: self.mode,
            kind: self.kind,
            sha: self.sha,
            size: self.size,
            sync_id: self.sync_id,
            content_skipped,
        }
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
}

impl Db {
    /// Files active right after the sync at `seq`, under `prefix`, in path order after `after`.
    pub async fn files_at_seq(&self, project: &str, seq: u64, prefix: &str, after: &str, limit: u32) -> DbResult<Vec<FileView>> {
        let rows: Vec<FileRow> = self
            .all(
                &format!(
                    "SELECT {FILE_COLUMNS} FROM file_versions \
                     WHERE project_id = ?1 AND {VISIBLE_AT} AND path > ?3 AND path >= ?4 \
                     AND substr(path, 1, length(?4)) = ?4 ORDER BY path LIMIT ?5"
                ),
                &[s(project), n(seq), s(after), s(prefix), n(u64::from(limit))],
            )
            .await?;
        Ok(rows.into_iter().map(FileRow::view).collect())
    }

    /// The version of `path` active at `seq`, with where its text is kept (`scope`: the
    /// repository's content scope). One query.
    pub async fn content_at_seq(&self, project: &str, seq: u64, path: &str, scope: &str) -> DbResult<Option<ContentRow>> {
        self.first(
            &format!(
                "SELECT f.kind, f.sha, f.size, \
                   CASE WHEN b.status = 'text' AND f.content_skipped IS NULL THEN b.pack END AS pack, \
                   CASE WHEN b.status = 'text' AND f.content_skipped IS NULL THEN b.pack_offset END AS pack_offset \
                 FROM file_versions f LEFT JOIN blob_contents b ON b.repository = ?4 AND b.sha = f.sha \
                 WHERE f.project_id = ?1 AND f.path = ?3 AND {VISIBLE_AT}"
            ),
            &[s(project), n(seq), s(path), s(scope)],
        )
        .await
    }

    /// What differs between the states at chain positions `lo` < `hi`: the versions active
    /// at `lo` that a sync in between superseded, and the versions active at `hi` that a
    /// sync in between introduced. Read through the syncs in between (their indexes), so
    /// the cost follows what changed, not the size of the state.
    pub async fn compare_sides(&self, project: &str, lo: u64, hi: u64) -> DbResult<(Vec<FileEntry>, Vec<FileEntry>)> {
        #[derive(Deserialize)]
        struct Row {
            #[serde(flatten)]
            file: FileRow,
            side: String,
        }
        let between = "SELECT id FROM syncs WHERE project_id = ?1 AND seq > ?2 AND seq <= ?3";
        let rows: Vec<Row> = self
            .all(
                &format!(
                    "SELECT {FILE_COLUMNS}, 'hi' AS side FROM file_versions \
                     WHERE project_id = ?1 AND introduced_sync_id IN ({between}) AND (superseded_seq IS NULL OR superseded_seq > ?3) \
                     UNION ALL \
                     SELECT {FILE_COLUMNS}, 'lo' AS side FROM file_versions \
                     WHERE project_id = ?1 AND superseded_by_sync_id IS NOT NULL AND superseded_by_sync_id IN ({between}) \
                     AND introduced_seq <= ?2"
                ),
                &[s(project), n(lo), n(hi)],
            )
            .await?;
        let (mut at_lo, mut at_hi) = (Vec::new(), Vec::new());
        for row in rows {
            let entry = row.file.entry().map_err(|e| DbError::Other(e.to_string()))?;
            if row.side == "lo" {
                at_lo.push(entry);
            } else {
                at_hi.push(entry);
            }
        }
        Ok((at_lo, at_hi))
    }

    /// Every committed version of a path, newest first, introduced before chain position
    /// `before`, each with its position (the page key). Marks of a sync still running are
    /// hidden.
    pub async fn file_history(
        &self,
        project: &str,
        current_seq: u64,
        path: &str,
        before: u64,
        limit: u32,
    ) -> DbResult<Vec<(FileHistoryView, u64)>> {
        #[derive(Deserialize)]
        struct Row {
            #[serde(flatten)]
            file: FileRow,
            superseded_by_sync_id: Option<String>,
            introduced_seq: u64,
        }
        let rows: Vec<Row> = self
            .all(
                "SELECT path, mode, kind, sha, size, introduced_sync_id AS sync_id, content_skipped, introduced_seq, \
                 CASE WHEN superseded_seq <= ?2 THEN superseded_by_sync_id END AS superseded_by_sync_id \
                 FROM file_versions WHERE project_id = ?1 AND path = ?3 AND introduced_seq <= ?2 AND introduced_seq < ?4 \
                 ORDER BY introduced_seq DESC LIMIT ?5",
                &[s(project), n(current_seq), s(path), n(before), n(u64::from(limit))],
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let f = r.file;
                let view = FileHistoryView {
                    path: f.path,
                    mode: f.mode,
                    kind: f.kind,
                    sha: f.sha,
                    size: f.size,
                    sync_id: f.sync_id,
                    content_skipped: crate::content::skipped_for_api(f.content_skipped.as_deref()),
                    superseded_by_sync_id: r.superseded_by_sync_id,
                };
                (view, r.introduced_seq)
            })
            .collect())
    }

    /// What a completed sync changed, derived from the versions it introduced and
    /// superseded, in path order after `after`. Those never change once it completed, so
    /// the pages of one sync are one snapshot.
    pub async fn changes(&self, sync: &str, after: &str, limit: u32) -> DbResult<Vec<ChangeView>> {
        self.all(
            "SELECT * FROM ( \
               SELECT n.path AS path, \
                 CASE WHEN n.previous_path IS NOT NULL THEN 'renamed' WHEN o.path IS NOT NULL THEN 'modified' ELSE 'added' END AS change, \
                 n.previous_path AS previousPath, n.sha AS sha, o.sha AS previousSha \
               FROM file_versions n \
               LEFT JOIN file_versions o ON o.superseded_by_sync_id = n.introduced_sync_id \
                 AND o.project_id = n.project_id AND o.path = COALESCE(n.previous_path, n.path) \
               WHERE n.introduced_sync_id = ?1 \
               UNION ALL \
               SELECT o.path, 'removed', NULL, o.sha, NULL FROM file_versions o \
               WHERE o.superseded_by_sync_id = ?1 AND NOT EXISTS ( \
                 SELECT 1 FROM file_versions n WHERE n.introduced_sync_id = ?1 AND n.project_id = o.project_id \
                 AND (n.path = o.path OR n.previous_path = o.path)) \
             ) WHERE path > ?2 ORDER BY path LIMIT ?3",
            &[s(sync), s(after), n(u64::from(limit))],
        )
        .await
    }

    /// What a dry run found, in path order after `after` (written once, before it completed).
    pub async fn preview_changes(&self, sync: &str, after: &str, limit: u32) -> DbResult<Vec<ChangeView>> {
        self.all(
            "SELECT path, change, previous_path AS previousPath, sha, previous_sha AS previousSha, reason \
             FROM dry_run_changes WHERE sync_id = ?1 AND path > ?2 ORDER BY path LIMIT ?3",
            &[s(sync), s(after), n(u64::from(limit))],
        )
        .await
    }
}
