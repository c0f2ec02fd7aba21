//! `GET /events/project-sync/{syncId}`: the sync's event stream, served by its object. A
//! stream token (`?access_token=`, what `eventsUrl` carries) or a bearer token admits it.
//! A finished sync whose object has forgotten it (after the retention period) replays its
//! ending, taken from the row.

use super::{authenticate, sync_of};
use crate::api::query_param;
use crate::api::SyncView;
use crate::auth::verify_stream_token;
use crate::domain::SyncId;
use crate::error::{AppError, AppResult};
use crate::progress::{event_name, parse_last_event_id, sse_frame, ProgressData};
use crate::shell::adapters::http::header;
use crate::shell::adapters::{now_ms, sync_client, Services};
use worker::{Headers, Request, Response};

pub async fn events(svc: &Services<'_>, req: &Request, raw_id: &str, query: &str) -> AppResult<Response> {
    let token = query_param(query, "access_token");
    // Parsed once: a path that cannot be a sync's id names none. Tokens are made for ids
    // only, so one given with such a path is not valid for it (401), as before.
    let sync_id = &match (SyncId::parse(raw_id), &token) {
        (Ok(id), _) => id,
        (Err(_), Some(_)) => return Err(AppError::Unauthorized("the stream token is not valid for this sync (BadSignature)".into())),
        (Err(_), None) => {
            authenticate(svc, req).await?;
            return Err(AppError::not_found("sync"));
        }
    };
    match token {
        Some(token) => verify_stream_token(svc.settings.stream_secret()?, sync_id, &token, now_ms() / 1000)
            .map_err(|e| AppError::Unauthorized(format!("the stream token is not valid for this sync ({e:?})")))?,
        None => {
            let user = authenticate(svc, req).await?;
            sync_of(svc, &user, sync_id).await?;
        }
    }
    let last_event_id = header(req, "last-event-id");
    if let Some(stream) = sync_client::events(svc.env, sync_id, last_event_id.clone()).await? {
        return Ok(stream);
    }
    let row = svc.find_sync(sync_id).await?.ok_or_else(|| AppError::not_found("sync"))?;
    if !row.status.is_terminal() {
        return Err(AppError::not_found("sync"));
    }
    let view = SyncView::from(&row);
    let data = ProgressData {
        sync_id: view.id,
        status: view.status,
        progress: view.progress,
        message: view.message,
        counts: view.counts,
        stats: view.stats,
    };
    let json = serde_json::to_string(&data).map_err(AppError::internal)?;
    let body =
        if parse_last_event_id(last_event_id.as_deref()) >= 1 { String::new() } else { sse_frame(1, event_name(data.status), &json) };
    let headers = Headers::new();
    headers.set("content-type", "text/event-stream; charset=utf-8").map_err(AppError::internal)?;
    headers.set("cache-control", "no-cache, no-transform").map_err(AppError::internal)?;
    Ok(Response::ok(body).map_err(AppError::internal)?.with_headers(headers))
}
