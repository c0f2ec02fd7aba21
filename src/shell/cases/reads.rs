//! The reads the REST API and the MCP tools share: the caller's project or sync, and each
//! list as a page of views. Neither caller reads D1 or R2 itself, so `/api/v1/...` and a
//! tool answer the same question the same way. No read reaches GitHub (the REST file
//! content's fallback for a text not kept is the REST handler's own).

use crate::api::{encode_cursor, ChangeView, FileHistoryView, FileView, MemoryView, Page, PageRequest, ProjectView, SyncView};
use crate::compare::{Mode, RenameSearch, WINDOWS_PER_PAGE};
use crate::content::{fts_query, fts_scope, within_budget};
use crate::domain::{ProjectId, SyncId, SyncStatus, UserId};
use crate::error::{AppError, AppResult};
use crate::pathfilter::PathFilter;
use crate::rows::StoredChange;
use crate::shell::adapters::content::ContentBucket;
use crate::shell::adapters::d1::{ChunkRef, CompareSides, ContentRow, Db, ProjectRow, SyncRow};
use crate::shell::adapters::Services;

/// A page and how many D1 rows it read (tests hold pages to their bound with it).
pub struct Listed<T> {
    pub page: Page<T>,
    pub rows_read: u64,
}

/// The caller's project (another user's is a 404, as if it did not exist).
pub async fn project_of(svc: &Services<'_>, user: &UserId, id: &ProjectId) -> AppResult<ProjectRow> {
    svc.locate(id).await?.project_for_user(user, id).await?.ok_or_else(|| AppError::not_found("project"))
}

/// The caller's sync (another user's is a 404).
pub async fn sync_of(svc: &Services<'_>, user: &UserId, id: &SyncId) -> AppResult<SyncRow> {
    svc.find_sync_for_user(user, id).await?.ok_or_else(|| AppError::not_found("sync"))
}

/// The caller's projects, oldest first.
pub async fn projects_page(svc: &Services<'_>, user: &UserId, page: &PageRequest) -> AppResult<Page<ProjectView>> {
    let after = page.after_key(0).zip(page.after_key(1));
    // Every database's first page after the cursor, merged: the first `limit + 1` of them
    // are the first of all.
    let mut rows = Vec::new();
    for db in svc.databases() {
        rows.extend(db.projects_of(user, after, page.limit + 1).await?);
    }
    rows.sort_by(|a, b| (&a.created_at, &a.id).cmp(&(&b.created_at, &b.id)));
    rows.truncate(page.limit as usize + 1);
    let views = rows.iter().map(ProjectView::from).collect();
    Ok(Page::from_overfetch(views, page.limit, |p| vec![p.created_at.clone(), p.id.clone()]))
}

/// A project's syncs, newest first.
pub async fn syncs_page(svc: &Services<'_>, user: &UserId, id: &ProjectId, page: &PageRequest) -> AppResult<Page<SyncView>> {
    let project = project_of(svc, user, id).await?;
    let after = page.after_key(0).zip(page.after_key(1));
    let rows = svc.for_project(&project.id).history(&project.id, after, page.limit + 1).await?;
    let views = rows.iter().map(SyncView::from).collect();
    Ok(Page::from_overfetch(views, page.limit, |s| vec![s.started_at.clone(), s.id.clone()]))
}

/// The chain position to read files at: right after `at` (a completed sync of this
/// project) or now.
pub async fn seq_for(svc: &Services<'_>, project: &ProjectRow, at: Option<&SyncId>) -> AppResult<u64> {
    let Some(at) = at else { return Ok(project.current_seq) };
    completed_state(svc, project, at)
        .await?
        .map(|(seq, _)| seq)
        .ok_or_else(|| AppError::conflict(format!("sync {at} made no state (it did not complete, or was a dry run)")))
}

/// A completed sync's chain position and the filter that made its state, `None` if it did
/// not complete (another project's sync, or none, is a 404).
async fn completed_state(svc: &Services<'_>, project: &ProjectRow, sync: &SyncId) -> AppResult<Option<(u64, PathFilter)>> {
    match svc.for_project(&project.id).sync(sync).await? {
        Some(s) if s.project_id == project.id => Ok(s.seq.filter(|_| s.status == SyncStatus::Complete).map(|seq| (seq, s.path_filter))),
        _ => Err(AppError::not_found("sync")),
    }
}

/// The chain position of a COMPLETE sync of this project (404 for anything else).
async fn completed(svc: &Services<'_>, project: &ProjectRow, sync: &SyncId) -> AppResult<(u64, PathFilter)> {
    completed_state(svc, project, sync).await?.ok_or_else(|| AppError::not_found("sync"))
}

