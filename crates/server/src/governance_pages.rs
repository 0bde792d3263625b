//! The service manager's governance records (REQUIREMENTS §13; KM 5.33–5.35; S4 §4;
//! KPIs 2.1–2.2, 3.8): serious incidents, learning actions, death reviews and the
//! daily record of 24/7 clinical cover — a dashboard page with its forms, and the
//! JSON API. Manager-only: every other role is refused. The registers' forms
//! (meetings, feedback, involvement, activities, commissioner issues,
//! sub-contractors, obligations done) are in `service_record_forms` and their panels
//! in `service_record_panels`; they are served here.

#![allow(clippy::cmp_owned)]

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Json, Redirect, Response};
use chrono::{Duration, NaiveDate, Utc};
use serde_json::json;
use throughcare_domain::events::EventKind;
use throughcare_domain::governance::{
    ClinicalCoverDay, DeathReview, IncidentCategory, IncidentReport, InvestigationStatus,
    LearningAction, ReportedTo, SeriousIncident, ServiceRecord,
};
use throughcare_domain::profile::Profile;
use throughcare_domain::record_ids::RandomIds;

use crate::app::AppState;
use crate::auth::{ApiStaff, PageStaff, Staff};
use crate::chrome::{Chrome, FormErrors};
use crate::form_data::FormData;
use crate::forms::{Field, FormSpec, area, date, radios, s, text, yes_no_options};
use crate::policy::{self, Denied};
use crate::recording::RecordError;
use crate::web::{FormPage, checked_form, chrome, denied, domain_errors, render, with_status};
use crate::workforce_panels::WorkforcePanels;

/// The governance forms, by the name in their URL.
pub const FORMS: [(&str, &str); 4] = [
    ("incident", "Record a serious incident"),
    ("learning-action", "Record a learning action"),
    (
        "death-review",
        "Record a drug or alcohol related death review",
    ),
    ("clinical-cover", "Record a day's clinical cover"),
];

fn record(state: &AppState) -> Result<ServiceRecord, Denied> {
    Ok(ServiceRecord::fold(&state.store.service_events()?))
}

/// One row of a table on the dashboard.
pub struct Row {
    /// The cells, in column order.
    pub cells: Vec<String>,
    /// Whether the row is flagged (overdue, missing, expired).
    pub overdue: bool,
}

#[derive(Template)]
#[template(path = "governance.html")]
struct Dashboard {
    chrome: Chrome,
    establishment: String,
    incidents: Vec<Row>,
    actions: Vec<Row>,
    reviews: Vec<Row>,
    cover: Vec<Row>,
    records: crate::service_record_panels::Panels,
    forms: Vec<(&'static str, &'static str)>,
    workforce_forms: Vec<(&'static str, &'static str)>,
    workforce: WorkforcePanels,
}

fn long(d: NaiveDate) -> String {
    d.format("%-d %b %Y").to_string()
}

