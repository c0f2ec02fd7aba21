//! What a project holds: files (now or right after an earlier sync), a path's history, what
//! a sync changed, and the memory entries. Every list's cursor carries the chain position
//! its first page read, so a sync that completes between two pages changes nothing in them.

use super::{project_of, sync_of};
use crate::api::{encode_cursor, etag_matches, query_param, ChangeView, FileHistoryView, FileView, MemoryView, Page, PageRequest};
use crate::compare::{Mode, WINDOWS_PER_PAGE};
use crate::content::{fts_query, fts_scope, within_budget, MEMORY_PAGE_BYTES};
use crate::domain::SyncStatus;
use crate::domain::{ProjectId, SyncId, UserId};
use crate::error::{AppError, AppResult};
use crate::pathfilter::PathFilter;
use crate::rows::StoredChange;
use crate::shell::adapters::content::ContentBucket;
use crate::shell::adapters::d1::{ChunkRef, CompareSides, Db, ProjectRow};
use crate::shell::adapters::http::{self, header, json};
use crate::shell::adapters::Services;
use worker::{Headers, Request, Response};

/// The chain position to read files at: `at` (a completed sync of this project) or now.
async fn seq_for(svc: &Services<'_>, project: &ProjectRow, at: Option<String>) -> AppResult<u64> {
    let Some(at) = at.filter(|a| !a.is_empty()) else { return Ok(project.current_seq) };
    completed_position(svc, project, &sync_param(&at)?)
        .await?
        .ok_or_else(|| AppError::conflict(format!("sync {at} made no state (it did not complete, or was a dry run)")))
}

/// The chain position of a sync of this project, `None` if it did not complete (another
/// project's sync, or none, is a 404).
async fn completed_position(svc: &Services<'_>, project: &ProjectRow, sync: &SyncId) -> AppResult<Option<u64>> {
    Ok(completed_state(svc, project, sync).await?.map(|(seq, _)| seq))
}

/// A completed sync's chain position and the filter that made its state.
/// A sync named in the query (`at`, `from`, `to`), parsed once; one that cannot be an id
/// names no sync (404).
fn sync_param(raw: &str) -> AppResult<SyncId> {
    SyncId::parse(raw).map_err(|_| AppError::not_found("sync"))
}

/// A completed sync's chain position and the filter that made its state.
async fn completed_state(svc: &Services<'_>, project: &ProjectRow, sync: &SyncId) -> AppResult<Option<(u64, PathFilter)>> {
    match svc.for_project(&project.id).sync(sync).await? {
        Some(s) if s.project_id == project.id => Ok(s.seq.filter(|_| s.status == SyncStatus::Complete).map(|seq| (seq, s.path_filter))),
        _ => Err(AppError::not_found("sync")),
    }
}

pub async fn files(svc: &Services<'_>, user: &UserId, id: &ProjectId, query: &str) -> AppResult<Response> {
    let page = PageRequest::parse(query)?;
    let project = project_of(svc, user, id).await?;
    let seq = page.snapshot(1, seq_for(svc, &project, query_param(query, "at")).await?)?;
    let prefix = query_param(query, "prefix").unwrap_or_default();
    let after = page.after_key(0).unwrap_or("");
    let db = svc.for_project(&project.id);
    let read_before = db.rows_read();
    let rows: Vec<FileView> = db.files_at_seq(&project.id, seq, &prefix, after, page.limit + 1).await?.iter().map(FileView::from).collect();
    let response = json(200, &Page::from_overfetch(rows, page.limit, |f| vec![f.path.clone(), seq.to_string()]))?;
    with_rows_read(svc, response, db.rows_read() - read_before)
}

