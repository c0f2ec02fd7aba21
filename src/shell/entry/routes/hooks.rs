//! A project's hooks: create (the URL checked against the service's own origin, the secret
//! sealed), list, delete, and each hook's delivery log.

use super::project_of;
use crate::api::{CreateHook, Page, PageRequest};
use crate::api::{DeliveryView, HookView};
use crate::domain::{HookId, ProjectId, UserId};
use crate::error::{AppError, AppResult};
use crate::hooks::{check_url, Origin, MAX_HOOKS_PER_PROJECT};
use crate::shell::adapters::crypto::{encrypt_token, new_id};
use crate::shell::adapters::d1::NewHook;
use crate::shell::adapters::http::{body, json, no_content};
use crate::shell::adapters::{now, Services};
use worker::{Request, Response};

pub async fn create(svc: &Services<'_>, user: &UserId, id: &ProjectId, req: &mut Request) -> AppResult<Response> {
    let input = CreateHook::parse(&body(req).await?)?;
    let project = project_of(svc, user, id).await?;
    // Where this request reached the service is one of its own origins.
    let own: Vec<Origin> = req.url().ok().and_then(|u| Origin::of(&u)).into_iter().collect();
    let url = check_url(&input.url, svc.settings.allow_http_hooks, &own).map_err(|e| AppError::invalid("url", e.0))?;
    let db = svc.for_project(&project.id);
    let secret_enc = match &input.secret {
        Some(secret) => Some(encrypt_token(&svc.settings.token_keys()?, secret).await?),
        None => None,
    };
    let hook: HookId = new_id()?;
    let now = now();
    let new = NewHook {
        id: &hook,
        project_id: &project.id,
        url: url.as_str(),
        secret_enc: secret_enc.as_deref(),
        events: &input.events,
        now: &now,
    };
    if !db.insert_hook(&new, MAX_HOOKS_PER_PROJECT).await? {
        return Err(AppError::conflict(format!("the project has {MAX_HOOKS_PER_PROJECT} hooks already; delete one first")));
    }
    let row = db.hook(&project.id, &hook).await?.ok_or_else(|| AppError::internal("the hook row vanished"))?;
    json(201, &HookView::from(&row))
}

pub async fn list(svc: &Services<'_>, user: &UserId, id: &ProjectId, query: &str) -> AppResult<Response> {
    let page = PageRequest::parse(query)?;
    let project = project_of(svc, user, id).await?;
    let after = page.after_key(0).zip(page.after_key(1));
    let rows = svc.for_project(&project.id).hooks_of(&project.id, after, page.limit + 1).await?;
    let views = rows.iter().map(HookView::from).collect();
    json(200, &Page::from_overfetch(views, page.limit, |h| vec![h.created_at.clone(), h.id.clone()]))
}

pub async fn delete(svc: &Services<'_>, user: &UserId, id: &ProjectId, hook: &HookId) -> AppResult<Response> {
    let project = project_of(svc, user, id).await?;
    if !svc.for_project(&project.id).delete_hook(&project.id, hook).await? {
        return Err(AppError::not_found("hook"));
    }
    no_content()
}

pub async fn deliveries(svc: &Services<'_>, user: &UserId, id: &ProjectId, hook: &HookId, query: &str) -> AppResult<Response> {
    let page = PageRequest::parse(query)?;
    let project = project_of(svc, user, id).await?;
    let db = svc.for_project(&project.id);
    db.hook(&project.id, hook).await?.ok_or_else(|| AppError::not_found("hook"))?;
    let after = page.after_key(0).zip(page.after_key(1));
    let rows = db.deliveries_of(hook, after, page.limit + 1).await?;
    let views = rows.iter().map(DeliveryView::from).collect();
    json(200, &Page::from_overfetch(views, page.limit, |d| vec![d.created_at.clone(), d.id.clone()]))
}
