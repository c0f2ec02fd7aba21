//! Diffing a wanted state (a branch's tree, or an earlier sync's state) against the state we
//! hold: every path is added, modified, removed, renamed or unchanged.
//!
//! The diff is against what we hold, not against the previous commit, so force pushes and
//! rewritten history come out right. Renames are paired as `git diff -M` pairs them: first
//! exactly (a removed and an added path with the same object id and type: file, symlink,
//! submodule), then, with the texts' span counts, by similarity (`diff_similar`).

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
    mut counts: impl FnMut(&FileEntry) -> Option<crate::similarity::SpanCounts>,
) -> (Diff, bool) {
    let Diff { changes, counts: mut tally } = diff(held, wanted);
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

/// Pairs removed and added paths by object id and type, as `git diff -M` finds exact
/// renames (`find_identical_files`): destinations in path order; for each, among the first
/// `EXACT_CANDIDATES` free sources of its id and type in `walk` order, the first with the
/// same file name, else the first. Linear in the candidates (after sorting), however many
/// share one blob.
pub fn pair_renames(
    mut added: Vec<FileEntry>,
    mut removed: Vec<FileEntry>,
    walk: SourceWalk,
) -> (Vec<Change>, Vec<FileEntry>, Vec<FileEntry>) {
    added.sort_by(|a, b| a.path.cmp(&b.path));
    removed.sort_by(|a, b| a.path.cmp(&b.path));
    let mut in_walk: Vec<usize> = (0..removed.len()).collect();
    if walk == SourceWalk::Backward {
        in_walk.reverse();
    }
    let mut orders: HashMap<(ObjectSha, u8), Vec<usize>> = HashMap::new();
    for i in in_walk {
        orders.entry((removed[i].sha.clone(), removed[i].object_type())).or_default().push(i);
    }
    let mut groups: HashMap<(ObjectSha, u8), Sources> = orders.into_iter().map(|(key, order)| (key, Sources::new(order))).collect();
    let mut taken = vec![false; removed.len()];
    let mut renames = Vec::new();
    let mut still_added = Vec::new();
    for new in added {
        let source = groups.get_mut(&(new.sha.clone(), new.object_type())).and_then(|g| g.take(new.basename(), &removed));
        match source {
            Some(i) => {
                taken[i] = true;
                renames.push(Change::Renamed { old: removed[i].clone(), new, similarity: exact() })
            }
            None => still_added.push(new),
        }
    }
    let still_removed = removed.into_iter().zip(taken).filter(|(_, t)| !t).map(|(r, _)| r).collect();
    (renames, still_added, still_removed)
}

/// How many free sources of one blob git looks at for a destination before it settles for
/// the first ("too many identical alternatives? Pick one").
pub const EXACT_CANDIDATES: usize = 100;

/// The order git walks the sources of one blob in. It inserts every removed path into a
/// hash table backwards, each at the head of its bucket's chain, so the chain runs in path
/// order; but when the table grows, on inserting the last source, rehashing reverses every
/// chain, and the walk runs backwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceWalk {
    Forward,
    Backward,
}

impl SourceWalk {
    /// The walk for a diff that removes `sources` paths in all (of every type and blob).
    /// git sizes the table for them (`hashmap_init`: the least 64·4^k of at least
    /// sources·100/80 buckets) and grows it past 80% full: the last insert overflows it
    /// only for 205, 3277, 52429, … sources.
    pub fn of(sources: usize) -> SourceWalk {
        let wanted = sources as u64 * 100 / 80;
        let mut buckets = 64u64;
        while wanted > buckets {
            buckets <<= 2;
        }
        if sources as u64 > buckets * 80 / 100 {
            SourceWalk::Backward
        } else {
            SourceWalk::Forward
        }
    }
}

/// The removed paths of one id and type not yet paired, in walk order: a list linked both
/// ways through positions in `order` (`order.len()` is the ring's anchor), so taking one
/// from the middle costs nothing.
struct Sources {
    order: Vec<usize>,
    next: Vec<usize>,
    prev: Vec<usize>,
}

impl Sources {
    fn new(order: Vec<usize>) -> Sources {
        let n = order.len();
        let next = (0..=n).map(|p| (p + 1) % (n + 1)).collect();
        let prev = (0..=n).map(|p| (p + n) % (n + 1)).collect();
        Sources { order, next, prev }
    }

    /// Among the first `EXACT_CANDIDATES` free sources, the first named `name`, else the
    /// first; taken out of the list.
    fn take(&mut self, name: &str, removed: &[FileEntry]) -> Option<usize> {
        let anchor = self.order.len();
        let first = Some(self.next[anchor]).filter(|&p| p != anchor)?;
        let (mut pick, mut at) = (first, first);
        for _ in 0..EXACT_CANDIDATES {
            if at == anchor {
                break;
            }
            if removed[self.order[at]].basename() == name {
                pick = at;
                break;
            }
            at = self.next[at];
        }
        let (before, after) = (self.prev[pick], self.next[pick]);
        (self.next[before], self.prev[after]) = (after, before);
        Some(self.order[pick])
    }
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
pub(crate) mod tests {
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

