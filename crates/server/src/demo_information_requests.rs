//! Demo data for information-sharing requests (KM 5.14; docs/information-requests.md):
//! three requests from the demo commissioner over the latest complete quarter at
//! the profile's first establishment — one approved by the demo manager (people in
//! structured treatment, pseudonymous), one refused (names and dates of birth of
//! everyone engaged, more than the purpose needs) and one pending (people
//! released, with their community engagement). Seeded after everything else.

use chrono::{DateTime, Datelike, Days, Utc};
use throughcare_domain::error::DomainError;
use throughcare_domain::events::EventKind;
use throughcare_domain::identifiers::{EstablishmentCode, StaffUsername};
use throughcare_domain::information_requests::{
    Cohort, Decision, InformationRequestDecided, InformationRequestMade, SharedField,
};
use throughcare_domain::profile::Profile;
use throughcare_domain::record_ids::IdSource;
use throughcare_domain::returns::ReturnKind;
use throughcare_domain::time::local_date;
use throughcare_store::Store;

use crate::recording::{RecordError, Recorder};

fn invalid(field: &str, e: impl ToString) -> RecordError {
    RecordError::Domain(DomainError::invalid(field, e.to_string()))
}

/// Records the three requests and the two decisions; returns how many events.
pub fn seed(
    store: &dyn Store,
    profile: &Profile,
    now: DateTime<Utc>,
    ids: &mut dyn IdSource,
) -> Result<usize, RecordError> {
    let calendar = profile.calendar();
    let recorder = Recorder {
        store,
        profile,
        calendar: &calendar,
    };
    let Some(here) = profile.establishments.first().map(|e| e.code.clone()) else {
        return Ok(0);
    };
    let today = local_date(now);
    let quarter =
        ReturnKind::KmQuarterly.last_complete(today, profile.obligations.year_starts_month);
    let commissioner =
        StaffUsername::parse("commissioner").map_err(|e| invalid("requested_by", e))?;
    let manager = StaffUsername::parse("manager").map_err(|e| invalid("recorded_by", e))?;
    let every: Vec<EstablishmentCode> = profile
        .establishments
        .iter()
        .map(|e| e.code.clone())
        .collect();
    let expires_on = today.checked_add_days(Days::new(60)).unwrap_or(today);
    let reference = |n: u32| format!("ISR-{}-{n:03}", today.year());
    let request = |n: u32, purpose: &str, cohort: Cohort, fields: Vec<SharedField>| {
        EventKind::InformationRequestMade(InformationRequestMade {
            request_ref: reference(n),
            requested_by: commissioner.clone(),
            purpose: purpose.into(),
            lawful_basis:
                "Kent and Medway Information Sharing Agreement, clause 7.2 (service review)".into(),
            establishments: vec![here.clone()],
            period_from: quarter.first,
            period_to: quarter.last,
            cohort,
            fields,
            expires_on,
        })
    };
    let requests = vec![
        request(
            1,
            "Review of treatment retention and exits in the last quarter",
            Cohort::InStructuredTreatment,
            vec![
                SharedField::PseudonymousId,
                SharedField::Establishment,
                SharedField::TreatmentStart,
                SharedField::TreatmentExit,
                SharedField::ExitReason,
            ],
        ),
        request(
            2,
            "Cross-check of everyone engaged against the council's records",
            Cohort::AllEngaged,
            vec![
                SharedField::Name,
                SharedField::DateOfBirth,
                SharedField::PrisonNumber,
            ],
        ),
        request(
            3,
            "Continuity of care after release: engagement with community treatment",
            Cohort::Released,
            vec![
                SharedField::PseudonymousId,
                SharedField::ReleaseDate,
                SharedField::CommunityEngagement,
            ],
        ),
    ];
    let mut written = 0;
    for kind in requests {
        written += recorder
            .record_service(
                &throughcare_domain::access::Author::system(commissioner.clone()),
                &here,
                kind,
                now,
                ids,
                None,
            )?
            .len();
    }
    for (n, decision, reason) in [
        (1, Decision::Approved, None),
        (
            2,
            Decision::Refused,
            Some(
                "Names and dates of birth are more than a service review needs (KM 5.15): ask for pseudonymous identifiers",
            ),
        ),
    ] {
        written += recorder
            .record_service_at(
                &throughcare_domain::access::Author::system(manager.clone()),
                &here,
                &every,
                EventKind::InformationRequestDecided(InformationRequestDecided {
                    request_ref: reference(n),
                    decision,
                    reason: reason.map(str::to_string),
                    decided_on: today,
                }),
                now,
                ids,
            )?
            .len();
    }
    Ok(written)
}
