//! The log as it stood at an as-at instant (docs/kpis.md §1.2–§1.5): only events
//! appended at or before it; corrections and entered-in-error marks appended later
//! are ignored; merges are resolved from the `people_merged` events in the cut (never
//! from the store's projections); each person's case folded once. Every KPI function
//! reads a `Cut`, so a return as at D is the same whenever it is produced.

use crate::case::Case;
use crate::events::{EventKind, RecordedEvent};
use crate::governance::ServiceRecord;
use crate::profile::Profile;
use crate::record_ids::PersonId;
use crate::time::local_date;
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::{BTreeMap, HashMap, HashSet};

/// One person as the cut knows them: their case, and their effective events in
/// (`occurred_at`, `seq`) order.
#[derive(Debug, Clone)]
pub struct PersonRecord {
    /// The person (the survivor of any merges).
    pub person: PersonId,
    /// Their case as folded from the cut.
    pub case: Case,
    /// Their effective events (not superseded, not in error, not marks of error), in
    /// (`occurred_at`, `seq`) order.
    pub events: Vec<RecordedEvent>,
}

impl PersonRecord {
    /// The effective events of this person whose kind `pick` selects.
    pub fn of<'a, T>(
        &'a self,
        pick: impl Fn(&'a EventKind) -> Option<T> + 'a,
    ) -> impl Iterator<Item = (&'a RecordedEvent, T)> + 'a {
        self.events
            .iter()
            .filter_map(move |e| pick(&e.kind).map(|t| (e, t)))
    }
}

/// The log as at an instant.
#[derive(Debug, Clone)]
pub struct Cut<'a> {
    /// The contract profile.
    pub profile: &'a Profile,
    /// The as-at instant: "now" for every judgement of the return.
    pub as_at: DateTime<Utc>,
    /// The highest sequence number in the cut (printed with the return).
    pub last_seq: i64,
    /// Everyone with an event in the cut, by (surviving) person.
    pub people: BTreeMap<PersonId, PersonRecord>,
    /// The service's records as they stood.
    pub service: ServiceRecord,
    /// The effective service events (no person), in log order.
    pub service_events: Vec<RecordedEvent>,
}

/// Follows merges to the survivor (A into B, B into C gives C).
fn survivor(merged_into: &HashMap<PersonId, PersonId>, mut p: PersonId) -> PersonId {
    let mut seen = HashSet::new();
    while let Some(next) = merged_into.get(&p) {
        if !seen.insert(p) {
            break;
        }
        p = *next;
    }
    p
}

impl<'a> Cut<'a> {
    /// The cut of `events` (any order) as at `as_at`.
    pub fn new(profile: &'a Profile, events: &[RecordedEvent], as_at: DateTime<Utc>) -> Cut<'a> {
        let mut cut: Vec<&RecordedEvent> =
            events.iter().filter(|e| e.appended_at <= as_at).collect();
        cut.sort_by_key(|e| e.seq);
        let last_seq = cut.last().map(|e| e.seq).unwrap_or(0);
        // What the cut's own corrections and marks of error take out (a later
        // correction of the same target wins, as in `Case::fold`).
        let mut dropped: HashSet<_> = HashSet::new();
        let mut latest_correction = HashMap::new();
        for e in &cut {
            if let Some(target) = e.supersedes {
                dropped.insert(target);
                if let Some(earlier) = latest_correction.insert(target, e.id) {
                    dropped.insert(earlier);
                }
            }
            if let EventKind::EnteredInError(x) = &e.kind {
                dropped.insert(x.target);
            }
        }
        let effective = |e: &RecordedEvent| {
            !dropped.contains(&e.id) && !matches!(e.kind, EventKind::EnteredInError(_))
        };
        let mut merged_into = HashMap::new();
        for e in &cut {
            if let (Some(survivor), EventKind::PeopleMerged(m)) = (e.person, &e.kind)
                && effective(e)
            {
                merged_into.insert(m.merged, survivor);
            }
        }
        let mut by_person: BTreeMap<PersonId, Vec<RecordedEvent>> = BTreeMap::new();
        let mut service_events = Vec::new();
        for e in &cut {
            match e.person {
                Some(p) => by_person
                    .entry(survivor(&merged_into, p))
                    .or_default()
                    .push((*e).clone()),
                None => {
                    if effective(e) {
                        service_events.push((*e).clone());
                    }
                }
            }
        }
        let all_service: Vec<RecordedEvent> = cut
            .iter()
            .filter(|e| e.person.is_none())
            .map(|e| (*e).clone())
            .collect();
        let service = ServiceRecord::fold(&all_service);
        let people = by_person
            .into_iter()
            .map(|(person, history)| {
                let case = Case::fold(person, history);
                let mut events: Vec<RecordedEvent> = case
                    .history
                    .iter()
                    .filter(|e| case.is_effective(e))
                    .cloned()
                    .collect();
                events.sort_by_key(|e| (e.occurred_at, e.seq));
                (
                    person,
                    PersonRecord {
                        person,
                        case,
                        events,
                    },
                )
            })
            .collect();
        Cut {
            profile,
            as_at,
            last_seq,
            people,
            service,
            service_events,
        }
    }

    /// The local date of the as-at instant.
    pub fn today(&self) -> NaiveDate {
        local_date(self.as_at)
    }
}

/// The local date an event counts on (docs/kpis.md §1.4).
pub fn event_date(e: &RecordedEvent) -> NaiveDate {
    local_date(e.occurred_at)
}
