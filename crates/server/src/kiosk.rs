//! The kiosk pages for people in prison (REQUIREMENTS "service user"; S4 §2, §5–6;
//! KM 5.39; KPI 2.19): answer a survey with a one-time code a worker issued, or
//! refer yourself to the service. No staff login and nothing else reachable: the
//! pages have their own template (`templates/kiosk_layout.html`, no navigation and
//! no link out of `/kiosk`), never read a staff session, and the only cookie they
//! set is their own CSRF token (double-submit, as the sign-in form), scoped to
//! `/kiosk`. Holding it opens nothing else: every other route answers as signed out.
//!
//! A survey response is recorded at the establishment where its code was issued,
//! `recorded_by` [`KIOSK_USERNAME`]; the store's feed record of the code's hash
//! makes "one response per code" hold even for two answers sent at once. A wrong or
//! used code gets a clear message and records nothing.

#![allow(clippy::cmp_owned)]

use askama::Template;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use throughcare_domain::error::DomainError;
use throughcare_domain::events::EventKind;
use throughcare_domain::governance::ServiceRecord;
use throughcare_domain::identifiers::{EstablishmentCode, PrisonNumber, StaffUsername};
use throughcare_domain::record_ids::RandomIds;
use throughcare_domain::referrals::ReferralSource;
use throughcare_domain::self_referrals::SelfReferral;
use throughcare_domain::surveys::{Rating, SurveyCode, SurveyKind, SurveyResponse};
use throughcare_store::FeedRecord;

use crate::app::AppState;
use crate::auth;
use crate::chrome::FormErrors;
use crate::form_data::FormData;
use crate::recording::RecordError;
use crate::web::{domain_errors, render, with_status};

/// The username kiosk entries are recorded under. Reserved: `user add` refuses it,
/// so an entry by it is always one a person in prison made at the kiosk.
pub const KIOSK_USERNAME: &str = "kiosk";

/// The kiosk's CSRF cookie (double-submit; sent only to `/kiosk` pages).
pub const KIOSK_CSRF_COOKIE: &str = "tc_kiosk";

/// The feed under which a used code's hash is kept, so that a code answers once
/// even when two answers race (the store skips a batch whose reference it has).
pub(crate) const CODE_FEED: &str = "survey-code";

/// Whether a username is reserved for the kiosk's own entries.
pub fn is_reserved_username(name: &str) -> bool {
    name.trim().eq_ignore_ascii_case(KIOSK_USERNAME)
}

/// The kiosk to the recorder: its username, as the kiosk (the policy table lets it
/// record survey answers and self-referrals only).
fn kiosk_author(username: StaffUsername) -> throughcare_domain::access::Author {
    throughcare_domain::access::Author {
        username,
        actor: throughcare_domain::access::Actor::Kiosk,
    }
}

fn kiosk_username() -> Option<StaffUsername> {
    StaffUsername::parse(KIOSK_USERNAME).ok()
}

type Pairs = Form<Vec<(String, String)>>;

// ---------- the kiosk's own CSRF token ----------

/// The token a kiosk form carries: the cookie's when it has a sound one, else new.
fn token(headers: &HeaderMap) -> String {
    auth::cookie(headers, KIOSK_CSRF_COOKIE)
        .filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
        .unwrap_or_else(auth::random_token)
}

/// Whether a kiosk form came from a kiosk page of this site (double-submit cookie
/// and origin).
fn form_accepted(headers: &HeaderMap, f: &FormData) -> bool {
    let cookie = auth::cookie(headers, KIOSK_CSRF_COOKIE).unwrap_or_default();
    !cookie.is_empty()
        && auth::constant_time_eq(cookie.as_bytes(), f.get("csrf_token").as_bytes())
        && auth::same_origin(headers)
}

/// A kiosk page: never cached (a shared screen), with the CSRF cookie set.
fn page(state: &AppState, status: StatusCode, token: &str, body: Response) -> Response {
    let mut r = with_status(status, body);
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    let cookie =
        format!("{KIOSK_CSRF_COOKIE}={token}; Path=/kiosk; HttpOnly; SameSite=Strict{secure}");
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn problem_page(state: &AppState, status: StatusCode, heading: &str, text: &str) -> Response {
    page(
        state,
        status,
        &auth::random_token(),
        render(DonePage {
            demo: state.demo,
            heading: heading.into(),
            message: text.into(),
        }),
    )
}

fn unavailable(state: &AppState, e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "kiosk: store failed");
    problem_page(
        state,
        StatusCode::SERVICE_UNAVAILABLE,
        "Sorry, there is a problem",
        "Try again later, or ask a member of staff.",
    )
}

