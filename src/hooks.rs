//! Outgoing notifications (CONTRACT.md, "Outgoing notifications") without I/O: what a hook
//! request must be, where a hook may point, how a delivery is signed, and what to do after
//! each attempt (the retry schedule). The events are `domain::HookEvent`; the body a
//! receiver gets is `api::hooks::DeliveryBody`.
//!
//! A delivery is at least once: it is retried until an attempt answers 2xx in time or the
//! attempts run out, and receivers dedupe by `deliveryId`. The body is made once, when the
//! delivery is created, so every attempt sends (and signs) the same bytes.

use crate::auth::{hex, hmac_sha256};
use crate::domain::{DeliveryId, HookEvent, ProjectId, SyncId, ALL_EVENTS};
use serde::{Deserialize, Serialize};
use std::net::{Ipv4Addr, Ipv6Addr};
use url::{Host, Url};

/// Attempts a delivery gets: with the first retry after the base delay (30 s by default)
/// and each later one twice as long, the seventh attempt comes 31.5 minutes after the
/// first, the eighth 63.5 minutes after it.
pub const MAX_ATTEMPTS: u32 = 8;
/// The first retry's delay unless `HOOK_RETRY_BASE_MS` says otherwise.
pub const DEFAULT_RETRY_BASE_MS: u64 = 30_000;
/// An attempt that has no answer within this long failed.
pub const ATTEMPT_TIMEOUT_MS: u64 = 10_000;
pub const MAX_URL_CHARS: usize = 2_000;
pub const MAX_SECRET_CHARS: usize = 200;
/// Hooks a project may have.
pub const MAX_HOOKS_PER_PROJECT: u64 = 20;

/// The messages of the hooks queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum HookMessage {
    /// A sync ended: a delivery for each hook subscribed to its event.
    #[serde(rename_all = "camelCase")]
    Ended { project_id: ProjectId, sync_id: SyncId },
    /// One attempt at one delivery (retried with the queue's delay until it is settled).
    #[serde(rename_all = "camelCase")]
    Deliver { project_id: ProjectId, delivery_id: DeliveryId },
}

/// The queue's delay (whole seconds, at most its 12 hours) for a wait of `ms`.
pub fn delay_seconds(ms: u64) -> u32 {
    ms.div_ceil(1000).min(12 * 60 * 60) as u32
}

/// Why a hook's URL is refused (the 400's reason).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlRefusal(pub String);

/// Where the service itself answers, so a hook never points back at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub host: String,
    pub port: Option<u16>,
}

impl Origin {
    /// The host lower-cased and without a trailing dot (`example.com.` is `example.com`).
    pub fn of(url: &Url) -> Option<Origin> {
        let host = url.host_str()?.trim_end_matches('.').to_ascii_lowercase();
        Some(Origin { host, port: url.port_or_known_default() })
    }
}

/// A hook URL, checked: absolute `https://` (or `http://` when `allow_http`, for local
/// development), no credentials in it, not pointing at `own` (the service's own origins).
pub fn check_url(raw: &str, allow_http: bool, own: &[Origin]) -> Result<Url, UrlRefusal> {
    let refuse = |why: &str| Err(UrlRefusal(why.to_string()));
    if raw.chars().count() > MAX_URL_CHARS {
        return refuse(&format!("is longer than {MAX_URL_CHARS} characters"));
    }
    let url = Url::parse(raw).map_err(|e| UrlRefusal(format!("is not an absolute URL ({e})")))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_http => {}
        "http" => return refuse("must be https:// (http:// only where ALLOW_HTTP_HOOKS is \"true\")"),
        _ => return refuse("must be an https:// URL"),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return refuse("must not carry credentials (use the hook's secret to authenticate deliveries)");
    }
    let Some(origin) = Origin::of(&url) else { return refuse("has no host") };
    if own.contains(&origin) {
        return refuse("points at this service itself");
    }
    if let Some(why) = url.host().and_then(|host| inward(&host, allow_http)) {
        return Err(UrlRefusal(format!("points inward: {why}; a hook must reach a public host")));
    }
    Ok(url)
}

/// Why a host is one a delivery must not reach (the service's own network, the cloud's
/// metadata address, the machine itself), or `None`. `allow_loopback` (local development
/// and tests, with ALLOW_HTTP_HOOKS) lets loopback through, and nothing else.
fn inward(host: &Host<&str>, allow_loopback: bool) -> Option<&'static str> {
    let why = match host {
        Host::Domain(name) => local_name(name),
        Host::Ipv4(ip) => v4_range(*ip),
        Host::Ipv6(ip) => match ip.to_ipv4_mapped() {
            Some(v4) => v4_range(v4),
            None => v6_range(*ip),
        },
    }?;
    (!(allow_loopback && why == LOOPBACK)).then_some(why)
}

