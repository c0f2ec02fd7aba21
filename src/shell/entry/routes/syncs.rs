//! Syncs: start (202 with an eventsUrl; 409 naming the running one), restore, history and
//! cancel.

use super::{project_of, sync_of};
use crate::api::{Page, PageRequest, Restore, StartSync, SyncStarted, SyncView};
use crate::domain::{ProjectId, SyncId, Trigger, UserId};
use crate::error::{AppError, AppResult};
use crate::shell::adapters::http::{body, json};
use crate::shell::adapters::{sync_client, Services};
use crate::shell::cases::plan::SyncPlan;
use crate::shell::cases::start::{self as starting, Started};
use crate::sync_protocol::CancelAnswer;
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
    let page = PageRequest::parse(query)?;
    let project = project_of(svc, user, id).await?;
    let after = page.after_key(0).zip(page.after_key(1));
    let rows = svc.for_project(&project.id).history(&project.id, after, page.limit + 1).await?;
    let views = rows.iter().map(SyncView::from).collect();
    json(200, &Page::from_overfetch(views, page.limit, |s| vec![s.started_at.clone(), s.id.clone()]))
}

pub async fn cancel(svc: &Services<'_>, user: &UserId, id: &SyncId) -> AppResult<Response> {
    let sync = sync_of(svc, user, id).await?;
    if sync.status.is_terminal() {
        return Err(AppError::conflict(format!("the sync already ended ({})", sync.status.as_str())));
    }
    match sync_client::cancel(svc.env, &sync.id).await? {
        CancelAnswer::Cancelling => json(202, &SyncView::from(&sync_of(svc, user, id).await?)),
        CancelAnswer::TooLate => Err(AppError::conflict("the sync is already committing or has ended")),
        // A row whose start never reached its object: nothing runs, so it ends here.
        CancelAnswer::NoJob => {
            let db = svc.for_project(&sync.project_id);
            let ended = db.cancel_if_running(&sync.id, &crate::shell::adapters::now()).await?;
            if ended {
                crate::shell::cases::announce::announce_end(svc, db, &sync.project_id, &sync.id).await;
            }
            json(202, &SyncView::from(&sync_of(svc, user, id).await?))
        }
    }
}
