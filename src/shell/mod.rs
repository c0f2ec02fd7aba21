//! The imperative shell, in three floors; calls go down only (checked by `tests/layers.rs`):
//!
//! - `entry`: the Workers entry points: `fetch` (the HTTP API and the webhook receiver,
//!   `routes`), `scheduled` (`cron_tick`), `queue` (one consumer per queue: `fanout`,
//!   `hooks`) and the Durable Object `SyncObject` (one per sync, `sync_object`).
//! - `cases`: the use cases the entry points share: starting a sync, a head check, reaping a
//!   lost start, announcing a sync's end, the tick's upkeep.
//! - `adapters`: the runtime behind small types: D1, GitHub, credentials, R2, WebCrypto,
//!   HTTP, the queues, a sync's object, `Services`.
//!
//! Architecture invariants: SQL only in `adapters::d1`; a sync object's paths only through
//! `adapters::sync_client` (and `crate::sync_protocol`); the core never imports `worker`
//! nor `shell`.

mod adapters;
mod cases;
mod entry;
