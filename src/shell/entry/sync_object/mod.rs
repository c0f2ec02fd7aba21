//! The Durable Object that runs one sync. It keeps the job's checkpoint, its scratch tables
//! and the event log in its own SQLite (`log`, `scratch`), advances the pipeline in alarm
//! slices (`engine::slice`), and serves the event stream to any number of subscribers.
//!
//! Its alarm is the sync's watchdog: set before each slice, so a slice that dies with the
//! object is resumed, and kept until the job is finished — the sync's row says how it
//! ended. A finished object keeps its events for `RETENTION_MS` (late readers replay
//! them), then deletes its storage.

mod log;
mod scratch;

use crate::engine::slice::{run_slice, Next};
use crate::engine::{self, Job, Meter, NewJob, Phase, Ports};
use crate::progress::parse_last_event_id;
use crate::shell::adapters::content::ContentBucket;
use crate::shell::adapters::d1::EngineStore;
use crate::shell::adapters::github::GitHubHttp;
use crate::shell::adapters::queues::send_sync_ended;
use crate::shell::adapters::{now_ms, settings, Services};
use crate::sync_protocol::{CancelAnswer, Command, PokeAnswer};
use futures::channel::mpsc::UnboundedSender;
use log::{Log, LOG_DDL};
use scratch::{ObjectScratch, SCRATCH_DDL};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;
use worker::{durable_object, DurableObject, Env, Method, Request, Response, Result, State};

/// If a slice dies with the object, this alarm resumes the sync. (A slice is about 8 s; one
/// that outlasts its watchdog is not run twice: see `slice_running`.)
const WATCHDOG_MS: u64 = 15_000;
/// How long a finished sync's events stay for replay before the object forgets it.
const RETENTION_MS: u64 = 7 * 24 * 60 * 60 * 1000;
/// A failed announcement of the end to the hooks queue is tried again after this long.
const ANNOUNCE_RETRY_MS: u64 = 10_000;

#[durable_object]
pub struct SyncObject {
    state: State,
    env: Env,
    subscribers: RefCell<Vec<UnboundedSender<String>>>,
    /// A slice is running in this instance: an alarm that fires meanwhile (the watchdog of
    /// a long step) only makes sure another alarm follows, and leaves the slice alone.
    slice_running: Cell<bool>,
}

fn reply(status: u16, body: &str) -> Result<Response> {
    Ok(Response::ok(body)?.with_status(status))
}