/// GET /governance: the manager's dashboard — open incidents, learning actions
/// (overdue first), death reviews, and the last 14 days of clinical cover here.
pub async fn dashboard(State(state): State<AppState>, PageStaff(staff): PageStaff) -> Response {
    if let Err(d) = policy::manager_here(&staff) {
        return denied(&state, &staff, d);
    }
    let r = match record(&state) {
        Ok(r) => r,
        Err(d) => return denied(&state, &staff, d),
    };
    let today = crate::forms::today();
    let here = staff.establishment().clone();
    let incidents = r
        .incidents
        .values()
        .filter(|(_, e, _)| *e == here)
        .map(|(_, _, i)| Row {
            cells: vec![
                i.incident_ref.clone(),
                long(i.occurred_on),
                i.category.label().into(),
                if i.drug_or_alcohol_related {
                    "Yes"
                } else {
                    "No"
                }
                .into(),
                i.reported
                    .iter()
                    .map(|r| format!("{} {}", r.to.label(), long(r.on)))
                    .collect::<Vec<_>>()
                    .join("; "),
                i.investigation.label().into(),
            ],
            overdue: i.investigation != InvestigationStatus::Closed,
        })
        .collect();
    let mut actions: Vec<(bool, NaiveDate, Row)> = r
        .actions
        .values()
        .map(|(_, a)| {
            let overdue = a.completed_on.is_none() && a.due_on < today;
            (
                !overdue,
                a.due_on,
                Row {
                    cells: vec![
                        a.action_ref.clone(),
                        a.action.clone(),
                        a.owner.clone(),
                        long(a.due_on),
                        a.completed_on.map(long).unwrap_or_else(|| {
                            if overdue {
                                "Overdue".into()
                            } else {
                                "Open".into()
                            }
                        }),
                    ],
                    overdue,
                },
            )
        })
        .collect();
    actions.sort_by_key(|(o, d, _)| (*o, *d));
    let reviews = r
        .death_reviews
        .values()
        .map(|(_, d)| Row {
            cells: vec![
                d.review_ref.clone(),
                long(d.died_on),
                long(d.reviewed_on),
                d.learning.clone(),
            ],
            overdue: false,
        })
        .collect();
    let cover = (0..14)
        .map(|back| today - Duration::days(back + 1))
        .map(|day| {
            let known = r.cover.get(&(here.clone(), day)).copied();
            Row {
                cells: vec![
                    day.format("%a %-d %b %Y").to_string(),
                    match known {
                        Some(true) => "Provided".into(),
                        Some(false) => "Not provided".into(),
                        None => "Not recorded".into(),
                    },
                ],
                overdue: known != Some(true),
            }
        })
        .collect();
    render(Dashboard {
        chrome: chrome(&state, &staff, "/governance"),
        establishment: state.establishment_name(here.as_str()),
        incidents,
        actions: actions.into_iter().map(|(_, _, r)| r).collect(),
        reviews,
        cover,
        workforce_forms: crate::workforce_forms::FORMS.to_vec(),
        workforce: WorkforcePanels::build(&r.workforce, &state.profile.workforce, &here, today),
        records: crate::service_record_panels::panels(
            &r,
            &state.profile,
            &state.calendar,
            &here,
            today,
        ),
        forms: FORMS
            .iter()
            .chain(crate::service_record_forms::FORMS.iter())
            .copied()
            .collect(),
    })
}

/// A fixed list's values as form options (code, label).
pub(crate) fn options<T: Copy>(
    all: &[T],
    code: fn(T) -> &'static str,
    label: fn(T) -> &'static str,
) -> Vec<(String, String)> {
    all.iter().map(|v| (s(code(*v)), s(label(*v)))).collect()
}

fn spec(form: &str, f: &FormData, profile: &Profile) -> Option<FormSpec> {
    if let Some(spec) = crate::workforce_forms::spec(form, f, profile) {
        return Some(spec);
    }
    let title = FORMS.iter().find(|(n, _)| *n == form)?.1;
    let fields = match form {
        "incident" => vec![
            text(
                f,
                "incident_ref",
                "Incident reference",
                "Record it again with the same reference to update it",
            ),
            radios(
                f,
                "category",
                "Category (KM 5.33)",
                options(
                    IncidentCategory::ALL,
                    IncidentCategory::code,
                    IncidentCategory::label,
                ),
            ),
            date(f, "occurred_on", "When it happened"),
            area(
                f,
                "summary",
                "What happened (no more personal detail than needed)",
            ),
            radios(
                f,
                "drug_or_alcohol_related",
                "Drug or alcohol related?",
                yes_no_options(),
            ),
            radios(
                f,
                "staff_involved",
                "Were staff involved?",
                yes_no_options(),
            ),
            Field::Checkboxes {
                name: s("reported_to"),
                legend: s("Reported to (KM 5.34)"),
                options: options(ReportedTo::ALL, ReportedTo::code, ReportedTo::label),
                selected: f.all("reported_to"),
            },
            date(f, "reported_on", "Date reported"),
            radios(
                f,
                "investigation",
                "Investigation",
                options(
                    InvestigationStatus::ALL,
                    InvestigationStatus::code,
                    InvestigationStatus::label,
                ),
            ),
            area(f, "outcome", "Outcome and learning (when closed)"),
        ],
        "learning-action" => vec![
            text(
                f,
                "action_ref",
                "Action reference",
                "Record it again with the same reference to update it",
            ),
            text(
                f,
                "source_ref",
                "From (incident or review reference, optional)",
                "",
            ),
            area(f, "action", "What is to be done"),
            text(f, "owner", "Owner", ""),
            date(f, "due_on", "Due date"),
            date(f, "completed_on", "Date done (leave blank while open)"),
        ],
        "death-review" => vec![
            text(f, "review_ref", "Review reference", ""),
            date(f, "died_on", "Date of death"),
            date(f, "reviewed_on", "Date of the review"),
            area(f, "learning", "Learning from the review (S4 §4)"),
        ],
        "clinical-cover" => vec![
            date(f, "on", "Day"),
            radios(
                f,
                "provided",
                "Was 24/7 clinical cover provided?",
                yes_no_options(),
            ),
            area(f, "note", "Note (required when it was not)"),
        ],
        _ => return None,
    };
    Some(FormSpec {
        title: s(title),
        fields,
    })
}

