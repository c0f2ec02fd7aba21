//! The ids of our resources, one type each, so a sync's id can never be passed where a
//! project's is meant. Each parses once, at the boundary (a route's path, a request body, a
//! row as D1 hands it over), with the rules of `Id`; past that, handlers and the store carry
//! the type. `InstallationId` is GitHub's number for an App installation.

use super::{Id, Invalid};
use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(Id);

        impl $name {
            pub fn parse(raw: &str) -> Result<Self, Invalid> {
                Id::parse(raw).map($name)
            }

            pub fn as_str(&self) -> &str {
                self.0.as_str()
            }
        }

        /// A fresh id (`new_id`) becomes the id of what it was made for.
        impl From<Id> for $name {
            fn from(id: Id) -> Self {
                $name(id)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                Id::deserialize(d).map($name)
            }
        }
    };
}

id_type!(
    /// A user of the service (who owns projects and whose token authenticates requests).
    UserId
);
id_type!(
    /// A project: one repository and branch kept in sync.
    ProjectId
);
id_type!(
    /// One sync (or restore, or dry run) of a project.
    SyncId
);
id_type!(
    /// An outgoing hook of a project.
    HookId
);
id_type!(
    /// One delivery of one event to one hook.
    DeliveryId
);

/// An installation's id: a positive integer GitHub assigns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct InstallationId(u64);

/// JSON numbers are exact up to 2^53; GitHub's ids are far below it.
const MAX_ID: u64 = (1 << 53) - 1;

impl InstallationId {
    pub fn new(id: u64) -> Option<InstallationId> {
        (1..=MAX_ID).contains(&id).then_some(InstallationId(id))
    }

    /// From a path segment (`/installations/{id}`): digits only.
    pub fn parse(raw: &str) -> Option<InstallationId> {
        if raw.is_empty() || raw.len() > 16 || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        raw.parse().ok().and_then(InstallationId::new)
    }

    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for InstallationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl<'de> Deserialize<'de> for InstallationId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = u64::deserialize(d)?;
        InstallationId::new(n).ok_or_else(|| serde::de::Error::custom("an installation id is a positive integer"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_as_ids_do_and_keep_their_type() {
        for (raw, ok) in [("0b6f1a8e-9d2c-4c1e-8f55-3f2a1b0c9d8e", true), ("p-1", true), ("../etc", false), ("", false), ("A", false)] {
            assert_eq!(SyncId::parse(raw).is_ok(), ok, "{raw:?}");
            assert_eq!(ProjectId::parse(raw).is_ok(), ok, "{raw:?}");
        }
        let sync: SyncId = serde_json::from_str("\"s-1\"").unwrap();
        assert_eq!((sync.as_str(), serde_json::to_string(&sync).unwrap().as_str()), ("s-1", "\"s-1\""));
        assert!(serde_json::from_str::<UserId>("\"../x\"").is_err(), "a row with a bad id is refused where it is read");
        assert_eq!(HookId::from(Id::parse("h-1").unwrap()).to_string(), "h-1");
    }
}
