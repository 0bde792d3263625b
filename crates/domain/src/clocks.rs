//! Clocks computed from events: the first-assessment clock (S4 §3: "Initial
//! assessment should aim to occur within five working days of referral").

use crate::calendar::Calendar;
use crate::case::{Case, ReferralState};
use crate::record_ids::EventId;
use crate::referrals::ReferralSource;
use chrono::NaiveDate;
use serde::Serialize;

/// Where a clock stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ClockState {
    /// Not yet done, and not yet late.
    Due {
        /// Working days left, counting the due day itself as one while it lasts.
        working_days_left: u32,
    },
    /// Not done by the end of the due day.
    Breached {
        /// Working days past the due date, to today.
        working_days_late: u32,
    },
    /// Done on or before the due date.
    Met {
        /// When it was done.
        on: NaiveDate,
    },
    /// Closed without an assessment (declined, left custody, …): no longer counts.
    Closed {
        /// When it was closed.
        on: NaiveDate,
    },
    /// Done, but after the due date.
    MetLate {
        /// When it was done.
        on: NaiveDate,
        /// Working days past the due date.
        working_days_late: u32,
    },
}

impl ClockState {
    /// Whether the thing is still to do.
    pub fn is_open(self) -> bool {
        matches!(self, ClockState::Due { .. } | ClockState::Breached { .. })
    }
    /// Whether the clock was or is breached.
    pub fn is_breached(self) -> bool {
        matches!(
            self,
            ClockState::Breached { .. } | ClockState::MetLate { .. }
        )
    }
    /// Words for lists: "Due", "Overdue", "Met", "Met late".
    pub fn label(self) -> &'static str {
        match self {
            ClockState::Due { .. } => "Due",
            ClockState::Breached { .. } => "Overdue",
            ClockState::Met { .. } => "Met",
            ClockState::MetLate { .. } => "Met late",
            ClockState::Closed { .. } => "Closed",
        }
    }
}

/// The first-assessment clock of one referral.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssessmentClock {
    /// The referral.
    pub referral: EventId,
    /// Where it came from.
    pub source: ReferralSource,
    /// When it was made.
    pub referred_on: NaiveDate,
    /// The last day the first assessment is on time: the end of the nth working day
    /// after the referral date.
    pub due_on: NaiveDate,
    /// Where it stands on the day asked.
    pub state: ClockState,
}

/// The due date of the first assessment after a referral on `referred_on`.
pub fn first_assessment_due(
    calendar: &Calendar,
    referred_on: NaiveDate,
    working_days: u32,
) -> NaiveDate {
    calendar.add_working_days(referred_on, working_days)
}

/// The clock of one referral as it stands on `today`.
pub fn assessment_clock(
    calendar: &Calendar,
    working_days: u32,
    r: &ReferralState,
    today: NaiveDate,
) -> AssessmentClock {
    let due_on = first_assessment_due(calendar, r.referral.referred_on, working_days);
    let state = match r.first_assessment {
        None if r.closed.is_some() => ClockState::Closed {
            on: r.closed.map(|(on, _)| on).unwrap_or(today),
        },
        Some((_, on)) if on <= due_on => ClockState::Met { on },
        Some((_, on)) => ClockState::MetLate {
            on,
            working_days_late: calendar.working_days_between(due_on, on),
        },
        None if today <= due_on => ClockState::Due {
            working_days_left: calendar.working_days_between(today, due_on)
                + u32::from(calendar.is_working_day(today)),
        },
        None => ClockState::Breached {
            working_days_late: calendar.working_days_between(due_on, today),
        },
    };
    AssessmentClock {
        referral: r.id,
        source: r.referral.source,
        referred_on: r.referral.referred_on,
        due_on,
        state,
    }
}

