//! Demo data for data quality and submissions: three people at the first
//! establishment whose records show every kind of data-quality issue (fields the
//! NDTMS extract needs missing and a TOP overdue; a treatment start recorded three
//! days after triage; an open episode quiet for 16 weeks), then two sign-offs of the
//! latest complete period of the profile's return — the whole return as CSV and the
//! first establishment's rows as XLSX — whose files can be produced again byte for
//! byte (docs/data-quality.md, docs/submissions.md); before them, the narrative
//! sections of the latest six-monthly and annual reports the profile owes.

use chrono::{DateTime, Duration, NaiveDate, SubsecRound, Utc};
use throughcare_domain::assessment::{Assessment, AssessmentKind};
use throughcare_domain::custody::{Reception, ReceptionType};
use throughcare_domain::decide::Command;
use throughcare_domain::error::DomainError;
use throughcare_domain::events::EventKind;
use throughcare_domain::identifiers::{PrisonNumber, StaffUsername};
use throughcare_domain::interventions::{
    InterventionStatus, InterventionTarget, InterventionUpdate,
};
use throughcare_domain::narratives::{NarrativeSection, ReportNarrative};
use throughcare_domain::people::{EqualityMonitoring, PersonDetails, RecordedPriorityFlags};
use throughcare_domain::profile::Profile;
use throughcare_domain::record_ids::{IdSource, PersonId};
use throughcare_domain::returns::ReturnKind;
use throughcare_domain::submissions::{FileFormat, ReturnSubmitted, SubmittedReturn};
use throughcare_domain::time::{local_date, local_midday};
use throughcare_store::Store;

use crate::recording::{RecordError, Recorder};

fn invalid(field: &str, e: impl ToString) -> RecordError {
    RecordError::Domain(DomainError::invalid(field, e.to_string()))
}

fn person(number: &str, given: &str, family: &str) -> Result<PersonDetails, RecordError> {
    Ok(PersonDetails {
        prison_number: PrisonNumber::parse(number).map_err(|e| invalid("prison_number", e))?,
        given_name: given.into(),
        family_name: family.into(),
        date_of_birth: NaiveDate::from_ymd_opt(1988, 6, 14).unwrap_or_default(),
        home_postcode: None,
        equality: EqualityMonitoring::default(),
        priority: RecordedPriorityFlags::default(),
    })
}

fn triage(on: NaiveDate) -> EventKind {
    EventKind::AssessmentCompleted(Assessment {
        kind: AssessmentKind::Initial,
        assessed_on: on,
        referral: None,
        summary: "Triage: structured treatment needed".into(),
        structured_treatment_needed: true,
        comprehensive: None,
    })
}

fn keyworking(on: NaiveDate) -> EventKind {
    EventKind::InterventionUpdated(InterventionUpdate {
        intervention: "keyworking".into(),
        target: InterventionTarget::Opiates,
        status: InterventionStatus::Started,
        on,
        course: None,
        language: None,
        note: None,
    })
}

/// Records the data-quality people and the two sign-offs; returns how many events.
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
    let worker = StaffUsername::parse("worker").map_err(|e| invalid("recorded_by", e))?;
    let manager = StaffUsername::parse("manager").map_err(|e| invalid("recorded_by", e))?;
    let today = local_date(now);
    let mut written = 0;
    let (gaps, late, quiet) = (
        PersonId(ids.next_uuid()),
        PersonId(ids.next_uuid()),
        PersonId(ids.next_uuid()),
    );
    let mut record = |p: PersonId,
                      occurred: Option<NaiveDate>,
                      recorded: Option<DateTime<Utc>>,
                      kind: EventKind|
     -> Result<(), RecordError> {
        written += recorder
            .record(
                &throughcare_domain::access::Author::system(worker.clone()),
                &here,
                p,
                Command::Record {
                    occurred_at: occurred.map(local_midday),
                    recorded_at: recorded,
                    kind,
                },
                now,
                ids,
                None,
            )?
            .len();
        Ok(())
    };
    let received = || {
        EventKind::Received(Reception {
            reception_type: ReceptionType::Sentenced,
            source_ref: None,
        })
    };
    let back = |n: i64| today - Duration::days(n);
    // Each registered on the day they arrived (so nothing is recorded after the
    // quiet person's last activity).
    for (p, on, details) in [
        // Every extract field missing, and no TOP at the start ten days ago.
        (gaps, back(12), person("Y9001DQ", "Robin", "Gapley")?),
        // Triaged 20 days ago; the start that day entered the record three days later.
        (late, back(21), person("Y9002DQ", "Alex", "Latimer")?),
        // In treatment since 16 weeks ago and nothing recorded since.
        (quiet, back(115), person("Y9003DQ", "Jo", "Quietly")?),
    ] {
        record(p, Some(on), None, EventKind::PersonRegistered(details))?;
    }
    record(gaps, Some(back(12)), None, received())?;
    record(gaps, None, None, keyworking(back(10)))?;
    record(late, Some(back(21)), None, received())?;
    record(late, None, None, triage(back(20)))?;
    record(
        late,
        None,
        Some(local_midday(back(17))),
        keyworking(back(20)),
    )?;
    record(quiet, Some(back(115)), None, received())?;
    record(quiet, None, None, keyworking(back(112)))?;
    written += narratives(&recorder, profile, &manager, &here, now, ids)?;
    written += sign_offs(&recorder, profile, &manager, &here, now, ids)?;
    Ok(written)
}

