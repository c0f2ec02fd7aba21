//! The cron tick's upkeep, after the reaper and the head checks: the outbox of sync endings
//! (`hook_announcements`, sent again in a bounded batch), retention (older dry runs'
//! changes, old hook deliveries; `crate::retention`) and the content sweep of deleted
//! projects' repositories (`crate::sweep`), each in bounded batches per database.

use crate::content::fts_scope;
use crate::domain::SyncId;
use crate::domain::Timestamp;
use crate::error::{AppError, AppResult};
use crate::hooks::HookMessage;
use crate::retention::{deliveries_cutoff_ms, Budget};
use crate::shell::adapters::content::ContentBucket;
use crate::shell::adapters::d1::Db;
use crate::shell::adapters::queues::HOOKS_BINDING;
use crate::shell::adapters::{now_ms, Services};
use crate::sweep::{entry_statements, packs_of, walk_done, Entry, Swept, PAGE, PAGES_PER_TICK, READS_PER_TICK, TEXT_BYTES_PER_BATCH};
use std::rc::Rc;

/// What one tick's upkeep removed.
#[derive(Debug, Default)]
pub struct Upkeep {
    /// Sync endings the outbox still held, sent now.
    pub announced: u64,
    pub changes: u64,
    pub deliveries: u64,
    pub blobs: u64,
    pub packs: u64,
    /// A sweep moved on and may have more to do: another pass should follow at once (a
    /// `fanout::Message::Sweep`) rather than at the next tick.
    pub sweep_continues: bool,
}

pub async fn run(svc: &Services<'_>) -> AppResult<Upkeep> {
    let mut done = Upkeep::default();
    for db in svc.databases() {
        // Logged, not fatal: the rest of the upkeep does not wait on the hooks queue.
        match announce_left(svc, db).await {
            Ok(sent) => done.announced += sent,
            Err(e) => worker::console_warn!("cron upkeep: the outbox of sync endings was not sent: {e}"),
        }
        retention(svc, db, &mut done).await?;
    }
    sweep_pass(svc, &mut done).await?;
    Ok(done)
}

/// One pass of the content sweep over every database, within one invocation's reads.
pub async fn sweep_pass(svc: &Services<'_>, done: &mut Upkeep) -> AppResult<()> {
    let content = ContentBucket::from_env(svc.env)?;
    let mut reads = READS_PER_TICK;
    for db in svc.databases() {
        done.sweep_continues |= sweep(svc, db, &content, &mut reads, done).await? == Pass::MovedOn;
    }
    Ok(())
}

/// What a sweep pass of one database came to.
#[derive(Debug, PartialEq, Eq)]
enum Pass {
    /// No repository to sweep, or its syncs hold it back until a later tick.
    Idle,
    MovedOn,
}

/// Sync endings announced per database and tick from the outbox (one queue batch).
const ANNOUNCE_PER_TICK: u64 = 50;

/// Sends the oldest endings the outbox of `db` still holds (their first send failed, or its
/// invocation died), then deletes them. A row whose first send is still under way may go
/// twice: the hooks consumer makes one delivery per hook and sync whatever it is sent.
async fn announce_left(svc: &Services<'_>, db: &Db) -> AppResult<u64> {
    let left = db.announcements_left(ANNOUNCE_PER_TICK).await?;
    if left.is_empty() {
        return Ok(0);
    }
    let queue = svc.env.queue(HOOKS_BINDING).map_err(AppError::internal)?;
    let messages: Vec<HookMessage> =
        left.iter().map(|a| HookMessage::Ended { project_id: a.project_id.clone(), sync_id: a.sync_id.clone() }).collect();
    queue.send_batch(messages).await.map_err(|e| AppError::internal(format!("the hooks queue refused sync endings: {e}")))?;
    let ids: Vec<&SyncId> = left.iter().map(|a| &a.sync_id).collect();
    db.announcements_sent(&ids).await?;
    Ok(left.len() as u64)
}

/// Deletes expired dry-run changes and deliveries past their age, within the tick's budget.
async fn retention(svc: &Services<'_>, db: &Db, done: &mut Upkeep) -> AppResult<()> {
    let mut budget = Budget::default();
    let before = Timestamp::from_ms(deliveries_cutoff_ms(now_ms(), svc.settings.hook_deliveries_kept_ms));
    while budget.take() {
        let deleted = db.delete_old_deliveries(&before).await?;
        done.deliveries += deleted;
        if !Budget::more_after(deleted) {
            break;
        }
    }
    'runs: for sync in db.expired_dry_runs(10).await? {
        loop {
            if !budget.take() {
                break 'runs;
            }
            let deleted = db.delete_expired_changes(&sync).await?;
            done.changes += deleted;
            if !Budget::more_after(deleted) {
                break;
            }
        }
    }
    Ok(())
}

