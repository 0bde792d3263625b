//! Asking for a record held at another prison (issue 14; REQUIREMENTS §10): a
//! manager gives the prison number of a person who has arrived, or is about to,
//! and why; the establishment that holds the record answers on the person's page
//! ("Answer a request to transfer the record"), and accepting records the transfer
//! out. Asking opens nothing, and the answer to the asker is the same whatever the
//! number: it never says whether, or where, a person is held. Every request, made
//! or not, is in the access audit.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use throughcare_domain::custody::{MIN_BREAK_GLASS_REASON, TransferRequest};
use throughcare_domain::decide::Command;
use throughcare_domain::events::EventKind;
use throughcare_domain::identifiers::PrisonNumber;
use throughcare_domain::record_ids::RandomIds;
use throughcare_store::AccessEntry;

use crate::app::AppState;
use crate::auth::{PageStaff, Staff};
use crate::chrome::FormErrors;
use crate::form_data::FormData;
use crate::forms::{Field, FormSpec, s};
use crate::policy::{self, Denied};
use crate::recording::RecordError;
use crate::web::{FormPage, checked_form, chrome, denied, message, render, with_status};

/// The route of the form.
pub const ROUTE: &str = "/transfer-requests";
/// Where every request lands.
pub const SENT: &str = "/transfer-requests/sent";

fn spec(f: &FormData) -> FormSpec {
    FormSpec {
        title: s("Ask for a record held at another prison"),
        fields: vec![
            Field::Heading(s(
                "For a person who has arrived here, or is about to, whose record the \
                 prison they left has not transferred. That prison's managers are \
                 asked; the person appears on your caseload when they accept.",
            )),
            Field::Text {
                name: s("prison_number"),
                label: s("Prison number"),
                hint: s("One letter, four numbers and two letters, like A1234BC"),
                value: s(f.get("prison_number")),
            },
            Field::TextArea {
                name: s("reason"),
                label: s("Why the record should move here"),
                value: s(f.get("reason")),
            },
        ],
    }
}

fn page(state: &AppState, staff: &Staff, f: &FormData, errors: FormErrors) -> FormPage {
    FormPage {
        chrome: chrome(state, staff, "/governance"),
        errors,
        spec: spec(f),
        action: ROUTE.into(),
        back: "/governance".into(),
        subject: state.establishment_name(staff.establishment().as_str()),
        supersedes: String::new(),
    }
}

/// GET /transfer-requests: the request form (managers only).
pub async fn form(State(state): State<AppState>, PageStaff(staff): PageStaff) -> Response {
    if let Err(d) = policy::manager_here(&staff) {
        return denied(&state, &staff, d);
    }
    render(page(
        &state,
        &staff,
        &FormData::default(),
        FormErrors::default(),
    ))
}

/// POST /transfer-requests: records the request against the record, if a prison
/// of the service holds one with this number; the same answer either way.
pub async fn submit(
    State(state): State<AppState>,
    PageStaff(staff): PageStaff,
    headers: HeaderMap,
    axum::extract::Form(form): axum::extract::Form<Vec<(String, String)>>,
) -> Response {
    let f = match checked_form(&state, &staff, &headers, form) {
        Ok(f) => f,
        Err(refused) => return refused,
    };
    if let Err(d) = policy::manager_here(&staff) {
        return denied(&state, &staff, d);
    }
    // What the asker typed is checked first, the same for every number.
    let mut errors = FormErrors::default();
    let number = PrisonNumber::parse(f.get("prison_number"));
    if number.is_err() {
        errors.add("prison_number", "Enter a prison number like A1234BC");
    }
    let reason = f.get("reason").trim().to_string();
    if reason.chars().count() < MIN_BREAK_GLASS_REASON {
        errors.add(
            "reason",
            format!(
                "Say why the record should move, in at least {MIN_BREAK_GLASS_REASON} characters"
            ),
        );
    }
    let (Ok(number), true) = (number, errors.is_empty()) else {
        return with_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            render(page(&state, &staff, &f, errors)),
        );
    };
    let here = staff.establishment().clone();
    let person = match state.store.find_prison_number(&number) {
        Ok(p) => p,
        Err(e) => return denied(&state, &staff, Denied::Store(e)),
    };
    let mut action = "transfer-request-not-recorded";
    if let Some(person) = person {
        let command = Command::Record {
            occurred_at: None,
            recorded_at: None,
            kind: EventKind::TransferRequested(TransferRequest {
                to: here.clone(),
                reason,
            }),
        };
        match state.recorder().record(
            &staff.author(),
            &here,
            person,
            command,
            Utc::now(),
            &mut RandomIds,
            None,
        ) {
            Ok(_) => action = "transfer-request",
            // Held here already, not in custody, asked already: the domain's
            // refusal is for the audit, not for the asker (it would say where).
            Err(RecordError::Domain(_)) => {}
            Err(RecordError::Store(e)) => return denied(&state, &staff, Denied::Store(e)),
        }
    }
    if let Err(e) = state.store.record_access(&AccessEntry {
        at: Utc::now(),
        username: staff.username().to_string(),
        person,
        action: action.into(),
        detail: ROUTE.into(),
    }) {
        return denied(&state, &staff, Denied::Store(e));
    }
    Redirect::to(SENT).into_response()
}

/// GET /transfer-requests/sent: the one answer to every request.
pub async fn sent(State(state): State<AppState>, PageStaff(staff): PageStaff) -> Response {
    if let Err(d) = policy::manager_here(&staff) {
        return denied(&state, &staff, d);
    }
    message(
        &state,
        &staff,
        StatusCode::OK,
        "Request sent",
        "If a prison of this service holds a record with this prison number, its managers \
         have been asked to transfer it. The person appears on your caseload when they \
         accept. If the record cannot wait, a manager can transfer the person in by \
         break-glass.",
    )
}
