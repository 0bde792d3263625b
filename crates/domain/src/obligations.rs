//! The service's own obligations and when they fall due (KM 4.23–4.24, 6.4–6.5;
//! S4 §5–6, §8–10): the quarterly return, NDTMS submissions, the six-monthly report,
//! the annual survey, equality impact assessment, access audit, review and report,
//! the quarterly strategy meetings. The schedule is data in the profile
//! ([`ObligationSchedule`]); [`obligations_due`] lists each period's obligation
//! with its due date, done or not, for the manager's dashboard.
//!
//! An obligation is done by an `obligation_completed` event for its period, or — for
//! one the profile says a meeting meets (`met_by`, e.g. the S4 §8 strategy meeting)
//! — by a meeting of that kind held within the period, or — for one a return meets
//! (`met_by_return`) — by that return's sign-off (`return_submitted`) for the period.

use crate::calendar::Calendar;
use crate::error::DomainError;
use crate::events::EventKind;
use crate::governance::ServiceRecord;
use crate::labelled_enum;
use crate::profile::Profile;
use crate::returns::period::Period;
use crate::service_records::MeetingKind;
use chrono::{Datelike, Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};

/// The most periods of one obligation listed (a guard against a schedule that
/// starts centuries ago).
const MAX_PERIODS: usize = 1200;

labelled_enum! {
    /// How often an obligation recurs. Periods are whole months counted from the
    /// schedule's `year_starts_month`.
    pub enum Recurrence {
        /// Every month.
        Monthly = ("monthly", "Monthly"),
        /// Every three months.
        Quarterly = ("quarterly", "Quarterly"),
        /// Every six months.
        SixMonthly = ("six_monthly", "Six-monthly"),
        /// Every year.
        Annual = ("annual", "Annual"),
    }
}

impl Recurrence {
    /// The period's length in months.
    pub fn months(self) -> u32 {
        match self {
            Recurrence::Monthly => 1,
            Recurrence::Quarterly => 3,
            Recurrence::SixMonthly => 6,
            Recurrence::Annual => 12,
        }
    }
}

/// When a period's obligation is due, counted from the period's last day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DueRule {
    /// By the period's last day (a meeting to hold, an assessment to complete).
    ByPeriodEnd,
    /// This many working days (the profile's calendar) after the period's last day.
    WorkingDaysAfterEnd(u32),
    /// This many calendar days after the period's last day.
    DaysAfterEnd(u32),
}

/// One obligation of the schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObligationDef {
    /// A short machine name, used by `obligation_completed` (`km-quarterly-return`).
    pub id: String,
    /// What is owed, in words.
    pub title: String,
    /// The paragraph of the specification that asks for it.
    pub spec: String,
    /// How often.
    pub every: Recurrence,
    /// When each period's is due.
    pub due: DueRule,
    /// A meeting of this kind held within the period meets the obligation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub met_by: Option<MeetingKind>,
    /// A return of the profile's `returns` (its id) whose sign-off for the same
    /// period meets the obligation; its due rule is then the return's due date
    /// (docs/submissions.md) — the one place a return's deadline is kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub met_by_return: Option<String>,
}

/// The profile's schedule of obligations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObligationSchedule {
    /// The first day anything is owed (the contract's start); the period holding it
    /// is the first. Required when there are items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_on: Option<NaiveDate>,
    /// The month (1–12) the commissioner's year starts: quarters, half-years and
    /// years are counted from it (4: April, the financial year).
    #[serde(default = "default_year_starts_month")]
    pub year_starts_month: u32,
    /// The obligations.
    #[serde(default)]
    pub items: Vec<ObligationDef>,
}

fn default_year_starts_month() -> u32 {
    4
}

impl Default for ObligationSchedule {
    fn default() -> Self {
        ObligationSchedule {
            starts_on: None,
            year_starts_month: default_year_starts_month(),
            items: Vec::new(),
        }
    }
}

