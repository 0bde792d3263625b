//! What the server's integration tests share: the real app on port 0 over a fresh
//! SQLite file, with two synthetic staff accounts.

#![allow(dead_code)]

use chrono::Utc;
use std::sync::Arc;
use throughcare::app::AppState;
use throughcare_domain::identifiers::{EstablishmentCode, StaffUsername};
use throughcare_domain::profile::Profile;
use throughcare_store::{Role, SqliteStore, StaffAccount, Store};

pub const PASSWORD: &str = "correct-horse-battery";

pub struct TestApp {
    pub base: String,
    pub store: Arc<dyn Store>,
    pub client: reqwest::Client,
    _dir: tempfile::TempDir,
}

pub async fn spawn_app() -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("test.sqlite");
    let profile = Profile::builtin("kent-medway").unwrap();
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(path.to_str().unwrap(), &profile).unwrap());
    let hash = throughcare::auth::hash_password(PASSWORD).unwrap();
    for (user, est) in [("worker.mdi", "MDI"), ("worker.eyi", "EYI")] {
        store
            .put_account(&StaffAccount {
                username: StaffUsername::parse(user).unwrap(),
                display_name: format!("Test {user}"),
                role: Role::Worker,
                password_hash: hash.clone(),
                establishments: vec![EstablishmentCode::parse(est).unwrap()],
                active: true,
                created_at: Utc::now(),
            })
            .unwrap();
    }
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
        _dir: dir,
    }
}
