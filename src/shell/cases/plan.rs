//! What a start is to do, settled before anything is written: the first half of starting a
//! sync (parse, then apply: `start::start` applies a plan). The request bodies themselves are
//! parsed in `crate::api` (`StartSync`, `Restore`); here they meet the project and GitHub.

use crate::api::{Restore, StartSync};
use crate::domain::{BranchName, SyncKind, SyncStatus};
use crate::error::{AppError, AppResult};
use crate::github::GhError;
use crate::pathfilter::PathFilter;
use crate::shell::adapters::d1::{ProjectRow, SyncRow};
use crate::shell::adapters::Services;

/// A sync to start: which branch, and how.
pub struct SyncPlan {
    pub branch: BranchName,
    pub mode: Mode,
}

pub enum Mode {
    /// The branch under the project's filter; a branch other than the project's becomes its.
    Sync,
    /// A preview under this filter; it changes nothing of the project, its branch included.
    DryRun(Box<PathFilter>),
    /// Back to the state of this completed sync, under the filter that made it (the
    /// project's filter stays, and the next sync applies it again).
    Restore(Box<SyncRow>),
}

impl SyncPlan {
    /// The project's branch under its filter: what the cron and the queue start.
    pub fn sync(project: &ProjectRow) -> SyncPlan {
        SyncPlan { branch: project.branch.clone(), mode: Mode::Sync }
    }

    /// `POST /projects/{id}/syncs`: a branch other than the project's must exist on GitHub
    /// (an installation that cannot be used lets the sync start and fail naming it); a dry
    /// run previews the project's filter as the request changes it.
    pub async fn requested(svc: &Services<'_>, project: &ProjectRow, input: StartSync) -> AppResult<SyncPlan> {
        let branch = match input.branch {
            Some(b) if b != project.branch => {
                branch_exists(svc, project, &b).await?;
                b
            }
            Some(b) => b,
            None => project.branch.clone(),
        };
        let mode = match input.dry_run {
            true => Mode::DryRun(Box::new(input.filter.over(&project.path_filter)?)),
            false => Mode::Sync,
        };
        Ok(SyncPlan { branch, mode })
    }

    /// `POST /projects/{id}/restore`: the sync named must be a completed sync of the project
    /// that was not a dry run.
    pub async fn restore(svc: &Services<'_>, project: &ProjectRow, input: &Restore) -> AppResult<SyncPlan> {
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
        Ok(SyncPlan { branch: target.branch.clone(), mode: Mode::Restore(Box::new(target)) })
    }

    pub fn kind(&self) -> SyncKind {
        match self.mode {
            Mode::Restore(_) => SyncKind::Restore,
            Mode::Sync | Mode::DryRun(_) => SyncKind::Sync,
        }
    }

    /// The paths the sync's state holds: the project's, a dry run's preview, a restored
    /// sync's own.
    pub fn filter<'p>(&'p self, project: &'p ProjectRow) -> &'p PathFilter {
        match &self.mode {
            Mode::Sync => &project.path_filter,
            Mode::DryRun(filter) => filter,
            Mode::Restore(target) => &target.path_filter,
        }
    }

    pub fn restore_from(&self) -> Option<&SyncRow> {
        match &self.mode {
            Mode::Restore(target) => Some(target),
            Mode::Sync | Mode::DryRun(_) => None,
        }
    }

    pub fn dry_run(&self) -> bool {
        matches!(self.mode, Mode::DryRun(_))
    }

    /// Whether the start moves the project to its branch (only a sync does).
    pub fn moves_project(&self, project: &ProjectRow) -> bool {
        matches!(self.mode, Mode::Sync) && self.branch != project.branch
    }
}

async fn branch_exists(svc: &Services<'_>, project: &ProjectRow, branch: &BranchName) -> AppResult<()> {
    let gh = svc.github_for(project).await?;
    match gh.head_if_moved(&project.repository, branch, None).await {
        Ok(_) | Err(GhError::Credential(_)) => Ok(()),
        Err(GhError::NotFound(_)) => Err(AppError::GitHub(format!("branch {branch} does not exist in {}", project.repository))),
        Err(other) => Err(other.into()),
    }
}
