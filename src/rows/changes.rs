//! A change as the store keeps it: a dry run's findings are written once (`dry_run_changes`)
//! and a sync's are derived from its file versions; both read back as this, with the JSON
//! names the changes endpoint has always used, so what was stored stays readable.

use crate::diff::Change;
use crate::domain::ObjectSha;
use crate::pathfilter::{change_reason, PathFilter};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Added,
    Modified,
    Renamed,
    Removed,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Modified => "modified",
            ChangeKind::Renamed => "renamed",
            ChangeKind::Removed => "removed",
        }
    }
}

/// Why a path changed when the branch did not change it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeReason {
    /// A filter change added or removed it.
    Filtered,
}

impl ChangeReason {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeReason::Filtered => "filtered",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredChange {
    pub path: String,
    pub change: ChangeKind,
    #[serde(default)]
    pub previous_path: Option<String>,
    pub sha: ObjectSha,
    #[serde(default)]
    pub previous_sha: Option<ObjectSha>,
    #[serde(default)]
    pub reason: Option<ChangeReason>,
    /// A rename's similarity to the path it came from, 0 to 100 (100: the same blob), as
    /// `git diff -M` scores it; `None` for every other change. Rows written before renames
    /// had scores have none in the JSON: they read as `None` (the store's migration gave
    /// its renamed rows 100).
    #[serde(default)]
    pub similarity: Option<u8>,
}

impl From<&Change> for StoredChange {
    fn from(c: &Change) -> StoredChange {
        let (change, old) = match c {
            Change::Added { .. } => (ChangeKind::Added, None),
            Change::Modified { old, .. } => (ChangeKind::Modified, Some(old)),
            Change::Renamed { old, .. } => (ChangeKind::Renamed, Some(old)),
            Change::Removed { .. } => (ChangeKind::Removed, None),
        };
        let sha = match c {
            Change::Removed { old } => old.sha.clone(),
            Change::Added { new } | Change::Modified { new, .. } | Change::Renamed { new, .. } => new.sha.clone(),
        };
        StoredChange {
            path: c.path().to_string(),
            change,
            previous_path: matches!(c, Change::Renamed { .. }).then(|| old.map(|o| o.path.clone())).flatten(),
            sha,
            previous_sha: old.map(|o| o.sha.clone()),
            reason: None,
            similarity: match c {
                Change::Renamed { similarity, .. } => Some(*similarity),
                _ => None,
            },
        }
    }
}

impl StoredChange {
    /// Marks a change a filter change made (`filtered`), from the filters of the states
    /// before (`None`: no state before) and after.
    pub fn mark_filtered(&mut self, before: Option<&PathFilter>, now: &PathFilter) {
        self.reason = change_reason(self.change.as_str(), &self.path, before, now).map(|_| ChangeReason::Filtered);
    }
}
