//! D1: every SQL statement of the service, the row types they return, and the engine's
//! `Store` port. Bulk writes go through `sqlbatch` (one JSON parameter per chunk).

use crate::api::{ChangeView, FileHistoryView, FileView, Page, PageRequest, ProjectView, SyncView};
use crate::content::BlobContent;
use crate::diff::{Change, DirChange, FileEntry};
use crate::domain::{Counts, FileKind, FileMode, Id, ObjectSha, Stats, SyncKind, SyncStatus, Trigger};
use crate::engine::{Job, ProjectHead, Store, StoreError};
use crate::error::{AppError, AppResult};
use crate::sqlbatch::{json_chunks, D1_MAX_PARAMS, DEFAULT_CHUNK_BYTES, DEFAULT_CHUNK_ROWS};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::cell::Cell;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, D1Result, Env};

pub const RUNNING_STATUSES: &str = "('QUEUED', 'FETCHING', 'DIFFING', 'PROCESSING', 'PERSISTING')";

pub fn s(v: &str) -> JsValue {
    JsValue::from_str(v)
}
pub fn n(v: u64) -> JsValue {
    JsValue::from_f64(v as f64)
}
pub fn opt(v: Option<&str>) -> JsValue {
    v.map(JsValue::from_str).unwrap_or(JsValue::NULL)
}

fn db_err(e: impl std::fmt::Display) -> AppError {
    AppError::internal(format!("D1: {e}"))
}

pub struct Db {
    db: D1Database,
    rows_written: Cell<u64>,
}

impl Db {
    pub fn from_env(env: &Env) -> AppResult<Db> {
        Ok(Db { db: env.d1("DB").map_err(db_err)?, rows_written: Cell::new(0) })
    }

    pub fn stmt(&self, sql: &str, args: &[JsValue]) -> AppResult<D1PreparedStatement> {
        // Bulk rows travel as one JSON parameter (`sqlbatch`); a statement that still needs
        // more than D1 accepts is a bug of ours, reported as such rather than by D1.
        if args.len() > D1_MAX_PARAMS {
            return Err(AppError::internal(format!("{} parameters for one statement: {sql}", args.len())));
        }
        self.db.prepare(sql).bind(args).map_err(db_err)
    }

    fn count(&self, result: &D1Result) {
        if let Ok(Some(meta)) = result.meta() {
            self.rows_written.set(self.rows_written.get() + meta.rows_written.unwrap_or(0) as u64);
        }
    }

    pub async fn all<T: DeserializeOwned>(&self, sql: &str, args: &[JsValue]) -> AppResult<Vec<T>> {
        let result = self.stmt(sql, args)?.all().await.map_err(db_err)?;
        result.results::<T>().map_err(db_err)
    }

    pub async fn first<T: DeserializeOwned>(&self, sql: &str, args: &[JsValue]) -> AppResult<Option<T>> {
        Ok(self.all::<T>(sql, args).await?.into_iter().next())
    }

    /// Runs a write; returns the number of rows it changed.
    pub async fn run(&self, sql: &str, args: &[JsValue]) -> AppResult<u64> {
        let result = self.stmt(sql, args)?.run().await.map_err(db_err)?;
        self.count(&result);
        Ok(result.meta().ok().flatten().and_then(|m| m.changes).unwrap_or(0) as u64)
    }

    /// Runs statements as one transaction.
    pub async fn batch(&self, statements: Vec<D1PreparedStatement>) -> Result<Vec<D1Result>, worker::Error> {
        if statements.is_empty() {
            return Ok(Vec::new());
        }
        let results = self.db.batch(statements).await?;
        for r in &results {
            self.count(r);
        }
        Ok(results)
    }

    pub fn take_rows_written(&self) -> u64 {
        self.rows_written.replace(0)
    }
}

/// True when a D1 error is the "one running sync per project" index refusing a second one.
pub fn is_running_sync_conflict(e: &worker::Error) -> bool {
    let text = e.to_string();
    text.contains("UNIQUE constraint failed") && text.contains("syncs.project_id")
}

// ---- rows --------------------------------------------------------------------------------