fn parse(form: &str, f: &FormData) -> Result<EventKind, FormErrors> {
    if let Some(parsed) = crate::workforce_forms::parse(form, f) {
        return parsed;
    }
    let mut e = FormErrors::default();
    let kind = match form {
        "incident" => {
            let incident_ref = f.required("incident_ref", "Enter the incident's reference", &mut e);
            let category = f.choice(
                "category",
                "Select the category",
                &mut e,
                IncidentCategory::from_code,
            );
            let occurred_on = f.date("occurred_on", "When it happened", &mut e);
            let summary = f.required("summary", "Enter what happened", &mut e);
            let related = f.yes_no(
                "drug_or_alcohol_related",
                "Select whether it was drug or alcohol related",
                &mut e,
            );
            let staff = f.yes_no(
                "staff_involved",
                "Select whether staff were involved",
                &mut e,
            );
            let investigation = f.choice(
                "investigation",
                "Select where the investigation stands",
                &mut e,
                InvestigationStatus::from_code,
            );
            let to: Vec<ReportedTo> = f
                .all("reported_to")
                .iter()
                .filter_map(|c| ReportedTo::from_code(c))
                .collect();
            let reported_on = if to.is_empty() {
                None
            } else {
                f.date("reported_on", "Date reported", &mut e)
            };
            match (
                incident_ref,
                category,
                occurred_on,
                summary,
                related,
                staff,
                investigation,
            ) {
                (
                    Some(incident_ref),
                    Some(category),
                    Some(occurred_on),
                    Some(summary),
                    Some(related),
                    Some(staff),
                    Some(investigation),
                ) => Some(EventKind::IncidentRecorded(SeriousIncident {
                    incident_ref,
                    category,
                    occurred_on,
                    summary,
                    drug_or_alcohol_related: related,
                    people: vec![],
                    staff_involved: staff,
                    reported: reported_on
                        .map(|on| to.iter().map(|t| IncidentReport { to: *t, on }).collect())
                        .unwrap_or_default(),
                    investigation,
                    outcome: f.optional("outcome"),
                })),
                _ => None,
            }
        }
        "learning-action" => {
            let action_ref = f.required("action_ref", "Enter the action's reference", &mut e);
            let action = f.required("action", "Enter what is to be done", &mut e);
            let owner = f.required("owner", "Enter who owns the action", &mut e);
            let due_on = f.date("due_on", "Due date", &mut e);
            let completed_on = f.optional_date("completed_on", "Date done", &mut e);
            match (action_ref, action, owner, due_on, completed_on) {
                (Some(action_ref), Some(action), Some(owner), Some(due_on), Some(completed_on)) => {
                    Some(EventKind::LearningActionRecorded(LearningAction {
                        action_ref,
                        source_ref: f.optional("source_ref"),
                        action,
                        owner,
                        due_on,
                        completed_on,
                    }))
                }
                _ => None,
            }
        }
        "death-review" => {
            let review_ref = f.required("review_ref", "Enter the review's reference", &mut e);
            let died_on = f.date("died_on", "Date of death", &mut e);
            let reviewed_on = f.date("reviewed_on", "Date of the review", &mut e);
            let learning = f.required("learning", "Enter the learning from the review", &mut e);
            match (review_ref, died_on, reviewed_on, learning) {
                (Some(review_ref), Some(died_on), Some(reviewed_on), Some(learning)) => {
                    Some(EventKind::DeathReviewRecorded(DeathReview {
                        review_ref,
                        person: None,
                        died_on,
                        reviewed_on,
                        learning,
                    }))
                }
                _ => None,
            }
        }
        "clinical-cover" => {
            let on = f.date("on", "Day", &mut e);
            let provided = f.yes_no("provided", "Select whether cover was provided", &mut e);
            match (on, provided) {
                (Some(on), Some(provided)) => {
                    Some(EventKind::ClinicalCoverRecorded(ClinicalCoverDay {
                        on,
                        provided,
                        note: f.optional("note"),
                    }))
                }
                _ => None,
            }
        }
        _ => None,
    };
    match kind {
        Some(k) if e.is_empty() => Ok(k),
        _ => {
            if e.is_empty() {
                e.add("form", "There is no such form");
            }
            Err(e)
        }
    }
}

