//! `project_directory` (home database): which binding holds each project, written when the
//! project is created and read ever after (`crate::placement`), so appending a database
//! moves no project.

use super::{s, Db, DbResult};
use crate::domain::ProjectId;
use crate::domain::Timestamp;
use serde::Deserialize;

impl Db {
    /// The binding the directory records for `project`, if any.
    pub async fn directory_entry(&self, project: &ProjectId) -> DbResult<Option<String>> {
        #[derive(Deserialize)]
        struct Row {
            binding: String,
        }
        Ok(self.first::<Row>("SELECT binding FROM project_directory WHERE project_id = ?1", &[s(project)]).await?.map(|r| r.binding))
    }

    /// Records where `project` lives. A project's database never changes, so a row already
    /// there is kept (a replayed create, or a backfill racing another).
    pub async fn record_directory_entry(&self, project: &ProjectId, binding: &str, now: &Timestamp) -> DbResult<()> {
        self.run(
            "INSERT INTO project_directory (project_id, binding, created_at) VALUES (?1, ?2, ?3) ON CONFLICT (project_id) DO NOTHING",
            &[s(project), s(binding), s(now)],
        )
        .await?;
        Ok(())
    }

    pub async fn delete_directory_entry(&self, project: &ProjectId) -> DbResult<()> {
        self.run("DELETE FROM project_directory WHERE project_id = ?1", &[s(project)]).await?;
        Ok(())
    }

    /// Whether this database holds the project (a project without a directory row is looked
    /// for this way).
    pub async fn holds_project(&self, project: &ProjectId) -> DbResult<bool> {
        #[derive(Deserialize)]
        struct Row {
            #[allow(dead_code)]
            one: u8,
        }
        Ok(self.first::<Row>("SELECT 1 AS one FROM projects WHERE id = ?1", &[s(project)]).await?.is_some())
    }
}
