//! The events a sync's end raises, as hooks subscribe to them and receivers read them.

use super::SyncStatus;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum HookEvent {
    #[serde(rename = "sync.completed")]
    Completed,
    #[serde(rename = "sync.failed")]
    Failed,
    #[serde(rename = "sync.cancelled")]
    Cancelled,
}

pub const ALL_EVENTS: [HookEvent; 3] = [HookEvent::Completed, HookEvent::Failed, HookEvent::Cancelled];

impl HookEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            HookEvent::Completed => "sync.completed",
            HookEvent::Failed => "sync.failed",
            HookEvent::Cancelled => "sync.cancelled",
        }
    }

    pub fn parse(raw: &str) -> Option<HookEvent> {
        ALL_EVENTS.into_iter().find(|e| e.as_str() == raw)
    }

    /// The event a sync that ended so raises (`None` while it runs).
    pub fn of_status(status: SyncStatus) -> Option<HookEvent> {
        match status {
            SyncStatus::Complete => Some(HookEvent::Completed),
            SyncStatus::Failed => Some(HookEvent::Failed),
            SyncStatus::Cancelled => Some(HookEvent::Cancelled),
            _ => None,
        }
    }
}

impl fmt::Display for HookEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
