//! Scoring for the AUDIT alcohol screening questionnaire and its three-item
//! short form, AUDIT-C (REQUIREMENTS 4: screening with validated tools).
//!
//! The scoring rules, score bands and risk zones are facts about the
//! instrument. The questionnaire's wording is copyrighted, so the labels here
//! are our own short topic descriptions for forms, not the original questions;
//! a service that wants the full wording on screen must licence and supply it.

use serde::{Deserialize, Serialize};

/// Why a set of questionnaire answers was refused. Each variant names the item
/// (numbered from 1, as on the form) and the score that was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InstrumentError {
    /// An AUDIT item 1–8 was scored above 4.
    #[error("AUDIT item {item} must be scored 0 to 4 (got {got})")]
    AuditItemOutOfRange {
        /// The item number, 1–8.
        item: usize,
        /// The score given.
        got: u8,
    },
    /// AUDIT item 9 or 10 was scored something other than 0, 2 or 4.
    #[error("AUDIT item {item} must be scored 0, 2 or 4 (got {got})")]
    AuditItemNotZeroTwoOrFour {
        /// The item number, 9 or 10.
        item: usize,
        /// The score given.
        got: u8,
    },
    /// An AUDIT-C item was scored above 4.
    #[error("AUDIT-C item {item} must be scored 0 to 4 (got {got})")]
    AuditCItemOutOfRange {
        /// The item number, 1–3.
        item: usize,
        /// The score given.
        got: u8,
    },
}

/// The AUDIT-C score at or above which screening is positive and the full
/// AUDIT should follow (the UK threshold).
pub const AUDIT_C_POSITIVE_THRESHOLD: u8 = 5;

/// A complete, valid set of AUDIT answers: ten item scores, items 1–8 each
/// 0–4 and items 9–10 each 0, 2 or 4. Serialises as `{"items":[..]}` and is
/// checked again when deserialised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "AuditAnswersRecord")]
pub struct AuditAnswers {
    items: [u8; 10],
}

/// The unchecked shape of [`AuditAnswers`] as stored; deserialised first, then
/// passed through [`AuditAnswers::new`] so stored data obeys the same rules.
#[derive(Deserialize)]
struct AuditAnswersRecord {
    items: [u8; 10],
}

impl TryFrom<AuditAnswersRecord> for AuditAnswers {
    type Error = InstrumentError;

    fn try_from(record: AuditAnswersRecord) -> Result<Self, Self::Error> {
        Self::new(record.items)
    }
}

impl AuditAnswers {
    /// Checks ten item scores, in questionnaire order, and refuses the first
    /// one that the instrument does not allow.
    pub fn new(items: [u8; 10]) -> Result<Self, InstrumentError> {
        for (index, &got) in items.iter().enumerate() {
            let item = index + 1;
            if item <= 8 {
                if got > 4 {
                    return Err(InstrumentError::AuditItemOutOfRange { item, got });
                }
            } else if !matches!(got, 0 | 2 | 4) {
                return Err(InstrumentError::AuditItemNotZeroTwoOrFour { item, got });
            }
        }
        Ok(Self { items })
    }

    /// The ten item scores, in questionnaire order.
    pub fn items(&self) -> [u8; 10] {
        self.items
    }

    /// The total score, 0–40.
    pub fn score(&self) -> u8 {
        // At most 8 × 4 + 2 × 4 = 40, so the sum cannot overflow.
        self.items.iter().sum()
    }

    /// The risk zone the total score falls in.
    pub fn zone(&self) -> AuditZone {
        AuditZone::from_score(self.score())
    }

    /// The AUDIT-C answers contained in this AUDIT: its first three items are
    /// the AUDIT-C items.
    pub fn audit_c(&self) -> AuditCAnswers {
        let [a, b, c, ..] = self.items;
        // Items 1–3 were checked as 0–4 in `new`, which is all AUDIT-C needs.
        AuditCAnswers { items: [a, b, c] }
    }
}

