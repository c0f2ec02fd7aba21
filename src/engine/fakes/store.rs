//! D1 in memory, with its visibility rules, status guards, discard semantics and its limit
//! of queries per invocation.

use crate::content::BlobContent;
use crate::diff::{Change, DirChange, FileEntry};
use crate::domain::{FileKind, ProjectId, SyncId, SyncStatus};
use crate::engine::{Job, Meter, ProjectHead, Recorded, Store, StoreError};
use crate::merge::Span;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

/// D1's limit of queries per invocation.
pub const D1_QUERIES_PER_INVOCATION: u32 = 1_000;

/// A file or directory version, with D1's visibility columns.
#[derive(Debug, Clone)]
pub struct VersionRow<T> {
    pub entry: T,
    pub path: String,
    pub introduced_sync: SyncId,
    pub introduced_seq: u64,
    pub superseded_seq: Option<u64>,
    pub superseded_by: Option<SyncId>,
}

impl<T> VersionRow<T> {
    fn visible_at(&self, seq: u64) -> bool {
        self.introduced_seq <= seq && self.superseded_seq.is_none_or(|s| s > seq)
    }
}

#[derive(Debug, Clone)]
pub struct SyncRow {
    pub status: SyncStatus,
    pub previous: Option<SyncId>,
    pub error: Option<String>,
    /// What it staged was discarded (only for syncs that ended without completing).
    pub discarded: bool,
}

/// D1 in memory: one project, its chain, its syncs and their versions.
pub struct FakeStore {
    pub head: RefCell<ProjectHead>,
    pub versions: RefCell<Vec<VersionRow<FileEntry>>>,
    pub dirs: RefCell<Vec<VersionRow<String>>>,
    pub syncs: RefCell<BTreeMap<String, SyncRow>>,
    pub rows_written: Cell<u64>,
    /// Store calls that fail before doing anything, by call number (1-based).
    pub fail_calls: RefCell<Vec<u64>>,
    pub calls: Cell<u64>,
    /// The next this-many records of a terminal status fail (the final record).
    pub fail_final_records: Cell<u32>,
    pub project_deleted: Cell<bool>,
    /// Analysed blobs by (scope, sha).
    pub blobs: RefCell<BTreeMap<(String, String), BlobContent>>,
    /// Blobs handed to `put_blobs`, repeats included.
    pub blob_puts: Cell<u64>,
    /// The most blob bytes handed to one `put_blobs` (what one step held at once).
    pub largest_put_bytes: Cell<u64>,
    /// File rows read by `files_in` (what a diff pages through).
    pub rows_read: Cell<u64>,
    /// Every change staged, by sync, in the order staged (a replay stages again).
    pub applied: RefCell<BTreeMap<String, BTreeMap<String, Change>>>,
    /// A dry run's changes, by sync then path (its own table in D1).
    pub previews: RefCell<BTreeMap<String, BTreeMap<String, Change>>>,
    /// Queries made in the current invocation, against D1's limit.
    pub queries: Cell<u32>,
    pub max_queries: Cell<u32>,
    /// Rows `discard_ended` removes per call (D1 statements are kept bounded).
    pub discard_batch: Cell<usize>,
    pub meter: RefCell<Option<Rc<Meter>>>,
}

impl Default for FakeStore {
    fn default() -> Self {
        FakeStore {
            head: RefCell::default(),
            versions: RefCell::default(),
            dirs: RefCell::default(),
            syncs: RefCell::default(),
            rows_written: Cell::new(0),
            fail_calls: RefCell::default(),
            calls: Cell::new(0),
            fail_final_records: Cell::new(0),
            project_deleted: Cell::new(false),
            blobs: RefCell::default(),
            blob_puts: Cell::new(0),
            largest_put_bytes: Cell::new(0),
            rows_read: Cell::new(0),
            applied: RefCell::default(),
            previews: RefCell::default(),
            queries: Cell::new(0),
            max_queries: Cell::new(D1_QUERIES_PER_INVOCATION),
            discard_batch: Cell::new(10_000),
            meter: RefCell::default(),
        }
    }
}

