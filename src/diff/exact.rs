//! Exact renames as `git diff -M` pairs them (`find_identical_files`): a removed and an
//! added path with the same object id and type, at most `EXACT_CANDIDATES` sources looked
//! at per destination, in the order git's hash table walks them (`SourceWalk`).

use super::{exact, Change, FileEntry};
use crate::domain::ObjectSha;
use std::collections::HashMap;

/// Pairs removed and added paths by object id and type, as `git diff -M` finds exact
/// renames (`find_identical_files`): destinations in path order; for each, among the first
/// `EXACT_CANDIDATES` free sources of its id and type in `walk` order, the first with the
/// same file name, else the first. Linear in the candidates (after sorting), however many
/// share one blob.
pub fn pair_renames(
    mut added: Vec<FileEntry>,
    mut removed: Vec<FileEntry>,
    walk: SourceWalk,
) -> (Vec<Change>, Vec<FileEntry>, Vec<FileEntry>) {
    added.sort_by(|a, b| a.path.cmp(&b.path));
    removed.sort_by(|a, b| a.path.cmp(&b.path));
    let mut in_walk: Vec<usize> = (0..removed.len()).collect();
    if walk == SourceWalk::Backward {
        in_walk.reverse();
    }
    let mut orders: HashMap<(ObjectSha, u8), Vec<usize>> = HashMap::new();
    for i in in_walk {
        orders.entry((removed[i].sha.clone(), removed[i].object_type())).or_default().push(i);
    }
    let mut groups: HashMap<(ObjectSha, u8), Sources> = orders.into_iter().map(|(key, order)| (key, Sources::new(order))).collect();
    let mut taken = vec![false; removed.len()];
    let mut renames = Vec::new();
    let mut still_added = Vec::new();
    for new in added {
        let source = groups.get_mut(&(new.sha.clone(), new.object_type())).and_then(|g| g.take(new.basename(), &removed));
        match source {
            Some(i) => {
                taken[i] = true;
                renames.push(Change::Renamed { old: removed[i].clone(), new, similarity: exact() })
            }
            None => still_added.push(new),
        }
    }
    let still_removed = removed.into_iter().zip(taken).filter(|(_, t)| !t).map(|(r, _)| r).collect();
    (renames, still_added, still_removed)
}

/// How many free sources of one blob git looks at for a destination before it settles for
/// the first ("too many identical alternatives? Pick one").
pub const EXACT_CANDIDATES: usize = 100;

/// The order git walks the sources of one blob in. It inserts every removed path into a
/// hash table backwards, each at the head of its bucket's chain, so the chain runs in path
/// order; but when the table grows, on inserting the last source, rehashing reverses every
/// chain, and the walk runs backwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceWalk {
    Forward,
    Backward,
}

impl SourceWalk {
    /// The walk for a diff that removes `sources` paths in all (of every type and blob).
    /// git sizes the table for them (`hashmap_init`: the least 64·4^k of at least
    /// sources·100/80 buckets) and grows it past 80% full: the last insert overflows it
    /// only for 205, 3277, 52429, … sources.
    pub fn of(sources: usize) -> SourceWalk {
        let wanted = sources as u64 * 100 / 80;
        let mut buckets = 64u64;
        while wanted > buckets {
            buckets <<= 2;
        }
        if sources as u64 > buckets * 80 / 100 {
            SourceWalk::Backward
        } else {
            SourceWalk::Forward
        }
    }
}

/// The removed paths of one id and type not yet paired, in walk order: a list linked both
/// ways through positions in `order` (`order.len()` is the ring's anchor), so taking one
/// from the middle costs nothing.
struct Sources {
    order: Vec<usize>,
    next: Vec<usize>,
    prev: Vec<usize>,
}

impl Sources {
    fn new(order: Vec<usize>) -> Sources {
        let n = order.len();
        let next = (0..=n).map(|p| (p + 1) % (n + 1)).collect();
        let prev = (0..=n).map(|p| (p + n) % (n + 1)).collect();
        Sources { order, next, prev }
    }

    /// Among the first `EXACT_CANDIDATES` free sources, the first named `name`, else the
    /// first; taken out of the list.
    fn take(&mut self, name: &str, removed: &[FileEntry]) -> Option<usize> {
        let anchor = self.order.len();
        let first = Some(self.next[anchor]).filter(|&p| p != anchor)?;
        let (mut pick, mut at) = (first, first);
        for _ in 0..EXACT_CANDIDATES {
            if at == anchor {
                break;
            }
            if removed[self.order[at]].basename() == name {
                pick = at;
                break;
            }
            at = self.next[at];
        }
        let (before, after) = (self.prev[pick], self.next[pick]);
        (self.next[before], self.prev[after]) = (after, before);
        Some(self.order[pick])
    }
}
