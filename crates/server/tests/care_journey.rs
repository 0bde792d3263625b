//! A whole care journey over HTTP (issue: recovery care): plan agreed, induction, TOP
//! at start, keyworking sessions, a group session with three attendees, a programme
//! completed, a detox completed and a Hepatitis B course completed — each visible
//! on the timeline, and each clock entering and leaving its queue at the right time.

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use serde_json::{Value, json};

mod common;
use common::{TestApp, hidden_csrf, spawn_app};

fn today() -> chrono::NaiveDate {
    throughcare_domain::time::local_date(Utc::now())
}

async fn register_in_custody(app: &TestApp, token: &str, number: &str, given: &str) -> String {
    let id = app
        .register(
            token,
            common::person_json(number, given, "Testperson", "1988-02-11"),
        )
        .await;
    app.record(
        token,
        &id,
        json!({"type": "received", "payload": {"reception_type": "sentenced"}}),
    )
    .await;
    id
}

/// The rows of one queue on the work-queues page, as text.
async fn queue(app: &TestApp, cookie: &str, code: &str) -> String {
    let (s, html) = app.page(cookie, &format!("/queues?queue={code}")).await;
    assert_eq!(s, StatusCode::OK);
    html
}

#[tokio::test]
async fn a_whole_care_journey_shows_on_the_timeline_and_moves_through_the_queues() {
    let app = spawn_app().await;
    let token = app.api_token("worker.mdi").await;
    let cookie = app.sign_in_form("worker.mdi").await;
    let d = today().to_string();
    let p1 = register_in_custody(&app, &token, "A1111AA", "Jordan").await;
    let p2 = register_in_custody(&app, &token, "A2222AA", "Casey").await;
    let p3 = register_in_custody(&app, &token, "A3333AA", "Robin").await;

    app.record(
        &token,
        &p1,
        json!({"type": "referral_made", "payload": {"source": "healthcare", "referred_on": d}}),
    )
    .await;
    app.record(&token, &p1, json!({"type": "screening_completed", "payload": {
        "setting": "on_referral", "screened_on": d, "problem_substances": ["alcohol"], "injecting": "never",
        "offending_linked": true, "structured_treatment_needed": true}})).await;
    app.record(
        &token,
        &p1,
        json!({"type": "assessment_completed", "payload": {
        "kind": "comprehensive", "assessed_on": d, "summary": "Drinks daily; wants to stop",
        "structured_treatment_needed": true, "comprehensive": {
            "needs_and_goals": "Alcohol detox, then a programme", "family": {"children_in_care": 0,
            "child_protection_plan": false, "parenting_support_needed": false, "notes": ""},
            "other_agencies": [], "onward_referrals": [], "information_handling_explained": true,
            "ndtms_consent": true, "risk_of_self_harm": "low", "risk_to_others": "none",
            "existing_risk_management_plans": false, "risk_management_plan": "None needed",
            "complex_needs": false}}}),
    )
    .await;
    // KM 4.29: triaged, so a treatment start is awaited; nothing is offered yet (KM 4.8.3).
    assert!(
        queue(&app, &cookie, "treatment_start")
            .await
            .contains("A1111AA")
    );
    assert!(
        queue(&app, &cookie, "need_not_offered")
            .await
            .contains("A1111AA")
    );

    app.record(&token, &p1, json!({"type": "keyworker_allocated", "payload": {"worker": "worker.mdi", "allocated_on": d}})).await;
    app.record(&token, &p1, json!({"type": "care_plan_agreed", "payload": {
        "agreed_on": d, "goals": ["I want to stop drinking", "I want to see my kids"],
        "interventions": ["keyworking", "programme-abstinence", "detox"],
        "contingency": {"safety": "Knows who to tell on the wing", "risk": "Low risk of self-harm",
            "overdose_prevention": "Told about lower tolerance", "harm_reduction": "Advice given",
            "unplanned_exit_support": "Community team number given", "re_engagement": "Can self-refer by application"},
        "agreed_with_person": true, "review_on": (today() + Duration::weeks(12)).to_string()}})).await;
    // KM 3.5: the induction is due at the planning stage, on the keyworker's own list.
    let (_, mine) = app.page(&cookie, "/queues?mine=1&queue=induction").await;
    assert!(mine.contains("A1111AA"), "induction due on my list");
    let items: Vec<Value> = [
        "service_details",
        "involvement_and_peer_support",
        "general_expectations",
        "code_of_conduct",
        "suspension_and_exclusion",
        "complaints_procedure",
        "emergency_planning",
    ]
    .iter()
    .map(|i| json!({"item": i, "on": d}))
    .collect();
    app.record(
        &token,
        &p1,
        json!({"type": "induction_recorded", "payload": {"items": items}}),
    )
    .await;
    assert!(!queue(&app, &cookie, "induction").await.contains("A1111AA"));

    app.record(
        &token,
        &p1,
        json!({"type": "intervention_updated", "payload": {
        "intervention": "keyworking", "target": "alcohol", "status": "started", "on": d}}),
    )
    .await;
    // KM 3.7: treatment has started, so the start TOP is due; the triage is answered.
    assert!(queue(&app, &cookie, "top").await.contains("A1111AA"));
    assert!(
        !queue(&app, &cookie, "treatment_start")
            .await
            .contains("A1111AA")
    );
    app.record(&token, &p1, json!({"type": "top_completed", "payload": {
        "completed_on": d, "stage": "start",
        "substance_use": [{"substance": "alcohol", "days": 26, "typical_amount": "2 litres of cider"}],
        "injecting_days": 0, "shared_needles": false, "shared_other_equipment": false,
        "shoplifting_days": 4, "drug_selling_days": 0, "other_theft_days": 0, "assault_days": 1,
        "psychological_health": 6, "physical_health": 8, "quality_of_life": 5,
        "paid_work_days": 0, "education_days": 0, "acute_housing_problem": true, "risk_of_eviction": false}})).await;
    assert!(!queue(&app, &cookie, "top").await.contains("A1111AA"));

    for summary in ["Talked about triggers", "Planned the week"] {
        app.record(
            &token,
            &p1,
            json!({"type": "session_attended", "payload": {
            "session": {"kind": "keyworking"}, "on": d, "minutes": 45, "summary": summary}}),
        )
        .await;
    }
    let started = app.record(&token, &p1, json!({"type": "intervention_updated", "payload": {
        "intervention": "programme-abstinence", "target": "alcohol", "status": "started", "on": d}})).await;
    let course = started["events"][0]["id"].as_str().unwrap().to_string();
    app.record(
        &token,
        &p1,
        json!({"type": "session_attended", "payload": {
        "session": {"kind": "course", "course": course}, "on": d, "summary": "Session 1 of 8"}}),
    )
    .await;
    app.record(&token, &p1, json!({"type": "intervention_updated", "payload": {
        "intervention": "programme-abstinence", "target": "alcohol", "status": "completed", "on": d, "course": course}})).await;

    let three_hours_ago = (Utc::now() - Duration::hours(3)).to_rfc3339();
    let an_hour_ago = (Utc::now() - Duration::hours(1)).to_rfc3339();
    // Detoxification is the clinician's to record (KM 4.16–4.17).
    let clinician = app.api_token("clinician.mdi").await;
    app.record(&clinician, &p1, json!({"type": "clinical_event_recorded", "payload": {
        "step": "detox_started", "substance": "alcohol", "scope": "single_substance", "at": three_hours_ago}})).await;
    app.record(&clinician, &p1, json!({"type": "clinical_event_recorded", "payload": {
        "step": "detox_completed", "substance": "alcohol", "scope": "single_substance", "at": an_hour_ago}})).await;

    for (step, dose) in [
        ("vaccination_offered", None),
        ("vaccination_accepted", None),
        ("vaccine_dose", Some(1)),
        ("vaccine_dose", Some(2)),
        ("vaccine_dose", Some(3)),
        ("vaccination_completed", None),
    ] {
        let mut payload = json!({"virus": "hepatitis_b", "step": step, "on": d});
        if let Some(n) = dose {
            payload["dose"] = json!(n);
        }
        app.record(
            &token,
            &p1,
            json!({"type": "blood_borne_virus_recorded", "payload": payload}),
        )
        .await;
    }

    // A group session with three attendees, through the register page.
    let (s, form) = app.page(&cookie, "/group-sessions/new").await;
    assert_eq!(s, StatusCode::OK);
    let csrf = hidden_csrf(&form);
    let day = today();
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("topic", "Relapse prevention"),
        ("on-day", &day.format("%-d").to_string()),
        ("on-month", &day.format("%-m").to_string()),
        ("on-year", &day.format("%Y").to_string()),
        ("minutes", "90"),
        ("summary", "Warning signs and coping plans"),
        ("attendees", p1.as_str()),
        ("attendees", p2.as_str()),
        ("attendees", p3.as_str()),
    ];
    let before = app.store.log_length().unwrap();
    let r = app.post_form(&cookie, "/group-sessions", &fields).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let register = r.headers()[LOCATION].to_str().unwrap().to_string();
    assert_eq!(
        app.store.log_length().unwrap(),
        before + 3,
        "one event per attendee"
    );
    let (_, html) = app.page(&cookie, &register).await;
    for n in ["A1111AA", "A2222AA", "A3333AA"] {
        assert!(html.contains(n), "{n} on the register");
    }
    assert!(html.contains("Attendance register (3)"));
    // The same register sent twice records nobody twice.
    let again = app.post_form(&cookie, "/group-sessions", &fields).await;
    assert_eq!(again.headers()[LOCATION].to_str().unwrap(), register);
    assert_eq!(app.store.log_length().unwrap(), before + 3);

    let (s, page) = app.page(&cookie, &format!("/people/{p1}")).await;
    assert_eq!(s, StatusCode::OK);
    for line in [
        "Recovery care plan agreed: 2 goals",
        "Induction: 7 of 7 items covered",
        "Treatment Outcomes Profile (treatment start)",
        "Attended: 1-to-1 keyworking session",
        "Attended: Group session: Relapse prevention",
        "Attended: Programme session",
        "Completed: programme-abstinence (alcohol)",
        "Detoxification completed: Alcohol (That substance only)",
        "Hepatitis B vaccination course completed",
        "Keyworker allocated: worker.mdi",
    ] {
        assert!(page.contains(line), "timeline lacks {line:?}");
    }
    assert!(page.contains("I want to stop drinking; I want to see my kids"));
    assert!(page.contains("All seven items covered by"));
    assert!(
        page.contains("Psychosocial 0 days") && page.contains("Programme 0 days"),
        "waits"
    );
}

