//! What a project holds: files (now or right after an earlier sync), a path's history, what
//! a sync changed, and the memory entries. The reads are `cases::reads`' (the MCP tools use
//! the same); here they are given their query parameters and become responses. Every list's
//! cursor carries the chain position its first page read, so a sync that completes between
//! two pages changes nothing in them.

use super::project_of;
use crate::api::{etag_matches, query_param, ChangesPage, Page, PageRequest};
use crate::content::MEMORY_PAGE_BYTES;
use crate::domain::{ProjectId, SyncId, UserId};
use crate::error::{AppError, AppResult};
use crate::shell::adapters::d1::ChunkRef;
use crate::shell::adapters::http::{self, header, json};
use crate::shell::adapters::Services;
use crate::shell::cases::reads::{self, CompareFrom, Listed};
use serde::Serialize;
use worker::{Headers, Request, Response};

/// A sync named in the query (`at`, `from`, `to`), parsed once; empty is none, and one that
/// cannot be an id names no sync (404).
fn sync_param(query: &str, name: &str) -> AppResult<Option<SyncId>> {
    match query_param(query, name).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(raw) => SyncId::parse(&raw).map(Some).map_err(|_| AppError::not_found("sync")),
    }
}

fn required_path(query: &str) -> AppResult<String> {
    query_param(query, "path").filter(|p| !p.is_empty()).ok_or_else(|| AppError::invalid("path", "is required"))
}

pub async fn files(svc: &Services<'_>, user: &UserId, id: &ProjectId, query: &str) -> AppResult<Response> {
    let page = PageRequest::parse(query)?;
    let project = project_of(svc, user, id).await?;
    let prefix = query_param(query, "prefix").unwrap_or_default();
    listed(svc, reads::files_page(svc, &project, sync_param(query, "at")?.as_ref(), &prefix, &page).await?)
}

/// A file's bytes: kept text from R2 (no GitHub request), anything else streamed from
/// GitHub's blob API; the blob sha is the ETag, and a matching `If-None-Match` is a 304
/// before anything is read.
pub async fn content(svc: &Services<'_>, user: &UserId, id: &ProjectId, req: &Request, query: &str) -> AppResult<Response> {
    let path = required_path(query)?;
    let project = project_of(svc, user, id).await?;
    let file = reads::file_at(svc, &project, sync_param(query, "at")?.as_ref(), &path).await?;
    if file.kind == "submodule" {
        return Err(AppError::not_found("file"));
    }
    let etag = format!("\"{}\"", file.sha);
    if etag_matches(header(req, "if-none-match").as_deref(), &file.sha) {
        let headers = Headers::new();
        headers.set("etag", &etag).map_err(AppError::internal)?;
        return Ok(Response::empty().map_err(AppError::internal)?.with_status(304).with_headers(headers));
    }
    if let Some(bytes) = reads::kept_text(svc, &file, &path).await? {
        return with_etag(http::bytes(200, "text/plain; charset=utf-8", bytes)?, &etag);
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
    let path = required_path(query)?;
    let project = project_of(svc, user, id).await?;
    listed(svc, reads::history_page(svc, &project, &path, &page).await?)
}

/// The changes that turn the state right after `from` (or the empty state) into the state
/// right after `to` (or the current one), either direction.
pub async fn compare(svc: &Services<'_>, user: &UserId, id: &ProjectId, query: &str) -> AppResult<Response> {
    let page = PageRequest::parse(query)?;
    let project = project_of(svc, user, id).await?;
    let from = sync_param(query, "from")?.map_or(CompareFrom::Empty, CompareFrom::Sync);
    let found = reads::compare_page(svc, &project, from, sync_param(query, "to")?.as_ref(), &page).await?;
    let mut body = serde_json::to_value(&found.listed.page).map_err(AppError::internal)?;
    body["renames"] = serde_json::json!(found.renames.as_str());
    counted(svc, &body, found.listed.rows_read)
}

/// A sync's changes, saying when its renames were limited (`api::ChangesPage`).
pub async fn changes(svc: &Services<'_>, user: &UserId, id: &SyncId, query: &str) -> AppResult<Response> {
    let page = PageRequest::parse(query)?;
    let found = reads::changes_page(svc, user, id, &page).await?;
    let body = ChangesPage { page: found.listed.page, rename_limit_exceeded: found.rename_limit_exceeded };
    counted(svc, &body, found.listed.rows_read)
}

fn listed<T: Serialize>(svc: &Services<'_>, listed: Listed<T>) -> AppResult<Response> {
    counted(svc, &listed.page, listed.rows_read)
}

/// A page as JSON; with test faults on (never in production), it says how many D1 rows it
/// read, so tests and the benchmark can hold pages to their bound.
fn counted<T: Serialize>(svc: &Services<'_>, body: &T, rows_read: u64) -> AppResult<Response> {
    let response = json(200, body)?;
    if svc.settings.fault_injection {
        response.headers().set("x-d1-rows-read", &rows_read.to_string()).map_err(AppError::internal)?;
    }
    Ok(response)
}

/// The memory entries of the current state, or those that match `q`: at most
/// `MEMORY_PAGE_BYTES` of chunk text a page.
pub async fn memory(svc: &Services<'_>, user: &UserId, id: &ProjectId, query: &str) -> AppResult<Response> {
    let page = PageRequest::parse(query)?;
    let project = project_of(svc, user, id).await?;
    let q = query_param(query, "q").unwrap_or_default();
    let found = reads::memory_page(svc, &project, &q, None, &page, MEMORY_PAGE_BYTES, ChunkRef::bytes).await?;
    json(200, &Page { items: reads::with_text(svc, found.items).await?, next_cursor: found.next_cursor })
}
