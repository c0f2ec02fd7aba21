//! The queues this worker produces and consumes, by their names in wrangler.toml.

use crate::domain::{ProjectId, SyncId};
use crate::hooks::HookMessage;
use worker::Env;

/// The producer binding of the fan-out queue (wrangler.toml).
pub const FANOUT_BINDING: &str = "FANOUT";
/// The producer binding of the hooks queue (wrangler.toml).
pub const HOOKS_BINDING: &str = "HOOKS";
/// Queue names end so for dead-letter queues (wrangler.toml).
const DEAD_LETTER_SUFFIX: &str = "-dlq";

/// Whether a batch comes from a dead-letter queue (of either queue).
pub fn is_dead_letter_queue(name: &str) -> bool {
    name.ends_with(DEAD_LETTER_SUFFIX)
}

/// Whether a batch came from the hooks queue (or its dead-letter queue).
pub fn is_hooks_queue(name: &str) -> bool {
    name.starts_with("project-sync-hooks")
}

/// Sends the hooks queue the news that a sync of `project` ended (its row says how).
/// Idempotent downstream: a second message creates no second delivery.
pub async fn send_sync_ended(env: &Env, project: &ProjectId, sync: &SyncId) -> worker::Result<()> {
    let queue = env.queue(HOOKS_BINDING)?;
    queue.send(HookMessage::Ended { project_id: project.clone(), sync_id: sync.clone() }).await
}
