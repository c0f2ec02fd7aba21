//! What a tree listing keeps, a page of entries at a time, whoever read them (a tree
//! answer in `fetching`, the tarball in `tarlisting`).

use super::{Job, Scratch, ScratchMap, Stop};
use crate::diff::FileEntry;
use crate::github::TreeItem;

/// What listings kept.
#[derive(Default)]
pub(super) struct Listed {
    /// Files kept (read again if a truncated listing is walked again).
    pub files: u64,
    /// Subdirectories the filter left out.
    pub pruned: u64,
    /// Bytes of the files the filter left out (a tarball carries them all the same).
    pub filtered_bytes: u64,
    /// Bytes of every file read, kept or left out.
    pub bytes: u64,
    /// A one-level listing's subdirectories the filter may hold files under (to descend).
    pub dirs: Vec<(String, String)>,
}

impl Listed {
    /// Adds what the job keeps of these counts, once the listing (or pass) is whole: a
    /// listing read again would otherwise count its bytes twice.
    pub fn count_into(&self, job: &mut Job) {
        job.filtered_bytes += self.filtered_bytes;
        job.listed_bytes += self.bytes;
    }
}

/// Writes a page of listed entries to scratch: the files the filter admits (the bytes of
/// the others are counted: a tarball would carry them) and the directories it may hold
/// files under. Idempotent (keyed by path), so a listing read again writes nothing new.
/// Counts go to `listed`; the caller adds them to the job once the listing is whole.
pub(super) fn keep_page<X: Scratch>(
    job: &Job,
    scratch: &X,
    page: &mut Vec<TreeItem>,
    listed: &mut Listed,
    keep_dirs: bool,
) -> Result<(), Stop> {
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    for item in page.drain(..) {
        if let TreeItem::File(f) = &item {
            listed.bytes += f.size.unwrap_or(0);
        }
        match item {
            TreeItem::File(f) if job.filter.admits(&f.path) => files.push(FileEntry::from(f)),
            TreeItem::File(f) => listed.filtered_bytes += f.size.unwrap_or(0),
            TreeItem::Dir(path, sha) if job.filter.may_hold_under(&path) => dirs.push((path, sha)),
            TreeItem::Dir(..) => listed.pruned += 1,
        }
    }
    scratch.put_wanted(&files)?;
    scratch.map_put(ScratchMap::WantedDirs, &dirs)?;
    listed.files += files.len() as u64;
    if keep_dirs {
        listed.dirs.extend(dirs);
    }
    Ok(())
}
