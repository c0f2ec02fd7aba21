//! The cron's head check of one tracked project: one conditional request (the stored ETag,
//! which names the commit it saw), and a sync when that head is not the commit the project
//! holds — compared with the held commit, so a failed or refused cron sync is tried again.

use super::plan::SyncPlan;
use super::start::{start, StartError};
use crate::cron;
use crate::domain::Timestamp;
use crate::domain::{CommitSha, SyncStatus, Trigger};
use crate::error::AppResult;
use crate::github::GhError;
use crate::shell::adapters::github::HeadCheck;
use crate::shell::adapters::{d1::ProjectRow, now, now_ms, Services};

/// What a check came to.
pub enum Checked {
    /// The head is the commit the project holds (or a sync of it is already running).
    UpToDate,
    Started,
    /// GitHub failed or refused; `retry_after` says when to try again, if at all.
    GitHub {
        error: GhError,
        retry_after: Option<u64>,
    },
}

pub async fn check_project(svc: &Services<'_>, project: &ProjectRow) -> AppResult<Checked> {
    // The head check carries the project's own ETag (the cache is not consulted).
    let gh = svc.github_for(project).await?;
    let known = project.head_etag.as_deref().zip(project.head_sha.as_ref());
    let checked = gh.head_if_moved(&project.repository, &project.branch, known.map(|(etag, _)| etag)).await;
    let (head, seen): (Option<CommitSha>, Option<(String, CommitSha)>) = match checked {
        Ok(HeadCheck::NotModified) => (known.map(|(_, sha)| sha.clone()), None),
        Ok(HeadCheck::Moved { sha, etag }) => (Some(sha.clone()), etag.map(|e| (e, sha))),
        Err(error) => {
            svc.for_project(&project.id).record_head_check(&project.id, &now(), None).await?;
            let retry_after = cron::retry_after_secs(&error);
            return Ok(Checked::GitHub { error, retry_after });
        }
    };
    let outcome = match head {
        Some(head) if cron::needs_sync(&head, project.current_commit_sha.as_ref()) && may_retry(svc, project, &head).await? => {
            match start(svc, project, Trigger::Cron, SyncPlan::sync(project)).await {
                Ok(_) => Ok(Checked::Started),
                // Already running: a later tick compares again once it is done.
                Err(StartError::Busy(_)) => Ok(Checked::UpToDate),
                Err(e) => Err(e.into()),
            }
        }
        _ => Ok(Checked::UpToDate),
    };
    // Whatever the outcome, the check happened: the project moves to the back of the queue.
    let db = svc.for_project(&project.id);
    db.record_head_check(&project.id, &now(), seen.as_ref().map(|(e, s)| (e.as_str(), s))).await?;
    outcome
}

/// Whether the head may be tried now, after the automatic syncs of it that failed in a row
/// (`cron::may_retry_head`): the project's latest few syncs are enough to count them.
async fn may_retry(svc: &Services<'_>, project: &ProjectRow, head: &CommitSha) -> AppResult<bool> {
    let latest = svc.for_project(&project.id).history(&project.id, None, RECENT_SYNCS).await?;
    let recent: Vec<cron::RecentSync> = latest
        .iter()
        .map(|s| cron::RecentSync {
            automatic: s.trigger != Trigger::Api,
            failed: s.status == SyncStatus::Failed,
            commit: s.commit_sha.clone(),
            ended_ms: s.completed_at.as_ref().or(s.updated_at.as_ref()).map_or(0, Timestamp::ms),
        })
        .collect();
    Ok(cron::may_retry_head(&recent, head, now_ms()))
}

/// Syncs read to count a head's failures: past this many in a row, the wait is at its cap.
const RECENT_SYNCS: u32 = 20;
