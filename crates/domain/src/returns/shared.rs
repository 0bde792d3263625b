//! The shared definitions of docs/kpis.md §2 that more than one group of lines uses:
//! D1 (programme and structured codes), D3 (structured starts), D4 (episodes and "in
//! treatment at release") and D9 (leaving prison and the 12-month window).

use crate::custody::ReleaseKind;
use crate::events::{EventKind, RecordedEvent};
use crate::interventions::{InterventionFamily, InterventionStatus};
use crate::profile::Profile;
use crate::record_ids::EventId;
use crate::returns::cut::{PersonRecord, event_date};
use crate::returns::period::Period;
use chrono::NaiveDate;

/// D1: whether `code` is a programme of the profile's catalogue.
pub fn is_programme(profile: &Profile, code: &str) -> bool {
    profile
        .intervention(code)
        .is_some_and(|d| d.family == InterventionFamily::Programme)
}

/// D1: whether `code` is structured treatment in the profile's catalogue.
pub fn is_structured(profile: &Profile, code: &str) -> bool {
    profile
        .intervention(code)
        .is_some_and(|d| d.structured_treatment)
}

/// D3: one structured start.
#[derive(Debug, Clone)]
pub struct Start<'a> {
    /// The event that records it.
    pub event: &'a RecordedEvent,
    /// Its family (`clinical` for a start on the clinical pathway).
    pub family: InterventionFamily,
    /// Its date.
    pub on: NaiveDate,
}

/// D3: the person's structured starts in (`occurred_at`, `seq`) order: a course of a
/// structured code started, or prescribing or a detox started on the clinical pathway.
pub fn structured_starts<'a>(profile: &Profile, p: &'a PersonRecord) -> Vec<Start<'a>> {
    // A later step names its course by the course's first event; the course's
    // intervention code is on that first step.
    let mut course_code = std::collections::HashMap::<EventId, String>::new();
    let mut out = Vec::new();
    for e in &p.events {
        match &e.kind {
            EventKind::InterventionUpdated(u) => {
                let code = match u.course {
                    None => {
                        course_code.insert(p.case.identity(e.id), u.intervention.clone());
                        u.intervention.clone()
                    }
                    Some(c) => course_code
                        .get(&p.case.identity(c))
                        .cloned()
                        .unwrap_or_else(|| u.intervention.clone()),
                };
                if u.status == InterventionStatus::Started
                    && let Some(def) = profile.intervention(&code)
                    && def.structured_treatment
                {
                    out.push(Start {
                        event: e,
                        family: def.family,
                        on: u.on,
                    });
                }
            }
            EventKind::ClinicalEventRecorded(c) if c.step.starts_treatment() => {
                out.push(Start {
                    event: e,
                    family: InterventionFamily::Clinical,
                    on: event_date(e),
                });
            }
            _ => {}
        }
    }
    out
}

/// D4: one treatment episode: from its first structured start to the exit that
/// closes it (none while open).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Episode {
    /// The date of its first structured start.
    pub started_on: NaiveDate,
    /// The date of the exit that closes it.
    pub exited_on: Option<NaiveDate>,
}

/// D4: the person's episodes in order.
pub fn episodes(profile: &Profile, p: &PersonRecord) -> Vec<Episode> {
    let mut exits: Vec<NaiveDate> = p
        .of(|k| match k {
            EventKind::TreatmentExited(x) => Some(x.exited_on),
            _ => None,
        })
        .map(|(_, d)| d)
        .collect();
    exits.sort();
    exits.dedup();
    let starts: Vec<NaiveDate> = structured_starts(profile, p).iter().map(|s| s.on).collect();
    let mut out = Vec::new();
    let mut after: Option<NaiveDate> = None;
    for x in exits.iter().copied().map(Some).chain(std::iter::once(None)) {
        let first = starts
            .iter()
            .copied()
            .filter(|s| after.is_none_or(|a| *s > a) && x.is_none_or(|x| *s <= x))
            .min();
        if let Some(started_on) = first {
            out.push(Episode {
                started_on,
                exited_on: x,
            });
        }
        after = x;
    }
    out
}

/// D4: whether the person was in treatment at a release dated `released_on`.
pub fn in_treatment_at(profile: &Profile, p: &PersonRecord, released_on: NaiveDate) -> bool {
    episodes(profile, p)
        .iter()
        .any(|e| e.started_on <= released_on && e.exited_on.is_none_or(|x| x >= released_on))
}

/// D9: one release.
#[derive(Debug, Clone)]
pub struct Leaving<'a> {
    /// The `released` event.
    pub event: &'a RecordedEvent,
    /// Its date.
    pub on: NaiveDate,
    /// Into the community, or deported.
    pub kind: ReleaseKind,
}

/// D9: the person's effective releases, in order.
pub fn releases(p: &PersonRecord) -> Vec<Leaving<'_>> {
    p.of(|k| match k {
        EventKind::Released(r) => Some(r.kind),
        _ => None,
    })
    .map(|(e, kind)| Leaving {
        event: e,
        on: event_date(e),
        kind,
    })
    .collect()
}

/// D9: the person's latest release in `period`, if any (a person released more than
/// once is judged on their latest release in the period).
pub fn latest_release_in<'a>(p: &'a PersonRecord, period: &Period) -> Option<Leaving<'a>> {
    releases(p).into_iter().rfind(|r| period.contains(r.on))
}

/// D9: the last day of the 12-month window of a release on `released_on`.
pub fn window_ends(released_on: NaiveDate) -> NaiveDate {
    crate::release::follow_up_ends(released_on)
}
