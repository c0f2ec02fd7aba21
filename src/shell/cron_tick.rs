//! The cron tick: first the reaper (running syncs whose object has no job, or that made no
//! progress for 10 minutes, end FAILED), then every tracked project is queued on its
//! `CronShard`, which makes the head checks in its own alarm slices.

use super::starts::reap;
use super::{iso, now_ms, Services};
use crate::cron;
use crate::error::{AppError, AppResult};
use serde_json::json;
use worker::{Env, Method, Request};

/// Running syncs the reaper looks at per tick (the quietest first).
const REAP_PER_TICK: u64 = 50;

pub async fn tick(env: &Env, cron: String) {
    let started = now_ms();
    match run_tick(env).await {
        Ok((reaped, queued, shards)) => worker::console_log!(
            "cron {cron}: ended {reaped} stalled syncs; queued {queued} tracked projects on {shards} shards in {} ms",
            now_ms() - started
        ),
        Err(e) => worker::console_error!("cron {cron} failed: {e}"),
    }
}

async fn run_tick(env: &Env) -> AppResult<(u64, u64, u64)> {
    let svc = Services::from_env(env)?;
    let reaped = reap_stalled(&svc).await?;
    let due = svc.db.due_for_head_check(cron::MAX_QUEUED_PER_TICK).await?;
    let queued = due.len() as u64;
    let plan = cron::plan(due.into_iter().map(|id| id.to_string()).collect(), cron::SHARDS);
    let shards = plan.len() as u64;
    let namespace = env.durable_object(super::cron_shard::BINDING).map_err(AppError::internal)?;
    for (shard, ids) in plan {
        let stub = namespace.id_from_name(&format!("shard-{shard}")).and_then(|id| id.get_stub()).map_err(AppError::internal)?;
        let body = serde_json::to_string(&json!({ "projectIds": ids })).map_err(AppError::internal)?;
        let mut init = worker::RequestInit::new();
        init.with_method(Method::Post).with_body(Some(body.into()));
        let req = Request::new_with_init(&format!("https://cron-shard{}", super::cron_shard::ENQUEUE_PATH), &init).map_err(AppError::internal)?;
        if let Err(e) = stub.fetch_with_request(req).await {
            worker::console_warn!("cron: shard {shard} did not take its queue: {e}");
        }
    }
    Ok((reaped, queued, shards))
}

/// Pokes the objects of running syncs past the grace period and ends those the reaper's
/// rules condemn. Returns how many it ended.
async fn reap_stalled(svc: &Services<'_>) -> AppResult<u64> {
    let cutoff = iso(now_ms().saturating_sub(svc.settings.reaper_grace_ms));
    let mut ended = 0;
    for sync in svc.db.running_since(&cutoff, REAP_PER_TICK).await? {
        match reap(svc, &sync).await {
            Ok(true) => ended += 1,
            Ok(false) => {}
            Err(e) => worker::console_warn!("reaper: sync {}: {e}", sync.id),
        }
    }
    Ok(ended)
}
