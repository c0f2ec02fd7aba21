//! The engine's `Store` over D1. Every statement that stages or commits a sync's work
//! carries `FENCE`: it lands nothing once the sync's row has ended, so a sync that the
//! reaper (or anything else) ended can never write again, whatever its object does.

use super::files::{EntryRow, VISIBLE_AT};
use super::{n, opt, s, Db, DbError, DROP_UNLISTED_PACKS, PROJECT_NO, RUNNING_STATUSES};
use crate::content::BlobContent;
use crate::diff::{Change, DirChange, FileEntry};
use crate::domain::Timestamp;
use crate::domain::{ProjectId, SyncId, SyncStatus};
use crate::engine::{Job, ProjectHead, Recorded, Store, StoreError};
use crate::merge::Span;
use crate::pack::pack_texts;
use crate::rows::StoredChange;
use crate::sqlbatch::{json_chunks, DEFAULT_CHUNK_BYTES, DEFAULT_CHUNK_ROWS};
use serde::Deserialize;

mod statements;

use statements::*;

/// D1 (and, for blob text, the content bucket) as the engine's `Store`.
pub struct EngineStore<'a> {
    pub db: &'a Db,
    pub content: &'a super::super::content::ContentBucket,
}

impl Store for EngineStore<'_> {
    async fn project_head(&self, project: &ProjectId) -> Result<ProjectHead, StoreError> {
        let row: HeadRow = self
            .db
            .first(
                "SELECT p.current_sync_id, p.current_seq, p.current_commit_sha, s.path_filter FROM projects p \
                 LEFT JOIN syncs s ON s.id = p.current_sync_id WHERE p.id = ?1",
                &[s(project.as_str())],
            )
            .await?
            .ok_or(StoreError::ProjectGone)?;
        Ok(ProjectHead {
            current_sync_id: row.current_sync_id,
            current_seq: row.current_seq,
            current_commit_sha: row.current_commit_sha,
            // Unreadable counts as unknown: the next sync lists the whole tree again.
            current_filter: row.path_filter.and_then(|f| serde_json::from_str(&f).ok()),
        })
    }

    async fn discard_ended(&self, project: &ProjectId, caller: &SyncId) -> Result<bool, StoreError> {
        #[derive(Deserialize)]
        struct Ended {
            id: SyncId,
        }
        let ended: Vec<Ended> = self.db.all(ENDED_UNDISCARDED, &[s(project.as_str())]).await?;
        if ended.is_empty() {
            return Ok(true);
        }
        // Their own rows first, then the marks they made on older rows, so that at every
        // statement each path has at most one head version.
        for unmark in [false, true] {
            let mut statements = self.discard_statements("file_versions", project, caller, unmark)?;
            statements.extend(self.discard_statements("dir_versions", project, caller, unmark)?);
            let touched = self.db.batch(statements).await?;
            if touched.iter().any(|&t| t >= DISCARD_BATCH) {
                return Ok(false);
            }
        }
        // Marked only where the statements above ran (with another sync running, that one
        // discards before it stages, and marks), and only the syncs found above: one that
        // started and ended between these statements may have staged at the same position.
        let ids: Vec<&str> = ended.iter().map(|e| e.id.as_str()).collect();
        let ids = serde_json::to_string(&ids).map_err(|e| StoreError::Other(e.to_string()))?;
        self.db
            .run(
                &format!(
                    "UPDATE syncs SET discarded = 1 WHERE project_id = ?1 AND id IN (SELECT value FROM json_each(?3)) \
                     AND discarded = 0 AND status IN ('FAILED', 'CANCELLED') AND {}",
                    no_other_running(1, 2)
                ),
                &[s(project.as_str()), s(caller.as_str()), s(&ids)],
            )
            .await?;
        Ok(true)
    }

    async fn files_in(&self, project: &ProjectId, seq: u64, span: &Span, limit: u32) -> Result<Vec<FileEntry>, StoreError> {
        let pages = self.files_in_each(project, seq, &[(span.clone(), limit)]).await?;
        Ok(pages.into_iter().next().unwrap_or_default())
    }

    async fn files_in_each(&self, project: &ProjectId, seq: u64, spans: &[(Span, u32)]) -> Result<Vec<Vec<FileEntry>>, StoreError> {
        let statements = spans
            .iter()
            .map(|(span, limit)| self.db.stmt(&span_query(FILES_IN, span, true), &span_args(project, seq, span, Some(*limit))))
            .collect::<Result<Vec<_>, DbError>>()?;
        let pages: Vec<Vec<EntryRow>> = self.db.batch_all(statements).await?;
        pages.into_iter().map(|rows| rows.into_iter().map(EntryRow::entry).collect()).collect()
    }

    async fn count_in_each(&self, project: &ProjectId, seq: u64, spans: &[Span]) -> Result<(u64, u64), StoreError> {
        #[derive(Deserialize)]
        struct Row {
            n: u64,
            bytes: Option<u64>,
        }
        let statements = spans
            .iter()
            .map(|span| self.db.stmt(&span_query(COUNT_IN, span, false), &span_args(project, seq, span, None)))
            .collect::<Result<Vec<_>, DbError>>()?;
        let counts: Vec<Vec<Row>> = self.db.batch_all(statements).await?;
        Ok(counts.iter().flatten().fold((0, 0), |(n, b), r| (n + r.n, b + r.bytes.unwrap_or(0))))
    }

    async fn apply(&self, job: &Job, changes: &[Change]) -> Result<(), StoreError> {
        let (project, sync, seq) = (s(&job.project_id), s(&job.sync_id), n(job.new_seq()));
        let superseded: Vec<&str> = changes.iter().filter_map(|c| c.superseded()).map(|f| f.path.as_str()).collect();
        let introduced: Vec<VersionArgs> = changes
            .iter()
            .filter_map(|c| {
                let new = c.introduced()?;
                let (previous, similarity) = match c {
                    Change::Renamed { old, similarity, .. } => (Some(old.path.as_str()), Some(*similarity)),
                    _ => (None, None),
                };
                Some((new.path.as_str(), new.mode.as_str(), new.kind.as_str(), new.sha.as_str(), new.size, previous, similarity))
            })
            .collect();
        let mut statements = self.supersede("file_versions", job, &superseded)?;
        statements.extend(self.bulk(
            &format!(
                "INSERT INTO file_versions (project_no, path, mode, kind, sha, size, introduced_sync_id, \
                 introduced_seq, previous_path, similarity, content_skipped) \
                 SELECT {PROJECT_NO}, j.value ->> 0, j.value ->> 1, \
                   CASE WHEN b.status = 'lfs-pointer' AND j.value ->> 2 = 'file' THEN 'lfs-pointer' ELSE j.value ->> 2 END, \
                   j.value ->> 3, j.value ->> 4, ?2, ?3, j.value ->> 5, j.value ->> 6, \
                   CASE WHEN j.value ->> 2 NOT IN ('file', 'lfs-pointer') THEN 'not-a-file' \
                        WHEN j.value ->> 4 > ?5 THEN 'too-large' \
                        WHEN b.status = 'text' THEN NULL \
                        ELSE COALESCE(b.status, 'unread') END \
                 FROM json_each(?6) j LEFT JOIN blob_contents b ON b.repository = ?4 AND b.sha = j.value ->> 3 \
                 WHERE {} \
                 ON CONFLICT (project_no, path, introduced_seq) DO NOTHING",
                fence(2)
            ),
            &[project, sync, seq, s(job.content_scope()), n(job.max_text_bytes)],
            &introduced,
        )?);
        self.db.batch(statements).await?;
        Ok(())
    }

    async fn dirs_in(&self, project: &ProjectId, seq: u64, span: &Span, limit: u32) -> Result<Vec<(String, String)>, StoreError> {
        let pages = self.dirs_in_each(project, seq, &[(span.clone(), limit)]).await?;
        Ok(pages.into_iter().next().unwrap_or_default())
    }

    async fn dirs_in_each(&self, project: &ProjectId, seq: u64, spans: &[(Span, u32)]) -> Result<Vec<Vec<(String, String)>>, StoreError> {
        #[derive(Deserialize)]
        struct Row {
            path: String,
            sha: String,
        }
        let statements = spans
            .iter()
            .map(|(span, limit)| self.db.stmt(&span_query(DIRS_IN, span, true), &span_args(project, seq, span, Some(*limit))))
            .collect::<Result<Vec<_>, DbError>>()?;
        let pages: Vec<Vec<Row>> = self.db.batch_all(statements).await?;
        Ok(pages.into_iter().map(|rows| rows.into_iter().map(|r| (r.path, r.sha)).collect()).collect())
    }

    async fn count_files_under(&self, project: &ProjectId, seq: u64, dirs: &[String]) -> Result<Vec<u64>, StoreError> {
        #[derive(Deserialize)]
        struct Row {
            n: u64,
        }
        let mut counts = Vec::with_capacity(dirs.len());
        for chunk in json_chunks(dirs, DEFAULT_CHUNK_BYTES, DEFAULT_CHUNK_ROWS).map_err(|e| StoreError::Other(e.to_string()))? {
            // The range `dir/` .. `dir0` ('0' follows '/') is exactly the paths inside `dir`.
            let rows: Vec<Row> = self
                .db
                .all(
                    &format!(
                        "SELECT (SELECT count(*) FROM file_versions WHERE project_no = {PROJECT_NO} AND {VISIBLE_AT} \
                           AND path >= j.value || '/' AND path < j.value || '0') AS n \
                         FROM json_each(?3) j ORDER BY j.key"
                    ),
                    &[s(project.as_str()), n(seq), s(&chunk)],
                )
                .await?;
            counts.extend(rows.into_iter().map(|r| r.n));
        }
        Ok(counts)
    }

    async fn apply_dirs(&self, job: &Job, changes: &[DirChange]) -> Result<(), StoreError> {
        let (project, sync, seq) = (s(&job.project_id), s(&job.sync_id), n(job.new_seq()));
        let superseded: Vec<&str> = changes.iter().filter(|c| c.old.is_some()).map(|c| c.path.as_str()).collect();
        let introduced: Vec<(&str, &str)> = changes.iter().filter_map(|c| c.new.as_deref().map(|sha| (c.path.as_str(), sha))).collect();
        let mut statements = self.supersede("dir_versions", job, &superseded)?;
        statements.extend(self.bulk(
            &format!(
                "INSERT INTO dir_versions (project_no, path, sha, introduced_seq) \
                 SELECT {PROJECT_NO}, value ->> 0, value ->> 1, ?3 FROM json_each(?4) WHERE {} \
                 ON CONFLICT (project_no, path, introduced_seq) DO NOTHING",
                fence(2)
            ),
            &[project, sync, seq],
            &introduced,
        )?);
        self.db.batch(statements).await?;
        Ok(())
    }

    async fn blob_texts(&self, scope: &str, shas: &[String]) -> Result<Vec<(String, Option<Vec<u8>>)>, StoreError> {
        Ok(super::texts::read_texts(self.db, self.content, scope, shas).await?)
    }

    async fn known_blobs(&self, scope: &str, shas: &[String]) -> Result<Vec<String>, StoreError> {
        #[derive(Deserialize)]
        struct Row {
            sha: String,
        }
        let list = serde_json::to_string(shas).map_err(|e| StoreError::Other(e.to_string()))?;
        let rows: Vec<Row> = self
            .db
            .all("SELECT sha FROM blob_contents WHERE repository = ?1 AND sha IN (SELECT value FROM json_each(?2))", &[s(scope), s(&list)])
            .await?;
        Ok(rows.into_iter().map(|r| r.sha).collect())
    }

    async fn put_blobs(&self, scope: &str, blobs: &[BlobContent]) -> Result<(), StoreError> {
        // The texts go to R2 first, as one pack (content-addressed: a replay writes the same
        // object); the blob rows, written after, name the pack, so a row means its text is there.
        let mut pack = pack_texts(scope, blobs);
        if let Some(pack) = &mut pack {
            self.db.count_subrequests(1);
            self.content.put_pack(&pack.key, std::mem::take(&mut pack.bytes)).await?;
        }
        let heads: Vec<BlobArgs> = blobs
            .iter()
            .map(|b| {
                let starts = serde_json::to_string(&b.chunk_starts()).map_err(|e| StoreError::Other(e.to_string()))?;
                let at = pack.as_ref().and_then(|p| p.offset_of(&b.sha));
                Ok((b.sha.as_str(), b.status.as_str(), b.size, starts, at))
            })
            .collect::<Result<_, StoreError>>()?;
        let chunks: Vec<(&str, u32, &str)> =
            blobs.iter().flat_map(|b| b.chunks.iter().map(move |c| (b.sha.as_str(), c.index, c.text.as_str()))).collect();
        // One transaction: the pack's number (a pack stored again keeps its row), the blob
        // rows, which name the pack by it, then the index entries of the chunks of exactly
        // the rows this write created (its tag), so a replay indexes nothing twice (a NOT
        // EXISTS probe of the contentless index by rowid scans the whole index), then the
        // pack's ledger, and its row goes again if no blob row points into it (a batch
        // whose blobs were all stored before). CROSS JOIN keeps the JSON outer: as the
        // inner loop it would be parsed once per blob row.
        let tag = super::super::crypto::new_write_tag().map_err(|e| StoreError::Other(e.to_string()))?;
        let key = pack.as_ref().map(|p| p.key.as_str());
        let mut statements = Vec::new();
        if let Some(key) = key {
            statements.push(self.db.stmt("INSERT INTO packs (key) VALUES (?1) ON CONFLICT (key) DO NOTHING", &[s(key)])?);
        }
        statements.extend(self.bulk(
            "INSERT INTO blob_contents (repository, sha, write_tag, status, size, chunks, pack_id, pack_offset) \
             SELECT ?1, value ->> 0, ?2, value ->> 1, value ->> 2, value ->> 3, \
               CASE WHEN value ->> 4 IS NOT NULL THEN (SELECT id FROM packs WHERE key = ?3) END, value ->> 4 \
             FROM json_each(?4) WHERE true \
             ON CONFLICT (repository, sha) DO NOTHING",
            &[s(scope), s(&tag), opt(key)],
            &heads,
        )?);
        statements.extend(self.bulk(
            "INSERT INTO memory_fts (rowid, scope, text) \
             SELECT b.id * 65536 + (j.value ->> 1), ?2, j.value ->> 2 FROM json_each(?4) j \
             CROSS JOIN blob_contents b ON b.repository = ?1 AND b.sha = j.value ->> 0 AND b.write_tag = ?3",
            &[s(scope), s(crate::content::fts_scope(scope)), s(&tag)],
            &chunks,
        )?);
        if let Some(pack) = &pack {
            statements.extend(self.pack_ledger(scope, pack)?);
            let keys = serde_json::to_string(&[&pack.key]).map_err(|e| StoreError::Other(e.to_string()))?;
            statements.push(self.db.stmt(DROP_UNLISTED_PACKS, &[s(&keys)])?);
        }
        self.db.batch(statements).await?;
        Ok(())
    }

    async fn commit(&self, job: &Job, completed_at_ms: u64) -> Result<(), StoreError> {
        if self.db.fault("commit").await {
            return Err(StoreError::Other("injected fault at commit".into()));
        }
        let p = s(&job.project_id);
        let id = s(&job.sync_id);
        let now = s(Timestamp::from_ms(completed_at_ms));
        let statements = vec![
            self.db.stmt(
                &format!(
                    "UPDATE projects SET current_sync_id = ?2, current_seq = ?3, current_commit_sha = ?4, updated_at = ?5 \
                     WHERE id = ?1 AND current_seq = ?6 AND {}",
                    fence(2)
                ),
                &[p.clone(), id.clone(), n(job.new_seq()), opt(job.commit_sha.as_ref().map(|c| c.as_str())), now.clone(), n(job.base_seq)],
            )?,
            self.db.stmt(
                &format!(
                    "UPDATE syncs SET status = 'COMPLETE', progress = 100, message = ?3, seq = ?4, previous_sync_id = ?5, \
                     commit_sha = ?6, {OUTCOME_SET}, error = NULL, completed_at = ?18, updated_at = ?18 \
                     WHERE id = ?2 AND status IN {RUNNING_STATUSES} AND (SELECT current_sync_id FROM projects WHERE id = ?1) = ?2"
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
            )?,
        ];
        self.db.batch(statements).await?;
        // Decide from what is stored, so a retried commit that already landed counts as done.
        let row = self.status_of(&job.sync_id).await?.ok_or(StoreError::ProjectGone)?;
        match row.status {
            SyncStatus::Complete if row.current_sync_id.as_ref() == Some(&job.sync_id) => Ok(()),
            status if status.is_terminal() => Err(StoreError::NotRunning { status, error: row.error }),
            _ => Err(StoreError::ChainMoved),
        }
    }

    async fn stage_preview(&self, job: &Job, changes: &[Change]) -> Result<(), StoreError> {
        let before = job.base_sync_id.as_ref().and(job.base_filter.as_ref());
        let stored: Vec<StoredChange> = changes
            .iter()
            .map(|c| {
                let mut change = StoredChange::from(c);
                change.mark_filtered(before, &job.filter);
                change
            })
            .collect();
        let rows: Vec<PreviewArgs> = stored
            .iter()
            .map(|c| {
                let reason = c.reason.map(|r| r.as_str());
                (
                    &*c.path,
                    c.change.as_str(),
                    c.previous_path.as_deref(),
                    c.sha.as_str(),
                    c.previous_sha.as_ref().map(|s| s.as_str()),
                    reason,
                    c.similarity,
                )
            })
            .collect();
        let statements = self.bulk(
            &format!(
                "INSERT INTO dry_run_changes (sync_id, path, change, previous_path, sha, previous_sha, reason, similarity) \
                 SELECT ?1, j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3, j.value ->> 4, j.value ->> 5, j.value ->> 6 \
                 FROM json_each(?2) j WHERE {} ON CONFLICT (sync_id, path) DO NOTHING",
                fence(1)
            ),
            &[s(&job.sync_id)],
            &rows,
        )?;
        self.db.batch(statements).await?;
        Ok(())
    }

    async fn commit_preview(&self, job: &Job, completed_at_ms: u64) -> Result<(), StoreError> {
        let (p, id) = (s(&job.project_id), s(&job.sync_id));
        let fixed = vec![p.clone(), id.clone(), s(&job.message), p, id, opt(job.commit_sha.as_ref().map(|c| c.as_str()))];
        let args = [fixed, outcome_args(job), vec![s(Timestamp::from_ms(completed_at_ms))]].concat();
        self.db
            .run(
                &format!(
                    "UPDATE syncs SET status = 'COMPLETE', progress = 100, message = ?3, commit_sha = ?6, {OUTCOME_SET}, \
                     error = NULL, completed_at = ?18, updated_at = ?18, \
                     seq = (SELECT min(0, coalesce(min(seq), 0)) - 1 FROM syncs WHERE project_id = ?4 AND seq < 0) \
                     WHERE id = ?2 AND project_id = ?1 AND dry_run = 1 AND status IN {RUNNING_STATUSES} AND id = ?5"
                ),
                &args,
            )
            .await?;
        let row = self.status_of(&job.sync_id).await?.ok_or(StoreError::ProjectGone)?;
        match row.status {
            SyncStatus::Complete => Ok(()),
            status if status.is_terminal() => Err(StoreError::NotRunning { status, error: row.error }),
            _ => Err(StoreError::Other("the dry run's row was not marked complete".into())),
        }
    }

    async fn record(&self, job: &Job, completed_at_ms: Option<u64>) -> Result<Recorded, StoreError> {
        if job.status.is_terminal() && self.db.fault("record.final").await {
            return Err(StoreError::Other("injected fault at record.final".into()));
        }
        let changed = self
            .db
            .run(
                &format!(
                    "UPDATE syncs SET status = ?2, progress = ?3, message = ?4, commit_sha = ?5, error = ?6, \
                     {OUTCOME_SET}, completed_at = ?18, updated_at = ?19 WHERE id = ?1 AND status IN {RUNNING_STATUSES}"
                ),
                &[
                    vec![
                        s(&job.sync_id),
                        s(job.status.as_str()),
                        n(u64::from(job.progress)),
                        s(&job.message),
                        opt(job.commit_sha.as_ref().map(|c| c.as_str())),
                        opt(job.error.as_deref()),
                    ],
                    outcome_args(job),
                    vec![opt(completed_at_ms.map(Timestamp::from_ms).as_ref().map(Timestamp::as_str)), s(crate::shell::adapters::now())],
                ]
                .concat(),
            )
            .await?;
        if changed > 0 {
            return Ok(Recorded::Written);
        }
        match self.status_of(&job.sync_id).await? {
            Some(row) if row.status.is_terminal() => Ok(Recorded::AlreadyEnded { status: row.status, error: row.error }),
            Some(_) => Err(StoreError::Other("the sync's row changed nothing".into())),
            None => Err(StoreError::ProjectGone),
        }
    }

    fn take_rows_written(&self) -> u64 {
        self.db.take_rows_written()
    }
}
