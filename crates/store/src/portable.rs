//! The portable log: one backend-neutral file (JSON Lines) that holds a whole
//! Throughcare record, for backups, restores and moves between backends
//! (docs/operations.md describes it for operators).
//!
//! ```text
//! {"format":"throughcare-log","version":1,"events":N,"head_hash":"…"}
//! {"event":{"seq":1,"id":"…","person_id":"…",…,"payload":"{…}","prev_hash":"…","hash":"…"}}
//! …                                   (every event, in log order)
//! {"account":{"username":"…",…,"password_hash":"$argon2id$…",…}}
//! {"access":{"id":1,"at":"…","username":"…","person_id":"…","action":"view","detail":"…"}}
//! {"feed_record":{"feed":"movements","source_ref":"…","seq":12}}
//! {"end":{"events":N,"accounts":A,"access_entries":K,"feed_records":F}}
//! ```
//!
//! Every event column is carried exactly as stored (the payload as its stored JSON
//! text), so an import reproduces byte-identical rows and the same chain hashes.
//! Reading verifies every line's chain link and hash as it goes and insists on the
//! closing `end` line, so a truncated or altered file is refused, naming the line.

use crate::model::StoreError;
use crate::rows::EventRow;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Write};
use throughcare_domain::chain::{ChainVerifier, GENESIS_HASH};
use throughcare_domain::events::RecordedEvent;
use throughcare_domain::identifiers::{EstablishmentCode, StaffUsername};
use throughcare_domain::record_ids::PersonId;
use throughcare_domain::time::parse_instant;

/// The `format` name in a portable log's header line.
pub const LOG_FORMAT: &str = "throughcare-log";
/// The version of the portable log format this build writes and reads.
pub const LOG_FORMAT_VERSION: u32 = 1;
/// How many rows an export reads from the database at a time.
pub(crate) const PAGE: usize = 1000;

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExportSummary {
    /// Events written.
    pub events: i64,
    /// The hash of the last event written (the chain head; all zeros for an empty log).
    pub head_hash: String,
    /// Staff accounts written.
    pub accounts: u64,
    /// Access-audit entries written.
    pub access_entries: u64,
    /// Feed records (source references already applied) written.
    pub feed_records: u64,
}

/// What an import restored (or, for [`check_log`], what a file holds).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImportSummary {
    /// Events restored, each with its chain link and hash verified.
    pub events: i64,
    /// The hash of the last event (the chain head; all zeros for an empty log).
    pub head_hash: String,
    /// Staff accounts restored.
    pub accounts: u64,
    /// Access-audit entries restored.
    pub access_entries: u64,
    /// Feed records restored.
    pub feed_records: u64,
}

/// The first line of the file.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    format: String,
    version: u32,
    events: i64,
    head_hash: String,
}

/// Every line after the header.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum Line {
    Event(EventLine),
    Account(AccountLine),
    Access(AccessLine),
    FeedRecord(FeedLine),
    End(Trailer),
}

/// One stored event, every column exactly as stored.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventLine {
    seq: i64,
    id: String,
    person_id: Option<String>,
    establishment: String,
    event_type: String,
    occurred_at: String,
    recorded_at: String,
    appended_at: String,
    recorded_by: String,
    supersedes: Option<String>,
    reason: Option<String>,
    payload: String,
    prev_hash: String,
    hash: String,
}

