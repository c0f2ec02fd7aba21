//! The Workers entry points: one function per event, each handing over to its file.

mod cron_tick;
mod fanout;
mod hooks;
mod routes;
mod sync_object;

use crate::shell::adapters::queues::is_hooks_queue;
use worker::{event, Context, Env, MessageBatch, Request, Response, ScheduleContext, ScheduledEvent};

#[event(start)]
fn start() {
    console_error_panic_hook::set_once();
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    routes::handle(req, &env).await
}

#[event(scheduled)]
async fn scheduled(event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    cron_tick::tick(&env, event.cron()).await;
}

#[event(queue)]
async fn queue(batch: MessageBatch<serde_json::Value>, env: Env, _ctx: Context) -> worker::Result<()> {
    if is_hooks_queue(&batch.queue()) {
        hooks::consume(&batch, &env).await;
    } else {
        fanout::consume(&batch, &env).await;
    }
    Ok(())
}
