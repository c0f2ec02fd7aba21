//! The sync object's own storage in memory: its scratch tables and its checkpoint.

use crate::diff::{Change, FileEntry};
use crate::engine::slice::{Checkpoint, StopRequest};
use crate::engine::{rename_group, Job, Kept, Leftovers, PendingBlob, Scratch, ScratchMap, Side, StoreError, TakenBy};
use crate::merge::Span;
use crate::progress::ProgressData;
use crate::renames::basename;
use crate::similarity::SpanCounts;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};

/// A rename candidate: its group, the file, and whether a rename took it.
type Candidate = (String, FileEntry, bool);
/// A leftover of exact pairing: the file, and the similarity step that took it.
type Leftover = (FileEntry, Option<TakenBy>);

/// The Durable Object's scratch tables, in memory, ordered as SQLite orders them.
#[derive(Default)]
pub struct FakeScratch {
    pub wanted: RefCell<BTreeMap<String, FileEntry>>,
    pub changes: RefCell<BTreeMap<String, Change>>,
    /// Unchanged directory ranges by start: end ("" for no end).
    pub unchanged: RefCell<BTreeMap<String, String>>,
    /// Rename candidates by (side, path): (group, entry, paired).
    pub candidates: RefCell<BTreeMap<(Side, String), Candidate>>,
    /// Pending blobs by sha: (path, size, read).
    pub pending: RefCell<BTreeMap<String, (String, u64, bool)>>,
    pub maps: RefCell<BTreeMap<(&'static str, String), String>>,
    /// What exact pairing left, by (side, path): the file and what took it.
    pub leftovers: RefCell<BTreeMap<(Side, String), Leftover>>,
    /// Pairs with a basename unique on both sides: source path → destination path.
    pub name_pairs: RefCell<BTreeMap<String, String>>,
    /// Span counts by blob sha.
    pub span_counts: RefCell<BTreeMap<String, Option<SpanCounts>>>,
    /// Kept matrix entries by (destination, slot).
    pub kept: RefCell<BTreeMap<(String, u8), Kept>>,
}

impl Leftovers for FakeScratch {
    fn add_leftovers(&self, side: Side, files: &[FileEntry]) -> Result<(), StoreError> {
        let mut leftovers = self.leftovers.borrow_mut();
        for f in files {
            leftovers.entry((side, f.path.clone())).or_insert((f.clone(), None));
        }
        Ok(())
    }

    fn leftover_totals(&self) -> Result<(u64, u64), StoreError> {
        let leftovers = self.leftovers.borrow();
        let all = |side: Side| leftovers.keys().filter(|(s, _)| *s == side).count() as u64;
        Ok((all(Side::Removed), all(Side::Added)))
    }

    fn weighed_leftovers(&self) -> Result<(u64, u64), StoreError> {
        let leftovers = self.leftovers.borrow();
        let weighed = |side: Side| leftovers.iter().filter(|((s, _), (_, by))| *s == side && *by != Some(TakenBy::Basename)).count() as u64;
        Ok((weighed(Side::Removed), weighed(Side::Added)))
    }

    fn find_name_pairs(&self) -> Result<(), StoreError> {
        let leftovers = self.leftovers.borrow();
        let unique = |side: Side| {
            let mut by_name: BTreeMap<String, Option<String>> = BTreeMap::new();
            for ((_, path), _) in leftovers.iter().filter(|((s, _), _)| *s == side) {
                by_name.entry(basename(path).to_string()).and_modify(|p| *p = None).or_insert(Some(path.clone()));
            }
            by_name
        };
        let dests = unique(Side::Added);
        let mut pairs = self.name_pairs.borrow_mut();
        for (name, src) in unique(Side::Removed) {
            if let (Some(src), Some(Some(dst))) = (src, dests.get(&name)) {
                pairs.insert(src, dst.clone());
            }
        }
        Ok(())
    }

    fn name_pairs(&self, after: Option<&str>, limit: u64) -> Result<Vec<(FileEntry, FileEntry)>, StoreError> {
        let (pairs, leftovers) = (self.name_pairs.borrow(), self.leftovers.borrow());
        let file = |side: Side, path: &String| leftovers.get(&(side, path.clone())).map(|(f, _)| f.clone());
        Ok(pairs
            .iter()
            .filter(|(src, _)| after.is_none_or(|a| src.as_str() > a))
            .take(limit as usize)
            .filter_map(|(src, dst)| Some((file(Side::Removed, src)?, file(Side::Added, dst)?)))
            .collect())
    }

