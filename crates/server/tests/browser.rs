//! A browser test in real headless Chromium, driven through WebDriver
//! (chromedriver): sign in, open the caseload, open a person, record a positive drug
//! test and then an assessment, and see both on the timeline.
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

#[tokio::test]
async fn a_worker_records_a_positive_test_and_an_assessment_in_the_browser() {
    let app = spawn_app().await;
    // A synthetic person at HMP Maidstone, registered through the API.
    let token = {
        let r = app
            .client
            .post(format!("{}/api/v1/session", app.base))
            .json(&json!({"username": "worker.mdi", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        r.json::<serde_json::Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_string()
    };
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

    let result = async {
        browser.goto(&format!("{}/", app.base)).await?;
        // Not signed in: the sign-in page.
        assert!(browser.current_url().await?.path().ends_with("/sign-in"));
        type_into(&browser, Locator::Id("username"), "worker.mdi").await?;
        type_into(&browser, Locator::Id("password"), PASSWORD).await?;
        click(&browser, Locator::Css("button[type=submit].govuk-button")).await?;

        // The caseload, with the person on it.
        let heading = browser.find(Locator::Css("h1")).await?.text().await?;
        assert_eq!(heading, "Caseload", "{}", browser.source().await?);
        click(&browser, Locator::LinkText("Testcase, Robin")).await?;
        assert!(
            browser
                .find(Locator::Css("h1"))
                .await?
                .text()
                .await?
                .contains("Robin Testcase")
        );

        // A positive drug test: the domain refers and offers an appointment.
        click(&browser, Locator::LinkText("Record a drug test result")).await?;
        type_into(&browser, Locator::Id("test_ref"), "MDT-BROWSER-1").await?;
        click(&browser, Locator::Css("input[name=reason][value=random]")).await?;
        click(&browser, Locator::Css("input[name=result][value=positive]")).await?;
        click(
            &browser,
            Locator::Css("form[method=post] button.govuk-button"),
        )
        .await?;
        let timeline = browser.find(Locator::Id("timeline")).await?.text().await?;
        assert!(
            timeline.contains("Drug test MDT-BROWSER-1: positive"),
            "{timeline}"
        );
        assert!(
            timeline.contains("Referral: Positive drug test"),
            "{timeline}"
        );

        // The first assessment, with a mistake first: a summary left out.
        click(&browser, Locator::LinkText("Record an assessment")).await?;
        click(&browser, Locator::Css("input[name=kind][value=initial]")).await?;
        click(
            &browser,
            Locator::Css("input[name=structured_treatment_needed][value=yes]"),
        )
        .await?;
        click(
            &browser,
            Locator::Css("form[method=post] button.govuk-button"),
        )
        .await?;
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
        click(
            &browser,
            Locator::Css("form[method=post] button.govuk-button"),
        )
        .await?;

        let timeline = browser.find(Locator::Id("timeline")).await?.text().await?;
        assert!(
            timeline.contains("Initial assessment completed"),
            "{timeline}"
        );
        let page = browser.source().await?;
        assert!(page.contains("Met"), "the first-assessment clock is met");
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    let _ = browser.close().await;
    result.expect("the browser journey completes");
}