/// Walks the oldest swept repository of `db` a few pages on.
async fn sweep(svc: &Services<'_>, db: &Rc<Db>, content: &ContentBucket, reads: &mut u32, done: &mut Upkeep) -> AppResult<Pass> {
    let Some(job) = db.next_content_sweep().await? else { return Ok(Pass::Idle) };
    let mut after = job.after_sha.clone();
    for _ in 0..PAGES_PER_TICK {
        if repository_busy(svc, &job.repository).await? {
            return Ok(Pass::Idle); // a later tick, once its syncs are done
        }
        let (last, seen, swept) = db.sweep_page(&job.repository, &after, PAGE).await?;
        let (deleted, read_all) = delete_page(svc, db, content, &job.repository, swept, reads, done).await?;
        done.blobs += deleted;
        if !read_all {
            return Ok(Pass::MovedOn); // out of reads: this page again in the next pass
        }
        if walk_done(seen) {
            db.advance_content_sweep(&job, None).await?;
            return Ok(Pass::MovedOn); // another repository may wait its turn
        }
        let last = last.unwrap_or_default();
        db.advance_content_sweep(&job, Some(&last)).await?;
        after = last;
    }
    Ok(Pass::MovedOn)
}

/// Whether a sync of the repository runs in any database (packs are shared by key).
async fn repository_busy(svc: &Services<'_>, repository: &str) -> AppResult<bool> {
    for db in svc.databases() {
        if db.repository_busy(repository).await? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Reads back the swept rows' texts (their index entries are removed with those very
/// texts) and deletes rows and entries, a batch of at most `TEXT_BYTES_PER_BATCH` of text at
/// a time, then the packs no row points into any more. Returns the rows deleted and whether
/// the page was read whole within the tick's reads.
async fn delete_page(
    svc: &Services<'_>,
    db: &Db,
    content: &ContentBucket,
    repository: &str,
    swept: Vec<Swept>,
    reads: &mut u32,
    done: &mut Upkeep,
) -> AppResult<(u64, bool)> {
    let mut batch = Batch::default();
    let mut deleted = 0;
    for row in swept {
        if let Some((key, offset, length)) = row.text_range() {
            if *reads == 0 {
                deleted += batch.flush(svc, db, content, repository, done).await?;
                return Ok((deleted, false));
            }
            if batch.text_bytes + length > TEXT_BYTES_PER_BATCH {
                deleted += batch.flush(svc, db, content, repository, done).await?;
            }
            *reads -= 1;
            let text = content.read_exact(key, offset, length).await?;
            // Unreadable text: the row stays (its entries cannot be removed exactly).
            let Some(found) = text.as_deref().and_then(|t| row.index_entries(t)) else {
                worker::console_warn!("sweep: {repository} {}: its text could not be read back; kept", row.sha);
                continue;
            };
            batch.text_bytes += length;
            batch.entries.extend(found.into_iter().map(|(doc, text)| (doc, text, row.sha.clone())));
        }
        batch.rows.push(row);
    }
    deleted += batch.flush(svc, db, content, repository, done).await?;
    Ok((deleted, true))
}

/// Swept rows and the index entries to remove with them, deleted in one transaction.
#[derive(Default)]
struct Batch {
    rows: Vec<Swept>,
    entries: Vec<Entry>,
    text_bytes: u64,
}

impl Batch {
    async fn flush(&mut self, svc: &Services<'_>, db: &Db, content: &ContentBucket, repository: &str, done: &mut Upkeep) -> AppResult<u64> {
        let Batch { rows, entries, .. } = std::mem::take(self);
        if rows.is_empty() {
            return Ok(0);
        }
        let ids = serde_json::Value::from(rows.iter().map(|r| r.id).collect::<Vec<_>>()).to_string();
        let deleted = db.delete_swept(repository, &fts_scope(repository), &entry_statements(&entries), &ids).await?;
        if deleted > 0 {
            done.packs += delete_unused_packs(svc, content, repository, &rows).await?;
        }
        Ok(deleted)
    }
}
/// Deletes the packs of `rows` that no blob row in any database points into, unless a sync
/// of the repository started meanwhile (it may be about to write rows into one: a pack's
/// key is its batch's blob ids, so a batch stored again has the same key).
async fn delete_unused_packs(svc: &Services<'_>, content: &ContentBucket, repository: &str, rows: &[Swept]) -> AppResult<u64> {
    let mut packs = packs_of(rows);
    let list = serde_json::Value::from(packs.iter().cloned().collect::<Vec<_>>()).to_string();
    for db in svc.databases() {
        for used in db.packs_in_use(&list).await? {
            packs.remove(&used);
        }
    }
    if packs.is_empty() || repository_busy(svc, repository).await? {
        return Ok(0);
    }
    let mut deleted = 0;
    for key in &packs {
        content.delete(key).await.map_err(|e| AppError::internal(format!("sweep: {e}")))?;
        deleted += 1;
    }
    let gone = serde_json::Value::from(packs.into_iter().collect::<Vec<_>>()).to_string();
    for db in svc.databases() {
        db.forget_packs(&gone).await?;
    }
    Ok(deleted)
}
