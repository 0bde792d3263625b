//! The shared definitions that only the activity lines use (docs/kpis.md §2): D2
//! (held at), D6 (a course's span, "in receipt") and D7 (the prescribing status), and
//! the courses they are read from. "Held attribution" (docs/kpis.md §1.6) turns a span
//! into one item per establishment that held the person on a day of it.

use crate::clinical::{ClinicalStep, DetoxSubstance};
use crate::events::{EventKind, RecordedEvent};
use crate::identifiers::EstablishmentCode;
use crate::interventions::{InterventionStatus, InterventionTarget};
use crate::record_ids::EventId;
use crate::returns::cut::{PersonRecord, event_date};
use crate::returns::figure::Item;
use crate::returns::period::Period;
use crate::time::{local_date, local_instant};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use std::collections::{BTreeMap, HashMap};

/// One course of an intervention (`Case::courses`): its first step, which names no
/// `course`, and the later steps that name it, each with its effective event.
#[derive(Debug, Clone)]
pub(super) struct Course<'a> {
    /// The identity of the first step (later steps name it).
    pub id: EventId,
    /// The catalogue code (the first step's).
    pub code: &'a str,
    /// What it targets (the first step's target).
    pub target: InterventionTarget,
    /// Every step, the first included, in (`occurred_at`, `seq`) order.
    pub steps: Vec<(&'a RecordedEvent, InterventionStatus, NaiveDate)>,
}

/// The person's courses, in the order of their first steps. A step that names a
/// course is attached to it by the course's identity, so a corrected first step
/// keeps its later steps (docs/kpis.md §1.3).
pub(super) fn courses(p: &PersonRecord) -> Vec<Course<'_>> {
    let mut out: Vec<Course<'_>> = Vec::new();
    let mut index: HashMap<EventId, usize> = HashMap::new();
    for e in &p.events {
        if let EventKind::InterventionUpdated(u) = &e.kind
            && u.course.is_none()
        {
            let id = p.case.identity(e.id);
            index.insert(id, out.len());
            out.push(Course {
                id,
                code: &u.intervention,
                target: u.target,
                steps: vec![(e, u.status, u.on)],
            });
        }
    }
    for e in &p.events {
        if let EventKind::InterventionUpdated(u) = &e.kind
            && let Some(c) = u.course
            && let Some(i) = index.get(&p.case.identity(c))
        {
            out[*i].steps.push((e, u.status, u.on));
        }
    }
    for c in &mut out {
        c.steps.sort_by_key(|(e, _, _)| (e.occurred_at, e.seq));
    }
    out
}

/// The catalogue code of each of the person's courses, by the course's identity.
pub(super) fn course_codes(p: &PersonRecord) -> HashMap<EventId, &str> {
    courses(p).into_iter().map(|c| (c.id, c.code)).collect()
}

/// D2: where the person was held on each day, from their effective `received`,
/// `transferred` and `released` events.
#[derive(Debug, Clone)]
pub(crate) struct Custody<'a> {
    /// Receptions and transfers in (`occurred_at`, `seq`) order, each with the
    /// establishment it was at (a transfer's `to`).
    moves: Vec<(&'a RecordedEvent, &'a EstablishmentCode)>,
    /// Releases of either kind.
    releases: Vec<&'a RecordedEvent>,
}

impl<'a> Custody<'a> {
    /// The person's movements.
    pub fn of(p: &'a PersonRecord) -> Custody<'a> {
        let mut moves = Vec::new();
        let mut releases = Vec::new();
        for e in &p.events {
            match &e.kind {
                EventKind::Received(_) => moves.push((e, &e.establishment)),
                EventKind::Transferred(t) => moves.push((e, &t.to)),
                EventKind::Released(_) => releases.push(e),
                _ => {}
            }
        }
        Custody { moves, releases }
    }

    /// D2: the establishment holding the person on `day`: that of the latest
    /// reception or transfer dated on or before it, unless a release is dated after
    /// that movement and before the day. On the day of a transfer the person is at the
    /// receiving establishment; on the day of a release, at the one they left.
    pub fn held_at(&self, day: NaiveDate) -> Option<&'a EstablishmentCode> {
        let (m, at) = self.moves.iter().rfind(|(m, _)| event_date(m) <= day)?;
        let released = self
            .releases
            .iter()
            .any(|r| (r.occurred_at, r.seq) > (m.occurred_at, m.seq) && event_date(r) < day);
        (!released).then_some(*at)
    }
}

/// Held attribution (docs/kpis.md §1.6): one item for each establishment that held
/// the person (D2) on a day from `first` to `last`, dated on the first such day; a day
/// when no movement holds them counts at the establishment of `opener`, the event
/// that opened the span.
pub(super) fn held_items(
    p: &PersonRecord,
    custody: &Custody<'_>,
    first: NaiveDate,
    last: NaiveDate,
    opener: &RecordedEvent,
) -> Vec<Item> {
    let mut at: BTreeMap<&EstablishmentCode, NaiveDate> = BTreeMap::new();
    for day in first.iter_days().take_while(|d| *d <= last) {
        let held = custody.held_at(day).unwrap_or(&opener.establishment);
        at.entry(held).or_insert(day);
    }
    at.into_iter()
        .map(|(e, on)| Item::event(e, p.person, opener.id, on))
        .collect()
}

