//! The hash chain over the log: each event's hash covers the previous event's hash
//! and the event's canonical bytes, so that any change, removal or reordering of a
//! stored event is detectable (DESIGN "One idea"; REQUIREMENTS §17).
//!
//! The canonical bytes are built from the stored text of each column (the payload
//! exactly as stored), so that verifying never depends on re-serialising.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// The hash that stands before the first event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An event's columns as stored, in the form the chain hashes.
#[derive(Debug, Clone, Serialize)]
pub struct ChainFields<'a> {
    /// Global sequence number.
    pub seq: i64,
    /// Event id (UUID text).
    pub id: &'a str,
    /// Person id (UUID text), if any.
    pub person: Option<&'a str>,
    /// Establishment code.
    pub establishment: &'a str,
    /// Event type name.
    pub event_type: &'a str,
    /// When it happened (canonical instant text, see [`crate::time::canonical_instant`]).
    pub occurred_at: &'a str,
    /// When it entered the record (canonical instant text).
    pub recorded_at: &'a str,
    /// When the log received it (canonical instant text).
    pub appended_at: &'a str,
    /// Who recorded it.
    pub recorded_by: &'a str,
    /// The corrected event's id, if a correction.
    pub supersedes: Option<&'a str>,
    /// Reason for a correction.
    pub reason: Option<&'a str>,
    /// The payload JSON text exactly as stored.
    pub payload: &'a str,
}

/// The hash (lower-case hex SHA-256) of an event following `prev_hash`.
pub fn event_hash(prev_hash: &str, fields: &ChainFields<'_>) -> String {
    let canonical = serde_json::to_vec(fields).unwrap_or_default();
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(b"\n");
    h.update(&canonical);
    hex::encode(h.finalize())
}

/// What verifying the chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainBreak {
    /// A sequence number is missing or out of order: expected one, found another.
    SequenceGap {
        /// The sequence number expected next.
        expected: i64,
        /// The one found.
        found: i64,
    },
    /// An event's stored previous-hash is not the hash of the event before it.
    PrevHashMismatch {
        /// The event whose link is broken.
        seq: i64,
    },
    /// An event's stored hash does not match its contents.
    HashMismatch {
        /// The altered event.
        seq: i64,
    },
}

impl std::fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainBreak::SequenceGap { expected, found } => write!(
                f,
                "event {expected} is missing or out of order (found event {found} in its place)"
            ),
            ChainBreak::PrevHashMismatch { seq } => write!(
                f,
                "event {seq} does not follow the event before it (its previous-hash link is broken)"
            ),
            ChainBreak::HashMismatch { seq } => {
                write!(
                    f,
                    "event {seq} has been altered (its hash does not match its contents)"
                )
            }
        }
    }
}

/// Walks the chain one stored event at a time.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    expected_seq: i64,
    prev_hash: String,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier {
            expected_seq: 1,
            prev_hash: GENESIS_HASH.to_string(),
        }
    }
}

impl ChainVerifier {
    /// Checks the next stored event (its fields, stored prev-hash and stored hash).
    pub fn check(
        &mut self,
        fields: &ChainFields<'_>,
        stored_prev_hash: &str,
        stored_hash: &str,
    ) -> Result<(), ChainBreak> {
        if fields.seq != self.expected_seq {
            return Err(ChainBreak::SequenceGap {
                expected: self.expected_seq,
                found: fields.seq,
            });
        }
        if stored_prev_hash != self.prev_hash {
            return Err(ChainBreak::PrevHashMismatch { seq: fields.seq });
        }
        let computed = event_hash(&self.prev_hash, fields);
        if computed != stored_hash {
            return Err(ChainBreak::HashMismatch { seq: fields.seq });
        }
        self.expected_seq += 1;
        self.prev_hash = computed;
        Ok(())
    }

    /// How many events have been verified.
    pub fn verified(&self) -> i64 {
        self.expected_seq - 1
    }

    /// The hash of the last verified event (the chain head).
    pub fn head(&self) -> &str {
        &self.prev_hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(seq: i64, payload: &str) -> ChainFields<'_> {
        ChainFields {
            seq,
            id: "e",
            person: None,
            establishment: "MDI",
            event_type: "referral_made",
            occurred_at: "2026-01-01T00:00:00.000000Z",
            recorded_at: "2026-01-01T00:00:00.000000Z",
            appended_at: "2026-01-01T00:00:00.000000Z",
            recorded_by: "a",
            supersedes: None,
            reason: None,
            payload,
        }
    }

    #[test]
    fn a_valid_chain_verifies() {
        let h1 = event_hash(GENESIS_HASH, &fields(1, "{}"));
        let h2 = event_hash(&h1, &fields(2, "{\"a\":1}"));
        let mut v = ChainVerifier::default();
        v.check(&fields(1, "{}"), GENESIS_HASH, &h1).unwrap();
        v.check(&fields(2, "{\"a\":1}"), &h1, &h2).unwrap();
        assert_eq!(v.verified(), 2);
        assert_eq!(v.head(), h2);
    }

    #[test]
    fn a_changed_payload_is_detected() {
        let h1 = event_hash(GENESIS_HASH, &fields(1, "{}"));
        let mut v = ChainVerifier::default();
        assert_eq!(
            v.check(&fields(1, "{\"x\":1}"), GENESIS_HASH, &h1),
            Err(ChainBreak::HashMismatch { seq: 1 })
        );
    }

    #[test]
    fn a_missing_event_is_detected() {
        let h1 = event_hash(GENESIS_HASH, &fields(1, "{}"));
        let h2 = event_hash(&h1, &fields(2, "{}"));
        let h3 = event_hash(&h2, &fields(3, "{}"));
        let mut v = ChainVerifier::default();
        v.check(&fields(1, "{}"), GENESIS_HASH, &h1).unwrap();
        assert_eq!(
            v.check(&fields(3, "{}"), &h2, &h3),
            Err(ChainBreak::SequenceGap {
                expected: 2,
                found: 3
            })
        );
    }
}
