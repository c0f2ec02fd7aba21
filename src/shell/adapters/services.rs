//! What a handler, the cron tick, the queue consumers and a sync's object work with: the
//! environment, the databases by placement, the settings, GitHub with a project's credential.

use super::credentials::InstallationTokens;
use super::crypto;
use super::d1::{Db, ProjectRow, SyncRow};
use super::github::{Credential, GitHubHttp};
use super::now;
use crate::config::Settings;
use crate::domain::{ProjectId, SyncId, UserId};
use crate::engine::Meter;
use crate::error::AppResult;
use crate::github_app::InstallationId;
use crate::placement::{Lookup, Placement};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use worker::Env;

/// Settings and secrets from the environment (secrets first, then `[vars]`).
pub fn settings(env: &Env) -> Settings {
    Settings::from_lookup(|name| env.secret(name).map(|s| s.to_string()).or_else(|_| env.var(name).map(|v| v.to_string())).ok())
}

/// What a handler, the cron tick, the queue consumer and a sync's object work with.
pub struct Services<'a> {
    pub env: &'a Env,
    /// The home database: users, webhook deliveries, dead letters, test faults.
    pub db: Rc<Db>,
    pub settings: Settings,
    placement: Placement,
    /// Every project database, in `placement.all()` order (the first is `db`).
    databases: Vec<Rc<Db>>,
    /// Projects located in this invocation: id -> index in `databases`.
    located: RefCell<HashMap<String, usize>>,
}

