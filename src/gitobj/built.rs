//! Tree ids built from files alone, as a tarball delivers them: `git archive` writes a
//! tree's files in git's order, which for full paths is their byte order (a directory sorts
//! as `name/`, and `/` sorts before every byte a name may continue with that `/` precedes).
//! Only the directories on the path to the current file are open; each keeps its git tree
//! records, and when it ends its id is computed and becomes a record of its parent. The
//! result is trusted only where it equals an id GitHub listed: a file the archive altered
//! (`export-subst`, `eol`) or left out (`export-ignore`, a submodule) changes the ids above it.

use super::{tree_id_of_body, tree_record};

struct Building {
    path: String,
    body: Vec<u8>,
    /// Every record was well formed.
    sound: bool,
}

impl Building {
    fn new(path: &str) -> Building {
        Building { path: path.to_string(), body: Vec::new(), sound: true }
    }

    /// Whether `dir` is this directory or lies below it.
    fn holds(&self, dir: &str) -> bool {
        self.path.is_empty() || dir == self.path || dir.strip_prefix(self.path.as_str()).is_some_and(|rest| rest.starts_with('/'))
    }
}

/// Feed it files (paths relative to the tree built, in byte order), then `finish`.
pub struct TreeIds {
    open: Vec<Building>,
    /// Directories ended so far and their ids, not yet taken.
    ended: Vec<(String, String)>,
}

impl Default for TreeIds {
    fn default() -> Self {
        TreeIds { open: vec![Building::new("")], ended: Vec::new() }
    }
}

impl TreeIds {
    /// One file: its path, git mode (`100644`, `100755`, `120000`) and blob id.
    pub fn add(&mut self, path: &str, mode: &str, blob: &str) {
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        while self.open.last().is_some_and(|b| !b.holds(dir)) {
            self.end_innermost();
        }
        let depth = self.open.last().map_or(0, |b| b.path.len());
        // Open the directories between the innermost open one and the file's.
        let below = if depth == 0 { dir } else { dir.get(depth + 1..).unwrap_or("") };
        if !below.is_empty() {
            let mut at = self.open.last().map(|b| b.path.clone()).unwrap_or_default();
            for part in below.split('/') {
                at = if at.is_empty() { part.to_string() } else { format!("{at}/{part}") };
                self.open.push(Building::new(&at));
            }
        }
        if let Some(top) = self.open.last_mut() {
            if tree_record(&mut top.body, mode, name, blob).is_none() {
                top.sound = false;
            }
        }
    }

    fn end_innermost(&mut self) {
        let Some(dir) = self.open.pop() else { return };
        let id = tree_id_of_body(&dir.body);
        let name = dir.path.rsplit('/').next().unwrap_or(&dir.path).to_string();
        if let Some(parent) = self.open.last_mut() {
            parent.sound &= dir.sound && tree_record(&mut parent.body, "40000", &name, &id).is_some();
        }
        if dir.sound {
            self.ended.push((dir.path, id));
        }
    }

    /// The directories that have ended since the last call, with their ids (an unsound
    /// directory, one with a malformed record, is left out).
    pub fn take_ended(&mut self) -> Vec<(String, String)> {
        std::mem::take(&mut self.ended)
    }

    /// Ends every directory; the last of the ended ones is the tree itself (`""`).
    pub fn finish(mut self) -> Vec<(String, String)> {
        while !self.open.is_empty() {
            self.end_innermost();
        }
        self.ended
    }
}
