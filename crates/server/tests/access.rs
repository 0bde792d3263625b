//! Who may see and change what (issue 14), tried as a security tester would: every
//! route of the router, with every method it answers, as every role and service
//! account and as nobody signed in, for a person held at the account's
//! establishment, one held elsewhere and one who does not exist. The answers are
//! compared with the policy table (`throughcare_domain::access`, `Role::sees_cases`)
//! and with each other: "held elsewhere" and "does not exist" must be the same
//! answer, byte for byte once the ids are set aside. Then one test per leak the
//! probe found, each failing before its fix.

mod common;

use chrono::Utc;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION};
use serde_json::{Value, json};
use throughcare_domain::access::{Act, Actor, may};
use throughcare_store::Role;

use common::{TestApp, hidden_csrf, person_json, spawn_app};

/// The person held here (MDI).
const HERE_NUMBER: &str = "A1111AA";
const HERE_NAME: &str = "Hereford";
/// The person held elsewhere (EYI).
const ELSEWHERE_NUMBER: &str = "Z9999ZZ";
const ELSEWHERE_NAME: &str = "Zebedee";
/// A person id and an event id no record has.
const NOBODY: &str = "00000000-0000-4000-8000-00000000dead";
const NO_EVENT: &str = "00000000-0000-4000-8000-00000000beef";

/// One caller: a role (or none, for nobody signed in) with its page session and
/// API token where the role has them.
struct Caller {
    name: &'static str,
    role: Option<Role>,
    cookie: String,
    token: String,
    csrf: String,
}

/// A person to ask about: their id and one of their events.
struct Target {
    name: &'static str,
    person: String,
    event: String,
}

/// One answer, with the ids of the person asked about set aside.
#[derive(Debug, PartialEq)]
struct Answer {
    status: StatusCode,
    location: Option<String>,
    body: String,
}

fn today() -> String {
    throughcare::forms::today().to_string()
}

async fn callers(app: &TestApp) -> Vec<Caller> {
    app.add_account("admin.mdi", Role::Admin, &["MDI"]);
    app.add_account("commissioner.kent", Role::Commissioner, &["MDI"]);
    app.add_account("telephone.mdi", Role::SelfReferralService, &["MDI"]);
    let mut out = Vec::new();
    for (name, role) in [
        ("worker.mdi", Role::Worker),
        ("clinician.mdi", Role::Clinician),
        ("manager.mdi", Role::Manager),
        ("admin.mdi", Role::Admin),
        ("commissioner.kent", Role::Commissioner),
        ("telephone.mdi", Role::SelfReferralService),
    ] {
        // Some roles have no API session (the answer to them is itself checked below).
        let r = app
            .client
            .post(format!("{}/api/v1/session", app.base))
            .json(&json!({"username": name, "password": common::PASSWORD}))
            .send()
            .await
            .unwrap();
        let token = if r.status() == StatusCode::CREATED {
            r.json::<Value>().await.unwrap()["token"]
                .as_str()
                .unwrap()
                .to_string()
        } else {
            String::new()
        };
        let (cookie, csrf) = if role == Role::SelfReferralService {
            (String::new(), String::new())
        } else {
            let cookie = app.sign_in_form(name).await;
            let mut csrf = String::new();
            for page in ["/", "/returns", "/information-requests", "/governance"] {
                let (_, html) = app.page(&cookie, page).await;
                if html.contains("name=\"csrf_token\"") {
                    csrf = hidden_csrf(&html);
                    break;
                }
            }
            assert!(!csrf.is_empty(), "{name} has a page with a form");
            (cookie, csrf)
        };
        out.push(Caller {
            name,
            role: Some(role),
            cookie,
            token,
            csrf,
        });
    }
    out.push(Caller {
        name: "nobody signed in",
        role: None,
        cookie: String::new(),
        token: String::new(),
        csrf: String::new(),
    });
    out
}

