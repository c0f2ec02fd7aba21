//! How much history the service keeps per tenant, and how the cron tick deletes the rest in
//! bounded batches (the contract's "Retention"): a hook's deliveries for 30 days, the 1,000
//! newest per hook at most; the changes of a project's 20 newest dry runs (an older one's
//! `/changes` is a 404, its sync row stays).
//!
//! Where it happens, and why there: a delivery past the newest 1,000 is deleted when its
//! hook gets a new one (one statement in the hooks consumer, never in a sync); an older dry
//! run's changes expire when a newer dry run is queued (one statement in the same
//! transaction as its row, so the 21st makes the 1st one's `/changes` a 404 at once), and
//! their rows, like deliveries past their age, are deleted by the cron tick, a bounded batch
//! at a time, outside any request or sync.

/// The dry runs per project whose changes are kept.
pub const DRY_RUNS_KEPT: u64 = 20;
/// Deliveries kept per hook (`HOOK_DELIVERIES_KEPT` may lower it, for tests).
pub const DEFAULT_DELIVERIES_KEPT: u64 = 1_000;
/// How long deliveries are kept (`HOOK_DELIVERIES_KEPT_MS` may shorten it, for tests).
pub const DEFAULT_DELIVERIES_KEPT_MS: u64 = 30 * 24 * 60 * 60 * 1000;
/// Deliveries past the newest `kept` deleted when a hook gets a new one: normally the one
/// that fell off the end; a backlog (a lowered limit) drains this many at a time.
pub const TRIM_PER_DELIVERY: u64 = 100;

/// Rows one delete statement of the tick removes, and statements the tick spends on
/// retention per database (under D1's 1,000 queries per invocation, with the reaper, the
/// head checks and the content sweep sharing the rest).
pub const ROWS_PER_DELETE: u64 = 5_000;
pub const DELETES_PER_TICK: u32 = 40;

/// Deliveries created before this (epoch ms) are past their age.
pub fn deliveries_cutoff_ms(now_ms: u64, kept_ms: u64) -> u64 {
    now_ms.saturating_sub(kept_ms)
}

/// The tick's retention budget: how many delete statements are left, spent one at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget(u32);

impl Default for Budget {
    fn default() -> Self {
        Budget(DELETES_PER_TICK)
    }
}

impl Budget {
    /// Takes one statement; false when the tick has spent its share.
    pub fn take(&mut self) -> bool {
        if self.0 == 0 {
            return false;
        }
        self.0 -= 1;
        true
    }

    /// Whether a delete that removed `deleted` of at most `ROWS_PER_DELETE` rows left more.
    pub fn more_after(deleted: u64) -> bool {
        deleted >= ROWS_PER_DELETE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contract_numbers() {
        assert_eq!(DRY_RUNS_KEPT, 20);
        assert_eq!(DEFAULT_DELIVERIES_KEPT, 1_000);
        assert_eq!(DEFAULT_DELIVERIES_KEPT_MS, 2_592_000_000, "30 days");
        let day = 24 * 60 * 60 * 1000;
        assert_eq!(deliveries_cutoff_ms(40 * day, DEFAULT_DELIVERIES_KEPT_MS), 10 * day);
        assert_eq!(deliveries_cutoff_ms(5, DEFAULT_DELIVERIES_KEPT_MS), 0, "a young service deletes nothing");
    }

    #[test]
    fn the_budget_is_spent_once() {
        let mut b = Budget::default();
        let taken = (0..1_000).filter(|_| b.take()).count() as u32;
        assert_eq!(taken, DELETES_PER_TICK);
        assert!(!b.take());
        assert!(Budget::more_after(ROWS_PER_DELETE) && !Budget::more_after(ROWS_PER_DELETE - 1));
        assert!(u64::from(DELETES_PER_TICK) * ROWS_PER_DELETE >= 100_000, "a big dry run goes in one tick");
    }
}
