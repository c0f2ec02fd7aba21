//! `syncs`: the rows a user sees. Inserting a QUEUED row is where the "one running sync per
//! project" index speaks; every later change of a row is guarded by its current status
//! (an ended row is never rewritten), here and in the engine's store.

use super::rows::SYNC_COLUMNS;
use super::{n, opt, s, Db, DbError, DbResult, SyncRow, RUNNING_STATUSES};
use crate::domain::{BranchName, CommitSha, ProjectId, SyncId, SyncKind, SyncStatus, Timestamp, Trigger, UserId};
use crate::github_app::InstallationId;
use crate::pathfilter::PathFilter;
use serde::Deserialize;

/// A sync as recorded before its object is started.
pub struct QueuedSync<'a> {
    pub id: &'a SyncId,
    pub project_id: &'a ProjectId,
    pub kind: SyncKind,
    pub trigger: Trigger,
    pub branch: &'a BranchName,
    /// For restores: the sync whose state is wanted, and its commit.
    pub restored_from: Option<(&'a SyncId, Option<&'a CommitSha>)>,
    /// The branch becomes the project's (a start that names another branch).
    pub set_project_branch: bool,
    /// The filter the sync holds, and whether it is a dry run.
    pub path_filter: &'a PathFilter,
    pub dry_run: bool,
    pub now: &'a Timestamp,
}

/// What recording a queued sync came to.
pub enum Queued {
    /// The row as written (what reading it back would give).
    Recorded(Box<SyncRow>),
    /// The project has a queued or running sync already (the database's own guard).
    ProjectBusy,
}

impl QueuedSync<'_> {
    /// The row `insert_queued` writes: its values, and the columns' defaults for the rest.
    fn row(&self) -> SyncRow {
        let (restored_id, restored_commit) = self.restored_from.unzip();
        SyncRow {
            id: self.id.clone(),
            project_id: self.project_id.clone(),
            kind: self.kind,
            trigger: self.trigger,
            branch: self.branch.clone(),
            commit_sha: restored_commit.flatten().cloned(),
            status: SyncStatus::Queued,
            progress: 0,
            message: QUEUED_MESSAGE.to_string(),
            seq: None,
            previous_sync_id: None,
            restored_from_sync_id: restored_id.cloned(),
            added: 0,
            modified: 0,
            removed: 0,
            unchanged: 0,
            renamed: 0,
            github_requests: 0,
            github_not_modified: 0,
            d1_rows_written: 0,
            bytes_downloaded: 0,
            duration_ms: 0,
            error: None,
            started_at: self.now.clone(),
            completed_at: None,
            updated_at: Some(self.now.clone()),
            path_filter: self.path_filter.clone(),
            dry_run: self.dry_run,
            changes_kept: true,
            renames_limited: false,
        }
    }
}

const QUEUED_MESSAGE: &str = "Queued";

impl Db {
    pub async fn sync_for_user(&self, user: &UserId, sync: &SyncId) -> DbResult<Option<SyncRow>> {
        self.first(
            &format!("SELECT {SYNC_COLUMNS} FROM syncs s JOIN projects p ON p.id = s.project_id WHERE s.id = ?1 AND p.user_id = ?2"),
            &[s(sync), s(user)],
        )
        .await
    }

    pub async fn sync(&self, sync: &SyncId) -> DbResult<Option<SyncRow>> {
        self.first(&format!("SELECT {SYNC_COLUMNS} FROM syncs s WHERE s.id = ?1"), &[s(sync)]).await
    }

    pub async fn running_sync(&self, project: &ProjectId) -> DbResult<Option<SyncRow>> {
        self.first(
            &format!("SELECT {SYNC_COLUMNS} FROM syncs s WHERE s.project_id = ?1 AND s.status IN {RUNNING_STATUSES}"),
            &[s(project.as_str())],
        )
        .await
    }

    /// The running syncs of an installation's projects.
    pub async fn running_syncs_of_installation(&self, installation: InstallationId) -> DbResult<Vec<SyncId>> {
        #[derive(Deserialize)]
        struct Row {
            id: SyncId,
        }
        let rows: Vec<Row> = self
            .all(
                &format!(
                    "SELECT s.id FROM syncs s JOIN projects p ON p.id = s.project_id \
                     WHERE p.installation_id = ?1 AND s.status IN {RUNNING_STATUSES}"
                ),
                &[n(installation.get())],
            )
            .await?;
        Ok(rows.into_iter().map(|r| r.id).collect())
    }

