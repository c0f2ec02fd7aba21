//! The sync state machine: fetch, diff, process, persist, commit — one bounded step at a
//! time over three small ports, so the Durable Object can checkpoint after every step and
//! resume after eviction, and the whole pipeline runs natively against in-memory fakes.
//!
//! Visibility rule (see ARCHITECTURE.md): file versions carry the chain position (`seq`) of
//! the sync that introduced them and of the one that superseded them. A sync stages its rows
//! at `base_seq + 1`, which no reader looks at until the commit moves the project's
//! `current_seq` there in one compare-and-swap. A failed or cancelled sync discards what it
//! staged; readers never saw it.

use crate::content::{analyse, choose_fetch, BlobContent, FetchMethod};
use crate::diff::{diff, diff_dirs, inside_any, Change, DirChange, DirMap, FileEntry};
use crate::domain::{BranchName, CommitSha, Counts, Id, RepoName, Stats, SyncKind, SyncStatus, Trigger};
use crate::github::{GhError, TreeListing};
use crate::progress::{percent, ProgressData};
use crate::tar::TarReader;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::fmt;

/// Tree requests per step while walking a truncated tree.
pub const TREE_REQUESTS_PER_STEP: usize = 8;
/// Changes written to D1 per step (one transaction).
pub const PERSIST_CHUNK: usize = 1_000;
/// Held files read per D1 query while diffing.
pub const HELD_PAGE: u32 = 5_000;
/// A changed directory holding more files than this is listed one level at a time (so its
/// unchanged subtrees are skipped); a smaller one in a single recursive request.
pub const LEVEL_WALK_ABOVE_FILES: u64 = 2_000;
/// Blob requests per step when fetching contents one by one.
pub const BLOBS_PER_STEP: usize = 25;
/// Analysed text held in memory before it is written, while streaming a tarball.
pub const TARBALL_FLUSH_BYTES: u64 = 2 * 1024 * 1024;
/// A store failure is retried this many times (across steps) before the sync fails.
pub const MAX_STORE_ATTEMPTS: u32 = 3;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// The project (and so the sync) was deleted while the sync ran.
    ProjectGone,
    /// Another sync moved the chain first.
    ChainMoved,
    Other(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::ProjectGone => f.write_str("the project was deleted"),
            StoreError::ChainMoved => f.write_str("another sync completed first"),
            StoreError::Other(e) => write!(f, "database error: {e}"),
        }
    }
}

/// The project's committed position in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectHead {
    pub current_sync_id: Option<Id>,
    pub current_seq: u64,
    /// The commit whose tree the current state is (None before the first sync).
    pub current_commit_sha: Option<CommitSha>,
}

/// GitHub, as the engine needs it. Adapters retry transient faults themselves and count
/// every request in `take_stats`.
#[allow(async_fn_in_trait)]
pub trait GitHub {
    async fn head(&self, repo: &RepoName, branch: &BranchName) -> Result<CommitSha, GhError>;
    /// Lists `tree_ish` (a commit or tree sha), re-rooting paths under `prefix`.
    async fn tree(&self, repo: &RepoName, tree_ish: &str, recursive: bool, prefix: &str) -> Result<TreeListing, GhError>;
    /// One blob's bytes (`git/blobs/{sha}`).
    async fn blob(&self, repo: &RepoName, sha: &str) -> Result<Vec<u8>, GhError>;
    type Tarball: ByteSource;
    /// The commit's tarball, decompressed, as a stream of chunks.
    async fn tarball(&self, repo: &RepoName, commit: &CommitSha) -> Result<Self::Tarball, GhError>;
    /// GitHub requests, 304s and bytes since the last call.
    fn take_stats(&self) -> Stats;
}

/// A pull-based byte stream (a decompressing download in production).
#[allow(async_fn_in_trait)]
pub trait ByteSource {
    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, GhError>;
}

