//! Referrals into the service, appointments offered, drug test results and onward
//! referrals (S4 §2; KM 3.1.6, 3.1.13–3.1.15, 3.3.4, 5.17).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::identifiers::StaffUsername;
use crate::record_ids::EventId;

/// Where a referral came from (S4 §2; REQUIREMENTS §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralSource {
    /// Automatic, following a confirmed positive drug test (S4 §2).
    PositiveDrugTest,
    /// The person applied in writing (S4 §2).
    SelfReferralApplication,
    /// The person rang the main office on the in-cell telephone (S4 §2).
    SelfReferralInCellTelephone,
    /// The offender management team or unit (S4 §2).
    OffenderManagement,
    /// Prison healthcare (S4 §2).
    Healthcare,
    /// The prison GP.
    Gp,
    /// Screening at reception.
    ReceptionScreening,
    /// Re-referral at the pre-release meeting (S4 §2).
    PreReleaseMeeting,
    /// Another appropriate agency (S4 §2).
    OtherAgency,
}

impl ReferralSource {
    /// Every source, in the order forms list them.
    pub const ALL: [ReferralSource; 9] = [
        ReferralSource::PositiveDrugTest,
        ReferralSource::SelfReferralApplication,
        ReferralSource::SelfReferralInCellTelephone,
        ReferralSource::OffenderManagement,
        ReferralSource::Healthcare,
        ReferralSource::Gp,
        ReferralSource::ReceptionScreening,
        ReferralSource::PreReleaseMeeting,
        ReferralSource::OtherAgency,
    ];

    /// Words for forms and lists.
    pub fn label(self) -> &'static str {
        match self {
            ReferralSource::PositiveDrugTest => "Positive drug test",
            ReferralSource::SelfReferralApplication => "Self-referral (application)",
            ReferralSource::SelfReferralInCellTelephone => "Self-referral (in-cell telephone)",
            ReferralSource::OffenderManagement => "Offender management",
            ReferralSource::Healthcare => "Prison healthcare",
            ReferralSource::Gp => "Prison GP",
            ReferralSource::ReceptionScreening => "Reception screening",
            ReferralSource::PreReleaseMeeting => "Pre-release meeting",
            ReferralSource::OtherAgency => "Other agency",
        }
    }

    /// The name used in forms, the API and files.
    pub fn code(self) -> &'static str {
        match self {
            ReferralSource::PositiveDrugTest => "positive_drug_test",
            ReferralSource::SelfReferralApplication => "self_referral_application",
            ReferralSource::SelfReferralInCellTelephone => "self_referral_in_cell_telephone",
            ReferralSource::OffenderManagement => "offender_management",
            ReferralSource::Healthcare => "healthcare",
            ReferralSource::Gp => "gp",
            ReferralSource::ReceptionScreening => "reception_screening",
            ReferralSource::PreReleaseMeeting => "pre_release_meeting",
            ReferralSource::OtherAgency => "other_agency",
        }
    }

    /// The source with this code, if any.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }
}

/// A referral into the service. Every referral starts the first-assessment clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Referral {
    /// Where it came from.
    pub source: ReferralSource,
    /// The date the referral was received (the clock starts here).
    pub referred_on: NaiveDate,
    /// The reason or any note, optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// An appointment offered to a person (S4 §2: after a positive test an appointment
/// is offered, and a decline is recorded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppointmentOffer {
    /// The referral this appointment answers, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referral: Option<EventId>,
    /// When the appointment is.
    pub at: DateTime<Utc>,
    /// The worker it is with, if booked with one (their diary shows it; KM 4.26).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker: Option<StaffUsername>,
    /// The clinic or room it is in, if any (the clinic's list shows it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clinic: Option<String>,
    /// What it is for (keyworking, group, clinic review, …), in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
}

/// An appointment moved to a new time (KM 4.26).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppointmentReschedule {
    /// The appointment (the event that offered it).
    pub appointment: EventId,
    /// The new time.
    pub at: DateTime<Utc>,
    /// Why, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What happened to an offered appointment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppointmentOutcomeKind {
    /// The person came.
    Attended,
    /// The person did not come, without declining.
    Missed,
    /// The person declined (S4 §2: recorded).
    Declined,
    /// Cancelled by the prison, e.g. a lock-down (KM 4.26).
    CancelledByPrison,
    /// Cancelled by the service.
    CancelledByService,
}

impl AppointmentOutcomeKind {
    /// Words for forms and the timeline.
    pub fn label(self) -> &'static str {
        match self {
            AppointmentOutcomeKind::Attended => "Attended",
            AppointmentOutcomeKind::Missed => "Did not attend",
            AppointmentOutcomeKind::Declined => "Declined",
            AppointmentOutcomeKind::CancelledByPrison => "Cancelled by the prison",
            AppointmentOutcomeKind::CancelledByService => "Cancelled by the service",
        }
    }
}

