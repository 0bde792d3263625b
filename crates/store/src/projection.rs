//! Projections computed from a folded case, written in the append transaction.

use crate::model::CaseRow;
use chrono::{DateTime, Utc};
use throughcare_domain::calendar::Calendar;
use throughcare_domain::case::Case;
use throughcare_domain::clocks::next_assessment_due;
use throughcare_domain::custody::{CustodyStatus, ReleaseKind};
use throughcare_domain::profile::Profile;
use throughcare_domain::time::{canonical_instant, local_date, parse_instant};
use throughcare_domain::work_queues::{
    QueueKind, WorkItem, in_horizon, is_overdue, queue_segments,
};

/// The case index row of a case, if the person is registered.
pub fn case_row(case: &Case, calendar: &Calendar, working_days: Option<u32>) -> Option<CaseRow> {
    let d = case.details.as_ref()?;
    let establishment = case.establishment()?.to_string();
    let (custody, in_custody) = match &case.custody {
        CustodyStatus::NotYetReceived => ("Not yet received".to_string(), false),
        CustodyStatus::InCustody { reception_type, .. } => (
            match &case.transferred_in {
                Some((from, on)) => format!(
                    "In custody ({}); transferred in from {from} on {}{}",
                    reception_type.label().to_lowercase(),
                    on.format("%-d %B %Y"),
                    if case.transferred_by_break_glass.is_some() {
                        " by break-glass (to review)"
                    } else {
                        ""
                    }
                ),
                None => format!("In custody ({})", reception_type.label().to_lowercase()),
            },
            true,
        ),
        CustodyStatus::Left { kind, on, .. } => (
            format!(
                "{} {}",
                match kind {
                    ReleaseKind::Released => "Released",
                    ReleaseKind::Deported => "Deported",
                },
                on.format("%-d %B %Y")
            ),
            false,
        ),
    };
    // Issue 14: the holding establishment sees that another has asked for the record.
    let asked: Vec<String> = case
        .transfer_requests
        .iter()
        .filter(|r| r.is_open())
        .map(|r| r.to.to_string())
        .collect();
    let custody = if asked.is_empty() || !in_custody {
        custody
    } else {
        format!("{custody}; transfer requested by {}", asked.join(", "))
    };
    Some(CaseRow {
        person: case.person,
        prison_number: d.prison_number.to_string(),
        family_name: d.family_name.clone(),
        given_name: d.given_name.clone(),
        date_of_birth: d.date_of_birth,
        establishment,
        custody,
        in_custody,
        open_referrals: case.referrals.iter().filter(|r| r.is_open()).count() as u32,
        assessment_due: next_assessment_due(case, calendar, working_days),
        offending_linked: case.offending_linked(),
        last_seq: case.history.iter().map(|e| e.seq).max().unwrap_or(0),
    })
}

/// What the projections need of the contract profile, built once per store.
#[derive(Debug)]
pub struct Projector {
    /// The profile (clocks, the interventions catalogue).
    pub profile: Profile,
    /// Its working-day calendar.
    pub calendar: Calendar,
}

/// One row of the queue projection (issue 15): a work item of one person, in force
/// from `valid_from` (always, when `None`) until the day before `valid_until` (for
/// good, when `None`), as [`queue_segments`] says. Overdue and the 14-day horizon
/// are worked out when the queue is read, against the reader's instant, so no row
/// needs a timer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueItemRow {
    /// The establishment responsible for the person now (the queue it is in).
    pub establishment: String,
    /// The first day in force (`YYYY-MM-DD`).
    pub valid_from: Option<String>,
    /// The first day no longer in force.
    pub valid_until: Option<String>,
    /// The queue's code.
    pub queue: &'static str,
    /// When it is due (canonical instant text, which sorts as time does).
    pub due: String,
    /// Whether it has a deadline at all.
    pub has_deadline: bool,
    /// What is due, in words.
    pub detail: String,
    /// The person's keyworker (for "my caseload"), if allocated.
    pub keyworker: Option<String>,
    /// The item's place among the person's items (the fold's order).
    pub ord: i64,
    /// 0 when the person's offending is linked to their substance use, else 1.
    pub rank: i64,
}

impl Projector {
    /// The projector of a profile.
    pub fn new(profile: &Profile) -> Projector {
        Projector {
            profile: profile.clone(),
            calendar: profile.calendar(),
        }
    }

    /// The case index row of a case ([`case_row`]).
    pub fn case_row(&self, case: &Case) -> Option<CaseRow> {
        case_row(
            case,
            &self.calendar,
            self.profile.clocks.first_assessment_working_days,
        )
    }

    /// The queue projection rows of a registered person: every span of
    /// [`queue_segments`], one row per item. None for an unregistered record (it
    /// is on no caseload).
    pub fn queue_rows(&self, case: &Case) -> Vec<QueueItemRow> {
        let (Some(_), Some(establishment)) = (&case.details, case.establishment()) else {
            return Vec::new();
        };
        let establishment = establishment.to_string();
        let keyworker = case.keyworker.as_ref().map(|k| k.worker.to_string());
        let rank = if case.offending_linked() { 0 } else { 1 };
        let mut out = Vec::new();
        for s in queue_segments(case, &self.profile, &self.calendar) {
            for item in s.items {
                out.push(QueueItemRow {
                    establishment: establishment.clone(),
                    valid_from: s.from.map(|d| d.to_string()),
                    valid_until: s.until.map(|d| d.to_string()),
                    queue: item.queue.code(),
                    due: canonical_instant(item.due),
                    has_deadline: item.has_deadline,
                    detail: item.detail,
                    keyworker: keyworker.clone(),
                    ord: out.len() as i64,
                    rank,
                });
            }
        }
        out
    }
}

/// A stored queue row read back as the domain's item at `now` (overdue set); `None`
/// when the row is not in the queue at `now` or cannot be read.
pub fn item_at(
    queue: &str,
    due: &str,
    has_deadline: bool,
    detail: String,
    now: DateTime<Utc>,
) -> Option<WorkItem> {
    let mut item = WorkItem {
        queue: QueueKind::from_code(queue)?,
        due: parse_instant(due)?,
        overdue: false,
        has_deadline,
        detail,
    };
    item.overdue = is_overdue(&item, now);
    in_horizon(&item, local_date(now)).then_some(item)
}
