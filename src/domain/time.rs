//! One type for the times rows and views carry: RFC 3339 UTC with milliseconds, as the
//! service writes them (`2026-11-22T04:15:48.123Z`). The text is kept as written, so a
//! stored time reads back byte for byte. Times order by their text, which is their time
//! order for every time the service writes (UTC, milliseconds, `Z`); a time parsed from
//! elsewhere with an offset or no milliseconds is kept as it came and orders as text.

use super::Invalid;
use crate::timestamp::{format_rfc3339_ms, parse_rfc3339_ms};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Timestamp(String);

impl Timestamp {
    pub fn from_ms(ms: u64) -> Timestamp {
        Timestamp(format_rfc3339_ms(ms))
    }

    /// An RFC 3339 time (as a cursor or a row carries it).
    pub fn parse(raw: &str) -> Result<Timestamp, Invalid> {
        match parse_rfc3339_ms(raw) {
            Some(_) => Ok(Timestamp(raw.to_string())),
            None => Err(Invalid(format!("{raw:?} is not an RFC 3339 time"))),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Epoch milliseconds.
    pub fn ms(&self) -> u64 {
        parse_rfc3339_ms(&self.0).unwrap_or_default()
    }
}

impl AsRef<str> for Timestamp {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Timestamp::parse(&raw).map_err(|e| serde::de::Error::custom(e.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_keep_their_text_and_know_their_instant() {
        let t: Timestamp = serde_json::from_str("\"2026-11-22T04:15:48.123Z\"").unwrap();
        assert_eq!((t.as_str(), t.ms()), ("2026-11-22T04:15:48.123Z", 1_795_320_948_123));
        assert_eq!(Timestamp::from_ms(t.ms()), t);
        assert_eq!(serde_json::to_value(&t).unwrap(), "2026-11-22T04:15:48.123Z");
        for bad in ["", "yesterday", "2026-11-22"] {
            assert!(serde_json::from_value::<Timestamp>(bad.into()).is_err(), "{bad:?}");
        }
        assert!(Timestamp::from_ms(1) > Timestamp::from_ms(0));
    }
}
