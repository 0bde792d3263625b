//! A browser test in real headless Chromium, driven through WebDriver
//! (chromedriver): sign in, open the caseload, open a person, record a positive drug
//! test and then an assessment, and see both on the timeline; and other journeys,
//! among them a person answering a satisfaction survey on the kiosk page.
//!
//! Needs Debian's `chromium` and `chromium-driver`; `scripts/test.sh` installs them.

mod common;

use common::{PASSWORD, spawn_app};
use fantoccini::{ClientBuilder, Locator};
use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Driver {
    child: Child,
    url: String,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_chromedriver() -> Driver {
    let binary = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("chromedriver is not installed: run scripts/test.sh, which installs Debian's chromium and chromium-driver");
    let port = free_port();
    let child = Command::new(binary)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Driver {
        child,
        url,
        _profile: tempfile::tempdir().unwrap(),
    }
}

async fn click(
    browser: &fantoccini::Client,
    locator: Locator<'_>,
) -> Result<(), fantoccini::error::CmdError> {
    browser.find(locator).await?.click().await
}

async fn type_into(
    browser: &fantoccini::Client,
    locator: Locator<'_>,
    text: &str,
) -> Result<(), fantoccini::error::CmdError> {
    browser.find(locator).await?.send_keys(text).await
}

/// Starts chromedriver and a headless Chromium session.
async fn open_browser() -> (Driver, fantoccini::Client) {
    let driver = start_chromedriver();
    let caps = json!({
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--no-first-run", format!("--user-data-dir={}", driver._profile.path().display())]
        }
    });
    let browser = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps.as_object().unwrap().clone())
        .connect(&driver.url)
        .await
        .expect("connects to chromedriver");

    (driver, browser)
}

