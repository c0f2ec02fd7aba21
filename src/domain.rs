//! Domain types that parse once: names, ids, git objects and the sync's vocabulary.
//!
//! Every value that crosses the HTTP or GitHub boundary is turned into one of these
//! types at the edge; past that point the rest of the code can rely on it being valid.

use serde::{Deserialize, Serialize};
use std::fmt;

mod events;
mod ids;
mod time;
pub use events::{HookEvent, ALL_EVENTS};
pub use ids::{DeliveryId, HookId, InstallationId, ProjectId, SyncId, UserId};
pub use time::Timestamp;

/// Why a raw string was refused; the field name is added by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub String);

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! string_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                $name::parse(&raw).map_err(|e| serde::de::Error::custom(e.0))
            }
        }
    };
}

string_newtype!(
    /// `owner/repo` as GitHub spells it (GitHub's own character rules).
    RepoName
);
string_newtype!(
    /// A branch name that git would accept (`git check-ref-format --branch`).
    BranchName
);
string_newtype!(
    /// A full 40-hex-digit git object id, lower case.
    CommitSha
);
string_newtype!(
    /// An opaque id of ours: lower-case letters, digits and dashes (UUIDs in practice).
    Id
);

/// A git blob (or gitlink) id; same shape as a commit id.
pub type ObjectSha = CommitSha;

impl RepoName {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let raw = raw.trim();
        let (owner, repo) = raw.split_once('/').ok_or_else(|| Invalid("must be \"owner/repo\"".into()))?;
        let owner_ok = !owner.is_empty()
            && owner.len() <= 39
            && owner.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !owner.starts_with('-');
        if !owner_ok {
            return Err(Invalid(format!("owner {owner:?} is not a valid GitHub account name")));
        }
        let repo_ok = !repo.is_empty()
            && repo.len() <= 100
            && repo != "."
            && repo != ".."
            && repo.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !repo_ok {
            return Err(Invalid(format!("repository name {repo:?} is not valid")));
        }
        Ok(RepoName(raw.to_string()))
    }

    pub fn owner(&self) -> &str {
        self.0.split_once('/').map(|(o, _)| o).unwrap_or_default()
    }

    pub fn repo(&self) -> &str {
        self.0.split_once('/').map(|(_, r)| r).unwrap_or_default()
    }

    /// GitHub treats names case-insensitively; content is shared under this key.
    pub fn canonical(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

impl BranchName {
    /// The rules of `git check-ref-format --branch`, so a name we accept is one git accepts.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let bad = |why: &str| Err(Invalid(format!("branch name {raw:?} {why}")));
        if raw.is_empty() {
            return bad("is empty");
        }
        if raw.len() > 255 {
            return bad("is longer than 255 bytes");
        }
        if raw.starts_with('-') {
            return bad("starts with '-'");
        }
        if raw == "@" {
            return bad("is '@'");
        }
        if raw.starts_with('/') || raw.ends_with('/') || raw.contains("//") {
            return bad("has an empty path component");
        }
        if raw.ends_with('.') || raw.contains("..") || raw.contains("@{") {
            return bad("contains '..', '@{' or ends with '.'");
        }
        if raw.chars().any(|c| c.is_ascii_control() || matches!(c, ' ' | '~' | '^' | ':' | '?' | '*' | '[' | '\\')) {
            return bad("contains a character git forbids");
        }
        for part in raw.split('/') {
            if part.starts_with('.') || part.ends_with(".lock") {
                return bad("has a component that starts with '.' or ends with '.lock'");
            }
        }
        Ok(BranchName(raw.to_string()))
    }
}

impl CommitSha {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        if raw.len() == 40 && raw.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(CommitSha(raw.to_ascii_lowercase()))
        } else {
            Err(Invalid(format!("{raw:?} is not a 40-digit hexadecimal git object id")))
        }
    }
}

impl Id {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let ok = !raw.is_empty() && raw.len() <= 64 && raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(Id(raw.to_string()))
        } else {
            Err(Invalid(format!("{raw:?} is not a valid id")))
        }
    }
}

/// The git file mode of a tree entry we keep (directories are never kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FileMode {
    #[serde(rename = "100644")]
    Regular,
    #[serde(rename = "100755")]
    Executable,
    #[serde(rename = "120000")]
    Symlink,
    #[serde(rename = "160000")]
    Submodule,
}

impl FileMode {
    /// `None` for directories (040000) and anything git would not produce.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "100644" | "100664" => Some(FileMode::Regular),
            "100755" => Some(FileMode::Executable),
            "120000" => Some(FileMode::Symlink),
            "160000" => Some(FileMode::Submodule),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FileMode::Regular => "100644",
            FileMode::Executable => "100755",
            FileMode::Symlink => "120000",
            FileMode::Submodule => "160000",
        }
    }
}

/// What a kept path is, as the contract names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileKind {
    File,
    Symlink,
    Submodule,
    LfsPointer,
}

impl FileKind {
    /// The kind known from the mode alone; LFS pointers are recognised later, from content.
    pub fn from_mode(mode: FileMode) -> Self {
        match mode {
            FileMode::Regular | FileMode::Executable => FileKind::File,
            FileMode::Symlink => FileKind::Symlink,
            FileMode::Submodule => FileKind::Submodule,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::File => "file",
            FileKind::Symlink => "symlink",
            FileKind::Submodule => "submodule",
            FileKind::LfsPointer => "lfs-pointer",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "file" => Some(FileKind::File),
            "symlink" => Some(FileKind::Symlink),
            "submodule" => Some(FileKind::Submodule),
            "lfs-pointer" => Some(FileKind::LfsPointer),
            _ => None,
        }
    }
}

