//! Scenario tests of decisions, folding and clocks, built with the test kit.

use crate::assessment::{Assessment, AssessmentKind};
use crate::clocks::{ClockState, assessment_clocks};
use crate::consent::{ConsentDecision, ConsentPurpose, ConsentRecord, ConsentWithdrawal};
use crate::custody::{Reception, ReceptionType, Transfer};
use crate::decide::Command;
use crate::error::DomainError;
use crate::events::EventKind;
use crate::identifiers::EstablishmentCode;
use crate::referrals::{
    AppointmentOutcome, AppointmentOutcomeKind, DrugTestReason, DrugTestResult, Referral,
    ReferralSource,
};
use crate::sharing::{Disclosure, Recipient, SharingBasis};
use crate::testkit::*;

fn initial(on: &str) -> EventKind {
    EventKind::AssessmentCompleted(Assessment {
        kind: AssessmentKind::Initial,
        assessed_on: d(on),
        referral: None,
        summary: "Initial assessment".into(),
        structured_treatment_needed: true,
        comprehensive: None,
    })
}

fn field_of(err: DomainError) -> Vec<String> {
    match err {
        DomainError::Invalid(ps) => ps.into_iter().map(|p| p.field).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

fn clock_state(
    log: &Log,
    person: crate::record_ids::PersonId,
    today: &str,
) -> (chrono::NaiveDate, ClockState) {
    let case = log.case(person);
    let clocks = assessment_clocks(&case, &log.calendar, Some(5), d(today));
    (clocks[0].due_on, clocks[0].state)
}

#[test]
fn assessment_due_five_working_days_after_a_friday_referral() {
    let mut log = Log::new();
    let p = log.person("A1234BC");
    log.refer(p, "2026-11-20"); // Friday: Mon 23 .. Fri 27
    let (due, state) = clock_state(&log, p, "2026-11-20");
    assert_eq!(due, d("2026-11-27"));
    assert_eq!(
        state,
        ClockState::Due {
            working_days_left: 6
        }
    );
}

#[test]
fn assessment_due_skips_easter_bank_holidays() {
    let mut log = Log::new();
    log.now = at("2026-04-20T10:00:00Z");
    let p = log.person("A1234BC");
    log.refer(p, "2026-04-02"); // Thu before Good Friday 3 Apr; Easter Monday 6 Apr
    let (due, _) = clock_state(&log, p, "2026-04-02");
    assert_eq!(due, d("2026-04-13")); // Tue 7, Wed 8, Thu 9, Fri 10, Mon 13
}

#[test]
fn assessment_due_across_christmas_and_new_year() {
    let mut log = Log::new();
    log.now = at("2027-01-10T10:00:00Z");
    let p = log.person("A1234BC");
    log.refer(p, "2026-12-23"); // Thu 24; 25 Fri and 28 Mon (Boxing Day substitute) off; 29, 30, 31; 1 Jan off; Mon 4
    let (due, _) = clock_state(&log, p, "2026-12-23");
    assert_eq!(due, d("2027-01-04"));
}

#[test]
fn assessment_on_the_due_day_meets_the_clock_and_a_day_later_breaches_it() {
    let mut log = Log::new();
    log.now = at("2026-12-10T10:00:00Z");
    let on_time = log.person("A1234BC");
    log.refer(on_time, "2026-11-20");
    log.record(on_time, initial("2026-11-27")).unwrap();
    assert_eq!(
        clock_state(&log, on_time, "2026-12-10").1,
        ClockState::Met {
            on: d("2026-11-27")
        }
    );

    let late = log.person("B2345CD");
    log.refer(late, "2026-11-20");
    log.record(late, initial("2026-11-30")).unwrap(); // Monday after the due Friday
    assert_eq!(
        clock_state(&log, late, "2026-12-10").1,
        ClockState::MetLate {
            on: d("2026-11-30"),
            working_days_late: 1
        }
    );
}

#[test]
fn unassessed_referral_past_its_due_day_is_breached() {
    let mut log = Log::new();
    let p = log.person("A1234BC");
    log.refer(p, "2026-11-02"); // Mon: due Mon 9
    assert_eq!(
        clock_state(&log, p, "2026-11-11").1,
        ClockState::Breached {
            working_days_late: 2
        }
    );
}

#[test]
fn assessment_dated_before_its_referral_is_refused_naming_the_date() {
    let mut log = Log::new();
    let p = log.person("A1234BC");
    log.refer(p, "2026-11-10");
    let err = log.record(p, initial("2026-11-09")).unwrap_err();
    assert!(err.to_string().contains("10 November 2026"), "{err}");
    assert_eq!(field_of(err), vec!["assessed_on"]);
    assert_eq!(log.case(p).assessments.len(), 0);
}

#[test]
fn date_of_birth_in_the_future_is_refused() {
    let mut log = Log::new();
    let mut details = details("A1234BC");
    details.date_of_birth = d("2027-01-01");
    let p = crate::record_ids::PersonId(uuid::Uuid::from_u64_pair(1, 1));
    let err = log
        .record(p, EventKind::PersonRegistered(details))
        .unwrap_err();
    assert_eq!(field_of(err), vec!["date_of_birth"]);
    assert!(log.events.is_empty());
}

#[test]
fn an_unknown_establishment_is_refused() {
    let mut log = Log::new();
    log.establishment = EstablishmentCode::parse("XYZ").unwrap();
    let p = crate::record_ids::PersonId(uuid::Uuid::from_u64_pair(1, 1));
    let err = log
        .record(p, EventKind::PersonRegistered(details("A1234BC")))
        .unwrap_err();
    assert_eq!(field_of(err), vec!["establishment"]);
}

#[test]
fn positive_drug_test_refers_offers_an_appointment_and_shares_by_duty() {
    let mut log = Log::new();
    let p = log.person("A1234BC");
    let ids = log
        .record(
            p,
            EventKind::DrugTestResulted(DrugTestResult {
                test_ref: "MDT-1".into(),
                reason: DrugTestReason::Random,
                sampled_on: d("2026-11-18"),
                confirmed_on: Some(d("2026-11-19")),
                positive: true,
                substances: vec!["Cannabis".into()],
            }),
        )
        .unwrap();
    assert_eq!(ids.len(), 4);
    let case = log.case(p);
    assert_eq!(case.referrals.len(), 1);
    assert_eq!(
        case.referrals[0].referral.source,
        ReferralSource::PositiveDrugTest
    );
    assert_eq!(case.referrals[0].referral.referred_on, d("2026-11-19"));
    assert_eq!(case.appointments.len(), 1);
    assert_eq!(
        case.appointments[0].offer.referral,
        Some(case.referrals[0].id)
    );
    // The next working day after Thursday 19th, at 10:00 local (GMT in November).
    assert_eq!(case.appointments[0].offer.at, at("2026-11-20T10:00:00Z"));
    assert_eq!(case.disclosures.len(), 1);
    assert_eq!(
        case.disclosures[0].1.recipient,
        Recipient::PrisonAuthorities
    );

    // The person declines: recorded (S4 §2).
    let appointment = case.appointments[0].id;
    log.record(
        p,
        EventKind::AppointmentOutcomeRecorded(AppointmentOutcome {
            appointment,
            outcome: AppointmentOutcomeKind::Declined,
            note: Some("Does not want to engage now".into()),
        }),
    )
    .unwrap();
    assert_eq!(
        log.case(p).appointments[0].outcome,
        Some(AppointmentOutcomeKind::Declined)
    );
}

#[test]
fn a_negative_test_makes_no_referral_and_is_not_shared() {
    let mut log = Log::new();
    let p = log.person("A1234BC");
    let ids = log
        .record(
            p,
            EventKind::DrugTestResulted(DrugTestResult {
                test_ref: "MDT-2".into(),
                reason: DrugTestReason::Reception,
                sampled_on: d("2026-11-18"),
                confirmed_on: None,
                positive: false,
                substances: vec![],
            }),
        )
        .unwrap();
    assert_eq!(ids.len(), 1);
    let case = log.case(p);
    assert!(case.referrals.is_empty() && case.disclosures.is_empty());
}

#[test]
fn a_correction_replaces_the_fact_everywhere_and_both_stay_on_the_timeline() {
    let mut log = Log::new();
    let p = log.person("A1234BC");
    let referral = log.refer(p, "2026-11-02");
    log.try_command(
        p,
        Command::Correct {
            target: referral,
            reason: "Date was mistyped".into(),
            kind: EventKind::ReferralMade(Referral {
                source: ReferralSource::SelfReferralApplication,
                referred_on: d("2026-11-16"),
                note: None,
            }),
        },
    )
    .unwrap();
    let case = log.case(p);
    assert_eq!(case.referrals.len(), 1);
    assert_eq!(case.referrals[0].referral.referred_on, d("2026-11-16"));
    assert_eq!(case.history.len(), 3);
    assert!(case.superseded.contains(&referral));
    // Due Mon 23 Nov from 16 Nov, not 9 Nov from the mistyped date.
    assert_eq!(clock_state(&log, p, "2026-11-17").0, d("2026-11-23"));
}

#[test]
fn only_the_latest_version_can_be_corrected_and_a_reason_is_required() {
    let mut log = Log::new();
    let p = log.person("A1234BC");
    let referral = log.refer(p, "2026-11-02");
    let fix = |on: &str| {
        EventKind::ReferralMade(Referral {
            source: ReferralSource::Gp,
            referred_on: d(on),
            note: None,
        })
    };
    let no_reason = log.try_command(
        p,
        Command::Correct {
            target: referral,
            reason: " ".into(),
            kind: fix("2026-11-03"),
        },
    );
    assert_eq!(field_of(no_reason.unwrap_err()), vec!["reason"]);
    log.try_command(
        p,
        Command::Correct {
            target: referral,
            reason: "wrong source".into(),
            kind: fix("2026-11-03"),
        },
    )
    .unwrap();
    let again = log.try_command(
        p,
        Command::Correct {
            target: referral,
            reason: "again".into(),
            kind: fix("2026-11-04"),
        },
    );
    assert_eq!(field_of(again.unwrap_err()), vec!["target"]);
}

#[test]
fn a_correction_must_keep_the_kind_of_fact() {
    let mut log = Log::new();
    let p = log.person("A1234BC");
    let referral = log.refer(p, "2026-11-02");
    let err = log
        .try_command(
            p,
            Command::Correct {
                target: referral,
                reason: "x".into(),
                kind: initial("2026-11-03"),
            },
        )
        .unwrap_err();
    assert_eq!(field_of(err), vec!["type"]);
}

#[test]
fn a_fact_entered_in_error_no_longer_counts() {
    let mut log = Log::new();
    let p = log.person("A1234BC");
    let referral = log.refer(p, "2026-11-02");
    log.try_command(
        p,
        Command::EnterInError {
            target: referral,
            reason: "Wrong person".into(),
        },
    )
    .unwrap();
    let case = log.case(p);
    assert!(case.referrals.is_empty());
    assert!(assessment_clocks(&case, &log.calendar, Some(5), d("2026-11-20")).is_empty());
    assert_eq!(case.history.len(), 3);
}

#[test]
fn merge_joins_two_histories_and_keeps_both_prison_numbers() {
    let mut log = Log::new();
    let survivor = log.person("A1234BC");
    let duplicate = log.person("Z9876YX");
    log.refer(survivor, "2026-11-02");
    log.refer(duplicate, "2026-11-09");
    log.merge(survivor, duplicate).unwrap();
    let case = log.case(survivor);
    assert_eq!(case.referrals.len(), 2);
    assert_eq!(
        case.details.as_ref().unwrap().prison_number.as_str(),
        "A1234BC"
    );
    assert_eq!(case.merged_prison_numbers.len(), 1);
    assert_eq!(case.merged_prison_numbers[0].as_str(), "Z9876YX");
    assert!(
        log.merge(survivor, duplicate).is_err(),
        "a second merge is refused"
    );
    assert!(
        log.merge(survivor, survivor).is_err(),
        "a record cannot merge into itself"
    );
}

#[test]
fn consent_given_then_withdrawn_ends_sharing() {
    let mut log = Log::new();
    let p = log.person("A1234BC");
    let share = || {
        EventKind::InformationShared(Disclosure {
            recipient: Recipient::OffenderManagement,
            basis: SharingBasis::Consent {
                purpose: ConsentPurpose::OffenderManagementSummaries,
            },
            shared_on: d("2026-11-12"),
            about: None,
            summary: "Assessment summary".into(),
        })
    };
    assert!(matches!(
        log.record(p, share()),
        Err(DomainError::Refused(_))
    ));
    log.record(
        p,
        EventKind::ConsentRecorded(ConsentRecord {
            purpose: ConsentPurpose::OffenderManagementSummaries,
            decision: ConsentDecision::Given,
            decided_on: d("2026-11-10"),
        }),
    )
    .unwrap();
    log.record(p, share()).unwrap();
    log.record(
        p,
        EventKind::ConsentWithdrawn(ConsentWithdrawal {
            purpose: ConsentPurpose::OffenderManagementSummaries,
            withdrawn_on: d("2026-11-11"),
        }),
    )
    .unwrap();
    assert!(matches!(
        log.record(p, share()),
        Err(DomainError::Refused(_))
    ));
    assert_eq!(log.case(p).disclosures.len(), 1);
}

#[test]
fn withdrawing_a_consent_never_given_is_refused() {
    let mut log = Log::new();
    let p = log.person("A1234BC");
    let err = log
        .record(
            p,
            EventKind::ConsentWithdrawn(ConsentWithdrawal {
                purpose: ConsentPurpose::Ndtms,
                withdrawn_on: d("2026-11-11"),
            }),
        )
        .unwrap_err();
    assert_eq!(field_of(err), vec!["purpose"]);
}

#[test]
fn transfer_moves_the_person_and_the_record_follows() {
    let mut log = Log::new();
    let p = log.person("A1234BC");
    log.record(
        p,
        EventKind::Received(Reception {
            reception_type: ReceptionType::Remand,
            source_ref: None,
        }),
    )
    .unwrap();
    log.refer(p, "2026-11-16");
    log.establishment = EstablishmentCode::parse("EYI").unwrap();
    log.record(
        p,
        EventKind::Transferred(Transfer {
            from: EstablishmentCode::parse("MDI").unwrap(),
            to: EstablishmentCode::parse("EYI").unwrap(),
            source_ref: None,
            break_glass: None,
        }),
    )
    .unwrap();
    let case = log.case(p);
    assert_eq!(case.establishment().unwrap().as_str(), "EYI");
    assert_eq!(
        case.referrals.len(),
        1,
        "the referral and its clock travel with the person"
    );
    // A transfer from where the person is not held is refused.
    let err = log
        .record(
            p,
            EventKind::Transferred(Transfer {
                from: EstablishmentCode::parse("CBI").unwrap(),
                to: EstablishmentCode::parse("EYI").unwrap(),
                source_ref: None,
                break_glass: None,
            }),
        )
        .unwrap_err();
    assert!(field_of(err).contains(&"from".to_string()));
}

/// Issue 14: staff record a transfer at the establishment the person leaves; the
/// receiving side may only by a manager's break-glass, with a reason.
#[test]
fn the_receiving_side_records_a_transfer_only_by_a_managers_break_glass() {
    use crate::access::{Actor, Role};
    let mut log = Log::new();
    let p = log.person("A1234BC");
    log.record(
        p,
        EventKind::Received(Reception {
            reception_type: ReceptionType::Remand,
            source_ref: None,
        }),
    )
    .unwrap();
    let transfer = |why: Option<&str>| {
        EventKind::Transferred(Transfer {
            from: EstablishmentCode::parse("MDI").unwrap(),
            to: EstablishmentCode::parse("EYI").unwrap(),
            source_ref: None,
            break_glass: why.map(str::to_string),
        })
    };
    let why = "Arrived on a late escort; the night prescriber needs the record";
    log.establishment = EstablishmentCode::parse("EYI").unwrap();
    for (actor, reason, field) in [
        (Actor::Staff(Role::Manager), None, "from"),
        (Actor::Staff(Role::Worker), Some(why), "break_glass"),
        (Actor::System, Some(why), "break_glass"),
        (Actor::Staff(Role::Manager), Some("Urgent"), "break_glass"),
    ] {
        log.actor = actor;
        let err = log.record(p, transfer(reason)).unwrap_err();
        assert!(
            field_of(err).contains(&field.to_string()),
            "{actor:?} {reason:?}"
        );
    }
    // Break-glass is the receiving side's: at the sending end it is refused.
    log.establishment = EstablishmentCode::parse("MDI").unwrap();
    log.actor = Actor::Staff(Role::Manager);
    let err = log.record(p, transfer(Some(why))).unwrap_err();
    assert!(field_of(err).contains(&"from".to_string()));
    assert_eq!(log.case(p).establishment().unwrap().as_str(), "MDI");

    log.establishment = EstablishmentCode::parse("EYI").unwrap();
    log.record(p, transfer(Some(why))).unwrap();
    let case = log.case(p);
    assert_eq!(case.establishment().unwrap().as_str(), "EYI");
    assert_eq!(case.transferred_by_break_glass.as_deref(), Some(why));
}

/// Issue 14: a manager elsewhere asks for the record; it moves only when a manager
/// of the holding establishment accepts, which records the transfer out.
#[test]
fn a_transfer_request_moves_the_record_only_when_the_holding_establishment_accepts() {
    use crate::access::{Actor, Role};
    use crate::custody::{TransferRequest, TransferRequestAnswer};
    let mut log = Log::new();
    let p = log.person("A1234BC");
    log.record(
        p,
        EventKind::Received(Reception {
            reception_type: ReceptionType::Remand,
            source_ref: None,
        }),
    )
    .unwrap();
    let eyi = EstablishmentCode::parse("EYI").unwrap();
    let mdi = EstablishmentCode::parse("MDI").unwrap();
    let ask = |reason: &str| {
        EventKind::TransferRequested(TransferRequest {
            to: EstablishmentCode::parse("EYI").unwrap(),
            reason: reason.into(),
        })
    };
    let why = "Received from court this afternoon; on a methadone script";
    log.establishment = eyi.clone();
    log.actor = Actor::Staff(Role::Worker);
    assert!(log.record(p, ask(why)).is_err(), "a manager's to make");
    log.actor = Actor::Staff(Role::Manager);
    assert!(field_of(log.record(p, ask("Please")).unwrap_err()).contains(&"reason".into()));
    let request = log.record(p, ask(why)).unwrap()[0];
    assert!(
        field_of(log.record(p, ask(why)).unwrap_err()).contains(&"to".into()),
        "once"
    );
    let case = log.case(p);
    assert_eq!(case.establishment(), Some(&mdi), "a request opens nothing");
    assert_eq!(case.transfer_requests.len(), 1);
    assert!(case.transfer_requests[0].is_open());

    let answer = |accepted: bool| {
        EventKind::TransferRequestAnswered(TransferRequestAnswer {
            request,
            accepted,
            note: None,
        })
    };
    // The asking side cannot answer its own request.
    assert!(field_of(log.record(p, answer(true)).unwrap_err()).contains(&"request".into()));
    log.establishment = mdi.clone();
    log.actor = Actor::Staff(Role::Worker);
    assert!(
        log.record(p, answer(true)).is_err(),
        "a manager's to answer"
    );
    log.actor = Actor::Staff(Role::Manager);
    let ids = log.record(p, answer(true)).unwrap();
    assert_eq!(ids.len(), 2, "the answer and the transfer out");
    let case = log.case(p);
    assert_eq!(case.establishment(), Some(&eyi));
    assert_eq!(case.transfer_requests[0].answer, Some(true));
    assert_eq!(case.transferred_in.as_ref().map(|(f, _)| f), Some(&mdi));
    // Answered once only.
    log.establishment = eyi.clone();
    assert!(log.record(p, answer(false)).is_err());
}

#[test]
fn a_second_reception_while_in_custody_is_refused() {
    let mut log = Log::new();
    let p = log.person("A1234BC");
    let reception = || {
        EventKind::Received(Reception {
            reception_type: ReceptionType::Sentenced,
            source_ref: None,
        })
    };
    log.record(p, reception()).unwrap();
    assert_eq!(
        field_of(log.record(p, reception()).unwrap_err()),
        vec!["establishment"]
    );
}

#[test]
fn a_duplicate_drug_test_reference_is_refused() {
    let mut log = Log::new();
    let p = log.person("A1234BC");
    let t = || {
        EventKind::DrugTestResulted(DrugTestResult {
            test_ref: "MDT-9".into(),
            reason: DrugTestReason::Random,
            sampled_on: d("2026-11-18"),
            confirmed_on: None,
            positive: true,
            substances: vec![],
        })
    };
    log.record(p, t()).unwrap();
    assert_eq!(field_of(log.record(p, t()).unwrap_err()), vec!["test_ref"]);
}

#[test]
fn the_fold_is_the_same_whatever_order_events_arrive_in() {
    let mut log = Log::new();
    let p = log.person("A1234BC");
    log.refer(p, "2026-11-02");
    log.record(p, initial("2026-11-04")).unwrap();
    let forward = log.case(p);
    let mut reversed = log.events.clone();
    reversed.reverse();
    let backward = crate::case::Case::fold(p, reversed);
    assert_eq!(forward, backward);
    let _ = midday("2026-11-02");
}

#[test]
fn a_comprehensive_assessment_records_the_ndtms_consent_decision() {
    use crate::assessment::{ComprehensiveItems, FamilyIssues, RiskLevel};
    let mut log = Log::new();
    let p = log.person("A1234BC");
    log.refer(p, "2026-11-16");
    let items = ComprehensiveItems {
        needs_and_goals: "Stop using heroin; housing on release".into(),
        family: FamilyIssues::default(),
        other_agencies: vec![],
        onward_referrals: vec![],
        information_handling_explained: true,
        ndtms_consent: false,
        risk_of_self_harm: RiskLevel::Low,
        risk_to_others: RiskLevel::None,
        existing_risk_management_plans: false,
        risk_management_plan: "None needed".into(),
        complex_needs: true,
    };
    let ids = log
        .record(
            p,
            EventKind::AssessmentCompleted(Assessment {
                kind: AssessmentKind::Comprehensive,
                assessed_on: d("2026-11-18"),
                referral: None,
                summary: "Comprehensive".into(),
                structured_treatment_needed: true,
                comprehensive: Some(items.clone()),
            }),
        )
        .unwrap();
    assert_eq!(ids.len(), 2);
    let case = log.case(p);
    assert_eq!(
        case.consents.state(ConsentPurpose::Ndtms),
        Some(crate::consent::ConsentState::Refused {
            on: d("2026-11-18")
        })
    );
    assert!(case.complex_needs());
}

#[test]
fn a_comprehensive_assessment_missing_its_km_3_3_items_is_refused() {
    let mut log = Log::new();
    let p = log.person("A1234BC");
    let err = log
        .record(
            p,
            EventKind::AssessmentCompleted(Assessment {
                kind: AssessmentKind::Comprehensive,
                assessed_on: d("2026-11-18"),
                referral: None,
                summary: "Comprehensive".into(),
                structured_treatment_needed: true,
                comprehensive: None,
            }),
        )
        .unwrap_err();
    assert_eq!(field_of(err), vec!["comprehensive"]);
}

#[test]
fn a_same_day_assessment_answers_a_referral_recorded_later_that_day() {
    let mut log = Log::new();
    let p = log.person("A1234BC");
    // A referral made at 15:00 (e.g. an afternoon positive test) ...
    log.try_command(
        p,
        Command::Record {
            occurred_at: Some(at("2026-11-18T15:00:00Z")),
            recorded_at: None,
            kind: EventKind::ReferralMade(Referral {
                source: ReferralSource::Healthcare,
                referred_on: d("2026-11-18"),
                note: None,
            }),
        },
    )
    .unwrap();
    // ... and an assessment the same day entered with no time (midday).
    log.record(p, initial("2026-11-18")).unwrap();
    let case = log.case(p);
    assert!(case.referrals[0].first_assessment.is_some());
    assert_eq!(
        clock_state(&log, p, "2026-11-20").1,
        ClockState::Met {
            on: d("2026-11-18")
        }
    );
}

#[test]
fn a_declined_referral_is_closed_and_leaves_the_clocks() {
    use crate::referrals::{ReferralClosure, ReferralClosureReason};
    let mut log = Log::new();
    let p = log.person("A1234BC");
    let referral = log.refer(p, "2026-11-02");
    let close = |on: &str| {
        EventKind::ReferralClosed(ReferralClosure {
            referral,
            reason: ReferralClosureReason::Declined,
            closed_on: d(on),
            note: None,
        })
    };
    assert_eq!(
        field_of(log.record(p, close("2026-11-01")).unwrap_err()),
        vec!["closed_on"]
    );
    log.record(p, close("2026-11-03")).unwrap();
    let case = log.case(p);
    assert!(!case.referrals[0].is_open());
    assert_eq!(
        clock_state(&log, p, "2026-11-20").1,
        ClockState::Closed {
            on: d("2026-11-03")
        }
    );
    assert_eq!(
        crate::clocks::next_assessment_due(&case, &log.calendar, Some(5)),
        None
    );
    assert_eq!(
        field_of(log.record(p, close("2026-11-04")).unwrap_err()),
        vec!["referral"]
    );
}
