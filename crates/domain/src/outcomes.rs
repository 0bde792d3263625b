//! The Treatment Outcomes Profile (KM 3.7 and its note 2: "A Treatment Outcome
//! Profile must be completed at least every 26 weeks"): substance use, injecting,
//! offending, health and social functioning over the past 28 days. Labels are ours.

use crate::labelled_enum;
use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};

labelled_enum! {
    /// When in treatment the profile was completed.
    pub enum TopStage {
        /// At the start of treatment.
        Start = ("start", "Treatment start"),
        /// During treatment.
        Review = ("review", "Review"),
        /// At exit from treatment.
        Exit = ("exit", "Treatment exit"),
        /// After exit.
        PostExit = ("post_exit", "Post-exit"),
    }
}

labelled_enum! {
    /// The substances the profile asks about.
    pub enum TopSubstance {
        /// Alcohol.
        Alcohol = ("alcohol", "Alcohol"),
        /// Opiates (illicit).
        Opiates = ("opiates", "Opiates"),
        /// Crack cocaine.
        Crack = ("crack", "Crack"),
        /// Cocaine.
        Cocaine = ("cocaine", "Cocaine"),
        /// Amphetamines.
        Amphetamines = ("amphetamines", "Amphetamines"),
        /// Cannabis.
        Cannabis = ("cannabis", "Cannabis"),
        /// Another substance, named.
        Other = ("other", "Other substance"),
        /// Tobacco.
        Tobacco = ("tobacco", "Tobacco"),
    }
}

/// Use of one substance in the past 28 days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubstanceUse {
    /// The substance.
    pub substance: TopSubstance,
    /// Days used (0–28).
    pub days: u8,
    /// Typical amount on a day of use, in the worker's words (units, grams, £).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typical_amount: Option<String>,
}

/// A completed Treatment Outcomes Profile. Day counts are over the past 28 days;
/// ratings are 0 (poor) to 20 (good).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreatmentOutcomesProfile {
    /// When it was completed.
    pub completed_on: NaiveDate,
    /// Start, review, exit or post-exit.
    pub stage: TopStage,
    /// Use of each substance asked about (one entry per substance).
    pub substance_use: Vec<SubstanceUse>,
    /// The other substance's name, when one is recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_substance: Option<String>,
    /// Days injected.
    pub injecting_days: u8,
    /// Shared needles or syringes.
    pub shared_needles: bool,
    /// Shared other injecting equipment.
    pub shared_other_equipment: bool,
    /// Days of shoplifting.
    pub shoplifting_days: u8,
    /// Days of selling drugs.
    pub drug_selling_days: u8,
    /// Days of other theft.
    pub other_theft_days: u8,
    /// Days of assault or violence.
    pub assault_days: u8,
    /// Psychological health, 0–20.
    pub psychological_health: u8,
    /// Physical health, 0–20.
    pub physical_health: u8,
    /// Overall quality of life, 0–20.
    pub quality_of_life: u8,
    /// Days of paid work.
    pub paid_work_days: u8,
    /// Days of education or training.
    pub education_days: u8,
    /// An acute housing problem.
    pub acute_housing_problem: bool,
    /// At risk of eviction.
    pub risk_of_eviction: bool,
}

impl TreatmentOutcomesProfile {
    /// Every day count with its field name, for validation (each must be 0–28).
    pub fn day_counts(&self) -> Vec<(String, u8)> {
        let mut v: Vec<(String, u8)> = self
            .substance_use
            .iter()
            .map(|u| (format!("{}_days", u.substance.code()), u.days))
            .collect();
        v.extend([
            ("injecting_days".to_string(), self.injecting_days),
            ("shoplifting_days".to_string(), self.shoplifting_days),
            ("drug_selling_days".to_string(), self.drug_selling_days),
            ("other_theft_days".to_string(), self.other_theft_days),
            ("assault_days".to_string(), self.assault_days),
            ("paid_work_days".to_string(), self.paid_work_days),
            ("education_days".to_string(), self.education_days),
        ]);
        v
    }

