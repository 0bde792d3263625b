//! The event vocabulary: every fact Throughcare records, and the envelope that
//! carries it in the log. This enum is the contract between the domain, the store,
//! the API and imports; `docs/events.md` documents every type with an example.
//!
//! Events are versioned by name: a changed meaning gets a new variant, and old
//! events stay readable forever.

use crate::assessment::Assessment;
use crate::clinical::{BloodBorneVirusRecord, ClinicalEvent, DrugIntelligence, NaloxoneRecord};
use crate::consent::{ConsentRecord, ConsentWithdrawal};
use crate::custody::{ExpectedRelease, Reception, Release, Transfer};
use crate::governance::{ClinicalCoverDay, DeathReview, LearningAction, SeriousIncident};
use crate::identifiers::{EstablishmentCode, PrisonNumber, StaffUsername};
use crate::information_requests::{InformationRequestDecided, InformationRequestMade};
use crate::interventions::{InterventionUpdate, SessionAttended};
use crate::narratives::ReportNarrative;
use crate::obligations::ObligationCompleted;
use crate::outcomes::TreatmentOutcomesProfile;
use crate::people::PersonDetails;
use crate::record_ids::{EventId, PersonId};
use crate::recovery::{
    CarePlan, CarePlanReview, Induction, KeyworkerAllocation, SentencePlanContribution,
    ServiceExclusion,
};
use crate::referrals::{
    AppointmentOffer, AppointmentOutcome, AppointmentReschedule, DrugTestResult, OnwardReferral,
    Referral, ReferralClosure,
};
use crate::release::{
    CommunityEngagement, Contact, Death, FollowUpClosed, ReleasePlan, Reoffence, TreatmentExit,
};
use crate::screening::Screening;
use crate::service_records::{
    Activity, CommissionerIssue, Feedback, Involvement, MeetingAttended, Subcontractor,
};
use crate::sharing::Disclosure;
use crate::submissions::ReturnSubmitted;
use crate::surveys::{SurveyCodeIssued, SurveyResponse};
use crate::workforce::{
    CompetenceEvidence, StaffMember, TraineeSignOff, TrainingNeedsAnalysis, TrainingRecord, Vacancy,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Two prison numbers found to be one person: the merged person's history joins
/// this person's, and nothing is lost (REQUIREMENTS §2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Merge {
    /// The person whose record joins this one.
    pub merged: PersonId,
    /// The merged person's prison number, kept as an alias.
    pub merged_prison_number: PrisonNumber,
}

/// An earlier event marked as entered in error: it no longer counts anywhere, but
/// stays on the timeline. The reason is in the envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnteredInError {
    /// The event entered in error.
    pub target: EventId,
}