impl<'a> Services<'a> {
    pub fn from_env(env: &'a Env) -> AppResult<Services<'a>> {
        Self::with_meter(env, settings(env), None)
    }

    /// As `from_env`, with every statement counted on a sync slice's `meter`.
    pub fn with_meter(env: &'a Env, settings: Settings, meter: Option<&Rc<Meter>>) -> AppResult<Services<'a>> {
        let placement = settings.placement()?;
        let databases = placement
            .all()
            .iter()
            .map(|binding| {
                let db = Db::from_env(env, binding, settings.fault_injection)?;
                Ok(Rc::new(match meter {
                    Some(m) => db.metered(Rc::clone(m)),
                    None => db,
                }))
            })
            .collect::<AppResult<Vec<_>>>()?;
        Ok(Services { env, db: Rc::clone(&databases[0]), settings, placement, databases, located: RefCell::new(HashMap::new()) })
    }

    /// The database that holds `project_id` and its syncs, versions and content rows, as
    /// located in this invocation (`locate`, or a row read from it: `find_sync`). Every
    /// entry point locates a project before it works on it; one that has not (a bug) gets
    /// the hash's database, which is right for every project while the bindings are as they
    /// were when it was created, and is logged.
    pub fn for_project(&self, project_id: &ProjectId) -> &Rc<Db> {
        if self.databases.len() == 1 {
            return &self.db;
        }
        if let Some(i) = self.located.borrow().get(project_id.as_str()) {
            return &self.databases[*i];
        }
        worker::console_warn!("placement: project {project_id} used before it was located; taking the hash's database");
        let binding = self.placement.database_for(project_id);
        self.databases.iter().find(|d| d.binding == binding).unwrap_or(&self.db)
    }

    /// Finds the database of `project_id`: the one the home database's directory names,
    /// else (a project created before the directory) the one that holds it, which the
    /// directory then records. A project found nowhere is given the hash's database, where
    /// reading it finds nothing (a 404). One home read per invocation and project.
    pub async fn locate(&self, project_id: &ProjectId) -> AppResult<&Rc<Db>> {
        if self.databases.len() == 1 {
            return Ok(&self.db);
        }
        if let Some(i) = self.located.borrow().get(project_id.as_str()).copied() {
            return Ok(&self.databases[i]);
        }
        let recorded = self.db.directory_entry(project_id).await?;
        let index = match self.placement.lookup(project_id, recorded.as_deref()) {
            Lookup::Recorded(i) => i,
            Lookup::Removed(binding) => {
                return Err(crate::error::AppError::internal(format!(
                "project {project_id} lives in database {binding}, which PROJECT_DATABASES no longer names (bindings may only be appended)"
            )))
            }
            Lookup::Probe(order) => self.probe(project_id, &order).await?,
        };
        self.located.borrow_mut().insert(project_id.to_string(), index);
        Ok(&self.databases[index])
    }

    /// A project without a directory row: the database that holds it (recorded now), or the
    /// first of `order` when none does.
    async fn probe(&self, project_id: &ProjectId, order: &[usize]) -> AppResult<usize> {
        for &i in order {
            if self.databases[i].holds_project(project_id).await? {
                self.db.record_directory_entry(project_id, &self.databases[i].binding, &now()).await?;
                return Ok(i);
            }
        }
        Ok(order.first().copied().unwrap_or(0))
    }

    /// Where a new project goes (the hash over today's bindings), recorded in the directory
    /// before any of its rows are written, so it stays there whatever is appended later.
    pub async fn place_new(&self, project_id: &ProjectId) -> AppResult<&Rc<Db>> {
        let binding = self.placement.database_for(project_id);
        let index = self.databases.iter().position(|d| d.binding == binding).unwrap_or(0);
        self.db.record_directory_entry(project_id, binding, &now()).await?;
        self.located.borrow_mut().insert(project_id.to_string(), index);
        Ok(&self.databases[index])
    }

    /// Notes that `db` holds `project_id` (a row of it was just read there).
    fn note_location(&self, project_id: &ProjectId, db: &Db) {
        if let Some(i) = self.databases.iter().position(|d| d.binding == db.binding) {
            self.located.borrow_mut().insert(project_id.to_string(), i);
        }
    }

    pub fn databases(&self) -> &[Rc<Db>] {
        &self.databases
    }

    /// A sync by id, from whichever database holds it (a sync id does not name its project).
    pub async fn find_sync(&self, sync_id: &SyncId) -> AppResult<Option<SyncRow>> {
        for db in &self.databases {
            if let Some(row) = db.sync(sync_id).await? {
                self.note_location(&row.project_id, db);
                return Ok(Some(row));
            }
        }
        Ok(None)
    }

    /// The caller's sync (another user's is `None`), from whichever database holds it.
    pub async fn find_sync_for_user(&self, user: &UserId, sync_id: &SyncId) -> AppResult<Option<SyncRow>> {
        for db in &self.databases {
            if let Some(row) = db.sync_for_user(user, sync_id).await? {
                self.note_location(&row.project_id, db);
                return Ok(Some(row));
            }
        }
        Ok(None)
    }

    /// GitHub as a project speaks to it: through its installation (tokens minted as
    /// needed), else with its own token (decrypted; an unreadable one is an error, never a
    /// silent fall back to the global token), else with the global one.
    pub async fn github_for(&self, project: &ProjectRow) -> AppResult<GitHubHttp> {
        let own = match (project.installation_id, &project.github_token_enc) {
            (None, Some(sealed)) => Some(crypto::decrypt_token(&self.settings.token_keys()?, sealed).await?),
            _ => None,
        };
        Ok(self.github_with(project.installation_id, own))
    }

    /// GitHub with a credential in the order a project uses them: the installation's
    /// tokens, else `own_token`, else the global token.
    pub fn github_with(&self, installation: Option<InstallationId>, own_token: Option<String>) -> GitHubHttp {
        if let Some(id) = installation {
            return self.github_for_installation(id);
        }
        let credential = own_token.or_else(|| self.settings.github_token.clone()).map_or(Credential::Anonymous, Credential::Token);
        GitHubHttp::new(&self.settings.github_api_url, credential, Some(Rc::clone(&self.db)))
    }

    /// GitHub through an installation's tokens (shared with every project of it).
    pub fn github_for_installation(&self, id: InstallationId) -> GitHubHttp {
        let tokens = InstallationTokens::new(id, Rc::clone(&self.db), self.settings.clone());
        GitHubHttp::new(&self.settings.github_api_url, Credential::Installation(Rc::new(tokens)), Some(Rc::clone(&self.db)))
    }
}
