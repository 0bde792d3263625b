//! Self-referral by a person in prison (S4 §2: "options for self-referral by the
//! individual either by submission of application or directly via the in-cell
//! telephone system to the main office"; REQUIREMENTS §3).
//!
//! A self-referral arrives from the kiosk page or from the in-cell telephone
//! system with a name, a prison number and a date of birth, and perhaps what the
//! person would like help with. It becomes a `referral_made` on the person's record
//! (so it starts the first-assessment clock and shows in the referral inbox); a
//! prison number the service does not know yet is registered first from what the
//! person gave. Nobody checks who typed it, as nobody checks a paper application:
//! the note says what was given, and says so when it does not match the record, for
//! the worker who picks it up.

use chrono::NaiveDate;
use serde::Deserialize;

use crate::error::{DomainError, Problems};
use crate::identifiers::PrisonNumber;
use crate::people::{EqualityMonitoring, PersonDetails, RecordedPriorityFlags};
use crate::referrals::{Referral, ReferralSource};

/// The longest "what would you like help with", in characters.
pub const MAX_HELP: usize = 1000;

/// A self-referral as the person gave it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelfReferral {
    /// The prison number the person gave.
    pub prison_number: PrisonNumber,
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// Date of birth.
    pub date_of_birth: NaiveDate,
    /// What they would like help with, in their words.
    #[serde(default)]
    pub help: Option<String>,
}

impl SelfReferral {
    /// Checks what was given, naming every field that is wrong.
    pub fn check(&self, today: NaiveDate) -> Result<(), DomainError> {
        let mut p = Problems::new();
        for (field, value, what) in [
            ("given_name", &self.given_name, "given name"),
            ("family_name", &self.family_name, "family name"),
        ] {
            if value.trim().is_empty() {
                p.add(field, format!("Enter your {what}"));
            } else if value.chars().count() > 100 {
                p.add(
                    field,
                    format!("Your {what} must be 100 characters or fewer"),
                );
            }
        }
        let age = today.years_since(self.date_of_birth);
        if self.date_of_birth > today {
            p.add("date_of_birth", "Your date of birth must be in the past");
        } else if age.is_none_or(|a| !(15..=120).contains(&a)) {
            p.add(
                "date_of_birth",
                "Enter your real date of birth, for example 27 3 1980",
            );
        }
        if self
            .help
            .as_ref()
            .is_some_and(|h| h.chars().count() > MAX_HELP)
        {
            p.add(
                "help",
                "Say what you would like help with in 1,000 characters or fewer",
            );
        }
        p.into_result()
    }

    /// The registration of a person the service does not know yet: what they gave,
    /// with every equality item not stated (a worker asks at assessment).
    pub fn registration(&self) -> PersonDetails {
        PersonDetails {
            prison_number: self.prison_number.clone(),
            given_name: self.given_name.trim().to_string(),
            family_name: self.family_name.trim().to_string(),
            date_of_birth: self.date_of_birth,
            home_postcode: None,
            equality: EqualityMonitoring::default(),
            priority: RecordedPriorityFlags::default(),
        }
    }

    /// The referral, received `today` from `source`. `on_record` is the person's
    /// registration when the prison number was already known: when the name or
    /// date of birth given differ from it, the note says so.
    pub fn referral(
        &self,
        source: ReferralSource,
        today: NaiveDate,
        on_record: Option<&PersonDetails>,
    ) -> Referral {
        let mut note = format!(
            "{}. Name given: {} {}; date of birth given: {}.",
            source.label(),
            self.given_name.trim(),
            self.family_name.trim(),
            self.date_of_birth.format("%-d %B %Y"),
        );
        if let Some(d) = on_record {
            let same = |a: &str, b: &str| a.trim().eq_ignore_ascii_case(b.trim());
            if !same(&d.family_name, &self.family_name)
                || !same(&d.given_name, &self.given_name)
                || d.date_of_birth != self.date_of_birth
            {
                note.push_str(
                    " Check who this is: the name or date of birth given differs from this record.",
                );
            }
        }
        if let Some(help) = self
            .help
            .as_deref()
            .map(str::trim)
            .filter(|h| !h.is_empty())
        {
            note.push_str(&format!(" Would like help with: {help}"));
        }
        Referral {
            source,
            referred_on: today,
            note: Some(note),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn given() -> SelfReferral {
        SelfReferral {
            prison_number: PrisonNumber::parse("A1234BC").unwrap(),
            given_name: " Sam ".into(),
            family_name: "Example".into(),
            date_of_birth: d("1990-05-01"),
            help: Some("Cutting down on spice".into()),
        }
    }

    #[test]
    fn every_wrong_field_is_named() {
        let bad = SelfReferral {
            given_name: " ".into(),
            family_name: "x".repeat(101),
            date_of_birth: d("2026-12-01"),
            help: Some("y".repeat(MAX_HELP + 1)),
            ..given()
        };
        let DomainError::Invalid(problems) = bad.check(d("2026-11-20")).unwrap_err() else {
            panic!("field problems expected");
        };
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            ["given_name", "family_name", "date_of_birth", "help"]
        );
        assert!(given().check(d("2026-11-20")).is_ok());
        let child = SelfReferral {
            date_of_birth: d("2015-01-01"),
            ..given()
        };
        assert!(child.check(d("2026-11-20")).is_err());
    }

    #[test]
    fn the_note_says_what_was_given_and_flags_a_mismatch_with_the_record() {
        let r = given().referral(
            ReferralSource::SelfReferralInCellTelephone,
            d("2026-11-20"),
            None,
        );
        assert_eq!(r.referred_on, d("2026-11-20"));
        assert_eq!(
            r.note.as_deref(),
            Some(
                "Self-referral (in-cell telephone). Name given: Sam Example; date of birth given: 1 May 1990. Would like help with: Cutting down on spice"
            )
        );
        let record = given().registration();
        assert_eq!(record.given_name, "Sam");
        let same = given().referral(
            ReferralSource::SelfReferralApplication,
            d("2026-11-20"),
            Some(&record),
        );
        assert!(!same.note.unwrap().contains("Check who"));
        let other = PersonDetails {
            family_name: "Different".into(),
            ..record
        };
        let flagged = given().referral(
            ReferralSource::SelfReferralApplication,
            d("2026-11-20"),
            Some(&other),
        );
        assert!(flagged.note.unwrap().contains("Check who this is"));
    }
}
