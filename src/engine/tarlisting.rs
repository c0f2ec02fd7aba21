//! FETCHING from the tarball: GitHub truncates a recursive listing as a depth-first prefix,
//! so every subtree that starts after the cut must be listed on its own, one request each; a
//! monorepo of many small packages takes thousands. A first sync downloads the commit's
//! tarball anyway, and its files, hashed as git hashes blobs, give every directory's tree id
//! (`gitobj::TreeIds`). So once the walk has many subtrees left, they are read from one pass
//! over the tarball instead, and each is kept only if the id built equals the id GitHub
//! listed for it; the rest (altered or left out by `.gitattributes`, holding a symlink, a
//! submodule or a file too large to hash here) are forgotten and listed as before.

use super::listing::{keep_page, Listed};
use super::{
    ByteSource, GitHub, Job, Phase, Ports, Scratch, Stop, Store, LISTING_PAGE, TARBALL_LISTING_ABOVE, TARBALL_LISTING_BYTES_PER_REQUEST,
    TARBALL_LISTING_FILE_MAX,
};
use crate::domain::{CommitSha, FileMode, SyncStatus, TreeFile};
use crate::github::TreeItem;
use crate::gitobj::{blob_id, TreeIds};
use crate::tar::{TarFile, TarReader};

/// Whether the walk should read its subtrees from the tarball now: a first sync (a later
/// one lists only what changed), not done before, with many subtrees to list, and no
/// sign yet that the archive is too large for what it saves.
pub(super) fn worth_it(job: &Job, pending: &[(String, String, bool)]) -> bool {
    let subtrees = pending.iter().filter(|(_, _, recursive)| *recursive).count() as u64;
    job.base_sync_id.is_none()
        && !job.listed_from_tarball
        && subtrees >= TARBALL_LISTING_ABOVE as u64
        && job.listed_bytes / 3 <= subtrees * TARBALL_LISTING_BYTES_PER_REQUEST
}

pub(super) async fn list_from_tarball<G: GitHub, S: Store, X: Scratch>(
    job: &mut Job,
    ports: &Ports<'_, G, S, X>,
    pending: Vec<(String, String, bool)>,
    requests: u64,
    files: u64,
    pruned: u64,
) -> Result<(), Stop> {
    job.listed_from_tarball = true;
    if job.step_attempts > 1 {
        // The runtime stopped this step before it ended (CPU, memory): list instead.
        let message = "Reading the tree from the tarball was stopped; listing it instead".to_string();
        job.phase = Phase::ListTree { pending, requests, files, pruned };
        job.set(SyncStatus::Fetching, requests, requests + 1, message);
        return Ok(());
    }
    let (subtrees, mut rest): (Vec<_>, Vec<_>) = pending.into_iter().partition(|(_, _, recursive)| *recursive);
    let mut proof = Subtrees::new(subtrees.into_iter().map(|(path, sha, _)| (path, sha)).collect());
    let mut listed = Listed::default();
    // A tarball that cannot be had or read whole proves only what it gave before that (the
    // ids decide); the rest is listed.
    let broke = read_archive(job, ports, &mut proof, &mut listed).await?.err();
    let (proven, unproven) = proof.finish();
    keep_page(job, ports.scratch, &mut proof.take_page(), &mut listed, false)?;
    for (path, sha) in &unproven {
        ports.scratch.forget_below(path)?;
        rest.push((path.clone(), sha.clone(), true));
    }
    listed.count_into(job);
    let mut message = format!("Read {proven} subtrees ({} files) from the tarball; {} left to list", listed.files, unproven.len());
    if let Some(why) = broke {
        message.push_str(&format!(" (the tarball could not be read whole: {why})"));
    }
    // The walk goes on with what is left (the next step moves to the diff if nothing is).
    let (requests, left) = (requests + 1, rest.len() as u64);
    job.phase = Phase::ListTree { pending: rest, requests, files: files + listed.files, pruned: pruned + listed.pruned };
    job.set(SyncStatus::Fetching, requests, requests + left + 1, message);
    Ok(())
}

