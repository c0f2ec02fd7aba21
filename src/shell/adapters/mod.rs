//! The runtime behind small types. An adapter calls other adapters and the core only.

mod clock;
pub mod content;
pub mod credentials;
pub mod crypto;
pub mod d1;
pub mod github;
pub mod github_transport;
pub mod http;
pub mod isolate;
pub mod queues;
mod services;
pub mod sync_client;

pub use clock::{now, now_ms};
pub use services::{settings, Services};
