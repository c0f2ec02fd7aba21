//! The HTTP API of CONTRACT.md: `crate::routing` names the endpoint, `handle` authenticates
//! and dispatches to one handler per endpoint (a file per resource). Handlers validate with
//! `crate::api`, read and write through `d1::Db`, start syncs through `cases::start`; every error
//! leaves through `http::error_response`.

mod admin;
mod events;
mod files;
mod hooks;
mod installations;
mod projects;
mod syncs;
mod users;
mod webhook;

use crate::auth::{bearer_token, sha256_hex};
use crate::domain::Id;
use crate::error::{AppError, AppResult};
use crate::routing::{allowed, route, Route, Verb};
use crate::shell::adapters::d1::{ProjectRow, SyncRow};
use crate::shell::adapters::http::{self, error_response, header, json};
use crate::shell::adapters::Services;
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
    let user = user.as_ref().map(Id::as_str).unwrap_or_default();
    let q = query.as_str();
    match endpoint {
        Route::Health => json(200, &json!({"ok": true, "version": crate::VERSION})),
        Route::OpenApi => http::bytes(200, "application/json; charset=utf-8", OPENAPI_JSON.into()),
        Route::CreateUser => users::create_user(&svc, &mut req).await,
        Route::ArmFault => admin::arm_fault(&svc, &mut req).await,
        Route::Enqueue => admin::enqueue(&svc, &mut req).await,
        Route::Diagnostics => admin::diagnostics(&svc, &req, q).await,
        Route::Events(sync) => events::events(&svc, &req, sync, q).await,
        Route::Webhook => webhook::receive(&svc, &mut req).await,
        Route::CreateProject => projects::create(&svc, user, &mut req).await,
        Route::ListProjects => projects::list(&svc, user, q).await,
        Route::GetProject(id) => json(200, &project_of(&svc, user, id).await?.view()),
        Route::PatchProject(id) => projects::patch(&svc, user, id, &mut req).await,
        Route::DeleteProject(id) => projects::delete(&svc, user, id).await,
        Route::Branches(id) => projects::branches(&svc, user, id, q).await,
        Route::StartSync(id) => syncs::start(&svc, user, id, &mut req).await,
        Route::History(id) => syncs::history(&svc, user, id, q).await,
        Route::Restore(id) => syncs::restore(&svc, user, id, &mut req).await,
        Route::Files(id) => files::files(&svc, user, id, q).await,
        Route::FileHistory(id) => files::file_history(&svc, user, id, q).await,
        Route::FileContent(id) => files::content(&svc, user, id, &req, q).await,
        Route::Compare(id) => files::compare(&svc, user, id, q).await,
        Route::Memory(id) => files::memory(&svc, user, id, q).await,
        Route::GetSync(id) => json(200, &sync_of(&svc, user, id).await?.view()),
        Route::CancelSync(id) => syncs::cancel(&svc, user, id).await,
        Route::Changes(id) => files::changes(&svc, user, id, q).await,
        Route::GrantInstallation => installations::grant(&svc, &mut req).await,
        Route::ListInstallations => installations::list(&svc, user, q).await,
        Route::InstallationRepositories(id) => installations::repositories(&svc, user, id, q).await,
        Route::CreateHook(id) => hooks::create(&svc, user, id, &mut req).await,
        Route::ListHooks(id) => hooks::list(&svc, user, id, q).await,
        Route::DeleteHook(id, hook) => hooks::delete(&svc, user, id, hook).await,
        Route::HookDeliveries(id, hook) => hooks::deliveries(&svc, user, id, hook, q).await,
        Route::EventsUrl(id) => {
            let sync = sync_of(&svc, user, id).await?;
            json(200, &json!({ "eventsUrl": crate::shell::adapters::sync_client::events_url(&svc.settings, sync.id.as_str())? }))
        }
    }
}

async fn authenticate(svc: &Services<'_>, req: &Request) -> AppResult<Id> {
    let header = header(req, "authorization");
    let token = bearer_token(header.as_deref()).ok_or_else(|| AppError::Unauthorized("send Authorization: Bearer <token>".into()))?;
    svc.db.user_by_token_hash(&sha256_hex(token.as_bytes())).await?.ok_or_else(|| AppError::Unauthorized("the token is not valid".into()))
}

/// The caller's project (another user's is a 404, as if it did not exist).
async fn project_of(svc: &Services<'_>, user: &str, id: &str) -> AppResult<ProjectRow> {
    svc.locate(id).await?.project_for_user(user, id).await?.ok_or_else(|| AppError::not_found("project"))
}

/// The caller's sync (another user's is a 404).
async fn sync_of(svc: &Services<'_>, user: &str, id: &str) -> AppResult<SyncRow> {
    svc.find_sync_for_user(user, id).await?.ok_or_else(|| AppError::not_found("sync"))
}
