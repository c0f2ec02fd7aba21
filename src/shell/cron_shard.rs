//! `CronShard`: one of `cron::SHARDS` Durable Objects that work through a queue of tracked
//! projects, a bounded slice per alarm, each a conditional head check. A project syncs when
//! its head is a commit it does not hold — compared with the held commit, so a failed or
//! refused cron sync is tried again by the next tick.

use super::github_http::{GitHubHttp, HeadCheck};
use super::starts::{start_sync, StartRequest};
use super::{crypto::decrypt_token, d1::ProjectRow, iso, now_ms, Services};
use crate::cron;
use crate::domain::{CommitSha, SyncKind, Trigger};
use crate::error::{AppError, AppResult};
use serde::Deserialize;
use worker::{durable_object, DurableObject, Env, Method, Request, Response, SqlStorageValue, State};

/// The Durable Object namespace of the shards (wrangler.toml).
pub const BINDING: &str = "CRON_SHARDS";
pub const ENQUEUE_PATH: &str = "/enqueue";

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
        let svc = Services::from_env(&self.env).map_err(|e| worker::Error::RustError(e.to_string()))?;
        for row in &batch {
            match svc.db.project(&row.project_id).await {
                Ok(Some(project)) if project.tracked => {
                    if let Err(e) = check_project(&svc, &project).await {
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
            (Method::Post, ENQUEUE_PATH) => self.enqueue(req).await,
            _ => Ok(Response::ok("unknown shard route")?.with_status(404)),
        }
    }

    async fn alarm(&self) -> worker::Result<Response> {
        self.ensure_schema()?;
        self.work().await?;
        Response::ok("ok")
    }
}

/// One conditional request (the stored ETag, which names the commit it saw); a sync when
/// that head is not the commit the project holds. Returns whether a sync started.
async fn check_project(svc: &Services<'_>, project: &ProjectRow) -> AppResult<bool> {
    let token = match &project.github_token_enc {
        Some(sealed) => Some(decrypt_token(&svc.settings.token_keys()?, sealed).await?),
        None => svc.settings.github_token.clone(),
    };
    // The head check carries the project's own ETag; no cache is needed for it.
    let gh = GitHubHttp::new(&svc.settings.github_api_url, token, None);
    let known = project.head_etag.as_deref().zip(project.head_sha.as_ref());
    let checked = gh.head_if_moved(&project.repository, &project.branch, known.map(|(etag, _)| etag)).await;
    let (head, seen): (Option<CommitSha>, Option<(String, CommitSha)>) = match checked {
        Ok(HeadCheck::NotModified) => (known.map(|(_, sha)| sha.clone()), None),
        Ok(HeadCheck::Moved { sha, etag }) => (Some(sha.clone()), etag.map(|e| (e, sha))),
        Err(e) => {
            svc.db.record_head_check(project.id.as_str(), &iso(now_ms()), None).await?;
            return Err(e.into());
        }
    };
    let outcome = match head {
        Some(head) if cron::needs_sync(&head, project.current_commit_sha.as_ref()) => {
            let request = StartRequest { project, kind: SyncKind::Sync, trigger: Trigger::Cron, branch: &project.branch, restore_from: None };
            match start_sync(svc, request).await {
                Ok(_) => Ok(true),
                // Already running: the next tick compares again once it is done.
                Err(AppError::Conflict { .. }) => Ok(false),
                Err(e) => Err(e),
            }
        }
        _ => Ok(false),
    };
    // Whatever the outcome, the check happened: the project moves to the back of the queue.
    svc.db.record_head_check(project.id.as_str(), &iso(now_ms()), seen.as_ref().map(|(e, s)| (e.as_str(), s))).await?;
    outcome
}
