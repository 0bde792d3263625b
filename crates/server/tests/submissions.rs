//! Data quality and submissions over HTTP: the data-quality page lists a treatment
//! start recorded late (KM 4.29) for a person built through the API; a manager signs
//! off a return and, after more events and a correction, gets byte-identical bytes
//! with the recorded hash; a file that no longer matches its hash is refused loudly;
//! a worker is refused sign-off.

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use reqwest::header::COOKIE;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use throughcare_domain::events::{EventKind, NewEvent};
use throughcare_domain::identifiers::{EstablishmentCode, StaffUsername};
use throughcare_domain::record_ids::EventId;
use throughcare_domain::returns::ReturnKind;
use throughcare_domain::time::local_date;

mod common;
use common::{TestApp, hidden_csrf, person_json, spawn_app};

async fn register(app: &TestApp, token: &str, prison_number: &str) -> String {
    let (s, body) = app
        .post_json(
            token,
            "/api/v1/people",
            person_json(prison_number, "Sam", "Testperson", "1990-05-01"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    body["id"].as_str().unwrap().to_string()
}

fn triage(on: &str) -> Value {
    json!({"type": "assessment_completed", "payload": {"kind": "initial", "assessed_on": on,
        "summary": "Triage: structured treatment needed", "structured_treatment_needed": true}})
}

fn start(on: &str) -> Value {
    json!({"type": "intervention_updated", "payload": {"intervention": "keyworking",
        "target": "opiates", "status": "started", "on": on}})
}

/// The table of one kind on the data-quality page.
fn section<'a>(html: &'a str, kind: &str) -> &'a str {
    let Some(at) = html.find(&format!("data-kind=\"{kind}\"")) else {
        return "";
    };
    let rest = &html[at..];
    &rest[..rest.find("</table>").unwrap_or(rest.len())]
}

#[tokio::test]
async fn the_data_quality_page_lists_a_treatment_start_recorded_late() {
    let app = spawn_app().await;
    let token = app.api_token("worker.mdi").await;
    let today = local_date(Utc::now());
    let three_days_ago = (today - Duration::days(3)).to_string();
    let late = register(&app, &token, "A1111AA").await;
    let on_time = register(&app, &token, "A2222AA").await;
    for p in [&late, &on_time] {
        app.record(
            &token,
            p,
            json!({"type": "received", "payload": {"reception_type": "sentenced"}}),
        )
        .await;
    }
    // Triaged three days ago, the start recorded only now: late (KM 4.29).
    app.record(&token, &late, triage(&three_days_ago)).await;
    let late_start = app.record(&token, &late, start(&three_days_ago)).await;
    let late_start = late_start["events"][0]["id"].as_str().unwrap().to_string();
    // Triaged and started today: on time.
    app.record(&token, &on_time, triage(&today.to_string()))
        .await;
    app.record(&token, &on_time, start(&today.to_string()))
        .await;

    let worker = app.sign_in_form("worker.mdi").await;
    let (s, html) = app.page(&worker, "/data-quality").await;
    assert_eq!(s, StatusCode::OK);
    let late_rows = section(&html, "late_treatment_start");
    assert!(late_rows.contains("A1111AA"), "{html}");
    assert!(!late_rows.contains("A2222AA"), "{late_rows}");
    assert!(
        late_rows.contains(&format!("/people/{late}#event-{late_start}")),
        "links to the entry: {late_rows}"
    );
    // Both lack sex and ethnicity, which the extract needs.
    let missing = section(&html, "missing_extract_field");
    assert!(missing.contains("A1111AA") && missing.contains("A2222AA"));

    let (s, body) = app.get_json(&token, "/api/v1/data-quality").await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["counts"]["late_treatment_start"], 1, "{body}");
    assert_eq!(
        body["issues"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["kind"] == "late_treatment_start" && i["person"] == late.as_str())
            .count(),
        1
    );

    // Another establishment's worker sees none of it.
    let eyi = app.api_token("worker.eyi").await;
    let (_, body) = app.get_json(&eyi, "/api/v1/data-quality").await;
    assert_eq!(body["issues"], json!([]), "{body}");
}