fn expired(state: &AppState) -> Response {
    problem_page(
        state,
        StatusCode::FORBIDDEN,
        "The page timed out",
        "Nothing was sent. Press Finish and start again.",
    )
}

// ---------- pages ----------

#[derive(Template)]
#[template(path = "kiosk_start.html")]
struct StartPage {
    demo: bool,
    csrf_token: String,
    errors: FormErrors,
    code_value: String,
}

#[derive(Template)]
#[template(path = "kiosk_survey.html")]
struct SurveyPage {
    demo: bool,
    csrf_token: String,
    errors: FormErrors,
    survey_label: String,
    question: String,
    code: String,
    ratings: Vec<(String, String)>,
    chosen: String,
    comments_value: String,
}

#[derive(Template)]
#[template(path = "kiosk_done.html")]
struct DonePage {
    demo: bool,
    heading: String,
    message: String,
}

#[derive(Template)]
#[template(path = "kiosk_self_referral.html")]
struct SelfReferralPage {
    demo: bool,
    csrf_token: String,
    errors: FormErrors,
    given_value: String,
    family_value: String,
    number_value: String,
    dob_day: String,
    dob_month: String,
    dob_year: String,
    establishments: Vec<(String, String)>,
    establishment_value: String,
    help_value: String,
}

fn start(
    state: &AppState,
    token: &str,
    errors: FormErrors,
    code: &str,
    status: StatusCode,
) -> Response {
    page(
        state,
        status,
        token,
        render(StartPage {
            demo: state.demo,
            csrf_token: token.to_string(),
            errors,
            code_value: code.to_string(),
        }),
    )
}

fn survey(
    state: &AppState,
    token: &str,
    kind: SurveyKind,
    code: &SurveyCode,
    f: &FormData,
    errors: FormErrors,
    status: StatusCode,
) -> Response {
    page(
        state,
        status,
        token,
        render(SurveyPage {
            demo: state.demo,
            csrf_token: token.to_string(),
            errors,
            survey_label: kind.label().into(),
            question: kind.question().into(),
            code: code.as_str().into(),
            ratings: Rating::ALL
                .iter()
                .map(|r| (r.code().to_string(), r.label().to_string()))
                .collect(),
            chosen: f.get("rating").to_string(),
            comments_value: f.get("comments").to_string(),
        }),
    )
}

/// GET /kiosk: enter a survey code, or go to the self-referral page.
pub async fn start_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    start(
        &state,
        &token(&headers),
        FormErrors::default(),
        "",
        StatusCode::OK,
    )
}

/// The message for a code that has been used.
const USED: &str = "This code has already been used. Each code works once: ask a worker for a new one if you need to";

/// Why a code opens nothing, in words for the person at the kiosk.
fn code_problem(record: &ServiceRecord, code: &SurveyCode) -> Result<SurveyKind, &'static str> {
    match record.survey_codes.get(&code.hash()) {
        None => {
            Err("This code is not right. Check it and try again, or ask a worker for a new code")
        }
        Some(c) if c.used => Err(USED),
        Some(c) => Ok(c.survey),
    }
}

