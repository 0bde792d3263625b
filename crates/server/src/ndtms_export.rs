//! The NDTMS extract's outputs and pages (KM 3.3.6, 4.28; docs/ndtms.md): the CSV
//! file, its metadata, the manager-only download `GET /ndtms/extract.csv` and the
//! completeness page `GET /ndtms/completeness` that lists every missing mandatory
//! field with a link to the person (KM 4.28.5: 100% data quality).
//!
//! The file is pure CSV — the header of field names, then the rows — because a data
//! set loader reads exactly that; what it was made from (data set version, period,
//! as-at instant, last event, profile version) goes in a separate metadata document
//! (`FILE.meta.json` from the CLI; response headers on the download). The same as-at
//! instant gives the same bytes.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::BTreeMap;
use throughcare_domain::identifiers::EstablishmentCode;
use throughcare_domain::ndtms::{self, Extract};
use throughcare_domain::profile::Profile;
use throughcare_domain::record_ids::PersonId;
use throughcare_domain::returns::cut::Cut;
use throughcare_domain::returns::period::Period;
use throughcare_domain::time::canonical_instant;
use throughcare_store::{AccessEntry, Store, StoreError};

use crate::app::AppState;
use crate::auth::{PageStaff, Staff};
use crate::chrome::Chrome;
use crate::policy;
use crate::web::{chrome, denied, message, render};

/// Computes the extract over everything the store holds, as at `as_at`.
pub fn compute(
    store: &dyn Store,
    profile: &Profile,
    period: &Period,
    as_at: DateTime<Utc>,
    establishment: Option<&EstablishmentCode>,
) -> Result<Extract, StoreError> {
    let events = store.events_after(0, usize::MAX)?;
    let cut = Cut::new(profile, &events, as_at);
    Ok(ndtms::extract(&cut, period, establishment))
}

/// The file: the header of field names, then one line per row (RFC 4180, `\n`).
pub fn to_csv(x: &Extract) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    for row in &x.rows {
        w.write_record(row)?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// The metadata document: what the file was made from and whether it is complete.
/// Names no person.
pub fn metadata(
    x: &Extract,
    profile: &Profile,
    as_at: DateTime<Utc>,
    establishment: Option<&EstablishmentCode>,
) -> serde_json::Value {
    serde_json::json!({
        "dataset": ndtms::dataset().dataset,
        "dataset_version": x.dataset_version,
        "period": x.period.name,
        "period_first": x.period.first.to_string(),
        "period_last": x.period.last.to_string(),
        "as_at": canonical_instant(as_at),
        "events_up_to": x.last_seq,
        "profile": profile.id,
        "profile_version": profile.version,
        "establishment": establishment.map(|e| e.as_str().to_string()),
        "rows": x.rows.len().saturating_sub(1),
        "missing_fields": x.problems.len(),
    })
}

/// The missing fields as lines for a terminal: row, episode and field; no names.
pub fn problem_lines(x: &Extract) -> Vec<String> {
    x.problems
        .iter()
        .map(|m| {
            format!(
                "row {}: episode {}: {} is missing",
                m.row, m.episode, m.field
            )
        })
        .collect()
}

/// The download's and the page's query.
#[derive(Debug, Default, Deserialize)]
pub struct ExtractQuery {
    /// The period, like 2026Q3 (the current quarter when left out).
    pub period: Option<String>,
    /// As at: a date (its end, UK time) or an RFC 3339 instant (now when left out).
    pub as_at: Option<String>,
    /// `yes` to download a file that fails the completeness check.
    pub allow_incomplete: Option<String>,
}

impl ExtractQuery {
    /// The period and as-at instant, or a message naming the bad field.
    fn read(&self) -> Result<(Period, DateTime<Utc>), String> {
        let period = match self.period.as_deref().map(str::trim) {
            None | Some("") => Period::quarter_of(crate::forms::today()),
            Some(p) => Period::parse(p).map_err(|e| format!("period: {e}"))?,
        };
        let as_at = match self.as_at.as_deref().map(str::trim) {
            None | Some("") => Utc::now(),
            Some(t) => crate::report_export::parse_as_at(t).map_err(|e| format!("as_at: {e}"))?,
        };
        Ok((period, as_at))
    }
}

/// Writes one access-audit entry per person in the extract (their person-level data
/// left the record, or was listed): the extract is audited as person pages are.
fn audit(
    state: &AppState,
    staff: &Staff,
    people: impl IntoIterator<Item = PersonId>,
    action: &str,
    route: &str,
) -> Result<(), StoreError> {
    let mut seen = std::collections::BTreeSet::new();
    for person in people {
        if seen.insert(person) {
            state.store.record_access(&AccessEntry {
                at: Utc::now(),
                username: staff.username().to_string(),
                person: Some(person),
                action: action.to_string(),
                detail: route.to_string(),
            })?;
        }
    }
    Ok(())
}

/// The extract for the manager's current establishment, or the response to send.
fn manager_extract(
    state: &AppState,
    staff: &Staff,
    q: &ExtractQuery,
) -> Result<(Extract, DateTime<Utc>), Box<Response>> {
    let access = policy::manager_here(staff).map_err(|d| Box::new(denied(state, staff, d)))?;
    let (period, as_at) = q.read().map_err(|e| {
        Box::new(message(
            state,
            staff,
            StatusCode::BAD_REQUEST,
            "The extract could not be made",
            &e,
        ))
    })?;
    compute(
        state.store.as_ref(),
        &state.profile,
        &period,
        as_at,
        Some(access.establishment()),
    )
    .map(|x| (x, as_at))
    .map_err(|e| Box::new(denied(state, staff, e.into())))
}

/// GET /ndtms/extract.csv: the NDTMS file for the manager's establishment. Refused
/// (409, pointing to the completeness page) while a mandatory field is missing,
/// unless `allow_incomplete=yes`.
pub async fn extract_csv(
    State(state): State<AppState>,
    PageStaff(staff): PageStaff,
    Query(q): Query<ExtractQuery>,
) -> Response {
    let (x, as_at) = match manager_extract(&state, &staff, &q) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    if !x.is_complete() && q.allow_incomplete.as_deref() != Some("yes") {
        return message(
            &state,
            &staff,
            StatusCode::CONFLICT,
            "The extract is incomplete",
            &format!(
                "{} mandatory fields are missing (KM 4.28.5). See /ndtms/completeness?period={} to complete them, or download with allow_incomplete=yes.",
                x.problems.len(),
                x.period.name
            ),
        );
    }
    if let Err(e) = audit(
        &state,
        &staff,
        x.people.iter().copied(),
        "ndtms-extract",
        "/ndtms/extract.csv",
    ) {
        return denied(&state, &staff, e.into());
    }
    let body = match to_csv(&x) {
        Ok(b) => b,
        Err(_) => {
            return (StatusCode::INTERNAL_SERVER_ERROR, "The export failed.").into_response();
        }
    };
    let here = staff.establishment().as_str().to_string();
    let stamp = canonical_instant(as_at).replace([':', '.'], "");
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"ndtms-{here}-{}-{stamp}.csv\"",
                    x.period.name
                ),
            ),
            (
                header::HeaderName::from_static("x-ndtms-dataset-version"),
                x.dataset_version.clone(),
            ),
            (
                header::HeaderName::from_static("x-as-at"),
                canonical_instant(as_at),
            ),
        ],
        body,
    )
        .into_response()
}

