//! Release and throughcare over HTTP: the release queue, the care-plan transfer to
//! the community provider (FHIR bundle and printable summary, only with consent,
//! every export and refusal audited), transfers between establishments, and
//! engagement after release.

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

mod common;
use common::{TestApp, spawn_app};

fn today() -> chrono::NaiveDate {
    throughcare_domain::time::local_date(Utc::now())
}

async fn prisoner(app: &TestApp, token: &str, number: &str) -> String {
    let (s, body) = app
        .post_json(
            token,
            "/api/v1/people",
            common::person_json(number, "Sasha", "Throughcase", "1990-01-15"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let id = body["id"].as_str().unwrap().to_string();
    app.record(
        token,
        &id,
        json!({"type": "received", "payload": {"reception_type": "sentenced"}}),
    )
    .await;
    id
}

fn care_plan(d: &str) -> Value {
    json!({"type": "care_plan_agreed", "payload": {
        "agreed_on": d, "goals": ["Stay off heroin after release"], "interventions": ["keyworking"],
        "contingency": {"safety": "a", "risk": "b", "overdose_prevention": "Naloxone and training",
            "harm_reduction": "d", "unplanned_exit_support": "e", "re_engagement": "f"},
        "agreed_with_person": true, "review_on": (today() + Duration::weeks(12)).to_string()}})
}

fn consent(purpose: &str, decision: &str) -> Value {
    json!({"type": "consent_recorded", "payload": {"purpose": purpose, "decision": decision, "decided_on": today().to_string()}})
}

#[tokio::test]
async fn the_release_queue_shows_what_a_plan_lacks_until_it_is_complete() {
    let app = spawn_app().await;
    let token = app.api_token("worker.mdi").await;
    let cookie = app.sign_in_form("worker.mdi").await;
    let p = prisoner(&app, &token, "C1111CC").await;
    let later = prisoner(&app, &token, "C2222CC").await;
    app.record(&token, &p, json!({"type": "expected_release_set", "payload": {"date": (today() + Duration::days(30)).to_string()}})).await;
    app.record(&token, &later, json!({"type": "expected_release_set", "payload": {"date": (today() + Duration::weeks(12) + Duration::days(1)).to_string()}})).await;
    let (_, q) = app.get_json(&token, "/api/v1/queues/release").await;
    let rows = q["due_for_release"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "12 weeks and a day is beyond the queue: {q}");
    assert_eq!(rows[0]["prison_number"], "C1111CC");
    assert_eq!(rows[0]["gaps"], json!(["no_plan"]));
    let (s, html) = app.page(&cookie, "/queues/release").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("No release plan"));

    app.record(
        &token,
        &p,
        json!({"type": "release_plan_agreed", "payload": {
        "agreed_on": today().to_string(), "community_provider": "Medway community recovery service",
        "housing_need": true, "naloxone_supplied": false, "agreed_with_person": true}}),
    )
    .await;
    let (_, q) = app.get_json(&token, "/api/v1/queues/release").await;
    assert_eq!(
        q["due_for_release"][0]["gaps"],
        json!([
            "no_first_appointment",
            "no_unexpected_release_contact",
            "no_housing_referral"
        ])
    );
    let appointment = throughcare_domain::time::local_instant(
        today() + Duration::days(31),
        chrono::NaiveTime::from_hms_opt(10, 30, 0).unwrap(),
    );
    app.record(
        &token,
        &p,
        json!({"type": "release_plan_agreed", "payload": {
        "agreed_on": today().to_string(), "community_provider": "Medway community recovery service",
        "first_appointment": appointment, "unexpected_release_contact": "Medway open-access clinic",
        "housing_need": true, "housing_referral": "Local authority housing options, referred",
        "naloxone_supplied": true, "agreed_with_person": true}}),
    )
    .await;
    let (_, q) = app.get_json(&token, "/api/v1/queues/release").await;
    assert_eq!(q["due_for_release"][0]["gaps"], json!([]));
    let (_, html) = app.page(&cookie, "/queues/release").await;
    assert!(html.contains("Complete"));
}

#[tokio::test]
async fn the_care_transfer_needs_live_consent_and_every_export_and_refusal_is_audited() {
    let app = spawn_app().await;
    let token = app.api_token("worker.mdi").await;
    let cookie = app.sign_in_form("worker.mdi").await;
    let p = prisoner(&app, &token, "C3333CC").await;
    let d = today().to_string();
    app.record(&token, &p, care_plan(&d)).await;
    let person = throughcare_domain::record_ids::PersonId::parse(&p).unwrap();
    let audited = |action: &str| {
        app.store
            .access_log(person)
            .unwrap()
            .iter()
            .filter(|e| e.action == action)
            .count()
    };

    let (s, html) = app
        .page(&cookie, &format!("/people/{p}/care-transfer"))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(html.contains("no live consent"), "{html}");
    let (s, _) = app
        .page(&cookie, &format!("/people/{p}/care-transfer.json"))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(audited("export-refused"), 2);
    assert_eq!(audited("export"), 0);

    app.record(&token, &p, consent("community_transfer", "given"))
        .await;
    let (s, html) = app
        .page(&cookie, &format!("/people/{p}/care-transfer"))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("Stay off heroin after release"));
    assert!(
        html.contains("Naloxone and training"),
        "the contingency plan"
    );
    let (s, body) = app
        .page(&cookie, &format!("/people/{p}/care-transfer.json"))
        .await;
    assert_eq!(s, StatusCode::OK);
    let bundle: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(bundle["resourceType"], "Bundle");
    let kinds: Vec<&str> = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"]["resourceType"].as_str().unwrap())
        .collect();
    for k in ["Patient", "CarePlan", "Goal", "Consent"] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
    let plan = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["resource"]["resourceType"] == "CarePlan")
        .unwrap();
    let goal_ref = plan["resource"]["goal"][0]["reference"].as_str().unwrap();
    assert!(
        bundle["entry"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["fullUrl"] == goal_ref),
        "the plan's goal resolves inside the bundle"
    );
    assert_eq!(audited("export"), 2);

    app.record(&token, &p, json!({"type": "consent_withdrawn", "payload": {"purpose": "community_transfer", "withdrawn_on": d}})).await;
    let (s, _) = app
        .page(&cookie, &format!("/people/{p}/care-transfer.json"))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "refused again after withdrawal");
    assert_eq!(audited("export-refused"), 3);
}

