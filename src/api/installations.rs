//! Installations: the admin's grant request and the installation and repository views.

use super::fields::{opt_installation, parse_object, reject_unknown, req_string};
use crate::domain::UserId;
use crate::error::{AppError, AppResult};
use crate::github_app::InstallationId;
use crate::rows::GrantRow;
use serde::Serialize;

/// `POST /installations` (admin): grant an installation to a user.
#[derive(Debug, Clone, PartialEq)]
pub struct GrantInstallation {
    pub installation_id: InstallationId,
    pub user_id: UserId,
}

impl GrantInstallation {
    pub fn parse(body: &[u8]) -> AppResult<Self> {
        let m = parse_object(body, false)?;
        reject_unknown(&m, &["installationId", "userId"])?;
        let installation_id = opt_installation(&m, "installationId")?.ok_or_else(|| AppError::invalid("installationId", "is required"))?;
        let user_id = UserId::parse(req_string(&m, "userId")?).map_err(|e| AppError::invalid("userId", e))?;
        Ok(GrantInstallation { installation_id, user_id })
    }
}

/// An installation granted to a user.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InstallationView {
    pub installation_id: InstallationId,
    pub account: String,
    pub repository_selection: String,
    pub user_id: String,
    pub created_at: String,
}

/// A repository an installation reaches.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InstallationRepoView {
    pub repository: String,
    pub private: bool,
    pub default_branch: String,
}

impl From<&GrantRow> for InstallationView {
    fn from(row: &GrantRow) -> InstallationView {
        InstallationView {
            installation_id: row.installation_id,
            account: row.account.clone(),
            repository_selection: row.repository_selection.clone(),
            user_id: row.user_id.to_string(),
            created_at: row.created_at.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::fields::err_field;

    #[test]
    fn a_grant_names_an_installation_and_a_user() {
        let grant = GrantInstallation::parse(br#"{"installationId":9,"userId":"u-1"}"#).unwrap();
        assert_eq!((grant.installation_id.get(), grant.user_id.as_str()), (9, "u-1"));
        assert_eq!(err_field(GrantInstallation::parse(br#"{"userId":"u-1"}"#)), "installationId");
        assert_eq!(err_field(GrantInstallation::parse(br#"{"installationId":9}"#)), "userId");
        assert_eq!(err_field(GrantInstallation::parse(br#"{"installationId":9,"userId":"u","x":1}"#)), "x");
    }
}
