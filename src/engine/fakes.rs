//! In-memory fakes of the engine's ports that behave like the real ones where it matters:
//! the store has D1's visibility rules, its status guards (a write of an ended sync lands
//! nothing; an ended row is never rewritten), its discard semantics and its limit of queries
//! per invocation; GitHub's tarball is in git's tree order and can be altered the way
//! `.gitattributes` alters archives. Every fake can be told to fail, and GitHub to hang
//! (an invocation that never returns, as when the runtime kills it).

use super::slice::Checkpoint;
use super::{ByteSource, GitHub, Job, Meter, PendingBlob, ProjectHead, Recorded, Scratch, ScratchMap, Store, StoreError};
use crate::content::BlobContent;
use crate::diff::{Change, DirChange, FileEntry};
use crate::domain::{BranchName, CommitSha, FileKind, FileMode, Id, RepoName, Stats, SyncStatus, TreeFile};
use crate::github::{GhError, TreeListing};
use crate::progress::ProgressData;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::rc::Rc;

/// D1's limit of queries per invocation.
pub const D1_QUERIES_PER_INVOCATION: u32 = 1_000;

/// A repository as GitHub would list it: one flat tree per commit, with optional
/// truncation of recursive listings beyond `max_recursive`.
#[derive(Default)]
pub struct FakeGitHub {
    pub heads: RefCell<HashMap<String, CommitSha>>,
    pub trees: RefCell<HashMap<String, Vec<TreeFile>>>,
    pub max_recursive: Cell<usize>,
    pub faults: RefCell<VecDeque<GhError>>,
    pub requests: Cell<u64>,
    /// Blob contents by sha; a blob without an entry reads as `content of <sha>\n`.
    pub contents: RefCell<HashMap<String, Vec<u8>>>,
    /// What the tarball holds instead of a path's blob (`.gitattributes`): other bytes, or
    /// nothing at all (`export-ignore`).
    pub archived: RefCell<HashMap<String, Option<Vec<u8>>>>,
    pub blob_requests: Cell<u64>,
    pub tarball_requests: Cell<u64>,
    pub tree_requests: Cell<u64>,
    /// Directory tree ids handed out: id → (commit, directory).
    pub dir_ids: RefCell<HashMap<String, (String, String)>>,
    /// Requests of this route ("head", "tree", "blob", "tarball") never answer.
    pub hang_route: Cell<Option<&'static str>>,
    /// One-level listings with more entries than this come back truncated.
    pub max_flat: Cell<usize>,
    pub meter: RefCell<Option<Rc<Meter>>>,
}

impl FakeGitHub {
    pub fn new() -> Self {
        let g = FakeGitHub::default();
        g.max_recursive.set(usize::MAX);
        g.max_flat.set(usize::MAX);
        g
    }

    pub fn push(&self, branch: &str, commit: &CommitSha, files: Vec<TreeFile>) {
        self.heads.borrow_mut().insert(branch.to_string(), commit.clone());
        self.trees.borrow_mut().insert(commit.to_string(), files);
    }

    pub fn content(&self, sha: &str) -> Vec<u8> {
        self.contents.borrow().get(sha).cloned().unwrap_or_else(|| format!("content of {sha}\n").into_bytes())
    }

