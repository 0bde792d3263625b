//! Scenario tests of recovery care: the real `decide`, `Case::fold` and `work_items`
//! driven through the test kit. Every date and instant expected here was worked out
//! by hand from the specifications (REQUIREMENTS "Clocks, exactly"; KM 3.4–3.9, 4.9,
//! 4.14, 4.17, 4.29; S4 §4), not read back from the code.

use crate::assessment::{Assessment, AssessmentKind, ComprehensiveItems, FamilyIssues, RiskLevel};
use crate::clinical::{
    BbvStep, BloodBorneVirusRecord, ClinicalEvent, ClinicalStep, DetoxScope, DetoxSubstance,
    Medication, NaloxoneRecipient, NaloxoneRecord, Virus,
};
use crate::consent::{ConsentDecision, ConsentPurpose, ConsentRecord, ConsentWithdrawal};
use crate::custody::{Release, ReleaseKind, Transfer};
use crate::decide::Command;
use crate::error::DomainError;
use crate::events::EventKind;
use crate::instruments::{AuditAnswers, AuditCAnswers};
use crate::interventions::{
    InterventionStatus, InterventionTarget, InterventionUpdate, SessionAttended, SessionKind,
};
use crate::outcomes::{SubstanceUse, TopStage, TopSubstance, TreatmentOutcomesProfile};
use crate::record_ids::{EventId, PersonId};
use crate::recovery::{
    CarePlan, CarePlanReview, ContingencyPlan, ExclusionGrounds, Induction, InductionItem,
    InductionTick, ServiceExclusion,
};
use crate::referrals::{
    AppointmentOffer, AppointmentOutcome, AppointmentOutcomeKind, AppointmentReschedule,
};
use crate::screening::{InjectingStatus, Screening, ScreeningSetting};
use crate::sharing::{Disclosure, Recipient, SharingBasis};
use crate::testkit::*;
use crate::work_queues::{QueueKind, WorkItem, item_key};
use chrono::{DateTime, Utc};

// ---------------------------------------------------------------------------
// Builders
// ---------------------------------------------------------------------------

/// A fresh synthetic prison number for the nth person of a test.
fn number(n: usize) -> String {
    format!("A{n:04}BC")
}

fn clinical(step: ClinicalStep, at: DateTime<Utc>) -> EventKind {
    EventKind::ClinicalEventRecorded(ClinicalEvent {
        step,
        at,
        note: None,
    })
}

fn contingency() -> ContingencyPlan {
    ContingencyPlan {
        safety: "Talk to the wing officer or the Listeners when unsafe".into(),
        risk: "Lowered tolerance after release".into(),
        overdose_prevention: "Naloxone kit and training before release".into(),
        harm_reduction: "Needle exchange details; never use alone".into(),
        unplanned_exit_support: "Community provider's open-access clinic".into(),
        re_engagement: "Self-refer by in-cell telephone or application".into(),
    }
}

fn plan(agreed: &str, review: &str, goals: &[&str]) -> CarePlan {
    CarePlan {
        agreed_on: d(agreed),
        goals: goals.iter().map(|g| g.to_string()).collect(),
        interventions: vec!["keyworking".into()],
        contingency: contingency(),
        agreed_with_person: true,
        review_on: d(review),
    }
}

fn review(on: &str, next: &str, goals: Option<&[&str]>) -> EventKind {
    EventKind::CarePlanReviewed(CarePlanReview {
        reviewed_on: d(on),
        goals: goals.map(|g| g.iter().map(|x| x.to_string()).collect()),
        summary: "Reviewed with the person, contingency plan included".into(),
        next_review_on: d(next),
    })
}

fn step(
    intervention: &str,
    status: InterventionStatus,
    on: &str,
    course: Option<EventId>,
) -> EventKind {
    EventKind::InterventionUpdated(InterventionUpdate {
        intervention: intervention.into(),
        target: InterventionTarget::Opiates,
        status,
        on: d(on),
        course,
        language: None,
        note: None,
    })
}

fn top(on: &str, stage: TopStage) -> TreatmentOutcomesProfile {
    TreatmentOutcomesProfile {
        completed_on: d(on),
        stage,
        substance_use: vec![SubstanceUse {
            substance: TopSubstance::Opiates,
            days: 20,
            typical_amount: Some("£20".into()),
        }],
        other_substance: None,
        injecting_days: 0,
        shared_needles: false,
        shared_other_equipment: false,
        shoplifting_days: 4,
        drug_selling_days: 0,
        other_theft_days: 0,
        assault_days: 0,
        psychological_health: 6,
        physical_health: 9,
        quality_of_life: 5,
        paid_work_days: 0,
        education_days: 0,
        acute_housing_problem: true,
        risk_of_eviction: false,
    }
}

/// An initial assessment (the triage) that finds a need for structured treatment.
fn triage(on: &str) -> EventKind {
    EventKind::AssessmentCompleted(Assessment {
        kind: AssessmentKind::Initial,
        assessed_on: d(on),
        referral: None,
        summary: "Triage: structured treatment needed".into(),
        structured_treatment_needed: true,
        comprehensive: None,
    })
}

fn comprehensive(on: &str) -> EventKind {
    EventKind::AssessmentCompleted(Assessment {
        kind: AssessmentKind::Comprehensive,
        assessed_on: d(on),
        referral: None,
        summary: "Comprehensive assessment".into(),
        structured_treatment_needed: false,
        comprehensive: Some(ComprehensiveItems {
            needs_and_goals: "Stay off heroin; somewhere to live on release".into(),
            family: FamilyIssues::default(),
            other_agencies: vec![],
            onward_referrals: vec![],
            information_handling_explained: true,
            ndtms_consent: true,
            risk_of_self_harm: RiskLevel::Low,
            risk_to_others: RiskLevel::None,
            existing_risk_management_plans: false,
            risk_management_plan: "None needed".into(),
            complex_needs: false,
        }),
    })
}

fn screening(on: &str, structured: bool, offending_linked: bool) -> Screening {
    Screening {
        setting: ScreeningSetting::Reception,
        screened_on: d(on),
        audit: None,
        audit_c: None,
        problem_substances: vec![],
        injecting: InjectingStatus::Never,
        offending_linked,
        structured_treatment_needed: structured,
    }
}

fn consent(purpose: ConsentPurpose, decision: ConsentDecision, on: &str) -> EventKind {
    EventKind::ConsentRecorded(ConsentRecord {
        purpose,
        decision,
        decided_on: d(on),
    })
}

fn exclusion(on: &str, until: Option<&str>, evidence: &str, consent_ref: &str) -> EventKind {
    EventKind::ServiceExclusionRecorded(ServiceExclusion {
        excluded_on: d(on),
        grounds: ExclusionGrounds::SeriousRisk,
        evidence: evidence.into(),
        commissioner_consent_ref: consent_ref.into(),
        until: until.map(d),
    })
}

fn bbv(virus: Virus, step: BbvStep, on: &str, dose: Option<u8>) -> EventKind {
    EventKind::BloodBorneVirusRecorded(BloodBorneVirusRecord {
        virus,
        step,
        on: d(on),
        dose,
        result: None,
    })
}

