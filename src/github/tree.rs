//! GitHub's wire types, and a tree answer parsed as it is read into what a sync keeps.

use super::GhError;
use crate::domain::{CommitSha, FileMode, TreeFile};
use crate::gitobj::{complete_dirs, ListedEntry};
use serde::de::{DeserializeSeed, Deserializer, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt;

#[derive(Debug, Clone, Deserialize)]
pub struct RepoInfo {
    pub full_name: String,
    pub default_branch: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct BranchWire {
    pub name: String,
    pub commit: BranchCommitWire,
    #[serde(default)]
    pub protected: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct BranchCommitWire {
    pub sha: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GitRefWire {
    pub object: GitObjectWire,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GitObjectWire {
    pub sha: String,
    #[serde(rename = "type")]
    pub kind: String,
}

/// A tree answer as GitHub sends it (what the fakes serve; `parse_tree` reads it).
#[derive(Debug, Clone, serde::Serialize)]
pub struct TreeWire {
    pub sha: String,
    pub tree: Vec<TreeEntryWire>,
    pub truncated: bool,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct TreeEntryWire {
    pub path: String,
    pub mode: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub sha: String,
    pub size: Option<u64>,
}

/// One entry of a tree answer, borrowed from the answer's bytes where it can be.
#[derive(Deserialize)]
struct EntryRef<'a> {
    #[serde(borrow)]
    path: Cow<'a, str>,
    #[serde(borrow)]
    mode: Cow<'a, str>,
    #[serde(borrow, rename = "type")]
    kind: Cow<'a, str>,
    #[serde(borrow)]
    sha: Cow<'a, str>,
    size: Option<u64>,
}

/// A tree listing split into what we keep (files, symlinks, submodules) and the
/// subdirectories, each with its own tree sha.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TreeListing {
    pub sha: String,
    pub files: Vec<TreeFile>,
    pub dirs: Vec<(String, String)>,
    pub truncated: bool,
    /// For a truncated listing: the directories it provably holds whole (their recomputed
    /// tree ids match, recursively; see `gitobj::complete_dirs`), re-rooted like the paths.
    pub complete: std::collections::BTreeSet<String>,
}

impl TreeListing {
    /// The part of a truncated listing that lies in provably whole directories: their
    /// files, and their subdirectories' shas. Everything else must be listed again.
    /// Taken out of the listing, not copied: a truncated listing is 100,000 entries.
    pub fn take_whole_part(&mut self) -> (Vec<TreeFile>, Vec<(String, String)>) {
        fn parent(path: &str) -> &str {
            path.rsplit_once('/').map_or("", |(p, _)| p)
        }
        let complete = &self.complete;
        let mut files = std::mem::take(&mut self.files);
        files.retain(|f| complete.contains(parent(&f.path)));
        let mut dirs = std::mem::take(&mut self.dirs);
        dirs.retain(|(p, _)| complete.contains(parent(p)) || complete.contains(p.as_str()));
        (files, dirs)
    }
}

/// Parses a tree answer (entries re-rooted under `prefix`, empty for the root tree)
/// straight into a listing: each entry is checked and kept as it is read, so the entries of
/// a 100,000-entry answer never exist twice next to its bytes (as wire structs and as the
/// listing). That is most of a first sync's peak memory.
pub fn parse_tree(body: &[u8], prefix: &str) -> Result<TreeListing, GhError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let mut listing = ListingSeed { prefix }.deserialize(&mut de).map_err(|e| GhError::Malformed(e.to_string()))?;
    de.end().map_err(|e| GhError::Malformed(e.to_string()))?;
    if listing.truncated {
        listing.complete = complete_part(&listing, prefix);
    }
    Ok(listing)
}

/// The directories a truncated listing provably holds whole (`gitobj::complete_dirs`, over
/// the listing's own entries with the prefix taken off again), re-rooted like the paths.
fn complete_part(listing: &TreeListing, prefix: &str) -> std::collections::BTreeSet<String> {
    let unroot = |p: &'_ str| -> String {
        if prefix.is_empty() {
            p.to_string()
        } else {
            p.strip_prefix(prefix).and_then(|r| r.strip_prefix('/')).unwrap_or(p).to_string()
        }
    };
    let (file_paths, dir_paths): (Vec<String>, Vec<String>) =
        (listing.files.iter().map(|f| unroot(&f.path)).collect(), listing.dirs.iter().map(|(p, _)| unroot(p)).collect());
    let files = listing.files.iter().zip(&file_paths).map(|(f, path)| ListedEntry {
        path,
        mode: f.mode.as_str(),
        sha: f.sha.as_str(),
        is_tree: false,
    });
    let dirs = listing.dirs.iter().zip(&dir_paths).map(|((_, sha), path)| ListedEntry { path, mode: "040000", sha, is_tree: true });
    let entries: Vec<ListedEntry> = files.chain(dirs).collect();
    let reroot = |d: &String| {
        if prefix.is_empty() {
            d.clone()
        } else if d.is_empty() {
            prefix.to_string()
        } else {
            format!("{prefix}/{d}")
        }
    };
    complete_dirs(&listing.sha, &entries).iter().map(reroot).collect()
}

struct ListingSeed<'p> {
    prefix: &'p str,
}

impl<'de> DeserializeSeed<'de> for ListingSeed<'_> {
    type Value = TreeListing;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<TreeListing, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ListingSeed<'_> {
    type Value = TreeListing;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a git tree")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TreeListing, A::Error> {
        let mut listing = TreeListing::default();
        let mut sha = None;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match key.as_ref() {
                "sha" => sha = Some(map.next_value::<String>()?),
                "truncated" => listing.truncated = map.next_value()?,
                "tree" => map.next_value_seed(EntriesSeed { prefix: self.prefix, listing: &mut listing })?,
                _ => map.next_value::<IgnoredAny>().map(|_| ())?,
            }
        }
        listing.sha = sha.ok_or_else(|| A::Error::missing_field("sha"))?;
        Ok(listing)
    }
}

struct EntriesSeed<'l, 'p> {
    prefix: &'p str,
    listing: &'l mut TreeListing,
}

impl<'de> DeserializeSeed<'de> for EntriesSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for EntriesSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("tree entries")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(e) = seq.next_element::<EntryRef<'de>>()? {
            keep_entry(self.listing, self.prefix, e).map_err(|e| A::Error::custom(e.to_string()))?;
        }
        Ok(())
    }
}

/// Adds one entry to the listing: a directory with its tree sha, or a file checked.
fn keep_entry(listing: &mut TreeListing, prefix: &str, e: EntryRef<'_>) -> Result<(), GhError> {
    let path = if prefix.is_empty() { e.path.into_owned() } else { format!("{prefix}/{}", e.path) };
    if e.kind == "tree" {
        listing.dirs.push((path, e.sha.into_owned()));
        return Ok(());
    }
    let mode = FileMode::parse(&e.mode).ok_or_else(|| GhError::Malformed(format!("unknown mode {} at {path}", e.mode)))?;
    let sha = CommitSha::parse(&e.sha).map_err(|e| GhError::Malformed(e.0))?;
    let size = if mode == FileMode::Submodule { None } else { Some(e.size.unwrap_or(0)) };
    listing.files.push(TreeFile { path, mode, sha, size });
    Ok(())
}
