//! Demo data for the service's governance records: a few serious incidents in every
//! investigation state, learning actions (open, overdue, done), a death review, and
//! 30 days of 24/7 clinical cover at every establishment with the odd gap — so the
//! manager's dashboard has content. Deterministic for a given `now`.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use throughcare_domain::events::EventKind;
use throughcare_domain::governance::{
    ClinicalCoverDay, DeathReview, IncidentCategory, IncidentReport, InvestigationStatus,
    LearningAction, ReportedTo, SeriousIncident,
};
use throughcare_domain::identifiers::StaffUsername;
use throughcare_domain::profile::Profile;
use throughcare_domain::record_ids::IdSource;
use throughcare_domain::time::local_date;
use throughcare_store::Store;

use crate::recording::{RecordError, Recorder};

fn incident(
    r: &str,
    category: IncidentCategory,
    on: NaiveDate,
    summary: &str,
    related: bool,
    investigation: InvestigationStatus,
    outcome: Option<&str>,
) -> EventKind {
    EventKind::IncidentRecorded(SeriousIncident {
        incident_ref: r.into(),
        category,
        occurred_on: on,
        summary: summary.into(),
        drug_or_alcohol_related: related,
        people: vec![],
        staff_involved: !related,
        reported: vec![
            IncidentReport {
                to: ReportedTo::Commissioner,
                on: on + Duration::days(1),
            },
            IncidentReport {
                to: ReportedTo::PrisonService,
                on: on + Duration::days(1),
            },
        ],
        investigation,
        outcome: outcome.map(str::to_string),
    })
}

/// Records the governance demo; returns how many events it wrote.
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
    let today = local_date(now);
    let manager = StaffUsername::parse("manager").map_err(|e| {
        RecordError::Domain(throughcare_domain::error::DomainError::invalid(
            "recorded_by",
            e.to_string(),
        ))
    })?;
    let mut facts: Vec<(usize, EventKind)> = Vec::new();
    let days = |n: i64| today - Duration::days(n);
    facts.push((
        0,
        incident(
            "SI-DEMO-01",
            IncidentCategory::ControlledDrugs,
            days(40),
            "Methadone stock discrepancy at the evening count",
            true,
            InvestigationStatus::Closed,
            Some("Counting error; two-person checks introduced"),
        ),
    ));
    facts.push((
        0,
        incident(
            "SI-DEMO-02",
            IncidentCategory::SeriousHarm,
            days(12),
            "Suspected overdose on the wing; naloxone given by staff",
            true,
            InvestigationStatus::UnderInvestigation,
            None,
        ),
    ));
    facts.push((
        1 % profile.establishments.len(),
        incident(
            "SI-DEMO-03",
            IncidentCategory::InformationSecurity,
            days(5),
            "Referral letter sent to the wrong secure email address",
            false,
            InvestigationStatus::Reported,
            None,
        ),
    ));
    for (r, src, action, owner, due, done) in [
        (
            "LA-DEMO-01",
            "SI-DEMO-01",
            "Two-person check of controlled drug handovers",
            "Clinical lead",
            days(30),
            Some(days(33)),
        ),
        (
            "LA-DEMO-02",
            "SI-DEMO-02",
            "Naloxone refresher for wing staff",
            "Harm reduction lead",
            days(3),
            None,
        ),
        (
            "LA-DEMO-03",
            "SI-DEMO-03",
            "Check secure email addresses against the SPOC list",
            "Service manager",
            today + Duration::days(10),
            None,
        ),
        (
            "LA-DEMO-04",
            "DRD-DEMO-01",
            "Offer naloxone again on the day of release",
            "Throughcare lead",
            today + Duration::days(20),
            None,
        ),
    ] {
        facts.push((
            0,
            EventKind::LearningActionRecorded(LearningAction {
                action_ref: r.into(),
                source_ref: Some(src.into()),
                action: action.into(),
                owner: owner.into(),
                due_on: due,
                completed_on: done,
            }),
        ));
    }
    facts.push((0, EventKind::DeathReviewRecorded(DeathReview {
        review_ref: "DRD-DEMO-01".into(),
        person: None,
        died_on: days(60),
        reviewed_on: days(25),
        learning: "Released on a Friday without naloxone; the community appointment was the following Wednesday".into(),
    })));
    for (i, _) in profile.establishments.iter().enumerate() {
        for back in 1..=30i64 {
            // One night in every 17 (varying by establishment) without full cover.
            let gap = (back + i as i64 * 5) % 17 == 0;
            facts.push((
                i,
                EventKind::ClinicalCoverRecorded(ClinicalCoverDay {
                    on: days(back),
                    provided: !gap,
                    note: gap.then(|| {
                        "No on-call GP overnight; healthcare covered by telephone".to_string()
                    }),
                }),
            ));
        }
    }
    let last = profile.establishments.len().saturating_sub(1);
    let facts = facts
        .into_iter()
        .filter_map(|(i, kind)| {
            profile
                .establishments
                .get(i.min(last))
                .map(|e| (e.code.clone(), kind))
        })
        .collect();
    recorder.record_service_all(
        &throughcare_domain::access::Author::system(manager.clone()),
        facts,
        now,
        ids,
    )
}
