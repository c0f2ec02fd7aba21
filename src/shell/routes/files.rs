//! What a project holds: files (now or right after an earlier sync), a path's history, what
//! a sync changed, and the memory entries. Every list's cursor carries the chain position
//! its first page read, so a sync that completes between two pages changes nothing in them.

use super::super::content::ContentBucket;
use super::super::d1::{ChunkRef, ProjectRow};
use super::super::http::{self, header, json};
use super::super::Services;
use super::{project_of, sync_of};
use crate::api::{encode_cursor, etag_matches, query_param, ChangeView, MemoryView, Page, PageRequest};
use crate::content::{fts_query, fts_scope};
use crate::domain::SyncStatus;
use crate::error::{AppError, AppResult};
use crate::pathfilter::PathFilter;
use std::collections::HashMap;
use worker::{Headers, Request, Response};

/// The chain position to read files at: `at` (a completed sync of this project) or now.
async fn seq_for(svc: &Services<'_>, project: &ProjectRow, at: Option<String>) -> AppResult<u64> {
    let Some(at) = at.filter(|a| !a.is_empty()) else { return Ok(project.current_seq) };
    completed_position(svc, project, &at)
        .await?
        .ok_or_else(|| AppError::conflict(format!("sync {at} made no state (it did not complete, or was a dry run)")))
}

/// The chain position of a sync of this project, `None` if it did not complete (another
/// project's sync, or none, is a 404).
async fn completed_position(svc: &Services<'_>, project: &ProjectRow, sync: &str) -> AppResult<Option<u64>> {
    Ok(completed_state(svc, project, sync).await?.map(|(seq, _)| seq))
}

/// A completed sync's chain position and the filter that made its state.
async fn completed_state(svc: &Services<'_>, project: &ProjectRow, sync: &str) -> AppResult<Option<(u64, PathFilter)>> {
    match svc.for_project(project.id.as_str()).sync(sync).await? {
        Some(s) if s.project_id == project.id => Ok(s.seq.filter(|_| s.status == SyncStatus::Complete).map(|seq| (seq, s.path_filter))),
        _ => Err(AppError::not_found("sync")),
    }
}

pub async fn files(svc: &Services<'_>, user: &str, id: &str, query: &str) -> AppResult<Response> {
    let page = PageRequest::parse(query)?;
    let project = project_of(svc, user, id).await?;
    let seq = page.snapshot(1, seq_for(svc, &project, query_param(query, "at")).await?)?;
    let prefix = query_param(query, "prefix").unwrap_or_default();
    let after = page.after_key(0).unwrap_or("");
    let rows = svc.for_project(project.id.as_str()).files_at_seq(project.id.as_str(), seq, &prefix, after, page.limit + 1).await?;
    json(200, &Page::from_overfetch(rows, page.limit, |f| vec![f.path.clone(), seq.to_string()]))
}

