//! The fan-out queue's consumer (this worker produces and consumes it). A `Push` becomes
//! one `Start` per tracked project (sent in batches), then its delivery is recorded; a
//! `Start` starts that project's sync. What to do is decided in `crate::fanout`; refusals
//! are retried with a delay, and a message that keeps failing ends in the dead-letter
//! queue, whose consumer records it in D1 for an operator.

use crate::domain::Trigger;
use crate::error::AppError;
use crate::fanout::{decide_start, retry_delay_secs, Message, Refusal, StartDecision, SEND_BATCH_MAX};
use crate::shell::adapters::queues::{is_dead_letter_queue, FANOUT_BINDING};
use crate::shell::adapters::{now, Services};
use crate::shell::cases::head_check::{check_project, Checked};
use crate::shell::cases::lifecycle;
use crate::shell::cases::plan::SyncPlan;
use crate::shell::cases::start::{start, StartError};
use worker::{Env, MessageBatch, MessageExt, QueueRetryOptionsBuilder};

pub async fn consume(batch: &MessageBatch<serde_json::Value>, env: &Env) {
    let Ok(svc) = Services::from_env(env) else {
        batch.retry_all();
        return;
    };
    let dead_letters = is_dead_letter_queue(&batch.queue());
    // The messages of a batch are independent (each a project's own check or start), so
    // they run together: a batch costs about its slowest message, not their sum.
    let messages: Vec<_> = batch.iter().filter_map(Result::ok).collect();
    let handled = messages.iter().map(|message| async {
        if dead_letters {
            record_dead_letter(&svc, message, &batch.queue()).await;
        } else {
            settle(message, parse_and_handle(&svc, message).await);
        }
    });
    futures::future::join_all(handled).await;
}

async fn record_dead_letter(svc: &Services<'_>, message: &worker::Message<serde_json::Value>, queue: &str) {
    let body = message.body().to_string();
    worker::console_error!("fan-out: dead letter {}: {body}", message.id());
    match svc.db.record_dead_letter(&message.id(), queue, &body, &now()).await {
        Ok(()) => message.ack(),
        Err(_) => message.retry(),
    }
}

async fn parse_and_handle(svc: &Services<'_>, message: &worker::Message<serde_json::Value>) -> Result<(), Refusal> {
    match serde_json::from_value::<Message>(message.body().clone()) {
        Ok(parsed) => handle(svc, parsed).await,
        // A poisoned message never parses: retried until it is dead-lettered.
        Err(e) => {
            worker::console_error!("fan-out: message {} is not one of ours: {e}", message.id());
            Err(Refusal::Poisoned)
        }
    }
}

/// Acks a message that is done (or never will be), retries the rest after their delay.
fn settle(message: &worker::Message<serde_json::Value>, outcome: Result<(), Refusal>) {
    match outcome.map_err(retry_delay_secs) {
        Ok(()) | Err(None) => message.ack(),
        Err(Some(delay)) => message.retry_with_options(&QueueRetryOptionsBuilder::new().with_delay_seconds(delay).build()),
    }
}

/// A cron head check; a rate limit is retried after the wait GitHub names.
async fn check(svc: &Services<'_>, project_id: &crate::domain::ProjectId) -> Result<(), Refusal> {
    let located = match svc.locate(project_id).await {
        Ok(db) => db,
        Err(_) => return Err(Refusal::Transient),
    };
    let project = match located.project(project_id).await {
        Ok(Some(p)) if p.tracked => p,
        Ok(_) => return Ok(()),
        Err(_) => return Err(Refusal::Transient),
    };
    match check_project(svc, &project).await {
        Ok(Checked::UpToDate | Checked::Started) => Ok(()),
        Ok(Checked::GitHub { error, retry_after }) => {
            worker::console_warn!("cron: project {project_id}: {error}");
            match retry_after {
                Some(secs) => Err(Refusal::After(secs.min(u64::from(u32::MAX)) as u32)),
                None => Ok(()),
            }
        }
        Err(e) => {
            worker::console_warn!("cron: project {project_id}: {e}");
            Err(Refusal::Transient)
        }
    }
}

async fn handle(svc: &Services<'_>, message: Message) -> Result<(), Refusal> {
    match message {
        Message::Push { delivery, repository, branch, after } => {
            let mut projects = Vec::new();
            for db in svc.databases() {
                projects.extend(db.tracked_on(&repository, &branch).await.map_err(|_| Refusal::Transient)?);
            }
            let starts: Vec<Message> = projects
                .iter()
                .map(|p| Message::Start { project_id: p.id.clone(), trigger: Trigger::Webhook, after: after.clone() })
                .collect();
            let queue = svc.env.queue(FANOUT_BINDING).map_err(|_| Refusal::Transient)?;
            for chunk in starts.chunks(SEND_BATCH_MAX) {
                queue.send_batch(chunk.to_vec()).await.map_err(|_| Refusal::Transient)?;
            }
            if let Some(id) = delivery {
                let now = now();
                svc.db.record_delivery(&id, "push", starts.len() as u64, &now).await.map_err(|_| Refusal::Transient)?;
            }
            Ok(())
        }
        Message::Check { project_id } => check(svc, &project_id).await,
        Message::Sweep => {
            let mut done = lifecycle::Upkeep::default();
            lifecycle::sweep_pass(svc, &mut done).await.map_err(|e| {
                worker::console_warn!("fan-out: content sweep: {e}");
                Refusal::Transient
            })?;
            worker::console_log!("fan-out: content sweep deleted {} rows, {} packs", done.blobs, done.packs);
            if done.sweep_continues {
                let queue = svc.env.queue(FANOUT_BINDING).map_err(|_| Refusal::Transient)?;
                continue_sweep(&queue).await;
            }
            Ok(())
        }
        Message::Start { project_id, trigger, after } => {
            let db = svc.locate(&project_id).await.map_err(|_| Refusal::Transient)?;
            let Some(project) = db.project(&project_id).await.map_err(|_| Refusal::Transient)? else {
                return Err(Refusal::Final);
            };
            if let StartDecision::Skip(why) = decide_start(project.tracked, project.current_commit_sha.as_ref(), after.as_ref()) {
                worker::console_log!("fan-out: project {project_id}: {why}");
                return Ok(());
            }
            match start(svc, &project, trigger, SyncPlan::sync(&project)).await {
                Ok(_) => Ok(()),
                Err(StartError::Busy(_)) => Err(Refusal::Busy),
                Err(e) => {
                    worker::console_warn!("fan-out: project {project_id}: {}", AppError::from(e));
                    Err(Refusal::Transient)
                }
            }
        }
    }
}

/// Asks for one more sweep pass in an invocation of its own. Best effort: were the send
/// lost, the next cron tick sweeps on.
pub async fn continue_sweep(queue: &worker::Queue) {
    if let Err(e) = queue.send(Message::Sweep).await {
        worker::console_warn!("the content sweep goes on at the next tick: the fan-out queue refused it ({e})");
    }
}
