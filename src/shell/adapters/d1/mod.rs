//! D1: every SQL statement of the service lives in this folder, one file per table (and
//! one for the engine's `Store`). Statements go through `Db`, which counts them on the
//! slice's meter and the rows they write, and turns D1's errors into `DbError` — the one
//! place a unique violation is recognised.
//!
//! Architecture invariant: no SQL outside `shell::adapters::d1`; callers get typed rows.

mod announcements;
mod compare;
mod deliveries;
mod directory;
mod engine_store;
mod faults;
mod files;
mod github_cache;
mod hooks;
mod installations;
mod memory;
mod projects;
mod retention;
mod rows;
mod sweeps;
mod syncs;
mod texts;
mod users;

pub use compare::CompareSides;
pub use engine_store::EngineStore;
pub use files::ContentRow;
pub use hooks::{AttemptRecord, DeliveryRow, NewHook};
pub use installations::{ConfirmedInstallation, InstallationRow, StateChange};
pub use memory::ChunkRef;
pub use projects::{NewProject, ProjectUpdate};
pub use rows::{ProjectRow, SyncRow};
pub use syncs::{Queued, QueuedSync};

use crate::engine::{Meter, StoreError};
use crate::error::AppError;
use crate::sqlbatch::D1_MAX_PARAMS;
use serde::de::DeserializeOwned;
use std::cell::Cell;
use std::fmt;
use std::rc::Rc;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, D1Result, Env};

/// The statuses of a sync that is queued or running (the partial unique index's).
pub(crate) const RUNNING_STATUSES: &str = "('QUEUED', 'FETCHING', 'DIFFING', 'PROCESSING', 'PERSISTING')";

/// The number of project ?1 (`projects.no`, local to its database), which keys its version
/// rows in place of the 36-byte id: statements name a project by id and look it up so.
pub(crate) const PROJECT_NO: &str = "(SELECT no FROM projects WHERE id = ?1)";

/// Deletes the rows of the packs among ?1 (a JSON array of keys) that no ledger row lists:
/// a pack keeps its number only while some blob row points into it.
pub(crate) const DROP_UNLISTED_PACKS: &str = "DELETE FROM packs WHERE key IN (SELECT value FROM json_each(?1)) \
     AND NOT EXISTS (SELECT 1 FROM pack_blobs WHERE pack_id = packs.id)";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbError {
    /// A unique index refused the write; `index` is what D1 names (`table.column, ...`).
    Unique {
        index: String,
    },
    Other(String),
}

pub type DbResult<T> = Result<T, DbError>;

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DbError::Unique { index } => write!(f, "D1: UNIQUE constraint failed: {index}"),
            DbError::Other(e) => write!(f, "D1: {e}"),
        }
    }
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        AppError::internal(e)
    }
}

impl From<DbError> for StoreError {
    fn from(e: DbError) -> Self {
        StoreError::Other(e.to_string())
    }
}

impl DbError {
    fn from_d1(e: impl fmt::Display) -> DbError {
        let text = e.to_string();
        match crate::sqlbatch::unique_violation(&text) {
            Some(index) => DbError::Unique { index: index.to_string() },
            None => DbError::Other(text),
        }
    }

    /// The "one running sync per project" index refused a second one.
    pub fn is_running_sync_conflict(&self) -> bool {
        matches!(self, DbError::Unique { index } if index.contains("syncs.project_id"))
    }
}

/// A text parameter: any string, id or time.
pub(crate) fn s(v: impl AsRef<str>) -> JsValue {
    JsValue::from_str(v.as_ref())
}
pub(crate) fn n(v: u64) -> JsValue {
    JsValue::from_f64(v as f64)
}
pub(crate) fn opt(v: Option<&str>) -> JsValue {
    v.map(JsValue::from_str).unwrap_or(JsValue::NULL)
}

/// A statement that takes longer than this is logged (what it was and how long it took).
const SLOW_STATEMENT_MS: u64 = 1_000;

fn log_if_slow(started_ms: u64, what: &str) {
    let took = crate::shell::adapters::now_ms().saturating_sub(started_ms);
    if took >= SLOW_STATEMENT_MS {
        let head: String = what.chars().take(300).collect();
        worker::console_warn!("d1: slow statement ({took} ms): {head}");
    }
}

pub struct Db {
    db: D1Database,
    /// The binding this is (`crate::placement`).
    pub binding: String,
    rows_written: Cell<u64>,
    /// Rows D1 says the reads of this handle read (its result metadata), for diagnostics.
    rows_read: Cell<u64>,
    meter: Option<Rc<Meter>>,
    /// Whether armed test faults are honoured (`FAULT_INJECTION=true`).
    faults: bool,
    /// A test fault: every statement waits this long first, as over a slow link.
    slow_ms: Cell<u64>,
}

