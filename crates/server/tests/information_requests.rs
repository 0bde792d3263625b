//! Information-sharing requests over HTTP (KM 5.14; docs/information-requests.md):
//! the commissioner asks, a manager of the establishment sees the counts and
//! approves, the commissioner downloads the approved rows and the access audit
//! holds one entry per person in them; nothing leaves before approval, after a
//! refusal, to another commissioner or to a worker; the commissioner still opens no
//! person page.

use chrono::{Datelike, Days, Utc};
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use serde_json::json;
use throughcare_domain::record_ids::PersonId;
use throughcare_store::Role;

mod common;
use common::{TestApp, hidden_csrf, spawn_app};

fn today() -> chrono::NaiveDate {
    throughcare_domain::time::local_date(Utc::now())
}

async fn register(app: &TestApp, token: &str, number: &str, given: &str) -> String {
    app.register(
        token,
        common::person_json(number, given, "Testshare", "1984-02-29"),
    )
    .await
}

/// Registers a person at `est` (`mdi`, `eyi`) and has the clinician there start
/// prescribing for them now: in structured treatment.
async fn in_treatment(app: &TestApp, est: &str, number: &str, given: &str) -> String {
    let p = register(
        app,
        &app.api_token(&format!("worker.{est}")).await,
        number,
        given,
    )
    .await;
    let now = throughcare_domain::time::canonical_instant(Utc::now());
    app.record(
        &app.api_token(&format!("clinician.{est}")).await,
        &p,
        json!({"type": "clinical_event_recorded", "payload": {
            "step": "prescribing_started", "medication": "methadone", "at": now}}),
    )
    .await;
    p
}

/// The fields of a request form for people in structured treatment at `est` over
/// the last week, asking for `fields`.
fn request_form(
    csrf: &str,
    reference: &str,
    establishments: &[&str],
    fields: &[&str],
) -> Vec<(String, String)> {
    let to = today();
    let from = to.checked_sub_days(Days::new(7)).unwrap();
    let ends = to.checked_add_days(Days::new(30)).unwrap();
    let mut f = vec![
        ("csrf_token".to_string(), csrf.to_string()),
        ("request_ref".into(), reference.into()),
        (
            "purpose".into(),
            "Continuity of opiate substitution treatment".into(),
        ),
        (
            "lawful_basis".into(),
            "Kent and Medway ISA clause 7.2".into(),
        ),
        ("cohort".into(), "in_structured_treatment".into()),
    ];
    for e in establishments {
        f.push(("establishments".into(), e.to_string()));
    }
    for x in fields {
        f.push(("fields".into(), x.to_string()));
    }
    for (name, d) in [
        ("period_from", from),
        ("period_to", to),
        ("expires_on", ends),
    ] {
        f.push((format!("{name}-day"), d.day().to_string()));
        f.push((format!("{name}-month"), d.month().to_string()));
        f.push((format!("{name}-year"), d.year().to_string()));
    }
    f
}

async fn post(
    app: &TestApp,
    cookie: &str,
    path: &str,
    fields: &[(String, String)],
) -> reqwest::Response {
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    app.post_form(cookie, path, &pairs).await
}

/// Posts a decision on request `reference` as the signed-in `cookie`.
async fn decide(
    app: &TestApp,
    cookie: &str,
    reference: &str,
    csrf_token: &str,
    decision: &str,
    reason: Option<&str>,
) -> reqwest::Response {
    let mut fields = vec![("csrf_token", csrf_token), ("decision", decision)];
    fields.extend(reason.map(|r| ("reason", r)));
    app.post_form(
        cookie,
        &format!("/information-requests/{reference}/decision"),
        &fields,
    )
    .await
}

async fn csrf(app: &TestApp, cookie: &str, path: &str) -> String {
    let (s, html) = app.page(cookie, path).await;
    assert_eq!(s, StatusCode::OK, "{path}: {html}");
    hidden_csrf(&html)
}