impl SyncObject {
    fn log(&self) -> Log<'_> {
        Log { sql: self.state.storage().sql(), subscribers: &self.subscribers }
    }

    fn ensure_schema(&self) -> Result<()> {
        let sql = self.state.storage().sql();
        for ddl in LOG_DDL.iter().chain(SCRATCH_DDL) {
            sql.exec(ddl, None)?;
        }
        Ok(())
    }

    async fn start(&self, mut req: Request) -> Result<Response> {
        let new: NewJob = req.json().await?;
        if self.log().load_job()?.is_some() {
            return reply(200, "already started");
        }
        let job = Job::new(new);
        use crate::engine::slice::Checkpoint;
        self.log().save(&job, &[job.event()]).map_err(|e| worker::Error::RustError(e.to_string()))?;
        self.state.storage().set_alarm(Duration::from_millis(1)).await?;
        reply(202, "started")
    }

    /// A cancel, or with `fail_reason` a stop that fails the sync; either is taken up
    /// between two steps, never during the commit.
    async fn stop(&self, fail_reason: Option<String>) -> Result<Response> {
        let answer = match self.log().load_job()? {
            None => CancelAnswer::NoJob,
            Some(job) if job.is_finished() || matches!(job.phase, Phase::Commit | Phase::Ending) => CancelAnswer::TooLate,
            Some(_) => {
                match &fail_reason {
                    Some(why) => self.log().request_fail(why)?,
                    None => self.log().request_cancel()?,
                }
                self.ensure_alarm(1).await?;
                CancelAnswer::Cancelling
            }
        };
        let (status, body) = answer.to_wire();
        reply(status, &body)
    }

    /// Makes sure an unfinished sync has an alarm that will advance it.
    async fn ensure_alarm(&self, in_ms: u64) -> Result<()> {
        let storage = self.state.storage();
        if storage.get_alarm().await?.is_none() {
            storage.set_alarm(Duration::from_millis(in_ms)).await?;
        }
        Ok(())
    }

    /// An unfinished job gets an alarm; a finished one writes its ending to the row again
    /// (a no-op unless the row somehow still says running).
    async fn poke(&self) -> Result<Response> {
        let answer = match self.log().load_job()? {
            None => PokeAnswer::NoJob,
            Some(job) if !job.is_finished() => {
                self.ensure_alarm(1).await?;
                PokeAnswer::Running
            }
            Some(job) => {
                if let (Ok(svc), Ok(content)) = (Services::from_env(&self.env), ContentBucket::from_env(&self.env)) {
                    if let Ok(db) = svc.locate(&job.project_id).await {
                        let store = EngineStore { db, content: &content };
                        let _ = crate::engine::Store::record(&store, &job, Some(now_ms())).await;
                    }
                }
                PokeAnswer::Finished(job.status)
            }
        };
        let (status, body) = answer.to_wire();
        reply(status, &body)
    }

    fn events(&self, req: &Request) -> Result<Response> {
        let Some(job) = self.log().load_job()? else {
            return reply(404, "no such sync");
        };
        let last = parse_last_event_id(req.headers().get("last-event-id")?.as_deref());
        self.log().stream(&job, last)
    }

    /// GitHub for the job, as its project speaks to it (`Services::github_for`). A token
    /// that cannot be decrypted fails the sync with that reason instead of syncing with
    /// another token; so does an installation GitHub suspended or deleted, at the next
    /// slice of every sync of its projects.
    async fn github_for(&self, svc: &Services<'_>, job: &mut Job, meter: &Rc<Meter>) -> GitHubHttp {
        let anonymous = || GitHubHttp::with_token(&svc.settings.github_api_url, None, None);
        let project = match svc.for_project(&job.project_id).project(&job.project_id).await {
            Ok(Some(p)) => p,
            // Gone or unreadable: the step's own reads decide what happens to the job.
            _ => return anonymous(),
        };
        match svc.github_for(&project).await {
            Ok(gh) => {
                // The installation's row, read here once, also serves the slice's requests.
                if let Some(why) = match gh.installation() {
                    Some(tokens) => tokens.refusal().await,
                    None => None,
                } {
                    engine::abandon(job, why);
                    return anonymous();
                }
                gh.metered(Rc::clone(meter))
            }
            Err(e) => {
                worker::console_error!("sync {}: {e}", job.sync_id);
                engine::abandon(
                    job,
                    "the project's GitHub token could not be read (see the service log: a missing or rotated TOKEN_ENCRYPTION_KEY)".into(),
                );
                anonymous()
            }
        }
    }

    /// Advances the sync for one slice, then sets the alarm for what comes next.
    async fn run_slice(&self) -> Result<()> {
        let log = self.log();
        let Some(mut job) = log.load_job()? else {
            return Ok(());
        };
        job.upgrade();
        let storage = self.state.storage();
        if job.is_finished() {
            if !self.announce(&log, &job).await {
                return storage.set_alarm(Duration::from_millis(ANNOUNCE_RETRY_MS)).await;
            }
            return self.forget_when_due(&log).await;
        }
        storage.set_alarm(Duration::from_millis(WATCHDOG_MS)).await?;
        let settings = settings(&self.env);
        let meter = Rc::new(Meter::default());
        let svc = Services::with_meter(&self.env, settings, Some(&meter)).map_err(|e| worker::Error::RustError(e.to_string()))?;
        let db = svc.locate(&job.project_id).await.map_err(|e| worker::Error::RustError(e.to_string()))?;
        db.take_slowness().await;
        let github = self.github_for(&svc, &mut job, &meter).await;
        let content = ContentBucket::from_env(&self.env).map_err(|e| worker::Error::RustError(e.to_string()))?;
        let store = EngineStore { db, content: &content };
        let scratch = ObjectScratch { sql: storage.sql() };
        let ports = Ports { github: &github, store: &store, scratch: &scratch, meter: &meter };
        let next = run_slice(&mut job, &ports, &log, &now_ms).await.map_err(|e| worker::Error::RustError(e.to_string()))?;
        match next {
            Next::Done => {
                log.mark_finished(now_ms())?;
                let wait = if self.announce(&log, &job).await { RETENTION_MS } else { ANNOUNCE_RETRY_MS };
                storage.set_alarm(Duration::from_millis(wait)).await?;
            }
            Next::Now => storage.set_alarm(Duration::from_millis(1)).await?,
            Next::After(ms) => storage.set_alarm(Duration::from_millis(ms)).await?,
        }
        Ok(())
    }

    /// Tells the hooks queue that the sync ended, once; false when the send failed (the
    /// next alarm tries again, so an ending is never lost to a queue hiccup).
    async fn announce(&self, log: &Log<'_>, job: &Job) -> bool {
        if log.announced().unwrap_or(false) {
            return true;
        }
        match send_sync_ended(&self.env, &job.project_id, &job.sync_id).await {
            Ok(()) => log.mark_announced().is_ok(),
            Err(e) => {
                worker::console_warn!("sync {}: could not announce its end to the hooks queue: {e}", job.sync_id);
                false
            }
        }
    }

    /// A finished sync's storage is deleted once its retention has passed.
    async fn forget_when_due(&self, log: &Log<'_>) -> Result<()> {
        let storage = self.state.storage();
        match log.finished_at()? {
            Some(at) if now_ms() >= at + RETENTION_MS => storage.delete_all().await,
            Some(at) => storage.set_alarm(Duration::from_millis(at + RETENTION_MS - now_ms())).await,
            None => {
                log.mark_finished(now_ms())?;
                storage.set_alarm(Duration::from_millis(RETENTION_MS)).await
            }
        }
    }
}

impl DurableObject for SyncObject {
    fn new(state: State, env: Env) -> Self {
        SyncObject { state, env, subscribers: RefCell::new(Vec::new()), slice_running: Cell::new(false) }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        self.ensure_schema()?;
        match Command::parse(req.method() == Method::Get, &req.path()) {
            Some(Command::Start) => self.start(req).await,
            Some(Command::Events) => self.events(&req),
            Some(Command::Cancel) => self.stop(None).await,
            Some(Command::Fail) => {
                let reason = req.text().await?;
                self.stop(Some(reason.chars().take(500).collect())).await
            }
            Some(Command::Poke) => self.poke().await,
            Some(Command::Memory) => Response::ok(crate::shell::adapters::isolate::wasm_memory_bytes().to_string()),
            None => reply(404, "unknown object route"),
        }
    }

    async fn alarm(&self) -> Result<Response> {
        self.ensure_schema()?;
        if self.slice_running.replace(true) {
            self.state.storage().set_alarm(Duration::from_millis(WATCHDOG_MS)).await?;
            return Response::ok("a slice is running");
        }
        let outcome = self.run_slice().await;
        self.slice_running.set(false);
        outcome?;
        Response::ok("ok")
    }
}
