//! The service's governance records over HTTP: manager-only (a worker is refused,
//! pages and API alike), recorded through the form or the API, shown on the
//! dashboard.

use reqwest::StatusCode;
use serde_json::json;

mod common;
use common::{hidden_csrf, spawn_app};

#[tokio::test]
async fn a_worker_cannot_see_incidents_and_a_manager_can() {
    let app = spawn_app().await;
    let worker = app.sign_in_form("worker.mdi").await;
    let (s, _) = app.page(&worker, "/governance").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = app.page(&worker, "/governance/record/incident").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let worker_token = app.api_token("worker.mdi").await;
    let (s, _) = app
        .get_json(&worker_token, "/api/v1/service/governance")
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = app
        .post_json(
            &worker_token,
            "/api/v1/service/events",
            json!({"type": "clinical_cover_recorded",
            "payload": {"on": "2026-03-02", "provided": true}}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let before = app.store.log_length().unwrap();

    let manager = app.sign_in_form("manager.mdi").await;
    let (s, form) = app.page(&manager, "/governance/record/incident").await;
    assert_eq!(s, StatusCode::OK);
    let csrf = hidden_csrf(&form);
    let today = throughcare_domain::time::local_date(chrono::Utc::now());
    let (d, m, y) = (
        today.format("%-d").to_string(),
        today.format("%-m").to_string(),
        today.format("%Y").to_string(),
    );
    let r = app
        .post_form(
            &manager,
            "/governance/record/incident",
            &[
                ("csrf_token", csrf.as_str()),
                ("incident_ref", "SI-TEST-1"),
                ("category", "controlled_drugs"),
                ("occurred_on-day", &d),
                ("occurred_on-month", &m),
                ("occurred_on-year", &y),
                ("summary", "Stock discrepancy at the evening count"),
                ("drug_or_alcohol_related", "yes"),
                ("staff_involved", "yes"),
                ("reported_to", "commissioner"),
                ("reported_to", "prison_service"),
                ("reported_on-day", &d),
                ("reported_on-month", &m),
                ("reported_on-year", &y),
                ("investigation", "under_investigation"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.store.log_length().unwrap(), before + 1);
    let (s, page) = app.page(&manager, "/governance").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("SI-TEST-1") && page.contains("Under investigation"),
        "{page}"
    );
    assert!(page.contains("The commissioner"));

    // The API: a learning action, overdue the day after it was due.
    let token = app.api_token("manager.mdi").await;
    let (s, body) = app
        .post_json(&token, "/api/v1/service/events", json!({"type": "learning_action_recorded",
            "payload": {"action_ref": "LA-1", "source_ref": "SI-TEST-1", "action": "Two-person checks",
                "owner": "Clinical lead", "due_on": (today - chrono::Duration::days(1)).to_string()}}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let (s, g) = app.get_json(&token, "/api/v1/service/governance").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(g["open_incidents"], 1);
    assert_eq!(g["overdue_actions"][0]["action_ref"], "LA-1");
    // A service fact cannot be filed against a person.
    let (s, _) = app
        .post_json(
            &token,
            "/api/v1/service/events",
            json!({"type": "clinical_cover_recorded",
            "payload": {"on": today.to_string(), "provided": false}}),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a gap in cover needs a note"
    );
}

/// Posts a service fact as the manager and expects it recorded.
async fn service_fact(app: &common::TestApp, token: &str, body: serde_json::Value) {
    let (s, out) = app
        .post_json(token, "/api/v1/service/events", body.clone())
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body} → {out}");
}

#[tokio::test]
async fn a_trainee_is_kept_from_a_complex_needs_person_until_signed_off() {
    let app = spawn_app().await;
    let manager = app.api_token("manager.mdi").await;
    let today = throughcare_domain::time::local_date(chrono::Utc::now()).to_string();

    // A staff record must belong to a sign-in account.
    let (s, body) = app
        .post_json(&manager, "/api/v1/service/events", json!({"type": "staff_recorded",
            "payload": {"username": "nobody.here", "name": "No Account", "role": "nurse", "establishments": ["MDI"]}}))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("no sign-in account"), "{body}");

    // A fully competent supervisor (every table 1 unit evidenced) and a trainee.
    service_fact(&app, &manager, json!({"type": "staff_recorded", "payload": {"username": "manager.mdi",
        "name": "Morgan Synthetic", "role": "manager", "establishments": ["MDI"], "line_manager": true}})).await;
    let units: Vec<&str> = throughcare_domain::danos::required_units(true, false, false)
        .into_iter()
        .collect();
    for unit in &units {
        service_fact(
            &app,
            &manager,
            json!({"type": "competence_recorded", "payload": {"username": "manager.mdi",
            "unit": unit, "evidence": "Portfolio", "assessed_on": today}}),
        )
        .await;
    }
    service_fact(
        &app,
        &manager,
        json!({"type": "staff_recorded", "payload": {"username": "worker.mdi",
        "name": "Wren Synthetic", "role": "substance_use_worker", "establishments": ["MDI"],
        "trainee": {"since": today, "supervisor": "manager.mdi"}}}),
    )
    .await;

    // A person whose comprehensive assessment flags complex needs.
    let (s, out) = app
        .post_json(
            &manager,
            "/api/v1/people",
            common::person_json("A7777AA", "Jules", "Testperson", "1990-05-04"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{out}");
    let id = out["id"].as_str().unwrap().to_string();
    let events = format!("/api/v1/people/{id}/events");
    for body in [
        json!({"type": "received", "payload": {"reception_type": "sentenced"}}),
        json!({"type": "referral_made", "payload": {"source": "healthcare", "referred_on": today}}),
        json!({"type": "assessment_completed", "payload": {
            "kind": "comprehensive", "assessed_on": today, "summary": "Heroin and crack; mental health team involved",
            "structured_treatment_needed": true, "comprehensive": {
                "needs_and_goals": "Stabilise, then reduce", "family": {"children_in_care": 0,
                "child_protection_plan": false, "parenting_support_needed": false, "notes": ""},
                "other_agencies": [], "onward_referrals": [], "information_handling_explained": true,
                "ndtms_consent": true, "risk_of_self_harm": "medium", "risk_to_others": "low",
                "existing_risk_management_plans": true, "risk_management_plan": "ACCT open",
                "complex_needs": true}}}),
    ] {
        let (s, out) = app.post_json(&manager, &events, body).await;
        assert_eq!(s, StatusCode::CREATED, "{out}");
    }
    let allocate = json!({"type": "keyworker_allocated", "payload": {"worker": "worker.mdi", "allocated_on": today}});
    let before = app.store.log_length().unwrap();
    let (s, out) = app.post_json(&manager, &events, allocate.clone()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{out}");
    assert!(out.to_string().contains("KM 5.43.1"), "{out}");
    // The trainee cannot record work with the person either.
    let trainee = app.api_token("worker.mdi").await;
    let (s, out) = app
        .post_json(&trainee, &events, json!({"type": "keyworker_allocated", "payload": {"worker": "manager.mdi", "allocated_on": today}}))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{out}");
    assert_eq!(app.store.log_length().unwrap(), before, "nothing recorded");

    // The dashboard shows the trainee with the units still to evidence.
    let cookie = app.sign_in_form("manager.mdi").await;
    let (s, page) = app.page(&cookie, "/governance").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("id=\"trainees\""), "{page}");
    assert!(
        page.contains(&format!("{} units to evidence", units.len())),
        "{page}"
    );

    // Evidence every unit, sign off: the allocation is now allowed.
    for unit in &units {
        service_fact(
            &app,
            &manager,
            json!({"type": "competence_recorded", "payload": {"username": "worker.mdi",
            "unit": unit, "evidence": "Observed practice", "assessed_on": today}}),
        )
        .await;
    }
    service_fact(&app, &manager, json!({"type": "trainee_signed_off", "payload": {"username": "worker.mdi", "signed_off_on": today}})).await;
    let (s, out) = app.post_json(&manager, &events, allocate).await;
    assert_eq!(s, StatusCode::CREATED, "{out}");
    let (_, g) = app.get_json(&manager, "/api/v1/service/governance").await;
    assert_eq!(g["workforce"]["trainees"], json!([]));
}

#[tokio::test]
async fn a_manager_records_training_and_a_vacancy_through_the_forms() {
    let app = spawn_app().await;
    let cookie = app.sign_in_form("manager.mdi").await;
    let today = throughcare_domain::time::local_date(chrono::Utc::now());
    let (d, m, y) = (
        today.format("%-d").to_string(),
        today.format("%-m").to_string(),
        today.format("%Y").to_string(),
    );
    let (s, form) = app.page(&cookie, "/governance/record/staff").await;
    assert_eq!(s, StatusCode::OK);
    let csrf = hidden_csrf(&form);
    let r = app
        .post_form(
            &cookie,
            "/governance/record/staff",
            &[
                ("csrf_token", csrf.as_str()),
                ("username", "worker.mdi"),
                ("name", "Wren Synthetic"),
                ("role", "substance_use_worker"),
                ("establishments", "MDI"),
                ("line_manager", "no"),
                ("brief_interventions", "no"),
                ("trainee", "no"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Missing clearance and training show on the dashboard.
    let (_, page) = app.page(&cookie, "/governance").await;
    assert!(page.contains("No clearance recorded"), "{page}");
    assert!(page.contains("Not done"), "{page}");
    // A form with problems names each field and records nothing.
    let before = app.store.log_length().unwrap();
    let r = app
        .post_form(
            &cookie,
            "/governance/record/vacancy",
            &[("csrf_token", csrf.as_str()), ("post", "Nurse")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("Enter the post&#39;s reference")
            || body.contains("Enter the post's reference"),
        "{body}"
    );
    assert_eq!(app.store.log_length().unwrap(), before);
    let r = app
        .post_form(
            &cookie,
            "/governance/record/vacancy",
            &[
                ("csrf_token", csrf.as_str()),
                ("post_ref", "MDI-NURSE-1"),
                ("post", "Nurse"),
                ("role", "nurse"),
                ("vacant_since-day", &d),
                ("vacant_since-month", &m),
                ("vacant_since-year", &y),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, page) = app.page(&cookie, "/governance").await;
    assert!(page.contains("MDI-NURSE-1"), "{page}");
}