/// A typed code, or the start page again with the problem named.
#[allow(clippy::result_large_err)]
fn read_code(
    state: &AppState,
    token: &str,
    f: &FormData,
) -> Result<(SurveyCode, SurveyKind), Response> {
    let typed = f.get("code");
    let mut errors = FormErrors::default();
    let again = |errors: FormErrors| {
        start(
            state,
            token,
            errors,
            typed,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
    };
    if typed.is_empty() {
        errors.add("code", "Enter the survey code you were given");
        return Err(again(errors));
    }
    let code = match SurveyCode::parse(typed) {
        Ok(c) => c,
        Err(e) => {
            errors.add("code", e.to_string());
            return Err(again(errors));
        }
    };
    let record = match state.store.service_events() {
        Ok(events) => ServiceRecord::fold(&events),
        Err(e) => return Err(unavailable(state, e)),
    };
    match code_problem(&record, &code) {
        Ok(kind) => Ok((code, kind)),
        Err(why) => {
            errors.add("code", why);
            Err(again(errors))
        }
    }
}

/// POST /kiosk/code: a code that opens a survey shows that survey; a wrong or used
/// one shows the start page with the problem named.
pub async fn enter_code(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(pairs): Pairs,
) -> Response {
    let f = FormData::from_pairs(pairs);
    if !form_accepted(&headers, &f) {
        return expired(&state);
    }
    let token = token(&headers);
    match read_code(&state, &token, &f) {
        Ok((code, kind)) => survey(
            &state,
            &token,
            kind,
            &code,
            &FormData::default(),
            FormErrors::default(),
            StatusCode::OK,
        ),
        Err(r) => r,
    }
}

/// POST /kiosk/survey: records the answer (once per code) and shows the thanks.
pub async fn answer(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(pairs): Pairs,
) -> Response {
    let f = FormData::from_pairs(pairs);
    if !form_accepted(&headers, &f) {
        return expired(&state);
    }
    let token = token(&headers);
    let (code, kind) = match read_code(&state, &token, &f) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let mut errors = FormErrors::default();
    let rating = f.choice(
        "rating",
        "Choose how satisfied you are",
        &mut errors,
        Rating::from_code,
    );
    let (Some(rating), true) = (rating, errors.is_empty()) else {
        return survey(
            &state,
            &token,
            kind,
            &code,
            &f,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    };
    let Some(by) = kiosk_username() else {
        return unavailable(&state, "the kiosk username is not valid");
    };
    let record = match state.store.service_events() {
        Ok(events) => ServiceRecord::fold(&events),
        Err(e) => return unavailable(&state, e),
    };
    // Recorded where the code was issued (a fact about that establishment's service).
    let issued_at = match code_problem(&record, &code) {
        Ok(_) => record
            .survey_codes
            .get(&code.hash())
            .map(|c| c.establishment.clone()),
        Err(_) => None,
    };
    let Some(issued_at) = issued_at else {
        let mut errors = FormErrors::default();
        errors.add("code", USED);
        return start(&state, &token, errors, "", StatusCode::UNPROCESSABLE_ENTITY);
    };
    let response = EventKind::SurveyResponseRecorded(SurveyResponse {
        code_hash: Some(code.hash()),
        survey: kind,
        received_on: crate::forms::today(),
        rating,
        comments: f.optional("comments"),
    });
    let feed = FeedRecord {
        feed: CODE_FEED.into(),
        source_ref: code.hash(),
    };
    let used = |state: &AppState| {
        let mut errors = FormErrors::default();
        errors.add("code", USED);
        start(state, &token, errors, "", StatusCode::UNPROCESSABLE_ENTITY)
    };
    match state.recorder().record_service(
        &kiosk_author(by),
        &issued_at,
        response,
        Utc::now(),
        &mut RandomIds,
        Some(&feed),
    ) {
        // Another answer with this code got there first.
        Ok(events) if events.is_empty() => used(&state),
        Ok(_) => Redirect::to("/kiosk/thank-you").into_response(),
        Err(RecordError::Domain(DomainError::Refused(_))) => used(&state),
        Err(RecordError::Domain(e)) => survey(
            &state,
            &token,
            kind,
            &code,
            &f,
            domain_errors(&e),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(RecordError::Store(e)) => unavailable(&state, e),
    }
}

/// GET /kiosk/thank-you: after an answer.
pub async fn thank_you(State(state): State<AppState>, headers: HeaderMap) -> Response {
    page(
        &state,
        StatusCode::OK,
        &token(&headers),
        render(DonePage {
            demo: state.demo,
            heading: "Thank you for your answer".into(),
            message: "Your answer has been sent. It is anonymous: it is not kept with your name or prison number.".into(),
        }),
    )
}

// ---------- self-referral ----------

fn establishment_options(state: &AppState) -> Vec<(String, String)> {
    let all: Vec<(String, String)> = state
        .profile
        .establishments
        .iter()
        .map(|e| (e.code.to_string(), e.name.clone()))
        .collect();
    if all.len() > 1 {
        std::iter::once((String::new(), "Choose your prison".to_string()))
            .chain(all)
            .collect()
    } else {
        all
    }
}

fn self_referral_form(
    state: &AppState,
    token: &str,
    f: &FormData,
    errors: FormErrors,
    status: StatusCode,
) -> Response {
    page(
        state,
        status,
        token,
        render(SelfReferralPage {
            demo: state.demo,
            csrf_token: token.to_string(),
            errors,
            given_value: f.get("given_name").into(),
            family_value: f.get("family_name").into(),
            number_value: f.get("prison_number").into(),
            dob_day: f.get("date_of_birth-day").into(),
            dob_month: f.get("date_of_birth-month").into(),
            dob_year: f.get("date_of_birth-year").into(),
            establishments: establishment_options(state),
            establishment_value: f.get("establishment").into(),
            help_value: f.get("help").into(),
        }),
    )
}

/// GET /kiosk/self-referral: the self-referral form (S4 §2: by application).
pub async fn self_referral_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    self_referral_form(
        &state,
        &token(&headers),
        &FormData::default(),
        FormErrors::default(),
        StatusCode::OK,
    )
}

/// Reads the self-referral form: every missing or malformed field named.
fn parse_self_referral(
    state: &AppState,
    f: &FormData,
) -> Result<(SelfReferral, EstablishmentCode), FormErrors> {
    let mut e = FormErrors::default();
    let given_name = f.required("given_name", "Enter your given name", &mut e);
    let family_name = f.required("family_name", "Enter your family name", &mut e);
    let prison_number = match f.get("prison_number") {
        "" => {
            e.add("prison_number", "Enter your prison number");
            None
        }
        typed => match PrisonNumber::parse(typed) {
            Ok(n) => Some(n),
            Err(_) => {
                e.add(
                    "prison_number",
                    "Enter your prison number as it is on your ID card, like A1234BC",
                );
                None
            }
        },
    };
    let date_of_birth = f.date("date_of_birth", "Date of birth", &mut e);
    let establishment = f.choice(
        "establishment",
        "Choose the prison you are in",
        &mut e,
        |code| {
            EstablishmentCode::parse(code)
                .ok()
                .filter(|c| state.profile.establishment(c).is_some())
        },
    );
    match (
        given_name,
        family_name,
        prison_number,
        date_of_birth,
        establishment,
    ) {
        (
            Some(given_name),
            Some(family_name),
            Some(prison_number),
            Some(date_of_birth),
            Some(at),
        ) if e.is_empty() => Ok((
            SelfReferral {
                prison_number,
                given_name,
                family_name,
                date_of_birth,
                help: f.optional("help"),
            },
            at,
        )),
        _ => Err(e),
    }
}

/// POST /kiosk/self-referral: records the referral in the inbox, or shows the form
/// again with every problem named (and nothing recorded).
pub async fn self_referral(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(pairs): Pairs,
) -> Response {
    let f = FormData::from_pairs(pairs);
    if !form_accepted(&headers, &f) {
        return expired(&state);
    }
    let token = token(&headers);
    let again = |errors: FormErrors| {
        self_referral_form(&state, &token, &f, errors, StatusCode::UNPROCESSABLE_ENTITY)
    };
    let (given, at) = match parse_self_referral(&state, &f) {
        Ok(p) => p,
        Err(errors) => return again(errors),
    };
    let Some(by) = kiosk_username() else {
        return unavailable(&state, "the kiosk username is not valid");
    };
    match crate::self_referral::record(
        &state.recorder(),
        &kiosk_author(by),
        &at,
        ReferralSource::SelfReferralApplication,
        &given,
        Utc::now(),
        &mut RandomIds,
        None,
    ) {
        Ok(_) => Redirect::to("/kiosk/self-referral/sent").into_response(),
        Err(RecordError::Domain(e)) => again(domain_errors(&e)),
        Err(RecordError::Store(e)) => unavailable(&state, e),
    }
}

/// GET /kiosk/self-referral/sent: after a self-referral.
pub async fn self_referral_sent(State(state): State<AppState>, headers: HeaderMap) -> Response {
    page(
        &state,
        StatusCode::OK,
        &token(&headers),
        render(DonePage {
            demo: state.demo,
            heading: "Your request has been sent".into(),
            message: "The substance use service will come to see you. If you need help urgently, speak to a member of staff on your wing.".into(),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kiosk_username_is_a_valid_username_and_reserved_however_written() {
        assert!(kiosk_username().is_some());
        assert!(is_reserved_username(" Kiosk "));
        assert!(!is_reserved_username("kiosk.worker"));
    }
}
