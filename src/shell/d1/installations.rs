//! `installations` and `installation_grants` (home database): the GitHub App installations
//! an admin granted to users, their state as GitHub's webhooks report it, and the one
//! cached installation token each (sealed, never returned).

use super::{n, s, Db, DbResult};
use crate::api::InstallationView;
use crate::github_app::{InstallationId, InstallationState};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct InstallationRow {
    pub state: InstallationState,
    pub token_enc: Option<String>,
    pub token_expires_ms: Option<u64>,
}

/// A grant as the API shows it.
#[derive(Debug, Clone, Deserialize)]
pub struct GrantRow {
    pub installation_id: InstallationId,
    pub account: String,
    pub repository_selection: String,
    pub user_id: String,
    pub created_at: String,
}

impl GrantRow {
    pub fn view(self) -> InstallationView {
        InstallationView {
            installation_id: self.installation_id,
            account: self.account,
            repository_selection: self.repository_selection,
            user_id: self.user_id,
            created_at: self.created_at,
        }
    }
}

const GRANT_COLUMNS: &str = "g.installation_id, i.account, i.repository_selection, g.user_id, g.created_at";

/// What an admin's grant learned from GitHub, with the token it minted to confirm it.
pub struct ConfirmedInstallation<'a> {
    pub id: InstallationId,
    pub account: &'a str,
    pub repository_selection: &'a str,
    pub token_enc: &'a str,
    pub token_expires_ms: u64,
    pub now: &'a str,
}

impl Db {
    pub async fn installation(&self, id: InstallationId) -> DbResult<Option<InstallationRow>> {
        self.first("SELECT state, token_enc, token_expires_ms FROM installations WHERE installation_id = ?1", &[n(id.get())]).await
    }

    /// Records a confirmed installation (active again, whatever it was) and grants it to
    /// `user`; granting twice keeps the first grant.
    pub async fn grant_installation(&self, c: &ConfirmedInstallation<'_>, user: &str) -> DbResult<Option<GrantRow>> {
        let id = n(c.id.get());
        self.run(
            "INSERT INTO installations (installation_id, account, repository_selection, state, token_enc, token_expires_ms, updated_at) \
             VALUES (?1, ?2, ?3, 'active', ?4, ?5, ?6) ON CONFLICT (installation_id) DO UPDATE SET account = ?2, \
             repository_selection = ?3, state = 'active', token_enc = ?4, token_expires_ms = ?5, updated_at = ?6",
            &[id.clone(), s(c.account), s(c.repository_selection), s(c.token_enc), n(c.token_expires_ms), s(c.now)],
        )
        .await?;
        self.run(
            "INSERT INTO installation_grants (installation_id, user_id, created_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (user_id, installation_id) DO NOTHING",
            &[id, s(user), s(c.now)],
        )
        .await?;
        self.grant_for_user(user, c.id).await
    }

    pub async fn grant_for_user(&self, user: &str, id: InstallationId) -> DbResult<Option<GrantRow>> {
        self.first(
            &format!(
                "SELECT {GRANT_COLUMNS} FROM installation_grants g JOIN installations i USING (installation_id) \
                 WHERE g.user_id = ?1 AND g.installation_id = ?2"
            ),
            &[s(user), n(id.get())],
        )
        .await
    }

    /// A user's grants by installation id, after `after`.
    pub async fn grants_of(&self, user: &str, after: Option<u64>, limit: u32) -> DbResult<Vec<GrantRow>> {
        self.all(
            &format!(
                "SELECT {GRANT_COLUMNS} FROM installation_grants g JOIN installations i USING (installation_id) \
                 WHERE g.user_id = ?1 AND g.installation_id > ?2 ORDER BY g.installation_id LIMIT ?3"
            ),
            &[s(user), n(after.unwrap_or(0)), n(u64::from(limit))],
        )
        .await
    }

    /// Keeps a freshly minted token for every project of the installation, unless GitHub
    /// suspended or removed it meanwhile (the webhook dropped the cached token then).
    pub async fn store_installation_token(&self, id: InstallationId, token_enc: &str, expires_ms: u64, now: &str) -> DbResult<()> {
        self.run(
            "UPDATE installations SET token_enc = ?2, token_expires_ms = ?3, updated_at = ?4 WHERE installation_id = ?1 AND state = 'active'",
            &[n(id.get()), s(token_enc), n(expires_ms), s(now)],
        )
        .await?;
        Ok(())
    }

    /// GitHub said the installation changed state; its cached token goes (GitHub revokes
    /// it too). Unknown installations are recorded nowhere: nobody was granted them.
    pub async fn set_installation_state(&self, id: InstallationId, state: InstallationState, now: &str) -> DbResult<()> {
        self.run(
            "UPDATE installations SET state = ?2, token_enc = CASE WHEN ?2 = 'active' THEN token_enc END, \
             token_expires_ms = CASE WHEN ?2 = 'active' THEN token_expires_ms END, updated_at = ?3 WHERE installation_id = ?1",
            &[n(id.get()), s(state.as_str()), s(now)],
        )
        .await?;
        Ok(())
    }
}
