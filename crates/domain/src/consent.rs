//! The consent ledger: explicit, per purpose, withdrawable, dated (REQUIREMENTS §5;
//! S4 §4; KM 3.3.5–3.3.6, 5.13–5.17).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a consent is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentPurpose {
    /// General information sharing with partners involved in care (KM 5.13, 5.27).
    InformationSharing,
    /// Submission to NDTMS (KM 3.3.6).
    Ndtms,
    /// Summaries to the offender manager (S4 §3, §4).
    OffenderManagementSummaries,
    /// Sharing with prison healthcare (S4 §4).
    Healthcare,
    /// Transfer of the care plan to a community provider on release (S4 §4).
    CommunityTransfer,
    /// Involving named family members or carers (S4 §4).
    FamilyInvolvement,
}

impl ConsentPurpose {
    /// Every purpose, in form order.
    pub const ALL: [ConsentPurpose; 6] = [
        ConsentPurpose::InformationSharing,
        ConsentPurpose::Ndtms,
        ConsentPurpose::OffenderManagementSummaries,
        ConsentPurpose::Healthcare,
        ConsentPurpose::CommunityTransfer,
        ConsentPurpose::FamilyInvolvement,
    ];

    /// Words for forms and the timeline.
    pub fn label(self) -> &'static str {
        match self {
            ConsentPurpose::InformationSharing => "Information sharing with partners",
            ConsentPurpose::Ndtms => "NDTMS submission",
            ConsentPurpose::OffenderManagementSummaries => "Summaries to offender management",
            ConsentPurpose::Healthcare => "Sharing with prison healthcare",
            ConsentPurpose::CommunityTransfer => "Care plan transfer to community provider",
            ConsentPurpose::FamilyInvolvement => "Family or carer involvement",
        }
    }

    /// The name used in forms, the API and files.
    pub fn code(self) -> &'static str {
        match self {
            ConsentPurpose::InformationSharing => "information_sharing",
            ConsentPurpose::Ndtms => "ndtms",
            ConsentPurpose::OffenderManagementSummaries => "offender_management_summaries",
            ConsentPurpose::Healthcare => "healthcare",
            ConsentPurpose::CommunityTransfer => "community_transfer",
            ConsentPurpose::FamilyInvolvement => "family_involvement",
        }
    }

    /// The purpose with this code, if any.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.code() == code)
    }
}

/// A consent decision as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentDecision {
    /// The person gave consent.
    Given,
    /// The person refused.
    Refused,
}

/// A consent decision for one purpose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentRecord {
    /// What for.
    pub purpose: ConsentPurpose,
    /// Given or refused.
    pub decision: ConsentDecision,
    /// The date the person decided.
    pub decided_on: NaiveDate,
}

/// A consent withdrawn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentWithdrawal {
    /// What for.
    pub purpose: ConsentPurpose,
    /// The date the person withdrew it.
    pub withdrawn_on: NaiveDate,
}

/// Where one purpose stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ConsentState {
    /// Consent given on a date and not withdrawn since.
    Given {
        /// When.
        on: NaiveDate,
    },
    /// Consent refused on a date.
    Refused {
        /// When.
        on: NaiveDate,
    },
    /// Consent given, then withdrawn on a date.
    Withdrawn {
        /// When it was withdrawn.
        on: NaiveDate,
    },
}

/// The person's consents, purpose by purpose. A purpose never asked about is absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ConsentLedger {
    states: BTreeMap<ConsentPurpose, ConsentState>,
}

impl ConsentLedger {
    /// Applies a decision: the latest decision for a purpose stands.
    pub fn record(&mut self, r: &ConsentRecord) {
        let state = match r.decision {
            ConsentDecision::Given => ConsentState::Given { on: r.decided_on },
            ConsentDecision::Refused => ConsentState::Refused { on: r.decided_on },
        };
        self.states.insert(r.purpose, state);
    }

    /// Applies a withdrawal.
    pub fn withdraw(&mut self, w: &ConsentWithdrawal) {
        self.states
            .insert(w.purpose, ConsentState::Withdrawn { on: w.withdrawn_on });
    }

    /// Where `purpose` stands, if it was ever asked.
    pub fn state(&self, purpose: ConsentPurpose) -> Option<ConsentState> {
        self.states.get(&purpose).copied()
    }

    /// Whether there is live consent for `purpose` on `on`: given on or before that
    /// date and not withdrawn or refused since.
    pub fn is_live(&self, purpose: ConsentPurpose, on: NaiveDate) -> bool {
        matches!(self.state(purpose), Some(ConsentState::Given { on: given }) if given <= on)
    }

    /// Every purpose with a recorded state.
    pub fn iter(&self) -> impl Iterator<Item = (ConsentPurpose, ConsentState)> + '_ {
        self.states.iter().map(|(p, s)| (*p, *s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn given(p: ConsentPurpose, on: &str) -> ConsentRecord {
        ConsentRecord {
            purpose: p,
            decision: ConsentDecision::Given,
            decided_on: d(on),
        }
    }

    #[test]
    fn consent_given_is_live_from_its_date() {
        let mut l = ConsentLedger::default();
        l.record(&given(ConsentPurpose::Ndtms, "2026-03-02"));
        assert!(!l.is_live(ConsentPurpose::Ndtms, d("2026-03-01")));
        assert!(l.is_live(ConsentPurpose::Ndtms, d("2026-03-02")));
        assert!(!l.is_live(ConsentPurpose::CommunityTransfer, d("2026-03-02")));
    }

    #[test]
    fn withdrawn_consent_is_not_live() {
        let mut l = ConsentLedger::default();
        l.record(&given(ConsentPurpose::CommunityTransfer, "2026-03-02"));
        l.withdraw(&ConsentWithdrawal {
            purpose: ConsentPurpose::CommunityTransfer,
            withdrawn_on: d("2026-04-01"),
        });
        assert!(!l.is_live(ConsentPurpose::CommunityTransfer, d("2026-04-02")));
        assert_eq!(
            l.state(ConsentPurpose::CommunityTransfer),
            Some(ConsentState::Withdrawn {
                on: d("2026-04-01")
            })
        );
    }

    #[test]
    fn refusal_after_consent_ends_it_and_new_consent_restores_it() {
        let mut l = ConsentLedger::default();
        l.record(&given(ConsentPurpose::Healthcare, "2026-01-05"));
        l.record(&ConsentRecord {
            purpose: ConsentPurpose::Healthcare,
            decision: ConsentDecision::Refused,
            decided_on: d("2026-02-01"),
        });
        assert!(!l.is_live(ConsentPurpose::Healthcare, d("2026-02-02")));
        l.record(&given(ConsentPurpose::Healthcare, "2026-03-01"));
        assert!(l.is_live(ConsentPurpose::Healthcare, d("2026-03-01")));
    }

    #[test]
    fn purpose_codes_round_trip() {
        for p in ConsentPurpose::ALL {
            assert_eq!(ConsentPurpose::from_code(p.code()), Some(p));
        }
        assert_eq!(ConsentPurpose::from_code("marketing"), None);
    }
}
