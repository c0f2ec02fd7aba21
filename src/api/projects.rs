//! Projects: the create and patch requests, and the project and branch views.

use super::fields::{
    branch, display_name, github_token, opt_bool, opt_installation, opt_string, parse_object, reject_unknown, req_string, FilterChange,
};
use crate::domain::{BranchName, CommitSha, RepoName, SyncId};
use crate::error::{AppError, AppResult};
use crate::github_app::InstallationId;
use crate::pathfilter::{FilterLists, PathFilter};
use crate::rows::ProjectRow;
use serde::Serialize;
use serde_json::Value;

const EITHER_CREDENTIAL: &str = "a project uses either its own githubToken or an installation, not both";

#[derive(Debug, Clone, PartialEq)]
pub struct CreateProject {
    pub name: String,
    pub repository: RepoName,
    pub branch: Option<BranchName>,
    pub tracked: bool,
    pub github_token: Option<String>,
    pub installation_id: Option<InstallationId>,
    pub filter: PathFilter,
}

impl CreateProject {
    pub fn parse(body: &[u8]) -> AppResult<Self> {
        let m = parse_object(body, false)?;
        reject_unknown(&m, &["name", "repository", "branch", "tracked", "githubToken", "installationId", "include", "exclude"])?;
        let project = CreateProject {
            name: display_name("name", req_string(&m, "name")?)?,
            repository: RepoName::parse(req_string(&m, "repository")?).map_err(|e| AppError::invalid("repository", e))?,
            branch: opt_string(&m, "branch")?.map(|b| branch("branch", b)).transpose()?,
            tracked: opt_bool(&m, "tracked")?.unwrap_or(false),
            github_token: opt_string(&m, "githubToken")?.map(github_token).transpose()?,
            installation_id: opt_installation(&m, "installationId")?,
            filter: FilterChange::parse(&m)?.over(&PathFilter::default())?,
        };
        if project.github_token.is_some() && project.installation_id.is_some() {
            return Err(AppError::invalid("installationId", EITHER_CREDENTIAL));
        }
        Ok(project)
    }
}

