//! Times as GitHub's webhook payloads write them, to epoch milliseconds, without I/O.
//!
//! GitHub sends RFC 3339 strings, with `Z` or a numeric offset and optional fractional
//! seconds (`2021-04-28T22:32:50.000-04:00`, `2021-04-29T02:32:50Z`), and some older
//! payloads epoch seconds as a JSON number. A pure parser of these few forms (rather than
//! a date crate) keeps the wasm small and needs no JavaScript `Date`; it is table-tested.

/// Epoch milliseconds of an RFC 3339 date-time (`T` or a space between date and time;
/// `Z`/`z` or `±HH:MM`), or `None` for anything else, or a time before 1970.
pub fn parse_rfc3339_ms(text: &str) -> Option<u64> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (digits(&b[0..4])?, digits(&b[5..7])?, digits(&b[8..10])?);
    let (hour, minute, second) = (digits(&b[11..13])?, digits(&b[14..16])?, digits(&b[17..19])?);
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = &b[19..];
    let mut millis = 0;
    if let Some((b'.', fraction)) = rest.split_first() {
        let len = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
        if len == 0 {
            return None;
        }
        // Milliseconds: the first three digits, padded; finer digits are dropped.
        let mut ms_digits = [b'0'; 3];
        for (slot, digit) in ms_digits.iter_mut().zip(&fraction[..len]) {
            *slot = *digit;
        }
        millis = digits(&ms_digits)?;
        rest = &fraction[len..];
    }
    let offset_minutes: i64 = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let (h, m) = (digits(&[*h1, *h2])?, digits(&[*m1, *m2])?);
            if h > 23 || m > 59 {
                return None;
            }
            let minutes = (h * 60 + m) as i64;
            if *sign == b'-' {
                -minutes
            } else {
                minutes
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year as i64, month, day);
    // A leap second (:60) counts as the next second's start.
    let local_seconds = days * 86_400 + (hour * 3600 + minute * 60 + second) as i64;
    let utc_ms = (local_seconds - offset_minutes * 60) * 1000 + millis as i64;
    u64::try_from(utc_ms).ok()
}

/// A payload's time field: an RFC 3339 string, or epoch seconds as a number.
pub fn json_time_ms(value: &serde_json::Value) -> Option<u64> {
    match value {
        serde_json::Value::String(text) => parse_rfc3339_ms(text),
        serde_json::Value::Number(n) => n.as_u64().and_then(|s| s.checked_mul(1000)),
        _ => None,
    }
}

fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, c| c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0')))
}

fn is_leap(year: u32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `2026-11-22T04:15:48.123Z`: RFC 3339 UTC with milliseconds, as JavaScript's
/// `Date.toISOString` writes it (for years 0 to 9999), from epoch milliseconds.
pub fn format_rfc3339_ms(ms: u64) -> String {
    let (days, in_day) = ((ms / 86_400_000) as i64, ms % 86_400_000);
    let (year, month, day) = civil_from_days(days);
    let (secs, millis) = (in_day / 1000, in_day % 1000);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z", secs / 3600, secs / 60 % 60, secs % 60)
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
/// algorithm, the inverse of `days_from_civil`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rfc3339_forms() {
        // Expected values checked against `date -u -d ... +%s%3N`.
        let table: &[(&str, Option<u64>)] = &[
            ("1970-01-01T00:00:00Z", Some(0)),
            ("2021-04-29T02:32:50Z", Some(1_619_663_570_000)),
            // GitHub's example `installation` payloads: the same instant with an offset.
            ("2021-04-28T22:32:50.000-04:00", Some(1_619_663_570_000)),
            ("2021-04-29T08:02:50+05:30", Some(1_619_663_570_000)),
            ("2021-04-29T02:32:50.5Z", Some(1_619_663_570_500)),
            ("2021-04-29T02:32:50.123456789Z", Some(1_619_663_570_123)),
            ("2021-04-29 02:32:50z", Some(1_619_663_570_000)),
            ("2000-02-29T12:00:00Z", Some(951_825_600_000)),
            ("2024-12-31T23:59:59.999Z", Some(1_735_689_599_999)),
            ("2100-03-01T00:00:00Z", Some(4_107_542_400_000)),
            ("2016-12-31T23:59:60Z", Some(1_483_228_800_000)),
            // Not RFC 3339, or not a real date.
            ("", None),
            ("2021-04-29", None),
            ("2021-04-29T02:32:50", None),
            ("2021-04-29T02:32:50+0400", None),
            ("2021-04-29T02:32:50.Z", None),
            ("2021-02-29T00:00:00Z", None),
            ("1900-02-29T00:00:00Z", None),
            ("2021-13-01T00:00:00Z", None),
            ("2021-04-31T00:00:00Z", None),
            ("2021-04-29T24:00:00Z", None),
            ("2021-04-29T02:60:00Z", None),
            ("2021-04-29T02:32:50+24:00", None),
            ("2021-04-29T02:32:50Z ", None),
            ("+021-04-29T02:32:50Z", None),
            ("1969-12-31T23:59:59Z", None),
            ("1970-01-01T00:30:00+01:00", None),
        ];
        for (text, want) in table {
            assert_eq!(parse_rfc3339_ms(text), *want, "{text:?}");
        }
    }

    #[test]
    fn json_times() {
        assert_eq!(json_time_ms(&json!("2021-04-29T02:32:50Z")), Some(1_619_663_570_000));
        assert_eq!(json_time_ms(&json!(1_525_109_899)), Some(1_525_109_899_000));
        for unreadable in [json!(null), json!(-5), json!(1.5), json!("yesterday"), json!({})] {
            assert_eq!(json_time_ms(&unreadable), None, "{unreadable}");
        }
    }

    #[test]
    fn formatting_is_the_inverse_of_parsing() {
        for (ms, text) in [
            (0, "1970-01-01T00:00:00.000Z"),
            (951_825_600_000, "2000-02-29T12:00:00.000Z"),
            (1_619_663_570_500, "2021-04-29T02:32:50.500Z"),
            (1_735_689_599_999, "2024-12-31T23:59:59.999Z"),
            (4_107_542_400_000, "2100-03-01T00:00:00.000Z"),
        ] {
            assert_eq!(format_rfc3339_ms(ms), text);
            assert_eq!(parse_rfc3339_ms(text), Some(ms));
        }
        for ms in (0..4_000_000_000_000u64).step_by(97_654_321_987) {
            assert_eq!(parse_rfc3339_ms(&format_rfc3339_ms(ms)), Some(ms), "{ms}");
        }
    }
}
