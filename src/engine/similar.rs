//! Renames with edits (`crate::renames`), once the contents are read: what exact pairing
//! left over (kept in scratch by `diffing::flush_candidates`, already written as added and
//! removed changes) is paired as `git diff -M` pairs it, and each pair found turns an added
//! and a removed change into one renamed change.
//!
//! The steps, each resumable from its phase's fields and idempotent when replayed:
//! - `SimilarNames`: the pairs whose basename is unique on both sides, a page at a time,
//!   scored from the two texts' span counts (75% makes a rename);
//! - the limit: past git's, the matrix is skipped and the sync says so;
//! - `SimilarCounts`: the span counts of every leftover the matrix weighs, read a budget of
//!   text bytes at a time (from the content store; a dry run, which stores no content,
//!   reads the blobs it lacks from GitHub);
//! - `SimilarMatrix`: a page of destinations against every source, in path order, each
//!   keeping its four best (kept in scratch);
//! - `SimilarAssign`: the kept entries in git's order, taken greedily.
//!
//! Memory is bounded by a page of texts or counts, never by the number of leftovers; a
//! sync with nothing left over on one side pays one scratch count and nothing else.

use super::{GitHub, Job, Kept, Phase, Ports, Scratch, Side, Stop, Store, StoreError, TakenBy};
use crate::content::{status_of, within_budget, ContentStatus};
use crate::diff::{Change, FileEntry};
use crate::domain::{FileKind, SyncStatus};
use crate::gitobj::is_blob;
use crate::renames::{basename, entries, too_many, Best, Scored, Taken, SLOTS};
use crate::similarity::{percent, score, sizes_allow, SpanCounts, MIN_BASENAME_SCORE, MIN_SCORE};
use std::collections::{HashMap, HashSet};

/// Basename pairs weighed per step.
const NAME_PAIRS_PER_STEP: u64 = 200;
/// Leftovers counted per step.
const COUNTS_PER_STEP: u64 = 200;
/// Text bytes read per step (at least one blob a step, whatever its size).
const TEXT_BYTES_PER_STEP: u64 = 8 * 1024 * 1024;
/// Bytes of span counts held per page of the matrix (each side).
const COUNTS_BYTES_PER_PAGE: u64 = 8 * 1024 * 1024;
/// Sources read per page of the matrix.
const SOURCES_PER_PAGE: u64 = 256;
/// Pairs scored per matrix step: the destinations of a step are this over the sources.
const PAIRS_PER_STEP: u64 = 200_000;
/// Most destinations a matrix step takes.
const MAX_DESTINATIONS_PER_STEP: u64 = 256;
/// Kept entries read per page by the assignment.
const KEPT_PAGE: u64 = 1_000;

/// After the contents: to the renames with edits, then to persisting; straight to
/// persisting when one side has no leftover (an ordinary sync pays one scratch count).
/// Every leftover is counted, whatever took it since, so a replay decides the same.
pub(super) fn begin(job: &mut Job, scratch: &impl Scratch, message: String) -> Result<(), Stop> {
    let (removed, added) = scratch.leftover_totals()?;
    if removed == 0 || added == 0 {
        return finish(job, &message);
    }
    job.phase = Phase::SimilarNames { after: None };
    job.set(SyncStatus::Processing, 0, 1, format!("{message}; looking for renames with edits"));
    Ok(())
}

pub(super) async fn names<G: GitHub, S: Store, X: Scratch>(
    job: &mut Job,
    ports: &Ports<'_, G, S, X>,
    after: Option<String>,
) -> Result<(), Stop> {
    let scratch = ports.scratch;
    if after.is_none() {
        scratch.find_name_pairs()?;
    }
    let page = scratch.name_pairs(after.as_deref(), NAME_PAIRS_PER_STEP)?;
    let page = within_text_budget(page, |(old, new)| text_bytes(job, old) + text_bytes(job, new));
    let worth: Vec<&(FileEntry, FileEntry)> = page.iter().filter(|(old, new)| worth_scoring(old, new, MIN_BASENAME_SCORE)).collect();
    let counts = counts_of(job, ports, worth.iter().flat_map(|(old, new)| [old, new])).await?;
    let renames: Vec<Change> = worth
        .into_iter()
        .filter_map(|(old, new)| {
            let s = score_of(old, new, counts.get(old.sha.as_str())?.as_ref(), counts.get(new.sha.as_str())?.as_ref());
            (s >= MIN_BASENAME_SCORE).then(|| Change::Renamed { old: old.clone(), new: new.clone(), similarity: percent(s) })
        })
        .collect();
    record_renames(job, scratch, &renames, TakenBy::Basename)?;
    match page.last() {
        Some((last, _)) => {
            job.phase = Phase::SimilarNames { after: Some(last.path.clone()) };
            job.set(SyncStatus::Processing, 0, 1, format!("Weighed the renames of files that kept their name, up to {}", last.path));
            Ok(())
        }
        None => decide(job, scratch),
    }
}

