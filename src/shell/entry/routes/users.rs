//! `POST /users` (admin token): a user and its API token, shown once.

use super::admin::require_admin;
use crate::api::{CreateUser, UserCreated};
use crate::auth::sha256_hex;
use crate::domain::UserId;
use crate::error::AppResult;
use crate::shell::adapters::crypto::{new_api_token, new_id};
use crate::shell::adapters::http::{body, json};
use crate::shell::adapters::{now, Services};
use worker::{Request, Response};

pub async fn create_user(svc: &Services<'_>, req: &mut Request) -> AppResult<Response> {
    require_admin(svc, req, "creating users")?;
    let input = CreateUser::parse(&body(req).await?)?;
    let id: UserId = new_id()?;
    let token = new_api_token()?;
    svc.db.insert_user(&id, &input.name, &sha256_hex(token.as_bytes()), &now()).await?;
    json(201, &UserCreated { id: id.to_string(), name: input.name, token })
}
