//! The HTTP API of CONTRACT.md: routing, authentication and one handler per endpoint.
//! Handlers validate with `crate::api`, read and write through `d1::Db`, and start syncs in
//! their Durable Objects; every error leaves through `http::error_response`.

use super::crypto::{decrypt_token, encrypt_token, new_api_token, new_id};
use super::d1::{is_running_sync_conflict, n, opt, s, Db, ProjectRow, SyncRow, PROJECT_COLUMNS};
use super::github_http::GitHubHttp;
use super::http::{self, body, error_response, header, json, no_content};
use super::sync_object::StartRequest;
use super::{iso, now_ms, Config};
use crate::api::{
    query_param, BranchView, ChangeView, CreateProject, CreateUser, Page, PageRequest, PatchProject, Restore,
    StartSync, SyncStarted, TokenChange, UserCreated,
};
use crate::auth::{bearer_token, constant_time_eq, sha256_hex, stream_token, verify_stream_token, STREAM_TOKEN_TTL_SECS};
use crate::domain::{BranchName, RepoName, SyncKind, SyncStatus, Trigger};
use crate::error::{AppError, AppResult};
use crate::github::GhError;
use serde_json::json;
use std::rc::Rc;
use worker::{Env, Headers, Method, Request, RequestInit, Response};

const OPENAPI_JSON: &str = include_str!("../../web/openapi.json");

