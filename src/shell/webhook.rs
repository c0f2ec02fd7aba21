//! `POST /webhooks/github`: verified (`X-Hub-Signature-256`), understood (`crate::webhook`),
//! and answered at once: a push becomes one message on the fan-out queue, whatever the
//! number of projects it concerns. The delivery is recorded as handled by the consumer,
//! once every project's start is queued, so a redelivery after a failure is handled again.

use super::fanout::FANOUT_BINDING;
use super::http::{body_up_to, header, json};
use super::Services;
use crate::auth::verify_webhook_signature;
use crate::error::{AppError, AppResult};
use crate::fanout::Message;
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
    let event = header(req, "x-github-event").unwrap_or_default();
    let delivery = delivery_id(header(req, "x-github-delivery").as_deref());
    let push = match interpret(&event, &raw)? {
        WebhookEvent::Ping => return json(200, &json!({"ok": true, "event": "ping"})),
        WebhookEvent::Ignored(why) => return json(202, &json!({"ok": true, "ignored": why})),
        WebhookEvent::Push(push) => push,
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
