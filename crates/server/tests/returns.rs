//! The return pages over HTTP (REQUIREMENTS §16; KM 6.4–6.7; S4 §5;
//! docs/returns.md): a manager sees the exact figures, a chart of each line and the
//! people behind a figure; the CSV and XLSX downloads are the CLI's bytes and stay
//! the same for the same as-at instant after a later correction; the commissioner
//! sees the return as published and nothing else; a worker sees no return.

use chrono::{Datelike, Utc};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION};
use serde_json::{Value, json};
use throughcare::report_export as rx;
use throughcare_domain::profile::Profile;
use throughcare_domain::returns::ReturnKind;
use throughcare_domain::returns::period::Period;
use throughcare_domain::time::canonical_instant;
use throughcare_store::Role;

mod common;
use common::{TestApp, hidden_csrf, spawn_app, spawn_app_with};

fn today() -> chrono::NaiveDate {
    throughcare_domain::time::local_date(Utc::now())
}

async fn register(app: &TestApp, token: &str, number: &str, given: &str) -> String {
    app.register(
        token,
        common::person_json(number, given, "Testreturn", "1985-04-12"),
    )
    .await
}

async fn record(app: &TestApp, token: &str, person: &str, body: Value) -> String {
    let out = app.record(token, person, body).await;
    out["events"][0]["id"].as_str().unwrap().to_string()
}

fn screening(setting: &str) -> Value {
    json!({"type": "screening_completed", "payload": {
        "setting": setting, "screened_on": today().to_string(), "problem_substances": ["alcohol"],
        "injecting": "never", "offending_linked": false, "structured_treatment_needed": true}})
}

/// The value cell of line `code` in the page's table.
fn line_value(html: &str, code: &str) -> String {
    let at = html
        .find(&format!("id=\"line-{code}\""))
        .unwrap_or_else(|| panic!("line {code} is on the page"));
    let rest = &html[at..];
    let cell = rest.find("tc-value\">").expect("a value cell") + "tc-value\">".len();
    rest[cell..].split('<').next().unwrap().trim().to_string()
}

/// The href of the drill-down link of line `code`.
fn drill_link(html: &str, code: &str) -> String {
    let at = html.find(&format!("id=\"line-{code}\"")).unwrap();
    let rest = &html[at..];
    let row_end = rest.find("</tr>").unwrap();
    let link = rest[..row_end]
        .find("href=\"")
        .map(|i| i + 6)
        .expect("a drill-down link");
    rest[link..]
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&")
        .replace("&#38;", "&")
}

fn encode(v: &str) -> String {
    v.replace(':', "%3A")
}

/// Five people screened this quarter: two at reception and one on referral at HMP
/// Maidstone, one at reception at HMP Elmley; one at Maidstone never screened. Returns
/// the Maidstone reception screening events (person, event).
async fn five_people(app: &TestApp) -> Vec<(String, String)> {
    let mdi = app.api_token("worker.mdi").await;
    let eyi = app.api_token("worker.eyi").await;
    let mut out = Vec::new();
    for (number, given) in [("A1001AA", "Ash"), ("A1002AA", "Blake")] {
        let p = register(app, &mdi, number, given).await;
        let e = record(app, &mdi, &p, screening("reception")).await;
        out.push((p, e));
    }
    let p = register(app, &mdi, "A1003AA", "Cass").await;
    record(app, &mdi, &p, screening("on_referral")).await;
    register(app, &mdi, "A1004AA", "Dale").await;
    let p = register(app, &eyi, "B2001BB", "Eden").await;
    record(app, &eyi, &p, screening("reception")).await;
    out
}