/// One person on the completeness page.
pub struct PersonGaps {
    person: PersonId,
    name: String,
    prison_number: String,
    /// (row, episode, field), in row order.
    gaps: Vec<(usize, String, String)>,
}

#[derive(Template)]
#[template(path = "ndtms_completeness.html")]
struct CompletenessPage {
    chrome: Chrome,
    establishment: String,
    period: String,
    period_name: String,
    as_at: String,
    dataset_version: String,
    rows: usize,
    missing: usize,
    people: Vec<PersonGaps>,
}

/// GET /ndtms/completeness: every missing mandatory field of the manager's
/// establishment's extract, person by person, each linking to the person's record.
pub async fn completeness(
    State(state): State<AppState>,
    PageStaff(staff): PageStaff,
    Query(q): Query<ExtractQuery>,
) -> Response {
    let (x, as_at) = match manager_extract(&state, &staff, &q) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let mut by_person: BTreeMap<PersonId, Vec<(usize, String, String)>> = BTreeMap::new();
    for m in &x.problems {
        by_person
            .entry(m.person)
            .or_default()
            .push((m.row, m.episode.clone(), m.field.clone()));
    }
    if let Err(e) = audit(
        &state,
        &staff,
        by_person.keys().copied(),
        "ndtms-completeness",
        "/ndtms/completeness",
    ) {
        return denied(&state, &staff, e.into());
    }
    let mut people = Vec::new();
    for (person, gaps) in by_person {
        let row = state.store.case_row(person).ok().flatten();
        let (name, prison_number) = row
            .map(|r| {
                (
                    format!("{}, {}", r.family_name, r.given_name),
                    r.prison_number,
                )
            })
            .unwrap_or_else(|| ("(not registered)".into(), String::new()));
        people.push(PersonGaps {
            person,
            name,
            prison_number,
            gaps,
        });
    }
    people.sort_by(|a, b| a.name.cmp(&b.name).then(a.person.cmp(&b.person)));
    render(CompletenessPage {
        chrome: chrome(&state, &staff, "/ndtms/completeness"),
        establishment: state.establishment_name(staff.establishment().as_str()),
        period: x.period.to_string(),
        period_name: x.period.name.clone(),
        as_at: canonical_instant(as_at),
        dataset_version: x.dataset_version.clone(),
        rows: x.rows.len().saturating_sub(1),
        missing: x.problems.len(),
        people,
    })
}
