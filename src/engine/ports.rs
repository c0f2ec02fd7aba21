//! The engine's ports: GitHub, the shared store (D1), the sync's own scratch space (its
//! Durable Object's SQLite) and the meter that bounds what one invocation may spend. The
//! shell implements them over the runtime; `fakes` implements them in memory.

use super::Side;
use crate::content::BlobContent;
use crate::diff::{Change, DirChange, FileEntry};
use crate::domain::{BranchName, CommitSha, ProjectId, RepoName, Stats, SyncId, SyncStatus};
use crate::github::GhError;
use crate::merge::Span;
use crate::similarity::SpanCounts;
use std::cell::Cell;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// The project (and so the sync) was deleted while the sync ran.
    ProjectGone,
    /// Another sync moved the chain first.
    ChainMoved,
    /// The sync's row is no longer running: something else (the reaper, a cancel recorded
    /// elsewhere) ended it, and no write of this sync may land any more.
    NotRunning {
        status: SyncStatus,
        error: Option<String>,
    },
    Other(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::ProjectGone => f.write_str("the project was deleted"),
            StoreError::ChainMoved => f.write_str("another sync completed first"),
            StoreError::NotRunning { status, .. } => write!(f, "the sync was already ended ({})", status.as_str()),
            StoreError::Other(e) => write!(f, "database error: {e}"),
        }
    }
}

/// The project's committed position in the chain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectHead {
    pub current_sync_id: Option<SyncId>,
    pub current_seq: u64,
    /// The commit whose tree the current state is (None before the first sync).
    pub current_commit_sha: Option<CommitSha>,
    /// The filter the current state was made with (None before the first sync, or unreadable).
    pub current_filter: Option<crate::pathfilter::PathFilter>,
}

/// What a guarded write of the sync's row found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// The row was running and now says what the job says.
    Written,
    /// The row had already ended; it was left exactly as it was.
    AlreadyEnded { status: SyncStatus, error: Option<String> },
}

/// A blob whose text is still to be read, with the first path (in path order) that has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingBlob {
    pub sha: String,
    pub size: u64,
    pub path: String,
}

/// GitHub, as the engine needs it. Adapters retry transient faults themselves and count
/// every request in `take_stats` (and on the meter).
#[allow(async_fn_in_trait)]
pub trait GitHub {
    async fn head(&self, repo: &RepoName, branch: &BranchName) -> Result<CommitSha, GhError>;
    /// The answer listing `tree_ish` (a commit or tree sha; the directory `prefix`), as its
    /// bytes arrive (`github::TreeReader` reads it).
    async fn tree(&self, repo: &RepoName, tree_ish: &str, recursive: bool, prefix: &str) -> Result<Self::Download, GhError>;
    /// One blob's bytes (`git/blobs/{sha}`).
    async fn blob(&self, repo: &RepoName, sha: &str) -> Result<Vec<u8>, GhError>;
    /// A download, read a chunk at a time (never whole in memory).
    type Download: ByteSource;
    /// The commit's tarball, decompressed, as a stream of chunks.
    async fn tarball(&self, repo: &RepoName, commit: &CommitSha) -> Result<Self::Download, GhError>;
    /// GitHub requests, 304s and bytes since the last call.
    fn take_stats(&self) -> Stats;
}

/// A pull-based byte stream (a decompressing download in production).
#[allow(async_fn_in_trait)]
pub trait ByteSource {
    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, GhError>;
}

