//! Throughcare's store: the append-only, hash-chained event log and the projections
//! derived from it (person aliases, prison numbers, the case index behind lists and
//! work queues), plus staff accounts, sessions and the access audit.
//!
//! Architecture invariants:
//! - The log is only ever appended to; an append writes its events and every
//!   projection they touch in one transaction.
//! - Appends are serialised on the chain head inside the database (SQLite:
//!   `BEGIN IMMEDIATE`), never by an in-process lock, so several app instances can
//!   share one database.
//! - Callers see only the [`Store`] trait; the backend is chosen from the URL.

mod model;
mod portable;
mod postgres;
mod projection;
mod rows;
mod sqlite;

pub use model::*;
pub use portable::{ExportSummary, ImportSummary, LOG_FORMAT, LOG_FORMAT_VERSION, check_log};
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

use throughcare_domain::events::{NewEvent, RecordedEvent};
use throughcare_domain::identifiers::{EstablishmentCode, PrisonNumber, StaffUsername};
use throughcare_domain::profile::Profile;
use throughcare_domain::record_ids::PersonId;

/// Everything the app needs from a database. Implemented by [`SqliteStore`]; a
/// PostgreSQL backend implements the same trait.
pub trait Store: Send + Sync {
    /// Appends a batch of events atomically, with their projections. When `expect`
    /// is given, the append happens only if the person's latest event is still the
    /// one the caller decided against; otherwise [`StoreError::Conflict`].
    /// When `feed` is given, each `(feed, source_ref)` is recorded, and a batch whose
    /// reference was already applied is skipped and reported as `Ok(vec![])`.
    fn append(
        &self,
        batch: &[NewEvent],
        expect: Option<Expectation>,
        feed: Option<&FeedRecord>,
    ) -> Result<Vec<RecordedEvent>, StoreError>;

    /// The person record a person id now belongs to (after merges), if known.
    fn canonical_person(&self, person: PersonId) -> Result<Option<PersonId>, StoreError>;

    /// Every event of a person record, its merged records' included, in log order.
    fn person_events(&self, person: PersonId) -> Result<Vec<RecordedEvent>, StoreError>;

    /// The person record holding a prison number (merged numbers included).
    fn find_prison_number(&self, number: &PrisonNumber) -> Result<Option<PersonId>, StoreError>;

    /// Rows of the case index at an establishment, by family name.
    fn caseload(&self, establishment: &EstablishmentCode) -> Result<Vec<CaseRow>, StoreError>;

    /// Rows with an open first-assessment clock at an establishment, earliest due first.
    fn assessments_due(
        &self,
        establishment: &EstablishmentCode,
    ) -> Result<Vec<CaseRow>, StoreError>;

    /// One person's case index row.
    fn case_row(&self, person: PersonId) -> Result<Option<CaseRow>, StoreError>;

    /// Every event about the service itself rather than a person (incidents,
    /// clinical cover, workforce, …), in log order.
    fn service_events(&self) -> Result<Vec<RecordedEvent>, StoreError>;

    /// Events after `after_seq`, at most `limit`, in log order (exports and feeds).
    fn events_after(&self, after_seq: i64, limit: usize) -> Result<Vec<RecordedEvent>, StoreError>;

    /// Walks the whole chain and reports the first broken link, if any.
    fn verify(&self) -> Result<VerifyReport, StoreError>;

    /// Creates or replaces a staff account.
    fn put_account(&self, account: &StaffAccount) -> Result<(), StoreError>;

    /// A staff account by username.
    fn account(&self, username: &StaffUsername) -> Result<Option<StaffAccount>, StoreError>;

    /// Every staff account.
    fn accounts(&self) -> Result<Vec<StaffAccount>, StoreError>;

    /// Stores a new session.
    fn put_session(&self, session: &Session) -> Result<(), StoreError>;