/// The durable, shared state (D1 in production).
#[allow(async_fn_in_trait)]
pub trait Store {
    async fn project_head(&self, project: &Id) -> Result<ProjectHead, StoreError>;
    /// Removes whatever a sync staged past `current_seq` and never committed. Idempotent.
    async fn discard_uncommitted(&self, project: &Id) -> Result<(), StoreError>;
    /// Files active right after the sync at `seq`, sorted by path, after `after`.
    async fn files_at(&self, project: &Id, seq: u64, after: Option<&str>, limit: u32) -> Result<Vec<FileEntry>, StoreError>;
    /// Stages `changes` at `job.new_seq()`: supersedes old versions, then inserts new ones
    /// (an LFS pointer's kind and any reason to keep no text come from the analysed blob).
    /// Idempotent.
    async fn apply(&self, job: &Job, changes: &[Change]) -> Result<(), StoreError>;
    /// Makes the sync current if the chain is still at `base_seq`; also marks it COMPLETE.
    async fn commit(&self, job: &Job, completed_at_ms: u64) -> Result<(), StoreError>;
    /// Writes the sync's visible status row (status, progress, counts, stats, error).
    async fn record(&self, job: &Job, completed_at_ms: Option<u64>) -> Result<(), StoreError>;
    /// Directory tree shas active right after the sync at `seq`.
    async fn dirs_at(&self, project: &Id, seq: u64) -> Result<Vec<(String, String)>, StoreError>;
    /// How many files are active at `seq` strictly inside directory `dir`.
    async fn count_files_under(&self, project: &Id, seq: u64, dir: &str) -> Result<u64, StoreError>;
    /// Stages directory changes like `apply` stages file changes. Idempotent.
    async fn apply_dirs(&self, job: &Job, changes: &[DirChange]) -> Result<(), StoreError>;
    /// Which of these blobs (of the content scope, i.e. repository) are already analysed.
    async fn known_blobs(&self, scope: &str, shas: &[String]) -> Result<Vec<String>, StoreError>;
    /// Stores analysed blobs and their chunks, once per scope and sha. Idempotent.
    async fn put_blobs(&self, scope: &str, blobs: &[BlobContent]) -> Result<(), StoreError>;
    /// D1 rows written since the last call.
    fn take_rows_written(&self) -> u64;
}

/// Per-sync scratch space that survives eviction (the Durable Object's own SQLite).
pub trait Scratch {
    fn put_wanted(&self, files: &[FileEntry]) -> Result<(), StoreError>;
    fn wanted(&self) -> Result<Vec<FileEntry>, StoreError>;
    fn put_changes(&self, changes: &[Change]) -> Result<(), StoreError>;
    fn changes(&self, offset: u64, limit: u64) -> Result<Vec<Change>, StoreError>;
    /// Small string maps (directories held and wanted, unchanged subtrees, directory changes).
    fn map_put(&self, map: ScratchMap, entries: &[(String, String)]) -> Result<(), StoreError>;
    fn map_get(&self, map: ScratchMap, key: &str) -> Result<Option<String>, StoreError>;
    fn map_all(&self, map: ScratchMap) -> Result<Vec<(String, String)>, StoreError>;
    /// Blobs still to download: `(sha, size, one path that has it)`, in a stable order.
    fn put_pending_blobs(&self, blobs: &[(String, u64, String)]) -> Result<(), StoreError>;
    fn pending_blobs(&self, offset: u64, limit: u64) -> Result<Vec<(String, u64, String)>, StoreError>;
    fn clear(&self) -> Result<(), StoreError>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScratchMap {
    /// Directory → tree sha in the state the sync builds on.
    HeldDirs,
    /// Directory → tree sha in the state the sync brings.
    WantedDirs,
    /// Directories whose tree sha did not change: their files are taken from the held state.
    Unchanged,
    /// Directory → JSON `DirChange`.
    DirChanges,
}

impl ScratchMap {
    pub fn name(self) -> &'static str {
        match self {
            ScratchMap::HeldDirs => "held_dirs",
            ScratchMap::WantedDirs => "wanted_dirs",
            ScratchMap::Unchanged => "unchanged",
            ScratchMap::DirChanges => "dir_changes",
        }
    }
}

/// Where the pipeline is; each variant is resumable from its own fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "camelCase")]
pub enum Phase {
    Start,
    ResolveHead,
    /// Trees still to list: `(path prefix, tree-ish, whether to ask for a recursive list)`.
    ListTree { pending: Vec<(String, String, bool)>, requests: u64, files: u64 },
    LoadTarget { after: Option<String>, files: u64 },
    Diff,
    /// Decide which contents to download, and how.
    PlanContent { total: u64 },
    FetchBlobs { done: u64, total: u64 },
    FetchTarball { total: u64 },
    Persist { done: u64, total: u64 },
    Commit,
    Finished,
}

