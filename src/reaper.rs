//! What to do with a sync whose row says it is still queued or running, given what its
//! Durable Object answers: no sync may stay running for ever. Decided here, without I/O;
//! the cron tick (and a start that finds the project busy) acts on it.

use crate::domain::SyncStatus;

/// A running row that has not been written for this long belongs to a sync that stopped
/// advancing; with the cron every 5 minutes it is ended within 15 minutes of its last step.
pub const STALE_AFTER_MS: u64 = 10 * 60 * 1000;

/// What the sync's object said when poked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectState {
    /// The object holds no job: the start never reached it, or its storage was lost.
    NoJob,
    /// The job is not finished; the poke made sure an alarm will advance it.
    Running,
    /// The job is finished; the poke wrote its ending to the row again.
    Finished(SyncStatus),
    /// The object could not be reached this time.
    Unreachable,
}

/// The facts of the row the decision needs (epoch milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunningRow {
    pub started_at_ms: u64,
    pub updated_at_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Leave,
    /// End the row FAILED (only if it is still running) with this error.
    Fail(String),
}

pub fn decide(row: RunningRow, object: ObjectState, now_ms: u64, grace_ms: u64) -> Verdict {
    if now_ms.saturating_sub(row.started_at_ms) < grace_ms {
        return Verdict::Leave;
    }
    let quiet_ms = now_ms.saturating_sub(row.updated_at_ms.max(row.started_at_ms));
    match object {
        ObjectState::NoJob => Verdict::Fail("the sync never reached its worker (its start was lost); nothing was changed".into()),
        ObjectState::Finished(_) => Verdict::Leave,
        ObjectState::Running | ObjectState::Unreachable if quiet_ms >= STALE_AFTER_MS => {
            Verdict::Fail(format!("the sync made no progress for {} minutes and was stopped; nothing was changed", quiet_ms / 60_000))
        }
        ObjectState::Running | ObjectState::Unreachable => Verdict::Leave,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts() {
        let min = 60_000;
        let row = |started: u64, updated: u64| RunningRow { started_at_ms: started * min, updated_at_ms: updated * min };
        let now = 100 * min;
        let cases = [
            ("a start still on its way is left alone", row(100, 100), ObjectState::NoJob, false),
            ("a start that never reached its object fails", row(98, 98), ObjectState::NoJob, true),
            ("a running sync that moves is left alone", row(50, 95), ObjectState::Running, false),
            ("a running sync quiet for 10 minutes fails", row(50, 90), ObjectState::Running, true),
            ("an unreachable but recent one waits", row(50, 99), ObjectState::Unreachable, false),
            ("an unreachable quiet one fails", row(50, 80), ObjectState::Unreachable, true),
            ("a finished job re-recorded its row", row(50, 50), ObjectState::Finished(SyncStatus::Complete), false),
        ];
        for (name, r, object, fails) in cases {
            let v = decide(r, object, now, min);
            assert_eq!(matches!(v, Verdict::Fail(_)), fails, "{name}: {v:?}");
        }
        match decide(row(50, 80), ObjectState::Running, now, min) {
            Verdict::Fail(why) => assert!(why.contains("20 minutes"), "{why}"),
            v => panic!("{v:?}"),
        }
    }
}
