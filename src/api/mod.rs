//! The contract's request bodies, parsed and validated once, and its response shapes, one
//! file per resource as `shell::routes` has them; `fields` reads a body's JSON fields and
//! `page` holds what every list shares (limits, cursors, query and entity-tag helpers).
//!
//! Parsing reports the first wrong field by name; unknown fields are refused so a typo
//! never silently does nothing. This layer owns the wire format: it turns rows into views.

pub mod fields;
pub mod files;
pub mod hooks;
pub mod installations;
pub mod page;
pub mod projects;
pub mod syncs;
pub mod users;

pub use fields::{parse_object, FilterChange, MAX_BODY_BYTES, MAX_GITHUB_TOKEN_BYTES, MAX_NAME_CHARS};
pub use files::{ChangeView, FileHistoryView, FileView, MemoryView};
pub use hooks::{changes_url, CreateHook, DeliveryBody, DeliveryView, HookView};
pub use installations::{GrantInstallation, InstallationRepoView, InstallationView};
pub use page::{encode_cursor, etag_matches, percent_decode, query_param, Page, PageRequest, DEFAULT_LIMIT, MAX_LIMIT};
pub use projects::{BranchView, CreateProject, PatchProject, ProjectView, TokenChange};
pub use syncs::{Restore, StartSync, SyncStarted, SyncView};
pub use users::{CreateUser, UserCreated};
