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
