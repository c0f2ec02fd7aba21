//! Typed rows: values are parsed once, as D1 hands them over (the domain newtypes validate
//! in `Deserialize`), so nothing downstream parses a repository or a status again.

use crate::api::{ProjectView, SyncView};
use crate::domain::{BranchName, CommitSha, Counts, Id, RepoName, Stats, SyncKind, SyncStatus, Trigger};
use crate::github_app::InstallationId;
use crate::pathfilter::{FilterLists, PathFilter};
use serde::{Deserialize, Deserializer};

/// A filter as stored: its JSON text (`{"include": [...], "exclude": [...]}`).
fn json_filter<'de, D: Deserializer<'de>>(d: D) -> Result<PathFilter, D::Error> {
    let text = String::deserialize(d)?;
    serde_json::from_str(&text).map_err(serde::de::Error::custom)
}

/// SQLite has no booleans: 0 and 1.
fn int_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(f64::deserialize(d)? != 0.0)
}

#[derive(Debug, Clone, Deserialize)]
pub struct ProjectRow {
    pub id: Id,
    pub name: String,
    pub repository: RepoName,
    pub branch: BranchName,
    #[serde(deserialize_with = "int_bool")]
    pub tracked: bool,
    pub github_token_enc: Option<String>,
    pub current_sync_id: Option<Id>,
    pub current_seq: u64,
    pub current_commit_sha: Option<CommitSha>,
    /// The ETag of the last head check, and the commit that answer named.
    pub head_etag: Option<String>,
    pub head_sha: Option<CommitSha>,
    pub created_at: String,
    /// The GitHub App installation whose tokens the project uses (then no token of its own).
    pub installation_id: Option<InstallationId>,
    /// Which paths its syncs hold.
    #[serde(deserialize_with = "json_filter")]
    pub path_filter: PathFilter,
}

pub(super) const PROJECT_COLUMNS: &str = "id, name, repository, branch, tracked, github_token_enc, current_sync_id, \
     current_seq, current_commit_sha, head_etag, head_sha, created_at, installation_id, path_filter";

impl ProjectRow {
    pub fn view(&self) -> ProjectView {
        ProjectView {
            id: self.id.to_string(),
            name: self.name.clone(),
            repository: self.repository.to_string(),
            branch: self.branch.to_string(),
            tracked: self.tracked,
            current_sync_id: self.current_sync_id.as_ref().map(Id::to_string),
            current_commit_sha: self.current_commit_sha.as_ref().map(CommitSha::to_string),
            created_at: self.created_at.clone(),
            has_github_token: self.github_token_enc.is_some(),
            installation_id: self.installation_id,
            filter: FilterLists::from(self.path_filter.clone()),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct SyncRow {
    pub id: Id,
    pub project_id: Id,
    pub kind: SyncKind,
    pub trigger: Trigger,
    pub branch: BranchName,
    pub commit_sha: Option<CommitSha>,
    pub status: SyncStatus,
    pub progress: u8,
    pub message: String,
    pub seq: Option<u64>,
    pub previous_sync_id: Option<Id>,
    pub restored_from_sync_id: Option<Id>,
    pub added: u64,
    pub modified: u64,
    pub removed: u64,
    pub unchanged: u64,
    pub renamed: u64,
    pub github_requests: u64,
    pub github_not_modified: u64,
    pub d1_rows_written: u64,
    pub bytes_downloaded: u64,
    pub duration_ms: u64,
    pub error: Option<String>,
    pub started_at: String,
    pub completed_at: Option<String>,
    /// When the row was last written (every step of a running sync writes it).
    pub updated_at: Option<String>,
    /// The filter that made its state (a dry run: the one it previewed).
    #[serde(deserialize_with = "json_filter")]
    pub path_filter: PathFilter,
    #[serde(deserialize_with = "int_bool")]
    pub dry_run: bool,
    /// False for a dry run past its project's 20 newest: its changes are gone (or going).
    #[serde(deserialize_with = "int_bool")]
    pub changes_kept: bool,
}

pub(super) const SYNC_COLUMNS: &str = "s.id, s.project_id, s.kind, s.trigger, s.branch, s.commit_sha, s.status, s.progress, \
     s.message, CASE WHEN s.dry_run = 0 THEN s.seq END AS seq, s.previous_sync_id, s.restored_from_sync_id, s.added, s.modified, s.removed, s.unchanged, \
     s.renamed, s.github_requests, s.github_not_modified, s.d1_rows_written, s.bytes_downloaded, s.duration_ms, \
     s.error, s.started_at, s.completed_at, s.updated_at, s.path_filter, s.dry_run, \
     s.changes_retention = 'kept' AS changes_kept";

impl SyncRow {
    pub fn view(&self) -> SyncView {
        SyncView {
            id: self.id.to_string(),
            project_id: self.project_id.to_string(),
            kind: self.kind,
            trigger: self.trigger,
            branch: self.branch.to_string(),
            commit_sha: self.commit_sha.as_ref().map(CommitSha::to_string),
            status: self.status,
            progress: self.progress,
            message: self.message.clone(),
            previous_sync_id: self.previous_sync_id.as_ref().map(Id::to_string),
            restored_from_sync_id: self.restored_from_sync_id.as_ref().map(Id::to_string),
            counts: Counts {
                added: self.added,
                modified: self.modified,
                removed: self.removed,
                unchanged: self.unchanged,
                renamed: self.renamed,
            },
            stats: Stats {
                github_requests: self.github_requests,
                github_not_modified: self.github_not_modified,
                d1_rows_written: self.d1_rows_written,
                bytes_downloaded: self.bytes_downloaded,
                duration_ms: self.duration_ms,
            },
            error: self.error.clone(),
            started_at: self.started_at.clone(),
            completed_at: self.completed_at.clone(),
            filter: FilterLists::from(self.path_filter.clone()),
            dry_run: self.dry_run,
        }
    }
}
