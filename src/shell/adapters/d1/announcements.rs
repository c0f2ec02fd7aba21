//! `hook_announcements` (each project database): the outbox of sync endings announced off
//! the sync's object (the reaper, a cancel, a lost start). A row is written before the
//! queue send and deleted once the queue took it; the cron tick sends what is left.

use super::{s, Db, DbResult};
use crate::domain::Timestamp;
use crate::domain::{ProjectId, SyncId};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct AnnouncementRow {
    pub sync_id: SyncId,
    pub project_id: ProjectId,
}

impl Db {
    /// Records that the end of `sync` is to be announced (once: a second call changes nothing).
    pub async fn record_announcement(&self, sync: &SyncId, project: &ProjectId, now: &Timestamp) -> DbResult<()> {
        self.run(
            "INSERT INTO hook_announcements (sync_id, project_id, created_at) VALUES (?1, ?2, ?3) ON CONFLICT (sync_id) DO NOTHING",
            &[s(sync), s(project), s(now)],
        )
        .await?;
        Ok(())
    }

    /// The oldest announcements not yet taken by the queue, at most `limit`.
    pub async fn announcements_left(&self, limit: u64) -> DbResult<Vec<AnnouncementRow>> {
        self.all("SELECT sync_id, project_id FROM hook_announcements ORDER BY created_at, sync_id LIMIT ?1", &[super::n(limit)]).await
    }

    /// The queue took these announcements (sync ids; one JSON parameter, whatever their number).
    pub async fn announcements_sent(&self, syncs: &[&SyncId]) -> DbResult<u64> {
        let ids = serde_json::to_string(syncs).unwrap_or_else(|_| "[]".into());
        self.run("DELETE FROM hook_announcements WHERE sync_id IN (SELECT value FROM json_each(?1))", &[s(&ids)]).await
    }
}
