//! Scenarios for the workforce rules (KM 5.42–5.50): the trainee rule end to end
//! through `decide`, competence, training intervals, clearances and vacancies.

use crate::assessment::{Assessment, AssessmentKind, ComprehensiveItems, FamilyIssues, RiskLevel};
use crate::danos;
use crate::events::EventKind;
use crate::identifiers::{EstablishmentCode, StaffUsername};
use crate::recovery::KeyworkerAllocation;
use crate::testkit::{Log, d, service_record};
use crate::workforce::{
    Clearance, CompetenceEvidence, StaffMember, StaffRole, TraineeSignOff, Traineeship,
    TrainingCourse, TrainingRecord, TrainingState, TrainingStatus, Vacancy, WorkforceSettings,
};

fn user(u: &str) -> StaffUsername {
    StaffUsername::parse(u).unwrap()
}

fn staff(u: &str, role: StaffRole, trainee_of: Option<&str>) -> EventKind {
    EventKind::StaffRecorded(StaffMember {
        username: user(u),
        name: format!("Synthetic {u}"),
        role,
        establishments: vec![EstablishmentCode::parse("MDI").unwrap()],
        line_manager: false,
        brief_interventions: false,
        clearance: Some(Clearance {
            granted_on: d("2025-01-10"),
            expires_on: d("2028-01-10"),
        }),
        trainee: trainee_of.map(|s| Traineeship {
            since: d("2026-03-02"),
            supervisor: user(s),
        }),
        revalidation_due_on: None,
        left_on: None,
    })
}

/// Evidence for every table 1 unit (all a substance use worker needs).
fn competent(u: &str) -> Vec<EventKind> {
    danos::required_units(true, false, false)
        .into_iter()
        .map(|unit| {
            EventKind::CompetenceRecorded(CompetenceEvidence {
                username: user(u),
                unit: unit.to_string(),
                evidence: "Observed practice, supervisor's portfolio sign-off".into(),
                assessed_on: d("2026-10-01"),
            })
        })
        .collect()
}

fn allocate(worker: &str) -> EventKind {
    EventKind::KeyworkerAllocated(KeyworkerAllocation {
        worker: user(worker),
        allocated_on: d("2026-11-19"),
    })
}

fn comprehensive(complex_needs: bool) -> EventKind {
    EventKind::AssessmentCompleted(Assessment {
        kind: AssessmentKind::Comprehensive,
        assessed_on: d("2026-11-18"),
        referral: None,
        summary: "Comprehensive assessment".into(),
        structured_treatment_needed: true,
        comprehensive: Some(ComprehensiveItems {
            needs_and_goals: "Stop using heroin; housing on release".into(),
            family: FamilyIssues::default(),
            other_agencies: vec![],
            onward_referrals: vec![],
            information_handling_explained: true,
            ndtms_consent: true,
            risk_of_self_harm: RiskLevel::Low,
            risk_to_others: RiskLevel::None,
            existing_risk_management_plans: false,
            risk_management_plan: "None needed".into(),
            complex_needs,
        }),
    })
}

#[test]
fn a_trainee_cannot_keywork_a_complex_needs_person_until_signed_off() {
    // The service: a fully competent supervisor and a trainee under them.
    let mut facts = vec![staff("worker.sam", StaffRole::SubstanceUseWorker, None)];
    facts.extend(competent("worker.sam"));
    facts.push(staff(
        "trainee.tia",
        StaffRole::SubstanceUseWorker,
        Some("worker.sam"),
    ));
    let before = service_record(facts.clone()).unwrap();
    assert_eq!(before.workforce.trainees(), vec![user("trainee.tia")]);

    // A person whose comprehensive assessment flags complex needs.
    let mut log = Log::new();
    let p = log.person("A1234BC");
    log.refer(p, "2026-11-16");
    log.record(p, comprehensive(true)).unwrap();
    log.trainees = before.workforce.trainees();

    // Allocating the trainee as keyworker is refused, whoever records it…
    let e = log.record(p, allocate("trainee.tia")).unwrap_err();
    assert!(e.to_string().contains("trainee.tia is a trainee"), "{e}");
    assert!(e.to_string().contains("KM 5.43.1"), "{e}");
    // …and so is the trainee recording work with the person.
    log.recorded_by = user("trainee.tia");
    let e = log.record(p, allocate("worker.sam")).unwrap_err();
    assert!(
        e.to_string().contains("ask a fully competent colleague"),
        "{e}"
    );
    log.recorded_by = user("worker.one");

    // Signing off before every unit is evidenced is refused, naming what is missing.
    let mut early = facts.clone();
    early.push(EventKind::TraineeSignedOff(TraineeSignOff {
        username: user("trainee.tia"),
        signed_off_on: d("2026-11-20"),
    }));
    let e = service_record(early).unwrap_err();
    assert!(
        e.to_string()
            .contains("no evidence of competence yet in AA1"),
        "{e}"
    );

    // With every unit evidenced and the sign-off recorded, the allocation is allowed.
    facts.extend(competent("trainee.tia"));
    facts.push(EventKind::TraineeSignedOff(TraineeSignOff {
        username: user("trainee.tia"),
        signed_off_on: d("2026-11-20"),
    }));
    let after = service_record(facts).unwrap();
    assert!(after.workforce.trainees().is_empty());
    log.trainees = after.workforce.trainees();
    log.record(p, allocate("trainee.tia")).unwrap();
}

