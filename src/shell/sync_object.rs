//! The Durable Object that runs one sync: it keeps the engine's checkpoint, its scratch
//! tables and the event log in its own SQLite, advances the pipeline in alarm-driven slices,
//! and serves the event stream to any number of subscribers.

use super::crypto::decrypt_token;
use super::d1::{Db, EngineStore};
use super::github_http::GitHubHttp;
use super::{now_ms, Config};
use crate::diff::{Change, FileEntry};
use crate::engine::{self, Job, NewJob, Ports, Scratch, ScratchMap, StoreError};
use crate::progress::{event_name, parse_last_event_id, sse_frame, ProgressData, KEEP_ALIVE_FRAME, KEEP_ALIVE_INTERVAL_MS};
use futures::channel::mpsc::{unbounded, UnboundedReceiver, UnboundedSender};
use futures::future::{select, Either};
use futures::{stream, StreamExt};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;
use worker::{
    durable_object, DurableObject, Env, Headers, Method, Request, Response, Result, SqlStorage, SqlStorageValue, State,
};

/// Wall time one alarm invocation spends on steps before yielding to a fresh invocation
/// (fresh CPU and subrequest budgets, and a checkpoint that bounds lost work).
const SLICE_MS: u64 = 8_000;
/// If a slice dies with the object, this alarm resumes the sync.
const WATCHDOG_MS: u64 = 30_000;

#[durable_object]
pub struct SyncObject {
    state: State,
    env: Env,
    subscribers: RefCell<Vec<UnboundedSender<String>>>,
}

/// What the worker sends to `/start`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartRequest {
    pub sync_id: String,
    pub project_id: String,
    pub repository: String,
    pub branch: String,
    pub kind: crate::domain::SyncKind,
    pub trigger: crate::domain::Trigger,
    pub restore_from: Option<(String, u64, Option<String>)>,
    pub started_at_ms: u64,
    pub max_text_bytes: u64,
}

#[derive(Deserialize)]
struct Body {
    body: String,
}

#[derive(Deserialize)]
struct EventRow {
    id: i64,
    name: String,
    data: String,
}

fn sql_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Other(format!("object storage: {e}"))
}

fn text(v: impl Into<String>) -> SqlStorageValue {
    SqlStorageValue::String(v.into())
}

/// The engine's `Scratch` port over the object's SQLite.
struct ObjectScratch {
    sql: SqlStorage,
}

impl Scratch for ObjectScratch {
    fn put_wanted(&self, files: &[FileEntry]) -> std::result::Result<(), StoreError> {
        for f in files {
            let body = serde_json::to_string(f).map_err(sql_err)?;
            self.sql
                .exec("INSERT OR REPLACE INTO wanted (path, body) VALUES (?, ?)", vec![text(f.path.clone()), text(body)])
                .map_err(sql_err)?;
        }
        Ok(())
    }

    fn wanted(&self) -> std::result::Result<Vec<FileEntry>, StoreError> {
        let rows: Vec<Body> = self.sql.exec("SELECT body FROM wanted ORDER BY path", None).map_err(sql_err)?.to_array().map_err(sql_err)?;
        rows.into_iter().map(|r| serde_json::from_str(&r.body).map_err(sql_err)).collect()
    }

    fn put_changes(&self, changes: &[Change]) -> std::result::Result<(), StoreError> {
        self.sql.exec("DELETE FROM changes", None).map_err(sql_err)?;
        for (i, c) in changes.iter().enumerate() {
            let body = serde_json::to_string(c).map_err(sql_err)?;
            self.sql
                .exec("INSERT INTO changes (idx, body) VALUES (?, ?)", vec![SqlStorageValue::Integer(i as i64), text(body)])
                .map_err(sql_err)?;
        }
        Ok(())
    }

    fn changes(&self, offset: u64, limit: u64) -> std::result::Result<Vec<Change>, StoreError> {
        let rows: Vec<Body> = self
            .sql
            .exec(
                "SELECT body FROM changes WHERE idx >= ? ORDER BY idx LIMIT ?",
                vec![SqlStorageValue::Integer(offset as i64), SqlStorageValue::Integer(limit as i64)],
            )
            .map_err(sql_err)?
            .to_array()
            .map_err(sql_err)?;
        rows.into_iter().map(|r| serde_json::from_str(&r.body).map_err(sql_err)).collect()
    }

