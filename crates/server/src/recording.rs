//! Recording: load a person's case, let the domain decide, append the events. The
//! one path by which every page, API call, import and the demo write to the log.

use chrono::{DateTime, Utc};
use thiserror::Error;
use throughcare_domain::access::Author;
use throughcare_domain::calendar::Calendar;
use throughcare_domain::case::Case;
use throughcare_domain::decide::{Command, Context, decide, decide_merge};
use throughcare_domain::error::DomainError;
use throughcare_domain::events::{EventKind, NewEvent, RecordedEvent};
use throughcare_domain::governance::{ServiceRecord, decide_service};
use throughcare_domain::identifiers::{EstablishmentCode, StaffUsername};
use throughcare_domain::people::PersonDetails;
use throughcare_domain::profile::Profile;
use throughcare_domain::record_ids::{IdSource, PersonId};
use throughcare_store::{Expectation, FeedRecord, Store, StoreError};

/// Why a recording did not happen. Nothing was written.
#[derive(Debug, Error)]
pub enum RecordError {
    /// The domain refused the command.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How often a recording is decided again after another writer changed the same
/// person's record first. Each retry re-reads the case, so the decision is always
/// made against what is really there.
const MAX_RETRIES: u32 = 30;

/// A jittered, exponentially growing pause (up to about 50 ms) before deciding
/// again, so writers racing for the same person spread out instead of colliding.
fn back_off(attempt: u32) {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let ceiling = (100u64 << attempt.min(9)).min(50_000);
    let micros = u64::from(nanos) % ceiling.max(1);
    std::thread::sleep(std::time::Duration::from_micros(micros));
}

/// Writers in this process for the same person take turns (by a stripe of 64 locks
/// keyed on the person). This only spares them wasted decisions: correctness never
/// rests on it — another instance may still write between our read and our append,
/// and the store's expectation check turns that into a retry.
fn person_stripe(person: PersonId) -> std::sync::MutexGuard<'static, ()> {
    static STRIPES: [std::sync::Mutex<()>; 64] = [const { std::sync::Mutex::new(()) }; 64];
    let (hi, lo) = person.0.as_u64_pair();
    let index = ((hi ^ lo) % 64) as usize;
    STRIPES[index].lock().unwrap_or_else(|p| p.into_inner())
}

/// What every recording needs to know besides the command.
pub struct Recorder<'a> {
    /// Where events go.
    pub store: &'a dyn Store,
    /// The contract profile.
    pub profile: &'a Profile,
    /// The profile's calendar.
    pub calendar: &'a Calendar,
}

/// A person's case as it stands in the store, and the sequence number of their
/// latest event (for the append's expectation).
pub fn load_case(store: &dyn Store, person: PersonId) -> Result<(Case, i64), StoreError> {
    let canonical = store.canonical_person(person)?.unwrap_or(person);
    let events = store.person_events(canonical)?;
    let last = events.iter().map(|e| e.seq).max().unwrap_or(0);
    Ok((Case::fold(canonical, events), last))
}

