//! What a GitHub webhook delivery means, without I/O: the event header and the payload
//! become a `WebhookEvent`. Only the fields we act on are read (payloads run to 25 MB).

use crate::domain::{BranchName, CommitSha, RepoName};
use crate::error::{AppError, AppResult};
use crate::github_app::{InstallationId, InstallationState};
use crate::timestamp::json_time_ms;
use serde::Deserialize;

/// GitHub's limit on a webhook payload: 25 MB.
pub const MAX_PAYLOAD_BYTES: usize = 25 * 1024 * 1024;
/// `X-GitHub-Delivery` values are GUIDs; anything longer than this is not one.
pub const MAX_DELIVERY_ID_CHARS: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookEvent {
    Ping,
    Push(Push),
    /// The App's `installation` event changed an installation's state.
    InstallationState {
        installation: InstallationId,
        state: InstallationState,
        /// When GitHub changed it (epoch ms), to order redelivered events; `None` if unreadable.
        at_ms: Option<u64>,
    },
    /// `installation_repositories` with `removed`: the installation no longer reaches these.
    RepositoriesRemoved {
        installation: InstallationId,
        repositories: Vec<RepoName>,
    },
    /// Understood and deliberately not acted on (the reason says why).
    Ignored(String),
}

/// A push to a branch: every tracked project on this repository and branch syncs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Push {
    pub repository: RepoName,
    pub branch: BranchName,
    /// The commit the branch now points at.
    pub after: Option<CommitSha>,
}

#[derive(Deserialize)]
struct PushWire {
    #[serde(rename = "ref")]
    git_ref: Option<String>,
    #[serde(default)]
    deleted: bool,
    after: Option<String>,
    repository: Option<RepositoryWire>,
}

#[derive(Deserialize)]
struct RepositoryWire {
    full_name: String,
}

/// The delivery id, when it is one we can key on.
pub fn delivery_id(header: Option<&str>) -> Option<String> {
    header.map(str::trim).filter(|d| !d.is_empty() && d.chars().count() <= MAX_DELIVERY_ID_CHARS).map(str::to_string)
}

pub fn interpret(event: &str, body: &[u8]) -> AppResult<WebhookEvent> {
    match event {
        "ping" => Ok(WebhookEvent::Ping),
        "push" => push(body),
        "installation" => installation(body),
        "installation_repositories" => installation_repositories(body),
        other => Ok(WebhookEvent::Ignored(format!("event {other:?} is not handled"))),
    }
}

fn push(body: &[u8]) -> AppResult<WebhookEvent> {
    let wire: PushWire = serde_json::from_slice(body).map_err(|e| AppError::invalid("body", format!("is not a push event ({e})")))?;
    let (Some(git_ref), Some(repo)) = (wire.git_ref, wire.repository) else {
        return Err(AppError::invalid("body", "a push event needs ref and repository.full_name"));
    };
    let Some(branch) = git_ref.strip_prefix("refs/heads/") else {
        return Ok(WebhookEvent::Ignored("not a branch push".into()));
    };
    if wire.deleted {
        return Ok(WebhookEvent::Ignored("branch deleted".into()));
    }
    let repository = RepoName::parse(&repo.full_name).map_err(|e| AppError::invalid("repository.full_name", e))?;
    let branch = BranchName::parse(branch).map_err(|e| AppError::invalid("ref", e))?;
    let after = wire.after.and_then(|a| CommitSha::parse(&a).ok()).filter(|a| a.as_str().bytes().any(|b| b != b'0'));
    Ok(WebhookEvent::Push(Push { repository, branch, after }))
}

#[derive(Deserialize)]
struct InstallationEventWire {
    action: String,
    installation: InstallationRefWire,
    #[serde(default)]
    repositories_removed: Vec<RepositoryWire>,
}

#[derive(Deserialize)]
struct InstallationRefWire {
    id: InstallationId,
    /// RFC 3339 (or epoch seconds in older payloads); `suspended_at` only while suspended.
    #[serde(default)]
    updated_at: serde_json::Value,
    #[serde(default)]
    suspended_at: serde_json::Value,
}

impl InstallationRefWire {
    /// The event's own time: the later of `updated_at` and `suspended_at`, as read.
    fn changed_at_ms(&self) -> Option<u64> {
        [&self.updated_at, &self.suspended_at].into_iter().filter_map(json_time_ms).max()
    }
}

fn installation_event(body: &[u8], event: &str) -> AppResult<InstallationEventWire> {
    serde_json::from_slice(body)
        .map_err(|e| AppError::invalid("body", format!("is not an {event} event with action and installation.id ({e})")))
}

fn installation(body: &[u8]) -> AppResult<WebhookEvent> {
    let wire = installation_event(body, "installation")?;
    let state = match wire.action.as_str() {
        "deleted" => InstallationState::Deleted,
        "suspend" => InstallationState::Suspended,
        "unsuspend" => InstallationState::Active,
        other => return Ok(WebhookEvent::Ignored(format!("installation {other:?} changes nothing here"))),
    };
    Ok(WebhookEvent::InstallationState { installation: wire.installation.id, state, at_ms: wire.installation.changed_at_ms() })
}