#[tokio::test]
async fn a_request_is_made_approved_downloaded_and_audited_person_by_person() {
    let app = spawn_app().await;
    app.add_account("commissioner.km", Role::Commissioner, &["MDI", "EYI"]);
    app.add_account("commissioner.other", Role::Commissioner, &["MDI"]);
    let mdi = app.api_token("worker.mdi").await;
    let _eyi = app.api_token("worker.eyi").await;
    // In scope: Ash at MDI. Out: Blake at MDI refused information sharing; Eden is
    // at EYI, which the request does not name.
    let ash = in_treatment(&app, "mdi", "A1001AA", "Ash").await;
    let blake = in_treatment(&app, "mdi", "A1002AA", "Blake").await;
    app.record(&mdi,
        &blake,
        json!({"type": "consent_recorded", "payload": {
            "purpose": "information_sharing", "decision": "refused", "decided_on": today().to_string()}}),
    )
    .await;
    let eden = in_treatment(&app, "eyi", "B2001BB", "Eden").await;

    // The commissioner asks; a missing purpose is named and nothing is recorded.
    let commissioner = app.sign_in_form("commissioner.km").await;
    let (_, html) = app.page(&commissioner, "/returns").await;
    assert!(
        html.contains("href=\"/information-requests\""),
        "the commissioner's navigation has Information requests"
    );
    let token = csrf(&app, &commissioner, "/information-requests/new").await;
    let fields = ["pseudonymous_id", "prison_number", "treatment_start"];
    let mut bad = request_form(&token, "ISR-T-001", &["MDI"], &fields);
    bad.retain(|(k, _)| k != "purpose");
    let r = post(&app, &commissioner, "/information-requests", &bad).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text().await.unwrap();
    assert!(body.contains("href=\"#purpose\""), "{body}");
    // A period ending in the future is named by its field, from the domain.
    let mut future = request_form(&token, "ISR-T-001", &["MDI"], &fields);
    let next = today().checked_add_days(Days::new(1)).unwrap();
    for (k, v) in future.iter_mut() {
        match k.as_str() {
            "period_to-day" => *v = next.day().to_string(),
            "period_to-month" => *v = next.month().to_string(),
            "period_to-year" => *v = next.year().to_string(),
            _ => {}
        }
    }
    let r = post(&app, &commissioner, "/information-requests", &future).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("#period_to"));

    let r = post(
        &app,
        &commissioner,
        "/information-requests",
        &request_form(&token, "ISR-T-001", &["MDI"], &fields),
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[LOCATION], "/information-requests/ISR-T-001");

    // Before approval nothing leaves, and the refusal is audited.
    let (s, body) = app
        .bytes(&commissioner, "/information-requests/ISR-T-001/data.csv")
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(!String::from_utf8_lossy(&body).contains("A1001AA"));

    // The manager sees it, with the count and fields but no names, and approves.
    let manager = app.sign_in_form("manager.mdi").await;
    let (s, html) = app.page(&manager, "/information-requests").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("ISR-T-001"), "{html}");
    let (s, html) = app.page(&manager, "/information-requests/ISR-T-001").await;
    assert_eq!(s, StatusCode::OK);
    // Ash only: Blake refused sharing, Eden is at EYI.
    assert!(html.contains("<strong>1</strong> person"), "{html}");
    assert!(html.contains("pseudonymous_id, prison_number, treatment_start"));
    assert!(!html.contains("A1001AA") && !html.contains("Ash"));
    let token = hidden_csrf(&html);
    // Refusing needs a reason, named.
    let r = decide(&app, &manager, "ISR-T-001", &token, "refused", None).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("#reason"));
    let r = decide(&app, &manager, "ISR-T-001", &token, "approved", None).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Once only.
    let r = decide(
        &app,
        &manager,
        "ISR-T-001",
        &token,
        "refused",
        Some("Changed my mind"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("decided once"));

    // Someone registered in treatment after the approval is not in the file.
    let later = in_treatment(&app, "mdi", "A1003AA", "Cass").await;

    // The commissioner downloads the approved rows.
    let (s, html) = app.page(&commissioner, "/information-requests").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("/information-requests/ISR-T-001/data.csv"),
        "{html}"
    );
    let (s, body) = app
        .bytes(&commissioner, "/information-requests/ISR-T-001/data.csv")
        .await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let csv = String::from_utf8(body).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "pseudonymous_id,prison_number,treatment_start");
    assert_eq!(lines.len(), 2, "{csv}");
    let cells: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(cells[0].len(), 20, "a 20-digit pseudonym");
    assert_eq!(&cells[1..], ["A1001AA", &today().to_string()]);
    assert!(!csv.contains("Ash") && !csv.contains("A1002AA") && !csv.contains("B2001BB"));

    // One access-audit entry per person in the file, none for anyone else.
    let audited = |p: &str| {
        app.store
            .access_log(PersonId::parse(p).unwrap())
            .unwrap()
            .into_iter()
            .filter(|e| e.action == "information_request_download")
            .collect::<Vec<_>>()
    };
    let ash_entries = audited(&ash);
    assert_eq!(ash_entries.len(), 1);
    assert_eq!(ash_entries[0].username, "commissioner.km");
    assert_eq!(ash_entries[0].detail, "ISR-T-001");
    for p in [&blake, &eden, &later] {
        assert!(audited(p).is_empty());
    }
    // A second download writes a second entry.
    let (s, _) = app
        .bytes(&commissioner, "/information-requests/ISR-T-001/data.csv")
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(audited(&ash).len(), 2);

    // Another commissioner cannot see or download it.
    let other = app.sign_in_form("commissioner.other").await;
    let (s, _) = app.page(&other, "/information-requests/ISR-T-001").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, body) = app
        .bytes(&other, "/information-requests/ISR-T-001/data.csv")
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(!String::from_utf8_lossy(&body).contains("A1001AA"));
    assert_eq!(audited(&ash).len(), 2);

    // The commissioner still opens no person page.
    let (s, body) = app.page(&commissioner, &format!("/people/{ash}")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(!body.contains("A1001AA"));
}

