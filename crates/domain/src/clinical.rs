//! The clinical pathway and harm reduction (KM 3.9.3, 3.9.6, 3.1.10, 4.16–4.17,
//! 5.17; S4 §4). Throughcare records clinical *events*; dosing stays in the
//! prescribing system.

use crate::labelled_enum;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

labelled_enum! {
    /// Substitute medication (KM 3.9.3).
    pub enum Medication {
        /// Methadone.
        Methadone = ("methadone", "Methadone"),
        /// Buprenorphine.
        Buprenorphine = ("buprenorphine", "Buprenorphine"),
    }
}

labelled_enum! {
    /// What a detoxification is from (KM 3.9.6).
    pub enum DetoxSubstance {
        /// Alcohol.
        Alcohol = ("alcohol", "Alcohol"),
        /// Opiates.
        Opiates = ("opiates", "Opiates"),
    }
}

labelled_enum! {
    /// Whether a detoxification is for one substance or several (alcohol-only vs
    /// poly-substance).
    pub enum DetoxScope {
        /// That substance only.
        SingleSubstance = ("single_substance", "That substance only"),
        /// Several substances.
        PolySubstance = ("poly_substance", "Poly-substance"),
    }
}

/// One step on the clinical pathway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum ClinicalStep {
    /// A first-night prescribing need identified at reception: the 4-hour clock
    /// starts (KM 4.16–4.17).
    FirstNightNeed,
    /// Seen by a doctor (stops the first-night clock).
    SeenByDoctor,
    /// Symptomatic relief given while the clock is stopped overnight (KM 4.17).
    SymptomaticRelief,
    /// Substitute prescribing started (stops the first-night clock).
    PrescribingStarted {
        /// Methadone or buprenorphine.
        medication: Medication,
    },
    /// Benzodiazepine detoxification started.
    BenzodiazepineDetoxStarted,
    /// Detoxification started (stops the first-night clock).
    DetoxStarted {
        /// From what.
        substance: DetoxSubstance,
        /// Alcohol-only / opiates-only, or poly-substance.
        scope: DetoxScope,
    },
    /// Detoxification completed.
    DetoxCompleted {
        /// From what.
        substance: DetoxSubstance,
        /// Alcohol-only / opiates-only, or poly-substance.
        scope: DetoxScope,
    },
    /// On maintenance prescribing.
    Maintenance,
    /// Stabilising.
    Stabilising,
    /// Reducing.
    Reducing,
    /// Dropped out of prescribing.
    DroppedOutOfPrescribing,
    /// Referred for clinical treatment.
    ClinicalReferral,
    /// Clinical assessment done.
    ClinicalAssessment,
}

impl ClinicalStep {
    /// The step's code (its serde tag), for forms.
    pub fn code(&self) -> &'static str {
        match self {
            ClinicalStep::FirstNightNeed => "first_night_need",
            ClinicalStep::SeenByDoctor => "seen_by_doctor",
            ClinicalStep::SymptomaticRelief => "symptomatic_relief",
            ClinicalStep::PrescribingStarted { .. } => "prescribing_started",
            ClinicalStep::BenzodiazepineDetoxStarted => "benzodiazepine_detox_started",
            ClinicalStep::DetoxStarted { .. } => "detox_started",
            ClinicalStep::DetoxCompleted { .. } => "detox_completed",
            ClinicalStep::Maintenance => "maintenance",
            ClinicalStep::Stabilising => "stabilising",
            ClinicalStep::Reducing => "reducing",
            ClinicalStep::DroppedOutOfPrescribing => "dropped_out_of_prescribing",
            ClinicalStep::ClinicalReferral => "clinical_referral",
            ClinicalStep::ClinicalAssessment => "clinical_assessment",
        }
    }

    /// Every step code with its words, in form order.
    pub const CODES: [(&'static str, &'static str); 13] = [
        (
            "first_night_need",
            "First-night prescribing need identified",
        ),
        ("seen_by_doctor", "Seen by a doctor"),
        ("symptomatic_relief", "Symptomatic relief given"),
        ("prescribing_started", "Substitute prescribing started"),
        (
            "benzodiazepine_detox_started",
            "Benzodiazepine detox started",
        ),
        ("detox_started", "Detoxification started"),
        ("detox_completed", "Detoxification completed"),
        ("maintenance", "Maintenance prescribing"),
        ("stabilising", "Stabilising"),
        ("reducing", "Reducing"),
        ("dropped_out_of_prescribing", "Dropped out of prescribing"),
        ("clinical_referral", "Clinical referral"),
        ("clinical_assessment", "Clinical assessment"),
    ];

    /// Words for the timeline.
    pub fn label(&self) -> String {
        let base = Self::CODES
            .iter()
            .find(|(c, _)| *c == self.code())
            .map(|(_, l)| *l)
            .unwrap_or("Clinical event");
        match self {
            ClinicalStep::PrescribingStarted { medication } => {
                format!("{base}: {}", medication.label())
            }
            ClinicalStep::DetoxStarted { substance, scope }
            | ClinicalStep::DetoxCompleted { substance, scope } => {
                format!("{base}: {} ({})", substance.label(), scope.label())
            }
            _ => base.to_string(),
        }
    }

    /// Whether this step answers a first-night need: the person was seen or
    /// prescribed (KM 4.17: "seen and prescribed within 4 hours").
    pub fn stops_first_night_clock(&self) -> bool {
        matches!(
            self,
            ClinicalStep::SeenByDoctor
                | ClinicalStep::PrescribingStarted { .. }
                | ClinicalStep::DetoxStarted { .. }
                | ClinicalStep::BenzodiazepineDetoxStarted
        )
    }

    /// Whether this step starts treatment (KM 4.29; the TOP clock).
    pub fn starts_treatment(&self) -> bool {
        matches!(
            self,
            ClinicalStep::PrescribingStarted { .. }
                | ClinicalStep::DetoxStarted { .. }
                | ClinicalStep::BenzodiazepineDetoxStarted
        )
    }
}