/// The durable, shared state (D1 in production). Every write that stages or commits a
/// sync's work is fenced by that sync's own status: once its row has ended, it lands nothing.
#[allow(async_fn_in_trait)]
pub trait Store {
    async fn project_head(&self, project: &ProjectId) -> Result<ProjectHead, StoreError>;
    /// Removes, a bounded amount at a time, what syncs of this project that ended without
    /// completing (FAILED or CANCELLED, so fenced for good) staged and never committed: the
    /// rows at `current_seq + 1`. `caller` is the sync asking: a running one before it
    /// stages, or one that has ended; while any other sync of the project runs, nothing is
    /// touched (that one discards before it stages). Returns true once nothing is left for
    /// the caller to do. Never touches the rows of a sync running beside the caller. Idempotent.
    async fn discard_ended(&self, project: &ProjectId, caller: &SyncId) -> Result<bool, StoreError>;
    /// Files active right after the sync at `seq` with a path in `span`, sorted by path.
    async fn files_in(&self, project: &ProjectId, seq: u64, span: &Span, limit: u32) -> Result<Vec<FileEntry>, StoreError>;
    /// `files_in` for each (span, limit), in one round trip.
    async fn files_in_each(&self, project: &ProjectId, seq: u64, spans: &[(Span, u32)]) -> Result<Vec<Vec<FileEntry>>, StoreError>;
    /// How many files are active at `seq` with a path in any of `spans` (disjoint), and
    /// their bytes, in one round trip.
    async fn count_in_each(&self, project: &ProjectId, seq: u64, spans: &[Span]) -> Result<(u64, u64), StoreError>;
    /// Stages `changes` at `job.new_seq()`: supersedes old versions, then inserts new ones
    /// (an LFS pointer's kind and any reason to keep no text come from the analysed blob).
    /// Idempotent; lands nothing once the sync's row has ended.
    async fn apply(&self, job: &super::Job, changes: &[Change]) -> Result<(), StoreError>;
    /// Makes the sync current if the chain is still at `base_seq` and the sync still
    /// running; marks it COMPLETE in the same transaction. `Ok` also when an earlier try of
    /// this very commit landed.
    async fn commit(&self, job: &super::Job, completed_at_ms: u64) -> Result<(), StoreError>;
    /// A dry run's changes, kept apart from every version (its `/changes`). Idempotent
    /// (keyed by path) and fenced by the sync's status like `apply`.
    async fn stage_preview(&self, job: &super::Job, changes: &[Change]) -> Result<(), StoreError>;
    /// Marks a dry run COMPLETE while it is still running, outside the chain: the project
    /// and its state stay exactly as they were. `Ok` also when an earlier try landed.
    async fn commit_preview(&self, job: &super::Job, completed_at_ms: u64) -> Result<(), StoreError>;
    /// Writes the sync's visible row (status, progress, counts, stats, error) while it is
    /// running; an ended row is never rewritten.
    async fn record(&self, job: &super::Job, completed_at_ms: Option<u64>) -> Result<Recorded, StoreError>;
    /// Directory tree shas active right after the sync at `seq` in `span`, sorted by path.
    async fn dirs_in(&self, project: &ProjectId, seq: u64, span: &Span, limit: u32) -> Result<Vec<(String, String)>, StoreError>;
    /// `dirs_in` for each (span, limit), in one round trip.
    async fn dirs_in_each(&self, project: &ProjectId, seq: u64, spans: &[(Span, u32)]) -> Result<Vec<Vec<(String, String)>>, StoreError>;
    /// How many files are active at `seq` strictly inside each of `dirs`, in one query.
    async fn count_files_under(&self, project: &ProjectId, seq: u64, dirs: &[String]) -> Result<Vec<u64>, StoreError>;
    /// Stages directory changes like `apply` stages file changes. Idempotent and fenced.
    async fn apply_dirs(&self, job: &super::Job, changes: &[DirChange]) -> Result<(), StoreError>;
    /// The kept texts of those of these blobs that are analysed: `None` for a blob that is
    /// not text (binary, LFS pointer, not UTF-8); a blob not analysed is not in the answer.
    async fn blob_texts(&self, scope: &str, shas: &[String]) -> Result<Vec<(String, Option<Vec<u8>>)>, StoreError>;
    /// Which of these blobs (of the content scope, i.e. repository) are already analysed.
    async fn known_blobs(&self, scope: &str, shas: &[String]) -> Result<Vec<String>, StoreError>;
    /// Stores analysed blobs and their chunks, once per scope and sha. Idempotent.
    async fn put_blobs(&self, scope: &str, blobs: &[BlobContent]) -> Result<(), StoreError>;
    /// D1 rows written since the last call.
    fn take_rows_written(&self) -> u64;
}