/// The four AUDIT risk zones, each pointing to a level of response, in order
/// of increasing risk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditZone {
    /// Score 0–7: simple alcohol education.
    LowerRisk,
    /// Score 8–15: simple structured advice (brief intervention).
    IncreasingRisk,
    /// Score 16–19: brief advice plus brief counselling and monitoring.
    HigherRisk,
    /// Score 20–40: refer for specialist assessment.
    PossibleDependence,
}

impl AuditZone {
    /// The zone for an AUDIT total. Scores above 40 cannot come from valid
    /// answers; they are treated as possible dependence rather than refused.
    pub fn from_score(score: u8) -> Self {
        match score {
            0..=7 => Self::LowerRisk,
            8..=15 => Self::IncreasingRisk,
            16..=19 => Self::HigherRisk,
            _ => Self::PossibleDependence,
        }
    }

    /// The zone's name for display.
    pub fn label(self) -> &'static str {
        match self {
            Self::LowerRisk => "Lower risk",
            Self::IncreasingRisk => "Increasing risk",
            Self::HigherRisk => "Higher risk",
            Self::PossibleDependence => "Possible dependence",
        }
    }
}

/// A complete, valid set of AUDIT-C answers: three item scores, each 0–4.
/// Serialises as `{"items":[..]}` and is checked again when deserialised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "AuditCAnswersRecord")]
pub struct AuditCAnswers {
    items: [u8; 3],
}

/// The unchecked shape of [`AuditCAnswers`] as stored; deserialised first,
/// then passed through [`AuditCAnswers::new`].
#[derive(Deserialize)]
struct AuditCAnswersRecord {
    items: [u8; 3],
}

impl TryFrom<AuditCAnswersRecord> for AuditCAnswers {
    type Error = InstrumentError;

    fn try_from(record: AuditCAnswersRecord) -> Result<Self, Self::Error> {
        Self::new(record.items)
    }
}

impl AuditCAnswers {
    /// Checks three item scores (AUDIT items 1–3, in order), refusing the first
    /// one above 4.
    pub fn new(items: [u8; 3]) -> Result<Self, InstrumentError> {
        for (index, &got) in items.iter().enumerate() {
            if got > 4 {
                return Err(InstrumentError::AuditCItemOutOfRange {
                    item: index + 1,
                    got,
                });
            }
        }
        Ok(Self { items })
    }

    /// The three item scores, in questionnaire order.
    pub fn items(&self) -> [u8; 3] {
        self.items
    }

    /// The total score, 0–12.
    pub fn score(&self) -> u8 {
        self.items.iter().sum()
    }

    /// Whether screening is positive (score 5 or more), meaning the full AUDIT
    /// should be completed.
    pub fn is_positive(&self) -> bool {
        self.score() >= AUDIT_C_POSITIVE_THRESHOLD
    }
}

/// Short topic labels for AUDIT items 1–10 (index 0 is item 1), in our own
/// words, for form headings and summaries. Items 1–3 are also the AUDIT-C.
pub const AUDIT_ITEM_LABELS: [&str; 10] = [
    "Drinking frequency",
    "Units on a typical drinking day",
    "Heavy drinking sessions (6+ units women, 8+ units men)",
    "Past year: could not stop once started",
    "Past year: missed usual responsibilities because of drinking",
    "Past year: needed a drink in the morning after heavy drinking",
    "Past year: guilt or regret after drinking",
    "Past year: memory gaps after drinking",
    "Anyone injured because of the person's drinking",
    "Others concerned about the person's drinking",
];

/// Answer options for item 1: how often the person drinks.
static DRINKING_FREQUENCY_OPTIONS: [(u8, &str); 5] = [
    (0, "Never"),
    (1, "Once a month or less"),
    (2, "Two to four times a month"),
    (3, "Two or three times a week"),
    (4, "Four or more times a week"),
];

/// Answer options for item 2: units on a typical drinking day.
static TYPICAL_UNITS_OPTIONS: [(u8, &str); 5] = [
    (0, "0 to 2 units"),
    (1, "3 to 4 units"),
    (2, "5 to 6 units"),
    (3, "7 to 9 units"),
    (4, "10 or more units"),
];