/// After the basenames: the matrix, unless git's limit skips it.
fn decide(job: &mut Job, scratch: &impl Scratch) -> Result<(), Stop> {
    let (sources, dests) = scratch.weighed_leftovers()?;
    if sources == 0 || dests == 0 {
        return finish(job, "Paired the renames with edits");
    }
    if too_many(sources, dests) {
        job.renames_limited = true;
        let why = format!(
            "Renames with edits were looked for by file name only: {sources} removed × {dests} added files exceed git's rename limit ({}²)",
            crate::renames::RENAME_LIMIT
        );
        return finish(job, &why);
    }
    job.phase = Phase::SimilarCounts { after: None };
    job.set(SyncStatus::Processing, 0, 1, format!("Reading the texts of {sources} removed and {dests} added files to compare them"));
    Ok(())
}

pub(super) async fn count<G: GitHub, S: Store, X: Scratch>(
    job: &mut Job,
    ports: &Ports<'_, G, S, X>,
    after: Option<(Side, String)>,
) -> Result<(), Stop> {
    let page = ports.scratch.uncounted(after.as_ref().map(|(side, path)| (*side, path.as_str())), COUNTS_PER_STEP)?;
    let page = within_text_budget(page, |(_, f)| text_bytes(job, f));
    counts_of(job, ports, page.iter().map(|(_, f)| f)).await?;
    job.phase = match page.last() {
        Some((side, last)) => Phase::SimilarCounts { after: Some((*side, last.path.clone())) },
        None => {
            let (sources, _) = ports.scratch.weighed_leftovers()?;
            Phase::SimilarMatrix { after: None, sources }
        }
    };
    Ok(())
}

pub(super) async fn matrix<G: GitHub, S: Store, X: Scratch>(
    job: &mut Job,
    ports: &Ports<'_, G, S, X>,
    after: Option<String>,
    sources: u64,
) -> Result<(), Stop> {
    let scratch = ports.scratch;
    let per_step = (PAIRS_PER_STEP / sources.max(1)).clamp(1, MAX_DESTINATIONS_PER_STEP);
    let dsts = scratch.matrix_side(Side::Added, after.as_deref(), per_step, COUNTS_BYTES_PER_PAGE)?;
    let Some(last) = dsts.last().map(|(f, _)| f.path.clone()) else {
        job.phase = Phase::SimilarAssign;
        return Ok(());
    };
    let kept = weigh(scratch, &dsts)?;
    scratch.put_kept(&kept)?;
    job.phase = Phase::SimilarMatrix { after: Some(last.clone()), sources };
    job.set(SyncStatus::Processing, 0, 1, format!("Compared the added files up to {last} with every removed one"));
    Ok(())
}

