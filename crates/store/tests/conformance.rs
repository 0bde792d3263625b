//! The store conformance suite: behaviour every backend must have. Runs against a
//! fresh SQLite file per test.

use chrono::{TimeZone, Utc};
use rusqlite::Connection;
use throughcare_domain::events::{EventKind, NewEvent};
use throughcare_domain::identifiers::{EstablishmentCode, PrisonNumber, StaffUsername};
use throughcare_domain::people::{EqualityMonitoring, PersonDetails, RecordedPriorityFlags};
use throughcare_domain::profile::Profile;
use throughcare_domain::record_ids::{EventId, PersonId};
use throughcare_domain::referrals::{Referral, ReferralSource};
use throughcare_store::{Expectation, FeedRecord, Store, StoreError};
use uuid::Uuid;

/// A backend under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

/// The backends to run every test against: SQLite always; PostgreSQL when the test
/// script has started a server (`THROUGHCARE_TEST_POSTGRES_URL`), and required when
/// `THROUGHCARE_REQUIRE_POSTGRES=1` (as `scripts/test.sh` sets).
fn backends() -> Vec<Backend> {
    let mut out = vec![Backend::Sqlite];
    match std::env::var("THROUGHCARE_TEST_POSTGRES_URL") {
        Ok(_) => out.push(Backend::Postgres),
        Err(_) if std::env::var("THROUGHCARE_REQUIRE_POSTGRES").as_deref() == Ok("1") => {
            panic!(
                "THROUGHCARE_REQUIRE_POSTGRES=1 but no THROUGHCARE_TEST_POSTGRES_URL: run through scripts/with-postgres.sh"
            )
        }
        Err(_) => eprintln!("note: PostgreSQL not available; running the SQLite backend only"),
    }
    out
}

/// A fresh, empty database of one backend: a new SQLite file, or a new PostgreSQL
/// database on the test server (dropped afterwards).
struct Fixture {
    backend: Backend,
    _dir: tempfile::TempDir,
    url: String,
    admin: Option<String>,
    db_name: String,
    profile: Profile,
}

impl Fixture {
    fn new(backend: Backend) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let profile = Profile::builtin("kent-medway").unwrap();
        match backend {
            Backend::Sqlite => Fixture {
                backend,
                url: dir.path().join("log.sqlite").to_string_lossy().into_owned(),
                _dir: dir,
                admin: None,
                db_name: String::new(),
                profile,
            },
            Backend::Postgres => {
                let admin = std::env::var("THROUGHCARE_TEST_POSTGRES_URL").unwrap();
                let db_name = format!("tc_{}", Uuid::new_v4().simple());
                let mut c = postgres::Client::connect(&admin, postgres::NoTls).unwrap();
                c.batch_execute(&format!("CREATE DATABASE {db_name}"))
                    .unwrap();
                let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
                Fixture {
                    backend,
                    url: format!("{base}/{db_name}"),
                    _dir: dir,
                    admin: Some(admin),
                    db_name,
                    profile,
                }
            }
        }
    }

    fn open(&self) -> Box<dyn Store> {
        throughcare_store::open(&self.url, &self.profile).unwrap()
    }

    /// Runs SQL straight against the database, as someone with the file or a
    /// database login (and no respect for the guards) might.
    fn exec(&self, sql: &str) {
        match self.backend {
            Backend::Sqlite => Connection::open(&self.url)
                .unwrap()
                .execute_batch(sql)
                .unwrap(),
            Backend::Postgres => postgres::Client::connect(&self.url, postgres::NoTls)
                .unwrap()
                .batch_execute(sql)
                .unwrap(),
        }
    }

    /// Whether SQL against the database fails.
    fn refuses(&self, sql: &str) -> bool {
        match self.backend {
            Backend::Sqlite => Connection::open(&self.url)
                .unwrap()
                .execute_batch(sql)
                .is_err(),
            Backend::Postgres => postgres::Client::connect(&self.url, postgres::NoTls)
                .unwrap()
                .batch_execute(sql)
                .is_err(),
        }
    }

    /// Removes the append-only guards, then runs `sql`.
    fn tamper(&self, sql: &str) {
        let drop = match self.backend {
            Backend::Sqlite => "DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;",
            Backend::Postgres => {
                "DROP TRIGGER events_no_update ON events; DROP TRIGGER events_no_delete ON events;"
            }
        };
        self.exec(&format!("{drop} {sql}"));
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if let Some(admin) = &self.admin
            && let Ok(mut c) = postgres::Client::connect(admin, postgres::NoTls)
        {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.db_name
            ));
        }
    }
}