/// D6: the span of one started course: from its `started` step to its end, if it
/// has ended.
#[derive(Debug, Clone)]
pub(super) struct CourseSpan<'a> {
    /// The course.
    pub course: Course<'a>,
    /// The `started` step's event: it opens the span.
    pub started: &'a RecordedEvent,
    /// The started date.
    pub started_on: NaiveDate,
    /// The end date: the earliest of the course's `completed` or `dropped_out` step
    /// and the person's first release, treatment exit or death dated on or after the
    /// start.
    pub ends_on: Option<NaiveDate>,
}

impl CourseSpan<'_> {
    /// D6: the days of the span within `period`, when the course was in receipt
    /// during it (started by the period's last day, not ended before its first).
    pub fn days_in(&self, period: &Period) -> Option<(NaiveDate, NaiveDate)> {
        let first = self.started_on.max(period.first);
        let last = self.ends_on.map_or(period.last, |e| e.min(period.last));
        (first <= last).then_some((first, last))
    }
}

/// D6: the person's started courses with their spans.
pub(super) fn course_spans(p: &PersonRecord) -> Vec<CourseSpan<'_>> {
    // The dates that end every course begun on or before them.
    let leaving: Vec<NaiveDate> = p
        .of(|k| match k {
            EventKind::Released(_) => Some(None),
            EventKind::TreatmentExited(x) => Some(Some(x.exited_on)),
            EventKind::DeathRecorded(x) => Some(Some(x.died_on)),
            _ => None,
        })
        .map(|(e, on)| on.unwrap_or_else(|| event_date(e)))
        .collect();
    courses(p)
        .into_iter()
        .filter_map(|course| {
            let (started, _, started_on) = course
                .steps
                .iter()
                .copied()
                .filter(|(_, s, _)| *s == InterventionStatus::Started)
                .min_by_key(|(e, _, on)| (*on, e.occurred_at, e.seq))?;
            let ended = course
                .steps
                .iter()
                .filter(|(_, s, _)| {
                    matches!(
                        s,
                        InterventionStatus::Completed | InterventionStatus::DroppedOut
                    )
                })
                .map(|(_, _, on)| *on);
            let left = leaving.iter().copied().filter(|d| *d >= started_on);
            let ends_on = ended.chain(left).min();
            Some(CourseSpan {
                course,
                started,
                started_on,
                ends_on,
            })
        })
        .collect()
}

/// D7: a prescribing status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Prescribing {
    /// `prescribing_started`.
    Prescribed,
    /// `maintenance`.
    Maintenance,
    /// `stabilising`.
    Stabilising,
    /// `reducing`.
    Reducing,
}

/// D7: one stretch of a prescribing status: from its event's instant until the next
/// event that sets or clears the status (open while none has).
#[derive(Debug, Clone)]
pub(super) struct StatusSpan<'a> {
    /// The status.
    pub status: Prescribing,
    /// The event that set it.
    pub set_by: &'a RecordedEvent,
    /// From this instant.
    pub from: DateTime<Utc>,
    /// Until this instant (exclusive), if it has been set again or cleared.
    pub until: Option<DateTime<Utc>>,
}

/// 00:00 local time on `day`.
fn midnight(day: NaiveDate) -> DateTime<Utc> {
    local_instant(day, NaiveTime::MIN)
}

impl StatusSpan<'_> {
    /// D7: the local days on which the status holds within `period`, when it holds in
    /// the period at all (its interval overlaps 00:00 on the first day to 00:00 after
    /// the last).
    pub fn days_in(&self, period: &Period) -> Option<(NaiveDate, NaiveDate)> {
        let starts = midnight(period.first);
        let ends = midnight(period.last.succ_opt()?);
        let overlaps = self.from < ends && self.until.is_none_or(|u| u > starts && u > self.from);
        if !overlaps {
            return None;
        }
        let first = local_date(self.from).max(period.first);
        // An interval ending at exactly midnight does not hold on that day.
        let last = self.until.map_or(period.last, |u| {
            let d = local_date(u);
            let d = if u == midnight(d) {
                d.pred_opt().unwrap_or(d)
            } else {
                d
            };
            d.min(period.last)
        });
        (first <= last).then_some((first, last))
    }
}

/// D7: the person's prescribing statuses in order, each with the stretch it holds.
pub(super) fn prescribing_spans(p: &PersonRecord) -> Vec<StatusSpan<'_>> {
    let mut out: Vec<StatusSpan<'_>> = Vec::new();
    for e in &p.events {
        // Some(Some(status)) sets a status; Some(None) clears it; None leaves it.
        let change = match &e.kind {
            EventKind::ClinicalEventRecorded(c) => match &c.step {
                ClinicalStep::PrescribingStarted { .. } => Some(Some(Prescribing::Prescribed)),
                ClinicalStep::Maintenance => Some(Some(Prescribing::Maintenance)),
                ClinicalStep::Stabilising => Some(Some(Prescribing::Stabilising)),
                ClinicalStep::Reducing => Some(Some(Prescribing::Reducing)),
                ClinicalStep::DroppedOutOfPrescribing => Some(None),
                ClinicalStep::DetoxCompleted {
                    substance: DetoxSubstance::Opiates,
                    ..
                } => Some(None),
                _ => None,
            },
            EventKind::Released(_)
            | EventKind::TreatmentExited(_)
            | EventKind::DeathRecorded(_) => Some(None),
            _ => None,
        };
        let Some(change) = change else { continue };
        if let Some(open) = out.last_mut()
            && open.until.is_none()
        {
            open.until = Some(e.occurred_at);
        }
        if let Some(status) = change {
            out.push(StatusSpan {
                status,
                set_by: e,
                from: e.occurred_at,
                until: None,
            });
        }
    }
    out
}
