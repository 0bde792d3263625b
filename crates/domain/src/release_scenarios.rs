//! Scenario tests of release and throughcare: the real `decide`, `Case::fold`,
//! `work_items` and the throughcare lists driven through the test kit. Every date
//! and instant expected here was worked out by hand from the specifications
//! (REQUIREMENTS §10–12 and "Clocks, exactly"; S4 §1, §4–5; KM 2.1 note 1, 3.9.17,
//! 3.9.19, 4.10.6, 5.21; KPIs 2.17–2.18, 3.4–3.7), not read back from the code.
//!
//! Europe/London: British Summer Time runs from 29 March to 25 October 2026 and
//! from 26 March to 29 October 2028, so the end of a summer day is 23:00Z and the
//! end of a winter day is midnight Z.

use crate::assessment::{Assessment, AssessmentKind, ComprehensiveItems, FamilyIssues, RiskLevel};
use crate::clinical::{ClinicalEvent, ClinicalStep, Medication, NaloxoneRecipient, NaloxoneRecord};
use crate::consent::{ConsentDecision, ConsentPurpose, ConsentRecord, ConsentWithdrawal};
use crate::custody::{ExpectedRelease, Reception, ReceptionType, Release, ReleaseKind, Transfer};
use crate::decide::Command;
use crate::error::DomainError;
use crate::events::EventKind;
use crate::interventions::{InterventionStatus, InterventionTarget, InterventionUpdate};
use crate::outcomes::{SubstanceUse, TopStage, TopSubstance, TreatmentOutcomesProfile};
use crate::record_ids::{EventId, PersonId};
use crate::recovery::{CarePlan, ContingencyPlan, Induction, InductionItem, InductionTick};
use crate::referrals::{ReferralClosure, ReferralClosureReason};
use crate::release::{
    CommunityEngagement, Contact, ContactOutcome, ContactPurpose, Death, DeathCause,
    EngagementOutcome, ExitReason, FollowUpClosed, FollowUpOutcome, PlanGap, ReleasePlan,
    Reoffence, TreatmentExit,
};
use crate::screening::{InjectingStatus, Screening, ScreeningSetting, Substance};
use crate::sharing::{Disclosure, Recipient, SharingBasis};
use crate::testkit::*;
use crate::throughcare::{
    Continuity, FollowUp, ReEngagement, continuity, follow_ups, plan_gaps, re_engagement,
    release_item, release_key, release_plan,
};
use crate::time::local_date;
use crate::work_queues::{Episode, QueueKind, WorkItem, current_episode};
use chrono::{DateTime, Utc};

// ---------------------------------------------------------------------------
// Builders
// ---------------------------------------------------------------------------

/// A fresh synthetic prison number for the nth person of a test.
fn number(n: usize) -> String {
    format!("R{n:04}TC")
}