#[tokio::test]
async fn a_refused_request_cannot_be_downloaded_and_only_the_right_manager_decides() {
    let app = spawn_app().await;
    app.add_account("commissioner.km", Role::Commissioner, &["MDI", "EYI"]);
    let _mdi = app.api_token("worker.mdi").await;
    in_treatment(&app, "mdi", "A1001AA", "Ash").await;
    let commissioner = app.sign_in_form("commissioner.km").await;
    let token = csrf(&app, &commissioner, "/information-requests/new").await;
    for (reference, scope) in [
        ("ISR-T-010", &["MDI"][..]),
        ("ISR-T-011", &["MDI", "EYI"][..]),
    ] {
        let r = post(
            &app,
            &commissioner,
            "/information-requests",
            &request_form(&token, reference, scope, &["name", "date_of_birth"]),
        )
        .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{reference}");
    }
    let manager = app.sign_in_form("manager.mdi").await;
    // A manager of MDI alone is not offered the decision over MDI and EYI, and the
    // domain refuses it if posted.
    let (_, html) = app.page(&manager, "/information-requests/ISR-T-011").await;
    assert!(html.contains("you do not manage EYI"), "{html}");
    let token = hidden_csrf(&html);
    let r = decide(&app, &manager, "ISR-T-011", &token, "approved", None).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // A manager cannot make a request.
    let (s, _) = app.page(&manager, "/information-requests/new").await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    let r = decide(
        &app,
        &manager,
        "ISR-T-010",
        &token,
        "refused",
        Some("Names and dates of birth are not needed for this purpose"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = app
        .page(&commissioner, "/information-requests/ISR-T-010")
        .await;
    assert!(html.contains("Refused by manager.mdi"), "{html}");
    assert!(!html.contains("data.csv"));
    let (s, body) = app
        .bytes(&commissioner, "/information-requests/ISR-T-010/data.csv")
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let body = String::from_utf8_lossy(&body);
    assert!(!body.contains("Ash") && !body.contains("1984-02-29"));
    // A commissioner cannot decide anything, even with their own session's token.
    let own = csrf(&app, &commissioner, "/information-requests").await;
    let r = decide(&app, &commissioner, "ISR-T-011", &own, "approved", None).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_worker_cannot_see_the_information_request_pages() {
    let app = spawn_app().await;
    let worker = app.sign_in_form("worker.mdi").await;
    for path in [
        "/information-requests",
        "/information-requests/new",
        "/information-requests/ISR-2026-001",
        "/information-requests/ISR-2026-001/data.csv",
    ] {
        let (s, _) = app.page(&worker, path).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{path}");
    }
    let (_, html) = app.page(&worker, "/").await;
    assert!(!html.contains("href=\"/information-requests\""));
    let token = hidden_csrf(&html);
    let r = post(
        &app,
        &worker,
        "/information-requests",
        &request_form(&token, "ISR-W-001", &["MDI"], &["name"]),
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}
