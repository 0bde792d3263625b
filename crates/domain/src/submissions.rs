//! Submissions of returns (KM 6.4–6.5; S4 §5): the profile gives each return's due
//! date, and a sign-off records who submitted which return, for which period, as at
//! what instant, in which format, with the SHA-256 of the file — so the exact file
//! can be produced again from the log and checked against the hash
//! (docs/submissions.md). A fact about the service: no person.

use crate::error::{DomainError, Problems};
use crate::identifiers::{EstablishmentCode, StaffUsername};
use crate::labelled_enum;
use crate::profile::{Profile, ReturnDue};
use crate::record_ids::EventId;
use crate::returns::ReturnKind;
use crate::returns::period::Period;
use crate::surveys::is_code_hash;
use crate::time::local_date;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

labelled_enum! {
    /// The returns the product can produce, and so sign off.
    pub enum SubmittedReturn {
        /// The KM quarterly return to the commissioner (KM 6.4–6.7).
        KmQuarterly = ("km-quarterly", "KM quarterly return (KM 6.4–6.7)"),
        /// The S4 six-monthly anonymised report (S4 §5).
        S4SixMonthly = ("s4-six-monthly", "Six-monthly report (S4 §5)"),
        /// The annual report (S4 §10; KM 4.24).
        Annual = ("annual", "Annual report (S4 §10; KM 4.24)"),
    }
}

impl SubmittedReturn {
    /// The return engine's kind.
    pub fn kind(self) -> ReturnKind {
        match self {
            SubmittedReturn::KmQuarterly => ReturnKind::KmQuarterly,
            SubmittedReturn::S4SixMonthly => ReturnKind::S4SixMonthly,
            SubmittedReturn::Annual => ReturnKind::Annual,
        }
    }
}

labelled_enum! {
    /// The file format of a submitted return.
    pub enum FileFormat {
        /// The summary sheet as CSV.
        Csv = ("csv", "CSV"),
        /// Every sheet as an XLSX workbook.
        Xlsx = ("xlsx", "XLSX (Excel)"),
    }
}

/// A return signed off as submitted (KM 6.4–6.5; S4 §5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnSubmitted {
    /// Which return.
    #[serde(rename = "return")]
    pub submitted_return: SubmittedReturn,
    /// The period's name (`2026Q3`, `2026H1`; `2025` or `2025-26` for the annual report).
    pub period: String,
    /// The as-at instant the file was produced for: only events appended by then count.
    pub as_at: DateTime<Utc>,
    /// One establishment's rows only; absent for the whole return.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<EstablishmentCode>,
    /// The file's format.
    pub format: FileFormat,
    /// The SHA-256 of the file's bytes, lower-case hex.
    pub sha256: String,
    /// The day it was sent to the commissioner.
    pub submitted_on: NaiveDate,
}

/// A submission as the service record holds it: the fact, who recorded it and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// The event that records it.
    pub id: EventId,
    /// Where it was recorded.
    pub establishment: EstablishmentCode,
    /// Who signed it off.
    pub recorded_by: StaffUsername,
    /// When the sign-off entered the record.
    pub recorded_at: DateTime<Utc>,
    /// The sign-off.
    pub fact: ReturnSubmitted,
}

/// Checks a sign-off against the profile and the instant `now`: the profile owes the
/// return; the period is one of the return's (a quarter or a half-year), written as
/// its name, and over by the as-at instant; the as-at instant is not in the future;
/// the hash is 64 lower-case hex digits; the scope is an establishment of the
/// profile; the day of submission is neither in the future nor before the as-at day.
pub fn validate(
    s: &ReturnSubmitted,
    profile: &Profile,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    let mut p = Problems::new();
    let code = s.submitted_return.code();
    if !profile.returns.iter().any(|r| r.id == code) {
        p.add(
            "return",
            format!("This service's profile owes no {code} return"),
        );
    }
    match s
        .submitted_return
        .kind()
        .parse_period(&s.period, profile.obligations.year_starts_month)
    {
        Err(e) => p.add("period", e),
        Ok(period) if period.name != s.period => {
            p.add("period", format!("Write the period as {}", period.name));
        }
        Ok(period) if local_date(s.as_at) <= period.last => p.add(
            "as_at",
            format!(
                "The period {} ends on {}: a return is signed off as at a time after it ends",
                period.name, period.last
            ),
        ),
        Ok(_) => {}
    }
    p.check(
        s.as_at > now,
        "as_at",
        "The as-at instant must not be in the future",
    );
    p.check(
        !is_code_hash(&s.sha256),
        "sha256",
        "The file's hash must be a SHA-256: 64 lower-case hexadecimal digits",
    );
    if let Some(e) = &s.scope
        && profile.establishment(e).is_none()
    {
        p.add(
            "scope",
            format!("{e} is not an establishment of this service"),
        );
    }
    p.check(
        s.submitted_on > local_date(now),
        "submitted_on",
        "The date submitted must be today or in the past",
    );
    p.check(
        s.submitted_on < local_date(s.as_at),
        "submitted_on",
        "A return cannot be submitted before its as-at date",
    );
    p.into_result()
}