    /// A project's syncs, newest first, after the `(started_at, id)` key.
    pub async fn history(&self, project: &ProjectId, after: Option<(&str, &str)>, limit: u32) -> DbResult<Vec<SyncRow>> {
        let (after_time, after_id) = after.unzip();
        self.all(
            &format!(
                "SELECT {SYNC_COLUMNS} FROM syncs s WHERE s.project_id = ?1 \
                 AND (?2 IS NULL OR s.started_at < ?2 OR (s.started_at = ?2 AND s.id < ?3)) \
                 ORDER BY s.started_at DESC, s.id DESC LIMIT ?4"
            ),
            &[s(project.as_str()), opt(after_time), opt(after_id), n(u64::from(limit))],
        )
        .await
    }

    /// Inserts the QUEUED row (and, with it, the project's new branch). A project that has
    /// a queued or running sync refuses it: `DbError::Unique` on `syncs.project_id`.
    /// Records a queued sync (one round trip); the row it wrote comes back built from what
    /// was written, not read again.
    pub async fn insert_queued(&self, q: &QueuedSync<'_>) -> DbResult<Queued> {
        let (restored_id, restored_commit) = q.restored_from.unzip();
        let path_filter = serde_json::to_string(q.path_filter).map_err(|e| DbError::Other(e.to_string()))?;
        let mut statements = vec![self.stmt(
            "INSERT INTO syncs (id, project_id, kind, trigger, branch, commit_sha, status, progress, message, \
             restored_from_sync_id, started_at, updated_at, path_filter, dry_run) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'QUEUED', 0, ?11, ?7, ?8, ?8, ?9, ?10)",
            &[
                s(q.id),
                s(q.project_id),
                s(q.kind.as_str()),
                s(q.trigger.as_str()),
                s(q.branch.as_str()),
                opt(restored_commit.flatten().map(CommitSha::as_str)),
                opt(restored_id.map(SyncId::as_str)),
                s(q.now),
                s(&path_filter),
                n(u64::from(q.dry_run)),
                s(QUEUED_MESSAGE),
            ],
        )?];
        if q.dry_run {
            // Queued with its row, so a 21st dry run makes the 1st one's /changes a 404 at once.
            statements.push(self.stmt(super::retention::EXPIRE_DRY_RUNS, &[s(q.project_id), n(super::retention::dry_runs_kept())])?);
        }
        if q.set_project_branch {
            statements.push(self.stmt(
                "UPDATE projects SET branch = ?2, head_etag = NULL, head_sha = NULL, updated_at = ?3 WHERE id = ?1",
                &[s(q.project_id), s(q.branch.as_str()), s(q.now)],
            )?);
        }
        match self.batch(statements).await {
            Ok(_) => Ok(Queued::Recorded(Box::new(q.row()))),
            Err(e) if e.is_running_sync_conflict() => Ok(Queued::ProjectBusy),
            Err(e) => Err(e),
        }
    }

    /// Ends a row FAILED with `error` if (and only if) it is still queued or running.
    pub async fn fail_if_running(&self, sync: &SyncId, error: &str, now: &Timestamp) -> DbResult<bool> {
        self.end_if_running(sync, "FAILED", Some(error), &format!("Sync failed: {error}"), now).await
    }

    /// Ends a row CANCELLED if it is still queued or running.
    pub async fn cancel_if_running(&self, sync: &SyncId, now: &Timestamp) -> DbResult<bool> {
        self.end_if_running(sync, "CANCELLED", None, "Sync cancelled; nothing was changed", now).await
    }

    async fn end_if_running(&self, sync: &SyncId, status: &str, error: Option<&str>, message: &str, now: &Timestamp) -> DbResult<bool> {
        let changed = self
            .run(
                &format!(
                    "UPDATE syncs SET status = ?2, error = ?3, message = ?4, completed_at = ?5, updated_at = ?5 \
                     WHERE id = ?1 AND status IN {RUNNING_STATUSES}"
                ),
                &[s(sync), s(status), opt(error), s(message), s(now)],
            )
            .await?;
        Ok(changed > 0)
    }

    /// Running rows that started before `started_before`, least recently written first:
    /// a scan of the running rows (the one-running index holds exactly them, one a project
    /// at most), sorted. No index is keyed by `updated_at`: every step of a sync writes it.
    pub async fn running_since(&self, started_before: &Timestamp, limit: u64) -> DbResult<Vec<SyncRow>> {
        self.all(
            &format!(
                "SELECT {SYNC_COLUMNS} FROM syncs s INDEXED BY syncs_one_running_per_project \
                 WHERE s.status IN {RUNNING_STATUSES} AND s.started_at < ?1 ORDER BY s.updated_at, s.id LIMIT ?2"
            ),
            &[s(started_before), n(limit)],
        )
        .await
    }
}