    fn map_put(&self, map: ScratchMap, entries: &[(String, String)]) -> std::result::Result<(), StoreError> {
        for (k, v) in entries {
            self.sql
                .exec("INSERT OR REPLACE INTO maps (name, key, value) VALUES (?, ?, ?)", vec![text(map.name()), text(k.clone()), text(v.clone())])
                .map_err(sql_err)?;
        }
        Ok(())
    }

    fn map_get(&self, map: ScratchMap, key: &str) -> std::result::Result<Option<String>, StoreError> {
        #[derive(Deserialize)]
        struct Row {
            value: String,
        }
        let rows: Vec<Row> = self
            .sql
            .exec("SELECT value FROM maps WHERE name = ? AND key = ?", vec![text(map.name()), text(key)])
            .map_err(sql_err)?
            .to_array()
            .map_err(sql_err)?;
        Ok(rows.into_iter().next().map(|r| r.value))
    }

    fn map_all(&self, map: ScratchMap) -> std::result::Result<Vec<(String, String)>, StoreError> {
        #[derive(Deserialize)]
        struct Row {
            key: String,
            value: String,
        }
        let rows: Vec<Row> = self
            .sql
            .exec("SELECT key, value FROM maps WHERE name = ? ORDER BY key", vec![text(map.name())])
            .map_err(sql_err)?
            .to_array()
            .map_err(sql_err)?;
        Ok(rows.into_iter().map(|r| (r.key, r.value)).collect())
    }

    fn put_pending_blobs(&self, blobs: &[(String, u64, String)]) -> std::result::Result<(), StoreError> {
        self.sql.exec("DELETE FROM pending_blobs", None).map_err(sql_err)?;
        for (i, (sha, size, path)) in blobs.iter().enumerate() {
            self.sql
                .exec(
                    "INSERT INTO pending_blobs (idx, sha, size, path) VALUES (?, ?, ?, ?)",
                    vec![SqlStorageValue::Integer(i as i64), text(sha.clone()), SqlStorageValue::Integer(*size as i64), text(path.clone())],
                )
                .map_err(sql_err)?;
        }
        Ok(())
    }

    fn pending_blobs(&self, offset: u64, limit: u64) -> std::result::Result<Vec<(String, u64, String)>, StoreError> {
        #[derive(Deserialize)]
        struct Row {
            sha: String,
            size: i64,
            path: String,
        }
        let rows: Vec<Row> = self
            .sql
            .exec(
                "SELECT sha, size, path FROM pending_blobs WHERE idx >= ? ORDER BY idx LIMIT ?",
                vec![SqlStorageValue::Integer(offset as i64), SqlStorageValue::Integer(limit.min(i64::MAX as u64) as i64)],
            )
            .map_err(sql_err)?
            .to_array()
            .map_err(sql_err)?;
        Ok(rows.into_iter().map(|r| (r.sha, r.size.max(0) as u64, r.path)).collect())
    }

    fn clear(&self) -> std::result::Result<(), StoreError> {
        for table in ["wanted", "changes", "pending_blobs", "maps"] {
            self.sql.exec(&format!("DELETE FROM {table}"), None).map_err(sql_err)?;
        }
        Ok(())
    }
}

fn parse<T>(what: &str, r: std::result::Result<T, crate::domain::Invalid>) -> Result<T> {
    r.map_err(|e| worker::Error::RustError(format!("{what}: {e}")))
}

fn text_response(status: u16, body: &str) -> Result<Response> {
    Ok(Response::ok(body)?.with_status(status))
}

impl SyncObject {
    fn sql(&self) -> SqlStorage {
        self.state.storage().sql()
    }

    fn ensure_schema(&self) -> Result<()> {
        let sql = self.sql();
        sql.exec("CREATE TABLE IF NOT EXISTS job (id INTEGER PRIMARY KEY CHECK (id = 1), body TEXT NOT NULL, cancel INTEGER NOT NULL DEFAULT 0)", None)?;
        sql.exec("CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, name TEXT NOT NULL, data TEXT NOT NULL)", None)?;
        sql.exec("CREATE TABLE IF NOT EXISTS wanted (path TEXT PRIMARY KEY, body TEXT NOT NULL) WITHOUT ROWID", None)?;
        sql.exec("CREATE TABLE IF NOT EXISTS changes (idx INTEGER PRIMARY KEY, body TEXT NOT NULL)", None)?;
        sql.exec("CREATE TABLE IF NOT EXISTS maps (name TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (name, key)) WITHOUT ROWID", None)?;
        sql.exec("CREATE TABLE IF NOT EXISTS pending_blobs (idx INTEGER PRIMARY KEY, sha TEXT NOT NULL, size INTEGER NOT NULL, path TEXT NOT NULL)", None)?;
        Ok(())
    }

