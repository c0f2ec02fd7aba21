//! The object's job checkpoint and event log, in its SQLite, and the event stream served
//! from them: a subscriber gets the stored events after its `Last-Event-ID`, then live ones,
//! then the stream closes after the terminal event.

use super::scratch::{sql_err, text};
use crate::engine::slice::{Checkpoint, StopRequest};
use crate::engine::{Job, StoreError};
use crate::progress::{event_name, sse_frame, ProgressData, KEEP_ALIVE_FRAME, KEEP_ALIVE_INTERVAL_MS};
use futures::channel::mpsc::{unbounded, UnboundedReceiver, UnboundedSender};
use futures::future::{select, Either};
use futures::{stream, StreamExt};
use serde::Deserialize;
use std::cell::RefCell;
use std::time::Duration;
use worker::{Headers, Response, SqlStorage, SqlStorageValue};

pub const LOG_DDL: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS job (id INTEGER PRIMARY KEY CHECK (id = 1), body TEXT NOT NULL, cancel INTEGER NOT NULL DEFAULT 0)",
    "CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, name TEXT NOT NULL, data TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS finished (id INTEGER PRIMARY KEY CHECK (id = 1), at_ms INTEGER NOT NULL)",
    // A stop the service asked for that fails the sync (`Command::Fail`), with its reason.
    "CREATE TABLE IF NOT EXISTS fail (id INTEGER PRIMARY KEY CHECK (id = 1), reason TEXT NOT NULL)",
    // The hooks queue was told the sync ended (once; a failed send is tried again).
    "CREATE TABLE IF NOT EXISTS announced (id INTEGER PRIMARY KEY CHECK (id = 1))",
];

#[derive(Deserialize)]
struct EventRow {
    id: i64,
    name: String,
    data: String,
}

/// The job, its events and the live subscribers of one object.
pub struct Log<'a> {
    pub sql: SqlStorage,
    pub subscribers: &'a RefCell<Vec<UnboundedSender<String>>>,
}

impl Log<'_> {
    pub fn load_job(&self) -> worker::Result<Option<Job>> {
        #[derive(Deserialize)]
        struct Row {
            body: String,
        }
        let rows: Vec<Row> = self.sql.exec("SELECT body FROM job WHERE id = 1", None)?.to_array()?;
        match rows.into_iter().next() {
            Some(r) => Ok(Some(serde_json::from_str(&r.body).map_err(|e| worker::Error::RustError(e.to_string()))?)),
            None => Ok(None),
        }
    }

    pub fn request_cancel(&self) -> worker::Result<()> {
        self.sql.exec("UPDATE job SET cancel = 1 WHERE id = 1", None)?;
        Ok(())
    }

    /// The first reason given wins; a repeat changes nothing.
    pub fn request_fail(&self, reason: &str) -> worker::Result<()> {
        self.sql.exec("INSERT OR IGNORE INTO fail (id, reason) VALUES (1, ?)", vec![SqlStorageValue::String(reason.to_string())])?;
        Ok(())
    }

    pub fn mark_finished(&self, at_ms: u64) -> worker::Result<()> {
        self.sql.exec("INSERT OR IGNORE INTO finished (id, at_ms) VALUES (1, ?)", vec![SqlStorageValue::Integer(at_ms as i64)])?;
        Ok(())
    }

    pub fn mark_announced(&self) -> worker::Result<()> {
        self.sql.exec("INSERT OR IGNORE INTO announced (id) VALUES (1)", None)?;
        Ok(())
    }

    pub fn announced(&self) -> worker::Result<bool> {
        #[derive(Deserialize)]
        struct Row {
            #[allow(dead_code)]
            id: i64,
        }
        let rows: Vec<Row> = self.sql.exec("SELECT id FROM announced WHERE id = 1", None)?.to_array()?;
        Ok(!rows.is_empty())
    }

    pub fn finished_at(&self) -> worker::Result<Option<u64>> {
        #[derive(Deserialize)]
        struct Row {
            at_ms: i64,
        }
        let rows: Vec<Row> = self.sql.exec("SELECT at_ms FROM finished WHERE id = 1", None)?.to_array()?;
        Ok(rows.first().map(|r| r.at_ms.max(0) as u64))
    }

    /// Hands a stored event's frame to every live subscriber; after the terminal event the
    /// senders are dropped, which ends every live stream.
    fn broadcast(&self, row: &EventRow, terminal: bool) {
        let frame = sse_frame(row.id as u64, &row.name, &row.data);
        self.subscribers.borrow_mut().retain(|tx| tx.unbounded_send(frame.clone()).is_ok());
        if terminal {
            self.subscribers.borrow_mut().clear();
        }
    }

    /// The stream for a subscriber that has seen events up to `last`.
    pub fn stream(&self, job: &Job, last: u64) -> worker::Result<Response> {
        let backlog: Vec<EventRow> = self
            .sql
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
}

impl Checkpoint for Log<'_> {
    /// The job row and the new events are written without an await between them, so the
    /// object's storage commits them together.
    fn save(&self, job: &Job, events: &[ProgressData]) -> Result<(), StoreError> {
        let body = serde_json::to_string(job).map_err(sql_err)?;
        self.sql
            .exec("INSERT INTO job (id, body) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET body = excluded.body", vec![text(body)])
            .map_err(sql_err)?;
        let mut stored = Vec::with_capacity(events.len());
        for event in events {
            let data = serde_json::to_string(event).map_err(sql_err)?;
            let rows: Vec<EventRow> = self
                .sql
                .exec(
                    "INSERT INTO events (name, data) VALUES (?, ?) RETURNING id, name, data",
                    vec![text(event_name(event.status)), text(data)],
                )
                .map_err(sql_err)?
                .to_array()
                .map_err(sql_err)?;
            stored.extend(rows.into_iter().map(|r| (r, event.status.is_terminal())));
        }
        for (row, terminal) in &stored {
            self.broadcast(row, *terminal);
        }
        Ok(())
    }

    fn stop_requested(&self) -> Result<Option<StopRequest>, StoreError> {
        #[derive(Deserialize)]
        struct Stop {
            cancel: i64,
            reason: Option<String>,
        }
        let query = "SELECT job.cancel AS cancel, fail.reason AS reason FROM job LEFT JOIN fail ON fail.id = 1 WHERE job.id = 1";
        let rows: Vec<Stop> = self.sql.exec(query, None).map_err(sql_err)?.to_array().map_err(sql_err)?;
        Ok(rows.into_iter().next().and_then(|s| match (s.reason, s.cancel) {
            (Some(why), _) => Some(StopRequest::Fail(why)),
            (None, 0) => None,
            (None, _) => Some(StopRequest::Cancel),
        }))
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