impl Recorder<'_> {
    fn context(
        &self,
        by: &Author,
        establishment: &EstablishmentCode,
        now: DateTime<Utc>,
    ) -> Context<'_> {
        Context {
            profile: self.profile,
            calendar: self.calendar,
            recorded_by: by.username.clone(),
            actor: by.actor,
            establishment: establishment.clone(),
            now,
            trainees: &[],
        }
    }

    /// Decides `command` for `person` and appends the result, retrying when another
    /// writer got there first. A registration also checks the prison number is new.
    #[allow(clippy::too_many_arguments)]
    pub fn record(
        &self,
        by: &Author,
        establishment: &EstablishmentCode,
        person: PersonId,
        command: Command,
        now: DateTime<Utc>,
        ids: &mut dyn IdSource,
        feed: Option<&FeedRecord>,
    ) -> Result<Vec<RecordedEvent>, RecordError> {
        if let Command::Record {
            kind: EventKind::PersonRegistered(d),
            ..
        } = &command
            && let Some(holder) = self.store.find_prison_number(&d.prison_number)?
            && holder != person
        {
            // Issue 14: the answer is the same wherever the record is held (it never
            // says where), and the attempt is audited. That the number is in use at
            // all is the one thing a prison number's uniqueness must say.
            self.store.record_access(&throughcare_store::AccessEntry {
                at: now,
                username: by.username.to_string(),
                person: Some(holder),
                action: "registration-number-in-use".into(),
                detail: "register".into(),
            })?;
            return Err(DomainError::invalid(
                "prison_number",
                "This prison number already has a record. A person who comes from \
                 another prison keeps their record: it moves here when that prison \
                 records the transfer, or when it accepts a manager's request from \
                 here (Governance: ask for a record held at another prison)",
            )
            .into());
        }
        let _turn = person_stripe(self.store.canonical_person(person)?.unwrap_or(person));
        let mut attempts = 0;
        // KM 5.43.1: who may not work with a person with complex needs. Read only
        // when the person has them (the workforce is folded from the service events).
        let mut trainees: Option<Vec<StaffUsername>> = None;
        loop {
            let (case, last_seq) = load_case(self.store, person)?;
            if case.complex_needs() && trainees.is_none() {
                trainees = Some(
                    ServiceRecord::fold(&self.store.service_events()?)
                        .workforce
                        .trainees(),
                );
            }
            let ctx = Context {
                trainees: trainees.as_deref().unwrap_or(&[]),
                ..self.context(by, establishment, now)
            };
            let events = decide(&case, command.clone(), &ctx, ids)?;
            match self.append(&events, case.person, last_seq, feed) {
                Err(RecordError::Store(StoreError::Conflict)) if attempts < MAX_RETRIES => {
                    attempts += 1;
                    back_off(attempts);
                }
                other => return other,
            }
        }
    }

    /// Registers a new person (a fresh person id from `ids`) and returns the id with
    /// the events appended. The one registration path for pages, API and imports.
    #[allow(clippy::too_many_arguments)]
    pub fn register(
        &self,
        by: &Author,
        establishment: &EstablishmentCode,
        details: PersonDetails,
        now: DateTime<Utc>,
        ids: &mut dyn IdSource,
        feed: Option<&FeedRecord>,
    ) -> Result<(PersonId, Vec<RecordedEvent>), RecordError> {
        let person = PersonId(ids.next_uuid());
        let command = Command::Record {
            occurred_at: None,
            recorded_at: None,
            kind: EventKind::PersonRegistered(details),
        };
        let events = self.record(by, establishment, person, command, now, ids, feed)?;
        Ok((person, events))
    }

    /// Merges `merged` into `survivor` (two prison numbers found to be one person).
    pub fn merge(
        &self,
        by: &Author,
        establishment: &EstablishmentCode,
        survivor: PersonId,
        merged: PersonId,
        now: DateTime<Utc>,
        ids: &mut dyn IdSource,
    ) -> Result<Vec<RecordedEvent>, RecordError> {
        let ctx = self.context(by, establishment, now);
        let _turn = person_stripe(self.store.canonical_person(survivor)?.unwrap_or(survivor));
        let mut attempts = 0;
        loop {
            let (s, last_seq) = load_case(self.store, survivor)?;
            let (m, _) = load_case(self.store, merged)?;
            let events = decide_merge(&s, &m, &ctx, ids)?;
            match self.append(&events, s.person, last_seq, None) {
                Err(RecordError::Store(StoreError::Conflict)) if attempts < MAX_RETRIES => {
                    attempts += 1;
                    back_off(attempts);
                }
                other => return other,
            }
        }
    }

    /// Decides a fact about the service (no person) against the service's record and
    /// appends it. Service facts are few and written by managers; the record is
    /// folded from every service event on each write.
    pub fn record_service(
        &self,
        by: &Author,
        establishment: &EstablishmentCode,
        kind: EventKind,
        now: DateTime<Utc>,
        ids: &mut dyn IdSource,
        feed: Option<&FeedRecord>,
    ) -> Result<Vec<RecordedEvent>, RecordError> {
        let ctx = self.context(by, establishment, now);
        let record = ServiceRecord::fold(&self.store.service_events()?);
        let events = decide_service(&record, kind, &ctx, ids)?;
        Ok(self.store.append(&events, None, feed)?)
    }

    /// As [`Recorder::record_service`], by a recorder who manages
    /// `actor_establishments`: a decision on an information request needs every
    /// establishment of the request among them (KM 5.14).
    pub fn record_service_at(
        &self,
        by: &Author,
        establishment: &EstablishmentCode,
        actor_establishments: &[EstablishmentCode],
        kind: EventKind,
        now: DateTime<Utc>,
        ids: &mut dyn IdSource,
    ) -> Result<Vec<RecordedEvent>, RecordError> {
        let ctx = self.context(by, establishment, now);
        let record = ServiceRecord::fold(&self.store.service_events()?);
        let events = throughcare_domain::governance::decide_service_at(
            &record,
            kind,
            &ctx,
            actor_establishments,
            ids,
        )?;
        Ok(self.store.append(&events, None, None)?)
    }

    /// Records many facts about the service in turn, each decided against the record
    /// as the ones before it left it: the record is read once and kept up to date in
    /// memory. For a single writer seeding or importing (the demo); the first refusal
    /// stops it, with the facts before it recorded. Returns how many events it wrote.
    pub fn record_service_all(
        &self,
        by: &Author,
        facts: Vec<(EstablishmentCode, EventKind)>,
        now: DateTime<Utc>,
        ids: &mut dyn IdSource,
    ) -> Result<usize, RecordError> {
        let mut record = ServiceRecord::fold(&self.store.service_events()?);
        let mut written = 0;
        for (establishment, kind) in facts {
            let ctx = self.context(by, &establishment, now);
            let events = decide_service(&record, kind, &ctx, ids)?;
            for e in self.store.append(&events, None, None)? {
                record.apply(&e);
                written += 1;
            }
        }
        Ok(written)
    }

    fn append(
        &self,
        events: &[NewEvent],
        person: PersonId,
        last_seq: i64,
        feed: Option<&FeedRecord>,
    ) -> Result<Vec<RecordedEvent>, RecordError> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let expect = Expectation { person, last_seq };
        Ok(self.store.append(events, Some(expect), feed)?)
    }
}
