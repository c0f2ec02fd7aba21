//! PROCESSING: the text of new blobs. Planning pages through the changes and keeps the
//! blobs the repository's content store lacks; they are read either one `git/blobs` request
//! each or from one streamed tarball, whichever `content::choose_fetch` finds cheaper.
//!
//! A tarball is GitHub's `git archive`, which applies `.gitattributes` (`export-subst`,
//! `eol`, `export-ignore`, and with LFS the large objects themselves). Its bytes are only
//! taken for a blob when their size is the listed size and their git blob id is the listed
//! sha; everything else is read from `git/blobs`. Blobs are marked read as they are stored,
//! so a pass that is cut short (budget, eviction) is resumed without reading them again.

use super::ByteSource;
use super::{
    GitHub, Job, PendingBlob, Phase, Ports, Scratch, Stop, Store, StoreError, BLOBS_PER_STEP, BLOB_BYTES_PER_STEP, PLAN_PAGE,
    TARBALL_FLUSH_BYTES, TARBALL_MAX_PASSES,
};
use crate::content::{analyse, choose_fetch, BlobContent, FetchMethod};
use crate::diff::Change;
use crate::domain::{FileKind, SyncKind, SyncStatus};
use crate::gitobj::is_blob;
use crate::tar::TarReader;
use std::collections::HashSet;

/// Pending blobs read per scratch query while merging them against a tarball.
const CURSOR_PAGE: u64 = 1_000;

pub(super) async fn plan_content<G: GitHub, S: Store, X: Scratch>(
    job: &mut Job,
    ports: &Ports<'_, G, S, X>,
    total: u64,
    offset: u64,
    after: Option<String>,
) -> Result<(), Stop> {
    let Ports { store, scratch, .. } = ports;
    if job.dry_run {
        // A dry run stops at the diff: its changes are all it writes.
        return to_renames(job, ports.scratch, format!("{total} changed paths (a dry run: no content is stored)"));
    }
    if job.kind == SyncKind::Restore {
        // A restore talks to no GitHub: every version it brings back had its content stored
        // (by blob sha, for the repository) when it was first synced.
        return to_renames(job, ports.scratch, format!("{total} changed paths"));
    }
    let page = scratch.changes_after(after.as_deref(), PLAN_PAGE)?;
    let mut seen = HashSet::new();
    let candidates: Vec<PendingBlob> = page
        .iter()
        .filter_map(Change::introduced)
        .filter(|new| new.kind == FileKind::File && new.size.unwrap_or(0) <= job.max_text_bytes)
        .filter(|new| seen.insert(new.sha.to_string()))
        .map(|new| PendingBlob { sha: new.sha.to_string(), size: new.size.unwrap_or(0), path: new.path.clone() })
        .collect();
    let mut known = HashSet::new();
    let shas: Vec<String> = candidates.iter().map(|c| c.sha.clone()).collect();
    for group in shas.chunks(crate::sqlbatch::DEFAULT_CHUNK_ROWS) {
        known.extend(store.known_blobs(&job.content_scope(), group).await?);
    }
    let unknown: Vec<PendingBlob> = candidates.into_iter().filter(|c| !known.contains(&c.sha)).collect();
    scratch.add_pending_blobs(&unknown)?;
    let offset = offset + page.len() as u64;
    if (page.len() as u64) == PLAN_PAGE {
        let after = page.last().map(|c| c.path().to_string());
        job.phase = Phase::PlanContent { total, offset, after };
        job.set(SyncStatus::Processing, 0, 1, format!("Checked {offset} of {total} changed paths for contents we already hold"));
        return Ok(());
    }
    let (needed, needed_bytes) = scratch.pending_totals()?;
    if needed == 0 {
        return to_renames(job, ports.scratch, format!("{total} changed paths; every content is already held"));
    }
    let method = choose_fetch(needed as usize, needed_bytes, job.tree_bytes + job.filtered_bytes);
    let how = match method {
        FetchMethod::Blobs => "one request per file",
        FetchMethod::Tarball => "one tarball",
    };
    job.phase = match method {
        FetchMethod::Blobs => Phase::FetchBlobs { done: 0, total: needed },
        FetchMethod::Tarball => Phase::FetchTarball { total: needed, passes: 0 },
    };
    job.set(SyncStatus::Processing, 0, needed, format!("Reading {needed} new file contents ({needed_bytes} bytes) with {how}"));
    Ok(())
}

