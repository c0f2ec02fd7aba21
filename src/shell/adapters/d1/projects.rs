//! `projects`: a repository and branch a user connected, its chain head, and the cron's
//! head-check state.

use super::rows::PROJECT_COLUMNS;
use super::{n, opt, s, Db, DbResult, ProjectRow};
use crate::domain::Timestamp;
use crate::domain::{BranchName, CommitSha, RepoName};
use crate::domain::{ProjectId, UserId};
use crate::github_app::InstallationId;
use serde::Deserialize;
use wasm_bindgen::JsValue;

fn installation(id: Option<InstallationId>) -> JsValue {
    id.map_or(JsValue::NULL, |i| n(i.get()))
}

/// A project as created.
pub struct NewProject<'a> {
    pub id: &'a ProjectId,
    pub user_id: &'a UserId,
    pub name: &'a str,
    pub repository: &'a RepoName,
    pub branch: &'a BranchName,
    pub tracked: bool,
    pub github_token_enc: Option<&'a str>,
    pub installation_id: Option<InstallationId>,
    /// The filter as JSON.
    pub path_filter: &'a str,
    pub now: &'a Timestamp,
}

/// The fields a PATCH may change, all resolved (unchanged ones carry the old value).
pub struct ProjectUpdate<'a> {
    pub name: &'a str,
    pub branch: &'a BranchName,
    pub tracked: bool,
    pub github_token_enc: Option<&'a str>,
    pub installation_id: Option<InstallationId>,
    /// The filter as JSON.
    pub path_filter: &'a str,
    pub now: &'a Timestamp,
}

impl Db {
    pub async fn project_for_user(&self, user: &UserId, project: &ProjectId) -> DbResult<Option<ProjectRow>> {
        self.first(&format!("SELECT {PROJECT_COLUMNS} FROM projects WHERE id = ?1 AND user_id = ?2"), &[s(project), s(user)]).await
    }

    pub async fn project(&self, project: &ProjectId) -> DbResult<Option<ProjectRow>> {
        self.first(&format!("SELECT {PROJECT_COLUMNS} FROM projects WHERE id = ?1"), &[s(project)]).await
    }

    /// A user's projects in creation order, after the `(created_at, id)` key.
    pub async fn projects_of(&self, user: &UserId, after: Option<(&str, &str)>, limit: u32) -> DbResult<Vec<ProjectRow>> {
        let (after_time, after_id) = after.unzip();
        self.all(
            &format!(
                "SELECT {PROJECT_COLUMNS} FROM projects WHERE user_id = ?1 \
                 AND (?2 IS NULL OR created_at > ?2 OR (created_at = ?2 AND id > ?3)) ORDER BY created_at, id LIMIT ?4"
            ),
            &[s(user), opt(after_time), opt(after_id), n(u64::from(limit))],
        )
        .await
    }

    pub async fn insert_project(&self, p: &NewProject<'_>) -> DbResult<()> {
        self.run(
            "INSERT INTO projects (id, user_id, name, repository, branch, tracked, github_token_enc, created_at, updated_at, \
             installation_id, path_filter) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9, ?10)",
            &[
                s(p.id),
                s(p.user_id),
                s(p.name),
                s(p.repository.as_str()),
                s(p.branch.as_str()),
                n(u64::from(p.tracked)),
                opt(p.github_token_enc),
                s(p.now),
                installation(p.installation_id),
                s(p.path_filter),
            ],
        )
        .await?;
        Ok(())
    }

    /// Applies a PATCH; a new branch forgets the head check made for the old one.
    pub async fn update_project(&self, user: &UserId, project: &ProjectId, u: &ProjectUpdate<'_>) -> DbResult<()> {
        self.run(
            "UPDATE projects SET name = ?3, branch = ?4, tracked = ?5, github_token_enc = ?6, updated_at = ?7, installation_id = ?8, path_filter = ?9, \
             head_etag = CASE WHEN branch = ?4 THEN head_etag END, head_sha = CASE WHEN branch = ?4 THEN head_sha END \
             WHERE id = ?1 AND user_id = ?2",
            &[
                s(project),
                s(user),
                s(u.name),
                s(u.branch.as_str()),
                n(u64::from(u.tracked)),
                opt(u.github_token_enc),
                s(u.now),
                installation(u.installation_id),
                s(u.path_filter),
            ],
        )
        .await?;
        Ok(())
    }

