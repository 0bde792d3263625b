//! Test builders: an in-memory log that appends decided events with sequence
//! numbers and hashes, so domain tests read like the scenario they check.

use crate::calendar::Calendar;
use crate::case::Case;
use crate::chain::{ChainFields, GENESIS_HASH, event_hash};
use crate::custody::{Reception, ReceptionType};
use crate::decide::{Command, Context, decide, decide_merge};
use crate::error::DomainError;
use crate::events::{EventKind, NewEvent, RecordedEvent};
use crate::identifiers::{EstablishmentCode, PrisonNumber, StaffUsername};
use crate::people::{EqualityMonitoring, PersonDetails, RecordedPriorityFlags};
use crate::profile::{EstablishmentKind, Profile};
use crate::record_ids::{EventId, PersonId, SequentialIds};
use crate::referrals::{Referral, ReferralSource};
use crate::time::{canonical_instant, local_instant, local_midday};
use crate::work_queues::{QueueKind, WorkItem, work_items};
use chrono::{DateTime, NaiveDate, Utc};

pub fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

pub fn at(s: &str) -> DateTime<Utc> {
    crate::time::parse_instant(s).unwrap()
}

pub struct Log {
    pub events: Vec<RecordedEvent>,
    pub ids: SequentialIds,
    pub profile: Profile,
    pub calendar: Calendar,
    pub now: DateTime<Utc>,
    pub establishment: EstablishmentCode,
    /// Who records (`worker.one` unless a test changes it).
    pub recorded_by: StaffUsername,
    /// As what the log's writer records (the command line unless a test says otherwise).
    pub actor: crate::access::Actor,
    /// Trainees not yet signed off, as the recorder would pass them (KM 5.43.1).
    pub trainees: Vec<StaffUsername>,
}

impl Log {
    pub fn new() -> Log {
        let profile = Profile::builtin("kent-medway").unwrap();
        let calendar = profile.calendar();
        Log {
            events: Vec::new(),
            ids: SequentialIds::new(7),
            profile,
            calendar,
            now: at("2026-11-20T10:00:00Z"),
            establishment: EstablishmentCode::parse("MDI").unwrap(),
            recorded_by: StaffUsername::parse("worker.one").unwrap(),
            actor: crate::access::Actor::System,
            trainees: Vec::new(),
        }
    }

