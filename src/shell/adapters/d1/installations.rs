//! `installations` and `installation_grants` (home database): the GitHub App installations
//! an admin granted to users, their state as GitHub's webhooks report it, and the one
//! cached installation token each (sealed, never returned).

use super::{n, s, Db, DbResult};
use crate::domain::Timestamp;
use crate::domain::UserId;
use crate::github_app::{installation_event_is_stale, InstallationId, InstallationState};
use serde::Deserialize;

pub use crate::rows::GrantRow;
use wasm_bindgen::JsValue;

/// What an `installation` event did to the recorded state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateChange {
    Applied,
    /// GitHub's time of the state applied before is later than the event's: ignored.
    Stale {
        applied_ms: u64,
    },
    /// Not granted here: nothing recorded.
    Unknown,
}

#[derive(Debug, Clone, Deserialize)]
pub struct InstallationRow {
    pub state: InstallationState,
    pub token_enc: Option<String>,
    pub token_expires_ms: Option<u64>,
}

const GRANT_COLUMNS: &str = "g.installation_id, i.account, i.repository_selection, g.user_id, g.created_at";

/// What an admin's grant learned from GitHub, with the token it minted to confirm it.
pub struct ConfirmedInstallation<'a> {
    pub id: InstallationId,
    pub account: &'a str,
    pub repository_selection: &'a str,
    pub token_enc: &'a str,
    pub token_expires_ms: u64,
    pub now: &'a Timestamp,
}

impl Db {
    pub async fn installation(&self, id: InstallationId) -> DbResult<Option<InstallationRow>> {
        self.first("SELECT state, token_enc, token_expires_ms FROM installations WHERE installation_id = ?1", &[n(id.get())]).await
    }

    /// Records a confirmed installation (active again, whatever it was) and grants it to
    /// `user`; granting twice keeps the first grant.
    pub async fn grant_installation(&self, c: &ConfirmedInstallation<'_>, user: &UserId) -> DbResult<Option<GrantRow>> {
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

    pub async fn grant_for_user(&self, user: &UserId, id: InstallationId) -> DbResult<Option<GrantRow>> {
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
    pub async fn grants_of(&self, user: &UserId, after: Option<u64>, limit: u32) -> DbResult<Vec<GrantRow>> {
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
    pub async fn store_installation_token(&self, id: InstallationId, token_enc: &str, expires_ms: u64, now: &Timestamp) -> DbResult<()> {
        self.run(
            "UPDATE installations SET token_enc = ?2, token_expires_ms = ?3, mint_lease_until_ms = NULL, updated_at = ?4 \
             WHERE installation_id = ?1 AND state = 'active'",
            &[n(id.get()), s(token_enc), n(expires_ms), s(now)],
        )
        .await?;
        Ok(())
    }

    /// Claims the lease on minting the installation's token until `until_ms`, if it is free
    /// or lapsed at `now_ms` (`mint_lease_free`) and the installation active. True if claimed.
    pub async fn claim_mint_lease(&self, id: InstallationId, now_ms: u64, until_ms: u64) -> DbResult<bool> {
        let claimed = self
            .run(
                "UPDATE installations SET mint_lease_until_ms = ?3 WHERE installation_id = ?1 AND state = 'active' \
                 AND (mint_lease_until_ms IS NULL OR mint_lease_until_ms <= ?2)",
                &[n(id.get()), n(now_ms), n(until_ms)],
            )
            .await?;
        Ok(claimed > 0)
    }

    /// Gives up a lease claimed until `until_ms` whose mint failed (only that one: a lapsed
    /// lease may have been claimed by another isolate since).
    pub async fn release_mint_lease(&self, id: InstallationId, until_ms: u64) -> DbResult<()> {
        self.run(
            "UPDATE installations SET mint_lease_until_ms = NULL WHERE installation_id = ?1 AND mint_lease_until_ms = ?2",
            &[n(id.get()), n(until_ms)],
        )
        .await?;
        Ok(())
    }

    /// GitHub said the installation changed state (at its `at_ms`); its cached token goes
    /// (GitHub revokes it too). Fenced by time: an event older than the state last applied
    /// changes nothing (`installation_event_is_stale`, which the WHERE mirrors). Unknown
    /// installations are recorded nowhere: nobody was granted them.
    pub async fn set_installation_state(
        &self,
        id: InstallationId,
        state: InstallationState,
        at_ms: Option<u64>,
        now: &Timestamp,
    ) -> DbResult<StateChange> {
        let at = at_ms.map(n).unwrap_or(JsValue::NULL);
        let changed = self
            .run(
                "UPDATE installations SET state = ?2, token_enc = CASE WHEN ?2 = 'active' THEN token_enc END, \
                 token_expires_ms = CASE WHEN ?2 = 'active' THEN token_expires_ms END, \
                 state_at_ms = COALESCE(?4, state_at_ms), updated_at = ?3 \
                 WHERE installation_id = ?1 AND NOT (?4 IS NOT NULL AND state_at_ms IS NOT NULL AND ?4 < state_at_ms)",
                &[n(id.get()), s(state.as_str()), s(now), at],
            )
            .await?;
        if changed > 0 {
            return Ok(StateChange::Applied);
        }
        #[derive(Deserialize)]
        struct Row {
            state_at_ms: Option<u64>,
        }
        let row: Option<Row> = self.first("SELECT state_at_ms FROM installations WHERE installation_id = ?1", &[n(id.get())]).await?;
        Ok(match row {
            Some(row) if installation_event_is_stale(row.state_at_ms, at_ms) => {
                StateChange::Stale { applied_ms: row.state_at_ms.unwrap_or(0) }
            }
            Some(_) => StateChange::Applied,
            None => StateChange::Unknown,
        })
    }
}
