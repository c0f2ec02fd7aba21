//! `webhook_deliveries`: GitHub deliveries whose syncs are queued. A delivery is recorded
//! only then, so a redelivery after a failure is handled, and a repeat after success is not.

use super::{s, Db, DbResult};
use crate::domain::Timestamp;
use serde::Deserialize;

impl Db {
    pub async fn delivery_handled(&self, delivery: &str) -> DbResult<bool> {
        #[derive(Deserialize)]
        struct Row {
            #[allow(dead_code)]
            id: String,
        }
        Ok(self.first::<Row>("SELECT id FROM webhook_deliveries WHERE id = ?1", &[s(delivery)]).await?.is_some())
    }

    pub async fn record_delivery(&self, delivery: &str, event: &str, projects: u64, now: &Timestamp) -> DbResult<()> {
        self.run(
            "INSERT INTO webhook_deliveries (id, event, received_at, projects) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (id) DO NOTHING",
            &[s(delivery), s(event), s(now), super::n(projects)],
        )
        .await?;
        Ok(())
    }
}

impl Db {
    /// A fan-out message that ran out of retries, kept for an operator to look at.
    pub async fn record_dead_letter(&self, id: &str, queue: &str, body: &str, now: &Timestamp) -> DbResult<()> {
        self.run(
            "INSERT INTO dead_letters (id, queue, body, received_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (id) DO NOTHING",
            &[s(id), s(queue), s(body), s(now)],
        )
        .await?;
        Ok(())
    }
}

/// A dead letter as diagnostics show it.
#[derive(Debug, Clone, serde::Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetter {
    pub id: String,
    pub queue: String,
    pub body: String,
    pub received_at: String,
}

impl Db {
    pub async fn latest_dead_letters(&self, limit: u64) -> DbResult<Vec<DeadLetter>> {
        self.all(
            "SELECT id, queue, body, received_at AS receivedAt FROM dead_letters ORDER BY received_at DESC LIMIT ?1",
            &[super::n(limit)],
        )
        .await
    }
}
