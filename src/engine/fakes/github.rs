//! GitHub in memory: branch heads, one flat tree per commit, listings (truncated on
//! request), blobs and tarballs in git's order, faults and hangs.

use crate::domain::{BranchName, CommitSha, FileMode, RepoName, Stats, TreeFile};
use crate::engine::{ByteSource, GitHub, Meter};
use crate::github::{GhError, TreeEntryWire, TreeWire};
use crate::gitobj::{tree_id, TreeEntry};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::rc::Rc;

/// A repository as GitHub would list it: one flat tree per commit, with optional
/// truncation of recursive listings beyond `max_recursive`.
#[derive(Default)]
pub struct FakeGitHub {
    pub heads: RefCell<HashMap<String, CommitSha>>,
    pub trees: RefCell<HashMap<String, Vec<TreeFile>>>,
    pub max_recursive: Cell<usize>,
    pub faults: RefCell<VecDeque<GhError>>,
    pub requests: Cell<u64>,
    /// Blob contents by sha; a blob without an entry reads as `content of <sha>\n`.
    pub contents: RefCell<HashMap<String, Vec<u8>>>,
    /// What the tarball holds instead of a path's blob (`.gitattributes`): other bytes, or
    /// nothing at all (`export-ignore`).
    pub archived: RefCell<HashMap<String, Option<Vec<u8>>>>,
    pub blob_requests: Cell<u64>,
    pub tarball_requests: Cell<u64>,
    pub tree_requests: Cell<u64>,
    /// Every listing asked for: (directory, recursively).
    pub listed: RefCell<Vec<(String, bool)>>,
    /// Directory tree ids handed out: id → (commit, directory).
    pub dir_ids: RefCell<HashMap<String, (String, String)>>,
    /// Requests of this route ("head", "tree", "blob", "tarball") never answer.
    pub hang_route: Cell<Option<&'static str>>,
    /// One-level listings with more entries than this come back truncated.
    pub max_flat: Cell<usize>,
    pub meter: RefCell<Option<Rc<Meter>>>,
}

impl FakeGitHub {
    pub fn new() -> Self {
        let g = FakeGitHub::default();
        g.max_recursive.set(usize::MAX);
        g.max_flat.set(usize::MAX);
        g
    }

    pub fn push(&self, branch: &str, commit: &CommitSha, files: Vec<TreeFile>) {
        self.heads.borrow_mut().insert(branch.to_string(), commit.clone());
        self.trees.borrow_mut().insert(commit.to_string(), files);
    }

    pub fn content(&self, sha: &str) -> Vec<u8> {
        self.contents.borrow().get(sha).cloned().unwrap_or_else(|| format!("content of {sha}\n").into_bytes())
    }

    async fn request(&self, route: &str) -> Result<(), GhError> {
        self.requests.set(self.requests.get() + 1);
        if let Some(meter) = self.meter.borrow().as_ref() {
            meter.subrequest(1);
        }
        if self.hang_route.get() == Some(route) {
            futures::future::pending::<()>().await;
        }
        match self.faults.borrow_mut().pop_front() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// A directory's git tree id, computed as git does from its entries (subdirectories'
    /// ids recursively), so listings carry real ids and truncated ones can be verified.
    fn dir_id(&self, commit: &str, dir: &str) -> String {
        let entries = self.entries(commit, dir, false);
        let tree: Vec<TreeEntry> =
            entries.iter().map(|e| TreeEntry { name: &e.path, mode: &e.mode, sha: &e.sha, is_tree: e.kind == "tree" }).collect();
        let id = tree_id(&tree).expect("valid ids");
        self.dir_ids.borrow_mut().insert(id.clone(), (commit.to_string(), dir.to_string()));
        id
    }

    /// The entries under `dir` as GitHub lists them (paths relative to `dir`), in git's
    /// pre-order (a tree before its contents, siblings by name with trees as `name/`).
    fn entries(&self, commit: &str, dir: &str, recursive: bool) -> Vec<TreeEntryWire> {
        let files: Vec<TreeFile> = self.trees.borrow().get(commit).cloned().unwrap_or_default();
        let base = if dir.is_empty() { String::new() } else { format!("{dir}/") };
        let mut dirs = BTreeSet::new();
        let mut out = Vec::new();
        for f in files.iter().filter(|f| f.path.starts_with(&base)) {
            let parts: Vec<&str> = f.path[base.len()..].split('/').collect();
            let depth = if recursive { parts.len() - 1 } else { parts.len().min(2) - 1 };
            dirs.extend((1..=depth).map(|i| parts[..i].join("/")));
            if recursive || parts.len() == 1 {
                let size = (f.mode != FileMode::Submodule).then(|| f.size.unwrap_or(0));
                let kind = if f.mode == FileMode::Submodule { "commit" } else { "blob" };
                out.push(TreeEntryWire {
                    path: parts.join("/"),
                    mode: f.mode.as_str().into(),
                    kind: kind.into(),
                    sha: f.sha.to_string(),
                    size,
                });
            }
        }
        for d in dirs {
            let sha = self.dir_id(commit, &format!("{base}{d}"));
            out.push(TreeEntryWire { path: d, mode: "040000".into(), kind: "tree".into(), sha, size: None });
        }
        let key = |e: &TreeEntryWire| if e.kind == "tree" { format!("{}/", e.path) } else { e.path.clone() };
        out.sort_by_key(key);
        out
    }

    fn listing(&self, tree_ish: &str, recursive: bool, prefix: &str) -> Result<FakeDownload, GhError> {
        self.tree_requests.set(self.tree_requests.get() + 1);
        self.listed.borrow_mut().push((prefix.to_string(), recursive));
        // Equal subtrees share an id (as in git), so the directory is the one asked for.
        let resolved = self.dir_ids.borrow().get(tree_ish).cloned();
        let (commit, dir) = match resolved {
            Some((commit, _)) => (commit, prefix.to_string()),
            None => (tree_ish.to_string(), String::new()),
        };
        if !self.trees.borrow().contains_key(&commit) {
            return Err(GhError::NotFound("tree".into()));
        }
        let mut tree = self.entries(&commit, &dir, recursive);
        let max = if recursive { self.max_recursive.get() } else { self.max_flat.get() };
        let truncated = tree.len() > max;
        tree.truncate(max);
        // Served as GitHub serves it (read by the reader the shell uses), in uneven pieces.
        let body = serde_json::to_vec(&TreeWire { sha: self.dir_id(&commit, &dir), tree, truncated })
            .map_err(|e| GhError::Malformed(e.to_string()))?;
        Ok(FakeDownload::of(&body))
    }
}

impl GitHub for FakeGitHub {
    async fn head(&self, _repo: &RepoName, branch: &BranchName) -> Result<CommitSha, GhError> {
        self.request("head").await?;
        self.heads.borrow().get(branch.as_str()).cloned().ok_or_else(|| GhError::NotFound("branch".into()))
    }

