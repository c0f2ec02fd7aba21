//! DIFFING: the wanted state (the listed tree, with unchanged subtrees taken from the held
//! state) against the held one, by path, sha and mode; directory shas likewise.

use super::{GitHub, Job, Phase, Ports, Scratch, ScratchMap, Stop, Store, StoreError, HELD_PAGE};
use crate::diff::{diff, diff_dirs, inside_any, DirMap, FileEntry};
use crate::domain::{Id, SyncStatus};
use std::collections::HashSet;

pub(super) async fn diff_step<G: GitHub, S: Store, X: Scratch>(job: &mut Job, ports: &Ports<'_, G, S, X>) -> Result<(), Stop> {
    let Ports { store, scratch, .. } = ports;
    let held = load_all(*store, &job.project_id, job.base_seq).await?;
    let unchanged: HashSet<String> = scratch.map_all(ScratchMap::Unchanged)?.into_iter().map(|(k, _)| k).collect();
    let mut wanted = scratch.wanted()?;
    // Unchanged subtrees were not listed: their files are the ones we hold.
    wanted.extend(held.iter().filter(|f| inside_any(&unchanged, &f.path)).cloned());
    let held_dirs: DirMap = scratch.map_all(ScratchMap::HeldDirs)?.into_iter().collect();
    let mut wanted_dirs: DirMap = scratch.map_all(ScratchMap::WantedDirs)?.into_iter().collect();
    for (path, sha) in &held_dirs {
        if inside_any(&unchanged, path) {
            wanted_dirs.insert(path.clone(), sha.clone());
        }
    }
    let dir_changes: Vec<(String, String)> = diff_dirs(&held_dirs, &wanted_dirs)
        .into_iter()
        .map(|c| Ok((c.path.clone(), serde_json::to_string(&c).map_err(|e| StoreError::Other(e.to_string()))?)))
        .collect::<Result<_, StoreError>>()?;
    scratch.map_put(ScratchMap::DirChanges, &dir_changes)?;
    job.tree_bytes = wanted.iter().map(|f| f.size.unwrap_or(0)).sum();
    let result = diff(held, wanted);
    scratch.put_changes(&result.changes)?;
    job.counts = result.counts;
    let total = result.changes.len() as u64;
    job.phase = Phase::PlanContent { total, offset: 0 };
    job.set(SyncStatus::Processing, 0, 1, format!("{total} changed paths; checking which contents we already hold"));
    Ok(())
}

async fn load_all<S: Store>(store: &S, project: &Id, seq: u64) -> Result<Vec<FileEntry>, StoreError> {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store.files_at(project, seq, after.as_deref(), HELD_PAGE).await?;
        let full = page.len() as u32 == HELD_PAGE;
        after = page.last().map(|f| f.path.clone());
        all.extend(page);
        if !full {
            return Ok(all);
        }
    }
}