/// A file's bytes: kept text from R2 (no GitHub request), anything else streamed from
/// GitHub's blob API; the blob sha is the ETag, and a matching `If-None-Match` is a 304
/// before anything is read.
pub async fn content(svc: &Services<'_>, user: &UserId, id: &ProjectId, req: &Request, query: &str) -> AppResult<Response> {
    let path = query_param(query, "path").filter(|p| !p.is_empty()).ok_or_else(|| AppError::invalid("path", "is required"))?;
    let project = project_of(svc, user, id).await?;
    let seq = seq_for(svc, &project, query_param(query, "at")).await?;
    let db = svc.for_project(&project.id);
    let scope = project.repository.canonical();
    let found = db.content_at_seq(&project.id, seq, &path, &scope).await?;
    let Some(file) = found.filter(|f| f.kind != "submodule") else {
        return Err(AppError::not_found("file"));
    };
    let etag = format!("\"{}\"", file.sha);
    if etag_matches(header(req, "if-none-match").as_deref(), &file.sha) {
        let headers = Headers::new();
        headers.set("etag", &etag).map_err(AppError::internal)?;
        return Ok(Response::empty().map_err(AppError::internal)?.with_status(304).with_headers(headers));
    }
    // The empty blob is text with nothing to store (no pack): its bytes are known.
    if file.size == Some(0) && file.sha == crate::diff::EMPTY_BLOB_SHA {
        return with_etag(http::bytes(200, "text/plain; charset=utf-8", Vec::new())?, &etag);
    }
    if let (Some(pack), Some(offset), Some(size)) = (&file.pack, file.pack_offset, file.size) {
        let content = ContentBucket::from_env(svc.env)?;
        if let Some(bytes) = content.read(pack, offset, size).await? {
            return with_etag(http::bytes(200, "text/plain; charset=utf-8", bytes)?, &etag);
        }
        worker::console_warn!("content: the text of blob {} ({path}) is missing from pack {pack}; reading it from GitHub", file.sha);
    }
    let gh = svc.github_for(&project).await?;
    let (body, length) = gh.blob_stream(&project.repository, &file.sha).await?;
    let response = Response::from_body(body).map_err(AppError::internal)?;
    let headers = Headers::new();
    headers.set("content-type", "application/octet-stream").map_err(AppError::internal)?;
    headers.set("x-content-type-options", "nosniff").map_err(AppError::internal)?;
    if let Some(length) = length {
        headers.set("content-length", &length.to_string()).map_err(AppError::internal)?;
    }
    with_etag(response.with_headers(headers), &etag)
}

fn with_etag(response: Response, etag: &str) -> AppResult<Response> {
    response.headers().set("etag", etag).map_err(AppError::internal)?;
    response.headers().set("cache-control", "private, no-cache").map_err(AppError::internal)?;
    Ok(response)
}

pub async fn file_history(svc: &Services<'_>, user: &UserId, id: &ProjectId, query: &str) -> AppResult<Response> {
    let page = PageRequest::parse(query)?;
    let path = query_param(query, "path").filter(|p| !p.is_empty()).ok_or_else(|| AppError::invalid("path", "is required"))?;
    let project = project_of(svc, user, id).await?;
    let current = page.snapshot(1, project.current_seq)?;
    let before = page.after_key(0).and_then(|k| k.parse::<u64>().ok()).unwrap_or(current + 1);
    let db = svc.for_project(&project.id);
    let read_before = db.rows_read();
    let rows = db.file_history(&project.id, current, &path, before, page.limit + 1).await?;
    let page_out = Page::from_overfetch(rows, page.limit, |r| vec![r.introduced_seq.to_string(), current.to_string()]);
    let items: Vec<FileHistoryView> = page_out.items.iter().map(FileHistoryView::from).collect();
    let response = json(200, &Page { items, next_cursor: page_out.next_cursor })?;
    with_rows_read(svc, response, db.rows_read() - read_before)
}

/// The chain position of a COMPLETE sync of this project (404 for anything else).
async fn completed(svc: &Services<'_>, project: &ProjectRow, sync: &SyncId) -> AppResult<(u64, PathFilter)> {
    completed_state(svc, project, sync).await?.ok_or_else(|| AppError::not_found("sync"))
}