#[tokio::test]
async fn a_manager_sees_exact_figures_charts_and_the_people_behind_a_figure() {
    let app = spawn_app().await;
    let screened = five_people(&app).await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let as_at = canonical_instant(Utc::now());
    let quarter = Period::quarter_of(today()).name;
    let cookie = app.sign_in_form("manager.mdi").await;

    // Maidstone: two reception screenings (1.1) of three in all (1.2).
    let (s, html) = app
        .page(
            &cookie,
            &format!("/returns?period={quarter}&as_at={}&row=MDI", encode(&as_at)),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert_eq!(line_value(&html, "1.1"), "2");
    assert_eq!(line_value(&html, "1.2"), "3");
    assert!(
        html.contains("Exact (the service"),
        "the internal view is exact"
    );
    assert!(html.contains("<svg"), "a chart of each line");
    assert!(html.contains(&quarter), "the chart names the quarter");
    assert!(
        html.contains("href=\"/returns\""),
        "a Returns link in the navigation"
    );

    // Every establishment: Elmley's reception screening counts too.
    let (_, all) = app
        .page(
            &cookie,
            &format!("/returns?period={quarter}&as_at={}&row=all", encode(&as_at)),
        )
        .await;
    assert_eq!(line_value(&all, "1.1"), "3");

    // The drill-down: the two Maidstone people, and a note that one item (at Elmley,
    // where this manager does not work) is left out.
    let link = drill_link(&all, "1.1");
    let (s, drill) = app.page(&cookie, &link).await;
    assert_eq!(s, StatusCode::OK, "{drill}");
    assert!(
        drill.contains("A1001AA") && drill.contains("A1002AA"),
        "{drill}"
    );
    assert!(drill.contains("Testreturn, Ash"));
    assert!(!drill.contains("B2001BB"), "Elmley's person is not listed");
    assert!(drill.contains("id=\"left-out\""), "{drill}");
    assert!(drill.contains(&format!("href=\"/people/{}\"", screened[0].0)));
    // Each person listed is in the access audit.
    let person = throughcare_domain::record_ids::PersonId::parse(&screened[0].0).unwrap();
    let log = app.store.access_log(person).unwrap();
    assert!(
        log.iter()
            .any(|e| e.action == "return-drill" && e.username == "manager.mdi")
    );

    // A line that is not there, and a bad period, are named.
    let (s, body) = app
        .page(
            &cookie,
            &format!("/returns/drill?period={quarter}&code=9.99"),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(body.contains("code:"), "{body}");
    let (s, body) = app.page(&cookie, "/returns?period=2025Q9").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("href=\"#period\""), "{body}");
    let (s, body) = app.page(&cookie, "/returns?period=2025H1").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("Enter a quarter"), "{body}");
}