/// Registers a person in custody at the establishment of `worker`, with consent to
/// share with the community provider and a referral (the event that correction and
/// entered-in-error routes are tried on).
async fn held(app: &TestApp, worker: &str, number: &str, given: &str) -> Target {
    let token = app.api_token(worker).await;
    let person = app
        .register(
            &token,
            person_json(number, given, "Accesstest", "1985-06-06"),
        )
        .await;
    app.record(
        &token,
        &person,
        json!({"type": "received", "payload": {"reception_type": "sentenced"}}),
    )
    .await;
    // Consent to share with the community provider: the care-transfer routes are
    // then the worker's to use (KM 5.14).
    app.record(
        &token,
        &person,
        json!({"type": "consent_recorded", "payload": {"purpose": "community_transfer",
            "decision": "given", "decided_on": today()}}),
    )
    .await;
    let out = app
        .record(
            &token,
            &person,
            json!({"type": "referral_made", "payload": {"source": "gp", "referred_on": today()}}),
        )
        .await;
    Target {
        name: "",
        person,
        event: out["events"][0]["id"].as_str().unwrap().to_string(),
    }
}

/// The URLs a route template stands for, for `target`: one per form where the
/// route takes a form.
fn urls(path: &str, target: &Target) -> Vec<String> {
    let person_route = path.contains("/people/{id}");
    let forms: Vec<&str> = if path.starts_with("/people/{id}/record/") {
        throughcare::forms::FORMS.iter().map(|(f, _)| *f).collect()
    } else if path.starts_with("/governance/record/") {
        throughcare::governance_pages::FORMS
            .iter()
            .map(|(f, _)| *f)
            .collect()
    } else {
        vec!["-"]
    };
    forms
        .into_iter()
        .map(|form| {
            path.replace(
                "{id}",
                if person_route {
                    &target.person
                } else {
                    "00000000-0000-4000-8000-0000000000aa"
                },
            )
            .replace("{event_id}", &target.event)
            .replace("{form}", form)
            .replace("{ref}", "IR-TEST-1")
            .replace("{*path}", "app.css")
        })
        .collect()
}

/// The JSON an API write is tried with: the riskiest thing a caller could send.
fn api_body(path: &str, target: &Target) -> Value {
    if path.ends_with("/events") && path.contains("/people/") {
        json!({"type": "clinical_event_recorded", "payload": {
            "step": "prescribing_started", "medication": "methadone", "at": Utc::now().to_rfc3339()}})
    } else if path.ends_with("/correction") {
        json!({"type": "referral_made", "payload": {"source": "healthcare", "referred_on": today()},
            "reason": "Access probe"})
    } else if path.ends_with("/entered-in-error") {
        json!({"reason": "Access probe"})
    } else if path.ends_with("/merge") {
        json!({"prison_number": "Y0000YY"})
    } else if path.ends_with("/people") {
        // Registering a number already held: here or elsewhere.
        let number = if target.name == "elsewhere" {
            ELSEWHERE_NUMBER
        } else {
            HERE_NUMBER
        };
        person_json(number, "Probe", "Accesstest", "1985-06-06")
    } else {
        json!({})
    }
}

async fn ask(app: &TestApp, who: &Caller, method: &str, url: &str, body: &Value) -> Answer {
    let full = format!("{}{url}", app.base);
    let api = url.starts_with("/api/");
    let mut request = match method {
        "get" => app.client.get(&full),
        "post" => app.client.post(&full),
        other => panic!("a method the test does not know: {other}"),
    };
    if api {
        if !who.token.is_empty() {
            request = request.bearer_auth(&who.token);
        }
        if method == "post" {
            request = request.json(body);
        }
    } else {
        if !who.cookie.is_empty() {
            request = request.header(COOKIE, &who.cookie);
        }
        if method == "post" {
            request = request.form(&[("csrf_token", who.csrf.as_str())]);
        }
    }
    let r = request.send().await.unwrap();
    let status = r.status();
    let location = r
        .headers()
        .get(LOCATION)
        .map(|l| l.to_str().unwrap().to_string());
    let body = String::from_utf8_lossy(&r.bytes().await.unwrap()).to_string();
    Answer {
        status,
        location,
        body,
    }
}

