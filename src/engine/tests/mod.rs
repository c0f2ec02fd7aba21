//! Engine tests: whole syncs over the in-memory fakes. `World` drives a sync the way the
//! Durable Object does: one invocation at a time (a fresh D1 query budget and meter each),
//! the job reloaded from its JSON checkpoint in between.

mod contents;
mod filters;
mod reliability;
mod similar;
mod streaming;
mod syncs;
mod tarlisting;

use super::fakes::{FakeCheckpoint, FakeGitHub, FakeScratch, FakeStore};
use super::slice::{run_slice, Next};
use super::{step, Job, Meter, NewJob, Ports};
use crate::domain::{BranchName, CommitSha, FileMode, ProjectId, RepoName, SyncId, SyncKind, SyncStatus, TreeFile, Trigger};
use crate::progress::ProgressData;
use futures::executor::block_on;
use futures::FutureExt;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

thread_local! {
    /// Contents of the blobs `file` and `sized` made, for the fake GitHub to serve.
    static BLOBS: RefCell<HashMap<String, Vec<u8>>> = RefCell::new(HashMap::new());
}

pub fn sha(n: u32) -> CommitSha {
    CommitSha::parse(&format!("{n:040x}")).unwrap()
}

/// A file whose content is `content <n>`: the same `n` is the same blob, with its real id.
pub fn file(path: &str, n: u32) -> TreeFile {
    with_content(path, format!("content {n}\n").into_bytes())
}

/// A file of `size` bytes (distinct per `n`).
pub fn sized(path: &str, n: u32, size: usize) -> TreeFile {
    let mut bytes = format!("content {n}\n").into_bytes();
    bytes.resize(size, b'x');
    with_content(path, bytes)
}

pub fn with_content(path: &str, bytes: Vec<u8>) -> TreeFile {
    let sha = CommitSha::parse(&crate::gitobj::blob_id(&bytes)).unwrap();
    let size = bytes.len() as u64;
    BLOBS.with(|b| b.borrow_mut().insert(sha.to_string(), bytes));
    TreeFile { path: path.into(), mode: FileMode::Regular, sha, size: Some(size) }
}

pub struct World {
    pub gh: FakeGitHub,
    pub store: FakeStore,
    pub scratch: FakeScratch,
    pub meter: Rc<Meter>,
    next_sync: Cell<u32>,
    /// The filter and dry-run flag the next `job` is started with.
    pub filter: RefCell<crate::pathfilter::PathFilter>,
    pub dry_run: Cell<bool>,
}

impl World {
    pub fn new() -> Self {
        let meter = Rc::new(Meter::default());
        let w = World {
            gh: FakeGitHub::new(),
            store: FakeStore::default(),
            scratch: FakeScratch::default(),
            meter,
            next_sync: Cell::new(1),
            filter: RefCell::default(),
            dry_run: Cell::new(false),
        };
        *w.gh.meter.borrow_mut() = Some(Rc::clone(&w.meter));
        *w.store.meter.borrow_mut() = Some(Rc::clone(&w.meter));
        BLOBS.with(|b| w.gh.contents.borrow_mut().extend(b.borrow().iter().map(|(k, v)| (k.clone(), v.clone()))));
        w
    }

    /// Makes the blobs of `file`/`sized` known to GitHub (call after building trees).
    pub fn push(&self, branch: &str, commit: &CommitSha, files: Vec<TreeFile>) {
        BLOBS.with(|b| self.gh.contents.borrow_mut().extend(b.borrow().iter().map(|(k, v)| (k.clone(), v.clone()))));
        self.gh.push(branch, commit, files);
    }

