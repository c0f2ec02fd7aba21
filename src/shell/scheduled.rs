//! Syncs that start themselves: the cron tick (tracked projects whose branch moved, checked
//! with conditional requests) and GitHub push webhooks.

use super::d1::{n, opt, s, Db, ProjectRow, SyncRow, PROJECT_COLUMNS, RUNNING_STATUSES, SYNC_COLUMNS};
use super::github_http::{GitHubHttp, HeadCheck};
use super::http::{body, header, json};
use super::routes::{object_call, start_sync};
use super::{crypto::decrypt_token, iso, now_ms, Config};
use crate::auth::verify_webhook_signature;
use crate::cron;
use crate::domain::{BranchName, RepoName, SyncKind, Trigger};
use crate::error::{AppError, AppResult};
use serde::Deserialize;
use serde_json::json;
use worker::{durable_object, DurableObject, Env, Method, Request, Response, SqlStorageValue, State};

/// A running sync whose row has not moved for this long gets its object nudged.
const STALE_SYNC_MS: u64 = 5 * 60 * 1000;

pub async fn tick(env: &Env, cron: String) {
    let started = now_ms();
    match run_tick(env).await {
        Ok((queued, shards)) => worker::console_log!(
            "cron {cron}: queued {queued} tracked projects on {shards} shards in {} ms",
            now_ms() - started
        ),
        Err(e) => worker::console_error!("cron {cron} failed: {e}"),
    }
}

/// Queues every tracked project (least recently checked first) on its shard; the shards
/// make the head checks in their own alarm slices.
async fn run_tick(env: &Env) -> AppResult<(u64, u64)> {
    let db = Db::from_env(env)?;
    nudge_stale_syncs(&db, env).await?;
    #[derive(Deserialize)]
    struct Row {
        id: String,
    }
    let due: Vec<Row> = db
        .all(
            "SELECT id FROM projects WHERE tracked = 1 ORDER BY head_checked_at IS NOT NULL, head_checked_at, id LIMIT ?1",
            &[n(cron::MAX_QUEUED_PER_TICK)],
        )
        .await?;
    let queued = due.len() as u64;
    let plan = cron::plan(due.into_iter().map(|r| r.id).collect(), cron::SHARDS);
    let shards = plan.len() as u64;
    let namespace = env.durable_object("CRON_SHARDS").map_err(AppError::internal)?;
    for (shard, ids) in plan {
        let stub = namespace.id_from_name(&format!("shard-{shard}")).and_then(|id| id.get_stub()).map_err(AppError::internal)?;
        let body = serde_json::to_string(&json!({ "projectIds": ids })).map_err(AppError::internal)?;
        let mut init = worker::RequestInit::new();
        init.with_method(Method::Post).with_body(Some(body.into()));
        let req = Request::new_with_init("https://cron-shard/enqueue", &init).map_err(AppError::internal)?;
        if let Err(e) = stub.fetch_with_request(req).await {
            worker::console_warn!("cron: shard {shard} did not take its queue: {e}");
        }
    }
    Ok((queued, shards))
}

/// Works through one shard's queue of tracked projects, a bounded slice per alarm.
#[durable_object]
pub struct CronShard {
    state: State,
    env: Env,
}

impl CronShard {
    fn ensure_schema(&self) -> worker::Result<()> {
        self.state
            .storage()
            .sql()
            .exec("CREATE TABLE IF NOT EXISTS queue (project_id TEXT PRIMARY KEY, queued_at INTEGER NOT NULL)", None)?;
        Ok(())
    }