/// A page of the files of a state (now, or right after `at`) under `prefix`; the page's
/// chain position rides in its cursor, so later pages read the same state.
pub async fn files_page(
    svc: &Services<'_>,
    project: &ProjectRow,
    at: Option<&SyncId>,
    prefix: &str,
    page: &PageRequest,
) -> AppResult<Listed<FileView>> {
    let seq = page.snapshot(1, seq_for(svc, project, at).await?)?;
    let after = page.after_key(0).unwrap_or("");
    let db = svc.for_project(&project.id);
    let read_before = db.rows_read();
    let rows: Vec<FileView> = db.files_at_seq(&project.id, seq, prefix, after, page.limit + 1).await?.iter().map(FileView::from).collect();
    let page = Page::from_overfetch(rows, page.limit, |f| vec![f.path.clone(), seq.to_string()]);
    Ok(Listed { page, rows_read: db.rows_read() - read_before })
}

/// The version of `path` in a state (now, or right after `at`), with where its text is kept.
pub async fn file_at(svc: &Services<'_>, project: &ProjectRow, at: Option<&SyncId>, path: &str) -> AppResult<ContentRow> {
    let seq = seq_for(svc, project, at).await?;
    let scope = project.repository.canonical();
    svc.for_project(&project.id).content_at_seq(&project.id, seq, path, &scope).await?.ok_or_else(|| AppError::not_found("file"))
}

/// A file's text as the service keeps it: the empty blob's (known without a read) or its
/// bytes from R2; `None` when no text is kept (or R2 lost it; the caller says what then).
pub async fn kept_text(svc: &Services<'_>, file: &ContentRow, path: &str) -> AppResult<Option<Vec<u8>>> {
    if file.size == Some(0) && file.sha == crate::diff::EMPTY_BLOB_SHA {
        return Ok(Some(Vec::new()));
    }
    let (Some(pack), Some(offset), Some(size)) = (&file.pack, file.pack_offset, file.size) else { return Ok(None) };
    let bytes = ContentBucket::from_env(svc.env)?.read(pack, offset, size).await?;
    if bytes.is_none() {
        worker::console_warn!("content: the text of blob {} ({path}) is missing from pack {pack}", file.sha);
    }
    Ok(bytes)
}

/// Every version of `path`, newest first.
pub async fn history_page(svc: &Services<'_>, project: &ProjectRow, path: &str, page: &PageRequest) -> AppResult<Listed<FileHistoryView>> {
    let current = page.snapshot(1, project.current_seq)?;
    let before = page.after_key(0).and_then(|k| k.parse::<u64>().ok()).unwrap_or(current + 1);
    let db = svc.for_project(&project.id);
    let read_before = db.rows_read();
    let rows = db.file_history(&project.id, current, path, before, page.limit + 1).await?;
    let found = Page::from_overfetch(rows, page.limit, |r| vec![r.introduced_seq.to_string(), current.to_string()]);
    let items: Vec<FileHistoryView> = found.items.iter().map(FileHistoryView::from).collect();
    Ok(Listed { page: Page { items, next_cursor: found.next_cursor }, rows_read: db.rows_read() - read_before })
}

/// A compare's page, and how far it looked for renames.
pub struct Compared {
    pub listed: Listed<ChangeView>,
    pub renames: RenameSearch,
}

/// Where a comparison starts.
pub enum CompareFrom {
    /// Right after this completed sync.
    Sync(SyncId),
    /// The empty state (the REST API's default).
    Empty,
    /// The state just before the one compared to (the MCP tool's default).
    Previous,
}

