//! Information-sharing requests (KM 5.14–5.15; docs/information-requests.md): the
//! commissioner asks at `/information-requests/new` and sees their requests at
//! `/information-requests`; a manager of the establishments in scope sees how many
//! people and which fields would be shared (counts, never names) and approves or
//! refuses at `/information-requests/{ref}`; while approved and not expired, the
//! commissioner who asked downloads `/information-requests/{ref}/data.csv`, made from
//! the log as at the approval, and every person in it is written to the access
//! audit before a byte leaves. Who may do what is in `policy`; the rules in the
//! domain's `information_requests`.

// The shared radios macro compares each option with the chosen value as text.
#![allow(clippy::cmp_owned)]

use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Datelike, Days, Utc};
use throughcare_domain::events::EventKind;
use throughcare_domain::governance::ServiceRecord;
use throughcare_domain::identifiers::EstablishmentCode;
use throughcare_domain::information_requests::{
    Cohort, Decision, InformationRequest, InformationRequestDecided, InformationRequestMade,
    RequestStatus, SharedField, SharedRow, rows, still_shareable,
};
use throughcare_domain::record_ids::RandomIds;
use throughcare_domain::returns::cut::Cut;
use throughcare_store::AccessEntry;

use crate::app::AppState;
use crate::auth::{PageStaff, Staff};
use crate::chrome::{Chrome, FormErrors};
use crate::form_data::FormData;
use crate::forms::{Field, FormSpec, area, date, date_label, radios, s, text, today};
use crate::policy::{self, Denied, RequestsAccess};
use crate::recording::RecordError;
use crate::web::{
    FormPage, checked_form, chrome, denied, domain_errors, message, render, with_status,
};

const HOME: &str = "/information-requests";

fn register(
    state: &AppState,
) -> Result<throughcare_domain::information_requests::Register, Denied> {
    Ok(ServiceRecord::fold(&state.store.service_events()?).information_requests)
}

/// One request as the pages list it.
pub struct RequestRow {
    /// Its reference.
    pub reference: String,
    /// Who asked.
    pub requested_by: String,
    /// The day asked.
    pub requested_on: String,
    /// The cohort, in words.
    pub cohort: String,
    /// The establishments, by code.
    pub establishments: String,
    /// The period.
    pub period: String,
    /// The fields, by code.
    pub fields: String,
    /// The purpose.
    pub purpose: String,
    /// The clause relied on.
    pub lawful_basis: String,
    /// The last day of access.
    pub expires_on: String,
    /// Pending, Approved, Refused or Expired.
    pub status: String,
    /// Whether the rows may be downloaded now.
    pub approved: bool,
    /// The decision in words (who, when, why), if decided.
    pub decision: String,
}

fn row(r: &InformationRequest, on: chrono::NaiveDate) -> RequestRow {
    let m = &r.made;
    let status = r.status(on);
    RequestRow {
        reference: m.request_ref.clone(),
        requested_by: m.requested_by.to_string(),
        requested_on: date_label(r.requested_on),
        cohort: m.cohort.label().into(),
        establishments: m
            .establishments
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        period: format!(
            "{} to {}",
            date_label(m.period_from),
            date_label(m.period_to)
        ),
        fields: m
            .fields
            .iter()
            .map(|f| f.code())
            .collect::<Vec<_>>()
            .join(", "),
        purpose: m.purpose.clone(),
        lawful_basis: m.lawful_basis.clone(),
        expires_on: date_label(m.expires_on),
        status: status.label().into(),
        approved: status == RequestStatus::Approved,
        decision: r
            .decision
            .as_ref()
            .map(|d| {
                format!(
                    "{} by {} on {}{}",
                    d.fact.decision.label(),
                    d.decided_by,
                    date_label(d.fact.decided_on),
                    d.fact
                        .reason
                        .as_ref()
                        .map(|w| format!(": {w}"))
                        .unwrap_or_default()
                )
            })
            .unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "information_requests.html")]
