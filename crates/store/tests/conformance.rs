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
use throughcare_store::{
    AccessEntry, Expectation, ExportSummary, FeedRecord, QueueQuery, Role, StaffAccount, Store,
    StoreError,
};
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

fn merge(n: u64, into: PersonId, merged: PersonId, number: &str) -> NewEvent {
    event(
        n,
        into,
        EventKind::PeopleMerged(throughcare_domain::events::Merge {
            merged,
            merged_prison_number: PrisonNumber::parse(number).unwrap(),
        }),
    )
}

fn account(name: &str) -> StaffAccount {
    StaffAccount {
        username: StaffUsername::parse(name).unwrap(),
        display_name: "Sam Worker".into(),
        role: Role::Worker,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        establishments: vec![
            EstablishmentCode::parse("MDI").unwrap(),
            EstablishmentCode::parse("EYI").unwrap(),
        ],
        active: true,
        created_at: Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap(),
    }
}

fn drug_test_feed(source_ref: &str) -> FeedRecord {
    FeedRecord {
        feed: "drug-tests".into(),
        source_ref: source_ref.into(),
    }
}

/// Everything an export carries: events (a feed-applied one and a merge among
/// them), a staff account, access-audit entries.
fn seed_everything(store: &dyn Store) {
    seed(store);
    store
        .append(
            &[event(4, person(1), referral("2026-03-03"))],
            None,
            Some(&drug_test_feed("T-1")),
        )
        .unwrap();
    store
        .append(&[event(5, person(3), registration("C3456DE"))], None, None)
        .unwrap();
    store
        .append(&[merge(6, person(1), person(2), "B2345CD")], None, None)
        .unwrap();
    store.put_account(&account("sam.worker")).unwrap();
    for (i, action) in ["view", "export"].into_iter().enumerate() {
        store
            .record_access(&AccessEntry {
                at: Utc.with_ymd_and_hms(2026, 3, 2, 11, i as u32, 0).unwrap(),
                username: "sam.worker".into(),
                person: Some(person(1)),
                action: action.into(),
                detail: "/people/{id}".into(),
            })
            .unwrap();
    }
}

fn export(store: &dyn Store) -> (ExportSummary, Vec<u8>) {
    let mut out = Vec::new();
    let summary = store.export_log(&mut out).unwrap();
    (summary, out)
}

/// Asserts that `copy` holds exactly what `original` does, as every reader sees it.
fn assert_same_record(original: &dyn Store, copy: &dyn Store) {
    assert_eq!(copy.verify().unwrap(), original.verify().unwrap());
    assert_eq!(
        copy.events_after(0, usize::MAX).unwrap(),
        original.events_after(0, usize::MAX).unwrap()
    );
    for code in ["MDI", "EYI"] {
        let code = EstablishmentCode::parse(code).unwrap();
        assert_eq!(
            copy.caseload(&code).unwrap(),
            original.caseload(&code).unwrap()
        );
        assert_eq!(
            copy.assessments_due(&code).unwrap(),
            original.assessments_due(&code).unwrap()
        );
    }
    for p in [person(1), person(2), person(3)] {
        assert_eq!(
            copy.canonical_person(p).unwrap(),
            original.canonical_person(p).unwrap()
        );
        assert_eq!(
            copy.person_events(p).unwrap(),
            original.person_events(p).unwrap()
        );
        assert_eq!(copy.case_row(p).unwrap(), original.case_row(p).unwrap());
        assert_eq!(copy.access_log(p).unwrap(), original.access_log(p).unwrap());
    }
    for number in ["A1234BC", "B2345CD", "C3456DE"] {
        let number = PrisonNumber::parse(number).unwrap();
        assert_eq!(
            copy.find_prison_number(&number).unwrap(),
            original.find_prison_number(&number).unwrap()
        );
    }
    assert_eq!(copy.accounts().unwrap(), original.accounts().unwrap());
}

