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
use crate::merge::{merge_page, successor, Pair, Span};
use crate::pathfilter::change_reason;

/// Windows merged per step (the meter may stop a step earlier).
const WINDOWS_PER_STEP: usize = 4;
/// Unchanged ranges one window spans: the held pages of the segments between them are read
/// in one round trip, and the ranges' files counted in another, whatever their number.
#[cfg(not(test))]
const RANGES_PER_WINDOW: usize = 50;
#[cfg(test)]
const RANGES_PER_WINDOW: usize = 3;

/// The part of the remaining paths one merge round covers: `segments`, the stretches to
/// merge, in order, and between them the unchanged `ranges` to skip (and count).
struct Window {
    segments: Vec<Span>,
    ranges: Vec<Span>,
}

impl Window {
    /// From `from` on: segments up to the next `RANGES_PER_WINDOW` unchanged ranges.
    fn from(scratch: &impl Scratch, from: &str) -> Result<Window, StoreError> {
        let mut window = Window { segments: Vec::new(), ranges: Vec::new() };
        let mut at = from.to_string();
        loop {
            let Some(range) = scratch.next_unchanged(&at)? else {
                window.segments.push(Span { from: at, until: None });
                return Ok(window);
            };
            window.segments.push(Span { from: at, until: Some(range.from.clone()) });
            if window.ranges.len() == RANGES_PER_WINDOW {
                return Ok(window); // the range that ends the last segment is the next window's
            }
            let Some(end) = range.until.clone() else {
                window.ranges.push(range);
                return Ok(window);
            };
            window.ranges.push(range);
            at = end;
        }
    }

    /// Where the window ends (`None`: at the end of all paths): the end of its last
    /// segment, unless that is the start of a range of the window that runs to the end.
    fn until(&self) -> Option<&String> {
        let end = self.segments.last()?.until.as_ref()?;
        match self.ranges.last() {
            Some(range) if range.until.is_none() && &range.from == end => None,
            _ => Some(end),
        }
    }

    /// The held pages to read: the first segment a whole page, the others a small share
    /// each, so one window never holds more than two pages of rows.
    fn held_spans(&self) -> Vec<(Span, u32)> {
        let share = (HELD_PAGE / RANGES_PER_WINDOW as u32).max(1);
        self.segments.iter().enumerate().map(|(i, seg)| (seg.clone(), if i == 0 { HELD_PAGE } else { share })).collect()
    }

    /// The held rows of the window in path order, cut after the first page that came back
    /// full (what follows it in that segment is not read yet): the rows, and whether they
    /// are all the window holds.
    fn held_rows<T>(&self, pages: Vec<Vec<T>>) -> (Vec<T>, bool) {
        let mut rows = Vec::new();
        for ((_, limit), page) in self.held_spans().iter().zip(pages) {
            let full = page.len() as u32 >= *limit;
            rows.extend(page);
            if full {
                return (rows, false);
            }
        }
        (rows, true)
    }
}

/// Where a merge goes next: on from a key, or done.
enum Next {
    From(String),
    Done,
}

/// After a window merged through `through` (`None`: all of it): the ranges passed, to be
/// counted, and where to go on from.
fn after_window(window: &Window, through: Option<String>) -> (Vec<Span>, Next) {
    match through {
        // A range lies wholly before or after a key outside every range.
        Some(key) => (window.ranges.iter().filter(|r| r.from < key).cloned().collect(), Next::From(successor(&key))),
        None => (window.ranges.clone(), window.until().map_or(Next::Done, |end| Next::From(end.clone()))),
    }
}

