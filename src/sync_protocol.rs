//! How the worker talks to a sync's Durable Object: the binding, one typed command per
//! route, and the answers as status codes. Both sides (`shell::sync_client` and
//! `shell::sync_object`) use only this, so no path or code is spelled twice.

use crate::domain::SyncStatus;
use crate::reaper::ObjectState;

/// The Durable Object namespace of sync objects (wrangler.toml).
pub const BINDING: &str = "SYNCS";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// POST a `NewJob`: create the job and its first alarm (once; a repeat is a no-op).
    Start,
    /// POST: make sure an unfinished job has an alarm; re-record a finished one's row.
    Poke,
    /// POST: ask the job to stop before its commit.
    Cancel,
    /// POST a reason (text): ask the job to end FAILED with it before its commit.
    Fail,
    /// GET: the event stream (`Last-Event-ID` honoured).
    Events,
    /// GET: the wasm linear memory of the isolate the object runs in (diagnostics).
    Memory,
}

impl Command {
    pub const ALL: [Command; 6] = [Command::Start, Command::Poke, Command::Cancel, Command::Fail, Command::Events, Command::Memory];

    pub fn path(self) -> &'static str {
        match self {
            Command::Start => "/start",
            Command::Poke => "/poke",
            Command::Cancel => "/cancel",
            Command::Fail => "/fail",
            Command::Events => "/events",
            Command::Memory => "/memory",
        }
    }

    pub fn is_get(self) -> bool {
        matches!(self, Command::Events | Command::Memory)
    }

    pub fn parse(is_get: bool, path: &str) -> Option<Command> {
        Command::ALL.into_iter().find(|c| c.path() == path && c.is_get() == is_get)
    }
}

/// The object's answer to `Poke`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PokeAnswer {
    NoJob,
    Running,
    Finished(SyncStatus),
}

/// The object's answer to `Cancel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelAnswer {
    NoJob,
    Cancelling,
    /// Finished already, or committing (a commit is never interrupted).
    TooLate,
}

impl PokeAnswer {
    pub fn to_wire(self) -> (u16, String) {
        match self {
            PokeAnswer::NoJob => (404, "no such sync".into()),
            PokeAnswer::Running => (202, "running".into()),
            PokeAnswer::Finished(s) => (200, s.as_str().into()),
        }
    }

    pub fn from_wire(status: u16, body: &str) -> Option<PokeAnswer> {
        match status {
            404 => Some(PokeAnswer::NoJob),
            202 => Some(PokeAnswer::Running),
            200 => SyncStatus::parse(body.trim()).map(PokeAnswer::Finished),
            _ => None,
        }
    }

    /// What the reaper makes of an answer (or of no answer).
    pub fn object_state(answer: Option<PokeAnswer>) -> ObjectState {
        match answer {
            Some(PokeAnswer::NoJob) => ObjectState::NoJob,
            Some(PokeAnswer::Running) => ObjectState::Running,
            Some(PokeAnswer::Finished(s)) => ObjectState::Finished(s),
            None => ObjectState::Unreachable,
        }
    }
}

impl CancelAnswer {
    pub fn to_wire(self) -> (u16, String) {
        match self {
            CancelAnswer::NoJob => (404, "no such sync".into()),
            CancelAnswer::Cancelling => (202, "cancelling".into()),
            CancelAnswer::TooLate => (409, "too late".into()),
        }
    }

    pub fn from_wire(status: u16) -> Option<CancelAnswer> {
        match status {
            404 => Some(CancelAnswer::NoJob),
            202 => Some(CancelAnswer::Cancelling),
            409 => Some(CancelAnswer::TooLate),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_and_answers_round_trip() {
        for c in Command::ALL {
            assert_eq!(Command::parse(c.is_get(), c.path()), Some(c));
            assert_eq!(Command::parse(!c.is_get(), c.path()), None, "{c:?} with the other method");
        }
        assert_eq!(Command::parse(false, "/nope"), None);
        for a in [PokeAnswer::NoJob, PokeAnswer::Running, PokeAnswer::Finished(SyncStatus::Failed)] {
            let (status, body) = a.to_wire();
            assert_eq!(PokeAnswer::from_wire(status, &body), Some(a));
        }
        for a in [CancelAnswer::NoJob, CancelAnswer::Cancelling, CancelAnswer::TooLate] {
            assert_eq!(CancelAnswer::from_wire(a.to_wire().0), Some(a));
        }
        assert_eq!(PokeAnswer::from_wire(500, ""), None);
        assert_eq!(PokeAnswer::object_state(None), ObjectState::Unreachable);
    }
}