    /// A session by its token hash, if not expired at `now`.
    fn session(
        &self,
        token_hash: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<Session>, StoreError>;

    /// Changes the establishment a session is working at.
    fn set_session_establishment(
        &self,
        token_hash: &str,
        establishment: &EstablishmentCode,
    ) -> Result<(), StoreError>;

    /// Ends a session.
    fn delete_session(&self, token_hash: &str) -> Result<(), StoreError>;

    /// Writes one access-audit entry.
    fn record_access(&self, entry: &AccessEntry) -> Result<(), StoreError>;

    /// Access-audit entries about one person, newest first.
    fn access_log(&self, person: PersonId) -> Result<Vec<AccessEntry>, StoreError>;

    /// Claims an idempotency key (`scope` = user and key) for a request with this
    /// hash, atomically: first use, in flight, mismatch, or the completed answer.
    fn idempotency_claim(
        &self,
        scope: &str,
        request_hash: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<IdempotencyClaim, StoreError>;

    /// Records the answer to a claimed key, for replays.
    fn idempotency_complete(
        &self,
        scope: &str,
        status: u16,
        response: &str,
    ) -> Result<(), StoreError>;

    /// Gives up a claimed key (the request failed in a way worth retrying).
    fn idempotency_release(&self, scope: &str) -> Result<(), StoreError>;

    /// A page of an establishment's work queue (REQUIREMENTS §12; issue 15): the
    /// items of its caseload in force on the day asked about and within the queue
    /// horizon, `overdue` set at that instant, ordered and counted in the database
    /// from the queue projection written with each append. Costs in proportion to
    /// the establishment's open items and the page, whatever the history's length.
    fn queue(&self, query: &QueueQuery) -> Result<QueuePage, StoreError>;

    /// Recomputes every projection (the case index, the queue) from the log, in
    /// one transaction; the number of people projected. `throughcare
    /// rebuild-projections` runs it, and opening a database whose projections are
    /// older than this version does too.
    fn rebuild_projections(&self) -> Result<u64, StoreError>;

    /// How many events the log holds (the chain head's sequence number; 0 when
    /// empty). A cheap read for operational metrics.
    fn log_length(&self) -> Result<i64, StoreError>;

    /// Writes the whole record as a portable log (JSON Lines, docs/operations.md):
    /// a header, every event with every column exactly as stored, then the staff
    /// accounts (password hashes included: the output is sensitive), the access
    /// audit and the feed records, then a closing line with the counts. Reads one
    /// consistent snapshot, streaming in pages; appends through other connections
    /// carry on meanwhile (on SQLite this store's own connection is busy until the
    /// export ends). `out` is written line by line: give it a buffered writer.
    fn export_log(&self, out: &mut dyn std::io::Write) -> Result<ExportSummary, StoreError>;

    /// Restores a portable log into this store, which must be empty (no events,
    /// accounts, access-audit entries or feed records; otherwise
    /// [`StoreError::NotEmpty`]). Every event's chain link and hash are verified as
    /// it is read, rows are inserted verbatim (so the chain head is the source's),
    /// and every projection is rebuilt, all in one transaction: a file that is
    /// altered, malformed or incomplete is refused ([`StoreError::BadBackup`],
    /// naming the line and the event) and leaves the store empty.
    fn import_log(&self, input: &mut dyn std::io::BufRead) -> Result<ImportSummary, StoreError>;
}

/// Opens the store named by a database URL: `postgres://…` for PostgreSQL,
/// `sqlite://PATH` or a plain file path for SQLite.
pub fn open(url: &str, profile: &Profile) -> Result<Box<dyn Store>, StoreError> {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Box::new(PostgresStore::open(url, profile)?));
    }
    Ok(Box::new(SqliteStore::open(path, profile)?))
}

/// The SQLite file a database URL names (`sqlite://PATH`, `sqlite:PATH` or a plain
/// path), or `None` for a PostgreSQL URL.
pub fn sqlite_path(url: &str) -> Option<&str> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return None;
    }
    Some(
        url.strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url),
    )
}
