//! Renames with edits, found as `git diff -M` finds them (`diffcore-rename.c`), for the
//! removed and added paths that exact pairing (`crate::diff::pair_renames`) left over:
//!
//! 1. **Basenames.** A source and a destination whose file name no other leftover source,
//!    and no other leftover destination, has are a rename when their score reaches
//!    `MIN_BASENAME_SCORE` (75%). Not bound by the rename limit.
//! 2. **The limit.** When the sources still free times the destinations still free exceed
//!    `RENAME_LIMIT`², git skips the rest (and says so); so do we.
//! 3. **The matrix.** Every free destination, in path order, keeps its four best sources
//!    (`Best`), taken in path order; every kept pair that reaches `MIN_SCORE` (50%) is
//!    sorted by score, then same file name first, then destination and slot order, and
//!    taken greedily while both of its ends are free (`assign`).
//!
//! Only regular files are scored (a symlink or submodule pairs only exactly), but every
//! leftover path counts for basename uniqueness and for the limit, as in git. The engine
//! runs these steps over scratch a page at a time; `detect` runs them in memory, and is
//! what the engine's result is tested against.

use crate::similarity::{percent, score, sizes_allow, SpanCounts, MIN_BASENAME_SCORE, MIN_SCORE};
use std::collections::{HashMap, HashSet};

/// git's default `diff.renameLimit`: the matrix runs while sources × destinations ≤ its square.
pub const RENAME_LIMIT: u64 = 1_000;
/// Sources kept per destination in the matrix (git's `NUM_CANDIDATE_PER_DST`).
pub const SLOTS: usize = 4;

/// The part of a path after its last `/`.
pub fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Whether git would skip the matrix for this many free sources and destinations.
pub fn too_many(sources: u64, dests: u64) -> bool {
    u128::from(sources) * u128::from(dests) > u128::from(RENAME_LIMIT) * u128::from(RENAME_LIMIT)
}

/// A leftover path as the steps see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub path: String,
    /// The blob's bytes (none for a submodule).
    pub size: Option<u64>,
    /// A regular file (plain or executable): the only kind git scores.
    pub regular: bool,
}

/// Indices of (source, destination) pairs whose basename is unique on both sides, in
/// source order.
pub fn unique_basename_pairs(sources: &[Candidate], dests: &[Candidate]) -> Vec<(usize, usize)> {
    let dest_names = unique_names(dests);
    let mut pairs: Vec<(usize, usize)> =
        unique_names(sources).into_iter().filter_map(|(name, src)| Some((src?, (*dest_names.get(name)?)?))).collect();
    pairs.sort_unstable();
    pairs
}

/// Each basename with the index of its one holder, or `None` when several hold it.
fn unique_names(side: &[Candidate]) -> HashMap<&str, Option<usize>> {
    let mut by_name: HashMap<&str, Option<usize>> = HashMap::new();
    for (i, c) in side.iter().enumerate() {
        by_name.entry(basename(&c.path)).and_modify(|seen| *seen = None).or_insert(Some(i));
    }
    by_name
}

/// Whether two candidates can score at `minimum` or above at all: both regular files,
/// sized so that git would read them.
pub fn worth_scoring(src: &Candidate, dst: &Candidate, minimum: u32) -> bool {
    match (src.size, dst.size) {
        (Some(s), Some(d)) if src.regular && dst.regular => sizes_allow(s, d, minimum),
        _ => false,
    }
}

/// A source's score for one destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scored {
    /// The source's place in path order among the free sources.
    pub src: u32,
    pub score: u32,
    pub same_name: bool,
}

/// git's `score_compare`: whether `a` sorts after `b` (empty slots last; then a lower
/// score; then, at equal scores, a different file name after the same one).
fn sorts_after(a: &Option<Scored>, b: &Option<Scored>) -> bool {
    match (a, b) {
        (None, b) => b.is_some(),
        (Some(_), None) => false,
        (Some(a), Some(b)) if a.score == b.score => b.same_name && !a.same_name,
        (Some(a), Some(b)) => a.score < b.score,
    }
}

/// A destination's best sources so far (git's `record_if_better` over four slots).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Best {
    pub slots: [Option<Scored>; SLOTS],
}

impl Best {
    /// Keeps `s` in place of the worst slot (the first of equally bad ones) if it is
    /// strictly better, and says which slot took it. Fed sources in path order, this is
    /// exactly git's choice.
    pub fn record(&mut self, s: Scored) -> Option<usize> {
        let mut worst = 0;
        for i in 1..SLOTS {
            if sorts_after(&self.slots[i], &self.slots[worst]) {
                worst = i;
            }
        }
        let better = sorts_after(&self.slots[worst], &Some(s));
        if better {
            self.slots[worst] = Some(s);
        }
        better.then_some(worst)
    }
}