impl ObligationSchedule {
    /// Why the schedule cannot be used, if it cannot.
    pub fn problem(&self) -> Option<String> {
        if !(1..=12).contains(&self.year_starts_month) {
            return Some("obligations.year_starts_month must be 1 to 12".into());
        }
        if !self.items.is_empty() && self.starts_on.is_none() {
            return Some("obligations.starts_on is needed when there are obligations".into());
        }
        let mut ids: Vec<&str> = self.items.iter().map(|i| i.id.as_str()).collect();
        if ids.iter().any(|id| id.trim().is_empty()) {
            return Some("every obligation needs an id".into());
        }
        ids.sort_unstable();
        if ids.windows(2).any(|w| w[0] == w[1]) {
            return Some("two obligations share an id".into());
        }
        None
    }

    /// The obligation with this id.
    pub fn get(&self, id: &str) -> Option<&ObligationDef> {
        self.items.iter().find(|i| i.id == id)
    }

    /// The first day of the `every` period holding `date`.
    pub fn period_start(&self, every: Recurrence, date: NaiveDate) -> Option<NaiveDate> {
        let n = i64::from(every.months());
        let offset = i64::from(self.year_starts_month.clamp(1, 12) - 1);
        let index = i64::from(date.year()) * 12 + i64::from(date.month0()) - offset;
        let start = index - index.rem_euclid(n) + offset;
        NaiveDate::from_ymd_opt(
            i32::try_from(start.div_euclid(12)).ok()?,
            u32::try_from(start.rem_euclid(12) + 1).ok()?,
            1,
        )
    }
}

/// The last day of the `every` period starting on `start`.
pub fn period_end(every: Recurrence, start: NaiveDate) -> Option<NaiveDate> {
    start
        .checked_add_months(Months::new(every.months()))?
        .pred_opt()
}

/// When the obligation for the period ending on `end` is due.
pub fn due_on(rule: DueRule, end: NaiveDate, calendar: &Calendar) -> NaiveDate {
    match rule {
        DueRule::ByPeriodEnd => end,
        DueRule::WorkingDaysAfterEnd(n) => calendar.add_working_days(end, n),
        DueRule::DaysAfterEnd(n) => end
            .checked_add_days(Days::new(u64::from(n)))
            .unwrap_or(NaiveDate::MAX),
    }
}

/// Words for a period: "November 2026", "Oct–Dec 2026", "Apr 2026–Mar 2027".
pub fn period_label(start: NaiveDate, end: NaiveDate) -> String {
    if start.year() == end.year() && start.month() == end.month() {
        start.format("%B %Y").to_string()
    } else if start.year() == end.year() {
        format!("{}–{}", start.format("%b"), end.format("%b %Y"))
    } else {
        format!("{}–{}", start.format("%b %Y"), end.format("%b %Y"))
    }
}

/// An obligation marked done for one period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObligationCompleted {
    /// The obligation's id in the profile's schedule.
    pub obligation: String,
    /// The first day of the period it is for.
    pub period: NaiveDate,
    /// When it was done (submitted, held, completed). `occurred_at` falls on this date.
    pub done_on: NaiveDate,
    /// Any note (where it was sent, a reference).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Where a period's obligation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObligationStatus {
    /// Not done, and its due date has not passed.
    Due,
    /// Not done by the end of its due date.
    Overdue,
    /// Done.
    Done,
}

/// One period's obligation, as [`obligations_due`] lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObligationDue {
    /// The obligation's id.
    pub obligation: String,
    /// What is owed.
    pub title: String,
    /// Its specification paragraph.
    pub spec: String,
    /// The period's first day.
    pub period: NaiveDate,
    /// The period's last day.
    pub period_end: NaiveDate,
    /// The period in words.
    pub period_label: String,
    /// When it is due.
    pub due_on: NaiveDate,
    /// Due, overdue or done.
    pub status: ObligationStatus,
    /// When it was done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub done_on: Option<NaiveDate>,
}

