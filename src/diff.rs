//! Diffing a wanted state (a branch's tree, or an earlier sync's state) against the state we
//! hold: every path is added, modified, removed, renamed or unchanged.
//!
//! The diff is against what we hold, not against the previous commit, so force pushes and
//! rewritten history come out right. Renames are paired as `git diff -M` pairs them: first
//! exactly (a removed and an added path with the same object id and type: file, symlink,
//! submodule), then, with the texts' span counts, by similarity (`diff_similar`).

use crate::domain::{Counts, FileKind, FileMode, ObjectSha, TreeFile};

mod exact;
pub use exact::{pair_renames, SourceWalk, EXACT_CANDIDATES};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// git's id of the empty blob: every empty file has it, so it cannot identify a rename.
pub const EMPTY_BLOB_SHA: &str = "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391";

/// One path's state: what we store per file version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    pub path: String,
    pub mode: FileMode,
    pub kind: FileKind,
    pub sha: ObjectSha,
    pub size: Option<u64>,
}

impl From<TreeFile> for FileEntry {
    fn from(t: TreeFile) -> Self {
        FileEntry { kind: FileKind::from_mode(t.mode), path: t.path, mode: t.mode, sha: t.sha, size: t.size }
    }
}

impl FileEntry {
    /// Same content and same mode: nothing to write.
    fn same_version(&self, other: &FileEntry) -> bool {
        self.sha == other.sha && self.mode == other.mode
    }

    fn object_type(&self) -> u8 {
        object_type(self.mode)
    }

    /// A plain or executable file: the only kind git scores for renames with edits.
    pub fn is_regular(&self) -> bool {
        self.object_type() == 0
    }

    /// The file as inexact rename detection sees it.
    pub fn candidate(&self) -> crate::renames::Candidate {
        crate::renames::Candidate { path: self.path.clone(), size: self.size, regular: self.is_regular() }
    }

    fn basename(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }
}

/// What git's rename detection keeps apart: a symlink never becomes a file (or a
/// submodule) by a rename, though a file may change its executable bit.
pub fn object_type(mode: FileMode) -> u8 {
    match mode {
        FileMode::Regular | FileMode::Executable => 0,
        FileMode::Symlink => 1,
        FileMode::Submodule => 2,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "lowercase")]
pub enum Change {
    Added {
        new: FileEntry,
    },
    Modified {
        old: FileEntry,
        new: FileEntry,
    },
    Removed {
        old: FileEntry,
    },
    /// `similarity`: git's percentage (100 for the same blob; see `crate::renames`).
    Renamed {
        old: FileEntry,
        new: FileEntry,
        #[serde(default = "exact")]
        similarity: u8,
    },
}

/// The similarity of an exact rename (and of one checkpointed before scores existed).
pub fn exact() -> u8 {
    100
}

impl Change {
    /// The path this change is about: the new path, or the removed one.
    pub fn path(&self) -> &str {
        match self {
            Change::Added { new } | Change::Modified { new, .. } | Change::Renamed { new, .. } => &new.path,
            Change::Removed { old } => &old.path,
        }
    }

    /// The held version this change ends (if any).
    pub fn superseded(&self) -> Option<&FileEntry> {
        match self {
            Change::Added { .. } => None,
            Change::Modified { old, .. } | Change::Removed { old } | Change::Renamed { old, .. } => Some(old),
        }
    }

