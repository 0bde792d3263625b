//! A person's registration: name, date of birth, equality monitoring and priority
//! groups (REQUIREMENTS §2; S4 §1, §3; KM 4.10, 4.18–4.24, 4.28.2, 5.10).

use crate::identifiers::{Postcode, PrisonNumber};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Sex as recorded for equality monitoring (KM 4.20).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// Female.
    Female,
    /// Male.
    Male,
    /// The person preferred not to say.
    NotStated,
}

/// A yes / no answer the person may decline to give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    /// Yes.
    Yes,
    /// No.
    No,
    /// The person preferred not to say, or was not asked.
    NotStated,
}

impl Answer {
    /// Whether the answer is a definite yes.
    pub fn is_yes(self) -> bool {
        self == Answer::Yes
    }
}

/// Ethnic group, in the broad groups of the England and Wales census (KM 4.10.3
/// counts people from black and minority ethnic groups).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ethnicity {
    /// White: English, Welsh, Scottish, Northern Irish or British.
    WhiteBritish,
    /// White: Irish.
    WhiteIrish,
    /// White: Gypsy or Irish Traveller, or Roma.
    WhiteGypsyTravellerRoma,
    /// Any other White background.
    WhiteOther,
    /// Mixed or multiple ethnic groups.
    Mixed,
    /// Asian or Asian British.
    Asian,
    /// Black, Black British, Caribbean or African.
    Black,
    /// Arab.
    Arab,
    /// Any other ethnic group.
    Other,
    /// Not stated.
    NotStated,
}

impl Ethnicity {
    /// Whether this group counts as black and minority ethnic for KM 4.10.3.
    /// White minorities (Irish, Gypsy, Traveller, Roma, other White) are counted,
    /// as the national prison statistics do; "not stated" is not.
    pub fn is_minority_ethnic(self) -> bool {
        !matches!(self, Ethnicity::WhiteBritish | Ethnicity::NotStated)
    }
}

/// Religion or belief (KM 4.20).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Religion {
    /// No religion.
    NoReligion,
    /// Christian.
    Christian,
    /// Muslim.
    Muslim,
    /// Hindu.
    Hindu,
    /// Sikh.
    Sikh,
    /// Jewish.
    Jewish,
    /// Buddhist.
    Buddhist,
    /// Any other religion or belief.
    Other,
    /// Not stated.
    NotStated,
}

/// Sexual orientation (KM 4.20).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SexualOrientation {
    /// Heterosexual or straight.
    Heterosexual,
    /// Gay or lesbian.
    GayOrLesbian,
    /// Bisexual.
    Bisexual,
    /// Another orientation.
    Other,
    /// Not stated.
    NotStated,
}

/// The equality monitoring characteristics the specifications name (S4 §1, §3;
/// KM 4.20–4.24). Every item may be left not stated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EqualityMonitoring {
    /// Sex.
    pub sex: Sex,
    /// Whether the person's gender identity is the same as the sex registered at birth.
    pub gender_identity_same_as_birth: Answer,
    /// Ethnic group.
    pub ethnicity: Ethnicity,
    /// Religion or belief.
    pub religion: Religion,
    /// Sexual orientation.
    pub sexual_orientation: SexualOrientation,
    /// Disability, including mental health (S4 §1).
    pub disability: Answer,
    /// Learning disability (S4 §1).
    pub learning_disability: Answer,
    /// Sight impairment (S4 §1; KM 4.22).
    pub sight_impairment: Answer,
    /// Hearing impairment (S4 §1; KM 4.22).
    pub hearing_impairment: Answer,
    /// Pregnancy (S4 §1; KM 4.10.5).
    pub pregnant: Answer,
    /// Nationality, in words.
    pub nationality: Option<String>,
    /// First language (KM 4.22).
    pub first_language: Option<String>,
    /// Whether an interpreter is needed (KM 4.22).
    pub interpreter_needed: Answer,
}

