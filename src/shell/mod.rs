//! The imperative shell: the Workers entry points and the thin adapters over the runtime.
//!
//! Entry points: `fetch` (the HTTP API, `routes`), `scheduled` (the cron tick,
//! `cron_tick`), `queue` (the fan-out consumer: webhook pushes, starts and the cron's head
//! checks, `fanout`), and the Durable Object `SyncObject` (one per sync, `sync_object`).
//!
//! Architecture invariants: SQL only in `d1`; a sync object's paths only through
//! `sync_client` (and `crate::sync_protocol`); the core never imports `worker`.

mod content;
mod cron_tick;
mod crypto;
mod d1;
mod fanout;
mod github_http;
mod head_check;
mod http;
mod isolate;
mod routes;
mod starts;
mod sync_client;
mod sync_object;
mod webhook;

use crate::config::Settings;
use crate::error::AppResult;
use d1::Db;
use github_http::GitHubHttp;
use std::rc::Rc;
use worker::{event, Context, Env, MessageBatch, Request, Response, ScheduleContext, ScheduledEvent};

#[event(start)]
fn start() {
    console_error_panic_hook::set_once();
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    routes::handle(req, &env).await
}

#[event(scheduled)]
async fn scheduled(event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    cron_tick::tick(&env, event.cron()).await;
}

#[event(queue)]
async fn queue(batch: MessageBatch<serde_json::Value>, env: Env, _ctx: Context) -> worker::Result<()> {
    fanout::consume(&batch, &env).await;
    Ok(())
}

/// Settings and secrets from the environment (secrets first, then `[vars]`).
pub fn settings(env: &Env) -> Settings {
    Settings::from_lookup(|name| env.secret(name).map(|s| s.to_string()).or_else(|_| env.var(name).map(|v| v.to_string())).ok())
}

/// What a handler, the cron tick and the queue consumer work with.
pub struct Services<'a> {
    pub env: &'a Env,
    pub db: Rc<Db>,
    pub settings: Settings,
}

impl<'a> Services<'a> {
    pub fn from_env(env: &'a Env) -> AppResult<Services<'a>> {
        let settings = settings(env);
        let db = Rc::new(Db::from_env(env, settings.fault_injection)?);
        Ok(Services { env, db, settings })
    }

    /// GitHub with the project's own token (decrypted; an unreadable one is an error, never
    /// a silent fall back to the global token), or the global one.
    pub async fn github_for(&self, sealed_token: Option<&str>) -> AppResult<GitHubHttp> {
        let token = match sealed_token {
            Some(sealed) => Some(crypto::decrypt_token(&self.settings.token_keys()?, sealed).await?),
            None => self.settings.github_token.clone(),
        };
        Ok(GitHubHttp::new(&self.settings.github_api_url, token, Some(Rc::clone(&self.db))))
    }
}

pub fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// RFC 3339 UTC with milliseconds, e.g. `2026-11-22T04:15:48.123Z`.
pub fn iso(ms: u64) -> String {
    String::from(js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64)).to_iso_string())
}

/// Epoch milliseconds of an RFC 3339 time we wrote (0 for anything unreadable).
pub fn parse_iso(time: &str) -> u64 {
    let ms = js_sys::Date::parse(time);
    if ms.is_finite() && ms > 0.0 {
        ms as u64
    } else {
        0
    }
}
