//! `test_faults`: faults an administrator arms at named points of the service, honoured
//! only where `FAULT_INJECTION=true` (the end-to-end tests). They make the real adapters
//! fail where the platform can fail — a D1 write, a call to an object, a queue send — so
//! the recovery paths run against the real runtime.

use super::{n, s, Db, DbResult};
use serde::Deserialize;

impl Db {
    pub async fn arm_fault(&self, point: &str, times: u64) -> DbResult<()> {
        self.run(
            "INSERT INTO test_faults (point, remaining) VALUES (?1, ?2) \
             ON CONFLICT (point) DO UPDATE SET remaining = excluded.remaining",
            &[s(point), n(times)],
        )
        .await?;
        Ok(())
    }

    /// Makes this connection slow (`d1.slow`: milliseconds per statement) when armed; the
    /// kill test uses it to hold a sync in each phase long enough to be killed there.
    pub async fn take_slowness(&self) {
        if !self.faults {
            return;
        }
        #[derive(Deserialize)]
        struct Row {
            remaining: u64,
        }
        if let Ok(Some(row)) = self.first::<Row>("SELECT remaining FROM test_faults WHERE point = 'd1.slow'", &[]).await {
            self.slow_ms.set(row.remaining);
        }
    }

    /// Whether the fault at `point` fires now (using up one of its times). Always false
    /// unless fault injection is on; then it costs one query.
    pub async fn fault(&self, point: &str) -> bool {
        if !self.faults {
            return false;
        }
        #[derive(Deserialize)]
        struct Row {
            #[allow(dead_code)]
            remaining: u64,
        }
        let fired = self
            .first::<Row>(
                "UPDATE test_faults SET remaining = remaining - 1 WHERE point = ?1 AND remaining > 0 RETURNING remaining",
                &[s(point)],
            )
            .await;
        matches!(fired, Ok(Some(_)))
    }
}
