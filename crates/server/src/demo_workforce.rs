//! Demo data for the workforce (KM 5.42–5.50, 6.3.1): staff records for the demo
//! sign-ins and a small team at each establishment (synthetic names; the team's
//! accounts cannot sign in), competence evidence with gaps, training in every state
//! (done, due soon, overdue, missing, being undertaken), trainees with their
//! supervisor, clearances expiring and missing, a revalidation due, training needs
//! analyses and vacancies — so every workforce panel of the dashboard has content.
//! Deterministic for a given `now`.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use throughcare_domain::danos;
use throughcare_domain::events::EventKind;
use throughcare_domain::governance::LearningAction;
use throughcare_domain::identifiers::{EstablishmentCode, StaffUsername};
use throughcare_domain::profile::Profile;
use throughcare_domain::record_ids::IdSource;
use throughcare_domain::time::local_date;
use throughcare_domain::workforce::{
    Clearance, CompetenceEvidence, StaffMember, StaffRole, Traineeship, TrainingCourse,
    TrainingNeedsAnalysis, TrainingRecord, TrainingStatus, Vacancy,
};
use throughcare_store::{Role, StaffAccount, Store};

use crate::recording::{RecordError, Recorder};

/// A stored password hash no password matches: the team's accounts exist for their
/// staff records, but only the published demo sign-ins can be used.
const NO_SIGN_IN: &str = "demo-team-member-cannot-sign-in";

fn username(u: &str) -> Result<StaffUsername, RecordError> {
    StaffUsername::parse(u).map_err(|e| {
        RecordError::Domain(throughcare_domain::error::DomainError::invalid(
            "username",
            e.to_string(),
        ))
    })
}

struct Member {
    record: StaffMember,
    /// How many of the required units to leave without evidence.
    gaps: usize,
    /// Months since the last child protection course (`None`: never).
    cp_months_ago: Option<u32>,
}

#[allow(clippy::too_many_arguments)]
fn member(
    u: StaffUsername,
    name: &str,
    role: StaffRole,
    at: Vec<EstablishmentCode>,
    clearance_expires: Option<NaiveDate>,
    today: NaiveDate,
    gaps: usize,
    cp_months_ago: Option<u32>,
) -> Member {
    Member {
        record: StaffMember {
            username: u,
            name: name.into(),
            role,
            establishments: at,
            line_manager: role == StaffRole::Manager,
            brief_interventions: matches!(
                role,
                StaffRole::SubstanceUseWorker | StaffRole::PsychosocialPractitioner
            ),
            clearance: clearance_expires.map(|expires_on| Clearance {
                granted_on: expires_on - Duration::days(3 * 365),
                expires_on,
            }),
            trainee: None,
            revalidation_due_on: role.revalidates().then(|| today + Duration::days(45)),
            left_on: None,
        },
        gaps,
        cp_months_ago,
    }
}