    /// Changes as `A path`, `M path`, `D path`, `R old -> new`, for tables.
    pub(crate) fn summary(changes: &[Change]) -> Vec<String> {
        changes
            .iter()
            .map(|c| match c {
                Change::Added { new } => format!("A {}", new.path),
                Change::Modified { new, .. } => format!("M {}", new.path),
                Change::Removed { old } => format!("D {}", old.path),
                Change::Renamed { old, new, .. } => format!("R {} -> {}", old.path, new.path),
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
            let mut got_s = summary(&got.changes);
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

    /// The pairing as first written (a scan and a removal per added path: quadratic in the
    /// paths sharing a blob), with git's window and walk, kept as the reference the linear
    /// one must equal.
    fn naive_pairs(mut added: Vec<FileEntry>, mut removed: Vec<FileEntry>, walk: SourceWalk) -> Vec<(String, String)> {
        added.sort_by(|a, b| a.path.cmp(&b.path));
        removed.sort_by(|a, b| a.path.cmp(&b.path));
        let mut free: Vec<usize> = (0..removed.len()).collect();
        if walk == SourceWalk::Backward {
            free.reverse();
        }
        let mut pairs = Vec::new();
        for new in added {
            let same = |i: usize| removed[i].sha == new.sha && removed[i].object_type() == new.object_type();
            let window: Vec<usize> = (0..free.len()).filter(|&k| same(free[k])).take(EXACT_CANDIDATES).collect();
            let named = window.iter().find(|&&k| removed[free[k]].basename() == new.basename());
            if let Some(&k) = named.or(window.first()) {
                pairs.push((removed[free.remove(k)].path.clone(), new.path.clone()));
            }
        }
        pairs
    }

    #[test]
    fn linear_pairing_equals_the_first_one() {
        let small: Vec<String> = ["x", "y", "a/x", "a/y", "b/x", "b/z", "c/y", "d/x", "e/z", "f"].map(String::from).to_vec();
        // Enough paths that one blob has more free sources than git looks at.
        let large: Vec<String> = (0..300).map(|i| format!("d{}/n{}", i / 40, i % 40)).collect();
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut next = |below: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % below as u64) as usize
        };
        for round in 0..600 {
            let names = if round % 3 == 2 { &large } else { &small };
            let walk = [SourceWalk::Forward, SourceWalk::Backward][next(2)];
            let pick = |next: &mut dyn FnMut(usize) -> usize, side: &str| -> Vec<FileEntry> {
                let mut picked = Vec::new();
                for n in names {
                    if next(2) == 0 {
                        picked.push(f(&format!("{side}/{n}"), if next(8) == 0 { '2' } else { '1' }));
                    }
                }
                picked
            };
            let (added, removed) = (pick(&mut next, "new"), pick(&mut next, "old"));
            let (renames, _, _) = pair_renames(added.clone(), removed.clone(), walk);
            let got: Vec<(String, String)> = renames
                .iter()
                .map(|c| match c {
                    Change::Renamed { old, new, .. } => (old.path.clone(), new.path.clone()),
                    other => panic!("not a rename: {other:?}"),
                })
                .collect();
            assert_eq!(got, naive_pairs(added, removed, walk), "round {round}");
        }
    }

    #[test]
    fn exact_pairing_has_git_window_and_walk() {
        // 150 removed copies of one blob: the one named like the destination is past the
        // hundredth free source, so git takes the first.
        let removed: Vec<FileEntry> = (0..150).map(|i| f(&format!("a/{i:03}"), '1')).collect();
        let (renames, _, _) = pair_renames(vec![f("b/010", '1'), f("b/149", '1')], removed, SourceWalk::Forward);
        assert_eq!(summary(&renames), vec!["R a/010 -> b/010", "R a/000 -> b/149"]);
        let walks: Vec<SourceWalk> = [0, 51, 52, 204, 205, 206, 3276, 3277, 3278, 52_429].map(SourceWalk::of).to_vec();
        let backward: Vec<bool> = walks.iter().map(|w| *w == SourceWalk::Backward).collect();
        assert_eq!(backward, [false, false, false, false, true, false, false, true, false, true]);
        // 205 removed paths: two identical sources pair backwards.
        let mut removed: Vec<FileEntry> = (0..203).map(|i| f(&format!("z{i:03}"), '2')).collect();
        removed.extend([f("o/a1", '1'), f("o/a2", '1')]);
        let got = diff(removed, vec![f("n/b1", '1'), f("n/b2", '1')]);
        let renames: Vec<String> = summary(&got.changes).into_iter().filter(|c| c.starts_with('R')).collect();
        assert_eq!(renames, vec!["R o/a2 -> n/b1", "R o/a1 -> n/b2"]);
    }

    #[test]
    fn many_paths_sharing_a_blob_pair_in_linear_time() {
        // 40,000 copies of one blob moved, each to a new file name: the first pairing
        // scanned every remaining source for a name per added path (8 * 10^8 comparisons).
        let removed: Vec<FileEntry> = (0..40_000).map(|i| f(&format!("old/{i:05}.a"), '1')).collect();
        let added: Vec<FileEntry> = (0..40_000).map(|i| f(&format!("new/{i:05}.b"), '1')).collect();
        let started = std::time::Instant::now();
        let (renames, added_left, removed_left) = pair_renames(added, removed, SourceWalk::Forward);
        assert_eq!((renames.len(), added_left.len(), removed_left.len()), (40_000, 0, 0));
        assert!(started.elapsed() < std::time::Duration::from_secs(2), "took {:?}", started.elapsed());
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
