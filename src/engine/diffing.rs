//! DIFFING, as a streaming merge: the held files (paged from D1 by path) against the wanted
//! ones (paged from scratch by path), a few pages a step (`crate::merge`). A directory whose
//! tree sha did not change was never listed: its range is skipped in both streams and its
//! held files counted as unchanged in one query. Paths only one side has become rename
//! candidates in scratch, paired group by group (one blob id and object type each), as
//! `git diff -M` pairs exact renames; the rest become added and removed changes. Directory
//! shas are merged the same way. Memory is bounded by a page (and the largest group of
//! identical files), never by the repository.

use super::{GitHub, Job, Phase, Ports, Scratch, ScratchMap, Side, Stop, Store, StoreError, HELD_PAGE, RENAME_GROUPS_PER_STEP};
use crate::diff::{self, Change, DirChange, FileEntry};
use crate::domain::SyncStatus;
use crate::merge::{merge_page, successor, Merged, Pair, Span};

/// Pages of each listing merged per step (the meter may stop a step earlier).
const PAGES_PER_STEP: usize = 4;

/// Where a merge goes next: on from a key, past an unchanged range, or done.
enum Next {
    From(String),
    Done,
}

/// Merges the next page of each stream within the part of `from..` that precedes the next
/// unchanged range; at the end of that part, skips the range. `on_range` is told of each
/// range skipped; returns the merged pairs and where to go on from.
async fn next_segment<T, H>(
    scratch: &impl Scratch,
    from: &str,
    held: impl FnOnce(Span) -> H,
    wanted: impl FnOnce(&Span) -> Result<Vec<T>, StoreError>,
) -> Result<(Merged<T>, Option<Span>), StoreError>
where
    T: crate::merge::Keyed + Clone,
    H: std::future::Future<Output = Result<Vec<T>, StoreError>>,
{
    let range = scratch.next_unchanged(from)?;
    let segment = Span { from: from.to_string(), until: range.as_ref().map(|r| r.from.clone()) };
    let wanted = wanted(&segment)?;
    let held = held(segment).await?;
    let merged = merge_page(&held, (held.len() as u32) < HELD_PAGE, &wanted, (wanted.len() as u32) < HELD_PAGE);
    Ok((merged, range))
}

/// Where to go after a segment: past its last key, or past the range that ends it.
fn after_segment(through: Option<String>, range: Option<&Span>) -> Next {
    match (through, range) {
        (Some(key), _) => Next::From(successor(&key)),
        (None, Some(Span { until: Some(end), .. })) => Next::From(end.clone()),
        (None, _) => Next::Done,
    }
}

pub(super) async fn merge_files<G: GitHub, S: Store, X: Scratch>(job: &mut Job, ports: &Ports<'_, G, S, X>, mut from: String) -> Result<(), Stop> {
    let Ports { store, scratch, meter, .. } = ports;
    if from.is_empty() {
        // A (re)started merge counts from zero.
        job.counts = Default::default();
        job.tree_bytes = 0;
    }
    for _ in 0..PAGES_PER_STEP {
        let (project, seq) = (job.project_id.clone(), job.base_seq);
        let (merged, range) = next_segment(*scratch, &from, |span| async move { store.files_in(&project, seq, &span, HELD_PAGE).await }, |span| {
            scratch.wanted_in(span, u64::from(HELD_PAGE))
        })
        .await?;
        let through = merged.through.clone();
        emit_files(job, *scratch, merged.pairs)?;
        if through.is_none() {
            if let Some(r) = &range {
                let (files, bytes) = store.count_in(&job.project_id, job.base_seq, r).await?;
                job.counts.unchanged += files;
                job.tree_bytes += bytes;
            }
        }
        match after_segment(through, range.as_ref()) {
            Next::From(next) => from = next,
            Next::Done => {
                job.phase = Phase::MergeDirs { from: String::new() };
                return Ok(());
            }
        }
        if meter.spent() {
            break;
        }
    }
    job.set(SyncStatus::Diffing, 0, 1, format!("Compared the files up to {from}"));
    job.phase = Phase::MergeFiles { from };
    Ok(())
}

/// Modified paths become changes; paths one side alone has become rename candidates.
fn emit_files(job: &mut Job, scratch: &impl Scratch, pairs: Vec<Pair<FileEntry>>) -> Result<(), StoreError> {
    let (mut modified, mut added, mut removed) = (Vec::new(), Vec::new(), Vec::new());
    for pair in pairs {
        match pair {
            Pair::Both { held, wanted } => {
                job.tree_bytes += wanted.size.unwrap_or(0);
                if held.sha == wanted.sha && held.mode == wanted.mode {
                    job.counts.unchanged += 1;
                } else {
                    modified.push(Change::Modified { old: held, new: wanted });
                }
            }
            Pair::HeldOnly(held) => removed.push(held),
            Pair::WantedOnly(wanted) => {
                job.tree_bytes += wanted.size.unwrap_or(0);
                added.push(wanted);
            }
        }
    }
    job.counts.modified += modified.len() as u64;
    scratch.put_changes(&modified)?;
    scratch.add_candidates(Side::Added, &added)?;
    scratch.add_candidates(Side::Removed, &removed)
}