fn running(status: SyncStatus) -> bool {
    !status.is_terminal()
}

impl FakeStore {
    /// One call making `queries` D1 queries.
    fn call(&self, queries: u32) -> Result<(), StoreError> {
        let n = self.calls.get() + 1;
        self.calls.set(n);
        let used = self.queries.get() + queries;
        self.queries.set(used);
        if let Some(meter) = self.meter.borrow().as_ref() {
            meter.query(queries);
        }
        if used > self.max_queries.get() {
            return Err(StoreError::Other("Too many API requests by single worker invocation".into()));
        }
        if self.fail_calls.borrow().contains(&n) {
            return Err(StoreError::Other(format!("injected failure on call {n}")));
        }
        if self.project_deleted.get() {
            return Err(StoreError::ProjectGone);
        }
        Ok(())
    }

    /// A new invocation starts with D1's full query budget.
    pub fn new_invocation(&self) {
        self.queries.set(0);
    }

    fn write(&self, n: u64) {
        self.rows_written.set(self.rows_written.get() + n);
    }

    /// The worker inserts a QUEUED row before it starts a sync's object.
    pub fn insert_sync(&self, id: &SyncId) {
        self.syncs
            .borrow_mut()
            .insert(id.to_string(), SyncRow { status: SyncStatus::Queued, previous: None, error: None, discarded: false });
    }

    /// What the reaper does: ends a running row as FAILED (an ended one is left alone).
    pub fn fail_sync(&self, id: &SyncId, why: &str) -> bool {
        let mut syncs = self.syncs.borrow_mut();
        match syncs.get_mut(id.as_str()) {
            Some(row) if running(row.status) => {
                row.status = SyncStatus::Failed;
                row.error = Some(why.into());
                true
            }
            _ => false,
        }
    }

    pub fn status_of(&self, id: &SyncId) -> Option<SyncStatus> {
        self.syncs.borrow().get(id.as_str()).map(|r| r.status)
    }

    fn is_running(&self, id: &SyncId) -> bool {
        self.status_of(id).is_some_and(running)
    }

    pub fn active(&self) -> Vec<FileEntry> {
        let seq = self.head.borrow().current_seq;
        self.visible_at(seq)
    }

    pub fn visible_at(&self, seq: u64) -> Vec<FileEntry> {
        let mut v: Vec<FileEntry> = self.versions.borrow().iter().filter(|r| r.visible_at(seq)).map(|r| r.entry.clone()).collect();
        v.sort_by(|a, b| a.path.cmp(&b.path));
        v
    }

    /// Rows introduced by a sync that was never committed and is not running any more.
    pub fn leftovers(&self) -> usize {
        let syncs = self.syncs.borrow();
        let dead = |id: &SyncId| syncs.get(id.as_str()).is_some_and(|r| matches!(r.status, SyncStatus::Failed | SyncStatus::Cancelled));
        self.versions.borrow().iter().filter(|r| dead(&r.introduced_sync)).count()
            + self.dirs.borrow().iter().filter(|r| dead(&r.introduced_sync)).count()
    }

    /// Supersedes heads of `paths` and inserts `new` rows, as one fenced D1 batch does.
    fn stage<T: Clone>(rows: &mut Vec<VersionRow<T>>, job: &Job, superseded: &[&str], new: Vec<(String, T)>) -> u64 {
        let (sync, seq) = (&job.sync_id, job.new_seq());
        let mut written = 0;
        for r in rows.iter_mut() {
            if superseded.contains(&r.path.as_str()) && r.superseded_seq.is_none() && r.introduced_seq < seq {
                r.superseded_seq = Some(seq);
                r.superseded_by = Some(sync.clone());
                written += 1;
            }
        }
        for (path, entry) in new {
            if rows.iter().any(|r| r.path == path && r.introduced_seq == seq) {
                continue; // ON CONFLICT (project_no, path, introduced_seq) DO NOTHING
            }
            assert!(!rows.iter().any(|r| r.path == path && r.superseded_seq.is_none()), "two active versions of {path}");
            rows.push(VersionRow {
                entry,
                path,
                introduced_sync: sync.clone(),
                introduced_seq: seq,
                superseded_seq: None,
                superseded_by: None,
            });
            written += 1;
        }
        written
    }

