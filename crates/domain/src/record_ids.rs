//! Identifiers of records inside Throughcare: people and events.
//!
//! These are opaque UUIDs assigned when a record is made. They are distinct from the
//! identifiers the outside world uses (a prison number can change, or turn out to be
//! a duplicate of another; a person's `PersonId` never changes).

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

/// Throughcare's own, permanent identifier for a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PersonId(pub Uuid);

/// The identifier of one event in the log. Referrals, appointments and assessments
/// are identified by the event that made them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EventId(pub Uuid);

impl fmt::Display for PersonId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl PersonId {
    /// Parses a person identifier from its text form, as found in a URL.
    pub fn parse(s: &str) -> Option<Self> {
        Uuid::parse_str(s.trim()).ok().map(PersonId)
    }
}

impl EventId {
    /// Parses an event identifier from its text form, as found in a URL or a form.
    pub fn parse(s: &str) -> Option<Self> {
        Uuid::parse_str(s.trim()).ok().map(EventId)
    }
}

/// Where new identifiers come from. The domain never reads randomness itself: the
/// server passes random UUIDs, tests pass predictable ones.
pub trait IdSource {
    /// A fresh identifier, never returned before.
    fn next_uuid(&mut self) -> Uuid;
}

/// Random (version 4) UUIDs, for production use.
#[derive(Debug, Default, Clone, Copy)]
pub struct RandomIds;

impl IdSource for RandomIds {
    fn next_uuid(&mut self) -> Uuid {
        Uuid::new_v4()
    }
}

/// Predictable identifiers counting up from a seed, for tests and the deterministic demo.
#[derive(Debug, Clone)]
pub struct SequentialIds {
    seed: u64,
    next: u64,
}

impl SequentialIds {
    /// Identifiers `seed-000…1`, `seed-000…2`, …: the same seed gives the same sequence.
    pub fn new(seed: u64) -> Self {
        SequentialIds { seed, next: 1 }
    }
}

impl IdSource for SequentialIds {
    fn next_uuid(&mut self) -> Uuid {
        let n = self.next;
        self.next += 1;
        Uuid::from_u64_pair(self.seed, n)
    }
}