impl From<EventRow> for EventLine {
    fn from(r: EventRow) -> Self {
        EventLine {
            seq: r.seq,
            id: r.id,
            person_id: r.person,
            establishment: r.establishment,
            event_type: r.event_type,
            occurred_at: r.occurred_at,
            recorded_at: r.recorded_at,
            appended_at: r.appended_at,
            recorded_by: r.recorded_by,
            supersedes: r.supersedes,
            reason: r.reason,
            payload: r.payload,
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

impl From<EventLine> for EventRow {
    fn from(l: EventLine) -> Self {
        EventRow {
            seq: l.seq,
            id: l.id,
            person: l.person_id,
            establishment: l.establishment,
            event_type: l.event_type,
            occurred_at: l.occurred_at,
            recorded_at: l.recorded_at,
            appended_at: l.appended_at,
            recorded_by: l.recorded_by,
            supersedes: l.supersedes,
            reason: l.reason,
            payload: l.payload,
            prev_hash: l.prev_hash,
            hash: l.hash,
        }
    }
}

/// One staff account row (the password hash included: the file is sensitive).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AccountLine {
    pub(crate) username: String,
    pub(crate) display_name: String,
    pub(crate) role: String,
    pub(crate) password_hash: String,
    pub(crate) establishments: Vec<String>,
    pub(crate) active: bool,
    pub(crate) created_at: String,
}

impl AccountLine {
    /// The row's establishments as the `staff_accounts.establishments` column holds them.
    pub(crate) fn establishments_column(&self) -> String {
        self.establishments.join(",")
    }

    /// The row from its stored columns.
    pub(crate) fn from_columns(
        username: String,
        display_name: String,
        role: String,
        password_hash: String,
        establishments: &str,
        active: bool,
        created_at: String,
    ) -> AccountLine {
        AccountLine {
            username,
            display_name,
            role,
            password_hash,
            establishments: establishments
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            active,
            created_at,
        }
    }
}

/// One access-audit row, its id kept so the order of entries survives.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AccessLine {
    pub(crate) id: i64,
    pub(crate) at: String,
    pub(crate) username: String,
    pub(crate) person_id: Option<String>,
    pub(crate) action: String,
    pub(crate) detail: String,
}

/// One feed record: a source reference already applied, so a re-delivery after a
/// restore is still recognised.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FeedLine {
    pub(crate) feed: String,
    pub(crate) source_ref: String,
    pub(crate) seq: i64,
}

/// The closing line: how many of each kind of line came before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Trailer {
    events: i64,
    accounts: u64,
    access_entries: u64,
    feed_records: u64,
}

fn io_error(e: std::io::Error) -> StoreError {
    StoreError::Io(e.to_string())
}

/// Writes a portable log, counting what it writes.
pub(crate) struct Writer<'a> {
    out: &'a mut dyn Write,
    summary: ExportSummary,
    head_hash: String,
}

impl<'a> Writer<'a> {
    /// Starts the file: writes the header for a log of `events` events ending in
    /// `head_hash` (`None` for an empty log).
    pub(crate) fn start(
        out: &'a mut dyn Write,
        events: i64,
        head_hash: Option<String>,
    ) -> Result<Writer<'a>, StoreError> {
        let head_hash = head_hash.unwrap_or_else(|| GENESIS_HASH.to_string());
        let header = Header {
            format: LOG_FORMAT.to_string(),
            version: LOG_FORMAT_VERSION,
            events,
            head_hash: head_hash.clone(),
        };
        let mut w = Writer {
            out,
            summary: ExportSummary {
                head_hash: GENESIS_HASH.to_string(),
                ..ExportSummary::default()
            },
            head_hash,
        };
        w.write_json(&header)?;
        Ok(w)
    }

    fn write_json(&mut self, value: &impl Serialize) -> Result<(), StoreError> {
        serde_json::to_writer(&mut *self.out, value).map_err(|e| StoreError::Io(e.to_string()))?;
        self.out.write_all(b"\n").map_err(io_error)
    }

    /// Writes one line.
    pub(crate) fn line(&mut self, line: &Line) -> Result<(), StoreError> {
        match line {
            Line::Event(e) => {
                self.summary.events += 1;
                self.summary.head_hash.clone_from(&e.hash);
            }
            Line::Account(_) => self.summary.accounts += 1,
            Line::Access(_) => self.summary.access_entries += 1,
            Line::FeedRecord(_) => self.summary.feed_records += 1,
            Line::End(_) => {
                return Err(StoreError::Io(
                    "the closing line is written by finish".into(),
                ));
            }
        }
        self.write_json(line)
    }

    /// Writes one stored event.
    pub(crate) fn event(&mut self, row: EventRow) -> Result<(), StoreError> {
        self.line(&Line::Event(row.into()))
    }

    /// Writes the closing line and flushes. Fails if the events written are not the
    /// ones the header announced (the log changed under a non-snapshot read).
    pub(crate) fn finish(mut self) -> Result<ExportSummary, StoreError> {
        let s = &self.summary;
        let trailer = Trailer {
            events: s.events,
            accounts: s.accounts,
            access_entries: s.access_entries,
            feed_records: s.feed_records,
        };
        if s.head_hash != self.head_hash {
            return Err(StoreError::Io(format!(
                "the log changed during the export ({} events written, ending in {}, but the header says {})",
                s.events, s.head_hash, self.head_hash
            )));
        }
        self.write_json(&Line::End(trailer))?;
        self.out.flush().map_err(io_error)?;
        Ok(self.summary)
    }
}