#[tokio::test]
async fn a_transfer_moves_the_person_with_their_clocks_and_the_sender_sees_only_its_own_entries() {
    let app = spawn_app().await;
    let mdi = app.api_token("worker.mdi").await;
    let eyi = app.api_token("worker.eyi").await;
    let p = prisoner(&app, &mdi, "C4444CC").await;
    let d = today().to_string();
    app.record(
        &mdi,
        &p,
        json!({"type": "referral_made", "payload": {"source": "healthcare", "referred_on": d}}),
    )
    .await;
    app.record(&mdi, &p, care_plan(&d)).await;
    let (_, before) = app.get_json(&mdi, &format!("/api/v1/people/{p}")).await;
    let due_before: Vec<(Value, Value)> = before["work_items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["queue"].clone(), i["due"].clone()))
        .collect();
    assert!(!due_before.is_empty());

    // The establishment the person leaves records the transfer (issue 14).
    app.record(
        &mdi,
        &p,
        json!({"type": "transferred", "payload": {"from": "MDI", "to": "EYI"}}),
    )
    .await;
    let (s, after) = app.get_json(&eyi, &format!("/api/v1/people/{p}")).await;
    assert_eq!(s, StatusCode::OK);
    let due_after: Vec<(Value, Value)> = after["work_items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["queue"].clone(), i["due"].clone()))
        .collect();
    assert_eq!(due_after, due_before, "every clock travels with the person");
    let eyi_cookie = app.sign_in_form("worker.eyi").await;
    let (_, caseload) = app.page(&eyi_cookie, "/").await;
    assert!(
        caseload.contains("transferred in from MDI"),
        "the receiving caseload marks them"
    );
    app.record(
        &eyi,
        &p,
        json!({"type": "referral_made", "payload": {"source": "other_agency", "referred_on": d}}),
    )
    .await;

    // The sending establishment keeps read access to what it recorded, and no more.
    let mdi_cookie = app.sign_in_form("worker.mdi").await;
    let (s, page) = app.page(&mdi_cookie, &format!("/people/{p}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("Recovery care plan agreed"));
    assert!(
        page.contains("Transferred from MDI to EYI"),
        "MDI's own entry"
    );
    assert!(
        !page.contains("Referral: Other agency"),
        "an entry EYI recorded"
    );
    assert!(page.contains("You see only what"));
    let (s, _) = app
        .post_json(
            &mdi,
            &format!("/api/v1/people/{p}/events"),
            json!({"type": "referral_made", "payload": {"source": "gp", "referred_on": d}}),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "nothing can be recorded from there: the answer is that for no such person"
    );
    let (_, limited) = app.get_json(&mdi, &format!("/api/v1/people/{p}")).await;
    assert_eq!(limited["limited_to_entries_of"], "MDI");
    assert!(limited.get("consents").is_none());
}

#[tokio::test]
async fn engagement_after_release_is_shown_with_its_day_and_the_21_day_window() {
    let app = spawn_app().await;
    let token = app.api_token("worker.mdi").await;
    let cookie = app.sign_in_form("worker.mdi").await;
    let p = prisoner(&app, &token, "C5555CC").await;
    let released = throughcare_domain::time::local_midday(today() - Duration::days(21));
    app.record(
        &token,
        &p,
        json!({"type": "released", "occurred_at": released, "payload": {"kind": "released"}}),
    )
    .await;
    app.record(&token, &p, json!({"type": "community_engagement_recorded", "payload": {
        "outcome": "engaged", "on": today().to_string(), "provider": "Medway community recovery service"}})).await;
    let (_, page) = app.page(&cookie, &format!("/people/{p}")).await;
    assert!(page.contains("(day 21, within 21 days)"), "day 21 counts");
}