fn hash(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

async fn file(app: &TestApp, cookie: &str, id: &str) -> (StatusCode, Vec<u8>) {
    let r = app
        .client
        .get(format!("{}/submissions/{id}/file", app.base))
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap();
    (r.status(), r.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn a_signed_off_return_is_produced_again_byte_for_byte_after_later_events() {
    let app = spawn_app().await;
    let token = app.api_token("manager.mdi").await;
    let p = register(&app, &token, "A3333AA").await;
    let referral = app.record(&token, &p, json!({"type": "referral_made", "payload": {"source": "gp", "referred_on": local_date(Utc::now()).to_string()}})).await;
    let referral = referral["events"][0]["id"].as_str().unwrap().to_string();

    let manager = app.sign_in_form("manager.mdi").await;
    let (s, form) = app.page(&manager, "/submissions/new").await;
    assert_eq!(s, StatusCode::OK, "{form}");
    let csrf = hidden_csrf(&form);
    let today = local_date(Utc::now());
    let period = ReturnKind::KmQuarterly.last_complete(today, 4).name;
    let as_at = Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let (d, m, y) = (
        today.format("%-d").to_string(),
        today.format("%-m").to_string(),
        today.format("%Y").to_string(),
    );
    let mut fields = vec![
        ("csrf_token", csrf.as_str()),
        ("return", "km-quarterly"),
        ("period", period.as_str()),
        ("as_at", as_at.as_str()),
        ("scope", ""),
        ("format", "csv"),
        ("submitted_on-day", d.as_str()),
        ("submitted_on-month", m.as_str()),
        ("submitted_on-year", y.as_str()),
    ];
    // A bad period is named and records nothing.
    let before = app.store.log_length().unwrap();
    fields[2].1 = "2026Q9";
    let r = app.post_form(&manager, "/submissions", &fields).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("is not a period"));
    assert_eq!(app.store.log_length().unwrap(), before);

    fields[2].1 = period.as_str();
    let r = app.post_form(&manager, "/submissions", &fields).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    let id = to
        .strip_prefix("/submissions?signed=")
        .expect("to the sign-off")
        .to_string();
    let (s, page) = app.page(&manager, &to).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains(&format!("/submissions/{id}/file")), "{page}");
    assert!(page.contains("href=\"/ndtms/completeness\""), "{page}");
    // The return's row in "Returns due" is now submitted today.
    let due = &page[page.find("id=\"due\"").unwrap()..];
    let due = &due[..due.find("</table>").unwrap()];
    assert!(
        due.contains(&format!("Submitted {}", today.format("%-d %B %Y"))),
        "{due}"
    );
    // And the obligation it meets is done on the governance dashboard's API.
    let (s, gov) = app.get_json(&token, "/api/v1/service/governance").await;
    assert_eq!(s, StatusCode::OK, "{gov}");
    let quarter_start = throughcare_domain::returns::period::Period::parse(&period)
        .unwrap()
        .first
        .to_string();
    let obligation = gov["obligations"]
        .as_array()
        .expect("obligations listed")
        .iter()
        .find(|o| o["obligation"] == "km-quarterly-return" && o["period"] == quarter_start.as_str())
        .unwrap_or_else(|| panic!("no obligation for {quarter_start}: {gov}"));
    assert_eq!(obligation["status"], "done", "{obligation}");

    let recorded: Vec<_> = app.store.service_events().unwrap();
    let Some(EventKind::ReturnSubmitted(signed)) = recorded
        .iter()
        .find(|e| e.id.to_string() == id)
        .map(|e| e.kind.clone())
    else {
        panic!("no return_submitted event {id}");
    };
    assert_eq!(signed.period, period);
    let (s, first) = file(&app, &manager, &id).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(hash(&first), signed.sha256);
    assert!(String::from_utf8_lossy(&first).contains("Return,km-quarterly"));

    // More events, and a correction of one the file counted.
    app.record(
        &token,
        &p,
        json!({"type": "received", "payload": {"reception_type": "sentenced"}}),
    )
    .await;
    let (s, body) = app
        .post_json(
            &token,
            &format!("/api/v1/people/{p}/events/{referral}/correction"),
            json!({"type": "referral_made", "payload": {"source": "healthcare", "referred_on": today.to_string()}, "reason": "Wrong source"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let other = register(&app, &token, "A4444AA").await;
    app.record(
        &token,
        &other,
        json!({"type": "received", "payload": {"reception_type": "sentenced"}}),
    )
    .await;

    let (s, again) = file(&app, &manager, &id).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(again, first, "byte-identical");
    // …whereas the same return made now is not (it counts the later events).
    let now_file = throughcare::submission_pages::produce(
        app.store.as_ref(),
        &throughcare_domain::profile::Profile::builtin("kent-medway").unwrap(),
        &throughcare_domain::submissions::ReturnSubmitted {
            as_at: Utc::now(),
            ..signed.clone()
        },
    )
    .unwrap();
    assert_ne!(now_file, first);

    // A sign-off whose hash does not match what the log produces is refused loudly.
    let mut wrong = signed.clone();
    wrong.sha256 = "0".repeat(64);
    let bad = EventId(uuid::Uuid::new_v4());
    app.store
        .append(
            &[NewEvent {
                id: bad,
                person: None,
                establishment: EstablishmentCode::parse("MDI").unwrap(),
                occurred_at: Utc::now(),
                recorded_at: None,
                recorded_by: StaffUsername::parse("manager.mdi").unwrap(),
                supersedes: None,
                reason: None,
                kind: EventKind::ReturnSubmitted(wrong),
            }],
            None,
            None,
        )
        .unwrap();
    let (s, body) = file(&app, &manager, &bad.to_string()).await;
    assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        String::from_utf8_lossy(&body).contains("NOT the one that was submitted"),
        "{}",
        String::from_utf8_lossy(&body)
    );
}

#[tokio::test]
async fn a_worker_cannot_sign_off_a_return_and_the_api_will_not_take_a_typed_hash() {
    let app = spawn_app().await;
    let worker = app.sign_in_form("worker.mdi").await;
    for path in ["/submissions", "/submissions/new"] {
        let (s, _) = app.page(&worker, path).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{path}");
    }
    let (_, home) = app.page(&worker, "/").await;
    let csrf = hidden_csrf(&home);
    let before = app.store.log_length().unwrap();
    let r = app
        .post_form(
            &worker,
            "/submissions",
            &[
                ("csrf_token", csrf.as_str()),
                ("return", "km-quarterly"),
                ("period", "2026Q3"),
                ("as_at", "2026-10-05T09:00:00Z"),
                ("scope", ""),
                ("format", "csv"),
                ("submitted_on-day", "6"),
                ("submitted_on-month", "10"),
                ("submitted_on-year", "2026"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.store.log_length().unwrap(), before);

    let manager = app.api_token("manager.mdi").await;
    let (s, body) = app
        .post_json(
            &manager,
            "/api/v1/service/events",
            json!({"type": "return_submitted", "payload": {"return": "km-quarterly", "period": "2026Q3",
                "as_at": "2026-10-05T09:00:00Z", "format": "csv", "sha256": "0".repeat(64), "submitted_on": "2026-10-06"}}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["problems"][0]["field"], "type");
    assert_eq!(app.store.log_length().unwrap(), before);
}
