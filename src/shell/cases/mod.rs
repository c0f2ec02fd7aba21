//! The use cases the entry points share. They call adapters and the core, never an entry point.

pub mod announce;
pub mod cancel;
pub mod head_check;
pub mod lifecycle;
pub mod plan;
pub mod reads;
pub mod reap;
pub mod start;