/// Everything a sync needs to resume: the checkpoint the Durable Object stores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    pub sync_id: Id,
    pub project_id: Id,
    pub repository: RepoName,
    pub branch: BranchName,
    pub kind: SyncKind,
    pub trigger: Trigger,
    /// For restores: the completed sync whose state is wanted, and its chain position.
    pub restore_from: Option<(Id, u64)>,
    pub commit_sha: Option<CommitSha>,
    pub status: SyncStatus,
    pub progress: u8,
    pub message: String,
    pub counts: Counts,
    pub stats: Stats,
    pub error: Option<String>,
    pub started_at_ms: u64,
    pub phase: Phase,
    /// The chain position this sync builds on and the one it will take.
    pub base_sync_id: Option<Id>,
    pub base_seq: u64,
    #[serde(default)]
    pub base_commit_sha: Option<CommitSha>,
    pub cancel_requested: bool,
    pub store_attempts: u32,
    /// Largest text file whose content is kept.
    pub max_text_bytes: u64,
    /// Bytes of every file in the state the sync brings (what a tarball would carry).
    #[serde(default)]
    pub tree_bytes: u64,
}

pub struct NewJob {
    pub sync_id: Id,
    pub project_id: Id,
    pub repository: RepoName,
    pub branch: BranchName,
    pub kind: SyncKind,
    pub trigger: Trigger,
    pub restore_from: Option<(Id, u64, Option<CommitSha>)>,
    pub started_at_ms: u64,
    pub max_text_bytes: u64,
}

impl Job {
    pub fn new(n: NewJob) -> Job {
        let (restore_from, commit_sha) = match n.restore_from {
            Some((id, seq, sha)) => (Some((id, seq)), sha),
            None => (None, None),
        };
        Job {
            sync_id: n.sync_id,
            project_id: n.project_id,
            repository: n.repository,
            branch: n.branch,
            kind: n.kind,
            trigger: n.trigger,
            restore_from,
            commit_sha,
            status: SyncStatus::Queued,
            progress: 0,
            message: "Queued".into(),
            counts: Counts::default(),
            stats: Stats::default(),
            error: None,
            started_at_ms: n.started_at_ms,
            phase: Phase::Start,
            base_sync_id: None,
            base_seq: 0,
            base_commit_sha: None,
            cancel_requested: false,
            store_attempts: 0,
            max_text_bytes: n.max_text_bytes,
            tree_bytes: 0,
        }
    }

    /// Contents are shared by every project of the same repository.
    pub fn content_scope(&self) -> String {
        self.repository.canonical()
    }

    pub fn new_seq(&self) -> u64 {
        self.base_seq + 1
    }

    pub fn is_finished(&self) -> bool {
        self.status.is_terminal()
    }

    pub fn event(&self) -> ProgressData {
        ProgressData {
            sync_id: self.sync_id.to_string(),
            status: self.status,
            progress: self.progress,
            message: self.message.clone(),
            counts: self.counts,
            stats: self.stats,
        }
    }

    fn set(&mut self, status: SyncStatus, done: u64, total: u64, message: String) {
        self.status = status;
        self.progress = percent(status, done, total, self.progress);
        self.message = message;
    }
}

/// Why a step stopped the sync.
enum Stop {
    Fail(String),
    Cancel,
    /// A store error worth another try on the next step.
    Retry(StoreError),
}

impl From<GhError> for Stop {
    fn from(e: GhError) -> Self {
        Stop::Fail(e.to_string())
    }
}

impl From<StoreError> for Stop {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Other(_) => Stop::Retry(e),
            gone_or_moved => Stop::Fail(gone_or_moved.to_string()),
        }
    }
}

pub struct Ports<'a, G: GitHub, S: Store, X: Scratch> {
    pub github: &'a G,
    pub store: &'a S,
    pub scratch: &'a X,
}