#[derive(Debug, Clone, Deserialize)]
pub struct ProjectRow {
    pub id: String,
    pub name: String,
    pub repository: String,
    pub branch: String,
    pub tracked: i64,
    pub github_token_enc: Option<String>,
    pub current_sync_id: Option<String>,
    pub current_seq: u64,
    pub current_commit_sha: Option<String>,
    pub head_etag: Option<String>,
    pub created_at: String,
}

impl ProjectRow {
    pub fn view(&self) -> ProjectView {
        ProjectView {
            id: self.id.clone(),
            name: self.name.clone(),
            repository: self.repository.clone(),
            branch: self.branch.clone(),
            tracked: self.tracked != 0,
            current_sync_id: self.current_sync_id.clone(),
            current_commit_sha: self.current_commit_sha.clone(),
            created_at: self.created_at.clone(),
            has_github_token: self.github_token_enc.is_some(),
        }
    }
}

pub const PROJECT_COLUMNS: &str = "id, user_id, name, repository, branch, tracked, github_token_enc, current_sync_id, \
     current_seq, current_commit_sha, head_etag, created_at";

#[derive(Debug, Clone, Deserialize)]
pub struct SyncRow {
    pub id: String,
    pub project_id: String,
    pub kind: String,
    pub trigger: String,
    pub branch: String,
    pub commit_sha: Option<String>,
    pub status: String,
    pub progress: u8,
    pub message: String,
    pub seq: Option<u64>,
    pub previous_sync_id: Option<String>,
    pub restored_from_sync_id: Option<String>,
    pub added: u64,
    pub modified: u64,
    pub removed: u64,
    pub unchanged: u64,
    pub renamed: u64,
    pub github_requests: u64,
    pub github_not_modified: u64,
    pub d1_rows_written: u64,
    pub bytes_downloaded: u64,
    pub duration_ms: u64,
    pub error: Option<String>,
    pub started_at: String,
    pub completed_at: Option<String>,
}

pub const SYNC_COLUMNS: &str = "s.id, s.project_id, s.kind, s.trigger, s.branch, s.commit_sha, s.status, s.progress, \
     s.message, s.seq, s.previous_sync_id, s.restored_from_sync_id, s.added, s.modified, s.removed, s.unchanged, \
     s.renamed, s.github_requests, s.github_not_modified, s.d1_rows_written, s.bytes_downloaded, s.duration_ms, \
     s.error, s.started_at, s.completed_at";

impl SyncRow {
    pub fn status(&self) -> SyncStatus {
        SyncStatus::parse(&self.status).unwrap_or(SyncStatus::Failed)
    }

