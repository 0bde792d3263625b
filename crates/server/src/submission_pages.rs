//! Submissions (KM 6.4–6.5; S4 §5): the manager's page `/submissions` lists the
//! returns the profile owes with the due day of the latest complete period, and
//! every sign-off; the form signs a return off. Signing off regenerates the file
//! with `report_export` (the published rule, as the CLI and the return pages give
//! it), computes its SHA-256 and records a `return_submitted` event; the file is
//! offered at `/submissions/{id}/file`, which produces it again from the log as at
//! the recorded instant and refuses loudly (HTTP 500) if its hash differs — the
//! file must never silently change. Manager-only. docs/submissions.md.

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, SubsecRound, Utc};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use throughcare_domain::events::EventKind;
use throughcare_domain::governance::ServiceRecord;
use throughcare_domain::identifiers::EstablishmentCode;
use throughcare_domain::profile::Profile;
use throughcare_domain::record_ids::{EventId, RandomIds};
use throughcare_domain::returns::ReturnKind;
use throughcare_domain::submissions::{
    FileFormat, ReturnSubmitted, Submission, SubmittedReturn, due_on,
};
use throughcare_domain::time::{canonical_instant, local_date};
use throughcare_store::Store;

use crate::app::AppState;
use crate::auth::{PageStaff, Staff};
use crate::chrome::{Chrome, FormErrors};
use crate::form_data::FormData;
use crate::forms::{FormSpec, date, radios, s, select, text};
use crate::policy::{self, Denied};
use crate::recording::RecordError;
use crate::report_export as rx;
use crate::web::{
    FormPage, checked_form, chrome, denied, domain_errors, message, render, with_status,
};

/// The bytes of a return's file for a sign-off's parameters, exactly as
/// `throughcare report` makes them with the published rule.
pub fn produce(
    store: &dyn Store,
    profile: &Profile,
    s: &ReturnSubmitted,
) -> Result<Vec<u8>, String> {
    let kind = s.submitted_return.kind();
    let period = kind.parse_period(&s.period, profile.obligations.year_starts_month)?;
    let r = rx::compute(store, profile, kind, &period, s.as_at).map_err(|e| e.to_string())?;
    let rule = rx::published_rule(profile, kind);
    let sheets = rx::sheets(&r, profile, s.scope.as_ref(), rule.as_ref());
    match s.format {
        FileFormat::Csv => rx::csv(&sheets).map_err(|e| e.to_string()),
        FileFormat::Xlsx => rx::to_xlsx(&r, &sheets).map_err(|e| e.to_string()),
    }
}

/// The SHA-256 of `bytes`, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn record(state: &AppState) -> Result<ServiceRecord, Denied> {
    Ok(ServiceRecord::fold(&state.store.service_events()?))
}

/// One return the profile owes, with its latest complete period.
pub struct DueRow {
    /// The return's title.
    pub title: String,
    /// The paragraph that asks for it.
    pub spec: String,
    /// The latest complete period's name.
    pub period: String,
    /// Its due day, in words.
    pub due: String,
    /// Submitted, overdue or due.
    pub status: String,
    /// Whether it is overdue.
    pub overdue: bool,
}

/// One sign-off as the page lists it.
pub struct SubmissionRow {
    /// The event id (for the file link).
    pub id: String,
    /// The return's code.
    pub kind: String,
    /// The period.
    pub period: String,
    /// An establishment, or "All".
    pub scope: String,
    /// The as-at instant.
    pub as_at: String,
    /// CSV or XLSX.
    pub format: String,
    /// The file's hash.
    pub sha256: String,
    /// The day submitted.
    pub submitted_on: String,
    /// Who signed it off.
    pub by: String,
}

#[derive(Template)]
#[template(path = "submissions.html")]
struct SubmissionsPage {
    chrome: Chrome,
    signed: Option<SubmissionRow>,
    due: Vec<DueRow>,
    submissions: Vec<SubmissionRow>,
}