const LOOPBACK: &str = "a loopback address";

/// `localhost` and every name under it resolve to the machine itself (RFC 6761).
fn local_name(name: &str) -> Option<&'static str> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    (name == "localhost" || name.ends_with(".localhost")).then_some(LOOPBACK)
}

fn v4_range(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        Some(LOOPBACK)
    } else if ip.is_private() {
        Some("a private address (10/8, 172.16/12, 192.168/16)")
    } else if ip.is_link_local() {
        Some("a link-local address (169.254/16)")
    } else if a == 100 && (64..128).contains(&b) {
        Some("a carrier-grade NAT address (100.64/10)")
    } else if a == 0 {
        Some("an unspecified address (0/8)")
    } else if ip.is_broadcast() {
        Some("the broadcast address")
    } else {
        None
    }
}

fn v6_range(ip: Ipv6Addr) -> Option<&'static str> {
    if ip.is_loopback() {
        Some(LOOPBACK)
    } else if ip.is_unspecified() {
        Some("the unspecified address (::)")
    } else if ip.is_unique_local() {
        Some("a unique-local address (fc00::/7)")
    } else if ip.is_unicast_link_local() {
        Some("a link-local address (fe80::/10)")
    } else {
        None
    }
}

/// The events a hook asks for: at least one, each known, no repeats; absent: all three.
pub fn parse_events(raw: Option<&[String]>) -> Result<Vec<HookEvent>, String> {
    let Some(raw) = raw else { return Ok(ALL_EVENTS.to_vec()) };
    if raw.is_empty() {
        return Err("must name at least one event".into());
    }
    let mut events = Vec::new();
    for name in raw {
        let event = HookEvent::parse(name)
            .ok_or_else(|| format!("has the unknown event {name:?} (sync.completed, sync.failed, sync.cancelled)"))?;
        if events.contains(&event) {
            return Err(format!("names {name:?} twice"));
        }
        events.push(event);
    }
    events.sort();
    Ok(events)
}

pub fn check_secret(secret: &str) -> Result<(), String> {
    let n = secret.chars().count();
    if n == 0 || n > MAX_SECRET_CHARS {
        return Err(format!("must be 1 to {MAX_SECRET_CHARS} characters"));
    }
    if secret.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(())
}

/// `x-project-sync-signature-256`: `sha256=` and the hex HMAC-SHA256 of the raw body.
pub fn signature(secret: &str, body: &[u8]) -> String {
    format!("sha256={}", hex(&hmac_sha256(secret.as_bytes(), body)))
}

/// How one attempt went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// An HTTP answer with this status, in time.
    Answered(u16),
    /// No answer: unreachable, refused, timed out (the reason).
    NoAnswer(String),
}

/// What follows an attempt (the `attempts`-th, counting from 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterAttempt {
    Delivered,
    RetryIn { ms: u64 },
    GiveUp,
}

/// Where a delivery stands: `pending` until an attempt is answered 2xx (`delivered`) or the
/// attempts run out (`failed`). Stored and shown by these names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }
}

impl AfterAttempt {
    /// The status a delivery has after this.
    pub fn status(&self) -> DeliveryStatus {
        match self {
            AfterAttempt::Delivered => DeliveryStatus::Delivered,
            AfterAttempt::RetryIn { .. } => DeliveryStatus::Pending,
            AfterAttempt::GiveUp => DeliveryStatus::Failed,
        }
    }
}

pub fn after_attempt(attempt: &Attempt, attempts: u32, base_ms: u64) -> AfterAttempt {
    match attempt {
        Attempt::Answered(code) if (200..300).contains(code) => AfterAttempt::Delivered,
        _ if attempts >= MAX_ATTEMPTS => AfterAttempt::GiveUp,
        _ => AfterAttempt::RetryIn { ms: retry_delay_ms(base_ms, attempts) },
    }
}

/// The wait after the `attempts`-th failed attempt: `base`, then twice as long each time.
pub fn retry_delay_ms(base_ms: u64, attempts: u32) -> u64 {
    base_ms.saturating_mul(1u64 << attempts.saturating_sub(1).min(32))
}

/// What a failed attempt records: its status code (if any) and a short error.
pub fn describe(attempt: &Attempt) -> (Option<u16>, Option<String>) {
    match attempt {
        Attempt::Answered(code) if (200..300).contains(code) => (Some(*code), None),
        Attempt::Answered(code) => (Some(*code), Some(format!("the receiver answered {code}"))),
        Attempt::NoAnswer(why) => (None, Some(why.chars().take(300).collect())),
    }
}

#[cfg(test)]
mod tests;
