//! Outgoing notifications over the hooks queue (this worker produces and consumes it).
//! A sync that ended is announced once (`cases::announce`); the consumer makes one delivery
//! per subscribed hook (its body made once) and sends each its own message, which is one
//! attempt: a 2xx within 10 s settles it, anything else is retried by the queue after the
//! backoff `crate::hooks` computes, until the attempts run out. A message the consumer
//! itself keeps failing on ends in the dead-letter queue, whose consumer marks the delivery
//! failed. Nothing here runs inside a sync: a slow receiver slows no sync down.

use crate::api::hooks::DeliveryBody;
use crate::domain::{DeliveryId, HookEvent, ProjectId, SyncId, Timestamp};
use crate::hooks::{
    after_attempt, delay_seconds, describe, signature, AfterAttempt, Attempt, DeliveryStatus, HookMessage, ATTEMPT_TIMEOUT_MS,
};
use crate::shell::adapters::crypto::{decrypt_token, new_id};
use crate::shell::adapters::d1::{AttemptRecord, DeliveryRow};
use crate::shell::adapters::queues::{is_dead_letter_queue, HOOKS_BINDING};
use crate::shell::adapters::{now, now_ms, Services};
use futures::future::{select, Either};
use futures::pin_mut;
use std::time::Duration;
use worker::{
    AbortController, Delay, Env, Fetch, Headers, MessageBatch, MessageExt, Method, QueueRetryOptionsBuilder, Request, RequestInit,
    RequestRedirect,
};

/// What became of a message.
enum Settled {
    Done,
    /// Try it again after this many seconds.
    Retry(u32),
}

pub async fn consume(batch: &MessageBatch<serde_json::Value>, env: &Env) {
    let Ok(svc) = Services::from_env(env) else {
        batch.retry_all();
        return;
    };
    let dead_letters = is_dead_letter_queue(&batch.queue());
    let messages: Vec<_> = batch.iter().filter_map(Result::ok).collect();
    let handled = messages.iter().map(|message| async {
        let parsed = serde_json::from_value::<HookMessage>(message.body().clone());
        let settled = match parsed {
            Ok(m) if dead_letters => give_up(&svc, m, message, &batch.queue()).await,
            Ok(m) => handle(&svc, env, m, &message.id()).await,
            Err(e) => {
                worker::console_error!("hooks: message {} is not one of ours: {e}", message.id());
                Settled::Done
            }
        };
        match settled {
            Settled::Done => message.ack(),
            Settled::Retry(secs) => message.retry_with_options(&QueueRetryOptionsBuilder::new().with_delay_seconds(secs).build()),
        }
    });
    futures::future::join_all(handled).await;
}

/// A transient failure of ours (D1, the queue) is tried again soon.
const TRANSIENT_RETRY_SECS: u32 = 10;

async fn handle(svc: &Services<'_>, env: &Env, message: HookMessage, message_id: &str) -> Settled {
    let result = match message {
        HookMessage::Ended { project_id, sync_id } => fan_out(svc, env, &project_id, &sync_id).await,
        HookMessage::Deliver { project_id, delivery_id } => attempt(svc, &project_id, &delivery_id, message_id).await,
    };
    result.unwrap_or_else(|e| {
        worker::console_warn!("hooks: {e}");
        Settled::Retry(TRANSIENT_RETRY_SECS)
    })
}

/// One delivery per subscribed hook (made once: the body with the project and the sync as
/// they are now), each sent on as its own message.
async fn fan_out(svc: &Services<'_>, env: &Env, project_id: &ProjectId, sync_id: &SyncId) -> Result<Settled, String> {
    let db = svc.locate(project_id).await.map_err(|e| e.to_string())?;
    let err = |e: crate::shell::adapters::d1::DbError| e.to_string();
    let Some(sync) = db.sync(sync_id).await.map_err(err)? else { return Ok(Settled::Done) };
    let Some(event) = HookEvent::of_status(sync.status) else {
        return Err(format!("sync {sync_id} was announced as ended but is {}", sync.status.as_str()));
    };
    if sync.dry_run {
        return Ok(Settled::Done); // it changed nothing: there is nothing for a receiver to apply
    }
    let Some(project) = db.project(project_id).await.map_err(err)? else { return Ok(Settled::Done) };
    let queue = env.queue(HOOKS_BINDING).map_err(|e| e.to_string())?;
    // A hook hears of the syncs that ended after it was made, not of one that ended just
    // before (its announcement still on the queue).
    let ended_at = sync.completed_at.clone().unwrap_or_else(|| Timestamp::from_ms(now_ms()));
    for hook in db.hooks_for(project_id, event, &ended_at).await.map_err(err)? {
        let id: DeliveryId = new_id().map_err(|e| e.to_string())?;
        let body = DeliveryBody::new(event, &id, &project, &sync);
        let row = DeliveryRow {
            id: id.clone(),
            hook_id: hook.id.clone(),
            sync_id: sync_id.clone(),
            event,
            status: DeliveryStatus::Pending,
            attempts: 0,
            last_status_code: None,
            last_error: None,
            body: body.to_json(),
            created_at: Timestamp::from_ms(now_ms()),
            delivered_at: None,
        };
        let Some(stored) = db.ensure_delivery(&row).await.map_err(err)? else { continue };
        if stored.id == id {
            // A new delivery: the hook keeps only its newest (`crate::retention`).
            db.trim_deliveries(&hook.id, svc.settings.hook_deliveries_kept).await.map_err(err)?;
        }
        if stored.status == DeliveryStatus::Pending {
            let next = HookMessage::Deliver { project_id: project_id.clone(), delivery_id: stored.id };
            queue.send(next).await.map_err(|e| e.to_string())?;
        }
    }
    Ok(Settled::Done)
}

