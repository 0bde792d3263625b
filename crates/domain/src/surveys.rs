//! Surveys of people in prison (S4 §5–6, §10; KM 5.39; KPI 2.19): the annual
//! satisfaction survey and the client-experience questionnaire before and after
//! treatment. A person answers on a kiosk page reached by a one-time code a worker
//! issues; staff can enter a paper response. Responses are anonymous: they carry no
//! person, only (for the pre/post pair) an opaque pairing key for the change figure.
//! Only the code's hash is ever stored.

use crate::labelled_enum;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

labelled_enum! {
    /// Which survey.
    pub enum SurveyKind {
        /// The annual satisfaction survey (S4 §6, §10; KPI 2.19).
        Satisfaction = ("satisfaction", "Annual satisfaction survey"),
        /// The client-experience questionnaire before treatment (S4 §5).
        ExperiencePre = ("experience_pre", "Client experience: before treatment"),
        /// The client-experience questionnaire after treatment (S4 §5).
        ExperiencePost = ("experience_post", "Client experience: after treatment"),
    }
}

labelled_enum! {
    /// The five-point scale, from very satisfied to very dissatisfied (KPI 2.19).
    pub enum Rating {
        /// Very satisfied.
        VerySatisfied = ("very_satisfied", "Very satisfied"),
        /// Satisfied.
        Satisfied = ("satisfied", "Satisfied"),
        /// Neither satisfied nor dissatisfied.
        Neither = ("neither", "Neither satisfied nor dissatisfied"),
        /// Dissatisfied.
        Dissatisfied = ("dissatisfied", "Dissatisfied"),
        /// Very dissatisfied.
        VeryDissatisfied = ("very_dissatisfied", "Very dissatisfied"),
    }
}

impl Rating {
    /// Whether the answer counts as satisfied or very satisfied (KPI 2.19).
    pub fn is_satisfied(self) -> bool {
        matches!(self, Rating::VerySatisfied | Rating::Satisfied)
    }
    /// The score for the pre/post change figure: 5 (very satisfied) to 1.
    pub fn score(self) -> i8 {
        match self {
            Rating::VerySatisfied => 5,
            Rating::Satisfied => 4,
            Rating::Neither => 3,
            Rating::Dissatisfied => 2,
            Rating::VeryDissatisfied => 1,
        }
    }
}

/// A one-time survey code issued by a worker: only its SHA-256 hash is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyCodeIssued {
    /// The code's SHA-256, lower-case hex.
    pub code_hash: String,
    /// The survey the code opens, and no other.
    pub survey: SurveyKind,
    /// When it was issued.
    pub issued_on: NaiveDate,
    /// An opaque key pairing a before and an after questionnaire, for the change
    /// figure only (never a person's identifier).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pair: Option<String>,
}

/// A survey response: through a code on the kiosk, or a paper response staff enter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyResponse {
    /// The hash of the code used; `None` for a paper response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_hash: Option<String>,
    /// Which survey.
    pub survey: SurveyKind,
    /// When it was received.
    pub received_on: NaiveDate,
    /// The overall rating.
    pub rating: Rating,
    /// Any comments, in the person's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comments: Option<String>,
}

/// Whether `text` looks like a stored code hash (64 lower-case hex digits).
pub fn is_code_hash(text: &str) -> bool {
    text.len() == 64
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
}
