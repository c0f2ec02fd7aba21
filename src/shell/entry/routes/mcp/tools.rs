//! The tools and the file resources, run through the use cases the REST API runs
//! (`cases::reads`, `cases::plan` + `cases::start`, `cases::cancel`). A result is
//! `structuredContent` and the same JSON as text; a failure the caller can act on (not
//! found — another user's project is the same —, a sync running, a sync that made no
//! state) is a tool error with a sentence, never an HTTP error. Only `start_sync` reaches
//! GitHub.

use crate::api::{FilterChange, PageRequest, Restore, StartSync, SyncView};
use crate::content::skipped_for_api;
use crate::domain::{ProjectId, SyncId, Trigger, UserId};
use crate::error::{AppError, AppResult};
use crate::mcp::calls::{LineRange, ToolCall};
use crate::mcp::jsonrpc::{RpcError, INTERNAL_ERROR, RESOURCE_NOT_FOUND};
use crate::mcp::resources::{self, FileResource};
use crate::mcp::results;
use crate::mcp::text::{self, MAX_READ_BYTES};
use crate::shell::adapters::content::ContentBucket;
use crate::shell::adapters::d1::{ChunkRef, ContentRow, ProjectRow};
use crate::shell::adapters::Services;
use crate::shell::cases::plan::SyncPlan;
use crate::shell::cases::reads::{self, project_of, sync_of, CompareFrom};
use crate::shell::cases::{cancel, start};
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// Items a list tool gives a page: enough to be worth a call, few enough for a context.
const PAGE: u32 = 100;
/// Search hits a page: each is placed on its lines by reading its blob up to it.
const SEARCH_PAGE: u32 = 50;
/// The R2 bytes one search page may read to place its hits (each hit costs its blob's
/// text up to the end of its chunk): the page ends early rather than over it.
const SEARCH_READ_BYTES: u64 = 4 * 1024 * 1024;

/// Runs a tool call: its result, or a JSON-RPC error for arguments it cannot take.
pub async fn run(svc: &Services<'_>, user: &UserId, call: ToolCall) -> Result<Value, RpcError> {
    match structured(svc, user, call).await {
        Ok(content) => Ok(results::success(content)),
        Err(err) => refused(err),
    }
}

/// An `AppError` as MCP says it: what the caller can mend or wait for is a tool error (the
/// model reads it); a wrong argument is invalid params naming it; our fault is internal.
fn refused(err: AppError) -> Result<Value, RpcError> {
    let said = match err {
        AppError::InvalidRequest { field, reason } => {
            let field = if field == "q" { "query".to_owned() } else { field };
            return Err(RpcError::invalid_params(&field, reason));
        }
        AppError::Internal(detail) => {
            worker::console_error!("mcp: internal error: {detail}");
            return Err(RpcError::new(INTERNAL_ERROR, "Internal error"));
        }
        AppError::NotFound(message) => message,
        AppError::Conflict { message, .. } => message,
        AppError::GitHub(message) => format!("GitHub refused: {message}"),
        AppError::RateLimited { retry_after, message } => format!("GitHub's rate limit: {message}; retry in {retry_after} s"),
        AppError::TooLarge(message) => message,
        AppError::Unauthorized(message) => message,
        AppError::MethodNotAllowed { .. } => "not allowed".to_owned(),
    };
    Ok(results::failure(&said))
}

fn to_value<T: Serialize>(value: &T) -> AppResult<Value> {
    serde_json::to_value(value).map_err(AppError::internal)
}

/// A page as a tool gives it: the items under `key`, and `nextCursor` only when more follow.
fn page<T: Serialize>(key: &str, items: &[T], next: Option<String>, extra: &[(&str, Value)]) -> AppResult<Value> {
    let mut out = Map::new();
    out.insert(key.to_owned(), to_value(&items)?);
    for (k, v) in extra {
        out.insert((*k).to_owned(), v.clone());
    }
    if let Some(next) = next {
        out.insert("nextCursor".to_owned(), json!(next));
    }
    Ok(Value::Object(out))
}

fn cursor(cursor: &Option<String>, limit: u32) -> AppResult<PageRequest> {
    PageRequest::from_cursor(cursor.as_deref(), limit)
}

/// The sync whose state a read answers: `at`, or the current one (a project no sync has
/// completed yet has no state to read).
fn state_of(project: &ProjectRow, at: Option<&SyncId>) -> AppResult<SyncId> {
    at.cloned()
        .or_else(|| project.current_sync_id.clone())
        .ok_or_else(|| AppError::conflict("the project has no state yet: none of its syncs completed"))
}

