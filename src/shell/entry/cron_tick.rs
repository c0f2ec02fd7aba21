//! The cron tick: first the reaper (running syncs whose object has no job, or that made no
//! progress for 10 minutes, end FAILED), then one head check per tracked project (least
//! recently checked first) onto the fan-out queue, whose consumers make them; then the
//! upkeep (`lifecycle`: retention, the content sweep of deleted projects).

use crate::cron;
use crate::domain::Timestamp;
use crate::error::{AppError, AppResult};
use crate::fanout::{Message, SEND_BATCH_MAX};
use crate::shell::adapters::queues::FANOUT_BINDING;
use crate::shell::adapters::{now_ms, Services};
use crate::shell::cases::lifecycle;
use crate::shell::cases::reap::reap;
use worker::Env;

/// Running syncs the reaper looks at per tick (the quietest first).
const REAP_PER_TICK: u64 = 50;

pub async fn tick(env: &Env, cron: String) {
    let started = now_ms();
    match run_tick(env).await {
        Ok((reaped, queued)) => {
            worker::console_log!("cron {cron}: ended {reaped} stalled syncs; queued {queued} head checks in {} ms", now_ms() - started)
        }
        Err(e) => worker::console_error!("cron {cron} failed: {e}"),
    }
}

async fn run_tick(env: &Env) -> AppResult<(u64, u64)> {
    let svc = Services::from_env(env)?;
    let reaped = reap_stalled(&svc).await?;
    // Each database's least recently checked projects, an equal share of the tick each.
    let share = cron::MAX_CHECKS_PER_TICK / svc.databases().len().max(1) as u64;
    let mut due = Vec::new();
    for db in svc.databases() {
        due.extend(db.due_for_head_check(share).await?);
    }
    let queue = env.queue(FANOUT_BINDING).map_err(AppError::internal)?;
    let checks: Vec<Message> = due.into_iter().map(|project_id| Message::Check { project_id }).collect();
    for batch in checks.chunks(SEND_BATCH_MAX) {
        queue.send_batch(batch.to_vec()).await.map_err(|e| AppError::internal(format!("the fan-out queue refused head checks: {e}")))?;
    }
    // Upkeep last, so a slow sweep never delays the reaper or the head checks.
    match lifecycle::run(&svc).await {
        Ok(u) => {
            worker::console_log!(
                "cron upkeep: announced {} sync endings; deleted {} dry-run changes, {} deliveries, {} content rows, {} packs",
                u.announced,
                u.changes,
                u.deliveries,
                u.blobs,
                u.packs
            );
            if u.sweep_continues {
                super::fanout::continue_sweep(&queue).await;
            }
        }
        Err(e) => worker::console_error!("cron upkeep failed: {e}"),
    }
    Ok((reaped, checks.len() as u64))
}

/// Pokes the objects of running syncs past the grace period and ends those the reaper's
/// rules condemn. Returns how many it ended.
async fn reap_stalled(svc: &Services<'_>) -> AppResult<u64> {
    let cutoff = Timestamp::from_ms(now_ms().saturating_sub(svc.settings.reaper_grace_ms));
    let mut ended = 0;
    let mut stalled = Vec::new();
    for db in svc.databases() {
        stalled.extend(db.running_since(&cutoff, REAP_PER_TICK).await?.into_iter().map(|row| (db, row)));
    }
    // Each row is ended in the database it was read from, wherever its project hashes today.
    for (db, sync) in stalled {
        match reap(svc, db, &sync).await {
            Ok(true) => ended += 1,
            Ok(false) => {}
            Err(e) => worker::console_warn!("reaper: sync {}: {e}", sync.id),
        }
    }
    Ok(ended)
}