    fn load_job(&self) -> Result<Option<Job>> {
        let rows: Vec<Body> = self.sql().exec("SELECT body FROM job WHERE id = 1", None)?.to_array()?;
        match rows.into_iter().next() {
            Some(r) => Ok(Some(serde_json::from_str(&r.body).map_err(|e| worker::Error::RustError(e.to_string()))?)),
            None => Ok(None),
        }
    }

    fn save_job(&self, job: &Job) -> Result<()> {
        let body = serde_json::to_string(job).map_err(|e| worker::Error::RustError(e.to_string()))?;
        self.sql().exec(
            "INSERT INTO job (id, body) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET body = excluded.body",
            vec![text(body)],
        )?;
        Ok(())
    }

    fn cancel_flag(&self) -> Result<bool> {
        #[derive(Deserialize)]
        struct Flag {
            cancel: i64,
        }
        let rows: Vec<Flag> = self.sql().exec("SELECT cancel FROM job WHERE id = 1", None)?.to_array()?;
        Ok(rows.first().is_some_and(|f| f.cancel != 0))
    }

    /// Appends an event to the log and hands its frame to every live subscriber.
    fn publish(&self, event: &ProgressData) -> Result<()> {
        let data = serde_json::to_string(event).map_err(|e| worker::Error::RustError(e.to_string()))?;
        let name = event_name(event.status);
        let rows: Vec<EventRow> = self
            .sql()
            .exec("INSERT INTO events (name, data) VALUES (?, ?) RETURNING id, name, data", vec![text(name), text(data)])?
            .to_array()?;
        if let Some(row) = rows.first() {
            let frame = sse_frame(row.id as u64, &row.name, &row.data);
            self.subscribers.borrow_mut().retain(|tx| tx.unbounded_send(frame.clone()).is_ok());
        }
        if event.status.is_terminal() {
            // Dropping the senders ends every live stream right after the terminal event.
            self.subscribers.borrow_mut().clear();
        }
        Ok(())
    }

    async fn start(&self, mut req: Request) -> Result<Response> {
        let start: StartRequest = req.json().await?;
        if self.load_job()?.is_some() {
            return text_response(200, "already started");
        }
        let restore_from = match start.restore_from {
            Some((id, seq, sha)) => Some((
                parse("restore id", crate::domain::Id::parse(&id))?,
                seq,
                sha.map(|s| parse("restore sha", crate::domain::CommitSha::parse(&s))).transpose()?,
            )),
            None => None,
        };
        let job = Job::new(NewJob {
            sync_id: parse("sync id", crate::domain::Id::parse(&start.sync_id))?,
            project_id: parse("project id", crate::domain::Id::parse(&start.project_id))?,
            repository: parse("repository", crate::domain::RepoName::parse(&start.repository))?,
            branch: parse("branch", crate::domain::BranchName::parse(&start.branch))?,
            kind: start.kind,
            trigger: start.trigger,
            restore_from,
            started_at_ms: start.started_at_ms,
            max_text_bytes: start.max_text_bytes,
        });
        self.save_job(&job)?;
        self.publish(&job.event())?;
        self.state.storage().set_alarm(Duration::from_millis(1)).await?;
        text_response(202, "started")
    }

    async fn cancel(&self) -> Result<Response> {
        let Some(job) = self.load_job()? else { return text_response(404, "no such sync") };
        if job.is_finished() || job.phase == engine::Phase::Commit {
            return text_response(409, job.status.as_str());
        }
        self.sql().exec("UPDATE job SET cancel = 1 WHERE id = 1", None)?;
        self.ensure_alarm(1).await?;
        text_response(202, "cancelling")
    }

    /// Makes sure an unfinished sync has an alarm that will advance it.
    async fn ensure_alarm(&self, in_ms: u64) -> Result<()> {
        let storage = self.state.storage();
        if storage.get_alarm().await?.is_none() {
            storage.set_alarm(Duration::from_millis(in_ms)).await?;
        }
        Ok(())
    }

    async fn poke(&self) -> Result<Response> {
        match self.load_job()? {
            Some(job) if !job.is_finished() => {
                self.ensure_alarm(1).await?;
                text_response(202, "running")
            }
            Some(job) => text_response(200, job.status.as_str()),
            None => text_response(404, "no such sync"),
        }
    }

