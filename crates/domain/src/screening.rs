//! Screening for substance use, at reception or on referral (S4 §3; KM 3.2;
//! KPIs 1.1–1.2).

use crate::instruments::{AuditAnswers, AuditCAnswers};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Where a screening took place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScreeningSetting {
    /// At reception into the establishment (KPI 1.1 counts these).
    Reception,
    /// After a referral.
    OnReferral,
}

/// A substance, in the broad groups NDTMS ranks as problem substances
/// (alcohol and crack included; S4: psychoactive substances and illicit use of
/// prescribed and over-the-counter drugs too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Substance {
    /// Alcohol.
    Alcohol,
    /// Heroin.
    Heroin,
    /// Methadone not prescribed to the person.
    IllicitMethadone,
    /// Buprenorphine not prescribed to the person.
    IllicitBuprenorphine,
    /// Other opiates and opioids.
    OtherOpioids,
    /// Crack cocaine.
    Crack,
    /// Cocaine powder.
    Cocaine,
    /// Amphetamines.
    Amphetamines,
    /// Cannabis.
    Cannabis,
    /// Synthetic cannabinoids and other new psychoactive substances.
    PsychoactiveSubstances,
    /// Benzodiazepines.
    Benzodiazepines,
    /// Prescription or over-the-counter medicines misused (S4 §0).
    PrescriptionOrOverTheCounter,
    /// Ketamine.
    Ketamine,
    /// Anything else.
    Other,
}

impl Substance {
    /// Every substance, in form order.
    pub const ALL: [Substance; 14] = [
        Substance::Alcohol,
        Substance::Heroin,
        Substance::IllicitMethadone,
        Substance::IllicitBuprenorphine,
        Substance::OtherOpioids,
        Substance::Crack,
        Substance::Cocaine,
        Substance::Amphetamines,
        Substance::Cannabis,
        Substance::PsychoactiveSubstances,
        Substance::Benzodiazepines,
        Substance::PrescriptionOrOverTheCounter,
        Substance::Ketamine,
        Substance::Other,
    ];

    /// Words for forms and lists.
    pub fn label(self) -> &'static str {
        match self {
            Substance::Alcohol => "Alcohol",
            Substance::Heroin => "Heroin",
            Substance::IllicitMethadone => "Methadone (not prescribed)",
            Substance::IllicitBuprenorphine => "Buprenorphine (not prescribed)",
            Substance::OtherOpioids => "Other opioids",
            Substance::Crack => "Crack cocaine",
            Substance::Cocaine => "Cocaine powder",
            Substance::Amphetamines => "Amphetamines",
            Substance::Cannabis => "Cannabis",
            Substance::PsychoactiveSubstances => "Synthetic cannabinoids / psychoactive substances",
            Substance::Benzodiazepines => "Benzodiazepines",
            Substance::PrescriptionOrOverTheCounter => "Prescription or over-the-counter medicines",
            Substance::Ketamine => "Ketamine",
            Substance::Other => "Other",
        }
    }

    /// The name used in forms, the API and files.
    pub fn code(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    /// The substance with this code, if any.
    pub fn from_code(code: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(code.to_string())).ok()
    }

    /// Whether this is an opiate or opioid (KPIs 1.12–1.16 group by it).
    pub fn is_opiate(self) -> bool {
        matches!(
            self,
            Substance::Heroin
                | Substance::IllicitMethadone
                | Substance::IllicitBuprenorphine
                | Substance::OtherOpioids
        )
    }
}

/// Injecting status (KPIs 2.15, 3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InjectingStatus {
    /// Injecting now (in the last 28 days).
    Current,
    /// Has injected before, not now.
    Previous,
    /// Has never injected.
    Never,
    /// Declined to say.
    NotStated,
}

/// A screening for substance use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Screening {
    /// At reception or on referral.
    pub setting: ScreeningSetting,
    /// The date of the screening.
    pub screened_on: NaiveDate,
    /// The full AUDIT, when used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit: Option<AuditAnswers>,
    /// AUDIT-C on its own, when the full AUDIT was not used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_c: Option<AuditCAnswers>,
    /// Problem substances ranked: primary first, then secondary and tertiary (at most three, no repeats).
    pub problem_substances: Vec<Substance>,
    /// Injecting status.
    pub injecting: InjectingStatus,
    /// Whether the person's offending is linked to their substance use (S4 §1: they get priority).
    pub offending_linked: bool,
    /// Whether structured treatment is needed, so a comprehensive assessment follows (KM 3.2).
    pub structured_treatment_needed: bool,
}
