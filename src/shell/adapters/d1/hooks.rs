//! `hooks` and `hook_deliveries` (the project's database): where a project's sync endings
//! are announced, and each announcement's attempts.

use super::{n, opt, s, Db, DbResult};
use crate::domain::HookEvent;
use crate::domain::{DeliveryId, HookId, ProjectId, Timestamp};
use crate::hooks::DeliveryStatus;
pub use crate::rows::{DeliveryRow, HookRow};
use wasm_bindgen::JsValue;

const HOOK_COLUMNS: &str = "h.id, h.url, h.secret_enc, h.events, h.created_at";

const DELIVERY_COLUMNS: &str =
    "id, hook_id, sync_id, event, status, attempts, last_status_code, last_error, body, created_at, delivered_at";

pub struct NewHook<'a> {
    pub id: &'a HookId,
    pub project_id: &'a ProjectId,
    pub url: &'a str,
    pub secret_enc: Option<&'a str>,
    pub events: &'a [HookEvent],
    pub now: &'a Timestamp,
}

/// How an attempt ended, as the delivery records it.
pub struct AttemptRecord<'a> {
    pub attempts: u32,
    pub status: DeliveryStatus,
    pub status_code: Option<u16>,
    pub error: Option<&'a str>,
    pub delivered_at: Option<&'a str>,
}

fn code(c: Option<u16>) -> JsValue {
    c.map_or(JsValue::NULL, |c| n(u64::from(c)))
}

impl Db {
    /// Inserts the hook unless the project has `max` already (in the same statement, so
    /// two at once cannot pass the limit); false when it had.
    pub async fn insert_hook(&self, h: &NewHook<'_>, max: u64) -> DbResult<bool> {
        let events = serde_json::to_string(h.events).unwrap_or_else(|_| "[]".into());
        let inserted = self
            .run(
                "INSERT INTO hooks (id, project_id, url, secret_enc, events, created_at) \
                 SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE (SELECT count(*) FROM hooks WHERE project_id = ?2) < ?7",
                &[s(h.id), s(h.project_id), s(h.url), opt(h.secret_enc), s(&events), s(h.now), n(max)],
            )
            .await?;
        Ok(inserted > 0)
    }

    pub async fn hook(&self, project: &ProjectId, hook: &HookId) -> DbResult<Option<HookRow>> {
        self.first(&format!("SELECT {HOOK_COLUMNS} FROM hooks h WHERE h.id = ?1 AND h.project_id = ?2"), &[s(hook), s(project)]).await
    }

    /// A project's hooks in creation order, after the `(created_at, id)` key.
    pub async fn hooks_of(&self, project: &ProjectId, after: Option<(&str, &str)>, limit: u32) -> DbResult<Vec<HookRow>> {
        let (after_time, after_id) = after.unzip();
        self.all(
            &format!(
                "SELECT {HOOK_COLUMNS} FROM hooks h WHERE h.project_id = ?1 \
                 AND (?2 IS NULL OR h.created_at > ?2 OR (h.created_at = ?2 AND h.id > ?3)) ORDER BY h.created_at, h.id LIMIT ?4"
            ),
            &[s(project), opt(after_time), opt(after_id), n(u64::from(limit))],
        )
        .await
    }

    /// The project's hooks that subscribed to `event` and existed when the sync ended at
    /// `ended_at` (at most `MAX_HOOKS_PER_PROJECT`).
    pub async fn hooks_for(&self, project: &ProjectId, event: HookEvent, ended_at: &Timestamp) -> DbResult<Vec<HookRow>> {
        self.all(
            &format!(
                "SELECT {HOOK_COLUMNS} FROM hooks h WHERE h.project_id = ?1 AND h.created_at <= ?3 \
                 AND EXISTS (SELECT 1 FROM json_each(h.events) e WHERE e.value = ?2) ORDER BY h.created_at, h.id"
            ),
            &[s(project), s(event.as_str()), s(ended_at)],
        )
        .await
    }

    pub async fn delete_hook(&self, project: &ProjectId, hook: &HookId) -> DbResult<bool> {
        Ok(self.run("DELETE FROM hooks WHERE id = ?1 AND project_id = ?2", &[s(hook), s(project)]).await? > 0)
    }

    /// Creates the delivery of `sync`'s end to `hook` unless it exists; returns the one
    /// stored (a replayed end finds the first).
    pub async fn ensure_delivery(&self, d: &DeliveryRow) -> DbResult<Option<DeliveryRow>> {
        self.run(
            "INSERT INTO hook_deliveries (id, hook_id, sync_id, event, body, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT (hook_id, sync_id) DO NOTHING",
            &[s(&d.id), s(&d.hook_id), s(&d.sync_id), s(d.event.as_str()), s(&d.body), s(&d.created_at)],
        )
        .await?;
        self.first(
            &format!("SELECT {DELIVERY_COLUMNS} FROM hook_deliveries WHERE hook_id = ?1 AND sync_id = ?2"),
            &[s(&d.hook_id), s(&d.sync_id)],
        )
        .await
    }

    pub async fn delivery(&self, id: &DeliveryId) -> DbResult<Option<DeliveryRow>> {
        self.first(&format!("SELECT {DELIVERY_COLUMNS} FROM hook_deliveries WHERE id = ?1"), &[s(id)]).await
    }

    /// A hook's deliveries, newest first, after the `(created_at, id)` key.
    pub async fn deliveries_of(&self, hook: &HookId, after: Option<(&str, &str)>, limit: u32) -> DbResult<Vec<DeliveryRow>> {
        let (after_time, after_id) = after.unzip();
        self.all(
            &format!(
                "SELECT {DELIVERY_COLUMNS} FROM hook_deliveries WHERE hook_id = ?1 \
                 AND (?2 IS NULL OR created_at < ?2 OR (created_at = ?2 AND id < ?3)) ORDER BY created_at DESC, id DESC LIMIT ?4"
            ),
            &[s(hook), opt(after_time), opt(after_id), n(u64::from(limit))],
        )
        .await
    }

    /// Claims a pending delivery for the queue message `owner`; false when another message
    /// holds it (a duplicate) or it is settled.
    pub async fn claim_delivery(&self, id: &DeliveryId, owner: &str) -> DbResult<bool> {
        let claimed = self
            .run(
                "UPDATE hook_deliveries SET owner = ?2 WHERE id = ?1 AND status = 'pending' AND (owner IS NULL OR owner = ?2)",
                &[s(id), s(owner)],
            )
            .await?;
        Ok(claimed > 0)
    }

    /// Records an attempt while the delivery is pending (a finished one is never rewritten,
    /// so a duplicate message cannot undo it).
    pub async fn record_attempt(&self, id: &DeliveryId, r: &AttemptRecord<'_>) -> DbResult<()> {
        self.run(
            "UPDATE hook_deliveries SET attempts = max(attempts, ?2), status = ?3, last_status_code = ?4, last_error = ?5, \
             delivered_at = ?6 WHERE id = ?1 AND status = 'pending'",
            &[s(id), n(u64::from(r.attempts)), s(r.status.as_str()), code(r.status_code), opt(r.error), opt(r.delivered_at)],
        )
        .await?;
        Ok(())
    }
}
