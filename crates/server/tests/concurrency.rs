//! Concurrency: two app instances (two stores) on one database, many writers
//! recording for the same person at once. No event may be lost, the chain may not
//! fork, and the clocks and queues must agree with the log afterwards. Runs on
//! SQLite, and on PostgreSQL when the test script selects it
//! (`THROUGHCARE_TEST_BACKEND=postgres`).

mod common;

use chrono::Utc;
use common::TestDatabase;
use std::sync::Arc;
use throughcare::recording::{Recorder, load_case};
use throughcare_domain::decide::Command;
use throughcare_domain::events::EventKind;
use throughcare_domain::identifiers::{EstablishmentCode, PrisonNumber, StaffUsername};
use throughcare_domain::people::{EqualityMonitoring, PersonDetails, RecordedPriorityFlags};
use throughcare_domain::profile::Profile;
use throughcare_domain::record_ids::{PersonId, RandomIds};
use throughcare_domain::referrals::{Referral, ReferralSource};
use throughcare_store::Store;

const WRITERS: usize = 8;
const EACH: usize = 15;

#[test]
fn many_writers_on_two_instances_lose_nothing_and_keep_one_chain() {
    let db = TestDatabase::new();
    let profile = Profile::builtin("kent-medway").unwrap();
    let instances: Vec<Arc<dyn Store>> = (0..2)
        .map(|_| Arc::from(throughcare_store::open(&db.url, &profile).unwrap()))
        .collect();
    let mdi = EstablishmentCode::parse("MDI").unwrap();
    let person = PersonId(uuid::Uuid::new_v4());
    let calendar = profile.calendar();
    let by =
        throughcare_domain::access::Author::system(StaffUsername::parse("worker.one").unwrap());
    Recorder {
        store: instances[0].as_ref(),
        profile: &profile,
        calendar: &calendar,
    }
    .record(
        &by,
        &mdi,
        person,
        Command::Record {
            occurred_at: None,
            recorded_at: None,
            kind: EventKind::PersonRegistered(PersonDetails {
                prison_number: PrisonNumber::parse("A1234BC").unwrap(),
                given_name: "Pat".into(),
                family_name: "Concurrent".into(),
                date_of_birth: "1980-01-01".parse().unwrap(),
                home_postcode: None,
                equality: EqualityMonitoring::default(),
                priority: RecordedPriorityFlags::default(),
            }),
        },
        Utc::now(),
        &mut RandomIds,
        None,
    )
    .unwrap();

    let today = throughcare_domain::time::local_date(Utc::now());
    std::thread::scope(|scope| {
        for w in 0..WRITERS {
            let store = instances[w % 2].clone();
            let (profile, calendar, by, mdi) = (&profile, &calendar, &by, &mdi);
            scope.spawn(move || {
                let recorder = Recorder {
                    store: store.as_ref(),
                    profile,
                    calendar,
                };
                for _ in 0..EACH {
                    recorder
                        .record(
                            by,
                            mdi,
                            person,
                            Command::Record {
                                occurred_at: None,
                                recorded_at: None,
                                kind: EventKind::ReferralMade(Referral {
                                    source: ReferralSource::SelfReferralApplication,
                                    referred_on: today,
                                    note: None,
                                }),
                            },
                            Utc::now(),
                            &mut RandomIds,
                            None,
                        )
                        .expect("every write lands, retrying when another writer got there first");
                }
            });
        }
    });

    let expected = 1 + WRITERS * EACH;
    for store in &instances {
        let events = store.events_after(0, usize::MAX).unwrap();
        assert_eq!(events.len(), expected, "no event lost or doubled");
        let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
        assert_eq!(
            seqs,
            (1..=expected as i64).collect::<Vec<_>>(),
            "one gap-free sequence"
        );
        let report = store.verify().unwrap();
        assert_eq!(report.broken, None, "one linear chain, no fork");
        assert_eq!(report.verified, expected as i64);
        let (case, _) = load_case(store.as_ref(), person).unwrap();
        assert_eq!(case.referrals.len(), WRITERS * EACH);
        let row = store.case_row(person).unwrap().unwrap();
        assert_eq!(
            row.open_referrals as usize,
            WRITERS * EACH,
            "the queue agrees with the log"
        );
        assert_eq!(row.last_seq, expected as i64);
        assert_eq!(store.assessments_due(&mdi).unwrap().len(), 1);
    }
}