/// A file's bytes: kept text from R2 (no GitHub request), anything else streamed from
/// GitHub's blob API; the blob sha is the ETag, and a matching `If-None-Match` is a 304
/// before anything is read.
pub async fn content(svc: &Services<'_>, user: &str, id: &str, req: &Request, query: &str) -> AppResult<Response> {
    let path = query_param(query, "path").filter(|p| !p.is_empty()).ok_or_else(|| AppError::invalid("path", "is required"))?;
    let project = project_of(svc, user, id).await?;
    let seq = seq_for(svc, &project, query_param(query, "at")).await?;
    let db = svc.for_project(project.id.as_str());
    let scope = project.repository.canonical();
    let found = db.content_at_seq(project.id.as_str(), seq, &path, &scope).await?;
    let Some(file) = found.filter(|f| f.kind != "submodule") else {
        return Err(AppError::not_found("file"));
    };
    let etag = format!("\"{}\"", file.sha);
    if etag_matches(header(req, "if-none-match").as_deref(), &file.sha) {
        let headers = Headers::new();
        headers.set("etag", &etag).map_err(AppError::internal)?;
        return Ok(Response::empty().map_err(AppError::internal)?.with_status(304).with_headers(headers));
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

pub async fn file_history(svc: &Services<'_>, user: &str, id: &str, query: &str) -> AppResult<Response> {
    let page = PageRequest::parse(query)?;
    let path = query_param(query, "path").filter(|p| !p.is_empty()).ok_or_else(|| AppError::invalid("path", "is required"))?;
    let project = project_of(svc, user, id).await?;
    let current = page.snapshot(1, project.current_seq)?;
    let before = page.after_key(0).and_then(|k| k.parse::<u64>().ok()).unwrap_or(current + 1);
    let rows = svc.for_project(project.id.as_str()).file_history(project.id.as_str(), current, &path, before, page.limit + 1).await?;
    let page_out = Page::from_overfetch(rows, page.limit, |(_, seq)| vec![seq.to_string(), current.to_string()]);
    json(200, &Page { items: page_out.items.into_iter().map(|(v, _)| v).collect(), next_cursor: page_out.next_cursor })
}

/// The chain position of a COMPLETE sync of this project (404 for anything else).
async fn completed(svc: &Services<'_>, project: &ProjectRow, sync: &str) -> AppResult<(u64, PathFilter)> {
    completed_state(svc, project, sync).await?.ok_or_else(|| AppError::not_found("sync"))
}

/// The changes that turn the state right after `from` (or the empty state) into the state
/// right after `to` (or the current one), either direction: from the versions held, no
/// GitHub request, renames paired as a sync pairs them. Pages read one snapshot (the cursor
/// carries `to`'s position when it was the current one).
pub async fn compare(svc: &Services<'_>, user: &str, id: &str, query: &str) -> AppResult<Response> {
    let page = PageRequest::parse(query)?;
    let project = project_of(svc, user, id).await?;
    let named = |name: &str| query_param(query, name).filter(|v| !v.is_empty());
    let (from, from_filter) = match named("from") {
        Some(sync) => {
            let (seq, filter) = completed(svc, &project, &sync).await?;
            (seq, Some(filter))
        }
        None => (0, None),
    };
    let (to, to_filter) = match (named("to"), &project.current_sync_id) {
        (Some(sync), _) => completed(svc, &project, &sync).await?,
        // The current state's filter (the snapshot's, unless a sync completed in between:
        // then the page is read at the snapshot, and only reasons could differ).
        (None, Some(current)) => (page.snapshot(1, project.current_seq)?, completed(svc, &project, current.as_str()).await?.1),
        (None, None) => (page.snapshot(1, project.current_seq)?, PathFilter::default()),
    };
    let (lo, hi) = (from.min(to), from.max(to));
    let (at_lo, at_hi) = svc.for_project(project.id.as_str()).compare_sides(project.id.as_str(), lo, hi).await?;
    let (old, new) = if from <= to { (at_lo, at_hi) } else { (at_hi, at_lo) };
    let after = page.after_key(0).unwrap_or("");
    let mut rows: Vec<ChangeView> = crate::diff::diff(old, new)
        .changes
        .iter()
        .filter(|c| c.path() > after)
        .take(page.limit as usize + 1)
        .map(ChangeView::from)
        .collect();
    with_reasons(&mut rows, from_filter.as_ref(), &to_filter);
    json(200, &Page::from_overfetch(rows, page.limit, |c| vec![c.path.clone(), to.to_string()]))
}

pub async fn changes(svc: &Services<'_>, user: &str, id: &str, query: &str) -> AppResult<Response> {
    let page = PageRequest::parse(query)?;
    let sync = sync_of(svc, user, id).await?;
    if !sync.changes_kept {
        return Err(AppError::NotFound(
            "the changes of this dry run are no longer kept (a project keeps those of its 20 newest dry runs)".into(),
        ));
    }
    let db = svc.for_project(sync.project_id.as_str());
    let after = page.after_key(0).unwrap_or("");
    // Only a completed sync changed anything; staged rows of a running one are not changes yet.
    let rows: Vec<ChangeView> = match (sync.status, sync.dry_run) {
        (SyncStatus::Complete, true) => db.preview_changes(sync.id.as_str(), after, page.limit + 1).await?,
        (SyncStatus::Complete, false) => {
            let before = match &sync.previous_sync_id {
                Some(previous) => db.sync(previous.as_str()).await?.map(|p| p.path_filter),
                None => None,
            };
            let mut rows = db.changes(sync.id.as_str(), after, page.limit + 1).await?;
            with_reasons(&mut rows, before.as_ref(), &sync.path_filter);
            rows
        }
        _ => Vec::new(),
    };
    json(200, &Page::from_overfetch(rows, page.limit, |c| vec![c.path.clone()]))
}

/// Marks the changes a filter change made (`"filtered"`), from the filters of the states
/// before and after.
fn with_reasons(rows: &mut [ChangeView], before: Option<&PathFilter>, after: &PathFilter) {
    for row in rows {
        row.reason = crate::pathfilter::change_reason(&row.change, &row.path, before, after).map(String::from);
    }
}

pub async fn memory(svc: &Services<'_>, user: &str, id: &str, query: &str) -> AppResult<Response> {
    let page = PageRequest::parse(query)?;
    let project = project_of(svc, user, id).await?;
    let scope = project.repository.canonical();
    let q = query_param(query, "q").unwrap_or_default();
    if q.trim().is_empty() {
        // Cursor: (path, chunk, snapshot).
        let seq = page.snapshot(2, project.current_seq)?;
        let after = (page.after_key(0).unwrap_or(""), page.after_key(1).and_then(|c| c.parse::<u64>().ok()).unwrap_or(0));
        let refs = svc.for_project(project.id.as_str()).memory_list(project.id.as_str(), seq, &scope, after, page.limit + 1).await?;
        let rows = with_text(svc, refs).await?;
        return json(200, &Page::from_overfetch(rows, page.limit, |m| vec![m.path.clone(), m.chunk.to_string(), seq.to_string()]));
    }
    let fts = fts_query(&q, &fts_scope(&scope)).ok_or_else(|| AppError::invalid("q", "has no word to search for"))?;
    // Cursor: (offset, snapshot, last document ranked).
    let seq = page.snapshot(1, project.current_seq)?;
    let offset: u64 = page.after_key(0).and_then(|o| o.parse().ok()).unwrap_or(0);
    let max_doc = match page.after_key(2).and_then(|c| c.parse().ok()) {
        Some(c) => c,
        None => svc.for_project(project.id.as_str()).newest_doc().await?,
    };
    let mut refs =
        svc.for_project(project.id.as_str()).memory_search(project.id.as_str(), seq, &fts, max_doc, offset, page.limit + 1).await?;
    let next_cursor = (refs.len() > page.limit as usize).then(|| {
        refs.truncate(page.limit as usize);
        encode_cursor(&[(offset + u64::from(page.limit)).to_string(), seq.to_string(), max_doc.to_string()])
    });
    json(200, &Page { items: with_text(svc, refs).await?, next_cursor })
}

/// The entries with their text, read from R2 once per distinct blob of the page (a ranged
/// get of the blob's bytes in its pack).
async fn with_text(svc: &Services<'_>, refs: Vec<ChunkRef>) -> AppResult<Vec<MemoryView>> {
    let content = ContentBucket::from_env(svc.env)?;
    let mut texts: HashMap<String, Option<Vec<u8>>> = HashMap::new();
    let mut rows = Vec::with_capacity(refs.len());
    for r in refs {
        if !texts.contains_key(&r.sha) {
            let bytes = content.read(&r.pack, r.base, r.blob_size).await?;
            texts.insert(r.sha.clone(), bytes);
        }
        let bytes = texts.get(&r.sha).and_then(|t| t.as_deref()).and_then(|t| t.get(r.start as usize..r.end as usize));
        let Some(text) = bytes.and_then(|b| std::str::from_utf8(b).ok()) else {
            worker::console_warn!("memory: the text of blob {} ({}) is missing from pack {}", r.sha, r.path, r.pack);
            continue;
        };
        rows.push(MemoryView { id: r.id, path: r.path, sha: r.sha, chunk: r.chunk, text: text.to_string(), sync_id: r.sync_id });
    }
    Ok(rows)
}
