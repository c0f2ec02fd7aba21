//! The streaming diff against the reference diff (`crate::diff::diff`, whole listings in
//! memory): the same changes, counts and state, with pages of 7 (the tests' page size) so
//! that every case crosses page boundaries — renames whose two sides sit pages apart,
//! unchanged subtrees between changed ones, many copies of one blob, modes and types.

use super::*;
use crate::diff::{diff, Change, FileEntry};
use crate::domain::FileMode;
use std::collections::BTreeMap;

fn entries(files: &[TreeFile]) -> Vec<FileEntry> {
    files.iter().cloned().map(FileEntry::from).collect()
}

fn staged(w: &World, job: &Job) -> Vec<Change> {
    w.store.applied.borrow().get(job.sync_id.as_str()).map(|m| m.values().cloned().collect()).unwrap_or_default()
}

/// Syncs `before` then `after`, checking the second sync against the reference diff.
fn check(name: &str, before: &[TreeFile], after: &[TreeFile]) {
    let w = World::new();
    w.push("main", &sha(100), before.to_vec());
    let mut first = w.job(None);
    w.run(&mut first);
    assert_eq!(first.status, SyncStatus::Complete, "{name}: {:?}", first.error);
    w.push("main", &sha(101), after.to_vec());
    let mut second = w.job(None);
    w.run(&mut second);
    assert_eq!(second.status, SyncStatus::Complete, "{name}: {:?}", second.error);
    let reference = diff(entries(before), entries(after));
    assert_eq!(staged(&w, &second), reference.changes, "{name}: the same changes as the reference diff");
    assert_eq!(second.counts, reference.counts, "{name}: the same counts");
    assert_eq!(w.active(), expect(after), "{name}: the state is the tree");
}

fn symlink(path: &str, n: u32) -> TreeFile {
    TreeFile { mode: FileMode::Symlink, ..file(path, n) }
}

#[test]
fn the_streaming_diff_agrees_with_the_reference() {
    let many: Vec<TreeFile> = (0..60).map(|i| file(&format!("d{}/f{i:02}", i % 6), i + 1)).collect();
    let moved_far: Vec<TreeFile> =
        many.iter().map(|f| if f.path == "d0/f00" { TreeFile { path: "zz/last".into(), ..f.clone() } } else { f.clone() }).collect();
    let one_dir_changed: Vec<TreeFile> =
        many.iter().map(|f| if f.path.starts_with("d3/") { file(&f.path, 900 + f.size.unwrap_or(0) as u32) } else { f.clone() }).collect();
    let copies_before: Vec<TreeFile> = (0..20).map(|i| file(&format!("a/{i:02}/same.txt"), 7)).collect();
    let copies_after: Vec<TreeFile> =
        (0..20).map(|i| file(&format!("b/{:02}/{}", 19 - i, if i % 2 == 0 { "same.txt" } else { "other.txt" }), 7)).collect();
    let cases: Vec<(&str, Vec<TreeFile>, Vec<TreeFile>)> = vec![
        ("first files", vec![], many.clone()),
        ("everything removed", many.clone(), vec![file("only", 1)]),
        ("a rename whose sides are pages apart", many.clone(), moved_far),
        ("one changed directory among unchanged ones", many.clone(), one_dir_changed),
        ("twenty copies of one blob move; same names pair first", copies_before, copies_after),
        (
            "a symlink is never a rename of a file; modes change",
            vec![file("run.sh", 3), symlink("link", 4), file("x", 5)],
            vec![TreeFile { mode: FileMode::Executable, ..file("run.sh", 3) }, file("plain", 4), symlink("x", 5)],
        ),
        (
            "directories and files that sort around each other",
            vec![file("a", 1), file("a-b/c", 2), file("a.txt", 3), file("a0", 4), file("ab/d", 5)],
            vec![file("a-b/c", 2), file("a.txt", 33), file("a/inner", 1), file("a0", 4), file("ab/d", 5), file("ab/e", 6)],
        ),
    ];
    for (name, before, after) in cases {
        check(name, &before, &after);
    }
}

/// A deterministic pseudo-random sequence (no dependency needed for a test).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u32) -> u32 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) % u64::from(n)) as u32
    }
}

#[test]
fn random_histories_agree_with_the_reference() {
    let mut rng = Lcg(42);
    for round in 0..12 {
        let mut tree: BTreeMap<String, u32> = BTreeMap::new();
        for i in 0..(30 + rng.next(60)) {
            tree.insert(format!("t{}/s{}/f{i}", rng.next(4), rng.next(3)), rng.next(25));
        }
        let before: Vec<TreeFile> = tree.iter().map(|(p, b)| file(p, *b)).collect();
        let keys: Vec<String> = tree.keys().cloned().collect();
        for k in keys {
            match rng.next(6) {
                0 => {
                    tree.remove(&k);
                }
                1 => {
                    let v = tree.remove(&k).unwrap_or(0);
                    tree.insert(format!("moved/{}/{k}", rng.next(3)), v);
                }
                2 => {
                    tree.insert(k, rng.next(25));
                }
                _ => {}
            }
        }
        for i in 0..rng.next(10) {
            tree.insert(format!("new/n{round}-{i}"), rng.next(25));
        }
        let after: Vec<TreeFile> = tree.iter().map(|(p, b)| file(p, *b)).collect();
        check(&format!("round {round}"), &before, &after);
    }
}

#[test]
fn an_unchanged_subtree_costs_one_count_not_its_files() {
    let w = World::new();
    let files: Vec<TreeFile> = (0..300).map(|i| file(&format!("big/s{}/f{i:03}", i % 10), i + 1)).chain([file("top.txt", 9)]).collect();
    w.push("main", &sha(100), files.clone());
    let mut first = w.job(None);
    w.run(&mut first);
    let mut next = files.clone();
    next[300] = file("top.txt", 10);
    w.push("main", &sha(101), next.clone());
    w.store.rows_read.set(0);
    let mut second = w.job(None);
    w.run(&mut second);
    assert_eq!(counts(&second), (0, 1, 0, 0, 300));
    assert_eq!(w.active(), expect(&next));
    assert!(w.store.rows_read.get() < 10, "the 300 files of big/ were counted, not read: {} rows read", w.store.rows_read.get());
}
