//! The NDTMS extract end to end (KM 3.3.6, 4.28; docs/ndtms.md): people recorded
//! through the API, the extract made by the real binary and downloaded by a manager;
//! a consented person's rows are there, a person who refused is nowhere in the file,
//! and a missing mandatory field fails the completeness check by name.

use chrono::Utc;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::process::Output;
use throughcare_domain::ndtms::client_id;
use throughcare_domain::record_ids::PersonId;
use throughcare_domain::returns::period::Period;

mod common;
use common::{TestApp, output_text, spawn_app, throughcare_cli};

fn today() -> String {
    throughcare_domain::time::local_date(Utc::now()).to_string()
}

fn quarter() -> String {
    Period::quarter_of(throughcare_domain::time::local_date(Utc::now())).name
}

/// A person at MDI referred, screened (unless `screened` is false), assessed, with an
/// NDTMS consent decision, keyworking started and a start TOP — all today.
async fn in_treatment(
    app: &TestApp,
    token: &str,
    number: &str,
    family: &str,
    ndtms: &str,
    screened: bool,
) -> String {
    let (s, body) = app
        .post_json(
            token,
            "/api/v1/people",
            common::person_json(number, "Sam", family, "1985-03-02"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let p = body["id"].as_str().unwrap().to_string();
    let d = today();
    let uses: Vec<Value> = [
        "alcohol",
        "opiates",
        "crack",
        "cocaine",
        "amphetamines",
        "cannabis",
    ]
    .iter()
    .map(|s| json!({"substance": s, "days": if *s == "opiates" { 25 } else { 0 }}))
    .collect();
    for event in [
        json!({"type": "received", "payload": {"reception_type": "sentenced"}}),
        json!({"type": "referral_made", "payload": {"source": "healthcare", "referred_on": d}}),
        json!({"type": "assessment_completed", "payload": {"kind": "initial", "assessed_on": d,
            "summary": "Uses heroin daily", "structured_treatment_needed": true}}),
        json!({"type": "consent_recorded", "payload": {"purpose": "ndtms", "decision": ndtms, "decided_on": d}}),
        json!({"type": "intervention_updated", "payload": {
            "intervention": "keyworking", "target": "opiates", "status": "started", "on": d}}),
        json!({"type": "top_completed", "payload": {"completed_on": d, "stage": "start",
            "substance_use": uses,
            "injecting_days": 0, "shared_needles": false, "shared_other_equipment": false,
            "shoplifting_days": 0, "drug_selling_days": 0, "other_theft_days": 0, "assault_days": 0,
            "psychological_health": 8, "physical_health": 9, "quality_of_life": 7,
            "paid_work_days": 0, "education_days": 0, "acute_housing_problem": false, "risk_of_eviction": false}}),
    ] {
        app.record(token, &p, event).await;
    }
    if screened {
        app.record(token, &p, json!({"type": "screening_completed", "payload": {
            "setting": "on_referral", "screened_on": d, "problem_substances": ["heroin", "crack"],
            "injecting": "previous", "offending_linked": false, "structured_treatment_needed": true}}))
        .await;
    }
    p
}

fn extract(app: &TestApp, args: &[&str]) -> Output {
    let quarter = quarter();
    let all = [
        &["extract", "ndtms", "--period", quarter.as_str()][..],
        args,
    ]
    .concat();
    throughcare_cli(app.database_url(), &all)
}

fn person(id: &str) -> PersonId {
    PersonId(id.parse().unwrap())
}

#[tokio::test]
async fn the_extract_holds_consented_people_only_and_fails_on_a_missing_field() {
    let app = spawn_app().await;
    let token = app.api_token("worker.mdi").await;
    let given = in_treatment(&app, &token, "N1111NN", "Consenting", "given", true).await;
    let refused = in_treatment(&app, &token, "N2222NN", "Refusing", "refused", true).await;

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ndtms.csv");
    let out = extract(&app, &["--output", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", output_text(&out));
    let csv = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "header, the modality and the TOP: {csv}");
    assert!(
        lines[0].starts_with("CLIENT_ID,AGENCY,FIRST_INITIAL"),
        "{csv}"
    );
    let client = client_id("kent-medway", person(&given));
    let d = today().replace('-', "");
    assert!(
        lines[1].starts_with(&format!(
            "{client},MDI,S,C,1985-03-02,9,ME14 1XQ,{client}-{d},"
        )),
        "{csv}"
    );
    assert!(
        lines[1].contains(",HEALTH,") && lines[1].contains(",HEROIN,CRACK,,P,"),
        "{csv}"
    );
    assert!(lines[1].contains(",PSYCH,"), "{csv}");
    assert!(
        lines[2].contains(",S,0,25,0,0,0,0,"),
        "the start TOP: {csv}"
    );
    // The person who refused is nowhere: not their identifier, number or name.
    for absent in [
        client_id("kent-medway", person(&refused)),
        refused.clone(),
        "N2222NN".to_string(),
        "Refusing".to_string(),
    ] {
        assert!(!csv.contains(&absent), "{absent} in {csv}");
    }
    assert!(
        !csv.contains("N1111NN") && !csv.contains(&given),
        "pseudonymous: {csv}"
    );
    let meta: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("ndtms.csv.meta.json")).unwrap())
            .unwrap();
    assert_eq!(meta["dataset_version"], "throughcare-ndtms-1");
    assert_eq!(meta["rows"], 2);
    assert_eq!(meta["missing_fields"], 0);

    // A consented person with no screening: DRUG1 and INJECTING_STATUS are named and
    // nothing is written, unless the operator allows an incomplete file.
    let unscreened = in_treatment(&app, &token, "N3333NN", "Unscreened", "given", false).await;
    let second = dir.path().join("second.csv");
    let out = extract(&app, &["--output", second.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", output_text(&out));
    assert!(
        output_text(&out).contains("DRUG1 is missing"),
        "{}",
        output_text(&out)
    );
    assert!(
        output_text(&out).contains("INJECTING_STATUS is missing"),
        "{}",
        output_text(&out)
    );
    assert!(
        !output_text(&out).contains("N3333NN"),
        "no prison numbers on the terminal"
    );
    assert!(!second.exists());
    let out = extract(
        &app,
        &["--output", second.to_str().unwrap(), "--allow-incomplete"],
    );
    assert!(out.status.success(), "{}", output_text(&out));
    assert_eq!(std::fs::read_to_string(&second).unwrap().lines().count(), 5);

    // The manager's download is refused while incomplete, and the completeness page
    // names the field with a link to the person.
    let manager = app.sign_in_form("manager.mdi").await;
    let q = quarter();
    let (s, body) = app
        .page(&manager, &format!("/ndtms/extract.csv?period={q}"))
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{body}");
    let (s, page) = app
        .page(&manager, &format!("/ndtms/completeness?period={q}"))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains(&format!("/people/{unscreened}")), "{page}");
    assert!(
        page.contains("DRUG1") && !page.contains(&format!("/people/{given}\"")),
        "{page}"
    );
    let (s, body) = app
        .page(
            &manager,
            &format!("/ndtms/extract.csv?period={q}&allow_incomplete=yes"),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        body.contains(&client) && !body.contains("N2222NN"),
        "{body}"
    );
    assert!(
        app.store
            .access_log(person(&given))
            .unwrap()
            .iter()
            .any(|e| e.action == "ndtms-extract"),
        "the download is in the access audit"
    );
    // A bad period is named; a worker may not download it.
    let (s, body) = app.page(&manager, "/ndtms/extract.csv?period=2026Q9").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(body.contains("period"), "{body}");
    let worker = app.sign_in_form("worker.mdi").await;
    let (s, _) = app
        .page(&worker, &format!("/ndtms/extract.csv?period={q}"))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}