#[test]
fn an_export_imports_into_a_fresh_store_with_the_same_chain_and_projections() {
    each_backend(|f| {
        let store = f.open();
        seed_everything(store.as_ref());
        let (exported, bytes) = export(store.as_ref());
        assert_eq!(exported.events, 6);
        assert_eq!(exported.head_hash, store.verify().unwrap().head_hash);
        assert_eq!(
            (
                exported.accounts,
                exported.access_entries,
                exported.feed_records
            ),
            (1, 2, 1)
        );
        let text = std::str::from_utf8(&bytes).unwrap();
        assert!(
            text.starts_with(&format!(
                "{{\"format\":\"throughcare-log\",\"version\":1,\"events\":6,\"head_hash\":\"{}\"}}\n",
                exported.head_hash
            )),
            "{text}"
        );
        assert_eq!(text.lines().count(), 1 + 6 + 1 + 2 + 1 + 1);

        let target = Fixture::new(f.backend);
        let copy = target.open();
        let imported = copy.import_log(&mut &bytes[..]).unwrap();
        assert_eq!(imported.events, 6);
        assert_eq!(imported.head_hash, exported.head_hash);
        assert_same_record(store.as_ref(), copy.as_ref());
        // The merged record's prison number followed the merge.
        assert_eq!(
            copy.find_prison_number(&PrisonNumber::parse("B2345CD").unwrap())
                .unwrap(),
            Some(person(1))
        );
        // The copy exports byte for byte what the original did.
        assert_eq!(export(copy.as_ref()).1, bytes);

        // The copy carries on: the feed record is remembered, appends extend the
        // same chain (on PostgreSQL, from the restored chain head).
        let again = copy
            .append(
                &[event(7, person(1), referral("2026-03-04"))],
                None,
                Some(&drug_test_feed("T-1")),
            )
            .unwrap();
        assert!(again.is_empty());
        let next = copy
            .append(&[event(8, person(3), referral("2026-03-04"))], None, None)
            .unwrap();
        assert_eq!(next[0].seq, 7);
        assert_eq!(next[0].prev_hash, exported.head_hash);
        assert_eq!(copy.verify().unwrap().verified, 7);
        assert_eq!(copy.verify().unwrap().broken, None);
        // New access-audit entries come after the restored ones.
        copy.record_access(&AccessEntry {
            at: Utc.with_ymd_and_hms(2026, 3, 4, 9, 0, 0).unwrap(),
            username: "sam.worker".into(),
            person: Some(person(1)),
            action: "refused".into(),
            detail: "/people/{id}".into(),
        })
        .unwrap();
        let log = copy.access_log(person(1)).unwrap();
        assert_eq!(
            log.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
            ["refused", "export", "view"]
        );
    });
}

#[test]
fn every_role_is_stored_and_read_back_including_the_self_referral_service() {
    each_backend(|f| {
        let store = f.open();
        for (i, role) in Role::ALL.into_iter().enumerate() {
            let a = StaffAccount {
                role,
                ..account(&format!("account.{i}"))
            };
            store.put_account(&a).unwrap();
            assert_eq!(store.account(&a.username).unwrap(), Some(a));
        }
        assert_eq!(
            Role::from_code("self_referral_service"),
            Some(Role::SelfReferralService)
        );
        let roles: Vec<Role> = store.accounts().unwrap().iter().map(|a| a.role).collect();
        assert_eq!(roles, Role::ALL);
    });
}

#[test]
fn an_export_moves_between_backends_with_the_same_chain_head() {
    if !backends().contains(&Backend::Postgres) {
        return;
    }
    for (from, to) in [
        (Backend::Sqlite, Backend::Postgres),
        (Backend::Postgres, Backend::Sqlite),
    ] {
        let source = Fixture::new(from);
        let store = source.open();
        seed_everything(store.as_ref());
        let (_, bytes) = export(store.as_ref());
        let target = Fixture::new(to);
        let copy = target.open();
        copy.import_log(&mut &bytes[..]).unwrap();
        assert_same_record(store.as_ref(), copy.as_ref());
        assert_eq!(export(copy.as_ref()).1, bytes, "{from:?} to {to:?}");
    }
}

#[test]
fn an_import_into_a_store_that_holds_anything_is_refused_and_changes_nothing() {
    each_backend(|f| {
        let store = f.open();
        seed_everything(store.as_ref());
        let (_, bytes) = export(store.as_ref());
        let before = store.verify().unwrap();
        let r = store.import_log(&mut &bytes[..]);
        assert!(
            matches!(&r, Err(StoreError::NotEmpty(m)) if m.contains("6 events")),
            "{r:?}"
        );
        assert_eq!(store.verify().unwrap(), before);
        assert_eq!(store.events_after(0, usize::MAX).unwrap().len(), 6);

        // A database with only a staff account in it is not empty either.
        let other = Fixture::new(f.backend);
        let target = other.open();
        target.put_account(&account("first.admin")).unwrap();
        let r = target.import_log(&mut &bytes[..]);
        assert!(matches!(r, Err(StoreError::NotEmpty(_))), "{r:?}");
        assert!(target.events_after(0, 10).unwrap().is_empty());
        assert_eq!(target.accounts().unwrap(), vec![account("first.admin")]);
    });
}