#[test]
fn a_trainee_may_work_with_a_person_without_complex_needs() {
    let mut log = Log::new();
    let p = log.person("A1234BC");
    log.refer(p, "2026-11-16");
    log.record(p, comprehensive(false)).unwrap();
    log.trainees = vec![user("trainee.tia")];
    log.record(p, allocate("trainee.tia")).unwrap();
    log.recorded_by = user("trainee.tia");
    log.record(p, allocate("trainee.tia")).unwrap();
}

#[test]
fn a_trainees_supervisor_must_be_fully_competent() {
    let facts = vec![
        staff("worker.sam", StaffRole::SubstanceUseWorker, None),
        staff(
            "trainee.tia",
            StaffRole::SubstanceUseWorker,
            Some("worker.sam"),
        ),
    ];
    let e = service_record(facts).unwrap_err();
    assert!(e.to_string().contains("supervisor"), "{e}");
    assert!(
        e.to_string().contains("not a fully competent practitioner"),
        "{e}"
    );
    let e = service_record(vec![staff(
        "trainee.tia",
        StaffRole::SubstanceUseWorker,
        Some("trainee.tia"),
    )])
    .unwrap_err();
    assert!(e.to_string().contains("cannot supervise themselves"), "{e}");
}

#[test]
fn a_trainee_is_to_be_signed_off_within_two_years() {
    let mut facts = vec![staff("worker.sam", StaffRole::SubstanceUseWorker, None)];
    facts.extend(competent("worker.sam"));
    facts.push(staff(
        "trainee.tia",
        StaffRole::SubstanceUseWorker,
        Some("worker.sam"),
    ));
    let r = service_record(facts).unwrap();
    let due = r.workforce.sign_offs_due(&WorkforceSettings::default());
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].1, d("2028-03-02"), "since 2 March 2026 + 24 months");
}

fn training(u: &str, course: TrainingCourse, status: TrainingStatus, on: &str) -> EventKind {
    EventKind::TrainingRecorded(TrainingRecord {
        username: user(u),
        course,
        title: None,
        status,
        on: d(on),
    })
}

#[test]
fn child_protection_training_is_due_at_two_years() {
    let r = service_record(vec![
        staff("worker.sam", StaffRole::SubstanceUseWorker, None),
        training(
            "worker.sam",
            TrainingCourse::ChildProtection,
            TrainingStatus::Completed,
            "2024-11-18",
        ),
        training(
            "worker.sam",
            TrainingCourse::InformationSharing,
            TrainingStatus::Completed,
            "2024-11-18",
        ),
    ])
    .unwrap();
    let w = &r.workforce;
    let settings = WorkforceSettings::default();
    assert_eq!(settings.child_protection_months, 24);
    assert_eq!(
        w.next_due(
            &user("worker.sam"),
            TrainingCourse::ChildProtection,
            &settings
        ),
        Some(d("2026-11-18"))
    );
    let at = |today: &str| {
        w.training_due(&settings, d(today))
            .into_iter()
            .map(|t| (t.course, t.state))
            .collect::<Vec<_>>()
    };
    // Shown 60 days ahead, due on the day two years on, overdue the day after.
    assert!(at("2026-09-18").is_empty(), "61 days before");
    assert_eq!(
        at("2026-09-19"),
        vec![(TrainingCourse::ChildProtection, TrainingState::Due)]
    );
    assert_eq!(
        at("2026-11-18"),
        vec![(TrainingCourse::ChildProtection, TrainingState::Due)]
    );
    assert_eq!(
        at("2026-11-19"),
        vec![(TrainingCourse::ChildProtection, TrainingState::Overdue)]
    );
    // The interval is a setting: yearly makes it overdue a year earlier.
    let yearly = WorkforceSettings {
        child_protection_months: 12,
        ..WorkforceSettings::default()
    };
    assert_eq!(
        w.next_due(
            &user("worker.sam"),
            TrainingCourse::ChildProtection,
            &yearly
        ),
        Some(d("2025-11-18"))
    );
}

