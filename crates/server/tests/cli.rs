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