    /// The version this change introduces (if any).
    pub fn introduced(&self) -> Option<&FileEntry> {
        match self {
            Change::Removed { .. } => None,
            Change::Added { new } | Change::Modified { new, .. } | Change::Renamed { new, .. } => Some(new),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diff {
    /// Sorted by `Change::path`.
    pub changes: Vec<Change>,
    pub counts: Counts,
}

/// Diffs `wanted` against `held`. Both are keyed by path; order of input does not matter.
pub fn diff(held: Vec<FileEntry>, wanted: Vec<FileEntry>) -> Diff {
    let mut held: BTreeMap<String, FileEntry> = held.into_iter().map(|f| (f.path.clone(), f)).collect();
    let mut counts = Counts::default();
    let mut changes = Vec::new();
    let mut added = Vec::new();
    for new in wanted {
        match held.remove(&new.path) {
            Some(old) if old.same_version(&new) => counts.unchanged += 1,
            Some(old) => changes.push(Change::Modified { old, new }),
            None => added.push(new),
        }
    }
    let removed: Vec<FileEntry> = held.into_values().collect();
    let walk = SourceWalk::of(removed.len());
    let (renames, added, removed) = pair_renames(added, removed, walk);
    changes.extend(renames);
    changes.extend(added.into_iter().map(|new| Change::Added { new }));
    changes.extend(removed.into_iter().map(|old| Change::Removed { old }));
    changes.sort_by(|a, b| a.path().cmp(b.path()));
    for c in &changes {
        match c {
            Change::Added { .. } => counts.added += 1,
            Change::Modified { .. } => counts.modified += 1,
            Change::Removed { .. } => counts.removed += 1,
            Change::Renamed { .. } => counts.renamed += 1,
        }
    }
    Diff { changes, counts }
}

/// `diff`, then renames with edits among what exact pairing left (`crate::renames`), as
/// `git diff -M` finds them; `counts` gives a file's span counts (`None`: its text is not
/// kept, so it pairs only exactly). Also whether the rename limit stopped the matrix. The
/// in-memory reference the engine's paged steps are tested against.
pub fn diff_similar(
    held: Vec<FileEntry>,
    wanted: Vec<FileEntry>,
    counts: impl FnMut(&FileEntry) -> Option<crate::similarity::SpanCounts>,
) -> (Diff, bool) {
    with_similar(diff(held, wanted), counts)
}

/// An exact diff's added and removed files paired by similarity (`diff_similar`'s second
/// half, for a caller that already has the exact diff).
pub fn with_similar(exact: Diff, mut counts: impl FnMut(&FileEntry) -> Option<crate::similarity::SpanCounts>) -> (Diff, bool) {
    let Diff { changes, counts: mut tally } = exact;
    let (mut kept, mut added, mut removed) = (Vec::new(), Vec::new(), Vec::new());
    for change in changes {
        match change {
            Change::Added { new } => added.push(new),
            Change::Removed { old } => removed.push(old),
            other => kept.push(other),
        }
    }
    let candidates = |files: &[FileEntry]| files.iter().map(FileEntry::candidate).collect::<Vec<_>>();
    let found = crate::renames::detect(&candidates(&removed), &candidates(&added), |is_source, i| {
        counts(if is_source { &removed[i] } else { &added[i] })
    });
    let (mut taken_old, mut taken_new) = (vec![false; removed.len()], vec![false; added.len()]);
    for f in &found.renames {
        (taken_old[f.src], taken_new[f.dst]) = (true, true);
        kept.push(Change::Renamed { old: removed[f.src].clone(), new: added[f.dst].clone(), similarity: f.similarity });
    }
    tally.renamed += found.renames.len() as u64;
    tally.added -= found.renames.len() as u64;
    tally.removed -= found.renames.len() as u64;
    kept.extend(added.into_iter().zip(taken_new).filter(|(_, t)| !t).map(|(new, _)| Change::Added { new }));
    kept.extend(removed.into_iter().zip(taken_old).filter(|(_, t)| !t).map(|(old, _)| Change::Removed { old }));
    kept.sort_by(|a, b| a.path().cmp(b.path()));
    (Diff { changes: kept, counts: tally }, found.limited)
}

/// Directory tree shas by path (`""` is the root): what lets a sync skip unchanged subtrees.
pub type DirMap = BTreeMap<String, String>;

/// A directory whose tree sha appeared, changed or disappeared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirChange {
    pub path: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

pub fn diff_dirs(held: &DirMap, wanted: &DirMap) -> Vec<DirChange> {
    let mut changes: Vec<DirChange> = wanted
        .iter()
        .filter(|(path, sha)| held.get(*path) != Some(*sha))
        .map(|(path, sha)| DirChange { path: path.clone(), old: held.get(path).cloned(), new: Some(sha.clone()) })
        .collect();
    changes.extend(held.iter().filter(|(path, _)| !wanted.contains_key(*path)).map(|(path, sha)| DirChange {
        path: path.clone(),
        old: Some(sha.clone()),
        new: None,
    }));
    changes.sort_by(|a, b| a.path.cmp(&b.path));
    changes
}

/// Whether `path` lies strictly inside one of the directories in `dirs` (`""` holds everything).
pub fn inside_any(dirs: &std::collections::HashSet<String>, path: &str) -> bool {
    if dirs.contains("") {
        return true;
    }
    let mut end = 0;
    while let Some(i) = path[end..].find('/') {
        end += i;
        if dirs.contains(&path[..end]) {
            return true;
        }
        end += 1;
    }
    false
}

#[cfg(test)]
pub(crate) mod tests;