    pub fn view(&self) -> SyncView {
        SyncView {
            id: self.id.clone(),
            project_id: self.project_id.clone(),
            kind: SyncKind::parse(&self.kind).unwrap_or(SyncKind::Sync),
            trigger: Trigger::parse(&self.trigger).unwrap_or(Trigger::Api),
            branch: self.branch.clone(),
            commit_sha: self.commit_sha.clone(),
            status: self.status(),
            progress: self.progress,
            message: self.message.clone(),
            previous_sync_id: self.previous_sync_id.clone(),
            restored_from_sync_id: self.restored_from_sync_id.clone(),
            counts: Counts {
                added: self.added,
                modified: self.modified,
                removed: self.removed,
                unchanged: self.unchanged,
                renamed: self.renamed,
            },
            stats: Stats {
                github_requests: self.github_requests,
                github_not_modified: self.github_not_modified,
                d1_rows_written: self.d1_rows_written,
                bytes_downloaded: self.bytes_downloaded,
                duration_ms: self.duration_ms,
            },
            error: self.error.clone(),
            started_at: self.started_at.clone(),
            completed_at: self.completed_at.clone(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
struct FileRow {
    path: String,
    mode: String,
    kind: String,
    sha: String,
    size: Option<u64>,
    sync_id: String,
}

impl FileRow {
    fn entry(self) -> Result<FileEntry, StoreError> {
        let bad = |what: &str| StoreError::Other(format!("stored {what} of {} is invalid", self.path));
        Ok(FileEntry {
            mode: FileMode::parse(&self.mode).ok_or_else(|| bad("mode"))?,
            kind: FileKind::parse(&self.kind).ok_or_else(|| bad("kind"))?,
            sha: ObjectSha::parse(&self.sha).map_err(|_| bad("sha"))?,
            size: self.size,
            path: self.path,
        })
    }

    fn view(self) -> FileView {
        FileView { path: self.path, mode: self.mode, kind: self.kind, sha: self.sha, size: self.size, sync_id: self.sync_id }
    }
}

const VISIBLE_AT: &str = "introduced_seq <= ?2 AND (superseded_seq IS NULL OR superseded_seq > ?2)";

// ---- queries for the API -------------------------------------------------------------------

impl Db {
    pub async fn project_for_user(&self, user: &str, project: &str) -> AppResult<ProjectRow> {
        self.first(&format!("SELECT {PROJECT_COLUMNS} FROM projects WHERE id = ?1 AND user_id = ?2"), &[s(project), s(user)])
            .await?
            .ok_or_else(|| AppError::not_found("project"))
    }

    pub async fn project(&self, project: &str) -> AppResult<Option<ProjectRow>> {
        self.first(&format!("SELECT {PROJECT_COLUMNS} FROM projects WHERE id = ?1"), &[s(project)]).await
    }

    pub async fn sync_for_user(&self, user: &str, sync: &str) -> AppResult<SyncRow> {
        self.first(
            &format!("SELECT {SYNC_COLUMNS} FROM syncs s JOIN projects p ON p.id = s.project_id WHERE s.id = ?1 AND p.user_id = ?2"),
            &[s(sync), s(user)],
        )
        .await?
        .ok_or_else(|| AppError::not_found("sync"))
    }

    pub async fn sync(&self, sync: &str) -> AppResult<Option<SyncRow>> {
        self.first(&format!("SELECT {SYNC_COLUMNS} FROM syncs s WHERE s.id = ?1"), &[s(sync)]).await
    }

    pub async fn running_sync(&self, project: &str) -> AppResult<Option<SyncRow>> {
        self.first(
            &format!("SELECT {SYNC_COLUMNS} FROM syncs s WHERE s.project_id = ?1 AND s.status IN {RUNNING_STATUSES}"),
            &[s(project)],
        )
        .await
    }

    pub async fn history(&self, project: &str, page: &PageRequest) -> AppResult<Vec<SyncRow>> {
        let (after_time, after_id) = (page.after_key(0), page.after_key(1));
        self.all(
            &format!(
                "SELECT {SYNC_COLUMNS} FROM syncs s WHERE s.project_id = ?1 \
                 AND (?2 IS NULL OR s.started_at < ?2 OR (s.started_at = ?2 AND s.id < ?3)) \
                 ORDER BY s.started_at DESC, s.id DESC LIMIT ?4"
            ),
            &[s(project), opt(after_time), opt(after_id), n(u64::from(page.limit) + 1)],
        )
        .await
    }

    /// Files active right after the sync at `seq`, under `prefix`, in path order.
    pub async fn files_view(&self, project: &str, seq: u64, prefix: &str, page: &PageRequest) -> AppResult<Vec<FileView>> {
        let after = page.after_key(0).unwrap_or("");
        let rows: Vec<FileRow> = self
            .all(
                &format!(
                    "SELECT path, mode, kind, sha, size, introduced_sync_id AS sync_id FROM file_versions \
                     WHERE project_id = ?1 AND {VISIBLE_AT} AND path > ?3 AND path >= ?4 \
                     AND substr(path, 1, length(?4)) = ?4 ORDER BY path LIMIT ?5"
                ),
                &[s(project), n(seq), s(after), s(prefix), n(u64::from(page.limit) + 1)],
            )
            .await?;
        Ok(rows.into_iter().map(FileRow::view).collect())
    }

    /// Every committed version of a path, newest first, each with its chain position (the
    /// page key). Marks of a sync still running are hidden.
    pub async fn file_history(
        &self,
        project: &str,
        current_seq: u64,
        path: &str,
        page: &PageRequest,
    ) -> AppResult<Vec<(FileHistoryView, u64)>> {
        #[derive(Deserialize)]
        struct Row {
            #[serde(flatten)]
            file: FileRow,
            superseded_by_sync_id: Option<String>,
            introduced_seq: u64,
        }
        let before = page.after_key(0).and_then(|k| k.parse::<u64>().ok()).unwrap_or(current_seq + 1);
        let rows: Vec<Row> = self
            .all(
                "SELECT path, mode, kind, sha, size, introduced_sync_id AS sync_id, introduced_seq, \
                 CASE WHEN superseded_seq <= ?2 THEN superseded_by_sync_id END AS superseded_by_sync_id \
                 FROM file_versions WHERE project_id = ?1 AND path = ?3 AND introduced_seq <= ?2 AND introduced_seq < ?4 \
                 ORDER BY introduced_seq DESC LIMIT ?5",
                &[s(project), n(current_seq), s(path), n(before), n(u64::from(page.limit) + 1)],
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
                    superseded_by_sync_id: r.superseded_by_sync_id,
                };
                (view, r.introduced_seq)
            })
            .collect())
    }

    /// What a completed sync changed, derived from the versions it introduced and superseded.
    pub async fn changes(&self, sync: &str, page: &PageRequest) -> AppResult<Vec<ChangeView>> {
        let after = page.after_key(0).unwrap_or("");
        self.all(
            "SELECT * FROM ( \
               SELECT n.path AS path, \
                 CASE WHEN n.previous_path IS NOT NULL THEN 'renamed' WHEN o.id IS NOT NULL THEN 'modified' ELSE 'added' END AS change, \
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
            &[s(sync), s(after), n(u64::from(page.limit) + 1)],
        )
        .await
    }
}

#[derive(Debug, Clone, serde::Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemoryView {
    pub id: String,
    pub path: String,
    pub sha: String,
    pub chunk: u32,
    pub text: String,
    pub sync_id: String,
}

