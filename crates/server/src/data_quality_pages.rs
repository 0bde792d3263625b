//! Data quality before submission (KM 4.28–4.29, 6.5): the page `/data-quality` and
//! its JSON twin list, for the establishment the user is working in, what would make
//! a return or the NDTMS extract wrong, grouped by kind with counts, each linking to
//! the record (and the entry) to fix. The rules are in the domain
//! (`throughcare_domain::data_quality`); docs/data-quality.md explains them.
//!
//! Who may see it: anyone who sees case records at the establishment (workers,
//! clinicians, managers) — the people who fix the records — like the work queues.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Json, Response};
use chrono::{DateTime, Utc};
use serde_json::json;
use throughcare_domain::data_quality::{Issue, IssueKind, data_quality};
use throughcare_domain::returns::cut::Cut;

use crate::app::AppState;
use crate::auth::{ApiStaff, PageStaff, Staff};
use crate::chrome::Chrome;
use crate::policy::{self, Denied};
use crate::web::{chrome, denied, render};

/// One issue as the page lists it.
pub struct IssueRow {
    /// Link to the person's page (at the entry, where there is one).
    pub href: String,
    /// "Family, Given".
    pub name: String,
    /// The prison number.
    pub prison_number: String,
    /// What is wrong.
    pub detail: String,
}

/// The issues of one kind.
pub struct IssueGroup {
    /// The kind's code (the table's `data-kind`).
    pub code: &'static str,
    /// The kind in words.
    pub label: &'static str,
    /// Its issues.
    pub rows: Vec<IssueRow>,
}

#[derive(Template)]
#[template(path = "data_quality.html")]
struct DataQualityPage {
    chrome: Chrome,
    establishment: String,
    total: usize,
    groups: Vec<IssueGroup>,
}

/// The issues at the user's establishment now, with each person's name and number.
fn issues_here(
    state: &AppState,
    staff: &Staff,
    now: DateTime<Utc>,
) -> Result<Vec<(Issue, String, String)>, Denied> {
    policy::at_establishment(staff, staff.establishment())?;
    let events = state.store.events_after(0, usize::MAX)?;
    let cut = Cut::new(&state.profile, &events, now);
    let issues = data_quality(&cut, staff.establishment(), now);
    Ok(issues
        .into_iter()
        .map(|i| {
            let details = cut
                .people
                .get(&i.person)
                .and_then(|p| p.case.details.as_ref());
            let name = details.map(|d| d.display_name()).unwrap_or_default();
            let number = details
                .map(|d| d.prison_number.to_string())
                .unwrap_or_default();
            (i, name, number)
        })
        .collect())
}

/// GET /data-quality: the issues at the user's establishment, grouped by kind.
pub async fn page(State(state): State<AppState>, PageStaff(staff): PageStaff) -> Response {
    let issues = match issues_here(&state, &staff, Utc::now()) {
        Ok(i) => i,
        Err(d) => return denied(&state, &staff, d),
    };
    let total = issues.len();
    let groups = IssueKind::ALL
        .iter()
        .map(|k| IssueGroup {
            code: k.code(),
            label: k.label(),
            rows: issues
                .iter()
                .filter(|(i, _, _)| i.kind == *k)
                .map(|(i, name, number)| IssueRow {
                    href: match i.event {
                        Some(e) => format!("/people/{}#event-{e}", i.person),
                        None => format!("/people/{}", i.person),
                    },
                    name: name.clone(),
                    prison_number: number.clone(),
                    detail: i.detail.clone(),
                })
                .collect(),
        })
        .collect();
    render(DataQualityPage {
        chrome: chrome(&state, &staff, "/data-quality"),
        establishment: state.establishment_name(staff.establishment().as_str()),
        total,
        groups,
    })
}

/// GET /api/v1/data-quality: the same, as JSON.
pub async fn api(State(state): State<AppState>, ApiStaff(staff): ApiStaff) -> Response {
    let now = Utc::now();
    let issues = match issues_here(&state, &staff, now) {
        Ok(i) => i,
        Err(d) => return crate::api::denied(d),
    };
    let counts: serde_json::Map<String, serde_json::Value> = IssueKind::ALL
        .iter()
        .map(|k| {
            (
                k.code().to_string(),
                json!(issues.iter().filter(|(i, _, _)| i.kind == *k).count()),
            )
        })
        .collect();
    Json(json!({
        "establishment": staff.establishment(),
        "as_at": throughcare_domain::time::canonical_instant(now),
        "counts": counts,
        "issues": issues.iter().map(|(i, _, number)| json!({
            "kind": i.kind,
            "person": i.person,
            "prison_number": number,
            "event": i.event,
            "detail": i.detail,
        })).collect::<Vec<_>>(),
    }))
    .into_response()
}