pub async fn handle(req: Request, env: &Env) -> worker::Result<Response> {
    let is_api = req.path().starts_with("/api/");
    match route(req, env).await {
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

struct Ctx<'a> {
    env: &'a Env,
    db: Rc<Db>,
    config: Config,
}

async fn route(mut req: Request, env: &Env) -> AppResult<Response> {
    let url = req.url().map_err(AppError::internal)?;
    let path = url.path().to_string();
    let query = url.query().unwrap_or("").to_string();
    let method = req.method();
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();

    if let (Method::Get, ["healthz"]) = (&method, segments.as_slice()) {
        return json(200, &json!({"ok": true, "version": crate::VERSION}));
    }
    let ["api", "v1", rest @ ..] = segments.as_slice() else {
        return Err(AppError::NotFound(format!("no route for {path}")));
    };
    let ctx = Ctx { env, db: Rc::new(Db::from_env(env)?), config: Config::from_env(env) };

    // Routes that carry their own credentials.
    match (&method, rest) {
        (Method::Get, ["openapi.json"]) => return http::bytes(200, "application/json; charset=utf-8", OPENAPI_JSON.into()),
        (Method::Post, ["users"]) => return create_user(&ctx, &mut req).await,
        (Method::Get, ["events", "project-sync", sync_id]) => return events(&ctx, &req, sync_id, &query).await,
        (Method::Post, ["webhooks", "github"]) => return super::scheduled::webhook(&ctx.db, &ctx.config, env, &mut req).await,
        _ => {}
    }

    let user = authenticate(&ctx, &req).await?;
    let user = user.as_str();
    match (&method, rest) {
        (Method::Post, ["projects"]) => create_project(&ctx, user, &mut req).await,
        (Method::Get, ["projects"]) => list_projects(&ctx, user, &query).await,
        (Method::Get, ["projects", id]) => json(200, &ctx.db.project_for_user(user, id).await?.view()),
        (Method::Patch, ["projects", id]) => patch_project(&ctx, user, id, &mut req).await,
        (Method::Delete, ["projects", id]) => delete_project(&ctx, user, id).await,
        (Method::Get, ["projects", id, "branches"]) => branches(&ctx, user, id, &query).await,
        (Method::Post, ["projects", id, "syncs"]) => start(&ctx, user, id, &mut req).await,
        (Method::Get, ["projects", id, "syncs"]) => history(&ctx, user, id, &query).await,
        (Method::Post, ["projects", id, "restore"]) => restore(&ctx, user, id, &mut req).await,
        (Method::Get, ["projects", id, "files"]) => files(&ctx, user, id, &query).await,
        (Method::Get, ["projects", id, "files", "history"]) => file_history(&ctx, user, id, &query).await,
        (Method::Get, ["projects", id, "memory"]) => memory(&ctx, user, id, &query).await,
        (Method::Get, ["syncs", id]) => {
            let sync = ctx.db.sync_for_user(user, id).await?;
            json(200, &sync.view())
        }
        (Method::Post, ["syncs", id, "cancel"]) => cancel(&ctx, user, id).await,
        (Method::Get, ["syncs", id, "changes"]) => changes(&ctx, user, id, &query).await,
        (Method::Get, ["syncs", id, "events-url"]) => {
            let sync = ctx.db.sync_for_user(user, id).await?;
            json(200, &json!({ "eventsUrl": events_url(&ctx.config, &sync.id) }))
        }
        _ => Err(AppError::NotFound(format!("no route for {method} {path}"))),
    }
}

async fn authenticate(ctx: &Ctx<'_>, req: &Request) -> AppResult<String> {
    let header = header(req, "authorization");
    let token = bearer_token(header.as_deref()).ok_or_else(|| AppError::Unauthorized("send Authorization: Bearer <token>".into()))?;
    #[derive(serde::Deserialize)]
    struct Row {
        id: String,
    }
    ctx.db
        .first::<Row>("SELECT id FROM users WHERE token_hash = ?1", &[s(&sha256_hex(token.as_bytes()))])
        .await?
        .map(|r| r.id)
        .ok_or_else(|| AppError::Unauthorized("the token is not valid".into()))
}

async fn create_user(ctx: &Ctx<'_>, req: &mut Request) -> AppResult<Response> {
    let admin = ctx.config.admin_token.as_deref().ok_or_else(|| AppError::Unauthorized("no ADMIN_TOKEN is configured".into()))?;
    let authorization = header(req, "authorization");
    let given = bearer_token(authorization.as_deref()).unwrap_or("");
    if !constant_time_eq(given.as_bytes(), admin.as_bytes()) {
        return Err(AppError::Unauthorized("creating users needs the admin token".into()));
    }
    let input = CreateUser::parse(&body(req).await?)?;
    let id = new_id()?;
    let token = new_api_token()?;
    ctx.db
        .run(
            "INSERT INTO users (id, name, token_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
            &[s(&id), s(&input.name), s(&sha256_hex(token.as_bytes())), s(&iso(now_ms()))],
        )
        .await?;
    json(201, &UserCreated { id, name: input.name, token })
}

/// GitHub as seen with the project's own token, or the global one.
async fn github_for(ctx: &Ctx<'_>, sealed_token: Option<&str>) -> AppResult<GitHubHttp> {
    let own = match sealed_token {
        Some(sealed) => Some(decrypt_token(&ctx.config.token_key, sealed).await?),
        None => None,
    };
    Ok(GitHubHttp::new(&ctx.config.github_api_url, own.or_else(|| ctx.config.github_token.clone()), Some(Rc::clone(&ctx.db))))
}

/// Confirms the branch exists (422 when GitHub says it does not).
async fn check_branch(gh: &GitHubHttp, repo: &RepoName, branch: &BranchName) -> AppResult<()> {
    match gh.head_if_moved(repo, branch, None).await {
        Ok(_) => Ok(()),
        Err(GhError::NotFound(_)) => Err(AppError::GitHub(format!("branch {branch} does not exist in {repo}"))),
        Err(GhError::EmptyRepository) => Err(AppError::GitHub(format!("{repo} is empty: it has no branches yet"))),
        Err(e) => Err(e.into()),
    }
}

async fn create_project(ctx: &Ctx<'_>, user: &str, req: &mut Request) -> AppResult<Response> {
    let input = CreateProject::parse(&body(req).await?)?;
    let token = input.github_token.clone().or_else(|| ctx.config.github_token.clone());
    let gh = GitHubHttp::new(&ctx.config.github_api_url, token, Some(Rc::clone(&ctx.db)));
    let info = match gh.repo(&input.repository).await {
        Ok(info) => info,
        Err(GhError::NotFound(_)) => {
            return Err(AppError::GitHub(format!("repository {} was not found (or the token cannot see it)", input.repository)))
        }
        Err(e) => return Err(e.into()),
    };
    let branch = match input.branch {
        Some(b) => b,
        None => {
            let default = info.default_branch.ok_or_else(|| AppError::GitHub("the repository has no default branch".into()))?;
            BranchName::parse(&default).map_err(|e| AppError::GitHub(format!("default branch: {e}")))?
        }
    };
    check_branch(&gh, &input.repository, &branch).await?;
    let sealed = match &input.github_token {
        Some(t) => Some(encrypt_token(&ctx.config.token_key, t).await?),
        None => None,
    };
    let id = new_id()?;
    let now = iso(now_ms());
    ctx.db
        .run(
            "INSERT INTO projects (id, user_id, name, repository, branch, tracked, github_token_enc, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
            &[
                s(&id),
                s(user),
                s(&input.name),
                s(input.repository.as_str()),
                s(branch.as_str()),
                n(u64::from(input.tracked)),
                opt(sealed.as_deref()),
                s(&now),
            ],
        )
        .await?;
    json(201, &ctx.db.project_for_user(user, &id).await?.view())
}

async fn list_projects(ctx: &Ctx<'_>, user: &str, query: &str) -> AppResult<Response> {
    let page = PageRequest::parse(query)?;
    let rows: Vec<ProjectRow> = ctx
        .db
        .all(
            &format!(
                "SELECT {PROJECT_COLUMNS} FROM projects WHERE user_id = ?1 \
                 AND (?2 IS NULL OR created_at > ?2 OR (created_at = ?2 AND id > ?3)) ORDER BY created_at, id LIMIT ?4"
            ),
            &[s(user), opt(page.after_key(0)), opt(page.after_key(1)), n(u64::from(page.limit) + 1)],
        )
        .await?;
    let views = rows.iter().map(ProjectRow::view).collect();
    json(200, &Page::from_overfetch(views, page.limit, |p| vec![p.created_at.clone(), p.id.clone()]))
}

async fn patch_project(ctx: &Ctx<'_>, user: &str, id: &str, req: &mut Request) -> AppResult<Response> {
    let patch = PatchProject::parse(&body(req).await?)?;
    let project = ctx.db.project_for_user(user, id).await?;
    let repo = RepoName::parse(&project.repository).map_err(|e| AppError::internal(e.0))?;
    let sealed = match &patch.github_token {
        TokenChange::Keep => project.github_token_enc.clone(),
        TokenChange::Remove => None,
        TokenChange::Set(t) => Some(encrypt_token(&ctx.config.token_key, t).await?),
    };
    let token_changed = !matches!(patch.github_token, TokenChange::Keep);
    let branch = patch.branch.clone().map(|b| b.to_string()).unwrap_or_else(|| project.branch.clone());
    if branch != project.branch || token_changed {
        // Check what GitHub says with the credentials the project will use from now on.
        let gh = github_for(ctx, sealed.as_deref()).await?;
        let parsed = BranchName::parse(&branch).map_err(|e| AppError::invalid("branch", e))?;
        check_branch(&gh, &repo, &parsed).await?;
    }
    ctx.db
        .run(
            "UPDATE projects SET name = ?3, branch = ?4, tracked = ?5, github_token_enc = ?6, updated_at = ?7, \
             head_etag = CASE WHEN branch = ?4 THEN head_etag END WHERE id = ?1 AND user_id = ?2",
            &[
                s(id),
                s(user),
                s(patch.name.as_deref().unwrap_or(&project.name)),
                s(&branch),
                n(u64::from(patch.tracked.unwrap_or(project.tracked != 0))),
                opt(sealed.as_deref()),
                s(&iso(now_ms())),
            ],
        )
        .await?;
    json(200, &ctx.db.project_for_user(user, id).await?.view())
}

async fn delete_project(ctx: &Ctx<'_>, user: &str, id: &str) -> AppResult<Response> {
    let project = ctx.db.project_for_user(user, id).await?;
    if let Some(running) = ctx.db.running_sync(&project.id).await? {
        // Best effort: the object also stops by itself once the project's rows are gone.
        let _ = object_call(ctx.env, &running.id, Method::Post, "/cancel", None).await;
    }
    ctx.db.run("DELETE FROM projects WHERE id = ?1 AND user_id = ?2", &[s(id), s(user)]).await?;
    no_content()
}

async fn branches(ctx: &Ctx<'_>, user: &str, id: &str, query: &str) -> AppResult<Response> {
    let page = PageRequest::parse(query)?;
    let project = ctx.db.project_for_user(user, id).await?;
    let repo = RepoName::parse(&project.repository).map_err(|e| AppError::internal(e.0))?;
    let gh = github_for(ctx, project.github_token_enc.as_deref()).await?;
    let mut all: Vec<BranchView> = gh
        .branches(&repo)
        .await?
        .into_iter()
        .map(|b| BranchView { name: b.name, commit_sha: b.commit.sha, protected: b.protected })
        .collect();
    all.sort_by(|a, b| a.name.cmp(&b.name));
    let after = page.after_key(0).unwrap_or("");
    let rest: Vec<BranchView> = all.into_iter().filter(|b| b.name.as_str() > after).take(page.limit as usize + 1).collect();
    json(200, &Page::from_overfetch(rest, page.limit, |b| vec![b.name.clone()]))
}

pub fn events_url(config: &Config, sync_id: &str) -> String {
    let token = stream_token(&config.stream_secret, sync_id, now_ms() / 1000 + STREAM_TOKEN_TTL_SECS);
    format!("/api/v1/events/project-sync/{sync_id}?access_token={token}")
}

/// Calls the sync's Durable Object.
pub async fn object_call(env: &Env, sync_id: &str, method: Method, path: &str, body: Option<String>) -> AppResult<Response> {
    object_call_with(env, sync_id, method, path, body, &[]).await
}

/// `object_call` with extra request headers (the event stream's `Last-Event-ID`).
async fn object_call_with(
    env: &Env,
    sync_id: &str,
    method: Method,
    path: &str,
    body: Option<String>,
    extra_headers: &[(&str, String)],
) -> AppResult<Response> {
    let namespace = env.durable_object("SYNCS").map_err(AppError::internal)?;
    let stub = namespace.id_from_name(sync_id).and_then(|id| id.get_stub()).map_err(AppError::internal)?;
    let headers = Headers::new();
    for (name, value) in extra_headers {
        headers.set(name, value).map_err(AppError::internal)?;
    }
    let mut init = RequestInit::new();
    init.with_method(method);
    if let Some(b) = body {
        headers.set("content-type", "application/json").map_err(AppError::internal)?;
        init.with_body(Some(b.into()));
    }
    init.with_headers(headers);
    let req = Request::new_with_init(&format!("https://sync-object{path}"), &init).map_err(AppError::internal)?;
    stub.fetch_with_request(req).await.map_err(AppError::internal)
}

/// Records a sync and starts its object. A second sync of a running project is a 409 that
/// names the running one (and nudges it, in case its object lost its alarm).
#[allow(clippy::too_many_arguments)]
pub async fn start_sync(
    db: &Db,
    env: &Env,
    config: &Config,
    project: &ProjectRow,
    kind: SyncKind,
    trigger: Trigger,
    branch: &BranchName,
    restore_from: Option<&SyncRow>,
) -> AppResult<SyncRow> {
    let id = new_id()?;
    let started = now_ms();
    let message = "Queued";
    let mut statements = vec![db.stmt(
        "INSERT INTO syncs (id, project_id, kind, trigger, branch, commit_sha, status, progress, message, \
         restored_from_sync_id, started_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'QUEUED', 0, ?7, ?8, ?9)",
        &[
            s(&id),
            s(&project.id),
            s(kind.as_str()),
            s(trigger.as_str()),
            s(branch.as_str()),
            opt(restore_from.and_then(|r| r.commit_sha.as_deref())),
            s(message),
            opt(restore_from.map(|r| r.id.as_str())),
            s(&iso(started)),
        ],
    )?];
    if kind == SyncKind::Sync && branch.as_str() != project.branch {
        statements.push(db.stmt(
            "UPDATE projects SET branch = ?2, head_etag = NULL, updated_at = ?3 WHERE id = ?1",
            &[s(&project.id), s(branch.as_str()), s(&iso(started))],
        )?);
    }
    if let Err(e) = db.batch(statements).await {
        if is_running_sync_conflict(&e) {
            let running = db.running_sync(&project.id).await?;
            if let Some(r) = &running {
                let _ = object_call(env, &r.id, Method::Post, "/poke", None).await;
            }
            return Err(AppError::Conflict {
                message: "a sync of this project is already queued or running".into(),
                sync: running.map(|r| serde_json::to_value(r.view()).unwrap_or_default()),
            });
        }
        return Err(AppError::internal(format!("D1: {e}")));
    }
    let start = StartRequest {
        sync_id: id.clone(),
        project_id: project.id.clone(),
        repository: project.repository.clone(),
        branch: branch.to_string(),
        kind,
        trigger,
        restore_from: restore_from.map(|r| (r.id.clone(), r.seq.unwrap_or(0), r.commit_sha.clone())),
        started_at_ms: started,
        max_text_bytes: config.max_text_bytes,
    };
    let body = serde_json::to_string(&start).map_err(AppError::internal)?;
    let started_ok = match object_call(env, &id, Method::Post, "/start", Some(body)).await {
        Ok(r) => (200..300).contains(&r.status_code()),
        Err(_) => false,
    };
    if !started_ok {
        db.run(
            "UPDATE syncs SET status = 'FAILED', error = ?2, message = ?2, completed_at = ?3 WHERE id = ?1",
            &[s(&id), s("the sync could not be started; nothing was changed"), s(&iso(now_ms()))],
        )
        .await?;
        return Err(AppError::internal("the sync object did not start"));
    }
    db.sync(&id).await?.ok_or_else(|| AppError::internal("sync row vanished"))
}

async fn start(ctx: &Ctx<'_>, user: &str, id: &str, req: &mut Request) -> AppResult<Response> {
    let input = StartSync::parse(&body(req).await?)?;
    let project = ctx.db.project_for_user(user, id).await?;
    let branch = match input.branch {
        Some(b) if b.as_str() != project.branch => {
            let repo = RepoName::parse(&project.repository).map_err(|e| AppError::internal(e.0))?;
            let gh = github_for(ctx, project.github_token_enc.as_deref()).await?;
            check_branch(&gh, &repo, &b).await?;
            b
        }
        Some(b) => b,
        None => BranchName::parse(&project.branch).map_err(|e| AppError::internal(e.0))?,
    };
    let sync = start_sync(&ctx.db, ctx.env, &ctx.config, &project, SyncKind::Sync, Trigger::Api, &branch, None).await?;
    let events_url = events_url(&ctx.config, &sync.id);
    json(202, &SyncStarted { sync: sync.view(), events_url })
}

async fn restore(ctx: &Ctx<'_>, user: &str, id: &str, req: &mut Request) -> AppResult<Response> {
    let input = Restore::parse(&body(req).await?)?;
    let project = ctx.db.project_for_user(user, id).await?;
    let target = match ctx.db.sync(input.sync_id.as_str()).await? {
        Some(t) if t.project_id == project.id => t,
        _ => return Err(AppError::not_found("sync")),
    };
    if target.status() != SyncStatus::Complete {
        return Err(AppError::conflict(format!("sync {} did not complete, so it has no state to restore", target.id)));
    }
    let branch = BranchName::parse(&target.branch).map_err(|e| AppError::internal(e.0))?;
    let sync = start_sync(&ctx.db, ctx.env, &ctx.config, &project, SyncKind::Restore, Trigger::Api, &branch, Some(&target)).await?;
    let events_url = events_url(&ctx.config, &sync.id);
    json(202, &SyncStarted { sync: sync.view(), events_url })
}

async fn history(ctx: &Ctx<'_>, user: &str, id: &str, query: &str) -> AppResult<Response> {
    let page = PageRequest::parse(query)?;
    let project = ctx.db.project_for_user(user, id).await?;
    let rows = ctx.db.history(&project.id, &page).await?;
    let views = rows.iter().map(SyncRow::view).collect();
    json(200, &Page::from_overfetch(views, page.limit, |s| vec![s.started_at.clone(), s.id.clone()]))
}

async fn cancel(ctx: &Ctx<'_>, user: &str, id: &str) -> AppResult<Response> {
    let sync = ctx.db.sync_for_user(user, id).await?;
    if sync.status().is_terminal() {
        return Err(AppError::conflict(format!("the sync already ended ({})", sync.status)));
    }
    let answer = object_call(ctx.env, &sync.id, Method::Post, "/cancel", None).await?;
    match answer.status_code() {
        202 => {
            let sync = ctx.db.sync_for_user(user, id).await?;
            json(202, &sync.view())
        }
        409 => Err(AppError::conflict("the sync is already committing or has ended")),
        other => Err(AppError::internal(format!("sync object answered {other} to cancel"))),
    }
}

/// The chain position to read files at: `at` (a completed sync of this project) or now.
async fn seq_for(ctx: &Ctx<'_>, project: &ProjectRow, at: Option<String>) -> AppResult<u64> {
    let Some(at) = at.filter(|a| !a.is_empty()) else { return Ok(project.current_seq) };
    let target = match ctx.db.sync(&at).await? {
        Some(t) if t.project_id == project.id => t,
        _ => return Err(AppError::not_found("sync")),
    };
    match (target.status(), target.seq) {
        (SyncStatus::Complete, Some(seq)) => Ok(seq),
        _ => Err(AppError::conflict(format!("sync {at} did not complete, so no state was ever active after it"))),
    }
}

async fn files(ctx: &Ctx<'_>, user: &str, id: &str, query: &str) -> AppResult<Response> {
    let page = PageRequest::parse(query)?;
    let project = ctx.db.project_for_user(user, id).await?;
    let seq = seq_for(ctx, &project, query_param(query, "at")).await?;
    let prefix = query_param(query, "prefix").unwrap_or_default();
    let rows = ctx.db.files_view(&project.id, seq, &prefix, &page).await?;
    json(200, &Page::from_overfetch(rows, page.limit, |f| vec![f.path.clone()]))
}

async fn file_history(ctx: &Ctx<'_>, user: &str, id: &str, query: &str) -> AppResult<Response> {
    let page = PageRequest::parse(query)?;
    let path = query_param(query, "path").filter(|p| !p.is_empty()).ok_or_else(|| AppError::invalid("path", "is required"))?;
    let project = ctx.db.project_for_user(user, id).await?;
    let rows = ctx.db.file_history(&project.id, project.current_seq, &path, &page).await?;
    let page_out = Page::from_overfetch(rows, page.limit, |(_, seq)| vec![seq.to_string()]);
    json(200, &Page { items: page_out.items.into_iter().map(|(v, _)| v).collect(), next_cursor: page_out.next_cursor })
}

async fn changes(ctx: &Ctx<'_>, user: &str, id: &str, query: &str) -> AppResult<Response> {
    let page = PageRequest::parse(query)?;
    let sync = ctx.db.sync_for_user(user, id).await?;
    // Only a completed sync changed anything; staged rows of a running one are not changes yet.
    let rows: Vec<ChangeView> = if sync.status() == SyncStatus::Complete { ctx.db.changes(&sync.id, &page).await? } else { Vec::new() };
    json(200, &Page::from_overfetch(rows, page.limit, |c| vec![c.path.clone()]))
}

async fn events(ctx: &Ctx<'_>, req: &Request, sync_id: &str, query: &str) -> AppResult<Response> {
    match query_param(query, "access_token") {
        Some(token) => verify_stream_token(&ctx.config.stream_secret, sync_id, &token, now_ms() / 1000)
            .map_err(|e| AppError::Unauthorized(format!("the stream token is not valid for this sync ({e:?})")))?,
        None => {
            let user = authenticate(ctx, req).await?;
            ctx.db.sync_for_user(&user, sync_id).await?;
        }
    }
    let last_event_id: Vec<(&str, String)> = header(req, "last-event-id").map(|v| ("last-event-id", v)).into_iter().collect();
    let response = object_call_with(ctx.env, sync_id, Method::Get, "/events", None, &last_event_id).await?;
    match response.status_code() {
        200 => Ok(response),
        404 => Err(AppError::not_found("sync")),
        other => Err(AppError::internal(format!("sync object answered {other} to events"))),
    }
}

async fn memory(ctx: &Ctx<'_>, user: &str, id: &str, query: &str) -> AppResult<Response> {
    let page = PageRequest::parse(query)?;
    let project = ctx.db.project_for_user(user, id).await?;
    let scope = RepoName::parse(&project.repository).map_err(|e| AppError::internal(e.0))?.canonical();
    let q = query_param(query, "q").unwrap_or_default();
    let rows = if q.trim().is_empty() {
        ctx.db.memory_list(&project.id, project.current_seq, &scope, &page).await?
    } else {
        let fts = crate::content::fts_query(&q).ok_or_else(|| AppError::invalid("q", "has no word to search for"))?;
        ctx.db.memory_search(&project.id, project.current_seq, &scope, &fts, &page).await?
    };
    json(200, &rows)
}
