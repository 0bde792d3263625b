//! Contract profiles: which establishments a service covers, what each offers,
//! the holiday calendar for working-day clocks, and the clock settings.
//!
//! A profile is a data file (JSON), not code (REQUIREMENTS §1). Two ship inside the
//! binary: `kent-medway` (KM 1.4) and `single-prison` (S4).

use crate::calendar::{Calendar, HolidayRules};
use crate::identifiers::EstablishmentCode;
use crate::interventions::InterventionDef;
use crate::obligations::ObligationSchedule;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The kind of establishment, which decides the service it gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EstablishmentKind {
    /// A prison: the full service of KM 3.
    Prison,
    /// An immigration removal centre: the narrower service of KM 4.1–4.14 (no
    /// structured psychosocial interventions, no reoffending outcome).
    ImmigrationRemovalCentre,
}

/// The service's single point of contact at an establishment (KM 4.6–4.7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SinglePointOfContact {
    /// The SPOC's role or name as professionals should ask for it.
    pub name: String,
    /// A telephone number for professional bodies.
    pub telephone: String,
    /// The secure email address for referrals (KM 4.7).
    pub secure_email: String,
    /// The fax number for referrals (KM 4.7).
    pub referral_fax: String,
}

/// One establishment (prison or IRC) covered by a profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Establishment {
    /// The three-letter establishment code.
    pub code: EstablishmentCode,
    /// The establishment's name.
    pub name: String,
    /// Prison or immigration removal centre.
    pub kind: EstablishmentKind,
    /// Whether structured psychosocial interventions are offered here (KM 4.14: not
    /// at IRC Dover).
    pub offers_structured_psychosocial: bool,
    /// Whether reoffending after release is an outcome here (KM 2.1 note 1: not at
    /// IRC Dover).
    pub reoffending_is_outcome: bool,
    /// The single point of contact (KM 4.6–4.7).
    pub spoc: SinglePointOfContact,
}

/// Clock settings of a profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockSettings {
    /// Working days from referral to the first assessment (S4 §3: five); `None`
    /// turns the clock off.
    pub first_assessment_working_days: Option<u32>,
    /// Weeks from a recovery care plan (or its review) to the next review (KM 3.7).
    #[serde(default = "default_care_plan_review_weeks")]
    pub care_plan_review_weeks: u32,
    /// Weeks from a comprehensive assessment to its update (KM 3.7).
    #[serde(default = "default_reassessment_weeks")]
    pub reassessment_weeks: u32,
    /// Weeks from one Treatment Outcomes Profile to the next (KM 3.7 note 2: 26).
    #[serde(default = "default_top_interval_weeks")]
    pub top_interval_weeks: u32,
    /// Calendar months from an induction to its revisit (KM 3.6: at least every 3).
    #[serde(default = "default_induction_revisit_months")]
    pub induction_revisit_months: u32,
    /// Working days from a complaint's receipt to its acknowledgement. The specs set
    /// none (KM 5.39, 6.3.5); 3 follows the NHS complaints regulations.
    #[serde(default = "default_complaint_acknowledgement_working_days")]
    pub complaint_acknowledgement_working_days: u32,
    /// Working days from a complaint's receipt to its response. The specs set none;
    /// 20 (four working weeks) is this service's default (docs/governance.md).
    #[serde(default = "default_complaint_response_working_days")]
    pub complaint_response_working_days: u32,
    /// Days ahead that a sub-contractor's registration or licence is flagged as
    /// expiring (KM 5.29).
    #[serde(default = "default_registration_warning_days")]
    pub registration_warning_days: u32,
}

fn default_care_plan_review_weeks() -> u32 {
    12
}
fn default_reassessment_weeks() -> u32 {
    26
}
fn default_top_interval_weeks() -> u32 {
    26
}
fn default_induction_revisit_months() -> u32 {
    3
}
fn default_complaint_acknowledgement_working_days() -> u32 {
    3
}
fn default_complaint_response_working_days() -> u32 {
    20
}
fn default_registration_warning_days() -> u32 {
    60
}