/// Every source against a page of destinations: each destination's four best, as kept entries.
fn weigh(scratch: &impl Scratch, dsts: &[(FileEntry, Option<SpanCounts>)]) -> Result<Vec<Kept>, StoreError> {
    let mut best = vec![Best::default(); dsts.len()];
    let mut holders: Vec<[Option<String>; SLOTS]> = vec![Default::default(); dsts.len()];
    let (mut after, mut rank) = (None::<String>, 0u32);
    loop {
        let srcs = scratch.matrix_side(Side::Removed, after.as_deref(), SOURCES_PER_PAGE, COUNTS_BYTES_PER_PAGE)?;
        let Some((last, _)) = srcs.last() else { break };
        after = Some(last.path.clone());
        for (src, src_counts) in &srcs {
            for (i, (dst, dst_counts)) in dsts.iter().enumerate() {
                let s = if worth_scoring(src, dst, MIN_SCORE) { score_of(src, dst, src_counts.as_ref(), dst_counts.as_ref()) } else { 0 };
                let same_name = basename(&src.path) == basename(&dst.path);
                if let Some(slot) = best[i].record(Scored { src: rank, score: s, same_name }) {
                    holders[i][slot] = Some(src.path.clone());
                }
            }
            rank += 1;
        }
    }
    let mut kept = Vec::new();
    for (i, (dst, _)) in dsts.iter().enumerate() {
        for e in entries(i as u32, &best[i]) {
            let src = holders[i][usize::from(e.slot)].clone().unwrap_or_default();
            kept.push(Kept { dst: dst.path.clone(), slot: e.slot, src, score: e.scored.score, same_name: e.scored.same_name });
        }
    }
    Ok(kept)
}

/// The kept entries in git's order, each taken while both its ends are free: one step,
/// whatever their number (scratch reads only; the renames are at most the smaller side).
pub(super) async fn assign<G: GitHub, S: Store, X: Scratch>(job: &mut Job, ports: &Ports<'_, G, S, X>) -> Result<(), Stop> {
    let scratch = ports.scratch;
    let (mut taken, mut chosen, mut after) = (Taken::default(), Vec::new(), None::<Kept>);
    loop {
        let page = scratch.kept_after(after.as_ref(), KEPT_PAGE)?;
        let Some(last) = page.last().cloned() else { break };
        for k in page {
            if taken.take(k.dst.clone(), k.src.clone()) {
                chosen.push(k);
            }
        }
        after = Some(last);
    }
    let olds: HashMap<String, FileEntry> = scratch
        .leftovers_at(Side::Removed, &chosen.iter().map(|k| k.src.clone()).collect::<Vec<_>>())?
        .into_iter()
        .map(|f| (f.path.clone(), f))
        .collect();
    let news: HashMap<String, FileEntry> = scratch
        .leftovers_at(Side::Added, &chosen.iter().map(|k| k.dst.clone()).collect::<Vec<_>>())?
        .into_iter()
        .map(|f| (f.path.clone(), f))
        .collect();
    let renames: Vec<Change> = chosen
        .iter()
        .filter_map(|k| {
            Some(Change::Renamed { old: olds.get(&k.src)?.clone(), new: news.get(&k.dst)?.clone(), similarity: percent(k.score) })
        })
        .collect();
    record_renames(job, scratch, &renames, TakenBy::Matrix)?;
    finish(job, "Paired the renames with edits")
}

/// Each rename replaces its added and removed change, and takes both leftovers.
fn record_renames(job: &mut Job, scratch: &impl Scratch, renames: &[Change], by: TakenBy) -> Result<(), StoreError> {
    if renames.is_empty() {
        return Ok(());
    }
    let paths = |pick: fn(&Change) -> Option<&FileEntry>| renames.iter().filter_map(pick).map(|f| f.path.clone()).collect::<Vec<_>>();
    let (olds, news) = (paths(Change::superseded), paths(Change::introduced));
    scratch.put_changes(renames)?;
    scratch.remove_changes(&olds)?;
    scratch.take_leftovers(Side::Removed, &olds, by)?;
    scratch.take_leftovers(Side::Added, &news, by)?;
    let n = renames.len() as u64;
    job.counts.renamed += n;
    job.counts.added = job.counts.added.saturating_sub(n);
    job.counts.removed = job.counts.removed.saturating_sub(n);
    Ok(())
}

fn finish(job: &mut Job, what: &str) -> Result<(), Stop> {
    let c = job.counts;
    let total = c.added + c.modified + c.removed + c.renamed;
    job.phase = Phase::Persist { done: 0, total, after: None };
    job.set(SyncStatus::Persisting, 0, total, format!("{what}; writing {total} changes"));
    Ok(())
}