/// Runs a test body once per backend, saying which one failed.
fn each_backend(test: impl Fn(&Fixture)) {
    for b in backends() {
        let f = Fixture::new(b);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| test(&f)));
        if let Err(e) = outcome {
            eprintln!("failed on the {b:?} backend");
            std::panic::resume_unwind(e);
        }
    }
}

fn person(n: u64) -> PersonId {
    PersonId(Uuid::from_u64_pair(1, n))
}

fn event(n: u64, who: PersonId, kind: EventKind) -> NewEvent {
    NewEvent {
        id: EventId(Uuid::from_u64_pair(2, n)),
        person: Some(who),
        establishment: EstablishmentCode::parse("MDI").unwrap(),
        occurred_at: Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0).unwrap(),
        recorded_at: None,
        recorded_by: StaffUsername::parse("worker.one").unwrap(),
        supersedes: None,
        reason: None,
        kind,
    }
}

fn registration(number: &str) -> EventKind {
    EventKind::PersonRegistered(PersonDetails {
        prison_number: PrisonNumber::parse(number).unwrap(),
        given_name: "Alex".into(),
        family_name: "Example".into(),
        date_of_birth: "1990-01-01".parse().unwrap(),
        home_postcode: None,
        equality: EqualityMonitoring::default(),
        priority: RecordedPriorityFlags::default(),
    })
}

fn referral(on: &str) -> EventKind {
    EventKind::ReferralMade(Referral {
        source: ReferralSource::Healthcare,
        referred_on: on.parse().unwrap(),
        note: None,
    })
}

fn seed(store: &dyn Store) {
    store
        .append(&[event(1, person(1), registration("A1234BC"))], None, None)
        .unwrap();
    store
        .append(&[event(2, person(1), referral("2026-03-02"))], None, None)
        .unwrap();
    store
        .append(&[event(3, person(2), registration("B2345CD"))], None, None)
        .unwrap();
}

#[test]
fn appended_events_read_back_in_order_with_a_valid_chain() {
    each_backend(|f| {
        let store = f.open();
        seed(store.as_ref());
        let events = store.person_events(person(1)).unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].seq, 1);
        assert_eq!(events[1].seq, 2);
        assert_eq!(events[1].prev_hash, events[0].hash);
        assert_eq!(events[1].kind, referral("2026-03-02"));
        let report = store.verify().unwrap();
        assert_eq!(report.verified, 3);
        assert_eq!(report.broken, None);
    });
}

#[test]
fn reopening_the_file_keeps_everything() {
    each_backend(|f| {
        let head = {
            let store = f.open();
            seed(store.as_ref());
            store.verify().unwrap().head_hash
        };
        let store = f.open();
        assert_eq!(store.events_after(0, 100).unwrap().len(), 3);
        assert_eq!(store.verify().unwrap().head_hash, head);
        let row = store.case_row(person(1)).unwrap().unwrap();
        assert_eq!(row.prison_number, "A1234BC");
        assert_eq!(row.open_referrals, 1);
        assert_eq!(
            store
                .find_prison_number(&PrisonNumber::parse("b2345cd").unwrap())
                .unwrap(),
            Some(person(2))
        );
    });
}

#[test]
fn the_case_index_carries_the_first_assessment_due_date() {
    each_backend(|f| {
        let store = f.open();
        seed(store.as_ref());
        // Monday 2 March 2026 + 5 working days = Monday 9 March.
        let due = store
            .assessments_due(&EstablishmentCode::parse("MDI").unwrap())
            .unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].assessment_due, Some("2026-03-09".parse().unwrap()));
    });
}