    async fn enqueue(&self, mut req: Request) -> worker::Result<Response> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Enqueue {
            project_ids: Vec<String>,
        }
        let input: Enqueue = req.json().await?;
        let sql = self.state.storage().sql();
        let now = now_ms() as i64;
        for id in &input.project_ids {
            // A project still waiting from an earlier tick is not queued twice.
            sql.exec(
                "INSERT INTO queue (project_id, queued_at) VALUES (?, ?) ON CONFLICT (project_id) DO NOTHING",
                vec![SqlStorageValue::String(id.clone()), SqlStorageValue::Integer(now)],
            )?;
        }
        let storage = self.state.storage();
        if storage.get_alarm().await?.is_none() {
            storage.set_alarm(std::time::Duration::from_millis(1)).await?;
        }
        Ok(Response::ok("queued")?.with_status(202))
    }

    async fn work(&self) -> worker::Result<()> {
        #[derive(Deserialize)]
        struct Row {
            project_id: String,
        }
        let sql = self.state.storage().sql();
        let batch: Vec<Row> = sql
            .exec(
                "SELECT project_id FROM queue ORDER BY queued_at, project_id LIMIT ?",
                vec![SqlStorageValue::Integer(cron::CHECKS_PER_SLICE as i64)],
            )?
            .to_array()?;
        if batch.is_empty() {
            return Ok(());
        }
        let db = Db::from_env(&self.env).map_err(|e| worker::Error::RustError(e.to_string()))?;
        let config = Config::from_env(&self.env);
        for row in &batch {
            match db.project(&row.project_id).await {
                Ok(Some(project)) if project.tracked != 0 => {
                    if let Err(e) = check_project(&db, &config, &self.env, &project).await {
                        worker::console_warn!("cron: project {}: {e}", project.id);
                    }
                }
                Ok(_) => {}
                Err(e) => worker::console_warn!("cron: project {}: {e}", row.project_id),
            }
            sql.exec("DELETE FROM queue WHERE project_id = ?", vec![SqlStorageValue::String(row.project_id.clone())])?;
        }
        let left: Vec<serde_json::Value> = sql.exec("SELECT 1 AS one FROM queue LIMIT 1", None)?.to_array()?;
        if !left.is_empty() {
            self.state.storage().set_alarm(std::time::Duration::from_millis(1)).await?;
        }
        Ok(())
    }
}

impl DurableObject for CronShard {
    fn new(state: State, env: Env) -> Self {
        CronShard { state, env }
    }

    async fn fetch(&self, req: Request) -> worker::Result<Response> {
        self.ensure_schema()?;
        match (req.method(), req.path().as_str()) {
            (Method::Post, "/enqueue") => self.enqueue(req).await,
            _ => Ok(Response::ok("unknown shard route")?.with_status(404)),
        }
    }

    async fn alarm(&self) -> worker::Result<Response> {
        self.ensure_schema()?;
        self.work().await?;
        Response::ok("ok")
    }
}

/// One conditional request; a sync only when the head moved past what we hold.
async fn check_project(db: &Db, config: &Config, env: &Env, project: &ProjectRow) -> AppResult<bool> {
    let repo = RepoName::parse(&project.repository).map_err(|e| AppError::internal(e.0))?;
    let branch = BranchName::parse(&project.branch).map_err(|e| AppError::internal(e.0))?;
    let token = match &project.github_token_enc {
        Some(sealed) => Some(decrypt_token(&config.token_key, sealed).await?),
        None => config.github_token.clone(),
    };
    // The head check carries the project's own ETag; no cache is needed for it.
    let gh = GitHubHttp::new(&config.github_api_url, token, None);
    // Whatever the outcome, the check happened: it moves to the back of the queue. The
    // ETag is kept only once the head it describes is held or being synced, so a failed
    // start is retried by the next tick instead of being answered 304 forever.
    let (outcome, new_etag) = match gh.head_if_moved(&repo, &branch, project.head_etag.as_deref()).await {
        Ok(HeadCheck::NotModified) => (Ok(false), None),
        Err(e) => (Err(e.into()), None),
        Ok(HeadCheck::Moved { sha, etag }) if project.current_commit_sha.as_deref() == Some(sha.as_str()) => (Ok(false), etag),
        Ok(HeadCheck::Moved { etag, .. }) => {
            match start_sync(db, env, config, project, SyncKind::Sync, Trigger::Cron, &branch, None).await {
                Ok(_) => (Ok(true), etag),
                // Already running: the next tick compares again once it is done.
                Err(AppError::Conflict { .. }) => (Ok(false), None),
                Err(e) => (Err(e), None),
            }
        }
    };
    db.run(
        "UPDATE projects SET head_checked_at = ?2, head_etag = COALESCE(?3, head_etag) WHERE id = ?1",
        &[s(&project.id), s(&iso(now_ms())), opt(new_etag.as_deref())],
    )
    .await?;
    outcome
}

