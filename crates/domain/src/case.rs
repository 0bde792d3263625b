//! A person's case: the current state of their care, folded from their events.
//!
//! `apply` never fails: every validation happens in `decide`. Corrections and
//! entries in error are resolved first, so every view, queue and clock uses the
//! latest version of each fact (REQUIREMENTS §17).

use crate::assessment::Assessment;
use crate::consent::ConsentLedger;
use crate::custody::{CustodyStatus, ReceptionType};
use crate::events::{EventKind, RecordedEvent};
use crate::identifiers::{EstablishmentCode, PrisonNumber};
use crate::people::PersonDetails;
use crate::record_ids::{EventId, PersonId};
use crate::referrals::{
    AppointmentOffer, AppointmentOutcomeKind, DrugTestResult, OnwardReferral, Referral,
    ReferralClosureReason,
};
use crate::screening::Screening;
use crate::sharing::Disclosure;
use chrono::NaiveDate;
use std::collections::HashSet;

/// A referral with what has happened to it since.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferralState {
    /// The event that made the referral.
    pub id: EventId,
    /// Where it was made.
    pub establishment: EstablishmentCode,
    /// The referral itself.
    pub referral: Referral,
    /// The first assessment answering it: its event and date.
    pub first_assessment: Option<(EventId, NaiveDate)>,
    /// When and why it was closed without an assessment, if it was.
    pub closed: Option<(NaiveDate, ReferralClosureReason)>,
}

impl ReferralState {
    /// Whether the referral still waits for its first assessment.
    pub fn is_open(&self) -> bool {
        self.first_assessment.is_none() && self.closed.is_none()
    }
}

/// An offered appointment with its outcome, once known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppointmentState {
    /// The event that offered it.
    pub id: EventId,
    /// The offer.
    pub offer: AppointmentOffer,
    /// Attended, missed or declined, once recorded.
    pub outcome: Option<AppointmentOutcomeKind>,
}

/// Everything known now about one person, from their effective events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// The person.
    pub person: PersonId,
    /// Their registration, once registered.
    pub details: Option<PersonDetails>,
    /// Prison numbers of records merged into this one.
    pub merged_prison_numbers: Vec<PrisonNumber>,
    /// People merged into this one.
    pub merged_people: Vec<PersonId>,
    /// Where the person is.
    pub custody: CustodyStatus,
    /// Establishments the person has been held at, in order, with the date they arrived.
    pub establishments_history: Vec<(EstablishmentCode, NaiveDate)>,
    /// The expected release date, if known.
    pub expected_release: Option<NaiveDate>,
    /// Referrals into the service, oldest first.
    pub referrals: Vec<ReferralState>,
    /// Appointments offered.
    pub appointments: Vec<AppointmentState>,
    /// Drug test results.
    pub drug_tests: Vec<(EventId, DrugTestResult)>,
    /// Disclosures made, with their basis.
    pub disclosures: Vec<(EventId, Disclosure)>,
    /// Onward referrals.
    pub onward_referrals: Vec<(EventId, OnwardReferral)>,
    /// Screenings.
    pub screenings: Vec<(EventId, Screening)>,
    /// Assessments.
    pub assessments: Vec<(EventId, Assessment)>,
    /// Consents, purpose by purpose.
    pub consents: ConsentLedger,
    /// Every event about the person, including superseded ones, in log order: the
    /// timeline shows them all.
    pub history: Vec<RecordedEvent>,
    /// Events that a later correction replaced.
    pub superseded: HashSet<EventId>,
    /// Events marked as entered in error.
    pub in_error: HashSet<EventId>,
}

impl Case {
    /// An empty case for a person not yet registered.
    pub fn new(person: PersonId) -> Case {
        Case {
            person,
            details: None,
            merged_prison_numbers: Vec::new(),
            merged_people: Vec::new(),
            custody: CustodyStatus::NotYetReceived,
            establishments_history: Vec::new(),
            expected_release: None,
            referrals: Vec::new(),
            appointments: Vec::new(),
            drug_tests: Vec::new(),
            disclosures: Vec::new(),
            onward_referrals: Vec::new(),
            screenings: Vec::new(),
            assessments: Vec::new(),
            consents: ConsentLedger::default(),
            history: Vec::new(),
            superseded: HashSet::new(),
            in_error: HashSet::new(),
        }
    }

