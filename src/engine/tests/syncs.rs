//! Whole syncs that follow a branch: first and incremental syncs, truncated trees,
//! failures and cancellation, retries, replays, restores and a scripted history.

use super::*;
use crate::diff::FileEntry;
use crate::engine::Phase;
use crate::github::GhError;
use std::collections::BTreeMap;

#[test]
fn first_sync_then_incremental_syncs_follow_the_branch() {
    let w = World::new();
    let v1 = vec![file("README.md", 1), file("src/lib.rs", 2), file("src/old.rs", 3), file("docs/a.md", 4)];
    w.push("main", &sha(100), v1.clone());
    let mut first = w.job(None);
    let events = w.run(&mut first);
    check_events(&events, SyncStatus::Complete);
    assert_eq!(w.active(), expect(&v1));
    assert_eq!(counts(&first), (4, 0, 0, 0, 0));
    assert_eq!(first.base_sync_id, None);
    assert_eq!(first.commit_sha, Some(sha(100)));
    assert!(first.stats.github_requests >= 2);

    // Modify one, rename one, delete one, add one.
    let v2 = vec![file("README.md", 11), file("src/lib.rs", 2), file("src/new.rs", 3), file("CHANGELOG", 5)];
    w.push("main", &sha(101), v2.clone());
    let mut second = w.job(None);
    check_events(&w.run(&mut second), SyncStatus::Complete);
    assert_eq!(w.active(), expect(&v2));
    assert_eq!(counts(&second), (1, 1, 1, 1, 1));
    assert_eq!(second.base_sync_id, Some(first.sync_id.clone()));
    // Old versions are superseded, never lost.
    assert_eq!(w.store.visible_at(1).len(), 4);
    assert_eq!(w.store.versions.borrow().len(), 7);
}

#[test]
fn unchanged_head_writes_no_file_rows() {
    let w = World::new();
    let v1 = vec![file("a", 1), file("b", 2)];
    w.push("main", &sha(100), v1);
    let mut first = w.job(None);
    w.run(&mut first);
    let rows_before = w.store.versions.borrow().len();
    let mut again = w.job(None);
    w.run(&mut again);
    assert_eq!(again.status, SyncStatus::Complete);
    assert_eq!(counts(&again), (0, 0, 0, 0, 2));
    assert_eq!(w.store.versions.borrow().len(), rows_before);
}

#[test]
fn truncated_trees_are_walked_never_used_in_part() {
    let w = World::new();
    let files: Vec<TreeFile> = (0..60).map(|i| file(&format!("d{}/s{}/f{i}", i % 3, i % 5), i + 1)).collect();
    w.push("main", &sha(100), files.clone());
    w.gh.max_recursive.set(15);
    let mut job = w.job(None);
    w.run(&mut job);
    assert_eq!(job.status, SyncStatus::Complete, "{:?}", job.error);
    assert_eq!(w.active(), expect(&files));
    assert_eq!(counts(&job), (60, 0, 0, 0, 0));
    assert!(job.stats.github_requests > 3, "walked subtrees: {}", job.stats.github_requests);
}