pub(super) async fn fetch_blobs<G: GitHub, S: Store, X: Scratch>(
    job: &mut Job,
    ports: &Ports<'_, G, S, X>,
    done: u64,
    total: u64,
) -> Result<(), Stop> {
    let Ports { github, scratch, meter, .. } = ports;
    let batch = scratch.pending_blobs(None, BLOBS_PER_STEP as u64)?;
    let mut analysed = Vec::with_capacity(batch.len());
    let mut bytes_read = 0u64;
    for (i, blob) in batch.iter().enumerate() {
        // One blob a step at least, so a step always moves the reading on.
        if i > 0 && (meter.spent() || bytes_read + blob.size > BLOB_BYTES_PER_STEP) {
            break;
        }
        bytes_read += blob.size;
        let bytes = github.blob(&job.repository, &blob.sha).await?;
        if !is_blob(&bytes, &blob.sha) {
            return Err(Stop::Fail(format!("GitHub sent bytes for blob {} that are not that blob", blob.sha)));
        }
        analysed.push(analyse(&blob.sha, &bytes));
    }
    store_read(job, ports, &analysed).await?;
    let done = done + analysed.len() as u64;
    if scratch.pending_totals()?.0 == 0 {
        return to_renames(job, ports.scratch, format!("Read {done} files"));
    }
    job.phase = Phase::FetchBlobs { done, total: total.max(done + 1) };
    job.set(SyncStatus::Processing, done, total, format!("Read {done} of {total} files"));
    Ok(())
}

/// Writes analysed blobs to the shared store, then marks them read in scratch.
async fn store_read<G: GitHub, S: Store, X: Scratch>(job: &Job, ports: &Ports<'_, G, S, X>, blobs: &[BlobContent]) -> Result<(), Stop> {
    if blobs.is_empty() {
        return Ok(());
    }
    ports.store.put_blobs(&job.content_scope(), blobs).await?;
    let shas: Vec<String> = blobs.iter().map(|b| b.sha.clone()).collect();
    ports.scratch.mark_read(&shas)?;
    Ok(())
}

pub(super) async fn fetch_tarball<G: GitHub, S: Store, X: Scratch>(
    job: &mut Job,
    ports: &Ports<'_, G, S, X>,
    total: u64,
    passes: u32,
) -> Result<(), Stop> {
    let (remaining, remaining_bytes) = ports.scratch.pending_totals()?;
    if remaining == 0 {
        return to_renames(job, ports.scratch, format!("Read {total} files from the tarball"));
    }
    let blobs_now =
        passes > 0 && choose_fetch(remaining as usize, remaining_bytes, job.tree_bytes + job.filtered_bytes) == FetchMethod::Blobs;
    if passes >= TARBALL_MAX_PASSES || blobs_now {
        job.phase = Phase::FetchBlobs { done: 0, total: remaining };
        job.set(SyncStatus::Processing, total - remaining, total, format!("Reading the last {remaining} files one by one"));
        return Ok(());
    }
    let pass = stream_tarball(job, ports, total).await?;
    let remaining = ports.scratch.pending_totals()?.0;
    if remaining == 0 {
        return to_renames(job, ports.scratch, format!("Read {total} files from one tarball"));
    }
    if pass.cut_short {
        job.phase = Phase::FetchTarball { total, passes: passes + 1 };
        job.set(SyncStatus::Processing, total - remaining, total, format!("Read {} of {total} files from the tarball", total - remaining));
        return Ok(());
    }
    // What the archive lacked or altered (export-ignore, export-subst, eol, LFS objects).
    job.phase = Phase::FetchBlobs { done: 0, total: remaining };
    job.set(
        SyncStatus::Processing,
        total - remaining,
        total,
        format!("{remaining} files were missing from the tarball or differ from their blobs (.gitattributes); reading them one by one"),
    );
    Ok(())
}

struct Pass {
    /// The pass stopped before the end of the archive (the slice's budget was spent).
    cut_short: bool,
}