    fn take_leftovers(&self, side: Side, paths: &[String], by: TakenBy) -> Result<(), StoreError> {
        let mut leftovers = self.leftovers.borrow_mut();
        for p in paths {
            if let Some(l) = leftovers.get_mut(&(side, p.clone())) {
                l.1 = Some(by);
            }
        }
        Ok(())
    }

    fn uncounted(&self, after: Option<(Side, &str)>, limit: u64) -> Result<Vec<(Side, FileEntry)>, StoreError> {
        let (leftovers, counts) = (self.leftovers.borrow(), self.span_counts.borrow());
        Ok(leftovers
            .iter()
            .filter(|((s, p), (f, by))| {
                *by != Some(TakenBy::Basename)
                    && f.is_regular()
                    && f.size.unwrap_or(0) > 0
                    && !counts.contains_key(f.sha.as_str())
                    && after.is_none_or(|(a, ap)| (*s, p.as_str()) > (a, ap))
            })
            .take(limit as usize)
            .map(|((s, _), (f, _))| (*s, f.clone()))
            .collect())
    }

    fn leftovers_at(&self, side: Side, paths: &[String]) -> Result<Vec<FileEntry>, StoreError> {
        let leftovers = self.leftovers.borrow();
        Ok(paths.iter().filter_map(|p| leftovers.get(&(side, p.clone())).map(|(f, _)| f.clone())).collect())
    }

    fn span_counts(&self, shas: &[String]) -> Result<Vec<(String, Option<SpanCounts>)>, StoreError> {
        let counts = self.span_counts.borrow();
        Ok(shas.iter().filter_map(|sha| counts.get(sha).map(|c| (sha.clone(), c.clone()))).collect())
    }

    fn put_span_counts(&self, counts: &[(String, Option<SpanCounts>)]) -> Result<(), StoreError> {
        self.span_counts.borrow_mut().extend(counts.iter().cloned());
        Ok(())
    }

    fn matrix_side(
        &self,
        side: Side,
        after: Option<&str>,
        limit: u64,
        max_bytes: u64,
    ) -> Result<Vec<(FileEntry, Option<SpanCounts>)>, StoreError> {
        let (leftovers, counts) = (self.leftovers.borrow(), self.span_counts.borrow());
        let mut bytes = 0u64;
        let mut page = Vec::new();
        let weighed = leftovers
            .iter()
            .filter(|((s, p), (_, by))| *s == side && *by != Some(TakenBy::Basename) && after.is_none_or(|a| p.as_str() > a));
        for (_, (f, _)) in weighed.take(limit as usize) {
            let c = counts.get(f.sha.as_str()).cloned().flatten();
            bytes += c.as_ref().map_or(0, |c| c.len() as u64 * 8);
            if !page.is_empty() && bytes > max_bytes {
                break;
            }
            page.push((f.clone(), c));
        }
        Ok(page)
    }

    fn put_kept(&self, kept: &[Kept]) -> Result<(), StoreError> {
        let mut stored = self.kept.borrow_mut();
        for k in kept {
            stored.insert((k.dst.clone(), k.slot), k.clone());
        }
        Ok(())
    }

    fn kept_after(&self, after: Option<&Kept>, limit: u64) -> Result<Vec<Kept>, StoreError> {
        let mut all: Vec<Kept> = self.kept.borrow().values().cloned().collect();
        all.sort_by(|a, b| a.order_key().cmp(&b.order_key()));
        Ok(all.into_iter().filter(|k| after.is_none_or(|a| k.order_key() > a.order_key())).take(limit as usize).collect())
    }
}

impl Scratch for FakeScratch {
    fn put_wanted(&self, files: &[FileEntry]) -> Result<(), StoreError> {
        let mut w = self.wanted.borrow_mut();
        for f in files {
            w.insert(f.path.clone(), f.clone());
        }
        Ok(())
    }