/// Runs one bounded step and returns the events it produced (the last one describes the
/// job's new state). Call until `job.is_finished()`; checkpoint `job` after every call.
pub async fn step<G: GitHub, S: Store, X: Scratch>(job: &mut Job, ports: &Ports<'_, G, S, X>, now_ms: u64) -> Vec<ProgressData> {
    if job.is_finished() {
        return Vec::new();
    }
    let result = if job.cancel_requested && job.phase != Phase::Commit {
        Err(Stop::Cancel)
    } else {
        advance(job, ports, now_ms).await
    };
    match result {
        Ok(()) => job.store_attempts = 0,
        Err(Stop::Retry(e)) if job.store_attempts + 1 < MAX_STORE_ATTEMPTS => {
            job.store_attempts += 1;
            job.message = format!("Retrying after a database error ({e})");
        }
        Err(Stop::Retry(e)) => finish_unsuccessfully(job, ports, SyncStatus::Failed, Some(e.to_string())).await,
        Err(Stop::Fail(why)) => finish_unsuccessfully(job, ports, SyncStatus::Failed, Some(why)).await,
        Err(Stop::Cancel) => finish_unsuccessfully(job, ports, SyncStatus::Cancelled, None).await,
    }
    account(job, ports, now_ms);
    if job.status != SyncStatus::Complete {
        // The COMPLETE row is written by the commit itself; everything else is recorded here.
        // A failure to record is not fatal: the next step records again.
        let completed = job.is_finished().then_some(now_ms);
        let _ = ports.store.record(job, completed).await;
        account(job, ports, now_ms);
    }
    vec![job.event()]
}

fn account<G: GitHub, S: Store, X: Scratch>(job: &mut Job, ports: &Ports<'_, G, S, X>, now_ms: u64) {
    let gh = ports.github.take_stats();
    job.stats.github_requests += gh.github_requests;
    job.stats.github_not_modified += gh.github_not_modified;
    job.stats.bytes_downloaded += gh.bytes_downloaded;
    job.stats.d1_rows_written += ports.store.take_rows_written();
    job.stats.duration_ms = now_ms.saturating_sub(job.started_at_ms);
}

async fn finish_unsuccessfully<G: GitHub, S: Store, X: Scratch>(
    job: &mut Job,
    ports: &Ports<'_, G, S, X>,
    status: SyncStatus,
    error: Option<String>,
) {
    // Nothing staged was ever visible; removing it keeps the next sync's seq free.
    let _ = ports.store.discard_uncommitted(&job.project_id).await;
    let _ = ports.scratch.clear();
    job.message = match (&error, status) {
        (Some(e), _) => format!("Sync failed: {e}"),
        (None, SyncStatus::Cancelled) => "Sync cancelled; nothing was changed".into(),
        (None, _) => "Sync stopped".into(),
    };
    job.error = error;
    job.status = status;
    job.phase = Phase::Finished;
}

