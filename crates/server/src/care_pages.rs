//! Pages across a caseload for recovery care (REQUIREMENTS §6–9, §12): the work
//! queues (every clock, per establishment or per keyworker, overdue first), the
//! appointments diary (per worker and per clinic, with a CSV export for a
//! prescribing system, KM 4.26), and the group-session register (one session, many
//! people). The rules are the domain's (`work_queues`, `decide`); this module reads,
//! authorises and renders.

#![allow(clippy::cmp_owned)]

use askama::Template;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use std::collections::HashMap;
use throughcare_domain::case::Case;
use throughcare_domain::decide::{Command, decide};
use throughcare_domain::events::EventKind;
use throughcare_domain::interventions::{SessionAttended, SessionKind};
use throughcare_domain::record_ids::{PersonId, RandomIds, SequentialIds};
use throughcare_domain::time::local_date;
use throughcare_domain::work_queues::{QueueKind, WorkItem};
use throughcare_store::{CaseRow, FeedRecord};

use crate::app::AppState;
use crate::auth::{PageStaff, Staff};
use crate::chrome::{Chrome, FormErrors};
use crate::form_data::FormData;
use crate::forms::{Field, FormSpec};
use crate::policy::{self, Denied};
use crate::recording::{RecordError, load_case};
use crate::web::{FormPage, checked_form, chrome, denied, render, with_status};

/// The people at the signed-in establishment with their folded cases.
pub(crate) fn caseload_cases(
    state: &AppState,
    staff: &Staff,
) -> Result<Vec<(CaseRow, Case)>, Denied> {
    policy::at_establishment(staff, staff.establishment())?;
    let mut out = Vec::new();
    for row in state.store.caseload(staff.establishment())? {
        let (case, _) = load_case(state.store.as_ref(), row.person)?;
        out.push((row, case));
    }
    Ok(out)
}

fn local_time(at: DateTime<Utc>) -> String {
    at.with_timezone(&chrono_tz::Europe::London)
        .format("%-d %b %Y %H:%M")
        .to_string()
}

/// A work item with the person it is for, in queue order.
pub(crate) struct ListedItem {
    /// The person's caseload row.
    pub(crate) row: CaseRow,
    /// Their keyworker's username, or "".
    pub(crate) keyworker: String,
    /// Whether their offending is linked to their substance use (S4 §1).
    pub(crate) offending_linked: bool,
    /// The item.
    pub(crate) item: WorkItem,
}

/// How many rows a page of a work queue shows (issue 15: pages stay small).
pub const QUEUE_PAGE: usize = 50;

/// One page of the caseload's work queue (or, when `mine`, of the signed-in
/// worker's keyworking caseload; or of one `queue`), in the domain's queue order,
/// with the counts of every queue: from the queue projection, ordered and counted
/// in the database, so the cost is one page whatever the history (issue 15). Runs
/// off the async workers.
pub(crate) async fn queue_page(
    state: &AppState,
    staff: &Staff,
    mine: bool,
    queue: Option<QueueKind>,
    page: usize,
    limit: usize,
    now: DateTime<Utc>,
) -> Result<(Vec<ListedItem>, throughcare_store::QueuePage), Denied> {
    policy::at_establishment(staff, staff.establishment())?;
    let query = throughcare_store::QueueQuery {
        establishment: staff.establishment().clone(),
        now,
        queue,
        keyworker: mine.then(|| staff.username().to_string()),
        offset: page.saturating_sub(1) * limit,
        limit,
    };
    let store = state.store.clone();
    let mut found = crate::app::off_runtime(move || store.queue(&query)).await?;
    let listed = std::mem::take(&mut found.rows)
        .into_iter()
        .map(|q| ListedItem {
            offending_linked: q.case.offending_linked,
            keyworker: q.keyworker.unwrap_or_default(),
            row: q.case,
            item: q.item,
        })
        .collect();
    Ok((listed, found))
}

/// One row of a work queue.
pub struct WorkRow {
    person: PersonId,
    name: String,
    prison_number: String,
    keyworker: String,
    due: String,
    status: String,
    detail: String,
    overdue: bool,
    priority: bool,
}

/// One queue with its rows, in the domain's order.
pub struct WorkQueue {
    code: &'static str,
    label: &'static str,
    rows: Vec<WorkRow>,
    /// How many items the queue holds, and how many are overdue.
    total: usize,
    overdue: usize,
}

