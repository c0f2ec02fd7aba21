//! What the store holds, as typed rows: values are parsed once, as D1 hands them over (the
//! domain newtypes validate in `Deserialize`), so nothing downstream parses a repository, an
//! id or a status again. Plain data without I/O: the SQL that reads and writes them is in
//! `shell::d1`, and `api` turns them into views, so a response field can be renamed without
//! touching what is stored. `StoredChange` is the storage form of a change.

use crate::domain::{
    BranchName, CommitSha, DeliveryId, HookEvent, HookId, InstallationId, ObjectSha, ProjectId, RepoName, SyncId, SyncKind, SyncStatus,
    Timestamp, Trigger, UserId,
};
use crate::hooks::DeliveryStatus;
use crate::pathfilter::PathFilter;
use serde::{Deserialize, Deserializer};

mod changes;
pub use changes::{ChangeKind, ChangeReason, StoredChange};

/// A filter as stored: its JSON text (`{"include": [...], "exclude": [...]}`).
fn json_filter<'de, D: Deserializer<'de>>(d: D) -> Result<PathFilter, D::Error> {
    let text = String::deserialize(d)?;
    serde_json::from_str(&text).map_err(serde::de::Error::custom)
}

/// SQLite has no booleans: 0 and 1.
fn int_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(f64::deserialize(d)? != 0.0)
}

/// The stored JSON array of event names.
fn json_events<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<HookEvent>, D::Error> {
    let text = String::deserialize(d)?;
    serde_json::from_str(&text).map_err(serde::de::Error::custom)
}

#[derive(Debug, Clone, Deserialize)]
pub struct ProjectRow {
    pub id: ProjectId,
    pub name: String,
    pub repository: RepoName,
    pub branch: BranchName,
    #[serde(deserialize_with = "int_bool")]
    pub tracked: bool,
    pub github_token_enc: Option<String>,
    pub current_sync_id: Option<SyncId>,
    pub current_seq: u64,
    pub current_commit_sha: Option<CommitSha>,
    /// The ETag of the last head check, and the commit that answer named.
    pub head_etag: Option<String>,
    pub head_sha: Option<CommitSha>,
    pub created_at: Timestamp,
    /// The GitHub App installation whose tokens the project uses (then no token of its own).
    pub installation_id: Option<InstallationId>,
    /// Which paths its syncs hold.
    #[serde(deserialize_with = "json_filter")]
    pub path_filter: PathFilter,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SyncRow {
    pub id: SyncId,
    pub project_id: ProjectId,
    pub kind: SyncKind,
    pub trigger: Trigger,
    pub branch: BranchName,
    pub commit_sha: Option<CommitSha>,
    pub status: SyncStatus,
    pub progress: u8,
    pub message: String,
    pub seq: Option<u64>,
    pub previous_sync_id: Option<SyncId>,
    pub restored_from_sync_id: Option<SyncId>,
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
    pub started_at: Timestamp,
    pub completed_at: Option<Timestamp>,
    /// When the row was last written (every step of a running sync writes it).
    pub updated_at: Option<Timestamp>,
    /// The filter that made its state (a dry run: the one it previewed).
    #[serde(deserialize_with = "json_filter")]
    pub path_filter: PathFilter,
    #[serde(deserialize_with = "int_bool")]
    pub dry_run: bool,
    /// False for a dry run past its project's 20 newest: its changes are gone (or going).
    #[serde(deserialize_with = "int_bool")]
    pub changes_kept: bool,
    /// git's rename limit stopped its search for renames with edits (`engine::Job`).
    #[serde(deserialize_with = "int_bool")]
    pub renames_limited: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct HookRow {
    pub id: HookId,
    pub url: String,
    pub secret_enc: Option<String>,
    #[serde(deserialize_with = "json_events")]
    pub events: Vec<HookEvent>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DeliveryRow {
    pub id: DeliveryId,
    pub hook_id: HookId,
    pub sync_id: SyncId,
    pub event: HookEvent,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub last_status_code: Option<u16>,
    pub last_error: Option<String>,
    /// The body every attempt sends, made once when the delivery was created
    /// (`api::hooks::DeliveryBody`), so each attempt signs the same bytes.
    pub body: String,
    pub created_at: Timestamp,
    pub delivered_at: Option<Timestamp>,
}

/// An installation granted to a user.
#[derive(Debug, Clone, Deserialize)]
pub struct GrantRow {
    pub installation_id: InstallationId,
    pub account: String,
    pub repository_selection: String,
    pub user_id: UserId,
    pub created_at: Timestamp,
}

/// A version of a file, as a state's listing reads it.
#[derive(Debug, Clone, Deserialize)]
pub struct FileRow {
    pub path: String,
    pub mode: String,
    pub kind: String,
    pub sha: ObjectSha,
    pub size: Option<u64>,
    /// The sync that introduced this version.
    pub sync_id: SyncId,
    /// Why no text is kept, as stored (`content::skipped_for_api` says it to the API).
    #[serde(default)]
    pub content_skipped: Option<String>,
}

/// A version of a path in its history: which sync replaced it, and its chain position.
#[derive(Debug, Clone, Deserialize)]
pub struct FileHistoryRow {
    #[serde(flatten)]
    pub file: FileRow,
    pub superseded_by_sync_id: Option<SyncId>,
    pub introduced_seq: u64,
}

#[cfg(test)]
pub(crate) mod tests;