/// The changes that turn the state right after `from` (or the empty state) into the state
/// right after `to` (or the current one), either direction: from the versions held, no
/// GitHub request, renames paired as a sync pairs them. Pages read one snapshot (the cursor
/// carries `to`'s position when it was the current one) and cost what they hold
/// (`crate::compare`): the cursor carries the path to go on after and how pages read.
pub async fn compare(svc: &Services<'_>, user: &UserId, id: &ProjectId, query: &str) -> AppResult<Response> {
    let page = PageRequest::parse(query)?;
    let mode = Mode::parse(page.after_key(2)).ok_or_else(|| AppError::invalid("cursor", "is not a cursor this API gave out"))?;
    let project = project_of(svc, user, id).await?;
    let named = |name: &str| query_param(query, name).filter(|v| !v.is_empty());
    let (from, from_filter) = match named("from") {
        Some(sync) => {
            let (seq, filter) = completed(svc, &project, &sync_param(&sync)?).await?;
            (seq, Some(filter))
        }
        None => (0, None),
    };
    let (to, to_filter) = match (named("to"), &project.current_sync_id) {
        (Some(sync), _) => completed(svc, &project, &sync_param(&sync)?).await?,
        // The current state's filter (the snapshot's, unless a sync completed in between:
        // then the page is read at the snapshot, and only reasons could differ).
        (None, Some(current)) => (page.snapshot(1, project.current_seq)?, completed(svc, &project, current).await?.1),
        (None, None) => (page.snapshot(1, project.current_seq)?, PathFilter::default()),
    };
    let db = svc.for_project(&project.id);
    let read_before = db.rows_read();
    let sides = CompareSides { db, project: project.id.clone(), lo: from.min(to), hi: from.max(to), forward: from <= to };
    let found = crate::compare::page(&sides, page.after_key(0).unwrap_or(""), page.limit, mode).await?;
    let mut rows: Vec<StoredChange> = found.changes.iter().map(StoredChange::from).collect();
    with_reasons(&mut rows, from_filter.as_ref(), &to_filter);
    let rows: Vec<ChangeView> = rows.iter().map(ChangeView::from).collect();
    let next_cursor = found.next.map(|after| encode_cursor(&[after, to.to_string(), found.mode.as_str().to_string()]));
    with_rows_read(svc, json(200, &Page { items: rows, next_cursor })?, db.rows_read() - read_before)
}

/// With test faults on (never in production), says how many D1 rows the page read, so
/// tests and the benchmark can hold pages to their bound.
fn with_rows_read(svc: &Services<'_>, response: Response, rows: u64) -> AppResult<Response> {
    if svc.settings.fault_injection {
        response.headers().set("x-d1-rows-read", &rows.to_string()).map_err(AppError::internal)?;
    }
    Ok(response)
}

pub async fn changes(svc: &Services<'_>, user: &UserId, id: &SyncId, query: &str) -> AppResult<Response> {
    let page = PageRequest::parse(query)?;
    let sync = sync_of(svc, user, id).await?;
    if !sync.changes_kept {
        return Err(AppError::NotFound(
            "the changes of this dry run are no longer kept (a project keeps those of its 20 newest dry runs)".into(),
        ));
    }
    let db = svc.for_project(&sync.project_id);
    let read_before = db.rows_read();
    let after = page.after_key(0).unwrap_or("");
    // Only a completed sync changed anything; staged rows of a running one are not changes yet.
    let (rows, next): (Vec<StoredChange>, Option<String>) = match (sync.status, sync.dry_run) {
        (SyncStatus::Complete, true) => {
            let rows = db.preview_changes(&sync.id, after, page.limit + 1).await?;
            let page = Page::from_overfetch(rows, page.limit, |c| vec![c.path.clone()]);
            let page = Page { items: page.items.iter().map(ChangeView::from).collect::<Vec<_>>(), next_cursor: page.next_cursor };
            return with_rows_read(svc, json(200, &page)?, db.rows_read() - read_before);
        }
        (SyncStatus::Complete, false) => {
            let before = match &sync.previous_sync_id {
                Some(previous) => db.sync(previous).await?.map(|p| p.path_filter),
                None => None,
            };
            let (mut rows, next) = sync_changes(db, &sync.project_id, &sync.id, after, page.limit).await?;
            with_reasons(&mut rows, before.as_ref(), &sync.path_filter);
            (rows, next)
        }
        _ => (Vec::new(), None),
    };
    let items: Vec<ChangeView> = rows.iter().map(ChangeView::from).collect();
    let response = json(200, &Page { items, next_cursor: next.map(|path| encode_cursor(&[path])) })?;
    with_rows_read(svc, response, db.rows_read() - read_before)
}