/// Every kind of fact, with its typed payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload", rename_all = "snake_case")]
pub enum EventKind {
    /// A person registered by prison number (REQUIREMENTS §2).
    PersonRegistered(PersonDetails),
    /// Two records found to be one person (REQUIREMENTS §2).
    PeopleMerged(Merge),
    /// Reception into custody at the event's establishment (REQUIREMENTS §2).
    Received(Reception),
    /// Transfer between establishments; the record follows the person (REQUIREMENTS §2).
    Transferred(Transfer),
    /// A manager's request that the record be transferred to their establishment,
    /// answered by the establishment that holds it (REQUIREMENTS §10; issue 14).
    TransferRequested(crate::custody::TransferRequest),
    /// The holding establishment's answer to a transfer request; accepting records
    /// the transfer out (REQUIREMENTS §10; issue 14).
    TransferRequestAnswered(crate::custody::TransferRequestAnswer),
    /// The expected release date set or changed (REQUIREMENTS §2; KM 4.10.6).
    ExpectedReleaseSet(ExpectedRelease),
    /// Release or deportation (REQUIREMENTS §2; KM 4.1).
    Released(Release),
    /// A referral into the service (S4 §2; KM 3.1.6).
    ReferralMade(Referral),
    /// A referral closed without an assessment, e.g. declined (S4 §2).
    ReferralClosed(ReferralClosure),
    /// An appointment offered (S4 §2).
    AppointmentOffered(AppointmentOffer),
    /// An appointment attended, missed or declined (S4 §2: a decline is recorded).
    AppointmentOutcomeRecorded(AppointmentOutcome),
    /// A drug test result (S4 §2; KM 5.17).
    DrugTestResulted(DrugTestResult),
    /// Information disclosed to someone outside the service, with its basis
    /// (REQUIREMENTS §5; KM 5.17).
    InformationShared(Disclosure),
    /// A referral on to another service (S4 §2; KM 3.3.4, 3.1.13–3.1.15).
    OnwardReferralMade(OnwardReferral),
    /// A screening for substance use (S4 §3; KM 3.2).
    ScreeningCompleted(Screening),
    /// An initial or comprehensive assessment (S4 §3; KM 3.3).
    AssessmentCompleted(Assessment),
    /// A consent given or refused for one purpose (REQUIREMENTS §5).
    ConsentRecorded(ConsentRecord),
    /// A consent withdrawn (REQUIREMENTS §5).
    ConsentWithdrawn(ConsentWithdrawal),
    /// An earlier event marked as entered in error (REQUIREMENTS §17).
    EnteredInError(EnteredInError),
    /// An appointment moved to a new time (KM 4.26).
    AppointmentRescheduled(AppointmentReschedule),
    /// A recovery care plan (a new version) agreed with the person (S4 §4; KM 3.4).
    CarePlanAgreed(CarePlan),
    /// A review of the recovery care plan (KM 3.7).
    CarePlanReviewed(CarePlanReview),
    /// Induction items covered, or revisited (KM 3.5–3.6).
    InductionRecorded(Induction),
    /// A Treatment Outcomes Profile completed (KM 3.7).
    TopCompleted(TreatmentOutcomesProfile),
    /// A step in a course of an intervention: offered, declined, started, completed, dropped out (KM 3.9; S4 §4).
    InterventionUpdated(InterventionUpdate),
    /// A keyworking, group, programme or mutual aid session attended (KM 3.9.2, 3.9.20, 3.1.16).
    SessionAttended(SessionAttended),
    /// A step on the clinical pathway (KM 3.9.3, 3.9.6, 4.16–4.17).
    ClinicalEventRecorded(ClinicalEvent),
    /// Blood-borne virus screening or vaccination (KM 3.1.10; KPI 2.15).
    BloodBorneVirusRecorded(BloodBorneVirusRecord),
    /// Naloxone supplied or overdose training given (S4 §4; KM 3.9.17).
    NaloxoneSupplied(NaloxoneRecord),
    /// Drug intelligence about illicit or diverted medication and the action taken (KM 5.17).
    DrugIntelligenceRecorded(DrugIntelligence),
    /// A contribution to the person's sentence plan (KM 3.8).
    SentencePlanContributed(SentencePlanContribution),
    /// A keyworker allocated to the person.
    KeyworkerAllocated(KeyworkerAllocation),
    /// A refusal or exclusion from the service, with grounds and the commissioner's consent (KM 4.9).
    ServiceExclusionRecorded(ServiceExclusion),
    /// A release plan (a new version) agreed with the person (S4 §4; KM 3.9.19, 5.18–5.22).
    ReleasePlanAgreed(ReleasePlan),
    /// The end of a treatment episode, with its reason (REQUIREMENTS §10).
    TreatmentExited(TreatmentExit),
    /// Engagement with community treatment after release, or its absence (S4 §5; KPIs 2.17–2.18).
    CommunityEngagementRecorded(CommunityEngagement),
    /// A post-treatment support contact or a re-engagement attempt (KPI 1.32; S4 §1).
    ContactRecorded(Contact),
    /// The person's death, and whether drug or alcohol related (KPI 3.7; S4 §4).
    DeathRecorded(Death),
    /// A further offence after release (KPIs 3.4–3.5; not at the IRC).
    ReoffenceRecorded(Reoffence),
    /// A release's 12-month follow-up closed with its outcome (KPIs 3.4, 3.5, 3.7).
    FollowUpClosed(FollowUpClosed),
    /// A serious incident, or a new version of one (KM 5.33–5.35). A fact about the service: no person.
    IncidentRecorded(SeriousIncident),
    /// A learning action with its owner and due date, or its update (KM 5.35; S4 §4). A fact about the service.
    LearningActionRecorded(LearningAction),
    /// A drug- or alcohol-related death review with its learning (S4 §4). A fact about the service.
    DeathReviewRecorded(DeathReview),
    /// Whether 24/7 clinical cover was provided on a day at an establishment (KPIs 2.1–2.2). A fact about the service.
    ClinicalCoverRecorded(ClinicalCoverDay),
    /// A one-time survey code issued (its hash only) for one survey (S4 §5–6; KM 5.39). A fact about the service.
    SurveyCodeIssued(SurveyCodeIssued),
    /// An anonymous survey response, by code or on paper (KPI 2.19; S4 §5–6). A fact about the service.
    SurveyResponseRecorded(SurveyResponse),
    /// A member of staff's record, or a new version of it (KM 5.43–5.46, 5.49). A fact about the service.
    StaffRecorded(StaffMember),
    /// A trainee signed off as fully competent (KM 5.43.1). A fact about the service.
    TraineeSignedOff(TraineeSignOff),
    /// Evidence of competence in a DANOS unit (KM 5.43.3, 5.47–5.49). A fact about the service.
    CompetenceRecorded(CompetenceEvidence),
    /// A training course completed or being undertaken (KM 5.43.2). A fact about the service.
    TrainingRecorded(TrainingRecord),
    /// The annual training needs analysis (KM 5.43.2). A fact about the service.
    TrainingNeedsAnalysisRecorded(TrainingNeedsAnalysis),
    /// A vacant post, or its filling (KM 6.3.1). A fact about the service.
    VacancyRecorded(Vacancy),
    /// A prison or partnership meeting attended, with who attended (S4 §1, §8–9; KM 5.8, 5.16, 5.22, 5.25). A fact about the service.
    MeetingAttended(MeetingAttended),
    /// A complaint, comment or compliment, or its handling (KM 5.39–5.41, 6.3.5). A fact about the service.
    FeedbackRecorded(Feedback),
    /// Service-user and carer involvement: expert panel, consultation event (KM 5.37–5.41). A fact about the service.
    InvolvementRecorded(Involvement),
    /// A staff awareness session, health promotion or campaign (KM 4.5.8, 5.53; S4 §4). A fact about the service.
    ActivityRecorded(Activity),
    /// A capacity or service delivery issue raised with the commissioner (KM 5.31–5.32). A fact about the service.
    CommissionerIssueRecorded(CommissionerIssue),
    /// A sub-contractor with its registrations and licences (KM 5.28–5.29). A fact about the service.
    SubcontractorRecorded(Subcontractor),
    /// One period's obligation of the profile's schedule done (KM 4.23–4.24, 6.4–6.5; S4 §5–10). A fact about the service.
    ObligationCompleted(ObligationCompleted),
    /// A return signed off as submitted, with its as-at instant and the file's hash (KM 6.4–6.5; S4 §5). A fact about the service.
    ReturnSubmitted(ReturnSubmitted),
    /// An information-sharing request from the commissioner: cohort, establishments, period, fields, lawful basis, expiry (KM 5.14–5.15). A fact about the service.
    InformationRequestMade(InformationRequestMade),
    /// A manager's approval or refusal of an information-sharing request (KM 5.14). A fact about the service.
    InformationRequestDecided(InformationRequestDecided),
    /// The text of a narrative section of a return for a period: developments in provision, emerging trends (S4 §5), the annual review (S4 §9), equality actions (KM 4.24). A fact about the service.
    ReportNarrativeRecorded(ReportNarrative),
}