async fn advance<G: GitHub, S: Store, X: Scratch>(job: &mut Job, ports: &Ports<'_, G, S, X>, now_ms: u64) -> Result<(), Stop> {
    let Ports { github, store, scratch } = ports;
    match job.phase.clone() {
        Phase::Start => {
            let head = store.project_head(&job.project_id).await?;
            store.discard_uncommitted(&job.project_id).await?;
            scratch.clear()?;
            job.base_sync_id = head.current_sync_id;
            job.base_seq = head.current_seq;
            job.base_commit_sha = head.current_commit_sha;
            let held_dirs = store.dirs_at(&job.project_id, job.base_seq).await?;
            scratch.map_put(ScratchMap::HeldDirs, &held_dirs)?;
            match job.restore_from.clone() {
                None => {
                    job.phase = Phase::ResolveHead;
                    job.set(SyncStatus::Fetching, 0, 1, format!("Reading the head of {}", job.branch));
                }
                Some((from, _)) => {
                    job.phase = Phase::LoadTarget { after: None, files: 0 };
                    job.set(SyncStatus::Fetching, 0, 1, format!("Loading the state of sync {from}"));
                }
            }
        }
        Phase::ResolveHead => {
            let sha = github.head(&job.repository, &job.branch).await?;
            if job.base_commit_sha.as_ref() == Some(&sha) {
                // We hold exactly this commit's tree: nothing to list.
                scratch.map_put(ScratchMap::Unchanged, &[(String::new(), String::new())])?;
                job.phase = Phase::Diff;
                job.set(SyncStatus::Diffing, 0, 1, format!("{} is still at {}; nothing to fetch", job.branch, &sha.as_str()[..7]));
                job.commit_sha = Some(sha);
                return Ok(());
            }
            // With a held state, list the root one level deep and descend only where tree
            // shas differ; without one, one recursive listing is cheapest.
            let incremental = scratch.map_get(ScratchMap::HeldDirs, "")?.is_some();
            job.phase = Phase::ListTree { pending: vec![(String::new(), sha.to_string(), !incremental)], requests: 0, files: 0 };
            job.set(SyncStatus::Fetching, 1, 8, format!("Listing the tree of {}", &sha.as_str()[..7]));
            job.commit_sha = Some(sha);
        }
        Phase::ListTree { mut pending, mut requests, mut files } => {
            for _ in 0..TREE_REQUESTS_PER_STEP {
                let Some((prefix, tree_ish, recursive)) = pending.pop() else { break };
                let listing = github.tree(&job.repository, &tree_ish, recursive, &prefix).await?;
                requests += 1;
                if recursive && listing.truncated {
                    // A truncated listing is never used, not even in part: walk it level by level.
                    pending.push((prefix, listing.sha, false));
                    continue;
                }
                let wanted: Vec<FileEntry> = listing.files.into_iter().map(FileEntry::from).collect();
                scratch.put_wanted(&wanted)?;
                files += wanted.len() as u64;
                let mut dirs = vec![(prefix.clone(), listing.sha.clone())];
                dirs.extend(listing.dirs.iter().cloned());
                scratch.map_put(ScratchMap::WantedDirs, &dirs)?;
                if !recursive {
                    for (path, sha) in listing.dirs {
                        match scratch.map_get(ScratchMap::HeldDirs, &path)? {
                            Some(held) if held == sha => scratch.map_put(ScratchMap::Unchanged, &[(path, String::new())])?,
                            Some(_) => {
                                let held_files = store.count_files_under(&job.project_id, job.base_seq, &path).await?;
                                pending.push((path, sha, held_files <= LEVEL_WALK_ABOVE_FILES));
                            }
                            None => pending.push((path, sha, true)),
                        }
                    }
                }
            }
            let message = format!("Listed {files} files in {requests} tree requests");
            if pending.is_empty() {
                job.phase = Phase::Diff;
                job.set(SyncStatus::Diffing, 0, 1, format!("{message}; comparing with the state we hold"));
            } else {
                // The walk's size is unknown up front: move the bar by requests made, asymptotically.
                let done = requests;
                let total = requests + pending.len() as u64 + 1;
                job.phase = Phase::ListTree { pending, requests, files };
                job.set(SyncStatus::Fetching, done, total, message);
            }
        }
        Phase::LoadTarget { after, mut files } => {
            let (_, seq) = job.restore_from.clone().ok_or_else(|| Stop::Fail("restore without a target".into()))?;
            if after.is_none() {
                scratch.map_put(ScratchMap::WantedDirs, &store.dirs_at(&job.project_id, seq).await?)?;
            }
            let page = store.files_at(&job.project_id, seq, after.as_deref(), HELD_PAGE).await?;
            scratch.put_wanted(&page)?;
            files += page.len() as u64;
            if (page.len() as u32) < HELD_PAGE {
                job.phase = Phase::Diff;
                job.set(SyncStatus::Diffing, 0, 1, format!("Loaded {files} files of the earlier state; comparing"));
            } else {
                let last = page.last().map(|f| f.path.clone());
                job.phase = Phase::LoadTarget { after: last, files };
                job.set(SyncStatus::Fetching, files, files + HELD_PAGE as u64, format!("Loaded {files} files of the earlier state"));
            }
        }
        Phase::Diff => {
            let held = load_all(*store, &job.project_id, job.base_seq).await?;
            let unchanged: HashSet<String> = scratch.map_all(ScratchMap::Unchanged)?.into_iter().map(|(k, _)| k).collect();
            let mut wanted = scratch.wanted()?;
            // Unchanged subtrees were not listed: their files are the ones we hold.
            wanted.extend(held.iter().filter(|f| inside_any(&unchanged, &f.path)).cloned());
            let held_dirs: DirMap = scratch.map_all(ScratchMap::HeldDirs)?.into_iter().collect();
            let mut wanted_dirs: DirMap = scratch.map_all(ScratchMap::WantedDirs)?.into_iter().collect();
            for (path, sha) in &held_dirs {
                if inside_any(&unchanged, path) {
                    wanted_dirs.insert(path.clone(), sha.clone());
                }
            }
            let dir_changes: Vec<(String, String)> = diff_dirs(&held_dirs, &wanted_dirs)
                .into_iter()
                .map(|c| Ok((c.path.clone(), serde_json::to_string(&c).map_err(|e| StoreError::Other(e.to_string()))?)))
                .collect::<Result<_, StoreError>>()?;
            scratch.map_put(ScratchMap::DirChanges, &dir_changes)?;
            job.tree_bytes = wanted.iter().map(|f| f.size.unwrap_or(0)).sum();
            let result = diff(held, wanted);
            scratch.put_changes(&result.changes)?;
            job.counts = result.counts;
            let total = result.changes.len() as u64;
            job.phase = Phase::PlanContent { total };
            job.set(SyncStatus::Processing, 0, 1, format!("{total} changed paths; checking which contents we already hold"));
        }
        Phase::PlanContent { total } => {
            plan_content(job, ports, total).await?;
        }
        Phase::FetchBlobs { done, total } => {
            let batch = scratch.pending_blobs(done, BLOBS_PER_STEP as u64)?;
            let mut analysed = Vec::with_capacity(batch.len());
            for (sha, _, _) in &batch {
                let bytes = github.blob(&job.repository, sha).await?;
                analysed.push(analyse(sha, &bytes));
            }
            store.put_blobs(&job.content_scope(), &analysed).await?;
            let done = done + batch.len() as u64;
            if batch.is_empty() || done >= total {
                to_persist(job, format!("Read {total} files"))?;
            } else {
                job.phase = Phase::FetchBlobs { done, total };
                job.set(SyncStatus::Processing, done, total, format!("Read {done} of {total} files"));
            }
        }
        Phase::FetchTarball { total } => {
            let commit = job.commit_sha.clone().ok_or_else(|| Stop::Fail("no commit to download".into()))?;
            let read = fetch_tarball(job, ports, &commit, total).await?;
            if read < total {
                return Err(Stop::Fail(format!("the tarball lacked {} of {total} wanted files", total - read)));
            }
            to_persist(job, format!("Read {total} files from one tarball"))?;
        }
        Phase::Persist { done, total } => {
            let chunk = scratch.changes(done, PERSIST_CHUNK as u64)?;
            if !chunk.is_empty() {
                store.apply(job, &chunk).await?;
            }
            let done = (done + chunk.len() as u64).min(total);
            if done >= total || chunk.is_empty() {
                let dir_changes: Vec<DirChange> = scratch
                    .map_all(ScratchMap::DirChanges)?
                    .into_iter()
                    .map(|(_, json)| serde_json::from_str(&json).map_err(|e| StoreError::Other(e.to_string())))
                    .collect::<Result<_, StoreError>>()?;
                store.apply_dirs(job, &dir_changes).await?;
                job.phase = Phase::Commit;
                job.set(SyncStatus::Persisting, total, total, format!("Wrote {total} changes; committing"));
            } else {
                job.phase = Phase::Persist { done, total };
                job.set(SyncStatus::Persisting, done, total, format!("Wrote {done} of {total} changes"));
            }
        }
        Phase::Commit => {
            job.status = SyncStatus::Complete;
            job.progress = 100;
            job.message = complete_message(job);
            // Stats up to now travel with the COMPLETE row; the commit's own write is the last.
            account(job, ports, now_ms);
            match store.commit(job, now_ms).await {
                Ok(()) => {
                    job.phase = Phase::Finished;
                    let _ = scratch.clear();
                }
                Err(e) => {
                    job.status = SyncStatus::Persisting;
                    job.progress = 99;
                    return Err(e.into());
                }
            }
        }
        Phase::Finished => {}
    }
    Ok(())
}

