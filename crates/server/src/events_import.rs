//! `throughcare import events FILE.jsonl`: history migrated from another system, one
//! event per line, each decided by the domain exactly as if a user recorded it, and
//! appended all together in one transaction (all or nothing, unless asked to skip
//! bad lines). The format is documented with an example of every type in
//! docs/events.md.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::HashMap;
use std::io::BufRead;
use throughcare_domain::case::Case;
use throughcare_domain::decide::{Command, Context, decide};
use throughcare_domain::error::DomainError;
use throughcare_domain::events::{EventKind, NewEvent, RecordedEvent};
use throughcare_domain::identifiers::{EstablishmentCode, StaffUsername};
use throughcare_domain::record_ids::{IdSource, PersonId};

use crate::recording::Recorder;

/// One line of the file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    #[serde(rename = "type")]
    event_type: String,
    person: PersonId,
    establishment: String,
    occurred_at: Option<DateTime<Utc>>,
    recorded_at: Option<DateTime<Utc>>,
    recorded_by: String,
    payload: serde_json::Value,
}

/// A problem with one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineProblem {
    /// The line number in the file (from 1).
    pub line: usize,
    /// The field.
    pub field: String,
    /// What is wrong.
    pub problem: String,
}

impl std::fmt::Display for LineProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}: {}", self.line, self.field, self.problem)
    }
}

/// What an events import did.
#[derive(Debug, Default)]
pub struct EventsReport {
    /// Lines read (blank lines aside).
    pub lines: usize,
    /// Events appended (a positive drug test adds its own follow-ups).
    pub appended: usize,
    /// Lines skipped, when skipping was asked for.
    pub skipped: Vec<LineProblem>,
}

/// Why nothing was imported.
#[derive(Debug, thiserror::Error)]
pub enum EventsImportError {
    /// The file could not be read.
    #[error("the file could not be read: {0}")]
    Io(#[from] std::io::Error),
    /// Bad lines, and skipping was not asked for: nothing was applied.
    #[error("nothing was imported: {} line(s) have problems", .0.len())]
    Rejected(Vec<LineProblem>),
    /// The store failed: nothing was applied.
    #[error(transparent)]
    Store(#[from] throughcare_store::StoreError),
}

fn problems_of(line: usize, e: DomainError) -> Vec<LineProblem> {
    match e {
        DomainError::Invalid(ps) => ps
            .into_iter()
            .map(|p| LineProblem {
                line,
                field: p.field,
                problem: p.problem,
            })
            .collect(),
        other => vec![LineProblem {
            line,
            field: "line".into(),
            problem: other.to_string(),
        }],
    }
}

/// Imports a JSON Lines file of events.
pub fn import_events(
    recorder: &Recorder<'_>,
    reader: impl BufRead,
    now: DateTime<Utc>,
    ids: &mut dyn IdSource,
    skip_bad_lines: bool,
) -> Result<EventsReport, EventsImportError> {
    let mut report = EventsReport::default();
    let mut problems = Vec::new();
    let mut decided: Vec<NewEvent> = Vec::new();
    // Events decided so far, per person record, so later lines see earlier ones.
    let mut overlay: HashMap<PersonId, Vec<RecordedEvent>> = HashMap::new();
    let mut next_seq = i64::MAX / 2;
    for (index, text) in reader.lines().enumerate() {
        let number = index + 1;
        let text = text?;
        if text.trim().is_empty() {
            continue;
        }
        report.lines += 1;
        let line: Line = match serde_json::from_str(&text) {
            Ok(l) => l,
            Err(e) => {
                problems.push(LineProblem {
                    line: number,
                    field: "line".into(),
                    problem: e.to_string(),
                });
                continue;
            }
        };
        let kind = match EventKind::from_parts(&line.event_type, &line.payload.to_string()) {
            Ok(k) => k,
            Err(e) => {
                problems.push(LineProblem {
                    line: number,
                    field: "payload".into(),
                    problem: e.to_string(),
                });
                continue;
            }
        };
        let (establishment, by) = match (
            EstablishmentCode::parse(&line.establishment),
            StaffUsername::parse(&line.recorded_by),
        ) {
            (Ok(e), Ok(b)) => (e, b),
            (Err(e), _) => {
                problems.push(LineProblem {
                    line: number,
                    field: "establishment".into(),
                    problem: e.to_string(),
                });
                continue;
            }
            (_, Err(e)) => {
                problems.push(LineProblem {
                    line: number,
                    field: "recorded_by".into(),
                    problem: e.to_string(),
                });
                continue;
            }
        };
        let canonical = recorder
            .store
            .canonical_person(line.person)?
            .unwrap_or(line.person);
        let mut events = recorder.store.person_events(canonical)?;
        events.extend(overlay.get(&canonical).cloned().unwrap_or_default());
        let case = Case::fold(canonical, events);
        let ctx = Context {
            profile: recorder.profile,
            calendar: recorder.calendar,
            recorded_by: by,
            actor: throughcare_domain::access::Actor::System,
            establishment,
            now,
            trainees: &[],
        };
        let command = Command::Record {
            occurred_at: line.occurred_at,
            recorded_at: line.recorded_at,
            kind,
        };
        match decide(&case, command, &ctx, ids) {
            Ok(new) => {
                for n in &new {
                    next_seq += 1;
                    overlay
                        .entry(canonical)
                        .or_default()
                        .push(provisional(n, next_seq, now));
                }
                decided.extend(new);
            }
            Err(e) => problems.extend(problems_of(number, e)),
        }
    }
    if !problems.is_empty() && !skip_bad_lines {
        return Err(EventsImportError::Rejected(problems));
    }
    report.skipped = problems;
    if !decided.is_empty() {
        report.appended = recorder.store.append(&decided, None, None)?.len();
    }
    Ok(report)
}

fn provisional(n: &NewEvent, seq: i64, now: DateTime<Utc>) -> RecordedEvent {
    RecordedEvent {
        seq,
        id: n.id,
        person: n.person,
        establishment: n.establishment.clone(),
        occurred_at: n.occurred_at,
        recorded_at: n.recorded_at.unwrap_or(now),
        appended_at: now,
        recorded_by: n.recorded_by.clone(),
        supersedes: n.supersedes,
        reason: n.reason.clone(),
        kind: n.kind.clone(),
        prev_hash: String::new(),
        hash: String::new(),
    }
}