/// The part of scratch that renames with edits use: what exact pairing left over, the
/// pairs by unique basename, span counts by blob, and the matrix's kept entries.
pub trait Leftovers {
    /// Keeps what exact pairing left over, for renames with edits (`crate::renames`).
    fn add_leftovers(&self, side: Side, files: &[FileEntry]) -> Result<(), StoreError>;
    /// Every leftover, whatever took it since: (removed, added). The same however often a
    /// step is replayed.
    fn leftover_totals(&self) -> Result<(u64, u64), StoreError>;
    /// The leftovers the matrix weighs (no basename pair took them): (removed, added).
    fn weighed_leftovers(&self) -> Result<(u64, u64), StoreError>;
    /// Finds once, over every leftover, the pairs whose basename is unique on both sides.
    /// Idempotent: the leftovers never change, only what took them.
    fn find_name_pairs(&self) -> Result<(), StoreError>;
    /// Those pairs (removed, added) with a source path after `after`, in source order.
    fn name_pairs(&self, after: Option<&str>, limit: u64) -> Result<Vec<(FileEntry, FileEntry)>, StoreError>;
    /// Marks leftovers that a rename took, and which step took them.
    fn take_leftovers(&self, side: Side, paths: &[String], by: TakenBy) -> Result<(), StoreError>;
    /// Leftovers the matrix weighs (not taken by basename) that are regular, non-empty files
    /// whose blob has no span counts yet, by side then path, after `after`.
    fn uncounted(&self, after: Option<(Side, &str)>, limit: u64) -> Result<Vec<(Side, FileEntry)>, StoreError>;
    /// The leftovers of `side` at these paths.
    fn leftovers_at(&self, side: Side, paths: &[String]) -> Result<Vec<FileEntry>, StoreError>;
    /// The span counts kept for those of these blobs that have them (outer `None`: not
    /// counted yet is left out of the answer; inner `None`: no text).
    fn span_counts(&self, shas: &[String]) -> Result<Vec<(String, Option<SpanCounts>)>, StoreError>;
    /// Span counts by blob sha (`None`: the blob has no text we keep).
    fn put_span_counts(&self, counts: &[(String, Option<SpanCounts>)]) -> Result<(), StoreError>;
    /// The matrix's leftovers of one side in path order after `after`, with their blob's
    /// span counts: at most `limit`, and no more than `max_bytes` of counts (one at least).
    fn matrix_side(
        &self,
        side: Side,
        after: Option<&str>,
        limit: u64,
        max_bytes: u64,
    ) -> Result<Vec<(FileEntry, Option<SpanCounts>)>, StoreError>;
    /// Keeps matrix entries (idempotent: keyed by destination and slot).
    fn put_kept(&self, kept: &[Kept]) -> Result<(), StoreError>;
    /// Kept entries in git's order (score, same name first, destination, slot), after `after`.
    fn kept_after(&self, after: Option<&Kept>, limit: u64) -> Result<Vec<Kept>, StoreError>;
}

/// Per-sync scratch space that survives eviction (the Durable Object's own SQLite). Every
/// listing in it is read a page at a time, in path order.
pub trait Scratch: Leftovers {
    fn put_wanted(&self, files: &[FileEntry]) -> Result<(), StoreError>;
    /// Wanted files with a path in `span`, in path order.
    fn wanted_in(&self, span: &Span, limit: u64) -> Result<Vec<FileEntry>, StoreError>;
    /// Writes changes, keyed by path (a repeated path replaces the earlier change).
    fn put_changes(&self, changes: &[Change]) -> Result<(), StoreError>;
    /// Changes in path order, with a path after `after`.
    fn changes_after(&self, after: Option<&str>, limit: u64) -> Result<Vec<Change>, StoreError>;
    /// Small string maps (directories held and wanted, directory changes).
    fn map_put(&self, map: ScratchMap, entries: &[(String, String)]) -> Result<(), StoreError>;
    fn map_get(&self, map: ScratchMap, key: &str) -> Result<Option<String>, StoreError>;
    /// Entries with a key in `span`, in key order.
    fn map_in(&self, map: ScratchMap, span: &Span, limit: u64) -> Result<Vec<(String, String)>, StoreError>;
    /// Forgets the files and directories kept strictly below `dir`, and which of them were
    /// listed whole (what a tarball said of a subtree whose id it did not prove; the
    /// subtree is then listed).
    fn forget_below(&self, dir: &str) -> Result<(), StoreError>;
    /// A directory whose tree sha did not change: its files and subdirectories are the held
    /// ones (whatever of them a truncated listing already kept is forgotten).
    fn add_unchanged(&self, dir: &str) -> Result<(), StoreError>;
    /// The first unchanged directory's range that ends after `from` (ranges never overlap).
    fn next_unchanged(&self, from: &str) -> Result<Option<Span>, StoreError>;
    /// Paths only one side has: rename candidates, paired by blob id and type.
    fn add_candidates(&self, side: Side, files: &[FileEntry]) -> Result<(), StoreError>;
    /// Rename groups (blob id and object type) that both sides have, after `after`
    /// (paired candidates included, so the list is the same however often it is read).
    fn rename_groups(&self, after: Option<&str>, limit: u64) -> Result<Vec<String>, StoreError>;
    /// The added and the removed files of one rename group, each in path order.
    fn group(&self, key: &str) -> Result<(Vec<FileEntry>, Vec<FileEntry>), StoreError>;
    /// Marks candidates a rename took (kept, so a replayed step sees the same groups).
    fn mark_paired(&self, side: Side, paths: &[String]) -> Result<(), StoreError>;
    /// How many candidates `side` has (paired or not).
    fn candidate_count(&self, side: Side) -> Result<u64, StoreError>;
    /// Candidates no rename took, by side then path, after `after`.
    fn candidates_after(&self, after: Option<(Side, &str)>, limit: u64) -> Result<Vec<(Side, FileEntry)>, StoreError>;
    /// Drops changes by path (the removal a rename with edits replaces).
    fn remove_changes(&self, paths: &[String]) -> Result<(), StoreError>;
    /// Adds blobs to read; a sha already pending keeps the path it came with first.
    fn add_pending_blobs(&self, blobs: &[PendingBlob]) -> Result<(), StoreError>;
    /// Blobs not read yet, in path order, with a path greater than `after`.
    fn pending_blobs(&self, after: Option<&str>, limit: u64) -> Result<Vec<PendingBlob>, StoreError>;
    /// How many blobs are not read yet, and their bytes.
    fn pending_totals(&self) -> Result<(u64, u64), StoreError>;
    /// Marks blobs as read (stored in the shared store), so no later pass reads them again.
    fn mark_read(&self, shas: &[String]) -> Result<(), StoreError>;
    fn clear(&self) -> Result<(), StoreError>;
}