/// A clinical event with the instant it happened (the first-night clock runs in
/// hours, so the time matters).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClinicalEvent {
    /// What happened.
    #[serde(flatten)]
    pub step: ClinicalStep,
    /// When.
    pub at: DateTime<Utc>,
    /// Any note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

labelled_enum! {
    /// Blood-borne viruses screened for (KM 3.1.10; KPI 2.15).
    pub enum Virus {
        /// Hepatitis A.
        HepatitisA = ("hepatitis_a", "Hepatitis A"),
        /// Hepatitis B.
        HepatitisB = ("hepatitis_b", "Hepatitis B"),
        /// Hepatitis C.
        HepatitisC = ("hepatitis_c", "Hepatitis C"),
        /// HIV.
        Hiv = ("hiv", "HIV"),
    }
}

labelled_enum! {
    /// A step in blood-borne virus screening or vaccination.
    pub enum BbvStep {
        /// A test (or vaccination) offered.
        Offered = ("offered", "Offered"),
        /// Accepted.
        Accepted = ("accepted", "Accepted"),
        /// Declined.
        Declined = ("declined", "Declined"),
        /// The test done.
        Tested = ("tested", "Test done"),
        /// Vaccination offered (Hepatitis B).
        VaccinationOffered = ("vaccination_offered", "Vaccination offered"),
        /// Vaccination accepted.
        VaccinationAccepted = ("vaccination_accepted", "Vaccination accepted"),
        /// Vaccination declined.
        VaccinationDeclined = ("vaccination_declined", "Vaccination declined"),
        /// One dose of the vaccine given (the first starts the course).
        VaccineDose = ("vaccine_dose", "Vaccine dose given"),
        /// The vaccination course completed.
        VaccinationCompleted = ("vaccination_completed", "Vaccination course completed"),
    }
}

impl BbvStep {
    /// Whether the step is about vaccination.
    pub fn is_vaccination(self) -> bool {
        matches!(
            self,
            BbvStep::VaccinationOffered
                | BbvStep::VaccinationAccepted
                | BbvStep::VaccinationDeclined
                | BbvStep::VaccineDose
                | BbvStep::VaccinationCompleted
        )
    }
}

labelled_enum! {
    /// A test result.
    pub enum TestResult {
        /// Positive (or reactive).
        Positive = ("positive", "Positive"),
        /// Negative.
        Negative = ("negative", "Negative"),
        /// Awaiting the result.
        Awaited = ("awaited", "Result awaited"),
    }
}

/// A step in blood-borne virus screening or vaccination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BloodBorneVirusRecord {
    /// Which virus.
    pub virus: Virus,
    /// The step.
    pub step: BbvStep,
    /// When.
    pub on: NaiveDate,
    /// The dose number, for a vaccine dose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dose: Option<u8>,
    /// The result, for a test done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<TestResult>,
}

/// Who received naloxone or overdose training (S4 §4; KM 3.9.17).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "recipient", rename_all = "snake_case")]
pub enum NaloxoneRecipient {
    /// The person themselves.
    Person,
    /// A named, consenting family member or carer.
    FamilyOrCarer {
        /// Their name.
        name: String,
        /// Their relationship to the person.
        relationship: String,
    },
}

/// Naloxone supplied and/or overdose training given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NaloxoneRecord {
    /// To whom.
    #[serde(flatten)]
    pub to: NaloxoneRecipient,
    /// When.
    pub on: NaiveDate,
    /// Overdose and life-support training given.
    pub training_given: bool,
    /// A naloxone kit supplied.
    pub kit_supplied: bool,
}

labelled_enum! {
    /// What drug intelligence concerns (KM 5.17).
    pub enum IntelligenceConcern {
        /// Illicit medication.
        IllicitMedication = ("illicit_medication", "Illicit medication"),
        /// Diverted prescribed medication.
        DivertedMedication = ("diverted_medication", "Diverted prescribed medication"),
    }
}

labelled_enum! {
    /// The action taken on drug intelligence (KM 5.17).
    pub enum IntelligenceAction {
        /// The prescription reviewed.
        PrescriptionReview = ("prescription_review", "Prescription reviewed"),
        /// An in-possession risk assessment.
        InPossessionRiskAssessment = ("in_possession_risk_assessment", "In-possession risk assessment"),
        /// A drug test requested.
        DrugTest = ("drug_test", "Drug test"),
        /// No action, with the reason in the detail.
        NoAction = ("no_action", "No action"),
    }
}

/// Drug intelligence received about the person and the action taken (KM 5.17).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrugIntelligence {
    /// When received.
    pub received_on: NaiveDate,
    /// What it concerns.
    pub concern: IntelligenceConcern,
    /// What it says, in words.
    pub detail: String,
    /// The action taken.
    pub action: IntelligenceAction,
}
