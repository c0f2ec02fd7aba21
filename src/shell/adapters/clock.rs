//! The clock: epoch milliseconds and the RFC 3339 times D1 rows hold.

use crate::domain::Timestamp;

pub fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// Now, as rows hold it (RFC 3339 UTC with milliseconds).
pub fn now() -> Timestamp {
    Timestamp::from_ms(now_ms())
}

/// Epoch milliseconds of an RFC 3339 time we wrote (0 for anything unreadable).
pub fn parse_iso(time: &str) -> u64 {
    let ms = js_sys::Date::parse(time);
    if ms.is_finite() && ms > 0.0 {
        ms as u64
    } else {
        0
    }
}
