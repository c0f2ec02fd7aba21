//! The job: what a running sync's object checkpoints after every step (as JSON, see the
//! checkpoint rule in `engine`), and where in the pipeline it is (`Phase`).

use super::CHECKPOINT_LAYOUT;
use crate::domain::{BranchName, CommitSha, Counts, ProjectId, RepoName, Stats, SyncId, SyncKind, SyncStatus, Trigger};
use crate::pathfilter::PathFilter;
use crate::progress::{percent, ProgressData};
use serde::{Deserialize, Serialize};

/// Which side of the diff a path is on, before renames are paired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Added,
    Removed,
}

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
    /// The status and time (epoch ms) of the row's last progress write (`record_due`).
    #[serde(default)]
    pub recorded: Option<(SyncStatus, u64)>,
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
            recorded: None,
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

    /// Whether a running job's progress is to be written to its row now: when its status
    /// changed since the last write, or `RECORD_EVERY_MS` passed (the reaper's heartbeat).
    /// Live progress goes out as an event every step; the row follows at this pace, as each
    /// write of it is D1 rows.
    pub fn record_due(&self, now_ms: u64) -> bool {
        match self.recorded {
            Some((status, at_ms)) => status != self.status || now_ms.saturating_sub(at_ms) >= super::RECORD_EVERY_MS,
            None => true,
        }
    }

    pub(super) fn set(&mut self, status: SyncStatus, done: u64, total: u64, message: String) {
        self.status = status;
        self.progress = percent(status, done, total, self.progress);
        self.message = message;
    }
}