fn long(d: chrono::NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

fn row(s: &Submission) -> SubmissionRow {
    SubmissionRow {
        id: s.id.to_string(),
        kind: s.fact.submitted_return.code().into(),
        period: s.fact.period.clone(),
        scope: s
            .fact
            .scope
            .as_ref()
            .map_or_else(|| "All".to_string(), ToString::to_string),
        as_at: canonical_instant(s.fact.as_at),
        format: s.fact.format.label().into(),
        sha256: s.fact.sha256.clone(),
        submitted_on: long(s.fact.submitted_on),
        by: s.recorded_by.to_string(),
    }
}

/// GET /submissions: the returns due and every sign-off (`?signed=ID` after one).
pub async fn page(
    State(state): State<AppState>,
    PageStaff(staff): PageStaff,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Err(d) = policy::manager_here(&staff) {
        return denied(&state, &staff, d);
    }
    let r = match record(&state) {
        Ok(r) => r,
        Err(d) => return denied(&state, &staff, d),
    };
    let today = crate::forms::today();
    let due = state
        .profile
        .returns
        .iter()
        .filter_map(|d| {
            let kind = ReturnKind::from_code(&d.id)?;
            let period = kind.last_complete(today, state.profile.obligations.year_starts_month);
            let due_day = due_on(&state.profile, d, &period);
            let done = r
                .submissions
                .iter()
                .filter(|s| s.fact.submitted_return.code() == d.id && s.fact.period == period.name)
                .map(|s| s.fact.submitted_on)
                .max();
            let overdue = done.is_none() && due_day.is_some_and(|due| today > due);
            Some(DueRow {
                title: d.title.clone(),
                spec: d.spec.clone(),
                period: period.name.clone(),
                due: due_day.map_or_else(|| "No deadline in the profile".into(), long),
                status: match done {
                    Some(on) => format!("Submitted {}", long(on)),
                    None if overdue => "Overdue".into(),
                    None => "Not yet submitted".into(),
                },
                overdue,
            })
        })
        .collect();
    let signed = query
        .get("signed")
        .and_then(|id| EventId::parse(id))
        .and_then(|id| r.submissions.iter().find(|s| s.id == id))
        .map(row);
    render(SubmissionsPage {
        chrome: chrome(&state, &staff, "/submissions"),
        signed,
        due,
        submissions: r.submissions.iter().rev().map(row).collect(),
    })
}

/// The returns this profile owes that the product can produce.
fn owed(profile: &Profile) -> Vec<SubmittedReturn> {
    SubmittedReturn::ALL
        .iter()
        .copied()
        .filter(|k| profile.returns.iter().any(|r| r.id == k.code()))
        .collect()
}

fn spec(f: &FormData, profile: &Profile) -> FormSpec {
    let returns = owed(profile)
        .into_iter()
        .map(|k| (s(k.code()), s(k.label())))
        .collect();
    let mut scopes = vec![(String::new(), s("The whole return (every establishment)"))];
    scopes.extend(
        profile
            .establishments
            .iter()
            .map(|e| (e.code.to_string(), e.name.clone())),
    );
    FormSpec {
        title: s("Sign off a return"),
        fields: vec![
            radios(f, "return", "Return", returns),
            text(
                f,
                "period",
                "Period",
                "A quarter like 2026Q3, or a half-year like 2026H1",
            ),
            text(
                f,
                "as_at",
                "As at",
                "Only what was recorded by then counts: a date (the end of that day, UK time) or an instant like 2026-10-05T09:00:00Z",
            ),
            select(f, "scope", "Rows", scopes),
            radios(
                f,
                "format",
                "Format",
                FileFormat::ALL
                    .iter()
                    .map(|v| (s(v.code()), s(v.label())))
                    .collect(),
            ),
            date(f, "submitted_on", "Date submitted to the commissioner"),
        ],
    }
}

fn parse(f: &FormData, year_starts: u32) -> Result<ReturnSubmitted, FormErrors> {
    let mut e = FormErrors::default();
    let kind = f.choice(
        "return",
        "Select the return",
        &mut e,
        SubmittedReturn::from_code,
    );
    let period = f
        .required("period", "Enter the period, like 2026Q3", &mut e)
        .and_then(
            |p| match kind.map(|k| k.kind().parse_period(&p, year_starts)) {
                // Without a return the period cannot be read; the return's error says so.
                None => Some(p),
                Some(Ok(p)) => Some(p.name),
                Some(Err(err)) => {
                    e.add("period", err);
                    None
                }
            },
        );
    let as_at = f
        .required("as_at", "Enter the as-at date or instant", &mut e)
        .and_then(|t| match rx::parse_as_at(&t) {
            Ok(at) => Some(at.trunc_subsecs(6)),
            Err(err) => {
                e.add("as_at", err);
                None
            }
        });
    let scope = match f.optional("scope") {
        None => Some(None),
        Some(code) => match EstablishmentCode::parse(&code) {
            Ok(c) => Some(Some(c)),
            Err(err) => {
                e.add("scope", err.to_string());
                None
            }
        },
    };
    let format = f.choice("format", "Select the format", &mut e, FileFormat::from_code);
    let submitted_on = f.date("submitted_on", "Date submitted", &mut e);
    match (kind, period, as_at, scope, format, submitted_on) {
        (Some(kind), Some(period), Some(as_at), Some(scope), Some(format), Some(submitted_on))
            if e.is_empty() =>
        {
            Ok(ReturnSubmitted {
                submitted_return: kind,
                period,
                as_at,
                scope,
                format,
                // Filled in from the file once it is made.
                sha256: String::new(),
                submitted_on,
            })
        }
        _ => Err(e),
    }
}

fn form_page(
    state: &AppState,
    staff: &Staff,
    f: &FormData,
    errors: FormErrors,
    status: StatusCode,
) -> Response {
    with_status(
        status,
        render(FormPage {
            chrome: chrome(state, staff, "/submissions"),
            errors,
            spec: spec(f, &state.profile),
            action: "/submissions".into(),
            back: "/submissions".into(),
            subject: state.profile.name.clone(),
            supersedes: String::new(),
        }),
    )
}

/// The form's starting values: the profile's first return, its latest complete
/// period, as at now, CSV, submitted today.
fn defaults(profile: &Profile, now: DateTime<Utc>) -> FormData {
    let today = local_date(now);
    let first = owed(profile).first().copied();
    let period = first
        .map(|k| {
            k.kind()
                .last_complete(today, profile.obligations.year_starts_month)
        })
        .map(|p| p.name)
        .unwrap_or_default();
    FormData::from_pairs(vec![
        (
            "return".into(),
            first.map(|k| k.code().to_string()).unwrap_or_default(),
        ),
        ("period".into(), period),
        ("as_at".into(), now.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
        ("format".into(), "csv".into()),
        ("submitted_on-day".into(), today.format("%-d").to_string()),
        ("submitted_on-month".into(), today.format("%-m").to_string()),
        ("submitted_on-year".into(), today.format("%Y").to_string()),
    ])
}

/// GET /submissions/new: the sign-off form.
pub async fn form(State(state): State<AppState>, PageStaff(staff): PageStaff) -> Response {
    if let Err(d) = policy::manager_here(&staff) {
        return denied(&state, &staff, d);
    }
    let f = defaults(&state.profile, Utc::now());
    form_page(&state, &staff, &f, FormErrors::default(), StatusCode::OK)
}

/// POST /submissions: makes the file, hashes it, records the sign-off and shows it.
pub async fn sign_off(
    State(state): State<AppState>,
    PageStaff(staff): PageStaff,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let f = match checked_form(&state, &staff, &headers, pairs) {
        Ok(f) => f,
        Err(refused) => return refused,
    };
    if let Err(d) = policy::manager_here(&staff) {
        return denied(&state, &staff, d);
    }
    let mut fact = match parse(&f, state.profile.obligations.year_starts_month) {
        Ok(s) => s,
        Err(e) => {
            return form_page(&state, &staff, &f, e, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let now = Utc::now();
    // Check everything but the hash before making the file.
    let mut probe = fact.clone();
    probe.sha256 = "0".repeat(64);
    if let Err(e) = throughcare_domain::submissions::validate(&probe, &state.profile, now) {
        return form_page(
            &state,
            &staff,
            &f,
            domain_errors(&e),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let bytes = match produce(state.store.as_ref(), &state.profile, &fact) {
        Ok(b) => b,
        Err(why) => {
            tracing::error!(error = %why, "return could not be produced");
            return message(
                &state,
                &staff,
                StatusCode::INTERNAL_SERVER_ERROR,
                "The return could not be produced",
                "Nothing was recorded. Try again; if it keeps failing, tell the system's operator.",
            );
        }
    };
    fact.sha256 = sha256_hex(&bytes);
    let recorded = state.recorder().record_service(
        &staff.author(),
        staff.establishment(),
        EventKind::ReturnSubmitted(fact),
        now,
        &mut RandomIds,
        None,
    );
    match recorded {
        Ok(events) => match events.first() {
            Some(e) => Redirect::to(&format!("/submissions?signed={}", e.id)).into_response(),
            None => Redirect::to("/submissions").into_response(),
        },
        Err(RecordError::Domain(e)) => form_page(
            &state,
            &staff,
            &f,
            domain_errors(&e),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(RecordError::Store(e)) => denied(&state, &staff, Denied::Store(e)),
    }
}

/// GET /submissions/{id}/file: the signed-off file, produced again from the log as
/// at its recorded instant — served only if its SHA-256 is the one recorded.
pub async fn file(
    State(state): State<AppState>,
    PageStaff(staff): PageStaff,
    Path(id): Path<String>,
) -> Response {
    if let Err(d) = policy::manager_here(&staff) {
        return denied(&state, &staff, d);
    }
    let r = match record(&state) {
        Ok(r) => r,
        Err(d) => return denied(&state, &staff, d),
    };
    let Some(sub) = EventId::parse(&id).and_then(|id| r.submissions.iter().find(|s| s.id == id))
    else {
        return denied(&state, &staff, Denied::NotFound);
    };
    let bytes = match produce(state.store.as_ref(), &state.profile, &sub.fact) {
        Ok(b) => b,
        Err(why) => {
            tracing::error!(error = %why, "submitted return could not be produced again");
            return message(
                &state,
                &staff,
                StatusCode::INTERNAL_SERVER_ERROR,
                "The submitted return could not be produced again",
                "Tell the system's operator: the file could not be made.",
            );
        }
    };
    let hash = sha256_hex(&bytes);
    if hash != sub.fact.sha256 {
        tracing::error!(
            submission = %sub.id,
            recorded = %sub.fact.sha256,
            produced = %hash,
            "submitted return differs from its recorded hash"
        );
        return message(
            &state,
            &staff,
            StatusCode::INTERNAL_SERVER_ERROR,
            "This file is NOT the one that was submitted",
            &format!(
                "The return {} {} as at {} produced again has SHA-256 {hash}, but the file submitted had {}. The file is not offered. Tell the system's operator at once: the log or the profile (version {}) has changed since the return was signed off.",
                sub.fact.submitted_return.code(),
                sub.fact.period,
                canonical_instant(sub.fact.as_at),
                sub.fact.sha256,
                state.profile.version,
            ),
        );
    }
    let (mime, ext) = match sub.fact.format {
        FileFormat::Csv => ("text/csv; charset=utf-8", "csv"),
        FileFormat::Xlsx => (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
    };
    let name = format!(
        "{}-{}{}-{}.{ext}",
        sub.fact.submitted_return.code(),
        sub.fact.period,
        sub.fact
            .scope
            .as_ref()
            .map(|e| format!("-{e}"))
            .unwrap_or_default(),
        sub.fact.as_at.format("%Y%m%dT%H%M%SZ"),
    );
    let mut response = bytes.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&hash) {
        h.insert("x-content-sha256", v);
    }
    response
}
