//! The sync state machine: fetch, diff, process, persist, commit — one bounded step at a
//! time over small ports, so the Durable Object can checkpoint after every step and resume
//! after eviction, and the whole pipeline runs natively against in-memory fakes.
//!
//! The files follow the statuses a user sees: `fetching` (head, tree, or an earlier state
//! for a restore), `diffing`, `processing` (contents), `persisting` (staging and the commit),
//! and `ending` (the final record of a sync that did not complete). `slice` drives steps
//! inside one invocation; `step` here is the dispatch.
//!
//! Visibility rule (see ARCHITECTURE.md): file versions carry the chain position (`seq`) of
//! the sync that introduced them and of the one that superseded them. A sync stages its rows
//! at `base_seq + 1`, which no reader looks at until the commit moves the project's
//! `current_seq` there in one compare-and-swap. Every staging write and the commit are fenced
//! by the sync's own status, so a sync that was ended elsewhere lands nothing more; what it
//! staged before is discarded by the next sync to start (or by its own ending).
//!
//! Checkpoint rule: `Job` and `Phase` are stored as JSON by running objects. New fields get
//! `#[serde(default)]` and variants are never renamed, so a deploy never strands a sync.

mod diffing;
mod ending;
mod fetching;
mod listing;
mod persisting;
mod ports;
mod processing;
mod similar;
pub mod slice;
mod tarlisting;

#[cfg(test)]
mod fakes;
#[cfg(test)]
mod tests;

pub use ports::*;

use crate::domain::{BranchName, CommitSha, Counts, ProjectId, RepoName, Stats, SyncId, SyncKind, SyncStatus, Trigger};
use crate::github::GhError;
use crate::pathfilter::PathFilter;
use crate::progress::{percent, ProgressData};
use serde::{Deserialize, Serialize};

/// Tree requests per step while walking a tree a level at a time.
pub const TREE_REQUESTS_PER_STEP: usize = 8;
/// Listed entries written to scratch at once while a tree answer streams in.
pub const LISTING_PAGE: usize = 2_000;
/// Subtrees left to list one by one (each a tree request) from which a first sync proves
/// them from the commit's tarball instead: one request and a pass over the archive, against
/// hundreds of requests in a tree of many small directories.
pub const TARBALL_LISTING_ABOVE: usize = 16;
/// Archive bytes one tree request saved is worth: a tarball known to be larger (gzip taken
/// as 3x) than this times the subtrees it would prove is not read for them (a repository of
/// large binaries lists its subtrees instead of downloading gigabytes to save a few requests).
pub const TARBALL_LISTING_BYTES_PER_REQUEST: u64 = 1 << 20;
/// Files larger than this are not hashed while listing from the tarball (one is held whole
/// to hash it); their subtree is listed instead.
pub const TARBALL_LISTING_FILE_MAX: u64 = 1 << 20;
/// Changes written to D1 per step (one transaction).
pub const PERSIST_CHUNK: usize = 1_000;
/// Files (or directories) read per query while diffing and loading a state. The engine
/// tests run with pages of 7, so that every listing they build crosses page boundaries.
#[cfg(not(test))]
pub const HELD_PAGE: u32 = 2_000;
#[cfg(test)]
pub const HELD_PAGE: u32 = 7;
/// Rename groups (one blob id each) paired per step.
#[cfg(not(test))]
pub const RENAME_GROUPS_PER_STEP: u64 = 500;
#[cfg(test)]
pub const RENAME_GROUPS_PER_STEP: u64 = 3;
/// Changes planned for content per step.
pub const PLAN_PAGE: u64 = 5_000;
/// A changed directory holding more files than this is listed one level at a time (so its
/// unchanged subtrees are skipped); a smaller one in a single recursive request.
pub const LEVEL_WALK_ABOVE_FILES: u64 = 2_000;
/// Blob requests per step when fetching contents one by one.
pub const BLOBS_PER_STEP: usize = 25;
/// Listed bytes of the blobs read in one step (at least one blob a step, whatever its
/// size). A step holds each blob's bytes, its text, its chunks, the pack and the index's
/// JSON at once, several times the budget: 25 blobs of 1 MB would pass the isolate's 128 MB.
pub const BLOB_BYTES_PER_STEP: u64 = 4 * 1024 * 1024;
/// Analysed text held in memory before it is written, while streaming a tarball.
pub const TARBALL_FLUSH_BYTES: u64 = 2 * 1024 * 1024;
/// Passes over the tarball before the blobs still missing are read one by one.
pub const TARBALL_MAX_PASSES: u32 = 3;
/// A store failure is retried this many times (across steps) before the sync fails.
pub const MAX_STORE_ATTEMPTS: u32 = 3;
/// The scratch layout this code reads and writes. A job checkpointed under an older one (a
/// deploy during its run) starts again from `Phase::Start`: every step is idempotent and
/// staged rows sit at a chain position no reader sees, so starting over is always safe.
pub const CHECKPOINT_LAYOUT: u32 = 3;
/// A step that was started this many times without finishing (the runtime killed it: out
/// of memory or CPU time) fails the sync instead of being tried for ever.
pub const MAX_STEP_ATTEMPTS: u32 = 3;

