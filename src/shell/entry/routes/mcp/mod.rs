//! `POST /mcp`: the MCP server over Streamable HTTP, stateless (no session, no stream: every
//! answer is one JSON body). The transport's checks come in the spec's order: the `Origin`
//! (403), the bearer token (401, as the REST API's), the body under the API's limit, the
//! revision the `MCP-Protocol-Version` header names, the message. The protocol itself is
//! `crate::mcp`'s; the tools run through `cases` (`tools.rs`), never through HTTP.

mod tools;

use super::authenticate;
use crate::error::{AppError, AppResult};
use crate::mcp::jsonrpc::{self, Incoming, RequestId, RpcError, INVALID_REQUEST};
use crate::mcp::origin;
use crate::mcp::revision::{self, Revision, RoutingHeaders};
use crate::mcp::server::{self, Dispatch};
use crate::shell::adapters::http::{self, body, error_response, header};
use crate::shell::adapters::Services;
use serde_json::Value;
use worker::{Request, Response};

/// Origins a browser page may call `/mcp` from besides the service's own (comma-separated;
/// e.g. a local inspector's).
const ALLOWED_ORIGINS: &str = "MCP_ALLOWED_ORIGINS";

const REALM: &str = "Bearer realm=\"project-sync\"";

pub async fn serve(svc: &Services<'_>, req: &mut Request) -> AppResult<Response> {
    let own = req.url().map_err(AppError::internal)?;
    if !origin::allowed(header(req, "origin").as_deref(), &own, &allowed_origins(svc)) {
        let refused = RpcError::new(INVALID_REQUEST, "Forbidden: this Origin may not call the MCP endpoint");
        return rpc(403, &jsonrpc::failure(None, &refused));
    }
    let user = match authenticate(svc, req).await {
        Ok(user) => user,
        Err(err @ AppError::Unauthorized(_)) => return unauthorized(&err, header(req, "authorization").is_some()),
        Err(err) => return Err(err),
    };
    let bytes = body(req).await?;
    let revision = match revision::from_header(header(req, "mcp-protocol-version").as_deref()) {
        Ok(revision) => revision,
        Err(refusal) => return rpc(refusal.status, &jsonrpc::failure(None, &refusal.error)),
    };
    let (id, method, params) = match jsonrpc::parse(&bytes) {
        Ok(Incoming::Request { id, method, params }) => (id, method, params),
        // Nothing to answer: a notification, or a client's answer to a request we never send.
        Ok(Incoming::Notification { .. } | Incoming::Response) => return accepted(),
        Err(error) => return rpc(revision::error_status(revision, error.code), &jsonrpc::failure(None, &error)),
    };
    if revision.is_modern() {
        let named = |name: &str| header(req, name);
        let (version, method_header, name_header) = (named("mcp-protocol-version"), named("mcp-method"), named("mcp-name"));
        let headers = RoutingHeaders {
            protocol_version: version.as_deref().map(str::trim),
            method: method_header.as_deref(),
            name: name_header.as_deref(),
        };
        if let Err(refusal) = revision::check_modern(&method, &params, headers) {
            return rpc(refusal.status, &jsonrpc::failure(Some(&id), &refusal.error));
        }
    }
    answer(svc, &user, revision, &id, &method, &params).await
}

/// Runs the request and answers it (a result, or a JSON-RPC error at the status its
/// revision gives it).
async fn answer(
    svc: &Services<'_>,
    user: &crate::domain::UserId,
    revision: Revision,
    id: &RequestId,
    method: &str,
    params: &serde_json::Map<String, Value>,
) -> AppResult<Response> {
    let result = match server::dispatch(revision, method, params, crate::VERSION) {
        Dispatch::Answer(result) => Ok(result),
        Dispatch::Tool(call) => tools::run(svc, user, call).await,
        Dispatch::Read(resource) => tools::read_resource(svc, user, &resource).await,
        Dispatch::Refuse(error) => Err(error),
    };
    match result {
        Ok(result) => rpc(200, &jsonrpc::success(id, server::finish(revision, method, result, crate::VERSION))),
        Err(error) => rpc(revision::error_status(revision, error.code), &jsonrpc::failure(Some(id), &error)),
    }
}

fn allowed_origins(svc: &Services<'_>) -> Vec<String> {
    let listed = svc.env.var(ALLOWED_ORIGINS).map(|v| v.to_string()).unwrap_or_default();
    listed.split(',').map(str::trim).filter(|o| !o.is_empty()).map(str::to_owned).collect()
}

fn rpc(status: u16, body: &Value) -> AppResult<Response> {
    http::json(status, body)
}

fn accepted() -> AppResult<Response> {
    Ok(Response::empty().map_err(AppError::internal)?.with_status(202))
}

/// The REST API's 401, with the challenge RFC 6750 gives a client: the realm, and
/// `invalid_token` when a token came and is not one.
fn unauthorized(err: &AppError, token_sent: bool) -> AppResult<Response> {
    let response = error_response(err).map_err(AppError::internal)?;
    let challenge = if token_sent { format!("{REALM}, error=\"invalid_token\"") } else { REALM.to_owned() };
    response.headers().set("www-authenticate", &challenge).map_err(AppError::internal)?;
    Ok(response)
}
