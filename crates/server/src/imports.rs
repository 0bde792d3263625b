//! `throughcare import movements|drug-tests|outcomes FILE.csv`: the CSV feeds — custody
//! movements from the prison's own systems (REQUIREMENTS §2: "a movements feed can
//! be imported"), drug test results (REQUIREMENTS §9; S4 §2: a positive result makes
//! a referral), and outcomes after release (reoffending and deaths, whose rows are
//! read by `outcomes_import`). The file formats are documented in `docs/imports.md`.
//!
//! An import runs in three passes, so that a file with one bad row applies nothing
//! unless the caller asks to skip bad rows:
//!
//! 1. **Parse** every row into typed values, noting every problem with every field.
//! 2. **Dry run**: decide every parsed row with the domain against the person's case
//!    as stored *plus* the events decided for the file's earlier rows (an in-memory
//!    overlay), noting every refusal. Nothing is written.
//! 3. **Apply**: with problems and no permission to skip, refuse the whole file;
//!    otherwise record the good rows through [`Recorder::record`], each with its
//!    feed record so the store never applies the same source row twice.
//!
//! Rows are decided and applied in the order they happened (date and time; rows at
//! the same instant in file order), not strictly in file order: a source system may
//! list movements by id, and a release listed before its admission is still valid.
//!
//! Re-importing a file changes nothing. A row already applied is recognised in the
//! dry run, before the domain is asked (the domain would refuse a second reception
//! of someone in custody, or a second result with the same test reference): a
//! movement by a custody event carrying its `movement_id` as `source_ref`, a drug
//! test by a result with its `test_id` as `test_ref`, an outcome by a reoffence or
//! death whose `source` names its `source_ref`. The store's feed records are a
//! second guard for rows applied concurrently.
//!
//! This module holds no rules of the service: everything about whether a movement
//! or a result may be recorded is the domain's `decide`.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io::Read;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use csv::ByteRecord;
use serde::Serialize;
use thiserror::Error;
use throughcare_domain::case::Case;
use throughcare_domain::custody::{Reception, ReceptionType, Release, ReleaseKind, Transfer};
use throughcare_domain::decide::{Command, Context, decide};
use throughcare_domain::error::DomainError;
use throughcare_domain::events::{EventKind, NewEvent, RecordedEvent};
use throughcare_domain::identifiers::{EstablishmentCode, PrisonNumber, StaffUsername};
use throughcare_domain::profile::Profile;
use throughcare_domain::record_ids::{PersonId, RandomIds};
use throughcare_domain::referrals::{DrugTestReason, DrugTestResult};
use throughcare_domain::time::{local_instant, local_midday};
use throughcare_store::{FeedRecord, StoreError};

use crate::recording::{RecordError, Recorder, load_case};

/// The columns of a movements file, in the documented order.
const MOVEMENT_COLUMNS: [&str; 10] = [
    "movement_id",
    "prison_number",
    "movement_type",
    "movement_date",
    "movement_time",
    "from_establishment",
    "to_establishment",
    "reception_type",
    "release_kind",
    "establishment",
];

/// The columns of a drug tests file, in the documented order.
const DRUG_TEST_COLUMNS: [&str; 8] = [
    "test_id",
    "prison_number",
    "establishment",
    "reason",
    "sampled_on",
    "confirmed_on",
    "result",
    "substances",
];

/// The longest source identifier accepted (`movement_id`, `test_id`).
const SOURCE_ID_MAX_CHARS: usize = 100;

/// How much of a rejected value a problem repeats, so a pasted paragraph does not
/// end up in a report.
const ECHO_LIMIT: usize = 40;

/// How many problems the text of [`ImportError::Rejected`] lists before saying how
/// many more there are (the variant itself holds them all).
const PROBLEMS_SHOWN: usize = 20;

/// A feed that can be imported from a CSV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Feed {
    /// Custody movements: admissions, transfers and releases (REQUIREMENTS §2).
    Movements,
    /// Drug test results (REQUIREMENTS §9; S4 §2).
    DrugTests,
    /// Outcomes after release: reoffending and deaths (KPIs 3.4–3.5, 3.7), read by
    /// `outcomes_import`.
    Outcomes,
}

impl Feed {
    /// Every feed.
    pub const ALL: [Feed; 3] = [Feed::Movements, Feed::DrugTests, Feed::Outcomes];

    /// The feed's name: the word on the command line and the `feed` of the store's
    /// feed records (`movements`, `drug-tests`, `outcomes`).
    pub fn name(self) -> &'static str {
        match self {
            Feed::Movements => "movements",
            Feed::DrugTests => "drug-tests",
            Feed::Outcomes => "outcomes",
        }
    }

    /// The columns the file's header row must name (in any order; other columns
    /// are ignored).
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Feed::Movements => &MOVEMENT_COLUMNS,
            Feed::DrugTests => &DRUG_TEST_COLUMNS,
            Feed::Outcomes => &crate::outcomes_import::COLUMNS,
        }
    }

    /// The column holding the source system's own identifier of a row, on which
    /// imports deduplicate.
    pub fn id_column(self) -> &'static str {
        match self {
            Feed::Movements => "movement_id",
            Feed::DrugTests => "test_id",
            Feed::Outcomes => "source_ref",
        }
    }

    /// What one row of the feed is, in words.
    fn row_noun(self) -> &'static str {
        match self {
            Feed::Movements => "movement",
            Feed::DrugTests => "test",
            Feed::Outcomes => "outcome",
        }
    }
}

