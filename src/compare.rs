//! Comparing two states a page at a time, without I/O: the streaming merge of the versions
//! only one of the two states holds (each side read in path order, a bounded window at a
//! time), its position in the cursor, and exact rename pairing across pages.
//!
//! A page's changes are those whose path (`Change::path`: the new path of a rename) falls in
//! the windows it merged. A path on one side only is a rename candidate; whether it pairs,
//! and with what, depends on every candidate sharing its blob, wherever they sit in path
//! order. So for the blobs of a page's candidates the source is asked for the candidates of
//! the other side; only a blob that has some is read whole on both sides (an index lookup by
//! blob id) and paired as the reference diff pairs it (`crate::diff::pair_renames`). The
//! pages' changes together are exactly `crate::diff::diff` of the two whole states (but for
//! git's backward walk, `SourceWalk`, which needs the count of all removed paths), and a page
//! costs its windows plus the blob groups its candidates belong to — the bound the sync's
//! own diff has — never the size of the states.
//!
//! Renames with edits need the texts of every leftover of exact pairing, wherever it sits:
//! a compare reads them only when both states are small enough to diff whole and their
//! texts fit `WHOLE_TEXT_BYTES` (then it pairs exactly as a sync does); otherwise it pairs
//! exactly only, and each page says which (`RenameSearch`).

use crate::diff::{pair_renames, Change, FileEntry, SourceWalk};
use crate::merge::{merge_page, Pair};
use crate::similarity::SpanCounts;
use std::collections::{BTreeSet, HashMap, HashSet};

/// The two states of a compare: `From` (what is removed or modified away) and `To`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    From,
    To,
}

/// Both sides' versions with a path in `(after, through]`, each sorted by path; `through`
/// `None`: the window runs to the end of all paths. Every path of the range has all of its
/// versions of both sides here (a source cuts windows between paths, never inside one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Window {
    pub from: Vec<FileEntry>,
    pub to: Vec<FileEntry>,
    pub through: Option<String>,
}

/// Where a compare's versions come from (D1 in the shell, states in memory in tests).
#[allow(async_fn_in_trait)]
pub trait Sides {
    type Error;
    /// The next window after `after`: at most `rows` versions (both sides together), and
    /// as few paths as the source's own read bound allows (it may return an empty window
    /// that still moves `through` on, over paths where the states agree).
    async fn window(&self, after: &str, rows: u32) -> Result<Window, Self::Error>;
    /// The rename candidates of `side` (its versions at paths the other side does not hold)
    /// whose blob is one of `shas`, in any order.
    async fn candidates(&self, side: Side, shas: &[String]) -> Result<Vec<FileEntry>, Self::Error>;
    /// Both sides whole, if they hold at most `cap` versions together (a cheap read for a
    /// compare of states that differ little); `None` otherwise.
    async fn whole(&self, cap: u32) -> Result<Option<(Vec<FileEntry>, Vec<FileEntry>)>, Self::Error>;
    /// The span counts of these files' kept texts, in order (`None`: no text kept).
    async fn span_counts(&self, files: &[FileEntry]) -> Result<Vec<Option<SpanCounts>>, Self::Error>;
}

/// How far a page looked for renames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenameSearch {
    /// As `git diff -M`: exact, then with edits.
    WithEdits,
    /// Exact and by unique basename only: git's rename limit stopped the matrix.
    LimitExceeded,
    /// Exact only: the states differ in more than a page can read the texts of.
    ExactOnly,
}

impl RenameSearch {
    pub fn as_str(self) -> &'static str {
        match self {
            RenameSearch::WithEdits => "with-edits",
            RenameSearch::LimitExceeded => "limit-exceeded",
            RenameSearch::ExactOnly => "exact-only",
        }
    }
}

