//! Cancelling a running sync, for the REST API and the MCP tool alike: the sync's object is
//! asked to stop; a row whose start never reached its object is ended here.

use super::reads::sync_of;
use crate::domain::{SyncId, UserId};
use crate::error::{AppError, AppResult};
use crate::shell::adapters::d1::SyncRow;
use crate::shell::adapters::{sync_client, Services};
use crate::sync_protocol::CancelAnswer;

/// Cancels the caller's sync; the sync as it is after the request (CANCELLING, or ended).
/// A sync that already ended, or is committing, is a conflict (not a missing sync).
pub async fn cancel(svc: &Services<'_>, user: &UserId, id: &SyncId) -> AppResult<SyncRow> {
    let sync = sync_of(svc, user, id).await?;
    if sync.status.is_terminal() {
        return Err(AppError::conflict(format!("the sync already ended ({})", sync.status.as_str())));
    }
    // Owner and database are settled: the row is read again where it lives.
    let db = svc.for_project(&sync.project_id);
    let reread = || async { db.sync(id).await?.ok_or_else(|| AppError::not_found("sync")) };
    match sync_client::cancel(svc.env, &sync.id).await? {
        CancelAnswer::Cancelling => reread().await,
        CancelAnswer::TooLate => Err(AppError::conflict("the sync is already committing or has ended")),
        // A row whose start never reached its object: nothing runs, so it ends here.
        CancelAnswer::NoJob => {
            let ended = db.cancel_if_running(&sync.id, &crate::shell::adapters::now()).await?;
            if ended {
                super::announce::announce_end(svc, db, &sync.project_id, &sync.id).await;
            }
            reread().await
        }
    }
}