    fn events(&self, req: &Request) -> Result<Response> {
        let Some(job) = self.load_job()? else {
            return text_response(404, "no such sync");
        };
        let last = parse_last_event_id(req.headers().get("last-event-id")?.as_deref());
        let backlog: Vec<EventRow> = self
            .sql()
            .exec("SELECT id, name, data FROM events WHERE id > ? ORDER BY id", vec![SqlStorageValue::Integer(last as i64)])?
            .to_array()?;
        let frames: Vec<String> = backlog.iter().map(|e| sse_frame(e.id as u64, &e.name, &e.data)).collect();
        // No await between reading the backlog and subscribing: no event can fall between them.
        let body = if job.is_finished() {
            stream::iter(frames).boxed_local()
        } else {
            let (tx, rx) = unbounded();
            self.subscribers.borrow_mut().push(tx);
            stream::iter(frames).chain(live(rx)).boxed_local()
        };
        let headers = Headers::new();
        headers.set("content-type", "text/event-stream; charset=utf-8")?;
        headers.set("cache-control", "no-cache, no-transform")?;
        headers.set("x-accel-buffering", "no")?;
        Ok(Response::from_stream(body.map(|frame| Ok::<Vec<u8>, worker::Error>(frame.into_bytes())))?.with_headers(headers))
    }

    async fn github_for(&self, db: &Rc<Db>, config: &Config, job: &Job) -> GitHubHttp {
        let own = match db.project(job.project_id.as_str()).await {
            Ok(Some(p)) => match p.github_token_enc {
                Some(sealed) => decrypt_token(&config.token_key, &sealed).await.ok(),
                None => None,
            },
            _ => None,
        };
        GitHubHttp::new(&config.github_api_url, own.or_else(|| config.github_token.clone()), Some(Rc::clone(db)))
    }

    /// Advances the sync for up to `SLICE_MS`, checkpointing after every step.
    async fn run_slice(&self) -> Result<()> {
        self.ensure_schema()?;
        let Some(mut job) = self.load_job()? else { return Ok(()) };
        if job.is_finished() {
            return Ok(());
        }
        let storage = self.state.storage();
        storage.set_alarm(Duration::from_millis(WATCHDOG_MS)).await?;
        let config = Config::from_env(&self.env);
        let db = Rc::new(Db::from_env(&self.env).map_err(|e| worker::Error::RustError(e.to_string()))?);
        let github = self.github_for(&db, &config, &job).await;
        let store = EngineStore { db: &db };
        let scratch = ObjectScratch { sql: self.sql() };
        let ports = Ports { github: &github, store: &store, scratch: &scratch };
        let slice_started = now_ms();
        loop {
            if self.cancel_flag()? {
                job.cancel_requested = true;
            }
            let events = engine::step(&mut job, &ports, now_ms()).await;
            self.save_job(&job)?;
            for e in &events {
                self.publish(e)?;
            }
            if job.is_finished() {
                storage.delete_alarm().await?;
                return Ok(());
            }
            if now_ms().saturating_sub(slice_started) >= SLICE_MS {
                storage.set_alarm(Duration::from_millis(1)).await?;
                return Ok(());
            }
        }
    }
}

/// Live frames, with a keep-alive comment whenever the sync is quiet; ends when the
/// object drops the sender (after the terminal event).
fn live(rx: UnboundedReceiver<String>) -> impl futures::Stream<Item = String> {
    stream::unfold(rx, |mut rx| async move {
        let tick = worker::Delay::from(Duration::from_millis(KEEP_ALIVE_INTERVAL_MS));
        let next = rx.next();
        futures::pin_mut!(tick);
        match select(next, tick).await {
            Either::Left((Some(frame), _)) => Some((frame, rx)),
            Either::Left((None, _)) => None,
            Either::Right(((), _)) => Some((KEEP_ALIVE_FRAME.to_string(), rx)),
        }
    })
}

impl DurableObject for SyncObject {
    fn new(state: State, env: Env) -> Self {
        SyncObject { state, env, subscribers: RefCell::new(Vec::new()) }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        self.ensure_schema()?;
        let path = req.path();
        match (req.method(), path.as_str()) {
            (Method::Post, "/start") => self.start(req).await,
            (Method::Get, "/events") => self.events(&req),
            (Method::Post, "/cancel") => self.cancel().await,
            (Method::Post, "/poke") => self.poke().await,
            _ => text_response(404, "unknown object route"),
        }
    }

    async fn alarm(&self) -> Result<Response> {
        self.run_slice().await?;
        Response::ok("ok")
    }
}