/// Where the pipeline is; each variant is resumable from its own fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "camelCase")]
pub enum Phase {
    Start,
    /// The held state's directory shas, a page at a time (what incremental descent compares).
    LoadHeldDirs {
        after: Option<String>,
    },
    ResolveHead,
    /// Trees still to list: `(path prefix, tree-ish, whether to ask for a recursive list)`.
    ListTree {
        pending: Vec<(String, String, bool)>,
        requests: u64,
        files: u64,
        /// Directories the filter left out (never listed).
        #[serde(default)]
        pruned: u64,
    },
    /// A first sync's walk with many subtrees left: those listed recursively are proven
    /// from the tarball instead (`tarlisting`), once; what it does not prove is listed.
    ListTarball {
        pending: Vec<(String, String, bool)>,
        requests: u64,
        files: u64,
        pruned: u64,
    },
    LoadTarget {
        after: Option<String>,
        files: u64,
    },
    /// The earlier state's directory shas (restores), a page at a time.
    LoadTargetDirs {
        after: Option<String>,
    },
    /// From checkpoints written before the streaming diff: the same as `MergeFiles` from "".
    Diff,
    /// The held and wanted files merged a page at a time from path `from` on.
    MergeFiles {
        from: String,
    },
    /// The same for directory shas.
    MergeDirs {
        from: String,
    },
    /// Added and removed paths with the same blob id paired as renames, group by group.
    PairRenames {
        after: Option<String>,
    },
    /// The candidates no rename took become added and removed changes.
    FlushCandidates {
        after: Option<(Side, String)>,
    },
    /// Renames with edits (`similar`): pairs of leftovers whose basename is unique on both
    /// sides, a page at a time from the source after `after`.
    SimilarNames {
        after: Option<String>,
    },
    /// The span counts of the leftovers the matrix weighs, by side then path after `after`.
    SimilarCounts {
        after: Option<(Side, String)>,
    },
    /// A page of destinations after `after` against all `sources`, each keeping its best four.
    SimilarMatrix {
        after: Option<String>,
        sources: u64,
    },
    /// The kept entries taken in git's order.
    SimilarAssign,
    /// Decide which contents to download (`offset` changes looked at so far), and how.
    PlanContent {
        total: u64,
        #[serde(default)]
        offset: u64,
        #[serde(default)]
        after: Option<String>,
    },
    FetchBlobs {
        done: u64,
        total: u64,
    },
    FetchTarball {
        total: u64,
        #[serde(default)]
        passes: u32,
    },
    Persist {
        done: u64,
        total: u64,
        #[serde(default)]
        after: Option<String>,
    },
    /// Directory changes staged like file changes, a page at a time.
    PersistDirs {
        after: Option<String>,
    },
    Commit,
    /// The outcome (FAILED or CANCELLED, in `job.status`) is decided; the sync's row is
    /// still to say so. Nothing else happens until it does.
    Ending,
    Finished,
}

/// Everything a sync needs to resume: the checkpoint the Durable Object stores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    pub sync_id: SyncId,
    pub project_id: ProjectId,
    pub repository: RepoName,
    pub branch: BranchName,
    pub kind: SyncKind,
    pub trigger: Trigger,
    /// For restores: the completed sync whose state is wanted, and its chain position.
    pub restore_from: Option<(SyncId, u64)>,
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
    pub base_sync_id: Option<SyncId>,
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
    /// Times the current step was started; reset when it finishes (see `MAX_STEP_ATTEMPTS`).
    #[serde(default)]
    pub step_attempts: u32,
    /// Failed tries of the final record, for the retry's backoff.
    #[serde(default)]
    pub end_attempts: u32,
    /// The scratch layout the job was checkpointed under (see `CHECKPOINT_LAYOUT`).
    #[serde(default)]
    pub layout: u32,
    /// The paths the state this sync brings holds (a restore: the restored sync's filter).
    #[serde(default)]
    pub filter: PathFilter,
    /// The filter of the state it builds on, read at the start (`None`: unknown).
    #[serde(default)]
    pub base_filter: Option<PathFilter>,
    /// Bytes of listed files the filter left out (a tarball carries them all the same).
    #[serde(default)]
    pub filtered_bytes: u64,
    /// A dry run: everything up to the diff, and nothing written but its changes and row.
    #[serde(default)]
    pub dry_run: bool,
    /// The rename limit stopped the similarity matrix (`crate::renames`): renames with edits
    /// beyond unique basenames were not looked for, as git skips them.
    #[serde(default)]
    pub renames_limited: bool,
    /// The tree walk has read the tarball for subtrees once (`tarlisting`).
    #[serde(default)]
    pub listed_from_tarball: bool,
    /// Bytes of the files listed so far, the filter's included (what a tarball carries of
    /// them: a lower bound of its size while the walk goes on).
    #[serde(default)]
    pub listed_bytes: u64,
}

