//! The statements the engine's store sends, and their arguments: the fence every staging
//! and committing write carries, the span queries of a state, bulk writes as JSON chunks,
//! supersede marks, the discard of what ended syncs left, a sync's outcome columns.

use super::EngineStore;
use crate::domain::{CommitSha, ProjectId, SyncId, SyncStatus};
use crate::engine::{Job, StoreError};
use crate::merge::Span;
use crate::shell::adapters::d1::files::{introduced_by, VISIBLE_AT};
use crate::shell::adapters::d1::{n, s, DbError, PROJECT_NO, RUNNING_STATUSES};
use crate::sqlbatch::{json_chunks, DEFAULT_CHUNK_BYTES, DEFAULT_CHUNK_ROWS};
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::D1PreparedStatement;

/// Rows one `discard_ended` statement removes at most (statements stay short).
pub(super) const DISCARD_BATCH: u64 = 5_000;

/// Syncs of project ?1 that ended without completing and whose rows are not discarded yet
/// (a discard marks exactly those it found, never one that ended while it ran).
pub(super) const ENDED_UNDISCARDED: &str =
    "SELECT id FROM syncs WHERE project_id = ?1 AND discarded = 0 AND status IN ('FAILED', 'CANCELLED')";

/// No sync of project `?{project}` but `?{caller}` (the one discarding) is queued or
/// running: a running sync discards before it stages, and what it then stages lies where
/// leftovers would.
pub(super) fn no_other_running(project: u8, caller: u8) -> String {
    format!("NOT EXISTS (SELECT 1 FROM syncs r WHERE r.project_id = ?{project} AND r.id <> ?{caller} AND r.status IN {RUNNING_STATUSES})")
}

/// The counts and stats columns of a sync row, and whether the rename limit stopped its
/// search for renames with edits, bound as ?7 to ?17 by `outcome_args`.
pub(super) const OUTCOME_SET: &str = "added = ?7, modified = ?8, removed = ?9, unchanged = ?10, renamed = ?11, \
     github_requests = ?12, github_not_modified = ?13, d1_rows_written = ?14, bytes_downloaded = ?15, duration_ms = ?16, \
     renames_limited = ?17";

pub(super) fn outcome_args(job: &Job) -> Vec<JsValue> {
    let (c, st) = (job.counts, job.stats);
    [c.added, c.modified, c.removed, c.unchanged, c.renamed]
        .into_iter()
        .chain([st.github_requests, st.github_not_modified, st.d1_rows_written, st.bytes_downloaded, st.duration_ms])
        .chain([u64::from(job.renames_limited)])
        .map(n)
        .collect()
}

/// Files, file counts and directories of project ?1 active at chain position ?2.
pub(super) const FILES_IN: &str = "SELECT path, mode, kind, sha, size FROM file_versions";
pub(super) const COUNT_IN: &str = "SELECT count(*) AS n, sum(size) AS bytes FROM file_versions";
pub(super) const DIRS_IN: &str = "SELECT path, sha FROM dir_versions";

/// `select` restricted to one span of a project's state (`Span::condition`: both bounds
/// usable by the primary key), in path order with a limit when `paged`.
pub(super) fn span_query(select: &str, span: &Span, paged: bool) -> String {
    let (within, bounds) = span.condition("path", 3);
    let page = if paged { format!(" ORDER BY path LIMIT ?{}", 3 + bounds.len()) } else { String::new() };
    format!("{select} WHERE project_no = {PROJECT_NO} AND {VISIBLE_AT} AND {within}{page}")
}

/// The arguments of `span_query`: ?1 project, ?2 seq, the span's bounds, then the limit.
pub(super) fn span_args(project: &ProjectId, seq: u64, span: &Span, limit: Option<u32>) -> Vec<JsValue> {
    let mut args = vec![s(project.as_str()), n(seq)];
    args.extend(span.condition("path", 3).1.into_iter().map(s));
    args.extend(limit.map(|l| n(u64::from(l))));
    args
}

