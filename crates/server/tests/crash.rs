//! Durability under crashes: the real server binary is killed with SIGKILL at random
//! moments while a client records events through the API, and restarted. Every
//! event the server acknowledged (201) must be in the log afterwards, and the chain
//! must verify. Runs on SQLite, and on PostgreSQL when the test script selects it.
//! Rounds: `THROUGHCARE_CRASH_ROUNDS` (default 20; `scripts/soak.sh` runs 100).

mod common;

use common::TestDatabase;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use throughcare_domain::profile::Profile;

const PASSWORD: &str = "crash-test-password";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(url: &str) -> (Child, String) {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_throughcare"))
        .args([
            "--database",
            url,
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    (child, format!("http://127.0.0.1:{port}"))
}

async fn wait_until_up(client: &reqwest::Client, base: &str) {
    for _ in 0..200 {
        if client.get(format!("{base}/sign-in")).send().await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the server did not come up");
}

async fn token(client: &reqwest::Client, base: &str) -> String {
    let r = client
        .post(format!("{base}/api/v1/session"))
        .json(&json!({"username": "crash.tester", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_event_survives_sigkill() {
    let rounds: usize = std::env::var("THROUGHCARE_CRASH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let db = TestDatabase::new();
    let add = Command::new(env!("CARGO_BIN_EXE_throughcare"))
        .args([
            "--database",
            &db.url,
            "user",
            "add",
            "crash.tester",
            "--role",
            "worker",
            "--establishments",
            "MDI",
            "--name",
            "Crash Tester",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(PASSWORD.as_bytes())?;
            c.wait()
        })
        .unwrap();
    assert!(add.success());

    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let acknowledged: Arc<Mutex<HashSet<String>>> = Arc::default();
    let mut person = String::new();
    let today = throughcare_domain::time::local_date(chrono::Utc::now()).to_string();
    for round in 0..rounds {
        let (mut child, base) = start(&db.url);
        wait_until_up(&client, &base).await;
        let token = token(&client, &base).await;
        if round == 0 {
            let r = client
                .post(format!("{base}/api/v1/people"))
                .bearer_auth(&token)
                .json(&common::person_json(
                    "K1234LM",
                    "Kim",
                    "Crashtest",
                    "1985-06-15",
                ))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
            let body: Value = r.json().await.unwrap();
            person = body["id"].as_str().unwrap().to_string();
            for e in body["events"].as_array().unwrap() {
                acknowledged
                    .lock()
                    .unwrap()
                    .insert(e["id"].as_str().unwrap().to_string());
            }
        }
        // Two clients write as fast as they can until the server dies under them.
        let mut writers = Vec::new();
        for _ in 0..2 {
            let (client, base, token, person, today, acknowledged) = (
                client.clone(),
                base.clone(),
                token.clone(),
                person.clone(),
                today.clone(),
                acknowledged.clone(),
            );
            writers.push(tokio::spawn(async move {
                loop {
                    let sent = client
                        .post(format!("{base}/api/v1/people/{person}/events"))
                        .bearer_auth(&token)
                        .json(&json!({"type": "referral_made", "payload": {"source": "healthcare", "referred_on": today}}))
                        .send()
                        .await;
                    let Ok(r) = sent else { break };
                    if r.status() != 201 {
                        continue;
                    }
                    let Ok(body) = r.json::<Value>().await else { break };
                    for e in body["events"].as_array().into_iter().flatten() {
                        acknowledged.lock().unwrap().insert(e["id"].as_str().unwrap_or_default().to_string());
                    }
                }
            }));
        }
        tokio::time::sleep(Duration::from_millis(rand::random_range(60..400))).await;
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        for w in writers {
            w.await.unwrap();
        }
    }

    // After the last crash: open the database as a restarted server would.
    let url = db.url.clone();
    let acknowledged = acknowledged.lock().unwrap().clone();
    let (present, report) = std::thread::spawn(move || {
        let store =
            throughcare_store::open(&url, &Profile::builtin("kent-medway").unwrap()).unwrap();
        let present: HashSet<String> = store
            .events_after(0, usize::MAX)
            .unwrap()
            .iter()
            .map(|e| e.id.to_string())
            .collect();
        (present, store.verify().unwrap())
    })
    .join()
    .unwrap();
    let lost: Vec<&String> = acknowledged
        .iter()
        .filter(|id| !present.contains(*id))
        .collect();
    eprintln!(
        "crash test: {rounds} kills, {} acknowledged events, {} in the log, {} lost",
        acknowledged.len(),
        present.len(),
        lost.len()
    );
    assert!(
        acknowledged.len() > rounds,
        "the client got writes in between the kills"
    );
    assert!(lost.is_empty(), "acknowledged events lost: {lost:?}");
    assert_eq!(
        report.broken, None,
        "the chain verifies after {rounds} kills"
    );
}
