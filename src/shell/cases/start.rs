//! Starting a sync: record its QUEUED row (the database refuses a second running sync of a
//! project), then hand the job to its object. Used by the API, the cron and the queue.
//! A project that looks busy is checked first: a running row whose object has no job (a
//! start that was lost) is ended on the spot, so a wedged project recovers at the next
//! attempt rather than at the next reaper pass.

use super::announce::announce_end;
use super::reap::reap_running;
use crate::api::SyncView;
use crate::domain::SyncId;
use crate::domain::{BranchName, SyncKind, Trigger};
use crate::engine::NewJob;
use crate::error::{AppError, AppResult};
use crate::pathfilter::PathFilter;
use crate::shell::adapters::d1::QueuedSync;
use crate::shell::adapters::d1::{Db, ProjectRow, SyncRow};
use crate::shell::adapters::{crypto::new_id, iso, now_ms, sync_client, Services};

pub struct StartRequest<'a> {
    pub project: &'a ProjectRow,
    pub kind: SyncKind,
    pub trigger: Trigger,
    pub branch: &'a BranchName,
    /// For restores: the completed sync whose state is wanted.
    pub restore_from: Option<&'a SyncRow>,
    /// The paths the sync's state holds: the project's; a restore's is the restored sync's.
    pub filter: PathFilter,
    pub dry_run: bool,
}

impl<'a> StartRequest<'a> {
    /// A sync of `branch` under the project's filter.
    pub fn sync(project: &'a ProjectRow, trigger: Trigger, branch: &'a BranchName) -> Self {
        let filter = project.path_filter.clone();
        StartRequest { project, kind: SyncKind::Sync, trigger, branch, restore_from: None, filter, dry_run: false }
    }
}

pub async fn start_sync(svc: &Services<'_>, req: StartRequest<'_>) -> AppResult<SyncRow> {
    // Checked before anything is written: the answer carries an eventsUrl.
    svc.settings.stream_secret()?;
    let id: SyncId = new_id()?;
    let started = now_ms();
    let queued = QueuedSync {
        id: &id,
        project_id: &req.project.id,
        kind: req.kind,
        trigger: req.trigger,
        branch: req.branch,
        restored_from: req.restore_from.map(|r| (&r.id, r.commit_sha.as_ref())),
        // A dry run changes nothing of the project, its branch included.
        set_project_branch: req.kind == SyncKind::Sync && !req.dry_run && req.branch != &req.project.branch,
        path_filter: &serde_json::to_string(&req.filter).map_err(|e| AppError::internal(e.to_string()))?,
        dry_run: req.dry_run,
        now: &iso(started),
    };
    let db = svc.for_project(&req.project.id);
    if let Err(e) = db.insert_queued(&queued).await {
        if !e.is_running_sync_conflict() {
            return Err(e.into());
        }
        if !reap_running(svc, req.project).await? {
            return Err(busy(svc, req.project).await?);
        }
        db.insert_queued(&queued).await.map_err(|e| if e.is_running_sync_conflict() { AppError::conflict(BUSY) } else { e.into() })?;
    }
    if svc.db.fault("object.start").await {
        // The invocation "died" between the insert and the call: the row has no object.
        return row(db, &id).await;
    }
    let job = NewJob {
        sync_id: id.clone(),
        project_id: req.project.id.clone(),
        repository: req.project.repository.clone(),
        branch: req.branch.clone(),
        kind: req.kind,
        trigger: req.trigger,
        restore_from: req.restore_from.map(|r| (r.id.clone(), r.seq.unwrap_or(0), r.commit_sha.clone())),
        started_at_ms: started,
        max_text_bytes: svc.settings.max_text_bytes,
        filter: req.filter.clone(),
        dry_run: req.dry_run,
    };
    if !sync_client::start(svc.env, &job).await.unwrap_or(false) {
        if let Ok(true) = db.fail_if_running(&id, "the sync could not be handed to its worker; nothing was changed", &iso(now_ms())).await {
            announce_end(svc, db, &job.project_id, &job.sync_id).await;
        }
        return Err(AppError::internal("the sync object did not take the job"));
    }
    row(db, &id).await
}

const BUSY: &str = "a sync of this project is already queued or running";

async fn row(db: &Db, id: &SyncId) -> AppResult<SyncRow> {
    db.sync(id).await?.ok_or_else(|| AppError::internal("the sync row vanished"))
}

/// The 409 that names the running sync.
async fn busy(svc: &Services<'_>, project: &ProjectRow) -> AppResult<AppError> {
    let running = svc.for_project(&project.id).running_sync(&project.id).await?;
    Ok(AppError::Conflict { message: BUSY.into(), sync: running.map(|r| serde_json::to_value(SyncView::from(&r)).unwrap_or_default()) })
}
