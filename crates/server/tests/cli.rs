//! The command line, run as a real process: demo data, verify (and a tampered copy),
//! user accounts and imports.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn throughcare(db: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_throughcare"))
        .arg("--database")
        .arg(db)
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("THROUGHCARE_PROFILE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn verify_passes_on_the_demo_database_and_names_the_event_altered_in_a_copy() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.sqlite");
    let db = db.to_str().unwrap();
    let out = throughcare(db, &["demo"], None);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("people"), "{}", text(&out));
    let out = throughcare(db, &["verify"], None);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("The log is intact"));

    // A demo database refuses a second demo.
    assert!(!throughcare(db, &["demo"], None).status.success());

    // Tamper with a copy, as someone with the file (and no respect for the triggers) might.
    let copy = dir.path().join("tampered.sqlite");
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.execute("VACUUM INTO ?1", [copy.to_str().unwrap()])
        .unwrap();
    drop(conn);
    let conn = rusqlite::Connection::open(&copy).unwrap();
    conn.execute_batch(
        "DROP TRIGGER events_no_update;
         UPDATE events SET payload = replace(payload, '\"given_name\":\"', '\"given_name\":\"X') WHERE seq = 1;",
    )
    .unwrap();
    drop(conn);
    let out = throughcare(copy.to_str().unwrap(), &["verify"], None);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("event 1 has been altered"),
        "{}",
        text(&out)
    );
}

#[test]
fn user_add_reads_the_password_from_standard_input_and_checks_its_fields() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("users.sqlite");
    let db = db.to_str().unwrap();
    let ok = throughcare(
        db,
        &[
            "user",
            "add",
            "sam.worker",
            "--role",
            "worker",
            "--establishments",
            "MDI,EYI",
            "--name",
            "Sam Worker",
        ],
        Some("a long enough password\n"),
    );
    assert!(ok.status.success(), "{}", text(&ok));
    let bad_role = throughcare(
        db,
        &[
            "user",
            "add",
            "x.y",
            "--role",
            "boss",
            "--establishments",
            "MDI",
            "--name",
            "X",
        ],
        Some("a long enough password\n"),
    );
    assert!(!bad_role.status.success());
    assert!(text(&bad_role).contains("role must be"));
    let bad_est = throughcare(
        db,
        &[
            "user",
            "add",
            "x.y",
            "--role",
            "worker",
            "--establishments",
            "XYZ",
            "--name",
            "X",
        ],
        Some("a long enough password\n"),
    );
    assert!(text(&bad_est).contains("XYZ is not an establishment"));
    let short = throughcare(
        db,
        &[
            "user",
            "add",
            "x.y",
            "--role",
            "worker",
            "--establishments",
            "MDI",
            "--name",
            "X",
        ],
        Some("short\n"),
    );
    assert!(text(&short).contains("at least 12 characters"));
    // The in-cell telephone system's service account is a role like any other…
    let service = throughcare(
        db,
        &[
            "user",
            "add",
            "telephone.mdi",
            "--role",
            "self_referral_service",
            "--establishments",
            "MDI",
            "--name",
            "In-cell telephone system",
        ],
        Some("a long enough password\n"),
    );
    assert!(service.status.success(), "{}", text(&service));
    // …but the kiosk's username is reserved for what people enter at the kiosk.
    let kiosk = throughcare(
        db,
        &[
            "user",
            "add",
            "Kiosk",
            "--role",
            "worker",
            "--establishments",
            "MDI",
            "--name",
            "K",
        ],
        Some("a long enough password\n"),
    );
    assert!(!kiosk.status.success());
    assert!(text(&kiosk).contains("reserved"), "{}", text(&kiosk));
}