#[test]
fn training_undertaken_counts_and_line_managers_need_line_management() {
    let mut manager = staff("manager.max", StaffRole::Manager, None);
    if let EventKind::StaffRecorded(s) = &mut manager {
        s.line_manager = true;
    }
    let r = service_record(vec![
        manager,
        training(
            "manager.max",
            TrainingCourse::ChildProtection,
            TrainingStatus::Undertaking,
            "2026-11-02",
        ),
    ])
    .unwrap();
    let due: Vec<_> = r
        .workforce
        .training_due(&WorkforceSettings::default(), d("2026-11-20"))
        .into_iter()
        .map(|t| (t.course, t.state))
        .collect();
    assert_eq!(
        due,
        vec![
            (TrainingCourse::InformationSharing, TrainingState::Missing),
            (TrainingCourse::LineManagement, TrainingState::Missing),
        ]
    );
}

#[test]
fn clearances_expiring_or_missing_are_listed() {
    let mut lapsing = staff("worker.sam", StaffRole::SubstanceUseWorker, None);
    if let EventKind::StaffRecorded(s) = &mut lapsing {
        s.clearance = Some(Clearance {
            granted_on: d("2023-12-01"),
            expires_on: d("2027-01-19"),
        });
    }
    let mut none = staff("worker.kit", StaffRole::SubstanceUseWorker, None);
    if let EventKind::StaffRecorded(s) = &mut none {
        s.clearance = None;
    }
    let r = service_record(vec![
        lapsing,
        none,
        staff("worker.lee", StaffRole::Nurse, None),
    ])
    .unwrap();
    let settings = WorkforceSettings::default();
    let at = |today: &str| {
        r.workforce
            .clearances_expiring(&settings, d(today))
            .into_iter()
            .map(|(s, e)| (s.username.to_string(), e))
            .collect::<Vec<_>>()
    };
    assert_eq!(at("2026-11-19"), vec![("worker.kit".to_string(), None)]);
    assert_eq!(
        at("2026-11-20"),
        vec![
            ("worker.kit".to_string(), None),
            ("worker.sam".to_string(), Some(d("2027-01-19")))
        ],
        "60 days ahead"
    );
}

#[test]
fn competence_needs_a_known_unit_and_a_known_member_of_staff() {
    let e = service_record(vec![EventKind::CompetenceRecorded(CompetenceEvidence {
        username: user("nobody.here"),
        unit: "ZZ9".into(),
        evidence: " ".into(),
        assessed_on: d("2026-11-01"),
    })])
    .unwrap_err();
    let fields = crate::testkit::problem_fields(e);
    assert_eq!(fields, vec!["username", "unit", "evidence"]);
}

#[test]
fn competence_gaps_count_each_unit_a_current_member_of_staff_lacks() {
    let mut facts = vec![
        staff("worker.sam", StaffRole::SubstanceUseWorker, None),
        staff("admin.ada", StaffRole::Administrator, None),
    ];
    facts.extend(competent("worker.sam").into_iter().skip(1));
    let r = service_record(facts).unwrap();
    let gaps = r.workforce.competence_gaps(d("2026-11-20"));
    // Only the first unit (AA1) is missing, for the worker; the administrator is
    // not a practitioner.
    assert_eq!(gaps.len(), 1);
    assert_eq!(gaps[0].0.code, "AA1");
    assert_eq!(gaps[0].1.len(), 1);
}

#[test]
fn vacancies_are_open_until_filled() {
    let post = |filled: Option<&str>| {
        EventKind::VacancyRecorded(Vacancy {
            post_ref: "MDI-SUW-2".into(),
            post: "Substance use worker".into(),
            role: StaffRole::SubstanceUseWorker,
            vacant_since: d("2026-09-01"),
            filled_on: filled.map(d),
        })
    };
    let r = service_record(vec![post(None)]).unwrap();
    assert_eq!(r.workforce.open_vacancies(d("2026-11-20")).len(), 1);
    assert_eq!(r.workforce.open_vacancies(d("2026-08-31")).len(), 0);
    let r = service_record(vec![post(None), post(Some("2026-11-16"))]).unwrap();
    assert_eq!(r.workforce.open_vacancies(d("2026-11-20")).len(), 0);
    assert_eq!(r.workforce.open_vacancies(d("2026-11-15")).len(), 1);
    let e = service_record(vec![post(Some("2026-08-01"))]).unwrap_err();
    assert!(e.to_string().contains("filled_on"), "{e}");
}
