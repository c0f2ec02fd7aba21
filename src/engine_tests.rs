//! Engine tests: whole syncs over the in-memory fakes, including faults, cancellation,
//! truncated trees, restores and resumption from serialized checkpoints.

use crate::diff::FileEntry;
use crate::domain::{BranchName, CommitSha, FileMode, Id, RepoName, SyncKind, SyncStatus, Trigger, TreeFile};
use crate::engine::{step, Job, NewJob, Phase, Ports};
use crate::fakes::{FakeGitHub, FakeScratch, FakeStore};
use crate::github::GhError;
use crate::progress::ProgressData;
use futures::executor::block_on;
use std::collections::BTreeMap;

fn sha(n: u32) -> CommitSha {
    CommitSha::parse(&format!("{n:040x}")).unwrap()
}

fn file(path: &str, blob: u32) -> TreeFile {
    TreeFile { path: path.into(), mode: FileMode::Regular, sha: sha(blob), size: Some(u64::from(blob)) }
}

struct World {
    gh: FakeGitHub,
    store: FakeStore,
    scratch: FakeScratch,
    next_sync: u32,
}

impl World {
    fn new() -> Self {
        World { gh: FakeGitHub::new(), store: FakeStore::default(), scratch: FakeScratch::default(), next_sync: 1 }
    }

    fn job(&mut self, restore_from: Option<(Id, u64, Option<CommitSha>)>) -> Job {
        let id = Id::parse(&format!("sync-{}", self.next_sync)).unwrap();
        self.next_sync += 1;
        Job::new(NewJob {
            sync_id: id,
            project_id: Id::parse("project-1").unwrap(),
            repository: RepoName::parse("acme/widgets").unwrap(),
            branch: BranchName::parse("main").unwrap(),
            kind: if restore_from.is_some() { SyncKind::Restore } else { SyncKind::Sync },
            trigger: Trigger::Api,
            restore_from,
            started_at_ms: 1_000,
            max_text_bytes: 1_000,
        })
    }

    /// Runs to the end, round-tripping the checkpoint through JSON after every step as the
    /// Durable Object does. `before_step` may tamper with the job (cancel, faults).
    fn run_with(&self, job: &mut Job, mut before_step: impl FnMut(usize, &mut Job, &World)) -> Vec<ProgressData> {
        let ports = Ports { github: &self.gh, store: &self.store, scratch: &self.scratch };
        let mut events = Vec::new();
        for i in 0..10_000 {
            if job.is_finished() {
                return events;
            }
            before_step(i, job, self);
            events.extend(block_on(step(job, &ports, 2_000 + i as u64)));
            *job = serde_json::from_str(&serde_json::to_string(job).unwrap()).unwrap();
        }
        panic!("sync did not finish");
    }

    fn run(&self, job: &mut Job) -> Vec<ProgressData> {
        self.run_with(job, |_, _, _| {})
    }

    fn active(&self) -> Vec<(String, String)> {
        self.store.active().into_iter().map(|f| (f.path, f.sha.to_string())).collect()
    }
}

fn expect(files: &[TreeFile]) -> Vec<(String, String)> {
    let mut v: Vec<_> = files.iter().map(|f| (f.path.clone(), f.sha.to_string())).collect();
    v.sort();
    v
}

fn check_events(events: &[ProgressData], terminal: SyncStatus) {
    let mut last = 0;
    let mut last_status = SyncStatus::Queued;
    for (i, e) in events.iter().enumerate() {
        assert!(e.progress >= last, "progress went down at event {i}: {events:?}");
        assert!(e.status >= last_status || e.status.is_terminal(), "status went back at {i}");
        assert_eq!(e.status.is_terminal(), i == events.len() - 1, "exactly one terminal event, last");
        last = e.progress;
        last_status = e.status;
    }
    assert_eq!(events.last().map(|e| e.status), Some(terminal));
}

fn counts(job: &Job) -> (u64, u64, u64, u64, u64) {
    let c = job.counts;
    (c.added, c.modified, c.removed, c.renamed, c.unchanged)
}

