//! The staff side of surveys (S4 §5–6, §10; KM 5.39; KPI 2.19): issue a one-time
//! code for the annual satisfaction survey (`/surveys`), or for the client
//! experience questionnaire before or after treatment from the person's page (its
//! pairing key derived there, [`throughcare_domain::surveys::pair_key`]); enter a
//! paper response; and, for managers, the anonymous results by quarter.
//!
//! A code is drawn from a secure random source, shown once on the page that issues
//! it (never cached), and only its SHA-256 hash is recorded. Workers, clinicians
//! and managers at the establishment issue codes and enter paper responses.

#![allow(clippy::cmp_owned)]

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use rand::Rng;
use std::collections::HashMap;
use throughcare_domain::error::DomainError;
use throughcare_domain::events::EventKind;
use throughcare_domain::governance::ServiceRecord;
use throughcare_domain::identifiers::EstablishmentCode;
use throughcare_domain::record_ids::{PersonId, RandomIds};
use throughcare_domain::surveys::{
    Rating, SurveyCode, SurveyCodeIssued, SurveyKind, SurveyResponse, experience_episode, pair_key,
    results,
};

use crate::app::AppState;
use crate::auth::{PageStaff, Staff};
use crate::chrome::{Chrome, FormErrors};
use crate::form_data::FormData;
use crate::forms::{FormSpec, area, date, radios, s};
use crate::policy::{self, Denied};
use crate::recording::RecordError;
use crate::web::{FormPage, checked_form, chrome, denied, domain_errors, render, with_status};

type Pairs = Form<Vec<(String, String)>>;

fn record(state: &AppState) -> Result<ServiceRecord, Denied> {
    Ok(ServiceRecord::fold(&state.store.service_events()?))
}

fn options(kinds: &[SurveyKind]) -> Vec<(String, String)> {
    kinds.iter().map(|k| (s(k.code()), s(k.label()))).collect()
}

fn rating_options() -> Vec<(String, String)> {
    Rating::ALL
        .iter()
        .map(|r| (s(r.code()), s(r.label())))
        .collect()
}

// ---------- the surveys page ----------

#[derive(Template)]
#[template(path = "surveys.html")]
struct SurveysPage {
    chrome: Chrome,
    establishment: String,
    saved: bool,
    unused: usize,
    manager: bool,
}

/// GET /surveys: issue a satisfaction survey code, enter a paper response, and (for
/// managers) the way to the results.
pub async fn surveys(
    State(state): State<AppState>,
    PageStaff(staff): PageStaff,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let access = match policy::at_establishment(&staff, staff.establishment()) {
        Ok(a) => a,
        Err(d) => return denied(&state, &staff, d),
    };
    let r = match record(&state) {
        Ok(r) => r,
        Err(d) => return denied(&state, &staff, d),
    };
    render(SurveysPage {
        chrome: chrome(&state, &staff, "/surveys"),
        establishment: state.establishment_name(access.establishment().as_str()),
        saved: query.get("saved").is_some_and(|v| v == "paper"),
        unused: r
            .survey_codes
            .values()
            .filter(|c| !c.used && &c.establishment == access.establishment())
            .count(),
        manager: policy::manager_here(&staff).is_ok(),
    })
}

// ---------- issuing a code ----------

#[derive(Template)]
#[template(path = "survey_code.html")]
struct CodePage {
    chrome: Chrome,
    code: String,
    survey: String,
    for_whom: String,
    back: String,
    back_label: String,
}

/// A fresh code from the thread's cryptographically secure generator.
fn fresh_code() -> Option<SurveyCode> {
    let mut rng = rand::rng();
    SurveyCode::from_picks(std::array::from_fn(|_| {
        rng.random_range(0..SurveyCode::ALPHABET.len())
    }))
}

/// Draws a code and records its hash at `establishment`; a second draw in the
/// (about one in a billion) case that the first was issued before.
fn issue(
    state: &AppState,
    staff: &Staff,
    establishment: &EstablishmentCode,
    survey: SurveyKind,
    pair: Option<String>,
) -> Result<SurveyCode, RecordError> {
    let mut attempts = 0;
    loop {
        let code = fresh_code().ok_or_else(|| DomainError::invalid("code", "no code drawn"))?;
        let kind = EventKind::SurveyCodeIssued(SurveyCodeIssued {
            code_hash: code.hash(),
            survey,
            issued_on: crate::forms::today(),
            pair: pair.clone(),
        });
        match state.recorder().record_service(
            &staff.author(),
            establishment,
            kind,
            Utc::now(),
            &mut RandomIds,
            None,
        ) {
            Err(RecordError::Domain(DomainError::Invalid(ps)))
                if attempts < 2 && ps.iter().all(|p| p.field == "code_hash") =>
            {
                attempts += 1;
            }
            Err(e) => return Err(e),
            Ok(_) => return Ok(code),
        }
    }
}