/// A page of a completed sync's changes after `after`: windows of its rows in path order
/// until the page is full, the rows end, or `WINDOWS_PER_PAGE` windows were read (a page
/// over many superseded paths that are no removal, renamed ones say, may end short). The
/// changes, and the path the next page goes on after.
async fn sync_changes(
    db: &Db,
    project: &ProjectId,
    sync: &SyncId,
    after: &str,
    limit: u32,
) -> AppResult<(Vec<StoredChange>, Option<String>)> {
    let mut rows: Vec<StoredChange> = Vec::new();
    let mut at = after.to_string();
    for _ in 0..WINDOWS_PER_PAGE {
        let (found, through) = db.changes_window(project, sync, &at, limit + 1).await?;
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

pub async fn memory(svc: &Services<'_>, user: &UserId, id: &ProjectId, query: &str) -> AppResult<Response> {
    let page = PageRequest::parse(query)?;
    let project = project_of(svc, user, id).await?;
    let scope = project.repository.canonical();
    let q = query_param(query, "q").unwrap_or_default();
    if q.trim().is_empty() {
        // Cursor: (path, chunk, snapshot).
        let seq = page.snapshot(2, project.current_seq)?;
        let after = (page.after_key(0).unwrap_or(""), page.after_key(1).and_then(|c| c.parse::<u64>().ok()).unwrap_or(0));
        let refs = svc.for_project(&project.id).memory_list(&project.id, seq, &scope, after, page.limit + 1).await?;
        let (taken, more) = page_of(&refs, page.limit);
        let next_cursor = more
            .then(|| refs.get(taken.saturating_sub(1)))
            .flatten()
            .map(|last| encode_cursor(&[last.path.clone(), last.chunk.to_string(), seq.to_string()]));
        let items = with_text(svc, refs.into_iter().take(taken).collect()).await?;
        return json(200, &Page { items, next_cursor });
    }
    let fts = fts_query(&q, &fts_scope(&scope)).ok_or_else(|| AppError::invalid("q", "has no word to search for"))?;
    // Cursor: (offset, snapshot, last document ranked).
    let seq = page.snapshot(1, project.current_seq)?;
    let offset: u64 = page.after_key(0).and_then(|o| o.parse().ok()).unwrap_or(0);
    let max_doc = match page.after_key(2).and_then(|c| c.parse().ok()) {
        Some(c) => c,
        None => svc.for_project(&project.id).newest_doc().await?,
    };
    let refs = svc.for_project(&project.id).memory_search(&project.id, seq, &fts, max_doc, offset, page.limit + 1).await?;
    let (taken, more) = page_of(&refs, page.limit);
    let next_cursor = more.then(|| encode_cursor(&[(offset + taken as u64).to_string(), seq.to_string(), max_doc.to_string()]));
    json(200, &Page { items: with_text(svc, refs.into_iter().take(taken).collect()).await?, next_cursor })
}

/// How many of `refs` (read with `limit + 1`) one page takes, and whether more follow: at
/// most `limit`, and no more text than `MEMORY_PAGE_BYTES` (the page then ends early, its
/// cursor continuing at the first entry left out).
fn page_of(refs: &[ChunkRef], limit: u32) -> (usize, bool) {
    let within_limit = refs.len().min(limit as usize);
    let taken = within_budget(refs[..within_limit].iter().map(ChunkRef::bytes), MEMORY_PAGE_BYTES);
    (taken, taken < refs.len())
}

/// The entries with their text: one ranged R2 read of exactly each chunk's bytes in its
/// blob's pack, so a page holds its chunks and never a whole blob.
async fn with_text(svc: &Services<'_>, refs: Vec<ChunkRef>) -> AppResult<Vec<MemoryView>> {
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