    pub fn ctx(&self) -> Context<'_> {
        Context {
            profile: &self.profile,
            calendar: &self.calendar,
            recorded_by: self.recorded_by.clone(),
            actor: self.actor,
            establishment: self.establishment.clone(),
            now: self.now,
            trainees: &self.trainees,
        }
    }

    /// Decides a fact about the service (no person) at the log's establishment and
    /// `now`, against the service record as the log holds it, and appends it.
    pub fn record_service(&mut self, kind: EventKind) -> Result<Vec<EventId>, DomainError> {
        let service: Vec<RecordedEvent> = self
            .events
            .iter()
            .filter(|e| e.person.is_none())
            .cloned()
            .collect();
        let record = crate::governance::ServiceRecord::fold(&service);
        let mut ids = std::mem::replace(&mut self.ids, SequentialIds::new(0));
        let decided = crate::governance::decide_service(&record, kind, &self.ctx(), &mut ids);
        self.ids = ids;
        Ok(self.append(decided?))
    }

    pub fn case(&self, person: PersonId) -> Case {
        let mut people = vec![person];
        for e in &self.events {
            if let (Some(p), EventKind::PeopleMerged(m)) = (e.person, &e.kind)
                && p == person
            {
                people.push(m.merged);
            }
        }
        Case::fold(
            person,
            self.events
                .iter()
                .filter(|e| e.person.is_some_and(|p| people.contains(&p)))
                .cloned(),
        )
    }

    pub fn append(&mut self, events: Vec<NewEvent>) -> Vec<EventId> {
        let mut ids = Vec::new();
        for n in events {
            let seq = self.events.len() as i64 + 1;
            let prev = self
                .events
                .last()
                .map(|e| e.hash.clone())
                .unwrap_or_else(|| GENESIS_HASH.to_string());
            let appended_at = self.now;
            let recorded_at = n.recorded_at.unwrap_or(appended_at);
            let payload = n.kind.payload_json();
            let (id, person, occ, rec, app) = (
                n.id.to_string(),
                n.person.map(|p| p.to_string()),
                canonical_instant(n.occurred_at),
                canonical_instant(recorded_at),
                canonical_instant(appended_at),
            );
            let sup = n.supersedes.map(|s| s.to_string());
            let hash = event_hash(
                &prev,
                &ChainFields {
                    seq,
                    id: &id,
                    person: person.as_deref(),
                    establishment: n.establishment.as_str(),
                    event_type: n.kind.type_name(),
                    occurred_at: &occ,
                    recorded_at: &rec,
                    appended_at: &app,
                    recorded_by: n.recorded_by.as_str(),
                    supersedes: sup.as_deref(),
                    reason: n.reason.as_deref(),
                    payload: &payload,
                },
            );
            ids.push(n.id);
            self.events.push(RecordedEvent {
                seq,
                id: n.id,
                person: n.person,
                establishment: n.establishment,
                occurred_at: n.occurred_at,
                recorded_at,
                appended_at,
                recorded_by: n.recorded_by,
                supersedes: n.supersedes,
                reason: n.reason,
                kind: n.kind,
                prev_hash: prev,
                hash,
            });
        }
        ids
    }

    pub fn try_command(
        &mut self,
        person: PersonId,
        command: Command,
    ) -> Result<Vec<EventId>, DomainError> {
        let case = self.case(person);
        let mut ids = self.ids.clone();
        let events = decide(&case, command, &self.ctx(), &mut ids)?;
        self.ids = ids;
        Ok(self.append(events))
    }

    pub fn record(
        &mut self,
        person: PersonId,
        kind: EventKind,
    ) -> Result<Vec<EventId>, DomainError> {
        self.try_command(
            person,
            Command::Record {
                occurred_at: None,
                recorded_at: None,
                kind,
            },
        )
    }

    pub fn merge(
        &mut self,
        survivor: PersonId,
        merged: PersonId,
    ) -> Result<Vec<EventId>, DomainError> {
        let (s, m) = (self.case(survivor), self.case(merged));
        let mut ids = self.ids.clone();
        let events = decide_merge(&s, &m, &self.ctx(), &mut ids)?;
        self.ids = ids;
        Ok(self.append(events))
    }

    /// Registers a synthetic person and returns their id.
    pub fn person(&mut self, prison_number: &str) -> PersonId {
        let id = PersonId(uuid::Uuid::from_u64_pair(99, self.events.len() as u64 + 1));
        self.record(id, EventKind::PersonRegistered(details(prison_number)))
            .unwrap();
        id
    }

    /// Registers a synthetic person and receives them into custody at the log's
    /// establishment (sentenced; an immigration detainee at an IRC).
    pub fn prisoner(&mut self, prison_number: &str) -> PersonId {
        let id = self.person(prison_number);
        self.receive(id);
        id
    }

    /// Receives a registered person into custody at the log's establishment.
    pub fn receive(&mut self, person: PersonId) {
        let reception_type = match self.profile.establishment(&self.establishment) {
            Some(e) if e.kind == EstablishmentKind::ImmigrationRemovalCentre => {
                ReceptionType::ImmigrationDetainee
            }
            _ => ReceptionType::Sentenced,
        };
        self.record(
            person,
            EventKind::Received(Reception {
                reception_type,
                source_ref: None,
            }),
        )
        .unwrap();
    }

    /// Every work-queue item for the person as at `now`.
    pub fn items(&self, person: PersonId, now: DateTime<Utc>) -> Vec<WorkItem> {
        work_items(&self.case(person), &self.profile, &self.calendar, now)
    }

    pub fn refer(&mut self, person: PersonId, on: &str) -> EventId {
        self.record(
            person,
            EventKind::ReferralMade(Referral {
                source: ReferralSource::SelfReferralApplication,
                referred_on: d(on),
                note: None,
            }),
        )
        .unwrap()[0]
    }
}