    /// Deletes up to `budget` rows introduced at chain position `at` (what ended syncs
    /// staged); once none is left, clears the marks made at `at`. Returns rows touched and
    /// whether the table is clean of them.
    fn discard<T>(rows: &mut Vec<VersionRow<T>>, at: u64, budget: usize) -> (usize, bool) {
        let mut removed = 0;
        rows.retain(|r| {
            let drop = removed < budget && r.introduced_seq == at;
            removed += usize::from(drop);
            !drop
        });
        if rows.iter().any(|r| r.introduced_seq == at) {
            return (removed, false);
        }
        for r in rows.iter_mut() {
            if r.superseded_seq == Some(at) {
                r.superseded_seq = None;
                r.superseded_by = None;
                removed += 1;
            }
        }
        (removed, true)
    }

    /// Whether a sync of the project other than `caller` is queued or running.
    fn another_running(&self, caller: &SyncId) -> bool {
        self.syncs.borrow().iter().any(|(id, r)| running(r.status) && id.as_str() != caller.as_str())
    }
}

impl Store for FakeStore {
    async fn project_head(&self, _project: &ProjectId) -> Result<ProjectHead, StoreError> {
        self.call(1)?;
        Ok(self.head.borrow().clone())
    }

    async fn discard_ended(&self, _project: &ProjectId, caller: &SyncId) -> Result<bool, StoreError> {
        self.call(3)?;
        let dead: Vec<SyncId> = self
            .syncs
            .borrow()
            .iter()
            .filter(|(_, r)| matches!(r.status, SyncStatus::Failed | SyncStatus::Cancelled) && !r.discarded)
            .filter_map(|(id, _)| SyncId::parse(id).ok())
            .collect();
        if dead.is_empty() || self.another_running(caller) {
            // Nothing ended, or the sync running now discards before it stages.
            return Ok(true);
        }
        let (budget, at) = (self.discard_batch.get(), self.head.borrow().current_seq + 1);
        let (files, files_done) = Self::discard(&mut self.versions.borrow_mut(), at, budget);
        if !files_done {
            self.write(files as u64);
            return Ok(false);
        }
        let (dirs, dirs_done) = Self::discard(&mut self.dirs.borrow_mut(), at, budget.saturating_sub(files));
        self.write((files + dirs) as u64);
        if !dirs_done {
            return Ok(false);
        }
        for id in &dead {
            if let Some(r) = self.syncs.borrow_mut().get_mut(id.as_str()) {
                r.discarded = true;
            }
        }
        Ok(true)
    }

    async fn files_in(&self, _project: &ProjectId, seq: u64, span: &Span, limit: u32) -> Result<Vec<FileEntry>, StoreError> {
        self.call(1)?;
        let page: Vec<FileEntry> = self.visible_at(seq).into_iter().filter(|f| span.contains(&f.path)).take(limit as usize).collect();
        self.rows_read.set(self.rows_read.get() + page.len() as u64);
        Ok(page)
    }

    async fn files_in_each(&self, _project: &ProjectId, seq: u64, spans: &[(Span, u32)]) -> Result<Vec<Vec<FileEntry>>, StoreError> {
        self.call(spans.len() as u32)?; // a D1 batch: one statement a span
        let visible = self.visible_at(seq);
        let pages: Vec<Vec<FileEntry>> = spans
            .iter()
            .map(|(span, limit)| visible.iter().filter(|f| span.contains(&f.path)).take(*limit as usize).cloned().collect())
            .collect();
        self.rows_read.set(self.rows_read.get() + pages.iter().map(|p| p.len() as u64).sum::<u64>());
        Ok(pages)
    }

    async fn count_in_each(&self, _project: &ProjectId, seq: u64, spans: &[Span]) -> Result<(u64, u64), StoreError> {
        self.call(spans.len() as u32)?;
        let inside: Vec<FileEntry> = self.visible_at(seq).into_iter().filter(|f| spans.iter().any(|s| s.contains(&f.path))).collect();
        Ok((inside.len() as u64, inside.iter().map(|f| f.size.unwrap_or(0)).sum()))
    }

