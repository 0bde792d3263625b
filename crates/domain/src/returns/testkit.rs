//! Helpers for the return tests: build the log by hand with [`crate::testkit::Log`],
//! then read a line's value for a row.

use crate::custody::{Release, ReleaseKind, Transfer};
use crate::decide::Command;
use crate::events::EventKind;
use crate::record_ids::{EventId, PersonId};
use crate::returns::figure::{RowKey, Value};
use crate::returns::period::Period;
use crate::returns::{Return, ReturnKind};
use crate::testkit::{Log, at, code, midday};
use chrono::{DateTime, Utc};

/// The quarter or half-year called `name`.
pub fn period(name: &str) -> Period {
    Period::parse(name).unwrap()
}

/// The KM quarterly return over the log as at `as_at` (an RFC 3339 instant).
pub fn km(log: &Log, quarter: &str, as_at: &str) -> Return {
    Return::compute(
        ReturnKind::KmQuarterly,
        &log.profile,
        &log.events,
        at(as_at),
        &period(quarter),
    )
}

/// The row of one establishment.
pub fn row(code: &str) -> RowKey {
    RowKey::Establishment(crate::testkit::code(code))
}

/// The value of line `code` in `row`.
pub fn value(r: &Return, code: &str, row: &RowKey) -> Value {
    r.figure(code)
        .unwrap_or_else(|| panic!("no line {code}"))
        .line(row)
        .value
}

/// A count's value (panics on any other kind of value).
pub fn count(r: &Return, code: &str, row: &RowKey) -> i64 {
    match value(r, code, row) {
        Value::Count(n) => n,
        other => panic!("{code} is not a count: {other:?}"),
    }
}

/// Records `kind` for `p` as having happened at `when`.
pub fn record_at(log: &mut Log, p: PersonId, when: DateTime<Utc>, kind: EventKind) -> Vec<EventId> {
    log.try_command(
        p,
        Command::Record {
            occurred_at: Some(when),
            recorded_at: None,
            kind,
        },
    )
    .unwrap()
}

/// Transfers the person from `from` to `to` at midday on `on`; the log then records
/// at `to`.
pub fn transfer(log: &mut Log, p: PersonId, from: &str, to: &str, on: &str) {
    log.establishment = code(to);
    record_at(
        log,
        p,
        midday(on),
        EventKind::Transferred(Transfer {
            from: code(from),
            to: code(to),
            source_ref: None,
            break_glass: None,
        }),
    );
}

/// The person leaves the log's establishment at midday on `on`.
pub fn leave(log: &mut Log, p: PersonId, on: &str, kind: ReleaseKind) -> EventId {
    record_at(
        log,
        p,
        midday(on),
        EventKind::Released(Release {
            kind,
            source_ref: None,
        }),
    )[0]
}
