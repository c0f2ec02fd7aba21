//! `POST /users` (admin token): a user and its API token, shown once. And, for tests only,
//! `POST /_test/faults` (admin token, `FAULT_INJECTION=true`): arm a named fault.

use super::super::crypto::{new_api_token, new_id};
use super::super::http::{body, header, json};
use super::super::{iso, now_ms, Services};
use crate::api::{parse_object, CreateUser, UserCreated};
use crate::auth::{bearer_token, constant_time_eq, sha256_hex};
use crate::error::{AppError, AppResult};
use serde_json::{json, Value};
use worker::{Request, Response};

/// Points where an armed fault makes the real adapter fail (see `d1::faults`); for
/// `d1.slow`, `times` is the delay in milliseconds before each statement of a sync.
const FAULT_POINTS: [&str; 4] = ["record.final", "object.start", "webhook.enqueue", "d1.slow"];

fn require_admin(svc: &Services<'_>, req: &Request, what: &str) -> AppResult<()> {
    let admin = svc.settings.admin_token()?;
    let authorization = header(req, "authorization");
    let given = bearer_token(authorization.as_deref()).unwrap_or("");
    if !constant_time_eq(given.as_bytes(), admin.as_bytes()) {
        return Err(AppError::Unauthorized(format!("{what} needs the admin token")));
    }
    Ok(())
}

pub async fn create_user(svc: &Services<'_>, req: &mut Request) -> AppResult<Response> {
    require_admin(svc, req, "creating users")?;
    let input = CreateUser::parse(&body(req).await?)?;
    let id = new_id()?;
    let token = new_api_token()?;
    svc.db.insert_user(&id, &input.name, &sha256_hex(token.as_bytes()), &iso(now_ms())).await?;
    json(201, &UserCreated { id, name: input.name, token })
}

pub async fn arm_fault(svc: &Services<'_>, req: &mut Request) -> AppResult<Response> {
    if !svc.settings.fault_injection {
        return Err(AppError::NotFound("no route for POST /api/v1/_test/faults".into()));
    }
    require_admin(svc, req, "arming a fault")?;
    let m = parse_object(&body(req).await?, false)?;
    let point = match m.get("point") {
        Some(Value::String(p)) if FAULT_POINTS.contains(&p.as_str()) => p.clone(),
        _ => return Err(AppError::invalid("point", format!("must be one of {}", FAULT_POINTS.join(", ")))),
    };
    let times = match m.get("times") {
        None => 1,
        Some(Value::Number(n)) if n.as_u64().is_some_and(|t| t <= 1_000) => n.as_u64().unwrap_or(1),
        Some(_) => return Err(AppError::invalid("times", "must be a whole number from 0 to 1000")),
    };
    svc.db.arm_fault(&point, times).await?;
    json(200, &json!({ "point": point, "times": times }))
}
