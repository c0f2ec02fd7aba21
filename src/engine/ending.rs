//! Ending a sync that did not complete (FAILED or CANCELLED). The outcome is decided first
//! (`begin`, or `adopt` when the row was ended elsewhere); then `end` writes the row, and
//! only once that write has landed is the job finished: a final record that fails is tried
//! again on the next step (the object keeps its alarm), never dropped. After the row says
//! the sync ended, nothing it staged can become visible, and it is discarded.

use super::{account, GitHub, Job, Phase, Ports, Recorded, Scratch, Store, StoreError};
use crate::domain::SyncStatus;
use crate::progress::ProgressData;

/// Decides that the sync ends with `status` (FAILED or CANCELLED) and why.
pub(super) fn begin(job: &mut Job, status: SyncStatus, error: Option<String>) {
    job.message = match (&error, status) {
        (Some(e), _) => format!("Sync failed: {e}"),
        (None, SyncStatus::Cancelled) => "Sync cancelled; nothing was changed".into(),
        (None, _) => "Sync stopped".into(),
    };
    job.error = error;
    job.status = status;
    job.phase = Phase::Ending;
}

/// Takes over an ending that the sync's row already records (the reaper ended it, or it
/// was cancelled): the job ends the same way.
pub(super) fn adopt(job: &mut Job, status: SyncStatus, error: Option<String>) {
    if status == SyncStatus::Complete {
        // Our own commit landed and only its answer was lost: nothing to undo.
        job.status = SyncStatus::Complete;
        job.progress = 100;
        job.phase = Phase::Finished;
        return;
    }
    let error = error.or_else(|| (status == SyncStatus::Failed).then(|| "the sync was ended elsewhere".to_string()));
    begin(job, status, error);
}

/// Writes the final row; on success discards what the sync staged and finishes the job,
/// returning the terminal event. On failure returns no event: the job stays `Ending`.
pub(super) async fn end<G: GitHub, S: Store, X: Scratch>(job: &mut Job, ports: &Ports<'_, G, S, X>, now_ms: u64) -> Vec<ProgressData> {
    account(job, ports, now_ms);
    match ports.store.record(job, Some(now_ms)).await {
        Ok(Recorded::Written) => {}
        Ok(Recorded::AlreadyEnded { status, error }) => {
            if status != job.status || status == SyncStatus::Complete {
                adopt(job, status, error);
            }
            if job.status == SyncStatus::Complete {
                let _ = ports.scratch.clear();
                return vec![job.event()];
            }
        }
        Err(StoreError::ProjectGone) => {
            // The project and its syncs were deleted: there is no row left to write.
            job.phase = Phase::Finished;
            let _ = ports.scratch.clear();
            return vec![job.event()];
        }
        Err(_) => {
            job.end_attempts += 1;
            return Vec::new();
        }
    }
    // The row is terminal now, so the sync's own staged rows are fenced and can go. Should
    // this fail or run out of budget, the next sync of the project removes the rest.
    while let Ok(false) = ports.store.discard_ended(&job.project_id, &job.sync_id).await {
        if ports.meter.spent() {
            break;
        }
    }
    let _ = ports.scratch.clear();
    job.phase = Phase::Finished;
    vec![job.event()]
}
