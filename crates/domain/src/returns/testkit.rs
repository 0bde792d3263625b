//! Helpers for the return tests: build the log by hand with [`crate::testkit::Log`],
//! then read a line's value for a row.

use crate::returns::figure::{RowKey, Value};
use crate::returns::period::Period;
use crate::returns::{Return, ReturnKind};
use crate::testkit::{Log, at};

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