/// One attempt at one delivery, recorded; then retried after the backoff, or settled. Only
/// the message that claimed the delivery attempts it (message ids hold across retries), so
/// a duplicate message cannot start a second chain of attempts.
async fn attempt(svc: &Services<'_>, project_id: &ProjectId, delivery_id: &DeliveryId, message_id: &str) -> Result<Settled, String> {
    let db = svc.locate(project_id).await.map_err(|e| e.to_string())?;
    let err = |e: crate::shell::adapters::d1::DbError| e.to_string();
    let Some(delivery) = db.delivery(delivery_id).await.map_err(err)? else { return Ok(Settled::Done) };
    if delivery.status != DeliveryStatus::Pending || !db.claim_delivery(delivery_id, message_id).await.map_err(err)? {
        return Ok(Settled::Done); // settled already, or another message attempts it
    }
    // A deleted hook takes its deliveries with it.
    let Some(hook) = db.hook(project_id, &delivery.hook_id).await.map_err(err)? else { return Ok(Settled::Done) };
    let secret = match &hook.secret_enc {
        Some(sealed) => {
            Some(decrypt_token(&svc.settings.token_keys().map_err(|e| e.to_string())?, sealed).await.map_err(|e| e.to_string())?)
        }
        None => None,
    };
    let outcome = post(&hook.url, &delivery, secret.as_deref()).await;
    let attempts = delivery.attempts + 1;
    let next = after_attempt(&outcome, attempts, svc.settings.hook_retry_base_ms);
    let (status_code, error) = describe(&outcome);
    let now = now();
    let settled = match next {
        AfterAttempt::Delivered | AfterAttempt::GiveUp => Settled::Done,
        AfterAttempt::RetryIn { ms } => Settled::Retry(delay_seconds(ms)),
    };
    let status = next.status();
    let delivered_at = (status == DeliveryStatus::Delivered).then_some(now.as_str());
    let record = AttemptRecord { attempts, status, status_code, error: error.as_deref(), delivered_at };
    db.record_attempt(delivery_id, &record).await.map_err(err)?;
    Ok(settled)
}

/// POSTs the delivery's body, signed when the hook has a secret; redirects are not
/// followed (a 3xx is no delivery).
async fn post(url: &str, delivery: &DeliveryRow, secret: Option<&str>) -> Attempt {
    let headers = Headers::new();
    let mut set = vec![
        ("content-type", "application/json".to_string()),
        ("user-agent", "project-sync-hooks".to_string()),
        ("x-project-sync-event", delivery.event.as_str().to_string()),
        ("x-project-sync-delivery", delivery.id.to_string()),
    ];
    if let Some(secret) = secret {
        set.push(("x-project-sync-signature-256", signature(secret, delivery.body.as_bytes())));
    }
    for (name, value) in set {
        if let Err(e) = headers.set(name, &value) {
            return Attempt::NoAnswer(format!("could not set {name}: {e}"));
        }
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_redirect(RequestRedirect::Manual)
        .with_body(Some(delivery.body.clone().into()));
    let request = match Request::new_with_init(url, &init) {
        Ok(r) => r,
        Err(e) => return Attempt::NoAnswer(format!("bad URL: {e}")),
    };
    let controller = AbortController::default();
    let signal = controller.signal();
    let fetch = Fetch::Request(request);
    let sending = fetch.send_with_signal(&signal);
    let timeout = Delay::from(Duration::from_millis(ATTEMPT_TIMEOUT_MS));
    pin_mut!(sending, timeout);
    match select(sending, timeout).await {
        Either::Left((Ok(response), _)) => Attempt::Answered(response.status_code()),
        Either::Left((Err(e), _)) => Attempt::NoAnswer(format!("could not connect: {e}")),
        Either::Right(_) => {
            controller.abort();
            Attempt::NoAnswer(format!("no answer within {} s", ATTEMPT_TIMEOUT_MS / 1000))
        }
    }
}

/// A message our consumer kept failing on: the delivery it was for is marked failed; an
/// ending that never became deliveries is kept as a dead letter for an operator.
async fn give_up(svc: &Services<'_>, message: HookMessage, raw: &worker::Message<serde_json::Value>, queue: &str) -> Settled {
    worker::console_error!("hooks: dead letter from {queue}: {message:?}");
    if let HookMessage::Ended { .. } = message {
        let recorded = svc.db.record_dead_letter(&raw.id(), queue, &raw.body().to_string(), &now()).await;
        return if recorded.is_ok() { Settled::Done } else { Settled::Retry(TRANSIENT_RETRY_SECS) };
    }
    if let HookMessage::Deliver { project_id, delivery_id } = message {
        let Ok(db) = svc.locate(&project_id).await else { return Settled::Retry(TRANSIENT_RETRY_SECS) };
        let attempts = db.delivery(&delivery_id).await.ok().flatten().map_or(0, |d| d.attempts);
        let error = "the delivery could not be attempted (dead-lettered)";
        let r = AttemptRecord { attempts, status: DeliveryStatus::Failed, status_code: None, error: Some(error), delivered_at: None };
        if db.record_attempt(&delivery_id, &r).await.is_err() {
            return Settled::Retry(TRANSIENT_RETRY_SECS);
        }
    }
    Settled::Done
}
