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

/// Today's date boxes for a form field.
fn date_boxes(name: &str, day: chrono::NaiveDate) -> Vec<(String, String)> {
    vec![
        (format!("{name}-day"), day.format("%-d").to_string()),
        (format!("{name}-month"), day.format("%-m").to_string()),
        (format!("{name}-year"), day.format("%Y").to_string()),
    ]
}

#[tokio::test]
async fn a_manager_records_a_meeting_and_a_complaint_and_sees_them_and_a_worker_cannot() {
    let app = spawn_app().await;
    let today = throughcare_domain::time::local_date(chrono::Utc::now());

    // A worker sees none of these forms and can post none of them.
    let worker = app.sign_in_form("worker.mdi").await;
    for form in [
        "meeting",
        "feedback",
        "involvement",
        "activity",
        "commissioner-issue",
        "subcontractor",
        "obligation-done",
    ] {
        let (s, _) = app
            .page(&worker, &format!("/governance/record/{form}"))
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{form}");
    }
    let (_, register) = app.page(&worker, "/people/new").await;
    let worker_csrf = hidden_csrf(&register);
    let before = app.store.log_length().unwrap();
    let r = app
        .post_form(
            &worker,
            "/governance/record/meeting",
            &[
                ("csrf_token", worker_csrf.as_str()),
                ("kind", "safer_custody"),
                ("attended_by", "Substance misuse worker"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.store.log_length().unwrap(), before, "nothing recorded");

    // The manager records a meeting through its form…
    let manager = app.sign_in_form("manager.mdi").await;
    let (s, form) = app.page(&manager, "/governance/record/meeting").await;
    assert_eq!(s, StatusCode::OK);
    assert!(form.contains("Safer custody (S4 §1)"), "{form}");
    let csrf = hidden_csrf(&form);
    let mut fields: Vec<(String, String)> = vec![
        ("csrf_token".into(), csrf.clone()),
        ("kind".into(), "safer_custody".into()),
        (
            "attended_by".into(),
            "Service manager\nHarm reduction lead".into(),
        ),
        ("notes".into(), "Self-harm reviews shared weekly".into()),
    ];
    fields.extend(date_boxes("held_on", today));
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let r = app
        .post_form(&manager, "/governance/record/meeting", &pairs)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.store.log_length().unwrap(), before + 1);

    // …and a complaint, first without who it came from (refused, field named).
    let mut complaint: Vec<(String, String)> = vec![
        ("csrf_token".into(), csrf.clone()),
        ("feedback_ref".into(), "CF-TEST-1".into()),
        ("kind".into(), "complaint".into()),
        ("summary".into(), "Letter to the family not sent".into()),
    ];
    complaint.extend(date_boxes("received_on", today));
    let pairs: Vec<(&str, &str)> = complaint
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let r = app
        .post_form(&manager, "/governance/record/feedback", &pairs)
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("Select who it is from"));
    assert_eq!(app.store.log_length().unwrap(), before + 1);
    complaint.push(("from".into(), "family_member".into()));
    let pairs: Vec<(&str, &str)> = complaint
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let r = app
        .post_form(&manager, "/governance/record/feedback", &pairs)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    let (s, page) = app.page(&manager, "/governance").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("Self-harm reviews shared weekly"), "{page}");
    assert!(page.contains("Service manager, Harm reduction lead"));
    assert!(page.contains("CF-TEST-1") && page.contains("Letter to the family not sent"));
    // The profile's obligations are on the dashboard until done, each with its link.
    assert!(page.contains("Quarterly performance monitoring return to KCC"));
    assert!(page.contains("/governance/record/obligation-done?obligation="));

    // Through the API: a complaint received 40 days ago is past its response date.
    let token = app.api_token("manager.mdi").await;
    let (s, body) = app
        .post_json(
            &token,
            "/api/v1/service/events",
            json!({"type": "feedback_recorded", "payload": {
                "feedback_ref": "CF-TEST-2", "kind": "complaint", "from": "service_user",
                "received_on": (today - chrono::Duration::days(40)).to_string(),
                "summary": "Group cancelled without notice"}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let (s, g) = app.get_json(&token, "/api/v1/service/governance").await;
    assert_eq!(s, StatusCode::OK);
    let open = g["open_complaints"].as_array().unwrap();
    assert_eq!(open.len(), 2);
    assert_eq!(open[0]["feedback"]["feedback_ref"], "CF-TEST-2");
    assert_eq!(open[0]["overdue"], true);
    assert_eq!(open[1]["overdue"], false);
    assert_eq!(g["meetings"][0]["meeting"]["kind"], "safer_custody");
    assert!(!g["obligations"].as_array().unwrap().is_empty());
    let (_, page) = app.page(&manager, "/governance").await;
    let row_start = page
        .find("CF-TEST-2")
        .expect("the late complaint is listed");
    let row = &page[row_start..];
    let row = &row[..row.find("</tr>").unwrap_or(row.len())];
    assert!(row.contains("tc-overdue\">Overdue"), "{row}");

    // An obligation marked done through its link leaves the dashboard.
    let first = g["obligations"][0].clone();
    let (id, period) = (
        first["obligation"].as_str().unwrap().to_string(),
        first["period"].as_str().unwrap().to_string(),
    );
    let link = format!("/governance/record/obligation-done?obligation={id}&period={period}");
    let (s, form) = app.page(&manager, &link).await;
    assert_eq!(s, StatusCode::OK);
    let period_day: chrono::NaiveDate = period.parse().unwrap();
    assert!(
        form.contains(&format!(
            "name=\"period-month\" type=\"text\" value=\"{}\"",
            period_day.format("%-m")
        )),
        "the link fills in the period: {form}"
    );
    let (_, page) = app.page(&manager, "/governance").await;
    // Askama writes the link's `&` as `&#38;`.
    let listed = format!("obligation={id}&#38;period={period}");
    assert!(page.contains(&listed), "{page}");
    let mut done: Vec<(String, String)> = vec![
        ("csrf_token".into(), csrf.clone()),
        ("obligation".into(), id.clone()),
    ];
    done.extend(date_boxes("period", period_day));
    done.extend(date_boxes("done_on", today));
    let pairs: Vec<(&str, &str)> = done.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = app
        .post_form(&manager, "/governance/record/obligation-done", &pairs)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, g) = app.get_json(&token, "/api/v1/service/governance").await;
    let marked = g["obligations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["obligation"] == id.as_str() && o["period"] == period.as_str())
        .unwrap()
        .clone();
    assert_eq!(marked["status"], "done");
    let (_, page) = app.page(&manager, "/governance").await;
    assert!(!page.contains(&listed), "done, it leaves the dashboard");
}