#[test]
fn failures_and_cancellation_leave_the_state_exactly_as_it_was() {
    // (name, step index at which to act, action)
    #[derive(Clone, Copy, Debug)]
    enum Act {
        GitHubDown,
        Cancel,
        DeleteProject,
    }
    let cases = [
        ("GitHub fails while reading the head", 1, Act::GitHubDown),
        ("GitHub fails while listing", 2, Act::GitHubDown),
        ("cancel before anything", 0, Act::Cancel),
        ("cancel after diffing", 4, Act::Cancel),
        ("cancel in the middle of persisting", 6, Act::Cancel),
        ("project deleted mid-persist", 6, Act::DeleteProject),
    ];
    for (name, at, act) in cases {
        let w = World::new();
        let v1: Vec<TreeFile> = (0..50).map(|i| file(&format!("f{i:03}"), i + 1)).collect();
        w.push("main", &sha(100), v1.clone());
        let mut first = w.job(None);
        w.run(&mut first);
        // Big enough that persisting takes several steps.
        let v2: Vec<TreeFile> = (0..2_500).map(|i| file(&format!("g{i:04}"), 10_000 + i)).collect();
        w.push("main", &sha(101), v2);
        let before = w.active();
        let versions_before = w.store.versions.borrow().len();
        let mut job = w.job(None);
        let events = w.run_with(&mut job, |i, job, w| {
            if i == at {
                match act {
                    Act::GitHubDown => w.gh.faults.borrow_mut().push_back(GhError::Unavailable("HTTP 503".into())),
                    Act::Cancel => job.cancel_requested = true,
                    Act::DeleteProject => w.store.project_deleted.set(true),
                }
            }
        });
        let want = match act {
            Act::Cancel => SyncStatus::Cancelled,
            _ => SyncStatus::Failed,
        };
        check_events(&events, want);
        w.store.project_deleted.set(false);
        assert_eq!(w.active(), before, "{name}");
        if !matches!(act, Act::DeleteProject) {
            // (A deleted project's rows go with it, by cascade, in D1.)
            assert_eq!(w.store.versions.borrow().len(), versions_before, "{name}: staged rows removed");
            assert!(w.store.versions.borrow().iter().all(|r| r.superseded_by.is_none()), "{name}");
        }
        assert_eq!(w.store.head.borrow().current_sync_id, Some(first.sync_id.clone()), "{name}");
        assert_eq!(job.error.is_some(), want == SyncStatus::Failed, "{name}");
        if matches!(act, Act::DeleteProject) {
            continue; // in D1 the project's syncs and versions went with it
        }

        // And the next sync still works from there.
        w.store.fail_calls.borrow_mut().clear();
        let mut next = w.job(None);
        w.run(&mut next);
        assert_eq!(next.status, SyncStatus::Complete, "{name}: {:?}", next.error);
        // git pairs 8 of these one-line texts, whose spans collide in its hash (R078).
        assert_eq!((next.counts.added, next.counts.removed, next.counts.renamed), (2_492, 42, 8), "{name}");
        assert_eq!(next.base_sync_id, Some(first.sync_id.clone()), "{name}");
    }
}

#[test]
fn transient_store_errors_are_retried() {
    let w = World::new();
    w.push("main", &sha(100), vec![file("a", 1)]);
    // Calls: 1 head, 2 discard, 3 record, ... fail a couple along the way, never twice in a row.
    w.store.fail_calls.borrow_mut().extend([2, 7, 12]);
    let mut job = w.job(None);
    w.run(&mut job);
    assert_eq!(job.status, SyncStatus::Complete, "{:?}", job.error);
    assert_eq!(w.active(), expect(&[file("a", 1)]));
}

#[test]
fn persistent_store_errors_fail_the_sync_cleanly() {
    let w = World::new();
    w.push("main", &sha(100), vec![file("a", 1)]);
    w.store.fail_calls.borrow_mut().extend(1..200);
    let mut job = w.job(None);
    let events = w.run(&mut job);
    check_events(&events, SyncStatus::Failed);
    assert!(job.error.as_deref().unwrap_or("").contains("database"));
}

#[test]
fn a_step_replayed_after_eviction_changes_nothing() {
    // Run each step twice from the same checkpoint, as an evicted object would after
    // doing the work but before saving the checkpoint.
    let w = World::new();
    let v1: Vec<TreeFile> = (0..30).map(|i| file(&format!("f{i}"), i + 1)).collect();
    w.push("main", &sha(100), v1);
    let mut first = w.job(None);
    w.run(&mut first);
    let v2: Vec<TreeFile> = (0..2_200).map(|i| file(&format!("f{i}"), i + 7)).collect();
    w.push("main", &sha(101), v2.clone());
    let mut job = w.job(None);
    let ports = w.ports();
    while !job.is_finished() {
        let checkpoint = job.clone();
        w.store.new_invocation();
        w.meter.reset();
        block_on(step(&mut job, &ports, 5_000));
        let mut replay = checkpoint;
        w.store.new_invocation();
        w.meter.reset();
        block_on(step(&mut replay, &ports, 5_000));
        assert_eq!(replay.phase, job.phase, "a replayed step ends where the step did");
    }
    assert_eq!(job.status, SyncStatus::Complete, "{:?}", job.error);
    assert_eq!(w.active(), expect(&v2));
    let versions = w.store.versions.borrow();
    let active_rows = versions.iter().filter(|r| r.superseded_seq.is_none()).count();
    assert_eq!(active_rows, 2_200, "no duplicates");
}

