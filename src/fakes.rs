//! In-memory fakes of the engine's ports, with the same visibility rules as the D1 schema,
//! plus fault switches, for native engine tests.

use crate::content::BlobContent;
use crate::diff::{Change, FileEntry};
use crate::domain::{BranchName, CommitSha, Id, RepoName, Stats, SyncStatus, TreeFile};
use crate::diff::DirChange;
use crate::engine::{ByteSource, GitHub, Job, ProjectHead, Scratch, ScratchMap, Store, StoreError};
use crate::github::{GhError, TreeListing};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap, VecDeque};

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
    pub blob_requests: Cell<u64>,
    pub tarball_requests: Cell<u64>,
    pub tree_requests: Cell<u64>,
    /// Directory tree ids handed out: id → (commit, directory).
    pub dir_ids: RefCell<HashMap<String, (String, String)>>,
}

impl FakeGitHub {
    pub fn new() -> Self {
        let g = FakeGitHub::default();
        g.max_recursive.set(usize::MAX);
        g
    }

    pub fn push(&self, branch: &str, commit: &CommitSha, files: Vec<TreeFile>) {
        self.heads.borrow_mut().insert(branch.to_string(), commit.clone());
        self.trees.borrow_mut().insert(commit.to_string(), files);
    }

    pub fn content(&self, sha: &str) -> Vec<u8> {
        self.contents.borrow().get(sha).cloned().unwrap_or_else(|| format!("content of {sha}\n").into_bytes())
    }

    fn fault(&self) -> Result<(), GhError> {
        self.requests.set(self.requests.get() + 1);
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
        let truncated = recursive && files.len() + dirs.len() > self.max_recursive.get();
        if truncated {
            files.truncate(self.max_recursive.get());
        }
        Ok(TreeListing { sha: self.dir_id(&commit, &dir), files, dirs: dirs.into_iter().collect(), truncated })
    }
}

impl GitHub for FakeGitHub {
    async fn head(&self, _repo: &RepoName, branch: &BranchName) -> Result<CommitSha, GhError> {
        self.fault()?;
        self.heads.borrow().get(branch.as_str()).cloned().ok_or_else(|| GhError::NotFound("branch".into()))
    }

    async fn tree(&self, _repo: &RepoName, tree_ish: &str, recursive: bool, prefix: &str) -> Result<TreeListing, GhError> {
        self.fault()?;
        self.listing(tree_ish, recursive, prefix)
    }

    async fn blob(&self, _repo: &RepoName, sha: &str) -> Result<Vec<u8>, GhError> {
        self.fault()?;
        self.blob_requests.set(self.blob_requests.get() + 1);
        Ok(self.content(sha))
    }

    type Tarball = FakeTarball;