    fn wanted_in(&self, span: &Span, limit: u64) -> Result<Vec<FileEntry>, StoreError> {
        Ok(self.wanted.borrow().values().filter(|f| span.contains(&f.path)).take(limit as usize).cloned().collect())
    }

    fn put_changes(&self, changes: &[Change]) -> Result<(), StoreError> {
        let mut stored = self.changes.borrow_mut();
        for c in changes {
            stored.insert(c.path().to_string(), c.clone());
        }
        Ok(())
    }

    fn changes_after(&self, after: Option<&str>, limit: u64) -> Result<Vec<Change>, StoreError> {
        let stored = self.changes.borrow();
        Ok(stored.iter().filter(|(p, _)| after.is_none_or(|a| p.as_str() > a)).take(limit as usize).map(|(_, c)| c.clone()).collect())
    }

    fn map_put(&self, map: ScratchMap, entries: &[(String, String)]) -> Result<(), StoreError> {
        let mut maps = self.maps.borrow_mut();
        for (k, v) in entries {
            maps.insert((map.name(), k.clone()), v.clone());
        }
        Ok(())
    }

    fn map_get(&self, map: ScratchMap, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self.maps.borrow().get(&(map.name(), key.to_string())).cloned())
    }

    fn map_in(&self, map: ScratchMap, span: &Span, limit: u64) -> Result<Vec<(String, String)>, StoreError> {
        let maps = self.maps.borrow();
        let inside = maps.iter().filter(|((m, k), _)| *m == map.name() && span.contains(k));
        Ok(inside.take(limit as usize).map(|((_, k), v)| (k.clone(), v.clone())).collect())
    }

    fn forget_below(&self, dir: &str) -> Result<(), StoreError> {
        let span = Span::inside(dir);
        self.wanted.borrow_mut().retain(|path, _| !span.contains(path));
        let listed = [ScratchMap::WantedDirs.name(), ScratchMap::ListedWhole.name()];
        self.maps.borrow_mut().retain(|(name, key), _| !listed.contains(name) || !span.contains(key));
        Ok(())
    }

    fn add_unchanged(&self, dir: &str) -> Result<(), StoreError> {
        self.forget_below(dir)?;
        let span = Span::inside(dir);
        self.unchanged.borrow_mut().insert(span.from, span.until.unwrap_or_default());
        Ok(())
    }

    fn next_unchanged(&self, from: &str) -> Result<Option<Span>, StoreError> {
        let ranges = self.unchanged.borrow();
        let next = ranges.iter().find(|(_, end)| end.is_empty() || end.as_str() > from);
        Ok(next.map(|(start, end)| Span { from: start.clone(), until: (!end.is_empty()).then(|| end.clone()) }))
    }

    fn add_candidates(&self, side: Side, files: &[FileEntry]) -> Result<(), StoreError> {
        let mut candidates = self.candidates.borrow_mut();
        for f in files {
            candidates.entry((side, f.path.clone())).or_insert((rename_group(f), f.clone(), false));
        }
        Ok(())
    }

    fn rename_groups(&self, after: Option<&str>, limit: u64) -> Result<Vec<String>, StoreError> {
        let candidates = self.candidates.borrow();
        let of = |side: Side| -> BTreeSet<String> {
            candidates.iter().filter(|((s, _), _)| *s == side).map(|(_, (g, _, _))| g.clone()).collect()
        };
        let both: Vec<String> = of(Side::Added).intersection(&of(Side::Removed)).cloned().collect();
        Ok(both.into_iter().filter(|g| after.is_none_or(|a| g.as_str() > a)).take(limit as usize).collect())
    }

    fn group(&self, key: &str) -> Result<(Vec<FileEntry>, Vec<FileEntry>), StoreError> {
        let candidates = self.candidates.borrow();
        let side =
            |side: Side| candidates.iter().filter(|((s, _), (g, _, _))| *s == side && g == key).map(|(_, (_, f, _))| f.clone()).collect();
        Ok((side(Side::Added), side(Side::Removed)))
    }

    fn mark_paired(&self, side: Side, paths: &[String]) -> Result<(), StoreError> {
        let mut candidates = self.candidates.borrow_mut();
        for p in paths {
            if let Some(c) = candidates.get_mut(&(side, p.clone())) {
                c.2 = true;
            }
        }
        Ok(())
    }