/// A kept pair of the matrix: the destination's place among the free destinations, the
/// slot it was kept in, and the source's score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub dst: u32,
    pub slot: u8,
    pub scored: Scored,
}

/// The entries of one destination that can make a rename (a score of at least 50%).
pub fn entries(dst: u32, best: &Best) -> Vec<Entry> {
    best.slots
        .iter()
        .enumerate()
        .filter_map(|(slot, s)| s.filter(|s| s.score >= MIN_SCORE).map(|scored| Entry { dst, slot: slot as u8, scored }))
        .collect()
}

/// The renames the matrix makes: entries best first (git's stable sort by score, then
/// same name), each taken while its destination and source are both still free.
pub fn assign(mut entries: Vec<Entry>) -> Vec<Entry> {
    entries.sort_by(|a, b| {
        b.scored.score.cmp(&a.scored.score).then(b.scored.same_name.cmp(&a.scored.same_name)).then((a.dst, a.slot).cmp(&(b.dst, b.slot)))
    });
    let mut taken = Taken::default();
    entries.into_iter().filter(|e| taken.take(e.dst, e.scored.src)).collect()
}

/// The ends the matrix's assignment has taken so far (git's `is_rename` and `rename_used`).
#[derive(Debug)]
pub struct Taken<K> {
    dsts: HashSet<K>,
    srcs: HashSet<K>,
}

impl<K> Default for Taken<K> {
    fn default() -> Self {
        Taken { dsts: HashSet::new(), srcs: HashSet::new() }
    }
}

impl<K: std::hash::Hash + Eq> Taken<K> {
    /// Takes the pair if both of its ends are still free.
    pub fn take(&mut self, dst: K, src: K) -> bool {
        if self.dsts.contains(&dst) || self.srcs.contains(&src) {
            return false;
        }
        self.dsts.insert(dst);
        self.srcs.insert(src);
        true
    }
}

/// One rename found: indices into the sources and destinations, and git's percentage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    pub src: usize,
    pub dst: usize,
    pub similarity: u8,
}

/// What inexact detection found, and whether the limit stopped the matrix.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Detected {
    pub renames: Vec<Found>,
    pub limited: bool,
}

/// All three steps in memory. `sources` and `dests` are in path order; `counts` gives a
/// candidate's span counts (`None`: no text kept, so it scores 0), asked only for pairs
/// whose sizes allow a rename.
pub fn detect(sources: &[Candidate], dests: &[Candidate], mut counts: impl FnMut(bool, usize) -> Option<SpanCounts>) -> Detected {
    let mut cache: HashMap<(bool, usize), Option<SpanCounts>> = HashMap::new();
    let mut scored = |src: usize, dst: usize, minimum: u32| -> u32 {
        if !worth_scoring(&sources[src], &dests[dst], minimum) {
            return 0;
        }
        let s = cache.entry((true, src)).or_insert_with(|| counts(true, src)).clone();
        let d = cache.entry((false, dst)).or_insert_with(|| counts(false, dst)).clone();
        match (s, d) {
            (Some(s), Some(d)) => score(sources[src].size.unwrap_or(0), dests[dst].size.unwrap_or(0), &s, &d),
            _ => 0,
        }
    };
    let mut found = Vec::new();
    for (src, dst) in unique_basename_pairs(sources, dests) {
        let s = scored(src, dst, MIN_BASENAME_SCORE);
        if s >= MIN_BASENAME_SCORE {
            found.push(Found { src, dst, similarity: percent(s) });
        }
    }
    let (taken_src, taken_dst): (HashSet<usize>, HashSet<usize>) =
        (found.iter().map(|f| f.src).collect(), found.iter().map(|f| f.dst).collect());
    let free_src: Vec<usize> = (0..sources.len()).filter(|i| !taken_src.contains(i)).collect();
    let free_dst: Vec<usize> = (0..dests.len()).filter(|i| !taken_dst.contains(i)).collect();
    if free_src.is_empty() || free_dst.is_empty() {
        return Detected { renames: found, limited: false };
    }
    if too_many(free_src.len() as u64, free_dst.len() as u64) {
        return Detected { renames: found, limited: true };
    }
    let mut kept = Vec::new();
    for (d_rank, &dst) in free_dst.iter().enumerate() {
        let mut best = Best::default();
        for (s_rank, &src) in free_src.iter().enumerate() {
            let same_name = basename(&sources[src].path) == basename(&dests[dst].path);
            best.record(Scored { src: s_rank as u32, score: scored(src, dst, MIN_SCORE), same_name });
        }
        kept.extend(entries(d_rank as u32, &best));
    }
    for e in assign(kept) {
        found.push(Found { src: free_src[e.scored.src as usize], dst: free_dst[e.dst as usize], similarity: percent(e.scored.score) });
    }
    Detected { renames: found, limited: false }
}

#[cfg(test)]
mod tests;
