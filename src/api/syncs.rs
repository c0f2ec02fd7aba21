//! Syncs: the start and restore requests, and the sync views.

use super::fields::{branch, opt_bool, opt_string, parse_object, reject_unknown, req_string, FilterChange};
use crate::domain::{BranchName, CommitSha, Counts, Stats, SyncId, SyncKind, SyncStatus, Timestamp, Trigger};
use crate::error::{AppError, AppResult};
use crate::pathfilter::FilterLists;
use crate::rows::SyncRow;
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
    pub sync_id: SyncId,
}

impl Restore {
    pub fn parse(body: &[u8]) -> AppResult<Self> {
        let m = parse_object(body, false)?;
        reject_unknown(&m, &["syncId"])?;
        let raw = req_string(&m, "syncId")?;
        Ok(Restore { sync_id: SyncId::parse(raw).map_err(|e| AppError::invalid("syncId", e))? })
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
    pub filter: FilterLists,
    pub dry_run: bool,
    /// git's rename limit stopped the search for renames with edits: past exact renames
    /// and unique basenames, an edited file that moved shows as removed and added. Always
    /// present, like `dryRun` (false for every sync before renames had scores).
    #[serde(default)]
    pub rename_limit_exceeded: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncStarted {
    pub sync: SyncView,
    pub events_url: String,
}

impl From<&SyncRow> for SyncView {
    fn from(row: &SyncRow) -> SyncView {
        SyncView {
            id: row.id.to_string(),
            project_id: row.project_id.to_string(),
            kind: row.kind,
            trigger: row.trigger,
            branch: row.branch.to_string(),
            commit_sha: row.commit_sha.as_ref().map(CommitSha::to_string),
            status: row.status,
            progress: row.progress,
            message: row.message.clone(),
            previous_sync_id: row.previous_sync_id.as_ref().map(SyncId::to_string),
            restored_from_sync_id: row.restored_from_sync_id.as_ref().map(SyncId::to_string),
            counts: Counts {
                added: row.added,
                modified: row.modified,
                removed: row.removed,
                unchanged: row.unchanged,
                renamed: row.renamed,
            },
            stats: Stats {
                github_requests: row.github_requests,
                github_not_modified: row.github_not_modified,
                d1_rows_written: row.d1_rows_written,
                bytes_downloaded: row.bytes_downloaded,
                duration_ms: row.duration_ms,
            },
            error: row.error.clone(),
            started_at: row.started_at.to_string(),
            completed_at: row.completed_at.as_ref().map(Timestamp::to_string),
            filter: FilterLists::from(row.path_filter.clone()),
            dry_run: row.dry_run,
            rename_limit_exceeded: row.renames_limited,
        }
    }
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

    #[test]
    fn a_sync_shows_as_its_row_says() {
        let row: SyncRow = serde_json::from_value(crate::rows::tests::sync_json()).unwrap();
        assert_eq!(
            serde_json::to_value(SyncView::from(&row)).unwrap(),
            serde_json::json!({
                "id": "s-1", "projectId": "p-1", "kind": "sync", "trigger": "api", "branch": "main", "commitSha": "a".repeat(40),
                "status": "COMPLETE", "progress": 100, "message": "done", "previousSyncId": null, "restoredFromSyncId": null,
                "counts": {"added": 1, "modified": 2, "removed": 3, "unchanged": 4, "renamed": 5},
                "stats": {"githubRequests": 6, "githubNotModified": 7, "d1RowsWritten": 8, "bytesDownloaded": 9, "durationMs": 10},
                "error": null, "startedAt": "2026-11-22T04:15:48.123Z", "completedAt": "2026-11-22T04:15:50.000Z",
                "include": [], "exclude": [], "dryRun": false, "renameLimitExceeded": false
            })
        );
        let mut limited = crate::rows::tests::sync_json();
        limited["renames_limited"] = serde_json::json!(1);
        let row: SyncRow = serde_json::from_value(limited).unwrap();
        assert_eq!(serde_json::to_value(SyncView::from(&row)).unwrap()["renameLimitExceeded"], true);
    }
}
