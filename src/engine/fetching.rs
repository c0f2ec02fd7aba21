//! FETCHING: where the sync starts from (the chain head, leftovers of ended syncs
//! discarded), the branch head, and the tree — one recursive listing on a first sync, the
//! changed subtrees only on later ones — or, for a restore, the earlier state from D1.

use super::listing::{keep_page, Listed};
use super::{
    short, tarlisting, ByteSource, GitHub, Job, Phase, Ports, Scratch, ScratchMap, Stop, Store, HELD_PAGE, LEVEL_WALK_ABOVE_FILES,
    LISTING_PAGE, TREE_REQUESTS_PER_STEP,
};
use crate::domain::SyncStatus;
use crate::github::{GhError, TreeEnd, TreeReader};
use crate::merge::{successor, Span};

/// The span after `after` (a key already read), or everything.
fn after_span(after: Option<&str>) -> Span {
    Span { from: after.map(successor).unwrap_or_default(), until: None }
}

pub(super) async fn start<G: GitHub, S: Store, X: Scratch>(job: &mut Job, ports: &Ports<'_, G, S, X>) -> Result<(), Stop> {
    let Ports { store, scratch, meter, .. } = ports;
    // Whatever syncs that ended without completing staged is removed first, a bounded
    // amount per call; a large leftover takes several steps (this one is repeated).
    while !store.discard_ended(&job.project_id, &job.sync_id).await? {
        if meter.spent() {
            job.message = "Removing what an earlier, unfinished sync staged".into();
            return Ok(());
        }
    }
    let head = store.project_head(&job.project_id).await?;
    scratch.clear()?;
    job.base_sync_id = head.current_sync_id;
    job.base_seq = head.current_seq;
    job.base_commit_sha = head.current_commit_sha;
    job.base_filter = head.current_filter;
    if job.filter_changed() {
        // Held directory shas would skip directories whose held paths the new filter
        // disagrees with: the tree is listed whole (pruned by the new filter).
        to_head_or_target(job);
        return Ok(());
    }
    job.phase = Phase::LoadHeldDirs { after: None };
    job.set(SyncStatus::Fetching, 0, 1, "Loading the directories of the state we hold".into());
    Ok(())
}

/// The held directory shas, a page a step, into scratch (incremental descent compares them).
pub(super) async fn load_held_dirs<G: GitHub, S: Store, X: Scratch>(
    job: &mut Job,
    ports: &Ports<'_, G, S, X>,
    after: Option<String>,
) -> Result<(), Stop> {
    let Ports { store, scratch, .. } = ports;
    let page = store.dirs_in(&job.project_id, job.base_seq, &after_span(after.as_deref()), HELD_PAGE).await?;
    scratch.map_put(ScratchMap::HeldDirs, &page)?;
    if page.len() as u32 == HELD_PAGE {
        job.phase = Phase::LoadHeldDirs { after: page.last().map(|(p, _)| p.clone()) };
        return Ok(());
    }
    to_head_or_target(job);
    Ok(())
}

/// After the held state: the branch head (a sync) or the earlier state (a restore).
fn to_head_or_target(job: &mut Job) {
    match job.restore_from.clone() {
        None => {
            job.phase = Phase::ResolveHead;
            job.set(SyncStatus::Fetching, 0, 1, format!("Reading the head of {}", job.branch));
        }
        Some((from, _)) => {
            job.phase = Phase::LoadTarget { after: None, files: 0 };
            job.set(SyncStatus::Fetching, 0, 1, format!("Loading the state of sync {from}"));
        }
    }
}

pub(super) async fn resolve_head<G: GitHub, S: Store, X: Scratch>(job: &mut Job, ports: &Ports<'_, G, S, X>) -> Result<(), Stop> {
    let Ports { github, scratch, .. } = ports;
    let sha = github.head(&job.repository, &job.branch).await?;
    if job.base_commit_sha.as_ref() == Some(&sha) && !job.filter_changed() {
        // We hold exactly this commit's tree, filtered as wanted: nothing to list.
        scratch.add_unchanged("")?;
        job.phase = Phase::MergeFiles { from: String::new() };
        job.set(SyncStatus::Diffing, 0, 1, format!("{} is still at {}; nothing to fetch", job.branch, short(&sha)));
        job.commit_sha = Some(sha);
        return Ok(());
    }
    // With a held state, list the root one level deep and descend only where tree shas
    // differ; without one, one recursive listing is cheapest — unless the filter can
    // prune below the root.
    let incremental = scratch.map_get(ScratchMap::HeldDirs, "")?.is_some();
    let recursive = !incremental && job.filter.lists_whole("");
    job.filtered_bytes = 0;
    job.listed_bytes = 0;
    job.phase = Phase::ListTree { pending: vec![(String::new(), sha.to_string(), recursive)], requests: 0, files: 0, pruned: 0 };
    job.set(SyncStatus::Fetching, 1, 8, format!("Listing the tree of {}", short(&sha)));
    job.commit_sha = Some(sha);
    Ok(())
}