/// The changes that turn one state into another, either direction: from the versions
/// held, no GitHub request, renames paired as a sync pairs them. Pages read one snapshot
/// (the cursor carries `to`'s position when it was the current one) and cost what they
/// hold (`crate::compare`): the cursor carries the path to go on after and how pages read.
pub async fn compare_page(
    svc: &Services<'_>,
    project: &ProjectRow,
    from: CompareFrom,
    to: Option<&SyncId>,
    page: &PageRequest,
) -> AppResult<Compared> {
    let mode = Mode::parse(page.after_key(2)).ok_or_else(|| AppError::invalid("cursor", "is not a cursor this API gave out"))?;
    let (to, to_filter) = match (to, &project.current_sync_id) {
        (Some(sync), _) => completed(svc, project, sync).await?,
        // The current state's filter (the snapshot's, unless a sync completed in between:
        // then the page is read at the snapshot, and only reasons could differ).
        (None, Some(current)) => (page.snapshot(1, project.current_seq)?, completed(svc, project, current).await?.1),
        (None, None) => (page.snapshot(1, project.current_seq)?, PathFilter::default()),
    };
    let (from, from_filter) = match from {
        CompareFrom::Sync(sync) => {
            let (seq, filter) = completed(svc, project, &sync).await?;
            (seq, Some(filter))
        }
        CompareFrom::Empty => (0, None),
        // Chain positions are consecutive: a commit moves the project from `seq` to `seq + 1`.
        CompareFrom::Previous => (to.saturating_sub(1), None),
    };
    let db = svc.for_project(&project.id);
    let read_before = db.rows_read();
    let content = ContentBucket::from_env(svc.env)?;
    let (lo, hi, forward) = (from.min(to), from.max(to), from <= to);
    let sides = CompareSides { db, content: &content, scope: project.repository.canonical(), project: project.id.clone(), lo, hi, forward };
    let found = crate::compare::page(&sides, page.after_key(0).unwrap_or(""), page.limit, mode).await?;
    let mut rows: Vec<StoredChange> = found.changes.iter().map(StoredChange::from).collect();
    with_reasons(&mut rows, from_filter.as_ref(), &to_filter);
    let items: Vec<ChangeView> = rows.iter().map(ChangeView::from).collect();
    let next_cursor = found.next.map(|after| encode_cursor(&[after, to.to_string(), found.mode.as_str().to_string()]));
    let listed = Listed { page: Page { items, next_cursor }, rows_read: db.rows_read() - read_before };
    Ok(Compared { listed, renames: found.renames })
}

/// A page of one sync's changes, and whether git's rename limit stopped that sync's search
/// for renames with edits (then some edited moves show as a removal and an addition).
pub struct SyncChanges {
    pub listed: Listed<ChangeView>,
    pub rename_limit_exceeded: bool,
}

/// What one sync changed (a dry run: what it would have), with whether its renames were
/// limited.
pub async fn changes_page(svc: &Services<'_>, user: &UserId, id: &SyncId, page: &PageRequest) -> AppResult<SyncChanges> {
    let sync = sync_of(svc, user, id).await?;
    let listed = changes_of(svc, &sync, page).await?;
    Ok(SyncChanges { listed, rename_limit_exceeded: sync.renames_limited })
}

/// The changes of `sync`. A sync that did not complete changed nothing yet: its staged rows
/// are not changes.
async fn changes_of(svc: &Services<'_>, sync: &SyncRow, page: &PageRequest) -> AppResult<Listed<ChangeView>> {
    if !sync.changes_kept {
        return Err(AppError::NotFound(
            "the changes of this dry run are no longer kept (a project keeps those of its 20 newest dry runs)".into(),
        ));
    }
    let db = svc.for_project(&sync.project_id);
    let read_before = db.rows_read();
    let after = page.after_key(0).unwrap_or("");
    let (rows, next): (Vec<StoredChange>, Option<String>) = match (sync.status, sync.dry_run) {
        (SyncStatus::Complete, true) => {
            let rows = db.preview_changes(&sync.id, after, page.limit + 1).await?;
            let found = Page::from_overfetch(rows, page.limit, |c| vec![c.path.clone()]);
            let items = found.items.iter().map(ChangeView::from).collect();
            return Ok(Listed { page: Page { items, next_cursor: found.next_cursor }, rows_read: db.rows_read() - read_before });
        }
        (SyncStatus::Complete, false) => {
            let before = match &sync.previous_sync_id {
                Some(previous) => db.sync(previous).await?.map(|p| p.path_filter),
                None => None,
            };
            // A completed sync has its chain position (the table's CHECK).
            let seq = sync.seq.unwrap_or_default();
            let (mut rows, next) = sync_changes(db, &sync.project_id, seq, after, page.limit).await?;
            with_reasons(&mut rows, before.as_ref(), &sync.path_filter);
            (rows, next)
        }
        _ => (Vec::new(), None),
    };
    let items: Vec<ChangeView> = rows.iter().map(ChangeView::from).collect();
    let page = Page { items, next_cursor: next.map(|path| encode_cursor(&[path])) };
    Ok(Listed { page, rows_read: db.rows_read() - read_before })
}

