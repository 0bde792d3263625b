//! Property tests: any sequence of commands, valid or not, leaves a consistent
//! case; a correction applied twice equals applying it once.

use crate::assessment::{Assessment, AssessmentKind};
use crate::case::Case;
use crate::consent::{ConsentDecision, ConsentPurpose, ConsentRecord, ConsentWithdrawal};
use crate::decide::Command;
use crate::events::{EventKind, RecordedEvent};
use crate::referrals::{Referral, ReferralSource};
use crate::testkit::*;
use chrono::Duration;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Refer(u8),
    Assess(u8, bool),
    Consent(u8, bool),
    Withdraw(u8),
    CorrectReferral(u8, u8),
    EnterInError(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..60).prop_map(Op::Refer),
        (0u8..60, any::<bool>()).prop_map(|(d, c)| Op::Assess(d, c)),
        (0u8..6, any::<bool>()).prop_map(|(p, g)| Op::Consent(p, g)),
        (0u8..6).prop_map(Op::Withdraw),
        (0u8..20, 0u8..60).prop_map(|(i, d)| Op::CorrectReferral(i, d)),
        (0u8..40).prop_map(Op::EnterInError),
    ]
}

fn day(offset: u8) -> chrono::NaiveDate {
    d("2026-09-01") + Duration::days(i64::from(offset))
}

/// Runs the operations, ignoring those the domain refuses (as a user would see).
fn run(ops: &[Op]) -> (Log, crate::record_ids::PersonId) {
    let mut log = Log::new();
    let p = log.person("A1234BC");
    for op in ops {
        let case = log.case(p);
        let referrals: Vec<_> = case.referrals.iter().map(|r| r.id).collect();
        let command = match op {
            Op::Refer(o) => Command::Record {
                occurred_at: None,
                recorded_at: None,
                kind: EventKind::ReferralMade(Referral {
                    source: ReferralSource::Gp,
                    referred_on: day(*o),
                    note: None,
                }),
            },
            Op::Assess(o, linked) => Command::Record {
                occurred_at: None,
                recorded_at: None,
                kind: EventKind::AssessmentCompleted(Assessment {
                    kind: AssessmentKind::Initial,
                    assessed_on: day(*o),
                    referral: if *linked {
                        referrals.first().copied()
                    } else {
                        None
                    },
                    summary: "Seen".into(),
                    structured_treatment_needed: false,
                    comprehensive: None,
                }),
            },
            Op::Consent(purpose, given) => Command::Record {
                occurred_at: None,
                recorded_at: None,
                kind: EventKind::ConsentRecorded(ConsentRecord {
                    purpose: ConsentPurpose::ALL[usize::from(*purpose) % 6],
                    decision: if *given {
                        ConsentDecision::Given
                    } else {
                        ConsentDecision::Refused
                    },
                    decided_on: day(10),
                }),
            },
            Op::Withdraw(purpose) => Command::Record {
                occurred_at: None,
                recorded_at: None,
                kind: EventKind::ConsentWithdrawn(ConsentWithdrawal {
                    purpose: ConsentPurpose::ALL[usize::from(*purpose) % 6],
                    withdrawn_on: day(20),
                }),
            },
            Op::CorrectReferral(i, o) => match referrals.get(usize::from(*i)) {
                None => continue,
                Some(target) => Command::Correct {
                    target: *target,
                    reason: "Correction".into(),
                    kind: EventKind::ReferralMade(Referral {
                        source: ReferralSource::Healthcare,
                        referred_on: day(*o),
                        note: None,
                    }),
                },
            },
            Op::EnterInError(i) => match log.events.get(usize::from(*i)) {
                None => continue,
                Some(e) => Command::EnterInError {
                    target: e.id,
                    reason: "Wrong person".into(),
                },
            },
        };
        let _ = log.try_command(p, command);
    }
    (log, p)
}

fn effective_count(case: &Case, events: &[RecordedEvent], type_name: &str) -> usize {
    events
        .iter()
        .filter(|e| case.is_effective(e) && e.kind.type_name() == type_name)
        .count()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_sequence_of_commands_folds_to_a_consistent_case(ops in proptest::collection::vec(op(), 0..30)) {
        let (log, p) = run(&ops);
        let case = log.case(p);
        // Every event is on the timeline; counts agree with the effective events.
        prop_assert_eq!(case.history.len(), log.events.len());
        prop_assert_eq!(case.referrals.len(), effective_count(&case, &log.events, "referral_made"));
        prop_assert_eq!(case.assessments.len(), effective_count(&case, &log.events, "assessment_completed"));
        // A referral is answered only by an assessment on or after its date, at most once.
        let mut answering = std::collections::HashSet::new();
        for r in &case.referrals {
            if let Some((a, on)) = r.first_assessment {
                prop_assert!(on >= r.referral.referred_on);
                prop_assert!(answering.insert(a), "an assessment answers at most one referral");
            }
        }
        // Superseded and in-error events never count.
        for e in &log.events {
            if case.superseded.contains(&e.id) || case.in_error.contains(&e.id) {
                prop_assert!(!case.is_effective(e));
            }
        }
        // The chain the test log built verifies.
        let mut v = crate::chain::ChainVerifier::default();
        for e in &log.events {
            let (id, person) = (e.id.to_string(), e.person.map(|x| x.to_string()));
            let (occ, rec, app) = (
                crate::time::canonical_instant(e.occurred_at),
                crate::time::canonical_instant(e.recorded_at),
                crate::time::canonical_instant(e.appended_at),
            );
            let sup = e.supersedes.map(|s| s.to_string());
            let payload = e.kind.payload_json();
            let fields = crate::chain::ChainFields {
                seq: e.seq, id: &id, person: person.as_deref(), establishment: e.establishment.as_str(),
                event_type: e.kind.type_name(), occurred_at: &occ, recorded_at: &rec, appended_at: &app,
                recorded_by: e.recorded_by.as_str(), supersedes: sup.as_deref(), reason: e.reason.as_deref(), payload: &payload,
            };
            prop_assert!(v.check(&fields, &e.prev_hash, &e.hash).is_ok());
        }
    }

    #[test]
    fn a_correction_applied_twice_equals_it_applied_once(ops in proptest::collection::vec(op(), 1..20), o in 0u8..60) {
        let (mut log, p) = run(&ops);
        let Some(target) = log.case(p).referrals.first().map(|r| r.id) else { return Ok(()) };
        let correction = Command::Correct {
            target,
            reason: "Date corrected".into(),
            kind: EventKind::ReferralMade(Referral { source: ReferralSource::Gp, referred_on: day(o), note: None }),
        };
        if log.try_command(p, correction).is_err() {
            return Ok(());
        }
        let once = log.case(p);
        // The same correction event recorded a second time (as a duplicated delivery
        // might): a new id and sequence number, superseding the same target.
        let mut again = log.events.last().cloned().unwrap();
        again.id = crate::record_ids::EventId(uuid::Uuid::from_u64_pair(u64::MAX, 1));
        again.seq += 1;
        let mut events = log.events.clone();
        events.push(again);
        let twice = Case::fold(p, events);
        prop_assert_eq!(&once.referrals.iter().map(|r| r.referral.clone()).collect::<Vec<_>>(),
                        &twice.referrals.iter().map(|r| r.referral.clone()).collect::<Vec<_>>());
        prop_assert_eq!(once.assessments.len(), twice.assessments.len());
    }
}