#[test]
fn first_sync_then_incremental_syncs_follow_the_branch() {
    let mut w = World::new();
    let v1 = vec![file("README.md", 1), file("src/lib.rs", 2), file("src/old.rs", 3), file("docs/a.md", 4)];
    w.gh.push("main", &sha(100), v1.clone());
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
    w.gh.push("main", &sha(101), v2.clone());
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
    let mut w = World::new();
    let v1 = vec![file("a", 1), file("b", 2)];
    w.gh.push("main", &sha(100), v1);
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
    let mut w = World::new();
    let files: Vec<TreeFile> = (0..60).map(|i| file(&format!("d{}/s{}/f{i}", i % 3, i % 5), i + 1)).collect();
    w.gh.push("main", &sha(100), files.clone());
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
        let mut w = World::new();
        let v1: Vec<TreeFile> = (0..50).map(|i| file(&format!("f{i:03}"), i + 1)).collect();
        w.gh.push("main", &sha(100), v1.clone());
        let mut first = w.job(None);
        w.run(&mut first);
        // Big enough that persisting takes several steps.
        let v2: Vec<TreeFile> = (0..2_500).map(|i| file(&format!("g{i:04}"), 10_000 + i)).collect();
        w.gh.push("main", &sha(101), v2);
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

        // And the next sync still works from there.
        w.store.fail_calls.borrow_mut().clear();
        let mut next = w.job(None);
        w.run(&mut next);
        assert_eq!(next.status, SyncStatus::Complete, "{name}: {:?}", next.error);
        assert_eq!(next.counts.added, 2_500, "{name}");
        assert_eq!(next.counts.removed, 50, "{name}");
        assert_eq!(next.base_sync_id, Some(first.sync_id.clone()), "{name}");
    }
}

#[test]
fn transient_store_errors_are_retried() {
    let mut w = World::new();
    w.gh.push("main", &sha(100), vec![file("a", 1)]);
    // Calls: 1 head, 2 discard, 3 record, ... fail a couple along the way, never twice in a row.
    w.store.fail_calls.borrow_mut().extend([2, 7, 12]);
    let mut job = w.job(None);
    w.run(&mut job);
    assert_eq!(job.status, SyncStatus::Complete, "{:?}", job.error);
    assert_eq!(w.active(), expect(&[file("a", 1)]));
}

#[test]
fn persistent_store_errors_fail_the_sync_cleanly() {
    let mut w = World::new();
    w.gh.push("main", &sha(100), vec![file("a", 1)]);
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
    let mut w = World::new();
    let v1: Vec<TreeFile> = (0..30).map(|i| file(&format!("f{i}"), i + 1)).collect();
    w.gh.push("main", &sha(100), v1);
    let mut first = w.job(None);
    w.run(&mut first);
    let v2: Vec<TreeFile> = (0..2_200).map(|i| file(&format!("f{i}"), i + 7)).collect();
    w.gh.push("main", &sha(101), v2.clone());
    let mut job = w.job(None);
    let ports = Ports { github: &w.gh, store: &w.store, scratch: &w.scratch };
    while !job.is_finished() {
        let checkpoint = job.clone();
        block_on(step(&mut job, &ports, 5_000));
        let mut replay = checkpoint;
        block_on(step(&mut replay, &ports, 5_000));
        assert_eq!(replay.phase, job.phase);
    }
    assert_eq!(job.status, SyncStatus::Complete, "{:?}", job.error);
    assert_eq!(w.active(), expect(&v2));
    let versions = w.store.versions.borrow();
    let active_rows = versions.iter().filter(|r| r.superseded_seq.is_none()).count();
    assert_eq!(active_rows, 2_200, "no duplicates");
}