/// Every period's obligation from the schedule's start up to the period holding
/// `today`: its due date, and whether it is done (by an `obligation_completed`
/// event, or a meeting of its `met_by` kind within the period), due, or overdue (not
/// done by the end of its due date). Overdue first, then by due date.
pub fn obligations_due(
    profile: &Profile,
    record: &ServiceRecord,
    today: NaiveDate,
) -> Vec<ObligationDue> {
    let schedule = &profile.obligations;
    let Some(first_day) = schedule.starts_on else {
        return Vec::new();
    };
    let calendar = profile.calendar();
    let mut out = Vec::new();
    for def in &schedule.items {
        let Some(mut start) = schedule.period_start(def.every, first_day) else {
            continue;
        };
        for _ in 0..MAX_PERIODS {
            if start > today {
                break;
            }
            let Some(end) = period_end(def.every, start) else {
                break;
            };
            let due = due_on(def.due, end, &calendar);
            let marked = record
                .registers
                .obligations_done
                .get(&(def.id.clone(), start))
                .map(|(_, c)| c.done_on);
            let met = def.met_by.and_then(|kind| {
                record
                    .registers
                    .meetings
                    .iter()
                    .map(|(_, _, m)| m)
                    .filter(|m| m.kind == kind && start <= m.held_on && m.held_on <= end)
                    .map(|m| m.held_on)
                    .min()
            });
            let submitted = def.met_by_return.as_deref().and_then(|id| {
                record
                    .submissions
                    .iter()
                    .map(|s| &s.fact)
                    .filter(|s| s.submitted_return.code() == id)
                    .filter(|s| {
                        Period::parse(&s.period).is_ok_and(|p| p.first == start && p.last == end)
                    })
                    .map(|s| s.submitted_on)
                    .min()
            });
            let done_on = [marked, met, submitted].into_iter().flatten().min();
            let status = match done_on {
                Some(_) => ObligationStatus::Done,
                None if due < today => ObligationStatus::Overdue,
                None => ObligationStatus::Due,
            };
            out.push(ObligationDue {
                obligation: def.id.clone(),
                title: def.title.clone(),
                spec: def.spec.clone(),
                period: start,
                period_end: end,
                period_label: period_label(start, end),
                due_on: due,
                status,
                done_on,
            });
            let Some(next) = end.succ_opt() else {
                break;
            };
            start = next;
        }
    }
    out.sort_by(|a, b| {
        (
            a.status != ObligationStatus::Overdue,
            a.due_on,
            &a.obligation,
        )
            .cmp(&(
                b.status != ObligationStatus::Overdue,
                b.due_on,
                &b.obligation,
            ))
    });
    out
}