/// The condition that fences a write: sync `?{param}` is still queued or running.
pub(super) fn fence(param: u8) -> String {
    format!("EXISTS (SELECT 1 FROM syncs WHERE id = ?{param} AND status IN {RUNNING_STATUSES})")
}

/// A blob row as the insert reads it: sha, status, size, chunk starts, and its offset in
/// the write's pack (`None`: not in it).
pub(super) type BlobArgs<'a> = (&'a str, &'static str, u64, String, Option<u64>);

/// A new version as the insert reads it: path, mode, kind, sha, size, previous path and
/// similarity (renames only).
pub(super) type VersionArgs<'a> = (&'a str, &'a str, &'a str, &'a str, Option<u64>, Option<&'a str>, Option<u8>);

#[derive(Deserialize)]
pub(super) struct HeadRow {
    pub(super) current_sync_id: Option<SyncId>,
    pub(super) current_seq: u64,
    pub(super) current_commit_sha: Option<CommitSha>,
    /// The current sync's recorded filter (JSON).
    pub(super) path_filter: Option<String>,
}

/// A dry run's change as the insert reads it: path, change, previous path, sha, previous
/// sha, reason, similarity.
pub(super) type PreviewArgs<'a> = (&'a str, &'a str, Option<&'a str>, &'a str, Option<&'a str>, Option<&'a str>, Option<u8>);

/// What the row of a sync says, for writes that found it not running.
#[derive(Deserialize)]
pub(super) struct StatusRow {
    pub(super) status: SyncStatus,
    pub(super) error: Option<String>,
    pub(super) current_sync_id: Option<SyncId>,
}