/// The outcome of an offered appointment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppointmentOutcome {
    /// The appointment (the event that offered it).
    pub appointment: EventId,
    /// Attended, missed or declined.
    pub outcome: AppointmentOutcomeKind,
    /// Any note, e.g. the reason given for a decline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Why a drug test was taken (KM 3.9.3, 5.17).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DrugTestReason {
    /// On reception.
    Reception,
    /// Random mandatory test.
    Random,
    /// On suspicion.
    Suspicion,
    /// Clinical monitoring.
    Clinical,
}

impl DrugTestReason {
    /// The reason with this code, if any.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "reception" => Some(Self::Reception),
            "random" => Some(Self::Random),
            "suspicion" => Some(Self::Suspicion),
            "clinical" => Some(Self::Clinical),
            _ => None,
        }
    }
}

/// A drug test result (REQUIREMENTS §9). A confirmed positive result creates a
/// referral and an appointment offer (S4 §2) and is shared with the prison
/// authorities as a duty (KM 5.17).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrugTestResult {
    /// The testing system's own identifier of the test (feeds deduplicate on it).
    pub test_ref: String,
    /// Why the test was taken.
    pub reason: DrugTestReason,
    /// When the sample was taken.
    pub sampled_on: NaiveDate,
    /// When the result was confirmed, if later than the sample (the automatic
    /// referral is dated then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmed_on: Option<NaiveDate>,
    /// Whether the confirmed result was positive.
    pub positive: bool,
    /// Substances found, in words, when positive.
    #[serde(default)]
    pub substances: Vec<String>,
}

/// Services a person can be referred on to (S4 §2; KM 3.1.13–3.1.15, 3.3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnwardService {
    /// Prison psychological services (S4 §2).
    Psychology,
    /// Mental health in-reach (KM 3.3.4).
    MentalHealth,
    /// Integrated Clinical Assessment and Treatment Service (KM 3.3.4).
    Icats,
    /// Housing (KM 3.9.12).
    Housing,
    /// Adult safeguarding (KM 3.1.13).
    AdultSafeguarding,
    /// Children's services (KM 3.1.14–3.1.15).
    ChildrensServices,
}

impl OnwardService {
    /// Every onward service, in form order.
    pub const ALL: [OnwardService; 6] = [
        OnwardService::Psychology,
        OnwardService::MentalHealth,
        OnwardService::Icats,
        OnwardService::Housing,
        OnwardService::AdultSafeguarding,
        OnwardService::ChildrensServices,
    ];

    /// Words for forms and the timeline.
    pub fn label(self) -> &'static str {
        match self {
            OnwardService::Psychology => "Psychology",
            OnwardService::MentalHealth => "Mental health",
            OnwardService::Icats => "ICATS",
            OnwardService::Housing => "Housing",
            OnwardService::AdultSafeguarding => "Adult safeguarding",
            OnwardService::ChildrensServices => "Children's services",
        }
    }

    /// The name used in forms, the API and files.
    pub fn code(self) -> &'static str {
        match self {
            OnwardService::Psychology => "psychology",
            OnwardService::MentalHealth => "mental_health",
            OnwardService::Icats => "icats",
            OnwardService::Housing => "housing",
            OnwardService::AdultSafeguarding => "adult_safeguarding",
            OnwardService::ChildrensServices => "childrens_services",
        }
    }
}

/// A referral from this service on to another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnwardReferral {
    /// To whom.
    pub to: OnwardService,
    /// When.
    pub referred_on: NaiveDate,
    /// Why, briefly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Why a referral was closed without an assessment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralClosureReason {
    /// The person declined the service (S4 §2: a decline is recorded).
    Declined,
    /// The person did not engage after repeated offers.
    DidNotEngage,
    /// The person left custody (released, deported or transferred out of the service).
    LeftCustody,
    /// The referral was not appropriate for the service.
    NotAppropriate,
    /// A duplicate of another referral.
    Duplicate,
}

impl ReferralClosureReason {
    /// Every reason, in form order.
    pub const ALL: [ReferralClosureReason; 5] = [
        ReferralClosureReason::Declined,
        ReferralClosureReason::DidNotEngage,
        ReferralClosureReason::LeftCustody,
        ReferralClosureReason::NotAppropriate,
        ReferralClosureReason::Duplicate,
    ];

    /// Words for forms and the timeline.
    pub fn label(self) -> &'static str {
        match self {
            ReferralClosureReason::Declined => "Declined the service",
            ReferralClosureReason::DidNotEngage => "Did not engage",
            ReferralClosureReason::LeftCustody => "Left custody",
            ReferralClosureReason::NotAppropriate => "Not appropriate for the service",
            ReferralClosureReason::Duplicate => "Duplicate referral",
        }
    }
}

/// A referral closed without an assessment: its first-assessment clock stops and it
/// leaves the queues (S4 §2: a decline is recorded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferralClosure {
    /// The referral (the event that made it).
    pub referral: EventId,
    /// Why.
    pub reason: ReferralClosureReason,
    /// When.
    pub closed_on: NaiveDate,
    /// Any note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}