/// A periodic return the profile owes its commissioner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnDue {
    /// A short machine name (`km-quarterly`, `s4-six-monthly`, `annual`).
    pub id: String,
    /// What the return is, in words.
    pub title: String,
    /// Months between returns (3, 6 or 12).
    pub every_months: u32,
    /// The paragraph of the specification that asks for it.
    pub spec: String,
    /// Disclosure control for the return when published or widely circulated; when
    /// absent, the default rule — except for the KM quarterly return to the
    /// commissioner, which is exact (KM 6.5). See [`ReturnDue::disclosure_rule`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disclosure: Option<crate::returns::disclosure::DisclosureRule>,
    /// Set to true to publish the return exact even though it would be controlled.
    #[serde(default)]
    pub exact: bool,
}

impl ReturnDue {
    /// The disclosure rule for this return's published output, if any: none for the
    /// KM quarterly return (exact: payment depends on it, KM 6.5) or when configured
    /// exact; the configured rule, or the default, for the others.
    pub fn disclosure_rule(&self) -> Option<crate::returns::disclosure::DisclosureRule> {
        if self.exact || (self.id == "km-quarterly" && self.disclosure.is_none()) {
            None
        } else {
            Some(self.disclosure.clone().unwrap_or_default())
        }
    }
}

/// A contract profile, loaded from a data file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// A short machine name (`kent-medway`).
    pub id: String,
    /// The profile's version, printed on every return made with it.
    pub version: String,
    /// The service's name as users see it.
    pub name: String,
    /// The commissioner's name.
    pub commissioner: String,
    /// One-off changes to the England and Wales holiday rules for this profile.
    #[serde(default)]
    pub holidays: HolidayRules,
    /// Clock settings.
    pub clocks: ClockSettings,
    /// The establishments covered.
    pub establishments: Vec<Establishment>,
    /// The interventions the service offers (KM 3.9, 4.5; S4 §4).
    #[serde(default)]
    pub interventions: Vec<InterventionDef>,
    /// The returns due.
    pub returns: Vec<ReturnDue>,
    /// Workforce settings (training intervals; KM 5.43).
    #[serde(default)]
    pub workforce: crate::workforce::WorkforceSettings,
    /// The service's own obligations and when each falls due (KM 4.23–4.24,
    /// 6.4–6.5; S4 §5–10).
    #[serde(default)]
    pub obligations: ObligationSchedule,
}

/// Why a profile file could not be used.
#[derive(Debug, Error)]
pub enum ProfileError {
    /// The file is not valid JSON of a profile's shape.
    #[error("profile is not valid: {0}")]
    Malformed(#[from] serde_json::Error),
    /// The file is well formed but inconsistent.
    #[error("profile is not valid: {0}")]
    Inconsistent(String),
    /// No built-in profile has that name.
    #[error("no built-in profile is called {0:?} (built in: kent-medway, single-prison)")]
    Unknown(String),
}

const KENT_MEDWAY: &str = include_str!("../profiles/kent-medway.json");
const SINGLE_PRISON: &str = include_str!("../profiles/single-prison.json");

impl Profile {
    /// Reads a profile from its JSON text and checks it is consistent.
    pub fn from_json(text: &str) -> Result<Profile, ProfileError> {
        let profile: Profile = serde_json::from_str(text)?;
        if profile.establishments.is_empty() {
            return Err(ProfileError::Inconsistent(
                "a profile needs at least one establishment".into(),
            ));
        }
        let mut codes: Vec<&EstablishmentCode> =
            profile.establishments.iter().map(|e| &e.code).collect();
        codes.sort();
        if codes.windows(2).any(|w| w[0] == w[1]) {
            return Err(ProfileError::Inconsistent(
                "two establishments share a code".into(),
            ));
        }
        let mut interventions: Vec<&str> = profile
            .interventions
            .iter()
            .map(|i| i.code.as_str())
            .collect();
        interventions.sort();
        if interventions.windows(2).any(|w| w[0] == w[1]) {
            return Err(ProfileError::Inconsistent(
                "two interventions share a code".into(),
            ));
        }
        if let Some(problem) = profile.obligations.problem() {
            return Err(ProfileError::Inconsistent(problem));
        }
        for def in &profile.obligations.items {
            let Some(id) = &def.met_by_return else {
                continue;
            };
            let Some(r) = profile.returns.iter().find(|r| &r.id == id) else {
                return Err(ProfileError::Inconsistent(format!(
                    "obligation {} is met by return {id}, which the profile's returns do not list",
                    def.id
                )));
            };
            if r.every_months != def.every.months() {
                return Err(ProfileError::Inconsistent(format!(
                    "obligation {} recurs every {} months but return {id} every {}",
                    def.id,
                    def.every.months(),
                    r.every_months
                )));
            }
        }
        Ok(profile)
    }

