//! Syncs: the start and restore requests, and the sync views.

use super::fields::{branch, opt_bool, opt_string, parse_object, reject_unknown, req_string, FilterChange};
use crate::domain::{BranchName, Counts, Id, Stats, SyncKind, SyncStatus, Trigger};
use crate::error::{AppError, AppResult};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq)]
pub struct StartSync {
    pub branch: Option<BranchName>,
    pub dry_run: bool,
    /// With a dry run: the filter to preview, over the project's.
    pub filter: FilterChange,
}

impl StartSync {
    pub fn parse(body: &[u8]) -> AppResult<Self> {
        let m = parse_object(body, true)?;
        reject_unknown(&m, &["branch", "dryRun", "include", "exclude"])?;
        let start = StartSync {
            branch: opt_string(&m, "branch")?.map(|b| branch("branch", b)).transpose()?,
            dry_run: opt_bool(&m, "dryRun")?.unwrap_or(false),
            filter: FilterChange::parse(&m)?,
        };
        if !start.dry_run && !start.filter.is_empty() {
            let field = if start.filter.include.is_some() { "include" } else { "exclude" };
            return Err(AppError::invalid(field, "previews a filter only with \"dryRun\": true (a project's filter is set with PATCH)"));
        }
        Ok(start)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Restore {
    pub sync_id: Id,
}

impl Restore {
    pub fn parse(body: &[u8]) -> AppResult<Self> {
        let m = parse_object(body, false)?;
        reject_unknown(&m, &["syncId"])?;
        let raw = req_string(&m, "syncId")?;
        Ok(Restore { sync_id: Id::parse(raw).map_err(|e| AppError::invalid("syncId", e))? })
    }
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncView {
    pub id: String,
    pub project_id: String,
    pub kind: SyncKind,
    pub trigger: Trigger,
    pub branch: String,
    pub commit_sha: Option<String>,
    pub status: SyncStatus,
    pub progress: u8,
    pub message: String,
    pub previous_sync_id: Option<String>,
    pub restored_from_sync_id: Option<String>,
    pub counts: Counts,
    pub stats: Stats,
    pub error: Option<String>,
    pub started_at: String,
    pub completed_at: Option<String>,
    /// The filter that made its state (`include`, `exclude`).
    #[serde(flatten)]
    pub filter: crate::pathfilter::FilterLists,
    pub dry_run: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncStarted {
    pub sync: SyncView,
    pub events_url: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::fields::err_field;

    #[test]
    fn start_and_restore() {
        assert_eq!(StartSync::parse(b"").unwrap().branch, None);
        assert_eq!(StartSync::parse(br#"{"branch":"dev"}"#).unwrap().branch.unwrap().as_str(), "dev");
        assert_eq!(err_field(StartSync::parse(br#"{"branch":""}"#)), "branch");
        assert_eq!(err_field(Restore::parse(br#"{"syncId":"../x"}"#)), "syncId");
        assert_eq!(err_field(Restore::parse(b"{}")), "syncId");
    }

    #[test]
    fn a_dry_run_may_preview_a_filter_and_a_sync_may_not() {
        let dry = StartSync::parse(br#"{"dryRun":true,"include":["/docs/"]}"#).unwrap();
        assert!(dry.dry_run);
        assert_eq!(dry.filter.include.as_deref(), Some(&["/docs/".to_string()][..]));
        assert!(!StartSync::parse(b"").unwrap().dry_run);
        assert_eq!(err_field(StartSync::parse(br#"{"include":["/docs/"]}"#)), "include");
        assert_eq!(err_field(StartSync::parse(br#"{"dryRun":false,"exclude":["a"]}"#)), "exclude");
        assert_eq!(err_field(StartSync::parse(br#"{"dryRun":"yes"}"#)), "dryRun");
        assert_eq!(err_field(StartSync::parse(br#"{"dryRun":true,"exclude":["a//b"]}"#)), "exclude");
    }
}
