//! A person's case: the current state of their care, folded from their events.
//!
//! `apply` never fails: every validation happens in `decide`. Corrections and
//! entries in error are resolved first, so every view, queue and clock uses the
//! latest version of each fact (REQUIREMENTS §17).

use crate::assessment::Assessment;
use crate::clinical::{BloodBorneVirusRecord, ClinicalEvent, DrugIntelligence, NaloxoneRecord};
use crate::consent::ConsentLedger;
use crate::custody::{CustodyStatus, ReceptionType};
use crate::events::{EventKind, RecordedEvent};
use crate::identifiers::{EstablishmentCode, PrisonNumber};
use crate::interventions::{InterventionStatus, InterventionTarget, SessionAttended};
use crate::outcomes::TreatmentOutcomesProfile;
use crate::people::PersonDetails;
use crate::record_ids::{EventId, PersonId};
use crate::recovery::{
    CarePlan, CarePlanReview, InductionItem, KeyworkerAllocation, SentencePlanContribution,
    ServiceExclusion,
};
use crate::referrals::{
    AppointmentOffer, AppointmentOutcomeKind, DrugTestResult, OnwardReferral, Referral,
    ReferralClosureReason,
};
use crate::release::{
    CommunityEngagement, Contact, Death, FollowUpClosed, ReleasePlan, Reoffence, TreatmentExit,
};
use crate::screening::Screening;
use crate::sharing::Disclosure;
use chrono::NaiveDate;
use std::collections::{BTreeMap, HashSet};

/// A request that the record be transferred to another establishment, and what
/// became of it (REQUIREMENTS §10; issue 14).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferRequestState {
    /// The `transfer_requested` event.
    pub id: EventId,
    /// The establishment that asked.
    pub to: EstablishmentCode,
    /// Why, in the asking manager's words.
    pub reason: String,
    /// When it was asked.
    pub requested_on: NaiveDate,
    /// Who asked.
    pub requested_by: crate::identifiers::StaffUsername,
    /// `None` while open; whether the record moved once answered, or once the
    /// person moved there or left custody anyway.
    pub answer: Option<bool>,
}

impl TransferRequestState {
    /// Whether the request still awaits an answer.
    pub fn is_open(&self) -> bool {
        self.answer.is_none()
    }
}

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
    /// Attended, missed, declined or cancelled, once recorded.
    pub outcome: Option<AppointmentOutcomeKind>,
    /// Where it was booked.
    pub establishment: EstablishmentCode,
}

/// One person's course through one intervention: every step, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Course {
    /// The event of its first step (later steps name it).
    pub id: EventId,
    /// Where it was recorded.
    pub establishment: EstablishmentCode,
    /// The catalogue code.
    pub intervention: String,
    /// What it targets.
    pub target: InterventionTarget,
    /// Every step with its date.
    pub steps: Vec<(InterventionStatus, NaiveDate)>,
    /// The language advice was given in, when recorded (KM 4.5.1).
    pub language: Option<String>,
}

impl Course {
    /// The latest step.
    pub fn status(&self) -> Option<InterventionStatus> {
        self.steps.last().map(|(s, _)| *s)
    }
    /// The date of the first step with this status.
    pub fn date_of(&self, status: InterventionStatus) -> Option<NaiveDate> {
        self.steps
            .iter()
            .find(|(s, _)| *s == status)
            .map(|(_, d)| *d)
    }
    /// Whether the course has ended (declined, completed or dropped out).
    pub fn is_ended(&self) -> bool {
        matches!(
            self.status(),
            Some(
                InterventionStatus::Declined
                    | InterventionStatus::Completed
                    | InterventionStatus::DroppedOut
            )
        )
    }
}

