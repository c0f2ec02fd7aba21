//! The clock: epoch milliseconds and the RFC 3339 times D1 rows hold.

use crate::domain::Timestamp;

pub fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// Now, as rows hold it (RFC 3339 UTC with milliseconds).
pub fn now() -> Timestamp {
    Timestamp::from_ms(now_ms())
}