/// Records the workforce demo (and the team's accounts); returns how many events it
/// wrote.
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
    let all: Vec<EstablishmentCode> = profile
        .establishments
        .iter()
        .map(|e| e.code.clone())
        .collect();
    let Some(first) = all.first().cloned() else {
        return Ok(0);
    };
    let manager = username("manager")?;
    // The demo worker's establishments (HMP Maidstone and HMP Elmley in Kent and
    // Medway) come first, so the demo sign-ins see every panel filled.
    let worker_sites: Vec<EstablishmentCode> = match store.account(&username("worker")?)? {
        Some(a) if !a.establishments.is_empty() => a.establishments,
        _ => all.iter().take(2).cloned().collect(),
    };
    let mut sites = worker_sites.clone();
    sites.extend(all.iter().filter(|c| !worker_sites.contains(c)).cloned());
    let in_years = |y: i64| today + Duration::days(365 * y);

    // The demo sign-ins, then a substance use worker and a nurse at each establishment.
    let mut team = vec![
        member(
            manager.clone(),
            "Demo Manager",
            StaffRole::Manager,
            all.clone(),
            Some(in_years(2)),
            today,
            0,
            Some(6),
        ),
        member(
            username("worker")?,
            "Demo Substance Use Worker",
            StaffRole::SubstanceUseWorker,
            worker_sites.clone(),
            Some(today + Duration::days(30)),
            today,
            2,
            Some(23),
        ),
        member(
            username("clinician")?,
            "Demo Clinician",
            StaffRole::Nurse,
            all.clone(),
            Some(in_years(1)),
            today,
            3,
            Some(10),
        ),
    ];
    let mut accounts = Vec::new();
    for (i, code) in sites.iter().enumerate() {
        let lower = code.as_str().to_lowercase();
        let suw = username(&format!("suw.{lower}"))?;
        let nurse = username(&format!("nurse.{lower}"))?;
        accounts.push((suw.clone(), Role::Worker, code.clone()));
        accounts.push((nurse.clone(), Role::Clinician, code.clone()));
        team.push(member(
            suw,
            &format!("Team Worker {}", code.as_str()),
            StaffRole::SubstanceUseWorker,
            vec![code.clone()],
            // Every third has no clearance recorded; one has lapsed.
            match i % 3 {
                0 => Some(in_years(2)),
                1 => Some(today - Duration::days(5)),
                _ => None,
            },
            today,
            i % 2,
            if i % 4 == 3 {
                None
            } else {
                Some(25 - (i as u32 % 3) * 6)
            },
        ));
        team.push(member(
            nurse,
            &format!("Team Nurse {}", code.as_str()),
            StaffRole::Nurse,
            vec![code.clone()],
            Some(in_years(1)),
            today,
            (i + 1) % 3,
            // Child protection due within the month.
            Some(23),
        ));
    }
    // Trainees at the first two establishments, supervised by the manager.
    let mut trainees = Vec::new();
    for code in worker_sites.iter().take(2) {
        let u = username(&format!("trainee.{}", code.as_str().to_lowercase()))?;
        accounts.push((u.clone(), Role::Worker, code.clone()));
        let mut m = member(
            u,
            &format!("Trainee Worker {}", code.as_str()),
            StaffRole::SubstanceUseWorker,
            vec![code.clone()],
            Some(in_years(3)),
            today,
            // Units still to evidence.
            18,
            Some(3),
        );
        m.record.trainee = Some(Traineeship {
            since: today - Duration::days(if trainees.is_empty() { 200 } else { 700 }),
            supervisor: manager.clone(),
        });
        trainees.push(m);
    }
    for (u, role, code) in &accounts {
        store.put_account(&StaffAccount {
            username: u.clone(),
            display_name: u.to_string(),
            role: *role,
            password_hash: NO_SIGN_IN.into(),
            establishments: vec![code.clone()],
            active: true,
            created_at: now,
        })?;
    }

    let mut facts: Vec<(EstablishmentCode, EventKind)> = Vec::new();
    let add_member = |facts: &mut Vec<(EstablishmentCode, EventKind)>, m: &Member| {
        let at = m
            .record
            .establishments
            .first()
            .cloned()
            .unwrap_or(first.clone());
        // Competence first (so the manager supervises as fully competent), then the
        // record, then training.
        let required = danos::required_units(
            m.record.role.is_practitioner(),
            m.record.brief_interventions,
            m.record.role.is_specialist(),
        );
        let keep = required.len().saturating_sub(m.gaps);
        let mut units = Vec::new();
        for (n, unit) in required.into_iter().take(keep).enumerate() {
            units.push((
                at.clone(),
                EventKind::CompetenceRecorded(CompetenceEvidence {
                    username: m.record.username.clone(),
                    unit: unit.to_string(),
                    evidence: "Observed practice and supervision notes".into(),
                    assessed_on: today - Duration::days(30 + n as i64 * 3),
                }),
            ));
        }
        facts.push((at.clone(), EventKind::StaffRecorded(m.record.clone())));
        facts.extend(units);
        if let Some(months) = m.cp_months_ago {
            let on = today
                .checked_sub_months(chrono::Months::new(months))
                .unwrap_or(today);
            facts.push((
                at.clone(),
                EventKind::TrainingRecorded(TrainingRecord {
                    username: m.record.username.clone(),
                    course: TrainingCourse::ChildProtection,
                    title: None,
                    status: TrainingStatus::Completed,
                    on,
                }),
            ));
        }
        facts.push((
            at.clone(),
            EventKind::TrainingRecorded(TrainingRecord {
                username: m.record.username.clone(),
                course: TrainingCourse::InformationSharing,
                title: None,
                status: TrainingStatus::Completed,
                on: today - Duration::days(120),
            }),
        ));
    };
    for m in &team {
        add_member(&mut facts, m);
    }
    for m in &trainees {
        add_member(&mut facts, m);
    }
    // The manager: line management done; a worker retaking child protection.
    facts.push((
        first.clone(),
        EventKind::TrainingRecorded(TrainingRecord {
            username: manager.clone(),
            course: TrainingCourse::LineManagement,
            title: None,
            status: TrainingStatus::Completed,
            on: today - Duration::days(400),
        }),
    ));
    facts.push((
        first.clone(),
        EventKind::TrainingRecorded(TrainingRecord {
            username: username("clinician")?,
            course: TrainingCourse::Other,
            title: Some("Naloxone and overdose awareness trainer course".into()),
            status: TrainingStatus::Undertaking,
            on: today - Duration::days(10),
        }),
    ));
    // The training needs analyses: last year's, and this year's once it is April.
    let year = today.year();
    let mut analyses = vec![(year - 1, NaiveDate::from_ymd_opt(year - 1, 4, 20))];
    if today.month() > 4 {
        analyses.push((year, NaiveDate::from_ymd_opt(year, 4, 18)));
    }
    for (y, on) in analyses {
        if let Some(completed_on) = on {
            facts.push((
                first.clone(),
                EventKind::TrainingNeedsAnalysisRecorded(TrainingNeedsAnalysis {
                    year: y,
                    completed_on,
                    summary: "Table 2 units for the newer workers; child protection refreshers; line management for the team leader".into(),
                }),
            ));
            facts.push((
                first.clone(),
                EventKind::LearningActionRecorded(LearningAction {
                    action_ref: format!("TNA-{y}-1"),
                    source_ref: Some(format!("TNA-{y}")),
                    action: "Book child protection refreshers for everyone due this year".into(),
                    owner: "Service manager".into(),
                    due_on: completed_on + Duration::days(90),
                    completed_on: (y < year).then_some(completed_on + Duration::days(60)),
                }),
            ));
        }
    }
    // Vacancies: one long open, one recent, one filled.
    for (i, code) in sites.iter().enumerate().take(3) {
        let since = today - Duration::days(20 + 50 * i as i64);
        facts.push((
            code.clone(),
            EventKind::VacancyRecorded(Vacancy {
                post_ref: format!("{}-POST-{}", code.as_str(), i + 1),
                post: if i == 1 {
                    "Nurse (substance misuse)".into()
                } else {
                    "Substance use worker".into()
                },
                role: if i == 1 {
                    StaffRole::Nurse
                } else {
                    StaffRole::SubstanceUseWorker
                },
                vacant_since: since,
                filled_on: (i == 2).then(|| since + Duration::days(60)),
            }),
        ));
    }
    recorder.record_service_all(
        &throughcare_domain::access::Author::system(manager.clone()),
        facts,
        now,
        ids,
    )
}