pub(super) async fn merge_files<G: GitHub, S: Store, X: Scratch>(
    job: &mut Job,
    ports: &Ports<'_, G, S, X>,
    mut from: String,
) -> Result<(), Stop> {
    let Ports { store, scratch, meter, .. } = ports;
    if from.is_empty() {
        // A (re)started merge counts from zero.
        job.counts = Default::default();
        job.tree_bytes = 0;
    }
    for _ in 0..WINDOWS_PER_STEP {
        let window = Window::from(*scratch, &from)?;
        let (held, held_done) = window.held_rows(store.files_in_each(&job.project_id, job.base_seq, &window.held_spans()).await?);
        // Nothing wanted lies in an unchanged range (those directories were never listed).
        let wanted = scratch.wanted_in(&Span { from: from.clone(), until: window.until().cloned() }, u64::from(HELD_PAGE))?;
        let merged = merge_page(&held, held_done, &wanted, (wanted.len() as u32) < HELD_PAGE);
        let (passed, next) = after_window(&window, merged.through.clone());
        emit_files(job, *scratch, merged.pairs)?;
        if !passed.is_empty() {
            let (files, bytes) = store.count_in_each(&job.project_id, job.base_seq, &passed).await?;
            job.counts.unchanged += files;
            job.tree_bytes += bytes;
        }
        match next {
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

/// Modified paths become changes; paths one side alone has become rename candidates —
/// except when nothing is held (a first sync): then nothing can be renamed, and every
/// wanted path is added at once, without a second pass through scratch.
fn emit_files(job: &mut Job, scratch: &impl Scratch, pairs: Vec<Pair<FileEntry>>) -> Result<(), StoreError> {
    let (mut modified, mut added, mut removed, mut filtered) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    // The rule `/changes` labels "filtered" by: what only one of the two filters admits.
    let filtered_out =
        |path: &str, change| job.base_sync_id.is_some() && change_reason(change, path, job.base_filter.as_ref(), &job.filter).is_some();
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
            // What the filter change took away or brought in is no rename of anything.
            Pair::HeldOnly(held) if filtered_out(&held.path, "removed") => {
                job.counts.removed += 1;
                filtered.push(Change::Removed { old: held });
            }
            Pair::HeldOnly(held) => removed.push(held),
            Pair::WantedOnly(wanted) => {
                job.tree_bytes += wanted.size.unwrap_or(0);
                if filtered_out(&wanted.path, "added") {
                    job.counts.added += 1;
                    filtered.push(Change::Added { new: wanted });
                } else {
                    added.push(wanted);
                }
            }
        }
    }
    job.counts.modified += modified.len() as u64;
    scratch.put_changes(&modified)?;
    scratch.put_changes(&filtered)?;
    if job.base_sync_id.is_none() {
        job.counts.added += added.len() as u64;
        let added: Vec<Change> = added.into_iter().map(|new| Change::Added { new }).collect();
        return scratch.put_changes(&added);
    }
    scratch.add_candidates(Side::Added, &added)?;
    scratch.add_candidates(Side::Removed, &removed)
}

pub(super) async fn merge_dirs<G: GitHub, S: Store, X: Scratch>(
    job: &mut Job,
    ports: &Ports<'_, G, S, X>,
    mut from: String,
) -> Result<(), Stop> {
    let Ports { store, scratch, meter, .. } = ports;
    for _ in 0..WINDOWS_PER_STEP {
        let window = Window::from(*scratch, &from)?;
        let (held, held_done) = window.held_rows(store.dirs_in_each(&job.project_id, job.base_seq, &window.held_spans()).await?);
        let span = Span { from: from.clone(), until: window.until().cloned() };
        let wanted = scratch.map_in(ScratchMap::WantedDirs, &span, u64::from(HELD_PAGE))?;
        let merged = merge_page(&held, held_done, &wanted, (wanted.len() as u32) < HELD_PAGE);
        let (_, next) = after_window(&window, merged.through.clone());
        let changes: Vec<(String, String)> = merged
            .pairs
            .into_iter()
            .filter_map(dir_change)
            .map(|c| Ok((c.path.clone(), serde_json::to_string(&c).map_err(|e| StoreError::Other(e.to_string()))?)))
            .collect::<Result<_, StoreError>>()?;
        scratch.map_put(ScratchMap::DirChanges, &changes)?;
        match next {
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

pub(super) async fn pair_renames<G: GitHub, S: Store, X: Scratch>(
    job: &mut Job,
    ports: &Ports<'_, G, S, X>,
    after: Option<String>,
) -> Result<(), Stop> {
    let scratch = ports.scratch;
    let groups = scratch.rename_groups(after.as_deref(), RENAME_GROUPS_PER_STEP)?;
    // git's walk over identical sources depends on how many paths were removed in all.
    let walk = diff::SourceWalk::of(scratch.candidate_count(Side::Removed)? as usize);
    // One read a group; the step's marks and changes written together (a storage call
    // each, not three a group: 5,000 moved files are 5,000 groups).
    let mut renames = Vec::new();
    for key in &groups {
        let (added, removed) = scratch.group(key)?;
        renames.extend(diff::pair_renames(added, removed, walk).0);
    }
    let paths = |pick: fn(&Change) -> Option<&FileEntry>| renames.iter().filter_map(pick).map(|f| f.path.clone()).collect::<Vec<_>>();
    scratch.mark_paired(Side::Added, &paths(Change::introduced))?;
    scratch.mark_paired(Side::Removed, &paths(Change::superseded))?;
    job.counts.renamed += renames.len() as u64;
    scratch.put_changes(&renames)?;
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
    for side in [Side::Added, Side::Removed] {
        let files: Vec<FileEntry> = page.iter().filter(|(s, _)| *s == side).map(|(_, f)| f.clone()).collect();
        scratch.add_leftovers(side, &files)?;
    }
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
