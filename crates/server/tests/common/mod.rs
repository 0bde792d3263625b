//! What the server's integration tests share: the real app on port 0 over a fresh
//! SQLite file, with two synthetic staff accounts.

#![allow(dead_code)]

use chrono::Utc;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::{Value, json};
use std::sync::Arc;
use throughcare::app::AppState;
use throughcare_domain::identifiers::{EstablishmentCode, StaffUsername};
use throughcare_domain::profile::Profile;
use throughcare_store::{Role, StaffAccount, Store};

pub const PASSWORD: &str = "correct-horse-battery";

pub struct TestApp {
    pub base: String,
    pub store: Arc<dyn Store>,
    pub client: reqwest::Client,
    _db: TestDatabase,
}

/// A fresh database for one test: a SQLite file by default, or a new PostgreSQL
/// database when `THROUGHCARE_TEST_BACKEND=postgres` (the test script runs the
/// server tests once per backend), dropped afterwards.
pub struct TestDatabase {
    pub url: String,
    _dir: tempfile::TempDir,
    admin: Option<(String, String)>,
}

impl TestDatabase {
    pub fn new() -> TestDatabase {
        let dir = tempfile::tempdir().unwrap();
        if std::env::var("THROUGHCARE_TEST_BACKEND").as_deref() == Ok("postgres") {
            let admin = std::env::var("THROUGHCARE_TEST_POSTGRES_URL")
                .expect("THROUGHCARE_TEST_BACKEND=postgres needs THROUGHCARE_TEST_POSTGRES_URL: run through scripts/with-postgres.sh");
            let name = format!("tc_{}", uuid::Uuid::new_v4().simple());
            admin_sql(&admin, format!("CREATE DATABASE {name}"));
            let base = admin
                .rsplit_once('/')
                .map(|(b, _)| b.to_string())
                .unwrap_or_else(|| admin.clone());
            TestDatabase {
                url: format!("{base}/{name}"),
                _dir: dir,
                admin: Some((admin, name)),
            }
        } else {
            let url = dir
                .path()
                .join("test.sqlite")
                .to_string_lossy()
                .into_owned();
            TestDatabase {
                url,
                _dir: dir,
                admin: None,
            }
        }
    }
}

/// Runs SQL on the test server's admin database, on a thread of its own: the
/// synchronous client must not run inside the test's async runtime.
fn admin_sql(admin: &str, sql: String) {
    let admin = admin.to_string();
    std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&admin, postgres::NoTls)
            .expect("the test PostgreSQL server answers");
        c.batch_execute(&sql).expect("admin SQL runs");
    })
    .join()
    .expect("admin SQL thread");
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.admin {
            admin_sql(
                admin,
                format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            );
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with("kent-medway").await
}

/// The app over a fresh database with the named built-in profile (the same test
/// accounts, whatever the profile's establishments).
pub async fn spawn_app_with(profile: &str) -> TestApp {
    let db = TestDatabase::new();
    let profile = Profile::builtin(profile).unwrap();
    let store: Arc<dyn Store> = Arc::from(throughcare_store::open(&db.url, &profile).unwrap());
    let hash = throughcare::auth::hash_password(PASSWORD).unwrap();
    for (user, est, role) in [
        ("worker.mdi", "MDI", Role::Worker),
        ("worker.eyi", "EYI", Role::Worker),
        ("worker.dvi", "DVI", Role::Worker),
        // Clinical events are the clinician's (KM 4.16–4.17; issue 14).
        ("clinician.mdi", "MDI", Role::Clinician),
        ("clinician.eyi", "EYI", Role::Clinician),
    ] {
        store
            .put_account(&StaffAccount {
                username: StaffUsername::parse(user).unwrap(),
                display_name: format!("Test {user}"),
                role,
                password_hash: hash.clone(),
                establishments: vec![EstablishmentCode::parse(est).unwrap()],
                active: true,
                created_at: Utc::now(),
            })
            .unwrap();
    }
    store
        .put_account(&StaffAccount {
            username: StaffUsername::parse("manager.mdi").unwrap(),
            display_name: "Test manager".into(),
            role: Role::Manager,
            password_hash: hash.clone(),
            establishments: vec![EstablishmentCode::parse("MDI").unwrap()],
            active: true,
            created_at: Utc::now(),
        })
        .unwrap();
    let mut state = AppState::new(store.clone(), profile, false);
    state.secure_cookies = false;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(throughcare::app::serve(listener, state));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestApp {
        base,
        store,
        client,
        _db: db,
    }
}