/// A release or deportation, with where it was from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseRecord {
    /// The `released` event.
    pub id: EventId,
    /// The date.
    pub on: NaiveDate,
    /// The establishment left.
    pub establishment: EstablishmentCode,
    /// Released or deported.
    pub kind: crate::custody::ReleaseKind,
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
    /// Where and when the person was transferred in from, while the latest movement
    /// is a transfer (REQUIREMENTS §10: the receiving caseload marks them).
    pub transferred_in: Option<(EstablishmentCode, NaiveDate)>,
    /// The reason given, while the latest movement is a break-glass transfer in
    /// (issue 14): flagged on the receiving caseload for review.
    pub transferred_by_break_glass: Option<String>,
    /// Requests that the record be transferred elsewhere, oldest first.
    pub transfer_requests: Vec<TransferRequestState>,
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
    /// Recovery care plans, oldest first: every version is kept (S4 §4; KM 3.4).
    pub care_plans: Vec<(EventId, CarePlan)>,
    /// Reviews of the plan, oldest first (KM 3.7).
    pub plan_reviews: Vec<(EventId, CarePlanReview)>,
    /// Each induction item with the date it was last covered (KM 3.5–3.6).
    pub induction: BTreeMap<InductionItem, NaiveDate>,
    /// Treatment Outcomes Profiles, by date (KM 3.7).
    pub tops: Vec<(EventId, TreatmentOutcomesProfile)>,
    /// Courses of interventions, oldest first (KM 3.9).
    pub courses: Vec<Course>,
    /// Sessions attended.
    pub sessions: Vec<(EventId, SessionAttended)>,
    /// Clinical pathway events, in time order (KM 3.9.3, 3.9.6, 4.17).
    pub clinical: Vec<(EventId, ClinicalEvent)>,
    /// Blood-borne virus screening and vaccination (KM 3.1.10).
    pub blood_borne_viruses: Vec<(EventId, BloodBorneVirusRecord)>,
    /// Naloxone supplied and overdose training (S4 §4).
    pub naloxone: Vec<(EventId, NaloxoneRecord)>,
    /// Drug intelligence and the action taken (KM 5.17).
    pub intelligence: Vec<(EventId, DrugIntelligence)>,
    /// Contributions to sentence plans (KM 3.8).
    pub sentence_plan: Vec<(EventId, SentencePlanContribution)>,
    /// The allocated keyworker, if any.
    pub keyworker: Option<KeyworkerAllocation>,
    /// A refusal or exclusion from the service (KM 4.9), if one is recorded.
    pub exclusion: Option<(EventId, ServiceExclusion)>,
    /// Releases and deportations, oldest first.
    pub releases: Vec<ReleaseRecord>,
    /// Release plans, every version (S4 §4).
    pub release_plans: Vec<(EventId, ReleasePlan)>,
    /// Treatment exits.
    pub exits: Vec<(EventId, TreatmentExit)>,
    /// Community engagement after release.
    pub engagements: Vec<(EventId, CommunityEngagement)>,
    /// Post-treatment contacts and re-engagement attempts.
    pub contacts: Vec<(EventId, Contact)>,
    /// Deaths (at most one, corrections aside).
    pub deaths: Vec<(EventId, Death)>,
    /// Offences after release.
    pub reoffences: Vec<(EventId, Reoffence)>,
    /// Closed follow-up windows.
    pub follow_ups: Vec<(EventId, FollowUpClosed)>,
    /// Every event about the person, including superseded ones, in log order: the
    /// timeline shows them all.
    pub history: Vec<RecordedEvent>,
    /// Events that a later correction replaced.
    pub superseded: HashSet<EventId>,
    /// Events marked as entered in error.
    pub in_error: HashSet<EventId>,
    /// For each correction, the original event it (or the correction it corrects)
    /// replaces: a corrected fact keeps its original identity, so later facts that
    /// name it (a course's steps, an appointment's outcome) still find it.
    pub roots: std::collections::HashMap<EventId, EventId>,
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
            transferred_in: None,
            transferred_by_break_glass: None,
            transfer_requests: Vec::new(),
            referrals: Vec::new(),
            appointments: Vec::new(),
            drug_tests: Vec::new(),
            disclosures: Vec::new(),
            onward_referrals: Vec::new(),
            screenings: Vec::new(),
            assessments: Vec::new(),
            consents: ConsentLedger::default(),
            care_plans: Vec::new(),
            plan_reviews: Vec::new(),
            induction: BTreeMap::new(),
            tops: Vec::new(),
            courses: Vec::new(),
            sessions: Vec::new(),
            clinical: Vec::new(),
            blood_borne_viruses: Vec::new(),
            naloxone: Vec::new(),
            intelligence: Vec::new(),
            sentence_plan: Vec::new(),
            keyworker: None,
            exclusion: None,
            releases: Vec::new(),
            release_plans: Vec::new(),
            exits: Vec::new(),
            engagements: Vec::new(),
            contacts: Vec::new(),
            deaths: Vec::new(),
            reoffences: Vec::new(),
            follow_ups: Vec::new(),
            history: Vec::new(),
            superseded: HashSet::new(),
            in_error: HashSet::new(),
            roots: Default::default(),
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
            if let Some(target) = e.supersedes {
                let root = case.roots.get(&target).copied().unwrap_or(target);
                case.roots.insert(e.id, root);
            }
        }
        let mut effective: Vec<&RecordedEvent> =
            history.iter().filter(|e| case.is_effective(e)).collect();
        effective.sort_by_key(|e| (e.occurred_at, e.seq));
        for e in effective {
            case.apply(e);
        }
        case.link_assessments();
        case.link_sessions();
        case.history = history;
        case
    }

    /// The identity of the fact an event records: the original event's id when the
    /// event is a correction (of a correction…), else its own.
    pub fn identity(&self, event: EventId) -> EventId {
        self.roots.get(&event).copied().unwrap_or(event)
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
        let id = self.identity(e.id);
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
                self.transferred_in = None;
                self.transferred_by_break_glass = None;
                // A new stay: the last stay's expected release no longer holds.
                self.expected_release = None;
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
                self.transferred_in = Some((t.from.clone(), on));
                self.transferred_by_break_glass = t.break_glass.clone();
                for r in &mut self.transfer_requests {
                    if r.is_open() && r.to == t.to {
                        r.answer = Some(true);
                    }
                }
            }
            EventKind::TransferRequested(r) => self.transfer_requests.push(TransferRequestState {
                id,
                to: r.to.clone(),
                reason: r.reason.clone(),
                requested_on: on,
                requested_by: e.recorded_by.clone(),
                answer: None,
            }),
            EventKind::TransferRequestAnswered(a) => {
                let request = self.identity(a.request);
                if let Some(r) = self
                    .transfer_requests
                    .iter_mut()
                    .find(|r| r.id == request && r.is_open())
                {
                    r.answer = Some(a.accepted);
                }
            }
            EventKind::ExpectedReleaseSet(x) => self.expected_release = x.date,
            EventKind::Released(r) => {
                self.transferred_in = None;
                self.transferred_by_break_glass = None;
                for t in &mut self.transfer_requests {
                    if t.is_open() {
                        t.answer = Some(false);
                    }
                }
                self.expected_release = None;
                self.custody = CustodyStatus::Left {
                    establishment: e.establishment.clone(),
                    kind: r.kind,
                    on,
                };
                self.releases.push(ReleaseRecord {
                    id,
                    on,
                    establishment: e.establishment.clone(),
                    kind: r.kind,
                });
            }
            EventKind::ReferralMade(r) => self.referrals.push(ReferralState {
                id,
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
                id,
                offer: a.clone(),
                outcome: None,
                establishment: e.establishment.clone(),
            }),
            EventKind::AppointmentRescheduled(r) => {
                if let Some(a) = self.appointments.iter_mut().find(|a| a.id == r.appointment) {
                    a.offer.at = r.at;
                }
            }
            EventKind::AppointmentOutcomeRecorded(o) => {
                if let Some(a) = self.appointments.iter_mut().find(|a| a.id == o.appointment) {
                    a.outcome = Some(o.outcome);
                }
            }
            EventKind::DrugTestResulted(t) => self.drug_tests.push((id, t.clone())),
            EventKind::InformationShared(s) => self.disclosures.push((id, s.clone())),
            EventKind::OnwardReferralMade(r) => self.onward_referrals.push((id, r.clone())),
            EventKind::ScreeningCompleted(s) => self.screenings.push((id, s.clone())),
            EventKind::AssessmentCompleted(a) => self.assessments.push((id, a.clone())),
            EventKind::ConsentRecorded(c) => self.consents.record(c),
            EventKind::ConsentWithdrawn(w) => self.consents.withdraw(w),
            EventKind::EnteredInError(_) => {}
            EventKind::CarePlanAgreed(p) => self.care_plans.push((id, p.clone())),
            EventKind::CarePlanReviewed(r) => self.plan_reviews.push((id, r.clone())),
            EventKind::InductionRecorded(i) => {
                for t in &i.items {
                    let latest = self.induction.entry(t.item).or_insert(t.on);
                    *latest = (*latest).max(t.on);
                }
            }
            EventKind::TopCompleted(t) => self.tops.push((id, t.clone())),
            EventKind::InterventionUpdated(u) => match u.course {
                None => self.courses.push(Course {
                    id,
                    establishment: e.establishment.clone(),
                    intervention: u.intervention.clone(),
                    target: u.target,
                    steps: vec![(u.status, u.on)],
                    language: u.language.clone(),
                }),
                Some(id) => {
                    if let Some(c) = self.courses.iter_mut().find(|c| c.id == id) {
                        c.steps.push((u.status, u.on));
                        if u.language.is_some() {
                            c.language = u.language.clone();
                        }
                    }
                }
            },
            EventKind::SessionAttended(x) => self.sessions.push((id, x.clone())),
            EventKind::ClinicalEventRecorded(c) => self.clinical.push((id, c.clone())),
            EventKind::BloodBorneVirusRecorded(b) => self.blood_borne_viruses.push((id, b.clone())),
            EventKind::NaloxoneSupplied(n) => self.naloxone.push((id, n.clone())),
            EventKind::DrugIntelligenceRecorded(d) => self.intelligence.push((id, d.clone())),
            EventKind::SentencePlanContributed(c) => self.sentence_plan.push((id, c.clone())),
            EventKind::KeyworkerAllocated(k) => self.keyworker = Some(k.clone()),
            EventKind::ServiceExclusionRecorded(x) => self.exclusion = Some((id, x.clone())),
            EventKind::ReleasePlanAgreed(x) => self.release_plans.push((id, x.clone())),
            EventKind::TreatmentExited(x) => self.exits.push((id, x.clone())),
            EventKind::CommunityEngagementRecorded(x) => self.engagements.push((id, x.clone())),
            EventKind::ContactRecorded(x) => self.contacts.push((id, x.clone())),
            EventKind::DeathRecorded(x) => self.deaths.push((id, x.clone())),
            EventKind::ReoffenceRecorded(x) => self.reoffences.push((id, x.clone())),
            EventKind::FollowUpClosed(x) => self.follow_ups.push((id, x.clone())),
            EventKind::IncidentRecorded(_)
            | EventKind::LearningActionRecorded(_)
            | EventKind::DeathReviewRecorded(_)
            | EventKind::ClinicalCoverRecorded(_)
            | EventKind::SurveyCodeIssued(_)
            | EventKind::SurveyResponseRecorded(_)
            | EventKind::StaffRecorded(_)
            | EventKind::TraineeSignedOff(_)
            | EventKind::CompetenceRecorded(_)
            | EventKind::TrainingRecorded(_)
            | EventKind::TrainingNeedsAnalysisRecorded(_)
            | EventKind::VacancyRecorded(_)
            | EventKind::MeetingAttended(_)
            | EventKind::FeedbackRecorded(_)
            | EventKind::InvolvementRecorded(_)
            | EventKind::ActivityRecorded(_)
            | EventKind::CommissionerIssueRecorded(_)
            | EventKind::SubcontractorRecorded(_)
            | EventKind::ObligationCompleted(_)
            | EventKind::ReturnSubmitted(_)
            | EventKind::InformationRequestMade(_)
            | EventKind::InformationRequestDecided(_)
            | EventKind::ReportNarrativeRecorded(_) => {}
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
            // An assessment answers a referral only on or after its date (a corrected
            // referral date later than its assessment leaves it unanswered).
            if let Some(r) = self.referrals.iter_mut().find(|r| Some(r.id) == target)
                && r.first_assessment.is_none()
                && a.assessed_on >= r.referral.referred_on
            {
                r.first_assessment = Some((id, a.assessed_on));
            }
        }
    }

    /// Marks the appointment a session was booked as attended, unless it has an
    /// outcome of its own. Done after the fold: a session carries only its date (filed
    /// at midday), so it may sort before an appointment booked that afternoon.
    fn link_sessions(&mut self) {
        for (_, s) in &self.sessions {
            if let Some(id) = s.appointment
                && let Some(a) = self.appointments.iter_mut().find(|a| a.id == id)
                && a.outcome.is_none()
            {
                a.outcome = Some(AppointmentOutcomeKind::Attended);
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

    /// The current recovery care plan (the latest agreed version) with its event.
    pub fn care_plan(&self) -> Option<&(EventId, CarePlan)> {
        self.care_plans.iter().max_by_key(|(_, p)| p.agreed_on)
    }

    /// The person's goals now: those of the latest review that changed them since
    /// the current plan, else the plan's.
    pub fn current_goals(&self) -> Vec<String> {
        let Some((_, plan)) = self.care_plan() else {
            return Vec::new();
        };
        self.plan_reviews
            .iter()
            .filter(|(_, r)| r.reviewed_on >= plan.agreed_on && r.goals.is_some())
            .max_by_key(|(_, r)| r.reviewed_on)
            .and_then(|(_, r)| r.goals.clone())
            .unwrap_or_else(|| plan.goals.clone())
    }

    /// When the current plan is next reviewed: the latest review's next date since
    /// the plan was agreed, else the plan's own review date.
    pub fn next_plan_review(&self) -> Option<NaiveDate> {
        let (_, plan) = self.care_plan()?;
        Some(
            self.plan_reviews
                .iter()
                .filter(|(_, r)| r.reviewed_on >= plan.agreed_on)
                .max_by_key(|(_, r)| r.reviewed_on)
                .map(|(_, r)| r.next_review_on)
                .unwrap_or(plan.review_on),
        )
    }

    /// The date by which all seven induction items had last been covered: the
    /// earliest of each item's latest date, once every item has one (KM 3.5–3.6).
    pub fn induction_completed_on(&self) -> Option<NaiveDate> {
        if self.induction.len() < InductionItem::ALL.len() {
            return None;
        }
        self.induction.values().min().copied()
    }

    /// The latest Treatment Outcomes Profile.
    pub fn latest_top(&self) -> Option<&TreatmentOutcomesProfile> {
        self.tops
            .iter()
            .map(|(_, t)| t)
            .max_by_key(|t| t.completed_on)
    }

    /// The exclusion in force on `on`, if any (KM 4.9).
    pub fn exclusion_on(&self, on: NaiveDate) -> Option<&ServiceExclusion> {
        self.exclusion
            .as_ref()
            .map(|(_, x)| x)
            .filter(|x| x.excluded_on <= on && x.until.is_none_or(|u| on <= u))
    }

    /// The date of the person's latest reception, when in custody.
    pub fn received_on(&self) -> Option<NaiveDate> {
        match &self.custody {
            CustodyStatus::InCustody { received_on, .. } => Some(*received_on),
            _ => None,
        }
    }
}