struct ListPage {
    chrome: Chrome,
    commissioner: bool,
    requests: Vec<RequestRow>,
}

/// GET /information-requests: a commissioner's own requests, or the requests
/// touching a manager's establishments, newest reference last.
pub async fn list(State(state): State<AppState>, PageStaff(staff): PageStaff) -> Response {
    let access = match policy::information_requests(&staff) {
        Ok(a) => a,
        Err(d) => return denied(&state, &staff, d),
    };
    let reg = match register(&state) {
        Ok(r) => r,
        Err(d) => return denied(&state, &staff, d),
    };
    let on = today();
    render(ListPage {
        chrome: chrome(&state, &staff, HOME),
        commissioner: matches!(access, RequestsAccess::Requester(_)),
        requests: reg
            .values()
            .filter(|r| access.sees(&r.made))
            .map(|r| row(r, on))
            .collect(),
    })
}

fn spec(state: &AppState, f: &FormData) -> FormSpec {
    let checkboxes = |name: &str, legend: &str, options: Vec<(String, String)>| Field::Checkboxes {
        name: s(name),
        legend: s(legend),
        options,
        selected: f.all(name),
    };
    FormSpec {
        title: s("Make an information-sharing request"),
        fields: vec![
            text(
                f,
                "request_ref",
                "Reference",
                "Letters, digits and hyphens, like ISR-2026-001",
            ),
            area(f, "purpose", "What the information is for (KM 5.15)"),
            text(
                f,
                "lawful_basis",
                "Lawful basis",
                "The clause of the Kent and Medway Information Sharing Agreement relied on",
            ),
            checkboxes(
                "establishments",
                "Establishments",
                state
                    .profile
                    .establishments
                    .iter()
                    .map(|e| (e.code.to_string(), e.name.clone()))
                    .collect(),
            ),
            date(f, "period_from", "Period from"),
            date(f, "period_to", "Period to"),
            radios(
                f,
                "cohort",
                "Whom it is about",
                Cohort::ALL
                    .iter()
                    .map(|c| (s(c.code()), s(c.label())))
                    .collect(),
            ),
            checkboxes(
                "fields",
                "Fields asked for",
                SharedField::ALL
                    .iter()
                    .map(|x| (s(x.code()), s(x.label())))
                    .collect(),
            ),
            date(
                f,
                "expires_on",
                "Access ends on (at most 90 days from today)",
            ),
        ],
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
            chrome: chrome(state, staff, HOME),
            errors,
            spec: spec(state, f),
            action: HOME.into(),
            back: HOME.into(),
            subject: state.profile.name.clone(),
            supersedes: String::new(),
        }),
    )
}

fn date_pairs(name: &str, d: chrono::NaiveDate) -> Vec<(String, String)> {
    vec![
        (format!("{name}-day"), d.day().to_string()),
        (format!("{name}-month"), d.month().to_string()),
        (format!("{name}-year"), d.year().to_string()),
    ]
}

/// GET /information-requests/new: the request form (commissioner only), with the
/// next free reference and access for 30 days.
pub async fn new_form(State(state): State<AppState>, PageStaff(staff): PageStaff) -> Response {
    if let Err(d) = policy::request_information(&staff) {
        return denied(&state, &staff, d);
    }
    let reg = match register(&state) {
        Ok(r) => r,
        Err(d) => return denied(&state, &staff, d),
    };
    let on = today();
    let next = (1..)
        .map(|n| format!("ISR-{}-{n:03}", on.year()))
        .find(|r| !reg.contains_key(r))
        .unwrap_or_default();
    let mut pairs = vec![("request_ref".to_string(), next)];
    if let Some(end) = on.checked_add_days(Days::new(30)) {
        pairs.extend(date_pairs("expires_on", end));
    }
    form_page(
        &state,
        &staff,
        &FormData::from_pairs(pairs),
        FormErrors::default(),
        StatusCode::OK,
    )
}

