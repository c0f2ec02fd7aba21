//! Retention (`crate::retention`): the changes of older dry runs and old hook deliveries,
//! deleted in bounded statements.

use super::{n, s, Db, DbResult};
use crate::domain::Timestamp;
use crate::domain::{HookId, SyncId};
use crate::retention::{DRY_RUNS_KEPT, ROWS_PER_DELETE, TRIM_PER_DELIVERY};
use serde::Deserialize;

/// Expires the changes of the project's dry runs past its `DRY_RUNS_KEPT` newest (run in
/// the transaction that queues a dry run). Touches only the few still kept.
pub(super) const EXPIRE_DRY_RUNS: &str = "UPDATE syncs SET changes_retention = 'expired' \
     WHERE project_id = ?1 AND dry_run = 1 AND changes_retention = 'kept' AND id NOT IN \
     (SELECT id FROM syncs WHERE project_id = ?1 AND dry_run = 1 ORDER BY started_at DESC, id DESC LIMIT ?2)";

pub(super) fn dry_runs_kept() -> u64 {
    DRY_RUNS_KEPT
}

impl Db {
    /// Dry runs whose changes expired and are not yet all deleted.
    pub async fn expired_dry_runs(&self, limit: u32) -> DbResult<Vec<SyncId>> {
        #[derive(Deserialize)]
        struct Row {
            id: SyncId,
        }
        let rows: Vec<Row> = self.all("SELECT id FROM syncs WHERE changes_retention = 'expired' LIMIT ?1", &[n(u64::from(limit))]).await?;
        Ok(rows.into_iter().map(|r| r.id).collect())
    }

    /// Deletes up to `ROWS_PER_DELETE` of an expired dry run's changes, and marks it
    /// 'deleted' once none are left (one transaction). Returns the rows deleted.
    pub async fn delete_expired_changes(&self, sync: &SyncId) -> DbResult<u64> {
        let deleted = self
            .batch(vec![
                self.stmt(
                    "DELETE FROM dry_run_changes WHERE sync_id = ?1 AND path IN \
                     (SELECT path FROM dry_run_changes WHERE sync_id = ?1 ORDER BY path LIMIT ?2) \
                     AND EXISTS (SELECT 1 FROM syncs WHERE id = ?1 AND changes_retention = 'expired')",
                    &[s(sync), n(ROWS_PER_DELETE)],
                )?,
                self.stmt(
                    "UPDATE syncs SET changes_retention = 'deleted' WHERE id = ?1 AND changes_retention = 'expired' \
                     AND NOT EXISTS (SELECT 1 FROM dry_run_changes WHERE sync_id = ?1)",
                    &[s(sync)],
                )?,
            ])
            .await?;
        Ok(deleted.first().copied().unwrap_or(0))
    }

    /// Deletes up to `ROWS_PER_DELETE` deliveries created before `before`, oldest first.
    pub async fn delete_old_deliveries(&self, before: &Timestamp) -> DbResult<u64> {
        self.run(
            "DELETE FROM hook_deliveries WHERE id IN \
             (SELECT id FROM hook_deliveries WHERE created_at < ?1 ORDER BY created_at LIMIT ?2)",
            &[s(before), n(ROWS_PER_DELETE)],
        )
        .await
    }

    /// Deletes the hook's deliveries past its `kept` newest (a few at a time).
    pub async fn trim_deliveries(&self, hook: &HookId, kept: u64) -> DbResult<u64> {
        self.run(
            "DELETE FROM hook_deliveries WHERE id IN (SELECT id FROM hook_deliveries WHERE hook_id = ?1 \
             ORDER BY created_at DESC, id DESC LIMIT ?3 OFFSET ?2)",
            &[s(hook), n(kept), n(TRIM_PER_DELIVERY)],
        )
        .await
    }
}