fn installation_repositories(body: &[u8]) -> AppResult<WebhookEvent> {
    let wire = installation_event(body, "installation_repositories")?;
    if wire.action != "removed" {
        return Ok(WebhookEvent::Ignored(format!("installation_repositories {:?} changes nothing here", wire.action)));
    }
    let repositories = wire
        .repositories_removed
        .iter()
        .map(|r| RepoName::parse(&r.full_name).map_err(|e| AppError::invalid("repositories_removed.full_name", e)))
        .collect::<AppResult<Vec<_>>>()?;
    Ok(WebhookEvent::RepositoriesRemoved { installation: wire.installation.id, repositories })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: serde_json::Value) -> Vec<u8> {
        serde_json::to_vec(&v).unwrap()
    }

    #[test]
    fn events() {
        let sha = "a".repeat(40);
        let push = body(json!({"ref": "refs/heads/feature/x", "after": sha, "repository": {"full_name": "Acme/Widgets"}, "commits": []}));
        match interpret("push", &push).unwrap() {
            WebhookEvent::Push(p) => {
                assert_eq!((p.repository.as_str(), p.branch.as_str()), ("Acme/Widgets", "feature/x"));
                assert_eq!(p.after.map(|a| a.to_string()), Some(sha.clone()));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(interpret("ping", b"{}").unwrap(), WebhookEvent::Ping);
        assert!(matches!(interpret("issues", b"{}").unwrap(), WebhookEvent::Ignored(_)));
        let tag = body(json!({"ref": "refs/tags/v1", "repository": {"full_name": "a/b"}}));
        assert!(matches!(interpret("push", &tag).unwrap(), WebhookEvent::Ignored(_)));
        let deleted = body(json!({"ref": "refs/heads/x", "deleted": true, "after": "0".repeat(40), "repository": {"full_name": "a/b"}}));
        assert!(matches!(interpret("push", &deleted).unwrap(), WebhookEvent::Ignored(_)));
        for bad in [&b"not json"[..], b"{}", br#"{"ref":"refs/heads/a..b","repository":{"full_name":"a/b"}}"#] {
            assert_eq!(interpret("push", bad).unwrap_err().status(), 400, "{}", String::from_utf8_lossy(bad));
        }
    }

    /// GitHub's own examples (npm `@octokit/webhooks-examples`), as far as we read them.
    #[test]
    fn installation_events() {
        let removed = body(json!({"action": "removed", "installation": {"id": 2, "account": {"login": "octocat"}},
            "repository_selection": "selected", "repositories_added": [],
            "repositories_removed": [{"id": 1296269, "name": "Hello-World", "full_name": "octocat/Hello-World", "private": false}]}));
        match interpret("installation_repositories", &removed).unwrap() {
            WebhookEvent::RepositoriesRemoved { installation, repositories } => {
                assert_eq!(installation.get(), 2);
                assert_eq!(repositories.iter().map(RepoName::as_str).collect::<Vec<_>>(), ["octocat/Hello-World"]);
            }
            other => panic!("{other:?}"),
        }
        let added = body(json!({"action": "added", "installation": {"id": 2}, "repositories_added": [{"full_name": "a/b"}]}));
        assert!(matches!(interpret("installation_repositories", &added).unwrap(), WebhookEvent::Ignored(_)));
        for (action, state) in
            [("deleted", InstallationState::Deleted), ("suspend", InstallationState::Suspended), ("unsuspend", InstallationState::Active)]
        {
            let event = body(json!({"action": action, "installation": {"id": 16598467}, "repositories": []}));
            assert_eq!(
                interpret("installation", &event).unwrap(),
                WebhookEvent::InstallationState { installation: InstallationId::new(16598467).unwrap(), state, at_ms: None },
                "{action}"
            );
        }
        // The times as GitHub's examples carry them: RFC 3339 with an offset, `suspended_at`
        // in UTC, epoch seconds in older payloads; the later one is the event's time.
        let times = [
            (
                json!({"id": 1, "updated_at": "2021-04-28T22:32:50.000-04:00", "suspended_at": "2021-04-29T02:32:50Z"}),
                Some(1_619_663_570_000),
            ),
            (json!({"id": 1, "updated_at": "2021-04-28T22:32:50.000-04:00", "suspended_at": null}), Some(1_619_663_570_000)),
            (
                json!({"id": 1, "updated_at": "2021-04-28T22:32:50.000-04:00", "suspended_at": "2021-04-29T02:33:00Z"}),
                Some(1_619_663_580_000),
            ),
            (json!({"id": 1, "updated_at": 1525109899}), Some(1_525_109_899_000)),
            (json!({"id": 1, "updated_at": "not a time"}), None),
        ];
        for (installation, at) in times {
            let event = body(json!({"action": "suspend", "installation": installation}));
            match interpret("installation", &event).unwrap() {
                WebhookEvent::InstallationState { at_ms, .. } => assert_eq!(at_ms, at, "{installation}"),
                other => panic!("{other:?}"),
            }
        }
        for quiet in ["created", "new_permissions_accepted"] {
            let event = body(json!({"action": quiet, "installation": {"id": 1}}));
            assert!(matches!(interpret("installation", &event).unwrap(), WebhookEvent::Ignored(_)), "{quiet}");
        }
        for bad in [&br#"{"action":"deleted"}"#[..], br#"{"action":"deleted","installation":{"id":0}}"#, b"[]"] {
            assert_eq!(interpret("installation", bad).unwrap_err().status(), 400, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn delivery_ids() {
        assert_eq!(delivery_id(Some(" 72d3162e-cc78-11e3-81ab-4c9367dc0958 ")).as_deref(), Some("72d3162e-cc78-11e3-81ab-4c9367dc0958"));
        assert_eq!(delivery_id(Some("")), None);
        assert_eq!(delivery_id(Some(&"x".repeat(101))), None);
        assert_eq!(delivery_id(None), None);
    }
}