/// `githubToken: null` removes a stored token; absent leaves it alone.
#[derive(Debug, Clone, PartialEq)]
pub enum TokenChange {
    Keep,
    Remove,
    Set(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct PatchProject {
    pub name: Option<String>,
    pub branch: Option<BranchName>,
    pub tracked: Option<bool>,
    pub github_token: TokenChange,
    /// `Some(None)` removes the installation; `None` leaves it alone.
    pub installation_id: Option<Option<InstallationId>>,
    /// The lists given replace the project's; an absent one is kept.
    pub filter: FilterChange,
}

impl PatchProject {
    pub fn parse(body: &[u8]) -> AppResult<Self> {
        let m = parse_object(body, false)?;
        reject_unknown(&m, &["name", "branch", "tracked", "githubToken", "installationId", "include", "exclude"])?;
        let github_token = match m.get("githubToken") {
            None => TokenChange::Keep,
            Some(Value::Null) => TokenChange::Remove,
            Some(Value::String(s)) => TokenChange::Set(github_token(s)?),
            Some(_) => return Err(AppError::invalid("githubToken", "must be a string or null")),
        };
        let patch = PatchProject {
            name: opt_string(&m, "name")?.map(|n| display_name("name", n)).transpose()?,
            branch: opt_string(&m, "branch")?.map(|b| branch("branch", b)).transpose()?,
            tracked: opt_bool(&m, "tracked")?,
            // `null` stops using the installation; absent leaves it alone.
            installation_id: match m.get("installationId") {
                None => None,
                Some(Value::Null) => Some(None),
                Some(_) => Some(opt_installation(&m, "installationId")?),
            },
            github_token,
            filter: FilterChange::parse(&m)?,
        };
        if matches!(patch.github_token, TokenChange::Set(_)) && matches!(patch.installation_id, Some(Some(_))) {
            return Err(AppError::invalid("installationId", EITHER_CREDENTIAL));
        }
        if m.is_empty() {
            return Err(AppError::invalid(
                "body",
                "names no field to change (name, branch, tracked, githubToken, installationId, include, exclude)",
            ));
        }
        Ok(patch)
    }
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectView {
    pub id: String,
    pub name: String,
    pub repository: String,
    pub branch: String,
    pub tracked: bool,
    pub current_sync_id: Option<String>,
    pub current_commit_sha: Option<String>,
    pub created_at: String,
    /// Whether a GitHub token of the project's own is stored (the token itself never leaves).
    pub has_github_token: bool,
    /// The GitHub App installation whose tokens the project's requests use.
    pub installation_id: Option<InstallationId>,
    /// `include` and `exclude`.
    #[serde(flatten)]
    pub filter: FilterLists,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BranchView {
    pub name: String,
    pub commit_sha: String,
    pub protected: bool,
}

impl From<&ProjectRow> for ProjectView {
    fn from(row: &ProjectRow) -> ProjectView {
        ProjectView {
            id: row.id.to_string(),
            name: row.name.clone(),
            repository: row.repository.to_string(),
            branch: row.branch.to_string(),
            tracked: row.tracked,
            current_sync_id: row.current_sync_id.as_ref().map(SyncId::to_string),
            current_commit_sha: row.current_commit_sha.as_ref().map(CommitSha::to_string),
            created_at: row.created_at.to_string(),
            has_github_token: row.github_token_enc.is_some(),
            installation_id: row.installation_id,
            filter: FilterLists::from(row.path_filter.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::fields::{err_field, MAX_BODY_BYTES};

    #[test]
    fn create_project_validation() {
        let ok = CreateProject::parse(br#"{"name":" Site ","repository":"acme/widgets","branch":"feature/x","tracked":true}"#).unwrap();
        assert_eq!(ok.name, "Site");
        assert_eq!(ok.branch.unwrap().as_str(), "feature/x");
        assert!(ok.tracked);
        let cases: &[(&[u8], &str)] = &[
            (b"", "body"),
            (b"[]", "body"),
            (b"{not json", "body"),
            (br#"{"repository":"acme/widgets"}"#, "name"),
            (br#"{"name":"","repository":"acme/widgets"}"#, "name"),
            (br#"{"name":"x"}"#, "repository"),
            (br#"{"name":"x","repository":"nope"}"#, "repository"),
            (br#"{"name":"x","repository":"a/b","branch":"a..b"}"#, "branch"),
            (br#"{"name":"x","repository":"a/b","branch":7}"#, "branch"),
            (br#"{"name":"x","repository":"a/b","tracked":"yes"}"#, "tracked"),
            (br#"{"name":"x","repository":"a/b","githubToken":"has space"}"#, "githubToken"),
            (br#"{"name":"x","repository":"a/b","colour":"red"}"#, "colour"),
        ];
        for (body, field) in cases {
            assert_eq!(err_field(CreateProject::parse(body)), *field, "{}", String::from_utf8_lossy(body));
        }
        let big = vec![b' '; MAX_BODY_BYTES + 1];
        assert_eq!(CreateProject::parse(&big).unwrap_err().status(), 413);
    }

    #[test]
    fn a_project_has_one_credential() {
        let p = CreateProject::parse(br#"{"name":"x","repository":"a/b","installationId":42}"#).unwrap();
        assert_eq!(p.installation_id.map(InstallationId::get), Some(42));
        let cases: &[&[u8]] = &[
            br#"{"name":"x","repository":"a/b","installationId":42,"githubToken":"ghp_x"}"#,
            br#"{"name":"x","repository":"a/b","installationId":0}"#,
            br#"{"name":"x","repository":"a/b","installationId":"42"}"#,
            br#"{"name":"x","repository":"a/b","installationId":4.5}"#,
            br#"{"name":"x","repository":"a/b","installationId":-3}"#,
        ];
        for body in cases {
            assert_eq!(err_field(CreateProject::parse(body)), "installationId", "{}", String::from_utf8_lossy(body));
        }
        let set = PatchProject::parse(br#"{"installationId":7}"#).unwrap();
        assert_eq!(set.installation_id, Some(InstallationId::new(7)));
        assert_eq!(PatchProject::parse(br#"{"installationId":null}"#).unwrap().installation_id, Some(None), "null removes it");
        assert_eq!(PatchProject::parse(br#"{"name":"y"}"#).unwrap().installation_id, None, "absent keeps it");
        let both = PatchProject::parse(br#"{"installationId":7,"githubToken":"ghp_x"}"#);
        assert_eq!(err_field(both), "installationId");
        let swap = PatchProject::parse(br#"{"installationId":7,"githubToken":null}"#).unwrap();
        assert_eq!((swap.github_token, swap.installation_id), (TokenChange::Remove, Some(InstallationId::new(7))));
    }

    #[test]
    fn patch() {
        let p = PatchProject::parse(br#"{"githubToken":null,"tracked":false}"#).unwrap();
        assert_eq!((p.github_token, p.tracked), (TokenChange::Remove, Some(false)));
        assert_eq!(err_field(PatchProject::parse(b"{}")), "body");
    }

    #[test]
    fn filters_are_validated_where_they_are_given() {
        let p = CreateProject::parse(br#"{"name":"x","repository":"a/b","include":["/src/"],"exclude":["*.lock"]}"#).unwrap();
        assert_eq!(p.filter.include().collect::<Vec<_>>(), ["/src/"]);
        assert_eq!(p.filter.exclude().collect::<Vec<_>>(), ["*.lock"]);
        assert!(CreateProject::parse(br#"{"name":"x","repository":"a/b"}"#).unwrap().filter.is_everything());
        for (body, field, names) in [
            (&br#"{"name":"x","repository":"a/b","include":["ok","[bad"]}"#[..], "include", "[bad"),
            (br#"{"name":"x","repository":"a/b","exclude":["!neg"]}"#, "exclude", "!neg"),
            (br#"{"name":"x","repository":"a/b","exclude":[""]}"#, "exclude", "\"\""),
            (br#"{"name":"x","repository":"a/b","include":"src"}"#, "include", "array"),
            (br#"{"name":"x","repository":"a/b","include":[7]}"#, "include", "strings"),
        ] {
            match CreateProject::parse(body) {
                Err(AppError::InvalidRequest { field: f, reason: message }) => {
                    assert_eq!(f, field, "{message}");
                    assert!(message.contains(names), "{message}");
                }
                other => panic!("{other:?}"),
            }
        }
        let patch = PatchProject::parse(br#"{"exclude":["/vendor/"]}"#).unwrap();
        let current = PathFilter::parse(&["/src/"], &["x"]).unwrap();
        let next = patch.filter.over(&current).unwrap();
        assert_eq!(next.include().collect::<Vec<_>>(), ["/src/"], "an absent list is kept");
        assert_eq!(next.exclude().collect::<Vec<_>>(), ["/vendor/"]);
        assert!(PatchProject::parse(br#"{"include":[]}"#).unwrap().filter.over(&current).unwrap().include().next().is_none());
    }

    #[test]
    fn a_project_shows_as_its_row_says() {
        let row: ProjectRow = serde_json::from_value(crate::rows::tests::project_json()).unwrap();
        assert_eq!(
            serde_json::to_value(ProjectView::from(&row)).unwrap(),
            serde_json::json!({
                "id": "p-1", "name": "Site", "repository": "acme/widgets", "branch": "main", "tracked": true,
                "currentSyncId": "s-1", "currentCommitSha": "a".repeat(40), "createdAt": "2026-11-22T04:15:48.123Z",
                "hasGithubToken": false, "installationId": 42, "include": ["/src/"], "exclude": []
            })
        );
    }
}