#[tokio::test]
async fn a_worker_records_a_positive_test_and_an_assessment_in_the_browser() {
    let app = spawn_app().await;
    // A synthetic person at HMP Maidstone, registered through the API.
    let token = app.api_token("worker.mdi").await;
    let r = app
        .client
        .post(format!("{}/api/v1/people", app.base))
        .bearer_auth(&token)
        .json(&common::person_json(
            "C3456DE",
            "Robin",
            "Testcase",
            "1988-02-29",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    let (driver, browser) = open_browser().await;
    let _keep = driver;
    let result = async {
        browser.goto(&format!("{}/", app.base)).await?;
        // Not signed in: the sign-in page.
        assert!(browser.current_url().await?.path().ends_with("/sign-in"));
        type_into(&browser, Locator::Id("username"), "worker.mdi").await?;
        type_into(&browser, Locator::Id("password"), PASSWORD).await?;
        click_and_load(&browser, Locator::Css("button[type=submit].govuk-button")).await?;

        // The caseload, with the person on it.
        let heading = browser.find(Locator::Css("h1")).await?.text().await?;
        assert_eq!(heading, "Caseload", "{}", browser.source().await?);
        click_and_load(&browser, Locator::LinkText("Testcase, Robin")).await?;
        assert!(
            browser
                .find(Locator::Css("h1"))
                .await?
                .text()
                .await?
                .contains("Robin Testcase")
        );

        // A positive drug test: the domain refers and offers an appointment.
        click_and_load(&browser, Locator::LinkText("Record a drug test result")).await?;
        type_into(&browser, Locator::Id("test_ref"), "MDT-BROWSER-1").await?;
        click(&browser, Locator::Css("input[name=reason][value=random]")).await?;
        click(&browser, Locator::Css("input[name=result][value=positive]")).await?;
        submit(&browser).await?;
        let shown = timeline(&browser).await?;
        assert!(
            shown.contains("Drug test MDT-BROWSER-1: positive"),
            "{shown}"
        );
        assert!(shown.contains("Referral: Positive drug test"), "{shown}");

        // The first assessment, with a mistake first: a summary left out.
        click_and_load(&browser, Locator::LinkText("Record an assessment")).await?;
        click(&browser, Locator::Css("input[name=kind][value=initial]")).await?;
        click(
            &browser,
            Locator::Css("input[name=structured_treatment_needed][value=yes]"),
        )
        .await?;
        submit(&browser).await?;
        let summary = browser
            .find(Locator::Css(".govuk-error-summary"))
            .await?
            .text()
            .await?;
        assert!(
            summary.contains("Enter a summary of the assessment"),
            "{summary}"
        );
        type_into(
            &browser,
            Locator::Id("summary"),
            "Wants help with cannabis use; agreed to keyworking",
        )
        .await?;
        submit(&browser).await?;

        let shown = timeline(&browser).await?;
        assert!(shown.contains("Initial assessment completed"), "{shown}");
        let page = browser.source().await?;
        assert!(page.contains("Met"), "the first-assessment clock is met");
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    let _ = browser.close().await;
    result.expect("the browser journey completes");
}

async fn submit(browser: &fantoccini::Client) -> Result<(), fantoccini::error::CmdError> {
    click_and_load(
        browser,
        Locator::Css("form[method=post] button.govuk-button"),
    )
    .await
}

/// Clicks what navigates and waits until the browser has left the page (the old
/// document's root goes stale) and the next one has a heading: a lookup straight
/// after a click may otherwise still see the old page, or none.
async fn click_and_load(
    browser: &fantoccini::Client,
    locator: Locator<'_>,
) -> Result<(), fantoccini::error::CmdError> {
    let old = browser.find(Locator::Css("html")).await?;
    click(browser, locator).await?;
    for _ in 0..200 {
        if old.tag_name().await.is_err() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    browser.wait().for_element(Locator::Css("h1")).await?;
    Ok(())
}

/// Opens one of the person's forms from their page (by its link text).
async fn open_form(
    browser: &fantoccini::Client,
    person_url: &str,
    title: &str,
) -> Result<(), fantoccini::error::CmdError> {
    browser.goto(person_url).await?;
    click_and_load(browser, Locator::LinkText(title)).await
}

async fn choose(
    browser: &fantoccini::Client,
    name: &str,
    value: &str,
) -> Result<(), fantoccini::error::CmdError> {
    click(
        browser,
        Locator::Css(&format!("input[name={name}][value=\"{value}\"]")),
    )
    .await
}

async fn timeline(browser: &fantoccini::Client) -> Result<String, fantoccini::error::CmdError> {
    browser
        .wait()
        .for_element(Locator::Id("timeline"))
        .await?
        .text()
        .await
}

/// Registers a synthetic person through the API and receives them at MDI.
async fn prisoner(app: &common::TestApp, token: &str, number: &str, given: &str) -> String {
    let (s, body) = app
        .post_json(
            token,
            "/api/v1/people",
            common::person_json(number, given, "Browsercase", "1985-06-30"),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_string();
    let (s, body) = app
        .post_json(
            token,
            &format!("/api/v1/people/{id}/events"),
            json!({"type": "received", "payload": {"reception_type": "remand"}}),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    id
}

#[tokio::test]
async fn a_worker_runs_a_whole_care_journey_in_the_browser() {
    let app = spawn_app().await;
    let token = app.api_token("worker.mdi").await;
    let p1 = prisoner(&app, &token, "B1111BB", "Kai").await;
    let p2 = prisoner(&app, &token, "B2222BB", "Noor").await;
    let p3 = prisoner(&app, &token, "B3333BB", "Ellis").await;
    let today = throughcare_domain::time::local_date(chrono::Utc::now()).to_string();
    for body in [
        json!({"type": "referral_made", "payload": {"source": "gp", "referred_on": today}}),
        json!({"type": "assessment_completed", "payload": {"kind": "initial", "assessed_on": today,
            "summary": "Daily drinking before custody", "structured_treatment_needed": true}}),
    ] {
        let (s, out) = app
            .post_json(&token, &format!("/api/v1/people/{p1}/events"), body)
            .await;
        assert_eq!(s, 201, "{out}");
    }
    // A time earlier today for the clinical events (never in the future).
    let now = chrono::Utc::now().with_timezone(&chrono_tz::Europe::London);
    let earlier = (now - chrono::Duration::minutes(10)).max(
        now.date_naive()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_local_timezone(chrono_tz::Europe::London)
            .earliest()
            .unwrap(),
    );
    let clinical_time = earlier.format("%H:%M").to_string();
    let person_url = format!("{}/people/{p1}", app.base);

    let (driver, browser) = open_browser().await;
    let _keep = driver;
    let result = async {
        browser.goto(&format!("{}/sign-in", app.base)).await?;
        type_into(&browser, Locator::Id("username"), "worker.mdi").await?;
        type_into(&browser, Locator::Id("password"), PASSWORD).await?;
        click_and_load(&browser, Locator::Css("button[type=submit].govuk-button")).await?;

        // A recovery care plan agreed with the person, with a mistake first.
        open_form(&browser, &person_url, "Agree a recovery care plan").await?;
        type_into(
            &browser,
            Locator::Id("goals"),
            "I want to stop drinking\nI want to work in the kitchens",
        )
        .await?;
        for code in ["keyworking", "programme-abstinence", "detox"] {
            choose(&browser, "interventions", code).await?;
        }
        for section in [
            "safety",
            "risk",
            "overdose_prevention",
            "harm_reduction",
            "unplanned_exit_support",
        ] {
            type_into(
                &browser,
                Locator::Id(section),
                "Talked through and written down",
            )
            .await?;
        }
        choose(&browser, "agreed_with_person", "yes").await?;
        submit(&browser).await?;
        let summary = browser
            .find(Locator::Css(".govuk-error-summary"))
            .await?
            .text()
            .await?;
        assert!(summary.contains("re-engagement"), "{summary}");
        type_into(
            &browser,
            Locator::Id("re_engagement"),
            "Self-refer by application",
        )
        .await?;
        submit(&browser).await?;
        assert!(
            timeline(&browser)
                .await?
                .contains("Recovery care plan agreed: 2 goals")
        );

        // The induction: all seven items.
        open_form(&browser, &person_url, "Record induction items covered").await?;
        for item in [
            "service_details",
            "involvement_and_peer_support",
            "general_expectations",
            "code_of_conduct",
            "suspension_and_exclusion",
            "complaints_procedure",
            "emergency_planning",
        ] {
            choose(&browser, "items", item).await?;
        }
        submit(&browser).await?;
        assert!(
            timeline(&browser)
                .await?
                .contains("Induction: 7 of 7 items covered")
        );

        // Keyworking starts treatment: the start TOP is now due in the queue.
        open_form(&browser, &person_url, "Record an intervention step").await?;
        click(
            &browser,
            Locator::Css("select#intervention option[value=keyworking]"),
        )
        .await?;
        choose(&browser, "target", "alcohol").await?;
        choose(&browser, "status", "started").await?;
        submit(&browser).await?;
        browser
            .goto(&format!("{}/queues?queue=top", app.base))
            .await?;
        let top_queue = browser.find(Locator::Css("main")).await?.text().await?;
        assert!(top_queue.contains("B1111BB"), "{top_queue}");

        open_form(&browser, &person_url, "Record a Treatment Outcomes Profile").await?;
        choose(&browser, "stage", "start").await?;
        type_into(&browser, Locator::Id("alcohol_days"), "24").await?;
        type_into(&browser, Locator::Id("psychological_health"), "7").await?;
        type_into(&browser, Locator::Id("physical_health"), "9").await?;
        type_into(&browser, Locator::Id("quality_of_life"), "6").await?;
        for yn in [
            "shared_needles",
            "shared_other_equipment",
            "acute_housing_problem",
            "risk_of_eviction",
        ] {
            choose(&browser, yn, "no").await?;
        }
        submit(&browser).await?;
        assert!(
            timeline(&browser)
                .await?
                .contains("Treatment Outcomes Profile (treatment start)")
        );
        browser
            .goto(&format!("{}/queues?queue=top", app.base))
            .await?;
        let top_queue = browser.find(Locator::Css("main")).await?.text().await?;
        assert!(
            !top_queue.contains("B1111BB"),
            "the start TOP answers the clock: {top_queue}"
        );

        // Two keyworking sessions.
        for summary in ["Triggers and cravings", "A plan for the weekend"] {
            open_form(&browser, &person_url, "Record a session attended").await?;
            choose(&browser, "session_kind", "keyworking").await?;
            type_into(&browser, Locator::Id("summary"), summary).await?;
            submit(&browser).await?;
        }
        assert_eq!(
            timeline(&browser)
                .await?
                .matches("Attended: 1-to-1 keyworking session")
                .count(),
            2
        );

        // A programme started, then completed.
        open_form(&browser, &person_url, "Record an intervention step").await?;
        click(
            &browser,
            Locator::Css("select#intervention option[value=programme-abstinence]"),
        )
        .await?;
        choose(&browser, "target", "alcohol").await?;
        choose(&browser, "status", "started").await?;
        submit(&browser).await?;
        open_form(&browser, &person_url, "Record an intervention step").await?;
        click(
            &browser,
            Locator::Css("select#intervention option[value=programme-abstinence]"),
        )
        .await?;
        choose(&browser, "target", "alcohol").await?;
        choose(&browser, "status", "completed").await?;
        let mut course = None;
        for option in browser
            .find_all(Locator::Css("select#course option"))
            .await?
        {
            if option.text().await?.contains("abstinence") {
                course = Some(option);
            }
        }
        course
            .expect("the programme is offered as a course")
            .click()
            .await?;
        submit(&browser).await?;
        assert!(
            timeline(&browser)
                .await?
                .contains("Completed: programme-abstinence (alcohol)")
        );

        // An alcohol detoxification started and completed: the clinician's to record
        // (KM 4.16–4.17); the worker then sees the steps on the timeline.
        browser.delete_all_cookies().await?;
        browser.goto(&format!("{}/sign-in", app.base)).await?;
        type_into(&browser, Locator::Id("username"), "clinician.mdi").await?;
        type_into(&browser, Locator::Id("password"), PASSWORD).await?;
        click_and_load(&browser, Locator::Css("button[type=submit].govuk-button")).await?;
        for step in ["detox_started", "detox_completed"] {
            open_form(&browser, &person_url, "Record a clinical event").await?;
            choose(&browser, "step", step).await?;
            choose(&browser, "substance", "alcohol").await?;
            choose(&browser, "scope", "single_substance").await?;
            type_into(&browser, Locator::Id("at-time"), &clinical_time).await?;
            submit(&browser).await?;
        }
        browser.delete_all_cookies().await?;
        browser.goto(&format!("{}/sign-in", app.base)).await?;
        type_into(&browser, Locator::Id("username"), "worker.mdi").await?;
        type_into(&browser, Locator::Id("password"), PASSWORD).await?;
        click_and_load(&browser, Locator::Css("button[type=submit].govuk-button")).await?;
        browser.goto(&person_url).await?;
        assert!(
            timeline(&browser)
                .await?
                .contains("Detoxification completed: Alcohol")
        );

        // A Hepatitis B vaccination course, dose by dose.
        for (step, dose) in [
            ("vaccination_offered", ""),
            ("vaccination_accepted", ""),
            ("vaccine_dose", "1"),
            ("vaccine_dose", "2"),
            ("vaccine_dose", "3"),
            ("vaccination_completed", ""),
        ] {
            open_form(
                &browser,
                &person_url,
                "Record blood-borne virus screening or vaccination",
            )
            .await?;
            choose(&browser, "virus", "hepatitis_b").await?;
            choose(&browser, "step", step).await?;
            if !dose.is_empty() {
                type_into(&browser, Locator::Id("dose"), dose).await?;
            }
            submit(&browser).await?;
        }
        let t = timeline(&browser).await?;
        assert!(t.contains("Hepatitis B vaccine dose given (dose 3)"), "{t}");
        assert!(
            t.contains("Hepatitis B vaccination course completed"),
            "{t}"
        );

        // A group session with three attendees, from the register page.
        browser
            .goto(&format!("{}/group-sessions/new", app.base))
            .await?;
        type_into(&browser, Locator::Id("topic"), "Coping with cravings").await?;
        type_into(
            &browser,
            Locator::Id("summary"),
            "Urge surfing and distraction",
        )
        .await?;
        for p in [&p1, &p2, &p3] {
            choose(&browser, "attendees", p).await?;
        }
        submit(&browser).await?;
        let register = browser.find(Locator::Id("register")).await?.text().await?;
        for n in ["B1111BB", "B2222BB", "B3333BB"] {
            assert!(register.contains(n), "{register}");
        }
        browser.goto(&person_url).await?;
        let t = timeline(&browser).await?;
        assert!(
            t.contains("Attended: Group session: Coping with cravings"),
            "{t}"
        );
        let care = browser.find(Locator::Id("care")).await?.text().await?;
        assert!(
            care.contains("I want to stop drinking; I want to work in the kitchens"),
            "{care}"
        );
        assert!(care.contains("All seven items covered by"), "{care}");
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    let _ = browser.close().await;
    result.expect("the care journey completes in the browser");
}

/// Replaces a GOV.UK date input's three boxes (`name-day`, `-month`, `-year`).
async fn set_date(
    browser: &fantoccini::Client,
    name: &str,
    date: chrono::NaiveDate,
) -> Result<(), fantoccini::error::CmdError> {
    for (part, value) in [
        ("day", date.format("%-d").to_string()),
        ("month", date.format("%-m").to_string()),
        ("year", date.format("%Y").to_string()),
    ] {
        let field = browser.find(Locator::Id(&format!("{name}-{part}"))).await?;
        field.clear().await?;
        field.send_keys(&value).await?;
    }
    Ok(())
}

#[tokio::test]
async fn a_worker_takes_a_person_from_release_in_ten_weeks_to_engaged_on_day_nine() {
    let app = spawn_app().await;
    let token = app.api_token("worker.mdi").await;
    let p = prisoner(&app, &token, "D1111DD", "Rowan").await;
    let today = throughcare_domain::time::local_date(chrono::Utc::now());
    let (s, out) = app
        .post_json(
            &token,
            &format!("/api/v1/people/{p}/events"),
            json!({"type": "care_plan_agreed", "payload": {
                "agreed_on": (today - chrono::Duration::days(30)).to_string(),
                "goals": ["I want to stay clean when I get out"], "interventions": ["keyworking"],
                "contingency": {"safety": "Tell my keyworker", "risk": "Lower tolerance after release",
                    "overdose_prevention": "Never use alone; carry naloxone", "harm_reduction": "Needle exchange",
                    "unplanned_exit_support": "Community team's open clinic", "re_engagement": "Self-refer"},
                "agreed_with_person": true, "review_on": (today + chrono::Duration::days(40)).to_string()}}),
        )
        .await;
    assert_eq!(s, 201, "{out}");
    let person_url = format!("{}/people/{p}", app.base);
    let planned = today - chrono::Duration::days(12);
    let released = today - chrono::Duration::days(9);

    let (driver, browser) = open_browser().await;
    let _keep = driver;
    let result =
        async {
            browser.goto(&format!("{}/sign-in", app.base)).await?;
            type_into(&browser, Locator::Id("username"), "worker.mdi").await?;
            type_into(&browser, Locator::Id("password"), PASSWORD).await?;
            click_and_load(&browser, Locator::Css("button[type=submit].govuk-button")).await?;

            // Release in ten weeks: the release queue shows it with no plan.
            open_form(&browser, &person_url, "Set the expected release date").await?;
            set_date(&browser, "date", today + chrono::Duration::weeks(10)).await?;
            submit(&browser).await?;
            browser
                .goto(&format!("{}/queues/release", app.base))
                .await?;
            let queue = browser
                .find(Locator::Id("release-queue"))
                .await?
                .text()
                .await?;
            assert!(
                queue.contains("D1111DD") && queue.contains("No release plan"),
                "{queue}"
            );
            assert!(queue.contains("in 70 days"), "{queue}");

            // The release plan, agreed with the person.
            open_form(&browser, &person_url, "Agree a release plan").await?;
            set_date(&browser, "agreed_on", planned).await?;
            type_into(
                &browser,
                Locator::Id("community_provider"),
                "Medway community recovery service",
            )
            .await?;
            set_date(&browser, "first_appointment", today).await?;
            type_into(&browser, Locator::Id("first_appointment-time"), "10:00").await?;
            type_into(
                &browser,
                Locator::Id("unexpected_release_contact"),
                "Medway open-access clinic",
            )
            .await?;
            choose(&browser, "housing_need", "no").await?;
            choose(&browser, "naloxone_supplied", "yes").await?;
            choose(&browser, "agreed_with_person", "yes").await?;
            submit(&browser).await?;
            assert!(timeline(&browser).await?.contains(
                "Release plan agreed: community provider Medway community recovery service"
            ));
            browser
                .goto(&format!("{}/queues/release", app.base))
                .await?;
            let queue = browser
                .find(Locator::Id("release-queue"))
                .await?
                .text()
                .await?;
            assert!(queue.contains("Complete"), "{queue}");

            // Nothing is shared without consent…
            browser.goto(&format!("{person_url}/care-transfer")).await?;
            let refusal = browser.find(Locator::Css("main")).await?.text().await?;
            assert!(refusal.contains("no live consent"), "{refusal}");
            // …so the person's consent is recorded, and the transfer is exported.
            open_form(&browser, &person_url, "Record a consent decision").await?;
            choose(&browser, "purpose", "community_transfer").await?;
            choose(&browser, "decision", "given").await?;
            set_date(&browser, "decided_on", planned).await?;
            submit(&browser).await?;
            browser.goto(&format!("{person_url}/care-transfer")).await?;
            let summary = browser.find(Locator::Css("main")).await?.text().await?;
            assert!(
                summary.contains("I want to stay clean when I get out"),
                "{summary}"
            );
            assert!(
                summary.contains("Never use alone; carry naloxone"),
                "{summary}"
            );
            // The bundle downloads (an attachment): fetch the link with the browser's session.
            let href = browser
                .find(Locator::LinkText("Download as a FHIR R4 bundle"))
                .await?
                .attr("href")
                .await?
                .unwrap_or_default();
            let session = browser.get_named_cookie("tc_session").await?;
            let bundle: serde_json::Value = app
                .client
                .get(format!("{}{href}", app.base))
                .header("Cookie", format!("tc_session={}", session.value()))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(bundle["resourceType"], "Bundle");
            assert!(
                bundle
                    .to_string()
                    .contains("I want to stay clean when I get out")
            );

            // Released nine days ago; engaged with community treatment today: day 9.
            open_form(&browser, &person_url, "Record a release").await?;
            choose(&browser, "kind", "released").await?;
            set_date(&browser, "moved_at", released).await?;
            type_into(&browser, Locator::Id("moved_at-time"), "09:30").await?;
            submit(&browser).await?;
            open_form(
                &browser,
                &person_url,
                "Record community engagement after release",
            )
            .await?;
            choose(&browser, "outcome", "engaged").await?;
            type_into(
                &browser,
                Locator::Id("provider"),
                "Medway community recovery service",
            )
            .await?;
            submit(&browser).await?;
            let care = browser.find(Locator::Id("care")).await?.text().await?;
            assert!(care.contains("(day 9, within 21 days)"), "{care}");
            Ok::<_, fantoccini::error::CmdError>(())
        }
        .await;
    let _ = browser.close().await;
    result.expect("the release journey completes in the browser");
    let person = throughcare_domain::record_ids::PersonId::parse(&p).unwrap();
    let log = app.store.access_log(person).unwrap();
    assert!(log.iter().any(|e| e.action == "export-refused"));
    assert_eq!(
        log.iter().filter(|e| e.action == "export").count(),
        2,
        "summary and bundle"
    );
}

#[tokio::test]
async fn a_manager_records_an_incident_and_sees_it_on_the_dashboard() {
    let app = spawn_app().await;
    let (driver, browser) = open_browser().await;
    let _keep = driver;
    let result = async {
        browser.goto(&format!("{}/sign-in", app.base)).await?;
        type_into(&browser, Locator::Id("username"), "manager.mdi").await?;
        type_into(&browser, Locator::Id("password"), PASSWORD).await?;
        click_and_load(&browser, Locator::Css("button[type=submit].govuk-button")).await?;
        click_and_load(&browser, Locator::LinkText("Governance")).await?;
        click_and_load(&browser, Locator::LinkText("Record a serious incident")).await?;
        type_into(&browser, Locator::Id("incident_ref"), "SI-BROWSER-1").await?;
        choose(&browser, "category", "controlled_drugs").await?;
        type_into(
            &browser,
            Locator::Id("summary"),
            "Stock discrepancy at the evening count",
        )
        .await?;
        choose(&browser, "drug_or_alcohol_related", "yes").await?;
        choose(&browser, "staff_involved", "no").await?;
        choose(&browser, "reported_to", "commissioner").await?;
        // Closing without an outcome is refused, with the field named.
        choose(&browser, "investigation", "closed").await?;
        submit(&browser).await?;
        let summary = browser
            .find(Locator::Css(".govuk-error-summary"))
            .await?
            .text()
            .await?;
        assert!(summary.contains("outcome"), "{summary}");
        choose(&browser, "investigation", "under_investigation").await?;
        submit(&browser).await?;
        let incidents = browser.find(Locator::Id("incidents")).await?.text().await?;
        assert!(incidents.contains("SI-BROWSER-1"), "{incidents}");
        assert!(incidents.contains("Under investigation"), "{incidents}");
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    let _ = browser.close().await;
    result.expect("the manager's journey completes in the browser");
}

#[tokio::test]
async fn a_person_completes_a_satisfaction_survey_on_the_kiosk_page() {
    let app = spawn_app().await;
    let (driver, browser) = open_browser().await;
    let _keep = driver;
    let result = async {
        // A worker issues a code for the annual satisfaction survey…
        browser.goto(&format!("{}/sign-in", app.base)).await?;
        type_into(&browser, Locator::Id("username"), "worker.mdi").await?;
        type_into(&browser, Locator::Id("password"), PASSWORD).await?;
        click_and_load(&browser, Locator::Css("button[type=submit].govuk-button")).await?;
        click_and_load(&browser, Locator::LinkText("Surveys")).await?;
        click(
            &browser,
            Locator::Css("form[action='/surveys/codes'] button"),
        )
        .await?;
        let code = browser
            .wait()
            .for_element(Locator::Id("survey-code"))
            .await?
            .text()
            .await?;
        assert_eq!(code.len(), 11, "{code}");
        // …signs out (waiting for the sign-in page, so the sign-out's own navigation
        // cannot land after the kiosk's), and the person answers at the kiosk.
        click_and_load(&browser, Locator::Css("button.tc-header__button")).await?;
        browser.goto(&format!("{}/kiosk", app.base)).await?;
        browser.wait().for_element(Locator::Id("code")).await?;
        assert!(browser.find_all(Locator::Css("nav")).await?.is_empty());
        type_into(&browser, Locator::Id("code"), &code.to_lowercase()).await?;
        submit(&browser).await?;
        let question = browser.find(Locator::Css("h1")).await?.text().await?;
        assert!(question.contains("how satisfied"), "{question}");
        // Sent without an answer: the field is named.
        submit(&browser).await?;
        let summary = browser
            .find(Locator::Css(".govuk-error-summary"))
            .await?
            .text()
            .await?;
        assert!(
            summary.contains("Choose how satisfied you are"),
            "{summary}"
        );
        choose(&browser, "rating", "very_satisfied").await?;
        type_into(
            &browser,
            Locator::Id("comments"),
            "My worker listened to me",
        )
        .await?;
        submit(&browser).await?;
        let heading = browser.find(Locator::Css("h1")).await?.text().await?;
        assert_eq!(heading, "Thank you for your answer");
        assert!(
            browser
                .current_url()
                .await?
                .path()
                .ends_with("/kiosk/thank-you")
        );
        // The only way on is back to the kiosk's start.
        for link in browser.find_all(Locator::Css("a")).await? {
            let href = link.attr("href").await?.unwrap_or_default();
            assert!(
                href.starts_with("/kiosk") || href.starts_with('#'),
                "{href}"
            );
        }
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    let _ = browser.close().await;
    result.expect("the kiosk journey completes in the browser");
    let responses: Vec<_> = app
        .store
        .service_events()
        .unwrap()
        .into_iter()
        .filter(|e| e.kind.type_name() == "survey_response_recorded")
        .collect();
    assert_eq!(responses.len(), 1);
    assert_eq!(responses[0].recorded_by.as_str(), "kiosk");
    assert!(
        responses[0]
            .kind
            .payload_json()
            .contains("\"rating\":\"very_satisfied\"")
    );
}

#[tokio::test]
async fn a_manager_opens_the_return_sees_a_chart_and_drills_into_a_figure() {
    let app = spawn_app().await;
    // A synthetic person at HMP Maidstone, screened at reception this quarter.
    let token = app.api_token("worker.mdi").await;
    let person = prisoner(&app, &token, "D4567EF", "Quinn").await;
    let today = throughcare_domain::time::local_date(chrono::Utc::now()).to_string();
    let r = app
        .client
        .post(format!("{}/api/v1/people/{person}/events", app.base))
        .bearer_auth(&token)
        .json(&json!({"type": "screening_completed", "payload": {
            "setting": "reception", "screened_on": today, "problem_substances": ["alcohol"],
            "injecting": "never", "offending_linked": false, "structured_treatment_needed": true}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let quarter = throughcare_domain::returns::period::Period::quarter_of(
        throughcare_domain::time::local_date(chrono::Utc::now()),
    )
    .name;

    let (driver, browser) = open_browser().await;
    let _keep = driver;
    let result = async {
        browser.goto(&format!("{}/sign-in", app.base)).await?;
        type_into(&browser, Locator::Id("username"), "manager.mdi").await?;
        type_into(&browser, Locator::Id("password"), PASSWORD).await?;
        click_and_load(&browser, Locator::Css("button[type=submit].govuk-button")).await?;
        click_and_load(&browser, Locator::LinkText("Returns")).await?;
        // The last complete quarter is chosen at first: choose this one, and Maidstone.
        let period = browser.find(Locator::Id("period")).await?;
        period.clear().await?;
        period.send_keys(&quarter).await?;
        browser
            .find(Locator::Css("#row option[value=MDI]"))
            .await?
            .click()
            .await?;
        click_and_load(&browser, Locator::Css("form[action='/returns'] button")).await?;
        let value = browser
            .find(Locator::Css("#line-1\\.1 .tc-value"))
            .await?
            .text()
            .await?;
        assert_eq!(value, "1");
        // A chart of line 1.1, drawn as SVG in the page.
        let chart = browser.find(Locator::Css("#chart-1\\.1 svg")).await?;
        assert!(chart.html(false).await?.contains(&quarter));
        // Drill into 1.1: the person, linking to their record.
        click_and_load(&browser, Locator::Css("#line-1\\.1 a.tc-drill")).await?;
        let drill = browser.find(Locator::Id("drill")).await?.text().await?;
        assert!(drill.contains("D4567EF"), "{drill}");
        click_and_load(&browser, Locator::Css("#drill a")).await?;
        assert!(
            browser
                .current_url()
                .await?
                .path()
                .ends_with(&format!("/people/{person}"))
        );
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    let _ = browser.close().await;
    result.expect("the manager's return journey completes in the browser");
}