    fn candidate_count(&self, side: Side) -> Result<u64, StoreError> {
        Ok(self.candidates.borrow().keys().filter(|(s, _)| *s == side).count() as u64)
    }

    fn candidates_after(&self, after: Option<(Side, &str)>, limit: u64) -> Result<Vec<(Side, FileEntry)>, StoreError> {
        let candidates = self.candidates.borrow();
        let later = candidates.iter().filter(|((s, p), (_, _, paired))| !paired && after.is_none_or(|(a, ap)| (*s, p.as_str()) > (a, ap)));
        Ok(later.take(limit as usize).map(|((s, _), (_, f, _))| (*s, f.clone())).collect())
    }

    fn remove_changes(&self, paths: &[String]) -> Result<(), StoreError> {
        let mut changes = self.changes.borrow_mut();
        for p in paths {
            changes.remove(p);
        }
        Ok(())
    }

    fn add_pending_blobs(&self, blobs: &[PendingBlob]) -> Result<(), StoreError> {
        let mut pending = self.pending.borrow_mut();
        for b in blobs {
            pending.entry(b.sha.clone()).or_insert((b.path.clone(), b.size, false));
        }
        Ok(())
    }

    fn pending_blobs(&self, after: Option<&str>, limit: u64) -> Result<Vec<PendingBlob>, StoreError> {
        let mut unread: Vec<PendingBlob> = self
            .pending
            .borrow()
            .iter()
            .filter(|(_, (path, _, read))| !read && after.is_none_or(|a| path.as_str() > a))
            .map(|(sha, (path, size, _))| PendingBlob { sha: sha.clone(), size: *size, path: path.clone() })
            .collect();
        unread.sort_by(|a, b| a.path.cmp(&b.path));
        unread.truncate(limit as usize);
        Ok(unread)
    }

    fn pending_totals(&self) -> Result<(u64, u64), StoreError> {
        let pending = self.pending.borrow();
        let unread = pending.values().filter(|(_, _, read)| !read);
        Ok(unread.fold((0, 0), |(n, bytes), (_, size, _)| (n + 1, bytes + size)))
    }

    fn mark_read(&self, shas: &[String]) -> Result<(), StoreError> {
        let mut pending = self.pending.borrow_mut();
        for sha in shas {
            if let Some(p) = pending.get_mut(sha) {
                p.2 = true;
            }
        }
        Ok(())
    }

    fn clear(&self) -> Result<(), StoreError> {
        self.wanted.borrow_mut().clear();
        self.changes.borrow_mut().clear();
        self.unchanged.borrow_mut().clear();
        self.candidates.borrow_mut().clear();
        self.pending.borrow_mut().clear();
        self.maps.borrow_mut().clear();
        self.leftovers.borrow_mut().clear();
        self.name_pairs.borrow_mut().clear();
        self.span_counts.borrow_mut().clear();
        self.kept.borrow_mut().clear();
        Ok(())
    }
}

/// The object's stored job and event log, in memory (JSON, as the object stores it).
#[derive(Default)]
pub struct FakeCheckpoint {
    pub job: RefCell<Option<String>>,
    pub events: RefCell<Vec<ProgressData>>,
    pub cancel: Cell<bool>,
    /// A stop that fails the sync with this reason.
    pub fail: RefCell<Option<String>>,
}

impl FakeCheckpoint {
    /// The job as the next invocation loads it.
    pub fn load(&self) -> Job {
        serde_json::from_str(self.job.borrow().as_deref().expect("a saved job")).expect("a valid checkpoint")
    }
}

impl Checkpoint for FakeCheckpoint {
    fn save(&self, job: &Job, events: &[ProgressData]) -> Result<(), StoreError> {
        *self.job.borrow_mut() = Some(serde_json::to_string(job).map_err(|e| StoreError::Other(e.to_string()))?);
        self.events.borrow_mut().extend_from_slice(events);
        Ok(())
    }

    fn stop_requested(&self) -> Result<Option<StopRequest>, StoreError> {
        Ok(match (self.fail.borrow().clone(), self.cancel.get()) {
            (Some(why), _) => Some(StopRequest::Fail(why)),
            (None, true) => Some(StopRequest::Cancel),
            (None, false) => None,
        })
    }
}
