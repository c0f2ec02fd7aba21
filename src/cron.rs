//! The cron tick without I/O: how many tracked projects one tick checks, and what a head
//! check concludes. The checks themselves run as messages on the fan-out queue.

use crate::domain::CommitSha;
use crate::github::GhError;

/// Tracked projects checked per tick, least recently checked first.
pub const MAX_CHECKS_PER_TICK: u64 = 20_000;
/// The queue's longest delay (12 hours): a rate limit that resets later is retried then.
pub const MAX_RETRY_DELAY_SECS: u64 = 12 * 60 * 60;

/// Whether a project whose branch head is `head` needs a sync: exactly when it does not
/// hold that commit. Compared with the held commit (not with an ETag alone), so a cron sync
/// that failed or was refused is tried again by every later tick until one completes.
pub fn needs_sync(head: &CommitSha, held: Option<&CommitSha>) -> bool {
    held != Some(head)
}

/// After two automatic syncs of the same head failed in a row, the next waits this long,
/// twice as long after each further failure, up to `MAX_FAILED_HEAD_WAIT_MS`: a head that
/// cannot be synced (a repository past a platform limit, say) is still tried again by a
/// later tick, as the contract promises, but not by every tick for ever, each failure a
/// `sync.failed` delivery.
pub const FAILED_HEAD_WAIT_MS: u64 = 10 * 60 * 1000;
pub const MAX_FAILED_HEAD_WAIT_MS: u64 = 24 * 60 * 60 * 1000;

/// One of a project's latest syncs, as the retry rule reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecentSync {
    /// Started by the cron or a webhook (not by a person).
    pub automatic: bool,
    pub failed: bool,
    /// The head it synced, when it got that far.
    pub commit: Option<CommitSha>,
    /// When it ended, in ms.
    pub ended_ms: u64,
}

/// Whether the cron may start another sync of `head` now, given the project's latest syncs
/// (newest first): the automatic syncs of that head that failed in a row, from the newest,
/// set how long to wait after the last of them. A sync of another head, a person's sync or
/// a completed one ends the run; a failure that never read the head counts as this head's.
pub fn may_retry_head(recent: &[RecentSync], head: &CommitSha, now_ms: u64) -> bool {
    let run: Vec<&RecentSync> =
        recent.iter().take_while(|s| s.automatic && s.failed && s.commit.as_ref().is_none_or(|c| c == head)).collect();
    let Some(last) = run.first() else { return true };
    if run.len() < 2 {
        return true;
    }
    let doublings = (run.len() - 2).min(16) as u32;
    let wait = FAILED_HEAD_WAIT_MS.saturating_mul(1 << doublings).min(MAX_FAILED_HEAD_WAIT_MS);
    now_ms.saturating_sub(last.ended_ms) >= wait
}

/// When a head check that failed is tried again (seconds), if at all: after the wait a
/// rate limit names (GitHub's `Retry-After` or reset time), or soon for a transient fault.
pub fn retry_after_secs(error: &GhError) -> Option<u64> {
    match error {
        GhError::RateLimited { wait_secs, .. } => Some((*wait_secs).clamp(1, MAX_RETRY_DELAY_SECS)),
        GhError::Unavailable(_) => Some(30),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_head_not_held_needs_a_sync() {
        let a = CommitSha::parse(&"a".repeat(40)).unwrap();
        let b = CommitSha::parse(&"b".repeat(40)).unwrap();
        assert!(needs_sync(&a, None), "a project that holds nothing yet");
        assert!(needs_sync(&a, Some(&b)), "the head moved, or the last sync of it failed");
        assert!(!needs_sync(&a, Some(&a)), "unchanged: no sync row");
    }

    #[test]
    fn a_head_that_keeps_failing_is_tried_again_less_and_less_often() {
        let head = CommitSha::parse(&"a".repeat(40)).unwrap();
        let other = CommitSha::parse(&"b".repeat(40)).unwrap();
        let failed = |ended_ms, commit: Option<&CommitSha>| RecentSync { automatic: true, failed: true, commit: commit.cloned(), ended_ms };
        let min = 60 * 1000;
        let cases: Vec<(Vec<RecentSync>, u64, bool, &str)> = vec![
            (vec![], 0, true, "no sync yet"),
            (vec![failed(0, Some(&head))], 0, true, "one failure: the next tick tries again"),
            (vec![failed(0, Some(&head)), failed(0, Some(&head))], 9 * min, false, "two: wait 10 minutes"),
            (vec![failed(0, Some(&head)), failed(0, Some(&head))], 10 * min, true, "two, 10 minutes on"),
            (
                vec![failed(0, None), failed(0, Some(&head)), failed(0, None)],
                19 * min,
                false,
                "three (two never read the head): 20 minutes",
            ),
            (vec![failed(0, Some(&head)), failed(0, Some(&head)), failed(0, Some(&head))], 20 * min, true, "three, 20 minutes on"),
            (vec![failed(0, Some(&head)); 40], 23 * 60 * min, false, "many: at most a day"),
            (vec![failed(0, Some(&head)); 40], 24 * 60 * min, true, "many, a day on"),
            (vec![failed(0, Some(&head)), failed(0, Some(&other)), failed(0, Some(&other))], 0, true, "the head moved: its first failure"),
            (
                vec![
                    failed(0, Some(&head)),
                    RecentSync { automatic: false, failed: true, commit: Some(head.clone()), ended_ms: 0 },
                    failed(0, Some(&head)),
                ],
                0,
                true,
                "a person's sync ends the run",
            ),
            (
                vec![
                    failed(0, Some(&head)),
                    RecentSync { automatic: true, failed: false, commit: Some(head.clone()), ended_ms: 0 },
                    failed(0, Some(&head)),
                ],
                0,
                true,
                "a sync that did not fail ends the run",
            ),
        ];
        for (recent, now, want, why) in cases {
            assert_eq!(may_retry_head(&recent, &head, now), want, "{why}");
        }
    }

    #[test]
    fn failed_checks_wait_as_github_asks() {
        let limited = |wait_secs| GhError::RateLimited { wait_secs, secondary: false };
        assert_eq!(retry_after_secs(&limited(42)), Some(42));
        assert_eq!(retry_after_secs(&limited(0)), Some(1));
        assert_eq!(retry_after_secs(&limited(10 * 24 * 3600)), Some(MAX_RETRY_DELAY_SECS));
        assert_eq!(retry_after_secs(&GhError::Unavailable("HTTP 503".into())), Some(30));
        assert_eq!(retry_after_secs(&GhError::NotFound("branch".into())), None);
        assert_eq!(retry_after_secs(&GhError::Unauthorized), None);
    }
}
