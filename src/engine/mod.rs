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
mod job;
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

pub use job::*;
pub use ports::*;

use crate::domain::{CommitSha, SyncStatus};
use crate::github::GhError;
use crate::progress::ProgressData;

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
/// A running sync's row is written at least this often while its status stays the same
/// (every status change is written at once). The reaper ends a sync whose row was not
/// written for `reaper::STALE_AFTER_MS`, minutes longer.
pub const RECORD_EVERY_MS: u64 = 2_000;
/// A store failure is retried this many times (across steps) before the sync fails.
pub const MAX_STORE_ATTEMPTS: u32 = 3;
/// The scratch layout this code reads and writes. A job checkpointed under an older one (a
/// deploy during its run) starts again from `Phase::Start`: every step is idempotent and
/// staged rows sit at a chain position no reader sees, so starting over is always safe.
pub const CHECKPOINT_LAYOUT: u32 = 3;
/// A step that was started this many times without finishing (the runtime killed it: out
/// of memory or CPU time) fails the sync instead of being tried for ever.
pub const MAX_STEP_ATTEMPTS: u32 = 3;

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

/// Records a running job's progress when due (`Job::record_due`). A failed record is not
/// fatal (the next step records again); a row that was ended elsewhere ends the job the
/// same way.
async fn record_progress<G: GitHub, S: Store, X: Scratch>(job: &mut Job, ports: &Ports<'_, G, S, X>, now_ms: u64) -> Vec<ProgressData> {
    if !job.record_due(now_ms) {
        return vec![job.event()];
    }
    let recorded = ports.store.record(job, None).await;
    if recorded.is_ok() {
        job.recorded = Some((job.status, now_ms));
    }
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