#[test]
fn restore_reproduces_an_earlier_state_without_github() {
    let w = World::new();
    let v1 = vec![file("a", 1), file("b", 2), file("c", 3)];
    w.push("main", &sha(100), v1.clone());
    let mut s1 = w.job(None);
    w.run(&mut s1);
    let v2 = vec![file("a", 9), file("d", 3), file("e", 5)];
    w.push("main", &sha(101), v2.clone());
    let mut s2 = w.job(None);
    w.run(&mut s2);
    assert_eq!(w.active(), expect(&v2));

    w.gh.take_stats_for_test();
    let mut restore = w.job(Some((s1.sync_id.clone(), 1, Some(sha(100)))));
    let events = w.run(&mut restore);
    check_events(&events, SyncStatus::Complete);
    assert_eq!(w.active(), expect(&v1));
    assert_eq!(restore.stats.github_requests, 0);
    assert_eq!(restore.base_sync_id, Some(s2.sync_id.clone()));
    assert_eq!(restore.commit_sha, Some(sha(100)));
    assert_eq!(counts(&restore), (1, 1, 1, 1, 0));
    assert_eq!(restore.phase, Phase::Finished);

    // Both earlier states are still readable.
    let at = |seq| w.store.visible_at(seq).into_iter().map(|f: FileEntry| (f.path, f.sha.to_string())).collect::<Vec<_>>();
    assert_eq!(at(1), expect(&v1));
    assert_eq!(at(2), expect(&v2));
}

#[test]
fn a_moved_chain_fails_the_sync_instead_of_forking_history() {
    let w = World::new();
    w.push("main", &sha(100), vec![file("a", 1)]);
    let mut job = w.job(None);
    let events = w.run_with(&mut job, |i, _, w| {
        if i == 2 {
            // Something else completed in between (cannot happen with the DB's one-running
            // rule, but the commit must not trust that).
            w.store.head.borrow_mut().current_seq = 7;
        }
    });
    check_events(&events, SyncStatus::Failed);
    assert!(job.error.unwrap().contains("another sync"));
}

impl FakeGitHub {
    fn take_stats_for_test(&self) {
        self.requests.set(0);
    }
}

#[test]
fn incremental_syncs_descend_only_into_changed_subtrees() {
    let w = World::new();
    // 10 top directories × 10 subdirectories × 10 files.
    let mut files: Vec<TreeFile> =
        (0..1000).map(|i| file(&format!("d{}/s{}/f{}.txt", i / 100, (i / 10) % 10, i % 10), 10_000 + i)).collect();
    w.push("main", &sha(100), files.clone());
    let mut first = w.job(None);
    w.run(&mut first);
    assert_eq!(w.gh.tree_requests.get(), 1, "a first sync lists the tree once, recursively");

    files[537] = file("d5/s3/f7.txt", 77);
    w.push("main", &sha(101), files.clone());
    w.gh.tree_requests.set(0);
    let mut second = w.job(None);
    w.run(&mut second);
    assert_eq!(second.status, SyncStatus::Complete, "{:?}", second.error);
    assert_eq!(w.active(), expect(&files));
    assert_eq!(counts(&second), (0, 1, 0, 0, 999));
    // The root, then d5 (100 files: one recursive request).
    assert_eq!(w.gh.tree_requests.get(), 2);

    // An unchanged head costs the head read and nothing else.
    w.gh.tree_requests.set(0);
    let mut third = w.job(None);
    w.run(&mut third);
    assert_eq!((w.gh.tree_requests.get(), third.stats.github_requests, third.counts.unchanged), (0, 1, 1000));
}