    /// Folds a person's events (their own and those of anyone merged into them, in
    /// any order) into their case.
    pub fn fold(person: PersonId, events: impl IntoIterator<Item = RecordedEvent>) -> Case {
        let mut case = Case::new(person);
        let mut history: Vec<RecordedEvent> = events.into_iter().collect();
        history.sort_by_key(|e| e.seq);
        // When two corrections replace the same event (say, recorded twice), only the
        // later counts: the earlier is itself replaced. Applying a correction twice
        // therefore equals applying it once.
        let mut latest_correction: std::collections::HashMap<EventId, EventId> = Default::default();
        for e in &history {
            if let Some(target) = e.supersedes {
                case.superseded.insert(target);
                if let Some(earlier) = latest_correction.insert(target, e.id) {
                    case.superseded.insert(earlier);
                }
            }
            if let EventKind::EnteredInError(x) = &e.kind {
                case.in_error.insert(x.target);
            }
        }
        let mut effective: Vec<&RecordedEvent> =
            history.iter().filter(|e| case.is_effective(e)).collect();
        effective.sort_by_key(|e| (e.occurred_at, e.seq));
        for e in effective {
            case.apply(e);
        }
        case.link_assessments();
        case.history = history;
        case
    }

    /// Whether an event counts now: not replaced by a correction, not in error, and
    /// not itself a mark of error.
    pub fn is_effective(&self, e: &RecordedEvent) -> bool {
        !self.superseded.contains(&e.id)
            && !self.in_error.contains(&e.id)
            && !matches!(e.kind, EventKind::EnteredInError(_))
    }

    /// Applies one effective event. Never fails.
    fn apply(&mut self, e: &RecordedEvent) {
        let on = crate::time::local_date(e.occurred_at);
        match &e.kind {
            EventKind::PersonRegistered(d) => {
                if e.person == Some(self.person) {
                    self.details = Some(d.clone());
                } else if !self.merged_prison_numbers.contains(&d.prison_number) {
                    self.merged_prison_numbers.push(d.prison_number.clone());
                }
            }
            EventKind::PeopleMerged(m) => {
                if !self.merged_people.contains(&m.merged) {
                    self.merged_people.push(m.merged);
                }
                if !self.merged_prison_numbers.contains(&m.merged_prison_number) {
                    self.merged_prison_numbers
                        .push(m.merged_prison_number.clone());
                }
            }
            EventKind::Received(r) => {
                self.custody = CustodyStatus::InCustody {
                    establishment: e.establishment.clone(),
                    reception_type: r.reception_type,
                    received_on: on,
                };
                self.establishments_history
                    .push((e.establishment.clone(), on));
            }
            EventKind::Transferred(t) => {
                let (reception_type, received_on) = match &self.custody {
                    CustodyStatus::InCustody {
                        reception_type,
                        received_on,
                        ..
                    } => (*reception_type, *received_on),
                    _ => (ReceptionType::Sentenced, on),
                };
                self.custody = CustodyStatus::InCustody {
                    establishment: t.to.clone(),
                    reception_type,
                    received_on,
                };
                self.establishments_history.push((t.to.clone(), on));
            }
            EventKind::ExpectedReleaseSet(x) => self.expected_release = x.date,
            EventKind::Released(r) => {
                self.custody = CustodyStatus::Left {
                    establishment: e.establishment.clone(),
                    kind: r.kind,
                    on,
                };
            }
            EventKind::ReferralMade(r) => self.referrals.push(ReferralState {
                id: e.id,
                establishment: e.establishment.clone(),
                referral: r.clone(),
                first_assessment: None,
                closed: None,
            }),
            EventKind::ReferralClosed(c) => {
                if let Some(r) = self.referrals.iter_mut().find(|r| r.id == c.referral) {
                    r.closed = Some((c.closed_on, c.reason));
                }
            }
            EventKind::AppointmentOffered(a) => self.appointments.push(AppointmentState {
                id: e.id,
                offer: a.clone(),
                outcome: None,
            }),
            EventKind::AppointmentOutcomeRecorded(o) => {
                if let Some(a) = self.appointments.iter_mut().find(|a| a.id == o.appointment) {
                    a.outcome = Some(o.outcome);
                }
            }
            EventKind::DrugTestResulted(t) => self.drug_tests.push((e.id, t.clone())),
            EventKind::InformationShared(s) => self.disclosures.push((e.id, s.clone())),
            EventKind::OnwardReferralMade(r) => self.onward_referrals.push((e.id, r.clone())),
            EventKind::ScreeningCompleted(s) => self.screenings.push((e.id, s.clone())),
            EventKind::AssessmentCompleted(a) => self.assessments.push((e.id, a.clone())),
            EventKind::ConsentRecorded(c) => self.consents.record(c),
            EventKind::ConsentWithdrawn(w) => self.consents.withdraw(w),
            EventKind::EnteredInError(_) => {}
        }
    }

