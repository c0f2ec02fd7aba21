//! The directories a (possibly truncated) recursive listing provably holds whole, decided
//! while the listing streams past, never with the listing in memory.
//!
//! GitHub lists a tree recursively in git's pre-order (`git ls-tree -r -t`): a directory's
//! entry, then everything under it, siblings in git's order. A directory is therefore over
//! as soon as an entry outside it arrives, and only the directories on the path from the
//! listed tree to the current entry are open at once. Each open directory keeps its direct
//! entries as git's tree records (`<mode> <name>\0<20-byte id>`, ~30 bytes an entry), and
//! when it ends its id is recomputed and compared with the one its parent listed. A
//! truncated answer is a prefix of that order, so the directories still open where it stops
//! are the partial ones; the hash decides, so no assumption about the cut is trusted.

use super::{tree_id_of_body, tree_record};

/// A directory still open in the walk: its listed id and its direct entries so far.
struct Open {
    path: String,
    /// The id its parent listed (the listed tree's own id is known only at the end).
    listed: Option<String>,
    body: Vec<u8>,
    /// Every subdirectory ended whole, and every entry had a well-formed id.
    sound: bool,
}

impl Open {
    fn new(path: &str, listed: Option<&str>) -> Open {
        Open { path: path.to_string(), listed: listed.map(str::to_string), body: Vec::new(), sound: true }
    }
}

/// Feed it every entry of a recursive listing in the order listed, then `finish`.
pub struct WholeDirs {
    open: Vec<Open>,
    whole: Vec<String>,
    /// An entry arrived outside git's pre-order: nothing is proven.
    disordered: bool,
}

impl Default for WholeDirs {
    fn default() -> Self {
        WholeDirs { open: vec![Open::new("", None)], whole: Vec::new(), disordered: false }
    }
}

impl WholeDirs {
    /// One listed entry: its path relative to the listed tree, git mode, id, and whether
    /// it is a tree.
    pub fn add(&mut self, path: &str, mode: &str, sha: &str, is_tree: bool) {
        if self.disordered {
            return;
        }
        let (parent, name) = path.rsplit_once('/').unwrap_or(("", path));
        while self.open.last().is_some_and(|o| o.path != parent) {
            if self.open.len() == 1 {
                // Its directory was never listed, or has already ended: not pre-order.
                self.disordered = true;
                return;
            }
            self.end_innermost();
        }
        let Some(top) = self.open.last_mut() else { return };
        if tree_record(&mut top.body, mode, name, sha).is_none() {
            top.sound = false;
        }
        if is_tree {
            self.open.push(Open::new(path, Some(sha)));
        }
    }

    fn end_innermost(&mut self) {
        let Some(dir) = self.open.pop() else { return };
        let whole = dir.sound && dir.listed.as_deref().is_some_and(|id| tree_id_of_body(&dir.body).eq_ignore_ascii_case(id));
        if whole {
            self.whole.push(dir.path);
        } else if let Some(parent) = self.open.last_mut() {
            parent.sound = false;
        }
    }

    /// The directories proven whole (the listed tree itself as `""`, with id `root_sha`),
    /// in the order they ended.
    pub fn finish(mut self, root_sha: &str) -> Vec<String> {
        if self.disordered {
            return Vec::new();
        }
        if let Some(root) = self.open.first_mut() {
            root.listed = Some(root_sha.to_string());
        }
        while !self.open.is_empty() {
            self.end_innermost();
        }
        self.whole
    }
}
