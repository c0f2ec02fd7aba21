//! The clock: epoch milliseconds and the RFC 3339 times D1 rows hold.

pub fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// RFC 3339 UTC with milliseconds, e.g. `2026-11-22T04:15:48.123Z`.
pub fn iso(ms: u64) -> String {
    String::from(js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64)).to_iso_string())
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
