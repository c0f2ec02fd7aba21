//! The sync object's own storage in memory: its scratch tables and its checkpoint.

use crate::diff::{Change, FileEntry};
use crate::engine::slice::{Checkpoint, StopRequest};
use crate::engine::{rename_group, Job, PendingBlob, Scratch, ScratchMap, Side, StoreError};
use crate::merge::Span;
use crate::progress::ProgressData;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};

/// A rename candidate: its group, the file, and whether a rename took it.
type Candidate = (String, FileEntry, bool);

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

    fn add_unchanged(&self, dir: &str) -> Result<(), StoreError> {
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

    fn candidates_after(&self, after: Option<(Side, &str)>, limit: u64) -> Result<Vec<(Side, FileEntry)>, StoreError> {
        let candidates = self.candidates.borrow();
        let later = candidates.iter().filter(|((s, p), (_, _, paired))| !paired && after.is_none_or(|(a, ap)| (*s, p.as_str()) > (a, ap)));
        Ok(later.take(limit as usize).map(|((s, _), (_, f, _))| (*s, f.clone())).collect())
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