    async fn tarball(&self, _repo: &RepoName, commit: &CommitSha) -> Result<FakeTarball, GhError> {
        self.fault()?;
        self.tarball_requests.set(self.tarball_requests.get() + 1);
        let trees = self.trees.borrow();
        let files = trees.get(commit.as_str()).ok_or_else(|| GhError::NotFound("commit".into()))?;
        let mut tar = Vec::new();
        for f in files {
            let kind = if f.mode == crate::domain::FileMode::Submodule || f.mode == crate::domain::FileMode::Symlink { b'2' } else { b'0' };
            let data = if kind == b'0' { self.content(f.sha.as_str()) } else { Vec::new() };
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

#[derive(Debug, Clone)]
pub struct VersionRow {
    pub entry: FileEntry,
    pub introduced_sync: Id,
    pub introduced_seq: u64,
    pub superseded_seq: Option<u64>,
    pub superseded_by: Option<Id>,
}

#[derive(Debug, Clone)]
pub struct SyncRow {
    pub status: SyncStatus,
    pub previous: Option<Id>,
}

/// D1 in memory: one project, its chain and its file versions.
#[derive(Default)]
pub struct FakeStore {
    pub head: RefCell<ProjectHead>,
    pub versions: RefCell<Vec<VersionRow>>,
    pub syncs: RefCell<BTreeMap<String, SyncRow>>,
    pub rows_written: Cell<u64>,
    /// Store calls that fail before doing anything, by call number (1-based).
    pub fail_calls: RefCell<Vec<u64>>,
    pub calls: Cell<u64>,
    pub project_deleted: Cell<bool>,
    /// Analysed blobs by (scope, sha).
    pub blobs: RefCell<BTreeMap<(String, String), BlobContent>>,
    /// Directory versions: (path, sha, introduced seq, superseded seq).
    pub dirs: RefCell<Vec<(String, String, u64, Option<u64>)>>,
}

impl Default for ProjectHead {
    fn default() -> Self {
        ProjectHead { current_sync_id: None, current_seq: 0, current_commit_sha: None }
    }
}

impl FakeStore {
    fn call(&self) -> Result<(), StoreError> {
        let n = self.calls.get() + 1;
        self.calls.set(n);
        if self.fail_calls.borrow().contains(&n) {
            return Err(StoreError::Other(format!("injected failure on call {n}")));
        }
        if self.project_deleted.get() {
            return Err(StoreError::ProjectGone);
        }
        Ok(())
    }

    fn write(&self, n: u64) {
        self.rows_written.set(self.rows_written.get() + n);
    }

    pub fn active(&self) -> Vec<FileEntry> {
        let seq = self.head.borrow().current_seq;
        self.visible_at(seq)
    }

    pub fn visible_at(&self, seq: u64) -> Vec<FileEntry> {
        let mut v: Vec<FileEntry> = self
            .versions
            .borrow()
            .iter()
            .filter(|r| r.introduced_seq <= seq && r.superseded_seq.is_none_or(|s| s > seq))
            .map(|r| r.entry.clone())
            .collect();
        v.sort_by(|a, b| a.path.cmp(&b.path));
        v
    }
}

impl Store for FakeStore {
    async fn project_head(&self, _project: &Id) -> Result<ProjectHead, StoreError> {
        self.call()?;
        Ok(self.head.borrow().clone())
    }

    async fn discard_uncommitted(&self, _project: &Id) -> Result<(), StoreError> {
        self.call()?;
        let seq = self.head.borrow().current_seq;
        let mut v = self.versions.borrow_mut();
        v.retain(|r| r.introduced_seq <= seq);
        for r in v.iter_mut() {
            if r.superseded_seq.is_some_and(|s| s > seq) {
                r.superseded_seq = None;
                r.superseded_by = None;
            }
        }
        let mut dirs = self.dirs.borrow_mut();
        dirs.retain(|d| d.2 <= seq);
        for d in dirs.iter_mut() {
            if d.3.is_some_and(|s| s > seq) {
                d.3 = None;
            }
        }
        Ok(())
    }

    async fn files_at(&self, _project: &Id, seq: u64, after: Option<&str>, limit: u32) -> Result<Vec<FileEntry>, StoreError> {
        self.call()?;
        Ok(self
            .visible_at(seq)
            .into_iter()
            .filter(|f| after.is_none_or(|a| f.path.as_str() > a))
            .take(limit as usize)
            .collect())
    }

    async fn apply(&self, job: &Job, changes: &[Change]) -> Result<(), StoreError> {
        self.call()?;
        let (sync, seq) = (&job.sync_id, job.new_seq());
        let mut v = self.versions.borrow_mut();
        for c in changes {
            if let Some(old) = c.superseded() {
                for r in v.iter_mut() {
                    if r.entry.path == old.path && r.superseded_seq.is_none() && r.introduced_seq < seq {
                        r.superseded_seq = Some(seq);
                        r.superseded_by = Some(sync.clone());
                        self.write(1);
                    }
                }
            }
        }
        for c in changes {
            if let Some(new) = c.introduced() {
                let exists = v.iter().any(|r| r.entry.path == new.path && &r.introduced_sync == sync);
                assert!(
                    !v.iter().any(|r| r.entry.path == new.path && r.superseded_seq.is_none() && &r.introduced_sync != sync),
                    "two active versions of {}",
                    new.path
                );
                if !exists {
                    // As the D1 insert does: a blob analysed as an LFS pointer makes the version one.
                    let mut entry = new.clone();
                    let lfs = self.blobs.borrow().values().any(|b| b.sha == entry.sha.as_str() && b.status == crate::content::ContentStatus::LfsPointer);
                    if lfs && entry.kind == crate::domain::FileKind::File {
                        entry.kind = crate::domain::FileKind::LfsPointer;
                    }
                    v.push(VersionRow {
                        entry,
                        introduced_sync: sync.clone(),
                        introduced_seq: seq,
                        superseded_seq: None,
                        superseded_by: None,
                    });
                    self.write(1);
                }
            }
        }
        Ok(())
    }

    async fn commit(&self, job: &Job, _completed_at_ms: u64) -> Result<(), StoreError> {
        self.call()?;
        let mut head = self.head.borrow_mut();
        if head.current_sync_id.as_ref() == Some(&job.sync_id) {
            return Ok(());
        }
        if head.current_seq != job.base_seq {
            return Err(StoreError::ChainMoved);
        }
        let mut syncs = self.syncs.borrow_mut();
        assert!(
            job.base_sync_id.is_none() || !syncs.values().any(|s| s.previous == job.base_sync_id),
            "previous_sync_id must stay unique"
        );
        syncs.insert(
            job.sync_id.to_string(),
            SyncRow { status: SyncStatus::Complete, previous: job.base_sync_id.clone() },
        );
        *head = ProjectHead { current_sync_id: Some(job.sync_id.clone()), current_seq: job.new_seq(), current_commit_sha: job.commit_sha.clone() };
        self.write(2);
        Ok(())
    }

    async fn record(&self, job: &Job, _completed_at_ms: Option<u64>) -> Result<(), StoreError> {
        self.call()?;
        self.syncs
            .borrow_mut()
            .entry(job.sync_id.to_string())
            .and_modify(|s| s.status = job.status)
            .or_insert(SyncRow { status: job.status, previous: None });
        self.write(1);
        Ok(())
    }

    async fn dirs_at(&self, _project: &Id, seq: u64) -> Result<Vec<(String, String)>, StoreError> {
        self.call()?;
        Ok(self
            .dirs
            .borrow()
            .iter()
            .filter(|(_, _, i, s)| *i <= seq && s.is_none_or(|s| s > seq))
            .map(|(p, sha, _, _)| (p.clone(), sha.clone()))
            .collect())
    }

    async fn count_files_under(&self, _project: &Id, seq: u64, dir: &str) -> Result<u64, StoreError> {
        self.call()?;
        let base = format!("{dir}/");
        Ok(self.visible_at(seq).iter().filter(|f| f.path.starts_with(&base)).count() as u64)
    }

    async fn apply_dirs(&self, job: &Job, changes: &[DirChange]) -> Result<(), StoreError> {
        self.call()?;
        let seq = job.new_seq();
        let mut dirs = self.dirs.borrow_mut();
        for c in changes {
            for d in dirs.iter_mut() {
                if d.0 == c.path && d.3.is_none() && d.2 < seq {
                    d.3 = Some(seq);
                }
            }
            if let Some(new) = &c.new {
                if !dirs.iter().any(|d| d.0 == c.path && d.2 == seq) {
                    dirs.push((c.path.clone(), new.clone(), seq, None));
                }
            }
        }
        Ok(())
    }

    async fn known_blobs(&self, scope: &str, shas: &[String]) -> Result<Vec<String>, StoreError> {
        self.call()?;
        let blobs = self.blobs.borrow();
        Ok(shas.iter().filter(|s| blobs.contains_key(&(scope.to_string(), s.to_string()))).cloned().collect())
    }

    async fn put_blobs(&self, scope: &str, blobs: &[BlobContent]) -> Result<(), StoreError> {
        self.call()?;
        let mut stored = self.blobs.borrow_mut();
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
    pub pending: RefCell<Vec<(String, u64, String)>>,
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

    fn put_pending_blobs(&self, blobs: &[(String, u64, String)]) -> Result<(), StoreError> {
        *self.pending.borrow_mut() = blobs.to_vec();
        Ok(())
    }

    fn pending_blobs(&self, offset: u64, limit: u64) -> Result<Vec<(String, u64, String)>, StoreError> {
        Ok(self.pending.borrow().iter().skip(offset as usize).take(limit as usize).cloned().collect())
    }

    fn clear(&self) -> Result<(), StoreError> {
        self.wanted.borrow_mut().clear();
        self.changes.borrow_mut().clear();
        self.pending.borrow_mut().clear();
        self.maps.borrow_mut().clear();
        Ok(())
    }
}
