//! What only the admin token may do besides creating users: diagnostics (`GET
//! /_diagnostics`: the serving isolate's memory, what the benchmark reports, and the latest
//! dead letters of the fan-out queue), and, for tests only (`FAULT_INJECTION=true`), arming
//! a named fault (`POST /_test/faults`) and putting a raw message on the queue
//! (`POST /_test/enqueue`).

use crate::api::{parse_object, query_param};
use crate::auth::{bearer_token, constant_time_eq};
use crate::domain::RepoName;
use crate::domain::{ProjectId, SyncId};
use crate::error::{AppError, AppResult};
use crate::pack::pack_prefix;
use crate::shell::adapters::content::ContentBucket;
use crate::shell::adapters::http::{body, header, json};
use crate::shell::adapters::isolate::wasm_memory_bytes;
use crate::shell::adapters::Services;
use serde_json::{json, Value};
use worker::{QueueContentType, RawMessageBuilder, Request, Response};

/// Points where an armed fault makes the real adapter fail (see `d1::faults`); for
/// `d1.slow`, `times` is the delay in milliseconds before each statement of a sync.
const FAULT_POINTS: [&str; 6] = ["record.final", "commit", "object.start", "webhook.enqueue", "hooks.announce", "d1.slow"];

pub fn require_admin(svc: &Services<'_>, req: &Request, what: &str) -> AppResult<()> {
    let admin = svc.settings.admin_token()?;
    let authorization = header(req, "authorization");
    let given = bearer_token(authorization.as_deref()).unwrap_or("");
    if !constant_time_eq(given.as_bytes(), admin.as_bytes()) {
        return Err(AppError::Unauthorized(format!("{what} needs the admin token")));
    }
    Ok(())
}

/// What the benchmark and an operator read: the isolate's wasm memory, each database's own
/// size and project count, the latest dead letters; with `?sync=<id>` the memory of the
/// isolate that sync's object runs in, with `?project=<id>` the database holding it, and
/// with `?repository=owner/repo` that repository's objects in the content bucket, its
/// content rows and its full-text entries (every database).
pub async fn diagnostics(svc: &Services<'_>, req: &Request, query: &str) -> AppResult<Response> {
    require_admin(svc, req, "diagnostics")?;
    let dead_letters = svc.db.latest_dead_letters(20).await?;
    let mut databases = Vec::new();
    let mut total = 0;
    for db in svc.databases() {
        let size = db.size_bytes().await?.unwrap_or(0);
        total += size;
        databases.push(json!({ "binding": db.binding, "sizeBytes": size, "projects": db.project_count().await? }));
    }
    let mut body = json!({
        "version": crate::VERSION,
        "wasmMemoryBytes": wasm_memory_bytes(),
        "d1SizeBytes": total,
        "databases": databases,
        "deadLetters": dead_letters,
    });
    if let Some(raw) = query_param(query, "project") {
        let project = ProjectId::parse(&raw).map_err(|e| AppError::invalid("project", e.0))?;
        body["projectDatabase"] = json!(svc.locate(&project).await?.binding);
    }
    if let Some(raw) = query_param(query, "sync") {
        let sync = SyncId::parse(&raw).map_err(|e| AppError::invalid("sync", e.0))?;
        body["syncObjectWasmMemoryBytes"] = json!(crate::shell::adapters::sync_client::object_memory(svc.env, &sync).await?);
    }
    if let Some(raw) = query_param(query, "repository") {
        let repository = RepoName::parse(&raw).map_err(|e| AppError::invalid("repository", e.0))?;
        let (objects, bytes) = ContentBucket::from_env(svc.env)?.usage(&pack_prefix(&repository.canonical())).await?;
        let (mut rows, mut entries) = (0, 0);
        for db in svc.databases() {
            let (r, e) = db.content_usage(&repository.canonical(), &crate::content::fts_scope(&repository.canonical())).await?;
            rows += r;
            entries += e;
        }
        body["content"] = json!({
            "repository": repository.canonical(), "objects": objects, "bytes": bytes, "rows": rows, "ftsEntries": entries,
        });
    }
    json(200, &body)
}

pub async fn enqueue(svc: &Services<'_>, req: &mut Request) -> AppResult<Response> {
    if !svc.settings.fault_injection {
        return Err(AppError::NotFound("no route for POST /api/v1/_test/enqueue".into()));
    }
    require_admin(svc, req, "enqueueing")?;
    // Sent as the very JSON given (a serde `Value` would reach the queue as a JS `Map`).
    let text = String::from_utf8(body(req).await?).map_err(|e| AppError::invalid("body", e))?;
    let raw = js_sys::JSON::parse(&text).map_err(|_| AppError::invalid("body", "not JSON"))?;
    let message = RawMessageBuilder::new(raw).build_with_content_type(QueueContentType::Json);
    let queue = svc.env.queue(crate::shell::adapters::queues::FANOUT_BINDING).map_err(AppError::internal)?;
    queue.send_raw(message).await.map_err(AppError::internal)?;
    json(202, &json!({ "queued": true }))
}

pub async fn arm_fault(svc: &Services<'_>, req: &mut Request) -> AppResult<Response> {
    if !svc.settings.fault_injection {
        return Err(AppError::NotFound("no route for POST /api/v1/_test/faults".into()));
    }
    require_admin(svc, req, "arming a fault")?;
    let m = parse_object(&body(req).await?, false)?;
    let point = match m.get("point") {
        Some(Value::String(p)) if FAULT_POINTS.contains(&p.as_str()) => p.clone(),
        _ => return Err(AppError::invalid("point", format!("must be one of {}", FAULT_POINTS.join(", ")))),
    };
    let times = match m.get("times") {
        None => 1,
        Some(Value::Number(n)) if n.as_u64().is_some_and(|t| t <= 1_000) => n.as_u64().unwrap_or(1),
        Some(_) => return Err(AppError::invalid("times", "must be a whole number from 0 to 1000")),
    };
    for db in svc.databases() {
        db.arm_fault(&point, times).await?;
    }
    json(200, &json!({ "point": point, "times": times }))
}