/// Answer options for items 3–8: how often something happened.
static HOW_OFTEN_OPTIONS: [(u8, &str); 5] = [
    (0, "Never"),
    (1, "Less often than monthly"),
    (2, "Monthly"),
    (3, "Weekly"),
    (4, "Daily or nearly daily"),
];

/// Answer options for items 9–10: whether, and how recently, it happened.
static EVER_OR_PAST_YEAR_OPTIONS: [(u8, &str); 3] = [
    (0, "No"),
    (2, "Yes, but not in the past year"),
    (4, "Yes, in the past year"),
];

/// The allowed answers for AUDIT item `item` (1–10) as (score, label) pairs in
/// our own words, lowest score first: five options scored 0–4 for items 1–8,
/// three options scored 0, 2 and 4 for items 9–10. Any other item number gets
/// an empty slice.
pub fn audit_item_options(item: usize) -> &'static [(u8, &'static str)] {
    match item {
        1 => &DRINKING_FREQUENCY_OPTIONS,
        2 => &TYPICAL_UNITS_OPTIONS,
        3..=8 => &HOW_OFTEN_OPTIONS,
        9 | 10 => &EVER_OR_PAST_YEAR_OPTIONS,
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AUDIT answers whose total is `score`, filling items 1–8 with 4s first
    /// and then items 9–10 with 2s and 4s; `score` must be reachable.
    fn audit_scoring(score: u8) -> AuditAnswers {
        let mut items = [0u8; 10];
        let mut left = score;
        for item in items.iter_mut().take(8) {
            let take = left.min(4);
            *item = take;
            left -= take;
        }
        for item in items.iter_mut().skip(8) {
            let take = if left >= 4 { 4 } else { left };
            *item = take;
            left -= take;
        }
        assert_eq!(left, 0, "score {score} not reachable");
        AuditAnswers::new(items).unwrap()
    }

    // --- AUDIT zones ---

    #[test]
    fn audit_score_0_is_lower_risk() {
        let answers = audit_scoring(0);
        assert_eq!(answers.score(), 0);
        assert_eq!(answers.zone(), AuditZone::LowerRisk);
    }

    #[test]
    fn audit_score_7_is_lower_risk() {
        assert_eq!(audit_scoring(7).zone(), AuditZone::LowerRisk);
    }

    #[test]
    fn audit_score_8_is_increasing_risk() {
        assert_eq!(audit_scoring(8).zone(), AuditZone::IncreasingRisk);
    }

    #[test]
    fn audit_score_15_is_increasing_risk() {
        assert_eq!(audit_scoring(15).zone(), AuditZone::IncreasingRisk);
    }

    #[test]
    fn audit_score_16_is_higher_risk() {
        assert_eq!(audit_scoring(16).zone(), AuditZone::HigherRisk);
    }

    #[test]
    fn audit_score_19_is_higher_risk() {
        assert_eq!(audit_scoring(19).zone(), AuditZone::HigherRisk);
    }

    #[test]
    fn audit_score_20_is_possible_dependence() {
        assert_eq!(audit_scoring(20).zone(), AuditZone::PossibleDependence);
    }

    #[test]
    fn audit_score_40_is_possible_dependence() {
        let answers = AuditAnswers::new([4; 10]).unwrap();
        assert_eq!(answers.score(), 40);
        assert_eq!(answers.zone(), AuditZone::PossibleDependence);
    }

    #[test]
    fn zone_from_score_above_40_does_not_panic() {
        assert_eq!(AuditZone::from_score(255), AuditZone::PossibleDependence);
    }

    #[test]
    fn zone_from_score_covers_every_score_in_order() {
        let zones: Vec<AuditZone> = (0..=40).map(AuditZone::from_score).collect();
        assert!(zones.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn zone_labels_read_as_the_zone_names() {
        assert_eq!(AuditZone::LowerRisk.label(), "Lower risk");
        assert_eq!(AuditZone::IncreasingRisk.label(), "Increasing risk");
        assert_eq!(AuditZone::HigherRisk.label(), "Higher risk");
        assert_eq!(AuditZone::PossibleDependence.label(), "Possible dependence");
    }

    #[test]
    fn zone_serialises_as_snake_case() {
        assert_eq!(
            serde_json::to_string(&AuditZone::PossibleDependence).unwrap(),
            "\"possible_dependence\""
        );
        assert_eq!(
            serde_json::from_str::<AuditZone>("\"increasing_risk\"").unwrap(),
            AuditZone::IncreasingRisk
        );
    }

    // --- AUDIT validation ---

    #[test]
    fn audit_items_1_to_8_scored_5_are_rejected_naming_the_item() {
        for item in 1..=8 {
            let mut items = [0u8; 10];
            items[item - 1] = 5;
            assert_eq!(
                AuditAnswers::new(items),
                Err(InstrumentError::AuditItemOutOfRange { item, got: 5 })
            );
        }
    }

    #[test]
    fn audit_items_9_and_10_scored_odd_are_rejected_naming_the_item() {
        for item in [9, 10] {
            for got in [1, 3, 5, 255] {
                let mut items = [0u8; 10];
                items[item - 1] = got;
                assert_eq!(
                    AuditAnswers::new(items),
                    Err(InstrumentError::AuditItemNotZeroTwoOrFour { item, got })
                );
            }
        }
    }

    #[test]
    fn audit_item_9_error_message_names_item_and_allowed_scores() {
        let err = AuditAnswers::new([0, 0, 0, 0, 0, 0, 0, 0, 3, 0]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "AUDIT item 9 must be scored 0, 2 or 4 (got 3)"
        );
    }

    #[test]
    fn audit_item_out_of_range_error_message_names_item() {
        let err = AuditAnswers::new([0, 0, 0, 0, 0, 0, 9, 0, 0, 0]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "AUDIT item 7 must be scored 0 to 4 (got 9)"
        );
    }

    #[test]
    fn audit_items_are_returned_in_order() {
        let items = [0, 1, 2, 3, 4, 3, 2, 1, 2, 4];
        assert_eq!(AuditAnswers::new(items).unwrap().items(), items);
    }

    // --- AUDIT-C ---

    #[test]
    fn audit_c_score_4_is_negative() {
        let answers = AuditCAnswers::new([2, 1, 1]).unwrap();
        assert_eq!(answers.score(), 4);
        assert!(!answers.is_positive());
    }

    #[test]
    fn audit_c_score_5_is_positive() {
        let answers = AuditCAnswers::new([2, 2, 1]).unwrap();
        assert_eq!(answers.score(), 5);
        assert!(answers.is_positive());
    }

    #[test]
    fn audit_c_maximum_score_is_12() {
        assert_eq!(AuditCAnswers::new([4, 4, 4]).unwrap().score(), 12);
    }

    #[test]
    fn audit_c_item_scored_5_is_rejected_naming_the_item() {
        for item in 1..=3 {
            let mut items = [0u8; 3];
            items[item - 1] = 5;
            let err = AuditCAnswers::new(items).unwrap_err();
            assert_eq!(err, InstrumentError::AuditCItemOutOfRange { item, got: 5 });
            assert_eq!(
                err.to_string(),
                format!("AUDIT-C item {item} must be scored 0 to 4 (got 5)")
            );
        }
    }

    #[test]
    fn audit_c_is_derived_from_first_three_audit_items() {
        let audit = AuditAnswers::new([3, 2, 1, 4, 4, 4, 4, 4, 4, 4]).unwrap();
        let audit_c = audit.audit_c();
        assert_eq!(audit_c.items(), [3, 2, 1]);
        assert_eq!(audit_c.score(), 6);
        assert!(audit_c.is_positive());
    }

    // --- serde ---

    #[test]
    fn audit_serialises_as_items_object() {
        let answers = AuditAnswers::new([1, 2, 3, 4, 0, 1, 2, 3, 2, 4]).unwrap();
        assert_eq!(
            serde_json::to_string(&answers).unwrap(),
            r#"{"items":[1,2,3,4,0,1,2,3,2,4]}"#
        );
    }

    #[test]
    fn audit_serde_round_trip() {
        let answers = AuditAnswers::new([1, 2, 3, 4, 0, 1, 2, 3, 2, 4]).unwrap();
        let json = serde_json::to_string(&answers).unwrap();
        assert_eq!(
            serde_json::from_str::<AuditAnswers>(&json).unwrap(),
            answers
        );
    }

    #[test]
    fn audit_deserialising_rejects_invalid_item() {
        let err =
            serde_json::from_str::<AuditAnswers>(r#"{"items":[0,0,0,0,0,0,0,0,3,0]}"#).unwrap_err();
        assert!(
            err.to_string()
                .contains("AUDIT item 9 must be scored 0, 2 or 4 (got 3)"),
            "{err}"
        );
    }

    #[test]
    fn audit_deserialising_rejects_wrong_number_of_items() {
        assert!(serde_json::from_str::<AuditAnswers>(r#"{"items":[0,0,0]}"#).is_err());
    }

    #[test]
    fn audit_deserialising_rejects_negative_or_huge_scores() {
        assert!(
            serde_json::from_str::<AuditAnswers>(r#"{"items":[-1,0,0,0,0,0,0,0,0,0]}"#).is_err()
        );
        assert!(
            serde_json::from_str::<AuditAnswers>(r#"{"items":[256,0,0,0,0,0,0,0,0,0]}"#).is_err()
        );
    }

    #[test]
    fn audit_c_serde_round_trip() {
        let answers = AuditCAnswers::new([4, 0, 2]).unwrap();
        let json = serde_json::to_string(&answers).unwrap();
        assert_eq!(json, r#"{"items":[4,0,2]}"#);
        assert_eq!(
            serde_json::from_str::<AuditCAnswers>(&json).unwrap(),
            answers
        );
    }

    #[test]
    fn audit_c_deserialising_rejects_invalid_item() {
        let err = serde_json::from_str::<AuditCAnswers>(r#"{"items":[0,7,0]}"#).unwrap_err();
        assert!(
            err.to_string()
                .contains("AUDIT-C item 2 must be scored 0 to 4 (got 7)"),
            "{err}"
        );
    }

    // --- labels and options ---

    #[test]
    fn item_labels_are_short_and_distinct() {
        for (i, label) in AUDIT_ITEM_LABELS.iter().enumerate() {
            assert!(!label.is_empty() && label.len() <= 70, "item {}", i + 1);
            assert!(!AUDIT_ITEM_LABELS[..i].contains(label), "item {}", i + 1);
        }
    }

    #[test]
    fn items_1_to_8_offer_five_options_scored_0_to_4() {
        for item in 1..=8 {
            let scores: Vec<u8> = audit_item_options(item).iter().map(|(s, _)| *s).collect();
            assert_eq!(scores, [0, 1, 2, 3, 4], "item {item}");
        }
    }

    #[test]
    fn items_9_and_10_offer_three_options_scored_0_2_4() {
        for item in [9, 10] {
            let scores: Vec<u8> = audit_item_options(item).iter().map(|(s, _)| *s).collect();
            assert_eq!(scores, [0, 2, 4], "item {item}");
        }
    }

    #[test]
    fn every_offered_option_is_accepted_by_audit_answers() {
        for item in 1..=10 {
            for &(score, _) in audit_item_options(item) {
                let mut items = [0u8; 10];
                items[item - 1] = score;
                assert!(
                    AuditAnswers::new(items).is_ok(),
                    "item {item} score {score}"
                );
            }
        }
    }

    #[test]
    fn out_of_range_item_has_no_options() {
        assert!(audit_item_options(0).is_empty());
        assert!(audit_item_options(11).is_empty());
        assert!(audit_item_options(usize::MAX).is_empty());
    }
}
