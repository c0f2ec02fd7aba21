//! What went wrong talking to GitHub, in terms a caller can act on, and how a failed
//! request is retried.

use crate::error::AppError;
use serde::Deserialize;
use std::fmt;

/// Rate-limit headers GitHub sends with every answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateInfo {
    pub remaining: Option<u64>,
    /// Epoch seconds at which the primary limit resets.
    pub reset_at: Option<u64>,
    /// `Retry-After` seconds (secondary limits, abuse detection).
    pub retry_after: Option<u64>,
}

/// What went wrong talking to GitHub, in terms a caller can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GhError {
    NotFound(String),
    Unauthorized,
    EmptyRepository,
    /// Primary or secondary rate limit; wait this many seconds.
    RateLimited {
        wait_secs: u64,
        secondary: bool,
    },
    /// 5xx, or a dropped connection, or a stall: worth retrying.
    Unavailable(String),
    /// An answer we could not read.
    Malformed(String),
    /// Any other refusal (422 validation failures and the like).
    Refused {
        status: u16,
        message: String,
    },
    /// No credential to send: a GitHub App installation that is suspended, deleted or
    /// cannot mint tokens (the sentence names it).
    Credential(String),
}

impl fmt::Display for GhError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GhError::NotFound(what) => write!(f, "GitHub: {what} not found"),
            GhError::Unauthorized => f.write_str("GitHub refused the token (401 Bad credentials)"),
            GhError::EmptyRepository => f.write_str("GitHub: the repository is empty"),
            GhError::RateLimited { wait_secs, secondary } => {
                write!(f, "GitHub {} rate limit reached; retry in {wait_secs} s", if *secondary { "secondary" } else { "primary" })
            }
            GhError::Unavailable(why) => write!(f, "GitHub is unavailable: {why}"),
            GhError::Malformed(why) => write!(f, "GitHub sent an answer we could not read: {why}"),
            GhError::Refused { status, message } => {
                write!(f, "GitHub refused ({status}): {message}")
            }
            GhError::Credential(why) => f.write_str(why),
        }
    }
}

impl From<GhError> for AppError {
    fn from(e: GhError) -> Self {
        match e {
            GhError::RateLimited { wait_secs, .. } => AppError::RateLimited { retry_after: wait_secs.max(1), message: e.to_string() },
            other => AppError::GitHub(other.to_string()),
        }
    }
}

#[derive(Deserialize)]
struct GhErrorBody {
    message: Option<String>,
}

/// Secondary limits without `Retry-After`: GitHub says wait at least a minute.
const SECONDARY_DEFAULT_WAIT: u64 = 60;

/// Turns a non-2xx answer into a `GhError` (`what` names the object for 404s).
pub fn classify_failure(status: u16, rate: RateInfo, body: &str, now_secs: u64, what: &str) -> GhError {
    let message = serde_json::from_str::<GhErrorBody>(body).ok().and_then(|b| b.message).unwrap_or_default();
    let lower = message.to_ascii_lowercase();
    match status {
        401 => GhError::Unauthorized,
        403 | 429 => {
            if let Some(wait) = rate.retry_after {
                GhError::RateLimited { wait_secs: wait, secondary: true }
            } else if rate.remaining == Some(0) {
                let wait = rate.reset_at.map(|r| r.saturating_sub(now_secs)).unwrap_or(60);
                GhError::RateLimited { wait_secs: wait.max(1), secondary: false }
            } else if lower.contains("secondary rate limit") || lower.contains("abuse") || status == 429 {
                GhError::RateLimited { wait_secs: SECONDARY_DEFAULT_WAIT, secondary: true }
            } else {
                GhError::Refused { status, message: non_empty(message, "forbidden") }
            }
        }
        404 => GhError::NotFound(what.to_string()),
        409 if lower.contains("empty") => GhError::EmptyRepository,
        500..=599 => GhError::Unavailable(format!("HTTP {status}")),
        _ => GhError::Refused { status, message: non_empty(message, "request refused") },
    }
}

fn non_empty(s: String, fallback: &str) -> String {
    if s.is_empty() {
        fallback.to_string()
    } else {
        s
    }
}

/// How a failed request is retried: a bounded number of attempts with exponential backoff and
/// jitter for transient faults, and waits for rate limits only when they are short.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_delay_ms: u64,
    pub max_delay_ms: u64,
    /// A rate-limit wait longer than this is not slept through: the caller gives up cleanly.
    pub max_rate_limit_wait_secs: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { max_attempts: 4, base_delay_ms: 250, max_delay_ms: 8_000, max_rate_limit_wait_secs: 20 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    RetryAfterMs(u64),
    GiveUp,
}

impl RetryPolicy {
    /// `attempt` counts from 1 (the attempt that just failed); `jitter` is uniform in [0, 1).
    pub fn decide(&self, attempt: u32, err: &GhError, jitter: f64) -> RetryDecision {
        if attempt >= self.max_attempts {
            return RetryDecision::GiveUp;
        }
        match err {
            GhError::Unavailable(_) => {
                let exp = self.base_delay_ms.saturating_mul(1u64 << (attempt - 1).min(16));
                let capped = exp.min(self.max_delay_ms);
                // "Full jitter": spread retries so that many clients do not retry in step.
                let jittered = (capped as f64 * (0.5 + jitter.clamp(0.0, 1.0) / 2.0)) as u64;
                RetryDecision::RetryAfterMs(jittered.max(1))
            }
            GhError::RateLimited { wait_secs, .. } if *wait_secs <= self.max_rate_limit_wait_secs => {
                RetryDecision::RetryAfterMs(wait_secs.saturating_mul(1000).max(1000))
            }
            _ => RetryDecision::GiveUp,
        }
    }
}