/// The day a return for `period` is due: by the due rule of the profile's obligation
/// that the return meets (`met_by_return`), counted from the period's last day on the
/// profile's calendar; none when no obligation names the return (the profile sets no
/// deadline for it).
pub fn due_on(profile: &Profile, r: &ReturnDue, period: &Period) -> Option<NaiveDate> {
    let def = profile
        .obligations
        .items
        .iter()
        .find(|o| o.met_by_return.as_deref() == Some(r.id.as_str()))?;
    Some(crate::obligations::due_on(
        def.due,
        period.last,
        &profile.calendar(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::EventKind;
    use crate::testkit::*;

    fn signed(period: &str, as_at: &str, hash: &str) -> ReturnSubmitted {
        ReturnSubmitted {
            submitted_return: SubmittedReturn::KmQuarterly,
            period: period.into(),
            as_at: at(as_at),
            scope: None,
            format: FileFormat::Csv,
            sha256: hash.into(),
            submitted_on: d("2026-10-06"),
        }
    }

    const HASH: &str = "3f1c9a6f0d2b4e8a7c5b1d9e0f2a4c6e8b0d2f4a6c8e0b2d4f6a8c0e2b4d6f8a";

    #[test]
    fn a_valid_sign_off_is_recorded_and_folded() {
        let r = service_record(vec![EventKind::ReturnSubmitted(signed(
            "2026Q3",
            "2026-10-05T09:00:00Z",
            HASH,
        ))])
        .unwrap();
        assert_eq!(r.submissions.len(), 1);
        assert_eq!(r.submissions[0].fact.sha256, HASH);
        assert_eq!(r.submissions[0].recorded_by.as_str(), "manager.one");
    }

    #[test]
    fn each_bad_field_is_named() {
        let fields = |s: ReturnSubmitted| {
            problem_fields(service_record(vec![EventKind::ReturnSubmitted(s)]).unwrap_err())
        };
        assert_eq!(
            fields(signed("2026Q5", "2026-10-05T09:00:00Z", HASH)),
            ["period"]
        );
        assert_eq!(
            fields(signed("2026H1", "2026-10-05T09:00:00Z", HASH)),
            ["period"]
        );
        assert_eq!(
            fields(signed("2026q3", "2026-10-05T09:00:00Z", HASH)),
            ["period"]
        );
        assert_eq!(
            fields(signed("2026Q3", "2026-10-05T09:00:00Z", "ABC")),
            ["sha256"]
        );
        assert_eq!(
            fields(signed(
                "2026Q3",
                "2026-10-05T09:00:00Z",
                &HASH.to_uppercase()
            )),
            ["sha256"]
        );
        // The test clock is 20 November 2026, 10:00.
        let mut future = signed("2026Q3", "2026-11-20T10:00:01Z", HASH);
        future.submitted_on = d("2026-11-20");
        assert_eq!(fields(future), ["as_at"]);
        assert_eq!(
            fields(signed("2026Q3", "2026-09-30T09:00:00Z", HASH)),
            ["as_at"],
            "as at a time inside the period"
        );
        let mut early = signed("2026Q3", "2026-10-05T09:00:00Z", HASH);
        early.submitted_on = d("2026-10-04");
        assert_eq!(fields(early), ["submitted_on"]);
        let mut elsewhere = signed("2026Q3", "2026-10-05T09:00:00Z", HASH);
        elsewhere.scope = Some(code("ZZZ"));
        assert_eq!(fields(elsewhere), ["scope"]);
        let mut s4 = signed("2026H1", "2026-10-05T09:00:00Z", HASH);
        s4.submitted_return = SubmittedReturn::S4SixMonthly;
        assert_eq!(fields(s4), ["return"], "kent-medway owes no S4 return");
        // The annual report covers the profile's service year: April to March here.
        let annual = |period: &str, as_at: &str| {
            let mut s = signed(period, as_at, HASH);
            s.submitted_return = SubmittedReturn::Annual;
            service_record(vec![EventKind::ReturnSubmitted(s)])
        };
        assert!(annual("2025-26", "2026-04-05T09:00:00Z").is_ok());
        assert_eq!(
            problem_fields(annual("2025", "2026-04-05T09:00:00Z").unwrap_err()),
            ["period"],
            "a KM service year is written 2025-26"
        );
        assert_eq!(
            problem_fields(annual("2026Q1", "2026-04-05T09:00:00Z").unwrap_err()),
            ["period"]
        );
        assert_eq!(
            problem_fields(annual("2025-26", "2026-03-31T09:00:00Z").unwrap_err()),
            ["as_at"],
            "not before the year is over"
        );
    }

    #[test]
    fn a_returns_due_day_comes_from_the_obligation_it_meets() {
        let p = Profile::builtin("kent-medway").unwrap();
        let km = p.returns.iter().find(|r| r.id == "km-quarterly").unwrap();
        let q = ReturnKind::KmQuarterly.last_complete(d("2026-11-20"), 4);
        assert_eq!(q.name, "2026Q3");
        // The obligation km-quarterly-return: 10 working days after Wednesday 30
        // September 2026 (1, 2, 5, 6, 7, 8, 9, 12, 13, 14 October): Wednesday 14 October.
        assert_eq!(due_on(&p, km, &q), Some(d("2026-10-14")));
        // The annual report is met by no return sign-off: no deadline from here.
        let annual = p.returns.iter().find(|r| r.id == "annual").unwrap();
        assert_eq!(due_on(&p, annual, &Period::year(2026).unwrap()), None);
    }
}