impl Db {
    /// Active memory entries in path and chunk order.
    pub async fn memory_list(&self, project: &str, seq: u64, scope: &str, page: &PageRequest) -> AppResult<Page<MemoryView>> {
        // Cursors carry (path, chunk); without one, every path is after "".
        let after_path = page.after_key(0).unwrap_or("");
        let after_chunk = page.after_key(1).and_then(|c| c.parse::<u64>().ok()).unwrap_or(0);
        let rows: Vec<MemoryView> = self
            .all(
                &format!(
                    "SELECT fv.id || ':' || c.chunk AS id, fv.path, fv.sha, c.chunk, c.text, fv.introduced_sync_id AS syncId \
                     FROM file_versions fv JOIN blob_chunks c ON c.repository = ?3 AND c.sha = fv.sha \
                     WHERE fv.project_id = ?1 AND {VISIBLE_AT} AND fv.kind = 'file' \
                     AND (fv.path > ?4 OR (fv.path = ?4 AND c.chunk > ?5)) \
                     ORDER BY fv.path, c.chunk LIMIT ?6"
                ),
                &[s(project), n(seq), s(scope), s(after_path), n(after_chunk), n(u64::from(page.limit) + 1)],
            )
            .await?;
        Ok(Page::from_overfetch(rows, page.limit, |m| vec![m.path.clone(), m.chunk.to_string()]))
    }

    /// Active memory entries matching an FTS5 query, best match first.
    pub async fn memory_search(&self, project: &str, seq: u64, scope: &str, fts: &str, page: &PageRequest) -> AppResult<Page<MemoryView>> {
        let offset: u64 = page.after_key(0).and_then(|o| o.parse().ok()).unwrap_or(0);
        let rows: Vec<MemoryView> = self
            .all(
                &format!(
                    "SELECT fv.id || ':' || c.chunk AS id, fv.path, fv.sha, c.chunk, c.text, fv.introduced_sync_id AS syncId \
                     FROM blob_chunks_fts f JOIN blob_chunks c ON c.id = f.rowid \
                     JOIN file_versions fv ON fv.project_id = ?1 AND fv.sha = c.sha AND {VISIBLE_AT} AND fv.kind = 'file' \
                     WHERE blob_chunks_fts MATCH ?4 AND c.repository = ?3 \
                     ORDER BY f.rank, fv.path, c.chunk LIMIT ?5 OFFSET ?6"
                ),
                &[s(project), n(seq), s(scope), s(fts), n(u64::from(page.limit) + 1), n(offset)],
            )
            .await?;
        let next = offset + u64::from(page.limit);
        Ok(Page::from_overfetch(rows, page.limit, |_| vec![next.to_string()]))
    }
}