    /// Deletes the project (its syncs, versions, hooks go with it) and, in the same
    /// transaction, asks the cron tick to sweep its repository's content rows (`sweeps.rs`):
    /// the text only this project referenced goes there, not in this request.
    pub async fn delete_project(&self, user: &UserId, project: &ProjectId, repository: &RepoName, now: &Timestamp) -> DbResult<()> {
        self.batch(vec![
            self.stmt("DELETE FROM projects WHERE id = ?1 AND user_id = ?2", &[s(project), s(user)])?,
            self.stmt(
                "INSERT INTO content_sweeps (repository, after_sha, requested_at) VALUES (?1, '', ?2) \
                 ON CONFLICT (repository) DO UPDATE SET after_sha = '', requested_at = excluded.requested_at",
                &[s(repository.canonical()), s(now)],
            )?,
        ])
        .await?;
        Ok(())
    }

    /// How many projects this database holds.
    pub async fn project_count(&self) -> DbResult<u64> {
        #[derive(Deserialize)]
        struct Row {
            n: u64,
        }
        Ok(self.first::<Row>("SELECT count(*) AS n FROM projects", &[]).await?.map(|r| r.n).unwrap_or(0))
    }

    /// Tracked projects on a repository (GitHub names are case-insensitive) and branch.
    pub async fn tracked_on(&self, repository: &RepoName, branch: &BranchName) -> DbResult<Vec<ProjectRow>> {
        self.all(
            &format!("SELECT {PROJECT_COLUMNS} FROM projects WHERE tracked = 1 AND repository = ?1 COLLATE NOCASE AND branch = ?2"),
            &[s(repository.as_str()), s(branch.as_str())],
        )
        .await
    }

    /// Tracked projects, least recently checked first.
    pub async fn due_for_head_check(&self, limit: u64) -> DbResult<Vec<ProjectId>> {
        #[derive(Deserialize)]
        struct Row {
            id: ProjectId,
        }
        let rows: Vec<Row> = self
            .all(
                "SELECT id FROM projects WHERE tracked = 1 ORDER BY head_checked_at IS NOT NULL, head_checked_at, id LIMIT ?1",
                &[n(limit)],
            )
            .await?;
        Ok(rows.into_iter().map(|r| r.id).collect())
    }

    /// Records a head check; `seen` (an ETag and the commit that answer named) replaces
    /// what was stored, `None` keeps it.
    pub async fn record_head_check(&self, project: &ProjectId, now: &Timestamp, seen: Option<(&str, &CommitSha)>) -> DbResult<()> {
        let (etag, sha) = seen.unzip();
        self.run(
            "UPDATE projects SET head_checked_at = ?2, head_etag = COALESCE(?3, head_etag), head_sha = COALESCE(?4, head_sha) \
             WHERE id = ?1",
            &[s(project), s(now), opt(etag), opt(sha.map(CommitSha::as_str))],
        )
        .await?;
        Ok(())
    }

    /// Stops tracking the installation's projects (all of them, or those on `repositories`,
    /// compared case-insensitively); their history stays. Returns how many changed.
    pub async fn untrack_installation_projects(
        &self,
        id: InstallationId,
        repositories: Option<&[String]>,
        now: &Timestamp,
    ) -> DbResult<u64> {
        let list = repositories.map(|r| serde_json::Value::from(r.to_vec()).to_string());
        let result = self
            .run(
                "UPDATE projects SET tracked = 0, updated_at = ?3 WHERE installation_id = ?1 AND tracked = 1 \
                 AND (?2 IS NULL OR lower(repository) IN (SELECT lower(value) FROM json_each(?2)))",
                &[n(id.get()), opt(list.as_deref()), s(now)],
            )
            .await?;
        Ok(result)
    }
}
