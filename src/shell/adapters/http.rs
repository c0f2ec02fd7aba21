//! HTTP plumbing for handlers: JSON answers, the one place errors become responses, body
//! reading with a size limit.

use crate::api::MAX_BODY_BYTES;
use crate::body::{CappedBody, TooLarge};
use crate::error::{AppError, AppResult};
use futures::StreamExt;
use serde::Serialize;
use worker::{Headers, Request, Response};

pub fn json<T: Serialize>(status: u16, value: &T) -> AppResult<Response> {
    let body = serde_json::to_vec(value).map_err(AppError::internal)?;
    bytes(status, "application/json; charset=utf-8", body)
}

pub fn bytes(status: u16, content_type: &str, body: Vec<u8>) -> AppResult<Response> {
    let headers = Headers::new();
    headers.set("content-type", content_type).map_err(AppError::internal)?;
    headers.set("cache-control", "no-store").map_err(AppError::internal)?;
    headers.set("x-content-type-options", "nosniff").map_err(AppError::internal)?;
    Ok(Response::from_bytes(body).map_err(AppError::internal)?.with_status(status).with_headers(headers))
}

pub fn no_content() -> AppResult<Response> {
    Ok(Response::empty().map_err(AppError::internal)?.with_status(204))
}

/// The only place an `AppError` becomes a response. Internal details are logged here.
pub fn error_response(err: &AppError) -> worker::Result<Response> {
    if let AppError::Internal(detail) = err {
        worker::console_error!("internal error: {detail}");
    }
    let (status, body) = err.to_http();
    let mut response = Response::from_bytes(body.to_string().into_bytes())?.with_status(status);
    let headers = response.headers_mut();
    headers.set("content-type", "application/json; charset=utf-8")?;
    headers.set("cache-control", "no-store")?;
    if let AppError::RateLimited { retry_after, .. } = err {
        headers.set("retry-after", &retry_after.to_string())?;
    }
    if let AppError::MethodNotAllowed { allow } = err {
        headers.set("allow", allow)?;
    }
    if let AppError::Unauthorized(_) = err {
        headers.set("www-authenticate", "Bearer")?;
    }
    Ok(response)
}

pub fn header(req: &Request, name: &str) -> Option<String> {
    req.headers().get(name).ok().flatten()
}

/// Reads the body, refusing more than the API accepts.
pub async fn body(req: &mut Request) -> AppResult<Vec<u8>> {
    body_up_to(req, MAX_BODY_BYTES).await
}

/// Reads the body, refusing more than `limit` bytes as soon as they arrive: a chunked body
/// is counted while it streams, and never buffered past the limit.
pub async fn body_up_to(req: &mut Request, limit: usize) -> AppResult<Vec<u8>> {
    let too_large = |e: TooLarge| AppError::TooLarge(e.message());
    let mut body = CappedBody::new(limit, header(req, "content-length").as_deref()).map_err(too_large)?;
    // A request without a body (GET, or a POST that sent none) has no stream to read.
    let Ok(mut stream) = req.stream() else { return Ok(Vec::new()) };
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| AppError::invalid("body", format!("could not be read ({e})")))?;
        body.push(&chunk).map_err(too_large)?;
    }
    Ok(body.into_bytes())
}