/// git scores regular files only, and only when their sizes allow the minimum.
fn worth_scoring(src: &FileEntry, dst: &FileEntry, minimum: u32) -> bool {
    match (src.size, dst.size) {
        (Some(s), Some(d)) => src.is_regular() && dst.is_regular() && sizes_allow(s, d, minimum),
        _ => false,
    }
}

fn score_of(src: &FileEntry, dst: &FileEntry, src_counts: Option<&SpanCounts>, dst_counts: Option<&SpanCounts>) -> u32 {
    match (src_counts, dst_counts) {
        (Some(a), Some(b)) => score(src.size.unwrap_or(0), dst.size.unwrap_or(0), a, b),
        _ => 0,
    }
}

/// The bytes of text reading `f` may cost: none for a file too large to have kept text.
fn text_bytes(job: &Job, f: &FileEntry) -> u64 {
    f.size.filter(|&size| size <= job.max_text_bytes).unwrap_or(0)
}

/// The leading items whose text bytes stay within a step's budget (one at least).
fn within_text_budget<T>(mut items: Vec<T>, bytes: impl Fn(&T) -> u64) -> Vec<T> {
    items.truncate(within_budget(items.iter().map(bytes), TEXT_BYTES_PER_STEP));
    items
}

/// The span counts of these files' blobs: kept in scratch, else counted from their text
/// (the content store's; a dry run reads from GitHub what the store lacks) and kept.
async fn counts_of<'f, G: GitHub, S: Store, X: Scratch>(
    job: &Job,
    ports: &Ports<'_, G, S, X>,
    files: impl Iterator<Item = &'f FileEntry>,
) -> Result<HashMap<String, Option<SpanCounts>>, Stop> {
    let mut wanted: Vec<&FileEntry> = files.collect();
    wanted.sort_by(|a, b| a.sha.cmp(&b.sha));
    wanted.dedup_by(|a, b| a.sha == b.sha);
    let shas: Vec<String> = wanted.iter().map(|f| f.sha.to_string()).collect();
    let mut known: HashMap<String, Option<SpanCounts>> = ports.scratch.span_counts(&shas)?.into_iter().collect();
    let missing: Vec<&FileEntry> = wanted.into_iter().filter(|f| !known.contains_key(f.sha.as_str())).collect();
    let counted = count_texts(job, ports, &missing).await?;
    ports.scratch.put_span_counts(&counted)?;
    known.extend(counted);
    Ok(known)
}

async fn count_texts<G: GitHub, S: Store, X: Scratch>(
    job: &Job,
    ports: &Ports<'_, G, S, X>,
    files: &[&FileEntry],
) -> Result<Vec<(String, Option<SpanCounts>)>, Stop> {
    let readable: Vec<String> =
        files.iter().filter(|f| f.kind == FileKind::File && f.size.unwrap_or(0) <= job.max_text_bytes).map(|f| f.sha.to_string()).collect();
    let may_read: HashSet<&String> = readable.iter().collect();
    let mut texts: HashMap<String, Option<Vec<u8>>> = HashMap::new();
    for chunk in readable.chunks(crate::sqlbatch::DEFAULT_CHUNK_ROWS) {
        texts.extend(ports.store.blob_texts(&job.content_scope(), chunk).await?);
    }
    let mut counted = Vec::with_capacity(files.len());
    for f in files {
        let sha = f.sha.to_string();
        let text = match texts.remove(&sha) {
            Some(text) => text,
            None if job.dry_run && may_read.contains(&sha) => text_from_github(job, ports, &sha).await?,
            None => None,
        };
        counted.push((sha, text.map(|t| SpanCounts::of(&t, true))));
    }
    Ok(counted)
}

/// A blob a dry run needs and the content store lacks (a dry run stores no content).
async fn text_from_github<G: GitHub, S: Store, X: Scratch>(
    job: &Job,
    ports: &Ports<'_, G, S, X>,
    sha: &str,
) -> Result<Option<Vec<u8>>, Stop> {
    let bytes = ports.github.blob(&job.repository, sha).await?;
    if !is_blob(&bytes, sha) {
        return Err(Stop::Fail(format!("GitHub sent bytes for blob {sha} that are not that blob")));
    }
    Ok((status_of(&bytes) == ContentStatus::Text).then_some(bytes))
}
