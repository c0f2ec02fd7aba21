//! `POST /webhooks/github`: verified (`X-Hub-Signature-256`), understood (`crate::webhook`),
//! and answered at once: a push becomes one message on the fan-out queue, whatever the
//! number of projects it concerns. The delivery is recorded as handled by the consumer,
//! once every project's start is queued, so a redelivery after a failure is handled again.
//! The App's `installation` and `installation_repositories` events are applied at once
//! (a few idempotent updates).

use crate::auth::verify_webhook_signature;
use crate::error::{AppError, AppResult};
use crate::fanout::Message;
use crate::github_app::{InstallationId, InstallationState};
use crate::shell::adapters::d1::StateChange;
use crate::shell::adapters::http::{body_up_to, header, json};
use crate::shell::adapters::queues::FANOUT_BINDING;
use crate::shell::adapters::{now, sync_client, Services};
use crate::webhook::{delivery_id, interpret, WebhookEvent, MAX_PAYLOAD_BYTES};
use serde_json::json;
use worker::{Request, Response};

pub async fn receive(svc: &Services<'_>, req: &mut Request) -> AppResult<Response> {
    let raw = body_up_to(req, MAX_PAYLOAD_BYTES).await?;
    let secret = svc
        .settings
        .webhook_secret
        .as_deref()
        .ok_or_else(|| AppError::Unauthorized("webhooks are not configured (no WEBHOOK_SECRET)".into()))?;
    if !verify_webhook_signature(secret.as_bytes(), &raw, header(req, "x-hub-signature-256").as_deref()) {
        return Err(AppError::Unauthorized("X-Hub-Signature-256 does not match the payload".into()));
    }
    let event = header(req, "x-github-event")
        .ok_or_else(|| AppError::invalid("X-GitHub-Event", "is missing: every GitHub delivery names its event"))?;
    let delivery = delivery_id(header(req, "x-github-delivery").as_deref());
    let push = match interpret(&event, &raw)? {
        WebhookEvent::Ping => return json(200, &json!({"ok": true, "event": "ping"})),
        WebhookEvent::Ignored(why) => return json(202, &json!({"ok": true, "ignored": why})),
        WebhookEvent::Push(push) => push,
        WebhookEvent::InstallationState { installation, state, at_ms } => {
            let Some(untracked) = installation_changed(svc, installation, state, at_ms).await? else {
                return json(
                    200,
                    &json!({"ok": true, "installation": installation,
                    "ignored": format!("this {} event is older than the installation's state applied before", state.as_str())}),
                );
            };
            return json(200, &json!({"ok": true, "installation": installation, "state": state.as_str(), "untracked": untracked}));
        }
        WebhookEvent::RepositoriesRemoved { installation, repositories } => {
            let names: Vec<String> = repositories.iter().map(|r| r.as_str().to_string()).collect();
            let untracked = untrack(svc, installation, Some(&names)).await?;
            return json(200, &json!({"ok": true, "installation": installation, "untracked": untracked}));
        }
    };
    if let Some(id) = &delivery {
        if svc.db.delivery_handled(id).await? {
            return json(200, &json!({"ok": true, "ignored": "repeated delivery", "delivery": id}));
        }
    }
    if svc.db.fault("webhook.enqueue").await {
        return Err(AppError::internal("injected fault at webhook.enqueue"));
    }
    let queue = svc.env.queue(FANOUT_BINDING).map_err(AppError::internal)?;
    let message = Message::Push { delivery: delivery.clone(), repository: push.repository, branch: push.branch, after: push.after };
    queue.send(message).await.map_err(|e| AppError::internal(format!("the fan-out queue refused the push: {e}")))?;
    json(202, &json!({"ok": true, "queued": true, "delivery": delivery}))
}

/// An installation GitHub suspended or deleted mints no more tokens, its projects stop
/// being tracked and their running syncs fail naming it (before their commit); one
/// unsuspended is usable again (its projects stay untracked until their users say so).
/// Each write is idempotent, so a redelivery does no harm; an event older (by GitHub's
/// time) than the state applied before changes nothing (`None`).
async fn installation_changed(
    svc: &Services<'_>,
    id: InstallationId,
    state: InstallationState,
    at_ms: Option<u64>,
) -> AppResult<Option<u64>> {
    if let StateChange::Stale { applied_ms } = svc.db.set_installation_state(id, state, at_ms, &now()).await? {
        worker::console_log!("installation {id}: a {} event of {at_ms:?} is older than the state of {applied_ms}: ignored", state.as_str());
        return Ok(None);
    }
    let Some(why) = state.refusal(id) else { return Ok(Some(0)) };
    let untracked = untrack(svc, id, None).await?;
    // Running syncs are told to fail now; one that misses it (its object unreachable)
    // fails at its next slice, which checks the installation first.
    for db in svc.databases() {
        for sync in db.running_syncs_of_installation(id).await? {
            if let Err(e) = sync_client::fail(svc.env, &sync, &why).await {
                worker::console_warn!("installation {id}: sync {sync} was not told to stop: {e}");
            }
        }
    }
    Ok(Some(untracked))
}

/// Stops tracking the installation's projects (on `repositories` only, if given), in every
/// database; their history stays.
async fn untrack(svc: &Services<'_>, id: InstallationId, repositories: Option<&[String]>) -> AppResult<u64> {
    let now = now();
    let mut untracked = 0;
    for db in svc.databases() {
        untracked += db.untrack_installation_projects(id, repositories, &now).await?;
    }
    Ok(untracked)
}
