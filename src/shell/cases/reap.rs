//! Reaping: a running sync whose object has no job (a start that was lost) or that made no
//! progress for too long is ended FAILED, as `crate::reaper` decides.

use super::announce::announce_end;
use crate::domain::Timestamp;
use crate::error::AppResult;
use crate::reaper::{decide, RunningRow, Verdict};
use crate::shell::adapters::d1::{Db, ProjectRow, SyncRow};
use crate::shell::adapters::{iso, now_ms, sync_client, Services};
use crate::sync_protocol::PokeAnswer;

/// Checks the project's running sync with its object and ends it if the reaper's rules
/// say so. True when it was ended (the project is free now).
pub async fn reap_running(svc: &Services<'_>, project: &ProjectRow) -> AppResult<bool> {
    let db = svc.for_project(&project.id);
    match db.running_sync(&project.id).await? {
        Some(running) => reap(svc, db, &running).await,
        None => Ok(true),
    }
}

/// Pokes the sync's object and acts on the verdict, ending the row in `db`, the database it
/// was read from. True when the row was ended here.
pub async fn reap(svc: &Services<'_>, db: &Db, running: &SyncRow) -> AppResult<bool> {
    let answer = sync_client::poke(svc.env, &running.id).await;
    let facts = RunningRow { started_at_ms: running.started_at.ms(), updated_at_ms: running.updated_at.as_ref().map_or(0, Timestamp::ms) };
    match decide(facts, PokeAnswer::object_state(answer), now_ms(), svc.settings.reaper_grace_ms) {
        Verdict::Leave => Ok(false),
        Verdict::Fail(why) => {
            worker::console_warn!("reaper: sync {} of project {}: {why}", running.id, running.project_id);
            let ended = db.fail_if_running(&running.id, &why, &iso(now_ms())).await?;
            if ended {
                announce_end(svc, db, &running.project_id, &running.id).await;
            }
            Ok(ended)
        }
    }
}