/// Reads of one tree answer (the first and the retries of one that broke off mid-stream).
const LISTING_READS: u32 = 3;

pub(super) async fn list_tree<G: GitHub, S: Store, X: Scratch>(
    job: &mut Job,
    ports: &Ports<'_, G, S, X>,
    mut pending: Vec<(String, String, bool)>,
    mut requests: u64,
    mut files: u64,
    mut pruned: u64,
) -> Result<(), Stop> {
    let Ports { scratch, meter, .. } = ports;
    for i in 0..TREE_REQUESTS_PER_STEP {
        // One listing a step at least, so a step always moves the walk on; none once the
        // tarball is the cheaper way to the rest.
        if (i > 0 && meter.spent()) || tarlisting::worth_it(job, &pending) {
            break;
        }
        let Some((prefix, tree_ish, recursive)) = pending.pop() else { break };
        let (end, listed) = read_listing(job, ports, &prefix, &tree_ish, recursive).await?;
        requests += 1;
        files += listed.files;
        pruned += listed.pruned;
        if end.truncated {
            if !recursive {
                // One directory with more entries than GitHub lists at once: there is no
                // complete listing of it to be had, and a partial one would delete files.
                return Err(Stop::Fail(format!(
                    "GitHub truncated the listing of {} (a single directory with more entries than its trees API returns)",
                    if prefix.is_empty() { "the root directory" } else { prefix.as_str() }
                )));
            }
            // Every entry a truncated answer lists is true (it is a prefix of the tree) and
            // already kept; the directories it provably holds whole are marked, and the
            // listed directory is walked again a level at a time for the rest.
            let marks: Vec<(String, String)> = end.whole.iter().map(|d| (d.clone(), String::new())).collect();
            scratch.map_put(ScratchMap::ListedWhole, &marks)?;
            pending.push((prefix, end.sha, false));
            continue;
        }
        if !recursive {
            descend(job, ports, listed.dirs, &mut pending).await?;
        }
    }
    let mut message = format!("Listed {files} files in {requests} tree requests");
    if pruned > 0 {
        message.push_str(&format!(" ({pruned} directories left out by the filter, never listed)"));
    }
    walk_on(job, pending, requests, files, pruned, message);
    Ok(())
}

/// The walk's next phase: more listings, the tarball for many subtrees, or the diff.
fn walk_on(job: &mut Job, pending: Vec<(String, String, bool)>, requests: u64, files: u64, pruned: u64, message: String) {
    if pending.is_empty() {
        job.phase = Phase::MergeFiles { from: String::new() };
        job.set(SyncStatus::Diffing, 0, 1, format!("{message}; comparing with the state we hold"));
        return;
    }
    // The walk's size is unknown up front: move the bar by requests made, asymptotically.
    let total = requests + pending.len() as u64 + 1;
    if tarlisting::worth_it(job, &pending) {
        let subtrees = pending.iter().filter(|(_, _, recursive)| *recursive).count();
        job.phase = Phase::ListTarball { pending, requests, files, pruned };
        job.set(SyncStatus::Fetching, requests, total, format!("{message}; reading {subtrees} subtrees from the tarball"));
    } else {
        job.phase = Phase::ListTree { pending, requests, files, pruned };
        job.set(SyncStatus::Fetching, requests, total, message);
    }
}

/// Reads one listing as it streams: its files (those the filter admits) and directories go
/// to scratch a page at a time, so the answer is never whole in memory. An answer that
/// breaks while it streams is asked for again (what it had written is rewritten alike).
async fn read_listing<G: GitHub, S: Store, X: Scratch>(
    job: &mut Job,
    ports: &Ports<'_, G, S, X>,
    prefix: &str,
    tree_ish: &str,
    recursive: bool,
) -> Result<(TreeEnd, Listed), Stop> {
    let mut broke = GhError::Unavailable("no answer".into());
    for _ in 0..LISTING_READS {
        match read_listing_once(job, ports, prefix, tree_ish, recursive).await? {
            Ok((end, listed)) => {
                listed.count_into(job);
                return Ok((end, listed));
            }
            Err(why) => broke = why,
        }
    }
    Err(broke.into())
}

