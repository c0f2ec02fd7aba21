//! Progress events of a sync: percentages that never go down, and their Server-Sent Events
//! framing exactly as the contract gives it.

use crate::domain::{Counts, Stats, SyncStatus};
use serde::{Deserialize, Serialize};

/// The payload of every event (`data:` line), camelCase as the contract says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProgressData {
    pub sync_id: String,
    pub status: SyncStatus,
    pub progress: u8,
    pub message: String,
    pub counts: Counts,
    pub stats: Stats,
}

/// The SSE event name that goes with a status.
pub fn event_name(status: SyncStatus) -> &'static str {
    match status {
        SyncStatus::Complete => "complete",
        SyncStatus::Failed => "failed",
        SyncStatus::Cancelled => "cancelled",
        _ => "progress",
    }
}

/// The share of the bar each running phase owns: `[start, end)`.
fn phase_range(status: SyncStatus) -> (u8, u8) {
    match status {
        SyncStatus::Queued => (0, 1),
        SyncStatus::Fetching => (1, 25),
        SyncStatus::Diffing => (25, 35),
        SyncStatus::Processing => (35, 70),
        SyncStatus::Persisting => (70, 100),
        SyncStatus::Complete => (100, 100),
        SyncStatus::Failed | SyncStatus::Cancelled => (0, 0),
    }
}

/// Percentage for `done` of `total` units within a phase; `total == 0` means the phase start.
/// Terminal failures keep `previous`, so the bar never moves backwards.
pub fn percent(status: SyncStatus, done: u64, total: u64, previous: u8) -> u8 {
    let computed = match status {
        SyncStatus::Failed | SyncStatus::Cancelled => previous,
        SyncStatus::Complete => 100,
        _ => {
            let (start, end) = phase_range(status);
            let span = u64::from(end - start);
            let within = (span * done.min(total)).checked_div(total).unwrap_or(0);
            // Only COMPLETE reaches 100: a running phase tops out at 99.
            (u64::from(start) + within).min(99) as u8
        }
    };
    computed.max(previous)
}

/// One SSE frame: `id`, `event` and the event's JSON on one `data:` line (serde_json never
/// writes raw newlines, so one line is always enough).
pub fn sse_frame(id: u64, event: &str, data_json: &str) -> String {
    format!("id: {id}\nevent: {event}\ndata: {data_json}\n\n")
}

pub const KEEP_ALIVE_FRAME: &str = ": keep-alive\n\n";
/// The contract asks for a comment at least every 15 s; we send one well inside that.
pub const KEEP_ALIVE_INTERVAL_MS: u64 = 10_000;

/// Parses `Last-Event-ID`; anything unreadable means "from the start".
pub fn parse_last_event_id(raw: Option<&str>) -> u64 {
    raw.and_then(|s| s.trim().parse::<u64>().ok()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_rise_through_the_phases() {
        let mut last = 0;
        let steps = [
            (SyncStatus::Queued, 0, 0),
            (SyncStatus::Fetching, 0, 1),
            (SyncStatus::Fetching, 1, 1),
            (SyncStatus::Diffing, 0, 0),
            (SyncStatus::Processing, 10, 100),
            (SyncStatus::Processing, 100, 100),
            (SyncStatus::Persisting, 1, 3),
            (SyncStatus::Persisting, 3, 3),
            (SyncStatus::Complete, 0, 0),
        ];
        for (status, done, total) in steps {
            let p = percent(status, done, total, last);
            assert!(p >= last, "{status:?} went down: {p} < {last}");
            assert!(p <= 100);
            if status != SyncStatus::Complete {
                assert!(p < 100, "{status:?} reached 100 before COMPLETE");
            }
            last = p;
        }
        assert_eq!(last, 100);
    }

    #[test]
    fn failure_keeps_the_bar_where_it_was() {
        assert_eq!(percent(SyncStatus::Failed, 0, 0, 42), 42);
        assert_eq!(percent(SyncStatus::Cancelled, 5, 5, 7), 7);
        // A lower computed value never wins over what was already shown.
        assert_eq!(percent(SyncStatus::Fetching, 0, 10, 30), 30);
        assert_eq!(percent(SyncStatus::Processing, 50, 0, 0), 35);
        assert_eq!(percent(SyncStatus::Processing, 500, 100, 0), 70);
    }

    #[test]
    fn frames_follow_the_contract() {
        let data = ProgressData {
            sync_id: "s1".into(),
            status: SyncStatus::Complete,
            progress: 100,
            message: "line one\nline two".into(),
            counts: Counts { added: 3, ..Counts::default() },
            stats: Stats::default(),
        };
        let frame = sse_frame(7, event_name(data.status), &serde_json::to_string(&data).unwrap());
        let lines: Vec<&str> = frame.lines().collect();
        assert_eq!(lines[0], "id: 7");
        assert_eq!(lines[1], "event: complete");
        assert!(lines[2].starts_with("data: {"));
        assert_eq!(lines.iter().filter(|l| l.starts_with("data:")).count(), 1, "one data line despite newlines");
        assert_eq!(lines.len(), 4, "three fields and the blank line that ends the event");
        assert!(frame.ends_with("\n\n"));
        let json: serde_json::Value = serde_json::from_str(&lines[2][6..]).unwrap();
        assert_eq!(json["syncId"], "s1");
        assert_eq!(json["status"], "COMPLETE");
        assert_eq!(json["counts"]["added"], 3);
        assert_eq!(json["stats"]["githubRequests"], 0);
        assert_eq!(event_name(SyncStatus::Diffing), "progress");
    }

    #[test]
    fn last_event_ids() {
        assert_eq!(parse_last_event_id(None), 0);
        assert_eq!(parse_last_event_id(Some(" 12 ")), 12);
        assert_eq!(parse_last_event_id(Some("abc")), 0);
    }
}