/// Checks an `obligation_completed` against the profile's schedule: the obligation
/// is in it, the period is given by its first day, and it is not before the schedule
/// starts. Other kinds pass.
pub fn check_against_profile(profile: &Profile, kind: &EventKind) -> Result<(), DomainError> {
    let EventKind::ObligationCompleted(c) = kind else {
        return Ok(());
    };
    let schedule = &profile.obligations;
    let Some(def) = schedule.get(&c.obligation) else {
        return Err(DomainError::invalid(
            "obligation",
            format!(
                "There is no obligation called \"{}\" in this profile's schedule",
                c.obligation
            ),
        ));
    };
    match schedule.period_start(def.every, c.period) {
        Some(start) if start == c.period => {}
        Some(start) => {
            return Err(DomainError::invalid(
                "period",
                format!(
                    "Give the period by its first day: {start} for the {} period holding {}",
                    def.every.label().to_lowercase(),
                    c.period
                ),
            ));
        }
        None => return Err(DomainError::invalid("period", "Enter a real period")),
    }
    if let Some(first_day) = schedule.starts_on
        && period_end(def.every, c.period).is_some_and(|end| end < first_day)
    {
        return Err(DomainError::invalid(
            "period",
            format!("Nothing is owed before the schedule starts on {first_day}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service_records::MeetingAttended;
    use crate::service_records::tests::run_with;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn done(obligation: &str, period: &str, on: &str) -> EventKind {
        EventKind::ObligationCompleted(ObligationCompleted {
            obligation: obligation.into(),
            period: d(period),
            done_on: d(on),
            note: None,
        })
    }

    fn only<'a>(all: &'a [ObligationDue], id: &str) -> Vec<&'a ObligationDue> {
        all.iter().filter(|o| o.obligation == id).collect()
    }

    #[test]
    fn periods_count_from_the_commissioners_year() {
        let april = ObligationSchedule::default();
        assert_eq!(
            april.period_start(Recurrence::Quarterly, d("2026-11-23")),
            Some(d("2026-10-01"))
        );
        assert_eq!(
            april.period_start(Recurrence::Annual, d("2027-02-10")),
            Some(d("2026-04-01"))
        );
        assert_eq!(
            april.period_start(Recurrence::SixMonthly, d("2026-03-31")),
            Some(d("2025-10-01"))
        );
        let january = ObligationSchedule {
            year_starts_month: 1,
            ..ObligationSchedule::default()
        };
        assert_eq!(
            january.period_start(Recurrence::SixMonthly, d("2026-11-23")),
            Some(d("2026-07-01"))
        );
        assert_eq!(
            period_end(Recurrence::Quarterly, d("2026-01-01")),
            Some(d("2026-03-31"))
        );
        assert_eq!(
            period_label(d("2026-10-01"), d("2026-12-31")),
            "Oct–Dec 2026"
        );
        assert_eq!(
            period_label(d("2026-04-01"), d("2027-03-31")),
            "Apr 2026–Mar 2027"
        );
        assert_eq!(
            period_label(d("2026-11-01"), d("2026-11-30")),
            "November 2026"
        );
    }

    #[test]
    fn the_quarterly_return_is_due_ten_working_days_after_the_quarter_and_overdue_until_done() {
        let profile = Profile::builtin("kent-medway").unwrap();
        let now = "2026-10-20T10:00:00Z";
        // July–September 2026 ends on Wednesday 30 September. Ten working days after:
        // 1–2 October (2), 5–9 October (7), 12–14 October (10): Wednesday 14 October.
        // October–December ends on Thursday 31 December; 1 January is New Year's Day:
        // 4–8 January (5), 11–15 January (10): Friday 15 January 2027.
        let r = run_with(&profile, now, vec![]).unwrap();
        let all = obligations_due(&profile, &r, d("2026-10-20"));
        let quarters = only(&all, "km-quarterly-return");
        let due: Vec<(NaiveDate, NaiveDate, ObligationStatus)> = quarters
            .iter()
            .map(|o| (o.period, o.due_on, o.status))
            .collect();
        assert_eq!(
            due,
            [
                // April–June: due Tuesday 14 July.
                (d("2026-04-01"), d("2026-07-14"), ObligationStatus::Overdue),
                (d("2026-07-01"), d("2026-10-14"), ObligationStatus::Overdue),
                (d("2026-10-01"), d("2027-01-15"), ObligationStatus::Due),
            ]
        );
        // Due on its day is not yet overdue.
        let on_the_day = obligations_due(&profile, &r, d("2026-10-14"));
        assert_eq!(
            only(&on_the_day, "km-quarterly-return")[1].status,
            ObligationStatus::Due
        );
        // Marked done, it stays done.
        let r = run_with(
            &profile,
            now,
            vec![done("km-quarterly-return", "2026-07-01", "2026-10-16")],
        )
        .unwrap();
        let all = obligations_due(&profile, &r, d("2026-10-20"));
        let q2 = only(&all, "km-quarterly-return")
            .into_iter()
            .find(|o| o.period == d("2026-07-01"))
            .unwrap();
        assert_eq!(q2.status, ObligationStatus::Done);
        assert_eq!(q2.done_on, Some(d("2026-10-16")));
        assert_eq!(all[0].status, ObligationStatus::Overdue, "overdue first");
    }

    #[test]
    fn a_strategy_meeting_in_the_quarter_meets_the_s4_obligation() {
        let profile = Profile::builtin("single-prison").unwrap();
        let meeting = |on: &str| {
            EventKind::MeetingAttended(MeetingAttended {
                kind: MeetingKind::SubstanceUseStrategy,
                held_on: d(on),
                title: None,
                attended_by: vec!["Service manager".into()],
                notes: None,
            })
        };
        let r = run_with(
            &profile,
            "2026-11-20T10:00:00Z",
            vec![meeting("2026-02-12"), meeting("2026-07-09")],
        )
        .unwrap();
        let all = obligations_due(&profile, &r, d("2026-11-20"));
        let quarters: Vec<(NaiveDate, ObligationStatus)> = only(&all, "s4-strategy-meeting")
            .iter()
            .map(|o| (o.period, o.status))
            .collect();
        // Calendar quarters (the S4 year starts in January); due by the quarter's end.
        assert_eq!(
            quarters,
            [
                (d("2026-04-01"), ObligationStatus::Overdue),
                (d("2026-01-01"), ObligationStatus::Done),
                (d("2026-07-01"), ObligationStatus::Done),
                (d("2026-10-01"), ObligationStatus::Due),
            ]
        );
    }

    #[test]
    fn a_return_signed_off_for_the_quarter_meets_the_return_obligation() {
        use crate::submissions::{FileFormat, ReturnSubmitted, SubmittedReturn};
        let profile = Profile::builtin("kent-medway").unwrap();
        let signed = |period: &str, as_at: &str, on: &str| {
            EventKind::ReturnSubmitted(ReturnSubmitted {
                submitted_return: SubmittedReturn::KmQuarterly,
                period: period.into(),
                as_at: as_at.parse().unwrap(),
                scope: None,
                format: FileFormat::Csv,
                sha256: "0".repeat(64),
                submitted_on: d(on),
            })
        };
        // July–September signed off on 13 October (due 14 October); April–June not
        // signed off, only a sign-off of July–September again, which must not count
        // for it.
        let r = run_with(
            &profile,
            "2026-10-20T10:00:00Z",
            vec![
                signed("2026Q3", "2026-10-12T09:00:00Z", "2026-10-13"),
                signed("2026Q3", "2026-10-15T09:00:00Z", "2026-10-15"),
            ],
        )
        .unwrap();
        let all = obligations_due(&profile, &r, d("2026-10-20"));
        let quarters: Vec<(NaiveDate, ObligationStatus, Option<NaiveDate>)> =
            only(&all, "km-quarterly-return")
                .iter()
                .map(|o| (o.period, o.status, o.done_on))
                .collect();
        assert_eq!(
            quarters,
            [
                (d("2026-04-01"), ObligationStatus::Overdue, None),
                (
                    d("2026-07-01"),
                    ObligationStatus::Done,
                    Some(d("2026-10-13"))
                ),
                (d("2026-10-01"), ObligationStatus::Due, None),
            ]
        );
    }

    #[test]
    fn an_obligation_met_by_a_return_the_profile_does_not_owe_is_refused() {
        let mut json: serde_json::Value =
            serde_json::from_str(include_str!("../profiles/kent-medway.json")).unwrap();
        json["obligations"]["items"][0]["met_by_return"] = "s4-six-monthly".into();
        let err = Profile::from_json(&json.to_string()).unwrap_err();
        assert!(err.to_string().contains("s4-six-monthly"), "{err}");
        json["obligations"]["items"][0]["met_by_return"] = "annual".into();
        let err = Profile::from_json(&json.to_string()).unwrap_err();
        assert!(err.to_string().contains("every 3 months"), "{err}");
    }

    #[test]
    fn a_completion_must_name_an_obligation_and_a_period_by_its_first_day() {
        let profile = Profile::builtin("kent-medway").unwrap();
        let now = "2026-11-20T10:00:00Z";
        let e = run_with(
            &profile,
            now,
            vec![done("tea-rota", "2026-07-01", "2026-10-16")],
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("obligation:"), "{e}");
        let e = run_with(
            &profile,
            now,
            vec![done("km-quarterly-return", "2026-08-01", "2026-10-16")],
        )
        .unwrap_err();
        assert!(e.to_string().contains("2026-07-01"), "{e}");
        let e = run_with(
            &profile,
            now,
            vec![done("km-quarterly-return", "2025-07-01", "2025-10-16")],
        )
        .unwrap_err();
        assert!(e.to_string().contains("schedule starts"), "{e}");
        let e = run_with(
            &profile,
            now,
            vec![done("km-quarterly-return", "2026-10-01", "2026-09-30")],
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("done_on:"), "{e}");
    }

    #[test]
    fn the_built_in_schedules_hold_every_obligation_the_specs_name() {
        let km = Profile::builtin("kent-medway").unwrap();
        for id in [
            "km-quarterly-return",
            "ndtms-monthly",
            "km-equality-impact-assessment",
            "km-access-audit",
        ] {
            assert!(km.obligations.get(id).is_some(), "{id}");
        }
        let s4 = Profile::builtin("single-prison").unwrap();
        for id in [
            "s4-six-monthly-report",
            "s4-satisfaction-survey",
            "s4-strategy-meeting",
            "s4-annual-review",
            "s4-annual-report",
        ] {
            assert!(s4.obligations.get(id).is_some(), "{id}");
        }
        let mut broken = km.obligations.clone();
        broken.items.push(broken.items[0].clone());
        assert_eq!(
            broken.problem().as_deref(),
            Some("two obligations share an id")
        );
    }
}