fn form_page(
    state: &AppState,
    staff: &Staff,
    form: &str,
    f: &FormData,
    errors: FormErrors,
    status: StatusCode,
) -> Response {
    let spec = if crate::service_record_forms::handles(form) {
        crate::service_record_forms::spec(form, f, &state.profile)
    } else {
        spec(form, f, &state.profile)
    };
    let Some(spec) = spec else {
        return denied(state, staff, Denied::NotFound);
    };
    with_status(
        status,
        render(FormPage {
            chrome: chrome(state, staff, "/governance"),
            errors,
            spec,
            action: format!("/governance/record/{form}"),
            back: "/governance".into(),
            subject: state.establishment_name(staff.establishment().as_str()),
            supersedes: String::new(),
        }),
    )
}

/// GET /governance/record/{form}: a governance form; a link may fill in some of
/// its fields (`service_record_forms::prefill`).
pub async fn form(
    State(state): State<AppState>,
    PageStaff(staff): PageStaff,
    Path(form): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    if let Err(d) = policy::manager_here(&staff) {
        return denied(&state, &staff, d);
    }
    let today = crate::forms::today();
    let names: &[&str] = match form.as_str() {
        w if crate::workforce_forms::today_fields(w).is_some() => {
            crate::workforce_forms::today_fields(w).unwrap_or_default()
        }
        "incident" => &["occurred_on", "reported_on"],
        "learning-action" => &["due_on"],
        "death-review" => &["reviewed_on"],
        other if crate::service_record_forms::handles(other) => {
            crate::service_record_forms::date_fields(other)
        }
        _ => &["on"],
    };
    let mut pairs = Vec::new();
    for n in names {
        pairs.push((format!("{n}-day"), today.format("%-d").to_string()));
        pairs.push((format!("{n}-month"), today.format("%-m").to_string()));
        pairs.push((format!("{n}-year"), today.format("%Y").to_string()));
    }
    pairs.extend(crate::service_record_forms::prefill(&form, &query));
    form_page(
        &state,
        &staff,
        &form,
        &FormData::from_pairs(pairs),
        FormErrors::default(),
        StatusCode::OK,
    )
}

