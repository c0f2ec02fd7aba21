//! GitHub App installations: an admin grants one to a user (after GitHub confirms it by
//! minting a token), a user lists theirs and the repositories each reaches.

use super::admin::require_admin;
use crate::api::{encode_cursor, GrantInstallation, InstallationRepoView, InstallationView, Page, PageRequest};
use crate::domain::UserId;
use crate::error::{AppError, AppResult};
use crate::github::GhError;
use crate::github_app::{pages_for, InstallationId, REPOSITORIES_PER_PAGE};
use crate::shell::adapters::credentials::{app_jwt, expiry_ms};
use crate::shell::adapters::crypto::encrypt_token;
use crate::shell::adapters::d1::ConfirmedInstallation;
use crate::shell::adapters::github_transport::GitHubTransport;
use crate::shell::adapters::http::{body, json};
use crate::shell::adapters::{now, Services};
use worker::{Request, Response};

/// GitHub's refusal of the App, as the contract's 422.
fn refused(id: InstallationId, e: GhError) -> AppError {
    match e {
        GhError::Credential(why) => AppError::GitHub(format!("installation {id}: {why}")),
        other => other.into(),
    }
}

pub async fn grant(svc: &Services<'_>, req: &mut Request) -> AppResult<Response> {
    require_admin(svc, req, "granting installations")?;
    let input = GrantInstallation::parse(&body(req).await?)?;
    let id = input.installation_id;
    let app = svc.settings.github_app()?;
    let keys = svc.settings.token_keys()?;
    if svc.db.user(&input.user_id).await?.is_none() {
        return Err(AppError::not_found("user"));
    }
    let jwt = app_jwt(&app).await?;
    let gh = GitHubTransport::new(&svc.settings.github_api_url);
    let installation = gh.app_installation(id, &jwt).await.map_err(|e| refused(id, e))?;
    if installation.suspended_at.is_some() {
        return Err(AppError::GitHub(format!("installation {id} is suspended on GitHub")));
    }
    let minted = gh.mint_installation_token(id, &jwt).await.map_err(|e| refused(id, e))?;
    let token = minted.checked_token().map_err(|e| AppError::GitHub(format!("installation {id}: {e}")))?;
    let selection = match installation.repository_selection.as_str() {
        "all" => "all",
        _ => "selected",
    };
    let confirmed = ConfirmedInstallation {
        id,
        account: &installation.account.login,
        repository_selection: selection,
        token_enc: &encrypt_token(&keys, token).await?,
        token_expires_ms: expiry_ms(&minted),
        now: &now(),
    };
    let grant = svc.db.grant_installation(&confirmed, &input.user_id).await?;
    let grant = grant.ok_or_else(|| AppError::internal("a grant just written was not found"))?;
    json(201, &InstallationView::from(&grant))
}

pub async fn list(svc: &Services<'_>, user: &UserId, query: &str) -> AppResult<Response> {
    let page = PageRequest::parse(query)?;
    let rows = svc.db.grants_of(user, page.after_number(0)?, page.limit + 1).await?;
    let views: Vec<InstallationView> = rows.iter().map(InstallationView::from).collect();
    json(200, &Page::from_overfetch(views, page.limit, |v| vec![v.installation_id.to_string()]))
}

/// Every repository the installation reaches, `limit` at a time: the GitHub pages (100
/// each) that hold the requested slice, read with an installation token.
pub async fn repositories(svc: &Services<'_>, user: &UserId, raw_id: &str, query: &str) -> AppResult<Response> {
    let page = PageRequest::parse(query)?;
    let id = InstallationId::parse(raw_id).ok_or_else(|| AppError::not_found("installation"))?;
    svc.db.grant_for_user(user, id).await?.ok_or_else(|| AppError::not_found("installation"))?;
    let offset = page.after_number(0)?.unwrap_or(0);
    let limit = u64::from(page.limit);
    let gh = svc.github_for_installation(id);
    let mut items = Vec::new();
    let mut total = 0;
    for number in pages_for(offset, limit) {
        let answer = gh.installation_repositories(number).await.map_err(|e| refused(id, e))?;
        total = answer.total_count;
        let first_index = (number - 1) * REPOSITORIES_PER_PAGE;
        let wanted = answer.repositories.into_iter().enumerate().filter(|(i, _)| {
            let index = first_index + *i as u64;
            index >= offset && index < offset + limit
        });
        items.extend(wanted.map(|(_, r)| InstallationRepoView {
            repository: r.full_name,
            private: r.private,
            default_branch: r.default_branch,
        }));
        if first_index + REPOSITORIES_PER_PAGE >= total {
            break;
        }
    }
    let next = offset + limit;
    let next_cursor = (next < total).then(|| encode_cursor(&[next.to_string()]));
    json(200, &Page { items, next_cursor })
}
