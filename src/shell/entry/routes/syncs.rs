//! Syncs: start (202 with an eventsUrl; 409 naming the running one), restore, history and
//! cancel.

use super::{project_of, sync_of};
use crate::api::SyncView;
use crate::api::{Page, PageRequest, Restore, StartSync, SyncStarted};
use crate::domain::{ProjectId, SyncId, UserId};
use crate::domain::{SyncKind, SyncStatus, Trigger};
use crate::error::{AppError, AppResult};
use crate::shell::adapters::http::{body, json};
use crate::shell::adapters::{sync_client, Services};
use crate::shell::cases::start::{start_sync, StartRequest};
use crate::sync_protocol::CancelAnswer;
use worker::{Request, Response};

pub async fn start(svc: &Services<'_>, user: &UserId, id: &ProjectId, req: &mut Request) -> AppResult<Response> {
    let input = StartSync::parse(&body(req).await?)?;
    let project = project_of(svc, user, id).await?;
    let branch = match input.branch {
        Some(b) if b != project.branch => {
            let gh = svc.github_for(&project).await?;
            match gh.head_if_moved(&project.repository, &b, None).await {
                // An installation that cannot be used: the sync starts and fails naming it.
                Ok(_) | Err(crate::github::GhError::Credential(_)) => {}
                Err(crate::github::GhError::NotFound(_)) => {
                    return Err(AppError::GitHub(format!("branch {b} does not exist in {}", project.repository)))
                }
                Err(other) => return Err(other.into()),
            }
            b
        }
        Some(b) => b,
        None => project.branch.clone(),
    };
    let mut request = StartRequest::sync(&project, Trigger::Api, &branch);
    if input.dry_run {
        request.filter = input.filter.over(&project.path_filter)?;
        request.dry_run = true;
    }
    started(svc, start_sync(svc, request).await?)
}

fn started(svc: &Services<'_>, sync: crate::shell::adapters::d1::SyncRow) -> AppResult<Response> {
    let events_url = sync_client::events_url(&svc.settings, &sync.id)?;
    json(202, &SyncStarted { sync: SyncView::from(&sync), events_url })
}

pub async fn restore(svc: &Services<'_>, user: &UserId, id: &ProjectId, req: &mut Request) -> AppResult<Response> {
    let input = Restore::parse(&body(req).await?)?;
    let project = project_of(svc, user, id).await?;
    let target = match svc.for_project(&project.id).sync(&input.sync_id).await? {
        Some(t) if t.project_id == project.id => t,
        _ => return Err(AppError::not_found("sync")),
    };
    if target.status != SyncStatus::Complete {
        return Err(AppError::conflict(format!("sync {} did not complete, so it has no state to restore", target.id)));
    }
    if target.dry_run {
        return Err(AppError::conflict(format!("sync {} was a dry run, so it has no state to restore", target.id)));
    }
    // The state comes back as it was, so with the filter that made it; the project's
    // filter stays, and the next sync applies it again.
    let request = StartRequest {
        project: &project,
        kind: SyncKind::Restore,
        trigger: Trigger::Api,
        branch: &target.branch,
        restore_from: Some(&target),
        filter: target.path_filter.clone(),
        dry_run: false,
    };
    started(svc, start_sync(svc, request).await?)
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
            let ended = db.cancel_if_running(&sync.id, &crate::shell::adapters::iso(crate::shell::adapters::now_ms())).await?;
            if ended {
                crate::shell::cases::announce::announce_end(svc, db, &sync.project_id, &sync.id).await;
            }
            json(202, &SyncView::from(&sync_of(svc, user, id).await?))
        }
    }
}