    async fn apply(&self, job: &Job, changes: &[Change]) -> Result<(), StoreError> {
        self.call(2)?;
        if !self.is_running(&job.sync_id) {
            return Ok(()); // every statement of the batch is fenced by the sync's status
        }
        let mut applied = self.applied.borrow_mut();
        let staged = applied.entry(job.sync_id.to_string()).or_default();
        staged.extend(changes.iter().map(|c| (c.path().to_string(), c.clone())));
        let superseded: Vec<&str> = changes.iter().filter_map(Change::superseded).map(|f| f.path.as_str()).collect();
        let blobs = self.blobs.borrow();
        let new: Vec<(String, FileEntry)> = changes
            .iter()
            .filter_map(Change::introduced)
            .map(|new| {
                // As the D1 insert does: a blob analysed as an LFS pointer makes the version one.
                let mut entry = new.clone();
                let lfs = blobs.values().any(|b| b.sha == entry.sha.as_str() && b.status == crate::content::ContentStatus::LfsPointer);
                if lfs && entry.kind == FileKind::File {
                    entry.kind = FileKind::LfsPointer;
                }
                (entry.path.clone(), entry)
            })
            .collect();
        let written = Self::stage(&mut self.versions.borrow_mut(), job, &superseded, new);
        self.write(written);
        Ok(())
    }

    async fn commit(&self, job: &Job, _completed_at_ms: u64) -> Result<(), StoreError> {
        self.call(3)?;
        let mut head = self.head.borrow_mut();
        let mut syncs = self.syncs.borrow_mut();
        let row = syncs.get(job.sync_id.as_str()).cloned().ok_or(StoreError::ProjectGone)?;
        if head.current_sync_id.as_ref() == Some(&job.sync_id) {
            return Ok(());
        }
        if !running(row.status) {
            return Err(StoreError::NotRunning { status: row.status, error: row.error });
        }
        if head.current_seq != job.base_seq {
            return Err(StoreError::ChainMoved);
        }
        assert!(job.base_sync_id.is_none() || !syncs.values().any(|s| s.previous == job.base_sync_id), "previous_sync_id must stay unique");
        syncs.insert(
            job.sync_id.to_string(),
            SyncRow { status: SyncStatus::Complete, previous: job.base_sync_id.clone(), error: None, discarded: false },
        );
        *head = ProjectHead {
            current_sync_id: Some(job.sync_id.clone()),
            current_seq: job.new_seq(),
            current_commit_sha: job.commit_sha.clone(),
            current_filter: Some(job.filter.clone()),
        };
        self.write(2);
        Ok(())
    }

    async fn stage_preview(&self, job: &Job, changes: &[Change]) -> Result<(), StoreError> {
        self.call(1)?;
        if !self.is_running(&job.sync_id) {
            return Ok(());
        }
        let mut previews = self.previews.borrow_mut();
        previews.entry(job.sync_id.to_string()).or_default().extend(changes.iter().map(|c| (c.path().to_string(), c.clone())));
        self.write(changes.len() as u64);
        Ok(())
    }

    async fn commit_preview(&self, job: &Job, _completed_at_ms: u64) -> Result<(), StoreError> {
        self.call(2)?;
        let mut syncs = self.syncs.borrow_mut();
        let row = syncs.get_mut(job.sync_id.as_str()).ok_or(StoreError::ProjectGone)?;
        match row.status {
            SyncStatus::Complete => Ok(()),
            status if !running(status) => Err(StoreError::NotRunning { status, error: row.error.clone() }),
            _ => {
                row.status = SyncStatus::Complete;
                self.write(1);
                Ok(())
            }
        }
    }