#[test]
fn an_events_file_with_one_bad_line_imports_nothing_and_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("events.sqlite");
    let db = db.to_str().unwrap();
    let person = "5f0c6e1e-0000-4000-8000-000000000001";
    let register = format!(
        r#"{{"type":"person_registered","person":"{person}","establishment":"MDI","occurred_at":"2025-01-06T10:00:00Z","recorded_at":"2025-01-06T10:05:00Z","recorded_by":"legacy.system","payload":{{"prison_number":"D4567EF","given_name":"Jo","family_name":"Migrated","date_of_birth":"1979-08-14","home_postcode":null,"equality":{{"sex":"not_stated","gender_identity_same_as_birth":"not_stated","ethnicity":"not_stated","religion":"not_stated","sexual_orientation":"not_stated","disability":"not_stated","learning_disability":"not_stated","sight_impairment":"not_stated","hearing_impairment":"not_stated","pregnant":"not_stated","nationality":null,"first_language":null,"interpreter_needed":"not_stated"}},"priority":{{"prolific_offender":false,"dual_diagnosis":false}}}}}}"#
    );
    let referral = format!(
        r#"{{"type":"referral_made","person":"{person}","establishment":"MDI","occurred_at":"2025-01-07T10:00:00Z","recorded_at":"2025-01-07T10:00:00Z","recorded_by":"legacy.system","payload":{{"source":"gp","referred_on":"2025-01-07"}}}}"#
    );
    let bad = referral.replace("\"gp\"", "\"carrier_pigeon\"");
    let file = dir.path().join("history.jsonl");
    std::fs::write(&file, format!("{register}\n{bad}\n")).unwrap();
    let out = throughcare(db, &["import", "events", file.to_str().unwrap()], None);
    assert!(!out.status.success());
    assert!(text(&out).contains("line 2"), "{}", text(&out));
    let verify = throughcare(db, &["verify"], None);
    assert!(
        text(&verify).contains("0 events verified"),
        "{}",
        text(&verify)
    );

    std::fs::write(&file, format!("{register}\n{referral}\n")).unwrap();
    let out = throughcare(db, &["import", "events", file.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("2 events appended"), "{}", text(&out));
    let conn = rusqlite::Connection::open(db).unwrap();
    let recorded: String = conn
        .query_row("SELECT recorded_at FROM events WHERE seq = 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(
        recorded, "2025-01-06T10:05:00.000000Z",
        "the source system's record time is kept"
    );
}

/// The head hash a `verify` (or `restore`/`migrate`) run printed last.
fn head(o: &Output) -> String {
    let out = String::from_utf8_lossy(&o.stdout);
    let line = out
        .lines()
        .rev()
        .find(|l| l.contains("is intact"))
        .unwrap_or_else(|| panic!("no verify line in: {}", text(o)));
    line.rsplit_once("head ")
        .map(|(_, h)| h.trim_end_matches('.').to_string())
        .unwrap()
}

/// Runs SQL on the test PostgreSQL server's admin database, on a thread of its own
/// (the synchronous client must not run inside an async runtime).
fn postgres_admin(admin: &str, sql: String) {
    let admin = admin.to_string();
    std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&admin, postgres::NoTls).unwrap();
        c.batch_execute(&sql).unwrap();
    })
    .join()
    .unwrap();
}

#[test]
fn backup_and_restore_reproduce_the_chain_head_and_refuse_a_used_target() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let db = path("live.sqlite");
    let out = throughcare(&db, &["demo"], None);
    assert!(out.status.success(), "{}", text(&out));
    let source_head = head(&throughcare(&db, &["verify"], None));

    // JSON Lines.
    let out = throughcare(&db, &["backup", &path("x.jsonl")], None);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("Backed up"), "{}", text(&out));
    assert_eq!(head(&out), source_head);
    let first = std::fs::read_to_string(path("x.jsonl")).unwrap();
    assert!(first.starts_with("{\"format\":\"throughcare-log\",\"version\":1,"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path("x.jsonl"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "the backup is readable by its owner only");
    }
    // A backup never overwrites.
    let again = throughcare(&db, &["backup", &path("x.jsonl")], None);
    assert!(!again.status.success());
    assert!(text(&again).contains("already exists"), "{}", text(&again));

    let restored = path("restored.sqlite");
    let out = throughcare(&restored, &["restore", &path("x.jsonl")], None);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("Restored"), "{}", text(&out));
    assert_eq!(head(&out), source_head);
    assert_eq!(
        head(&throughcare(&restored, &["verify"], None)),
        source_head
    );
    // The restored database serves the same sign-ins: its accounts came along.
    let conn = rusqlite::Connection::open(&restored).unwrap();
    let accounts: i64 = conn
        .query_row("SELECT COUNT(*) FROM staff_accounts", [], |r| r.get(0))
        .unwrap();
    assert!(accounts > 0);
    drop(conn);

    // Restoring into a database that holds data is refused, and changes nothing.
    let out = throughcare(&restored, &["restore", &path("x.jsonl")], None);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("not empty"), "{}", text(&out));
    assert_eq!(
        head(&throughcare(&restored, &["verify"], None)),
        source_head
    );

    // A SQLite copy, and a restore from it.
    let out = throughcare(&db, &["backup", &path("y.sqlite")], None);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(head(&out), source_head);
    let from_copy = path("from-copy.sqlite");
    let out = throughcare(&from_copy, &["restore", &path("y.sqlite")], None);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        head(&throughcare(&from_copy, &["verify"], None)),
        source_head
    );
    for side in [
        "y.sqlite-wal",
        "y.sqlite-shm",
        "y.sqlite.partial",
        "x.jsonl.partial",
    ] {
        assert!(
            !dir.path().join(side).exists(),
            "the backup is one file: {side} was left"
        );
    }

    // A tampered export is refused, naming the line and the event; nothing is stored.
    let tampered = first.replacen("\\\"given_name\\\":\\\"", "\\\"given_name\\\":\\\"X", 1);
    assert_ne!(tampered, first);
    std::fs::write(path("tampered.jsonl"), tampered).unwrap();
    let empty = path("empty.sqlite");
    let out = throughcare(&empty, &["restore", &path("tampered.jsonl")], None);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("line 2: event 1 has been altered"),
        "{}",
        text(&out)
    );
    assert!(text(&throughcare(&empty, &["verify"], None)).contains("0 events verified"));
}