/// What starting a sync needs: the request the worker sends the sync's object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewJob {
    pub sync_id: SyncId,
    pub project_id: ProjectId,
    pub repository: RepoName,
    pub branch: BranchName,
    pub kind: SyncKind,
    pub trigger: Trigger,
    /// For restores: the sync whose state is wanted, its chain position and its commit.
    pub restore_from: Option<(SyncId, u64, Option<CommitSha>)>,
    pub started_at_ms: u64,
    pub max_text_bytes: u64,
    #[serde(default)]
    pub filter: PathFilter,
    #[serde(default)]
    pub dry_run: bool,
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
            step_attempts: 0,
            end_attempts: 0,
            layout: CHECKPOINT_LAYOUT,
            filter: n.filter,
            base_filter: None,
            filtered_bytes: 0,
            dry_run: n.dry_run,
            renames_limited: false,
            listed_from_tarball: false,
            listed_bytes: 0,
        }
    }

    /// The state it builds on was held under another filter (or one we cannot tell): the
    /// held directory shas say nothing about which of their paths we hold, so every
    /// directory is listed again, and paths the filters disagree on are no rename candidates.
    pub fn filter_changed(&self) -> bool {
        self.base_sync_id.is_some() && self.base_filter.as_ref() != Some(&self.filter)
    }

    /// Restarts a running job checkpointed under an older scratch layout.
    pub fn upgrade(&mut self) {
        if self.layout < CHECKPOINT_LAYOUT && !matches!(self.phase, Phase::Ending | Phase::Finished) {
            self.phase = Phase::Start;
            self.counts = Counts::default();
            self.tree_bytes = 0;
        }
        self.layout = CHECKPOINT_LAYOUT;
    }

    /// Contents are shared by every project of the same repository.
    pub fn content_scope(&self) -> String {
        self.repository.canonical()
    }

    pub fn new_seq(&self) -> u64 {
        self.base_seq + 1
    }

    /// The sync's row says how it ended, and nothing is left to do.
    pub fn is_finished(&self) -> bool {
        self.phase == Phase::Finished
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
    /// The sync's row was ended elsewhere: adopt that ending.
    Ended {
        status: SyncStatus,
        error: Option<String>,
    },
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
            StoreError::NotRunning { status, error } => Stop::Ended { status, error },
            gone_or_moved => Stop::Fail(gone_or_moved.to_string()),
        }
    }
}

/// Runs one bounded step and returns the events it produced (the last one describes the
/// job's new state). Call until `job.is_finished()`; checkpoint `job` after every call.
pub async fn step<G: GitHub, S: Store, X: Scratch>(job: &mut Job, ports: &Ports<'_, G, S, X>, now_ms: u64) -> Vec<ProgressData> {
    match job.phase {
        Phase::Finished => return Vec::new(),
        Phase::Ending => return ending::end(job, ports, now_ms).await,
        _ => {}
    }
    let result = if job.step_attempts > MAX_STEP_ATTEMPTS {
        Err(Stop::Fail(format!(
            "a step ({}) was stopped by the runtime {} times before it finished (out of memory or CPU time)",
            phase_name(&job.phase),
            job.step_attempts - 1
        )))
    } else if job.cancel_requested && job.phase != Phase::Commit {
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
        Err(Stop::Retry(e)) => ending::begin(job, SyncStatus::Failed, Some(e.to_string())),
        Err(Stop::Fail(why)) => ending::begin(job, SyncStatus::Failed, Some(why)),
        Err(Stop::Cancel) => ending::begin(job, SyncStatus::Cancelled, None),
        Err(Stop::Ended { status, error }) => ending::adopt(job, status, error),
    }
    account(job, ports, now_ms);
    match job.phase {
        // The COMPLETE row was written by the commit itself.
        Phase::Finished => vec![job.event()],
        Phase::Ending => ending::end(job, ports, now_ms).await,
        _ => record_progress(job, ports, now_ms).await,
    }
}

/// Ends a job that cannot run at all (say, its credentials are unreadable) as FAILED with
/// `why`; the next step writes the row.
pub fn abandon(job: &mut Job, why: String) {
    if !matches!(job.phase, Phase::Ending | Phase::Finished) {
        ending::begin(job, SyncStatus::Failed, Some(why));
    }
}

