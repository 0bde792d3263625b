//! The store's own values: errors, case index rows, accounts, sessions, audit.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use thiserror::Error;
use throughcare_domain::chain::ChainBreak;
use throughcare_domain::identifiers::{EstablishmentCode, StaffUsername};
use throughcare_domain::record_ids::PersonId;

/// What went wrong in the store.
#[derive(Debug, Error)]
pub enum StoreError {
    /// Someone else recorded for this person since the caller read the case; decide again.
    #[error("the record changed while this was being saved; please try again")]
    Conflict,
    /// The record would duplicate one that must be unique (e.g. a prison number).
    #[error("{0}")]
    Duplicate(String),
    /// The database could not be used.
    #[error("database error: {0}")]
    Database(String),
    /// A stored row could not be read back (corruption or a newer version's data).
    #[error("stored data could not be read: {0}")]
    Corrupt(String),
    /// The store is misconfigured.
    #[error("{0}")]
    Config(String),
    /// A restore or migration target already holds data (restores go only into a
    /// new, empty database).
    #[error("{0}")]
    NotEmpty(String),
    /// A log export file cannot be restored: it is not one, or it is incomplete, or
    /// a line is altered or malformed (the message names the line and the event).
    #[error("the log export cannot be restored: {0}")]
    BadBackup(String),
    /// Reading or writing an export failed (disk full, pipe closed).
    #[error("could not read or write the export: {0}")]
    Io(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Database(e.to_string())
    }
}

/// The caller's view of a person when deciding: the append goes ahead only if the
/// person's latest event is still this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expectation {
    /// The person record decided against.
    pub person: PersonId,
    /// The sequence number of their latest event then (0 for none).
    pub last_seq: i64,
}

/// A feed record: the source's own identifier of what a batch came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedRecord {
    /// The feed (`movements`, `drug-tests`).
    pub feed: String,
    /// The source's record identifier.
    pub source_ref: String,
}

/// One person's row in the case index, for lists and work queues.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseRow {
    /// The person record.
    pub person: PersonId,
    /// Their prison number.
    pub prison_number: String,
    /// Family name.
    pub family_name: String,
    /// Given name.
    pub given_name: String,
    /// Date of birth.
    pub date_of_birth: NaiveDate,
    /// The establishment responsible now.
    pub establishment: String,
    /// Custody in words ("In custody (remand)", "Released 3 March 2026").
    pub custody: String,
    /// Whether the person is in custody now.
    pub in_custody: bool,
    /// Referrals without a first assessment.
    pub open_referrals: u32,
    /// The earliest due date among open first-assessment clocks.
    pub assessment_due: Option<NaiveDate>,
    /// Whether offending is linked to substance use (S4 §1 priority).
    pub offending_linked: bool,
    /// The sequence number of the person's latest event.
    pub last_seq: i64,
}

/// The result of walking the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// How many events were checked and found sound.
    pub verified: i64,
    /// The hash of the last sound event.
    pub head_hash: String,
    /// The first broken link, if any.
    pub broken: Option<ChainBreak>,
}

/// A staff role (REQUIREMENTS "Users"): the domain's, where the policy table lives.
pub use throughcare_domain::access::Role;

/// A staff sign-in account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffAccount {
    /// Sign-in name.
    pub username: StaffUsername,
    /// Name shown in the header.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Establishments the person works at.
    pub establishments: Vec<EstablishmentCode>,
    /// Whether the account may sign in.
    pub active: bool,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

/// A signed-in session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// SHA-256 of the session token (the token itself is only in the cookie).
    pub token_hash: String,
    /// Who.
    pub username: StaffUsername,
    /// The token forms must carry (CSRF).
    pub csrf_token: String,
    /// The establishment currently worked at.
    pub establishment: EstablishmentCode,
    /// Started.
    pub created_at: DateTime<Utc>,
    /// Ends.
    pub expires_at: DateTime<Utc>,
}

/// One access-audit entry: who saw or exported which person's record, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessEntry {
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub username: String,
    /// Whose record, if one person.
    pub person: Option<PersonId>,
    /// What was done (`view`, `export`, `refused`).
    pub action: String,
    /// Where (the route), with no personal data.
    pub detail: String,
}

/// Where an idempotency key stands when a request claims it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyClaim {
    /// First use: the caller now holds the key and must complete or release it.
    Claimed,
    /// The key is held by a request still in progress.
    InFlight,
    /// The key was used before with a different request.
    Mismatch,
    /// The key was used before with this request: here is the original answer.
    Completed {
        /// The original HTTP status.
        status: u16,
        /// The original response body.
        response: String,
    },
}

#[cfg(test)]
mod tests {
    use super::Role;

    #[test]
    fn every_role_reads_back_from_its_code_the_commissioner_too() {
        for code in ["worker", "clinician", "manager", "admin", "commissioner"] {
            let role = Role::from_code(code).expect(code);
            assert_eq!(role.code(), code);
        }
        assert_eq!(
            Role::from_code("commissioner").map(Role::label),
            Some("Commissioner")
        );
        assert_eq!(Role::from_code("auditor"), None);
    }
}

/// One item of an establishment's work queue, as the queue projection answers it
/// (issue 15): the person's case-index row, their keyworker, and the item with
/// `overdue` set for the instant asked about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueRow {
    /// The person's caseload row.
    pub case: CaseRow,
    /// Their keyworker's username, if one is allocated.
    pub keyworker: Option<String>,
    /// The item.
    pub item: throughcare_domain::work_queues::WorkItem,
}

/// Which part of an establishment's work queue to read (issue 15: pages stay small).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueQuery {
    /// The establishment.
    pub establishment: throughcare_domain::identifiers::EstablishmentCode,
    /// The instant the queue is read at (the day, the clock, the horizon).
    pub now: chrono::DateTime<chrono::Utc>,
    /// One queue only, if given.
    pub queue: Option<throughcare_domain::work_queues::QueueKind>,
    /// Only the people this keyworker keyworks, if given ("my caseload").
    pub keyworker: Option<String>,
    /// How many rows of the ordered queue to skip.
    pub offset: usize,
    /// How many rows at most.
    pub limit: usize,
}

/// How many items one queue holds under a [`QueueQuery`]'s filter, and how many of
/// them are overdue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueCount {
    /// The queue.
    pub queue: throughcare_domain::work_queues::QueueKind,
    /// Its items.
    pub items: usize,
    /// Those overdue.
    pub overdue: usize,
}

/// One page of a work queue, in the domain's order (overdue first, then people
/// whose offending is linked to their substance use, then the earliest due, then
/// the caseload's order), with the counts of every queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuePage {
    /// The rows of the page.
    pub rows: Vec<QueueRow>,
    /// How many rows the whole (filtered) queue has.
    pub total: usize,
    /// Every queue's count under the same filter but the queue (empty ones absent).
    pub counts: Vec<QueueCount>,
}