impl Db {
    pub fn from_env(env: &Env, binding: &str, faults: bool) -> DbResult<Db> {
        Ok(Db {
            db: env.d1(binding).map_err(DbError::from_d1)?,
            binding: binding.to_string(),
            rows_written: Cell::new(0),
            rows_read: Cell::new(0),
            meter: None,
            faults,
            slow_ms: Cell::new(0),
        })
    }

    /// Counts every statement on `meter` (a sync slice's budget).
    pub fn metered(mut self, meter: Rc<Meter>) -> Db {
        self.meter = Some(meter);
        self
    }

    fn stmt(&self, sql: &str, args: &[JsValue]) -> DbResult<D1PreparedStatement> {
        // Bulk rows travel as one JSON parameter (`sqlbatch`); a statement that still needs
        // more than D1 accepts is a bug of ours, reported as such rather than by D1.
        if args.len() > D1_MAX_PARAMS {
            return Err(DbError::Other(format!("{} parameters for one statement: {sql}", args.len())));
        }
        self.db.prepare(sql).bind(args).map_err(DbError::from_d1)
    }

    async fn spend(&self, statements: usize) {
        if let Some(m) = &self.meter {
            m.query(statements as u32);
        }
        let slow = self.slow_ms.get();
        if slow > 0 {
            worker::Delay::from(std::time::Duration::from_millis(slow)).await;
        }
    }

    fn count_read(&self, result: &D1Result) {
        let read = result.meta().ok().flatten().and_then(|m| m.rows_read).unwrap_or(0) as u64;
        self.rows_read.set(self.rows_read.get() + read);
    }

    fn count(&self, result: &D1Result) -> u64 {
        let meta = result.meta().ok().flatten();
        let written = meta.as_ref().and_then(|m| m.rows_written).unwrap_or(0) as u64;
        self.rows_written.set(self.rows_written.get() + written);
        meta.and_then(|m| m.changes).unwrap_or(0) as u64
    }

    async fn all<T: DeserializeOwned>(&self, sql: &str, args: &[JsValue]) -> DbResult<Vec<T>> {
        self.spend(1).await;
        let started = crate::shell::adapters::now_ms();
        let result = self.stmt(sql, args)?.all().await.map_err(DbError::from_d1)?;
        log_if_slow(started, sql);
        self.count_read(&result);
        result.results::<T>().map_err(DbError::from_d1)
    }

    async fn first<T: DeserializeOwned>(&self, sql: &str, args: &[JsValue]) -> DbResult<Option<T>> {
        Ok(self.all::<T>(sql, args).await?.into_iter().next())
    }

    /// Runs a write; returns the number of rows it changed.
    async fn run(&self, sql: &str, args: &[JsValue]) -> DbResult<u64> {
        self.spend(1).await;
        let started = crate::shell::adapters::now_ms();
        let result = self.stmt(sql, args)?.run().await.map_err(DbError::from_d1)?;
        log_if_slow(started, sql);
        Ok(self.count(&result))
    }

    /// Runs statements as one transaction (one round trip), metered and timed.
    async fn send_batch(&self, statements: Vec<D1PreparedStatement>) -> DbResult<Vec<D1Result>> {
        if statements.is_empty() {
            return Ok(Vec::new());
        }
        self.spend(statements.len()).await;
        let started = crate::shell::adapters::now_ms();
        let count = statements.len();
        let results = self.db.batch(statements).await.map_err(DbError::from_d1)?;
        log_if_slow(started, &format!("a batch of {count} statements"));
        Ok(results)
    }

    /// Runs write statements as one transaction; returns the rows each changed.
    async fn batch(&self, statements: Vec<D1PreparedStatement>) -> DbResult<Vec<u64>> {
        Ok(self.send_batch(statements).await?.iter().map(|r| self.count(r)).collect())
    }

    /// Runs read statements in one round trip; returns each one's rows.
    async fn batch_all<T: DeserializeOwned>(&self, statements: Vec<D1PreparedStatement>) -> DbResult<Vec<Vec<T>>> {
        let results = self.send_batch(statements).await?;
        results.iter().for_each(|r| self.count_read(r));
        results.iter().map(|r| r.results::<T>().map_err(DbError::from_d1)).collect()
    }

    /// Counts `n` subrequests that are not D1's (content bucket writes) on the slice's meter.
    pub fn count_subrequests(&self, n: u32) {
        if let Some(m) = &self.meter {
            m.subrequest(n);
        }
    }

    /// The database's own size in bytes, as D1 reports it after a statement.
    pub async fn size_bytes(&self) -> DbResult<Option<u64>> {
        self.spend(1).await;
        let result = self.stmt("SELECT 1", &[])?.all().await.map_err(DbError::from_d1)?;
        Ok(result.meta().ok().flatten().and_then(|m| m.size_after).map(|s| s as u64))
    }

    /// Rows read through this handle so far.
    pub fn rows_read(&self) -> u64 {
        self.rows_read.get()
    }

    pub fn take_rows_written(&self) -> u64 {
        self.rows_written.replace(0)
    }
}