async fn structured(svc: &Services<'_>, user: &UserId, call: ToolCall) -> AppResult<Value> {
    match call {
        ToolCall::ListProjects { cursor: c } => {
            let found = reads::projects_page(svc, user, &cursor(&c, PAGE)?).await?;
            page("projects", &found.items, found.next_cursor, &[])
        }
        ToolCall::ListSyncs { project, cursor: c } => {
            let found = reads::syncs_page(svc, user, &project, &cursor(&c, PAGE)?).await?;
            page("syncs", &found.items, found.next_cursor, &[])
        }
        ToolCall::GetSync { sync } => to_value(&SyncView::from(&sync_of(svc, user, &sync).await?)),
        ToolCall::ListFiles { project, at, prefix, cursor: c } => {
            let project = project_of(svc, user, &project).await?;
            let state = state_of(&project, at.as_ref())?;
            let found = reads::files_page(svc, &project, at.as_ref(), prefix.as_deref().unwrap_or(""), &cursor(&c, PAGE)?).await?;
            page("files", &found.page.items, found.page.next_cursor, &[("at", json!(state.to_string()))])
        }
        ToolCall::ReadFile { project, path, at, lines } => {
            let project = project_of(svc, user, &project).await?;
            read_file(svc, &project, at.as_ref(), &path, lines).await
        }
        ToolCall::SearchText { project, query, at, cursor: c } => {
            let project = project_of(svc, user, &project).await?;
            search(svc, &project, &query, at.as_ref(), &cursor(&c, SEARCH_PAGE)?).await
        }
        ToolCall::GetChanges { sync, cursor: c } => {
            let found = reads::changes_page(svc, user, &sync, &cursor(&c, PAGE)?).await?;
            let limited: &[(&str, Value)] = if found.rename_limit_exceeded { &[("renameLimitExceeded", Value::Bool(true))] } else { &[] };
            page("changes", &found.listed.page.items, found.listed.page.next_cursor, limited)
        }
        ToolCall::Compare { project, from, to, cursor: c } => {
            let project = project_of(svc, user, &project).await?;
            let from = from.map_or(CompareFrom::Previous, CompareFrom::Sync);
            let found = reads::compare_page(svc, &project, from, to.as_ref(), &cursor(&c, PAGE)?).await?;
            page("changes", &found.listed.page.items, found.listed.page.next_cursor, &[("renames", json!(found.renames.as_str()))])
        }
        ToolCall::FileHistory { project, path, cursor: c } => {
            let project = project_of(svc, user, &project).await?;
            let found = reads::history_page(svc, &project, &path, &cursor(&c, PAGE)?).await?;
            page("versions", &found.page.items, found.page.next_cursor, &[])
        }
        ToolCall::StartSync { project, branch, dry_run } => {
            let project = project_of(svc, user, &project).await?;
            let plan = SyncPlan::requested(svc, &project, StartSync { branch, dry_run, filter: FilterChange::default() }).await?;
            started(start::start(svc, &project, Trigger::Api, plan).await?)
        }
        ToolCall::CancelSync { sync } => to_value(&SyncView::from(&cancel::cancel(svc, user, &sync).await?)),
        ToolCall::Restore { project, sync } => {
            let project = project_of(svc, user, &project).await?;
            let plan = SyncPlan::restore(svc, &project, &Restore { sync_id: sync }).await?;
            started(start::start(svc, &project, Trigger::Api, plan).await?)
        }
    }
}

fn started(started: start::Started) -> AppResult<Value> {
    let follow = format!(
        "The sync runs in the background: call get_sync with {{\"sync\": \"{}\"}} until its status is COMPLETE, FAILED or CANCELLED.",
        started.sync.id
    );
    Ok(json!({ "sync": to_value(&SyncView::from(&started.sync))?, "follow": follow, "eventsUrl": started.events_url }))
}

/// A file's lines, or what it is when no text of it is kept.
async fn read_file(svc: &Services<'_>, project: &ProjectRow, at: Option<&SyncId>, path: &str, lines: LineRange) -> AppResult<Value> {
    let state = state_of(project, at)?;
    let file = reads::file_at(svc, project, at, path).await?;
    let mut out = json!({ "path": path, "sha": &file.sha, "at": state.to_string(), "kind": &file.kind, "size": file.size });
    if file.kind != "file" {
        return Ok(out);
    }
    if let Some(skipped) = skipped_for_api(file.content_skipped.as_deref()) {
        out["skipped"] = json!(skipped);
        return Ok(out);
    }
    let text = text_of(svc, &file, path).await?;
    let slice = text::slice(&text, lines, MAX_READ_BYTES);
    if slice.starts_past_end() {
        return Err(AppError::invalid("startLine", format!("is past the file's end (it has {} lines)", slice.total_lines)));
    }
    out["text"] = json!(slice.text);
    out["startLine"] = json!(slice.start_line);
    out["endLine"] = json!(slice.end_line);
    out["totalLines"] = json!(slice.total_lines);
    if let Some(next) = slice.next_start_line {
        let note = format!(
            "Cut at line {} to stay under {} KiB; call read_file again with startLine {next} for the rest.",
            slice.end_line,
            MAX_READ_BYTES / 1024
        );
        out["truncated"] = json!({ "nextStartLine": next, "note": note });
    }
    Ok(out)
}