/// Changed files whose text we keep, minus the blobs already analysed for this repository.
async fn plan_content<G: GitHub, S: Store, X: Scratch>(job: &mut Job, ports: &Ports<'_, G, S, X>, total: u64) -> Result<(), Stop> {
    let Ports { store, scratch, .. } = ports;
    if job.kind == SyncKind::Restore {
        // A restore talks to no GitHub: every version it brings back had its content stored
        // (by blob sha, for the repository) when it was first synced.
        return to_persist(job, format!("{total} changed paths"));
    }
    let mut wanted: HashMap<String, (u64, String)> = HashMap::new();
    let mut offset = 0;
    loop {
        let page = scratch.changes(offset, PERSIST_CHUNK as u64)?;
        if page.is_empty() {
            break;
        }
        offset += page.len() as u64;
        for new in page.iter().filter_map(Change::introduced) {
            let size = new.size.unwrap_or(0);
            if new.kind == crate::domain::FileKind::File && size <= job.max_text_bytes {
                wanted.entry(new.sha.to_string()).or_insert((size, new.path.clone()));
            }
        }
    }
    let shas: Vec<String> = wanted.keys().cloned().collect();
    for group in shas.chunks(crate::sqlbatch::DEFAULT_CHUNK_ROWS) {
        for known in store.known_blobs(&job.content_scope(), group).await? {
            wanted.remove(&known);
        }
    }
    let mut pending: Vec<(String, u64, String)> = wanted.into_iter().map(|(sha, (size, path))| (sha, size, path)).collect();
    pending.sort();
    scratch.put_pending_blobs(&pending)?;
    let needed = pending.len() as u64;
    if needed == 0 {
        return to_persist(job, format!("{total} changed paths; every content is already held"));
    }
    let needed_bytes = pending.iter().map(|(_, size, _)| size).sum();
    let method = choose_fetch(pending.len(), needed_bytes, job.tree_bytes);
    job.phase = match method {
        FetchMethod::Blobs => Phase::FetchBlobs { done: 0, total: needed },
        FetchMethod::Tarball => Phase::FetchTarball { total: needed },
    };
    let how = match method {
        FetchMethod::Blobs => "one request per file",
        FetchMethod::Tarball => "one tarball",
    };
    job.set(SyncStatus::Processing, 0, needed, format!("Reading {needed} new file contents ({needed_bytes} bytes) with {how}"));
    Ok(())
}