#[derive(Template)]
#[template(path = "work_queues.html")]
struct WorkQueuesPage {
    chrome: Chrome,
    establishment: String,
    mine: bool,
    selected: String,
    queues: Vec<WorkQueue>,
    kinds: Vec<(&'static str, &'static str)>,
    /// The page of the selected queue, and how many pages it has.
    page: usize,
    pages: usize,
}

fn status_of(item: &WorkItem, now: DateTime<Utc>) -> (String, String) {
    if !item.has_deadline {
        return (
            "Waiting".into(),
            "No time limit set by the specification".into(),
        );
    }
    let status = if item.overdue { "Overdue" } else { "Due" };
    let detail =
        if item.queue == QueueKind::FirstNight || item.queue == QueueKind::SymptomaticRelief {
            let left = item.minutes_left(now);
            if left >= 0 {
                format!("{} h {:02} min left", left / 60, left % 60)
            } else {
                format!("{} h {:02} min over", -left / 60, -left % 60)
            }
        } else {
            String::new()
        };
    (status.into(), detail)
}

/// GET /queues: every work queue at the establishment, or (with `?mine=1`) only the
/// signed-in worker's keyworking caseload; `?queue=CODE` shows one queue.
pub async fn work_queues(
    State(state): State<AppState>,
    PageStaff(staff): PageStaff,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let now = Utc::now();
    let mine = query.get("mine").is_some_and(|v| v == "1");
    let selected = query.get("queue").cloned().unwrap_or_default();
    let chosen = QueueKind::from_code(&selected);
    let page = query
        .get("page")
        .and_then(|p| p.parse::<usize>().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1);
    // The counts of every queue, and the first page of each shown (or the page of
    // the one chosen): a page per queue, never the whole caseload.
    // Every queue shown: only the counts here, each queue's first page below.
    let limit = if chosen.is_some() { QUEUE_PAGE } else { 0 };
    let (first, found) = match queue_page(&state, &staff, mine, chosen, page, limit, now).await {
        Ok(l) => l,
        Err(d) => return denied(&state, &staff, d),
    };
    let mut queues: Vec<WorkQueue> = Vec::new();
    for k in QueueKind::ALL
        .iter()
        .filter(|k| chosen.is_none_or(|c| c == **k))
    {
        let count = found.counts.iter().find(|c| c.queue == *k);
        let listed: Vec<&ListedItem> = if chosen.is_some() {
            first.iter().collect()
        } else {
            Vec::new()
        };
        let mut q = WorkQueue {
            code: k.code(),
            label: k.label(),
            rows: listed.into_iter().map(|l| work_row(l, now)).collect(),
            total: count.map_or(0, |c| c.items),
            overdue: count.map_or(0, |c| c.overdue),
        };
        if chosen.is_none() && q.total > 0 {
            match queue_page(&state, &staff, mine, Some(*k), 1, QUEUE_PAGE, now).await {
                Ok((rows, _)) => q.rows = rows.iter().map(|l| work_row(l, now)).collect(),
                Err(d) => return denied(&state, &staff, d),
            }
        }
        queues.push(q);
    }
    let pages = if chosen.is_some() {
        found.total.div_ceil(QUEUE_PAGE).max(1)
    } else {
        1
    };
    render(WorkQueuesPage {
        chrome: chrome(&state, &staff, "/queues"),
        establishment: state.establishment_name(staff.establishment().as_str()),
        mine,
        selected,
        queues,
        kinds: QueueKind::ALL
            .iter()
            .map(|k| (k.code(), k.label()))
            .collect(),
        page,
        pages,
    })
}

/// One listed item as a row of the queue page.
fn work_row(listed: &ListedItem, now: DateTime<Utc>) -> WorkRow {
    let (status, detail) = status_of(&listed.item, now);
    let item = &listed.item;
    WorkRow {
        person: listed.row.person,
        name: format!("{}, {}", listed.row.family_name, listed.row.given_name),
        prison_number: listed.row.prison_number.clone(),
        keyworker: listed.keyworker.clone(),
        due: if item.has_deadline {
            local_time(item.due)
        } else {
            local_date(item.due - Duration::seconds(1))
                .format("since %-d %b %Y")
                .to_string()
        },
        status,
        detail: if detail.is_empty() {
            item.detail.clone()
        } else {
            format!("{detail}. {}", item.detail)
        },
        overdue: item.overdue,
        priority: listed.offending_linked,
    }
}

/// One appointment in the diary.
pub struct DiaryRow {
    person: PersonId,
    appointment: String,
    name: String,
    prison_number: String,
    at: DateTime<Utc>,
    time: String,
    worker: String,
    clinic: String,
    purpose: String,
    outcome: String,
}

