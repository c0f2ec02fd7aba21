//! The imperative shell: the Workers entry points and the thin adapters over the runtime
//! (HTTP, D1, the sync Durable Object, GitHub over fetch, WebCrypto, cron).

mod crypto;
mod d1;
mod github_http;
mod http;
mod routes;
mod scheduled;
mod sync_object;

use worker::{event, Context, Env, Request, Response, ScheduleContext, ScheduledEvent};

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
    scheduled::tick(&env, event.cron()).await;
}

/// Settings and secrets, read once per request from the environment.
pub struct Config {
    pub github_api_url: String,
    pub github_token: Option<String>,
    pub admin_token: Option<String>,
    pub webhook_secret: Option<String>,
    pub stream_secret: Vec<u8>,
    pub token_key: Vec<u8>,
    pub max_text_bytes: u64,
}

impl Config {
    pub fn from_env(env: &Env) -> Config {
        let get = |name: &str| -> Option<String> {
            env.secret(name)
                .map(|s| s.to_string())
                .or_else(|_| env.var(name).map(|v| v.to_string()))
                .ok()
                .filter(|s| !s.is_empty())
        };
        let admin_token = get("ADMIN_TOKEN");
        // Derived keys keep a one-secret set-up working; production sets its own.
        let derive = |purpose: &str| crate::auth::hmac_sha256(admin_token.as_deref().unwrap_or("").as_bytes(), purpose.as_bytes()).to_vec();
        Config {
            github_api_url: get("GITHUB_API_URL").unwrap_or_else(|| "https://api.github.com".into()),
            github_token: get("GITHUB_TOKEN"),
            webhook_secret: get("WEBHOOK_SECRET"),
            stream_secret: get("STREAM_TOKEN_SECRET").map(String::into_bytes).unwrap_or_else(|| derive("stream-token")),
            token_key: get("TOKEN_ENCRYPTION_KEY")
                .map(|k| crate::auth::hmac_sha256(k.as_bytes(), b"token-encryption").to_vec())
                .unwrap_or_else(|| derive("token-encryption")),
            max_text_bytes: get("MAX_TEXT_BYTES")
                .and_then(|v| v.parse().ok())
                .unwrap_or(crate::content::DEFAULT_MAX_TEXT_BYTES),
            admin_token,
        }
    }
}

pub fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// RFC 3339 UTC with milliseconds, e.g. `2026-11-22T04:15:48.123Z`.
pub fn iso(ms: u64) -> String {
    String::from(js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64)).to_iso_string())
}
