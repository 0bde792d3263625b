//! Recovery planning and review (S4 §4; KM 3.4–3.8, 4.9): the recovery care plan
//! with its contingency plan, plan reviews, the induction, contributions to sentence
//! plans, the keyworker, and the rare refusal or exclusion of a person.

use crate::identifiers::StaffUsername;
use crate::labelled_enum;
use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

/// The contingency plan drawn up with the recovery care plan (S4 §4: "covering
/// safety, risk, overdose prevention, harm reduction and support arrangements …
/// should they leave structured treatment in an unplanned fashion on release. This
/// will also cover opportunities for re-engagement").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContingencyPlan {
    /// Keeping safe.
    pub safety: String,
    /// Risks and how they are managed.
    pub risk: String,
    /// Overdose prevention.
    pub overdose_prevention: String,
    /// Harm reduction.
    pub harm_reduction: String,
    /// Support if they leave treatment in an unplanned way on release.
    pub unplanned_exit_support: String,
    /// How they can re-engage.
    pub re_engagement: String,
}

impl ContingencyPlan {
    /// The sections with their field names and labels, in form order.
    pub fn sections(&self) -> [(&'static str, &'static str, &str); 6] {
        [
            ("safety", "Safety", &self.safety),
            ("risk", "Risk", &self.risk),
            (
                "overdose_prevention",
                "Overdose prevention",
                &self.overdose_prevention,
            ),
            ("harm_reduction", "Harm reduction", &self.harm_reduction),
            (
                "unplanned_exit_support",
                "Support if they leave treatment unplanned on release",
                &self.unplanned_exit_support,
            ),
            ("re_engagement", "Re-engagement", &self.re_engagement),
        ]
    }
}

/// A recovery care plan agreed with the person (S4 §4; KM 3.4). Each agreement is a
/// new version; earlier versions stay in the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CarePlan {
    /// The date the plan was agreed.
    pub agreed_on: NaiveDate,
    /// The person's goals, in their own words.
    pub goals: Vec<String>,
    /// The interventions chosen, by the profile catalogue's codes.
    pub interventions: Vec<String>,
    /// The contingency plan.
    pub contingency: ContingencyPlan,
    /// Whether the person agreed the plan (S4 §4: "participating in the drawing up").
    pub agreed_with_person: bool,
    /// When the plan is next reviewed; by default the profile's interval from agreement.
    pub review_on: NaiveDate,
}

/// A review of the recovery care plan (KM 3.7), which may change the goals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CarePlanReview {
    /// When it was reviewed.
    pub reviewed_on: NaiveDate,
    /// New goals, in the person's words, when the review changed them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goals: Option<Vec<String>>,
    /// What the review found, including the contingency plan (S4 §4).
    pub summary: String,
    /// When the plan is next reviewed.
    pub next_review_on: NaiveDate,
}

labelled_enum! {
    /// The seven items of the induction (KM 3.5.1–3.5.7).
    pub enum InductionItem {
        /// KM 3.5.1.
        ServiceDetails = ("service_details", "Details about the service (KM 3.5.1)"),
        /// KM 3.5.2.
        InvolvementAndPeerSupport = ("involvement_and_peer_support", "Service user involvement, peer support and carer support (KM 3.5.2)"),
        /// KM 3.5.3.
        GeneralExpectations = ("general_expectations", "General expectations (KM 3.5.3)"),
        /// KM 3.5.4.
        CodeOfConduct = ("code_of_conduct", "Code of conduct (KM 3.5.4)"),
        /// KM 3.5.5.
        SuspensionAndExclusion = ("suspension_and_exclusion", "Suspension or exclusion from treatment (KM 3.5.5)"),
        /// KM 3.5.6.
        ComplaintsProcedure = ("complaints_procedure", "The prison's complaints procedure (KM 3.5.6)"),
        /// KM 3.5.7.
        EmergencyPlanning = ("emergency_planning", "Emergency planning for unexpected transfer or release (KM 3.5.7)"),
    }
}

/// One induction item covered with the person, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InductionTick {
    /// The item.
    pub item: InductionItem,
    /// When it was covered.
    pub on: NaiveDate,
}

/// An induction or its revisit (KM 3.5–3.6): the items covered, each with its date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Induction {
    /// The items covered.
    pub items: Vec<InductionTick>,
}

impl Induction {
    /// The latest date among the items (the date the event is filed under).
    pub fn last_on(&self) -> Option<NaiveDate> {
        self.items.iter().map(|t| t.on).max()
    }
}

/// The date an induction revisit is due: three calendar months after `last` (KM 3.6),
/// on the same day of the month or the month's last day (31 Jan → 30 Apr).
pub fn induction_revisit_due(last: NaiveDate, months: u32) -> NaiveDate {
    last.checked_add_months(Months::new(months))
        .unwrap_or(NaiveDate::MAX)
}

/// A contribution to the person's sentence plan (KM 3.8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentencePlanContribution {
    /// When.
    pub contributed_on: NaiveDate,
    /// What the service contributed.
    pub summary: String,
}

/// A keyworker allocated to the person: their queues show on that worker's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyworkerAllocation {
    /// The worker's username.
    pub worker: StaffUsername,
    /// From when.
    pub allocated_on: NaiveDate,
}

labelled_enum! {
    /// The only grounds on which a person may be refused or excluded (KM 4.9).
    pub enum ExclusionGrounds {
        /// KM 4.9(a).
        SeriousRisk = ("serious_risk", "Treating the person would expose staff or others to serious risk (KM 4.9(a))"),
        /// KM 4.9(b).
        OtherGoodCause = ("other_good_cause", "Other good cause, as evidenced (KM 4.9(b))"),
    }
}

/// A refusal or exclusion of a person from the service (KM 4.9, 3.5.5). Possible only
/// with grounds, the evidence, and the commissioner's prior written consent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceExclusion {
    /// From when.
    pub excluded_on: NaiveDate,
    /// The grounds.
    pub grounds: ExclusionGrounds,
    /// The evidence for them.
    pub evidence: String,
    /// The reference of the commissioner's written consent.
    pub commissioner_consent_ref: String,
    /// Until when, if the exclusion is for a period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<NaiveDate>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn induction_revisit_is_three_calendar_months_on_clamped_to_month_end() {
        assert_eq!(induction_revisit_due(d("2026-01-31"), 3), d("2026-04-30"));
        assert_eq!(induction_revisit_due(d("2026-11-30"), 3), d("2027-02-28"));
        assert_eq!(induction_revisit_due(d("2027-11-30"), 3), d("2028-02-29"));
        assert_eq!(induction_revisit_due(d("2026-02-28"), 3), d("2026-05-28"));
        assert_eq!(induction_revisit_due(d("2026-10-15"), 3), d("2027-01-15"));
    }

    #[test]
    fn codes_round_trip() {
        for i in InductionItem::ALL {
            assert_eq!(InductionItem::from_code(i.code()), Some(*i));
        }
        assert_eq!(InductionItem::ALL.len(), 7);
    }
}
