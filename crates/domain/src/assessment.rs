//! Assessment: the first assessment after a referral (S4 §3: within five working
//! days) and the comprehensive assessment for people who need structured treatment
//! (KM 3.2–3.3.8).

use crate::record_ids::EventId;
use crate::referrals::OnwardService;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Which assessment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssessmentKind {
    /// The initial assessment after a referral (S4 §3).
    Initial,
    /// The comprehensive substance misuse assessment (KM 3.3).
    Comprehensive,
}

/// A level of risk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskLevel {
    /// No risk identified.
    None,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
}

impl RiskLevel {
    /// Words for forms and the timeline.
    pub fn label(self) -> &'static str {
        match self {
            RiskLevel::None => "None identified",
            RiskLevel::Low => "Low",
            RiskLevel::Medium => "Medium",
            RiskLevel::High => "High",
        }
    }
}

/// Children and family (KM 3.3.2, 3.1.12–3.1.15).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FamilyIssues {
    /// How many children were in the person's care before custody.
    pub children_in_care: u8,
    /// Whether any child is subject to a child protection plan (KM 3.1.15).
    pub child_protection_plan: bool,
    /// Whether parenting support is wanted or needed (KM 3.1.12).
    pub parenting_support_needed: bool,
    /// Family issues bearing on recovery and re-integration (KM 3.3.2).
    pub notes: String,
}

/// The comprehensive substance misuse assessment: every item of KM 3.3.1–3.3.8.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComprehensiveItems {
    /// KM 3.3.1: immediate and long-term needs and goals.
    pub needs_and_goals: String,
    /// KM 3.3.2: family issues.
    pub family: FamilyIssues,
    /// KM 3.3.3: other agencies involved.
    pub other_agencies: Vec<String>,
    /// KM 3.3.4: referrals to other prison services made as a result (recorded
    /// separately as onward referrals too).
    pub onward_referrals: Vec<OnwardService>,
    /// KM 3.3.5: the person has read and understood how information about them is
    /// handled and shared.
    pub information_handling_explained: bool,
    /// KM 3.3.6: whether the person consents to NDTMS submission (also recorded in
    /// the consent ledger).
    pub ndtms_consent: bool,
    /// KM 3.3.7: risk of self-harm.
    pub risk_of_self_harm: RiskLevel,
    /// KM 3.3.7: risk of harm to others.
    pub risk_to_others: RiskLevel,
    /// KM 3.3.8: risk management plans already in place.
    pub existing_risk_management_plans: bool,
    /// KM 3.3.8: the risk management plan made according to need.
    pub risk_management_plan: String,
    /// Whether the person has complex needs (a trainee may not work with them,
    /// KM 5.43.1).
    pub complex_needs: bool,
}

/// A completed assessment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    /// Initial or comprehensive.
    pub kind: AssessmentKind,
    /// The date it was completed.
    pub assessed_on: NaiveDate,
    /// The referral it answers; when left out, the earliest referral not yet assessed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referral: Option<EventId>,
    /// A summary of what was found.
    pub summary: String,
    /// Whether structured treatment is needed.
    pub structured_treatment_needed: bool,
    /// The comprehensive items; required when `kind` is comprehensive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comprehensive: Option<ComprehensiveItems>,
}