/// Every narrative section of the latest complete period of each report the profile
/// owes that carries narratives (the six-monthly report, the annual report), so the
/// return page and its files show them (S4 §5, §9; KM 4.24).
fn narratives(
    recorder: &Recorder<'_>,
    profile: &Profile,
    manager: &StaffUsername,
    here: &throughcare_domain::identifiers::EstablishmentCode,
    now: DateTime<Utc>,
    ids: &mut dyn IdSource,
) -> Result<usize, RecordError> {
    let mut written = 0;
    for kind in [ReturnKind::S4SixMonthly, ReturnKind::Annual] {
        let Some(report) = kind.narrative_return() else {
            continue;
        };
        if !profile.returns.iter().any(|r| r.id == kind.code()) {
            continue;
        }
        let period = kind.last_complete(local_date(now), profile.obligations.year_starts_month);
        for &section in report.sections() {
            let text = match section {
                NarrativeSection::DevelopmentsInProvision => {
                    "A second evening group opened on the induction wing; the peer mentor rota now covers weekends."
                }
                NarrativeSection::EmergingTrends => {
                    "More reports of synthetic cannabinoids on two wings; fewer opiate detoxes at reception."
                }
                NarrativeSection::AnnualReview => {
                    "Reviewed with the Substance Use Lead: keep the reception screening times, improve the release-day handover."
                }
                NarrativeSection::EqualityActions => {
                    "Easy-read leaflets in the five most spoken first languages; a women's group at the pilot site."
                }
            };
            written += recorder
                .record_service(
                    &throughcare_domain::access::Author::system((manager).clone()),
                    here,
                    EventKind::ReportNarrativeRecorded(ReportNarrative {
                        report,
                        period: period.name.clone(),
                        section,
                        text: text.into(),
                    }),
                    now,
                    ids,
                    None,
                )?
                .len();
        }
    }
    Ok(written)
}

/// Two sign-offs of the latest complete period, as at the demo's `now` (or the clock,
/// if that is earlier): nothing in the demo happens after `now`. A file counts only
/// events appended by its as-at instant, so a demo seeded as at the moment it starts
/// signs off returns made before its own events were appended (all zero); sign off a
/// fresh one from `/submissions` to see figures.
fn sign_offs(
    recorder: &Recorder<'_>,
    profile: &Profile,
    manager: &StaffUsername,
    here: &throughcare_domain::identifiers::EstablishmentCode,
    now: DateTime<Utc>,
    ids: &mut dyn IdSource,
) -> Result<usize, RecordError> {
    let as_at = Utc::now().min(now).trunc_subsecs(6);
    let Some(kind) = SubmittedReturn::ALL
        .iter()
        .copied()
        .find(|k| profile.returns.iter().any(|r| r.id == k.code()))
    else {
        return Ok(0);
    };
    let period = kind
        .kind()
        .last_complete(local_date(as_at), profile.obligations.year_starts_month);
    let mut written = 0;
    for (format, scope) in [
        (FileFormat::Csv, None),
        (FileFormat::Xlsx, Some(here.clone())),
    ] {
        let mut fact = ReturnSubmitted {
            submitted_return: kind,
            period: period.name.clone(),
            as_at,
            scope,
            format,
            sha256: String::new(),
            submitted_on: local_date(as_at),
        };
        let bytes = crate::submission_pages::produce(recorder.store, profile, &fact)
            .map_err(|e| invalid("return", e))?;
        fact.sha256 = crate::submission_pages::sha256_hex(&bytes);
        written += recorder
            .record_service(
                &throughcare_domain::access::Author::system((manager).clone()),
                here,
                EventKind::ReturnSubmitted(fact),
                now,
                ids,
                None,
            )?
            .len();
    }
    Ok(written)
}