#[tokio::test]
async fn a_structured_psychosocial_intervention_is_refused_at_the_irc_with_the_paragraph() {
    let app = spawn_app().await;
    let prison = app.api_token("worker.mdi").await;
    let irc = app.api_token("worker.dvi").await;
    let d = today().to_string();
    let at_prison = register_in_custody(&app, &prison, "A4444AA", "Sam").await;
    app.record(
        &prison,
        &at_prison,
        json!({"type": "intervention_updated",
        "payload": {"intervention": "spi", "target": "opiates", "status": "offered", "on": d}}),
    )
    .await;
    let detainee = register_in_custody(&app, &irc, "A6666AA", "Ari").await;
    let before = app.store.log_length().unwrap();
    let (s, body) = app
        .post_json(
            &irc,
            &format!("/api/v1/people/{detainee}/events"),
            json!({
            "type": "intervention_updated",
            "payload": {"intervention": "spi", "target": "opiates", "status": "started", "on": d}}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("KM 4.14"), "{body}");
    assert_eq!(app.store.log_length().unwrap(), before, "nothing recorded");
    // KM 4.5.1: advice in the person's language is offered at the IRC.
    app.record(&irc, &detainee, json!({"type": "intervention_updated", "payload": {
        "intervention": "brief-advice", "target": "opiates", "status": "started", "on": d, "language": "Albanian"}})).await;
}

#[tokio::test]
async fn the_diary_lists_a_workers_appointments_and_exports_them() {
    let app = spawn_app().await;
    let token = app.api_token("worker.mdi").await;
    let cookie = app.sign_in_form("worker.mdi").await;
    let p = register_in_custody(&app, &token, "A5555AA", "Alex").await;
    let later = throughcare_domain::time::local_instant(
        today(),
        chrono::NaiveTime::from_hms_opt(15, 30, 0).unwrap(),
    );
    app.record(&token, &p, json!({"type": "appointment_offered", "payload": {
        "at": later, "worker": "worker.mdi", "clinic": "Healthcare clinic 2", "purpose": "Keyworking"}})).await;
    let (_, html) = app.page(&cookie, "/diary?worker=worker.mdi").await;
    assert!(
        html.contains("A5555AA") && html.contains("Healthcare clinic 2"),
        "today's list for the worker"
    );
    let (_, other) = app.page(&cookie, "/diary?worker=someone.else").await;
    assert!(!other.contains("A5555AA"));
    let (_, clinic) = app
        .page(&cookie, "/diary?clinic=healthcare%20clinic%202")
        .await;
    assert!(clinic.contains("A5555AA"), "the clinic's list");
    let (s, csv) = app
        .page(&cookie, &format!("/diary.csv?from={}", today()))
        .await;
    assert_eq!(s, StatusCode::OK);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "appointment_id,prison_number,establishment,start_local,worker,clinic,purpose,outcome"
    );
    let row = lines.next().unwrap();
    assert!(
        row.contains(",A5555AA,MDI,")
            && row.contains(" 15:30,worker.mdi,Healthcare clinic 2,Keyworking,"),
        "{row}"
    );
}