fn codes<T>(
    f: &FormData,
    name: &str,
    what: &str,
    e: &mut FormErrors,
    read: impl Fn(&str) -> Option<T>,
) -> Vec<T> {
    let mut out = Vec::new();
    for v in f.all(name) {
        match read(v.trim()) {
            Some(x) => out.push(x),
            None => e.add(name, format!("Choose {what} from the list")),
        }
    }
    out
}

fn parse(
    f: &FormData,
    requested_by: &throughcare_domain::identifiers::StaffUsername,
) -> Result<InformationRequestMade, FormErrors> {
    let mut e = FormErrors::default();
    let request_ref = f.required("request_ref", "Enter the request's reference", &mut e);
    let purpose = f.required("purpose", "Enter what the information is for", &mut e);
    let lawful_basis = f.required(
        "lawful_basis",
        "Enter the clause of the Information Sharing Agreement relied on",
        &mut e,
    );
    let establishments = codes(f, "establishments", "establishments", &mut e, |c| {
        EstablishmentCode::parse(c).ok()
    });
    let period_from = f.date("period_from", "The start of the period", &mut e);
    let period_to = f.date("period_to", "The end of the period", &mut e);
    let cohort = f.choice(
        "cohort",
        "Choose whom the request is about",
        &mut e,
        Cohort::from_code,
    );
    let fields = codes(f, "fields", "fields", &mut e, SharedField::from_code);
    let expires_on = f.date("expires_on", "The day access ends", &mut e);
    match (
        request_ref,
        purpose,
        lawful_basis,
        period_from,
        period_to,
        cohort,
        expires_on,
    ) {
        (
            Some(request_ref),
            Some(purpose),
            Some(lawful_basis),
            Some(period_from),
            Some(period_to),
            Some(cohort),
            Some(expires_on),
        ) if e.is_empty() => Ok(InformationRequestMade {
            request_ref,
            requested_by: requested_by.clone(),
            purpose,
            lawful_basis,
            establishments,
            period_from,
            period_to,
            cohort,
            fields,
            expires_on,
        }),
        _ => Err(e),
    }
}