    async fn tree(&self, _repo: &RepoName, tree_ish: &str, recursive: bool, prefix: &str) -> Result<FakeDownload, GhError> {
        self.request("tree").await?;
        self.listing(tree_ish, recursive, prefix)
    }

    async fn blob(&self, _repo: &RepoName, sha: &str) -> Result<Vec<u8>, GhError> {
        self.request("blob").await?;
        self.blob_requests.set(self.blob_requests.get() + 1);
        Ok(self.content(sha))
    }

    type Download = FakeDownload;

    async fn tarball(&self, _repo: &RepoName, commit: &CommitSha) -> Result<FakeDownload, GhError> {
        self.request("tarball").await?;
        self.tarball_requests.set(self.tarball_requests.get() + 1);
        let trees = self.trees.borrow();
        let mut files: Vec<&TreeFile> = trees.get(commit.as_str()).ok_or_else(|| GhError::NotFound("commit".into()))?.iter().collect();
        // `git archive` writes entries in tree order, which is byte order of the full paths.
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let archived = self.archived.borrow();
        let mut tar = Vec::new();
        for f in files {
            let kind = if matches!(f.mode, FileMode::Submodule | FileMode::Symlink) { b'2' } else { b'0' };
            let data = match (kind, archived.get(&f.path)) {
                (b'0', Some(None)) => continue,
                (b'0', Some(Some(altered))) => altered.clone(),
                (b'0', None) => self.content(f.sha.as_str()),
                _ => Vec::new(),
            };
            // `git archive` writes 0775 for executables and 0664 for the rest (umask 002).
            let mode = if f.mode == FileMode::Executable { b"0000775" } else { b"0000664" };
            tar_entry(&mut tar, &format!("acme-widgets-{}/{}", &commit.as_str()[..7], f.path), &data, kind, mode);
        }
        tar.extend(vec![0u8; 1024]);
        Ok(FakeDownload::of(&tar))
    }

    fn take_stats(&self) -> Stats {
        Stats { github_requests: self.requests.replace(0), ..Stats::default() }
    }
}

pub struct FakeDownload {
    chunks: VecDeque<Vec<u8>>,
}

impl FakeDownload {
    /// `bytes` handed out in uneven pieces, as a network would.
    fn of(bytes: &[u8]) -> FakeDownload {
        FakeDownload { chunks: bytes.chunks(777).map(<[u8]>::to_vec).collect() }
    }
}

impl ByteSource for FakeDownload {
    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, GhError> {
        Ok(self.chunks.pop_front())
    }
}

/// Appends one ustar entry (long names go in a pax header, as `git archive` does).
pub fn tar_entry(out: &mut Vec<u8>, name: &str, data: &[u8], kind: u8, mode: &[u8; 7]) {
    if name.len() > 100 {
        let base = format!(" path={name}\n");
        let mut len = base.len() + 1;
        while format!("{len}{base}").len() != len {
            len += 1;
        }
        tar_entry(out, "PaxHeader", format!("{len}{base}").as_bytes(), b'x', b"0000644");
    }
    let mut h = vec![0u8; 512];
    let short = &name.as_bytes()[..name.len().min(100)];
    h[..short.len()].copy_from_slice(short);
    h[100..107].copy_from_slice(mode);
    h[124..135].copy_from_slice(format!("{:011o}", data.len()).as_bytes());
    h[156] = kind;
    h[257..263].copy_from_slice(b"ustar\0");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    out.extend(h);
    out.extend(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
}