impl fmt::Display for Feed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A feed name that is not one of [`Feed::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("no feed is called {0:?}: the feeds are movements, drug-tests and outcomes")]
pub struct UnknownFeed(pub String);

impl FromStr for Feed {
    type Err = UnknownFeed;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Feed::ALL
            .into_iter()
            .find(|f| f.name() == s.trim())
            .ok_or_else(|| UnknownFeed(cut(s)))
    }
}

/// One problem with one row of a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowProblem {
    /// The row's line number in the file, counting the header row as line 1 (so the
    /// first data row is normally line 2), as a spreadsheet or editor shows it.
    pub line: u64,
    /// The column at fault, as named in the header; `row` when the problem is with
    /// the row as a whole (e.g. the domain refused the movement it records).
    pub field: String,
    /// What is wrong, in words the person correcting the file understands.
    pub problem: String,
}

impl RowProblem {
    fn new(line: u64, field: impl Into<String>, problem: impl Into<String>) -> Self {
        RowProblem {
            line,
            field: field.into(),
            problem: problem.into(),
        }
    }
}

impl fmt::Display for RowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, {}: {}", self.line, self.field, self.problem)
    }
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Data rows read (the header, blank lines and rows of empty cells aside).
    pub rows: usize,
    /// Rows recorded by this import.
    pub applied: usize,
    /// Rows found already recorded (by an earlier import of the same row) and left
    /// alone.
    pub already_applied: usize,
    /// Every problem with every row skipped, in line order (a row with two problems
    /// appears twice). Empty unless bad rows were skipped.
    pub skipped: Vec<RowProblem>,
}

impl ImportReport {
    /// How many rows were skipped: `rows == applied + already_applied + skipped_rows()`.
    pub fn skipped_rows(&self) -> usize {
        distinct_lines(&self.skipped)
    }
}

/// Why an import applied nothing, or stopped part way.
#[derive(Debug, Error)]
pub enum ImportError {
    /// The file is not readable as CSV (an input error). Nothing was applied.
    #[error("the file could not be read: {0}")]
    Unreadable(String),
    /// The file has no header row. Nothing was applied.
    #[error("the file is empty: it needs a header row naming the columns {}", .0.columns().join(", "))]
    Empty(Feed),
    /// The header row lacks columns the feed needs. Nothing was applied.
    #[error(
        "the {feed} file has no column {}: its header row must name every one of {}",
        .missing.join(", "),
        .feed.columns().join(", ")
    )]
    MissingColumns {
        /// The feed.
        feed: Feed,
        /// The columns not found.
        missing: Vec<String>,
    },
    /// The header row names a column twice, so which to read is unknown. Nothing
    /// was applied.
    #[error("the header row names the column {0} more than once")]
    DuplicateColumn(String),
    /// One or more rows are bad and skipping was not asked for: nothing was applied.
    /// Every problem found with every row, in line order.
    #[error("{}", rejected_message(.0))]
    Rejected(Vec<RowProblem>),
    /// The store could not be read while checking the file. Nothing was applied.
    #[error("the records could not be read to check the file: {0}")]
    Store(#[from] StoreError),
    /// Recording a row failed after the checks passed (the store failed, or someone
    /// recorded for the person meanwhile). Rows before it were applied; importing
    /// the same file again applies only the rest.
    #[error(
        "line {line} could not be recorded ({applied} earlier rows were): {source}. Importing the file again applies only the rows not yet recorded"
    )]
    Record {
        /// The row's line number.
        line: u64,
        /// Rows applied before it by this import.
        applied: usize,
        /// Why.
        source: RecordError,
    },
}

fn distinct_lines(problems: &[RowProblem]) -> usize {
    problems
        .iter()
        .map(|p| p.line)
        .collect::<HashSet<_>>()
        .len()
}

fn rejected_message(problems: &[RowProblem]) -> String {
    let listed: Vec<String> = problems
        .iter()
        .take(PROBLEMS_SHOWN)
        .map(|p| p.to_string())
        .collect();
    let more = problems.len().saturating_sub(PROBLEMS_SHOWN);
    let more = if more > 0 {
        format!("; and {more} more")
    } else {
        String::new()
    };
    format!(
        "nothing was imported: {} row(s) have problems ({}{more}). Correct them, or skip bad rows to import the others",
        distinct_lines(problems),
        listed.join("; ")
    )
}

/// Imports a feed file: every row, or — when a row is bad — nothing, unless
/// `skip_bad_rows`, in which case the good rows are applied and every bad row is
/// reported in [`ImportReport::skipped`]. Events are recorded as `by` at `now`.
pub fn import(
    recorder: &Recorder<'_>,
    feed: Feed,
    reader: impl Read,
    by: &StaffUsername,
    now: DateTime<Utc>,
    skip_bad_rows: bool,
) -> Result<ImportReport, ImportError> {
    // Pass 1: parse.
    let parsed = parse(feed, reader, recorder.profile)?;
    let mut problems = parsed.problems;

    // Pass 2: dry run against the stored cases plus this file's earlier rows.
    let mut rows = parsed.rows;
    rows.sort_by_key(|r| (r.order, r.line));
    let plan = dry_run(recorder, rows, by, now)?;
    problems.extend(plan.problems);
    problems.sort_by_key(|p| p.line);

    // Pass 3: all or nothing, unless asked to skip.
    if !problems.is_empty() && !skip_bad_rows {
        return Err(ImportError::Rejected(problems));
    }
    let mut report = ImportReport {
        rows: parsed.count,
        applied: 0,
        already_applied: plan.already_applied,
        skipped: problems,
    };
    for (row, person, establishment) in plan.good {
        let line = row.line;
        let record = FeedRecord {
            feed: feed.name().to_string(),
            source_ref: row.source_ref.clone(),
        };
        match recorder.record(
            &throughcare_domain::access::Author::system(by.clone()),
            &establishment,
            person,
            row.command(),
            now,
            &mut RandomIds,
            Some(&record),
        ) {
            // The store already held this feed record: applied concurrently.
            Ok(events) if events.is_empty() => report.already_applied += 1,
            Ok(_) => report.applied += 1,
            Err(source) => {
                return Err(ImportError::Record {
                    line,
                    applied: report.applied,
                    source,
                });
            }
        }
    }
    Ok(report)
}

/// One parsed row, ready to be decided.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    /// The row's line in the file.
    pub(crate) line: u64,
    /// The source system's identifier (`movement_id`, `test_id`, `source_ref`).
    pub(crate) source_ref: String,
    /// The person's prison number.
    pub(crate) prison_number: PrisonNumber,
    /// The establishment the event is recorded at; `None` for the person's own
    /// establishment now (where they are held, or were last held), found when the
    /// row is checked.
    pub(crate) establishment: Option<EstablishmentCode>,
    /// When it happened, if the row gives a time; otherwise the domain dates it.
    pub(crate) occurred_at: Option<DateTime<Utc>>,
    /// When it happened, for ordering the rows.
    pub(crate) order: DateTime<Utc>,
    /// The fact.
    pub(crate) kind: EventKind,
}

impl Row {
    fn command(&self) -> Command {
        Command::Record {
            occurred_at: self.occurred_at,
            recorded_at: None,
            kind: self.kind.clone(),
        }
    }

    /// The file's column for a field the domain named in a refusal.
    fn column_for(&self, field: &str) -> String {
        let column = match (&self.kind, field) {
            (_, "person") => "prison_number",
            (EventKind::Received(_), "establishment") => "to_establishment",
            (EventKind::Transferred(_), "to" | "establishment") => "to_establishment",
            (EventKind::Transferred(_), "from") => "from_establishment",
            (
                EventKind::Received(_) | EventKind::Transferred(_) | EventKind::Released(_),
                "occurred_at",
            ) => "movement_date",
            (EventKind::DrugTestResulted(_), "test_ref") => "test_id",
            (EventKind::DrugTestResulted(t), "occurred_at") => {
                if t.confirmed_on.is_some() {
                    "confirmed_on"
                } else {
                    "sampled_on"
                }
            }
            (
                EventKind::ReoffenceRecorded(_) | EventKind::DeathRecorded(_),
                "offended_on" | "died_on" | "occurred_at",
            ) => "date",
            (_, other) => other,
        };
        column.to_string()
    }

    /// Whether the person's record already holds this row, from an earlier import
    /// (or, for a drug test, a result entered by hand with the same reference).
    /// Superseded and entered-in-error events count: re-importing a file must not
    /// bring back a movement a worker has since struck out.
    fn already_in(&self, case: &Case) -> bool {
        let this = feed_ref(&self.kind).map(|(feed, _)| (feed, self.source_ref.as_str()));
        this.is_some() && case.history.iter().any(|e| feed_ref(&e.kind) == this)
    }
}

/// The feed an event can come from, and the source's identifier it carries.
fn feed_ref(kind: &EventKind) -> Option<(Feed, &str)> {
    match kind {
        EventKind::Received(x) => x.source_ref.as_deref().map(|r| (Feed::Movements, r)),
        EventKind::Transferred(x) => x.source_ref.as_deref().map(|r| (Feed::Movements, r)),
        EventKind::Released(x) => x.source_ref.as_deref().map(|r| (Feed::Movements, r)),
        EventKind::DrugTestResulted(x) => Some((Feed::DrugTests, x.test_ref.as_str())),
        EventKind::ReoffenceRecorded(x) => {
            crate::outcomes_import::source_ref(&x.source).map(|r| (Feed::Outcomes, r))
        }
        EventKind::DeathRecorded(x) => {
            crate::outcomes_import::source_ref(&x.source).map(|r| (Feed::Outcomes, r))
        }
        _ => None,
    }
}

/// The outcome of pass 1.
struct Parsed {
    /// Data rows read.
    count: usize,
    /// Rows that parsed cleanly.
    rows: Vec<Row>,
    /// Every problem with every other row.
    problems: Vec<RowProblem>,
}

fn parse(feed: Feed, mut reader: impl Read, profile: &Profile) -> Result<Parsed, ImportError> {
    // Feed files are small; holding the bytes lets a row's line be counted exactly.
    let mut bytes = Vec::new();
    reader
        .read_to_end(&mut bytes)
        .map_err(|e| ImportError::Unreadable(e.to_string()))?;
    let mut lines = LineCounter {
        bytes: &bytes,
        at: 0,
        line: 1,
    };
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        // Rows with the wrong number of values are reported per row, not as an
        // error that ends the reading.
        .flexible(true)
        .from_reader(bytes.as_slice());
    let header = csv.byte_headers().map_err(unreadable)?.clone();
    let columns = header_columns(feed, &header)?;
    let mut parsed = Parsed {
        count: 0,
        rows: Vec::new(),
        problems: Vec::new(),
    };
    let mut seen_ids: HashMap<String, u64> = HashMap::new();
    let mut record = ByteRecord::new();
    loop {
        match csv.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(unreadable(e)),
        }
        // A row of empty cells (spreadsheets write them after the data) is no row.
        if record.iter().all(|cell| cell.is_empty()) {
            continue;
        }
        parsed.count += 1;
        let line = lines.line_at(record.position().map_or(0, |p| p.byte()));
        if record.len() != header.len() {
            parsed.problems.push(RowProblem::new(
                line,
                "row",
                format!(
                    "the row has {} values but the header row has {} columns (a value containing a comma must be in double quotes)",
                    record.len(),
                    header.len()
                ),
            ));
            continue;
        }
        let mut cells = Cells {
            line,
            record: &record,
            columns: &columns,
            problems: Vec::new(),
        };
        let row = match feed {
            Feed::Movements => movement(&mut cells, profile, &mut seen_ids),
            Feed::DrugTests => drug_test(&mut cells, profile, &mut seen_ids),
            Feed::Outcomes => crate::outcomes_import::outcome(&mut cells, &mut seen_ids),
        };
        match row {
            Some(row) if cells.problems.is_empty() => parsed.rows.push(row),
            _ => parsed.problems.append(&mut cells.problems),
        }
    }
    Ok(parsed)
}

/// Counts lines up to each row's start. The CSV reader's own line number is where
/// it began reading the row, before any blank lines it skipped.
struct LineCounter<'a> {
    bytes: &'a [u8],
    /// The byte up to which lines are counted.
    at: usize,
    /// The line of byte `at`.
    line: u64,
}

impl LineCounter<'_> {
    /// The line a row starts on, given the byte where the reader began reading it.
    /// Rows come in file order, so counting only ever moves forward.
    fn line_at(&mut self, byte: u64) -> u64 {
        let mut start = usize::try_from(byte)
            .unwrap_or(usize::MAX)
            .clamp(self.at, self.bytes.len());
        while matches!(self.bytes.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        let newlines = self
            .bytes
            .get(self.at..start)
            .map_or(0, |s| s.iter().filter(|b| **b == b'\n').count());
        self.line += newlines as u64;
        self.at = start;
        self.line
    }
}

fn unreadable(e: csv::Error) -> ImportError {
    ImportError::Unreadable(e.to_string())
}

/// Where each of the feed's columns is in the header row.
fn header_columns(
    feed: Feed,
    header: &ByteRecord,
) -> Result<HashMap<&'static str, usize>, ImportError> {
    if header.iter().all(|h| h.is_empty()) {
        return Err(ImportError::Empty(feed));
    }
    let mut columns = HashMap::new();
    for (i, name) in header.iter().enumerate() {
        let name = String::from_utf8_lossy(name);
        let name = name
            .trim_start_matches('\u{feff}')
            .trim()
            .to_ascii_lowercase();
        if let Some(known) = feed.columns().iter().find(|c| **c == name)
            && columns.insert(*known, i).is_some()
        {
            return Err(ImportError::DuplicateColumn((*known).to_string()));
        }
    }
    let missing: Vec<String> = feed
        .columns()
        .iter()
        .filter(|c| !columns.contains_key(*c))
        .map(|c| (*c).to_string())
        .collect();
    if missing.is_empty() {
        Ok(columns)
    } else {
        Err(ImportError::MissingColumns { feed, missing })
    }
}

/// One row's values, read column by column, with the problems found so far.
pub(crate) struct Cells<'a> {
    /// The row's line in the file.
    pub(crate) line: u64,
    record: &'a ByteRecord,
    columns: &'a HashMap<&'static str, usize>,
    problems: Vec<RowProblem>,
}

impl<'a> Cells<'a> {
    /// Notes a problem with `column`.
    pub(crate) fn problem(&mut self, column: &str, problem: impl Into<String>) {
        self.problems
            .push(RowProblem::new(self.line, column, problem));
    }

    /// The column's text, `Some(None)` when empty; `None` when unreadable (the
    /// problem is noted).
    pub(crate) fn text(&mut self, column: &'static str) -> Option<Option<&'a str>> {
        let record: &'a ByteRecord = self.record;
        let bytes = self
            .columns
            .get(column)
            .and_then(|i| record.get(*i))
            .unwrap_or_default();
        match std::str::from_utf8(bytes) {
            Ok(s) => {
                let s = s.trim();
                Some((!s.is_empty()).then_some(s))
            }
            Err(_) => {
                self.problem(
                    column,
                    "the value is not UTF-8 text: save the file as CSV UTF-8",
                );
                None
            }
        }
    }

    /// A value that must be given; `None` when missing or bad (the problem is noted).
    pub(crate) fn required<T>(
        &mut self,
        column: &'static str,
        missing: &str,
        read: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        match self.text(column)? {
            None => {
                self.problem(column, missing);
                None
            }
            Some(s) => match read(s) {
                Ok(v) => Some(v),
                Err(p) => {
                    self.problem(column, p);
                    None
                }
            },
        }
    }

    /// A value that may be left empty (`Some(None)`); `None` when bad (the problem
    /// is noted).
    pub(crate) fn optional<T>(
        &mut self,
        column: &'static str,
        read: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<Option<T>> {
        match self.text(column)? {
            None => Some(None),
            Some(s) => match read(s) {
                Ok(v) => Some(Some(v)),
                Err(p) => {
                    self.problem(column, p);
                    None
                }
            },
        }
    }

    /// The row's source identifier, which must not repeat within the file.
    pub(crate) fn source_id(
        &mut self,
        feed: Feed,
        seen: &mut HashMap<String, u64>,
    ) -> Option<String> {
        let column = feed.id_column();
        let noun = feed.row_noun();
        let id = self.required(
            column,
            &format!("Enter the {noun}'s id from the source system"),
            |s| {
                if s.chars().count() > SOURCE_ID_MAX_CHARS {
                    Err(format!(
                        "the id must be {SOURCE_ID_MAX_CHARS} characters or fewer (got {:?})",
                        cut(s)
                    ))
                } else if s.chars().any(char::is_control) {
                    Err(format!(
                        "the id must not contain control characters (got {:?})",
                        cut(s)
                    ))
                } else {
                    Ok(s.to_string())
                }
            },
        )?;
        match seen.get(&id) {
            Some(first) => {
                let first = *first;
                self.problem(
                    column,
                    format!(
                        "{} is also on line {first}: each {noun} must appear once in a file",
                        cut(&id)
                    ),
                );
                None
            }
            None => {
                seen.insert(id.clone(), self.line);
                Some(id)
            }
        }
    }

    /// The row's prison number.
    pub(crate) fn prison_number(&mut self) -> Option<PrisonNumber> {
        self.required("prison_number", "Enter the prison number", |s| {
            PrisonNumber::parse(s).map_err(|e| e.to_string())
        })
    }

    fn establishment(
        &mut self,
        column: &'static str,
        missing: &str,
        profile: &Profile,
    ) -> Option<EstablishmentCode> {
        self.required(column, missing, |s| {
            let code = EstablishmentCode::parse(s).map_err(|e| e.to_string())?;
            if profile.establishment(&code).is_none() {
                return Err(format!("{code} is not an establishment of this service"));
            }
            Ok(code)
        })
    }
}

/// What a movements row records.
enum Movement {
    Admission {
        to: EstablishmentCode,
        reception_type: ReceptionType,
    },
    Transfer {
        from: EstablishmentCode,
        to: EstablishmentCode,
    },
    Release {
        from: EstablishmentCode,
        kind: ReleaseKind,
    },
}

#[derive(Clone, Copy)]
enum MovementType {
    Admission,
    Release,
    Transfer,
}

fn movement(c: &mut Cells<'_>, profile: &Profile, seen: &mut HashMap<String, u64>) -> Option<Row> {
    let id = c.source_id(Feed::Movements, seen);
    let prison_number = c.prison_number();
    let movement_type = c.required(
        "movement_type",
        "Enter the movement type: admission, release or transfer",
        |s| {
            one_of(
                s,
                "the movement type",
                &[
                    ("admission", MovementType::Admission),
                    ("release", MovementType::Release),
                    ("transfer", MovementType::Transfer),
                ],
            )
        },
    );
    let date = c.required(
        "movement_date",
        "Enter the movement date, like 2026-03-14",
        date,
    );
    let time = c.optional("movement_time", time);
    // Columns that do not apply to the movement type are not read.
    let movement = match movement_type {
        Some(MovementType::Admission) => {
            let to = c.establishment(
                "to_establishment",
                "Enter the establishment the person was admitted to",
                profile,
            );
            let reception_type = c.required(
                "reception_type",
                "Enter the reception type: remand, sentenced, recall or immigration_detainee",
                |s| {
                    one_of(
                        s,
                        "the reception type",
                        &[
                            ("remand", ReceptionType::Remand),
                            ("sentenced", ReceptionType::Sentenced),
                            ("recall", ReceptionType::Recall),
                            ("immigration_detainee", ReceptionType::ImmigrationDetainee),
                        ],
                    )
                },
            );
            Some(Movement::Admission {
                to: to?,
                reception_type: reception_type?,
            })
        }
        Some(MovementType::Transfer) => {
            let from = c.establishment(
                "from_establishment",
                "Enter the establishment the person was transferred from",
                profile,
            );
            let to = c.establishment(
                "to_establishment",
                "Enter the establishment the person was transferred to",
                profile,
            );
            Some(Movement::Transfer {
                from: from?,
                to: to?,
            })
        }
        Some(MovementType::Release) => {
            let from = c.establishment(
                "establishment",
                "Enter the establishment the person was released from",
                profile,
            );
            let kind = c.optional("release_kind", |s| {
                one_of(
                    s,
                    "the release kind",
                    &[
                        ("released", ReleaseKind::Released),
                        ("deported", ReleaseKind::Deported),
                    ],
                )
            });
            Some(Movement::Release {
                from: from?,
                kind: kind?.unwrap_or(ReleaseKind::Released),
            })
        }
        None => None,
    };
    let (id, prison_number, date, time, movement) = (id?, prison_number?, date?, time?, movement?);
    let at = local_instant(date, time.unwrap_or_else(midday));
    let source_ref = Some(id.clone());
    let (establishment, kind) = match movement {
        Movement::Admission { to, reception_type } => (
            to,
            EventKind::Received(Reception {
                reception_type,
                source_ref,
            }),
        ),
        Movement::Transfer { from, to } => (
            // The transfer is recorded by the receiving establishment.
            to.clone(),
            EventKind::Transferred(Transfer {
                from,
                to,
                source_ref,
                break_glass: None,
            }),
        ),
        Movement::Release { from, kind } => {
            (from, EventKind::Released(Release { kind, source_ref }))
        }
    };
    Some(Row {
        line: c.line,
        source_ref: id,
        prison_number,
        establishment: Some(establishment),
        occurred_at: Some(at),
        order: at,
        kind,
    })
}

fn drug_test(c: &mut Cells<'_>, profile: &Profile, seen: &mut HashMap<String, u64>) -> Option<Row> {
    let id = c.source_id(Feed::DrugTests, seen);
    let prison_number = c.prison_number();
    let establishment = c.establishment(
        "establishment",
        "Enter the establishment where the sample was taken",
        profile,
    );
    let reason = c.required(
        "reason",
        "Enter the reason for the test: reception, random, suspicion or clinical",
        |s| {
            DrugTestReason::from_code(&s.to_ascii_lowercase()).ok_or_else(|| {
                format!(
                    "the reason must be reception, random, suspicion or clinical (got {:?})",
                    cut(s)
                )
            })
        },
    );
    let sampled_on = c.required(
        "sampled_on",
        "Enter the date the sample was taken, like 2026-03-14",
        date,
    );
    let confirmed_on = c.optional("confirmed_on", date);
    let positive = c.required("result", "Enter the result: positive or negative", |s| {
        one_of(s, "the result", &[("positive", true), ("negative", false)])
    });
    let substances = c.optional("substances", |s| {
        Ok(s.split(';')
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(str::to_string)
            .collect::<Vec<_>>())
    });
    let found = substances
        .as_ref()
        .is_some_and(|s| s.as_ref().is_some_and(|v| !v.is_empty()));
    if positive == Some(false) && found {
        c.problem(
            "substances",
            "a negative result has no substances found: leave substances empty",
        );
        return None;
    }
    let (id, prison_number, establishment, reason, sampled_on, confirmed_on, positive, substances) = (
        id?,
        prison_number?,
        establishment?,
        reason?,
        sampled_on?,
        confirmed_on?,
        positive?,
        substances?,
    );
    Some(Row {
        line: c.line,
        source_ref: id.clone(),
        prison_number,
        establishment: Some(establishment),
        // The domain dates the result (and any automatic referral) at midday on the
        // confirmation date, or the sample date when not confirmed later.
        occurred_at: None,
        order: local_midday(confirmed_on.unwrap_or(sampled_on)),
        kind: EventKind::DrugTestResulted(DrugTestResult {
            test_ref: id,
            reason,
            sampled_on,
            confirmed_on,
            positive,
            substances: substances.unwrap_or_default(),
        }),
    })
}

fn midday() -> NaiveTime {
    NaiveTime::from_hms_opt(12, 0, 0).unwrap_or(NaiveTime::MIN)
}

/// A date written `YYYY-MM-DD`.
pub(crate) fn date(s: &str) -> Result<NaiveDate, String> {
    let b = s.as_bytes();
    let shaped = b.len() == 10 && b[4] == b'-' && b[7] == b'-';
    shaped
        .then(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        .flatten()
        .ok_or_else(|| {
            format!(
                "the date must be a real date written YYYY-MM-DD, like 2026-03-14 (got {:?})",
                cut(s)
            )
        })
}

/// A 24-hour local time written `HH:MM`.
fn time(s: &str) -> Result<NaiveTime, String> {
    let shaped = s.len() == 5 && s.as_bytes()[2] == b':';
    shaped
        .then(|| NaiveTime::parse_from_str(s, "%H:%M").ok())
        .flatten()
        .ok_or_else(|| {
            format!(
                "the time must be a 24-hour time written HH:MM, like 09:30 (got {:?})",
                cut(s)
            )
        })
}

/// One of a fixed list of codes (case does not matter).
pub(crate) fn one_of<T: Copy>(s: &str, what: &str, options: &[(&str, T)]) -> Result<T, String> {
    let code = s.to_ascii_lowercase();
    options
        .iter()
        .find(|(name, _)| *name == code)
        .map(|(_, v)| *v)
        .ok_or_else(|| {
            let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
            format!(
                "{what} must be one of {} (got {:?})",
                names.join(", "),
                cut(s)
            )
        })
}

/// Rejected text cut to [`ECHO_LIMIT`] characters for a message.
pub(crate) fn cut(s: &str) -> String {
    let mut chars = s.chars();
    let mut shown: String = chars.by_ref().take(ECHO_LIMIT).collect();
    if chars.next().is_some() {
        shown.push('…');
    }
    shown
}

/// The outcome of pass 2.
struct Plan {
    /// Rows the domain accepted, with the person and the establishment to record
    /// them at, in the order to apply them.
    good: Vec<(Row, PersonId, EstablishmentCode)>,
    /// Rows already in the record.
    already_applied: usize,
    /// Every refusal.
    problems: Vec<RowProblem>,
}

/// A person's case during the dry run: as stored, plus the events decided for the
/// file's earlier rows, numbered after the stored ones.
struct Draft {
    case: Case,
    next_seq: i64,
}

fn dry_run(
    recorder: &Recorder<'_>,
    rows: Vec<Row>,
    by: &StaffUsername,
    now: DateTime<Utc>,
) -> Result<Plan, ImportError> {
    let mut plan = Plan {
        good: Vec::new(),
        already_applied: 0,
        problems: Vec::new(),
    };
    let mut people: HashMap<PrisonNumber, Option<PersonId>> = HashMap::new();
    let mut drafts: HashMap<PersonId, Draft> = HashMap::new();
    for row in rows {
        let person = match people.get(&row.prison_number) {
            Some(p) => *p,
            None => {
                let p = recorder.store.find_prison_number(&row.prison_number)?;
                people.insert(row.prison_number.clone(), p);
                p
            }
        };
        let Some(person) = person else {
            plan.problems.push(RowProblem::new(
                row.line,
                "prison_number",
                format!(
                    "prison number {} is not registered: register the person first",
                    row.prison_number
                ),
            ));
            continue;
        };
        let draft = match drafts.entry(person) {
            std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => {
                let (case, last_seq) = load_case(recorder.store, person)?;
                v.insert(Draft {
                    case,
                    next_seq: last_seq.saturating_add(1),
                })
            }
        };
        if row.already_in(&draft.case) {
            plan.already_applied += 1;
            continue;
        }
        let Some(establishment) = row
            .establishment
            .clone()
            .or_else(|| draft.case.establishment().cloned())
        else {
            plan.problems.push(RowProblem::new(
                row.line,
                "prison_number",
                "the person has no establishment to record this at",
            ));
            continue;
        };
        let ctx = Context {
            profile: recorder.profile,
            calendar: recorder.calendar,
            recorded_by: by.clone(),
            actor: throughcare_domain::access::Actor::System,
            establishment: establishment.clone(),
            now,
            trainees: &[],
        };
        match decide(&draft.case, row.command(), &ctx, &mut RandomIds) {
            Ok(events) => {
                let canonical = draft.case.person;
                let mut history = std::mem::take(&mut draft.case.history);
                for event in events {
                    history.push(provisional(event, draft.next_seq, now));
                    draft.next_seq = draft.next_seq.saturating_add(1);
                }
                draft.case = Case::fold(canonical, history);
                plan.good.push((row, person, establishment));
            }
            Err(e) => plan.problems.extend(refusal(&row, e)),
        }
    }
    Ok(plan)
}

/// A decided event as the dry run's overlay holds it: not in the log, so no hash.
fn provisional(n: NewEvent, seq: i64, now: DateTime<Utc>) -> RecordedEvent {
    RecordedEvent {
        seq,
        id: n.id,
        person: n.person,
        establishment: n.establishment,
        occurred_at: n.occurred_at,
        recorded_at: n.recorded_at.unwrap_or(now),
        appended_at: now,
        recorded_by: n.recorded_by,
        supersedes: n.supersedes,
        reason: n.reason,
        kind: n.kind,
        prev_hash: String::new(),
        hash: String::new(),
    }
}

/// The domain's refusal of a row, as problems naming the file's columns.
fn refusal(row: &Row, e: DomainError) -> Vec<RowProblem> {
    match e {
        DomainError::Invalid(problems) => problems
            .into_iter()
            .map(|p| RowProblem::new(row.line, row.column_for(&p.field), p.problem))
            .collect(),
        DomainError::NotFound { what } => {
            vec![RowProblem::new(
                row.line,
                "row",
                format!("{what} not found"),
            )]
        }
        DomainError::Refused(why) | DomainError::NotPermitted(why) => {
            vec![RowProblem::new(row.line, "row", why)]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use throughcare_domain::calendar::Calendar;
    use throughcare_domain::custody::CustodyStatus;
    use throughcare_domain::people::{EqualityMonitoring, PersonDetails, RecordedPriorityFlags};
    use throughcare_domain::referrals::ReferralSource;
    use throughcare_domain::time::parse_instant;
    use throughcare_store::{SqliteStore, Store};

    const MOVEMENTS_HEADER: &str = "movement_id,prison_number,movement_type,movement_date,movement_time,from_establishment,to_establishment,reception_type,release_kind,establishment";
    const DRUG_TESTS_HEADER: &str =
        "test_id,prison_number,establishment,reason,sampled_on,confirmed_on,result,substances";

    struct Fixture {
        _dir: tempfile::TempDir,
        store: SqliteStore,
        profile: Profile,
        calendar: Calendar,
        by: StaffUsername,
        now: DateTime<Utc>,
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let profile = Profile::builtin("kent-medway").unwrap();
        let calendar = profile.calendar();
        let path = dir.path().join("throughcare.db");
        let store = SqliteStore::open(path.to_str().unwrap(), &profile).unwrap();
        Fixture {
            _dir: dir,
            store,
            profile,
            calendar,
            by: StaffUsername::parse("worker.one").unwrap(),
            now: parse_instant("2026-11-20T10:00:00Z").unwrap(),
        }
    }

    impl Fixture {
        fn recorder(&self) -> Recorder<'_> {
            Recorder {
                store: &self.store,
                profile: &self.profile,
                calendar: &self.calendar,
            }
        }

        /// Registers a synthetic person at Maidstone.
        fn register(&self, prison_number: &str) -> PersonId {
            let person = PersonId(uuid::Uuid::new_v4());
            let details = PersonDetails {
                prison_number: PrisonNumber::parse(prison_number).unwrap(),
                given_name: "Testy".into(),
                family_name: "Example".into(),
                date_of_birth: "1990-04-01".parse().unwrap(),
                home_postcode: None,
                equality: EqualityMonitoring::default(),
                priority: RecordedPriorityFlags::default(),
            };
            self.recorder()
                .record(
                    &throughcare_domain::access::Author::system(self.by.clone()),
                    &EstablishmentCode::parse("MDI").unwrap(),
                    person,
                    Command::Record {
                        occurred_at: None,
                        recorded_at: None,
                        kind: EventKind::PersonRegistered(details),
                    },
                    self.now,
                    &mut RandomIds,
                    None,
                )
                .unwrap();
            person
        }

        fn import(
            &self,
            feed: Feed,
            text: &[u8],
            skip_bad_rows: bool,
        ) -> Result<ImportReport, ImportError> {
            import(
                &self.recorder(),
                feed,
                text,
                &self.by,
                self.now,
                skip_bad_rows,
            )
        }

        fn event_count(&self) -> usize {
            self.store.events_after(0, usize::MAX).unwrap().len()
        }

        fn case(&self, person: PersonId) -> Case {
            load_case(&self.store, person).unwrap().0
        }
    }

    fn file(header: &str, rows: &[&str]) -> Vec<u8> {
        let mut text = String::from(header);
        for r in rows {
            text.push('\n');
            text.push_str(r);
        }
        text.push('\n');
        text.into_bytes()
    }

    fn movements(rows: &[&str]) -> Vec<u8> {
        file(MOVEMENTS_HEADER, rows)
    }

    fn drug_tests(rows: &[&str]) -> Vec<u8> {
        file(DRUG_TESTS_HEADER, rows)
    }

    fn code(s: &str) -> EstablishmentCode {
        EstablishmentCode::parse(s).unwrap()
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn rejected(r: Result<ImportReport, ImportError>) -> Vec<RowProblem> {
        match r {
            Err(ImportError::Rejected(p)) => p,
            other => panic!("expected the file to be rejected, got {other:?}"),
        }
    }

    const GOOD_MOVEMENTS: [&str; 3] = [
        "M-1,A1234BC,admission,2026-03-02,14:30,,MDI,remand,,",
        "M-2,A1234BC,transfer,2026-04-10,,MDI,EYI,,,",
        "M-3,A1234BC,release,2026-09-01,09:15,,,,released,EYI",
    ];

    #[test]
    fn good_movements_file_records_admission_transfer_and_release() {
        let f = fixture();
        let person = f.register("A1234BC");
        let report = f
            .import(Feed::Movements, &movements(&GOOD_MOVEMENTS), false)
            .unwrap();
        assert_eq!(
            report,
            ImportReport {
                rows: 3,
                applied: 3,
                already_applied: 0,
                skipped: vec![]
            }
        );
        let case = f.case(person);
        assert_eq!(
            case.establishments_history,
            vec![
                (code("MDI"), day("2026-03-02")),
                (code("EYI"), day("2026-04-10"))
            ]
        );
        assert_eq!(
            case.custody,
            CustodyStatus::Left {
                establishment: code("EYI"),
                kind: ReleaseKind::Released,
                on: day("2026-09-01"),
            }
        );
        // 14:30 in British Summer Time is 13:30 UTC; the transfer has no time: midday.
        let received = case
            .history
            .iter()
            .find(|e| matches!(e.kind, EventKind::Received(_)))
            .unwrap();
        assert_eq!(
            received.occurred_at,
            parse_instant("2026-03-02T14:30:00Z").unwrap()
        );
        let transferred = case
            .history
            .iter()
            .find(|e| matches!(&e.kind, EventKind::Transferred(t) if t.source_ref.as_deref() == Some("M-2")))
            .unwrap();
        assert_eq!(transferred.establishment, code("EYI"));
        assert_eq!(
            transferred.occurred_at,
            parse_instant("2026-04-10T11:00:00Z").unwrap()
        );
    }

    #[test]
    fn importing_a_movements_file_twice_records_nothing_the_second_time() {
        let f = fixture();
        f.register("A1234BC");
        let text = movements(&GOOD_MOVEMENTS);
        f.import(Feed::Movements, &text, false).unwrap();
        let count = f.event_count();
        let again = f.import(Feed::Movements, &text, false).unwrap();
        assert_eq!(again.applied, 0);
        assert_eq!(again.already_applied, 3);
        assert_eq!(f.event_count(), count);
    }

    #[test]
    fn a_later_file_repeating_applied_rows_records_only_the_new_ones() {
        let f = fixture();
        let person = f.register("A1234BC");
        f.import(Feed::Movements, &movements(&GOOD_MOVEMENTS[..1]), false)
            .unwrap();
        let report = f
            .import(Feed::Movements, &movements(&GOOD_MOVEMENTS), false)
            .unwrap();
        assert_eq!((report.applied, report.already_applied), (2, 1));
        assert!(matches!(f.case(person).custody, CustodyStatus::Left { .. }));
    }

    #[test]
    fn a_movement_entered_in_error_is_not_brought_back_by_a_reimport() {
        let f = fixture();
        let person = f.register("A1234BC");
        let text = movements(&GOOD_MOVEMENTS[..1]);
        f.import(Feed::Movements, &text, false).unwrap();
        let received = f
            .case(person)
            .history
            .iter()
            .find(|e| matches!(e.kind, EventKind::Received(_)))
            .unwrap()
            .id;
        f.recorder()
            .record(
                &throughcare_domain::access::Author::system(f.by.clone()),
                &code("MDI"),
                person,
                Command::EnterInError {
                    target: received,
                    reason: "Wrong person".into(),
                },
                f.now,
                &mut RandomIds,
                None,
            )
            .unwrap();
        let again = f.import(Feed::Movements, &text, false).unwrap();
        assert_eq!((again.applied, again.already_applied), (0, 1));
        assert_eq!(f.case(person).custody, CustodyStatus::NotYetReceived);
    }

    #[test]
    fn rows_are_decided_in_the_order_they_happened_not_file_order() {
        let f = fixture();
        let person = f.register("A1234BC");
        let reversed = [GOOD_MOVEMENTS[2], GOOD_MOVEMENTS[1], GOOD_MOVEMENTS[0]];
        let report = f
            .import(Feed::Movements, &movements(&reversed), false)
            .unwrap();
        assert_eq!(report.applied, 3);
        assert!(matches!(f.case(person).custody, CustodyStatus::Left { .. }));
    }

    #[test]
    fn a_bad_date_rejects_the_whole_file_naming_line_and_column() {
        let f = fixture();
        f.register("A1234BC");
        let before = f.event_count();
        let problems = rejected(f.import(
            Feed::Movements,
            &movements(&[
                GOOD_MOVEMENTS[0],
                "M-2,A1234BC,transfer,2026-04-31,,MDI,EYI,,,",
            ]),
            false,
        ));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].line, 3);
        assert_eq!(problems[0].field, "movement_date");
        assert!(problems[0].problem.contains("YYYY-MM-DD"));
        assert_eq!(f.event_count(), before);
    }

    #[test]
    fn an_establishment_outside_the_profile_rejects_the_file() {
        let f = fixture();
        f.register("A1234BC");
        let before = f.event_count();
        let problems = rejected(f.import(
            Feed::Movements,
            &movements(&["M-1,A1234BC,admission,2026-03-02,,,PVI,remand,,"]),
            false,
        ));
        assert_eq!(
            problems,
            vec![RowProblem::new(
                2,
                "to_establishment",
                "PVI is not an establishment of this service"
            )]
        );
        assert_eq!(f.event_count(), before);
    }

    #[test]
    fn an_unregistered_prison_number_rejects_the_file() {
        let f = fixture();
        f.register("A1234BC");
        let before = f.event_count();
        let problems = rejected(f.import(
            Feed::Movements,
            &movements(&[
                GOOD_MOVEMENTS[0],
                "M-9,Z9999ZZ,admission,2026-03-02,,,MDI,remand,,",
            ]),
            false,
        ));
        assert_eq!(
            problems,
            vec![RowProblem::new(
                3,
                "prison_number",
                "prison number Z9999ZZ is not registered: register the person first"
            )]
        );
        assert_eq!(f.event_count(), before);
    }

    #[test]
    fn a_malformed_prison_number_gets_the_identifier_message() {
        let f = fixture();
        let problems = rejected(f.import(
            Feed::Movements,
            &movements(&["M-1,12345,admission,2026-03-02,,,MDI,remand,,"]),
            false,
        ));
        assert_eq!(problems[0].field, "prison_number");
        assert!(problems[0].problem.contains("like A1234BC"));
    }

    #[test]
    fn every_problem_of_every_row_is_reported_at_once() {
        let f = fixture();
        let problems = rejected(f.import(
            Feed::Movements,
            &movements(&[
                "M-1,A1234BC,arrival,2026-13-01,25:00,,,,,",
                ",A1234BC,admission,2026-03-02,,,MDI,,,",
            ]),
            false,
        ));
        let at: Vec<(u64, &str)> = problems
            .iter()
            .map(|p| (p.line, p.field.as_str()))
            .collect();
        assert_eq!(
            at,
            vec![
                (2, "movement_type"),
                (2, "movement_date"),
                (2, "movement_time"),
                (3, "movement_id"),
                (3, "reception_type"),
            ]
        );
    }

    #[test]
    fn a_domain_refusal_is_reported_against_the_row() {
        let f = fixture();
        f.register("A1234BC");
        let problems = rejected(f.import(
            Feed::Movements,
            &movements(&[GOOD_MOVEMENTS[0], "M-2,A1234BC,release,2026-05-01,,,,,,EYI"]),
            false,
        ));
        assert_eq!(
            problems,
            vec![RowProblem::new(
                3,
                "establishment",
                "The person is not in custody at EYI"
            )]
        );
    }

    #[test]
    fn skipping_bad_rows_applies_the_good_ones_and_reports_every_bad_one() {
        let f = fixture();
        let a = f.register("A1234BC");
        let b = f.register("B2345CD");
        let report = f
            .import(
                Feed::Movements,
                &movements(&[
                    "M-1,A1234BC,admission,2026-03-02,,,MDI,remand,,",
                    "M-2,B2345CD,admission,2026-03-02,,,XXX,remand,,",
                    "M-3,Z9999ZZ,admission,2026-03-02,,,MDI,remand,,",
                    "M-4,A1234BC,transfer,not a date,,MDI,EYI,,,",
                    "M-5,B2345CD,admission,2026-03-05,,,CBI,sentenced,,",
                ]),
                true,
            )
            .unwrap();
        assert_eq!(report.rows, 5);
        assert_eq!(report.applied, 2);
        assert_eq!(report.skipped_rows(), 3);
        let at: Vec<(u64, &str)> = report
            .skipped
            .iter()
            .map(|p| (p.line, p.field.as_str()))
            .collect();
        assert_eq!(
            at,
            vec![
                (3, "to_establishment"),
                (4, "prison_number"),
                (5, "movement_date")
            ]
        );
        assert_eq!(f.case(a).received_on(), Some(day("2026-03-02")));
        assert_eq!(f.case(b).establishment(), Some(&code("CBI")));
    }

    #[test]
    fn a_row_depending_on_a_skipped_row_is_skipped_too() {
        let f = fixture();
        let a = f.register("A1234BC");
        let report = f
            .import(
                Feed::Movements,
                &movements(&[
                    "M-1,A1234BC,admission,2026-03-02,,,MDI,,,",
                    "M-2,A1234BC,transfer,2026-04-10,,MDI,EYI,,,",
                ]),
                true,
            )
            .unwrap();
        assert_eq!(report.applied, 0);
        assert_eq!(report.skipped_rows(), 2);
        assert_eq!(report.skipped[1].field, "from_establishment");
        assert_eq!(f.case(a).custody, CustodyStatus::NotYetReceived);
    }

    #[test]
    fn an_id_repeated_within_a_file_is_a_problem() {
        let f = fixture();
        f.register("A1234BC");
        let problems = rejected(f.import(
            Feed::Movements,
            &movements(&[GOOD_MOVEMENTS[0], GOOD_MOVEMENTS[0]]),
            false,
        ));
        assert_eq!(problems.len(), 1);
        assert_eq!(
            (problems[0].line, problems[0].field.as_str()),
            (3, "movement_id")
        );
        assert!(problems[0].problem.contains("also on line 2"));
    }

    #[test]
    fn a_deportation_is_recorded_as_such() {
        let f = fixture();
        let person = f.register("A1234BC");
        f.import(
            Feed::Movements,
            &movements(&[
                "M-1,A1234BC,admission,2026-03-02,,,DVI,immigration_detainee,,",
                "M-2,A1234BC,release,2026-03-20,,,,,Deported,DVI",
            ]),
            false,
        )
        .unwrap();
        assert!(matches!(
            f.case(person).custody,
            CustodyStatus::Left {
                kind: ReleaseKind::Deported,
                ..
            }
        ));
    }

    #[test]
    fn a_positive_drug_test_makes_a_referral_with_an_appointment_and_a_negative_does_not() {
        let f = fixture();
        let positive = f.register("A1234BC");
        let negative = f.register("B2345CD");
        let report = f
            .import(
                Feed::DrugTests,
                &drug_tests(&[
                    "T-1,A1234BC,MDI,random,2026-06-01,2026-06-03,positive,cocaine; opiates",
                    "T-2,B2345CD,MDI,reception,2026-06-01,,negative,",
                ]),
                false,
            )
            .unwrap();
        assert_eq!(report.applied, 2);

        let case = f.case(positive);
        assert_eq!(case.drug_tests.len(), 1);
        assert_eq!(case.drug_tests[0].1.substances, vec!["cocaine", "opiates"]);
        assert_eq!(case.referrals.len(), 1);
        let referral = &case.referrals[0];
        assert_eq!(referral.referral.source, ReferralSource::PositiveDrugTest);
        assert_eq!(referral.referral.referred_on, day("2026-06-03"));
        assert_eq!(case.appointments.len(), 1);
        assert_eq!(case.appointments[0].offer.referral, Some(referral.id));

        let case = f.case(negative);
        assert_eq!(case.drug_tests.len(), 1);
        assert!(!case.drug_tests[0].1.positive);
        assert!(case.referrals.is_empty());
        assert!(case.appointments.is_empty());
    }

    #[test]
    fn a_drug_test_file_with_a_bad_row_applies_nothing() {
        let f = fixture();
        f.register("A1234BC");
        let before = f.event_count();
        let problems = rejected(f.import(
            Feed::DrugTests,
            &drug_tests(&[
                "T-1,A1234BC,MDI,random,2026-06-01,,positive,cocaine",
                "T-2,A1234BC,MDI,hunch,2026-06-02,,negative,",
            ]),
            false,
        ));
        assert_eq!(problems.len(), 1);
        assert_eq!(
            (problems[0].line, problems[0].field.as_str()),
            (3, "reason")
        );
        assert_eq!(f.event_count(), before);
    }

    #[test]
    fn a_confirmation_before_the_sample_is_reported_by_the_domain() {
        let f = fixture();
        f.register("A1234BC");
        let problems = rejected(f.import(
            Feed::DrugTests,
            &drug_tests(&["T-1,A1234BC,MDI,random,2026-06-05,2026-06-01,positive,"]),
            false,
        ));
        assert_eq!(problems[0].field, "confirmed_on");
    }

    #[test]
    fn a_future_movement_is_reported_against_its_date() {
        let f = fixture();
        f.register("A1234BC");
        let problems = rejected(f.import(
            Feed::Movements,
            &movements(&["M-1,A1234BC,admission,2026-12-25,,,MDI,remand,,"]),
            false,
        ));
        assert_eq!(problems[0].field, "movement_date");
    }

    #[test]
    fn importing_a_drug_test_file_twice_records_nothing_the_second_time() {
        let f = fixture();
        let person = f.register("A1234BC");
        let text = drug_tests(&[
            "T-1,A1234BC,MDI,random,2026-06-01,2026-06-03,positive,cocaine",
            "T-2,A1234BC,MDI,clinical,2026-07-01,,negative,",
        ]);
        f.import(Feed::DrugTests, &text, false).unwrap();
        let count = f.event_count();
        let again = f.import(Feed::DrugTests, &text, false).unwrap();
        assert_eq!((again.applied, again.already_applied), (0, 2));
        assert_eq!(f.event_count(), count);
        assert_eq!(f.case(person).referrals.len(), 1);
    }

    #[test]
    fn a_missing_column_is_an_error_naming_it() {
        let f = fixture();
        let text = b"test_id,prison_number,establishment,reason,sampled_on,result,substances\n";
        let err = f.import(Feed::DrugTests, text, false).unwrap_err();
        match &err {
            ImportError::MissingColumns { missing, .. } => {
                assert_eq!(missing, &vec!["confirmed_on".to_string()])
            }
            other => panic!("expected missing columns, got {other:?}"),
        }
        assert!(err.to_string().contains("no column confirmed_on"));
    }

    #[test]
    fn a_column_named_twice_is_an_error() {
        let f = fixture();
        let text = format!("{DRUG_TESTS_HEADER},Result\n");
        let err = f
            .import(Feed::DrugTests, text.as_bytes(), false)
            .unwrap_err();
        assert!(matches!(err, ImportError::DuplicateColumn(c) if c == "result"));
    }

    #[test]
    fn an_empty_file_is_an_error_and_a_header_alone_imports_nothing() {
        let f = fixture();
        assert!(matches!(
            f.import(Feed::Movements, b"", false),
            Err(ImportError::Empty(Feed::Movements))
        ));
        let report = f
            .import(Feed::Movements, MOVEMENTS_HEADER.as_bytes(), false)
            .unwrap();
        assert_eq!(report, ImportReport::default());
    }

    #[test]
    fn extra_columns_reordered_columns_and_spaces_are_accepted() {
        let f = fixture();
        let person = f.register("A1234BC");
        let text = "\u{feff}Comment, to_establishment ,movement_id,prison_number,movement_type,movement_date,movement_time,from_establishment,reception_type,release_kind,establishment\n\
                    \"hello, world\", mdi , M-1 , a1234bc ,Admission, 2026-03-02 ,,,REMAND,,\n";
        let report = f.import(Feed::Movements, text.as_bytes(), false).unwrap();
        assert_eq!(report.applied, 1);
        assert_eq!(f.case(person).establishment(), Some(&code("MDI")));
    }

    #[test]
    fn a_row_with_the_wrong_number_of_values_is_a_problem() {
        let f = fixture();
        f.register("A1234BC");
        let problems = rejected(f.import(
            Feed::Movements,
            &movements(&["M-1,A1234BC,admission,2026-03-02,,,MDI,remand,,,extra"]),
            false,
        ));
        assert_eq!((problems[0].line, problems[0].field.as_str()), (2, "row"));
    }

    #[test]
    fn text_that_is_not_utf8_is_a_problem_with_its_column() {
        let f = fixture();
        f.register("A1234BC");
        let mut text = movements(&[]);
        text.extend_from_slice(b"M-1,A1234BC,admission,2026-03-02,,,MDI,remand\xff\xfe,,\n");
        let problems = rejected(f.import(Feed::Movements, &text, false));
        assert_eq!(
            (problems[0].line, problems[0].field.as_str()),
            (2, "reception_type")
        );
    }

    #[test]
    fn line_numbers_count_quoted_line_breaks_blank_lines_and_empty_rows() {
        let f = fixture();
        f.register("A1234BC");
        let text = movements(&[
            "\"M-\n1\",A1234BC,admission,2026-03-02,,,MDI,remand,,",
            "",
            ",,,,,,,,,",
            "M-2,A1234BC,transfer,2026-04-10,,MDI,XXX,,,",
            "",
        ]);
        let problems = rejected(f.import(Feed::Movements, &text, false));
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert_eq!(
            (problems[0].line, problems[0].field.as_str()),
            (2, "movement_id")
        );
        assert_eq!(
            (problems[1].line, problems[1].field.as_str()),
            (6, "to_establishment")
        );
    }

    #[test]
    fn rows_of_empty_cells_are_not_counted() {
        let f = fixture();
        f.register("A1234BC");
        let text = movements(&[GOOD_MOVEMENTS[0], ",,,,,,,,,", " , ,,,,,,,,"]);
        let report = f.import(Feed::Movements, &text, false).unwrap();
        assert_eq!((report.rows, report.applied), (1, 1));
    }

    #[test]
    fn the_documented_example_files_import_cleanly() {
        let f = fixture();
        for prison_number in ["A1234BC", "B2345CD", "C3456DE"] {
            f.register(prison_number);
        }
        let m = f
            .import(
                Feed::Movements,
                include_bytes!("../../../docs/examples/movements.csv"),
                false,
            )
            .unwrap();
        assert!(m.applied > 0 && m.skipped.is_empty(), "{m:?}");
        let t = f
            .import(
                Feed::DrugTests,
                include_bytes!("../../../docs/examples/drug-tests.csv"),
                false,
            )
            .unwrap();
        assert!(t.applied > 0 && t.skipped.is_empty(), "{t:?}");
    }

    #[test]
    fn feeds_are_named_as_on_the_command_line() {
        for feed in Feed::ALL {
            assert_eq!(feed.name().parse::<Feed>().unwrap(), feed);
        }
        assert!("moves".parse::<Feed>().is_err());
    }

    /// Fuzz-ish: mangled and random input never panics, and a rejected file never
    /// writes anything.
    #[test]
    fn mangled_input_never_panics() {
        let f = fixture();
        f.register("A1234BC");
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let base = movements(&GOOD_MOVEMENTS);
        let tests = drug_tests(&["T-1,A1234BC,MDI,random,2026-06-01,,positive,cocaine"]);
        let alphabet = b",\"\n\r;:- \xff\xc3AZaz09M";
        for round in 0..400 {
            let (feed, source) = if round % 2 == 0 {
                (Feed::Movements, &base)
            } else {
                (Feed::DrugTests, &tests)
            };
            let mut text = source.clone();
            for _ in 0..(next() % 6 + 1) {
                let len = text.len().max(1);
                let at = (next() as usize) % len;
                let byte = alphabet[(next() as usize) % alphabet.len()];
                match next() % 3 {
                    0 if at < text.len() => {
                        text.remove(at);
                    }
                    1 if at < text.len() => text[at] = byte,
                    _ => text.insert(at.min(text.len()), byte),
                }
            }
            if round % 50 == 0 {
                text = (0..(next() % 200)).map(|_| (next() & 0xff) as u8).collect();
            }
            let before = f.event_count();
            if f.import(feed, text.as_slice(), false).is_err() {
                assert_eq!(f.event_count(), before, "a rejected file wrote events");
            }
        }
    }
}