    async fn request(&self, route: &str) -> Result<(), GhError> {
        self.requests.set(self.requests.get() + 1);
        if let Some(meter) = self.meter.borrow().as_ref() {
            meter.subrequest(1);
        }
        if self.hang_route.get() == Some(route) {
            futures::future::pending::<()>().await;
        }
        match self.faults.borrow_mut().pop_front() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// A directory's tree id: a hash of everything under it, so it changes exactly when
    /// its content does (as git's tree shas do).
    fn dir_id(&self, commit: &str, dir: &str) -> String {
        let trees = self.trees.borrow();
        let base = if dir.is_empty() { String::new() } else { format!("{dir}/") };
        let mut listing: Vec<String> = trees
            .get(commit)
            .map(|files| {
                files
                    .iter()
                    .filter(|f| f.path.starts_with(&base))
                    .map(|f| format!("{} {} {}", &f.path[base.len()..], f.mode.as_str(), f.sha))
                    .collect()
            })
            .unwrap_or_default();
        listing.sort();
        let id = crate::auth::sha256_hex(listing.join("\n").as_bytes())[..40].to_string();
        self.dir_ids.borrow_mut().insert(id.clone(), (commit.to_string(), dir.to_string()));
        id
    }

    fn listing(&self, tree_ish: &str, recursive: bool, prefix: &str) -> Result<TreeListing, GhError> {
        self.tree_requests.set(self.tree_requests.get() + 1);
        // Equal subtrees share an id (as in git), so the directory is the one asked for.
        let resolved = self.dir_ids.borrow().get(tree_ish).cloned();
        let (commit, dir) = match resolved {
            Some((commit, _)) => (commit, prefix.to_string()),
            None => (tree_ish.to_string(), String::new()),
        };
        let all: Vec<TreeFile> = self.trees.borrow().get(&commit).cloned().ok_or_else(|| GhError::NotFound("tree".into()))?;
        let base = if dir.is_empty() { String::new() } else { format!("{dir}/") };
        let mut files = Vec::new();
        let mut dirs = BTreeMap::new();
        for f in all.iter().filter(|f| f.path.starts_with(&base)) {
            let rest = &f.path[base.len()..];
            // Every directory between this one and the file.
            let parts: Vec<&str> = rest.split('/').collect();
            let depth = if recursive { parts.len() - 1 } else { parts.len().min(2) - 1 };
            for i in 1..=depth {
                let sub = format!("{base}{}", parts[..i].join("/"));
                dirs.entry(sub.clone()).or_insert_with(|| self.dir_id(&commit, &sub));
            }
            if recursive || parts.len() == 1 {
                files.push(f.clone());
            }
        }
        let max = if recursive { self.max_recursive.get() } else { self.max_flat.get() };
        let truncated = files.len() + dirs.len() > max;
        if truncated {
            files.truncate(max);
        }
        Ok(TreeListing { sha: self.dir_id(&commit, &dir), files, dirs: dirs.into_iter().collect(), truncated })
    }
}

impl GitHub for FakeGitHub {
    async fn head(&self, _repo: &RepoName, branch: &BranchName) -> Result<CommitSha, GhError> {
        self.request("head").await?;
        self.heads.borrow().get(branch.as_str()).cloned().ok_or_else(|| GhError::NotFound("branch".into()))
    }

    async fn tree(&self, _repo: &RepoName, tree_ish: &str, recursive: bool, prefix: &str) -> Result<TreeListing, GhError> {
        self.request("tree").await?;
        self.listing(tree_ish, recursive, prefix)
    }

    async fn blob(&self, _repo: &RepoName, sha: &str) -> Result<Vec<u8>, GhError> {
        self.request("blob").await?;
        self.blob_requests.set(self.blob_requests.get() + 1);
        Ok(self.content(sha))
    }

    type Tarball = FakeTarball;

    async fn tarball(&self, _repo: &RepoName, commit: &CommitSha) -> Result<FakeTarball, GhError> {
        self.request("tarball").await?;
        self.tarball_requests.set(self.tarball_requests.get() + 1);
        let trees = self.trees.borrow();
        let mut files: Vec<&TreeFile> = trees.get(commit.as_str()).ok_or_else(|| GhError::NotFound("commit".into()))?.iter().collect();
        // `git archive` writes entries in tree order, which is byte order of the full paths.
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let archived = self.archived.borrow();
        let mut tar = Vec::new();
        for f in files {
            let kind = if matches!(f.mode, FileMode::Submodule | FileMode::Symlink) { b'2' } else { b'0' };
            let data = match (kind, archived.get(&f.path)) {
                (b'0', Some(None)) => continue,
                (b'0', Some(Some(altered))) => altered.clone(),
                (b'0', None) => self.content(f.sha.as_str()),
                _ => Vec::new(),
            };
            tar_entry(&mut tar, &format!("acme-widgets-{}/{}", &commit.as_str()[..7], f.path), &data, kind);
        }
        tar.extend(vec![0u8; 1024]);
        // Hand it out in uneven pieces, as a network would.
        Ok(FakeTarball { chunks: tar.chunks(777).map(<[u8]>::to_vec).collect() })
    }