async fn nudge_stale_syncs(db: &Db, env: &Env) -> AppResult<()> {
    let cutoff = iso(now_ms().saturating_sub(STALE_SYNC_MS));
    let stale: Vec<SyncRow> = db
        .all(
            &format!("SELECT {SYNC_COLUMNS} FROM syncs s WHERE s.status IN {RUNNING_STATUSES} AND s.started_at < ?1 LIMIT 50"),
            &[s(&cutoff)],
        )
        .await?;
    for sync in stale {
        let _ = object_call(env, &sync.id, Method::Post, "/poke", None).await;
    }
    Ok(())
}

#[derive(Deserialize)]
struct PushEvent {
    #[serde(rename = "ref")]
    git_ref: Option<String>,
    #[serde(default)]
    deleted: bool,
    repository: Option<PushRepository>,
}

#[derive(Deserialize)]
struct PushRepository {
    full_name: String,
}

/// `POST /api/v1/webhooks/github`: verified, de-duplicated, and quick (no GitHub calls).
pub async fn webhook(db: &Db, config: &Config, env: &Env, req: &mut Request) -> AppResult<Response> {
    let raw = body(req).await?;
    let secret = config
        .webhook_secret
        .as_deref()
        .ok_or_else(|| AppError::Unauthorized("webhooks are not configured (no WEBHOOK_SECRET)".into()))?;
    if !verify_webhook_signature(secret.as_bytes(), &raw, header(req, "x-hub-signature-256").as_deref()) {
        return Err(AppError::Unauthorized("X-Hub-Signature-256 does not match the payload".into()));
    }
    let event = header(req, "x-github-event").unwrap_or_default();
    let delivery = header(req, "x-github-delivery").filter(|d| !d.is_empty() && d.len() <= 100);
    if event == "ping" {
        return json(200, &json!({"ok": true, "event": "ping"}));
    }
    if event != "push" {
        return json(202, &json!({"ok": true, "ignored": format!("event {event:?} is not handled")}));
    }
    if let Some(id) = &delivery {
        let fresh = db
            .run(
                "INSERT INTO webhook_deliveries (id, event, received_at) VALUES (?1, ?2, ?3) ON CONFLICT (id) DO NOTHING",
                &[s(id), s(&event), s(&iso(now_ms()))],
            )
            .await?;
        if fresh == 0 {
            return json(200, &json!({"ok": true, "ignored": "repeated delivery", "delivery": id}));
        }
    }
    let push: PushEvent = serde_json::from_slice(&raw).map_err(|e| AppError::invalid("body", format!("is not a push event ({e})")))?;
    let (Some(git_ref), Some(repo)) = (push.git_ref, push.repository) else {
        return Err(AppError::invalid("body", "a push event needs ref and repository.full_name"));
    };
    let Some(branch) = git_ref.strip_prefix("refs/heads/") else {
        return json(202, &json!({"ok": true, "ignored": "not a branch push"}));
    };
    if push.deleted {
        return json(202, &json!({"ok": true, "ignored": "branch deleted"}));
    }
    let projects: Vec<ProjectRow> = db
        .all(
            &format!(
                "SELECT {PROJECT_COLUMNS} FROM projects WHERE tracked = 1 AND repository = ?1 COLLATE NOCASE AND branch = ?2"
            ),
            &[s(&repo.full_name), s(branch)],
        )
        .await?;
    let branch = BranchName::parse(branch).map_err(|e| AppError::invalid("ref", e))?;
    let mut started = Vec::new();
    let mut busy = Vec::new();
    for project in &projects {
        match start_sync(db, env, config, project, SyncKind::Sync, Trigger::Webhook, &branch, None).await {
            Ok(sync) => started.push(sync.id),
            Err(AppError::Conflict { .. }) => busy.push(project.id.clone()),
            Err(e) => return Err(e),
        }
    }
    json(202, &json!({"ok": true, "started": started, "alreadyRunning": busy}))
}
