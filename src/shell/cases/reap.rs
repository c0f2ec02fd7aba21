//! Reaping: a running sync whose object has no job (a start that was lost) or that made no
//! progress for too long is ended FAILED, as `crate::reaper` decides: by the cron tick, and
//! by a start that finds its project held (`reclaim`).

use super::announce::announce_end;
use crate::domain::Timestamp;
use crate::error::AppResult;
use crate::reaper::{decide, RunningRow, Verdict};
use crate::shell::adapters::d1::{Db, ProjectRow, SyncRow};
use crate::shell::adapters::{now, now_ms, sync_client, Services};
use crate::sync_protocol::PokeAnswer;

/// Whether a project a start found busy could be freed.
pub enum Reclaimed {
    /// Its running sync was a lost start (or stalled) and is ended now, or it had ended meanwhile.
    Free,
    /// Its running sync runs on.
    Held(Box<SyncRow>),
}

/// Reclaims a project held by a lost start: its running sync is checked with its object and
/// ended if the reaper's rules say so, so that a wedged project recovers at the next start
/// rather than at the next reaper pass.
pub async fn reclaim(svc: &Services<'_>, db: &Db, project: &ProjectRow) -> AppResult<Reclaimed> {
    match db.running_sync(&project.id).await? {
        Some(running) if !reap(svc, db, &running).await? => Ok(Reclaimed::Held(Box::new(running))),
        _ => Ok(Reclaimed::Free),
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
            let ended = db.fail_if_running(&running.id, &why, &now()).await?;
            if ended {
                announce_end(svc, db, &running.project_id, &running.id).await;
            }
            Ok(ended)
        }
    }
}
