//! Project Sync: keeps an application's copy of a GitHub branch in sync, on Cloudflare Workers.
//!
//! The crate is a functional core (every module but `shell`, pure Rust, tested natively)
//! and an imperative shell (`shell`, the Workers runtime: HTTP, D1, Durable Objects, fetch),
//! compiled only for wasm32. See ARCHITECTURE.md for the map.

pub mod api;
pub mod auth;
pub mod body;
pub mod compare;
pub mod config;
pub mod content;
pub mod cron;
pub mod diff;
pub mod domain;
pub mod engine;
pub mod error;
pub mod fanout;
pub mod github;
pub mod github_app;
pub mod gitobj;
pub mod hooks;
pub mod mcp;
pub mod merge;
pub mod pack;
pub mod pathfilter;
pub mod placement;
pub mod progress;
pub mod reaper;
pub mod renames;
pub mod retention;
pub mod routing;
pub mod rows;
pub mod similarity;
pub mod sqlbatch;
pub mod sweep;
pub mod sync_protocol;
pub mod tar;
pub mod timestamp;
pub mod webhook;

#[cfg(target_arch = "wasm32")]
mod shell;

/// Reported by `/healthz`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