fn to_persist(job: &mut Job, message: String) -> Result<(), Stop> {
    let total = job.counts.added + job.counts.modified + job.counts.removed + job.counts.renamed;
    job.phase = Phase::Persist { done: 0, total };
    job.set(SyncStatus::Persisting, 0, total, format!("{message}; writing {total} changes"));
    Ok(())
}

/// Streams the commit's tarball once, analysing the wanted files as they pass and writing
/// them in bounded batches. Returns how many wanted files it found.
async fn fetch_tarball<G: GitHub, S: Store, X: Scratch>(
    job: &mut Job,
    ports: &Ports<'_, G, S, X>,
    commit: &CommitSha,
    total: u64,
) -> Result<u64, Stop> {
    let Ports { github, store, scratch } = ports;
    let pending = scratch.pending_blobs(0, total)?;
    let mut by_path: HashMap<String, String> = pending.into_iter().map(|(sha, _, path)| (path, sha)).collect();
    let mut source = github.tarball(&job.repository, commit).await?;
    let mut reader = TarReader::default();
    let mut batch: Vec<BlobContent> = Vec::new();
    let mut batch_bytes = 0u64;
    let mut found = 0u64;
    let scope = job.content_scope();
    while let Some(chunk) = source.next_chunk().await? {
        let mut files = Vec::new();
        reader
            .feed(&chunk, &mut |path, _| by_path.contains_key(path), &mut |f| files.push(f))
            .map_err(|e| Stop::Fail(e.to_string()))?;
        for f in files {
            if let Some(sha) = by_path.remove(&f.path) {
                batch_bytes += f.data.len() as u64;
                batch.push(analyse(&sha, &f.data));
                found += 1;
            }
        }
        if batch_bytes >= TARBALL_FLUSH_BYTES {
            store.put_blobs(&scope, &batch).await?;
            batch.clear();
            batch_bytes = 0;
            job.set(SyncStatus::Processing, found, total, format!("Read {found} of {total} files from the tarball"));
        }
    }
    reader.finish().map_err(|e| Stop::Fail(e.to_string()))?;
    store.put_blobs(&scope, &batch).await?;
    Ok(found)
}

fn complete_message(job: &Job) -> String {
    let c = job.counts;
    let what = match (&job.kind, &job.restore_from) {
        (SyncKind::Restore, Some((from, _))) => format!("Restored the state of sync {from}"),
        _ => match &job.commit_sha {
            Some(sha) => format!("Synced {} at {}", job.branch, &sha.as_str()[..7]),
            None => format!("Synced {}", job.branch),
        },
    };
    format!(
        "{what}: {} added, {} modified, {} removed, {} renamed, {} unchanged",
        c.added, c.modified, c.removed, c.renamed, c.unchanged
    )
}

async fn load_all<S: Store>(store: &S, project: &Id, seq: u64) -> Result<Vec<FileEntry>, StoreError> {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store.files_at(project, seq, after.as_deref(), HELD_PAGE).await?;
        let full = page.len() as u32 == HELD_PAGE;
        after = page.last().map(|f| f.path.clone());
        all.extend(page);
        if !full {
            return Ok(all);
        }
    }
}
