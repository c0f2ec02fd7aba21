//! Messages of the fan-out queue (this worker is its producer and its consumer) and what
//! the consumer does with each, decided without I/O. A push becomes one `Start` message per
//! tracked project, so however many projects a repository has, the webhook answers at once
//! and each consumer invocation stays within its limits; a cron tick becomes one `Check`
//! per tracked project.

use crate::domain::{BranchName, CommitSha, ProjectId, RepoName, Trigger};
use serde::{Deserialize, Serialize};

/// Messages sent per `sendBatch` call (the platform's limit).
pub const SEND_BATCH_MAX: usize = 100;
/// A start refused because the project is busy is tried again after this long: the running
/// sync may predate the push. With the queue's 10 tries that is ten minutes of waiting (a
/// tracked project's cron check follows up after that).
pub const BUSY_RETRY_DELAY_SECS: u32 = 60;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Message {
    /// A verified push webhook: start a sync of every tracked project on this branch.
    #[serde(rename_all = "camelCase")]
    Push { delivery: Option<String>, repository: RepoName, branch: BranchName, after: Option<CommitSha> },
    /// Start one project's sync (if it does not already hold `after`).
    #[serde(rename_all = "camelCase")]
    Start { project_id: ProjectId, trigger: Trigger, after: Option<CommitSha> },
    /// The cron's head check of one tracked project (one conditional request).
    #[serde(rename_all = "camelCase")]
    Check { project_id: ProjectId },
    /// One more pass of the content sweep of deleted projects' repositories, in its own
    /// invocation (its own query and subrequest budgets); it sends the next while work is
    /// left, so a large repository is swept within minutes, not one pass per cron tick.
    Sweep,
}

/// What the consumer does with a `Start` for a project in this state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartDecision {
    /// Acknowledge without starting anything (the reason is logged).
    Skip(&'static str),
    Start,
}

pub fn decide_start(tracked: bool, held: Option<&CommitSha>, after: Option<&CommitSha>) -> StartDecision {
    if !tracked {
        return StartDecision::Skip("the project is no longer tracked");
    }
    if after.is_some() && held == after {
        return StartDecision::Skip("the project already holds that commit");
    }
    StartDecision::Start
}

/// How a `Start` that was refused is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Another sync of the project runs: try again later.
    Busy,
    /// A transient failure (D1, the object): let the queue retry with its backoff.
    Transient,
    /// Nothing will change by retrying (the project is gone): acknowledge.
    Final,
    /// Not a message of ours: retried at once until the queue dead-letters it.
    Poisoned,
    /// GitHub asked to wait this long (a rate limit): retried then.
    After(u32),
}

/// A transient failure is tried again after this long (the queue's `max_retries` bounds
/// the tries; then the message goes to the dead-letter queue).
pub const TRANSIENT_RETRY_DELAY_SECS: u32 = 10;

/// After how long a refused `Start` is tried again; `None`: acknowledge it.
pub fn retry_delay_secs(refusal: Refusal) -> Option<u32> {
    match refusal {
        Refusal::Busy => Some(BUSY_RETRY_DELAY_SECS),
        Refusal::Transient => Some(TRANSIENT_RETRY_DELAY_SECS),
        Refusal::Final => None,
        Refusal::Poisoned => Some(0),
        Refusal::After(secs) => Some(secs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_with_camel_case_tags() {
        let m = Message::Start { project_id: ProjectId::parse("p-1").unwrap(), trigger: Trigger::Webhook, after: None };
        let json = serde_json::to_value(&m).unwrap();
        assert_eq!(json["kind"], "start");
        assert_eq!(json["projectId"], "p-1");
        assert_eq!(serde_json::from_value::<Message>(json).unwrap(), m);
        let bad = serde_json::json!({"kind": "push", "repository": "not a repo", "branch": "main"});
        assert!(serde_json::from_value::<Message>(bad).is_err(), "a poisoned message does not parse");
    }

    #[test]
    fn start_decisions() {
        let a = CommitSha::parse(&"a".repeat(40)).unwrap();
        let b = CommitSha::parse(&"b".repeat(40)).unwrap();
        assert_eq!(decide_start(false, None, Some(&a)), StartDecision::Skip("the project is no longer tracked"));
        assert_eq!(decide_start(true, Some(&a), Some(&a)), StartDecision::Skip("the project already holds that commit"));
        assert_eq!(decide_start(true, Some(&b), Some(&a)), StartDecision::Start);
        assert_eq!(decide_start(true, None, None), StartDecision::Start);
        assert_eq!(retry_delay_secs(Refusal::Busy), Some(BUSY_RETRY_DELAY_SECS));
        assert_eq!(retry_delay_secs(Refusal::Transient), Some(TRANSIENT_RETRY_DELAY_SECS));
        assert_eq!(retry_delay_secs(Refusal::Final), None);
        assert_eq!(retry_delay_secs(Refusal::Poisoned), Some(0));
        assert_eq!(retry_delay_secs(Refusal::After(90)), Some(90));
        let check = serde_json::json!({"kind": "check", "projectId": "p-2"});
        assert_eq!(serde_json::from_value::<Message>(check).unwrap(), Message::Check { project_id: ProjectId::parse("p-2").unwrap() });
    }
}