pub fn details(prison_number: &str) -> PersonDetails {
    PersonDetails {
        prison_number: PrisonNumber::parse(prison_number).unwrap(),
        given_name: "Testy".into(),
        family_name: "Example".into(),
        date_of_birth: d("1990-04-01"),
        home_postcode: None,
        equality: EqualityMonitoring::default(),
        priority: RecordedPriorityFlags::default(),
    }
}

pub fn midday(s: &str) -> DateTime<Utc> {
    local_midday(d(s))
}

/// A wall-clock time in Europe/London ("2026-11-18 07:59") as an instant. In the
/// spring gap the time just after it; on the autumn change the first (BST) one.
pub fn local(s: &str) -> DateTime<Utc> {
    let naive = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
    local_instant(naive.date(), naive.time())
}

/// The fields a validation error names, in order; panics on any other error.
pub fn problem_fields(err: DomainError) -> Vec<String> {
    match err {
        DomainError::Invalid(ps) => ps.into_iter().map(|p| p.field).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

/// An establishment code.
pub fn code(s: &str) -> EstablishmentCode {
    EstablishmentCode::parse(s).unwrap()
}

/// The items of one queue.
pub fn of(items: &[WorkItem], queue: QueueKind) -> Vec<WorkItem> {
    items.iter().filter(|i| i.queue == queue).cloned().collect()
}

/// The one item of a queue (fails unless there is exactly one).
pub fn only(items: &[WorkItem], queue: QueueKind) -> WorkItem {
    let found = of(items, queue);
    assert_eq!(found.len(), 1, "one {queue:?} item expected in {items:#?}");
    found[0].clone()
}

/// Decides and "appends" each fact about the service in turn (as `manager.one` at MDI
/// on 20 November 2026, 10:00), folding the record as a store would; the first
/// refusal is returned.
pub fn service_record(
    kinds: Vec<EventKind>,
) -> Result<crate::governance::ServiceRecord, DomainError> {
    let profile = Profile::builtin("kent-medway").unwrap();
    service_record_with(
        &profile,
        &EstablishmentCode::parse("MDI").unwrap(),
        "2026-11-20T10:00:00Z",
        kinds,
    )
}

/// As [`service_record`], under `profile`, at `establishment`, as at `now`.
pub fn service_record_with(
    profile: &Profile,
    establishment: &EstablishmentCode,
    now: &str,
    kinds: Vec<EventKind>,
) -> Result<crate::governance::ServiceRecord, DomainError> {
    use crate::governance::{ServiceRecord, decide_service};
    let calendar = profile.calendar();
    let ctx = Context {
        profile,
        calendar: &calendar,
        recorded_by: StaffUsername::parse("manager.one").unwrap(),
        actor: crate::access::Actor::System,
        establishment: establishment.clone(),
        now: at(now),
        trainees: &[],
    };
    let mut ids = SequentialIds::new(3);
    let mut log: Vec<RecordedEvent> = Vec::new();
    for kind in kinds {
        let record = ServiceRecord::fold(&log);
        for e in decide_service(&record, kind, &ctx, &mut ids)? {
            log.push(RecordedEvent {
                seq: log.len() as i64 + 1,
                id: e.id,
                person: e.person,
                establishment: e.establishment,
                occurred_at: e.occurred_at,
                recorded_at: ctx.now,
                appended_at: ctx.now,
                recorded_by: e.recorded_by,
                supersedes: e.supersedes,
                reason: e.reason,
                kind: e.kind,
                prev_hash: String::new(),
                hash: String::new(),
            });
        }
    }
    Ok(ServiceRecord::fold(&log))
}