/// Records a running job's progress. A failed record is not fatal (the next step records
/// again); a row that was ended elsewhere ends the job the same way.
async fn record_progress<G: GitHub, S: Store, X: Scratch>(job: &mut Job, ports: &Ports<'_, G, S, X>, now_ms: u64) -> Vec<ProgressData> {
    let recorded = ports.store.record(job, None).await;
    account(job, ports, now_ms);
    match recorded {
        Ok(Recorded::AlreadyEnded { status, error }) if status != SyncStatus::Complete => {
            ending::adopt(job, status, error);
            ending::end(job, ports, now_ms).await
        }
        _ => vec![job.event()],
    }
}

fn account<G: GitHub, S: Store, X: Scratch>(job: &mut Job, ports: &Ports<'_, G, S, X>, now_ms: u64) {
    let gh = ports.github.take_stats();
    job.stats.github_requests += gh.github_requests;
    job.stats.github_not_modified += gh.github_not_modified;
    job.stats.bytes_downloaded += gh.bytes_downloaded;
    job.stats.d1_rows_written += ports.store.take_rows_written();
    job.stats.duration_ms = now_ms.saturating_sub(job.started_at_ms);
}

/// One step of the current phase: a short dispatch to the file that owns the phase.
async fn advance<G: GitHub, S: Store, X: Scratch>(job: &mut Job, ports: &Ports<'_, G, S, X>, now_ms: u64) -> Result<(), Stop> {
    match job.phase.clone() {
        Phase::Start => fetching::start(job, ports).await,
        Phase::LoadHeldDirs { after } => fetching::load_held_dirs(job, ports, after).await,
        Phase::ResolveHead => fetching::resolve_head(job, ports).await,
        Phase::ListTree { pending, requests, files, pruned } => fetching::list_tree(job, ports, pending, requests, files, pruned).await,
        Phase::ListTarball { pending, requests, files, pruned } => {
            tarlisting::list_from_tarball(job, ports, pending, requests, files, pruned).await
        }
        Phase::LoadTarget { after, files } => fetching::load_target(job, ports, after, files).await,
        Phase::LoadTargetDirs { after } => fetching::load_target_dirs(job, ports, after).await,
        Phase::Diff => diffing::merge_files(job, ports, String::new()).await,
        Phase::MergeFiles { from } => diffing::merge_files(job, ports, from).await,
        Phase::MergeDirs { from } => diffing::merge_dirs(job, ports, from).await,
        Phase::PairRenames { after } => diffing::pair_renames(job, ports, after).await,
        Phase::FlushCandidates { after } => diffing::flush_candidates(job, ports, after).await,
        Phase::PlanContent { total, offset, after } => processing::plan_content(job, ports, total, offset, after).await,
        Phase::FetchBlobs { done, total } => processing::fetch_blobs(job, ports, done, total).await,
        Phase::FetchTarball { total, passes } => processing::fetch_tarball(job, ports, total, passes).await,
        Phase::SimilarNames { after } => similar::names(job, ports, after).await,
        Phase::SimilarCounts { after } => similar::count(job, ports, after).await,
        Phase::SimilarMatrix { after, sources } => similar::matrix(job, ports, after, sources).await,
        Phase::SimilarAssign => similar::assign(job, ports).await,
        Phase::Persist { done, total, after } => persisting::persist(job, ports, done, total, after).await,
        Phase::PersistDirs { after } => persisting::persist_dirs(job, ports, after).await,
        Phase::Commit => persisting::commit(job, ports, now_ms).await,
        Phase::Ending | Phase::Finished => Ok(()),
    }
}

/// The phase's name as messages give it.
fn phase_name(phase: &Phase) -> &'static str {
    match phase {
        Phase::Start => "start",
        Phase::LoadHeldDirs { .. } => "loading the held directories",
        Phase::ResolveHead => "reading the head",
        Phase::ListTree { .. } => "listing the tree",
        Phase::ListTarball { .. } => "reading the tree from the tarball",
        Phase::LoadTarget { .. } | Phase::LoadTargetDirs { .. } => "loading the earlier state",
        Phase::Diff | Phase::MergeFiles { .. } | Phase::MergeDirs { .. } => "diffing",
        Phase::PairRenames { .. } | Phase::FlushCandidates { .. } => "pairing renames",
        Phase::PlanContent { .. } => "planning contents",
        Phase::FetchBlobs { .. } => "reading blobs",
        Phase::FetchTarball { .. } => "reading the tarball",
        Phase::SimilarNames { .. } | Phase::SimilarCounts { .. } | Phase::SimilarMatrix { .. } | Phase::SimilarAssign => {
            "pairing renames with edits"
        }
        Phase::Persist { .. } | Phase::PersistDirs { .. } => "writing changes",
        Phase::Commit => "committing",
        Phase::Ending => "ending",
        Phase::Finished => "finished",
    }
}

fn short(sha: &CommitSha) -> &str {
    &sha.as_str()[..7]
}