/// POST /governance/record/{form}: records the fact, or shows the form again with
/// every problem named.
pub async fn submit(
    State(state): State<AppState>,
    PageStaff(staff): PageStaff,
    headers: HeaderMap,
    Path(form): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let f = match checked_form(&state, &staff, &headers, pairs) {
        Ok(f) => f,
        Err(refused) => return refused,
    };
    if let Err(d) = policy::manager_here(&staff) {
        return denied(&state, &staff, d);
    }
    let parsed = if crate::service_record_forms::handles(&form) {
        crate::service_record_forms::parse(&form, &f)
    } else {
        parse(&form, &f)
    };
    let kind = match parsed {
        Ok(k) => k,
        Err(e) => {
            return form_page(
                &state,
                &staff,
                &form,
                &f,
                e,
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
    };
    if throughcare_domain::information_requests::is_request_fact(&kind) {
        // Requests come from the commissioner's session and decisions from a
        // manager's, with their establishments: only the pages record them.
        return crate::api::problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            vec![(
                "type".into(),
                "information requests are made and decided on the /information-requests pages"
                    .into(),
            )],
        );
    }
    let recorded =
        crate::workforce_forms::check_account(state.store.as_ref(), &kind).and_then(|_| {
            state.recorder().record_service(
                &staff.author(),
                staff.establishment(),
                kind,
                Utc::now(),
                &mut RandomIds,
                None,
            )
        });
    match recorded {
        Ok(_) => Redirect::to("/governance").into_response(),
        Err(RecordError::Domain(e)) => form_page(
            &state,
            &staff,
            &form,
            &f,
            domain_errors(&e),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(RecordError::Store(e)) => denied(&state, &staff, Denied::Store(e)),
    }
}

/// POST /api/v1/service/events: records a fact about the service (manager only).
pub async fn api_record(
    State(state): State<AppState>,
    ApiStaff(staff): ApiStaff,
    body: Bytes,
) -> Response {
    if let Err(d) = policy::manager_here(&staff) {
        return crate::api::denied(d);
    }
    let mut fields = match crate::api::object(&body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let kind = match crate::api::event_kind(&mut fields) {
        Ok(k) => k,
        Err(r) => return r,
    };
    if matches!(kind, EventKind::ReturnSubmitted(_)) {
        // A hash typed in proves nothing: the sign-off page makes the file itself.
        return crate::api::problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            vec![(
                "type".into(),
                "sign off a return through POST /submissions, which produces the file and computes its hash".into(),
            )],
        );
    }
    if throughcare_domain::information_requests::is_request_fact(&kind) {
        // Requests come from the commissioner's session and decisions from a
        // manager's, with their establishments: only the pages record them.
        return crate::api::problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            vec![(
                "type".into(),
                "information requests are made and decided on the /information-requests pages"
                    .into(),
            )],
        );
    }
    let recorded =
        crate::workforce_forms::check_account(state.store.as_ref(), &kind).and_then(|_| {
            state.recorder().record_service(
                &staff.author(),
                staff.establishment(),
                kind,
                Utc::now(),
                &mut RandomIds,
                None,
            )
        });
    match recorded {
        Ok(events) => (StatusCode::CREATED, Json(json!({"events": events.iter().map(|e| json!({"id": e.id, "seq": e.seq, "type": e.kind.type_name()})).collect::<Vec<_>>()}))).into_response(),
        Err(e) => crate::api::record_error(e),
    }
}

/// GET /api/v1/service/governance: what the governance dashboard shows the same
/// manager, as JSON — this establishment's incidents, clinical cover, staff and
/// registers (feedback, meetings, involvement, activities, commissioner issues),
/// and the service's overdue learning actions, death reviews, obligations and
/// sub-contractors (manager only; issue 14).
pub async fn api_governance(State(state): State<AppState>, ApiStaff(staff): ApiStaff) -> Response {
    if let Err(d) = policy::manager_here(&staff) {
        return crate::api::denied(d);
    }
    let r = match record(&state) {
        Ok(r) => r,
        Err(d) => return crate::api::denied(d),
    };
    let today = crate::forms::today();
    // What the dashboard shows the same manager (issue 14): incidents and clinical
    // cover for this establishment only; learning actions and death reviews are
    // the service's (they carry no establishment), as on the page.
    let here = staff.establishment().clone();
    let incidents: Vec<_> = r
        .incidents
        .values()
        .filter(|(_, e, _)| *e == here)
        .collect();
    let mut body = json!({
        "incidents": incidents.iter().map(|(_, e, i)| json!({"establishment": e, "incident": i})).collect::<Vec<_>>(),
        "open_incidents": incidents.iter().filter(|(_, _, i)| i.investigation != InvestigationStatus::Closed).count(),
        "overdue_actions": r.overdue_actions(today),
        "death_reviews": r.death_reviews.values().map(|(_, d)| d).collect::<Vec<_>>(),
        "workforce": crate::workforce_panels::json(&r.workforce, &state.profile.workforce, &here, today),
        "clinical_cover": r.cover.iter().filter(|((e, _), _)| *e == here).map(|((e, d), p)| json!({"establishment": e, "on": d, "provided": p})).collect::<Vec<_>>(),
    });
    if let Some(all) = body.as_object_mut() {
        all.extend(crate::service_record_panels::json(
            &r,
            &state.profile,
            &state.calendar,
            &here,
            today,
        ));
    }
    Json(body).into_response()
}