/// Every referral's clock in a case, oldest first; empty when the profile turns
/// the clock off.
pub fn assessment_clocks(
    case: &Case,
    calendar: &Calendar,
    working_days: Option<u32>,
    today: NaiveDate,
) -> Vec<AssessmentClock> {
    let Some(n) = working_days else {
        return Vec::new();
    };
    let mut clocks: Vec<AssessmentClock> = case
        .referrals
        .iter()
        .map(|r| assessment_clock(calendar, n, r, today))
        .collect();
    clocks.sort_by_key(|c| c.referred_on);
    clocks
}

/// The earliest due date among a case's open first-assessment clocks: what the
/// "assessments due" queue sorts on. Independent of today.
pub fn next_assessment_due(
    case: &Case,
    calendar: &Calendar,
    working_days: Option<u32>,
) -> Option<NaiveDate> {
    let n = working_days?;
    case.referrals
        .iter()
        .filter(|r| r.is_open())
        .map(|r| first_assessment_due(calendar, r.referral.referred_on, n))
        .min()
}

/// A case's first-assessment clocks that are still open (due or overdue).
pub fn open_assessment_clocks(
    case: &Case,
    calendar: &Calendar,
    working_days: Option<u32>,
    today: NaiveDate,
) -> Vec<AssessmentClock> {
    assessment_clocks(case, calendar, working_days, today)
        .into_iter()
        .filter(|c| c.state.is_open())
        .collect()
}

/// The order of the assessments-due queue, as of every work queue: overdue first,
/// then people whose offending is linked to their substance use (S4 §1: priority),
/// then the earliest due date, then the oldest referral. Sort ascending by this key.
pub fn queue_key(
    clock: &AssessmentClock,
    offending_linked: bool,
) -> (bool, bool, NaiveDate, NaiveDate) {
    (
        !clock.state.is_breached(),
        !offending_linked,
        clock.due_on,
        clock.referred_on,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock(due: &str, referred: &str, state: ClockState) -> AssessmentClock {
        AssessmentClock {
            referral: EventId(uuid::Uuid::nil()),
            source: ReferralSource::Gp,
            referred_on: referred.parse().unwrap(),
            due_on: due.parse().unwrap(),
            state,
        }
    }

    #[test]
    fn the_queue_puts_overdue_first_then_by_date_not_by_its_spelling() {
        let due = ClockState::Due {
            working_days_left: 3,
        };
        let late = ClockState::Breached {
            working_days_late: 1,
        };
        // As formatted text "10 Dec" would sort before "9 Dec"; as dates it must not.
        let mut q = [
            (clock("2026-12-10", "2026-12-03", due), false),
            (clock("2026-12-09", "2026-12-02", due), false),
            (clock("2026-11-30", "2026-11-23", late), false),
        ];
        q.sort_by_key(|(c, linked)| queue_key(c, *linked));
        let order: Vec<String> = q.iter().map(|(c, _)| c.due_on.to_string()).collect();
        assert_eq!(order, ["2026-11-30", "2026-12-09", "2026-12-10"]);
    }

    #[test]
    fn offending_linked_people_come_before_earlier_due_dates_but_after_overdue() {
        let due = ClockState::Due {
            working_days_left: 2,
        };
        let late = ClockState::Breached {
            working_days_late: 1,
        };
        let mut q = [
            (clock("2026-12-09", "2026-12-01", due), false),
            (clock("2026-12-11", "2026-12-04", due), true),
            (clock("2026-11-30", "2026-11-23", late), false),
        ];
        q.sort_by_key(|(c, linked)| queue_key(c, *linked));
        let order: Vec<String> = q.iter().map(|(c, _)| c.due_on.to_string()).collect();
        assert_eq!(order, ["2026-11-30", "2026-12-11", "2026-12-09"]);
    }

    #[test]
    fn offending_linked_people_come_first_within_a_due_date() {
        let due = ClockState::Due {
            working_days_left: 2,
        };
        let mut q = [
            (clock("2026-12-09", "2026-12-01", due), false),
            (clock("2026-12-09", "2026-12-02", due), true),
        ];
        q.sort_by_key(|(c, linked)| queue_key(c, *linked));
        assert!(q[0].1, "S4 §1: offending linked to substance use first");
    }
}