/// The kept text of a file version; a text R2 lost is said, not read from GitHub.
async fn text_of(svc: &Services<'_>, file: &ContentRow, path: &str) -> AppResult<String> {
    let bytes = reads::kept_text(svc, file, path)
        .await?
        .ok_or_else(|| AppError::conflict(format!("the text of {path} is not available now (its blob is {})", file.sha)))?;
    String::from_utf8(bytes).map_err(|_| AppError::conflict(format!("the text of {path} is not UTF-8")))
}

/// A page of search hits, each placed on its lines: its blob's text is read from its start
/// to the end of the chunk (once a blob a page), and the hit's line is found in it.
async fn search(
    svc: &Services<'_>,
    project: &ProjectRow,
    query: &str,
    at: Option<&SyncId>,
    page_request: &PageRequest,
) -> AppResult<Value> {
    let state = state_of(project, at)?;
    let found = reads::memory_page(svc, project, query, at, page_request, SEARCH_READ_BYTES, |r| r.end).await?;
    let content = ContentBucket::from_env(svc.env)?;
    // How far into each blob this page's hits reach, then one read of each blob that far:
    // a blob missing from its pack is read (and said) once, not once per hit.
    let mut reach: HashMap<(&str, u64), u64> = HashMap::new();
    for r in &found.items {
        let end = reach.entry((r.pack.as_str(), r.base)).or_insert(0);
        *end = (*end).max(r.end);
    }
    let mut texts: HashMap<(&str, u64), Option<Vec<u8>>> = HashMap::new();
    for (&(pack, base), &end) in &reach {
        let bytes = content.read(pack, base, end).await?;
        if bytes.is_none() {
            worker::console_warn!("search: a blob at {base} is missing from pack {pack}");
        }
        texts.insert((pack, base), bytes);
    }
    let hits: Vec<Value> = found
        .items
        .iter()
        .filter_map(|r| texts.get(&(r.pack.as_str(), r.base))?.as_deref().and_then(|bytes| placed(bytes, r, query)))
        .collect();
    page("hits", &hits, found.next_cursor, &[("at", json!(state.to_string()))])
}

/// A hit on its lines. Chunks start at character boundaries; a lossy reading still counts
/// the lines right if one did not.
fn placed(bytes: &[u8], r: &ChunkRef, query: &str) -> Option<Value> {
    let (start, end) = (usize::try_from(r.start).ok()?, usize::try_from(r.end).ok()?);
    let before = String::from_utf8_lossy(bytes.get(..start)?);
    let chunk = String::from_utf8_lossy(bytes.get(start..end)?);
    let hit = text::place_hit(&before, &chunk, query);
    Some(json!({ "path": r.path, "sha": r.sha, "startLine": hit.start_line, "endLine": hit.end_line, "excerpt": hit.excerpt }))
}

/// `resources/read` of a file: its whole text, as `read_file` without a range reads it.
pub async fn read_resource(svc: &Services<'_>, user: &UserId, resource: &FileResource) -> Result<Value, RpcError> {
    let uri = resources::uri(resource);
    let missing = |what: &str| RpcError::new(RESOURCE_NOT_FOUND, format!("Resource not found: {what}")).with_data(json!({ "uri": uri }));
    let text = match resource_text(svc, user, &resource.project, resource.at.as_ref(), &resource.path).await {
        Ok(Some(text)) => text,
        Ok(None) => return Err(missing("the file keeps no text (binary, too large, a link or a submodule); read_file describes it")),
        Err(AppError::NotFound(message)) | Err(AppError::Conflict { message, .. }) => return Err(missing(&message)),
        Err(AppError::Internal(detail)) => {
            worker::console_error!("mcp: internal error: {detail}");
            return Err(RpcError::new(INTERNAL_ERROR, "Internal error"));
        }
        Err(other) => return Err(RpcError::new(INTERNAL_ERROR, other.to_string())),
    };
    Ok(json!({ "contents": [{ "uri": uri, "mimeType": "text/plain", "text": text }] }))
}

async fn resource_text(
    svc: &Services<'_>,
    user: &UserId,
    project: &ProjectId,
    at: Option<&SyncId>,
    path: &str,
) -> AppResult<Option<String>> {
    let project = project_of(svc, user, project).await?;
    let file = reads::file_at(svc, &project, at, path).await?;
    if file.kind != "file" || skipped_for_api(file.content_skipped.as_deref()).is_some() {
        return Ok(None);
    }
    text_of(svc, &file, path).await.map(Some)
}