fn queues(items: &[WorkItem]) -> Vec<QueueKind> {
    items.iter().map(|i| i.queue).collect()
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

/// Records a fact as having happened at `when` (movements carry no date of their
/// own, so they are stamped with the instant given).
fn record_at(
    log: &mut Log,
    p: PersonId,
    when: DateTime<Utc>,
    kind: EventKind,
) -> Result<Vec<EventId>, DomainError> {
    log.try_command(
        p,
        Command::Record {
            occurred_at: Some(when),
            recorded_at: None,
            kind,
        },
    )
}

/// Registers the nth synthetic person and receives them at the log's establishment
/// at midday on `on` (an immigration detainee at the IRC, sentenced elsewhere).
fn held(log: &mut Log, n: usize, on: &str) -> PersonId {
    let p = log.person(&number(n));
    let reception_type = if log.establishment == code("DVI") {
        ReceptionType::ImmigrationDetainee
    } else {
        ReceptionType::Sentenced
    };
    record_at(
        log,
        p,
        midday(on),
        EventKind::Received(Reception {
            reception_type,
            source_ref: None,
        }),
    )
    .unwrap();
    p
}

fn leave(log: &mut Log, p: PersonId, on: &str, kind: ReleaseKind) -> EventId {
    record_at(
        log,
        p,
        midday(on),
        EventKind::Released(Release {
            kind,
            source_ref: None,
        }),
    )
    .unwrap()[0]
}

/// Releases the person from the log's establishment at midday on `on`.
fn release(log: &mut Log, p: PersonId, on: &str) -> EventId {
    leave(log, p, on, ReleaseKind::Released)
}

fn expect_release(log: &mut Log, p: PersonId, on: &str) {
    log.record(
        p,
        EventKind::ExpectedReleaseSet(ExpectedRelease { date: Some(d(on)) }),
    )
    .unwrap();
}

fn clinical(step: ClinicalStep, at: DateTime<Utc>) -> EventKind {
    EventKind::ClinicalEventRecorded(ClinicalEvent {
        step,
        at,
        note: None,
    })
}

fn methadone() -> ClinicalStep {
    ClinicalStep::PrescribingStarted {
        medication: Medication::Methadone,
    }
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

/// Starts a course of keyworking (structured treatment: it starts an episode).
fn keyworking(on: &str) -> EventKind {
    step("keyworking", InterventionStatus::Started, on, None)
}

fn top(on: &str, stage: TopStage) -> EventKind {
    EventKind::TopCompleted(TreatmentOutcomesProfile {
        completed_on: d(on),
        stage,
        substance_use: vec![SubstanceUse {
            substance: TopSubstance::Opiates,
            days: 12,
            typical_amount: Some("£10".into()),
        }],
        other_substance: None,
        injecting_days: 0,
        shared_needles: false,
        shared_other_equipment: false,
        shoplifting_days: 2,
        drug_selling_days: 0,
        other_theft_days: 0,
        assault_days: 0,
        psychological_health: 8,
        physical_health: 10,
        quality_of_life: 7,
        paid_work_days: 0,
        education_days: 0,
        acute_housing_problem: false,
        risk_of_eviction: false,
    })
}

fn screening(on: &str, substances: &[Substance], injecting: InjectingStatus) -> EventKind {
    EventKind::ScreeningCompleted(Screening {
        setting: ScreeningSetting::Reception,
        screened_on: d(on),
        audit: None,
        audit_c: None,
        problem_substances: substances.to_vec(),
        injecting,
        offending_linked: false,
        structured_treatment_needed: true,
    })
}

fn care_plan(agreed: &str, review: &str) -> EventKind {
    EventKind::CarePlanAgreed(CarePlan {
        agreed_on: d(agreed),
        goals: vec!["Stay off heroin".into()],
        interventions: vec!["keyworking".into()],
        contingency: ContingencyPlan {
            safety: "Talk to the wing officer when unsafe".into(),
            risk: "Lowered tolerance after release".into(),
            overdose_prevention: "Naloxone kit and training before release".into(),
            harm_reduction: "Never use alone".into(),
            unplanned_exit_support: "Community provider's open-access clinic".into(),
            re_engagement: "Self-refer by in-cell telephone".into(),
        },
        agreed_with_person: true,
        review_on: d(review),
    })
}

fn induction(on: &str) -> EventKind {
    EventKind::InductionRecorded(Induction {
        items: InductionItem::ALL
            .iter()
            .map(|i| InductionTick {
                item: *i,
                on: d(on),
            })
            .collect(),
    })
}

fn comprehensive(on: &str) -> EventKind {
    EventKind::AssessmentCompleted(Assessment {
        kind: AssessmentKind::Comprehensive,
        assessed_on: d(on),
        referral: None,
        summary: "Comprehensive assessment".into(),
        structured_treatment_needed: true,
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

/// A release plan agreed on `agreed` with nothing in it yet.
fn bare_plan(agreed: &str) -> ReleasePlan {
    ReleasePlan {
        agreed_on: d(agreed),
        community_provider: None,
        first_appointment: None,
        unexpected_release_contact: None,
        housing_need: false,
        housing_referral: None,
        mutual_aid: None,
        naloxone_supplied: false,
        release_medication: vec![],
        bridging_medication: None,
        aftercare_referrals: vec![],
        agreed_with_person: false,
    }
}

fn exit(on: &str, reason: ExitReason, note: Option<&str>) -> EventKind {
    EventKind::TreatmentExited(TreatmentExit {
        exited_on: d(on),
        reason,
        note: note.map(str::to_string),
    })
}

fn engagement(outcome: EngagementOutcome, on: &str, provider: Option<&str>) -> EventKind {
    EventKind::CommunityEngagementRecorded(CommunityEngagement {
        outcome,
        on: d(on),
        provider: provider.map(str::to_string),
        note: None,
    })
}

fn engaged(on: &str) -> EventKind {
    engagement(
        EngagementOutcome::Engaged,
        on,
        Some("Forward Recovery, Maidstone"),
    )
}

fn contact(
    on: &str,
    purpose: ContactPurpose,
    outcome: ContactOutcome,
    next_due: Option<&str>,
) -> EventKind {
    EventKind::ContactRecorded(Contact {
        on: d(on),
        purpose,
        outcome,
        method: Some("Telephone".into()),
        next_due: next_due.map(d),
        note: None,
    })
}

fn attempt(on: &str, outcome: ContactOutcome, next_due: Option<&str>) -> EventKind {
    contact(on, ContactPurpose::ReEngagement, outcome, next_due)
}

fn death(on: &str) -> EventKind {
    EventKind::DeathRecorded(Death {
        died_on: d(on),
        cause: DeathCause::DrugRelated,
        source: Some("Coroner's office".into()),
    })
}

fn reoffence(on: &str) -> EventKind {
    EventKind::ReoffenceRecorded(Reoffence {
        offended_on: d(on),
        source: Some("Probation".into()),
    })
}

fn close(release: EventId, on: &str, outcome: FollowUpOutcome) -> EventKind {
    EventKind::FollowUpClosed(FollowUpClosed {
        release,
        closed_on: d(on),
        outcome,
        note: None,
    })
}

fn today(log: &Log) -> chrono::NaiveDate {
    local_date(log.now)
}

// ---------------------------------------------------------------------------
// Continuity of care: the 21-day window (REQUIREMENTS "Clocks"; KPIs 2.17–2.18)
// ---------------------------------------------------------------------------

#[test]
fn engagement_on_day_21_after_release_counts_and_day_22_does_not() {
    let mut log = Log::new();
    log.now = at("2026-04-30T10:00:00Z");
    // Released on Monday 2 March 2026: day 21 is 23 March, day 22 is 24 March.
    let cases = [
        ("2026-03-02", Some(true)),
        ("2026-03-23", Some(true)),
        ("2026-03-24", Some(false)),
    ];
    for (n, (on, within)) in cases.into_iter().enumerate() {
        let p = held(&mut log, n + 1, "2026-01-05");
        release(&mut log, p, "2026-03-02");
        assert_eq!(
            continuity(&log.case(p)),
            Some(Continuity {
                released_on: d("2026-03-02"),
                engaged_on: None,
                provider: None,
                within_21_days: None,
                not_engaged_on: None,
            }),
            "nothing known yet"
        );
        log.record(p, engaged(on)).unwrap();
        assert_eq!(
            continuity(&log.case(p)),
            Some(Continuity {
                released_on: d("2026-03-02"),
                engaged_on: Some(d(on)),
                provider: Some("Forward Recovery, Maidstone".into()),
                within_21_days: within,
                not_engaged_on: None,
            }),
            "engaged on {on}"
        );
    }
}

#[test]
fn engagement_is_refused_before_release_and_without_a_provider() {
    let mut log = Log::new();
    log.now = at("2026-04-30T10:00:00Z");
    let p = held(&mut log, 1, "2026-01-05");
    // Not released yet: engagement follows release.
    assert_eq!(fields(log.record(p, engaged("2026-01-20"))), vec!["on"]);
    release(&mut log, p, "2026-03-02");
    // The day before release.
    assert_eq!(fields(log.record(p, engaged("2026-03-01"))), vec!["on"]);
    // Engaged with nobody, or with a blank name.
    for provider in [None, Some("   ")] {
        assert_eq!(
            fields(log.record(
                p,
                engagement(EngagementOutcome::Engaged, "2026-03-10", provider)
            )),
            vec!["provider"]
        );
    }
    // A future date.
    assert_eq!(fields(log.record(p, engaged("2026-05-01"))), vec!["on"]);
    assert!(log.case(p).engagements.is_empty());

    // Not engaged needs no provider; it is known not to be within 21 days until a
    // later engagement says otherwise (10 March is day 8, 20 March day 18).
    log.record(
        p,
        engagement(EngagementOutcome::NotEngaged, "2026-03-10", None),
    )
    .unwrap();
    let c = continuity(&log.case(p)).unwrap();
    assert_eq!(c.within_21_days, Some(false));
    assert_eq!(c.not_engaged_on, Some(d("2026-03-10")));
    log.record(p, engaged("2026-03-20")).unwrap();
    let c = continuity(&log.case(p)).unwrap();
    assert_eq!(c.within_21_days, Some(true));
    assert_eq!(c.engaged_on, Some(d("2026-03-20")));
    assert_eq!(c.not_engaged_on, None);
}

// ---------------------------------------------------------------------------
// The release queue (REQUIREMENTS §10, §12; KM 3.9.17, 3.9.19, 4.10.6, 5.21)
// ---------------------------------------------------------------------------

#[test]
fn the_release_queue_looks_twelve_weeks_ahead() {
    let mut log = Log::new(); // Friday 20 November 2026
    assert_eq!(today(&log), d("2026-11-20"));
    // 12 weeks = 84 days: 20 Nov + 10 = 30 Nov, + 31 = 31 Dec (41), + 31 = 31 Jan
    // (72), + 12 = 12 Feb 2027 (84).
    let inside = held(&mut log, 1, "2026-06-01");
    expect_release(&mut log, inside, "2027-02-12");
    let outside = held(&mut log, 2, "2026-06-01");
    expect_release(&mut log, outside, "2027-02-13");
    let unknown = held(&mut log, 3, "2026-06-01");

    let item = release_item(&log.case(inside), today(&log)).unwrap();
    assert_eq!(item.expected_release, d("2027-02-12"));
    assert_eq!(item.days_left, 84);
    assert_eq!(item.gaps, vec![PlanGap::NoPlan], "no plan at all");
    // Received 1 June 2026: six months is 1 December 2026, long before February.
    assert!(!item.short_sentence);
    assert_eq!(release_item(&log.case(outside), today(&log)), None);
    assert_eq!(release_item(&log.case(unknown), today(&log)), None);
    // The next day the outside person is 84 days away too.
    assert_eq!(
        release_item(&log.case(outside), d("2026-11-21")).map(|i| i.days_left),
        Some(84)
    );

    // Still held after the expected date: in the queue with days_left negative.
    let late = held(&mut log, 4, "2026-06-01");
    expect_release(&mut log, late, "2026-11-18");
    assert_eq!(
        release_item(&log.case(late), today(&log)).map(|i| i.days_left),
        Some(-2)
    );
    // Once released the person leaves the queue.
    release(&mut log, late, "2026-11-20");
    assert_eq!(release_item(&log.case(late), today(&log)), None);
}

#[test]
fn short_sentences_are_flagged_and_the_queue_is_ordered_earliest_release_first() {
    let mut log = Log::new(); // Friday 20 November 2026
    // Received 2 June, expected 1 December: six months from reception is 2 December,
    // so under six months (KM 4.10.6). Received 1 June, expected 1 December: exactly
    // six months, not under.
    let short = held(&mut log, 1, "2026-06-02");
    expect_release(&mut log, short, "2026-12-01");
    let six_months = held(&mut log, 2, "2026-06-01");
    expect_release(&mut log, six_months, "2026-12-01");
    // The same date with a plan lacking two things: less than no plan at all.
    let planned = held(&mut log, 3, "2026-06-01");
    expect_release(&mut log, planned, "2026-12-01");
    let mut plan = bare_plan("2026-11-16");
    plan.agreed_with_person = true;
    plan.community_provider = Some("Forward Recovery, Maidstone".into());
    log.record(planned, EventKind::ReleasePlanAgreed(plan))
        .unwrap();
    let earliest = held(&mut log, 4, "2026-06-01");
    expect_release(&mut log, earliest, "2026-11-30");
    let latest = held(&mut log, 5, "2026-09-01");
    expect_release(&mut log, latest, "2027-01-29");

    let item = |p| release_item(&log.case(p), today(&log)).unwrap();
    assert!(item(short).short_sentence);
    assert!(!item(six_months).short_sentence);
    assert_eq!(item(short).days_left, 11);
    assert_eq!(
        item(planned).gaps,
        vec![
            PlanGap::NoFirstAppointment,
            PlanGap::NoUnexpectedReleaseContact
        ]
    );
    // Received 1 September, expected 29 January: six months is 1 March, so short.
    assert!(item(latest).short_sentence);

    let mut queue: Vec<_> = [latest, planned, six_months, earliest, short]
        .into_iter()
        .map(|p| (item(p), p))
        .collect();
    queue.sort_by_key(|(i, _)| release_key(i));
    let order: Vec<PersonId> = queue.into_iter().map(|(_, p)| p).collect();
    // 30 November first; then 1 December: no plan (lacking most) before a plan
    // lacking two things, and a short sentence before the six-month one; then January.
    assert_eq!(order, vec![earliest, short, six_months, planned, latest]);
}

#[test]
fn release_plan_gaps_shrink_as_the_plan_is_completed() {
    let mut log = Log::new(); // 20 November 2026
    let p = held(&mut log, 1, "2026-09-01");
    expect_release(&mut log, p, "2027-01-15");
    // Heroin at screening: at risk of overdose on release (KM 3.9.17); methadone
    // prescribed: on substitute medication (KM 3.9.19).
    log.record(
        p,
        screening("2026-09-01", &[Substance::Heroin], InjectingStatus::Never),
    )
    .unwrap();
    log.record(p, clinical(methadone(), local("2026-09-02 10:00")))
        .unwrap();
    let gaps = |log: &Log| {
        let case = log.case(p);
        let item = release_item(&case, today(log)).unwrap();
        assert_eq!(item.gaps, plan_gaps(&case));
        item.gaps
    };
    assert_eq!(gaps(&log), vec![PlanGap::NoPlan]);

    use PlanGap::*;
    let mut plan = bare_plan("2026-11-02");
    plan.housing_need = true;
    let mut expected = vec![
        NotAgreed,
        NoCommunityProvider,
        NoFirstAppointment,
        NoUnexpectedReleaseContact,
        NoHousingReferral,
        NoNaloxone,
        NoBridgingMedication,
    ];
    log.record(p, EventKind::ReleasePlanAgreed(plan.clone()))
        .unwrap();
    assert_eq!(gaps(&log), expected);

    // Each later version (one a day) fills one gap; the latest version counts.
    type Fill = fn(&mut ReleasePlan);
    let fills: [(&str, Fill); 7] = [
        ("2026-11-03", |x| x.agreed_with_person = true),
        ("2026-11-04", |x| {
            x.community_provider = Some("Forward Recovery, Maidstone".into())
        }),
        ("2026-11-05", |x| {
            x.first_appointment = Some(local("2027-01-15 14:00"))
        }),
        ("2026-11-06", |x| {
            x.unexpected_release_contact = Some("Forward Recovery duty worker".into())
        }),
        ("2026-11-09", |x| {
            x.housing_referral = Some("Maidstone Borough Council, 9 November".into())
        }),
        ("2026-11-10", |x| x.naloxone_supplied = true),
        ("2026-11-11", |x| {
            x.bridging_medication = Some("Methadone for 7 days to the community prescriber".into())
        }),
    ];
    for (on, fill) in fills {
        plan.agreed_on = d(on);
        fill(&mut plan);
        log.record(p, EventKind::ReleasePlanAgreed(plan.clone()))
            .unwrap();
        expected.remove(0);
        assert_eq!(gaps(&log), expected, "version of {on}");
    }
    let case = log.case(p);
    assert_eq!(case.release_plans.len(), 8);
    assert_eq!(release_plan(&case).unwrap().1, plan);

    // A first appointment before the plan was agreed is refused.
    let mut wrong = plan.clone();
    wrong.agreed_on = d("2026-11-12");
    wrong.first_appointment = Some(local("2026-11-11 14:00"));
    assert_eq!(
        fields(log.record(p, EventKind::ReleasePlanAgreed(wrong))),
        vec!["first_appointment"]
    );
}

#[test]
fn naloxone_and_bridging_gaps_follow_the_risk() {
    let mut log = Log::new(); // 20 November 2026
    let complete_but_risks = |on: &str| {
        let mut plan = bare_plan(on);
        plan.agreed_with_person = true;
        plan.community_provider = Some("Forward Recovery, Maidstone".into());
        plan.first_appointment = Some(local("2027-01-15 14:00"));
        plan.unexpected_release_contact = Some("Forward Recovery duty worker".into());
        EventKind::ReleasePlanAgreed(plan)
    };
    let gaps = |log: &Log, p| plan_gaps(&log.case(p));

    // Alcohol only, never injected, no prescribing: no naloxone or bridging gap,
    // and no housing gap without a housing need.
    let alcohol = held(&mut log, 1, "2026-09-01");
    log.record(
        alcohol,
        screening("2026-09-01", &[Substance::Alcohol], InjectingStatus::Never),
    )
    .unwrap();
    log.record(alcohol, complete_but_risks("2026-11-10"))
        .unwrap();
    assert_eq!(gaps(&log, alcohol), vec![]);

    // Injected before (no opiates named): at risk; a kit supplied to the person on
    // the naloxone record answers it as well as the plan's own tick.
    let injected = held(&mut log, 2, "2026-09-01");
    log.record(
        injected,
        screening("2026-09-01", &[Substance::Crack], InjectingStatus::Previous),
    )
    .unwrap();
    log.record(injected, complete_but_risks("2026-11-10"))
        .unwrap();
    assert_eq!(gaps(&log, injected), vec![PlanGap::NoNaloxone]);
    log.record(
        injected,
        EventKind::NaloxoneSupplied(NaloxoneRecord {
            to: NaloxoneRecipient::Person,
            on: d("2026-11-12"),
            training_given: true,
            kit_supplied: true,
        }),
    )
    .unwrap();
    assert_eq!(gaps(&log, injected), vec![]);

    // Prescribing started and then dropped out of: no longer on substitute
    // medication, so no bridging prescription is needed (opiates still need naloxone).
    let dropped = held(&mut log, 3, "2026-09-01");
    log.record(
        dropped,
        screening("2026-09-01", &[Substance::Heroin], InjectingStatus::Never),
    )
    .unwrap();
    log.record(dropped, clinical(methadone(), local("2026-09-02 10:00")))
        .unwrap();
    log.record(dropped, complete_but_risks("2026-11-10"))
        .unwrap();
    assert_eq!(
        gaps(&log, dropped),
        vec![PlanGap::NoNaloxone, PlanGap::NoBridgingMedication]
    );
    log.record(
        dropped,
        clinical(
            ClinicalStep::DroppedOutOfPrescribing,
            local("2026-11-13 09:00"),
        ),
    )
    .unwrap();
    assert_eq!(gaps(&log, dropped), vec![PlanGap::NoNaloxone]);
}

#[test]
fn a_release_plan_is_made_in_custody() {
    let mut log = Log::new(); // 20 November 2026
    let p = held(&mut log, 1, "2026-09-01");
    release(&mut log, p, "2026-11-16");
    assert_eq!(
        fields(log.record(p, EventKind::ReleasePlanAgreed(bare_plan("2026-11-17")))),
        vec!["agreed_on"]
    );
    let never_received = log.person(&number(2));
    assert_eq!(
        fields(log.record(
            never_received,
            EventKind::ReleasePlanAgreed(bare_plan("2026-11-17"))
        )),
        vec!["agreed_on"]
    );
}

// ---------------------------------------------------------------------------
// Care-plan transfer to the community provider needs consent (S4 §4; REQUIREMENTS §5)
// ---------------------------------------------------------------------------

#[test]
fn sharing_with_the_community_provider_needs_live_community_transfer_consent() {
    let mut log = Log::new(); // 20 November 2026
    let p = held(&mut log, 1, "2026-09-01");
    let plan_id = log
        .record(p, EventKind::ReleasePlanAgreed(bare_plan("2026-11-10")))
        .unwrap()[0];
    let share = |on: &str, purpose: ConsentPurpose| {
        EventKind::InformationShared(Disclosure {
            recipient: Recipient::CommunityProvider,
            basis: SharingBasis::Consent { purpose },
            shared_on: d(on),
            about: Some(plan_id),
            summary: "Release plan and recovery care plan".into(),
        })
    };
    let transfer = ConsentPurpose::CommunityTransfer;
    let m = refused(log.record(p, share("2026-11-12", transfer)));
    assert!(m.contains("no live consent"), "{m}");

    log.record(
        p,
        EventKind::ConsentRecorded(ConsentRecord {
            purpose: transfer,
            decision: ConsentDecision::Given,
            decided_on: d("2026-11-11"),
        }),
    )
    .unwrap();
    // Consent for another purpose is no basis for this recipient.
    let m = refused(log.record(p, share("2026-11-12", ConsentPurpose::InformationSharing)));
    assert!(m.contains("needs consent for"), "{m}");
    log.record(p, share("2026-11-12", transfer)).unwrap();

    log.record(
        p,
        EventKind::ConsentWithdrawn(ConsentWithdrawal {
            purpose: transfer,
            withdrawn_on: d("2026-11-13"),
        }),
    )
    .unwrap();
    let m = refused(log.record(p, share("2026-11-14", transfer)));
    assert!(m.contains("no live consent"), "{m}");
    let case = log.case(p);
    assert_eq!(case.disclosures.len(), 1);
    assert_eq!(
        case.disclosures[0].1.recipient,
        Recipient::CommunityProvider
    );
}

// ---------------------------------------------------------------------------
// Transfers keep every clock (REQUIREMENTS §2: the record follows the person)
// ---------------------------------------------------------------------------

#[test]
fn a_person_transferred_mid_episode_keeps_every_clock() {
    let mut log = Log::new(); // Friday 20 November 2026, at Maidstone
    let p = held(&mut log, 1, "2026-11-02");
    // Comprehensive assessment on 5 November (before the referral, so it does not
    // answer it): reassessment due 26 weeks later, 6 May 2027.
    log.record(p, comprehensive("2026-11-05")).unwrap();
    // Care plan 9 November, review 1 February; all seven induction items on 10
    // November: revisit 3 calendar months later, 10 February 2027.
    log.record(p, care_plan("2026-11-09", "2027-02-01"))
        .unwrap();
    log.record(p, induction("2026-11-10")).unwrap();
    // Treatment starts 10 November with its start TOP: next TOP 182 days later.
    // 10 Nov + 20 = 30 Nov, + 31 = 31 Dec (51), + 31 = 31 Jan (82), + 28 = 28 Feb
    // (110), + 31 = 31 Mar (141), + 30 = 30 Apr (171), + 11 = 11 May 2027 (182).
    log.record(p, keyworking("2026-11-10")).unwrap();
    log.record(p, top("2026-11-10", TopStage::Start)).unwrap();
    // Referral on Monday 16 November: five working days is Monday 23 November.
    log.refer(p, "2026-11-16");

    let later = at("2028-01-03T12:00:00Z"); // everything overdue, so all shown
    let mut expected = vec![
        (QueueKind::Assessment, at("2026-11-24T00:00:00Z")),
        (QueueKind::Top, at("2027-05-11T23:00:00Z")),
        (QueueKind::Reassessment, at("2027-05-06T23:00:00Z")),
        (QueueKind::Induction, at("2027-02-11T00:00:00Z")),
        (QueueKind::CarePlanReview, at("2027-02-02T00:00:00Z")),
    ];
    expected.sort();
    let due = |items: Vec<WorkItem>| {
        let mut v: Vec<_> = items.into_iter().map(|i| (i.queue, i.due)).collect();
        v.sort();
        v
    };
    let before_now = log.items(p, log.now);
    let before_later = log.items(p, later);
    assert_eq!(due(before_later.clone()), expected);
    assert_eq!(
        due(before_now.clone()),
        vec![(QueueKind::Assessment, at("2026-11-24T00:00:00Z"))]
    );
    let case_before = log.case(p);

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
    let case_after = log.case(p);
    assert!(matches!(
        &case_after.custody,
        crate::custody::CustodyStatus::InCustody { establishment, received_on, .. }
            if *establishment == code("EYI") && *received_on == d("2026-11-02")
    ));
    assert_eq!(log.items(p, log.now), before_now);
    assert_eq!(log.items(p, later), before_later);
    assert_eq!(
        current_episode(&case_after, &log.profile),
        Some(Episode {
            started_on: d("2026-11-10"),
            exited_on: None,
        })
    );
    assert_eq!(
        current_episode(&case_after, &log.profile),
        current_episode(&case_before, &log.profile)
    );
    assert_eq!(case_after.care_plan(), case_before.care_plan());
    assert_eq!(case_after.referrals, case_before.referrals);
}

// ---------------------------------------------------------------------------
// Treatment exit and episodes (REQUIREMENTS §10 and "Clocks": TOP at exit)
// ---------------------------------------------------------------------------

#[test]
fn treatment_exit_rules_and_the_exit_top() {
    let mut log = Log::new(); // 20 November 2026
    let p = held(&mut log, 1, "2026-03-02");
    // No treatment started: nothing to exit.
    assert_eq!(
        fields(log.record(p, exit("2026-06-15", ExitReason::DroppedOut, None))),
        vec!["reason"]
    );
    log.record(p, keyworking("2026-03-02")).unwrap();
    log.record(p, top("2026-03-02", TopStage::Start)).unwrap();
    // Before any exit: the review TOP is due 182 days after 2 March, 31 August (BST).
    assert_eq!(
        only(&log.items(p, at("2026-08-20T12:00:00Z")), QueueKind::Top).due,
        at("2026-08-31T23:00:00Z")
    );
    // "Other" needs a note; the exit cannot come before the start.
    for note in [None, Some("  ")] {
        assert_eq!(
            fields(log.record(p, exit("2026-06-15", ExitReason::Other, note))),
            vec!["note"]
        );
    }
    assert_eq!(
        fields(log.record(p, exit("2026-03-01", ExitReason::DroppedOut, None))),
        vec!["exited_on"]
    );

    log.record(p, exit("2026-06-15", ExitReason::DroppedOut, None))
        .unwrap();
    assert_eq!(
        current_episode(&log.case(p), &log.profile),
        Some(Episode {
            started_on: d("2026-03-02"),
            exited_on: Some(d("2026-06-15")),
        })
    );
    // The exit TOP is due on the exit date (end of 15 June, BST) and replaces the
    // review TOP that would have been due on 31 August.
    let exit_top = only(&log.items(p, at("2026-06-15T12:00:00Z")), QueueKind::Top);
    assert_eq!(exit_top.due, at("2026-06-15T23:00:00Z"));
    assert!(!exit_top.overdue);
    assert!(only(&log.items(p, log.now), QueueKind::Top).overdue);
    // A second exit without a new start.
    assert_eq!(
        fields(log.record(p, exit("2026-07-01", ExitReason::CompletedDrugFree, None))),
        vec!["reason"]
    );

    // The exit profile clears it, and no review TOP falls due after exit.
    log.record(p, top("2026-06-15", TopStage::Exit)).unwrap();
    for now in [
        log.now,
        at("2026-08-31T23:30:00Z"),
        at("2027-06-01T12:00:00Z"),
    ] {
        assert!(of(&log.items(p, now), QueueKind::Top).is_empty(), "{now}");
    }

    // A new start opens a new episode with its start TOP due that day (7 September,
    // BST), and another start profile may be recorded.
    log.record(p, keyworking("2026-09-07")).unwrap();
    assert_eq!(
        current_episode(&log.case(p), &log.profile),
        Some(Episode {
            started_on: d("2026-09-07"),
            exited_on: None,
        })
    );
    let start_top = only(&log.items(p, log.now), QueueKind::Top);
    assert_eq!(start_top.due, at("2026-09-07T23:00:00Z"));
    assert!(start_top.overdue);
    log.record(p, top("2026-09-07", TopStage::Start)).unwrap();
    // 7 Sep + 23 = 30 Sep, + 31 = 31 Oct (54), + 30 = 30 Nov (84), + 31 = 31 Dec
    // (115), + 31 = 31 Jan (146), + 28 = 28 Feb (174), + 8 = 8 March 2027 (182), GMT.
    assert!(of(&log.items(p, log.now), QueueKind::Top).is_empty());
    assert_eq!(
        only(&log.items(p, at("2027-03-01T12:00:00Z")), QueueKind::Top).due,
        at("2027-03-09T00:00:00Z")
    );
    // And the new episode can end, with its own exit TOP due.
    log.record(
        p,
        exit(
            "2026-11-16",
            ExitReason::Other,
            Some("Moved to a therapeutic community"),
        ),
    )
    .unwrap();
    assert_eq!(
        only(&log.items(p, log.now), QueueKind::Top).due,
        at("2026-11-17T00:00:00Z")
    );
}

#[test]
fn after_release_only_the_exit_top_re_engagement_and_follow_up_are_due() {
    let mut log = Log::new(); // 20 November 2026
    let p = held(&mut log, 1, "2026-03-02");
    log.record(p, care_plan("2026-03-09", "2026-06-01"))
        .unwrap();
    log.record(p, keyworking("2026-03-09")).unwrap();
    log.record(p, top("2026-03-09", TopStage::Start)).unwrap();
    log.record(p, comprehensive("2026-03-09")).unwrap();
    log.record(p, EventKind::ReleasePlanAgreed(bare_plan("2026-09-01")))
        .unwrap();
    release(&mut log, p, "2026-10-01");
    log.record(p, exit("2026-10-01", ExitReason::ReleasedReferredOn, None))
        .unwrap();
    // Exit TOP due 1 October (BST); never engaged: day 22 is 23 October (BST);
    // follow-up ends 1 October 2027 (BST), shown when the year is nearly out.
    let items = log.items(p, log.now);
    let mut got: Vec<_> = items.iter().map(|i| (i.queue, i.due)).collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            (QueueKind::Top, at("2026-10-01T23:00:00Z")),
            (QueueKind::ReEngagement, at("2026-10-23T23:00:00Z")),
        ]
    );
    let late = log.items(p, at("2027-09-20T12:00:00Z"));
    assert_eq!(
        only(&late, QueueKind::FollowUp).due,
        at("2027-10-01T23:00:00Z")
    );
    assert_eq!(late.len(), 3, "{late:#?}");
}

// ---------------------------------------------------------------------------
// The re-engagement list (S4 §1; REQUIREMENTS §11)
// ---------------------------------------------------------------------------

fn listed(log: &Log, p: PersonId) -> Option<ReEngagement> {
    re_engagement(&log.case(p), today(log))
}

#[test]
fn each_way_of_disengaging_puts_the_person_on_the_list_due_at_once() {
    let mut log = Log::new(); // Friday 20 November 2026 (GMT)
    use InterventionStatus::*;

    // A declined referral.
    let declined = held(&mut log, 1, "2026-10-01");
    let r = log.refer(declined, "2026-11-02");
    log.record(
        declined,
        EventKind::ReferralClosed(ReferralClosure {
            referral: r,
            reason: ReferralClosureReason::Declined,
            closed_on: d("2026-11-03"),
            note: None,
        }),
    )
    .unwrap();

    // A course dropped out of.
    let course = held(&mut log, 2, "2026-10-01");
    let c = log
        .record(
            course,
            step("relapse-prevention", Started, "2026-11-03", None),
        )
        .unwrap()[0];
    log.record(
        course,
        step("relapse-prevention", DroppedOut, "2026-11-10", Some(c)),
    )
    .unwrap();

    // Dropped out of prescribing.
    let prescribing = held(&mut log, 3, "2026-10-01");
    log.record(
        prescribing,
        clinical(methadone(), local("2026-11-02 10:00")),
    )
    .unwrap();
    log.record(
        prescribing,
        clinical(
            ClinicalStep::DroppedOutOfPrescribing,
            local("2026-11-12 09:00"),
        ),
    )
    .unwrap();

    // A treatment exit for dropping out.
    let exited = held(&mut log, 4, "2026-10-01");
    log.record(exited, keyworking("2026-11-02")).unwrap();
    log.record(exited, exit("2026-11-13", ExitReason::DroppedOut, None))
        .unwrap();

    // Not engaged after release (20 October: BST).
    let not_engaged = held(&mut log, 5, "2026-09-01");
    release(&mut log, not_engaged, "2026-10-01");
    log.record(
        not_engaged,
        engagement(EngagementOutcome::NotEngaged, "2026-10-20", None),
    )
    .unwrap();

    // Released with a plan and nothing recorded: day 21 after 1 October is 22
    // October, so the person has not engaged within 21 days from 23 October (BST).
    let never = held(&mut log, 6, "2026-09-01");
    log.record(never, EventKind::ReleasePlanAgreed(bare_plan("2026-09-20")))
        .unwrap();
    release(&mut log, never, "2026-10-01");

    let cases = [
        (
            declined,
            "2026-11-03",
            "Declined the referral",
            "2026-11-04T00:00:00Z",
        ),
        (
            course,
            "2026-11-10",
            "Dropped out of relapse-prevention",
            "2026-11-11T00:00:00Z",
        ),
        (
            prescribing,
            "2026-11-12",
            "Dropped out of prescribing",
            "2026-11-13T00:00:00Z",
        ),
        (
            exited,
            "2026-11-13",
            "Treatment exit: Dropped out",
            "2026-11-14T00:00:00Z",
        ),
        (
            not_engaged,
            "2026-10-20",
            "Did not engage with community treatment",
            "2026-10-20T23:00:00Z",
        ),
        (
            never,
            "2026-10-23",
            "No community treatment recorded 21 days after release",
            "2026-10-23T23:00:00Z",
        ),
    ];
    for (p, since, why, due) in cases {
        assert_eq!(
            listed(&log, p),
            Some(ReEngagement {
                since: d(since),
                why: why.into(),
                attempts: 0,
                next_due: d(since),
            }),
            "{why}"
        );
        let item = only(&log.items(p, log.now), QueueKind::ReEngagement);
        assert_eq!(item.due, at(due), "{why}");
        assert!(item.overdue, "{why}: due at once, so overdue by now");
    }

    // Never engaged: not listed on day 21, listed (and due) on day 22.
    assert!(
        of(
            &log.items(never, at("2026-10-22T12:00:00Z")),
            QueueKind::ReEngagement
        )
        .is_empty()
    );
    assert_eq!(re_engagement(&log.case(never), d("2026-10-22")), None);
    let day_22 = only(
        &log.items(never, at("2026-10-23T12:00:00Z")),
        QueueKind::ReEngagement,
    );
    assert_eq!(day_22.due, at("2026-10-23T23:00:00Z"));
    assert!(!day_22.overdue);
}

#[test]
fn release_without_a_plan_or_treatment_or_by_deportation_is_not_never_engaged() {
    let mut log = Log::new(); // 20 November 2026
    let plain = held(&mut log, 1, "2026-09-01");
    release(&mut log, plain, "2026-10-01");
    assert_eq!(listed(&log, plain), None);

    // Deported from the IRC with a plan: community treatment here is not possible.
    log.establishment = code("DVI");
    let deported = held(&mut log, 2, "2026-09-01");
    log.record(
        deported,
        EventKind::ReleasePlanAgreed(bare_plan("2026-09-20")),
    )
    .unwrap();
    leave(&mut log, deported, "2026-10-01", ReleaseKind::Deported);
    assert_eq!(listed(&log, deported), None);
    assert!(of(&log.items(deported, log.now), QueueKind::ReEngagement).is_empty());
}

#[test]
fn attempts_move_the_next_due_date_and_re_engagement_clears_the_list() {
    let mut log = Log::new(); // Friday 20 November 2026 (GMT)
    let p = held(&mut log, 1, "2026-10-01");
    let r = log.refer(p, "2026-11-02");
    log.record(
        p,
        EventKind::ReferralClosed(ReferralClosure {
            referral: r,
            reason: ReferralClosureReason::Declined,
            closed_on: d("2026-11-03"),
            note: None,
        }),
    )
    .unwrap();
    log.record(
        p,
        attempt("2026-11-05", ContactOutcome::NoResponse, Some("2026-11-19")),
    )
    .unwrap();
    let e = listed(&log, p).unwrap();
    assert_eq!((e.attempts, e.next_due), (1, d("2026-11-19")));
    assert!(only(&log.items(p, log.now), QueueKind::ReEngagement).overdue);

    log.record(
        p,
        attempt("2026-11-19", ContactOutcome::Declined, Some("2026-11-26")),
    )
    .unwrap();
    let e = listed(&log, p).unwrap();
    assert_eq!((e.attempts, e.next_due), (2, d("2026-11-26")));
    let item = only(&log.items(p, log.now), QueueKind::ReEngagement);
    assert_eq!(item.due, at("2026-11-27T00:00:00Z"));
    assert!(!item.overdue);
    assert!(item.detail.contains("2 attempts"), "{}", item.detail);

    // The next attempt cannot be due before this one.
    assert_eq!(
        fields(log.record(
            p,
            attempt("2026-11-20", ContactOutcome::NoResponse, Some("2026-11-19"))
        )),
        vec!["next_due"]
    );
    // Post-treatment support is not an attempt to re-engage.
    log.record(
        p,
        contact(
            "2026-11-20",
            ContactPurpose::PostTreatmentSupport,
            ContactOutcome::Reached,
            None,
        ),
    )
    .unwrap();
    assert_eq!(listed(&log, p).unwrap().attempts, 2);
    // An attempt with no next date leaves the next attempt due at once.
    log.record(p, attempt("2026-11-20", ContactOutcome::Reached, None))
        .unwrap();
    let e = listed(&log, p).unwrap();
    assert_eq!((e.attempts, e.next_due), (3, d("2026-11-20")));

    // Re-engaged.
    log.record(p, attempt("2026-11-20", ContactOutcome::ReEngaged, None))
        .unwrap();
    assert_eq!(listed(&log, p), None);
    assert!(of(&log.items(p, log.now), QueueKind::ReEngagement).is_empty());
}

#[test]
fn a_later_start_or_community_engagement_clears_the_list() {
    let mut log = Log::new(); // 20 November 2026
    use InterventionStatus::*;

    let course = held(&mut log, 1, "2026-10-01");
    let c = log
        .record(
            course,
            step("relapse-prevention", Started, "2026-11-03", None),
        )
        .unwrap()[0];
    log.record(
        course,
        step("relapse-prevention", DroppedOut, "2026-11-10", Some(c)),
    )
    .unwrap();
    assert!(listed(&log, course).is_some());
    log.record(
        course,
        step("relapse-prevention", Started, "2026-11-17", None),
    )
    .unwrap();
    assert_eq!(listed(&log, course), None);

    let prescribing = held(&mut log, 2, "2026-10-01");
    log.record(
        prescribing,
        clinical(methadone(), local("2026-11-02 10:00")),
    )
    .unwrap();
    log.record(
        prescribing,
        clinical(
            ClinicalStep::DroppedOutOfPrescribing,
            local("2026-11-12 09:00"),
        ),
    )
    .unwrap();
    assert!(listed(&log, prescribing).is_some());
    log.record(
        prescribing,
        clinical(methadone(), local("2026-11-18 09:00")),
    )
    .unwrap();
    assert_eq!(listed(&log, prescribing), None);

    let not_engaged = held(&mut log, 3, "2026-09-01");
    release(&mut log, not_engaged, "2026-10-01");
    log.record(
        not_engaged,
        engagement(EngagementOutcome::NotEngaged, "2026-10-20", None),
    )
    .unwrap();
    assert!(listed(&log, not_engaged).is_some());
    // Engaged on 2 November: day 32, so late for the indicator but off the list.
    log.record(not_engaged, engaged("2026-11-02")).unwrap();
    assert_eq!(listed(&log, not_engaged), None);
    assert_eq!(
        continuity(&log.case(not_engaged)).unwrap().within_21_days,
        Some(false)
    );

    let never = held(&mut log, 4, "2026-09-01");
    log.record(never, EventKind::ReleasePlanAgreed(bare_plan("2026-09-20")))
        .unwrap();
    release(&mut log, never, "2026-10-01");
    assert!(listed(&log, never).is_some());
    log.record(never, engaged("2026-10-28")).unwrap();
    assert_eq!(listed(&log, never), None);
    assert!(of(&log.items(never, log.now), QueueKind::ReEngagement).is_empty());
}

// ---------------------------------------------------------------------------
// The 12-month follow-up (KPIs 3.4, 3.5, 3.7; REQUIREMENTS "Clocks")
// ---------------------------------------------------------------------------

#[test]
fn the_follow_up_window_ends_a_year_later_and_is_due_then() {
    let mut log = Log::new();
    log.now = at("2028-02-29T15:00:00Z");
    let p = held(&mut log, 1, "2028-01-10");
    let r = release(&mut log, p, "2028-02-29");
    // 29 February 2028 + 12 months: 2029 has no 29 February, so 28 February.
    assert_eq!(
        follow_ups(&log.case(p), &log.profile),
        vec![FollowUp {
            release: r,
            released_on: d("2028-02-29"),
            ends_on: d("2029-02-28"),
            outcome: None,
            reoffending_is_outcome: true,
        }]
    );
    // Due at the end of 28 February 2029 (GMT): midnight Z on 1 March. Shown from 14
    // February (horizon: end of 28 February), not on 13 February.
    assert!(log.items(p, at("2028-03-01T12:00:00Z")).is_empty());
    assert!(log.items(p, at("2029-02-13T12:00:00Z")).is_empty());
    let shown = only(
        &log.items(p, at("2029-02-14T12:00:00Z")),
        QueueKind::FollowUp,
    );
    assert_eq!(shown.due, at("2029-03-01T00:00:00Z"));
    assert!(!shown.overdue);
    assert!(
        !only(
            &log.items(p, at("2029-02-28T23:59:00Z")),
            QueueKind::FollowUp
        )
        .overdue
    );
    assert!(
        only(
            &log.items(p, at("2029-03-01T00:00:00Z")),
            QueueKind::FollowUp
        )
        .overdue
    );
}

#[test]
fn a_reoffence_or_death_in_the_window_makes_the_follow_up_due_at_once() {
    let mut log = Log::new(); // 20 November 2026 (GMT)
    let never_released = held(&mut log, 1, "2026-01-05");
    assert_eq!(
        fields(log.record(never_released, reoffence("2026-11-01"))),
        vec!["offended_on"]
    );

    let p = held(&mut log, 2, "2026-01-05");
    release(&mut log, p, "2026-03-02");
    assert!(log.items(p, log.now).is_empty(), "window ends March 2027");
    assert_eq!(
        fields(log.record(p, reoffence("2026-03-01"))),
        vec!["offended_on"]
    );
    log.record(p, reoffence("2026-09-14")).unwrap();
    // 14 September is BST: its end is 23:00Z.
    let item = only(&log.items(p, log.now), QueueKind::FollowUp);
    assert_eq!(item.due, at("2026-09-14T23:00:00Z"));
    assert!(item.overdue);

    // A death after release: every other item stops, the follow-up is due on the
    // day of death (5 October, BST) until it is closed as "died".
    let dead = held(&mut log, 3, "2026-01-05");
    log.record(dead, EventKind::ReleasePlanAgreed(bare_plan("2026-02-20")))
        .unwrap();
    let r = release(&mut log, dead, "2026-03-02");
    assert_eq!(
        queues(&log.items(dead, log.now)),
        vec![QueueKind::ReEngagement],
        "never engaged"
    );
    log.record(dead, death("2026-10-05")).unwrap();
    let items = log.items(dead, log.now);
    assert_eq!(queues(&items), vec![QueueKind::FollowUp]);
    assert_eq!(items[0].due, at("2026-10-05T23:00:00Z"));
    log.record(dead, close(r, "2026-11-20", FollowUpOutcome::Died))
        .unwrap();
    assert!(log.items(dead, log.now).is_empty());
    assert!(log.items(dead, at("2028-01-01T12:00:00Z")).is_empty());
}

#[test]
fn closing_a_follow_up_needs_the_facts_of_its_outcome() {
    let mut log = Log::new(); // 20 November 2026
    let p = held(&mut log, 1, "2026-01-05");
    let r = release(&mut log, p, "2026-03-02");
    // The window runs to 2 March 2027 inclusive.
    let try_close = |log: &mut Log, on: &str, outcome| log.record(p, close(r, on, outcome));
    use FollowUpOutcome::*;
    assert_eq!(
        fields(try_close(&mut log, "2026-11-20", Reoffended)),
        vec!["outcome"]
    );
    assert_eq!(
        fields(try_close(&mut log, "2026-11-20", NotReoffended)),
        vec!["closed_on"]
    );
    assert_eq!(
        fields(try_close(&mut log, "2026-11-20", LostToFollowUp)),
        vec!["closed_on"]
    );
    assert_eq!(
        fields(try_close(&mut log, "2026-11-20", Died)),
        vec!["outcome"]
    );
    assert_eq!(
        fields(try_close(&mut log, "2026-11-20", Deported)),
        vec!["outcome"]
    );
    assert_eq!(
        fields(try_close(&mut log, "2026-11-21", LostToFollowUp)),
        vec!["closed_on"],
        "a future date"
    );
    assert_eq!(
        fields(log.record(
            p,
            close(
                EventId(uuid::Uuid::from_u64_pair(1, 1)),
                "2026-11-20",
                LostToFollowUp
            )
        )),
        vec!["release"]
    );

    // On the window's last day it is still too early to know.
    log.now = at("2027-03-02T12:00:00Z");
    assert_eq!(
        fields(try_close(&mut log, "2027-03-02", NotReoffended)),
        vec!["closed_on"]
    );
    assert_eq!(
        fields(try_close(&mut log, "2027-03-02", LostToFollowUp)),
        vec!["closed_on"]
    );
    log.now = at("2027-03-03T12:00:00Z");
    try_close(&mut log, "2027-03-03", NotReoffended).unwrap();
    assert_eq!(
        follow_ups(&log.case(p), &log.profile)[0].outcome,
        Some(NotReoffended)
    );
    assert!(log.items(p, log.now).is_empty());
    // Closed once: a second close is refused.
    assert_eq!(
        fields(try_close(&mut log, "2027-03-03", LostToFollowUp)),
        vec!["release"]
    );

    // A reoffence in the window: reoffended, not "not reoffended".
    let q = held(&mut log, 2, "2026-01-05");
    let rq = release(&mut log, q, "2026-03-02");
    log.record(q, reoffence("2027-03-02")).unwrap();
    assert_eq!(
        fields(log.record(q, close(rq, "2027-03-03", NotReoffended))),
        vec!["outcome"]
    );
    log.record(q, close(rq, "2027-03-03", Reoffended)).unwrap();

    // A reoffence the day after the window: not within 12 months.
    let s = held(&mut log, 3, "2026-01-05");
    let rs = release(&mut log, s, "2026-03-02");
    log.record(s, reoffence("2027-03-03")).unwrap();
    assert_eq!(
        fields(log.record(s, close(rs, "2027-03-03", Reoffended))),
        vec!["outcome"]
    );
    log.record(s, close(rs, "2027-03-03", NotReoffended))
        .unwrap();

    // Lost to follow-up once the window has ended.
    let t = held(&mut log, 4, "2026-01-05");
    let rt = release(&mut log, t, "2026-03-02");
    log.record(t, close(rt, "2027-03-03", LostToFollowUp))
        .unwrap();

    // Died within the window: closed at once, without waiting for its end.
    let u = held(&mut log, 5, "2026-01-05");
    let ru = release(&mut log, u, "2026-03-02");
    log.record(u, death("2026-11-10")).unwrap();
    log.record(u, close(ru, "2026-11-12", Died)).unwrap();

    // Deported: closed as such at once.
    log.establishment = code("DVI");
    let v = held(&mut log, 6, "2026-01-05");
    let rv = leave(&mut log, v, "2026-03-02", ReleaseKind::Deported);
    log.record(v, close(rv, "2026-03-03", Deported)).unwrap();
}

#[test]
fn reoffending_is_not_an_outcome_at_the_irc() {
    let mut log = Log::new(); // 20 November 2026
    log.establishment = code("DVI");
    let p = held(&mut log, 1, "2026-01-05");
    let r = release(&mut log, p, "2026-03-02");
    assert!(!follow_ups(&log.case(p), &log.profile)[0].reoffending_is_outcome);
    let m = refused(log.record(p, reoffence("2026-09-14")));
    assert!(m.contains("KM 2.1 note 1"), "{m}");
    assert!(log.case(p).reoffences.is_empty());

    log.now = at("2027-03-03T12:00:00Z");
    for outcome in [FollowUpOutcome::Reoffended, FollowUpOutcome::NotReoffended] {
        let m = refused(log.record(p, close(r, "2027-03-03", outcome)));
        assert!(m.contains("KM 2.1 note 1"), "{outcome:?}: {m}");
    }
    log.record(p, close(r, "2027-03-03", FollowUpOutcome::LostToFollowUp))
        .unwrap();

    // Recorded by a prison's staff, it is still a release from the IRC.
    log.establishment = code("MDI");
    let m = refused(log.record(p, reoffence("2026-09-14")));
    assert!(m.contains("KM 2.1 note 1"), "{m}");

    log.establishment = code("DVI");
    let q = held(&mut log, 2, "2026-01-05");
    let rq = release(&mut log, q, "2026-03-02");
    log.record(q, death("2026-05-01")).unwrap();
    log.record(q, close(rq, "2026-05-02", FollowUpOutcome::Died))
        .unwrap();
}

// ---------------------------------------------------------------------------
// Deaths (KPI 3.7; S4 §4)
// ---------------------------------------------------------------------------

#[test]
fn a_death_stops_every_queue_item() {
    let mut log = Log::new(); // Friday 20 November 2026
    let p = held(&mut log, 1, "2026-11-02");
    log.refer(p, "2026-11-16");
    log.record(p, care_plan("2026-11-09", "2027-02-01"))
        .unwrap();
    log.record(p, keyworking("2026-11-10")).unwrap();
    log.record(
        p,
        clinical(ClinicalStep::FirstNightNeed, local("2026-11-20 09:00")),
    )
    .unwrap();
    expect_release(&mut log, p, "2026-12-18");
    let c = log
        .record(
            p,
            step(
                "relapse-prevention",
                InterventionStatus::Started,
                "2026-11-11",
                None,
            ),
        )
        .unwrap()[0];
    log.record(
        p,
        step(
            "relapse-prevention",
            InterventionStatus::DroppedOut,
            "2026-11-12",
            Some(c),
        ),
    )
    .unwrap();
    let before = queues(&log.items(p, log.now));
    for q in [
        QueueKind::Assessment,
        QueueKind::FirstNight,
        QueueKind::Top,
        QueueKind::Induction,
        QueueKind::ReEngagement,
    ] {
        assert!(before.contains(&q), "{q:?} in {before:?}");
    }
    assert!(release_item(&log.case(p), today(&log)).is_some());

    log.record(p, death("2026-11-20")).unwrap();
    let case = log.case(p);
    assert!(log.items(p, log.now).is_empty());
    assert!(log.items(p, at("2027-06-01T12:00:00Z")).is_empty());
    assert_eq!(
        release_item(&case, today(&log)),
        None,
        "not in the release queue"
    );
    assert_eq!(re_engagement(&case, today(&log)), None);

    // One death only: a second is a correction.
    assert_eq!(fields(log.record(p, death("2026-11-19"))), vec!["died_on"]);
}

#[test]
fn a_death_cannot_be_before_birth_or_in_the_future() {
    let mut log = Log::new(); // born 1 April 1990 (testkit)
    let p = held(&mut log, 1, "2026-11-02");
    assert_eq!(fields(log.record(p, death("1990-03-31"))), vec!["died_on"]);
    assert_eq!(fields(log.record(p, death("2026-11-21"))), vec!["died_on"]);
    log.record(p, death("1990-04-01")).unwrap();
}

#[test]
fn a_new_episode_takes_its_own_start_top_even_when_the_last_exit_had_none() {
    let mut log = Log::new(); // now: 20 November 2026
    let p = held(&mut log, 1, "2026-06-01");
    log.record(p, keyworking("2026-06-02")).unwrap();
    log.record(p, top("2026-06-02", TopStage::Start)).unwrap();
    log.record(p, exit("2026-08-03", ExitReason::DroppedOut, None))
        .unwrap();
    log.record(p, keyworking("2026-10-05")).unwrap();
    // The new episode's start profile is accepted although the first episode ended
    // without an exit profile…
    log.record(p, top("2026-10-05", TopStage::Start)).unwrap();
    // …and a second one in the same episode is not.
    assert_eq!(
        fields(log.record(p, top("2026-10-12", TopStage::Start))),
        ["stage"]
    );
}

#[test]
fn a_deportation_makes_its_follow_up_due_at_once() {
    let mut log = Log::new();
    log.establishment = code("DVI");
    let p = held(&mut log, 1, "2026-09-01");
    let r = leave(&mut log, p, "2026-11-02", ReleaseKind::Deported);
    let item = only(&log.items(p, log.now), QueueKind::FollowUp);
    // Due at the end of 2 November (GMT): 3 November 00:00Z.
    assert_eq!(item.due, at("2026-11-03T00:00:00Z"));
    assert!(item.overdue);
    log.record(p, close(r, "2026-11-20", FollowUpOutcome::Deported))
        .unwrap();
    assert!(of(&log.items(p, log.now), QueueKind::FollowUp).is_empty());
}

#[test]
fn a_referral_made_in_custody_leaves_the_assessment_queue_on_release() {
    let mut log = Log::new();
    let p = held(&mut log, 1, "2026-10-01");
    log.refer(p, "2026-11-02");
    assert_eq!(of(&log.items(p, log.now), QueueKind::Assessment).len(), 1);
    release(&mut log, p, "2026-11-10");
    assert!(of(&log.items(p, log.now), QueueKind::Assessment).is_empty());
}

#[test]
fn a_summary_to_the_offender_manager_is_due_a_week_after_each_episode_of_intervention() {
    use crate::consent::{ConsentDecision, ConsentPurpose, ConsentRecord};
    use crate::sharing::{Disclosure, Recipient, SharingBasis};
    let mut log = Log::new(); // now: 20 November 2026
    let p = held(&mut log, 1, "2026-09-01");
    let course = log.record(p, keyworking("2026-10-01")).unwrap()[0];
    log.record(
        p,
        step(
            "keyworking",
            InterventionStatus::Completed,
            "2026-11-10",
            Some(course),
        ),
    )
    .unwrap();
    assert!(
        of(&log.items(p, log.now), QueueKind::OffenderManagerSummary).is_empty(),
        "without consent nothing may be shared, so nothing is due"
    );
    log.record(
        p,
        EventKind::ConsentRecorded(ConsentRecord {
            purpose: ConsentPurpose::OffenderManagementSummaries,
            decision: ConsentDecision::Given,
            decided_on: d("2026-11-12"),
        }),
    )
    .unwrap();
    let item = only(&log.items(p, log.now), QueueKind::OffenderManagerSummary);
    // Ended 10 November; due by the end of 17 November (GMT): 18 November 00:00Z.
    assert_eq!(item.due, at("2026-11-18T00:00:00Z"));
    assert!(item.overdue);
    log.record(
        p,
        EventKind::InformationShared(Disclosure {
            recipient: Recipient::OffenderManagement,
            basis: SharingBasis::Consent {
                purpose: ConsentPurpose::OffenderManagementSummaries,
            },
            shared_on: d("2026-11-19"),
            about: Some(course),
            summary: "Completed keyworking; goals met".into(),
        }),
    )
    .unwrap();
    assert!(of(&log.items(p, log.now), QueueKind::OffenderManagerSummary).is_empty());
}

// ---------------------------------------------------------------------------
// The client-experience questionnaire before and after treatment (S4 §5)
// ---------------------------------------------------------------------------

#[test]
fn the_before_and_after_questionnaires_of_one_episode_share_a_pairing_key() {
    use crate::surveys::{SurveyKind, experience_episode, pair_key};
    let mut log = Log::new(); // 20 November 2026
    let p = held(&mut log, 1, "2026-03-02");
    let episode = |log: &Log, s: SurveyKind| experience_episode(&log.case(p), &log.profile, s);
    // Before any treatment: "before" is about the first episode; there is no
    // "after" to ask about yet, and the satisfaction survey is never paired.
    assert_eq!(episode(&log, SurveyKind::ExperiencePre), Some(0));
    assert_eq!(episode(&log, SurveyKind::ExperiencePost), None);
    assert_eq!(episode(&log, SurveyKind::Satisfaction), None);
    log.record(p, keyworking("2026-03-02")).unwrap();
    assert_eq!(episode(&log, SurveyKind::ExperiencePre), Some(0));
    assert_eq!(episode(&log, SurveyKind::ExperiencePost), Some(0));
    log.record(p, exit("2026-06-15", ExitReason::DroppedOut, None))
        .unwrap();
    // After the exit, "after" is still about the episode it ended; "before" is
    // about the next one.
    assert_eq!(episode(&log, SurveyKind::ExperiencePost), Some(0));
    assert_eq!(episode(&log, SurveyKind::ExperiencePre), Some(1));
    log.record(p, keyworking("2026-07-01")).unwrap();
    assert_eq!(episode(&log, SurveyKind::ExperiencePost), Some(1));
    assert_eq!(pair_key(p, 0), pair_key(p, 0));
    assert_ne!(pair_key(p, 0), pair_key(p, 1));
}