pub(super) async fn merge_dirs<G: GitHub, S: Store, X: Scratch>(job: &mut Job, ports: &Ports<'_, G, S, X>, mut from: String) -> Result<(), Stop> {
    let Ports { store, scratch, meter, .. } = ports;
    for _ in 0..PAGES_PER_STEP {
        let (project, seq) = (job.project_id.clone(), job.base_seq);
        let (merged, range) = next_segment(*scratch, &from, |span| async move { store.dirs_in(&project, seq, &span, HELD_PAGE).await }, |span| {
            scratch.map_in(ScratchMap::WantedDirs, span, u64::from(HELD_PAGE))
        })
        .await?;
        let through = merged.through.clone();
        let changes: Vec<(String, String)> = merged
            .pairs
            .into_iter()
            .filter_map(dir_change)
            .map(|c| Ok((c.path.clone(), serde_json::to_string(&c).map_err(|e| StoreError::Other(e.to_string()))?)))
            .collect::<Result<_, StoreError>>()?;
        scratch.map_put(ScratchMap::DirChanges, &changes)?;
        match after_segment(through, range.as_ref()) {
            Next::From(next) => from = next,
            Next::Done => {
                job.phase = Phase::PairRenames { after: None };
                return Ok(());
            }
        }
        if meter.spent() {
            break;
        }
    }
    job.phase = Phase::MergeDirs { from };
    Ok(())
}

/// A directory whose tree sha appeared, changed or disappeared.
fn dir_change(pair: Pair<(String, String)>) -> Option<DirChange> {
    match pair {
        Pair::Both { held, wanted } if held.1 == wanted.1 => None,
        Pair::Both { held, wanted } => Some(DirChange { path: held.0, old: Some(held.1), new: Some(wanted.1) }),
        Pair::HeldOnly((path, sha)) => Some(DirChange { path, old: Some(sha), new: None }),
        Pair::WantedOnly((path, sha)) => Some(DirChange { path, old: None, new: Some(sha) }),
    }
}

pub(super) async fn pair_renames<G: GitHub, S: Store, X: Scratch>(job: &mut Job, ports: &Ports<'_, G, S, X>, after: Option<String>) -> Result<(), Stop> {
    let scratch = ports.scratch;
    let groups = scratch.rename_groups(after.as_deref(), RENAME_GROUPS_PER_STEP)?;
    for key in &groups {
        let (added, removed) = scratch.group(key)?;
        let (renames, _, _) = diff::pair_renames(added, removed);
        let paths = |pick: fn(&Change) -> Option<&FileEntry>| renames.iter().filter_map(pick).map(|f| f.path.clone()).collect::<Vec<_>>();
        scratch.mark_paired(Side::Added, &paths(Change::introduced))?;
        scratch.mark_paired(Side::Removed, &paths(Change::superseded))?;
        job.counts.renamed += renames.len() as u64;
        scratch.put_changes(&renames)?;
    }
    job.phase = match groups.last() {
        Some(last) if groups.len() as u64 == RENAME_GROUPS_PER_STEP => Phase::PairRenames { after: Some(last.clone()) },
        _ => Phase::FlushCandidates { after: None },
    };
    Ok(())
}

pub(super) async fn flush_candidates<G: GitHub, S: Store, X: Scratch>(
    job: &mut Job,
    ports: &Ports<'_, G, S, X>,
    after: Option<(Side, String)>,
) -> Result<(), Stop> {
    let scratch = ports.scratch;
    let page = scratch.candidates_after(after.as_ref().map(|(side, path)| (*side, path.as_str())), u64::from(HELD_PAGE))?;
    let changes: Vec<Change> = page
        .iter()
        .map(|(side, f)| match side {
            Side::Added => Change::Added { new: f.clone() },
            Side::Removed => Change::Removed { old: f.clone() },
        })
        .collect();
    job.counts.added += changes.iter().filter(|c| matches!(c, Change::Added { .. })).count() as u64;
    job.counts.removed += changes.iter().filter(|c| matches!(c, Change::Removed { .. })).count() as u64;
    scratch.put_changes(&changes)?;
    if page.len() as u32 == HELD_PAGE {
        job.phase = Phase::FlushCandidates { after: page.last().map(|(side, f)| (*side, f.path.clone())) };
        return Ok(());
    }
    let c = job.counts;
    let total = c.added + c.modified + c.removed + c.renamed;
    job.phase = Phase::PlanContent { total, offset: 0, after: None };
    job.set(SyncStatus::Processing, 0, 1, format!("{total} changed paths; checking which contents we already hold"));
    Ok(())
}
