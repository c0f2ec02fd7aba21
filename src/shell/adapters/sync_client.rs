//! The worker's side of a sync's Durable Object: one function per command of
//! `crate::sync_protocol`, each answering in its typed form. Routes, the cron tick, the
//! reaper and the queue consumer all come through here.

use crate::auth::{stream_token, STREAM_TOKEN_TTL_SECS};
use crate::config::Settings;
use crate::domain::SyncId;
use crate::engine::NewJob;
use crate::error::{AppError, AppResult};
use crate::shell::adapters::d1::Db;
use crate::sync_protocol::{CancelAnswer, Command, PokeAnswer, BINDING};
use worker::{Env, Headers, Method, Request, RequestInit, Response};

async fn call(env: &Env, sync_id: &SyncId, command: Command, body: Option<String>, headers: &[(&str, String)]) -> AppResult<Response> {
    let namespace = env.durable_object(BINDING).map_err(AppError::internal)?;
    let stub = namespace.id_from_name(sync_id.as_str()).and_then(|id| id.get_stub()).map_err(AppError::internal)?;
    let h = Headers::new();
    for (name, value) in headers {
        h.set(name, value).map_err(AppError::internal)?;
    }
    let mut init = RequestInit::new();
    init.with_method(if command.is_get() { Method::Get } else { Method::Post });
    if let Some(b) = body {
        h.set("content-type", "application/json").map_err(AppError::internal)?;
        init.with_body(Some(b.into()));
    }
    init.with_headers(h);
    let req = Request::new_with_init(&format!("https://sync-object{}", command.path()), &init).map_err(AppError::internal)?;
    stub.fetch_with_request(req).await.map_err(AppError::internal)
}

/// Hands a recorded sync to its object: `Ok` once the object holds the job, else why not
/// (the object's answer, or why it could not be reached). Under the test fault
/// `object.start` (armed in `home`) the call is lost on its way, as when the invocation dies
/// between recording the sync and calling its object: nothing is sent, nothing is reported.
pub async fn start(env: &Env, home: &Db, job: &NewJob) -> Result<(), String> {
    if home.fault("object.start").await {
        worker::console_warn!("sync {}: injected fault at object.start: the job was not handed over", job.sync_id);
        return Ok(());
    }
    let body = serde_json::to_string(job).map_err(|e| e.to_string())?;
    let mut answer = call(env, &job.sync_id, Command::Start, Some(body), &[]).await.map_err(|e| e.to_string())?;
    match answer.status_code() {
        200..=299 => Ok(()),
        status => Err(format!("it answered {status}: {}", answer.text().await.unwrap_or_default().chars().take(200).collect::<String>())),
    }
}

/// What the object says of its job; `None` when it could not be reached.
pub async fn poke(env: &Env, sync_id: &SyncId) -> Option<PokeAnswer> {
    let mut answer = call(env, sync_id, Command::Poke, None, &[]).await.ok()?;
    let body = answer.text().await.unwrap_or_default();
    PokeAnswer::from_wire(answer.status_code(), &body)
}

pub async fn cancel(env: &Env, sync_id: &SyncId) -> AppResult<CancelAnswer> {
    let answer = call(env, sync_id, Command::Cancel, None, &[]).await?;
    CancelAnswer::from_wire(answer.status_code())
        .ok_or_else(|| AppError::internal(format!("sync object answered {} to cancel", answer.status_code())))
}

/// Asks a running sync to end FAILED with `reason` (the service's own stop: a suspended
/// installation, say).
pub async fn fail(env: &Env, sync_id: &SyncId, reason: &str) -> AppResult<CancelAnswer> {
    let answer = call(env, sync_id, Command::Fail, Some(reason.to_string()), &[]).await?;
    CancelAnswer::from_wire(answer.status_code())
        .ok_or_else(|| AppError::internal(format!("sync object answered {} to fail", answer.status_code())))
}

/// The object's event stream (its response, passed through), or `None` when it holds no
/// job (never started, or its storage was cleared after the retention period).
pub async fn events(env: &Env, sync_id: &SyncId, last_event_id: Option<String>) -> AppResult<Option<Response>> {
    let headers: Vec<(&str, String)> = last_event_id.map(|v| ("last-event-id", v)).into_iter().collect();
    let response = call(env, sync_id, Command::Events, None, &headers).await?;
    match response.status_code() {
        200 => Ok(Some(response)),
        404 => Ok(None),
        other => Err(AppError::internal(format!("sync object answered {other} to events"))),
    }
}

/// The wasm memory of the isolate the sync's object runs in, in bytes.
pub async fn object_memory(env: &Env, sync_id: &SyncId) -> AppResult<u64> {
    let mut answer = call(env, sync_id, Command::Memory, None, &[]).await?;
    let body = answer.text().await.map_err(AppError::internal)?;
    body.trim().parse().map_err(|_| AppError::internal(format!("sync object answered {body:?} to memory")))
}

/// `eventsUrl`: the stream with a signed, short-lived token for this sync only.
pub fn events_url(settings: &Settings, sync_id: &SyncId) -> AppResult<String> {
    let token = stream_token(settings.stream_secret()?, sync_id, super::now_ms() / 1000 + STREAM_TOKEN_TTL_SECS);
    Ok(format!("/api/v1/events/project-sync/{sync_id}?access_token={token}"))
}
