//! Projects: create (checked against GitHub), list, patch, delete, and the repository's
//! branches.

use super::project_of;
use crate::api::ProjectView;
use crate::api::{BranchView, CreateProject, Page, PageRequest, PatchProject, TokenChange};
use crate::domain::{BranchName, RepoName};
use crate::domain::{ProjectId, UserId};
use crate::error::{AppError, AppResult};
use crate::github::GhError;
use crate::github_app::InstallationId;
use crate::shell::adapters::crypto::{decrypt_token, encrypt_token, new_id};
use crate::shell::adapters::d1::{NewProject, ProjectUpdate};
use crate::shell::adapters::github::GitHubHttp;
use crate::shell::adapters::http::{body, json, no_content};
use crate::shell::adapters::{now, sync_client, Services};
use crate::shell::cases::reads;
use std::rc::Rc;
use worker::{Request, Response};

/// Confirms the branch exists (422 when GitHub says it does not).
async fn check_branch(gh: &GitHubHttp, repo: &RepoName, branch: &BranchName) -> AppResult<()> {
    match gh.head_if_moved(repo, branch, None).await {
        Ok(_) => Ok(()),
        Err(GhError::NotFound(_)) => Err(AppError::GitHub(format!("branch {branch} does not exist in {repo}"))),
        Err(GhError::EmptyRepository) => Err(AppError::GitHub(format!("{repo} is empty: it has no branches yet"))),
        Err(e) => Err(e.into()),
    }
}

/// A token sealed for storage, if one is given.
async fn seal(svc: &Services<'_>, token: Option<&str>) -> AppResult<Option<String>> {
    match token {
        Some(t) => Ok(Some(encrypt_token(&svc.settings.token_keys()?, t).await?)),
        None => Ok(None),
    }
}

/// The installation, if it is granted to the caller (404 otherwise, as for anything of
/// another user's).
async fn granted(svc: &Services<'_>, user: &UserId, id: InstallationId) -> AppResult<InstallationId> {
    match svc.db.grant_for_user(user, id).await? {
        Some(_) => Ok(id),
        None => Err(AppError::not_found("installation")),
    }
}

pub async fn create(svc: &Services<'_>, user: &UserId, req: &mut Request) -> AppResult<Response> {
    let input = CreateProject::parse(&body(req).await?)?;
    // Sealed first: without TOKEN_ENCRYPTION_KEY a project with a token is refused.
    let sealed = seal(svc, input.github_token.as_deref()).await?;
    if let Some(id) = input.installation_id {
        granted(svc, user, id).await?;
    }
    let gh = svc.github_with(input.installation_id, input.github_token.clone());
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
    let id: ProjectId = new_id()?;
    let now = now();
    let db = svc.place_new(&id).await?;
    if !Rc::ptr_eq(db, &svc.db) {
        // The project's rows refer to its user: a copy of the user's row goes with them.
        let owner = svc.db.user(user).await?.ok_or_else(|| AppError::internal("the caller's user row vanished"))?;
        db.copy_user(&owner).await?;
    }
    db.insert_project(&NewProject {
        id: &id,
        user_id: user,
        name: &input.name,
        repository: &input.repository,
        branch: &branch,
        tracked: input.tracked,
        github_token_enc: sealed.as_deref(),
        installation_id: input.installation_id,
        path_filter: &filter_json(&input.filter)?,
        now: &now,
    })
    .await?;
    json(201, &ProjectView::from(&project_of(svc, user, &id).await?))
}

pub async fn list(svc: &Services<'_>, user: &UserId, query: &str) -> AppResult<Response> {
    json(200, &reads::projects_page(svc, user, &PageRequest::parse(query)?).await?)
}

pub async fn patch(svc: &Services<'_>, user: &UserId, id: &ProjectId, req: &mut Request) -> AppResult<Response> {
    let patch = PatchProject::parse(&body(req).await?)?;
    let project = project_of(svc, user, id).await?;
    // A project has one credential: setting a token drops its installation, and the other
    // way round.
    let installation = match patch.installation_id {
        Some(Some(id)) => Some(granted(svc, user, id).await?),
        Some(None) => None,
        None if matches!(patch.github_token, TokenChange::Set(_)) => None,
        None => project.installation_id,
    };
    let sealed = match &patch.github_token {
        TokenChange::Keep if installation.is_some() => None,
        TokenChange::Keep => project.github_token_enc.clone(),
        TokenChange::Remove => None,
        TokenChange::Set(t) => seal(svc, Some(t)).await?,
    };
    let credential_changed = !matches!(patch.github_token, TokenChange::Keep) || installation != project.installation_id;
    let branch = patch.branch.clone().unwrap_or_else(|| project.branch.clone());
    if branch != project.branch || credential_changed {
        // Check what GitHub says with the credentials the project will use from now on.
        let token = match &patch.github_token {
            TokenChange::Set(t) => Some(t.clone()),
            _ => match &sealed {
                Some(s) => Some(decrypt_token(&svc.settings.token_keys()?, s).await?),
                None => None,
            },
        };
        let gh = svc.github_with(installation, token);
        check_branch(&gh, &project.repository, &branch).await?;
    }
    let update = ProjectUpdate {
        name: patch.name.as_deref().unwrap_or(&project.name),
        branch: &branch,
        tracked: patch.tracked.unwrap_or(project.tracked),
        github_token_enc: sealed.as_deref(),
        installation_id: installation,
        // Takes effect at the next sync, which lists the tree again (the engine sees the
        // current sync's filter differ).
        path_filter: &filter_json(&patch.filter.over(&project.path_filter)?)?,
        now: &now(),
    };
    svc.for_project(id).update_project(user, id, &update).await?;
    json(200, &ProjectView::from(&project_of(svc, user, id).await?))
}

pub async fn delete(svc: &Services<'_>, user: &UserId, id: &ProjectId) -> AppResult<Response> {
    let project = project_of(svc, user, id).await?;
    let db = svc.for_project(&project.id);
    if let Some(running) = db.running_sync(&project.id).await? {
        // Best effort: the object also stops by itself once the project's rows are gone.
        let _ = sync_client::cancel(svc.env, &running.id).await;
    }
    db.delete_project(user, id, &project.repository, &now()).await?;
    // After the rows: a directory row without its project reads as a 404, never the reverse.
    svc.db.delete_directory_entry(id).await?;
    no_content()
}

pub async fn branches(svc: &Services<'_>, user: &UserId, id: &ProjectId, query: &str) -> AppResult<Response> {
    let page = PageRequest::parse(query)?;
    let project = project_of(svc, user, id).await?;
    let gh = svc.github_for(&project).await?;
    let mut all: Vec<BranchView> = gh
        .branches(&project.repository)
        .await?
        .into_iter()
        .map(|b| BranchView { name: b.name, commit_sha: b.commit.sha, protected: b.protected })
        .collect();
    all.sort_by(|a, b| a.name.cmp(&b.name));
    let after = page.after_key(0).unwrap_or("");
    let rest: Vec<BranchView> = all.into_iter().filter(|b| b.name.as_str() > after).take(page.limit as usize + 1).collect();
    json(200, &Page::from_overfetch(rest, page.limit, |b| vec![b.name.clone()]))
}

fn filter_json(filter: &crate::pathfilter::PathFilter) -> AppResult<String> {
    serde_json::to_string(filter).map_err(|e| AppError::internal(e.to_string()))
}
