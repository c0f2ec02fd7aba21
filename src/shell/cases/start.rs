//! Starting a sync, once its plan is settled (`plan`): record its QUEUED row (the database
//! refuses a second running sync of a project), then hand the job to its object. Used by
//! the API, the cron and the queue. A project found busy is reclaimed first when its running
//! sync is a lost start (`reap::reclaim`), and the row is recorded once more.

use super::announce::announce_end;
use super::plan::SyncPlan;
use super::reap::{reclaim, Reclaimed};
use crate::api::SyncView;
use crate::domain::Trigger;
use crate::domain::{SyncId, Timestamp};
use crate::engine::NewJob;
use crate::error::AppError;
use crate::shell::adapters::d1::{Db, DbError, ProjectRow, Queued, QueuedSync, SyncRow};
use crate::shell::adapters::{crypto::new_id, now, now_ms, sync_client, Services};

/// A sync started: its row as recorded, and the stream a client watches it on.
pub struct Started {
    pub sync: SyncRow,
    pub events_url: String,
}

/// Why a sync did not start.
pub enum StartError {
    /// A sync of the project is queued or running (the row, unless it ended meanwhile).
    Busy(Option<Box<SyncRow>>),
    /// The sync's object did not take the job (why); its row is ended FAILED.
    ObjectRefused(String),
    /// Anything else: a setting missing, D1.
    Failed(AppError),
}

const BUSY: &str = "a sync of this project is already queued or running";

impl From<AppError> for StartError {
    fn from(e: AppError) -> Self {
        StartError::Failed(e)
    }
}

impl From<DbError> for StartError {
    fn from(e: DbError) -> Self {
        StartError::Failed(e.into())
    }
}

impl From<StartError> for AppError {
    fn from(e: StartError) -> Self {
        match e {
            // The 409 names the running sync.
            StartError::Busy(running) => AppError::Conflict {
                message: BUSY.into(),
                sync: running.map(|r| serde_json::to_value(SyncView::from(&*r)).unwrap_or_default()),
            },
            StartError::ObjectRefused(why) => AppError::internal(format!("the sync object did not take the job: {why}")),
            StartError::Failed(e) => e,
        }
    }
}

pub async fn start(svc: &Services<'_>, project: &ProjectRow, trigger: Trigger, plan: SyncPlan) -> Result<Started, StartError> {
    let id: SyncId = new_id()?;
    // Made before anything is written: the answer carries it, and a start needs the secret.
    let events_url = sync_client::events_url(&svc.settings, &id)?;
    let started = now_ms();
    let queued = QueuedSync {
        id: &id,
        project_id: &project.id,
        kind: plan.kind(),
        trigger,
        branch: &plan.branch,
        restored_from: plan.restore_from().map(|r| (&r.id, r.commit_sha.as_ref())),
        set_project_branch: plan.moves_project(project),
        path_filter: plan.filter(project),
        dry_run: plan.dry_run(),
        now: &Timestamp::from_ms(started),
    };
    let db = svc.for_project(&project.id);
    let sync = record(svc, db, project, &queued).await?;
    let job = NewJob {
        sync_id: id,
        project_id: project.id.clone(),
        repository: project.repository.clone(),
        branch: plan.branch.clone(),
        kind: plan.kind(),
        trigger,
        restore_from: plan.restore_from().map(|r| (r.id.clone(), r.seq.unwrap_or(0), r.commit_sha.clone())),
        started_at_ms: started,
        max_text_bytes: svc.settings.max_text_bytes,
        filter: plan.filter(project).clone(),
        dry_run: plan.dry_run(),
    };
    hand_over(svc, db, &job).await?;
    Ok(Started { sync, events_url })
}

/// Records the QUEUED row; a project held by a lost start is reclaimed, then the row is
/// recorded once more.
async fn record(svc: &Services<'_>, db: &Db, project: &ProjectRow, queued: &QueuedSync<'_>) -> Result<SyncRow, StartError> {
    if let Queued::Recorded(row) = db.insert_queued(queued).await? {
        return Ok(*row);
    }
    if let Reclaimed::Held(running) = reclaim(svc, db, project).await? {
        return Err(StartError::Busy(Some(running)));
    }
    match db.insert_queued(queued).await? {
        Queued::Recorded(row) => Ok(*row),
        // Another start took the project in between.
        Queued::ProjectBusy => Err(StartError::Busy(None)),
    }
}

/// Hands the job to the sync's object; one that does not take it leaves its row FAILED
/// (and announced), since nothing will run it.
async fn hand_over(svc: &Services<'_>, db: &Db, job: &NewJob) -> Result<(), StartError> {
    let Err(why) = sync_client::start(svc.env, &svc.db, job).await else { return Ok(()) };
    worker::console_warn!("sync {}: its object did not take the job: {why}", job.sync_id);
    let failed = "the sync could not be handed to its worker; nothing was changed";
    if let Ok(true) = db.fail_if_running(&job.sync_id, failed, &now()).await {
        announce_end(svc, db, &job.project_id, &job.sync_id).await;
    }
    Err(StartError::ObjectRefused(why))
}
