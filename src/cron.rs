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