/// One pass over the commit's tarball into `proof`, its entries kept a page at a time.
/// `Ok(Err(why))`: GitHub or the archive failed part-way (or at once).
async fn read_archive<G: GitHub, S: Store, X: Scratch>(
    job: &Job,
    ports: &Ports<'_, G, S, X>,
    proof: &mut Subtrees,
    listed: &mut Listed,
) -> Result<Result<(), String>, Stop> {
    let commit = job.commit_sha.clone().ok_or_else(|| Stop::Fail("no commit to download".into()))?;
    let mut source = match ports.github.tarball(&job.repository, &commit).await {
        Ok(source) => source,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let mut reader = TarReader::default();
    loop {
        let chunk = match source.next_chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(e) => return Ok(Err(e.to_string())),
        };
        let mut read = Vec::new();
        let mut want = |path: &str, size: u64| size <= TARBALL_LISTING_FILE_MAX && proof.holder(path).is_some();
        if let Err(e) = reader.feed(&chunk, &mut want, &mut |f| read.push(f)) {
            return Ok(Err(e.to_string()));
        }
        for f in read {
            proof.file(f);
        }
        if proof.page.len() >= LISTING_PAGE {
            keep_page(job, ports.scratch, &mut proof.take_page(), listed, false)?;
        }
    }
    Ok(reader.finish().map_err(|e| e.to_string()))
}

/// The subtrees to prove, and the one the archive is in: files arrive in path order, so
/// each subtree is read whole before the next begins.
struct Subtrees {
    /// (path, listed id) by `path/` (the order of the files under them); disjoint.
    todo: Vec<(String, String)>,
    /// The subtree being read: its index and the ids built so far.
    current: Option<(usize, TreeIds)>,
    /// Entries read, not yet written.
    page: Vec<TreeItem>,
    proven: Vec<bool>,
}

impl Subtrees {
    fn new(mut todo: Vec<(String, String)>) -> Subtrees {
        todo.sort_by_cached_key(|(dir, _)| format!("{dir}/"));
        let proven = vec![false; todo.len()];
        Subtrees { todo, current: None, page: Vec::new(), proven }
    }

    /// The subtree `path` lies in, if any: the last whose `dir/` sorts at or before it
    /// (another between them would lie inside that one, and they are disjoint).
    fn holder(&self, path: &str) -> Option<usize> {
        let key_cmp = |dir: &str| dir.bytes().chain(std::iter::once(b'/')).cmp(path.bytes());
        let i = self.todo.partition_point(|(dir, _)| key_cmp(dir).is_le()).checked_sub(1)?;
        let dir = &self.todo[i].0;
        path.strip_prefix(dir.as_str()).is_some_and(|rest| rest.starts_with('/')).then_some(i)
    }

    fn file(&mut self, f: TarFile) {
        let Some(i) = self.holder(&f.path) else { return };
        if self.current.as_ref().is_some_and(|(at, _)| *at != i) {
            self.end_current();
        }
        let dir_len = self.todo[i].0.len();
        let (_, ids) = self.current.get_or_insert_with(|| (i, TreeIds::default()));
        let mode = if f.executable { FileMode::Executable } else { FileMode::Regular };
        let sha = blob_id(&f.data);
        ids.add(&f.path[dir_len + 1..], mode.as_str(), &sha);
        let ended = ids.take_ended();
        if let Ok(sha) = CommitSha::parse(&sha) {
            self.page.push(TreeItem::File(TreeFile { path: f.path, mode, sha, size: Some(f.data.len() as u64) }));
        }
        self.keep_dirs(i, ended);
    }

    /// The subtree being read is over: its directories are kept, and it is proven if the
    /// id built for it is the one listed.
    fn end_current(&mut self) {
        let Some((i, ids)) = self.current.take() else { return };
        let ended = ids.finish();
        let built = ended.iter().find(|(dir, _)| dir.is_empty()).map(|(_, id)| id.as_str());
        self.proven[i] = built.is_some_and(|id| id.eq_ignore_ascii_case(&self.todo[i].1));
        self.keep_dirs(i, ended);
    }

    fn keep_dirs(&mut self, i: usize, ended: Vec<(String, String)>) {
        let root = &self.todo[i].0;
        for (dir, id) in ended.into_iter().filter(|(dir, _)| !dir.is_empty()) {
            self.page.push(TreeItem::Dir(format!("{root}/{dir}"), id));
        }
    }

    fn take_page(&mut self) -> Vec<TreeItem> {
        std::mem::take(&mut self.page)
    }

    /// How many subtrees were proven, and the others (with their listed ids).
    fn finish(&mut self) -> (usize, Vec<(String, String)>) {
        self.end_current();
        let proven = self.proven.iter().filter(|p| **p).count();
        let unproven = self.todo.iter().zip(&self.proven).filter(|(_, p)| !**p).map(|(t, _)| t.clone()).collect();
        (proven, unproven)
    }
}
