//! The HTTP API of CONTRACT.md: `crate::routing` names the endpoint, `handle` authenticates
//! and dispatches to one handler per endpoint (a file per resource; `mcp/` is the MCP server).
//! Handlers validate with `crate::api`, read through `cases::reads` (the MCP tools' reads too),
//! write through `d1::Db`, start syncs through `cases::start`; every error leaves through
//! `http::error_response`.

mod admin;
mod events;
mod files;
mod hooks;
mod installations;
mod mcp;
mod projects;
mod syncs;
mod users;
mod webhook;

use crate::api::{ProjectView, SyncView};
use crate::auth::{bearer_token, sha256_hex};
use crate::domain::{HookId, ProjectId, SyncId, UserId};
use crate::error::{AppError, AppResult};
use crate::routing::{allowed, route, Route, Verb};
use crate::shell::adapters::http::{self, error_response, header, json};
use crate::shell::adapters::Services;
use crate::shell::cases::reads::{project_of, sync_of};
use serde_json::json;
use worker::{Env, Request, Response};

const OPENAPI_JSON: &str = include_str!("../../../../web/openapi.json");

pub async fn handle(req: Request, env: &Env) -> worker::Result<Response> {
    let is_api = req.path().starts_with("/api/");
    match dispatch(req, env).await {
        Ok(response) => Ok(response),
        Err(err) => error_response(&err),
    }
    .or_else(|e| {
        // Building the response itself failed: still answer JSON on /api paths.
        worker::console_error!("response failed: {e}");
        let body = if is_api { r#"{"error":{"code":"internal","message":"internal error"}}"# } else { "internal error" };
        Ok(Response::ok(body)?.with_status(500))
    })
}

async fn dispatch(mut req: Request, env: &Env) -> AppResult<Response> {
    let url = req.url().map_err(AppError::internal)?;
    let path = url.path().to_string();
    let query = url.query().unwrap_or("").to_string();
    let method = req.inner().method();
    let Some(endpoint) = route(Verb::parse(&method), &path) else {
        return Err(match allowed(&path) {
            Some(allow) => AppError::MethodNotAllowed { allow },
            None => AppError::NotFound(format!("no route for {method} {path}")),
        });
    };
    let svc = Services::from_env(env)?;
    let user = match endpoint.own_credentials() {
        true => None,
        false => Some(authenticate(&svc, &req).await?),
    };
    let user = || user.as_ref().ok_or_else(|| AppError::internal("an endpoint that needs a user was reached without one"));
    let q = query.as_str();
    match endpoint {
        Route::Health => json(200, &json!({"ok": true, "version": crate::VERSION})),
        Route::OpenApi => http::bytes(200, "application/json; charset=utf-8", OPENAPI_JSON.into()),
        Route::Mcp => mcp::serve(&svc, &mut req).await,
        Route::CreateUser => users::create_user(&svc, &mut req).await,
        Route::ArmFault => admin::arm_fault(&svc, &mut req).await,
        Route::Enqueue => admin::enqueue(&svc, &mut req).await,
        Route::Diagnostics => admin::diagnostics(&svc, &req, q).await,
        Route::Events(sync) => events::events(&svc, &req, sync, q).await,
        Route::Webhook => webhook::receive(&svc, &mut req).await,
        Route::CreateProject => projects::create(&svc, user()?, &mut req).await,
        Route::ListProjects => projects::list(&svc, user()?, q).await,
        Route::GetProject(id) => json(200, &ProjectView::from(&project_of(&svc, user()?, &project_id(id)?).await?)),
        Route::PatchProject(id) => projects::patch(&svc, user()?, &project_id(id)?, &mut req).await,
        Route::DeleteProject(id) => projects::delete(&svc, user()?, &project_id(id)?).await,
        Route::Branches(id) => projects::branches(&svc, user()?, &project_id(id)?, q).await,
        Route::StartSync(id) => syncs::start(&svc, user()?, &project_id(id)?, &mut req).await,
        Route::History(id) => syncs::history(&svc, user()?, &project_id(id)?, q).await,
        Route::Restore(id) => syncs::restore(&svc, user()?, &project_id(id)?, &mut req).await,
        Route::Files(id) => files::files(&svc, user()?, &project_id(id)?, q).await,
        Route::FileHistory(id) => files::file_history(&svc, user()?, &project_id(id)?, q).await,
        Route::FileContent(id) => files::content(&svc, user()?, &project_id(id)?, &req, q).await,
        Route::Compare(id) => files::compare(&svc, user()?, &project_id(id)?, q).await,
        Route::Memory(id) => files::memory(&svc, user()?, &project_id(id)?, q).await,
        Route::GetSync(id) => json(200, &SyncView::from(&sync_of(&svc, user()?, &sync_id(id)?).await?)),
        Route::CancelSync(id) => syncs::cancel(&svc, user()?, &sync_id(id)?).await,
        Route::Changes(id) => files::changes(&svc, user()?, &sync_id(id)?, q).await,
        Route::GrantInstallation => installations::grant(&svc, &mut req).await,
        Route::ListInstallations => installations::list(&svc, user()?, q).await,
        Route::InstallationRepositories(id) => installations::repositories(&svc, user()?, id, q).await,
        Route::CreateHook(id) => hooks::create(&svc, user()?, &project_id(id)?, &mut req).await,
        Route::ListHooks(id) => hooks::list(&svc, user()?, &project_id(id)?, q).await,
        Route::DeleteHook(id, hook) => hooks::delete(&svc, user()?, &project_id(id)?, &hook_id(hook)?).await,
        Route::HookDeliveries(id, hook) => hooks::deliveries(&svc, user()?, &project_id(id)?, &hook_id(hook)?, q).await,
        Route::EventsUrl(id) => {
            let sync = sync_of(&svc, user()?, &sync_id(id)?).await?;
            json(200, &json!({ "eventsUrl": crate::shell::adapters::sync_client::events_url(&svc.settings, &sync.id)? }))
        }
    }
}

/// A route's project id, parsed once here; one that cannot be an id names no project (404).
fn project_id(raw: &str) -> AppResult<ProjectId> {
    ProjectId::parse(raw).map_err(|_| AppError::not_found("project"))
}

fn sync_id(raw: &str) -> AppResult<SyncId> {
    SyncId::parse(raw).map_err(|_| AppError::not_found("sync"))
}

fn hook_id(raw: &str) -> AppResult<HookId> {
    HookId::parse(raw).map_err(|_| AppError::not_found("hook"))
}

async fn authenticate(svc: &Services<'_>, req: &Request) -> AppResult<UserId> {
    let header = header(req, "authorization");
    let token = bearer_token(header.as_deref()).ok_or_else(|| AppError::Unauthorized("send Authorization: Bearer <token>".into()))?;
    svc.db.user_by_token_hash(&sha256_hex(token.as_bytes())).await?.ok_or_else(|| AppError::Unauthorized("the token is not valid".into()))
}
