//! The release queue (REQUIREMENTS §10): everyone due for release in the next 12
//! weeks at the establishment, with what their release plan still lacks, most
//! urgent first; short sentences (under six months, KM 4.10.6) flagged.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Json, Response};
use serde_json::json;
use throughcare_domain::record_ids::PersonId;
use throughcare_domain::throughcare::{ReleaseItem, release_item, release_key};

use crate::app::AppState;
use crate::auth::{ApiStaff, PageStaff, Staff};
use crate::care_pages::caseload_cases;
use crate::chrome::Chrome;
use crate::policy::Denied;
use crate::web::{chrome, denied, render};

/// One person in the release queue, in words.
pub struct ReleaseRow {
    person: PersonId,
    name: String,
    prison_number: String,
    expected: String,
    days_left: i64,
    short_sentence: bool,
    gaps: Vec<&'static str>,
}

#[derive(Template)]
#[template(path = "release_queue.html")]
struct ReleaseQueuePage {
    chrome: Chrome,
    establishment: String,
    rows: Vec<ReleaseRow>,
}

/// The queue at the signed-in establishment, in the domain's order.
fn queue(
    state: &AppState,
    staff: &Staff,
) -> Result<Vec<(throughcare_store::CaseRow, ReleaseItem)>, Denied> {
    let today = crate::forms::today();
    let mut rows: Vec<_> = caseload_cases(state, staff)?
        .into_iter()
        .filter_map(|(row, case)| release_item(&case, today).map(|i| (row, i)))
        .collect();
    rows.sort_by_key(|(_, i)| release_key(i));
    Ok(rows)
}

/// GET /queues/release: the release queue page.
pub async fn release_queue(State(state): State<AppState>, PageStaff(staff): PageStaff) -> Response {
    let rows = match queue(&state, &staff) {
        Ok(r) => r,
        Err(d) => return denied(&state, &staff, d),
    };
    render(ReleaseQueuePage {
        chrome: chrome(&state, &staff, "/queues/release"),
        establishment: state.establishment_name(staff.establishment().as_str()),
        rows: rows
            .into_iter()
            .map(|(row, item)| ReleaseRow {
                person: row.person,
                name: format!("{}, {}", row.family_name, row.given_name),
                prison_number: row.prison_number,
                expected: item.expected_release.format("%-d %b %Y").to_string(),
                days_left: item.days_left,
                short_sentence: item.short_sentence,
                gaps: item.gaps.iter().map(|g| g.label()).collect(),
            })
            .collect(),
    })
}

/// GET /api/v1/queues/release: the release queue as JSON.
pub async fn release_queue_api(
    State(state): State<AppState>,
    ApiStaff(staff): ApiStaff,
) -> Response {
    match queue(&state, &staff) {
        Ok(rows) => Json(json!({
            "establishment": staff.establishment(),
            "due_for_release": rows.into_iter().map(|(row, item)| json!({
                "person": row.person, "prison_number": row.prison_number,
                "expected_release": item.expected_release, "days_left": item.days_left,
                "short_sentence": item.short_sentence,
                "gaps": item.gaps.iter().map(|g| g.code()).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        }))
        .into_response(),
        Err(d) => crate::api::denied(d),
    }
}
