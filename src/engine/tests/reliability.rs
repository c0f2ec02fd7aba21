//! Trust under failure: each test is one defect of the reliability issue (#8) — a sequence
//! that used to wedge a project, let a failed sync complete, corrupt the state, or retry
//! for ever — run over fakes that behave like D1 and the object here.

use super::*;
use crate::engine::fakes::FakeScratch;
use crate::engine::{Phase, MAX_STEP_ATTEMPTS};
use crate::github::GhError;

fn v1(w: &World) -> (Job, Vec<TreeFile>) {
    let files: Vec<TreeFile> = (0..200).map(|i| file(&format!("d{}/f{i:03}", i % 10), i + 1)).collect();
    w.push("main", &sha(100), files.clone());
    let mut first = w.job(None);
    w.run(&mut first);
    assert_eq!(first.status, SyncStatus::Complete, "{:?}", first.error);
    (first, files)
}

/// Big enough that persisting takes several steps.
fn v2(w: &World) -> Vec<TreeFile> {
    let files: Vec<TreeFile> = (0..2_500).map(|i| file(&format!("d{}/g{i:04}", i % 10), 10_000 + i)).collect();
    w.push("main", &sha(101), files.clone());
    files
}

/// Steps `job` (as its own object, over `scratch`) until `stop` holds or it finishes.
fn step_until(w: &World, job: &mut Job, scratch: &FakeScratch, stop: impl Fn(&Job) -> bool) -> Vec<ProgressData> {
    let ports = Ports { github: &w.gh, store: &w.store, scratch, meter: &w.meter };
    let mut events = Vec::new();
    while !job.is_finished() && !stop(job) {
        w.store.new_invocation();
        w.meter.reset();
        events.extend(block_on(step(job, &ports, 5_000)));
    }
    events
}

fn no_row_running(w: &World) -> bool {
    w.store.syncs.borrow().values().all(|r| r.status.is_terminal())
}

/// Defect 1: a failed final record used to be ignored and the object stopped, leaving the
/// row running for ever (every later start answered 409).
#[test]
fn a_failed_final_record_is_tried_again_until_it_lands() {
    for cancel in [false, true] {
        let w = World::new();
        let (first, _) = v1(&w);
        v2(&w);
        let mut job = w.job(None);
        if cancel {
            job.cancel_requested = true;
        } else {
            w.gh.faults.borrow_mut().push_back(GhError::Unavailable("HTTP 503".into()));
        }
        w.store.fail_final_records.set(3);
        let (events, slices) = w.run_slices(&mut job);
        let want = if cancel { SyncStatus::Cancelled } else { SyncStatus::Failed };
        check_events(&events, want);
        assert_eq!(w.store.status_of(&job.sync_id), Some(want), "the row says how it ended");
        assert_eq!(job.end_attempts, 3);
        assert!(slices >= 4, "each failed try waits for a later invocation ({slices} slices)");
        assert!(no_row_running(&w), "the project accepts a new sync");
        assert_eq!(w.store.head.borrow().current_sync_id, Some(first.sync_id.clone()));
    }
}

/// The service's own stop (a GitHub App installation suspended while its sync runs): the
/// sync ends FAILED with the reason it was given, and the state stays what it was.
#[test]
fn a_stop_that_fails_a_running_sync_ends_it_failed_with_the_reason() {
    let w = World::new();
    let (first, _) = v1(&w);
    v2(&w);
    let mut job = w.job(None);
    let checkpoint = super::super::fakes::FakeCheckpoint::default();
    *checkpoint.fail.borrow_mut() = Some("the GitHub App installation 7 was suspended on GitHub".into());
    let before = w.active();
    let (events, _) = w.run_slices_on(&mut job, &checkpoint);
    check_events(&events, SyncStatus::Failed);
    assert_eq!(w.store.status_of(&job.sync_id), Some(SyncStatus::Failed));
    assert_eq!(job.error.as_deref(), Some("the GitHub App installation 7 was suspended on GitHub"));
    assert_eq!(w.active(), before, "nothing it staged is visible");
    assert_eq!(w.store.head.borrow().current_sync_id, Some(first.sync_id.clone()));
    assert!(no_row_running(&w));
}