#[test]
fn a_stale_expectation_is_a_conflict_and_appends_nothing() {
    each_backend(|f| {
        let store = f.open();
        seed(store.as_ref());
        let stale = Expectation {
            person: person(1),
            last_seq: 1,
        };
        let r = store.append(
            &[event(9, person(1), referral("2026-03-03"))],
            Some(stale),
            None,
        );
        assert!(matches!(r, Err(StoreError::Conflict)));
        assert_eq!(store.events_after(0, 100).unwrap().len(), 3);
        let fresh = Expectation {
            person: person(1),
            last_seq: 2,
        };
        store
            .append(
                &[event(9, person(1), referral("2026-03-03"))],
                Some(fresh),
                None,
            )
            .unwrap();
    });
}

#[test]
fn a_feed_record_applies_once() {
    each_backend(|f| {
        let store = f.open();
        seed(store.as_ref());
        let feed = FeedRecord {
            feed: "drug-tests".into(),
            source_ref: "T-1".into(),
        };
        let first = store
            .append(
                &[event(10, person(1), referral("2026-03-04"))],
                None,
                Some(&feed),
            )
            .unwrap();
        assert_eq!(first.len(), 1);
        let again = store
            .append(
                &[event(11, person(1), referral("2026-03-04"))],
                None,
                Some(&feed),
            )
            .unwrap();
        assert!(again.is_empty());
        assert_eq!(store.events_after(0, 100).unwrap().len(), 4);
    });
}

#[test]
fn a_second_person_with_the_same_prison_number_is_refused() {
    each_backend(|f| {
        let store = f.open();
        seed(store.as_ref());
        let r = store.append(&[event(12, person(3), registration("A1234BC"))], None, None);
        assert!(matches!(r, Err(StoreError::Duplicate(_))));
        assert_eq!(store.events_after(0, 100).unwrap().len(), 3);
    });
}

#[test]
fn the_log_refuses_updates_and_deletes() {
    each_backend(|f| {
        seed(f.open().as_ref());
        assert!(f.refuses("UPDATE events SET payload = '{}' WHERE seq = 2"));
        assert!(f.refuses("DELETE FROM events WHERE seq = 2"));
    });
}

#[test]
fn verify_names_a_modified_payload() {
    each_backend(|f| {
        seed(f.open().as_ref());
        f.tamper(
            "UPDATE events SET payload = replace(payload, '2026-03-02', '2026-03-09') WHERE seq = 2;",
        );
        let report = f.open().verify().unwrap();
        assert_eq!(report.verified, 1);
        assert_eq!(
            report.broken.map(|b| b.to_string()),
            Some("event 2 has been altered (its hash does not match its contents)".into())
        );
    });
}

#[test]
fn verify_names_a_deleted_row() {
    each_backend(|f| {
        seed(f.open().as_ref());
        f.tamper("DELETE FROM events WHERE seq = 2;");
        let report = f.open().verify().unwrap();
        assert!(
            report
                .broken
                .unwrap()
                .to_string()
                .contains("event 2 is missing")
        );
    });
}

#[test]
fn verify_names_a_reordered_pair() {
    each_backend(|f| {
        seed(f.open().as_ref());
        f.tamper(
            "UPDATE events SET seq = 100 WHERE seq = 2; UPDATE events SET seq = 2 WHERE seq = 3; UPDATE events SET seq = 3 WHERE seq = 100;",
        );
        let report = f.open().verify().unwrap();
        assert_eq!(report.verified, 1);
        assert!(report.broken.is_some());
    });
}

#[test]
fn merge_moves_the_history_and_the_prison_number() {
    each_backend(|f| {
        let store = f.open();
        seed(store.as_ref());
        store
            .append(
                &[event(
                    20,
                    person(1),
                    EventKind::PeopleMerged(throughcare_domain::events::Merge {
                        merged: person(2),
                        merged_prison_number: PrisonNumber::parse("B2345CD").unwrap(),
                    }),
                )],
                None,
                None,
            )
            .unwrap();
        assert_eq!(store.canonical_person(person(2)).unwrap(), Some(person(1)));
        assert_eq!(store.person_events(person(2)).unwrap().len(), 4);
        assert_eq!(
            store
                .find_prison_number(&PrisonNumber::parse("B2345CD").unwrap())
                .unwrap(),
            Some(person(1))
        );
        assert!(
            store
                .case_row(person(2))
                .unwrap()
                .is_some_and(|r| r.person == person(1))
        );
        assert_eq!(
            store
                .caseload(&EstablishmentCode::parse("MDI").unwrap())
                .unwrap()
                .len(),
            1
        );
    });
}