/// One pass over the commit's tarball, merging its entries (in git's tree order, which is
/// path byte order) against the pending blobs (in the same order, a page at a time), and
/// storing verified blobs in bounded batches.
async fn stream_tarball<G: GitHub, S: Store, X: Scratch>(job: &mut Job, ports: &Ports<'_, G, S, X>, total: u64) -> Result<Pass, Stop> {
    let commit = job.commit_sha.clone().ok_or_else(|| Stop::Fail("no commit to download".into()))?;
    let mut source = ports.github.tarball(&job.repository, &commit).await?;
    let mut reader = TarReader::default();
    let mut cursor = PendingCursor::new(ports.scratch);
    let mut batch: Vec<BlobContent> = Vec::new();
    let mut batch_bytes = 0u64;
    while let Some(chunk) = source.next_chunk().await? {
        let mut files = Vec::new();
        reader.feed(&chunk, &mut |path, size| cursor.want(path, size), &mut |f| files.push(f)).map_err(|e| Stop::Fail(e.to_string()))?;
        cursor.check()?;
        for f in files {
            if let Some(blob) = cursor.take(&f.path) {
                if is_blob(&f.data, &blob.sha) {
                    batch_bytes += f.data.len() as u64;
                    batch.push(analyse(&blob.sha, &f.data));
                }
            }
        }
        if batch_bytes >= TARBALL_FLUSH_BYTES {
            store_read(job, ports, &std::mem::take(&mut batch)).await?;
            batch_bytes = 0;
            let read = total - ports.scratch.pending_totals()?.0.min(total);
            job.set(SyncStatus::Processing, read, total, format!("Read {read} of {total} files from the tarball"));
            if ports.meter.spent() {
                return Ok(Pass { cut_short: true });
            }
        }
    }
    reader.finish().map_err(|e| Stop::Fail(e.to_string()))?;
    store_read(job, ports, &batch).await?;
    Ok(Pass { cut_short: false })
}

/// The pending blobs in path order, paged from scratch, advanced as tarball entries pass.
/// Entries worth buffering are set aside in `accepted` until their last byte arrives.
struct PendingCursor<'a, X: Scratch> {
    scratch: &'a X,
    page: Vec<PendingBlob>,
    at: usize,
    exhausted: bool,
    accepted: Vec<PendingBlob>,
    error: Option<StoreError>,
}

impl<'a, X: Scratch> PendingCursor<'a, X> {
    fn new(scratch: &'a X) -> Self {
        PendingCursor { scratch, page: Vec::new(), at: 0, exhausted: false, accepted: Vec::new(), error: None }
    }

    /// The first pending blob whose path is not before `path`, loading pages as needed.
    fn seek(&mut self, path: &str) -> Option<&PendingBlob> {
        loop {
            while self.at < self.page.len() && self.page[self.at].path.as_str() < path {
                self.at += 1;
            }
            if self.at < self.page.len() {
                return self.page.get(self.at);
            }
            if self.exhausted || self.error.is_some() {
                return None;
            }
            let after = self.page.last().map(|b| b.path.clone());
            match self.scratch.pending_blobs(after.as_deref(), CURSOR_PAGE) {
                Ok(next) => {
                    self.exhausted = (next.len() as u64) < CURSOR_PAGE;
                    self.page = next;
                    self.at = 0;
                }
                Err(e) => self.error = Some(e),
            }
        }
    }

    /// Whether the archive entry at `path` of `size` bytes is worth buffering: it is a
    /// pending blob's path and has that blob's size (a larger entry is never buffered).
    fn want(&mut self, path: &str, size: u64) -> bool {
        let hit = self.seek(path).is_some_and(|b| b.path == path && b.size == size);
        if hit {
            self.accepted.push(self.page[self.at].clone());
            self.at += 1;
        }
        hit
    }

    /// The pending blob of an entry `want` accepted, once its bytes are complete.
    fn take(&mut self, path: &str) -> Option<PendingBlob> {
        let i = self.accepted.iter().position(|b| b.path == path)?;
        Some(self.accepted.swap_remove(i))
    }

    fn check(&mut self) -> Result<(), StoreError> {
        self.error.take().map_or(Ok(()), Err)
    }
}

/// The contents are read (or none is needed): renames with edits come next.
fn to_renames(job: &mut Job, scratch: &impl Scratch, message: String) -> Result<(), Stop> {
    super::similar::begin(job, scratch, message)
}