/// Defect 2: a sync that the reaper ended FAILED kept writing, and its replayed commit
/// turned it COMPLETE.
#[test]
fn a_sync_ended_elsewhere_lands_nothing_more() {
    for reap_in in ["persist", "commit"] {
        let w = World::new();
        let (first, v1_files) = v1(&w);
        v2(&w);
        let mut job = w.job(None);
        let at = |job: &Job| match reap_in {
            "persist" => matches!(job.phase, Phase::Persist { done, .. } if done >= 1_000),
            _ => job.phase == Phase::Commit,
        };
        let mut events = step_until(&w, &mut job, &w.scratch, at);
        assert!(w.store.fail_sync(&job.sync_id, "made no progress for 10 minutes"), "{reap_in}");
        events.extend(step_until(&w, &mut job, &w.scratch, |_| false));
        check_events(&events, SyncStatus::Failed);
        assert_eq!(w.store.status_of(&job.sync_id), Some(SyncStatus::Failed), "{reap_in}: never COMPLETE");
        assert_eq!(job.error.as_deref(), Some("made no progress for 10 minutes"));
        assert_eq!(w.store.head.borrow().current_sync_id, Some(first.sync_id.clone()), "{reap_in}");
        assert_eq!(w.active(), expect(&v1_files), "{reap_in}: the visible state is as it was");
        assert_eq!(w.store.leftovers(), 0, "{reap_in}: what it staged is gone");
    }
}

/// Defect 2: clean-up deleted the rows of every sync that was not COMPLETE, a running one
/// included, after which the running sync committed directory shas over missing files and
/// incremental descent skipped those directories for good.
#[test]
fn ending_a_sync_never_touches_a_running_syncs_rows() {
    let w = World::new();
    v1(&w);
    let v2_files = v2(&w);
    let (scratch_a, scratch_b) = (FakeScratch::default(), FakeScratch::default());
    let mut a = w.job(None);
    let mid_persist = |job: &Job| matches!(job.phase, Phase::Persist { done, .. } if done >= 1_000);
    step_until(&w, &mut a, &scratch_a, mid_persist);
    // A's object goes quiet; the reaper ends its row; B starts and stages half its work.
    w.store.fail_sync(&a.sync_id, "made no progress for 10 minutes");
    let mut b = w.job(None);
    step_until(&w, &mut b, &scratch_b, mid_persist);
    // A wakes up: it may write nothing, and its ending may remove nothing of B's.
    step_until(&w, &mut a, &scratch_a, |_| false);
    assert_eq!(a.status, SyncStatus::Failed);
    let events = step_until(&w, &mut b, &scratch_b, |_| false);
    check_events(&events[events.len() - 1..], SyncStatus::Complete);
    assert_eq!(w.active(), expect(&v2_files));
    // The directory shas B committed are those of the tree, so a later incremental sync
    // that changes one file in every directory still ends with exactly the tree.
    let mut v3 = v2_files.clone();
    for (i, f) in v3.iter_mut().take(10).enumerate() {
        *f = file(&f.path.clone(), 90_000 + i as u32);
    }
    w.push("main", &sha(102), v3.clone());
    let mut c = w.job(None);
    w.run(&mut c);
    assert_eq!(c.status, SyncStatus::Complete, "{:?}", c.error);
    assert_eq!(w.active(), expect(&v3));
    assert_eq!(counts(&c), (0, 10, 0, 0, 2_490));
}

/// Defect 4: ListTree made one query per changed subdirectory, so a commit touching a
/// thousand sibling directories exhausted D1's 1,000 queries per invocation on every try.
#[test]
fn a_commit_touching_a_thousand_directories_stays_within_d1s_limits() {
    let w = World::new();
    let v1: Vec<TreeFile> = (0..1_200).map(|i| file(&format!("d{i:04}/f.txt"), i + 1)).collect();
    w.push("main", &sha(100), v1);
    let mut first = w.job(None);
    w.run_slices(&mut first);
    assert_eq!(first.status, SyncStatus::Complete, "{:?}", first.error);
    let v2: Vec<TreeFile> = (0..1_200).map(|i| file(&format!("d{i:04}/f.txt"), 5_000 + i)).collect();
    w.push("main", &sha(101), v2.clone());
    let mut second = w.job(None);
    // The fake store refuses the 1,001st query of an invocation, as D1 does.
    let (events, _) = w.run_slices(&mut second);
    check_events(&events, SyncStatus::Complete);
    assert_eq!(w.active(), expect(&v2));
    assert_eq!(counts(&second), (0, 1_200, 0, 0, 0));
}