#[derive(Template)]
#[template(path = "diary.html")]
struct DiaryPage {
    chrome: Chrome,
    establishment: String,
    date: String,
    date_label: String,
    previous: String,
    next: String,
    worker: String,
    clinic: String,
    rows: Vec<DiaryRow>,
}

/// Appointments at the establishment from `from` to `to` (inclusive, local dates),
/// filtered by worker and clinic when given, in time order.
fn diary_rows(
    cases: &[(CaseRow, Case)],
    from: NaiveDate,
    to: NaiveDate,
    worker: &str,
    clinic: &str,
) -> Vec<DiaryRow> {
    let mut rows: Vec<DiaryRow> = cases
        .iter()
        .flat_map(|(row, case)| {
            case.appointments.iter().filter_map(move |a| {
                let day = local_date(a.offer.at);
                let w = a
                    .offer
                    .worker
                    .as_ref()
                    .map(|w| w.to_string())
                    .unwrap_or_default();
                let c = a.offer.clinic.clone().unwrap_or_default();
                let wanted = day >= from
                    && day <= to
                    && (worker.is_empty() || w == worker)
                    && (clinic.is_empty() || c.eq_ignore_ascii_case(clinic));
                wanted.then(|| DiaryRow {
                    person: row.person,
                    appointment: a.id.to_string(),
                    name: format!("{}, {}", row.family_name, row.given_name),
                    prison_number: row.prison_number.clone(),
                    at: a.offer.at,
                    time: local_time(a.offer.at),
                    worker: w,
                    clinic: c,
                    purpose: a.offer.purpose.clone().unwrap_or_default(),
                    outcome: a.outcome.map(|o| o.label().to_string()).unwrap_or_default(),
                })
            })
        })
        .collect();
    rows.sort_by(|a, b| (a.at, &a.name).cmp(&(b.at, &b.name)));
    rows
}

fn query_date(query: &HashMap<String, String>, key: &str) -> Option<NaiveDate> {
    query.get(key).and_then(|d| d.parse().ok())
}

/// GET /diary: one day's appointments at the establishment (`?date=YYYY-MM-DD`,
/// default today), optionally for one `worker` or one `clinic` — today's list per
/// worker and per clinic (KM 4.26).
pub async fn diary(
    State(state): State<AppState>,
    PageStaff(staff): PageStaff,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let cases = match caseload_cases(&state, &staff) {
        Ok(c) => c,
        Err(d) => return denied(&state, &staff, d),
    };
    let day = query_date(&query, "date").unwrap_or_else(crate::forms::today);
    let worker = query.get("worker").cloned().unwrap_or_default();
    let clinic = query.get("clinic").cloned().unwrap_or_default();
    let rows = diary_rows(&cases, day, day, worker.trim(), clinic.trim());
    render(DiaryPage {
        chrome: chrome(&state, &staff, "/diary"),
        establishment: state.establishment_name(staff.establishment().as_str()),
        date: day.to_string(),
        date_label: day.format("%A %-d %B %Y").to_string(),
        previous: (day - Duration::days(1)).to_string(),
        next: (day + Duration::days(1)).to_string(),
        worker,
        clinic,
        rows,
    })
}

/// GET /diary.csv?from=…&to=…: the establishment's appointments as CSV, for a
/// deployment that must also keep them in a prescribing system (KM 4.26 names
/// SystmOne). Default: the next 14 days.
pub async fn diary_csv(
    State(state): State<AppState>,
    PageStaff(staff): PageStaff,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let cases = match caseload_cases(&state, &staff) {
        Ok(c) => c,
        Err(d) => return denied(&state, &staff, d),
    };
    let from = query_date(&query, "from").unwrap_or_else(crate::forms::today);
    let to = query_date(&query, "to").unwrap_or(from + Duration::days(14));
    let rows = diary_rows(&cases, from, to, "", "");
    let mut w = csv::Writer::from_writer(Vec::new());
    let header = [
        "appointment_id",
        "prison_number",
        "establishment",
        "start_local",
        "worker",
        "clinic",
        "purpose",
        "outcome",
    ];
    let mut ok = w.write_record(header).is_ok();
    for r in &rows {
        let start =
            r.at.with_timezone(&chrono_tz::Europe::London)
                .format("%Y-%m-%d %H:%M")
                .to_string();
        ok &= w
            .write_record([
                r.appointment.as_str(),
                r.prison_number.as_str(),
                staff.establishment().as_str(),
                start.as_str(),
                r.worker.as_str(),
                r.clinic.as_str(),
                r.purpose.as_str(),
                r.outcome.as_str(),
            ])
            .is_ok();
    }
    let body = match (ok, w.into_inner()) {
        (true, Ok(b)) => b,
        _ => {
            return (StatusCode::INTERNAL_SERVER_ERROR, "The export failed.").into_response();
        }
    };
    let name = format!(
        "attachment; filename=\"diary-{}-{from}-{to}.csv\"",
        staff.establishment()
    );
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, name),
        ],
        body,
    )
        .into_response()
}

