//! Syncs: start (202 with an eventsUrl; 409 naming the running one), restore, history and
//! cancel.

use super::project_of;
use crate::api::{PageRequest, Restore, StartSync, SyncStarted, SyncView};
use crate::domain::{ProjectId, SyncId, Trigger, UserId};
use crate::error::AppResult;
use crate::shell::adapters::http::{body, json};
use crate::shell::adapters::Services;
use crate::shell::cases::cancel as cancelling;
use crate::shell::cases::plan::SyncPlan;
use crate::shell::cases::reads;
use crate::shell::cases::start::{self as starting, Started};
use worker::{Request, Response};

pub async fn start(svc: &Services<'_>, user: &UserId, id: &ProjectId, req: &mut Request) -> AppResult<Response> {
    let input = StartSync::parse(&body(req).await?)?;
    let project = project_of(svc, user, id).await?;
    let plan = SyncPlan::requested(svc, &project, input).await?;
    started(starting::start(svc, &project, Trigger::Api, plan).await?)
}

fn started(started: Started) -> AppResult<Response> {
    json(202, &SyncStarted { sync: SyncView::from(&started.sync), events_url: started.events_url })
}

pub async fn restore(svc: &Services<'_>, user: &UserId, id: &ProjectId, req: &mut Request) -> AppResult<Response> {
    let input = Restore::parse(&body(req).await?)?;
    let project = project_of(svc, user, id).await?;
    let plan = SyncPlan::restore(svc, &project, &input).await?;
    started(starting::start(svc, &project, Trigger::Api, plan).await?)
}

pub async fn history(svc: &Services<'_>, user: &UserId, id: &ProjectId, query: &str) -> AppResult<Response> {
    json(200, &reads::syncs_page(svc, user, id, &PageRequest::parse(query)?).await?)
}

pub async fn cancel(svc: &Services<'_>, user: &UserId, id: &SyncId) -> AppResult<Response> {
    json(202, &SyncView::from(&cancelling::cancel(svc, user, id).await?))
}