impl EventKind {
    /// The event's type name as stored in the log (`person_registered`, …).
    pub fn type_name(&self) -> &'static str {
        match self {
            EventKind::PersonRegistered(_) => "person_registered",
            EventKind::PeopleMerged(_) => "people_merged",
            EventKind::Received(_) => "received",
            EventKind::Transferred(_) => "transferred",
            EventKind::TransferRequested(_) => "transfer_requested",
            EventKind::TransferRequestAnswered(_) => "transfer_request_answered",
            EventKind::ExpectedReleaseSet(_) => "expected_release_set",
            EventKind::Released(_) => "released",
            EventKind::ReferralMade(_) => "referral_made",
            EventKind::ReferralClosed(_) => "referral_closed",
            EventKind::AppointmentOffered(_) => "appointment_offered",
            EventKind::AppointmentOutcomeRecorded(_) => "appointment_outcome_recorded",
            EventKind::DrugTestResulted(_) => "drug_test_resulted",
            EventKind::InformationShared(_) => "information_shared",
            EventKind::OnwardReferralMade(_) => "onward_referral_made",
            EventKind::ScreeningCompleted(_) => "screening_completed",
            EventKind::AssessmentCompleted(_) => "assessment_completed",
            EventKind::ConsentRecorded(_) => "consent_recorded",
            EventKind::ConsentWithdrawn(_) => "consent_withdrawn",
            EventKind::EnteredInError(_) => "entered_in_error",
            EventKind::AppointmentRescheduled(_) => "appointment_rescheduled",
            EventKind::CarePlanAgreed(_) => "care_plan_agreed",
            EventKind::CarePlanReviewed(_) => "care_plan_reviewed",
            EventKind::InductionRecorded(_) => "induction_recorded",
            EventKind::TopCompleted(_) => "top_completed",
            EventKind::InterventionUpdated(_) => "intervention_updated",
            EventKind::SessionAttended(_) => "session_attended",
            EventKind::ClinicalEventRecorded(_) => "clinical_event_recorded",
            EventKind::BloodBorneVirusRecorded(_) => "blood_borne_virus_recorded",
            EventKind::NaloxoneSupplied(_) => "naloxone_supplied",
            EventKind::DrugIntelligenceRecorded(_) => "drug_intelligence_recorded",
            EventKind::SentencePlanContributed(_) => "sentence_plan_contributed",
            EventKind::KeyworkerAllocated(_) => "keyworker_allocated",
            EventKind::ServiceExclusionRecorded(_) => "service_exclusion_recorded",
            EventKind::ReleasePlanAgreed(_) => "release_plan_agreed",
            EventKind::TreatmentExited(_) => "treatment_exited",
            EventKind::CommunityEngagementRecorded(_) => "community_engagement_recorded",
            EventKind::ContactRecorded(_) => "contact_recorded",
            EventKind::DeathRecorded(_) => "death_recorded",
            EventKind::ReoffenceRecorded(_) => "reoffence_recorded",
            EventKind::FollowUpClosed(_) => "follow_up_closed",
            EventKind::IncidentRecorded(_) => "incident_recorded",
            EventKind::LearningActionRecorded(_) => "learning_action_recorded",
            EventKind::DeathReviewRecorded(_) => "death_review_recorded",
            EventKind::ClinicalCoverRecorded(_) => "clinical_cover_recorded",
            EventKind::SurveyCodeIssued(_) => "survey_code_issued",
            EventKind::SurveyResponseRecorded(_) => "survey_response_recorded",
            EventKind::StaffRecorded(_) => "staff_recorded",
            EventKind::TraineeSignedOff(_) => "trainee_signed_off",
            EventKind::CompetenceRecorded(_) => "competence_recorded",
            EventKind::TrainingRecorded(_) => "training_recorded",
            EventKind::TrainingNeedsAnalysisRecorded(_) => "training_needs_analysis_recorded",
            EventKind::VacancyRecorded(_) => "vacancy_recorded",
            EventKind::MeetingAttended(_) => "meeting_attended",
            EventKind::FeedbackRecorded(_) => "feedback_recorded",
            EventKind::InvolvementRecorded(_) => "involvement_recorded",
            EventKind::ActivityRecorded(_) => "activity_recorded",
            EventKind::CommissionerIssueRecorded(_) => "commissioner_issue_recorded",
            EventKind::SubcontractorRecorded(_) => "subcontractor_recorded",
            EventKind::ObligationCompleted(_) => "obligation_completed",
            EventKind::ReturnSubmitted(_) => "return_submitted",
            EventKind::InformationRequestMade(_) => "information_request_made",
            EventKind::InformationRequestDecided(_) => "information_request_decided",
            EventKind::ReportNarrativeRecorded(_) => "report_narrative_recorded",
        }
    }

    /// Every type name, for documentation and for checking that docs/events.md is complete.
    pub const TYPE_NAMES: [&'static str; 64] = [
        "person_registered",
        "people_merged",
        "received",
        "transferred",
        "transfer_requested",
        "transfer_request_answered",
        "expected_release_set",
        "released",
        "referral_made",
        "referral_closed",
        "appointment_offered",
        "appointment_outcome_recorded",
        "drug_test_resulted",
        "information_shared",
        "onward_referral_made",
        "screening_completed",
        "assessment_completed",
        "consent_recorded",
        "consent_withdrawn",
        "entered_in_error",
        "appointment_rescheduled",
        "care_plan_agreed",
        "care_plan_reviewed",
        "induction_recorded",
        "top_completed",
        "intervention_updated",
        "session_attended",
        "clinical_event_recorded",
        "blood_borne_virus_recorded",
        "naloxone_supplied",
        "drug_intelligence_recorded",
        "sentence_plan_contributed",
        "keyworker_allocated",
        "service_exclusion_recorded",
        "release_plan_agreed",
        "treatment_exited",
        "community_engagement_recorded",
        "contact_recorded",
        "death_recorded",
        "reoffence_recorded",
        "follow_up_closed",
        "incident_recorded",
        "learning_action_recorded",
        "death_review_recorded",
        "clinical_cover_recorded",
        "survey_code_issued",
        "survey_response_recorded",
        "staff_recorded",
        "trainee_signed_off",
        "competence_recorded",
        "training_recorded",
        "training_needs_analysis_recorded",
        "vacancy_recorded",
        "meeting_attended",
        "feedback_recorded",
        "involvement_recorded",
        "activity_recorded",
        "commissioner_issue_recorded",
        "subcontractor_recorded",
        "obligation_completed",
        "return_submitted",
        "information_request_made",
        "information_request_decided",
        "report_narrative_recorded",
    ];

    /// The payload alone, as the JSON text stored in the log.
    pub fn payload_json(&self) -> String {
        let whole = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        whole
            .get("payload")
            .map(|p| p.to_string())
            .unwrap_or_else(|| "null".to_string())
    }

    /// Rebuilds an event from its stored type name and payload text.
    pub fn from_parts(type_name: &str, payload_json: &str) -> Result<EventKind, serde_json::Error> {
        let payload: serde_json::Value = serde_json::from_str(payload_json)?;
        serde_json::from_value(serde_json::json!({ "type": type_name, "payload": payload }))
    }

    /// Whether a correction may replace `self` with `other` (same kind of fact).
    pub fn same_kind(&self, other: &EventKind) -> bool {
        self.type_name() == other.type_name()
    }
}