/// Asserts that a refused import left the store as empty as it was.
fn assert_empty(store: &dyn Store) {
    assert!(store.events_after(0, 10).unwrap().is_empty());
    assert_eq!(store.verify().unwrap().verified, 0);
    assert!(store.accounts().unwrap().is_empty());
    assert!(store.access_log(person(1)).unwrap().is_empty());
    assert_eq!(
        store
            .find_prison_number(&PrisonNumber::parse("A1234BC").unwrap())
            .unwrap(),
        None
    );
    assert!(
        store
            .caseload(&EstablishmentCode::parse("MDI").unwrap())
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_tampered_export_is_refused_naming_the_event_and_leaves_the_target_empty() {
    each_backend(|f| {
        let store = f.open();
        seed_everything(store.as_ref());
        let (_, bytes) = export(store.as_ref());
        let text = String::from_utf8(bytes).unwrap();
        // Change the referral date inside event 2's stored payload.
        let tampered = text.replacen(
            r#"\"referred_on\":\"2026-03-02\""#,
            r#"\"referred_on\":\"2026-03-09\""#,
            1,
        );
        assert_ne!(tampered, text);
        let target = Fixture::new(f.backend);
        let copy = target.open();
        let err = copy.import_log(&mut tampered.as_bytes()).unwrap_err();
        assert!(matches!(err, StoreError::BadBackup(_)), "{err:?}");
        assert_eq!(
            err.to_string(),
            "the log export cannot be restored: line 3: event 2 has been altered (its hash does not match its contents)"
        );
        assert_empty(copy.as_ref());
        // The store is still usable, and takes the sound file.
        copy.import_log(&mut text.as_bytes()).unwrap();
        assert_same_record(store.as_ref(), copy.as_ref());
    });
}

#[test]
fn an_incomplete_or_foreign_file_is_refused_and_stores_nothing() {
    each_backend(|f| {
        let store = f.open();
        seed_everything(store.as_ref());
        let (_, bytes) = export(store.as_ref());
        let text = String::from_utf8(bytes).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let target = Fixture::new(f.backend);
        let copy = target.open();

        // Cut off after the events (the accounts and the audit lost), and cut off
        // mid-log: the closing line is missing.
        for keep in [7, 4] {
            let cut = lines[..keep].join("\n");
            let err = copy
                .import_log(&mut cut.as_bytes())
                .unwrap_err()
                .to_string();
            assert!(err.contains("incomplete"), "{err}");
            assert_empty(copy.as_ref());
        }
        // An event removed from the middle.
        let gap = [&lines[..2], &lines[3..]].concat().join("\n");
        let err = copy
            .import_log(&mut gap.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 3: event 2 is missing"), "{err}");
        assert_empty(copy.as_ref());
        // A file that is not an export at all.
        let err = copy
            .import_log(&mut &b"seq,id\n1,2\n"[..])
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a Throughcare log export"), "{err}");
        // A newer format version.
        let newer = text.replacen("\"version\":1", "\"version\":2", 1);
        let err = copy
            .import_log(&mut newer.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(err.contains("format version 2"), "{err}");
        assert_empty(copy.as_ref());
    });
}

#[test]
fn facts_about_the_service_are_read_apart_from_any_person() {
    each_backend(|f| {
        let store = f.open();
        seed(store.as_ref());
        let mut cover = event(
            90,
            person(1),
            EventKind::ClinicalCoverRecorded(throughcare_domain::governance::ClinicalCoverDay {
                on: "2026-03-02".parse().unwrap(),
                provided: true,
                note: None,
            }),
        );
        cover.person = None;
        store.append(&[cover], None, None).unwrap();
        let service = store.service_events().unwrap();
        assert_eq!(service.len(), 1);
        assert_eq!(service[0].person, None);
        assert_eq!(service[0].kind.type_name(), "clinical_cover_recorded");
        assert_eq!(
            store.person_events(person(1)).unwrap().len(),
            2,
            "not a person's"
        );
        assert_eq!(store.verify().unwrap().broken, None);
    });
}

/// A fact of `kind` for `who`, with its payload as JSON, on `at`.
fn fact(n: u64, who: PersonId, at: &str, type_name: &str, payload: &str) -> NewEvent {
    let mut e = event(
        n,
        who,
        EventKind::from_parts(type_name, payload).unwrap_or_else(|e| panic!("{type_name}: {e}")),
    );
    e.occurred_at = throughcare_domain::time::parse_instant(at).unwrap();
    e
}

/// Three people at MDI whose queues move: an open assessment clock, a need found at
/// screening, a care plan with reviews and a keyworker, a first-night need, an
/// exclusion that ends; and one released.
fn seed_queues(store: &dyn Store) {
    let (a, b, c) = (person(11), person(12), person(13));
    let batches = vec![
        vec![event(101, a, registration("Q1111AA"))],
        vec![fact(
            102,
            a,
            "2026-03-01T09:00:00Z",
            "received",
            r#"{"reception_type": "sentenced"}"#,
        )],
        vec![fact(
            103,
            a,
            "2026-03-02T10:00:00Z",
            "referral_made",
            r#"{"source": "healthcare", "referred_on": "2026-03-02"}"#,
        )],
        vec![fact(
            104,
            a,
            "2026-03-02T11:00:00Z",
            "screening_completed",
            r#"{"setting": "reception", "screened_on": "2026-03-02", "audit": {"items": [2, 2, 1, 0, 1, 0, 0, 0, 0, 2]}, "problem_substances": ["heroin", "alcohol"], "injecting": "previous", "offending_linked": true, "structured_treatment_needed": true}"#,
        )],
        vec![fact(
            105,
            a,
            "2026-03-09T10:00:00Z",
            "care_plan_agreed",
            r#"{"agreed_on": "2026-03-09", "goals": ["Stay off heroin"], "interventions": ["keyworking"], "contingency": {"safety": "a", "risk": "b", "overdose_prevention": "c", "harm_reduction": "d", "unplanned_exit_support": "e", "re_engagement": "f"}, "agreed_with_person": true, "review_on": "2026-05-25"}"#,
        )],
        vec![fact(
            106,
            a,
            "2026-03-09T10:05:00Z",
            "keyworker_allocated",
            r#"{"worker": "worker.two", "allocated_on": "2026-03-09"}"#,
        )],
        vec![event(107, b, registration("Q2222BB"))],
        vec![fact(
            108,
            b,
            "2026-03-05T20:30:00Z",
            "received",
            r#"{"reception_type": "remand"}"#,
        )],
        vec![fact(
            109,
            b,
            "2026-03-05T21:15:00Z",
            "clinical_event_recorded",
            r#"{"step": "first_night_need", "at": "2026-03-05T21:15:00Z"}"#,
        )],
        vec![fact(
            110,
            b,
            "2026-03-06T10:00:00Z",
            "referral_made",
            r#"{"source": "healthcare", "referred_on": "2026-03-06"}"#,
        )],
        vec![fact(
            111,
            b,
            "2026-03-10T10:00:00Z",
            "service_exclusion_recorded",
            r#"{"excluded_on": "2026-03-10", "grounds": "serious_risk", "evidence": "Assault on a worker", "commissioner_consent_ref": "KCC-EX-0001", "until": "2026-04-10"}"#,
        )],
        vec![event(112, c, registration("Q3333CC"))],
        vec![fact(
            113,
            c,
            "2026-02-01T09:00:00Z",
            "received",
            r#"{"reception_type": "sentenced"}"#,
        )],
        vec![fact(
            114,
            c,
            "2026-02-02T10:00:00Z",
            "referral_made",
            r#"{"source": "gp", "referred_on": "2026-02-02"}"#,
        )],
        vec![fact(
            115,
            c,
            "2026-03-20T10:00:00Z",
            "released",
            r#"{"kind": "released"}"#,
        )],
    ];
    for b in batches {
        store.append(&b, None, None).unwrap();
    }
}

/// The queue at `now` as the fold computes it, person by person, in the store's
/// order (people by id, each person's items in the fold's order).
fn folded_queue(
    store: &dyn Store,
    profile: &Profile,
    now: chrono::DateTime<Utc>,
) -> Vec<(PersonId, throughcare_domain::work_queues::WorkItem)> {
    let calendar = profile.calendar();
    let mut rows = store
        .caseload(&EstablishmentCode::parse("MDI").unwrap())
        .unwrap();
    rows.sort_by_key(|r| r.person.to_string());
    let mut out: Vec<_> = rows
        .iter()
        .flat_map(|r| {
            let case = throughcare_domain::case::Case::fold(
                r.person,
                store.person_events(r.person).unwrap(),
            );
            throughcare_domain::work_queues::work_items(&case, profile, &calendar, now)
                .into_iter()
                .map(move |i| (r.person, i))
        })
        .collect::<Vec<_>>();
    sort_items(&mut out);
    out
}

fn stored_queue(
    store: &dyn Store,
    now: chrono::DateTime<Utc>,
) -> Vec<(PersonId, throughcare_domain::work_queues::WorkItem)> {
    let page = store
        .queue(&QueueQuery {
            establishment: EstablishmentCode::parse("MDI").unwrap(),
            now,
            queue: None,
            keyworker: None,
            offset: 0,
            limit: 10_000,
        })
        .unwrap();
    assert_eq!(page.total, page.rows.len());
    assert_eq!(
        page.counts.iter().map(|c| c.items).sum::<usize>(),
        page.total
    );
    // The database's order is the domain's: overdue, offending-linked, due.
    let keys: Vec<_> = page
        .rows
        .iter()
        .map(|q| throughcare_domain::work_queues::item_key(&q.item, q.case.offending_linked))
        .collect();
    assert!(keys.windows(2).all(|w| w[0] <= w[1]), "{keys:?}");
    let mut rows: Vec<_> = page
        .rows
        .into_iter()
        .map(|q| (q.case.person, q.item))
        .collect();
    sort_items(&mut rows);
    rows
}

/// People by id, then each person's items by due, queue and detail.
fn sort_items(rows: &mut [(PersonId, throughcare_domain::work_queues::WorkItem)]) {
    rows.sort_by(|a, b| {
        (a.0.to_string(), a.1.due, a.1.queue.code(), &a.1.detail).cmp(&(
            b.0.to_string(),
            b.1.due,
            b.1.queue.code(),
            &b.1.detail,
        ))
    });
}

/// Every instant the queues are compared at: each day of spring 2026 at four times.
fn instants() -> Vec<chrono::DateTime<Utc>> {
    let start = Utc.with_ymd_and_hms(2026, 2, 20, 0, 0, 0).unwrap();
    (0..120)
        .flat_map(|d| {
            [1, 9, 21, 23].map(|h| start + chrono::Duration::days(d) + chrono::Duration::hours(h))
        })
        .collect()
}

#[test]
fn the_queue_projection_answers_what_the_fold_answers_at_every_instant() {
    each_backend(|f| {
        let store = f.open();
        seed_queues(store.as_ref());
        let mut seen = 0;
        for now in instants() {
            let stored = stored_queue(store.as_ref(), now);
            assert_eq!(
                stored,
                folded_queue(store.as_ref(), &f.profile, now),
                "at {now}"
            );
            seen += stored.len();
        }
        assert!(seen > 500, "the queues held {seen} items over the instants");
        // A keyworker is carried for "my caseload"; an item shows overdue when due.
        let late = Utc.with_ymd_and_hms(2026, 4, 1, 12, 0, 0).unwrap();
        let mdi = EstablishmentCode::parse("MDI").unwrap();
        let read = |queue, keyworker: Option<&str>, offset, limit| {
            store
                .queue(&QueueQuery {
                    establishment: mdi.clone(),
                    now: late,
                    queue,
                    keyworker: keyworker.map(str::to_string),
                    offset,
                    limit,
                })
                .unwrap()
        };
        let all = read(None, None, 0, 1000);
        assert!(
            all.rows
                .iter()
                .any(|r| r.keyworker.as_deref() == Some("worker.two"))
        );
        assert!(all.rows.iter().any(|r| r.item.overdue));
        // Pages of two are the same rows in the same order, and a total.
        let mut paged = Vec::new();
        for offset in (0..all.total).step_by(2) {
            let page = read(None, None, offset, 2);
            assert_eq!(page.total, all.total);
            assert!(page.rows.len() <= 2);
            paged.extend(page.rows);
        }
        assert_eq!(paged, all.rows);
        // One queue, and one keyworker's people.
        let first = all.counts[0];
        let one = read(Some(first.queue), None, 0, 1000);
        assert_eq!(one.total, first.items);
        assert!(one.rows.iter().all(|r| r.item.queue == first.queue));
        let mine = read(None, Some("worker.two"), 0, 1000);
        assert!(!mine.rows.is_empty() && mine.rows.len() < all.rows.len());
        assert!(
            mine.rows
                .iter()
                .all(|r| r.keyworker.as_deref() == Some("worker.two"))
        );
        assert_eq!(
            all.counts.iter().map(|c| c.overdue).sum::<usize>(),
            all.rows.iter().filter(|r| r.item.overdue).count()
        );
        // After a new event the projection follows.
        store
            .append(
                &[fact(116, person(11), "2026-03-03T10:00:00Z", "assessment_completed", r#"{"kind": "initial", "assessed_on": "2026-03-03", "summary": "First assessment", "structured_treatment_needed": true}"#)],
                None,
                None,
            )
            .unwrap();
        for now in instants().into_iter().step_by(7) {
            assert_eq!(
                stored_queue(store.as_ref(), now),
                folded_queue(store.as_ref(), &f.profile, now),
                "after an append, at {now}"
            );
        }
    });
}

/// The projection tables as text, row by row, for comparing.
fn projection_tables(f: &Fixture) -> Vec<String> {
    let sql = [
        "SELECT person_id, CAST(ord AS TEXT), COALESCE(valid_from, '-'), COALESCE(valid_until, '-'), queue, due, CAST(has_deadline AS TEXT), detail, COALESCE(keyworker, '-') FROM queue_items ORDER BY person_id, ord",
        "SELECT person_id, prison_number, establishment, custody, CAST(open_referrals AS TEXT), COALESCE(assessment_due, '-'), CAST(last_seq AS TEXT) FROM case_index ORDER BY person_id",
    ];
    let mut out = Vec::new();
    for q in sql {
        match f.backend {
            Backend::Sqlite => {
                let c = Connection::open(&f.url).unwrap();
                let mut stmt = c.prepare(q).unwrap();
                let n = stmt.column_count();
                let rows = stmt
                    .query_map([], |r| {
                        Ok((0..n)
                            .map(|i| r.get::<_, String>(i).unwrap())
                            .collect::<Vec<_>>()
                            .join("|"))
                    })
                    .unwrap();
                out.extend(rows.map(|r| r.unwrap()));
            }
            Backend::Postgres => {
                let mut c = postgres::Client::connect(&f.url, postgres::NoTls).unwrap();
                for r in c.query(q, &[]).unwrap() {
                    out.push(
                        (0..r.len())
                            .map(|i| r.get::<_, String>(i))
                            .collect::<Vec<_>>()
                            .join("|"),
                    );
                }
            }
        }
    }
    out
}

#[test]
fn rebuilding_the_projections_gives_identical_tables() {
    each_backend(|f| {
        let store = f.open();
        seed_queues(store.as_ref());
        seed(store.as_ref());
        let before = projection_tables(f);
        assert!(before.len() > 10, "{before:?}");
        assert_eq!(store.rebuild_projections().unwrap(), 5);
        assert_eq!(projection_tables(f), before);
    });
}

#[test]
fn a_database_made_before_the_queue_projection_is_projected_when_opened() {
    each_backend(|f| {
        {
            let store = f.open();
            seed_queues(store.as_ref());
        }
        let before = projection_tables(f);
        f.exec(match f.backend {
            Backend::Sqlite => "DROP TABLE queue_items; PRAGMA user_version = 2;",
            Backend::Postgres => {
                "DROP TABLE queue_items; DELETE FROM schema_migrations WHERE version = 3;"
            }
        });
        let store = f.open();
        assert_eq!(projection_tables(f), before);
        let now = Utc.with_ymd_and_hms(2026, 3, 4, 12, 0, 0).unwrap();
        assert_eq!(
            stored_queue(store.as_ref(), now),
            folded_queue(store.as_ref(), &f.profile, now)
        );
    });
}