/// How a compare's pages are read; a cursor carries it so later pages skip the probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Not decided yet (a first page): try `Whole`, else `Windows`.
    Probe,
    /// Both sides are small: read whole on every page and diffed with the reference diff.
    Whole,
    /// Windows in path order, merged and paired page by page.
    Windows,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Probe => "probe",
            Mode::Whole => "whole",
            Mode::Windows => "windows",
        }
    }

    /// A cursor's mode; an unknown word is `None` (not a cursor we gave out).
    pub fn parse(raw: Option<&str>) -> Option<Mode> {
        match raw {
            None => Some(Mode::Probe),
            Some("whole") => Some(Mode::Whole),
            Some("windows") => Some(Mode::Windows),
            Some(_) => None,
        }
    }
}

/// Versions both sides may hold together for `Mode::Whole`, per entry of the page's limit.
pub const WHOLE_ROWS_PER_ENTRY: u32 = 2;
/// Text bytes of the leftovers of exact pairing a whole compare reads to look for renames
/// with edits; past it the compare pairs exactly only (and says so).
pub const WHOLE_TEXT_BYTES: u64 = 4 * 1024 * 1024;
/// Windows one page merges at most: where the states mostly agree a page may come back
/// short (or empty) with a cursor that goes on, rather than read on without bound.
pub const WINDOWS_PER_PAGE: usize = 8;

/// One page: its changes in path order, where the next page starts (after that path;
/// `None`: this was the last), and the mode the next page reads with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComparePage {
    pub changes: Vec<Change>,
    pub next: Option<String>,
    pub mode: Mode,
    pub renames: RenameSearch,
}

/// The page of changes with paths after `after`, at most `limit` of them.
pub async fn page<S: Sides>(src: &S, after: &str, limit: u32, mode: Mode) -> Result<ComparePage, S::Error> {
    let limit = limit.max(1);
    if mode != Mode::Windows {
        if let Some((from, to)) = src.whole(WHOLE_ROWS_PER_ENTRY * limit).await? {
            let (changes, renames) = whole_changes(src, from, to).await?;
            let changes = changes.into_iter().filter(|c| c.path() > after).collect();
            return Ok(ComparePage { renames, ..cut(changes, limit, None, Mode::Whole) });
        }
    }
    let mut changes = Vec::new();
    let mut at = after.to_string();
    for _ in 0..WINDOWS_PER_PAGE {
        let window = src.window(&at, limit + 2).await?;
        let through = window.through.clone();
        changes.extend(window_changes(src, window).await?);
        match through {
            None => return Ok(cut(changes, limit, None, Mode::Windows)),
            Some(t) if changes.len() >= limit as usize => return Ok(cut(changes, limit, Some(t), Mode::Windows)),
            Some(t) => at = t,
        }
    }
    Ok(ComparePage { changes, next: Some(at), mode: Mode::Windows, renames: RenameSearch::ExactOnly })
}

/// Two small states diffed whole, as a sync diffs them: renames with edits too, when the
/// texts of what exact pairing left fit `WHOLE_TEXT_BYTES`. The same on every page.
async fn whole_changes<S: Sides>(src: &S, from: Vec<FileEntry>, to: Vec<FileEntry>) -> Result<(Vec<Change>, RenameSearch), S::Error> {
    let exact = crate::diff::diff(from, to);
    let (c, leftovers) = (exact.counts, leftovers(&exact.changes));
    if c.added == 0 || c.removed == 0 {
        return Ok((exact.changes, RenameSearch::WithEdits));
    }
    if leftovers.iter().map(|f| f.size.unwrap_or(0)).sum::<u64>() > WHOLE_TEXT_BYTES {
        return Ok((exact.changes, RenameSearch::ExactOnly));
    }
    let counts: HashMap<String, Option<SpanCounts>> =
        leftovers.iter().map(|f| f.sha.to_string()).zip(src.span_counts(&leftovers).await?).collect();
    let (similar, limited) = crate::diff::with_similar(exact, |f| counts.get(f.sha.as_str()).cloned().flatten());
    Ok((similar.changes, if limited { RenameSearch::LimitExceeded } else { RenameSearch::WithEdits }))
}

/// The regular files exact pairing left added or removed (the only ones git scores).
fn leftovers(changes: &[Change]) -> Vec<FileEntry> {
    changes
        .iter()
        .filter_map(|c| match c {
            Change::Added { new: f } | Change::Removed { old: f } if f.is_regular() => Some(f.clone()),
            _ => None,
        })
        .collect()
}