impl EngineStore<'_> {
    /// One statement per JSON chunk of `rows`; the chunk is the last parameter, after `fixed`.
    pub(super) fn bulk<T: serde::Serialize>(
        &self,
        sql: &str,
        fixed: &[JsValue],
        rows: &[T],
    ) -> Result<Vec<D1PreparedStatement>, StoreError> {
        json_chunks(rows, DEFAULT_CHUNK_BYTES, DEFAULT_CHUNK_ROWS)
            .map_err(|e| StoreError::Other(e.to_string()))?
            .into_iter()
            .map(|chunk| {
                let mut args = fixed.to_vec();
                args.push(s(&chunk));
                Ok(self.db.stmt(sql, &args)?)
            })
            .collect()
    }

    /// The ledger rows of `pack` (`crate::pack::Pack::ledger_parts`): each part's blob rows
    /// that point into the pack, by row id, written only when there are some (a batch whose
    /// blobs were all stored before wrote an object nothing uses). Every write of a part
    /// rewrites its row: a blob row swept and stored again since has a new id.
    pub(super) fn pack_ledger(&self, scope: &str, pack: &crate::pack::Pack) -> Result<Vec<D1PreparedStatement>, StoreError> {
        pack.ledger_parts()
            .into_iter()
            .map(|(part, shas)| {
                let list = serde_json::to_string(&shas).map_err(|e| StoreError::Other(e.to_string()))?;
                Ok(self.db.stmt(
                    "INSERT INTO pack_blobs (pack_id, part, ids) \
                     SELECT p.id, ?2, json_group_array(b.id) FROM packs p CROSS JOIN json_each(?4) j \
                     CROSS JOIN blob_contents b ON b.repository = ?3 AND b.sha = j.value AND b.pack_id = p.id \
                     WHERE p.key = ?1 GROUP BY p.id \
                     ON CONFLICT (pack_id, part) DO UPDATE SET ids = excluded.ids",
                    &[s(&pack.key), n(u64::from(part)), s(scope), s(&list)],
                )?)
            })
            .collect()
    }

    /// Marks the head versions of `paths` in a versioned table as superseded by `job`.
    pub(super) fn supersede(&self, table: &str, job: &Job, paths: &[&str]) -> Result<Vec<D1PreparedStatement>, StoreError> {
        // File versions name the sync too (the views show it); directories do not.
        let by = if table == "file_versions" { ", superseded_by_sync_id = ?3" } else { "" };
        self.bulk(
            &format!(
                "UPDATE {table} SET superseded_seq = ?2{by} \
                 WHERE project_no = {PROJECT_NO} AND superseded_seq IS NULL AND introduced_seq < ?2 \
                 AND path IN (SELECT value FROM json_each(?4)) AND {}",
                fence(3)
            ),
            &[s(&job.project_id), n(job.new_seq()), s(&job.sync_id)],
            paths,
        )
    }

    /// The row of `sync` with the project's chain head; `None` when the project is gone.
    pub(super) async fn status_of(&self, sync: &SyncId) -> Result<Option<StatusRow>, StoreError> {
        Ok(self
            .db
            .first(
                "SELECT s.status, s.error, p.current_sync_id FROM syncs s JOIN projects p ON p.id = s.project_id WHERE s.id = ?1",
                &[s(sync.as_str())],
            )
            .await?)
    }

    /// Deletes (or, with `unmark`, un-supersedes) at most `DISCARD_BATCH` rows of `table`
    /// per statement that syncs which ended without completing left behind: what lies at
    /// `current_seq + 1` (a sync discards before it stages, so nothing else can), and only
    /// while no sync of the project but `caller` runs (`NO_OTHER_RUNNING`).
    pub(super) fn discard_statements(
        &self,
        table: &str,
        project: &ProjectId,
        caller: &SyncId,
        unmark: bool,
    ) -> Result<Vec<D1PreparedStatement>, DbError> {
        let key = "(project_no, path, introduced_seq)";
        let guard = no_other_running(1, 3);
        let rows = |index: &str, at: &str| {
            format!(
                "SELECT t.project_no, t.path, t.introduced_seq FROM projects p CROSS JOIN {table} t {index} ON t.project_no = p.no \
                 WHERE p.id = ?1 AND {at} AND {guard} LIMIT ?2"
            )
        };
        let files = table == "file_versions";
        let sql = if unmark {
            // Directories keep no index by position: the discard, rare, reads the project's.
            // Marks go only once no row is staged at the position: rows there now are a
            // sync's that started after the rows were discarded (and has ended since), whose
            // own discard takes its rows first, then its marks.
            let index = if files { "INDEXED BY file_versions_superseded" } else { "" };
            let none_staged = "NOT EXISTS (SELECT 1 FROM file_versions x INDEXED BY file_versions_introduced \
                 WHERE x.project_no = p.no AND x.introduced_seq > 1 AND x.introduced_seq = p.current_seq + 1) \
               AND NOT EXISTS (SELECT 1 FROM dir_versions x WHERE x.project_no = p.no AND x.introduced_seq = p.current_seq + 1)";
            let marked = rows(
                index,
                &format!("p.current_seq > 0 AND t.superseded_seq IS NOT NULL AND t.superseded_seq = p.current_seq + 1 AND {none_staged}"),
            );
            let by = if files { ", superseded_by_sync_id = NULL" } else { "" };
            vec![format!("UPDATE {table} SET superseded_seq = NULL{by} WHERE {key} IN ({marked})")]
        } else if files {
            // At position 1 (no sync completed yet) the rows are in no index by position
            // (`files::introduced_by`): the primary key reads them.
            let (later_index, later) = introduced_by(2, "t");
            let (_, first) = introduced_by(1, "t");
            let later = rows(&later_index, &format!("{later} AND t.introduced_seq = p.current_seq + 1"));
            let first = rows("", &format!("p.current_seq = 0 AND {first}"));
            vec![format!("DELETE FROM {table} WHERE {key} IN ({later})"), format!("DELETE FROM {table} WHERE {key} IN ({first})")]
        } else {
            vec![format!("DELETE FROM {table} WHERE {key} IN ({})", rows("", "t.introduced_seq = p.current_seq + 1"))]
        };
        sql.iter().map(|sql| self.db.stmt(sql, &[s(project.as_str()), n(DISCARD_BATCH), s(caller.as_str())])).collect()
    }
}