/// Which similarity step took a leftover: the matrix weighs what basenames did not take,
/// so a replayed matrix step sees the same leftovers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TakenBy {
    Basename,
    Matrix,
}

/// A matrix entry kept for a destination: its slot, the source and its score.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    pub dst: String,
    pub slot: u8,
    pub src: String,
    pub score: u32,
    pub same_name: bool,
}

impl Kept {
    /// The key git's order sorts by, ascending.
    pub fn order_key(&self) -> (u32, bool, &str, u8) {
        (u32::MAX - self.score, !self.same_name, self.dst.as_str(), self.slot)
    }
}

/// The rename group of a file: its blob id and its object type (a symlink never becomes a
/// file by a rename).
pub fn rename_group(f: &FileEntry) -> String {
    format!("{} {}", f.sha, crate::diff::object_type(f.mode))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScratchMap {
    /// Directory → tree sha in the state the sync builds on.
    HeldDirs,
    /// Directory → tree sha in the state the sync brings.
    WantedDirs,
    /// Directory → JSON `DirChange`.
    DirChanges,
    /// Directories a truncated listing provably held whole: already listed, not again.
    ListedWhole,
}

impl ScratchMap {
    pub fn name(self) -> &'static str {
        match self {
            ScratchMap::HeldDirs => "held_dirs",
            ScratchMap::WantedDirs => "wanted_dirs",
            ScratchMap::DirChanges => "dir_changes",
            ScratchMap::ListedWhole => "listed_whole",
        }
    }
}

/// What one invocation may spend. The platform allows 1,000 D1 queries and 10,000
/// subrequests (D1 and object calls included) per invocation; the adapters count every one
/// here, and the engine ends a slice (or a step's loop) once either budget is spent, far
/// enough below the platform's limits that the unit of work in hand always fits.
#[derive(Debug)]
pub struct Meter {
    queries: Cell<u32>,
    subrequests: Cell<u32>,
    max_queries: u32,
    max_subrequests: u32,
}

/// D1 queries one slice may make before it hands over to a fresh invocation.
pub const SLICE_MAX_QUERIES: u32 = 400;
/// Subrequests (GitHub fetches, D1 queries, object calls) one slice may make.
pub const SLICE_MAX_SUBREQUESTS: u32 = 4_000;

impl Default for Meter {
    fn default() -> Self {
        Meter::new(SLICE_MAX_QUERIES, SLICE_MAX_SUBREQUESTS)
    }
}

impl Meter {
    pub fn new(max_queries: u32, max_subrequests: u32) -> Self {
        Meter { queries: Cell::new(0), subrequests: Cell::new(0), max_queries, max_subrequests }
    }

    /// `n` D1 queries (each also a subrequest).
    pub fn query(&self, n: u32) {
        self.queries.set(self.queries.get().saturating_add(n));
        self.subrequest(n);
    }

    /// `n` subrequests that are not D1 queries (fetches, object calls).
    pub fn subrequest(&self, n: u32) {
        self.subrequests.set(self.subrequests.get().saturating_add(n));
    }

    pub fn spent(&self) -> bool {
        self.queries.get() >= self.max_queries || self.subrequests.get() >= self.max_subrequests
    }

    /// (queries, subrequests) counted so far.
    pub fn used(&self) -> (u32, u32) {
        (self.queries.get(), self.subrequests.get())
    }

    /// A new invocation starts with a full budget.
    pub fn reset(&self) {
        self.queries.set(0);
        self.subrequests.set(0);
    }
}

pub struct Ports<'a, G: GitHub, S: Store, X: Scratch> {
    pub github: &'a G,
    pub store: &'a S,
    pub scratch: &'a X,
    pub meter: &'a Meter,
}