/// An event as stored in the log, with its place in the hash chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedEvent {
    /// Position in the log's single global sequence (1, 2, 3, …).
    pub seq: i64,
    /// The event's own identifier.
    pub id: EventId,
    /// The person the fact is about, if any.
    pub person: Option<PersonId>,
    /// The establishment where it happened or which recorded it.
    pub establishment: EstablishmentCode,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// When it entered the record: normally the append time; for history migrated
    /// from another system, that system's own time (never in the future).
    pub recorded_at: DateTime<Utc>,
    /// When this log received it.
    pub appended_at: DateTime<Utc>,
    /// Who recorded it (a staff username, or a feed's name such as `feed.movements`).
    pub recorded_by: StaffUsername,
    /// The event this one corrects, if it is a correction.
    pub supersedes: Option<EventId>,
    /// Why it was corrected or entered in error.
    pub reason: Option<String>,
    /// The fact itself.
    pub kind: EventKind,
    /// The previous event's hash (hex), or 64 zeros for the first event.
    pub prev_hash: String,
    /// This event's hash (hex): SHA-256 over the previous hash and its canonical bytes.
    pub hash: String,
}

/// An event decided by the domain and not yet appended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewEvent {
    /// The event's own identifier, chosen before appending so that other events in
    /// the same batch can refer to it.
    pub id: EventId,
    /// The person the fact is about, if any.
    pub person: Option<PersonId>,
    /// The establishment.
    pub establishment: EstablishmentCode,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// When it entered the record, for migrated history; `None` means the append time.
    pub recorded_at: Option<DateTime<Utc>>,
    /// Who recorded it.
    pub recorded_by: StaffUsername,
    /// The event this one corrects.
    pub supersedes: Option<EventId>,
    /// Why it was corrected or entered in error.
    pub reason: Option<String>,
    /// The fact.
    pub kind: EventKind,
}