/// POST /information-requests: records the commissioner's request, in their name.
pub async fn make(
    State(state): State<AppState>,
    PageStaff(staff): PageStaff,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let f = match checked_form(&state, &staff, &headers, pairs) {
        Ok(f) => f,
        Err(refused) => return refused,
    };
    let me = match policy::request_information(&staff) {
        Ok(me) => me,
        Err(d) => return denied(&state, &staff, d),
    };
    let made = match parse(&f, me.username()) {
        Ok(m) => m,
        Err(e) => return form_page(&state, &staff, &f, e, StatusCode::UNPROCESSABLE_ENTITY),
    };
    // Recorded at the first establishment in scope (the domain checks every one).
    let at = made
        .establishments
        .first()
        .cloned()
        .unwrap_or_else(|| staff.establishment().clone());
    let reference = made.request_ref.clone();
    let recorded = state.recorder().record_service(
        &staff.author(),
        &at,
        EventKind::InformationRequestMade(made),
        Utc::now(),
        &mut RandomIds,
        None,
    );
    match recorded {
        Ok(_) => Redirect::to(&format!("{HOME}/{reference}")).into_response(),
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

#[derive(Template)]
#[template(path = "information_request.html")]
struct DetailPage {
    chrome: Chrome,
    request: RequestRow,
    /// A manager's view: the preview and, while pending, the decision form.
    manager: bool,
    /// How many people the rows would hold if approved now (managers, pending only).
    preview: Option<usize>,
    /// Whether this manager may decide it (manages every establishment, did not ask).
    can_decide: bool,
    /// Why not, when they may not.
    cannot_decide: String,
    pending: bool,
    errors: FormErrors,
    decision: String,
    decision_options: Vec<(String, String)>,
    reason: String,
}

fn detail(
    state: &AppState,
    staff: &Staff,
    reference: &str,
    errors: FormErrors,
    posted: Option<&FormData>,
    status: StatusCode,
) -> Response {
    let access = match policy::information_requests(staff) {
        Ok(a) => a,
        Err(d) => return denied(state, staff, d),
    };
    let reg = match register(state) {
        Ok(r) => r,
        Err(d) => return denied(state, staff, d),
    };
    let Some(r) = reg.get(reference).filter(|r| access.sees(&r.made)) else {
        return message(
            state,
            staff,
            StatusCode::NOT_FOUND,
            "Page not found",
            "There is no such information request.",
        );
    };
    let on = today();
    let pending = r.status(on) == RequestStatus::Pending;
    let (manager, can_decide, cannot_decide) = match &access {
        RequestsAccess::Requester(_) => (false, false, String::new()),
        RequestsAccess::Manager {
            username,
            establishments,
        } => {
            let outside: Vec<String> = r
                .made
                .establishments
                .iter()
                .filter(|e| !establishments.contains(e))
                .map(ToString::to_string)
                .collect();
            if &r.made.requested_by == username {
                (
                    true,
                    false,
                    s("You made this request, so another manager decides it."),
                )
            } else if !outside.is_empty() {
                (
                    true,
                    false,
                    format!(
                        "A manager of every establishment in the request decides it; you do not manage {}.",
                        outside.join(", ")
                    ),
                )
            } else {
                (true, true, String::new())
            }
        }
    };
    // The preview: how many people the rows would hold as the log stands now
    // (counts, never names, before approval).
    let preview = if manager && pending {
        match state.store.events_after(0, usize::MAX) {
            Ok(events) => {
                let cut = Cut::new(&state.profile, &events, Utc::now());
                Some(rows(&cut, &r.made.request_ref, &r.made).len())
            }
            Err(e) => return denied(state, staff, Denied::Store(e)),
        }
    } else {
        None
    };
    let get = |name: &str| posted.map(|f| f.get(name).to_string()).unwrap_or_default();
    with_status(
        status,
        render(DetailPage {
            chrome: chrome(state, staff, HOME),
            request: row(r, on),
            manager,
            preview,
            can_decide,
            cannot_decide,
            pending,
            errors,
            decision: get("decision"),
            decision_options: Decision::ALL
                .iter()
                .map(|d| (s(d.code()), s(d.label())))
                .collect(),
            reason: get("reason"),
        }),
    )
}

/// GET /information-requests/{ref}: one request; for a manager, the preview and the
/// decision form.
pub async fn show(
    State(state): State<AppState>,
    PageStaff(staff): PageStaff,
    Path(reference): Path<String>,
) -> Response {
    detail(
        &state,
        &staff,
        &reference,
        FormErrors::default(),
        None,
        StatusCode::OK,
    )
}

/// POST /information-requests/{ref}/decision: a manager approves or refuses, today.
pub async fn decide(
    State(state): State<AppState>,
    PageStaff(staff): PageStaff,
    Path(reference): Path<String>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let f = match checked_form(&state, &staff, &headers, pairs) {
        Ok(f) => f,
        Err(refused) => return refused,
    };
    let decider = match policy::decide_information_requests(&staff) {
        Ok(d) => d,
        Err(d) => return denied(&state, &staff, d),
    };
    let reg = match register(&state) {
        Ok(r) => r,
        Err(d) => return denied(&state, &staff, d),
    };
    let Some(r) = reg.get(&reference) else {
        return denied(&state, &staff, Denied::NotFound);
    };
    let mut e = FormErrors::default();
    let decision = f.choice(
        "decision",
        "Choose approve or refuse",
        &mut e,
        Decision::from_code,
    );
    let Some(decision) = decision.filter(|_| e.is_empty()) else {
        return detail(
            &state,
            &staff,
            &reference,
            e,
            Some(&f),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    };
    let fact = InformationRequestDecided {
        request_ref: reference.clone(),
        decision,
        reason: f.optional("reason"),
        decided_on: today(),
    };
    // Recorded where the request was (its first establishment).
    let at = r
        .made
        .establishments
        .first()
        .cloned()
        .unwrap_or_else(|| staff.establishment().clone());
    let recorded = state.recorder().record_service_at(
        &staff.author(),
        &at,
        decider.establishments(),
        EventKind::InformationRequestDecided(fact),
        Utc::now(),
        &mut RandomIds,
    );
    match recorded {
        Ok(_) => Redirect::to(&format!("{HOME}/{reference}")).into_response(),
        Err(RecordError::Domain(err)) => detail(
            &state,
            &staff,
            &reference,
            domain_errors(&err),
            Some(&f),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(RecordError::Store(err)) => denied(&state, &staff, Denied::Store(err)),
    }
}

/// A cell as text a spreadsheet will not run: one starting `= + - @` gets a
/// leading apostrophe.
fn cell(v: &str) -> String {
    if v.starts_with(['=', '+', '-', '@']) {
        format!("'{v}")
    } else {
        v.to_string()
    }
}

/// The CSV of an approved request: a header of the approved fields' codes, then one
/// line per person.
pub fn to_csv(fields: &[SharedField], shared: &[SharedRow]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    w.write_record(fields.iter().map(|f| f.code()))?;
    for r in shared {
        w.write_record(r.values.iter().map(|(_, v)| cell(v)))?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// GET /information-requests/{ref}/data.csv: the approved rows, for the commissioner
/// who asked, while the request is approved and not expired. Each person in the
/// file is written to the access audit first; if that fails, nothing leaves.
pub async fn data_csv(
    State(state): State<AppState>,
    PageStaff(staff): PageStaff,
    Path(reference): Path<String>,
) -> Response {
    if let Err(d) = policy::information_requests(&staff) {
        return denied(&state, &staff, d);
    }
    let reg = match register(&state) {
        Ok(r) => r,
        Err(d) => return denied(&state, &staff, d),
    };
    let Some(r) = reg.get(&reference) else {
        return denied(&state, &staff, Denied::NotFound);
    };
    if let Err(d) = policy::download_information(&staff, &r.made) {
        return denied(&state, &staff, d);
    }
    let on = today();
    let Some(as_at) = r.shareable_as_at(on) else {
        let _ = state.store.record_access(&AccessEntry {
            at: Utc::now(),
            username: staff.username().to_string(),
            person: None,
            action: "information_request_refused".into(),
            detail: reference.clone(),
        });
        return message(
            &state,
            &staff,
            StatusCode::FORBIDDEN,
            "Nothing can be downloaded",
            &format!(
                "Request {reference} is {}: information is shared only while a request is approved and not expired.",
                r.status(on).label().to_lowercase()
            ),
        );
    };
    let events = match state.store.events_after(0, usize::MAX) {
        Ok(e) => e,
        Err(e) => return denied(&state, &staff, Denied::Store(e)),
    };
    let approved = rows(
        &Cut::new(&state.profile, &events, as_at),
        &reference,
        &r.made,
    );
    let shared = still_shareable(approved, &Cut::new(&state.profile, &events, Utc::now()));
    let bytes = match to_csv(&r.made.fields, &shared) {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, "information request CSV failed");
            return message(
                &state,
                &staff,
                StatusCode::INTERNAL_SERVER_ERROR,
                "The file could not be made",
                "Nothing was shared. Try again later.",
            );
        }
    };
    for row in &shared {
        if let Err(e) = state.store.record_access(&AccessEntry {
            at: Utc::now(),
            username: staff.username().to_string(),
            person: Some(row.person),
            action: "information_request_download".into(),
            detail: reference.clone(),
        }) {
            return denied(&state, &staff, Denied::Store(e));
        }
    }
    let mut response = bytes.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{reference}.csv\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