/// At most `limit` of `changes` (sorted, all after the page's start); the next page starts
/// after the last one kept when some were left out, else after `through`.
fn cut(mut changes: Vec<Change>, limit: u32, through: Option<String>, mode: Mode) -> ComparePage {
    if changes.len() > limit as usize {
        changes.truncate(limit as usize);
        let next = changes.last().map(|c| c.path().to_string());
        return ComparePage { changes, next, mode, renames: RenameSearch::ExactOnly };
    }
    ComparePage { changes, next: through, mode, renames: RenameSearch::ExactOnly }
}

/// The changes whose path lies in one window, sorted by path.
async fn window_changes<S: Sides>(src: &S, window: Window) -> Result<Vec<Change>, S::Error> {
    let merged = merge_page(&window.from, true, &window.to, true);
    let (mut changes, mut removed, mut added) = (Vec::new(), Vec::new(), Vec::new());
    for pair in merged.pairs {
        match pair {
            Pair::Both { held, wanted } if held.sha == wanted.sha && held.mode == wanted.mode => {}
            Pair::Both { held, wanted } => changes.push(Change::Modified { old: held, new: wanted }),
            Pair::HeldOnly(old) => removed.push(old),
            Pair::WantedOnly(new) => added.push(new),
        }
    }
    let pairing = pairing_for(src, &removed, &added).await?;
    for new in added {
        match pairing.source_of.get(&new.path) {
            Some(old) => changes.push(Change::Renamed { old: old.clone(), new, similarity: crate::diff::exact() }),
            None => changes.push(Change::Added { new }),
        }
    }
    changes.extend(removed.into_iter().filter(|old| !pairing.paired_sources.contains(&old.path)).map(|old| Change::Removed { old }));
    changes.sort_by(|a, b| a.path().cmp(b.path()));
    Ok(changes)
}

/// The renames that concern a page's candidates: each added path's source, and the removed
/// paths that are some rename's source.
#[derive(Debug, Default)]
struct Pairing {
    source_of: HashMap<String, FileEntry>,
    paired_sources: HashSet<String>,
}

/// Pairs the page's candidates as the whole compare would: only blobs with candidates on
/// both sides can pair, and those are paired over all their candidates.
async fn pairing_for<S: Sides>(src: &S, removed: &[FileEntry], added: &[FileEntry]) -> Result<Pairing, S::Error> {
    let shas = |entries: &[FileEntry]| entries.iter().map(|e| e.sha.as_str().to_string()).collect::<BTreeSet<_>>();
    let (removed_shas, added_shas) = (shas(removed), shas(added));
    let mut both: BTreeSet<String> = BTreeSet::new();
    if !added_shas.is_empty() {
        let sources = src.candidates(Side::From, &added_shas.iter().cloned().collect::<Vec<_>>()).await?;
        both.extend(sources.into_iter().map(|e| e.sha.as_str().to_string()));
    }
    // A blob the page has on both sides was settled by the first question.
    let unknown: Vec<String> = removed_shas.difference(&added_shas).cloned().collect();
    if !unknown.is_empty() {
        let targets = src.candidates(Side::To, &unknown).await?;
        both.extend(targets.into_iter().map(|e| e.sha.as_str().to_string()));
    }
    // A blob with candidates on one side only has nothing to pair.
    if both.is_empty() {
        return Ok(Pairing::default());
    }
    let group: Vec<String> = both.into_iter().collect();
    let (sources, targets) = (src.candidates(Side::From, &group).await?, src.candidates(Side::To, &group).await?);
    // A page cannot tell how many paths are removed in all, which decides git's walk
    // (`SourceWalk::of`); forward is git's for every count but 205, 3277, 52429, ….
    let (renames, _, _) = pair_renames(targets, sources, SourceWalk::Forward);
    let mut pairing = Pairing::default();
    for rename in renames {
        if let Change::Renamed { old, new, .. } = rename {
            pairing.paired_sources.insert(old.path.clone());
            pairing.source_of.insert(new.path, old);
        }
    }
    Ok(pairing)
}

#[cfg(test)]
mod tests;