#[test]
fn migrate_moves_a_sqlite_record_to_postgres_and_back_with_the_same_chain_head() {
    let Ok(admin) = std::env::var("THROUGHCARE_TEST_POSTGRES_URL") else {
        eprintln!("note: PostgreSQL not available; the migrate test runs SQLite to SQLite only");
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.sqlite"), dir.path().join("b.sqlite"));
        let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
        assert!(throughcare(a, &["demo"], None).status.success());
        let out = throughcare(a, &["migrate", "--from", a, "--to", b], None);
        assert!(out.status.success(), "{}", text(&out));
        assert_eq!(
            head(&throughcare(b, &["verify"], None)),
            head(&throughcare(a, &["verify"], None))
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("live.sqlite");
    let db = db.to_str().unwrap();
    assert!(throughcare(db, &["demo"], None).status.success());
    let source_head = head(&throughcare(db, &["verify"], None));

    let name = format!("tc_{}", uuid::Uuid::new_v4().simple());
    postgres_admin(&admin, format!("CREATE DATABASE {name}"));
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
    let pg = format!("{base}/{name}");
    let result = std::panic::catch_unwind(|| {
        let out = throughcare(db, &["migrate", "--from", db, "--to", &pg], None);
        assert!(out.status.success(), "{}", text(&out));
        assert!(text(&out).contains("Moved"), "{}", text(&out));
        assert_eq!(head(&out), source_head);
        assert_eq!(head(&throughcare(&pg, &["verify"], None)), source_head);
        // A second migration into the same (now used) database is refused.
        let out = throughcare(db, &["migrate", "--from", db, "--to", &pg], None);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        assert!(text(&out).contains("not empty"), "{}", text(&out));
        // And back: PostgreSQL to a new SQLite file, and a JSON Lines backup of it.
        let back = dir.path().join("back.sqlite");
        let back = back.to_str().unwrap();
        let out = throughcare(&pg, &["migrate", "--from", &pg, "--to", back], None);
        assert!(out.status.success(), "{}", text(&out));
        assert_eq!(head(&throughcare(back, &["verify"], None)), source_head);
        let file = dir.path().join("pg.jsonl");
        let out = throughcare(&pg, &["backup", file.to_str().unwrap()], None);
        assert!(out.status.success(), "{}", text(&out));
        assert_eq!(head(&out), source_head);
    });
    postgres_admin(
        &admin,
        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    );
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

/// One JSON Lines import record.
fn event_line(
    kind: &str,
    person: &str,
    establishment: &str,
    occurred_at: &str,
    payload: &str,
) -> String {
    format!(
        r#"{{"type":"{kind}","person":"{person}","establishment":"{establishment}","occurred_at":"{occurred_at}","recorded_at":"{occurred_at}","recorded_by":"legacy.system","payload":{payload}}}"#
    )
}

/// A database holding three synthetic people released on 3 February 2025: A1234BC
/// from HMP Maidstone, C3456DE from HMP Elmley and B2345CD from IRC Dover (where
/// reoffending is not an outcome). Built with `import events`.
fn released_people(dir: &std::path::Path) -> String {
    let db = dir.join("outcomes.sqlite");
    let db = db.to_str().unwrap().to_string();
    let mut lines = Vec::new();
    for (n, prison_number, establishment, reception) in [
        (1, "A1234BC", "MDI", "sentenced"),
        (2, "C3456DE", "EYI", "sentenced"),
        (3, "B2345CD", "DVI", "immigration_detainee"),
    ] {
        let person = format!("5f0c6e1e-0000-4000-8000-00000000000{n}");
        lines.push(event_line(
            "person_registered",
            &person,
            establishment,
            "2025-01-06T10:00:00Z",
            &format!(
                r#"{{"prison_number":"{prison_number}","given_name":"Jo","family_name":"Outcome","date_of_birth":"1985-02-11","home_postcode":null,"equality":{{"sex":"not_stated","gender_identity_same_as_birth":"not_stated","ethnicity":"not_stated","religion":"not_stated","sexual_orientation":"not_stated","disability":"not_stated","learning_disability":"not_stated","sight_impairment":"not_stated","hearing_impairment":"not_stated","pregnant":"not_stated","nationality":null,"first_language":null,"interpreter_needed":"not_stated"}},"priority":{{"prolific_offender":false,"dual_diagnosis":false}}}}"#
            ),
        ));
        lines.push(event_line(
            "received",
            &person,
            establishment,
            "2025-01-06T11:00:00Z",
            &format!(r#"{{"reception_type":"{reception}"}}"#),
        ));
        lines.push(event_line(
            "released",
            &person,
            establishment,
            "2025-02-03T10:00:00Z",
            r#"{"kind":"released"}"#,
        ));
    }
    let file = dir.join("people.jsonl");
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let out = throughcare(&db, &["import", "events", file.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", text(&out));
    db
}

/// Writes an outcomes file with these rows.
fn outcomes_file(dir: &std::path::Path, name: &str, rows: &[&str]) -> String {
    let file = dir.join(name);
    let mut body = String::from("source_ref,prison_number,kind,date,cause\n");
    for row in rows {
        body.push_str(row);
        body.push('\n');
    }
    std::fs::write(&file, body).unwrap();
    file.to_str().unwrap().to_string()
}

/// How many events of this type the database holds.
fn events_of(db: &str, kind: &str) -> i64 {
    rusqlite::Connection::open(db)
        .unwrap()
        .query_row(
            "SELECT count(*) FROM events WHERE event_type = ?1",
            [kind],
            |r| r.get(0),
        )
        .unwrap()
}

const GOOD_OUTCOMES: [&str; 2] = [
    "PNC-1,A1234BC,reoffence,2025-03-10,",
    "CO-2,C3456DE,death,2025-04-01,not_known",
];

#[test]
fn a_good_outcomes_file_applies_and_importing_it_again_records_nothing_new() {
    let dir = tempfile::tempdir().unwrap();
    let db = released_people(dir.path());
    let file = outcomes_file(dir.path(), "outcomes.csv", &GOOD_OUTCOMES);
    let out = throughcare(&db, &["import", "outcomes", &file], None);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("2 rows read, 2 applied, 0 already applied, 0 skipped."),
        "{}",
        text(&out)
    );
    let conn = rusqlite::Connection::open(&db).unwrap();
    let (by, establishment, payload): (String, String, String) = conn
        .query_row(
            "SELECT recorded_by, establishment, payload FROM events WHERE event_type = 'reoffence_recorded'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(
        (by.as_str(), establishment.as_str()),
        ("feed.outcomes", "MDI")
    );
    assert!(payload.contains(r#""source":"import: PNC-1""#), "{payload}");
    assert_eq!(events_of(&db, "death_recorded"), 1);
    let total: i64 = conn
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap();

    let again = throughcare(&db, &["import", "outcomes", &file], None);
    assert!(again.status.success(), "{}", text(&again));
    assert!(
        text(&again).contains("2 rows read, 0 applied, 2 already applied, 0 skipped."),
        "{}",
        text(&again)
    );
    let after: i64 = conn
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(after, total, "a second import records nothing");
}

#[test]
fn an_outcomes_file_with_one_bad_row_applies_nothing_and_names_the_row_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let db = released_people(dir.path());
    let file = outcomes_file(
        dir.path(),
        "bad.csv",
        &[GOOD_OUTCOMES[0], "X-2,C3456DE,arrest,2025-04-01,"],
    );
    let out = throughcare(&db, &["import", "outcomes", &file], None);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        text(&out)
            .contains(r#"line 3: kind: the kind must be one of reoffence, death (got "arrest")"#),
        "{}",
        text(&out)
    );
    assert!(
        text(&out).contains("nothing was imported"),
        "{}",
        text(&out)
    );
    assert_eq!(events_of(&db, "reoffence_recorded"), 0);
}

#[test]
fn skipping_bad_outcome_rows_applies_the_rest_and_reports_each_skipped_row() {
    let dir = tempfile::tempdir().unwrap();
    let db = released_people(dir.path());
    let file = outcomes_file(
        dir.path(),
        "mixed.csv",
        &[
            GOOD_OUTCOMES[0],
            "IRC-3,B2345CD,reoffence,2025-03-10,",
            GOOD_OUTCOMES[1],
        ],
    );
    // Without --skip-bad-rows the domain's refusal stops the whole file.
    let out = throughcare(&db, &["import", "outcomes", &file], None);
    assert!(!out.status.success(), "{}", text(&out));
    assert_eq!(events_of(&db, "reoffence_recorded"), 0);

    let out = throughcare(&db, &["import", "outcomes", &file, "--skip-bad-rows"], None);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("3 rows read, 2 applied, 0 already applied, 1 skipped."),
        "{}",
        text(&out)
    );
    assert!(
        text(&out).contains(
            "skipped line 3: row: Reoffending is not an outcome for people released from IRC Dover (KM 2.1 note 1)"
        ),
        "{}",
        text(&out)
    );
    assert_eq!(events_of(&db, "reoffence_recorded"), 1);
    assert_eq!(events_of(&db, "death_recorded"), 1);
}