/// Defect 4: the attempt counter lived only in memory, so a step the runtime kept killing
/// (out of memory or CPU) restarted for ever.
#[test]
fn a_step_that_keeps_dying_fails_the_sync_with_the_reason() {
    let w = World::new();
    let (first, v1_files) = v1(&w);
    v2(&w);
    w.gh.hang_route.set(Some("tree"));
    let mut job = w.job(None);
    let (events, slices) = w.run_slices(&mut job);
    check_events(&events, SyncStatus::Failed);
    let error = job.error.clone().unwrap_or_default();
    assert!(error.contains("listing the tree") && error.contains(&format!("{MAX_STEP_ATTEMPTS} times")), "{error}");
    assert_eq!(slices, MAX_STEP_ATTEMPTS as usize + 1);
    assert_eq!(w.store.status_of(&job.sync_id), Some(SyncStatus::Failed));
    assert_eq!(w.store.head.borrow().current_sync_id, Some(first.sync_id));
    assert_eq!(w.active(), expect(&v1_files));
}

/// Defect 10: a truncated one-level listing was used as complete, deleting what it lacked.
#[test]
fn a_truncated_one_level_listing_fails_instead_of_deleting_files() {
    let w = World::new();
    let (first, v1_files) = v1(&w);
    v2(&w);
    w.gh.max_flat.set(5);
    let mut job = w.job(None);
    let events = w.run(&mut job);
    check_events(&events, SyncStatus::Failed);
    assert!(job.error.as_deref().unwrap_or("").contains("truncated"), "{:?}", job.error);
    assert_eq!(w.store.head.borrow().current_sync_id, Some(first.sync_id));
    assert_eq!(w.active(), expect(&v1_files));
}

/// What a sync whose object was lost had staged is removed by the next sync, a bounded
/// batch per call, before it builds on the state.
#[test]
fn leftovers_of_a_lost_sync_are_removed_in_bounded_batches() {
    let w = World::new();
    v1(&w);
    let v2_files = v2(&w);
    let lost_scratch = FakeScratch::default();
    let mut lost = w.job(None);
    step_until(&w, &mut lost, &lost_scratch, |job| matches!(job.phase, Phase::Persist { done, .. } if done >= 2_000));
    w.store.fail_sync(&lost.sync_id, "its object was lost");
    assert!(w.store.leftovers() >= 1_500, "{}", w.store.leftovers());
    w.store.discard_batch.set(300);
    let mut next = w.job(None);
    let (events, _) = w.run_slices(&mut next);
    check_events(&events, SyncStatus::Complete);
    assert_eq!(w.store.leftovers(), 0);
    assert_eq!(w.active(), expect(&v2_files));
    // One-line texts whose spans collide in git's hash: `git diff -M` pairs 8 of them
    // (R078), and so do we.
    assert_eq!((next.counts.added, next.counts.renamed), (2_492, 8));
}

/// The sync's row is written on every status change and otherwise at most every
/// `RECORD_EVERY_MS` (the reaper's heartbeat).
#[test]
fn the_row_is_written_on_every_status_change_and_otherwise_as_a_heartbeat() {
    use SyncStatus::*;
    let w = World::new();
    let every = crate::engine::RECORD_EVERY_MS;
    let cases = [
        (Fetching, None, 0, true, "never written"),
        (Fetching, Some((Queued, 10_000)), 10_001, true, "a new status"),
        (Diffing, Some((Fetching, 10_000)), 10_000, true, "a new status at the same instant"),
        (Fetching, Some((Fetching, 10_000)), 10_000 + every - 1, false, "the same status, written just now"),
        (Fetching, Some((Fetching, 10_000)), 10_000 + every, true, "the same status, the heartbeat due"),
        (Fetching, Some((Fetching, 10_000)), 9_000, false, "a clock that went back"),
    ];
    for (status, recorded, now, due, why) in cases {
        let mut job = w.job(None);
        job.status = status;
        job.recorded = recorded;
        assert_eq!(job.record_due(now), due, "{why}");
    }
}