    pub fn ports(&self) -> Ports<'_, FakeGitHub, FakeStore, FakeScratch> {
        Ports { github: &self.gh, store: &self.store, scratch: &self.scratch, meter: &self.meter }
    }

    /// A new sync, with its QUEUED row inserted as the worker does before starting it.
    pub fn job(&self, restore_from: Option<(SyncId, u64, Option<CommitSha>)>) -> Job {
        let n = self.next_sync.get();
        self.next_sync.set(n + 1);
        let id = SyncId::parse(&format!("sync-{n}")).unwrap();
        self.store.insert_sync(&id);
        Job::new(NewJob {
            sync_id: id,
            project_id: ProjectId::parse("project-1").unwrap(),
            repository: RepoName::parse("acme/widgets").unwrap(),
            branch: BranchName::parse("main").unwrap(),
            kind: if restore_from.is_some() { SyncKind::Restore } else { SyncKind::Sync },
            trigger: Trigger::Api,
            restore_from,
            started_at_ms: 1_000,
            max_text_bytes: 1_000,
            filter: self.filter.borrow().clone(),
            dry_run: self.dry_run.get(),
        })
    }

    fn new_invocation(&self) {
        self.store.new_invocation();
        self.meter.reset();
    }

    /// Runs step by step (each its own invocation), round-tripping the checkpoint through
    /// JSON after every step. `before_step` may tamper with the job or the world.
    pub fn run_with(&self, job: &mut Job, mut before_step: impl FnMut(usize, &mut Job, &World)) -> Vec<ProgressData> {
        let ports = self.ports();
        let mut events = Vec::new();
        for i in 0..10_000 {
            if job.is_finished() {
                return events;
            }
            self.new_invocation();
            before_step(i, job, self);
            events.extend(block_on(step(job, &ports, 2_000 + i as u64)));
            *job = serde_json::from_str(&serde_json::to_string(job).unwrap()).unwrap();
        }
        panic!("sync did not finish: {job:?}");
    }

    pub fn run(&self, job: &mut Job) -> Vec<ProgressData> {
        self.run_with(job, |_, _, _| {})
    }

    /// Runs the way the object does: slices (invocations) until the job is finished. A
    /// slice that never returns (the fake hangs) is dropped, as a killed invocation is.
    /// Returns the event log and the number of slices.
    pub fn run_slices(&self, job: &mut Job) -> (Vec<ProgressData>, usize) {
        self.run_slices_on(job, &FakeCheckpoint::default())
    }

    /// As `run_slices`, on a checkpoint the test prepared (a stop already asked for, say).
    pub fn run_slices_on(&self, job: &mut Job, checkpoint: &FakeCheckpoint) -> (Vec<ProgressData>, usize) {
        let clock = Cell::new(10_000u64);
        let now = || {
            clock.set(clock.get() + 1);
            clock.get()
        };
        let ports = self.ports();
        for slice in 1..=10_000 {
            self.new_invocation();
            let outcome = run_slice(job, &ports, checkpoint, &now).now_or_never();
            *job = checkpoint.load();
            if let Some(result) = outcome {
                if result.expect("the checkpoint saves") == Next::Done {
                    return (checkpoint.events.take(), slice);
                }
            }
        }
        panic!("sync did not finish: {job:?}");
    }

    pub fn active(&self) -> Vec<(String, String)> {
        self.store.active().into_iter().map(|f| (f.path, f.sha.to_string())).collect()
    }
}

pub fn expect(files: &[TreeFile]) -> Vec<(String, String)> {
    let mut v: Vec<_> = files.iter().map(|f| (f.path.clone(), f.sha.to_string())).collect();
    v.sort();
    v
}

pub fn check_events(events: &[ProgressData], terminal: SyncStatus) {
    let mut last = 0;
    let mut last_status = SyncStatus::Queued;
    for (i, e) in events.iter().enumerate() {
        assert!(e.progress >= last, "progress went down at event {i}: {events:?}");
        assert!(e.status >= last_status || e.status.is_terminal(), "status went back at {i}");
        assert_eq!(e.status.is_terminal(), i == events.len() - 1, "exactly one terminal event, last: {events:?}");
        last = e.progress;
        last_status = e.status;
    }
    assert_eq!(events.last().map(|e| e.status), Some(terminal));
}

pub fn counts(job: &Job) -> (u64, u64, u64, u64, u64) {
    let c = job.counts;
    (c.added, c.modified, c.removed, c.renamed, c.unchanged)
}
