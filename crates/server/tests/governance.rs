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