/// The page that shows a code, the only time it is shown: never cached.
fn code_page(
    state: &AppState,
    staff: &Staff,
    code: &SurveyCode,
    survey: SurveyKind,
    for_whom: String,
    back: String,
    back_label: &str,
) -> Response {
    let mut r = render(CodePage {
        chrome: chrome(state, staff, "/surveys"),
        code: code.as_str().into(),
        survey: survey.label().to_lowercase(),
        for_whom,
        back,
        back_label: back_label.into(),
    });
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// POST /surveys/codes: issues a code for the annual satisfaction survey here.
pub async fn issue_satisfaction_code(
    State(state): State<AppState>,
    PageStaff(staff): PageStaff,
    headers: HeaderMap,
    Form(pairs): Pairs,
) -> Response {
    if let Err(refused) = checked_form(&state, &staff, &headers, pairs) {
        return refused;
    }
    let access = match policy::at_establishment(&staff, staff.establishment()) {
        Ok(a) => a,
        Err(d) => return denied(&state, &staff, d),
    };
    match issue(
        &state,
        &staff,
        access.establishment(),
        SurveyKind::Satisfaction,
        None,
    ) {
        Ok(code) => code_page(
            &state,
            &staff,
            &code,
            SurveyKind::Satisfaction,
            "the person".into(),
            "/surveys".into(),
            "Back to surveys",
        ),
        Err(RecordError::Domain(e)) => crate::web::message(
            &state,
            &staff,
            StatusCode::UNPROCESSABLE_ENTITY,
            "The code was not issued",
            &e.to_string(),
        ),
        Err(RecordError::Store(e)) => denied(&state, &staff, Denied::Store(e)),
    }
}

const EXPERIENCE: [SurveyKind; 2] = [SurveyKind::ExperiencePre, SurveyKind::ExperiencePost];

fn experience_form(
    state: &AppState,
    staff: &Staff,
    person: PersonId,
    subject: String,
    f: &FormData,
    errors: FormErrors,
    status: StatusCode,
) -> Response {
    with_status(
        status,
        render(FormPage {
            chrome: chrome(state, staff, ""),
            errors,
            spec: FormSpec {
                title: s("Issue a client experience questionnaire code"),
                fields: vec![radios(
                    f,
                    "survey",
                    "Which questionnaire? (S4 §5)",
                    options(&EXPERIENCE),
                )],
            },
            action: format!("/people/{person}/survey-code"),
            back: format!("/people/{person}"),
            subject,
            supersedes: String::new(),
        }),
    )
}

fn subject(case: &throughcare_domain::case::Case) -> String {
    case.details
        .as_ref()
        .map(|d| format!("{} {} ({})", d.given_name, d.family_name, d.prison_number))
        .unwrap_or_default()
}

/// GET /people/{id}/survey-code: choose the questionnaire before or after treatment.
pub async fn experience_code_page(
    State(state): State<AppState>,
    PageStaff(staff): PageStaff,
    Path(id): Path<String>,
) -> Response {
    let Some(person) = PersonId::parse(&id) else {
        return denied(&state, &staff, Denied::NotFound);
    };
    let access = match policy::open_case(
        &state,
        &staff,
        person,
        "open-form",
        "/people/{id}/survey-code",
    ) {
        Ok(a) => a,
        Err(d) => return denied(&state, &staff, d),
    };
    if access.limited_to().is_some() {
        return denied(
            &state,
            &staff,
            Denied::Forbidden("This person is now the responsibility of another establishment."),
        );
    }
    experience_form(
        &state,
        &staff,
        access.person(),
        subject(access.case()),
        &FormData::default(),
        FormErrors::default(),
        StatusCode::OK,
    )
}

/// POST /people/{id}/survey-code: issues a code for the questionnaire before or after
/// treatment, carrying the pairing key of the person's treatment episode (never the
/// person) so the two answers can be paired for the change figure.
pub async fn issue_experience_code(
    State(state): State<AppState>,
    PageStaff(staff): PageStaff,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(pairs): Pairs,
) -> Response {
    let f = match checked_form(&state, &staff, &headers, pairs) {
        Ok(f) => f,
        Err(refused) => return refused,
    };
    let Some(person) = PersonId::parse(&id) else {
        return denied(&state, &staff, Denied::NotFound);
    };
    let access = match policy::open_case(
        &state,
        &staff,
        person,
        "issue-survey-code",
        "/people/{id}/survey-code",
    ) {
        Ok(a) => a,
        Err(d) => return denied(&state, &staff, d),
    };
    if access.limited_to().is_some() {
        return denied(
            &state,
            &staff,
            Denied::Forbidden("This person is now the responsibility of another establishment."),
        );
    }
    let case = access.case();
    let again = |errors: FormErrors| {
        experience_form(
            &state,
            &staff,
            case.person,
            subject(case),
            &f,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
    };
    let mut errors = FormErrors::default();
    let Some(survey) = f.choice("survey", "Select which questionnaire", &mut errors, |c| {
        SurveyKind::from_code(c).filter(|k| k.is_experience())
    }) else {
        return again(errors);
    };
    let Some(episode) = experience_episode(case, &state.profile, survey) else {
        errors.add(
            "survey",
            "This person has not started treatment, so there is no treatment to ask about after yet",
        );
        return again(errors);
    };
    let establishment = case
        .establishment()
        .cloned()
        .unwrap_or_else(|| staff.establishment().clone());
    if let Err(d) = policy::at_establishment(&staff, &establishment) {
        return denied(&state, &staff, d);
    }
    match issue(
        &state,
        &staff,
        &establishment,
        survey,
        Some(pair_key(case.person, episode)),
    ) {
        Ok(code) => code_page(
            &state,
            &staff,
            &code,
            survey,
            case.details
                .as_ref()
                .map(|d| format!("{} {}", d.given_name, d.family_name))
                .unwrap_or_else(|| "the person".into()),
            format!("/people/{}", case.person),
            "Back to the person's record",
        ),
        Err(RecordError::Domain(DomainError::Refused(why))) => {
            errors.add("survey", why);
            again(errors)
        }
        Err(RecordError::Domain(e)) => again(domain_errors(&e)),
        Err(RecordError::Store(e)) => denied(&state, &staff, Denied::Store(e)),
    }
}

// ---------- paper responses ----------

fn paper_form(
    state: &AppState,
    staff: &Staff,
    f: &FormData,
    errors: FormErrors,
    status: StatusCode,
) -> Response {
    with_status(
        status,
        render(FormPage {
            chrome: chrome(state, staff, "/surveys"),
            errors,
            spec: FormSpec {
                title: s("Enter a paper survey response"),
                fields: vec![
                    radios(f, "survey", "Which survey?", options(SurveyKind::ALL)),
                    date(f, "received_on", "Date received"),
                    radios(f, "rating", "The answer", rating_options()),
                    area(f, "comments", "Comments, in the person's words (optional)"),
                ],
            },
            action: s("/surveys/paper"),
            back: s("/surveys"),
            subject: state.establishment_name(staff.establishment().as_str()),
            supersedes: String::new(),
        }),
    )
}

/// GET /surveys/paper: the paper response form (no code, anonymous).
pub async fn paper_page(State(state): State<AppState>, PageStaff(staff): PageStaff) -> Response {
    if let Err(d) = policy::at_establishment(&staff, staff.establishment()) {
        return denied(&state, &staff, d);
    }
    let today = crate::forms::today();
    let f = FormData::from_pairs(vec![
        (s("received_on-day"), today.format("%-d").to_string()),
        (s("received_on-month"), today.format("%-m").to_string()),
        (s("received_on-year"), today.format("%Y").to_string()),
    ]);
    paper_form(&state, &staff, &f, FormErrors::default(), StatusCode::OK)
}

fn parse_paper(f: &FormData) -> Result<SurveyResponse, FormErrors> {
    let mut e = FormErrors::default();
    let survey = f.choice(
        "survey",
        "Select which survey",
        &mut e,
        SurveyKind::from_code,
    );
    let received_on = f.date("received_on", "Date received", &mut e);
    let rating = f.choice("rating", "Select the answer", &mut e, Rating::from_code);
    match (survey, received_on, rating) {
        (Some(survey), Some(received_on), Some(rating)) if e.is_empty() => Ok(SurveyResponse {
            code_hash: None,
            survey,
            received_on,
            rating,
            comments: f.optional("comments"),
        }),
        _ => Err(e),
    }
}

/// POST /surveys/paper: records a paper response here, or shows the form again with
/// every problem named.
pub async fn paper(
    State(state): State<AppState>,
    PageStaff(staff): PageStaff,
    headers: HeaderMap,
    Form(pairs): Pairs,
) -> Response {
    let f = match checked_form(&state, &staff, &headers, pairs) {
        Ok(f) => f,
        Err(refused) => return refused,
    };
    let access = match policy::at_establishment(&staff, staff.establishment()) {
        Ok(a) => a,
        Err(d) => return denied(&state, &staff, d),
    };
    let again = |errors| paper_form(&state, &staff, &f, errors, StatusCode::UNPROCESSABLE_ENTITY);
    let response = match parse_paper(&f) {
        Ok(r) => r,
        Err(e) => return again(e),
    };
    match state.recorder().record_service(
        &staff.author(),
        access.establishment(),
        EventKind::SurveyResponseRecorded(response),
        Utc::now(),
        &mut RandomIds,
        None,
    ) {
        Ok(_) => Redirect::to("/surveys?saved=paper").into_response(),
        Err(RecordError::Domain(e)) => again(domain_errors(&e)),
        Err(RecordError::Store(e)) => denied(&state, &staff, Denied::Store(e)),
    }
}

// ---------- results ----------

/// One survey's table of results.
pub struct ResultsTable {
    survey: String,
    id: String,
    rows: Vec<(String, Vec<String>)>,
}

#[derive(Template)]
#[template(path = "survey_results.html")]
struct ResultsPage {
    chrome: Chrome,
    establishment: String,
    headings: Vec<String>,
    tables: Vec<ResultsTable>,
    change: Vec<(String, String)>,
}

/// GET /surveys/results: counts per rating per survey per quarter at this
/// establishment, and the before-to-after change (managers only; anonymous).
pub async fn results_page(State(state): State<AppState>, PageStaff(staff): PageStaff) -> Response {
    let access = match policy::manager_here(&staff) {
        Ok(a) => a,
        Err(d) => return denied(&state, &staff, d),
    };
    let r = match record(&state) {
        Ok(r) => r,
        Err(d) => return denied(&state, &staff, d),
    };
    let res = results(&r, Some(access.establishment()));
    let tables = SurveyKind::ALL
        .iter()
        .map(|kind| ResultsTable {
            survey: kind.label().into(),
            id: format!("results-{}", kind.code()),
            rows: res
                .quarters
                .iter()
                .filter(|q| q.survey == *kind)
                .map(|q| {
                    let mut cells: Vec<String> = q.counts.iter().map(u32::to_string).collect();
                    cells.push(q.total().to_string());
                    cells.push(q.satisfied().to_string());
                    (q.quarter.label(), cells)
                })
                .collect(),
        })
        .collect();
    let mut headings: Vec<String> = Rating::ALL.iter().map(|r| s(r.label())).collect();
    headings.push(s("Responses"));
    headings.push(s("Satisfied or very satisfied"));
    let c = &res.change;
    let change = vec![
        (s("Episodes with both answers"), c.pairs.to_string()),
        (s("Better after treatment"), c.improved.to_string()),
        (s("The same"), c.same.to_string()),
        (s("Worse after treatment"), c.worse.to_string()),
        (
            s("Mean change in points"),
            c.mean()
                .map(|m| format!("{m:+.2}"))
                .unwrap_or_else(|| s("No pairs yet")),
        ),
    ];
    render(ResultsPage {
        chrome: chrome(&state, &staff, "/surveys"),
        establishment: state.establishment_name(access.establishment().as_str()),
        headings,
        tables,
        change,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::form_data::Post;

    #[test]
    fn a_paper_response_names_every_missing_field_and_carries_no_code() {
        let e = parse_paper(&Post::new().data()).unwrap_err();
        for field in ["survey", "received_on", "rating"] {
            assert!(e.for_field(field).is_some(), "{field}");
        }
        let ok = parse_paper(
            &Post::new()
                .set("survey", "experience_post")
                .date("received_on", "2026-03-04")
                .set("rating", "neither")
                .set("comments", " Groups helped ")
                .data(),
        )
        .unwrap();
        assert_eq!(ok.code_hash, None);
        assert_eq!(ok.survey, SurveyKind::ExperiencePost);
        assert_eq!(ok.rating, Rating::Neither);
        assert_eq!(ok.comments.as_deref(), Some("Groups helped"));
    }

    #[test]
    fn fresh_codes_differ_and_parse_back() {
        let a = fresh_code().unwrap();
        let b = fresh_code().unwrap();
        assert_ne!(a, b);
        assert_eq!(SurveyCode::parse(a.as_str()).unwrap(), a);
    }
}
