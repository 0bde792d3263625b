//! Operations endpoints over HTTP: `/ping`, `/health` (with a working database and
//! with one that can no longer be read) and `/metrics` (route templates, never ids;
//! the store gauges).

use chrono::Utc;
use regex::Regex;
use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};
use std::sync::Arc;
use throughcare::app::AppState;
use throughcare_domain::profile::Profile;
use throughcare_store::Store;

mod common;
use common::{PASSWORD, TestApp, TestDatabase, spawn_app};

async fn api_token(app: &TestApp, user: &str) -> String {
    let r = app
        .client
        .post(format!("{}/api/v1/session", app.base))
        .json(&json!({"username": user, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn post_json(app: &TestApp, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
    let r = app
        .client
        .post(format!("{}{path}", app.base))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn person_body(prison_number: &str) -> Value {
    common::person_json(prison_number, "Alex", "Example", "1990-05-01")
}

fn today() -> String {
    throughcare_domain::time::local_date(Utc::now()).to_string()
}

/// Registers a person at the token's establishment; returns their id.
async fn register(app: &TestApp, token: &str, prison_number: &str) -> String {
    let (status, body) = post_json(app, token, "/api/v1/people", person_body(prison_number)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_str().unwrap().to_string()
}

/// Registers a person and refers them, which starts their first-assessment clock.
async fn register_and_refer(app: &TestApp, token: &str, prison_number: &str) -> String {
    let id = register(app, token, prison_number).await;
    let (status, body) = post_json(
        app,
        token,
        &format!("/api/v1/people/{id}/events"),
        json!({"type": "referral_made", "payload": {"source": "healthcare", "referred_on": today()}}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    id
}

async fn get(client: &reqwest::Client, url: String) -> reqwest::Response {
    client.get(url).send().await.unwrap()
}

async fn scrape(app: &TestApp) -> String {
    let r = get(&app.client, format!("{}/metrics", app.base)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let content_type = r.headers()[CONTENT_TYPE].to_str().unwrap().to_string();
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    r.text().await.unwrap()
}

/// The value of the sample whose name and labels are exactly `series`.
fn sample(exposition: &str, series: &str) -> Option<f64> {
    exposition.lines().find_map(|line| {
        line.strip_prefix(series)
            .and_then(|rest| rest.strip_prefix(' '))
            .map(|v| v.trim().parse().unwrap())
    })
}

#[tokio::test]
async fn ping_answers_pong_without_a_session() {
    let app = spawn_app().await;
    let r = get(&app.client, format!("{}/ping", app.base)).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert_eq!(r.text().await.unwrap(), "pong");
}

#[tokio::test]
async fn health_is_ok_when_the_database_answers() {
    let app = spawn_app().await;
    let r = get(&app.client, format!("{}/health", app.base)).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"status": "ok", "database": "reachable"})
    );
}

/// Makes the test database unusable under a store that is already open, the way a
/// failed disk or a lost server would: for SQLite, the files are overwritten in
/// place (the open connection keeps its file handles, so deleting or replacing
/// the files would go unnoticed). All three files: with the database or its WAL
/// alone overwritten, SQLite trusts the unchanged WAL index in `-shm` and answers
/// from its page cache. For PostgreSQL, the server ends every connection to the
/// database.
fn break_database(db: &TestDatabase) {
    if db.url.starts_with("postgres") {
        let admin = std::env::var("THROUGHCARE_TEST_POSTGRES_URL").unwrap();
        let name = db.url.rsplit_once('/').unwrap().1.to_string();
        // The synchronous client must not run inside the test's runtime.
        std::thread::spawn(move || {
            let mut c = postgres::Client::connect(&admin, postgres::NoTls).unwrap();
            c.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = $1 AND pid <> pg_backend_pid()",
                &[&name],
            )
            .unwrap();
        })
        .join()
        .unwrap();
    } else {
        for suffix in ["", "-wal", "-shm"] {
            let path = format!("{}{suffix}", db.url);
            if std::path::Path::new(&path).exists() {
                let len = std::fs::metadata(&path).unwrap().len().max(4096);
                let garbage = vec![0xA5u8; usize::try_from(len).unwrap()];
                // `write` truncates and rewrites the same file, not a new one.
                std::fs::write(&path, garbage).unwrap();
            }
        }
    }
}

#[tokio::test]
async fn health_is_unavailable_when_the_database_cannot_be_read() {
    let db = TestDatabase::new();
    let profile = Profile::builtin("kent-medway").unwrap();
    let store: Arc<dyn Store> = Arc::from(throughcare_store::open(&db.url, &profile).unwrap());
    let state = AppState::new(store, profile, false);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(throughcare::app::serve(listener, state));
    let client = reqwest::Client::new();

    let r = get(&client, format!("{base}/health")).await;
    assert_eq!(r.status(), StatusCode::OK, "healthy before");

    break_database(&db);

    let r = get(&client, format!("{base}/health")).await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"status": "unavailable", "database": "unreachable"})
    );
    // Liveness does not depend on the database, and metrics still answer, saying so.
    let r = get(&client, format!("{base}/ping")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = get(&client, format!("{base}/metrics")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let exposition = r.text().await.unwrap();
    assert_eq!(sample(&exposition, "throughcare_database_up"), Some(0.0));
    assert_eq!(sample(&exposition, "throughcare_log_events"), None);
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_never_show_an_id() {
    let app = spawn_app().await;
    let token = api_token(&app, "worker.mdi").await;
    let id = register(&app, &token, "A1234BC").await;
    for _ in 0..2 {
        // Without a session: the page answers, and is counted, all the same.
        get(&app.client, format!("{}/people/{id}", app.base)).await;
    }
    let r = app
        .client
        .get(format!("{}/api/v1/people/{id}", app.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    get(&app.client, format!("{}/no/such/page/{id}", app.base)).await;

    let exposition = scrape(&app).await;

    let page_requests: f64 = exposition
        .lines()
        .filter(|l| {
            l.starts_with("throughcare_http_requests_total{")
                && l.contains(r#"route="/people/{id}""#)
                && l.contains(r#"method="GET""#)
        })
        .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
        .sum();
    assert_eq!(page_requests, 2.0, "{exposition}");
    assert!(
        exposition.contains(r#"route="/api/v1/people/{id}",status="200""#),
        "{exposition}"
    );
    assert!(
        exposition.contains(r#"throughcare_http_request_duration_seconds_bucket{"#)
            && exposition.contains(r#"route="/people/{id}""#),
        "{exposition}"
    );
    assert!(
        exposition.contains(r#"route="unmatched",status="404""#),
        "{exposition}"
    );
    let uuid =
        Regex::new(r"(?i)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").unwrap();
    assert!(!uuid.is_match(&exposition), "{exposition}");
    for personal in ["A1234BC", "Example", "ME14", &token] {
        assert!(!exposition.contains(personal), "{personal} in {exposition}");
    }
}

#[tokio::test]
async fn metrics_report_open_assessment_clocks_per_establishment_and_the_log_length() {
    let app = spawn_app().await;
    let mdi = api_token(&app, "worker.mdi").await;
    let eyi = api_token(&app, "worker.eyi").await;
    register_and_refer(&app, &mdi, "A1234BC").await;
    register_and_refer(&app, &mdi, "B2345CD").await;
    register(&app, &mdi, "C3456DE").await; // no referral, no clock
    register_and_refer(&app, &eyi, "D4567EF").await;

    let exposition = scrape(&app).await;

    assert_eq!(
        sample(
            &exposition,
            r#"throughcare_assessments_due{establishment="MDI"}"#
        ),
        Some(2.0),
        "{exposition}"
    );
    assert_eq!(
        sample(
            &exposition,
            r#"throughcare_assessments_due{establishment="EYI"}"#
        ),
        Some(1.0),
        "{exposition}"
    );
    let events = app.store.events_after(0, usize::MAX).unwrap().len();
    assert!(events >= 7, "four registrations and three referrals");
    assert_eq!(
        sample(&exposition, "throughcare_log_events"),
        Some(events as f64),
        "{exposition}"
    );
    assert_eq!(sample(&exposition, "throughcare_database_up"), Some(1.0));
}