    /// The three wellbeing ratings with their field names (each must be 0–20).
    pub fn ratings(&self) -> [(&'static str, u8); 3] {
        [
            ("psychological_health", self.psychological_health),
            ("physical_health", self.physical_health),
            ("quality_of_life", self.quality_of_life),
        ]
    }

    /// Days used of one substance, when recorded.
    pub fn days_used(&self, substance: TopSubstance) -> Option<u8> {
        self.substance_use
            .iter()
            .find(|u| u.substance == substance)
            .map(|u| u.days)
    }
}

/// The most days a 28-day count can hold.
pub const DAYS_IN_PERIOD: u8 = 28;
/// The highest wellbeing rating.
pub const MAX_RATING: u8 = 20;

/// The change in the self-reported wellbeing ratings between the start TOP and the
/// latest one (KPI 3.6): later minus start, so a positive number is an improvement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct WellbeingChange {
    /// Psychological health.
    pub psychological_health: i16,
    /// Physical health.
    pub physical_health: i16,
    /// Quality of life.
    pub quality_of_life: i16,
}

/// The change between the start TOP and the latest later one, if both exist.
pub fn wellbeing_change(tops: &[TreatmentOutcomesProfile]) -> Option<WellbeingChange> {
    let start = tops
        .iter()
        .filter(|t| t.stage == TopStage::Start)
        .min_by_key(|t| t.completed_on)?;
    let latest = tops
        .iter()
        .filter(|t| t.completed_on >= start.completed_on && !std::ptr::eq(*t, start))
        .max_by_key(|t| t.completed_on)?;
    let diff = |a: u8, b: u8| i16::from(b) - i16::from(a);
    Some(WellbeingChange {
        psychological_health: diff(start.psychological_health, latest.psychological_health),
        physical_health: diff(start.physical_health, latest.physical_health),
        quality_of_life: diff(start.quality_of_life, latest.quality_of_life),
    })
}

/// The date the next TOP is due after one completed on `last`: no more than
/// `weeks` weeks later (KM 3.7 note 2: 26 weeks).
pub fn next_top_due(last: NaiveDate, weeks: u32) -> NaiveDate {
    last + Duration::weeks(i64::from(weeks))
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn top(on: &str, stage: TopStage, psych: u8) -> TreatmentOutcomesProfile {
        TreatmentOutcomesProfile {
            completed_on: on.parse().unwrap(),
            stage,
            substance_use: vec![SubstanceUse {
                substance: TopSubstance::Opiates,
                days: 20,
                typical_amount: Some("£20".into()),
            }],
            other_substance: None,
            injecting_days: 0,
            shared_needles: false,
            shared_other_equipment: false,
            shoplifting_days: 0,
            drug_selling_days: 0,
            other_theft_days: 0,
            assault_days: 0,
            psychological_health: psych,
            physical_health: 10,
            quality_of_life: 8,
            paid_work_days: 0,
            education_days: 0,
            acute_housing_problem: false,
            risk_of_eviction: false,
        }
    }

    #[test]
    fn next_top_is_due_exactly_26_weeks_later() {
        let due = next_top_due("2026-01-05".parse().unwrap(), 26);
        assert_eq!(due, "2026-07-06".parse::<NaiveDate>().unwrap());
        assert_eq!(
            (due - "2026-01-05".parse::<NaiveDate>().unwrap()).num_days(),
            182
        );
    }

    #[test]
    fn wellbeing_change_is_latest_minus_start() {
        let tops = vec![
            top("2026-01-05", TopStage::Start, 6),
            top("2026-04-01", TopStage::Review, 9),
            top("2026-06-30", TopStage::Review, 13),
        ];
        let c = wellbeing_change(&tops).unwrap();
        assert_eq!(c.psychological_health, 7);
        assert_eq!(c.physical_health, 0);
    }

    #[test]
    fn no_change_without_a_start_and_a_later_profile() {
        assert_eq!(
            wellbeing_change(&[top("2026-01-05", TopStage::Start, 6)]),
            None
        );
        assert_eq!(
            wellbeing_change(&[top("2026-01-05", TopStage::Review, 6)]),
            None
        );
    }
}