/// A page of a completed sync's changes (at chain position `seq`) after `after`: windows of its rows in path order
/// until the page is full, the rows end, or `WINDOWS_PER_PAGE` windows were read (a page
/// over many superseded paths that are no removal, renamed ones say, may end short). The
/// changes, and the path the next page goes on after.
async fn sync_changes(db: &Db, project: &ProjectId, seq: u64, after: &str, limit: u32) -> AppResult<(Vec<StoredChange>, Option<String>)> {
    let mut rows: Vec<StoredChange> = Vec::new();
    let mut at = after.to_string();
    for _ in 0..WINDOWS_PER_PAGE {
        let (found, through) = db.changes_window(project, seq, &at, limit + 1).await?;
        rows.extend(found);
        if rows.len() > limit as usize {
            rows.truncate(limit as usize);
            let last = rows.last().map(|r| r.path.clone());
            return Ok((rows, last));
        }
        match through {
            None => return Ok((rows, None)),
            Some(t) if rows.len() == limit as usize => return Ok((rows, Some(t))),
            Some(t) => at = t,
        }
    }
    Ok((rows, Some(at)))
}

/// Marks the changes a filter change made (`"filtered"`), from the filters of the states
/// before and after.
fn with_reasons(rows: &mut [StoredChange], before: Option<&PathFilter>, after: &PathFilter) {
    for row in rows {
        row.mark_filtered(before, after);
    }
}

/// A page of memory entries (chunks of text files): every one of a state in path order
/// when `query` is empty, else the full-text search's hits, best first. `cost` is what an
/// entry costs the page's `budget` in bytes (the caller's reads of R2 for it): the page
/// ends early rather than over it, its cursor continuing at the first entry left out.
pub async fn memory_page(
    svc: &Services<'_>,
    project: &ProjectRow,
    query: &str,
    at: Option<&SyncId>,
    page: &PageRequest,
    budget: u64,
    cost: fn(&ChunkRef) -> u64,
) -> AppResult<Page<ChunkRef>> {
    let scope = project.repository.canonical();
    let db = svc.for_project(&project.id);
    let state = seq_for(svc, project, at).await?;
    if query.trim().is_empty() {
        // Cursor: (path, chunk, snapshot).
        let seq = page.snapshot(2, state)?;
        let after = (page.after_key(0).unwrap_or(""), page.after_key(1).and_then(|c| c.parse::<u64>().ok()).unwrap_or(0));
        let refs = db.memory_list(&project.id, seq, &scope, after, page.limit + 1).await?;
        let (taken, more) = taken_of(&refs, page.limit, budget, cost);
        let next_cursor = more
            .then(|| refs.get(taken.saturating_sub(1)))
            .flatten()
            .map(|last| encode_cursor(&[last.path.clone(), last.chunk.to_string(), seq.to_string()]));
        return Ok(Page { items: refs.into_iter().take(taken).collect(), next_cursor });
    }
    let fts = fts_query(query, &fts_scope(&scope)).ok_or_else(|| AppError::invalid("q", "has no word to search for"))?;
    // Cursor: (offset, snapshot, last document ranked).
    let seq = page.snapshot(1, state)?;
    let offset: u64 = page.after_key(0).and_then(|o| o.parse().ok()).unwrap_or(0);
    let max_doc = match page.after_key(2).and_then(|c| c.parse().ok()) {
        Some(c) => c,
        None => db.newest_doc().await?,
    };
    let refs = db.memory_search(&project.id, seq, &fts, max_doc, offset, page.limit + 1).await?;
    let (taken, more) = taken_of(&refs, page.limit, budget, cost);
    let next_cursor = more.then(|| encode_cursor(&[(offset + taken as u64).to_string(), seq.to_string(), max_doc.to_string()]));
    Ok(Page { items: refs.into_iter().take(taken).collect(), next_cursor })
}

/// How many of `refs` (read with `limit + 1`) one page takes, and whether more follow.
fn taken_of(refs: &[ChunkRef], limit: u32, budget: u64, cost: fn(&ChunkRef) -> u64) -> (usize, bool) {
    let within_limit = refs.len().min(limit as usize);
    let taken = within_budget(refs[..within_limit].iter().map(cost), budget);
    (taken, taken < refs.len())
}

/// The entries with their text: one ranged R2 read of exactly each chunk's bytes in its
/// blob's pack, so a page holds its chunks and never a whole blob.
pub async fn with_text(svc: &Services<'_>, refs: Vec<ChunkRef>) -> AppResult<Vec<MemoryView>> {
    let content = ContentBucket::from_env(svc.env)?;
    let mut rows = Vec::with_capacity(refs.len());
    for r in refs {
        let bytes = content.read(&r.pack, r.base + r.start, r.bytes()).await?;
        let Some(text) = bytes.and_then(|b| String::from_utf8(b).ok()) else {
            worker::console_warn!("memory: chunk {} of blob {} ({}) is missing from pack {}", r.chunk, r.sha, r.path, r.pack);
            continue;
        };
        rows.push(MemoryView { id: r.id, path: r.path, sha: r.sha, chunk: r.chunk, text, sync_id: r.sync_id });
    }
    Ok(rows)
}