/// A GitHub answer kept for conditional requests.
#[derive(Debug, Clone, Deserialize)]
pub struct CachedGet {
    pub etag: String,
    pub link: Option<String>,
    pub body: String,
}

impl Db {
    pub async fn cached_get(&self, key: &str) -> Option<CachedGet> {
        self.first("SELECT etag, link, body FROM github_cache WHERE key = ?1", &[s(key)]).await.ok().flatten()
    }

    pub async fn store_get(&self, key: &str, etag: &str, link: Option<&str>, body: &str) {
        let _ = self
            .run(
                "INSERT INTO github_cache (key, etag, link, body, stored_at) VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (key) DO UPDATE SET etag = excluded.etag, link = excluded.link, body = excluded.body, \
                 stored_at = excluded.stored_at",
                &[s(key), s(etag), opt(link), s(body), s(&super::iso(super::now_ms()))],
            )
            .await;
    }
}

// ---- the engine's port -------------------------------------------------------------------

/// The counts and stats columns of a sync row, bound as ?7 to ?16 by `outcome_args`.
const OUTCOME_SET: &str = "added = ?7, modified = ?8, removed = ?9, unchanged = ?10, renamed = ?11, \
     github_requests = ?12, github_not_modified = ?13, d1_rows_written = ?14, bytes_downloaded = ?15, duration_ms = ?16";

fn outcome_args(job: &Job) -> Vec<JsValue> {
    let (c, st) = (job.counts, job.stats);
    [c.added, c.modified, c.removed, c.unchanged, c.renamed]
        .into_iter()
        .chain([st.github_requests, st.github_not_modified, st.d1_rows_written, st.bytes_downloaded, st.duration_ms])
        .map(n)
        .collect()
}

/// D1 as the engine's `Store`.
pub struct EngineStore<'a> {
    pub db: &'a Db,
}

fn store_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Other(e.to_string())
}

fn app_to_store(e: AppError) -> StoreError {
    StoreError::Other(e.to_string())
}

#[derive(Deserialize)]
struct HeadRow {
    current_sync_id: Option<String>,
    current_seq: u64,
    current_commit_sha: Option<String>,
}

impl EngineStore<'_> {
    /// One statement per JSON chunk of `rows`; the chunk is the last parameter, after `fixed`.
    fn bulk<T: serde::Serialize>(&self, sql: &str, fixed: &[JsValue], rows: &[T]) -> Result<Vec<D1PreparedStatement>, StoreError> {
        json_chunks(rows, DEFAULT_CHUNK_BYTES, DEFAULT_CHUNK_ROWS)
            .map_err(store_err)?
            .into_iter()
            .map(|chunk| {
                let mut args = fixed.to_vec();
                args.push(s(&chunk));
                self.db.stmt(sql, &args).map_err(app_to_store)
            })
            .collect()
    }

    /// Marks the head versions of `paths` in a versioned table as superseded by `job`.
    fn supersede(&self, table: &str, job: &Job, paths: &[&str]) -> Result<Vec<D1PreparedStatement>, StoreError> {
        self.bulk(
            &format!(
                "UPDATE {table} SET superseded_seq = ?2, superseded_by_sync_id = ?3 \
                 WHERE project_id = ?1 AND superseded_seq IS NULL AND introduced_seq < ?2 \
                 AND path IN (SELECT value FROM json_each(?4))"
            ),
            &[s(job.project_id.as_str()), n(job.new_seq()), s(job.sync_id.as_str())],
            paths,
        )
    }

    async fn head(&self, project: &Id) -> Result<Option<HeadRow>, StoreError> {
        self.db
            .first::<HeadRow>("SELECT current_sync_id, current_seq, current_commit_sha FROM projects WHERE id = ?1", &[s(project.as_str())])
            .await
            .map_err(app_to_store)
    }
}