    async fn record(&self, job: &Job, _completed_at_ms: Option<u64>) -> Result<Recorded, StoreError> {
        self.call(1)?;
        if job.status.is_terminal() && self.fail_final_records.get() > 0 {
            self.fail_final_records.set(self.fail_final_records.get() - 1);
            return Err(StoreError::Other("injected failure of the final record".into()));
        }
        let mut syncs = self.syncs.borrow_mut();
        let row = syncs.get_mut(job.sync_id.as_str()).ok_or(StoreError::ProjectGone)?;
        if !running(row.status) {
            return Ok(Recorded::AlreadyEnded { status: row.status, error: row.error.clone() });
        }
        row.status = job.status;
        row.error = job.error.clone();
        self.write(1);
        Ok(Recorded::Written)
    }

    async fn dirs_in_each(&self, project: &ProjectId, seq: u64, spans: &[(Span, u32)]) -> Result<Vec<Vec<(String, String)>>, StoreError> {
        let mut pages = Vec::new();
        for (span, limit) in spans {
            pages.push(self.dirs_in(project, seq, span, *limit).await?);
        }
        Ok(pages)
    }

    async fn dirs_in(&self, _project: &ProjectId, seq: u64, span: &Span, limit: u32) -> Result<Vec<(String, String)>, StoreError> {
        self.call(1)?;
        let mut dirs: Vec<(String, String)> = self
            .dirs
            .borrow()
            .iter()
            .filter(|d| d.visible_at(seq) && span.contains(&d.path))
            .map(|d| (d.path.clone(), d.entry.clone()))
            .collect();
        dirs.sort();
        dirs.truncate(limit as usize);
        Ok(dirs)
    }

    async fn count_files_under(&self, _project: &ProjectId, seq: u64, dirs: &[String]) -> Result<Vec<u64>, StoreError> {
        self.call(1)?;
        let visible = self.visible_at(seq);
        Ok(dirs
            .iter()
            .map(|dir| {
                let base = format!("{dir}/");
                visible.iter().filter(|f| f.path.starts_with(&base)).count() as u64
            })
            .collect())
    }

    async fn apply_dirs(&self, job: &Job, changes: &[DirChange]) -> Result<(), StoreError> {
        self.call(2)?;
        if !self.is_running(&job.sync_id) {
            return Ok(());
        }
        let superseded: Vec<&str> = changes.iter().filter(|c| c.old.is_some()).map(|c| c.path.as_str()).collect();
        let new: Vec<(String, String)> = changes.iter().filter_map(|c| c.new.clone().map(|sha| (c.path.clone(), sha))).collect();
        let written = Self::stage(&mut self.dirs.borrow_mut(), job, &superseded, new);
        self.write(written);
        Ok(())
    }

    async fn blob_texts(&self, scope: &str, shas: &[String]) -> Result<Vec<(String, Option<Vec<u8>>)>, StoreError> {
        self.call(1)?;
        let blobs = self.blobs.borrow();
        let text = |b: &BlobContent| (b.status == crate::content::ContentStatus::Text).then(|| b.text().into_bytes());
        Ok(shas.iter().filter_map(|sha| blobs.get(&(scope.to_string(), sha.clone())).map(|b| (sha.clone(), text(b)))).collect())
    }

    async fn known_blobs(&self, scope: &str, shas: &[String]) -> Result<Vec<String>, StoreError> {
        self.call(1)?;
        let blobs = self.blobs.borrow();
        Ok(shas.iter().filter(|s| blobs.contains_key(&(scope.to_string(), s.to_string()))).cloned().collect())
    }

    async fn put_blobs(&self, scope: &str, blobs: &[BlobContent]) -> Result<(), StoreError> {
        self.call(2)?;
        let mut stored = self.blobs.borrow_mut();
        self.blob_puts.set(self.blob_puts.get() + blobs.len() as u64);
        self.largest_put_bytes.set(self.largest_put_bytes.get().max(blobs.iter().map(|b| b.size).sum()));
        for b in blobs {
            if stored.insert((scope.to_string(), b.sha.clone()), b.clone()).is_none() {
                self.write(1 + b.chunks.len() as u64);
            }
        }
        Ok(())
    }

    fn take_rows_written(&self) -> u64 {
        self.rows_written.replace(0)
    }
}
