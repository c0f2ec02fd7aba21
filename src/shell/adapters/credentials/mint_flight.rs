//! One token mint at a time per installation in this isolate: the first request that needs
//! a new token leads the flight, the others follow it and take its answer. Workers run wasm
//! on one thread, so the map is a thread-local; the leader's entry goes when it settles, or
//! when it is dropped unsettled (its request went away), which sends its followers back to
//! minting for themselves.
//!
//! Followers poll the flight's slot on their own timers rather than await a shared future:
//! workerd cancels a request's continuation when a promise it waits on is resolved from
//! another request's context (measured: a shared future hung every follower, 500).

use crate::github::GhError;
use crate::github_app::InstallationId;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;
use worker::Delay;

type Answer = Result<String, GhError>;

/// What a flight came to: nothing yet, the leader's answer, or its leader went away.
#[derive(Clone)]
pub enum Slot {
    Pending,
    Settled(Answer),
    Abandoned,
}

pub type Flight = Rc<RefCell<Slot>>;

thread_local! {
    static FLIGHTS: RefCell<HashMap<u64, (u64, Flight)>> = RefCell::new(HashMap::new());
    static NEXT: Cell<u64> = const { Cell::new(0) };
}

/// How often a follower looks at the flight, and for how long at most (then it mints).
const POLL_MS: u64 = 20;
const MAX_POLLS: u32 = 750;

pub enum Join {
    /// Mint, then `settle` with the answer.
    Lead(Leader),
    /// Another request of this isolate is minting: `follow` it.
    Follow(Flight),
}

pub struct Leader {
    installation: u64,
    flight: u64,
    slot: Flight,
}

pub fn join(id: InstallationId) -> Join {
    FLIGHTS.with(|flights| {
        let mut flights = flights.borrow_mut();
        if let Some((_, slot)) = flights.get(&id.get()) {
            return Join::Follow(Rc::clone(slot));
        }
        let flight = NEXT.with(|n| {
            n.set(n.get() + 1);
            n.get()
        });
        let slot = Rc::new(RefCell::new(Slot::Pending));
        flights.insert(id.get(), (flight, Rc::clone(&slot)));
        Join::Lead(Leader { installation: id.get(), flight, slot })
    })
}

/// The leader's answer, or `None` when the leader went away unsettled or took too long.
pub async fn follow(slot: Flight) -> Option<Answer> {
    for _ in 0..MAX_POLLS {
        let seen = slot.borrow().clone();
        match seen {
            Slot::Settled(answer) => return Some(answer),
            Slot::Abandoned => return None,
            Slot::Pending => Delay::from(Duration::from_millis(POLL_MS)).await,
        }
    }
    None
}

impl Leader {
    pub fn settle(self, answer: &Answer) {
        *self.slot.borrow_mut() = Slot::Settled(answer.clone());
        // Drop removes the entry.
    }
}

impl Drop for Leader {
    fn drop(&mut self) {
        {
            let mut slot = self.slot.borrow_mut();
            if matches!(*slot, Slot::Pending) {
                *slot = Slot::Abandoned;
            }
        }
        // Only this flight's entry: a later flight may have replaced it.
        FLIGHTS.with(|flights| {
            let mut flights = flights.borrow_mut();
            if flights.get(&self.installation).is_some_and(|(flight, _)| *flight == self.flight) {
                flights.remove(&self.installation);
            }
        });
    }
}