impl Store for EngineStore<'_> {
    async fn project_head(&self, project: &Id) -> Result<ProjectHead, StoreError> {
        let row = self.head(project).await?.ok_or(StoreError::ProjectGone)?;
        let current_sync_id = row.current_sync_id.map(|id| Id::parse(&id)).transpose().map_err(|e| store_err(e.0))?;
        let current_commit_sha = row.current_commit_sha.and_then(|c| crate::domain::CommitSha::parse(&c).ok());
        Ok(ProjectHead { current_sync_id, current_seq: row.current_seq, current_commit_sha })
    }

    async fn discard_uncommitted(&self, project: &Id) -> Result<(), StoreError> {
        // Staged rows belong to syncs that never completed. Delete first, then un-supersede,
        // so the one-head-per-path index holds at every statement.
        let p = s(project.as_str());
        let unfinished = "SELECT id FROM syncs WHERE project_id = ?1 AND status != 'COMPLETE'";
        let mut statements = Vec::new();
        for table in ["file_versions", "dir_versions"] {
            statements.push(
                self.db
                    .stmt(&format!("DELETE FROM {table} WHERE introduced_sync_id IN ({unfinished})"), std::slice::from_ref(&p))
                    .map_err(app_to_store)?,
            );
            statements.push(
                self.db
                    .stmt(
                        &format!(
                            "UPDATE {table} SET superseded_seq = NULL, superseded_by_sync_id = NULL \
                             WHERE superseded_by_sync_id IN ({unfinished})"
                        ),
                        std::slice::from_ref(&p),
                    )
                    .map_err(app_to_store)?,
            );
        }
        self.db.batch(statements).await.map_err(store_err)?;
        Ok(())
    }

    async fn files_at(&self, project: &Id, seq: u64, after: Option<&str>, limit: u32) -> Result<Vec<FileEntry>, StoreError> {
        let rows: Vec<FileRow> = self
            .db
            .all(
                &format!(
                    "SELECT path, mode, kind, sha, size, introduced_sync_id AS sync_id FROM file_versions \
                     WHERE project_id = ?1 AND {VISIBLE_AT} AND path > ?3 ORDER BY path LIMIT ?4"
                ),
                &[s(project.as_str()), n(seq), s(after.unwrap_or("")), n(u64::from(limit))],
            )
            .await
            .map_err(app_to_store)?;
        rows.into_iter().map(FileRow::entry).collect()
    }

    async fn apply(&self, job: &Job, changes: &[Change]) -> Result<(), StoreError> {
        let (project, sync, seq) = (s(job.project_id.as_str()), s(job.sync_id.as_str()), n(job.new_seq()));
        let superseded: Vec<&str> = changes.iter().filter_map(|c| c.superseded()).map(|f| f.path.as_str()).collect();
        let introduced: Vec<(&str, &str, &str, &str, Option<u64>, Option<&str>)> = changes
            .iter()
            .filter_map(|c| {
                let new = c.introduced()?;
                let previous = match c {
                    Change::Renamed { old, .. } => Some(old.path.as_str()),
                    _ => None,
                };
                Some((new.path.as_str(), new.mode.as_str(), new.kind.as_str(), new.sha.as_str(), new.size, previous))
            })
            .collect();
        let mut statements = self.supersede("file_versions", job, &superseded)?;
        statements.extend(self.bulk(
            "INSERT INTO file_versions (project_id, path, mode, kind, sha, size, introduced_sync_id, \
             introduced_seq, previous_path, content_skipped) \
             SELECT ?1, j.value ->> 0, j.value ->> 1, \
               CASE WHEN b.status = 'lfs-pointer' AND j.value ->> 2 = 'file' THEN 'lfs-pointer' ELSE j.value ->> 2 END, \
               j.value ->> 3, j.value ->> 4, ?2, ?3, j.value ->> 5, \
               CASE WHEN j.value ->> 2 NOT IN ('file', 'lfs-pointer') THEN 'not-a-file' \
                    WHEN j.value ->> 4 > ?5 THEN 'too-large' \
                    WHEN b.status = 'text' THEN NULL \
                    ELSE COALESCE(b.status, 'unread') END \
             FROM json_each(?6) j LEFT JOIN blob_contents b ON b.repository = ?4 AND b.sha = j.value ->> 3 \
             WHERE true \
             ON CONFLICT (project_id, path, introduced_sync_id) DO NOTHING",
            &[project, sync, seq, s(&job.content_scope()), n(job.max_text_bytes)],
            &introduced,
        )?);
        self.db.batch(statements).await.map_err(store_err)?;
        Ok(())
    }

    async fn dirs_at(&self, project: &Id, seq: u64) -> Result<Vec<(String, String)>, StoreError> {
        #[derive(Deserialize)]
        struct Row {
            path: String,
            sha: String,
        }
        let rows: Vec<Row> = self
            .db
            .all(
                &format!("SELECT path, sha FROM dir_versions WHERE project_id = ?1 AND {VISIBLE_AT}"),
                &[s(project.as_str()), n(seq)],
            )
            .await
            .map_err(app_to_store)?;
        Ok(rows.into_iter().map(|r| (r.path, r.sha)).collect())
    }

    async fn count_files_under(&self, project: &Id, seq: u64, dir: &str) -> Result<u64, StoreError> {
        #[derive(Deserialize)]
        struct Row {
            n: u64,
        }
        // The range `dir/` .. `dir0` ('0' follows '/') is exactly the paths inside `dir`.
        let row: Option<Row> = self
            .db
            .first(
                &format!(
                    "SELECT count(*) AS n FROM file_versions WHERE project_id = ?1 AND {VISIBLE_AT} \
                     AND path >= ?3 AND path < ?4"
                ),
                &[s(project.as_str()), n(seq), s(&format!("{dir}/")), s(&format!("{dir}0"))],
            )
            .await
            .map_err(app_to_store)?;
        Ok(row.map(|r| r.n).unwrap_or(0))
    }

    async fn apply_dirs(&self, job: &Job, changes: &[DirChange]) -> Result<(), StoreError> {
        let (project, sync, seq) = (s(job.project_id.as_str()), s(job.sync_id.as_str()), n(job.new_seq()));
        let superseded: Vec<&str> = changes.iter().filter(|c| c.old.is_some()).map(|c| c.path.as_str()).collect();
        let introduced: Vec<(&str, &str)> =
            changes.iter().filter_map(|c| c.new.as_deref().map(|sha| (c.path.as_str(), sha))).collect();
        let mut statements = self.supersede("dir_versions", job, &superseded)?;
        statements.extend(self.bulk(
            "INSERT INTO dir_versions (project_id, path, sha, introduced_sync_id, introduced_seq) \
             SELECT ?1, value ->> 0, value ->> 1, ?2, ?3 FROM json_each(?4) WHERE true \
             ON CONFLICT (project_id, path, introduced_sync_id) DO NOTHING",
            &[project, sync, seq],
            &introduced,
        )?);
        self.db.batch(statements).await.map_err(store_err)?;
        Ok(())
    }

    async fn known_blobs(&self, scope: &str, shas: &[String]) -> Result<Vec<String>, StoreError> {
        #[derive(Deserialize)]
        struct Row {
            sha: String,
        }
        let list = serde_json::to_string(shas).map_err(store_err)?;
        let rows: Vec<Row> = self
            .db
            .all(
                "SELECT sha FROM blob_contents WHERE repository = ?1 AND sha IN (SELECT value FROM json_each(?2))",
                &[s(scope), s(&list)],
            )
            .await
            .map_err(app_to_store)?;
        Ok(rows.into_iter().map(|r| r.sha).collect())
    }

    async fn put_blobs(&self, scope: &str, blobs: &[BlobContent]) -> Result<(), StoreError> {
        let heads: Vec<(&str, &str, u64)> = blobs.iter().map(|b| (b.sha.as_str(), b.status.as_str(), b.size)).collect();
        let chunks: Vec<(&str, u32, &str, &str)> = blobs
            .iter()
            .flat_map(|b| b.chunks.iter().map(move |c| (b.sha.as_str(), c.index, c.text.as_str(), c.sha256.as_str())))
            .collect();
        // Chunks first and the blob row last, all in one transaction: a blob row means its
        // text is complete.
        let mut statements = self.bulk(
            "INSERT INTO blob_chunks (repository, sha, chunk, text, text_sha256) \
             SELECT ?1, value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(?2) WHERE true \
             ON CONFLICT (repository, sha, chunk) DO NOTHING",
            &[s(scope)],
            &chunks,
        )?;
        statements.extend(self.bulk(
            "INSERT INTO blob_contents (repository, sha, status, size) \
             SELECT ?1, value ->> 0, value ->> 1, value ->> 2 FROM json_each(?2) WHERE true \
             ON CONFLICT (repository, sha) DO NOTHING",
            &[s(scope)],
            &heads,
        )?);
        self.db.batch(statements).await.map_err(store_err)?;
        Ok(())
    }

    async fn commit(&self, job: &Job, completed_at_ms: u64) -> Result<(), StoreError> {
        let p = s(job.project_id.as_str());
        let id = s(job.sync_id.as_str());
        let now = s(&super::iso(completed_at_ms));
        let statements = vec![
            self.db
                .stmt(
                    "UPDATE projects SET current_sync_id = ?2, current_seq = ?3, current_commit_sha = ?4, updated_at = ?5 \
                     WHERE id = ?1 AND current_seq = ?6",
                    &[p.clone(), id.clone(), n(job.new_seq()), opt(job.commit_sha.as_ref().map(|c| c.as_str())), now.clone(), n(job.base_seq)],
                )
                .map_err(app_to_store)?,
            self.db
                .stmt(
                    &format!(
                        "UPDATE syncs SET status = 'COMPLETE', progress = 100, message = ?3, seq = ?4, previous_sync_id = ?5, \
                         commit_sha = ?6, {OUTCOME_SET}, error = NULL, completed_at = ?17 \
                         WHERE id = ?2 AND (SELECT current_sync_id FROM projects WHERE id = ?1) = ?2"
                    ),
                    &[
                        vec![
                            p,
                            id,
                            s(&job.message),
                            n(job.new_seq()),
                            opt(job.base_sync_id.as_ref().map(|i| i.as_str())),
                            opt(job.commit_sha.as_ref().map(|c| c.as_str())),
                        ],
                        outcome_args(job),
                        vec![now],
                    ]
                    .concat(),
                )
                .map_err(app_to_store)?,
        ];
        self.db.batch(statements).await.map_err(store_err)?;
        // Decide from what is stored, so a retried commit that already landed counts as done.
        let head = self.head(&job.project_id).await?.ok_or(StoreError::ProjectGone)?;
        if head.current_sync_id.as_deref() == Some(job.sync_id.as_str()) {
            Ok(())
        } else {
            Err(StoreError::ChainMoved)
        }
    }

    async fn record(&self, job: &Job, completed_at_ms: Option<u64>) -> Result<(), StoreError> {
        self.db
            .run(
                &format!(
                    "UPDATE syncs SET status = ?2, progress = ?3, message = ?4, commit_sha = ?5, error = ?6, \
                     {OUTCOME_SET}, completed_at = ?17 WHERE id = ?1 AND status IN {RUNNING_STATUSES}"
                ),
                &[
                    vec![
                        s(job.sync_id.as_str()),
                        s(job.status.as_str()),
                        n(u64::from(job.progress)),
                        s(&job.message),
                        opt(job.commit_sha.as_ref().map(|c| c.as_str())),
                        opt(job.error.as_deref()),
                    ],
                    outcome_args(job),
                    vec![opt(completed_at_ms.map(super::iso).as_deref())],
                ]
                .concat(),
            )
            .await
            .map_err(app_to_store)?;
        Ok(())
    }

    fn take_rows_written(&self) -> u64 {
        self.db.take_rows_written()
    }
}
