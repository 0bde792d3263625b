//! HTTP tests: the real server on port 0 against a fresh SQLite file per test,
//! spoken to over HTTP.

use chrono::Utc;
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use serde_json::{Value, json};

mod common;
use common::{TestApp, hidden_csrf, spawn_app};

fn event_count(app: &TestApp) -> usize {
    app.store.events_after(0, usize::MAX).unwrap().len()
}

fn person_body(prison_number: &str, dob: &str) -> Value {
    common::person_json(prison_number, "Alex", "Example", dob)
}

async fn register(app: &TestApp, token: &str, prison_number: &str) -> String {
    app.register(token, person_body(prison_number, "1990-05-01"))
        .await
}

fn problem_fields(body: &Value) -> Vec<String> {
    body["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["field"].as_str().unwrap().to_string())
        .collect()
}

fn today() -> String {
    throughcare_domain::time::local_date(Utc::now()).to_string()
}

#[tokio::test]
async fn referral_screening_and_assessment_through_the_api_move_the_queue() {
    let app = spawn_app().await;
    let token = app.api_token("worker.mdi").await;
    let id = register(&app, &token, "a1234bc").await;
    let (s, _) = app
        .post_json(&token, &format!("/api/v1/people/{id}/events"), json!({"type": "referral_made", "payload": {"source": "healthcare", "referred_on": today()}}))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (_, queue) = app.get_json(&token, "/api/v1/queues/assessments").await;
    assert_eq!(queue["open"].as_array().unwrap().len(), 1);
    assert_eq!(queue["open"][0]["prison_number"], "A1234BC");
    let (s, body) = app
        .post_json(
            &token,
            &format!("/api/v1/people/{id}/events"),
            json!({"type": "screening_completed", "payload": {
                "setting": "on_referral", "screened_on": today(), "audit_c": {"items": [4, 2, 1]},
                "problem_substances": ["alcohol", "crack"], "injecting": "never",
                "offending_linked": true, "structured_treatment_needed": true}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let (s, body) = app
        .post_json(
            &token,
            &format!("/api/v1/people/{id}/events"),
            json!({"type": "assessment_completed", "payload": {
                "kind": "initial", "assessed_on": today(), "summary": "Seen on the wing",
                "structured_treatment_needed": true}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let (_, queue) = app.get_json(&token, "/api/v1/queues/assessments").await;
    assert!(queue["open"].as_array().unwrap().is_empty(), "{queue}");
    let (_, person) = app.get_json(&token, &format!("/api/v1/people/{id}")).await;
    assert_eq!(person["assessment_clocks"][0]["state"]["state"], "met");
    assert_eq!(person["events"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn a_bad_prison_number_is_refused_naming_the_field_and_changes_nothing() {
    let app = spawn_app().await;
    let token = app.api_token("worker.mdi").await;
    let before = event_count(&app);
    let (s, body) = app
        .post_json(&token, "/api/v1/people", person_body("12345", "1990-05-01"))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem_fields(&body), vec!["prison_number"]);
    assert!(
        body["problems"][0]["problem"]
            .as_str()
            .unwrap()
            .contains("A1234BC")
    );
    assert_eq!(event_count(&app), before);
}

#[tokio::test]
async fn a_date_of_birth_in_the_future_is_refused() {
    let app = spawn_app().await;
    let token = app.api_token("worker.mdi").await;
    let (s, body) = app
        .post_json(
            &token,
            "/api/v1/people",
            person_body("A1234BC", "2099-01-01"),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem_fields(&body), vec!["date_of_birth"]);
    assert_eq!(event_count(&app), 0);
}

#[tokio::test]
async fn an_assessment_dated_before_its_referral_is_refused() {
    let app = spawn_app().await;
    let token = app.api_token("worker.mdi").await;
    let id = register(&app, &token, "A1234BC").await;
    app.post_json(
        &token,
        &format!("/api/v1/people/{id}/events"),
        json!({"type": "referral_made", "payload": {"source": "gp", "referred_on": today()}}),
    )
    .await;
    let before = event_count(&app);
    let (s, body) = app
        .post_json(
            &token,
            &format!("/api/v1/people/{id}/events"),
            json!({"type": "assessment_completed", "payload": {"kind": "initial", "assessed_on": "2020-01-01", "summary": "x", "structured_treatment_needed": false}}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem_fields(&body), vec!["assessed_on"]);
    assert_eq!(event_count(&app), before);
}

#[tokio::test]
async fn an_unknown_establishment_is_refused() {
    let app = spawn_app().await;
    let token = app.api_token("worker.mdi").await;
    let mut body = person_body("A1234BC", "1990-05-01");
    body["establishment"] = json!("XYZ");
    let (s, body) = app.post_json(&token, "/api/v1/people", body).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem_fields(&body), vec!["establishment"]);
    assert!(
        body["problems"][0]["problem"]
            .as_str()
            .unwrap()
            .contains("XYZ")
    );
    assert_eq!(event_count(&app), 0);
}

#[tokio::test]
async fn a_malformed_payload_names_the_field() {
    let app = spawn_app().await;
    let token = app.api_token("worker.mdi").await;
    let id = register(&app, &token, "A1234BC").await;
    let (s, body) = app
        .post_json(&token, &format!("/api/v1/people/{id}/events"), json!({"type": "referral_made", "payload": {"source": "carrier_pigeon", "referred_on": today()}}))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(problem_fields(&body)[0].contains("source"), "{body}");
}

#[tokio::test]
async fn a_worker_cannot_see_a_person_at_another_establishment() {
    let app = spawn_app().await;
    let mdi = app.api_token("worker.mdi").await;
    let eyi = app.api_token("worker.eyi").await;
    let id = register(&app, &mdi, "A1234BC").await;
    // Held elsewhere is answered exactly as no such person (issue 14).
    let nobody = "00000000-0000-4000-8000-00000000dead".to_string();
    let (s, body) = app.get_json(&eyi, &format!("/api/v1/people/{id}")).await;
    let (s_nobody, body_nobody) = app
        .get_json(&eyi, &format!("/api/v1/people/{nobody}"))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!((s, body), (s_nobody, body_nobody));
    let cookie = app.sign_in_form("worker.eyi").await;
    let (s, html) = app.page(&cookie, &format!("/people/{id}")).await;
    let (s_nobody, html_nobody) = app.page(&cookie, &format!("/people/{nobody}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(
        (s, html.replace(&id, "ID")),
        (s_nobody, html_nobody.replace(&nobody, "ID"))
    );
    assert!(
        !html.contains("Example"),
        "no personal data on the refusal page"
    );
    let (_, caseload) = app.page(&cookie, "/").await;
    assert!(!caseload.contains("A1234BC"));
    let audit = app
        .store
        .access_log(throughcare_domain::record_ids::PersonId::parse(&id).unwrap())
        .unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "refused" && e.username == "worker.eyi")
    );
}

#[tokio::test]
async fn the_web_forms_register_refer_and_assess_and_the_timeline_shows_it() {
    let app = spawn_app().await;
    let cookie = app.sign_in_form("worker.mdi").await;
    let (s, html) = app.page(&cookie, "/people/new").await;
    assert_eq!(s, StatusCode::OK);
    let csrf = hidden_csrf(&html);
    let (d, m, y) = {
        let t = throughcare_domain::time::local_date(Utc::now());
        (
            t.format("%-d").to_string(),
            t.format("%-m").to_string(),
            t.format("%Y").to_string(),
        )
    };
    let r = app
        .post_form(
            &cookie,
            "/people/new",
            &[
                ("csrf_token", &csrf),
                ("prison_number", "B2345CD"),
                ("given_name", "Sam"),
                ("family_name", "Sample"),
                ("date_of_birth-day", "3"),
                ("date_of_birth-month", "4"),
                ("date_of_birth-year", "1985"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let person_path = r.headers()[LOCATION].to_str().unwrap().to_string();
    let r = app
        .post_form(
            &cookie,
            &format!("{person_path}/record/referral"),
            &[
                ("csrf_token", &csrf),
                ("source", "offender_management"),
                ("referred_on-day", &d),
                ("referred_on-month", &m),
                ("referred_on-year", &y),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, queue) = app.page(&cookie, "/queues/assessments").await;
    assert!(queue.contains("B2345CD"), "the referral is in the queue");
    let r = app
        .post_form(
            &cookie,
            &format!("{person_path}/record/assessment"),
            &[
                ("csrf_token", &csrf),
                ("kind", "initial"),
                ("assessed_on-day", &d),
                ("assessed_on-month", &m),
                ("assessed_on-year", &y),
                ("summary", "Motivated to engage"),
                ("structured_treatment_needed", "no"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, page) = app.page(&cookie, &person_path).await;
    assert!(page.contains("Initial assessment completed"));
    assert!(page.contains("Referral: Offender management"));
    let (_, queue) = app.page(&cookie, "/queues/assessments").await;
    assert!(!queue.contains("B2345CD"), "assessed: out of the queue");
}

#[tokio::test]
async fn a_form_with_field_problems_is_shown_again_with_an_error_summary() {
    let app = spawn_app().await;
    let cookie = app.sign_in_form("worker.mdi").await;
    let (_, html) = app.page(&cookie, "/people/new").await;
    let csrf = hidden_csrf(&html);
    let r = app
        .post_form(
            &cookie,
            "/people/new",
            &[
                ("csrf_token", &csrf),
                ("prison_number", "ZZ"),
                ("given_name", "Sam"),
                ("family_name", ""),
                ("date_of_birth-day", "31"),
                ("date_of_birth-month", "2"),
                ("date_of_birth-year", "1985"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("There is a problem"));
    assert!(html.contains("href=\"#prison_number\""));
    assert!(
        html.contains("Enter the person&#39;s family name")
            || html.contains("Enter the person's family name")
    );
    assert!(html.contains("Date of birth must be a real date"));
    assert_eq!(event_count(&app), 0);
}

#[tokio::test]
async fn a_form_without_its_csrf_token_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let cookie = app.sign_in_form("worker.mdi").await;
    let r = app
        .post_form(
            &cookie,
            "/people/new",
            &[
                ("prison_number", "B2345CD"),
                ("given_name", "Sam"),
                ("family_name", "Sample"),
                ("date_of_birth-day", "3"),
                ("date_of_birth-month", "4"),
                ("date_of_birth-year", "1985"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("security token"));
    assert_eq!(event_count(&app), 0);
}

#[tokio::test]
async fn pages_need_a_session_and_the_api_needs_a_token() {
    let app = spawn_app().await;
    let r = app
        .client
        .get(format!("{}/", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[LOCATION], "/sign-in");
    let r = app
        .client
        .get(format!("{}/api/v1/people", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = app
        .client
        .post(format!("{}/api/v1/session", app.base))
        .json(&json!({"username": "worker.mdi", "password": "wrong"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_openapi_document_lists_every_api_route() {
    let app = spawn_app().await;
    let r = app
        .client
        .get(format!("{}/api/v1/openapi.json", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let doc: Value = r.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    for (method, path, _) in throughcare::api::ROUTES {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} missing"
        );
    }
}

#[tokio::test]
async fn a_correction_through_the_api_replaces_the_referral_date() {
    let app = spawn_app().await;
    let token = app.api_token("worker.mdi").await;
    let id = register(&app, &token, "A1234BC").await;
    let (_, body) = app
        .post_json(&token, &format!("/api/v1/people/{id}/events"), json!({"type": "referral_made", "payload": {"source": "gp", "referred_on": "2026-11-02"}}))
        .await;
    let event = body["events"][0]["id"].as_str().unwrap().to_string();
    let (s, body) = app
        .post_json(
            &token,
            &format!("/api/v1/people/{id}/events/{event}/correction"),
            json!({"type": "referral_made", "payload": {"source": "gp", "referred_on": "2026-11-09"}, "reason": "Typed the wrong week"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let (_, person) = app.get_json(&token, &format!("/api/v1/people/{id}")).await;
    assert_eq!(person["assessment_clocks"][0]["referred_on"], "2026-11-09");
    assert_eq!(person["assessment_clocks"][0]["due_on"], "2026-11-16");
    assert_eq!(person["events"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn merging_two_prison_numbers_joins_their_histories() {
    let app = spawn_app().await;
    let token = app.api_token("worker.mdi").await;
    let survivor = register(&app, &token, "A1234BC").await;
    let duplicate = register(&app, &token, "Z9876YX").await;
    for id in [&survivor, &duplicate] {
        app.post_json(
            &token,
            &format!("/api/v1/people/{id}/events"),
            json!({"type": "referral_made", "payload": {"source": "gp", "referred_on": today()}}),
        )
        .await;
    }
    let (s, body) = app
        .post_json(
            &token,
            &format!("/api/v1/people/{survivor}/merge"),
            json!({"prison_number": "not-a-number"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem_fields(&body), vec!["prison_number"]);
    let (s, body) = app
        .post_json(
            &token,
            &format!("/api/v1/people/{survivor}/merge"),
            json!({"prison_number": "z9876yx"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let (_, person) = app
        .get_json(&token, &format!("/api/v1/people/{survivor}"))
        .await;
    assert_eq!(person["assessment_clocks"].as_array().unwrap().len(), 2);
    assert_eq!(person["merged_prison_numbers"], json!(["Z9876YX"]));
    // The duplicate's id now opens the surviving record.
    let (_, via_old) = app
        .get_json(&token, &format!("/api/v1/people/{duplicate}"))
        .await;
    assert_eq!(via_old["id"], json!(survivor));
    let (_, caseload) = app.get_json(&token, "/api/v1/people").await;
    assert_eq!(caseload["people"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_declined_referral_closed_through_the_form_leaves_the_queue() {
    let app = spawn_app().await;
    let token = app.api_token("worker.mdi").await;
    let id = register(&app, &token, "A1234BC").await;
    let (_, body) = app
        .post_json(&token, &format!("/api/v1/people/{id}/events"), json!({"type": "referral_made", "payload": {"source": "positive_drug_test", "referred_on": today()}}))
        .await;
    let referral = body["events"][0]["id"].as_str().unwrap().to_string();
    let cookie = app.sign_in_form("worker.mdi").await;
    let (_, html) = app
        .page(&cookie, &format!("/people/{id}/record/close-referral"))
        .await;
    let csrf = hidden_csrf(&html);
    let t = throughcare_domain::time::local_date(Utc::now());
    let (d, m, y) = (
        t.format("%-d").to_string(),
        t.format("%-m").to_string(),
        t.format("%Y").to_string(),
    );
    let r = app
        .post_form(
            &cookie,
            &format!("/people/{id}/record/close-referral"),
            &[
                ("csrf_token", &csrf),
                ("referral", &referral),
                ("reason", "declined"),
                ("closed_on-day", &d),
                ("closed_on-month", &m),
                ("closed_on-year", &y),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, queue) = app.get_json(&token, "/api/v1/queues/assessments").await;
    assert!(queue["open"].as_array().unwrap().is_empty(), "{queue}");
    let (_, page) = app.page(&cookie, &format!("/people/{id}")).await;
    assert!(page.contains("Referral closed: Declined the service"));
}

#[tokio::test]
async fn an_idempotency_key_replays_the_first_answer_and_records_once() {
    let app = spawn_app().await;
    let token = app.api_token("worker.mdi").await;
    let id = register(&app, &token, "A1234BC").await;
    let path = format!("/api/v1/people/{id}/events");
    let body =
        json!({"type": "referral_made", "payload": {"source": "gp", "referred_on": today()}});
    let send = |key: &'static str, body: Value| {
        app.client
            .post(format!("{}{path}", app.base))
            .bearer_auth(&token)
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
    };
    let first = send("key-1", body.clone()).await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let before = event_count(&app);

    let again = send("key-1", body.clone()).await.unwrap();
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(
        again.json::<Value>().await.unwrap(),
        first,
        "the original answer, replayed"
    );
    assert_eq!(event_count(&app), before, "no second event");

    let other = json!({"type": "referral_made", "payload": {"source": "healthcare", "referred_on": today()}});
    let mismatch = send("key-1", other).await.unwrap();
    assert_eq!(mismatch.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(event_count(&app), before);

    // A retry while the first request is still in flight: claim the key as that
    // request would have, then send the same request.
    use sha2::{Digest, Sha256};
    let bytes = serde_json::to_vec(&body).unwrap();
    let mut h = Sha256::new();
    h.update(path.as_bytes());
    h.update(b"\n");
    h.update(&bytes);
    let claim = app
        .store
        .idempotency_claim("worker.mdi:key-2", &hex::encode(h.finalize()), Utc::now())
        .unwrap();
    assert_eq!(claim, throughcare_store::IdempotencyClaim::Claimed);
    let in_flight = app
        .client
        .post(format!("{}{path}", app.base))
        .bearer_auth(&token)
        .header("Idempotency-Key", "key-2")
        .header("content-type", "application/json")
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(in_flight.status(), StatusCode::CONFLICT);
    assert_eq!(event_count(&app), before);
}