#[tokio::test]
async fn a_first_night_need_is_a_live_clock_in_the_work_queue_until_a_doctor_sees_the_person() {
    let app = spawn_app().await;
    let token = app.api_token("worker.mdi").await;
    let p = register_in_custody(&app, &token, "A7777AA", "Lee").await;
    let need_at = Utc::now() - Duration::minutes(10);
    // The first-night pathway is the clinician's to record; the worker sees the queue.
    let clinician = app.api_token("clinician.mdi").await;
    app.record(
        &clinician,
        &p,
        json!({"type": "clinical_event_recorded", "payload": {
        "step": "first_night_need", "at": need_at.to_rfc3339()}}),
    )
    .await;
    let (s, body) = app.get_json(&token, "/api/v1/queues/work").await;
    assert_eq!(s, StatusCode::OK);
    let item = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["queue"] == "first_night")
        .unwrap_or_else(|| panic!("no first-night item in {body}"))
        .clone();
    assert_eq!(item["prison_number"], "A7777AA");
    // Never more than four hours of clock time; more only when it stops overnight.
    let left = item["minutes_left"].as_i64().unwrap();
    let overnight = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["queue"] == "symptomatic_relief");
    assert!(left <= 230 || overnight, "{item}");
    app.record(
        &clinician,
        &p,
        json!({"type": "clinical_event_recorded", "payload": {
        "step": "seen_by_doctor", "at": Utc::now().to_rfc3339()}}),
    )
    .await;
    let (_, body) = app.get_json(&token, "/api/v1/queues/work").await;
    assert!(
        !body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["queue"] == "first_night"),
        "{body}"
    );
}