/// One checked line of a portable log, ready to store.
pub(crate) enum Record {
    /// An event whose chain link and hash have been verified, with its parsed form.
    Event(EventRow, Box<RecordedEvent>),
    /// A staff account.
    Account(AccountLine),
    /// An access-audit entry.
    Access(AccessLine),
    /// A feed record.
    Feed(FeedLine),
}

/// Reads a portable log line by line, verifying as it goes.
pub(crate) struct Reader<'a> {
    input: &'a mut dyn BufRead,
    line_no: usize,
    buf: String,
    header: Header,
    verifier: ChainVerifier,
    summary: ImportSummary,
    ended: bool,
}

fn bad(line: usize, what: impl std::fmt::Display) -> StoreError {
    StoreError::BadBackup(format!("line {line}: {what}"))
}

impl<'a> Reader<'a> {
    /// Reads and checks the header line.
    pub(crate) fn start(input: &'a mut dyn BufRead) -> Result<Reader<'a>, StoreError> {
        let mut r = Reader {
            input,
            line_no: 0,
            buf: String::new(),
            header: Header {
                format: String::new(),
                version: 0,
                events: 0,
                head_hash: String::new(),
            },
            verifier: ChainVerifier::default(),
            summary: ImportSummary {
                head_hash: GENESIS_HASH.to_string(),
                ..ImportSummary::default()
            },
            ended: false,
        };
        if !r.read_line()? {
            return Err(StoreError::BadBackup(
                "the file is empty: it is not a Throughcare log export".into(),
            ));
        }
        let not_ours = || {
            bad(
                r.line_no,
                format!(
                    "this is not a Throughcare log export (the first line must be {{\"format\":\"{LOG_FORMAT}\",…}})"
                ),
            )
        };
        let value: serde_json::Value = serde_json::from_str(&r.buf).map_err(|_| not_ours())?;
        if value.get("format").and_then(|f| f.as_str()) != Some(LOG_FORMAT) {
            return Err(not_ours());
        }
        match value.get("version").and_then(|v| v.as_u64()) {
            Some(v) if v == u64::from(LOG_FORMAT_VERSION) => {}
            Some(v) => {
                return Err(bad(
                    r.line_no,
                    format!(
                        "the file is format version {v}; this Throughcare reads version {LOG_FORMAT_VERSION} (use the Throughcare version that wrote it, or a newer one)"
                    ),
                ));
            }
            None => return Err(bad(r.line_no, "the header has no version")),
        }
        r.header = serde_json::from_str(&r.buf).map_err(|e| bad(r.line_no, e))?;
        Ok(r)
    }

    /// Reads the next non-blank line into `buf`; false at the end of the input.
    fn read_line(&mut self) -> Result<bool, StoreError> {
        loop {
            self.buf.clear();
            let n = self
                .input
                .read_line(&mut self.buf)
                .map_err(|e| StoreError::BadBackup(format!("line {}: {e}", self.line_no + 1)))?;
            if n == 0 {
                return Ok(false);
            }
            self.line_no += 1;
            if !self.buf.trim().is_empty() {
                return Ok(true);
            }
        }
    }

    /// The next record, `None` after the closing line (which must be there, and
    /// must agree with the header and with what came before it).
    pub(crate) fn next_record(&mut self) -> Result<Option<Record>, StoreError> {
        if self.ended {
            return Ok(None);
        }
        if !self.read_line()? {
            return Err(StoreError::BadBackup(format!(
                "the file ends after line {} without its closing \"end\" line: it is incomplete (was the export interrupted?)",
                self.line_no
            )));
        }
        let n = self.line_no;
        let line: Line = serde_json::from_str(&self.buf).map_err(|e| bad(n, e))?;
        Ok(Some(match line {
            Line::Event(e) => {
                let row = EventRow::from(e);
                if let Err(b) = self
                    .verifier
                    .check(&row.chain_fields(), &row.prev_hash, &row.hash)
                {
                    return Err(bad(n, b));
                }
                let event = row.to_event().map_err(|e| match e {
                    StoreError::Corrupt(what) => bad(n, what),
                    other => other,
                })?;
                self.summary.events += 1;
                self.summary.head_hash.clone_from(&row.hash);
                Record::Event(row, Box::new(event))
            }
            Line::Account(a) => {
                StaffUsername::parse(&a.username)
                    .map_err(|e| bad(n, format!("account {:?}: {e}", a.username)))?;
                if crate::model::Role::from_code(&a.role).is_none() {
                    return Err(bad(
                        n,
                        format!("account {}: unknown role {:?}", a.username, a.role),
                    ));
                }
                for e in &a.establishments {
                    EstablishmentCode::parse(e)
                        .map_err(|err| bad(n, format!("account {}: {err}", a.username)))?;
                }
                if parse_instant(&a.created_at).is_none() {
                    return Err(bad(n, format!("account {}: created_at", a.username)));
                }
                self.summary.accounts += 1;
                Record::Account(a)
            }
            Line::Access(a) => {
                if parse_instant(&a.at).is_none() {
                    return Err(bad(n, format!("access entry {}: at", a.id)));
                }
                if let Some(p) = &a.person_id
                    && PersonId::parse(p).is_none()
                {
                    return Err(bad(n, format!("access entry {}: person_id", a.id)));
                }
                self.summary.access_entries += 1;
                Record::Access(a)
            }
            Line::FeedRecord(f) => {
                self.summary.feed_records += 1;
                Record::Feed(f)
            }
            Line::End(t) => {
                self.finish(n, &t)?;
                self.ended = true;
                return Ok(None);
            }
        }))
    }

    fn finish(&mut self, n: usize, t: &Trailer) -> Result<(), StoreError> {
        let s = &self.summary;
        let found = Trailer {
            events: s.events,
            accounts: s.accounts,
            access_entries: s.access_entries,
            feed_records: s.feed_records,
        };
        if found != *t {
            return Err(bad(
                n,
                format!(
                    "the closing line counts {} events, {} accounts, {} access entries and {} feed records, but the file holds {}, {}, {} and {}",
                    t.events,
                    t.accounts,
                    t.access_entries,
                    t.feed_records,
                    found.events,
                    found.accounts,
                    found.access_entries,
                    found.feed_records
                ),
            ));
        }
        if s.events != self.header.events || s.head_hash != self.header.head_hash {
            return Err(bad(
                n,
                format!(
                    "the header announces {} events ending in {}, but the file holds {} ending in {}",
                    self.header.events, self.header.head_hash, s.events, s.head_hash
                ),
            ));
        }
        if self.read_line()? {
            return Err(bad(self.line_no, "there is more after the closing line"));
        }
        Ok(())
    }

    /// What has been read so far (all of it, once `next_record` has returned `None`).
    pub(crate) fn summary(&self) -> ImportSummary {
        self.summary.clone()
    }
}

/// Reads a whole portable log without a database, verifying every line as an
/// import would (header, each event's chain link and hash, each row's fields, the
/// closing line). For checking a backup file after writing it.
pub fn check_log(input: &mut dyn BufRead) -> Result<ImportSummary, StoreError> {
    let mut reader = Reader::start(input)?;
    while reader.next_record()?.is_some() {}
    Ok(reader.summary())
}

/// The SQL that counts what a restore target already holds: events, staff
/// accounts, access-audit entries, feed records (the same on every backend).
pub(crate) const CONTENTS_SQL: &str = "SELECT (SELECT COUNT(*) FROM events), (SELECT COUNT(*) FROM staff_accounts), \
     (SELECT COUNT(*) FROM access_audit), (SELECT COUNT(*) FROM feed_records)";

/// Refuses a restore target that holds anything, given what [`CONTENTS_SQL`] counted.
pub(crate) fn refuse_unless_empty(counts: [i64; 4]) -> Result<(), StoreError> {
    if counts.iter().all(|&n| n == 0) {
        return Ok(());
    }
    let [events, accounts, access, feeds] = counts;
    Err(StoreError::NotEmpty(format!(
        "the target database is not empty (it holds {events} events, {accounts} staff accounts, \
         {access} access-audit entries and {feeds} feed records): a log is restored only into a new, empty database"
    )))
}
