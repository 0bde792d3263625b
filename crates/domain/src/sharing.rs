//! Disclosures outside the service and their basis (REQUIREMENTS §5; KM 5.13–5.17,
//! 5.36). Every share needs a recorded basis: a live consent for the purpose, or a
//! duty the specifications impose. Without one the domain refuses it, whatever the
//! path (page, API, export).

use crate::consent::{ConsentLedger, ConsentPurpose};
use crate::error::DomainError;
use crate::record_ids::EventId;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Who receives a disclosure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recipient {
    /// The prison authorities (security, governor).
    PrisonAuthorities,
    /// The offender manager or offender management unit.
    OffenderManagement,
    /// Prison healthcare.
    Healthcare,
    /// A community treatment provider.
    CommunityProvider,
    /// Named family members or carers.
    FamilyOrCarer,
    /// Another professional involved in the person's care.
    OtherProfessional,
    /// A safeguarding team.
    Safeguarding,
}

impl Recipient {
    /// The consent purpose that covers sharing with this recipient.
    pub fn consent_purpose(self) -> ConsentPurpose {
        match self {
            Recipient::PrisonAuthorities => ConsentPurpose::InformationSharing,
            Recipient::OffenderManagement => ConsentPurpose::OffenderManagementSummaries,
            Recipient::Healthcare => ConsentPurpose::Healthcare,
            Recipient::CommunityProvider => ConsentPurpose::CommunityTransfer,
            Recipient::FamilyOrCarer => ConsentPurpose::FamilyInvolvement,
            Recipient::OtherProfessional => ConsentPurpose::InformationSharing,
            Recipient::Safeguarding => ConsentPurpose::InformationSharing,
        }
    }
}

/// A duty to share that the specifications impose, whatever the person's consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SharingDuty {
    /// KM 5.17: a positive drug test is shared with the prison authorities.
    PositiveDrugTest,
    /// KM 5.36: safeguarding children and adults at risk.
    Safeguarding,
}

/// The recorded basis of a disclosure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "basis")]
pub enum SharingBasis {
    /// A live consent for the recipient's purpose.
    Consent {
        /// The purpose consented to.
        purpose: ConsentPurpose,
    },
    /// A duty the specifications impose.
    Duty {
        /// Which duty.
        duty: SharingDuty,
    },
}

/// A disclosure of information to someone outside the service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disclosure {
    /// Who received it.
    pub recipient: Recipient,
    /// On what basis.
    pub basis: SharingBasis,
    /// When it was shared.
    pub shared_on: NaiveDate,
    /// The record shared, if one event (e.g. the drug test).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub about: Option<EventId>,
    /// What was shared, in words.
    pub summary: String,
}

/// Checks that a disclosure has a basis: a duty, or consent live on the day for the
/// recipient's purpose. Returns a refusal that says what is missing otherwise.
pub fn check_basis(
    consents: &ConsentLedger,
    recipient: Recipient,
    basis: SharingBasis,
    on: NaiveDate,
) -> Result<(), DomainError> {
    match basis {
        SharingBasis::Duty { duty } => match (duty, recipient) {
            (SharingDuty::PositiveDrugTest, Recipient::PrisonAuthorities) => Ok(()),
            (SharingDuty::Safeguarding, Recipient::Safeguarding) => Ok(()),
            _ => Err(DomainError::Refused(
                "that duty does not cover sharing with this recipient".into(),
            )),
        },
        SharingBasis::Consent { purpose } => {
            if purpose != recipient.consent_purpose() {
                return Err(DomainError::Refused(format!(
                    "sharing with this recipient needs consent for \"{}\"",
                    recipient.consent_purpose().label()
                )));
            }
            if consents.is_live(purpose, on) {
                Ok(())
            } else {
                Err(DomainError::Refused(format!(
                    "not shared: there is no live consent for \"{}\"",
                    purpose.label()
                )))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consent::{ConsentDecision, ConsentRecord, ConsentWithdrawal};

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn share_without_consent_is_refused() {
        let l = ConsentLedger::default();
        let r = check_basis(
            &l,
            Recipient::OffenderManagement,
            SharingBasis::Consent {
                purpose: ConsentPurpose::OffenderManagementSummaries,
            },
            d("2026-05-01"),
        );
        assert!(matches!(r, Err(DomainError::Refused(m)) if m.contains("no live consent")));
    }

    #[test]
    fn share_with_live_consent_is_allowed_and_refused_after_withdrawal() {
        let mut l = ConsentLedger::default();
        l.record(&ConsentRecord {
            purpose: ConsentPurpose::OffenderManagementSummaries,
            decision: ConsentDecision::Given,
            decided_on: d("2026-04-01"),
        });
        let basis = SharingBasis::Consent {
            purpose: ConsentPurpose::OffenderManagementSummaries,
        };
        assert!(check_basis(&l, Recipient::OffenderManagement, basis, d("2026-05-01")).is_ok());
        l.withdraw(&ConsentWithdrawal {
            purpose: ConsentPurpose::OffenderManagementSummaries,
            withdrawn_on: d("2026-05-02"),
        });
        assert!(check_basis(&l, Recipient::OffenderManagement, basis, d("2026-05-03")).is_err());
    }

    #[test]
    fn positive_test_duty_covers_prison_authorities_only() {
        let l = ConsentLedger::default();
        let duty = SharingBasis::Duty {
            duty: SharingDuty::PositiveDrugTest,
        };
        assert!(check_basis(&l, Recipient::PrisonAuthorities, duty, d("2026-05-01")).is_ok());
        assert!(check_basis(&l, Recipient::FamilyOrCarer, duty, d("2026-05-01")).is_err());
    }

    #[test]
    fn consent_for_another_purpose_is_no_basis() {
        let mut l = ConsentLedger::default();
        l.record(&ConsentRecord {
            purpose: ConsentPurpose::Ndtms,
            decision: ConsentDecision::Given,
            decided_on: d("2026-04-01"),
        });
        let r = check_basis(
            &l,
            Recipient::CommunityProvider,
            SharingBasis::Consent {
                purpose: ConsentPurpose::Ndtms,
            },
            d("2026-05-01"),
        );
        assert!(r.is_err());
    }
}