#[test]
fn incremental_syncs_stay_exact_through_a_history() {
    // A scripted history of adds, edits, moves and deletions, checked after every sync
    // against the tree, with truncation forcing level-by-level walks along the way.
    let w = World::new();
    let mut files: BTreeMap<String, u32> = BTreeMap::new();
    let mut blob = 1u32;
    for step in 0..12u32 {
        match step % 4 {
            0 => {
                for i in 0..40 {
                    blob += 1;
                    files.insert(format!("a{}/b{}/n{step}-{i}.rs", i % 4, i % 3), blob);
                }
            }
            1 => {
                let keys: Vec<String> = files.keys().step_by(5).cloned().collect();
                for k in keys {
                    blob += 1;
                    files.insert(k, blob);
                }
            }
            2 => {
                let keys: Vec<String> = files.keys().step_by(7).cloned().collect();
                for k in keys {
                    let v = files.remove(&k).unwrap();
                    files.insert(format!("moved/{k}"), v);
                }
            }
            _ => {
                let keys: Vec<String> = files.keys().filter(|k| k.starts_with("a1/")).cloned().collect();
                for k in keys {
                    files.remove(&k);
                }
            }
        }
        w.gh.max_recursive.set(if step % 3 == 0 { 25 } else { usize::MAX });
        let tree: Vec<TreeFile> = files.iter().map(|(p, b)| file(p, *b)).collect();
        w.push("main", &sha(500 + step), tree.clone());
        let mut job = w.job(None);
        w.run(&mut job);
        assert_eq!(job.status, SyncStatus::Complete, "step {step}: {:?}", job.error);
        assert_eq!(w.active(), expect(&tree), "step {step}");
    }
}

#[test]
fn the_provably_whole_part_of_a_truncated_listing_is_used_not_listed_again() {
    let w = World::new();
    // 3 directories of 40 files: 123 entries. A recursive listing truncated at 90 holds d0
    // and d1 whole (their recomputed tree ids match) and d2 in part.
    let files: Vec<TreeFile> = (0..120).map(|i| file(&format!("d{}/f{:03}", i / 40, i), i + 1)).collect();
    w.push("main", &sha(100), files.clone());
    w.gh.max_recursive.set(90);
    let mut job = w.job(None);
    w.run(&mut job);
    assert_eq!(job.status, SyncStatus::Complete, "{:?}", job.error);
    assert_eq!(w.active(), expect(&files));
    // The truncated listing, the root's one level, and d2: d0 and d1 are not listed again.
    assert_eq!(w.gh.tree_requests.get(), 3);
}

#[test]
fn an_unchanged_directory_a_truncated_listing_held_in_part_is_taken_from_the_held_state() {
    let w = World::new();
    // d0 holds s0..s4 of 10 files each, and s2 a subdirectory `sub` of 3 (61 entries with
    // the directories), beside z.
    let mut files: Vec<TreeFile> = (0..50).map(|i| file(&format!("d0/s{}/f{}", i / 10, i % 10), i + 1)).collect();
    files.extend((0..3).map(|i| file(&format!("d0/s2/sub/g{i}"), 60 + i)));
    files.push(file("z", 99));
    w.push("main", &sha(100), files.clone());
    let mut first = w.job(None);
    w.run(&mut first);
    assert_eq!(first.status, SyncStatus::Complete, "{:?}", first.error);
    let dirs_before = active_dirs(&w, first.new_seq());
    // One file of s4 changes; d0's recursive listing is cut inside the unchanged s2, after
    // its files, `sub` and sub/g0: none of those may be added beside the held ones.
    let changed = files.iter().position(|f| f.path == "d0/s4/f9").unwrap();
    files[changed] = file("d0/s4/f9", 1_000);
    w.push("main", &sha(101), files.clone());
    w.gh.max_recursive.set(36);
    let mut job = w.job(None);
    w.run(&mut job);
    assert_eq!(job.status, SyncStatus::Complete, "{:?}", job.error);
    assert_eq!(counts(&job), (0, 1, 0, 0, 53));
    assert_eq!(w.active(), expect(&files));
    // One version a directory; only the changed ones (d0, d0/s4 and the root) are new.
    let dirs_after = active_dirs(&w, job.new_seq());
    assert_eq!(
        dirs_after.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(),
        ["", "d0", "d0/s0", "d0/s1", "d0/s2", "d0/s2/sub", "d0/s3", "d0/s4"]
    );
    let changed: Vec<&str> = dirs_after.iter().zip(&dirs_before).filter(|(a, b)| a != b).map(|(a, _)| a.0.as_str()).collect();
    assert_eq!(changed, ["", "d0", "d0/s4"]);
}

/// The directory versions active at `seq`, sorted by path (a path twice: two versions).
fn active_dirs(w: &World, seq: u64) -> Vec<(String, String)> {
    let mut dirs: Vec<(String, String)> = w
        .store
        .dirs
        .borrow()
        .iter()
        .filter(|d| d.introduced_seq <= seq && d.superseded_seq.is_none_or(|s| s > seq))
        .map(|d| (d.path.clone(), d.entry.clone()))
        .collect();
    dirs.sort();
    dirs
}