    /// One of the profiles shipped inside the binary: `kent-medway` or `single-prison`.
    pub fn builtin(name: &str) -> Result<Profile, ProfileError> {
        match name {
            "kent-medway" => Profile::from_json(KENT_MEDWAY),
            "single-prison" => Profile::from_json(SINGLE_PRISON),
            other => Err(ProfileError::Unknown(other.to_string())),
        }
    }

    /// The establishment with this code, if the profile covers it.
    pub fn establishment(&self, code: &EstablishmentCode) -> Option<&Establishment> {
        self.establishments.iter().find(|e| &e.code == code)
    }

    /// The catalogue entry for an intervention code, if the profile offers it.
    pub fn intervention(&self, code: &str) -> Option<&InterventionDef> {
        self.interventions.iter().find(|i| i.code == code)
    }

    /// The working-day calendar: England and Wales rules with this profile's changes.
    pub fn calendar(&self) -> Calendar {
        Calendar::new(HolidayRules::england_and_wales().extended_with(&self.holidays))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kent_medway_has_the_nine_establishments_of_km_1_4() {
        let p = Profile::builtin("kent-medway").unwrap();
        let names: Vec<&str> = p.establishments.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(p.establishments.len(), 9);
        for expected in [
            "Blantyre House",
            "Canterbury",
            "East Sutton Park",
            "Rochester",
            "Maidstone",
            "Elmley",
            "Standford Hill",
            "Swaleside",
            "Dover",
        ] {
            assert!(
                names.iter().any(|n| n.contains(expected)),
                "{expected} missing from {names:?}"
            );
        }
    }

    #[test]
    fn irc_dover_offers_no_structured_psychosocial_interventions() {
        let p = Profile::builtin("kent-medway").unwrap();
        let dover = p
            .establishments
            .iter()
            .find(|e| e.kind == EstablishmentKind::ImmigrationRemovalCentre)
            .unwrap();
        assert!(!dover.offers_structured_psychosocial);
        assert!(!dover.reoffending_is_outcome);
        let prisons = p
            .establishments
            .iter()
            .filter(|e| e.kind == EstablishmentKind::Prison);
        assert!(prisons.clone().all(|e| e.offers_structured_psychosocial));
        assert_eq!(prisons.count(), 8);
    }

    #[test]
    fn single_prison_profile_loads_with_the_five_day_clock() {
        let p = Profile::builtin("single-prison").unwrap();
        assert_eq!(p.establishments.len(), 1);
        assert_eq!(p.clocks.first_assessment_working_days, Some(5));
        assert!(p.returns.iter().any(|r| r.every_months == 6));
    }

    #[test]
    fn irc_dover_must_offer_km_4_5_1_to_4_5_7_and_none_of_them_is_structured_psychosocial() {
        let p = Profile::builtin("kent-medway").unwrap();
        for para in [
            "4.5.1", "4.5.2", "4.5.3", "4.5.4", "4.5.5", "4.5.6", "4.5.7",
        ] {
            let offered = p
                .interventions
                .iter()
                .find(|i| i.spec.contains(para))
                .unwrap_or_else(|| panic!("KM {para} missing from the catalogue"));
            assert!(!offered.structured_psychosocial, "KM {para}");
        }
        assert!(p.intervention("spi").unwrap().structured_psychosocial);
        let s4 = Profile::builtin("single-prison").unwrap();
        assert!(s4.interventions.iter().any(|i| i.alcohol_advice));
        assert_eq!(s4.clocks.top_interval_weeks, 26);
    }

    #[test]
    fn unknown_profile_is_an_error_naming_it() {
        let err = Profile::builtin("nowhere").unwrap_err();
        assert!(err.to_string().contains("nowhere"));
    }

    #[test]
    fn duplicate_establishment_codes_are_refused() {
        let mut p = Profile::builtin("single-prison").unwrap();
        p.establishments.push(p.establishments[0].clone());
        let text = serde_json::to_string(&p).unwrap();
        assert!(matches!(
            Profile::from_json(&text),
            Err(ProfileError::Inconsistent(_))
        ));
    }
}
