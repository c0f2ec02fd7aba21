//! Diffing a wanted state (a branch's tree, or an earlier sync's state) against the state we
//! hold: every path is added, modified, removed, renamed or unchanged.
//!
//! The diff is against what we hold, not against the previous commit, so force pushes and
//! rewritten history come out right. Renames are exact: a removed and an added path with the
//! same object id and the same type (file, symlink, submodule), as `git diff -M` pairs them.

use crate::domain::{Counts, FileKind, FileMode, ObjectSha, TreeFile};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

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
    Added { new: FileEntry },
    Modified { old: FileEntry, new: FileEntry },
    Removed { old: FileEntry },
    Renamed { old: FileEntry, new: FileEntry },
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
    let (renames, added, removed) = pair_renames(added, removed);
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

/// Pairs removed and added paths by object id and type, as `git diff -M` finds exact
/// renames: within one id, a source with the same file name first, then in path order, so
/// the result does not depend on input order.
pub fn pair_renames(mut added: Vec<FileEntry>, mut removed: Vec<FileEntry>) -> (Vec<Change>, Vec<FileEntry>, Vec<FileEntry>) {
    added.sort_by(|a, b| a.path.cmp(&b.path));
    removed.sort_by(|a, b| a.path.cmp(&b.path));
    let mut by_id: HashMap<(ObjectSha, u8), Vec<usize>> = HashMap::new();
    for (i, r) in removed.iter().enumerate() {
        by_id.entry((r.sha.clone(), r.object_type())).or_default().push(i);
    }
    let mut taken = vec![false; removed.len()];
    let mut renames = Vec::new();
    let mut still_added = Vec::new();
    for new in added {
        let candidates = by_id.get_mut(&(new.sha.clone(), new.object_type()));
        let source = candidates.and_then(|c| {
            let pick = c.iter().position(|&i| removed[i].basename() == new.basename()).or((!c.is_empty()).then_some(0))?;
            Some(c.remove(pick))
        });
        match source {
            Some(i) => {
                taken[i] = true;
                renames.push(Change::Renamed { old: removed[i].clone(), new });
            }
            None => still_added.push(new),
        }
    }
    let still_removed = removed.into_iter().zip(taken).filter(|(_, t)| !t).map(|(r, _)| r).collect();
    (renames, still_added, still_removed)
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
mod tests {
    use super::*;

    fn sha(c: char) -> ObjectSha {
        ObjectSha::parse(&c.to_string().repeat(40)).unwrap()
    }

    fn f(path: &str, c: char) -> FileEntry {
        FileEntry { path: path.into(), mode: FileMode::Regular, kind: FileKind::File, sha: sha(c), size: Some(1) }
    }

    fn with_mode(mut e: FileEntry, mode: FileMode) -> FileEntry {
        e.mode = mode;
        e.kind = FileKind::from_mode(mode);
        e
    }

    fn summary(d: &Diff) -> Vec<String> {
        d.changes
            .iter()
            .map(|c| match c {
                Change::Added { new } => format!("A {}", new.path),
                Change::Modified { new, .. } => format!("M {}", new.path),
                Change::Removed { old } => format!("D {}", old.path),
                Change::Renamed { old, new } => format!("R {} -> {}", old.path, new.path),
            })
            .collect()
    }

    #[test]
    fn table() {
        let empty = || FileEntry { sha: ObjectSha::parse(EMPTY_BLOB_SHA).unwrap(), ..f("x", 'a') };
        type Case<'a> = (&'a str, Vec<FileEntry>, Vec<FileEntry>, Vec<&'a str>, (u64, u64, u64, u64, u64));
        let cases: Vec<Case> = vec![
            ("first sync adds everything", vec![], vec![f("b", '1'), f("a", '2')], vec!["A a", "A b"], (2, 0, 0, 0, 0)),
            ("identical state", vec![f("a", '1')], vec![f("a", '1')], vec![], (0, 0, 0, 1, 0)),
            ("content change", vec![f("a", '1')], vec![f("a", '2')], vec!["M a"], (0, 1, 0, 0, 0)),
            (
                "mode change alone is a modification",
                vec![f("run", '1')],
                vec![with_mode(f("run", '1'), FileMode::Executable)],
                vec!["M run"],
                (0, 1, 0, 0, 0),
            ),
            ("deletion", vec![f("a", '1'), f("b", '2')], vec![f("a", '1')], vec!["D b"], (0, 0, 1, 1, 0)),
            ("rename by sha", vec![f("old", '1')], vec![f("new", '1')], vec!["R old -> new"], (0, 0, 0, 0, 1)),
            (
                "rename plus unrelated add",
                vec![f("old", '1')],
                vec![f("new", '1'), f("other", '2')],
                vec!["R old -> new", "A other"],
                (1, 0, 0, 0, 1),
            ),
            (
                "two copies of one blob move: paired in path order",
                vec![f("a1", '1'), f("a2", '1')],
                vec![f("b1", '1'), f("b2", '1')],
                vec!["R a1 -> b1", "R a2 -> b2"],
                (0, 0, 0, 0, 2),
            ),
            ("copy is an add, not a rename", vec![f("a", '1')], vec![f("a", '1'), f("b", '1')], vec!["A b"], (1, 0, 0, 1, 0)),
            (
                "a moved empty file is a rename, as git says",
                vec![FileEntry { path: "e1".into(), ..empty() }],
                vec![FileEntry { path: "e2".into(), ..empty() }],
                vec!["R e1 -> e2"],
                (0, 0, 0, 0, 1),
            ),
            (
                "a moved submodule is a rename",
                vec![with_mode(f("m1", '1'), FileMode::Submodule)],
                vec![with_mode(f("m2", '1'), FileMode::Submodule)],
                vec!["R m1 -> m2"],
                (0, 0, 0, 0, 1),
            ),
            (
                "a symlink never becomes a file by a rename",
                vec![with_mode(f("link", '1'), FileMode::Symlink)],
                vec![f("plain", '1')],
                vec!["A plain", "D link"],
                (1, 0, 1, 0, 0),
            ),
            (
                "a rename may change the executable bit",
                vec![f("run", '1')],
                vec![with_mode(f("bin/run", '1'), FileMode::Executable)],
                vec!["R run -> bin/run"],
                (0, 0, 0, 0, 1),
            ),
            (
                "the same file name is preferred as the source",
                vec![f("a/x.txt", '1'), f("b/y.txt", '1')],
                vec![f("c/y.txt", '1'), f("d/x.txt", '1')],
                vec!["R a/x.txt -> d/x.txt", "R b/y.txt -> c/y.txt"],
                (0, 0, 0, 0, 2),
            ),
            (
                "unrelated history replaces everything",
                vec![f("a", '1'), f("b", '2')],
                vec![f("c", '3')],
                vec!["D a", "D b", "A c"],
                (1, 0, 2, 0, 0),
            ),
        ];
        for (name, held, wanted, want, (a, m, d, u, r)) in cases {
            let got = diff(held, wanted);
            let mut want: Vec<String> = want.into_iter().map(String::from).collect();
            let mut got_s = summary(&got);
            want.sort();
            got_s.sort();
            assert_eq!(got_s, want, "{name}");
            assert_eq!(
                (got.counts.added, got.counts.modified, got.counts.removed, got.counts.unchanged, got.counts.renamed),
                (a, m, d, u, r),
                "{name}"
            );
        }
    }

    #[test]
    fn output_is_sorted_and_order_independent() {
        let held = vec![f("z", '1'), f("m", '2'), f("a", '3')];
        let wanted = vec![f("b", '1'), f("m", '9'), f("c", '4')];
        let d1 = diff(held.clone(), wanted.clone());
        let d2 = diff(held.into_iter().rev().collect(), wanted.into_iter().rev().collect());
        assert_eq!(d1, d2);
        let paths: Vec<&str> = d1.changes.iter().map(Change::path).collect();
        let mut sorted = paths.clone();
        sorted.sort();
        assert_eq!(paths, sorted);
    }

    #[test]
    fn directory_diffs_and_containment() {
        let m = |pairs: &[(&str, &str)]| -> DirMap { pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect() };
        let held = m(&[("", "r1"), ("src", "s1"), ("docs", "d1")]);
        let wanted = m(&[("", "r2"), ("src", "s1"), ("lib", "l1")]);
        let got: Vec<(String, Option<String>, Option<String>)> =
            diff_dirs(&held, &wanted).into_iter().map(|c| (c.path, c.old, c.new)).collect();
        assert_eq!(
            got,
            vec![
                (String::new(), Some("r1".into()), Some("r2".into())),
                ("docs".into(), Some("d1".into()), None),
                ("lib".into(), None, Some("l1".into())),
            ]
        );
        let dirs: std::collections::HashSet<String> = ["src/net".to_string(), "docs".to_string()].into();
        let cases = [
            ("src/net/a.rs", true),
            ("src/net/deep/b.rs", true),
            ("src/network.rs", false),
            ("src/net", false),
            ("docs/x.md", true),
            ("docsy/x.md", false),
            ("top.md", false),
        ];
        for (path, want) in cases {
            assert_eq!(inside_any(&dirs, path), want, "{path}");
        }
        assert!(inside_any(&[String::new()].into(), "anything/at/all"));
    }

    #[test]
    fn applying_a_diff_yields_the_wanted_state() {
        let held = vec![f("a", '1'), f("b", '2'), f("c", '3'), f("d", '4')];
        let wanted = vec![f("a", '1'), f("b", '9'), f("e", '3'), f("f", '6')];
        let d = diff(held.clone(), wanted.clone());
        let mut state: BTreeMap<String, FileEntry> = held.into_iter().map(|e| (e.path.clone(), e)).collect();
        for c in &d.changes {
            if let Some(old) = c.superseded() {
                state.remove(&old.path);
            }
        }
        for c in &d.changes {
            if let Some(new) = c.introduced() {
                state.insert(new.path.clone(), new.clone());
            }
        }
        let want: BTreeMap<String, FileEntry> = wanted.into_iter().map(|e| (e.path.clone(), e)).collect();
        assert_eq!(state, want);
    }
}
