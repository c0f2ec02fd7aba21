//! PERSISTING: staging the changes (file versions, then directory versions) at the sync's
//! own chain position, then the commit: one compare-and-swap that makes them visible and
//! marks the sync COMPLETE, only while the sync is still running.

use super::{GitHub, Job, Phase, Ports, Scratch, ScratchMap, Stop, Store, StoreError, HELD_PAGE, PERSIST_CHUNK};
use crate::diff::DirChange;
use crate::domain::{SyncKind, SyncStatus};
use crate::merge::{successor, Span};

pub(super) async fn persist<G: GitHub, S: Store, X: Scratch>(
    job: &mut Job,
    ports: &Ports<'_, G, S, X>,
    done: u64,
    total: u64,
    after: Option<String>,
) -> Result<(), Stop> {
    let Ports { store, scratch, .. } = ports;
    let chunk = scratch.changes_after(after.as_deref(), PERSIST_CHUNK as u64)?;
    match (chunk.is_empty(), job.dry_run) {
        (true, _) => {}
        (false, false) => store.apply(job, &chunk).await?,
        (false, true) => store.stage_preview(job, &chunk).await?,
    }
    let done = (done + chunk.len() as u64).min(total);
    if chunk.len() == PERSIST_CHUNK {
        let after = chunk.last().map(|c| c.path().to_string());
        job.phase = Phase::Persist { done, total, after };
        job.set(SyncStatus::Persisting, done, total, format!("Wrote {done} of {total} changes"));
        return Ok(());
    }
    // A dry run keeps no directory versions: nothing will ever descend from it.
    job.phase = if job.dry_run { Phase::Commit } else { Phase::PersistDirs { after: None } };
    job.set(SyncStatus::Persisting, total, total + 1, format!("Wrote {total} changes"));
    Ok(())
}

/// Directory changes, a page a step; then the commit.
pub(super) async fn persist_dirs<G: GitHub, S: Store, X: Scratch>(
    job: &mut Job,
    ports: &Ports<'_, G, S, X>,
    after: Option<String>,
) -> Result<(), Stop> {
    let Ports { store, scratch, .. } = ports;
    let span = Span { from: after.as_deref().map(successor).unwrap_or_default(), until: None };
    let page = scratch.map_in(ScratchMap::DirChanges, &span, u64::from(HELD_PAGE))?;
    let changes: Vec<DirChange> = page
        .iter()
        .map(|(_, json)| serde_json::from_str(json).map_err(|e| StoreError::Other(e.to_string())))
        .collect::<Result<_, StoreError>>()?;
    store.apply_dirs(job, &changes).await?;
    if page.len() as u32 == HELD_PAGE {
        job.phase = Phase::PersistDirs { after: page.last().map(|(p, _)| p.clone()) };
        return Ok(());
    }
    let total = job.counts.added + job.counts.modified + job.counts.removed + job.counts.renamed;
    job.phase = Phase::Commit;
    job.set(SyncStatus::Persisting, total, total, format!("Wrote {total} changes; committing"));
    Ok(())
}

pub(super) async fn commit<G: GitHub, S: Store, X: Scratch>(job: &mut Job, ports: &Ports<'_, G, S, X>, now_ms: u64) -> Result<(), Stop> {
    job.status = SyncStatus::Complete;
    job.progress = 100;
    job.message = complete_message(job);
    // Stats up to now travel with the COMPLETE row; the commit's own write is the last.
    super::account(job, ports, now_ms);
    let committed = if job.dry_run { ports.store.commit_preview(job, now_ms).await } else { ports.store.commit(job, now_ms).await };
    match committed {
        Ok(()) => {
            job.phase = Phase::Finished;
            let _ = ports.scratch.clear();
            Ok(())
        }
        Err(e) => {
            job.status = SyncStatus::Persisting;
            job.progress = 99;
            job.message = "Committing".into();
            Err(e.into())
        }
    }
}

fn complete_message(job: &Job) -> String {
    let c = job.counts;
    let what = match (&job.kind, &job.restore_from) {
        _ if job.dry_run => match &job.commit_sha {
            Some(sha) => format!("Dry run of {} at {} (nothing was changed)", job.branch, super::short(sha)),
            None => format!("Dry run of {} (nothing was changed)", job.branch),
        },
        (SyncKind::Restore, Some((from, _))) => format!("Restored the state of sync {from}"),
        _ => match &job.commit_sha {
            Some(sha) => format!("Synced {} at {}", job.branch, super::short(sha)),
            None => format!("Synced {}", job.branch),
        },
    };
    format!("{what}: {} added, {} modified, {} removed, {} renamed, {} unchanged", c.added, c.modified, c.removed, c.renamed, c.unchanged)
}