/// One path of a branch's tree, as GitHub lists it and as we store it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeFile {
    pub path: String,
    pub mode: FileMode,
    pub sha: ObjectSha,
    /// Blob size in bytes; `None` for submodules (a gitlink has no size).
    pub size: Option<u64>,
}

/// The lifecycle of a sync, in the order the contract gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SyncStatus {
    Queued,
    Fetching,
    Diffing,
    Processing,
    Persisting,
    Complete,
    Failed,
    Cancelled,
}

impl SyncStatus {
    pub const ALL: [SyncStatus; 8] = [
        SyncStatus::Queued,
        SyncStatus::Fetching,
        SyncStatus::Diffing,
        SyncStatus::Processing,
        SyncStatus::Persisting,
        SyncStatus::Complete,
        SyncStatus::Failed,
        SyncStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SyncStatus::Queued => "QUEUED",
            SyncStatus::Fetching => "FETCHING",
            SyncStatus::Diffing => "DIFFING",
            SyncStatus::Processing => "PROCESSING",
            SyncStatus::Persisting => "PERSISTING",
            SyncStatus::Complete => "COMPLETE",
            SyncStatus::Failed => "FAILED",
            SyncStatus::Cancelled => "CANCELLED",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, SyncStatus::Complete | SyncStatus::Failed | SyncStatus::Cancelled)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyncKind {
    Sync,
    Restore,
}

impl SyncKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SyncKind::Sync => "sync",
            SyncKind::Restore => "restore",
        }
    }
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "sync" => Some(SyncKind::Sync),
            "restore" => Some(SyncKind::Restore),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Trigger {
    Api,
    Cron,
    Webhook,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Api => "api",
            Trigger::Cron => "cron",
            Trigger::Webhook => "webhook",
        }
    }
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "api" => Some(Trigger::Api),
            "cron" => Some(Trigger::Cron),
            "webhook" => Some(Trigger::Webhook),
            _ => None,
        }
    }
}

/// Per-sync change counts, as the contract names them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub added: u64,
    pub modified: u64,
    pub removed: u64,
    pub unchanged: u64,
    pub renamed: u64,
}

/// Cost of a sync, counted where it happens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    pub github_requests: u64,
    pub github_not_modified: u64,
    pub d1_rows_written: u64,
    pub bytes_downloaded: u64,
    pub duration_ms: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_names() {
        let cases: &[(&str, bool)] = &[
            ("acme/widgets", true),
            ("a-b/c.d_e", true),
            ("  acme/widgets ", true),
            ("acme", false),
            ("acme/", false),
            ("/widgets", false),
            ("ac me/widgets", false),
            ("-acme/widgets", false),
            ("acme/wid/gets", false),
            ("acme/..", false),
            ("acme/wid gets", false),
        ];
        for (raw, ok) in cases {
            assert_eq!(RepoName::parse(raw).is_ok(), *ok, "{raw:?}");
        }
        let r = RepoName::parse("Acme/Widgets").unwrap();
        assert_eq!((r.owner(), r.repo(), r.canonical().as_str()), ("Acme", "Widgets", "acme/widgets"));
    }

    #[test]
    fn branch_names_follow_git() {
        let cases: &[(&str, bool)] = &[
            ("main", true),
            ("feature/x", true),
            ("release/2026/q4", true),
            ("ünïcode", true),
            ("", false),
            ("-x", false),
            ("a..b", false),
            ("a b", false),
            ("a~1", false),
            ("x/", false),
            ("/x", false),
            ("a//b", false),
            ("a/.hidden", false),
            ("a.lock", false),
            ("a@{1}", false),
            ("@", false),
            ("end.", false),
            ("a\\b", false),
        ];
        for (raw, ok) in cases {
            assert_eq!(BranchName::parse(raw).is_ok(), *ok, "{raw:?}");
        }
    }

    #[test]
    fn shas_and_ids() {
        assert!(CommitSha::parse(&"a".repeat(40)).is_ok());
        assert_eq!(CommitSha::parse(&"A".repeat(40)).unwrap().as_str(), "a".repeat(40));
        assert!(CommitSha::parse(&"a".repeat(39)).is_err());
        assert!(CommitSha::parse(&"g".repeat(40)).is_err());
        assert!(Id::parse("0b6f1a8e-9d2c-4c1e-8f55-3f2a1b0c9d8e").is_ok());
        assert!(Id::parse("../etc").is_err());
        assert!(Id::parse("").is_err());
    }

    #[test]
    fn modes_and_kinds() {
        for m in [FileMode::Regular, FileMode::Executable, FileMode::Symlink, FileMode::Submodule] {
            assert_eq!(FileMode::parse(m.as_str()), Some(m));
        }
        assert_eq!(FileMode::parse("040000"), None);
        assert_eq!(FileKind::from_mode(FileMode::Executable), FileKind::File);
        assert_eq!(serde_json::to_string(&FileKind::LfsPointer).unwrap(), "\"lfs-pointer\"");
        for s in SyncStatus::ALL {
            assert_eq!(SyncStatus::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
    }
}