#[tokio::test]
async fn downloads_are_the_clis_bytes_and_stay_the_same_for_the_same_as_at_after_a_correction() {
    let app = spawn_app().await;
    let screened = five_people(&app).await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let as_at_text = canonical_instant(Utc::now());
    let as_at = rx::parse_as_at(&as_at_text).unwrap();
    let quarter = Period::quarter_of(today());
    let profile = Profile::builtin("kent-medway").unwrap();
    let cookie = app.sign_in_form("manager.mdi").await;
    let query = format!(
        "period={}&as_at={}&row=all&figures=published",
        quarter.name,
        encode(&as_at_text)
    );

    // What `throughcare report km-quarterly --quarter Q --as-at T` writes.
    let expected = |store: &dyn throughcare_store::Store| {
        let r = rx::compute(store, &profile, ReturnKind::KmQuarterly, &quarter, as_at).unwrap();
        let rule = rx::published_rule(&profile, ReturnKind::KmQuarterly);
        let sheets = rx::sheets(&r, &profile, None, rule.as_ref());
        (rx::csv(&sheets).unwrap(), rx::to_xlsx(&r, &sheets).unwrap())
    };
    let (cli_csv, cli_xlsx) = expected(app.store.as_ref());
    let (s, csv) = app
        .bytes(&cookie, &format!("/returns/download.csv?{query}"))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(csv, cli_csv, "{}", String::from_utf8_lossy(&csv));
    let text = String::from_utf8(csv.clone()).unwrap();
    assert!(text.contains(&format!("As at,{as_at_text}")), "{text}");
    assert!(
        text.contains(
            "All,1.1,Number of substance misuse screenings completed at reception,3,events"
        ),
        "{text}"
    );
    let (s, xlsx) = app
        .bytes(&cookie, &format!("/returns/download.xlsx?{query}"))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(xlsx, cli_xlsx, "the workbook, byte for byte");

    // A later correction: Ash's screening was on referral, not at reception.
    let mdi = app.api_token("worker.mdi").await;
    let (person, event) = &screened[0];
    let (s, body) = app
        .post_json(
            &mdi,
            &format!("/api/v1/people/{person}/events/{event}/correction"),
            json!({"type": "screening_completed", "payload": screening("on_referral")["payload"],
                   "reason": "Screened on referral, not at reception"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");

    // The same as-at gives the same bytes, next month or now…
    let (_, again) = app
        .bytes(&cookie, &format!("/returns/download.csv?{query}"))
        .await;
    assert_eq!(again, csv, "the same as-at, the same file");
    let (_, again) = app
        .bytes(&cookie, &format!("/returns/download.xlsx?{query}"))
        .await;
    assert_eq!(again, xlsx);
    // …and a later as-at sees the correction.
    let (_, now) = app
        .bytes(
            &cookie,
            &format!("/returns/download.csv?period={}&row=all", quarter.name),
        )
        .await;
    let now = String::from_utf8(now).unwrap();
    assert!(
        now.contains(
            "All,1.1,Number of substance misuse screenings completed at reception,2,events"
        ),
        "{now}"
    );

    // Views and downloads are in the access audit (with no person).
    let mut log = Vec::new();
    app.store.export_log(&mut log).unwrap();
    let log = String::from_utf8(log).unwrap();
    assert!(log.contains("return-download"), "downloads are audited");
}

/// Every page and API route a commissioner must not reach, with what it needs.
fn page_routes(person: &str) -> Vec<String> {
    let fake = uuid::Uuid::new_v4();
    vec![
        "/referrals".into(),
        "/queues/assessments".into(),
        "/queues".into(),
        "/queues/release".into(),
        "/governance".into(),
        "/governance/record/incident".into(),
        format!("/people/{person}"),
        format!("/people/{person}/care-transfer"),
        format!("/people/{person}/care-transfer.json"),
        format!("/people/{person}/record/referral"),
        "/diary".into(),
        "/diary.csv".into(),
        "/group-sessions/new".into(),
        format!("/group-sessions/{fake}"),
        "/people/new".into(),
        "/returns/drill?code=1.1".into(),
    ]
}

#[tokio::test]
async fn the_commissioner_sees_the_return_and_nothing_else() {
    let app = spawn_app().await;
    let screened = five_people(&app).await;
    let person = &screened[0].0;
    let event = &screened[0].1;
    app.add_account("commissioner.km", Role::Commissioner, &["MDI", "EYI"]);
    let quarter = Period::quarter_of(today()).name;

    // No API token for the commissioner.
    let r = app
        .client
        .post(format!("{}/api/v1/session", app.base))
        .json(&json!({"username": "commissioner.km", "password": common::PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    let cookie = app.sign_in_form("commissioner.km").await;
    // Home is the returns.
    let r = app
        .client
        .get(format!("{}/", app.base))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[LOCATION], "/returns");

    // The KM return, exact as published (KM 6.5), with no drill-down and no person.
    let (s, html) = app
        .page(&cookie, &format!("/returns?period={quarter}&row=all"))
        .await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert_eq!(line_value(&html, "1.1"), "3");
    assert!(html.contains("Exact, as published"), "{html}");
    assert!(!html.contains("/returns/drill"), "no drill-down links");
    assert!(!html.contains("A1001AA") && !html.contains("Testreturn"));
    assert!(html.contains("<svg"));
    // The navigation holds the returns and nothing else.
    for href in [
        "href=\"/\"",
        "href=\"/queues\"",
        "href=\"/governance\"",
        "href=\"/diary\"",
        "href=\"/people/new\"",
    ] {
        assert!(
            !html.contains(&format!("govuk-service-navigation__link\" {href}")),
            "{href}"
        );
    }
    assert_eq!(
        html.matches("govuk-service-navigation__link").count(),
        2,
        "only Returns and Information requests (KM 5.14)"
    );
    assert!(html.contains("href=\"/information-requests\""));
    // The download works for the commissioner too.
    let (s, csv) = app
        .bytes(
            &cookie,
            &format!("/returns/download.csv?period={quarter}&row=all"),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(String::from_utf8(csv).unwrap().contains("Figures,Exact"));

    // Every other page is refused.
    for path in page_routes(person) {
        let (s, body) = app.page(&cookie, &path).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{path}: {body}");
        assert!(
            !body.contains("A1001AA") && !body.contains("Testreturn"),
            "{path}"
        );
    }
    // Every form post is refused, even with the session's CSRF token.
    let (_, html) = app.page(&cookie, "/returns").await;
    let csrf = hidden_csrf(&html);
    for path in [
        "/people/new".to_string(),
        "/group-sessions".into(),
        format!("/people/{person}/record/referral"),
        "/governance/record/incident".into(),
    ] {
        let r = app
            .post_form(&cookie, &path, &[("csrf_token", csrf.as_str())])
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
    }
    // Every API route (from the same list the router is built from) is refused.
    for (method, template, _) in throughcare::api::ROUTES {
        if template.ends_with("openapi.json") || template.ends_with("/session") {
            continue;
        }
        let path = template
            .replace("{id}", person)
            .replace("{event_id}", event);
        let url = format!("{}{path}", app.base);
        let r = match method {
            "get" => app.client.get(url),
            _ => app.client.post(url).json(&json!({})),
        }
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
        // Refused: forbidden, or (the in-cell telephone system's route, which only
        // its service account's token opens) unauthenticated.
        assert!(
            matches!(r.status(), StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED),
            "{method} {path}: {}",
            r.status()
        );
    }
    // A refused person page never wrote a view of the person.
    let pid = throughcare_domain::record_ids::PersonId::parse(person).unwrap();
    assert!(
        !app.store
            .access_log(pid)
            .unwrap()
            .iter()
            .any(|e| e.username == "commissioner.km" && e.action != "refused")
    );
}

#[tokio::test]
async fn a_worker_sees_no_return() {
    let app = spawn_app().await;
    let cookie = app.sign_in_form("worker.mdi").await;
    for path in [
        "/returns",
        "/returns/download.csv",
        "/returns/download.xlsx",
        "/returns/drill?code=1.1",
    ] {
        let (s, _) = app.page(&cookie, path).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{path}");
    }
    let (_, html) = app.page(&cookie, "/").await;
    assert!(
        !html.contains("href=\"/returns\""),
        "no Returns link for a worker"
    );
}

/// The single-prison service (IWP) with a manager, a worker and a commissioner, and
/// three people referred today; the app and the name of this half-year.
async fn single_prison_with_three_referrals() -> (TestApp, String) {
    let app = spawn_app_with("single-prison").await;
    app.add_account("manager.iwp", Role::Manager, &["IWP"]);
    app.add_account("worker.iwp", Role::Worker, &["IWP"]);
    app.add_account("commissioner.iwp", Role::Commissioner, &["IWP"]);
    let token = app.api_token("worker.iwp").await;
    for (number, given) in [("C3001CC", "Fen"), ("C3002CC", "Gale"), ("C3003CC", "Hale")] {
        let p = register(&app, &token, number, given).await;
        record(
            &app,
            &token,
            &p,
            json!({"type": "referral_made", "payload": {"source": "healthcare", "referred_on": today().to_string()}}),
        )
        .await;
    }
    let half = if today().month() <= 6 { 1 } else { 2 };
    let period = format!("{}H{half}", today().year());
    (app, period)
}

#[tokio::test]
async fn the_commissioner_sees_the_s4_report_disclosure_controlled() {
    let (app, period) = single_prison_with_three_referrals().await;

    // The manager's internal view is exact: three referrals.
    let manager = app.sign_in_form("manager.iwp").await;
    let (s, html) = app
        .page(&manager, &format!("/returns?period={period}"))
        .await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert_eq!(line_value(&html, "S4.5.1"), "3");
    assert!(!html.contains("id=\"legend\""));

    // The commissioner sees the published report: 3 is a small count, suppressed.
    let commissioner = app.sign_in_form("commissioner.iwp").await;
    let (s, html) = app
        .page(&commissioner, &format!("/returns?period={period}"))
        .await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert_eq!(line_value(&html, "S4.5.1"), "*");
    assert!(
        html.contains("id=\"legend\""),
        "the legend under a controlled table"
    );
    // Asking for the exact figures is refused, on the page and the download.
    for path in [
        format!("/returns?period={period}&figures=exact"),
        format!("/returns/download.csv?period={period}&figures=exact"),
    ] {
        let (s, _) = app.page(&commissioner, &path).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{path}");
    }
    let (_, csv) = app
        .bytes(
            &commissioner,
            &format!("/returns/download.csv?period={period}"),
        )
        .await;
    let csv = String::from_utf8(csv).unwrap();
    assert!(
        csv.contains("S4.5.1,The number of referrals into the service.,*"),
        "{csv}"
    );
}

#[tokio::test]
async fn a_manager_writes_a_narrative_that_the_report_prints_and_no_one_else_can() {
    let (app, period) = single_prison_with_three_referrals().await;
    let year = today().year().to_string();

    // The manager writes the six-monthly report's emerging trends under its figures.
    let manager = app.sign_in_form("manager.iwp").await;
    let (s, html) = app
        .page(&manager, &format!("/returns?period={period}"))
        .await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(
        html.contains("action=\"/returns/narrative\""),
        "a form per section"
    );
    assert!(html.contains("id=\"narrative-emerging_trends\""));
    let csrf = hidden_csrf(&html);
    let write = |cookie: String, csrf: String, text: &'static str| {
        let app = &app;
        let period = period.clone();
        async move {
            app.post_form(
                &cookie,
                "/returns/narrative",
                &[
                    ("csrf_token", csrf.as_str()),
                    ("kind", "s4-six-monthly"),
                    ("period", period.as_str()),
                    ("section", "emerging_trends"),
                    ("text", text),
                ],
            )
            .await
        }
    };
    let r = write(
        manager.clone(),
        csrf.clone(),
        "  Spice use fell on the wings  ",
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // A blank text is refused, naming the field, and records nothing.
    let r = write(manager.clone(), csrf.clone(), "   ").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("text"));
    // Without the form's CSRF token, nothing is recorded.
    let r = write(manager.clone(), "wrong".into(), "Forged").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // It appears in the six-monthly CSV download, in the Narrative block after the
    // lines, stored trimmed.
    let (s, csv) = app
        .bytes(&manager, &format!("/returns/download.csv?period={period}"))
        .await;
    assert_eq!(s, StatusCode::OK);
    let csv = String::from_utf8(csv).unwrap();
    let narrative = csv.find("\nNarrative,").expect("a Narrative block");
    assert!(csv.find("S4.5.1,").unwrap() < narrative, "after the lines");
    assert!(
        csv[narrative..].contains("Emerging trends,Spice use fell on the wings\n"),
        "{csv}"
    );
    assert!(!csv.contains("Forged"));
    assert!(csv[narrative..].contains("Developments in provision,(not written)"));

    // A worker cannot record one.
    let worker = app.sign_in_form("worker.iwp").await;
    let (_, home) = app.page(&worker, "/").await;
    let r = write(worker.clone(), hidden_csrf(&home), "Not mine to write").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // The commissioner sees the annual report as published (controlled): three
    // referrals is a small count; no narrative form, and cannot record one.
    let commissioner = app.sign_in_form("commissioner.iwp").await;
    let (s, html) = app
        .page(
            &commissioner,
            &format!("/returns?kind=annual&period={year}"),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert_eq!(line_value(&html, "Core-S4.5.1"), "*");
    assert!(html.contains("Disclosure controlled, as published"));
    assert!(
        html.contains("id=\"return-equality\""),
        "the equality table"
    );
    assert!(!html.contains("action=\"/returns/narrative\""));
    let r = write(commissioner.clone(), hidden_csrf(&html), "Not theirs").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (s, csv) = app
        .bytes(
            &commissioner,
            &format!("/returns/download.csv?kind=annual&period={year}"),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.contains("Return,annual,"), "{csv}");
    assert!(
        csv.contains("IWP,Core S4.5.1,The number of referrals into the service.,*"),
        "{csv}"
    );
    // A year written as a KM year is named for this calendar-year profile.
    let (s, _) = app
        .page(
            &commissioner,
            &format!("/returns?kind=annual&period={year}-27"),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // The manager's internal view of the annual report is exact.
    let (_, html) = app
        .page(&manager, &format!("/returns?kind=annual&period={year}"))
        .await;
    assert_eq!(line_value(&html, "Core-S4.5.1"), "3");
}
