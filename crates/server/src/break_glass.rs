//! The break-glass transfer in (issue 14): a manager at the receiving establishment
//! moves a person's record to it before the sending establishment or the movements
//! feed has recorded the transfer, giving a reason. It is the one way the receiving
//! side opens a record itself, so it is a manager's alone, written to the access
//! audit (`break-glass`), and flagged on the receiving caseload and the timeline
//! for review. Every other transfer is recorded by the establishment the person
//! leaves, or comes from the movements feed (REQUIREMENTS §10).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use throughcare_domain::custody::Transfer;
use throughcare_domain::decide::Command;
use throughcare_domain::events::EventKind;
use throughcare_domain::identifiers::{EstablishmentCode, PrisonNumber};
use throughcare_domain::record_ids::RandomIds;
use throughcare_store::AccessEntry;

use crate::app::AppState;
use crate::auth::{PageStaff, Staff};
use crate::chrome::FormErrors;
use crate::form_data::FormData;
use crate::forms::{Field, FormSpec, s};
use crate::policy::{self, Denied};
use crate::recording::RecordError;
use crate::web::{FormPage, checked_form, chrome, denied, domain_errors, render, with_status};

/// The route of the page.
pub const ROUTE: &str = "/transfer-in";

fn spec(f: &FormData) -> FormSpec {
    FormSpec {
        title: s("Transfer a person in by break-glass"),
        fields: vec![
            Field::Heading(s(
                "Only when the person is here and their record cannot wait for the \
                 prison they left to record the transfer out. The transfer is flagged \
                 for review and written to the access audit.",
            )),
            Field::Text {
                name: s("prison_number"),
                label: s("Prison number"),
                hint: s("One letter, four numbers and two letters, like A1234BC"),
                value: s(f.get("prison_number")),
            },
            Field::TextArea {
                name: s("break_glass"),
                label: s("Why the record cannot wait"),
                value: s(f.get("break_glass")),
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

/// GET /transfer-in: the break-glass form (managers only).
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

/// POST /transfer-in: moves the record here, flagged, or names what is wrong.
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
    let again = |errors: FormErrors| {
        with_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            render(page(&state, &staff, &f, errors)),
        )
    };
    let mut errors = FormErrors::default();
    let number = PrisonNumber::parse(f.get("prison_number"));
    if number.is_err() {
        errors.add("prison_number", "Enter a prison number like A1234BC");
    }
    let reason = f.get("break_glass").trim().to_string();
    if reason.is_empty() {
        errors.add(
            "break_glass",
            "Say why the record cannot wait for the transfer out",
        );
    }
    let Ok(number) = number else {
        return again(errors);
    };
    if !errors.is_empty() {
        return again(errors);
    }
    let here = staff.establishment().clone();
    // Break-glass is the one path that looks a person up without custody here; it
    // says only whether a person held at another prison has the number.
    let held = match state.store.find_prison_number(&number) {
        Ok(Some(person)) => match state.store.case_row(person) {
            Ok(Some(row)) if row.in_custody && row.establishment != here.as_str() => {
                EstablishmentCode::parse(&row.establishment)
                    .ok()
                    .map(|from| (person, from))
            }
            Ok(_) => None,
            Err(e) => return denied(&state, &staff, Denied::Store(e)),
        },
        Ok(None) => None,
        Err(e) => return denied(&state, &staff, Denied::Store(e)),
    };
    let Some((person, from)) = held else {
        errors.add(
            "prison_number",
            "No person held at another prison of this service has this prison number",
        );
        return again(errors);
    };
    let command = Command::Record {
        occurred_at: None,
        recorded_at: None,
        kind: EventKind::Transferred(Transfer {
            from,
            to: here.clone(),
            source_ref: None,
            break_glass: Some(reason),
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
        Ok(_) => {
            if let Err(e) = state.store.record_access(&AccessEntry {
                at: Utc::now(),
                username: staff.username().to_string(),
                person: Some(person),
                action: "break-glass".into(),
                detail: ROUTE.into(),
            }) {
                return denied(&state, &staff, Denied::Store(e));
            }
            Redirect::to(&format!("/people/{person}")).into_response()
        }
        Err(RecordError::Domain(e)) => again(domain_errors(&e)),
        Err(RecordError::Store(e)) => denied(&state, &staff, Denied::Store(e)),
    }
}