    /// Marks each referral's first assessment: the assessment that names it, or else
    /// the earliest assessment on or after its date that names no referral. Done on
    /// dates, after the fold, so a same-day assessment stamped before the referral's
    /// time still answers it.
    fn link_assessments(&mut self) {
        let mut order: Vec<usize> = (0..self.assessments.len()).collect();
        order.sort_by_key(|&i| self.assessments[i].1.assessed_on);
        for i in order {
            let (id, a) = (self.assessments[i].0, self.assessments[i].1.clone());
            let target = a
                .referral
                .or_else(|| self.earliest_unassessed(a.assessed_on));
            if let Some(r) = self.referrals.iter_mut().find(|r| Some(r.id) == target)
                && r.first_assessment.is_none()
            {
                r.first_assessment = Some((id, a.assessed_on));
            }
        }
    }

    /// The earliest referral made on or before `on` with no assessment yet.
    pub fn earliest_unassessed(&self, on: NaiveDate) -> Option<EventId> {
        self.referrals
            .iter()
            .filter(|r| r.is_open() && r.referral.referred_on <= on)
            .min_by_key(|r| r.referral.referred_on)
            .map(|r| r.id)
    }

    /// Whether the person is registered.
    pub fn is_registered(&self) -> bool {
        self.details.is_some()
    }

    /// The establishment responsible for the person now: where they are held, or
    /// where they were last held, or where they were registered.
    pub fn establishment(&self) -> Option<&EstablishmentCode> {
        match &self.custody {
            CustodyStatus::InCustody { establishment, .. } => Some(establishment),
            CustodyStatus::Left { establishment, .. } => Some(establishment),
            CustodyStatus::NotYetReceived => self
                .history
                .iter()
                .find(|e| {
                    matches!(e.kind, EventKind::PersonRegistered(_))
                        && e.person == Some(self.person)
                })
                .map(|e| &e.establishment),
        }
    }

    /// Whether the latest screening or assessment found the person's offending
    /// linked to their substance use (S4 §1: they get priority).
    pub fn offending_linked(&self) -> bool {
        self.screenings
            .iter()
            .max_by_key(|(_, s)| s.screened_on)
            .is_some_and(|(_, s)| s.offending_linked)
    }

    /// Whether the latest comprehensive assessment flags complex needs.
    pub fn complex_needs(&self) -> bool {
        self.assessments
            .iter()
            .filter_map(|(_, a)| a.comprehensive.as_ref().map(|c| (a.assessed_on, c)))
            .max_by_key(|(on, _)| *on)
            .is_some_and(|(_, c)| c.complex_needs)
    }

    /// The recorded event with this id, if it is about this person.
    pub fn event(&self, id: EventId) -> Option<&RecordedEvent> {
        self.history.iter().find(|e| e.id == id)
    }

    /// The date of the person's latest reception, when in custody.
    pub fn received_on(&self) -> Option<NaiveDate> {
        match &self.custody {
            CustodyStatus::InCustody { received_on, .. } => Some(*received_on),
            _ => None,
        }
    }
}