#[test]
fn restore_reproduces_an_earlier_state_without_github() {
    let mut w = World::new();
    let v1 = vec![file("a", 1), file("b", 2), file("c", 3)];
    w.gh.push("main", &sha(100), v1.clone());
    let mut s1 = w.job(None);
    w.run(&mut s1);
    let v2 = vec![file("a", 9), file("d", 3), file("e", 5)];
    w.gh.push("main", &sha(101), v2.clone());
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
    let mut w = World::new();
    w.gh.push("main", &sha(100), vec![file("a", 1)]);
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
fn contents_are_read_once_by_the_cheaper_path() {
    let mut w = World::new();
    // Few changed files: one blob request each (distinct blobs only).
    let small = vec![file("a.txt", 1), file("b.txt", 2), file("copy-of-a.txt", 1), file("big.bin", 5_000)];
    w.gh.push("main", &sha(100), small);
    let mut first = w.job(None);
    w.run(&mut first);
    assert_eq!(first.status, SyncStatus::Complete, "{:?}", first.error);
    assert_eq!(w.gh.blob_requests.get(), 2, "two distinct small blobs; the 5,000-byte file is over the limit");
    assert_eq!(w.gh.tarball_requests.get(), 0);
    assert_eq!(w.store.blobs.borrow().len(), 2);

    // Many new files: one tarball instead of 80 requests.
    let many: Vec<TreeFile> = (0..80).map(|i| file(&format!("dir/f{i:02}.txt"), 200 + i)).collect();
    w.gh.push("main", &sha(101), many.clone());
    let mut second = w.job(None);
    w.run(&mut second);
    assert_eq!(second.status, SyncStatus::Complete, "{:?}", second.error);
    assert_eq!((w.gh.blob_requests.get(), w.gh.tarball_requests.get()), (2, 1));
    for f in &many {
        let stored = w.store.blobs.borrow();
        let b = stored.get(&("acme/widgets".to_string(), f.sha.to_string())).expect("content stored");
        let text: String = b.chunks.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(text.as_bytes(), w.gh.content(f.sha.as_str()).as_slice());
    }

    // One changed file: one blob request; a file whose blob we already hold: none.
    let mut next = many.clone();
    next[0] = file("dir/f00.txt", 999);
    next[1] = file("dir/f01.txt", 1);
    w.gh.push("main", &sha(102), next);
    let mut third = w.job(None);
    w.run(&mut third);
    assert_eq!((w.gh.blob_requests.get(), w.gh.tarball_requests.get()), (3, 1));
    assert_eq!(third.counts.modified, 2);
}

#[test]
fn lfs_pointers_binaries_and_restores() {
    let mut w = World::new();
    let pointer = b"version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n";
    w.gh.contents.borrow_mut().insert(sha(7).to_string(), pointer.to_vec());
    w.gh.contents.borrow_mut().insert(sha(8).to_string(), b"\x89PNG\x00\x00".to_vec());
    w.gh.push("main", &sha(100), vec![file("model.bin", 7), file("logo.png", 8), file("a.txt", 9)]);
    let mut first = w.job(None);
    w.run(&mut first);
    let kinds: Vec<(String, crate::domain::FileKind)> = w.store.active().into_iter().map(|f| (f.path, f.kind)).collect();
    assert!(kinds.contains(&("model.bin".into(), crate::domain::FileKind::LfsPointer)));
    assert!(kinds.contains(&("logo.png".into(), crate::domain::FileKind::File)));
    let status = |n: u32| w.store.blobs.borrow().get(&("acme/widgets".to_string(), sha(n).to_string())).map(|b| b.status);
    assert_eq!(status(7), Some(crate::content::ContentStatus::LfsPointer));
    assert_eq!(status(8), Some(crate::content::ContentStatus::Binary));
    assert_eq!(status(9), Some(crate::content::ContentStatus::Text));

    w.gh.push("main", &sha(101), vec![file("a.txt", 10)]);
    let mut second = w.job(None);
    w.run(&mut second);
    let before = w.gh.blob_requests.get();
    let mut restore = w.job(Some((first.sync_id.clone(), 1, Some(sha(100)))));
    w.run(&mut restore);
    assert_eq!(restore.status, SyncStatus::Complete, "{:?}", restore.error);
    assert_eq!(w.gh.blob_requests.get(), before, "a restore reads nothing from GitHub");
    assert!(w.store.active().iter().any(|f| f.path == "model.bin" && f.kind == crate::domain::FileKind::LfsPointer));
}

#[test]
fn incremental_syncs_descend_only_into_changed_subtrees() {
    let mut w = World::new();
    // 10 top directories × 10 subdirectories × 10 files.
    let mut files: Vec<TreeFile> =
        (0..1000).map(|i| file(&format!("d{}/s{}/f{}.txt", i / 100, (i / 10) % 10, i % 10), 10_000 + i)).collect();
    w.gh.push("main", &sha(100), files.clone());
    let mut first = w.job(None);
    w.run(&mut first);
    assert_eq!(w.gh.tree_requests.get(), 1, "a first sync lists the tree once, recursively");

    files[537] = file("d5/s3/f7.txt", 77);
    w.gh.push("main", &sha(101), files.clone());
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
    let mut w = World::new();
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
        w.gh.push("main", &sha(500 + step), tree.clone());
        let mut job = w.job(None);
        w.run(&mut job);
        assert_eq!(job.status, SyncStatus::Complete, "step {step}: {:?}", job.error);
        assert_eq!(w.active(), expect(&tree), "step {step}");
    }
}