/// One read of a listing; `Ok(Err(..))` when the answer broke off while streaming.
async fn read_listing_once<G: GitHub, S: Store, X: Scratch>(
    job: &Job,
    ports: &Ports<'_, G, S, X>,
    prefix: &str,
    tree_ish: &str,
    recursive: bool,
) -> Result<Result<(TreeEnd, Listed), GhError>, Stop> {
    let mut body = ports.github.tree(&job.repository, tree_ish, recursive, prefix).await?;
    let mut reader = TreeReader::new(prefix, recursive);
    let mut page = Vec::new();
    let mut listed = Listed::default();
    loop {
        let chunk = match body.next_chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(broke @ GhError::Unavailable(_)) => return Ok(Err(broke)),
            Err(other) => return Err(other.into()),
        };
        reader.feed(&chunk, &mut page)?;
        if page.len() >= LISTING_PAGE {
            keep_page(job, ports.scratch, &mut page, &mut listed, !recursive)?;
        }
    }
    let end = reader.finish(&mut page)?;
    keep_page(job, ports.scratch, &mut page, &mut listed, !recursive)?;
    // The listed directory's own id (a walk only lists what the filter may hold files under).
    ports.scratch.map_put(ScratchMap::WantedDirs, &[(prefix.to_string(), end.sha.clone())])?;
    Ok(Ok((end, listed)))
}

/// Queues the subdirectories of a one-level listing: unchanged ones are taken from the
/// held state; changed ones are listed recursively when small, a level at a time when large
/// (how large is one grouped query for all of them, never one per directory).
async fn descend<G: GitHub, S: Store, X: Scratch>(
    job: &Job,
    ports: &Ports<'_, G, S, X>,
    dirs: Vec<(String, String)>,
    pending: &mut Vec<(String, String, bool)>,
) -> Result<(), Stop> {
    let Ports { store, scratch, .. } = ports;
    let mut changed = Vec::new();
    for (path, sha) in dirs {
        if scratch.map_get(ScratchMap::ListedWhole, &path)?.is_some() {
            continue; // a truncated listing already held it whole
        }
        match scratch.map_get(ScratchMap::HeldDirs, &path)? {
            Some(held) if held == sha => scratch.add_unchanged(&path)?,
            Some(_) => changed.push((path, sha)),
            None => pending.push((path.clone(), sha, job.filter.lists_whole(&path))),
        }
    }
    if changed.is_empty() {
        return Ok(());
    }
    let paths: Vec<String> = changed.iter().map(|(p, _)| p.clone()).collect();
    let counts = store.count_files_under(&job.project_id, job.base_seq, &paths).await?;
    for ((path, sha), held_files) in changed.into_iter().zip(counts) {
        let recursive = held_files <= LEVEL_WALK_ABOVE_FILES && job.filter.lists_whole(&path);
        pending.push((path, sha, recursive));
    }
    Ok(())
}

pub(super) async fn load_target<G: GitHub, S: Store, X: Scratch>(
    job: &mut Job,
    ports: &Ports<'_, G, S, X>,
    after: Option<String>,
    mut files: u64,
) -> Result<(), Stop> {
    let Ports { store, scratch, .. } = ports;
    let seq = target_seq(job)?;
    let page = store.files_in(&job.project_id, seq, &after_span(after.as_deref()), HELD_PAGE).await?;
    scratch.put_wanted(&page)?;
    files += page.len() as u64;
    if (page.len() as u32) < HELD_PAGE {
        job.phase = Phase::LoadTargetDirs { after: None };
        job.set(SyncStatus::Fetching, files, files + 1, format!("Loaded {files} files of the earlier state"));
    } else {
        let last = page.last().map(|f| f.path.clone());
        job.phase = Phase::LoadTarget { after: last, files };
        job.set(SyncStatus::Fetching, files, files + u64::from(HELD_PAGE), format!("Loaded {files} files of the earlier state"));
    }
    Ok(())
}

/// The earlier state's directory shas, a page a step, as the wanted ones.
pub(super) async fn load_target_dirs<G: GitHub, S: Store, X: Scratch>(
    job: &mut Job,
    ports: &Ports<'_, G, S, X>,
    after: Option<String>,
) -> Result<(), Stop> {
    let Ports { store, scratch, .. } = ports;
    let page = store.dirs_in(&job.project_id, target_seq(job)?, &after_span(after.as_deref()), HELD_PAGE).await?;
    scratch.map_put(ScratchMap::WantedDirs, &page)?;
    if page.len() as u32 == HELD_PAGE {
        job.phase = Phase::LoadTargetDirs { after: page.last().map(|(p, _)| p.clone()) };
    } else {
        job.phase = Phase::MergeFiles { from: String::new() };
        job.set(SyncStatus::Diffing, 0, 1, "Loaded the earlier state; comparing".into());
    }
    Ok(())
}

fn target_seq(job: &Job) -> Result<u64, Stop> {
    job.restore_from.as_ref().map(|(_, seq)| *seq).ok_or_else(|| Stop::Fail("restore without a target".into()))
}