/// The JSON body that registers a synthetic person through the API, with every
/// equality item "not stated".
pub fn person_json(
    prison_number: &str,
    given_name: &str,
    family_name: &str,
    date_of_birth: &str,
) -> serde_json::Value {
    serde_json::json!({
        "prison_number": prison_number,
        "given_name": given_name,
        "family_name": family_name,
        "date_of_birth": date_of_birth,
        "home_postcode": "ME14 1XQ",
        "equality": {
            "sex": "not_stated", "gender_identity_same_as_birth": "not_stated", "ethnicity": "not_stated",
            "religion": "not_stated", "sexual_orientation": "not_stated", "disability": "not_stated",
            "learning_disability": "not_stated", "sight_impairment": "not_stated", "hearing_impairment": "not_stated",
            "pregnant": "not_stated", "nationality": null, "first_language": null, "interpreter_needed": "not_stated"
        },
        "priority": {"prolific_offender": false, "dual_diagnosis": false}
    })
}

/// Speaking to the app as a browser or an API client would.
impl TestApp {
    /// The app's database URL, for running the real binary against it.
    pub fn database_url(&self) -> &str {
        &self._db.url
    }

    /// Registers a person through the API as `token`'s user, insisting it is recorded
    /// (201); the new person's id.
    pub async fn register(&self, token: &str, person: Value) -> String {
        let (s, body) = self.post_json(token, "/api/v1/people", person).await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
        body["id"].as_str().unwrap().to_string()
    }

    /// Records an event for `person` through the API as `token`'s user, insisting it
    /// is recorded (201); the response body.
    pub async fn record(&self, token: &str, person: &str, body: Value) -> Value {
        let (s, out) = self
            .post_json(
                token,
                &format!("/api/v1/people/{person}/events"),
                body.clone(),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{body} → {out}");
        out
    }

    pub async fn api_token(&self, user: &str) -> String {
        let r = self
            .client
            .post(format!("{}/api/v1/session", self.base))
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

    pub async fn post_json(&self, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn get_json(&self, token: &str, path: &str) -> (StatusCode, Value) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Signs in through the form; returns the session cookie.
    pub async fn sign_in_form(&self, user: &str) -> String {
        let page = self
            .client
            .get(format!("{}/sign-in", self.base))
            .send()
            .await
            .unwrap();
        let csrf_cookie = cookie_value(&page, "tc_csrf");
        let html = page.text().await.unwrap();
        let token = hidden_csrf(&html);
        assert_eq!(token, csrf_cookie);
        let r = self
            .client
            .post(format!("{}/sign-in", self.base))
            .header(COOKIE, format!("tc_csrf={csrf_cookie}"))
            .form(&[
                ("csrf_token", token.as_str()),
                ("username", user),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        format!("tc_session={}", cookie_value(&r, "tc_session"))
    }

    pub async fn page(&self, cookie: &str, path: &str) -> (StatusCode, String) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .header(COOKIE, cookie)
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    }

    /// A signed-in GET returning the status and the body's bytes (downloads).
    pub async fn bytes(&self, cookie: &str, path: &str) -> (StatusCode, Vec<u8>) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .header(COOKIE, cookie)
            .send()
            .await
            .unwrap();
        (r.status(), r.bytes().await.unwrap().to_vec())
    }

    /// Adds an account with the test password.
    pub fn add_account(&self, user: &str, role: Role, establishments: &[&str]) {
        self.store
            .put_account(&StaffAccount {
                username: StaffUsername::parse(user).unwrap(),
                display_name: format!("Test {user}"),
                role,
                password_hash: throughcare::auth::hash_password(PASSWORD).unwrap(),
                establishments: establishments
                    .iter()
                    .map(|e| EstablishmentCode::parse(e).unwrap())
                    .collect(),
                active: true,
                created_at: Utc::now(),
            })
            .unwrap();
    }

    pub async fn post_form(
        &self,
        cookie: &str,
        path: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.base))
            .header(COOKIE, cookie)
            .form(fields)
            .send()
            .await
            .unwrap()
    }
}

pub fn cookie_value(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            v.strip_prefix(&format!("{name}="))
                .map(|rest| rest.split(';').next().unwrap_or("").to_string())
        })
        .unwrap_or_else(|| panic!("no {name} cookie set"))
}

pub fn hidden_csrf(html: &str) -> String {
    let at = html
        .find("name=\"csrf_token\" value=\"")
        .expect("a csrf field")
        + "name=\"csrf_token\" value=\"".len();
    html[at..].split('"').next().unwrap().to_string()
}

/// Runs the real `throughcare` binary against the database `db` with `args`, with no
/// database or profile from the environment.
pub fn throughcare_cli(db: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_throughcare"))
        .arg("--database")
        .arg(db)
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("THROUGHCARE_PROFILE")
        .output()
        .unwrap()
}

/// A command's standard output then standard error, as text.
pub fn output_text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}