    fn take_stats(&self) -> Stats {
        Stats { github_requests: self.requests.replace(0), ..Stats::default() }
    }
}

pub struct FakeTarball {
    chunks: VecDeque<Vec<u8>>,
}

impl ByteSource for FakeTarball {
    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, GhError> {
        Ok(self.chunks.pop_front())
    }
}

/// Appends one ustar entry (long names go in a pax header, as `git archive` does).
pub fn tar_entry(out: &mut Vec<u8>, name: &str, data: &[u8], kind: u8) {
    if name.len() > 100 {
        let base = format!(" path={name}\n");
        let mut len = base.len() + 1;
        while format!("{len}{base}").len() != len {
            len += 1;
        }
        tar_entry(out, "PaxHeader", format!("{len}{base}").as_bytes(), b'x');
    }
    let mut h = vec![0u8; 512];
    let short = &name.as_bytes()[..name.len().min(100)];
    h[..short.len()].copy_from_slice(short);
    h[100..107].copy_from_slice(b"0000644");
    h[124..135].copy_from_slice(format!("{:011o}", data.len()).as_bytes());
    h[156] = kind;
    h[257..263].copy_from_slice(b"ustar\0");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    out.extend(h);
    out.extend(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
}

/// A file or directory version, with D1's visibility columns.
#[derive(Debug, Clone)]
pub struct VersionRow<T> {
    pub entry: T,
    pub path: String,
    pub introduced_sync: Id,
    pub introduced_seq: u64,
    pub superseded_seq: Option<u64>,
    pub superseded_by: Option<Id>,
}

impl<T> VersionRow<T> {
    fn visible_at(&self, seq: u64) -> bool {
        self.introduced_seq <= seq && self.superseded_seq.is_none_or(|s| s > seq)
    }
}

#[derive(Debug, Clone)]
pub struct SyncRow {
    pub status: SyncStatus,
    pub previous: Option<Id>,
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
    pub fn insert_sync(&self, id: &Id) {
        self.syncs
            .borrow_mut()
            .insert(id.to_string(), SyncRow { status: SyncStatus::Queued, previous: None, error: None, discarded: false });
    }

    /// What the reaper does: ends a running row as FAILED (an ended one is left alone).
    pub fn fail_sync(&self, id: &Id, why: &str) -> bool {
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

    pub fn status_of(&self, id: &Id) -> Option<SyncStatus> {
        self.syncs.borrow().get(id.as_str()).map(|r| r.status)
    }

    fn is_running(&self, id: &Id) -> bool {
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
        let dead = |id: &Id| syncs.get(id.as_str()).is_some_and(|r| matches!(r.status, SyncStatus::Failed | SyncStatus::Cancelled));
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
            if rows.iter().any(|r| r.path == path && &r.introduced_sync == sync) {
                continue; // ON CONFLICT DO NOTHING
            }
            assert!(!rows.iter().any(|r| r.path == path && r.superseded_seq.is_none()), "two active versions of {path}");
            rows.push(VersionRow { entry, path, introduced_sync: sync.clone(), introduced_seq: seq, superseded_seq: None, superseded_by: None });
            written += 1;
        }
        written
    }

    /// Deletes up to `budget` rows introduced by `dead` syncs; once none is left, clears the
    /// marks they made. Returns rows touched and whether the table is clean of them.
    fn discard<T>(rows: &mut Vec<VersionRow<T>>, dead: &[Id], budget: usize) -> (usize, bool) {
        let mut removed = 0;
        rows.retain(|r| {
            let drop = removed < budget && dead.contains(&r.introduced_sync);
            removed += usize::from(drop);
            !drop
        });
        if rows.iter().any(|r| dead.contains(&r.introduced_sync)) {
            return (removed, false);
        }
        for r in rows.iter_mut() {
            if r.superseded_by.as_ref().is_some_and(|s| dead.contains(s)) {
                r.superseded_seq = None;
                r.superseded_by = None;
                removed += 1;
            }
        }
        (removed, true)
    }
}

impl Store for FakeStore {
    async fn project_head(&self, _project: &Id) -> Result<ProjectHead, StoreError> {
        self.call(1)?;
        Ok(self.head.borrow().clone())
    }

    async fn discard_ended(&self, _project: &Id) -> Result<bool, StoreError> {
        self.call(3)?;
        let dead: Vec<Id> = self
            .syncs
            .borrow()
            .iter()
            .filter(|(_, r)| matches!(r.status, SyncStatus::Failed | SyncStatus::Cancelled) && !r.discarded)
            .filter_map(|(id, _)| Id::parse(id).ok())
            .collect();
        if dead.is_empty() {
            return Ok(true);
        }
        let budget = self.discard_batch.get();
        let (files, files_done) = Self::discard(&mut self.versions.borrow_mut(), &dead, budget);
        if !files_done {
            self.write(files as u64);
            return Ok(false);
        }
        let (dirs, dirs_done) = Self::discard(&mut self.dirs.borrow_mut(), &dead, budget.saturating_sub(files));
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

    async fn files_at(&self, _project: &Id, seq: u64, after: Option<&str>, limit: u32) -> Result<Vec<FileEntry>, StoreError> {
        self.call(1)?;
        Ok(self.visible_at(seq).into_iter().filter(|f| after.is_none_or(|a| f.path.as_str() > a)).take(limit as usize).collect())
    }

    async fn apply(&self, job: &Job, changes: &[Change]) -> Result<(), StoreError> {
        self.call(2)?;
        if !self.is_running(&job.sync_id) {
            return Ok(()); // every statement of the batch is fenced by the sync's status
        }
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
        assert!(
            job.base_sync_id.is_none() || !syncs.values().any(|s| s.previous == job.base_sync_id),
            "previous_sync_id must stay unique"
        );
        syncs.insert(
            job.sync_id.to_string(),
            SyncRow { status: SyncStatus::Complete, previous: job.base_sync_id.clone(), error: None, discarded: false },
        );
        *head = ProjectHead { current_sync_id: Some(job.sync_id.clone()), current_seq: job.new_seq(), current_commit_sha: job.commit_sha.clone() };
        self.write(2);
        Ok(())
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

    async fn dirs_at(&self, _project: &Id, seq: u64) -> Result<Vec<(String, String)>, StoreError> {
        self.call(1)?;
        Ok(self.dirs.borrow().iter().filter(|d| d.visible_at(seq)).map(|d| (d.path.clone(), d.entry.clone())).collect())
    }

    async fn count_files_under(&self, _project: &Id, seq: u64, dirs: &[String]) -> Result<Vec<u64>, StoreError> {
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

    async fn known_blobs(&self, scope: &str, shas: &[String]) -> Result<Vec<String>, StoreError> {
        self.call(1)?;
        let blobs = self.blobs.borrow();
        Ok(shas.iter().filter(|s| blobs.contains_key(&(scope.to_string(), s.to_string()))).cloned().collect())
    }

    async fn put_blobs(&self, scope: &str, blobs: &[BlobContent]) -> Result<(), StoreError> {
        self.call(2)?;
        let mut stored = self.blobs.borrow_mut();
        self.blob_puts.set(self.blob_puts.get() + blobs.len() as u64);
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

/// The Durable Object's scratch tables, in memory.
#[derive(Default)]
pub struct FakeScratch {
    pub wanted: RefCell<BTreeMap<String, FileEntry>>,
    pub changes: RefCell<Vec<Change>>,
    /// Pending blobs by sha: (path, size, read).
    pub pending: RefCell<BTreeMap<String, (String, u64, bool)>>,
    pub maps: RefCell<BTreeMap<(&'static str, String), String>>,
}

impl Scratch for FakeScratch {
    fn put_wanted(&self, files: &[FileEntry]) -> Result<(), StoreError> {
        let mut w = self.wanted.borrow_mut();
        for f in files {
            w.insert(f.path.clone(), f.clone());
        }
        Ok(())
    }

    fn wanted(&self) -> Result<Vec<FileEntry>, StoreError> {
        Ok(self.wanted.borrow().values().cloned().collect())
    }

    fn put_changes(&self, changes: &[Change]) -> Result<(), StoreError> {
        *self.changes.borrow_mut() = changes.to_vec();
        Ok(())
    }

    fn changes(&self, offset: u64, limit: u64) -> Result<Vec<Change>, StoreError> {
        Ok(self.changes.borrow().iter().skip(offset as usize).take(limit as usize).cloned().collect())
    }

    fn map_put(&self, map: ScratchMap, entries: &[(String, String)]) -> Result<(), StoreError> {
        let mut maps = self.maps.borrow_mut();
        for (k, v) in entries {
            maps.insert((map.name(), k.clone()), v.clone());
        }
        Ok(())
    }

    fn map_get(&self, map: ScratchMap, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self.maps.borrow().get(&(map.name(), key.to_string())).cloned())
    }

    fn map_all(&self, map: ScratchMap) -> Result<Vec<(String, String)>, StoreError> {
        Ok(self.maps.borrow().iter().filter(|((m, _), _)| *m == map.name()).map(|((_, k), v)| (k.clone(), v.clone())).collect())
    }

    fn add_pending_blobs(&self, blobs: &[PendingBlob]) -> Result<(), StoreError> {
        let mut pending = self.pending.borrow_mut();
        for b in blobs {
            pending.entry(b.sha.clone()).or_insert((b.path.clone(), b.size, false));
        }
        Ok(())
    }

    fn pending_blobs(&self, after: Option<&str>, limit: u64) -> Result<Vec<PendingBlob>, StoreError> {
        let mut unread: Vec<PendingBlob> = self
            .pending
            .borrow()
            .iter()
            .filter(|(_, (path, _, read))| !read && after.is_none_or(|a| path.as_str() > a))
            .map(|(sha, (path, size, _))| PendingBlob { sha: sha.clone(), size: *size, path: path.clone() })
            .collect();
        unread.sort_by(|a, b| a.path.cmp(&b.path));
        unread.truncate(limit as usize);
        Ok(unread)
    }

    fn pending_totals(&self) -> Result<(u64, u64), StoreError> {
        let pending = self.pending.borrow();
        let unread = pending.values().filter(|(_, _, read)| !read);
        Ok(unread.fold((0, 0), |(n, bytes), (_, size, _)| (n + 1, bytes + size)))
    }

    fn mark_read(&self, shas: &[String]) -> Result<(), StoreError> {
        let mut pending = self.pending.borrow_mut();
        for sha in shas {
            if let Some(p) = pending.get_mut(sha) {
                p.2 = true;
            }
        }
        Ok(())
    }

    fn clear(&self) -> Result<(), StoreError> {
        self.wanted.borrow_mut().clear();
        self.changes.borrow_mut().clear();
        self.pending.borrow_mut().clear();
        self.maps.borrow_mut().clear();
        Ok(())
    }
}

/// The object's stored job and event log, in memory (JSON, as the object stores it).
#[derive(Default)]
pub struct FakeCheckpoint {
    pub job: RefCell<Option<String>>,
    pub events: RefCell<Vec<ProgressData>>,
    pub cancel: Cell<bool>,
}

impl FakeCheckpoint {
    /// The job as the next invocation loads it.
    pub fn load(&self) -> Job {
        serde_json::from_str(self.job.borrow().as_deref().expect("a saved job")).expect("a valid checkpoint")
    }
}

impl Checkpoint for FakeCheckpoint {
    fn save(&self, job: &Job, events: &[ProgressData]) -> Result<(), StoreError> {
        *self.job.borrow_mut() = Some(serde_json::to_string(job).map_err(|e| StoreError::Other(e.to_string()))?);
        self.events.borrow_mut().extend_from_slice(events);
        Ok(())
    }

    fn cancel_requested(&self) -> Result<bool, StoreError> {
        Ok(self.cancel.get())
    }
}
