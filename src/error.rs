//! The one error type of the service and its mapping to the contract's JSON errors.
//!
//! Every failure path ends here: handlers return `AppError`, and `AppError::to_http`
//! is the only place that decides a status code and an error body.

use serde_json::{json, Value};
use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum AppError {
    /// 400: a request field is missing or wrong; names the field and why.
    InvalidRequest { field: String, reason: String },
    /// 401: no credentials, or credentials we do not accept.
    Unauthorized(String),
    /// 404: the object does not exist *or belongs to someone else*.
    NotFound(String),
    /// 405: the path exists, the method does not; `allow` lists the methods it has (the
    /// `Allow` header, RFC 9110 §15.5.6).
    MethodNotAllowed { allow: String },
    /// 409: the request conflicts with current state; may carry the conflicting sync.
    Conflict { message: String, sync: Option<Value> },
    /// 413: a request body or value over our limits.
    TooLarge(String),
    /// 422: GitHub refused (unknown repository or branch, bad token, empty repository).
    GitHub(String),
    /// 429: GitHub's rate limit; retry after this many seconds.
    RateLimited { retry_after: u64, message: String },
    /// 500: our fault. The detail is logged, never shown.
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn invalid(field: impl Into<String>, reason: impl fmt::Display) -> Self {
        AppError::InvalidRequest { field: field.into(), reason: reason.to_string() }
    }

    pub fn not_found(what: &str) -> Self {
        AppError::NotFound(format!("{what} not found"))
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        AppError::Conflict { message: message.into(), sync: None }
    }

    pub fn internal(detail: impl fmt::Display) -> Self {
        AppError::Internal(detail.to_string())
    }

    pub fn status(&self) -> u16 {
        match self {
            AppError::InvalidRequest { .. } => 400,
            AppError::Unauthorized(_) => 401,
            AppError::NotFound(_) => 404,
            AppError::MethodNotAllowed { .. } => 405,
            AppError::Conflict { .. } => 409,
            AppError::TooLarge(_) => 413,
            AppError::GitHub(_) => 422,
            AppError::RateLimited { .. } => 429,
            AppError::Internal(_) => 500,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::InvalidRequest { .. } => "invalid_request",
            AppError::Unauthorized(_) => "unauthorized",
            AppError::NotFound(_) => "not_found",
            AppError::MethodNotAllowed { .. } => "method_not_allowed",
            AppError::Conflict { .. } => "conflict",
            AppError::TooLarge(_) => "too_large",
            AppError::GitHub(_) => "github_error",
            AppError::RateLimited { .. } => "rate_limited",
            AppError::Internal(_) => "internal",
        }
    }

    /// The human sentence a client sees. Internal details never leave the server.
    pub fn public_message(&self) -> String {
        match self {
            AppError::InvalidRequest { field, reason } => format!("{field}: {reason}"),
            AppError::Unauthorized(m) | AppError::NotFound(m) | AppError::TooLarge(m) | AppError::GitHub(m) => m.clone(),
            AppError::Conflict { message, .. } => message.clone(),
            AppError::MethodNotAllowed { allow } => format!("this path answers only {allow}"),
            AppError::RateLimited { message, .. } => message.clone(),
            AppError::Internal(_) => "Something went wrong on our side; it has been logged.".into(),
        }
    }

    /// Status and body, exactly as the contract's error convention says.
    pub fn to_http(&self) -> (u16, Value) {
        let mut error = json!({ "code": self.code(), "message": self.public_message() });
        if let AppError::InvalidRequest { field, .. } = self {
            error["field"] = json!(field);
        }
        let mut body = json!({ "error": error });
        match self {
            AppError::RateLimited { retry_after, .. } => {
                body["error"]["retryAfter"] = json!(retry_after);
                body["retryAfter"] = json!(retry_after);
            }
            AppError::Conflict { sync: Some(sync), .. } => body["sync"] = sync.clone(),
            _ => {}
        }
        (self.status(), body)
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppError::Internal(detail) => write!(f, "internal: {detail}"),
            other => write!(f, "{}: {}", other.code(), other.public_message()),
        }
    }
}

impl std::error::Error for AppError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_maps_to_the_contract() {
        let cases = [
            (AppError::invalid("name", "must not be empty"), 400, "invalid_request"),
            (AppError::Unauthorized("missing token".into()), 401, "unauthorized"),
            (AppError::not_found("project"), 404, "not_found"),
            (AppError::conflict("already running"), 409, "conflict"),
            (AppError::TooLarge("body over 1 MB".into()), 413, "too_large"),
            (AppError::GitHub("repository not found".into()), 422, "github_error"),
            (AppError::RateLimited { retry_after: 30, message: "wait".into() }, 429, "rate_limited"),
            (AppError::internal("db exploded at row 7"), 500, "internal"),
        ];
        for (err, status, code) in cases {
            let (s, body) = err.to_http();
            assert_eq!(s, status);
            assert_eq!(body["error"]["code"], code);
            assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
        }
    }

    #[test]
    fn details_stay_private_and_extras_are_added() {
        let (_, body) = AppError::internal("SELECT secret").to_http();
        assert!(!body.to_string().contains("SELECT"));
        let (_, body) = AppError::invalid("branch", "is empty").to_http();
        assert_eq!(body["error"]["field"], "branch");
        assert_eq!(body["error"]["message"], "branch: is empty");
        let (_, body) = AppError::RateLimited { retry_after: 12, message: "m".into() }.to_http();
        assert_eq!(body["error"]["retryAfter"], 12);
        let (_, body) = AppError::Conflict { message: "busy".into(), sync: Some(json!({"id": "s1"})) }.to_http();
        assert_eq!(body["sync"]["id"], "s1");
    }
}
