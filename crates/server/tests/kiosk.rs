//! The kiosk for people in prison over HTTP (issue 6): a person answers a survey
//! with a one-time code a worker issued, once; a wrong or used code records
//! nothing; the kiosk reaches no other page or API (every other route answers as
//! signed out to a client holding only the kiosk's cookie) and links nowhere else;
//! paper responses; self-referral from the kiosk and from the in-cell telephone
//! system into the referral inbox; the telephone system's account is refused
//! everywhere else; anonymous results for managers.

use chrono::Utc;
use regex::Regex;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::{Value, json};
use throughcare_domain::identifiers::{EstablishmentCode, StaffUsername};
use throughcare_store::{Role, StaffAccount};

mod common;
use common::{PASSWORD, TestApp, cookie_value, hidden_csrf, person_json, spawn_app};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// A kiosk: a client with no staff session, holding only the kiosk's cookie.
struct Kiosk {
    cookie: String,
    token: String,
}

impl Kiosk {
    async fn open(app: &TestApp) -> Kiosk {
        let r = app
            .client
            .get(format!("{}/kiosk", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let set: Vec<String> = r
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect();
        assert_eq!(set.len(), 1, "the kiosk sets one cookie: {set:?}");
        assert!(set[0].contains("Path=/kiosk"), "{set:?}");
        assert_eq!(r.headers()["cache-control"], "no-store");
        let value = cookie_value(&r, "tc_kiosk");
        let html = r.text().await.unwrap();
        let token = hidden_csrf(&html);
        assert_eq!(token, value);
        Kiosk {
            cookie: format!("tc_kiosk={value}"),
            token,
        }
    }

    async fn post(&self, app: &TestApp, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut all = vec![("csrf_token", self.token.as_str())];
        all.extend_from_slice(fields);
        app.post_form(&self.cookie, path, &all).await
    }

    async fn get(&self, app: &TestApp, path: &str) -> (StatusCode, String) {
        app.page(&self.cookie, path).await
    }
}

fn today() -> chrono::NaiveDate {
    throughcare_domain::time::local_date(Utc::now())
}

/// Issues a satisfaction survey code as a worker, through the page; returns it.
async fn issue_satisfaction_code(app: &TestApp, staff: &str) -> String {
    let (s, page) = app.page(staff, "/surveys").await;
    assert_eq!(s, StatusCode::OK, "{page}");
    let r = app
        .post_form(
            staff,
            "/surveys/codes",
            &[("csrf_token", &hidden_csrf(&page))],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()["cache-control"],
        "no-store",
        "shown once, never cached"
    );
    shown_code(&r.text().await.unwrap())
}

fn shown_code(html: &str) -> String {
    Regex::new(r#"id="survey-code">([A-Z0-9-]+)<"#)
        .unwrap()
        .captures(html)
        .unwrap_or_else(|| panic!("no code shown: {html}"))[1]
        .to_string()
}

/// Every event in the log, as the API shows it (type, person, payload, …).
fn log(app: &TestApp) -> Vec<throughcare_domain::events::RecordedEvent> {
    app.store.events_after(0, usize::MAX).unwrap()
}

fn of_type(app: &TestApp, type_name: &str) -> Vec<throughcare_domain::events::RecordedEvent> {
    log(app)
        .into_iter()
        .filter(|e| e.kind.type_name() == type_name)
        .collect()
}

/// Every route of the app (the router's own table), with sample values for its
/// parameters.
fn every_route(person: &str) -> Vec<String> {
    let mut paths: Vec<String> = throughcare::app::route_table()
        .into_iter()
        .map(|(p, _)| p.to_string())
        .collect();
    paths.sort();
    paths.dedup();
    assert!(paths.len() > 30, "the routes were found: {paths:?}");
    paths
        .into_iter()
        .map(|p| {
            p.replace("{id}", person)
                .replace("{form}", "referral")
                .replace("{event_id}", "00000000-0000-4000-8000-000000000001")
        })
        .collect()
}

/// Routes anyone may call: operations, signing in, static assets, the API's
/// description — and the kiosk itself.
fn public(path: &str) -> bool {
    matches!(
        path,
        "/ping" | "/health" | "/metrics" | "/sign-in" | "/api/v1/session" | "/api/v1/openapi.json"
    ) || path.starts_with("/assets/")
        || path == "/kiosk"
        || path.starts_with("/kiosk/")
}

/// Asserts that a route answers as to someone signed out, for GET and POST: a page
/// redirects to the sign-in page, the API says 401; a method the route does not
/// have is 405. At least one method must answer as signed out.
async fn assert_signed_out(
    app: &TestApp,
    path: &str,
    send: impl Fn(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
) {
    let mut refused = 0;
    for method in [reqwest::Method::GET, reqwest::Method::POST] {
        let r = send(
            app.client
                .request(method.clone(), format!("{}{path}", app.base)),
        )
        .send()
        .await
        .unwrap();
        let status = r.status();
        match status {
            StatusCode::SEE_OTHER => {
                assert_eq!(r.headers()[LOCATION], "/sign-in", "{method} {path}");
                refused += 1;
            }
            StatusCode::UNAUTHORIZED => refused += 1,
            StatusCode::METHOD_NOT_ALLOWED => {}
            other => panic!(
                "{method} {path} answered {other}: {}",
                r.text().await.unwrap()
            ),
        }
    }
    assert!(refused > 0, "{path} answered neither method as signed out");
}

// ---------------------------------------------------------------------------
// The survey at the kiosk
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_person_answers_a_satisfaction_survey_once_with_the_code_a_worker_issued() {
    let app = spawn_app().await;
    let worker = app.sign_in_form("worker.mdi").await;
    let code = issue_satisfaction_code(&app, &worker).await;
    assert!(
        Regex::new(r"^[A-Z0-9]{3}-[A-Z0-9]{3}-[A-Z0-9]{3}$")
            .unwrap()
            .is_match(&code)
    );
    // Only the code's hash is in the log.
    let issued = of_type(&app, "survey_code_issued");
    assert_eq!(issued.len(), 1);
    let payload = issued[0].kind.payload_json();
    assert!(
        !payload.contains(&code) && !payload.contains(&code.replace('-', "")),
        "{payload}"
    );
    assert!(payload.contains("\"survey\":\"satisfaction\""), "{payload}");

    let kiosk = Kiosk::open(&app).await;
    // Typed however: lower case, no hyphens.
    let typed = code.replace('-', " ").to_lowercase();
    let r = kiosk.post(&app, "/kiosk/code", &[("code", &typed)]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("Annual satisfaction survey"), "{html}");
    assert!(html.contains("Very dissatisfied"), "the five-point scale");

    // No answer chosen: the field is named and nothing is recorded.
    let before = app.store.log_length().unwrap();
    let r = kiosk.post(&app, "/kiosk/survey", &[("code", &code)]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("href=\"#rating\"") && html.contains("Choose how satisfied you are"),
        "{html}"
    );
    assert_eq!(app.store.log_length().unwrap(), before);

    let r = kiosk
        .post(
            &app,
            "/kiosk/survey",
            &[
                ("code", &code),
                ("rating", "satisfied"),
                ("comments", "The group work helped"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[LOCATION], "/kiosk/thank-you");
    let (s, html) = kiosk.get(&app, "/kiosk/thank-you").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("Thank you for your answer"), "{html}");

    let responses = of_type(&app, "survey_response_recorded");
    assert_eq!(responses.len(), 1);
    let e = &responses[0];
    assert_eq!(e.person, None, "anonymous");
    assert_eq!(e.recorded_by.as_str(), "kiosk");
    assert_eq!(e.establishment.as_str(), "MDI", "where the code was issued");
    let payload: Value = serde_json::from_str(&e.kind.payload_json()).unwrap();
    assert_eq!(payload["rating"], "satisfied");
    assert_eq!(payload["received_on"], today().to_string());

    // The same code again: refused with a clear message, nothing recorded.
    let before = app.store.log_length().unwrap();
    for path in ["/kiosk/code", "/kiosk/survey"] {
        let r = kiosk
            .post(&app, path, &[("code", &code), ("rating", "very_satisfied")])
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        let html = r.text().await.unwrap();
        assert!(html.contains("already been used"), "{path}: {html}");
    }
    assert_eq!(app.store.log_length().unwrap(), before);
}

#[tokio::test]
async fn a_wrong_code_or_a_form_from_elsewhere_records_nothing() {
    let app = spawn_app().await;
    let worker = app.sign_in_form("worker.mdi").await;
    let code = issue_satisfaction_code(&app, &worker).await;
    let kiosk = Kiosk::open(&app).await;
    let before = app.store.log_length().unwrap();
    for (typed, message) in [
        ("", "Enter the survey code you were given"),
        ("hello", "9 letters and numbers"),
        ("K7P-43Q-9X0", "9 letters and numbers"),
        ("AAA-AAA-AAA", "This code is not right"),
    ] {
        for path in ["/kiosk/code", "/kiosk/survey"] {
            let r = kiosk
                .post(&app, path, &[("code", typed), ("rating", "satisfied")])
                .await;
            assert_eq!(
                r.status(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "{typed:?} {path}"
            );
            let html = r.text().await.unwrap();
            assert!(html.contains(message), "{typed:?} {path}: {html}");
            assert!(html.contains("href=\"#code\""), "the field is named");
        }
    }
    // Without the kiosk's cookie, or with another token, or from another site.
    let r = app
        .post_form(
            "",
            "/kiosk/survey",
            &[
                ("csrf_token", &kiosk.token),
                ("code", &code),
                ("rating", "satisfied"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app
        .post_form(
            &kiosk.cookie,
            "/kiosk/survey",
            &[
                ("csrf_token", "0".repeat(64).as_str()),
                ("code", &code),
                ("rating", "satisfied"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app
        .client
        .post(format!("{}/kiosk/survey", app.base))
        .header(COOKIE, &kiosk.cookie)
        .header("origin", "https://elsewhere.example")
        .form(&[
            ("csrf_token", kiosk.token.as_str()),
            ("code", &code),
            ("rating", "satisfied"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.store.log_length().unwrap(), before, "nothing recorded");
    // The code still works.
    let r = kiosk
        .post(
            &app,
            "/kiosk/survey",
            &[("code", &code), ("rating", "neither")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

// ---------------------------------------------------------------------------
// Nothing else reachable
// ---------------------------------------------------------------------------

#[tokio::test]
async fn the_kiosk_page_cannot_reach_any_other_page_or_api() {
    let app = spawn_app().await;
    let token = app.api_token("worker.mdi").await;
    let person = app
        .register(
            &token,
            person_json("A1111AA", "Sam", "Kiosktest", "1990-05-01"),
        )
        .await;
    let worker = app.sign_in_form("worker.mdi").await;
    let code = issue_satisfaction_code(&app, &worker).await;

    // A kiosk session that has been through a survey.
    let kiosk = Kiosk::open(&app).await;
    let r = kiosk.post(&app, "/kiosk/code", &[("code", &code)]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let routes = every_route(&person);
    let mut checked = 0;
    for path in routes.iter().filter(|p| !public(p)) {
        let (cookie, token) = (kiosk.cookie.clone(), kiosk.token.clone());
        assert_signed_out(&app, path, move |req| {
            req.header(COOKIE, cookie.clone())
                .form(&[("csrf_token", token.as_str())])
        })
        .await;
        checked += 1;
    }
    assert!(checked > 25, "{checked} routes checked");
    // Even with the kiosk's token presented as a bearer token.
    assert_signed_out(&app, "/api/v1/people", |req| req.bearer_auth(&kiosk.token)).await;
    assert_signed_out(&app, "/", |req| req.bearer_auth(&kiosk.token)).await;
}

#[tokio::test]
async fn the_kiosk_pages_link_nowhere_but_the_kiosk() {
    let app = spawn_app().await;
    let worker = app.sign_in_form("worker.mdi").await;
    let code = issue_satisfaction_code(&app, &worker).await;
    let kiosk = Kiosk::open(&app).await;
    let mut pages = Vec::new();
    for path in [
        "/kiosk",
        "/kiosk/self-referral",
        "/kiosk/thank-you",
        "/kiosk/self-referral/sent",
    ] {
        let (s, html) = kiosk.get(&app, path).await;
        assert_eq!(s, StatusCode::OK, "{path}");
        pages.push((path.to_string(), html));
    }
    for (path, fields) in [
        ("/kiosk/code", vec![("code", code.as_str())]),
        ("/kiosk/code", vec![("code", "AAA-AAA-AAA")]),
        ("/kiosk/survey", vec![("code", code.as_str())]),
        ("/kiosk/self-referral", vec![]),
    ] {
        let r = kiosk.post(&app, path, &fields).await;
        pages.push((path.to_string(), r.text().await.unwrap()));
    }
    let href = Regex::new(r#"<a [^>]*href="([^"]*)""#).unwrap();
    let action = Regex::new(r#"<form [^>]*action="([^"]*)""#).unwrap();
    let link = Regex::new(r#"<link [^>]*href="([^"]*)""#).unwrap();
    for (path, html) in &pages {
        let anchors: Vec<&str> = href
            .captures_iter(html)
            .map(|c| c.get(1).unwrap().as_str())
            .collect();
        assert!(
            !anchors.is_empty() || path.contains("survey"),
            "{path} has links to check"
        );
        for a in anchors {
            assert!(
                a.starts_with("/kiosk") || a.starts_with('#'),
                "{path} links out to {a}"
            );
        }
        for a in action.captures_iter(html) {
            assert!(a[1].starts_with("/kiosk"), "{path} posts to {}", &a[1]);
        }
        for l in link.captures_iter(html) {
            assert!(l[1].starts_with("/assets/"), "{path} links {}", &l[1]);
        }
        assert!(!html.contains("<script"), "{path} has a script");
        assert!(
            !html.contains("Sign out") && !html.contains("Caseload"),
            "{path} shows staff chrome"
        );
    }
}

// ---------------------------------------------------------------------------
// Paper responses and results
// ---------------------------------------------------------------------------

#[tokio::test]
async fn staff_enter_a_paper_response_and_managers_see_anonymous_results() {
    let app = spawn_app().await;
    let worker = app.sign_in_form("worker.mdi").await;
    let (s, form) = app.page(&worker, "/surveys/paper").await;
    assert_eq!(s, StatusCode::OK);
    let csrf = hidden_csrf(&form);
    let before = app.store.log_length().unwrap();
    let r = app
        .post_form(&worker, "/surveys/paper", &[("csrf_token", &csrf)])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    for field in ["survey", "received_on", "rating"] {
        assert!(
            html.contains(&format!("href=\"#{field}\"")),
            "{field}: {html}"
        );
    }
    assert_eq!(app.store.log_length().unwrap(), before);
    let t = today();
    let (d, m, y) = (
        t.format("%-d").to_string(),
        t.format("%-m").to_string(),
        t.format("%Y").to_string(),
    );
    for rating in ["very_satisfied", "dissatisfied"] {
        let r = app
            .post_form(
                &worker,
                "/surveys/paper",
                &[
                    ("csrf_token", &csrf),
                    ("survey", "satisfaction"),
                    ("received_on-day", &d),
                    ("received_on-month", &m),
                    ("received_on-year", &y),
                    ("rating", rating),
                    ("comments", "Posted in the wing box"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(r.headers()[LOCATION], "/surveys?saved=paper");
    }
    let responses = of_type(&app, "survey_response_recorded");
    assert_eq!(responses.len(), 2);
    assert!(responses.iter().all(|e| e.person.is_none()
        && e.recorded_by.as_str() == "worker.mdi"
        && !e.kind.payload_json().contains("code_hash")));
    // And one by kiosk code.
    let code = issue_satisfaction_code(&app, &worker).await;
    let kiosk = Kiosk::open(&app).await;
    let r = kiosk
        .post(
            &app,
            "/kiosk/survey",
            &[("code", &code), ("rating", "satisfied")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // Results: managers only.
    let (s, _) = app.page(&worker, "/surveys/results").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let manager = app.sign_in_form("manager.mdi").await;
    let (s, html) = app.page(&manager, "/surveys/results").await;
    assert_eq!(s, StatusCode::OK);
    let quarter = throughcare_domain::surveys::Quarter::of(t).label();
    let row = Regex::new(&format!(
        r#"(?s)id="results-satisfaction".*?{quarter}</th>(.*?)</tr>"#
    ))
    .unwrap();
    let cells: Vec<String> = Regex::new(r#"numeric">(\d+)<"#)
        .unwrap()
        .captures_iter(&row.captures(&html).unwrap_or_else(|| panic!("{html}"))[1])
        .map(|c| c[1].to_string())
        .collect();
    // Very satisfied, satisfied, neither, dissatisfied, very dissatisfied, total, satisfied or very.
    assert_eq!(cells, ["1", "1", "0", "1", "0", "3", "2"], "{html}");
    let hash = throughcare_domain::surveys::SurveyCode::parse(&code)
        .unwrap()
        .hash();
    assert!(
        !html.contains(&hash) && !html.contains(&code),
        "anonymous results"
    );
}

// ---------------------------------------------------------------------------
// The questionnaire before and after treatment
// ---------------------------------------------------------------------------

/// Asks for a questionnaire code on the person's page.
async fn issue(
    app: &TestApp,
    worker: &str,
    path: &str,
    csrf: &str,
    survey: &str,
) -> reqwest::Response {
    app.post_form(worker, path, &[("csrf_token", csrf), ("survey", survey)])
        .await
}

#[tokio::test]
async fn the_before_and_after_questionnaires_pair_by_episode_without_naming_the_person() {
    let app = spawn_app().await;
    let token = app.api_token("worker.mdi").await;
    let person = app
        .register(
            &token,
            person_json("B2222BB", "Ari", "Pairtest", "1984-01-02"),
        )
        .await;
    let worker = app.sign_in_form("worker.mdi").await;
    let path = format!("/people/{person}/survey-code");
    let (s, page) = app.page(&worker, &format!("/people/{person}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains(&path), "the person page links to it");
    let (s, form) = app.page(&worker, &path).await;
    assert_eq!(s, StatusCode::OK);
    let csrf = hidden_csrf(&form);
    // No treatment yet: nothing to ask about after.
    let r = issue(&app, &worker, &path, &csrf, "experience_post").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("not started treatment"));
    let r = issue(&app, &worker, &path, &csrf, "satisfaction").await;
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "not from the person's page"
    );

    let r = issue(&app, &worker, &path, &csrf, "experience_pre").await;
    assert_eq!(r.status(), StatusCode::OK);
    let pre = shown_code(&r.text().await.unwrap());
    let kiosk = Kiosk::open(&app).await;
    let r = kiosk.post(&app, "/kiosk/code", &[("code", &pre)]).await;
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Before your treatment starts")
    );
    let r = kiosk
        .post(
            &app,
            "/kiosk/survey",
            &[("code", &pre), ("rating", "dissatisfied")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // The before half is answered for this episode.
    let r = issue(&app, &worker, &path, &csrf, "experience_pre").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("already been answered"));

    let (s, body) = app
        .post_json(
            &token,
            &format!("/api/v1/people/{person}/events"),
            json!({"type": "intervention_updated", "payload": {"intervention": "keyworking",
                "target": "opiates", "status": "started", "on": today().to_string()}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let r = issue(&app, &worker, &path, &csrf, "experience_post").await;
    assert_eq!(r.status(), StatusCode::OK);
    let post = shown_code(&r.text().await.unwrap());
    let r = kiosk
        .post(
            &app,
            "/kiosk/survey",
            &[("code", &post), ("rating", "very_satisfied")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // The two codes carry one opaque key, and nothing in them names the person.
    let codes = of_type(&app, "survey_code_issued");
    assert_eq!(codes.len(), 2);
    let keys: Vec<String> = codes
        .iter()
        .map(|e| {
            assert_eq!(e.person, None);
            let p: Value = serde_json::from_str(&e.kind.payload_json()).unwrap();
            p["pair"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(keys[0], keys[1]);
    assert_eq!(keys[0].len(), 64);
    for e in &codes {
        let p = e.kind.payload_json();
        assert!(
            !p.contains(&person) && !p.contains("B2222BB") && !p.contains("Pairtest"),
            "{p}"
        );
    }
    // The change figure: one pair, three points better.
    let manager = app.sign_in_form("manager.mdi").await;
    let (_, html) = app.page(&manager, "/surveys/results").await;
    let change = Regex::new(r#"(?s)id="change"(.*?)</dl>"#)
        .unwrap()
        .captures(&html)
        .unwrap()[1]
        .to_string();
    let values: Vec<String> = Regex::new(r#"value">\s*([^<]*?)\s*</dd>"#)
        .unwrap()
        .captures_iter(&change)
        .map(|c| c[1].to_string())
        .collect();
    assert_eq!(values, ["1", "1", "0", "0", "+3.00"], "{change}");
    assert!(!html.contains(&keys[0]), "the key is never shown");
}

// ---------------------------------------------------------------------------
// Self-referral
// ---------------------------------------------------------------------------

async fn inbox(app: &TestApp, user: &str) -> String {
    let cookie = app.sign_in_form(user).await;
    let (s, html) = app.page(&cookie, "/referrals").await;
    assert_eq!(s, StatusCode::OK);
    html
}

#[tokio::test]
async fn a_self_referral_at_the_kiosk_reaches_the_inbox_and_bad_input_records_nothing() {
    let app = spawn_app().await;
    let kiosk = Kiosk::open(&app).await;
    let (s, form) = kiosk.get(&app, "/kiosk/self-referral").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        form.contains("HMP Maidstone"),
        "the establishments of the profile"
    );
    let before = app.store.log_length().unwrap();
    let r = kiosk
        .post(
            &app,
            "/kiosk/self-referral",
            &[
                ("prison_number", "12345"),
                ("date_of_birth-day", "31"),
                ("date_of_birth-month", "2"),
                ("date_of_birth-year", "1990"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    for (field, words) in [
        ("given_name", "Enter your given name"),
        ("family_name", "Enter your family name"),
        ("prison_number", "like A1234BC"),
        ("date_of_birth", "must be a real date"),
        ("establishment", "Choose the prison you are in"),
    ] {
        assert!(
            html.contains(&format!("href=\"#{field}\"")) && html.contains(words),
            "{field}: {html}"
        );
    }
    // A date of birth in the future: named by the domain's check.
    let r = kiosk
        .post(
            &app,
            "/kiosk/self-referral",
            &[
                ("given_name", "Jo"),
                ("family_name", "Selfref"),
                ("prison_number", "C1234DE"),
                ("date_of_birth-day", "1"),
                ("date_of_birth-month", "1"),
                ("date_of_birth-year", "2090"),
                ("establishment", "MDI"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("must be in the past"));
    assert_eq!(app.store.log_length().unwrap(), before, "nothing recorded");

    // A prison number the service does not know: registered, then referred.
    let fields = [
        ("given_name", "Jo"),
        ("family_name", "Selfref"),
        ("prison_number", "c1234de"),
        ("date_of_birth-day", "14"),
        ("date_of_birth-month", "7"),
        ("date_of_birth-year", "1992"),
        ("establishment", "MDI"),
        ("help", "Cutting down on spice"),
    ];
    let r = kiosk.post(&app, "/kiosk/self-referral", &fields).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[LOCATION], "/kiosk/self-referral/sent");
    let html = inbox(&app, "worker.mdi").await;
    assert!(
        html.contains("Selfref, Jo") && html.contains("Self-referral (application)"),
        "{html}"
    );
    let referrals = of_type(&app, "referral_made");
    assert_eq!(referrals.len(), 1);
    assert_eq!(referrals[0].recorded_by.as_str(), "kiosk");
    let note = referrals[0].kind.payload_json();
    assert!(
        note.contains("Cutting down on spice") && note.contains("self_referral_application"),
        "{note}"
    );

    // A known prison number with another name: the same answer to the person, and
    // the referral on that record, flagged for the worker.
    let r = kiosk
        .post(
            &app,
            "/kiosk/self-referral",
            &[
                ("given_name", "Someone"),
                ("family_name", "Else"),
                ("prison_number", "C1234DE"),
                ("date_of_birth-day", "14"),
                ("date_of_birth-month", "7"),
                ("date_of_birth-year", "1992"),
                ("establishment", "MDI"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[LOCATION], "/kiosk/self-referral/sent");
    let referrals = of_type(&app, "referral_made");
    assert_eq!(referrals.len(), 2);
    assert_eq!(referrals[0].person, referrals[1].person, "one record");
    assert!(
        referrals[1]
            .kind
            .payload_json()
            .contains("Check who this is")
    );
    assert_eq!(of_type(&app, "person_registered").len(), 1);
    // The kiosk's touch on a known record is in the access audit.
    let audit = app.store.access_log(referrals[1].person.unwrap()).unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.username == "kiosk" && a.action == "self-referral"),
        "{audit:?}"
    );
}

/// Creates the in-cell telephone system's account (a service account) at MDI.
fn telephone_account(app: &TestApp) {
    app.store
        .put_account(&StaffAccount {
            username: StaffUsername::parse("telephone.mdi").unwrap(),
            display_name: "In-cell telephone system".into(),
            role: Role::SelfReferralService,
            password_hash: throughcare::auth::hash_password(PASSWORD).unwrap(),
            establishments: vec![EstablishmentCode::parse("MDI").unwrap()],
            active: true,
            created_at: Utc::now(),
        })
        .unwrap();
}

#[tokio::test]
async fn the_in_cell_telephone_system_posts_self_referrals_into_the_inbox() {
    let app = spawn_app().await;
    telephone_account(&app);
    let token = app.api_token("telephone.mdi").await;
    let body = json!({"prison_number": "D4567EF", "given_name": "Lee", "family_name": "Phoneref",
        "date_of_birth": "1979-11-03", "help": "Alcohol"});
    // Bad input: each field named, nothing recorded.
    let before = app.store.log_length().unwrap();
    for (bad, field) in [
        (json!({"prison_number": "nope"}), "prison_number"),
        (json!({"date_of_birth": "2099-01-01"}), "date_of_birth"),
        (json!({"given_name": ""}), "given_name"),
        (json!({"colour": "blue"}), "body"),
    ] {
        let mut b = body.clone();
        for (k, v) in bad.as_object().unwrap() {
            b[k] = v.clone();
        }
        let (s, out) = app.post_json(&token, "/api/v1/self-referrals", b).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {out}");
        let named =
            out["problems"].as_array().unwrap().iter().any(|p| {
                p["field"] == field || p["problem"].as_str().unwrap_or("").contains("colour")
            });
        assert!(named, "{field}: {out}");
    }
    // Not an establishment it serves.
    let mut elsewhere = body.clone();
    elsewhere["establishment"] = json!("EYI");
    let (s, _) = app
        .post_json(&token, "/api/v1/self-referrals", elsewhere)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(app.store.log_length().unwrap(), before);

    // Posted twice under one Idempotency-Key: one referral.
    for _ in 0..2 {
        let r = app
            .client
            .post(format!("{}/api/v1/self-referrals", app.base))
            .bearer_auth(&token)
            .header("idempotency-key", "call-2026-0001")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let out: Value = r.json().await.unwrap();
        assert_eq!(out["received"], true);
        assert!(out.get("person").is_none(), "says nothing of who is known");
    }
    let referrals = of_type(&app, "referral_made");
    assert_eq!(referrals.len(), 1);
    assert_eq!(referrals[0].recorded_by.as_str(), "telephone.mdi");
    assert!(
        referrals[0]
            .kind
            .payload_json()
            .contains("self_referral_in_cell_telephone")
    );
    let html = inbox(&app, "worker.mdi").await;
    assert!(
        html.contains("Phoneref, Lee") && html.contains("Self-referral (in-cell telephone)"),
        "{html}"
    );

    // Staff do not post here: they record a referral on the person's record.
    let worker = app.api_token("worker.mdi").await;
    let (s, _) = app
        .post_json(&worker, "/api/v1/self-referrals", body.clone())
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = app
        .client
        .post(format!("{}/api/v1/self-referrals", app.base))
        .json(&body)
        .send()
        .await
        .map(|r| (r.status(), ()))
        .unwrap();
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_telephone_systems_account_is_refused_everywhere_else() {
    let app = spawn_app().await;
    telephone_account(&app);
    let token = app.api_token("telephone.mdi").await;
    let worker = app.api_token("worker.mdi").await;
    let (_, body) = app
        .post_json(
            &worker,
            "/api/v1/people",
            person_json("E5678FG", "Kim", "Refusetest", "1991-02-03"),
        )
        .await;
    let person = body["id"].as_str().unwrap().to_string();
    for path in every_route(&person)
        .iter()
        .filter(|p| !public(p) && p.as_str() != "/api/v1/self-referrals")
    {
        let token = token.clone();
        assert_signed_out(&app, path, move |req| req.bearer_auth(&token)).await;
    }
    // Nor may it sign in to the pages.
    let page = app
        .client
        .get(format!("{}/sign-in", app.base))
        .send()
        .await
        .unwrap();
    let csrf = cookie_value(&page, "tc_csrf");
    let r = app
        .client
        .post(format!("{}/sign-in", app.base))
        .header(COOKIE, format!("tc_csrf={csrf}"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("username", "telephone.mdi"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(
        !r.headers()
            .get_all(SET_COOKIE)
            .iter()
            .any(|v| v.to_str().unwrap_or("").starts_with("tc_session=")),
        "no session"
    );
    assert!(r.text().await.unwrap().contains("belongs to a system"));
}

/// Issue 14, item 3: a referral never changes who may see a record; only custody
/// does. A self-referral naming a prison number held at another establishment, sent
/// for this one, gets the answer an unknown number gets (the kiosk and the
/// telephone system learn nothing), nothing is recorded, and staff here see nothing
/// of the person; the attempt is in the access audit.
#[tokio::test]
async fn a_self_referral_for_a_person_held_elsewhere_records_nothing_and_answers_as_for_anyone() {
    let app = spawn_app().await;
    let eyi = app.api_token("worker.eyi").await;
    let held = app
        .register(
            &eyi,
            common::person_json("E7777EE", "Heldat", "Elsewhere", "1988-03-03"),
        )
        .await;
    let held = throughcare_domain::record_ids::PersonId::parse(&held).unwrap();
    let before = app.store.log_length().unwrap();

    // At the kiosk: the same redirect to the same page as for any referral.
    let kiosk = Kiosk::open(&app).await;
    let fields = [
        ("given_name", "Heldat"),
        ("family_name", "Elsewhere"),
        ("prison_number", "E7777EE"),
        ("date_of_birth-day", "3"),
        ("date_of_birth-month", "3"),
        ("date_of_birth-year", "1988"),
        ("establishment", "MDI"),
    ];
    let r = kiosk.post(&app, "/kiosk/self-referral", &fields).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[LOCATION], "/kiosk/self-referral/sent");
    assert_eq!(app.store.log_length().unwrap(), before, "nothing recorded");

    // Through the telephone system's API: the same answer as for a new number.
    telephone_account(&app);
    let phone = app.api_token("telephone.mdi").await;
    let (s_held, out_held) = app
        .post_json(
            &phone,
            "/api/v1/self-referrals",
            json!({"prison_number": "E7777EE", "given_name": "Heldat", "family_name": "Elsewhere",
                "date_of_birth": "1988-03-03"}),
        )
        .await;
    assert_eq!(app.store.log_length().unwrap(), before, "nothing recorded");
    let (s_new, out_new) = app
        .post_json(
            &phone,
            "/api/v1/self-referrals",
            json!({"prison_number": "F8888FF", "given_name": "Newat", "family_name": "Here",
                "date_of_birth": "1990-05-05"}),
        )
        .await;
    assert_eq!(s_held, StatusCode::CREATED);
    assert_eq!((s_held, out_held), (s_new, out_new));

    // Staff here see nothing of the person held elsewhere.
    let html = inbox(&app, "worker.mdi").await;
    assert!(html.contains("Here, Newat"), "{html}");
    assert!(
        !html.contains("E7777EE") && !html.contains("Heldat"),
        "{html}"
    );
    let mdi = app.api_token("worker.mdi").await;
    let (s, _) = app.get_json(&mdi, &format!("/api/v1/people/{held}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let audit = app.store.access_log(held).unwrap();
    assert_eq!(
        audit
            .iter()
            .filter(|a| a.action == "self-referral-not-held-here")
            .count(),
        2,
        "{audit:?}"
    );
}
