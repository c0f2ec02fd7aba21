//! Announcing a sync's end to the hooks queue through the outbox of its database.

use crate::domain::{ProjectId, SyncId};
use crate::shell::adapters::d1::Db;
use crate::shell::adapters::queues::send_sync_ended;
use crate::shell::adapters::{now, Services};

/// Tells the hooks queue about a sync ended here rather than by its object (which
/// announces its own ending, retrying until the queue takes it), through the outbox of `db`
/// (the database holding the sync): the row is written first and deleted once the queue
/// took the message, so a send that fails (or an invocation that dies) leaves it for the
/// cron tick to send (`lifecycle`). Never fails the caller: the row or the log says what
/// is left.
pub async fn announce_end(svc: &Services<'_>, db: &Db, project: &ProjectId, sync: &SyncId) {
    if let Err(e) = db.record_announcement(sync, project, &now()).await {
        worker::console_warn!("sync {sync}: its end was not written to the outbox (sending it at once only): {e}");
    }
    let sent = if svc.db.fault("hooks.announce").await {
        Err(worker::Error::RustError("injected fault at hooks.announce".into()))
    } else {
        send_sync_ended(svc.env, project, sync).await
    };
    match sent {
        Ok(()) => {
            if let Err(e) = db.announcements_sent(&[sync]).await {
                worker::console_warn!("sync {sync}: announced, but its outbox row stays (the tick announces it again): {e}");
            }
        }
        Err(e) => worker::console_warn!("sync {sync}: its end was not announced now (the cron tick will): {e}"),
    }
}