fn group_spec(cases: &[(CaseRow, Case)], f: &FormData) -> FormSpec {
    let attendees: Vec<(String, String)> = cases
        .iter()
        .filter(|(row, _)| row.in_custody)
        .map(|(row, _)| {
            (
                row.person.to_string(),
                format!(
                    "{}, {} ({})",
                    row.family_name, row.given_name, row.prison_number
                ),
            )
        })
        .collect();
    FormSpec {
        title: "Record a group session".into(),
        fields: vec![
            Field::Text {
                name: "topic".into(),
                label: "Topic".into(),
                hint: String::new(),
                value: f.get("topic").into(),
            },
            Field::Date {
                name: "on".into(),
                legend: "Date of the session".into(),
                day: f.get("on-day").into(),
                month: f.get("on-month").into(),
                year: f.get("on-year").into(),
            },
            Field::Text {
                name: "minutes".into(),
                label: "Length in minutes (optional)".into(),
                hint: String::new(),
                value: f.get("minutes").into(),
            },
            Field::TextArea {
                name: "summary".into(),
                label: "What the session covered".into(),
                value: f.get("summary").into(),
            },
            Field::Checkboxes {
                name: "attendees".into(),
                legend: "Who attended (the attendance register)".into(),
                options: attendees,
                selected: f.all("attendees"),
            },
        ],
    }
}

fn group_page(
    state: &AppState,
    staff: &Staff,
    cases: &[(CaseRow, Case)],
    f: &FormData,
    errors: FormErrors,
    status: StatusCode,
) -> Response {
    with_status(
        status,
        render(FormPage {
            chrome: chrome(state, staff, "/group-sessions/new"),
            errors,
            spec: group_spec(cases, f),
            action: "/group-sessions".into(),
            back: "/".into(),
            subject: state.establishment_name(staff.establishment().as_str()),
            supersedes: String::new(),
        }),
    )
}

/// GET /group-sessions/new: the register of a group session.
pub async fn group_session_page(
    State(state): State<AppState>,
    PageStaff(staff): PageStaff,
) -> Response {
    let cases = match caseload_cases(&state, &staff) {
        Ok(c) => c,
        Err(d) => return denied(&state, &staff, d),
    };
    let today = crate::forms::today();
    let f = FormData::from_pairs(vec![
        ("on-day".into(), today.format("%-d").to_string()),
        ("on-month".into(), today.format("%-m").to_string()),
        ("on-year".into(), today.format("%Y").to_string()),
    ]);
    group_page(
        &state,
        &staff,
        &cases,
        &f,
        FormErrors::default(),
        StatusCode::OK,
    )
}