/// Issue 15: the work queue is read a page at a time (50 rows), ordered and
/// counted in the database; every page of one queue together is the queue.
#[tokio::test]
async fn the_work_queue_comes_a_page_at_a_time_with_its_total_and_counts() {
    let app = spawn_app().await;
    let token = app.api_token("worker.mdi").await;
    let d = today().to_string();
    for n in 0..62 {
        let p = register_in_custody(&app, &token, &format!("P{n:04}AA"), "Paged").await;
        app.record(
            &token,
            &p,
            json!({"type": "referral_made", "payload": {"source": "gp", "referred_on": d}}),
        )
        .await;
    }
    let (s, first) = app
        .get_json(&token, "/api/v1/queues/work?queue=assessment")
        .await;
    assert_eq!(s, StatusCode::OK, "{first}");
    assert_eq!(first["total"], 62);
    assert_eq!(first["pages"], 2);
    assert_eq!(first["items"].as_array().unwrap().len(), 50);
    let (_, second) = app
        .get_json(&token, "/api/v1/queues/work?queue=assessment&page=2")
        .await;
    assert_eq!(second["items"].as_array().unwrap().len(), 12);
    let mut seen: Vec<String> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["items"].as_array().unwrap())
        .map(|i| i["prison_number"].as_str().unwrap().to_string())
        .collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 62, "every item once across the pages");
    let counts = first["counts"].as_array().unwrap();
    assert!(
        counts
            .iter()
            .any(|c| c["queue"] == "assessment" && c["items"] == 62),
        "{counts:?}"
    );
    // Bad paging is named and answers nothing else.
    for bad in ["page=0", "page=two", "queue=nonsense"] {
        let (s, body) = app
            .get_json(&token, &format!("/api/v1/queues/work?{bad}"))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
    }
    // The page: the first 50 of the queue, with a way to the rest.
    let cookie = app.sign_in_form("worker.mdi").await;
    let (_, html) = app.page(&cookie, "/queues").await;
    assert!(html.contains("Showing the first 50 of 62"), "{html}");
    let (_, html) = app.page(&cookie, "/queues?queue=assessment&page=2").await;
    assert!(html.contains("Page 2 of 2"), "{html}");
    assert_eq!(html.matches("data-queue=\"assessment\"").count(), 1);
    assert!(html.matches("/people/").count() >= 12);
}