fn set_aside(mut a: Answer, target: &Target) -> Answer {
    for (id, placeholder) in [(&target.person, "{id}"), (&target.event, "{event_id}")] {
        a.body = a.body.replace(id.as_str(), placeholder);
        a.location = a.location.map(|l| l.replace(id.as_str(), placeholder));
    }
    a
}

/// Routes not tried: they end or change the caller's own session, which the walk
/// goes on using (each has its own tests in http.rs).
fn skipped(method: &str, path: &str) -> bool {
    method == "post" && matches!(path, "/sign-out" | "/establishment")
}

#[tokio::test]
async fn every_route_answers_as_the_policy_table_says_and_never_tells_held_elsewhere_from_unknown()
{
    let app = spawn_app().await;
    let who = callers(&app).await;
    let mut here = held(&app, "worker.mdi", HERE_NUMBER, HERE_NAME).await;
    here.name = "here";
    let mut elsewhere = held(&app, "worker.eyi", ELSEWHERE_NUMBER, ELSEWHERE_NAME).await;
    elsewhere.name = "elsewhere";
    let nobody = Target {
        name: "nobody",
        person: NOBODY.into(),
        event: NO_EVENT.into(),
    };
    let routes = throughcare::app::route_table();
    assert!(routes.len() > 60, "the router's table: {}", routes.len());

    let mut problems: Vec<String> = Vec::new();
    let mut asked = 0usize;
    for (path, methods) in &routes {
        for method in methods.iter().copied() {
            if skipped(method, path) {
                continue;
            }
            for caller in &who {
                let sees_cases = caller.role.is_some_and(|r| r.sees_cases());
                let mut answers: Vec<(&str, String, Answer)> = Vec::new();
                for target in [&elsewhere, &nobody, &here] {
                    for url in urls(path, target) {
                        let a = ask(&app, caller, method, &url, &api_body(path, target)).await;
                        asked += 1;
                        // Nothing of the person held elsewhere, anywhere, to anyone here.
                        if a.body.contains(ELSEWHERE_NUMBER) || a.body.contains(ELSEWHERE_NAME) {
                            problems.push(format!(
                                "{} {method} {url}: shows the person held elsewhere",
                                caller.name
                            ));
                        }
                        // Roles that see no case records see no person at all.
                        if !sees_cases
                            && (a.body.contains(HERE_NUMBER) || a.body.contains(HERE_NAME))
                        {
                            problems.push(format!(
                                "{} {method} {url}: a role without case records sees a person",
                                caller.name
                            ));
                        }
                        let form = url.rsplit('/').next().unwrap_or("").to_string();
                        answers.push((target.name, form, set_aside(a, target)));
                    }
                }
                if !path.contains("{id}") && !path.contains("{event_id}") {
                    continue;
                }
                let per_target = answers.len() / 3;
                for i in 0..per_target {
                    let (elsewhere_a, nobody_a, here_a) = (
                        &answers[i].2,
                        &answers[per_target + i].2,
                        &answers[2 * per_target + i].2,
                    );
                    let form = &answers[i].1;
                    if elsewhere_a != nobody_a {
                        problems.push(format!(
                            "{} {method} {path} ({form}): held elsewhere {:?} {:?} but no such person {:?} {:?}",
                            caller.name,
                            elsewhere_a.status,
                            elsewhere_a.body.chars().take(200).collect::<String>(),
                            nobody_a.status,
                            nobody_a.body.chars().take(200).collect::<String>(),
                        ));
                    }
                    if !path.contains("/people/{id}") {
                        continue;
                    }
                    // A role without case records: the person held here is also
                    // answered as no such person.
                    if !sees_cases && here_a != nobody_a {
                        problems.push(format!(
                            "{} {method} {path} ({form}): a role without case records is answered differently for a real person: {:?}",
                            caller.name, here_a.status
                        ));
                    }
                    let Some(role) = caller.role.filter(|r| r.sees_cases()) else {
                        continue;
                    };
                    // The policy table, for the person held here.
                    let refused = matches!(
                        here_a.status,
                        StatusCode::FORBIDDEN | StatusCode::NOT_FOUND | StatusCode::UNAUTHORIZED
                    );
                    let expected_allowed = if path.starts_with("/people/{id}/record/") {
                        throughcare::forms::role_may_use(role, form)
                    } else if *path == "/api/v1/people/{id}/events" {
                        may(Actor::Staff(role), Act::Record, "clinical_event_recorded")
                    } else {
                        true
                    };
                    if refused == expected_allowed {
                        problems.push(format!(
                            "{} {method} {path} ({form}): the policy table says {} but the answer is {:?}: {}",
                            caller.name,
                            if expected_allowed { "allowed" } else { "refused" },
                            here_a.status,
                            here_a.body.chars().take(200).collect::<String>(),
                        ));
                    }
                }
            }
        }
    }
    assert!(asked > 1500, "the walk asked {asked} questions");
    assert!(
        problems.is_empty(),
        "{} problems in {asked} answers:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// The OpenAPI document lists exactly the API routes the router serves.
#[test]
fn the_openapi_routes_are_the_routers_api_routes() {
    let mut served: Vec<(String, String)> = throughcare::app::route_table()
        .into_iter()
        .filter(|(p, _)| p.starts_with("/api/"))
        .flat_map(|(p, ms)| ms.iter().map(move |m| (m.to_string(), p.to_string())))
        .collect();
    let mut documented: Vec<(String, String)> = throughcare::api::ROUTES
        .iter()
        .map(|(m, p, _)| (m.to_string(), p.to_string()))
        .collect();
    served.sort();
    documented.sort();
    assert_eq!(served, documented);
}

/// Item 1: clinical events are recorded, corrected and marked in error by clinicians
/// only (KM 4.16–4.17, 3.9.3, 3.9.6); the worker sees the step without its note.
#[tokio::test]
async fn only_a_clinician_records_corrects_or_marks_in_error_a_clinical_event() {
    let app = spawn_app().await;
    let here = held(&app, "worker.mdi", HERE_NUMBER, HERE_NAME).await;
    let worker = app.api_token("worker.mdi").await;
    let clinician = app.api_token("clinician.mdi").await;
    let manager = app.api_token("manager.mdi").await;
    let events = format!("/api/v1/people/{}/events", here.person);
    let prescribing = json!({"type": "clinical_event_recorded", "payload": {
        "step": "prescribing_started", "medication": "methadone", "at": Utc::now().to_rfc3339(),
        "note": "Titration plan agreed with the prescriber"}});
    let before = app.store.log_length().unwrap();
    for token in [&worker, &manager] {
        let (s, body) = app.post_json(token, &events, prescribing.clone()).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
        assert!(
            body["error"].as_str().unwrap().contains("KM 4.16"),
            "{body}"
        );
    }
    assert_eq!(app.store.log_length().unwrap(), before, "nothing recorded");
    let (s, out) = app.post_json(&clinician, &events, prescribing).await;
    assert_eq!(s, StatusCode::CREATED, "{out}");
    let clinical = out["events"][0]["id"].as_str().unwrap().to_string();

    // Nor may a worker mark it in error, or correct it.
    let before = app.store.log_length().unwrap();
    let (s, body) = app
        .post_json(
            &worker,
            &format!("{events}/{clinical}/entered-in-error"),
            json!({"reason": "Not mine to remove"}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    let (s, body) = app
        .post_json(
            &worker,
            &format!("{events}/{clinical}/correction"),
            json!({"type": "clinical_event_recorded", "payload": {"step": "prescribing_started",
                "medication": "buprenorphine", "at": Utc::now().to_rfc3339()}, "reason": "Wrong drug"}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(app.store.log_length().unwrap(), before, "nothing recorded");
    // A clinical assessment corrected into a buprenorphine start, as the probe did.
    let (s, out) = app
        .post_json(
            &clinician,
            &events,
            json!({"type": "clinical_event_recorded", "payload": {"step": "clinical_assessment",
                "at": Utc::now().to_rfc3339()}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{out}");
    let assessment = out["events"][0]["id"].as_str().unwrap().to_string();
    let before = app.store.log_length().unwrap();
    let (s, body) = app
        .post_json(
            &worker,
            &format!("{events}/{assessment}/correction"),
            json!({"type": "clinical_event_recorded", "payload": {"step": "prescribing_started",
                "medication": "buprenorphine", "at": Utc::now().to_rfc3339()}, "reason": "Into a start"}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(app.store.log_length().unwrap(), before, "nothing recorded");

    // The web form is not offered to a worker, and posting it is refused.
    let cookie = app.sign_in_form("worker.mdi").await;
    let (s, _) = app
        .page(&cookie, &format!("/people/{}/record/clinical", here.person))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (_, page) = app.page(&cookie, &format!("/people/{}", here.person)).await;
    assert!(
        !page.contains("/record/clinical\""),
        "no clinical form offered"
    );
    let csrf = hidden_csrf(&page);
    let r = app
        .post_form(
            &cookie,
            &format!("/people/{}/record/clinical", here.person),
            &[
                ("csrf_token", csrf.as_str()),
                ("step", "prescribing_started"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.store.log_length().unwrap(), before, "nothing recorded");

    // What each reads: the clinician and the manager the note; the worker the step.
    let (_, seen) = app
        .get_json(&worker, &format!("/api/v1/people/{}", here.person))
        .await;
    let text = seen.to_string();
    assert!(text.contains("prescribing_started"), "{text}");
    assert!(
        !text.contains("Titration plan"),
        "the note is the clinician's"
    );
    for token in [&clinician, &manager] {
        let (_, seen) = app
            .get_json(token, &format!("/api/v1/people/{}", here.person))
            .await;
        assert!(seen.to_string().contains("Titration plan"));
    }
    // The clinician may mark it in error.
    let (s, body) = app
        .post_json(
            &clinician,
            &format!("{events}/{clinical}/entered-in-error"),
            json!({"reason": "Recorded against the wrong person"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
}

/// Item 2: a transfer is recorded by the establishment the person leaves (or comes
/// from the movements feed); the receiving side cannot take a record over by
/// recording one, and a wrong `from` does not tell where the person is held.
#[tokio::test]
async fn a_transfer_cannot_be_recorded_by_the_receiving_side_to_take_a_record_over() {
    let app = spawn_app().await;
    let dvi = held(&app, "worker.dvi", ELSEWHERE_NUMBER, ELSEWHERE_NAME).await;
    let mdi = app.api_token("worker.mdi").await;
    let before = app.store.log_length().unwrap();
    let mut answers = Vec::new();
    for (person, from) in [
        (dvi.person.as_str(), "DVI"),
        (dvi.person.as_str(), "EYI"),
        (NOBODY, "DVI"),
    ] {
        let (s, body) = app
            .post_json(
                &mdi,
                &format!("/api/v1/people/{person}/events"),
                json!({"type": "transferred", "establishment": "MDI", "payload": {"from": from, "to": "MDI"}}),
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{body}");
        answers.push(body);
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
    assert_eq!(app.store.log_length().unwrap(), before, "nothing recorded");
    let (s, _) = app
        .get_json(&mdi, &format!("/api/v1/people/{}", dvi.person))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "the record did not open");

    // The transfer form for the person held elsewhere shows nothing of them.
    let cookie = app.sign_in_form("worker.mdi").await;
    let (s, html) = app
        .page(&cookie, &format!("/people/{}/record/transfer", dvi.person))
        .await;
    let (s_nobody, html_nobody) = app
        .page(&cookie, &format!("/people/{NOBODY}/record/transfer"))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(
        (s, html.replace(&dvi.person, "{id}")),
        (s_nobody, html_nobody.replace(NOBODY, "{id}"))
    );
    assert!(!html.contains(ELSEWHERE_NAME) && !html.contains(ELSEWHERE_NUMBER));

    // Recorded by the side the person leaves, it moves the record.
    let dvi_token = app.api_token("worker.dvi").await;
    app.record(
        &dvi_token,
        &dvi.person,
        json!({"type": "transferred", "payload": {"from": "DVI", "to": "MDI"}}),
    )
    .await;
    let (s, _) = app
        .get_json(&mdi, &format!("/api/v1/people/{}", dvi.person))
        .await;
    assert_eq!(s, StatusCode::OK);
}

/// Item 4: the governance API shows a manager only what the dashboard shows them:
/// this establishment's incidents, cover and staff, not the other prisons'.
#[tokio::test]
async fn the_governance_api_shows_only_the_managers_establishment() {
    let app = spawn_app().await;
    app.add_account("manager.eyi", Role::Manager, &["EYI"]);
    let eyi = app.api_token("manager.eyi").await;
    let mdi = app.api_token("manager.mdi").await;
    let d = today();
    for (token, incident) in [(&eyi, "SI-EYI-1"), (&mdi, "SI-MDI-1")] {
        let (s, body) = app
            .post_json(token, "/api/v1/service/events", json!({"type": "incident_recorded", "payload": {
                "incident_ref": incident, "category": "controlled_drugs", "occurred_on": d,
                "summary": "Stock discrepancy at the evening count", "drug_or_alcohol_related": true,
                "people": [], "staff_involved": false, "reported": [{"to": "commissioner", "on": d}],
                "investigation": "under_investigation"}}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
        let (s, body) = app
            .post_json(
                token,
                "/api/v1/service/events",
                json!({"type": "clinical_cover_recorded",
                "payload": {"on": d, "provided": true}}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
    }
    let (s, g) = app.get_json(&mdi, "/api/v1/service/governance").await;
    assert_eq!(s, StatusCode::OK);
    let text = g.to_string();
    assert!(text.contains("SI-MDI-1"), "{text}");
    assert!(
        !text.contains("SI-EYI-1"),
        "another prison's incident: {text}"
    );
    assert!(!text.contains("\"EYI\""), "nothing of EYI: {text}");
    assert_eq!(g["open_incidents"], 1);
    assert_eq!(g["clinical_cover"].as_array().unwrap().len(), 1);
    // The page agrees.
    let cookie = app.sign_in_form("manager.mdi").await;
    let (_, page) = app.page(&cookie, "/governance").await;
    assert!(page.contains("SI-MDI-1") && !page.contains("SI-EYI-1"));
}

/// Item 5: merge and registration answer the same whether the prison number is held
/// elsewhere or by no one (merge), or held here or elsewhere (registration), and
/// never say where.
#[tokio::test]
async fn merge_and_registration_do_not_tell_whether_or_where_a_person_is_held() {
    let app = spawn_app().await;
    let here = held(&app, "worker.mdi", HERE_NUMBER, HERE_NAME).await;
    held(&app, "worker.eyi", ELSEWHERE_NUMBER, ELSEWHERE_NAME).await;
    let mdi = app.api_token("worker.mdi").await;
    let before = app.store.log_length().unwrap();
    let merge = format!("/api/v1/people/{}/merge", here.person);
    let (s_elsewhere, elsewhere) = app
        .post_json(&mdi, &merge, json!({"prison_number": ELSEWHERE_NUMBER}))
        .await;
    let (s_unknown, unknown) = app
        .post_json(&mdi, &merge, json!({"prison_number": "Y0000YY"}))
        .await;
    assert_eq!(s_elsewhere, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        (
            s_elsewhere,
            elsewhere.to_string().replace(ELSEWHERE_NUMBER, "N")
        ),
        (s_unknown, unknown.to_string().replace("Y0000YY", "N"))
    );
    // The web form likewise.
    let cookie = app.sign_in_form("worker.mdi").await;
    let (_, form) = app
        .page(&cookie, &format!("/people/{}/record/merge", here.person))
        .await;
    let csrf = hidden_csrf(&form);
    let mut pages = Vec::new();
    for number in [ELSEWHERE_NUMBER, "Y0000YY"] {
        let r = app
            .post_form(
                &cookie,
                &format!("/people/{}/record/merge", here.person),
                &[("csrf_token", csrf.as_str()), ("prison_number", number)],
            )
            .await;
        let status = r.status();
        pages.push((status, r.text().await.unwrap().replace(number, "N")));
    }
    assert_eq!(pages[0].0, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(pages[0], pages[1]);

    // Registering a number held here or elsewhere: one answer, naming no prison.
    let mut answers = Vec::new();
    for number in [HERE_NUMBER, ELSEWHERE_NUMBER] {
        let (s, body) = app
            .post_json(
                &mdi,
                "/api/v1/people",
                person_json(number, "Again", "Accesstest", "1985-06-06"),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        answers.push(body.to_string());
    }
    assert_eq!(answers[0], answers[1]);
    for code in ["EYI", "Eastchurch", "MDI", "Maidstone"] {
        assert!(!answers[0].contains(code), "{}", answers[0]);
    }
    assert_eq!(app.store.log_length().unwrap(), before, "nothing recorded");
}

/// Item 2, the exception: a manager at the receiving establishment may transfer a
/// person in by break-glass, with a reason; it is flagged on the caseload and the
/// timeline and audited. Nobody else may, and a number no prison holds moves nothing.
#[tokio::test]
async fn a_manager_transfers_a_person_in_by_break_glass_flagged_for_review() {
    let app = spawn_app().await;
    let dvi = held(&app, "worker.dvi", ELSEWHERE_NUMBER, ELSEWHERE_NAME).await;
    let worker = app.sign_in_form("worker.mdi").await;
    let (s, _) = app.page(&worker, "/transfer-in").await;
    assert_eq!(s, StatusCode::FORBIDDEN, "a manager's alone");

    let manager = app.sign_in_form("manager.mdi").await;
    let (s, form) = app.page(&manager, "/transfer-in").await;
    assert_eq!(s, StatusCode::OK);
    let csrf = hidden_csrf(&form);
    let why = "Arrived on a late escort; the night prescriber needs the record now";
    let before = app.store.log_length().unwrap();
    for (number, reason, problem) in [
        ("Y0000YY", why, "No person held at another prison"),
        (ELSEWHERE_NUMBER, "", "Say why"),
        (ELSEWHERE_NUMBER, "Urgent", "at least 20 characters"),
        ("nonsense", why, "Enter a prison number"),
    ] {
        let r = app
            .post_form(
                &manager,
                "/transfer-in",
                &[
                    ("csrf_token", csrf.as_str()),
                    ("prison_number", number),
                    ("break_glass", reason),
                ],
            )
            .await;
        assert_eq!(
            r.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{number} {reason}"
        );
        let html = r.text().await.unwrap();
        assert!(html.contains(problem), "{problem}: {html}");
    }
    assert_eq!(app.store.log_length().unwrap(), before, "nothing recorded");

    let r = app
        .post_form(
            &manager,
            "/transfer-in",
            &[
                ("csrf_token", csrf.as_str()),
                ("prison_number", ELSEWHERE_NUMBER),
                ("break_glass", why),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()[LOCATION],
        format!("/people/{}", dvi.person).as_str()
    );
    let (s, page) = app.page(&worker, &format!("/people/{}", dvi.person)).await;
    assert_eq!(s, StatusCode::OK, "the record is here now");
    assert!(
        page.contains("by break-glass: Arrived on a late escort"),
        "{page}"
    );
    let (_, caseload) = app.page(&worker, "/").await;
    assert!(
        caseload.contains("by break-glass (to review)"),
        "{caseload}"
    );
    let person = throughcare_domain::record_ids::PersonId::parse(&dvi.person).unwrap();
    let audit = app.store.access_log(person).unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.action == "break-glass" && a.username == "manager.mdi"),
        "{audit:?}"
    );
}

/// Item 2, the ordinary path where the sending side has not yet acted: a manager
/// asks for the record with a reason; the asker learns nothing (the same answer for
/// a number held elsewhere, held nowhere, or not in custody) and sees nothing until
/// a manager of the holding establishment accepts, which records the transfer out.
#[tokio::test]
async fn a_transfer_request_opens_nothing_until_the_holding_establishment_accepts() {
    let app = spawn_app().await;
    app.add_account("manager.dvi", Role::Manager, &["DVI"]);
    let dvi = held(&app, "worker.dvi", ELSEWHERE_NUMBER, ELSEWHERE_NAME).await;
    let worker = app.sign_in_form("worker.mdi").await;
    let (s, _) = app.page(&worker, "/transfer-requests").await;
    assert_eq!(s, StatusCode::FORBIDDEN, "a manager's to make");

    let manager = app.sign_in_form("manager.mdi").await;
    let (s, form) = app.page(&manager, "/transfer-requests").await;
    assert_eq!(s, StatusCode::OK);
    let csrf = hidden_csrf(&form);
    let why = "Received from court this afternoon; on a methadone script";
    // Bad input is named and changes nothing.
    let before = app.store.log_length().unwrap();
    let r = app
        .post_form(
            &manager,
            "/transfer-requests",
            &[
                ("csrf_token", csrf.as_str()),
                ("prison_number", ELSEWHERE_NUMBER),
                ("reason", "Please"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("at least 20 characters"));
    assert_eq!(app.store.log_length().unwrap(), before);
    // One answer for every number.
    let mut answers = Vec::new();
    for number in ["Y0000YY", ELSEWHERE_NUMBER] {
        let r = app
            .post_form(
                &manager,
                "/transfer-requests",
                &[
                    ("csrf_token", csrf.as_str()),
                    ("prison_number", number),
                    ("reason", why),
                ],
            )
            .await;
        answers.push((r.status(), r.headers().get(LOCATION).cloned()));
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0].0, StatusCode::SEE_OTHER);
    assert_eq!(
        app.store.log_length().unwrap(),
        before + 1,
        "one request recorded"
    );
    let (s, sent) = app.page(&manager, "/transfer-requests/sent").await;
    assert_eq!(s, StatusCode::OK);
    assert!(!sent.contains(ELSEWHERE_NAME) && !sent.contains("DVI"));
    // Still nothing of the person here.
    let (s, _) = app.page(&manager, &format!("/people/{}", dvi.person)).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "asking opens nothing");
    let (_, caseload) = app.page(&manager, "/").await;
    assert!(!caseload.contains(ELSEWHERE_NUMBER));

    // The holding establishment sees the request on its caseload and answers it.
    let holder = app.sign_in_form("manager.dvi").await;
    let (_, caseload) = app.page(&holder, "/").await;
    assert!(caseload.contains("transfer requested by MDI"), "{caseload}");
    let answer = format!("/people/{}/record/transfer-request-answer", dvi.person);
    let (s, form) = app.page(&holder, &answer).await;
    assert_eq!(s, StatusCode::OK);
    assert!(form.contains(why), "{form}");
    let request = regex::Regex::new(r#"<option value="([0-9a-f-]{36})""#)
        .unwrap()
        .captures(&form)
        .unwrap_or_else(|| panic!("no request offered: {form}"))[1]
        .to_string();
    let dvi_worker = app.sign_in_form("worker.dvi").await;
    let (s, _) = app.page(&dvi_worker, &answer).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "a manager's to answer");
    let csrf = hidden_csrf(&form);
    let r = app
        .post_form(
            &holder,
            &answer,
            &[
                ("csrf_token", csrf.as_str()),
                ("request", request.as_str()),
                ("accepted", "yes"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (s, page) = app.page(&manager, &format!("/people/{}", dvi.person)).await;
    assert_eq!(s, StatusCode::OK, "the record moved on acceptance");
    assert!(page.contains("Transferred from DVI to MDI"), "{page}");
    let person = throughcare_domain::record_ids::PersonId::parse(&dvi.person).unwrap();
    let audit = app.store.access_log(person).unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.action == "transfer-request" && a.username == "manager.mdi")
    );
}