/// POST /group-sessions: records one `session_attended` per attendee, all with the
/// same session id. Every attendee is checked first, so a refusal records nothing;
/// each append carries a feed reference (session id and person), so a repeated
/// submission of the same register never records anyone twice.
pub async fn record_group_session(
    State(state): State<AppState>,
    PageStaff(staff): PageStaff,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let f = match checked_form(&state, &staff, &headers, pairs) {
        Ok(f) => f,
        Err(refused) => return refused,
    };
    let cases = match caseload_cases(&state, &staff) {
        Ok(c) => c,
        Err(d) => return denied(&state, &staff, d),
    };
    let mut errors = FormErrors::default();
    let topic = f.required("topic", "Enter the group session's topic", &mut errors);
    let on = f.date("on", "Date of the session", &mut errors);
    let summary = f.required("summary", "Enter what the session covered", &mut errors);
    let minutes = match f.get("minutes") {
        "" => None,
        m => match m.parse::<u16>() {
            Ok(m) => Some(m),
            Err(_) => {
                errors.add("minutes", "Enter the length as a whole number of minutes");
                None
            }
        },
    };
    let attendees: Vec<PersonId> = f
        .all("attendees")
        .iter()
        .filter_map(|a| PersonId::parse(a))
        .filter(|p| cases.iter().any(|(row, _)| row.person == *p))
        .collect();
    if attendees.is_empty() {
        errors.add("attendees", "Select everyone who attended");
    }
    let (Some(topic), Some(on), Some(summary), true) = (topic, on, summary, errors.is_empty())
    else {
        return group_page(
            &state,
            &staff,
            &cases,
            &f,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    };
    let session = register_id(&staff, &topic, on, minutes, &summary, &attendees);
    let command = Command::Record {
        occurred_at: None,
        recorded_at: None,
        kind: EventKind::SessionAttended(SessionAttended {
            session: SessionKind::Group {
                session,
                topic: topic.clone(),
            },
            on,
            minutes,
            summary,
            appointment: None,
        }),
    };
    let now = Utc::now();
    let ctx = throughcare_domain::decide::Context {
        profile: &state.profile,
        calendar: &state.calendar,
        recorded_by: staff.username().clone(),
        actor: staff.author().actor,
        establishment: staff.establishment().clone(),
        now,
        trainees: &[],
    };
    // Check every attendee before recording anyone.
    for (row, case) in cases.iter().filter(|(r, _)| attendees.contains(&r.person)) {
        if let Err(e) = decide(case, command.clone(), &ctx, &mut SequentialIds::new(0)) {
            errors.add(
                "attendees",
                format!(
                    "{} {} ({}): {e}",
                    row.given_name, row.family_name, row.prison_number
                ),
            );
        }
    }
    if !errors.is_empty() {
        return group_page(
            &state,
            &staff,
            &cases,
            &f,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    for person in &attendees {
        let feed = FeedRecord {
            feed: "group-session".into(),
            source_ref: format!("{session}/{person}"),
        };
        match state.recorder().record(
            &staff.author(),
            staff.establishment(),
            *person,
            command.clone(),
            now,
            &mut RandomIds,
            Some(&feed),
        ) {
            Ok(_) => {}
            Err(RecordError::Domain(e)) => {
                errors.add("attendees", e.to_string());
                return group_page(
                    &state,
                    &staff,
                    &cases,
                    &f,
                    errors,
                    StatusCode::UNPROCESSABLE_ENTITY,
                );
            }
            Err(RecordError::Store(e)) => return denied(&state, &staff, Denied::Store(e)),
        }
    }
    Redirect::to(&format!("/group-sessions/{session}")).into_response()
}

/// The session's id, from everything on the register: submitting the same register
/// twice (a double click, a retry after a time-out) gives the same id, and the feed
/// references then stop anyone being recorded twice.
fn register_id(
    staff: &Staff,
    topic: &str,
    on: NaiveDate,
    minutes: Option<u16>,
    summary: &str,
    attendees: &[PersonId],
) -> uuid::Uuid {
    use sha2::{Digest, Sha256};
    let mut people: Vec<String> = attendees.iter().map(|p| p.to_string()).collect();
    people.sort();
    let text = serde_json::json!([
        staff.establishment().as_str(),
        staff.username().as_str(),
        topic,
        on.to_string(),
        minutes,
        summary,
        people
    ])
    .to_string();
    let digest = Sha256::digest(text.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

#[derive(Template)]
#[template(path = "group_session.html")]
struct GroupSessionPage {
    chrome: Chrome,
    topic: String,
    date: String,
    attendees: Vec<(PersonId, String, String)>,
}

/// GET /group-sessions/{id}: the register of one group session at the establishment.
pub async fn group_session(
    State(state): State<AppState>,
    PageStaff(staff): PageStaff,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Response {
    let Ok(session) = uuid::Uuid::parse_str(&id) else {
        return denied(&state, &staff, Denied::NotFound);
    };
    let cases = match caseload_cases(&state, &staff) {
        Ok(c) => c,
        Err(d) => return denied(&state, &staff, d),
    };
    let mut topic = String::new();
    let mut date = String::new();
    let mut attendees = Vec::new();
    for (row, case) in &cases {
        for (_, s) in &case.sessions {
            if let SessionKind::Group {
                session: x,
                topic: t,
            } = &s.session
                && *x == session
            {
                topic = t.clone();
                date = s.on.format("%-d %B %Y").to_string();
                attendees.push((
                    row.person,
                    format!("{}, {}", row.family_name, row.given_name),
                    row.prison_number.clone(),
                ));
            }
        }
    }
    if attendees.is_empty() {
        return denied(&state, &staff, Denied::NotFound);
    }
    attendees.sort_by(|a, b| a.1.cmp(&b.1));
    render(GroupSessionPage {
        chrome: chrome(&state, &staff, ""),
        topic,
        date,
        attendees,
    })
}
