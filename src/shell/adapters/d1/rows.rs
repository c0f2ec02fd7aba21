//! The columns the typed rows (`crate::rows`) are read from: the rows themselves are plain
//! core types, so the API converts them natively; the SQL stays here.

pub use crate::rows::{ProjectRow, SyncRow};

pub(super) const PROJECT_COLUMNS: &str = "id, name, repository, branch, tracked, github_token_enc, current_sync_id, \
     current_seq, current_commit_sha, head_etag, head_sha, created_at, installation_id, path_filter";

pub(super) const SYNC_COLUMNS: &str = "s.id, s.project_id, s.kind, s.trigger, s.branch, s.commit_sha, s.status, s.progress, \
     s.message, CASE WHEN s.dry_run = 0 THEN s.seq END AS seq, s.previous_sync_id, s.restored_from_sync_id, s.added, s.modified, s.removed, s.unchanged, \
     s.renamed, s.github_requests, s.github_not_modified, s.d1_rows_written, s.bytes_downloaded, s.duration_ms, \
     s.error, s.started_at, s.completed_at, s.updated_at, s.path_filter, s.dry_run, \
     s.changes_retention = 'kept' AS changes_kept, s.renames_limited";