impl Default for EqualityMonitoring {
    fn default() -> Self {
        EqualityMonitoring {
            sex: Sex::NotStated,
            gender_identity_same_as_birth: Answer::NotStated,
            ethnicity: Ethnicity::NotStated,
            religion: Religion::NotStated,
            sexual_orientation: SexualOrientation::NotStated,
            disability: Answer::NotStated,
            learning_disability: Answer::NotStated,
            sight_impairment: Answer::NotStated,
            hearing_impairment: Answer::NotStated,
            pregnant: Answer::NotStated,
            nationality: None,
            first_language: None,
            interpreter_needed: Answer::NotStated,
        }
    }
}

/// Priority-group facts that are recorded rather than derived (KM 4.10).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedPriorityFlags {
    /// A prolific offender with a history of substance misuse problems (KM 4.10.1).
    pub prolific_offender: bool,
    /// Co-existing mental health and substance misuse problems (KM 4.10.4, 5.11).
    pub dual_diagnosis: bool,
}

/// A person's registration: who they are (REQUIREMENTS §2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonDetails {
    /// The prison number under which the person is registered.
    pub prison_number: PrisonNumber,
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// Date of birth.
    pub date_of_birth: NaiveDate,
    /// Home postcode, needed for NDTMS (KM 4.28.2); may be unknown or of no fixed abode.
    pub home_postcode: Option<Postcode>,
    /// Equality monitoring characteristics.
    pub equality: EqualityMonitoring,
    /// Recorded priority-group flags.
    pub priority: RecordedPriorityFlags,
}

impl PersonDetails {
    /// Age in whole years on `date`.
    pub fn age_on(&self, date: NaiveDate) -> u32 {
        date.years_since(self.date_of_birth).unwrap_or(0)
    }

    /// "Family name, Given name", as lists show people.
    pub fn display_name(&self) -> String {
        format!("{}, {}", self.family_name, self.given_name)
    }
}

/// The under-represented and priority groups a person belongs to on a date
/// (KM 4.10.1–4.10.6; older prisoners KM 5.10). Derived, never typed in, except
/// the recorded flags.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PriorityGroups {
    /// KM 4.10.1.
    pub prolific_offender: bool,
    /// KM 4.10.2: aged 18 to 25.
    pub young_adult: bool,
    /// KM 4.10.3.
    pub minority_ethnic: bool,
    /// KM 4.10.4.
    pub dual_diagnosis: bool,
    /// KM 4.10.5: women, particularly pregnant.
    pub woman_or_pregnant: bool,
    /// KM 4.10.6: expected release within 6 months of reception.
    pub short_sentence: bool,
    /// KM 5.10: older prisoners, taken as aged 50 or over (the prison service's usual line).
    pub older: bool,
}

impl PriorityGroups {
    /// Works out the groups of a person on `on`, given the reception date and
    /// expected release date when known.
    pub fn of(
        details: &PersonDetails,
        on: NaiveDate,
        received_on: Option<NaiveDate>,
        expected_release: Option<NaiveDate>,
    ) -> PriorityGroups {
        let age = details.age_on(on);
        let short_sentence = match (received_on, expected_release) {
            (Some(r), Some(e)) => e < add_months(r, 6),
            _ => false,
        };
        PriorityGroups {
            prolific_offender: details.priority.prolific_offender,
            young_adult: (18..=25).contains(&age),
            minority_ethnic: details.equality.ethnicity.is_minority_ethnic(),
            dual_diagnosis: details.priority.dual_diagnosis,
            woman_or_pregnant: details.equality.sex == Sex::Female
                || details.equality.pregnant.is_yes(),
            short_sentence,
            older: age >= 50,
        }
    }
}

/// `date` plus `months` calendar months, clamped to the month's last day
/// (31 January + 3 months = 30 April).
pub fn add_months(date: NaiveDate, months: u32) -> NaiveDate {
    date.checked_add_months(chrono::Months::new(months))
        .unwrap_or(NaiveDate::MAX)
}