fn refused(result: Result<Vec<EventId>, DomainError>) -> String {
    match result {
        Err(DomainError::Refused(m)) => m,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn fields(result: Result<Vec<EventId>, DomainError>) -> Vec<String> {
    problem_fields(result.unwrap_err())
}

// ---------------------------------------------------------------------------
// First night (KM 4.17)
// ---------------------------------------------------------------------------

/// Records a first-night need at `at` for a new person in custody and returns the
/// person with their FirstNight and SymptomaticRelief items one minute later.
fn need_at(log: &mut Log, n: usize, at: DateTime<Utc>) -> (PersonId, Vec<WorkItem>) {
    let p = log.prisoner(&number(n));
    log.record(p, clinical(ClinicalStep::FirstNightNeed, at))
        .unwrap();
    let items = log.items(p, at + chrono::Duration::minutes(1));
    (p, items)
}

#[test]
fn first_night_clock_through_the_queue_on_an_ordinary_day() {
    let mut log = Log::new();
    log.now = at("2026-11-30T12:00:00Z");
    // Wednesday 18 November 2026 (GMT, so local time is UTC). Columns: need
    // recorded, due, minutes left one minute after the need, symptomatic relief
    // due (only when the clock stops overnight).
    let cases: [(&str, &str, i64, Option<&str>); 6] = [
        // 07:59: one minute before 08:00 is overnight; four hours from 08:00.
        (
            "2026-11-18 07:59",
            "2026-11-18 12:00",
            240,
            Some("2026-11-18 07:59"),
        ),
        ("2026-11-18 08:00", "2026-11-18 12:00", 239, None),
        ("2026-11-18 17:59", "2026-11-18 21:59", 239, None),
        // 18:00: the four hours end exactly at 22:00; the clock never stops.
        ("2026-11-18 18:00", "2026-11-18 22:00", 239, None),
        // 21:59: one minute tonight, three hours fifty-nine from 08:00 tomorrow;
        // now (22:00) to 11:59 tomorrow is 13 h 59 min.
        (
            "2026-11-18 21:59",
            "2026-11-19 11:59",
            839,
            Some("2026-11-18 22:00"),
        ),
        (
            "2026-11-18 22:00",
            "2026-11-19 12:00",
            839,
            Some("2026-11-18 22:00"),
        ),
    ];
    for (n, (need, due, minutes, relief)) in cases.into_iter().enumerate() {
        let (_, items) = need_at(&mut log, n + 1, local(need));
        let now = local(need) + chrono::Duration::minutes(1);
        let item = only(&items, QueueKind::FirstNight);
        assert_eq!(item.due, local(due), "need at {need}");
        assert!(!item.overdue, "need at {need}");
        assert!(item.has_deadline);
        assert_eq!(item.minutes_left(now), minutes, "need at {need}");
        let reliefs = of(&items, QueueKind::SymptomaticRelief);
        match relief {
            Some(r) => {
                assert_eq!(reliefs.len(), 1, "need at {need}: relief due");
                assert_eq!(reliefs[0].due, local(r), "need at {need}");
            }
            None => assert!(reliefs.is_empty(), "need at {need}: no relief"),
        }
    }
}

#[test]
fn first_night_minutes_left_and_overdue_at_the_due_instant() {
    let mut log = Log::new();
    log.now = at("2026-11-30T12:00:00Z");
    let (p, _) = need_at(&mut log, 1, local("2026-11-18 10:00"));
    let item = |now: &str| only(&log.items(p, local(now)), QueueKind::FirstNight);
    let at_noon = item("2026-11-18 12:00");
    assert_eq!(at_noon.due, local("2026-11-18 14:00"));
    assert_eq!(at_noon.minutes_left(local("2026-11-18 12:00")), 120);
    assert!(!at_noon.overdue);
    let just_before = item("2026-11-18 13:59");
    assert!(!just_before.overdue);
    assert_eq!(just_before.minutes_left(local("2026-11-18 13:59")), 1);
    let at_due = item("2026-11-18 14:00");
    assert!(at_due.overdue, "the clock has run out at 14:00");
    assert_eq!(at_due.minutes_left(local("2026-11-18 14:00")), 0);
    let late = item("2026-11-18 15:30");
    assert!(late.overdue);
    assert_eq!(late.minutes_left(local("2026-11-18 15:30")), -90);
    // A first-night clock shows however far past the queue horizon it is.
    assert!(item("2026-12-31 15:30").overdue);
}

#[test]
fn first_night_clock_on_the_spring_forward_day() {
    // Clocks go forward at 01:00 GMT on Sunday 29 March 2026: 08:00 BST is 07:00Z,
    // so 12:00 BST is 11:00Z.
    let mut log = Log::new();
    log.now = at("2026-04-10T12:00:00Z");
    let cases: [(&str, &str, Option<&str>); 5] = [
        // 23:30 GMT on Saturday: stopped overnight, four hours from 08:00 BST.
        (
            "2026-03-28T23:30:00Z",
            "2026-03-29T11:00:00Z",
            Some("2026-03-28T23:30:00Z"),
        ),
        // 00:30 GMT on the change day.
        (
            "2026-03-29T00:30:00Z",
            "2026-03-29T11:00:00Z",
            Some("2026-03-29T00:30:00Z"),
        ),
        // 01:30 local does not exist that night; 01:30Z is 02:30 BST.
        (
            "2026-03-29T01:30:00Z",
            "2026-03-29T11:00:00Z",
            Some("2026-03-29T01:30:00Z"),
        ),
        // 10:00 BST → 14:00 BST.
        ("2026-03-29T09:00:00Z", "2026-03-29T13:00:00Z", None),
        // 21:00 BST: one hour to 22:00 BST, three from 08:00 BST Monday → 11:00 BST.
        (
            "2026-03-29T20:00:00Z",
            "2026-03-30T10:00:00Z",
            Some("2026-03-29T21:00:00Z"),
        ),
    ];
    for (n, (need, due, relief)) in cases.into_iter().enumerate() {
        let (_, items) = need_at(&mut log, n + 1, at(need));
        let item = only(&items, QueueKind::FirstNight);
        assert_eq!(item.due, at(due), "need at {need}");
        assert_eq!(
            item.minutes_left(at(need)),
            (at(due) - at(need)).num_minutes()
        );
        let reliefs = of(&items, QueueKind::SymptomaticRelief);
        assert_eq!(
            reliefs.iter().map(|r| r.due).collect::<Vec<_>>(),
            relief.map(at).into_iter().collect::<Vec<_>>(),
            "need at {need}"
        );
    }
    // 23:30 GMT Saturday to 12:00 BST Sunday is 11 h 30 min of real time, not 12 h 30.
    let (_, items) = need_at(&mut log, 9, at("2026-03-28T23:30:00Z"));
    assert_eq!(
        only(&items, QueueKind::FirstNight).minutes_left(at("2026-03-28T23:30:00Z")),
        11 * 60 + 30
    );
}

#[test]
fn first_night_clock_on_the_autumn_back_day() {
    // Clocks go back at 02:00 BST (01:00Z) on Sunday 25 October 2026: after that
    // local time is UTC, so 12:00 local is 12:00Z.
    let mut log = Log::new();
    log.now = at("2026-11-10T12:00:00Z");
    let cases: [(&str, &str, Option<&str>); 6] = [
        // 23:30 BST on Saturday.
        (
            "2026-10-24T22:30:00Z",
            "2026-10-25T12:00:00Z",
            Some("2026-10-24T22:30:00Z"),
        ),
        // 01:30 happens twice: first in BST (00:30Z) ...
        (
            "2026-10-25T00:30:00Z",
            "2026-10-25T12:00:00Z",
            Some("2026-10-25T00:30:00Z"),
        ),
        // ... then in GMT (01:30Z).
        (
            "2026-10-25T01:30:00Z",
            "2026-10-25T12:00:00Z",
            Some("2026-10-25T01:30:00Z"),
        ),
        // 21:00 BST Saturday: one hour to 22:00 BST, three from 08:00 GMT → 11:00.
        (
            "2026-10-24T20:00:00Z",
            "2026-10-25T11:00:00Z",
            Some("2026-10-24T21:00:00Z"),
        ),
        // 10:00 GMT on the change day → 14:00.
        ("2026-10-25T10:00:00Z", "2026-10-25T14:00:00Z", None),
        // 21:00 GMT on the change day → 11:00 Monday.
        (
            "2026-10-25T21:00:00Z",
            "2026-10-26T11:00:00Z",
            Some("2026-10-25T22:00:00Z"),
        ),
    ];
    for (n, (need, due, relief)) in cases.into_iter().enumerate() {
        let (_, items) = need_at(&mut log, n + 1, at(need));
        assert_eq!(
            only(&items, QueueKind::FirstNight).due,
            at(due),
            "need at {need}"
        );
        let reliefs = of(&items, QueueKind::SymptomaticRelief);
        assert_eq!(
            reliefs.iter().map(|r| r.due).collect::<Vec<_>>(),
            relief.map(at).into_iter().collect::<Vec<_>>(),
            "need at {need}"
        );
    }
    // 23:30 BST Saturday to 12:00 GMT Sunday is 13 h 30 min of real time.
    let (_, items) = need_at(&mut log, 9, at("2026-10-24T22:30:00Z"));
    assert_eq!(
        only(&items, QueueKind::FirstNight).minutes_left(at("2026-10-24T22:30:00Z")),
        13 * 60 + 30
    );
}

#[test]
fn first_night_items_clear_when_seen_prescribed_or_given_relief() {
    let mut log = Log::new();
    log.now = at("2026-11-30T12:00:00Z");
    let later = local("2026-11-19 13:00");

    // Need at 21:00: the clock stops at 22:00, so relief is due.
    let (p, items) = need_at(&mut log, 1, local("2026-11-18 21:00"));
    assert_eq!(
        only(&items, QueueKind::FirstNight).due,
        local("2026-11-19 11:00")
    );
    assert_eq!(
        only(&items, QueueKind::SymptomaticRelief).due,
        local("2026-11-18 22:00")
    );
    log.record(
        p,
        clinical(ClinicalStep::SymptomaticRelief, local("2026-11-18 23:10")),
    )
    .unwrap();
    let items = log.items(p, local("2026-11-18 23:15"));
    assert!(of(&items, QueueKind::SymptomaticRelief).is_empty());
    assert_eq!(
        of(&items, QueueKind::FirstNight).len(),
        1,
        "still to be seen"
    );
    log.record(
        p,
        clinical(ClinicalStep::SeenByDoctor, local("2026-11-19 09:05")),
    )
    .unwrap();
    assert!(log.items(p, later).is_empty());

    // Prescribing started also answers the need.
    let (q, _) = need_at(&mut log, 2, local("2026-11-18 10:00"));
    log.record(
        q,
        clinical(
            ClinicalStep::PrescribingStarted {
                medication: Medication::Methadone,
            },
            local("2026-11-18 12:30"),
        ),
    )
    .unwrap();
    assert!(of(&log.items(q, later), QueueKind::FirstNight).is_empty());

    // Seen by a doctor *before* the need was recorded answers nothing.
    let r = log.prisoner(&number(3));
    log.record(
        r,
        clinical(ClinicalStep::SeenByDoctor, local("2026-11-18 09:00")),
    )
    .unwrap();
    log.record(
        r,
        clinical(ClinicalStep::FirstNightNeed, local("2026-11-18 10:00")),
    )
    .unwrap();
    let still = only(&log.items(r, later), QueueKind::FirstNight);
    assert!(still.overdue);
    assert_eq!(still.due, local("2026-11-18 14:00"));

    // Relief given without the doctor leaves the first-night clock running; the
    // doctor without relief clears both (the need is answered).
    let (s, _) = need_at(&mut log, 4, local("2026-11-18 23:30"));
    log.record(
        s,
        clinical(ClinicalStep::SeenByDoctor, local("2026-11-19 08:30")),
    )
    .unwrap();
    assert!(log.items(s, later).is_empty());
}

// ---------------------------------------------------------------------------
// TOP (KM 3.7 note 2)
// ---------------------------------------------------------------------------

#[test]
fn top_due_at_treatment_start_then_exactly_at_26_weeks() {
    let mut log = Log::new();
    log.now = at("2026-03-02T10:00:00Z"); // Monday 2 March 2026, GMT
    let p = log.prisoner("A1234BC");
    log.record(
        p,
        step(
            "keyworking",
            InterventionStatus::Started,
            "2026-03-02",
            None,
        ),
    )
    .unwrap();
    // Before any TOP: due on the start date itself (end of 2 March, GMT).
    let first = only(&log.items(p, at("2026-03-02T12:00:00Z")), QueueKind::Top);
    assert_eq!(first.due, at("2026-03-03T00:00:00Z"));
    assert!(!first.overdue);
    assert!(only(&log.items(p, at("2026-03-03T00:00:00Z")), QueueKind::Top).overdue);

    log.record(
        p,
        EventKind::TopCompleted(top("2026-03-02", TopStage::Start)),
    )
    .unwrap();
    // D + 182 days: 2 Mar + 29 = 31 Mar, +30 = 30 Apr, +31 = 31 May, +30 = 30 Jun,
    // +31 = 31 Jul, +31 = 31 Aug. The end of 31 August is midnight BST = 23:00Z.
    let last_minute = only(&log.items(p, at("2026-08-31T22:59:00Z")), QueueKind::Top);
    assert_eq!(last_minute.due, at("2026-08-31T23:00:00Z"));
    assert!(!last_minute.overdue, "still due on the last day");
    assert_eq!(last_minute.minutes_left(at("2026-08-31T22:59:00Z")), 1);
    assert!(only(&log.items(p, at("2026-08-31T23:00:00Z")), QueueKind::Top).overdue);
    assert!(only(&log.items(p, at("2026-09-01T10:00:00Z")), QueueKind::Top).overdue);
    // Not in the queue until 14 days before: 17 Aug shows it, 16 Aug does not.
    assert!(of(&log.items(p, at("2026-08-16T12:00:00Z")), QueueKind::Top).is_empty());
    assert_eq!(
        of(&log.items(p, at("2026-08-17T12:00:00Z")), QueueKind::Top).len(),
        1
    );

    // A review on 28 August moves it on: 28 Aug + 182 = 26 Feb 2027 (GMT).
    log.now = at("2026-08-28T10:00:00Z");
    log.record(
        p,
        EventKind::TopCompleted(top("2026-08-28", TopStage::Review)),
    )
    .unwrap();
    let next = only(&log.items(p, at("2027-02-20T12:00:00Z")), QueueKind::Top);
    assert_eq!(next.due, at("2027-02-27T00:00:00Z"));
    assert!(!next.overdue);
}

#[test]
fn no_top_item_before_treatment_starts_or_for_non_structured_treatment() {
    let mut log = Log::new();
    let p = log.prisoner("A1234BC");
    log.record(
        p,
        step(
            "brief-advice",
            InterventionStatus::Started,
            "2026-11-18",
            None,
        ),
    )
    .unwrap();
    assert!(of(&log.items(p, log.now), QueueKind::Top).is_empty());
    // Prescribing starts treatment too (KM 4.29; the TOP clock).
    log.record(
        p,
        clinical(
            ClinicalStep::PrescribingStarted {
                medication: Medication::Buprenorphine,
            },
            local("2026-11-19 11:00"),
        ),
    )
    .unwrap();
    let item = only(&log.items(p, log.now), QueueKind::Top);
    assert_eq!(item.due, at("2026-11-20T00:00:00Z"));
    assert!(item.overdue, "the start profile was due on 19 November");
}

#[test]
fn correcting_a_top_replaces_it() {
    let mut log = Log::new();
    log.now = at("2026-03-20T10:00:00Z");
    let p = log.prisoner("A1234BC");
    log.record(
        p,
        step(
            "keyworking",
            InterventionStatus::Started,
            "2026-03-02",
            None,
        ),
    )
    .unwrap();
    let wrong = log
        .record(
            p,
            EventKind::TopCompleted(top("2026-03-02", TopStage::Start)),
        )
        .unwrap()[0];
    // A second start profile in the same episode is refused.
    assert_eq!(
        fields(log.record(
            p,
            EventKind::TopCompleted(top("2026-03-05", TopStage::Start))
        )),
        vec!["stage"]
    );
    let mut fixed = top("2026-03-09", TopStage::Start);
    fixed.psychological_health = 8;
    log.try_command(
        p,
        Command::Correct {
            target: wrong,
            reason: "Completed a week later than entered".into(),
            kind: EventKind::TopCompleted(fixed.clone()),
        },
    )
    .unwrap();
    let case = log.case(p);
    assert_eq!(case.tops.len(), 1);
    assert_eq!(case.tops[0].1, fixed);
    assert!(case.superseded.contains(&wrong));
    // 9 Mar + 182 days = 7 Sep 2026; its end is midnight BST = 23:00Z.
    let item = only(&log.items(p, at("2026-09-01T12:00:00Z")), QueueKind::Top);
    assert_eq!(item.due, at("2026-09-07T23:00:00Z"));
}

#[test]
fn top_day_counts_and_ratings_are_bounded() {
    let mut log = Log::new();
    let p = log.prisoner("A1234BC");
    let mut t = top("2026-11-18", TopStage::Start);
    t.substance_use[0].days = 29;
    t.quality_of_life = 21;
    assert_eq!(
        fields(log.record(p, EventKind::TopCompleted(t))),
        vec!["opiates_days", "quality_of_life"]
    );
}

// ---------------------------------------------------------------------------
// Induction (KM 3.5–3.6)
// ---------------------------------------------------------------------------

fn induction(items: &[InductionItem], on: &str) -> EventKind {
    EventKind::InductionRecorded(Induction {
        items: items
            .iter()
            .map(|i| InductionTick {
                item: *i,
                on: d(on),
            })
            .collect(),
    })
}

#[test]
fn induction_due_from_the_plan_date_until_all_seven_items_are_covered() {
    let mut log = Log::new();
    log.now = at("2026-02-10T10:00:00Z");
    let p = log.prisoner("A1234BC");
    log.record(
        p,
        EventKind::CarePlanAgreed(plan("2026-01-30", "2026-04-24", &["Stop using"])),
    )
    .unwrap();
    log.record(p, induction(&InductionItem::ALL[..5], "2026-01-30"))
        .unwrap();
    let item = only(
        &log.items(p, at("2026-01-30T18:00:00Z")),
        QueueKind::Induction,
    );
    assert_eq!(item.due, at("2026-01-31T00:00:00Z"), "end of the plan date");
    assert!(!item.overdue);
    assert!(item.detail.contains("5 of 7"), "{}", item.detail);
    assert!(
        only(
            &log.items(p, at("2026-01-31T00:00:00Z")),
            QueueKind::Induction
        )
        .overdue
    );
}

#[test]
fn induction_revisit_across_month_ends() {
    let mut log = Log::new();
    log.now = at("2026-02-10T10:00:00Z");
    let p = log.prisoner("A1234BC");
    log.record(
        p,
        EventKind::CarePlanAgreed(plan("2026-01-30", "2026-04-24", &["Stop using"])),
    )
    .unwrap();
    log.record(p, induction(InductionItem::ALL, "2026-01-31"))
        .unwrap();
    assert_eq!(log.case(p).induction_completed_on(), Some(d("2026-01-31")));
    // Three calendar months from 31 January: there is no 31 April, so 30 April.
    // Its end is midnight BST, 23:00Z.
    let on_the_day = only(
        &log.items(p, at("2026-04-30T22:59:00Z")),
        QueueKind::Induction,
    );
    assert_eq!(on_the_day.due, at("2026-04-30T23:00:00Z"));
    assert!(!on_the_day.overdue, "not overdue on 30 April");
    assert!(on_the_day.detail.contains("31 January 2026"));
    assert!(
        only(
            &log.items(p, at("2026-05-01T10:00:00Z")),
            QueueKind::Induction
        )
        .overdue
    );
    // 30 November + 3 months → 28 February (2027 is not a leap year).
    log.now = at("2026-12-01T10:00:00Z");
    log.record(p, induction(InductionItem::ALL, "2026-11-30"))
        .unwrap();
    let next = only(
        &log.items(p, at("2027-02-20T12:00:00Z")),
        QueueKind::Induction,
    );
    assert_eq!(next.due, at("2027-03-01T00:00:00Z"));
}

#[test]
fn induction_items_may_not_be_ticked_twice_or_left_empty() {
    let mut log = Log::new();
    let p = log.prisoner("A1234BC");
    let twice = EventKind::InductionRecorded(Induction {
        items: vec![
            InductionTick {
                item: InductionItem::CodeOfConduct,
                on: d("2026-11-18"),
            },
            InductionTick {
                item: InductionItem::CodeOfConduct,
                on: d("2026-11-19"),
            },
        ],
    });
    assert_eq!(fields(log.record(p, twice)), vec!["items"]);
    assert_eq!(
        fields(log.record(p, induction(&[], "2026-11-18"))),
        vec!["items"]
    );
}

// ---------------------------------------------------------------------------
// IRC Dover (KM 4.14)
// ---------------------------------------------------------------------------

#[test]
fn irc_dover_refuses_structured_psychosocial_interventions() {
    let mut log = Log::new();
    log.establishment = code("DVI");
    let p = log.prisoner("A1234BC");
    for (intervention, status) in [
        ("spi", InterventionStatus::Offered),
        ("spi", InterventionStatus::Started),
        ("programme-abstinence", InterventionStatus::Started),
        ("rolling-programme", InterventionStatus::Offered),
    ] {
        let err = log
            .record(p, step(intervention, status, "2026-11-18", None))
            .unwrap_err();
        assert!(err.to_string().contains("KM 4.14"), "{err}");
        assert!(err.to_string().contains("IRC Dover"), "{err}");
        assert_eq!(problem_fields(err), vec!["intervention"]);
    }
    // Nor can a care plan at the IRC choose one.
    let mut with_spi = plan("2026-11-18", "2027-02-10", &["Stay well"]);
    with_spi.interventions = vec!["spi".into()];
    let err = log
        .record(p, EventKind::CarePlanAgreed(with_spi))
        .unwrap_err();
    assert!(err.to_string().contains("KM 4.14"), "{err}");
    assert_eq!(problem_fields(err), vec!["interventions"]);
    assert!(log.case(p).courses.is_empty());

    // Advice in the person's own language is offered at the IRC (KM 4.5.1).
    let advice = EventKind::InterventionUpdated(InterventionUpdate {
        intervention: "brief-advice".into(),
        target: InterventionTarget::Alcohol,
        status: InterventionStatus::Started,
        on: d("2026-11-18"),
        course: None,
        language: Some("Albanian".into()),
        note: None,
    });
    log.record(p, advice).unwrap();
    let case = log.case(p);
    assert_eq!(case.courses.len(), 1);
    assert_eq!(case.courses[0].language.as_deref(), Some("Albanian"));
    assert_eq!(case.courses[0].establishment, code("DVI"));

    // The same structured interventions at a prison are accepted.
    log.establishment = code("MDI");
    let q = log.prisoner("B2345CD");
    log.record(
        q,
        step("spi", InterventionStatus::Offered, "2026-11-18", None),
    )
    .unwrap();
    log.record(
        q,
        step(
            "programme-abstinence",
            InterventionStatus::Started,
            "2026-11-18",
            None,
        ),
    )
    .unwrap();
    assert_eq!(log.case(q).courses.len(), 2);
}

#[test]
fn a_person_held_at_the_irc_gets_no_spi_whoever_records_it_but_a_prison_course_can_end() {
    let mut log = Log::new();
    let p = log.prisoner("A1234BC"); // at HMP Maidstone
    let course = log
        .record(
            p,
            step("spi", InterventionStatus::Started, "2026-11-02", None),
        )
        .unwrap()[0];
    log.establishment = code("DVI");
    log.record(
        p,
        EventKind::Transferred(Transfer {
            from: code("MDI"),
            to: code("DVI"),
            source_ref: None,
            break_glass: None,
        }),
    )
    .unwrap();
    // Held at the IRC: a new SPI is refused even if recorded under a prison's code.
    log.establishment = code("MDI");
    let err = log
        .record(
            p,
            step("spi", InterventionStatus::Offered, "2026-11-18", None),
        )
        .unwrap_err();
    assert!(err.to_string().contains("KM 4.14"), "{err}");
    // The course begun at Maidstone can still be recorded as ended at the IRC.
    log.establishment = code("DVI");
    log.record(
        p,
        step(
            "spi",
            InterventionStatus::DroppedOut,
            "2026-11-18",
            Some(course),
        ),
    )
    .unwrap();
    assert_eq!(
        log.case(p).courses[0].status(),
        Some(InterventionStatus::DroppedOut)
    );
}

// ---------------------------------------------------------------------------
// Sharing the plan (S4 §4: communicated to the OMU with client consent)
// ---------------------------------------------------------------------------

#[test]
fn a_plan_cannot_be_shared_without_consent() {
    let mut log = Log::new();
    let p = log.prisoner("A1234BC");
    let plan_id = log
        .record(
            p,
            EventKind::CarePlanAgreed(plan("2026-11-10", "2027-02-02", &["Stop using"])),
        )
        .unwrap()[0];
    let share = |on: &str| {
        EventKind::InformationShared(Disclosure {
            recipient: Recipient::OffenderManagement,
            basis: SharingBasis::Consent {
                purpose: ConsentPurpose::OffenderManagementSummaries,
            },
            shared_on: d(on),
            about: Some(plan_id),
            summary: "Recovery care plan".into(),
        })
    };
    let m = refused(log.record(p, share("2026-11-12")));
    assert!(m.contains("no live consent"), "{m}");
    log.record(
        p,
        consent(
            ConsentPurpose::OffenderManagementSummaries,
            ConsentDecision::Given,
            "2026-11-11",
        ),
    )
    .unwrap();
    log.record(p, share("2026-11-12")).unwrap();
    log.record(
        p,
        EventKind::ConsentWithdrawn(ConsentWithdrawal {
            purpose: ConsentPurpose::OffenderManagementSummaries,
            withdrawn_on: d("2026-11-13"),
        }),
    )
    .unwrap();
    refused(log.record(p, share("2026-11-14")));
    let case = log.case(p);
    assert_eq!(case.disclosures.len(), 1);
    assert_eq!(case.disclosures[0].1.about, Some(plan_id));
}

// ---------------------------------------------------------------------------
// Care plans (S4 §4; KM 3.4, 3.7)
// ---------------------------------------------------------------------------

#[test]
fn care_plan_validation_names_each_field() {
    let mut log = Log::new();
    let p = log.prisoner("A1234BC");
    let base = || plan("2026-11-10", "2027-02-02", &["Stop using"]);

    let mut no_goals = base();
    no_goals.goals = vec![];
    assert_eq!(
        fields(log.record(p, EventKind::CarePlanAgreed(no_goals))),
        vec!["goals"]
    );
    let mut blank_goals = base();
    blank_goals.goals = vec!["  ".into()];
    assert_eq!(
        fields(log.record(p, EventKind::CarePlanAgreed(blank_goals))),
        vec!["goals"]
    );

    let mut not_agreed = base();
    not_agreed.agreed_with_person = false;
    assert_eq!(
        fields(log.record(p, EventKind::CarePlanAgreed(not_agreed))),
        vec!["agreed_with_person"]
    );

    let mut blank_section = base();
    blank_section.contingency.overdose_prevention = " ".into();
    let err = log
        .record(p, EventKind::CarePlanAgreed(blank_section))
        .unwrap_err();
    assert!(err.to_string().contains("overdose prevention"), "{err}");
    assert_eq!(problem_fields(err), vec!["overdose_prevention"]);
    let mut blank_re_engagement = base();
    blank_re_engagement.contingency.re_engagement = String::new();
    assert_eq!(
        fields(log.record(p, EventKind::CarePlanAgreed(blank_re_engagement))),
        vec!["re_engagement"]
    );

    let mut review_too_soon = base();
    review_too_soon.review_on = d("2026-11-10");
    assert_eq!(
        fields(log.record(p, EventKind::CarePlanAgreed(review_too_soon))),
        vec!["review_on"]
    );

    let mut unknown = base();
    unknown.interventions = vec!["keyworking".into(), "aromatherapy".into()];
    let err = log
        .record(p, EventKind::CarePlanAgreed(unknown))
        .unwrap_err();
    assert!(err.to_string().contains("aromatherapy"), "{err}");
    assert_eq!(problem_fields(err), vec!["interventions"]);

    // A review with no plan, or dated before the plan, is refused.
    assert_eq!(
        fields(log.record(p, review("2026-11-12", "2027-01-01", None))),
        vec!["reviewed_on"]
    );
    log.record(p, EventKind::CarePlanAgreed(base())).unwrap();
    let err = log
        .record(p, review("2026-11-09", "2027-01-01", None))
        .unwrap_err();
    assert!(err.to_string().contains("10 November 2026"), "{err}");
    assert_eq!(problem_fields(err), vec!["reviewed_on"]);
    assert_eq!(
        fields(log.record(p, review("2026-11-12", "2026-11-12", None))),
        vec!["next_review_on"]
    );
    assert_eq!(log.case(p).care_plans.len(), 1);
    assert!(log.case(p).plan_reviews.is_empty());
}

#[test]
fn a_review_changes_the_current_goals_and_the_next_review_date() {
    let mut log = Log::new();
    let p = log.prisoner("A1234BC");
    log.record(
        p,
        EventKind::CarePlanAgreed(plan("2026-09-01", "2026-11-24", &["Stop using heroin"])),
    )
    .unwrap();
    assert_eq!(log.case(p).current_goals(), vec!["Stop using heroin"]);
    assert_eq!(log.case(p).next_plan_review(), Some(d("2026-11-24")));

    let new_goals: &[&str] = &["Stay off heroin", "A job on release"];
    log.record(p, review("2026-10-01", "2026-12-01", Some(new_goals)))
        .unwrap();
    let case = log.case(p);
    assert_eq!(case.current_goals(), new_goals);
    assert_eq!(case.next_plan_review(), Some(d("2026-12-01")));
    let item = only(&log.items(p, log.now), QueueKind::CarePlanReview);
    assert_eq!(item.due, at("2026-12-02T00:00:00Z"));
    assert!(!item.overdue);

    // A later review that leaves the goals alone keeps the changed ones.
    log.record(p, review("2026-11-15", "2027-02-01", None))
        .unwrap();
    let case = log.case(p);
    assert_eq!(case.current_goals(), new_goals);
    assert_eq!(case.next_plan_review(), Some(d("2027-02-01")));
    assert!(of(&log.items(p, log.now), QueueKind::CarePlanReview).is_empty());
}

#[test]
fn plan_history_is_kept_and_the_latest_version_wins() {
    let mut log = Log::new();
    let p = log.prisoner("A1234BC");
    let v1 = log
        .record(
            p,
            EventKind::CarePlanAgreed(plan("2026-06-01", "2026-08-24", &["Reduce use"])),
        )
        .unwrap()[0];
    log.record(p, review("2026-07-01", "2026-07-20", Some(&["Detox"][..])))
        .unwrap();
    let v2 = log
        .record(
            p,
            EventKind::CarePlanAgreed(plan("2026-08-01", "2026-10-24", &["Stay abstinent"])),
        )
        .unwrap()[0];
    let case = log.case(p);
    assert_eq!(case.care_plans.len(), 2);
    assert_eq!(case.care_plan().unwrap().0, v2);
    assert_eq!(case.current_goals(), vec!["Stay abstinent"]);
    // The review of version 1 no longer sets the next review.
    assert_eq!(case.next_plan_review(), Some(d("2026-10-24")));
    assert!(case.event(v1).is_some(), "version 1 stays in the history");

    // Two versions agreed the same day: the one recorded later wins.
    let v3 = log
        .record(
            p,
            EventKind::CarePlanAgreed(plan("2026-08-01", "2026-10-31", &["Stay abstinent", "Gym"])),
        )
        .unwrap()[0];
    let case = log.case(p);
    assert_eq!(case.care_plans.len(), 3);
    assert_eq!(case.care_plan().unwrap().0, v3);
    assert_eq!(case.next_plan_review(), Some(d("2026-10-31")));
}

#[test]
fn care_plan_review_and_reassessment_items() {
    let mut log = Log::new();
    let p = log.prisoner("A1234BC");
    log.record(p, comprehensive("2026-06-01")).unwrap();
    // 1 Jun + 26 weeks (182 days) = 30 Nov; due at its end, midnight GMT. Due with
    // or without a plan (KM 3.7).
    let re = only(
        &log.items(p, at("2026-11-20T12:00:00Z")),
        QueueKind::Reassessment,
    );
    assert_eq!(re.due, at("2026-12-01T00:00:00Z"));
    assert!(!re.overdue);
    assert!(
        only(
            &log.items(p, at("2026-12-01T00:00:00Z")),
            QueueKind::Reassessment
        )
        .overdue
    );

    log.record(
        p,
        EventKind::CarePlanAgreed(plan("2026-09-01", "2026-11-24", &["Stop using"])),
    )
    .unwrap();
    // Review on 24 Nov: in the queue from 10 Nov (14 days ahead), not on 9 Nov.
    assert!(
        of(
            &log.items(p, at("2026-11-09T12:00:00Z")),
            QueueKind::CarePlanReview
        )
        .is_empty()
    );
    let item = only(
        &log.items(p, at("2026-11-10T12:00:00Z")),
        QueueKind::CarePlanReview,
    );
    assert_eq!(item.due, at("2026-11-25T00:00:00Z"));
    assert!(!item.overdue);
    assert!(
        only(
            &log.items(p, at("2026-11-25T00:00:00Z")),
            QueueKind::CarePlanReview
        )
        .overdue
    );
    assert_eq!(
        of(
            &log.items(p, at("2026-11-20T12:00:00Z")),
            QueueKind::Reassessment
        )
        .len(),
        1
    );
    // A new comprehensive assessment restarts the reassessment clock.
    log.record(p, comprehensive("2026-11-19")).unwrap();
    assert!(
        of(
            &log.items(p, at("2026-11-20T12:00:00Z")),
            QueueKind::Reassessment
        )
        .is_empty()
    );
}

// ---------------------------------------------------------------------------
// Interventions and sessions (KM 3.9; S4 §4)
// ---------------------------------------------------------------------------

#[test]
fn intervention_course_transitions() {
    let mut log = Log::new();
    let p = log.prisoner("A1234BC");
    use InterventionStatus::*;
    let c1 = log
        .record(p, step("keyworking", Offered, "2026-11-02", None))
        .unwrap()[0];
    log.record(p, step("keyworking", Started, "2026-11-03", Some(c1)))
        .unwrap();
    log.record(p, step("keyworking", Completed, "2026-11-19", Some(c1)))
        .unwrap();
    let case = log.case(p);
    assert_eq!(case.courses.len(), 1);
    assert_eq!(
        case.courses[0].steps,
        vec![
            (Offered, d("2026-11-02")),
            (Started, d("2026-11-03")),
            (Completed, d("2026-11-19"))
        ]
    );
    assert!(case.courses[0].is_ended());

    // Nothing follows completion.
    for s in [Offered, Declined, Started, Completed, DroppedOut] {
        assert_eq!(
            fields(log.record(p, step("keyworking", s, "2026-11-20", Some(c1)))),
            vec!["status"],
            "{s:?} after completion"
        );
    }

    // Completion needs a start.
    let c2 = log
        .record(p, step("spi", Offered, "2026-11-02", None))
        .unwrap()[0];
    let err = log
        .record(p, step("spi", Completed, "2026-11-10", Some(c2)))
        .unwrap_err();
    assert!(err.to_string().contains("offered"), "{err}");
    assert_eq!(problem_fields(err), vec!["status"]);
    assert_eq!(
        fields(log.record(p, step("spi", DroppedOut, "2026-11-10", Some(c2)))),
        vec!["status"]
    );
    assert_eq!(
        fields(log.record(p, step("spi", Completed, "2026-11-10", None))),
        vec!["course"]
    );
    // A step must be for the course's own intervention.
    assert_eq!(
        fields(log.record(
            p,
            step("relapse-prevention", Started, "2026-11-10", Some(c2))
        )),
        vec!["intervention"]
    );
    // And not before the course's last step.
    assert_eq!(
        fields(log.record(p, step("spi", Started, "2026-11-01", Some(c2)))),
        vec!["on"]
    );
    // An unknown course or code.
    assert_eq!(
        fields(log.record(
            p,
            step(
                "spi",
                Started,
                "2026-11-10",
                Some(EventId(uuid::Uuid::nil()))
            )
        )),
        vec!["course"]
    );
    assert_eq!(
        fields(log.record(p, step("aromatherapy", Offered, "2026-11-10", None))),
        vec!["intervention"]
    );
    // Offer then decline ends a course.
    let c3 = log
        .record(p, step("detox", Offered, "2026-11-05", None))
        .unwrap()[0];
    log.record(p, step("detox", Declined, "2026-11-06", Some(c3)))
        .unwrap();
    assert_eq!(log.case(p).courses.len(), 3);
    assert_eq!(log.case(p).courses[2].status(), Some(Declined));
}

#[test]
fn an_exclusion_needs_commissioner_consent_and_evidence_and_then_blocks_new_offers() {
    let mut log = Log::new();
    let p = log.prisoner("A1234BC");
    let ongoing = log
        .record(
            p,
            step(
                "keyworking",
                InterventionStatus::Started,
                "2026-11-02",
                None,
            ),
        )
        .unwrap()[0];
    let evidence = "Assault on a worker, 9 Nov; security report 123";
    let err = log
        .record(p, exclusion("2026-11-10", None, evidence, " "))
        .unwrap_err();
    assert!(err.to_string().contains("KM 4.9"), "{err}");
    assert_eq!(problem_fields(err), vec!["commissioner_consent_ref"]);
    assert_eq!(
        fields(log.record(p, exclusion("2026-11-10", None, "", "KMDAAT-2026-07"))),
        vec!["evidence"]
    );
    assert_eq!(
        fields(log.record(p, exclusion("2026-11-10", None, "", ""))),
        vec!["evidence", "commissioner_consent_ref"]
    );
    assert_eq!(
        fields(log.record(
            p,
            exclusion("2026-11-10", Some("2026-11-09"), evidence, "KMDAAT-2026-07")
        )),
        vec!["until"]
    );
    assert!(log.case(p).exclusion.is_none());

    log.record(p, exclusion("2026-11-10", None, evidence, "KMDAAT-2026-07"))
        .unwrap();
    for s in [InterventionStatus::Offered, InterventionStatus::Started] {
        let m = refused(log.record(p, step("relapse-prevention", s, "2026-11-12", None)));
        assert!(
            m.contains("KM 4.9") && m.contains("10 November 2026"),
            "{m}"
        );
    }
    // What was under way can still be ended.
    log.record(
        p,
        step(
            "keyworking",
            InterventionStatus::DroppedOut,
            "2026-11-12",
            Some(ongoing),
        ),
    )
    .unwrap();
    assert_eq!(log.case(p).courses.len(), 1);
}

#[test]
fn an_exclusion_for_a_period_ends() {
    let mut log = Log::new();
    let p = log.prisoner("A1234BC");
    log.record(
        p,
        exclusion(
            "2026-11-02",
            Some("2026-11-15"),
            "Threats to staff, 1 Nov",
            "KMDAAT-2026-08",
        ),
    )
    .unwrap();
    refused(log.record(
        p,
        step(
            "keyworking",
            InterventionStatus::Offered,
            "2026-11-15",
            None,
        ),
    ));
    log.record(
        p,
        step(
            "keyworking",
            InterventionStatus::Offered,
            "2026-11-16",
            None,
        ),
    )
    .unwrap();
}

#[test]
fn a_group_session_is_recorded_for_each_person_with_one_session_id() {
    let mut log = Log::new();
    let a = log.prisoner("A1234BC");
    let b = log.prisoner("B2345CD");
    let session = uuid::Uuid::from_u64_pair(42, 7);
    let attended = || {
        EventKind::SessionAttended(SessionAttended {
            session: SessionKind::Group {
                session,
                topic: "Relapse prevention".into(),
            },
            on: d("2026-11-18"),
            minutes: Some(90),
            summary: "Triggers and plans".into(),
            appointment: None,
        })
    };
    log.record(a, attended()).unwrap();
    log.record(b, attended()).unwrap();
    for p in [a, b] {
        let case = log.case(p);
        assert_eq!(case.sessions.len(), 1);
        assert!(matches!(
            &case.sessions[0].1.session,
            SessionKind::Group { session: s, .. } if *s == session
        ));
    }
    let blank_topic = EventKind::SessionAttended(SessionAttended {
        session: SessionKind::Group {
            session,
            topic: " ".into(),
        },
        on: d("2026-11-18"),
        minutes: Some(0),
        summary: "x".into(),
        appointment: None,
    });
    assert_eq!(fields(log.record(a, blank_topic)), vec!["topic", "minutes"]);
}

#[test]
fn a_session_from_an_appointment_marks_it_attended() {
    let mut log = Log::new();
    let p = log.prisoner("A1234BC");
    // Booked at 13:00 on Thursday 19th for 15:00 that afternoon; the session is
    // recorded the next morning with its date only (which the log files at midday,
    // before the booking).
    log.now = at("2026-11-19T13:00:00Z");
    let appointment = log
        .record(
            p,
            EventKind::AppointmentOffered(AppointmentOffer {
                referral: None,
                at: at("2026-11-19T15:00:00Z"),
                worker: None,
                clinic: Some("Healthcare, A wing".into()),
                purpose: Some("Keyworking".into()),
            }),
        )
        .unwrap()[0];
    log.now = at("2026-11-20T09:00:00Z");
    assert_eq!(log.case(p).appointments[0].outcome, None);
    let session = |appointment| {
        EventKind::SessionAttended(SessionAttended {
            session: SessionKind::Keyworking,
            on: d("2026-11-19"),
            minutes: Some(45),
            summary: "Cravings and the week ahead".into(),
            appointment,
        })
    };
    assert_eq!(
        fields(log.record(p, session(Some(EventId(uuid::Uuid::nil()))))),
        vec!["appointment"]
    );
    log.record(p, session(Some(appointment))).unwrap();
    let case = log.case(p);
    assert_eq!(
        case.appointments[0].outcome,
        Some(AppointmentOutcomeKind::Attended)
    );
    assert_eq!(case.sessions.len(), 1);
    // A programme session needs a course the person has started.
    let offered = log
        .record(
            p,
            step(
                "programme-offending",
                InterventionStatus::Offered,
                "2026-11-02",
                None,
            ),
        )
        .unwrap()[0];
    let programme = EventKind::SessionAttended(SessionAttended {
        session: SessionKind::Course { course: offered },
        on: d("2026-11-19"),
        minutes: None,
        summary: "Session 1".into(),
        appointment: None,
    });
    assert_eq!(fields(log.record(p, programme.clone())), vec!["course"]);
    log.record(
        p,
        step(
            "programme-offending",
            InterventionStatus::Started,
            "2026-11-09",
            Some(offered),
        ),
    )
    .unwrap();
    log.record(p, programme).unwrap();
}

#[test]
fn appointment_reschedule_moves_the_time_until_there_is_an_outcome() {
    let mut log = Log::new();
    let p = log.prisoner("A1234BC");
    let appointment = log
        .record(
            p,
            EventKind::AppointmentOffered(AppointmentOffer {
                referral: None,
                at: at("2026-11-23T10:00:00Z"),
                worker: None,
                clinic: None,
                purpose: None,
            }),
        )
        .unwrap()[0];
    let move_to = |when: &str| {
        EventKind::AppointmentRescheduled(AppointmentReschedule {
            appointment,
            at: at(when),
            reason: Some("Wing lock-down".into()),
        })
    };
    log.record(p, move_to("2026-11-24T14:00:00Z")).unwrap();
    assert_eq!(
        log.case(p).appointments[0].offer.at,
        at("2026-11-24T14:00:00Z")
    );
    assert_eq!(
        fields(log.record(p, move_to("2026-11-24T14:00:00Z"))),
        vec!["at"]
    );
    log.record(
        p,
        EventKind::AppointmentOutcomeRecorded(AppointmentOutcome {
            appointment,
            outcome: AppointmentOutcomeKind::Missed,
            note: None,
        }),
    )
    .unwrap();
    assert_eq!(
        fields(log.record(p, move_to("2026-11-25T14:00:00Z"))),
        vec!["appointment"]
    );
    assert_eq!(
        log.case(p).appointments[0].offer.at,
        at("2026-11-24T14:00:00Z")
    );
    let unknown = EventKind::AppointmentRescheduled(AppointmentReschedule {
        appointment: EventId(uuid::Uuid::nil()),
        at: at("2026-11-25T14:00:00Z"),
        reason: None,
    });
    assert_eq!(fields(log.record(p, unknown)), vec!["appointment"]);
}

// ---------------------------------------------------------------------------
// Clinical pathway and harm reduction
// ---------------------------------------------------------------------------

#[test]
fn a_detox_cannot_be_completed_without_being_started() {
    let mut log = Log::new();
    let p = log.prisoner("A1234BC");
    let completed = |substance, at: &str| {
        clinical(
            ClinicalStep::DetoxCompleted {
                substance,
                scope: DetoxScope::SingleSubstance,
            },
            local(at),
        )
    };
    let err = log
        .record(p, completed(DetoxSubstance::Alcohol, "2026-11-18 10:00"))
        .unwrap_err();
    assert!(err.to_string().contains("alcohol"), "{err}");
    assert_eq!(problem_fields(err), vec!["step"]);
    // An opiate detox started does not let an alcohol detox be completed.
    log.record(
        p,
        clinical(
            ClinicalStep::DetoxStarted {
                substance: DetoxSubstance::Opiates,
                scope: DetoxScope::SingleSubstance,
            },
            local("2026-11-10 10:00"),
        ),
    )
    .unwrap();
    assert_eq!(
        fields(log.record(p, completed(DetoxSubstance::Alcohol, "2026-11-18 10:00"))),
        vec!["step"]
    );
    log.record(
        p,
        clinical(
            ClinicalStep::DetoxStarted {
                substance: DetoxSubstance::Alcohol,
                scope: DetoxScope::SingleSubstance,
            },
            local("2026-11-11 09:00"),
        ),
    )
    .unwrap();
    // Completed before it started: refused.
    assert_eq!(
        fields(log.record(p, completed(DetoxSubstance::Alcohol, "2026-11-11 08:00"))),
        vec!["step"]
    );
    log.record(p, completed(DetoxSubstance::Alcohol, "2026-11-18 10:00"))
        .unwrap();
    assert_eq!(log.case(p).clinical.len(), 3);
}

#[test]
fn naloxone_for_a_family_member_needs_family_involvement_consent() {
    let mut log = Log::new();
    let p = log.prisoner("A1234BC");
    let to_sister = || {
        EventKind::NaloxoneSupplied(NaloxoneRecord {
            to: NaloxoneRecipient::FamilyOrCarer {
                name: "Sam Example".into(),
                relationship: "Sister".into(),
            },
            on: d("2026-11-18"),
            training_given: true,
            kit_supplied: true,
        })
    };
    let m = refused(log.record(p, to_sister()));
    assert!(m.contains("S4 §4"), "{m}");
    // Consent for something else is not enough.
    log.record(
        p,
        consent(
            ConsentPurpose::Healthcare,
            ConsentDecision::Given,
            "2026-11-17",
        ),
    )
    .unwrap();
    refused(log.record(p, to_sister()));
    log.record(
        p,
        consent(
            ConsentPurpose::FamilyInvolvement,
            ConsentDecision::Given,
            "2026-11-17",
        ),
    )
    .unwrap();
    log.record(p, to_sister()).unwrap();
    // The person themselves needs no consent record; a record must say what was done.
    let own = |kit, training| {
        EventKind::NaloxoneSupplied(NaloxoneRecord {
            to: NaloxoneRecipient::Person,
            on: d("2026-11-18"),
            training_given: training,
            kit_supplied: kit,
        })
    };
    log.record(p, own(true, false)).unwrap();
    assert_eq!(
        fields(log.record(p, own(false, false))),
        vec!["kit_supplied"]
    );
    assert_eq!(log.case(p).naloxone.len(), 2);
}

#[test]
fn blood_borne_virus_vaccination_rules_and_a_hepatitis_b_course() {
    let mut log = Log::new();
    let p = log.prisoner("A1234BC");
    let err = log
        .record(
            p,
            bbv(Virus::Hiv, BbvStep::VaccinationOffered, "2026-11-02", None),
        )
        .unwrap_err();
    assert!(err.to_string().contains("HIV"), "{err}");
    assert_eq!(problem_fields(err), vec!["step"]);
    assert_eq!(
        fields(log.record(
            p,
            bbv(
                Virus::HepatitisC,
                BbvStep::VaccineDose,
                "2026-11-02",
                Some(1)
            )
        )),
        vec!["step"]
    );
    assert_eq!(
        fields(log.record(
            p,
            bbv(Virus::HepatitisB, BbvStep::VaccineDose, "2026-11-02", None)
        )),
        vec!["dose"]
    );
    assert_eq!(
        fields(log.record(
            p,
            bbv(
                Virus::HepatitisB,
                BbvStep::VaccineDose,
                "2026-11-02",
                Some(5)
            )
        )),
        vec!["dose"]
    );
    assert_eq!(
        fields(log.record(
            p,
            bbv(Virus::HepatitisB, BbvStep::Offered, "2026-11-02", Some(1))
        )),
        vec!["dose"]
    );
    assert_eq!(
        fields(log.record(
            p,
            bbv(
                Virus::HepatitisB,
                BbvStep::VaccinationCompleted,
                "2026-11-02",
                None
            )
        )),
        vec!["step"]
    );
    // The Hepatitis B course: offered, accepted, three doses, completed.
    for (step, on, dose) in [
        (BbvStep::VaccinationOffered, "2026-11-02", None),
        (BbvStep::VaccinationAccepted, "2026-11-02", None),
        (BbvStep::VaccineDose, "2026-11-03", Some(1)),
        (BbvStep::VaccineDose, "2026-11-10", Some(2)),
        (BbvStep::VaccineDose, "2026-11-17", Some(3)),
        (BbvStep::VaccinationCompleted, "2026-11-17", None),
    ] {
        log.record(p, bbv(Virus::HepatitisB, step, on, dose))
            .unwrap();
    }
    let case = log.case(p);
    assert_eq!(case.blood_borne_viruses.len(), 6);
    assert_eq!(
        case.blood_borne_viruses
            .iter()
            .filter_map(|(_, b)| b.dose)
            .collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
}

// ---------------------------------------------------------------------------
// Work queues
// ---------------------------------------------------------------------------

#[test]
fn treatment_start_is_due_the_day_after_triage() {
    // KM 4.29: a new start recorded within 24 hours of the triage date.
    let mut log = Log::new();
    let p = log.prisoner("A1234BC");
    log.record(p, triage("2026-11-16")).unwrap(); // Monday
    let item = only(
        &log.items(p, at("2026-11-17T23:59:00Z")),
        QueueKind::TreatmentStart,
    );
    assert_eq!(item.due, at("2026-11-18T00:00:00Z"), "end of Tuesday 17th");
    assert!(!item.overdue);
    assert!(
        only(
            &log.items(p, at("2026-11-18T00:00:00Z")),
            QueueKind::TreatmentStart
        )
        .overdue
    );

    // Advice is not structured treatment: still due.
    log.record(
        p,
        step(
            "brief-advice",
            InterventionStatus::Started,
            "2026-11-17",
            None,
        ),
    )
    .unwrap();
    assert_eq!(
        of(&log.items(p, log.now), QueueKind::TreatmentStart).len(),
        1
    );
    // A structured intervention's start clears it (and starts the TOP clock).
    log.record(
        p,
        step(
            "keyworking",
            InterventionStatus::Started,
            "2026-11-17",
            None,
        ),
    )
    .unwrap();
    let items = log.items(p, log.now);
    assert!(of(&items, QueueKind::TreatmentStart).is_empty());
    assert_eq!(only(&items, QueueKind::Top).due, at("2026-11-18T00:00:00Z"));

    // So does prescribing.
    let q = log.prisoner("B2345CD");
    log.record(q, triage("2026-11-16")).unwrap();
    log.record(
        q,
        clinical(
            ClinicalStep::PrescribingStarted {
                medication: Medication::Methadone,
            },
            local("2026-11-16 15:00"),
        ),
    )
    .unwrap();
    assert!(of(&log.items(q, log.now), QueueKind::TreatmentStart).is_empty());
}

#[test]
fn a_start_in_an_earlier_episode_does_not_answer_a_new_triage() {
    let mut log = Log::new();
    let p = log.prisoner("A1234BC");
    log.record(
        p,
        step(
            "keyworking",
            InterventionStatus::Started,
            "2026-03-02",
            None,
        ),
    )
    .unwrap();
    log.record(p, triage("2026-11-16")).unwrap();
    let item = only(&log.items(p, log.now), QueueKind::TreatmentStart);
    assert_eq!(item.due, at("2026-11-18T00:00:00Z"));
    assert!(item.overdue);
    log.record(
        p,
        step("spi", InterventionStatus::Started, "2026-11-19", None),
    )
    .unwrap();
    assert!(of(&log.items(p, log.now), QueueKind::TreatmentStart).is_empty());
}

fn audit_c(items: [u8; 3]) -> AuditCAnswers {
    AuditCAnswers::new(items).unwrap()
}

#[test]
fn need_not_offered_and_alcohol_advice_waiting_lists_appear_and_clear() {
    let mut log = Log::new();
    let p = log.prisoner("A1234BC");
    let mut s = screening("2026-11-16", true, false);
    s.audit_c = Some(audit_c([2, 2, 1])); // 5: positive
    log.record(p, EventKind::ScreeningCompleted(s)).unwrap();
    let items = log.items(p, log.now);
    for q in [QueueKind::NeedNotOffered, QueueKind::AlcoholAdvice] {
        let item = only(&items, q);
        assert!(!item.has_deadline && !item.overdue, "{q:?} has no deadline");
        assert_eq!(
            item.due,
            at("2026-11-17T00:00:00Z"),
            "shows the screening date"
        );
    }
    // Structured alcohol advice clears the alcohol list, not the need (KM 4.8.3:
    // structured interventions).
    log.record(
        p,
        step(
            "brief-advice",
            InterventionStatus::Started,
            "2026-11-17",
            None,
        ),
    )
    .unwrap();
    let items = log.items(p, log.now);
    assert!(of(&items, QueueKind::AlcoholAdvice).is_empty());
    assert_eq!(of(&items, QueueKind::NeedNotOffered).len(), 1);
    // An offer of structured treatment clears it, even before it starts.
    log.record(
        p,
        step(
            "keyworking",
            InterventionStatus::Offered,
            "2026-11-18",
            None,
        ),
    )
    .unwrap();
    assert!(of(&log.items(p, log.now), QueueKind::NeedNotOffered).is_empty());

    // AUDIT-C 4 is negative; full AUDIT 7 is lower risk, 8 increasing risk.
    let q = log.prisoner("B2345CD");
    let mut s = screening("2026-11-16", false, false);
    s.audit_c = Some(audit_c([2, 1, 1]));
    log.record(q, EventKind::ScreeningCompleted(s)).unwrap();
    assert!(log.items(q, log.now).is_empty());
    let mut s = screening("2026-11-17", false, false);
    s.audit = Some(AuditAnswers::new([1, 1, 1, 1, 1, 1, 1, 0, 0, 0]).unwrap());
    log.record(q, EventKind::ScreeningCompleted(s)).unwrap();
    assert!(log.items(q, log.now).is_empty());
    let mut s = screening("2026-11-18", false, false);
    s.audit = Some(AuditAnswers::new([1, 1, 1, 1, 1, 1, 1, 1, 0, 0]).unwrap());
    log.record(q, EventKind::ScreeningCompleted(s)).unwrap();
    let item = only(&log.items(q, log.now), QueueKind::AlcoholAdvice);
    assert_eq!(item.due, at("2026-11-19T00:00:00Z"));
    // Prescribing answers a need as well.
    let r = log.prisoner("C3456DE");
    log.record(
        r,
        EventKind::ScreeningCompleted(screening("2026-11-16", true, false)),
    )
    .unwrap();
    log.record(
        r,
        clinical(
            ClinicalStep::DetoxStarted {
                substance: DetoxSubstance::Opiates,
                scope: DetoxScope::PolySubstance,
            },
            local("2026-11-16 16:00"),
        ),
    )
    .unwrap();
    assert!(of(&log.items(r, log.now), QueueKind::NeedNotOffered).is_empty());
}

#[test]
fn queue_order_is_overdue_then_offending_linked_then_earliest_due() {
    let mut log = Log::new();
    let now = at("2026-11-20T12:00:00Z");
    // (triage date, offending linked): due the day after the triage.
    let people = [
        ("2026-11-15", false), // due end 16th: overdue
        ("2026-11-20", true),  // due end 21st
        ("2026-11-19", false), // due end 20th
        ("2026-11-17", true),  // due end 18th: overdue
    ];
    let mut queue: Vec<(WorkItem, bool, &str)> = Vec::new();
    for (n, (triaged, linked)) in people.into_iter().enumerate() {
        let p = log.prisoner(&number(n + 1));
        log.record(
            p,
            EventKind::ScreeningCompleted(screening("2026-11-14", false, linked)),
        )
        .unwrap();
        log.record(p, triage(triaged)).unwrap();
        let case = log.case(p);
        assert_eq!(case.offending_linked(), linked);
        let item = only(&log.items(p, now), QueueKind::TreatmentStart);
        queue.push((item, case.offending_linked(), triaged));
    }
    queue.sort_by_key(|(item, linked, _)| item_key(item, *linked));
    let order: Vec<&str> = queue.iter().map(|(_, _, t)| *t).collect();
    assert_eq!(
        order,
        ["2026-11-17", "2026-11-15", "2026-11-20", "2026-11-19"]
    );
    assert!(queue[0].0.overdue && queue[1].0.overdue);
    assert!(!queue[2].0.overdue && !queue[3].0.overdue);
}

#[test]
fn people_not_in_custody_or_excluded_get_no_care_queue_items() {
    let mut log = Log::new();
    let care = |log: &mut Log, p| {
        log.record(p, triage("2026-11-16")).unwrap();
        log.record(
            p,
            EventKind::CarePlanAgreed(plan("2026-11-16", "2027-02-08", &["Stop using"])),
        )
        .unwrap();
        log.record(
            p,
            clinical(ClinicalStep::FirstNightNeed, local("2026-11-19 23:00")),
        )
        .unwrap();
    };
    let queues = |items: Vec<WorkItem>| items.into_iter().map(|i| i.queue).collect::<Vec<_>>();

    // In custody: the items are there.
    let held = log.prisoner(&number(1));
    care(&mut log, held);
    let q = queues(log.items(held, log.now));
    for k in [
        QueueKind::FirstNight,
        QueueKind::SymptomaticRelief,
        QueueKind::TreatmentStart,
        QueueKind::Induction,
    ] {
        assert!(q.contains(&k), "{k:?} in {q:?}");
    }

    // Registered but never received: only the referral's assessment clock.
    let outside = log.person(&number(2));
    care(&mut log, outside);
    log.refer(outside, "2026-11-18");
    assert_eq!(
        queues(log.items(outside, log.now)),
        vec![QueueKind::Assessment]
    );

    // Released.
    let released = log.prisoner(&number(3));
    care(&mut log, released);
    log.record(
        released,
        EventKind::Released(Release {
            kind: ReleaseKind::Released,
            source_ref: None,
        }),
    )
    .unwrap();
    assert!(log.items(released, log.now).is_empty());

    // Excluded (KM 4.9): nothing while the exclusion lasts, everything after.
    let excluded = log.prisoner(&number(4));
    care(&mut log, excluded);
    log.record(
        excluded,
        exclusion(
            "2026-11-20",
            Some("2026-11-27"),
            "Serious threats to staff",
            "KMDAAT-2026-09",
        ),
    )
    .unwrap();
    assert!(log.items(excluded, log.now).is_empty());
    assert!(log.items(excluded, at("2026-11-27T12:00:00Z")).is_empty());
    assert!(!log.items(excluded, at("2026-11-28T12:00:00Z")).is_empty());
}

#[test]
fn a_transferred_person_keeps_their_queue_items() {
    let mut log = Log::new();
    let p = log.prisoner("A1234BC");
    log.record(p, triage("2026-11-16")).unwrap();
    log.establishment = code("EYI");
    log.record(
        p,
        EventKind::Transferred(Transfer {
            from: code("MDI"),
            to: code("EYI"),
            source_ref: None,
            break_glass: None,
        }),
    )
    .unwrap();
    assert_eq!(
        only(&log.items(p, log.now), QueueKind::TreatmentStart).due,
        at("2026-11-18T00:00:00Z")
    );
}

// ---------------------------------------------------------------------------
// Review fixes: future dates name their field, sessions against missed
// appointments, shares about someone else's entry, advice offered but not given
// ---------------------------------------------------------------------------

#[test]
fn a_future_date_is_refused_on_the_payloads_own_field() {
    let mut log = Log::new(); // now: 20 November 2026
    let p = log.prisoner(&number(1));
    let f = fields(log.record(
        p,
        step(
            "keyworking",
            InterventionStatus::Started,
            "2026-11-21",
            None,
        ),
    ));
    assert_eq!(f, ["on"]);
    let f = fields(log.record(
        p,
        clinical(ClinicalStep::SeenByDoctor, at("2026-11-20T10:30:00Z")),
    ));
    assert_eq!(f, ["at"], "a clinical time later than now");
    assert!(
        log.record(
            p,
            clinical(ClinicalStep::SeenByDoctor, at("2026-11-20T09:30:00Z"))
        )
        .is_ok()
    );
}

#[test]
fn a_session_cannot_be_filed_against_an_appointment_recorded_as_missed() {
    let mut log = Log::new();
    let p = log.prisoner(&number(1));
    let offer = log
        .record(
            p,
            EventKind::AppointmentOffered(AppointmentOffer {
                referral: None,
                at: at("2026-11-19T14:00:00Z"),
                worker: None,
                clinic: None,
                purpose: None,
            }),
        )
        .unwrap()[0];
    log.record(
        p,
        EventKind::AppointmentOutcomeRecorded(AppointmentOutcome {
            appointment: offer,
            outcome: AppointmentOutcomeKind::Missed,
            note: None,
        }),
    )
    .unwrap();
    let f = fields(log.record(
        p,
        EventKind::SessionAttended(SessionAttended {
            session: SessionKind::Keyworking,
            on: d("2026-11-19"),
            minutes: None,
            summary: "Seen on the wing instead".into(),
            appointment: Some(offer),
        }),
    ));
    assert_eq!(f, ["appointment"]);
}

#[test]
fn a_share_must_be_about_one_of_the_persons_own_entries() {
    let mut log = Log::new();
    let p = log.prisoner(&number(1));
    let q = log.prisoner(&number(2));
    let elsewhere = log.refer(q, "2026-11-10");
    log.record(
        p,
        consent(
            ConsentPurpose::OffenderManagementSummaries,
            ConsentDecision::Given,
            "2026-11-01",
        ),
    )
    .unwrap();
    let share = |about| {
        EventKind::InformationShared(Disclosure {
            recipient: Recipient::OffenderManagement,
            basis: SharingBasis::Consent {
                purpose: ConsentPurpose::OffenderManagementSummaries,
            },
            shared_on: d("2026-11-18"),
            about: Some(about),
            summary: "Progress summary".into(),
        })
    };
    assert_eq!(fields(log.record(p, share(elsewhere))), ["about"]);
    let own = log.refer(p, "2026-11-10");
    assert!(log.record(p, share(own)).is_ok());
}

#[test]
fn structured_alcohol_advice_offered_but_not_given_keeps_the_person_on_the_list() {
    let mut log = Log::new();
    let p = log.prisoner(&number(1));
    let mut s = screening("2026-11-16", false, false);
    s.audit = Some(AuditAnswers::new([2, 2, 2, 1, 1, 0, 0, 0, 0, 0]).unwrap()); // 8: increasing risk
    log.record(p, EventKind::ScreeningCompleted(s)).unwrap();
    let now = at("2026-11-20T10:00:00Z");
    assert_eq!(of(&log.items(p, now), QueueKind::AlcoholAdvice).len(), 1);
    let offer = log
        .record(
            p,
            step(
                "brief-advice",
                InterventionStatus::Offered,
                "2026-11-17",
                None,
            ),
        )
        .unwrap()[0];
    assert_eq!(
        of(&log.items(p, now), QueueKind::AlcoholAdvice).len(),
        1,
        "S4 §4: delivered, not merely offered"
    );
    log.record(
        p,
        step(
            "brief-advice",
            InterventionStatus::Started,
            "2026-11-18",
            Some(offer),
        ),
    )
    .unwrap();
    assert!(of(&log.items(p, now), QueueKind::AlcoholAdvice).is_empty());
}

#[test]
fn correcting_the_first_step_of_a_course_keeps_its_later_steps() {
    let mut log = Log::new();
    let p = log.prisoner(&number(1));
    let offer = log
        .record(
            p,
            step(
                "keyworking",
                InterventionStatus::Offered,
                "2026-11-02",
                None,
            ),
        )
        .unwrap()[0];
    log.record(
        p,
        step(
            "keyworking",
            InterventionStatus::Started,
            "2026-11-09",
            Some(offer),
        ),
    )
    .unwrap();
    log.try_command(
        p,
        Command::Correct {
            target: offer,
            reason: "Offered on the Tuesday, not the Monday".into(),
            kind: step(
                "keyworking",
                InterventionStatus::Offered,
                "2026-11-03",
                None,
            ),
        },
    )
    .unwrap();
    let case = log.case(p);
    assert_eq!(case.courses.len(), 1);
    let c = &case.courses[0];
    assert_eq!(c.id, offer, "the course keeps its original identity");
    assert_eq!(
        c.steps,
        [
            (InterventionStatus::Offered, d("2026-11-03")),
            (InterventionStatus::Started, d("2026-11-09"))
        ]
    );
    // A later step still names the course by its original id.
    log.record(
        p,
        step(
            "keyworking",
            InterventionStatus::Completed,
            "2026-11-16",
            Some(offer),
        ),
    )
    .unwrap();
    assert_eq!(
        log.case(p).courses[0].status(),
        Some(InterventionStatus::Completed)
    );
}

#[test]
fn prescribing_on_the_first_night_answers_a_later_triage_in_the_same_stay() {
    let mut log = Log::new(); // now: 20 November 2026
    let p = log.person(&number(1));
    log.try_command(
        p,
        Command::Record {
            occurred_at: Some(at("2026-11-02T18:00:00Z")),
            recorded_at: None,
            kind: EventKind::Received(crate::custody::Reception {
                reception_type: crate::custody::ReceptionType::Remand,
                source_ref: None,
            }),
        },
    )
    .unwrap();
    log.record(
        p,
        clinical(
            ClinicalStep::PrescribingStarted {
                medication: Medication::Methadone,
            },
            at("2026-11-02T20:30:00Z"),
        ),
    )
    .unwrap();
    log.record(p, triage("2026-11-05")).unwrap();
    assert!(
        of(&log.items(p, log.now), QueueKind::TreatmentStart).is_empty(),
        "already in treatment since the first night"
    );
}

#[test]
fn a_corrected_referral_cannot_move_after_the_assessment_that_answered_it() {
    let mut log = Log::new();
    let p = log.prisoner(&number(1));
    let referral = log.refer(p, "2026-11-02");
    let mut a = match triage("2026-11-02") {
        EventKind::AssessmentCompleted(a) => a,
        _ => unreachable!(),
    };
    a.referral = Some(referral);
    log.record(p, EventKind::AssessmentCompleted(a)).unwrap();
    let moved = Command::Correct {
        target: referral,
        reason: "Typed the wrong day".into(),
        kind: EventKind::ReferralMade(crate::referrals::Referral {
            source: crate::referrals::ReferralSource::Gp,
            referred_on: d("2026-11-03"),
            note: None,
        }),
    };
    assert_eq!(
        problem_fields(log.try_command(p, moved).unwrap_err()),
        ["referred_on"]
    );
    let earlier = Command::Correct {
        target: referral,
        reason: "Typed the wrong day".into(),
        kind: EventKind::ReferralMade(crate::referrals::Referral {
            source: crate::referrals::ReferralSource::Gp,
            referred_on: d("2026-11-01"),
            note: None,
        }),
    };
    log.try_command(p, earlier).unwrap();
    let case = log.case(p);
    assert_eq!(case.referrals.len(), 1);
    assert_eq!(
        case.referrals[0].first_assessment.map(|(_, on)| on),
        Some(d("2026-11-02"))
    );
}
