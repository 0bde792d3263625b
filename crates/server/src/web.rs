//! The staff web pages: server-rendered, GOV.UK styled, usable without JavaScript.
//! Handlers parse, authorise (through `policy`), call the domain through
//! `recording`, and render.

// askama expands the `radios` and `select` macros of templates/components.html into
// comparisons clippy would write differently; the generated code is not ours to tune.
#![allow(clippy::cmp_owned)]

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::Utc;
use std::collections::HashMap;
use throughcare_domain::clocks::{
    ClockState, assessment_clocks, open_assessment_clocks, queue_key,
};
use throughcare_domain::consent::ConsentState;
use throughcare_domain::custody::CustodyStatus;
use throughcare_domain::error::DomainError;
use throughcare_domain::identifiers::{EstablishmentCode, StaffUsername};
use throughcare_domain::people::PriorityGroups;
use throughcare_domain::record_ids::{PersonId, RandomIds};

use crate::app::AppState;
use crate::auth::{self, PageStaff, Staff};
use crate::chrome::{Chrome, ChromeUser, EstablishmentOption, FormErrors, NavItem};
use crate::form_data::FormData;
use crate::forms::{self, Field, FormSpec};
use crate::policy::{self, Denied};
use crate::recording::RecordError;
use crate::timeline::{TimelineEntry, timeline};

type Pairs = Form<Vec<(String, String)>>;

pub(crate) fn render(t: impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "The page could not be shown.",
            )
                .into_response()
        }
    }
}

pub(crate) fn with_status(status: StatusCode, r: Response) -> Response {
    (status, r).into_response()
}

/// The page chrome for a signed-in member of staff.
pub fn chrome(state: &AppState, staff: &Staff, current: &str) -> Chrome {
    // The commissioner's navigation holds the returns and their information
    // requests (KM 5.14), nothing else.
    if staff.account.role == throughcare_store::Role::Commissioner {
        return Chrome {
            user: Some(ChromeUser {
                display_name: staff.account.display_name.clone(),
                role: staff.account.role.label().to_string(),
            }),
            csrf_token: staff.session.csrf_token.clone(),
            current_establishment: None,
            establishments: Vec::new(),
            nav: [
                ("/returns", "Returns"),
                ("/information-requests", "Information requests"),
            ]
            .iter()
            .map(|(href, label)| NavItem {
                href: href.to_string(),
                label: label.to_string(),
                current: *href == current,
            })
            .collect(),
            demo: state.demo,
        };
    }
    let manager = staff.account.role == throughcare_store::Role::Manager;
    let nav = [
        ("/", "Caseload"),
        ("/referrals", "Referral inbox"),
        ("/queues/assessments", "Assessments due"),
        ("/queues", "Work queues"),
        ("/queues/release", "Release queue"),
        ("/diary", "Diary"),
        ("/group-sessions/new", "Group session"),
        ("/people/new", "Register a person"),
        ("/surveys", "Surveys"),
        ("/data-quality", "Data quality"),
    ]
    .iter()
    .chain(manager.then_some(&("/governance", "Governance")))
    .chain(manager.then_some(&("/returns", "Returns")))
    .chain(manager.then_some(&("/submissions", "Submissions")))
    .chain(manager.then_some(&("/information-requests", "Information requests")))
    .map(|(href, label)| NavItem {
        href: href.to_string(),
        label: label.to_string(),
        current: *href == current,
    })
    .collect();
    Chrome {
        user: Some(ChromeUser {
            display_name: staff.account.display_name.clone(),
            role: staff.account.role.label().to_string(),
        }),
        csrf_token: staff.session.csrf_token.clone(),
        current_establishment: Some(staff.establishment().to_string()),
        establishments: staff
            .account
            .establishments
            .iter()
            .map(|e| EstablishmentOption {
                code: e.to_string(),
                name: state.establishment_name(e.as_str()),
                selected: e == staff.establishment(),
            })
            .collect(),
        nav,
        demo: state.demo,
    }
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    chrome: Chrome,
    heading: String,
    message: String,
}

pub(crate) fn message(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    heading: &str,
    text: &str,
) -> Response {
    with_status(
        status,
        render(MessagePage {
            chrome: chrome(state, staff, ""),
            heading: heading.into(),
            message: text.into(),
        }),
    )
}

pub(crate) fn denied(state: &AppState, staff: &Staff, d: Denied) -> Response {
    match d {
        Denied::NotFound => message(
            state,
            staff,
            StatusCode::NOT_FOUND,
            "Page not found",
            "There is no such person.",
        ),
        Denied::Forbidden(why) => message(
            state,
            staff,
            StatusCode::FORBIDDEN,
            "You cannot see this record",
            why,
        ),
        Denied::Store(e) => {
            tracing::error!(error = %e, "store failed");
            message(
                state,
                staff,
                StatusCode::SERVICE_UNAVAILABLE,
                "Sorry, there is a problem",
                "Try again later.",
            )
        }
    }
}

fn csrf_refused(state: &AppState, staff: &Staff, why: &str) -> Response {
    message(
        state,
        staff,
        StatusCode::FORBIDDEN,
        "The form was not accepted",
        why,
    )
}

/// A signed-in staff member's submitted form, once its CSRF token and origin are
/// checked; otherwise the refusal page (built on the cold path, so not boxed).
#[allow(clippy::result_large_err)]
pub(crate) fn checked_form(
    state: &AppState,
    staff: &Staff,
    headers: &HeaderMap,
    pairs: Vec<(String, String)>,
) -> Result<FormData, Response> {
    let f = FormData::from_pairs(pairs);
    match auth::check_csrf(staff, headers, Some(f.get("csrf_token"))) {
        Ok(()) => Ok(f),
        Err(why) => Err(csrf_refused(state, staff, why)),
    }
}

// ---------- sign in and out ----------

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    chrome: Chrome,
    errors: FormErrors,
    username: String,
}

/// GET /sign-in: the sign-in form, with a fresh pre-session CSRF cookie.
pub async fn sign_in_page(State(state): State<AppState>) -> Response {
    sign_in_form(&state, FormErrors::default(), String::new(), StatusCode::OK)
}

fn sign_in_form(
    state: &AppState,
    errors: FormErrors,
    username: String,
    status: StatusCode,
) -> Response {
    let token = auth::random_token();
    let page = render(SignInPage {
        chrome: Chrome {
            csrf_token: token.clone(),
            demo: state.demo,
            ..Chrome::default()
        },
        errors,
        username,
    });
    let mut r = with_status(status, page);
    if let Ok(v) = auth::set_cookie(
        auth::SIGN_IN_CSRF_COOKIE,
        &token,
        state.secure_cookies,
        None,
    )
    .parse()
    {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

/// POST /sign-in: checks the password, starts a session, sets the cookie.
pub async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Pairs,
) -> Response {
    let f = FormData::from_pairs(form);
    let cookie_token = auth::cookie(&headers, auth::SIGN_IN_CSRF_COOKIE).unwrap_or_default();
    if cookie_token.is_empty()
        || !auth::constant_time_eq(cookie_token.as_bytes(), f.get("csrf_token").as_bytes())
        || !auth::same_origin(&headers)
    {
        let mut e = FormErrors::default();
        e.add("username", "The sign-in form expired. Try again.");
        return sign_in_form(
            &state,
            e,
            f.get("username").to_string(),
            StatusCode::FORBIDDEN,
        );
    }
    let mut e = FormErrors::default();
    let username = f.get("username").to_string();
    if username.is_empty() {
        e.add("username", "Enter your username");
    }
    if f.get("password").is_empty() {
        e.add("password", "Enter your password");
    }
    if !e.is_empty() {
        return sign_in_form(&state, e, username, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let account = StaffUsername::parse(&username)
        .ok()
        .and_then(|u| state.store.account(&u).ok().flatten());
    let ok = account
        .as_ref()
        .is_some_and(|a| a.active && auth::verify_password(f.get("password"), &a.password_hash));
    let role = account.as_ref().map(|a| a.role);
    let started = account
        .filter(|_| ok)
        .and_then(|a| auth::new_session(&a, Utc::now()));
    let Some((token, session)) = started else {
        e.add("username", "Enter a correct username and password");
        return sign_in_form(&state, e, username, StatusCode::UNAUTHORIZED);
    };
    if !role.is_some_and(policy::uses_staff_routes) {
        e.add(
            "username",
            "This account belongs to a system and cannot sign in to the pages",
        );
        return sign_in_form(&state, e, username, StatusCode::FORBIDDEN);
    }
    if state.store.put_session(&session).is_err() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "Sign-in is not available. Try again later.",
        )
            .into_response();
    }
    tracing::info!("staff signed in");
    let mut r = Redirect::to("/").into_response();
    for c in [
        auth::set_cookie(auth::SESSION_COOKIE, &token, state.secure_cookies, None),
        auth::set_cookie(auth::SIGN_IN_CSRF_COOKIE, "", state.secure_cookies, Some(0)),
    ] {
        if let Ok(v) = c.parse() {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    r
}

/// POST /sign-out: ends the session.
pub async fn sign_out(
    State(state): State<AppState>,
    PageStaff(staff): PageStaff,
    headers: HeaderMap,
    Form(form): Pairs,
) -> Response {
    if let Err(refused) = checked_form(&state, &staff, &headers, form) {
        return refused;
    }
    let _ = state.store.delete_session(&staff.session.token_hash);
    let mut r = Redirect::to("/sign-in").into_response();
    if let Ok(v) = auth::set_cookie(auth::SESSION_COOKIE, "", state.secure_cookies, Some(0)).parse()
    {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

/// POST /establishment: switches the establishment the session works at.
pub async fn switch_establishment(
    State(state): State<AppState>,
    PageStaff(staff): PageStaff,
    headers: HeaderMap,
    Form(form): Pairs,
) -> Response {
    let f = match checked_form(&state, &staff, &headers, form) {
        Ok(f) => f,
        Err(refused) => return refused,
    };
    match EstablishmentCode::parse(f.get("establishment")) {
        Ok(code) if staff.account.establishments.contains(&code) => {
            let _ = state
                .store
                .set_session_establishment(&staff.session.token_hash, &code);
            Redirect::to("/").into_response()
        }
        _ => message(
            &state,
            &staff,
            StatusCode::FORBIDDEN,
            "You cannot work at that establishment",
            "You are not assigned to it.",
        ),
    }
}

// ---------- lists and queues ----------

#[derive(Template)]
#[template(path = "caseload.html")]
struct CaseloadPage {
    chrome: Chrome,
    establishment: String,
    rows: Vec<throughcare_store::CaseRow>,
}

/// GET /: the caseload at the session's establishment.
pub async fn caseload(State(state): State<AppState>, PageStaff(staff): PageStaff) -> Response {
    // The commissioner's home is the returns: they see nothing else.
    if staff.account.role == throughcare_store::Role::Commissioner {
        return Redirect::to("/returns").into_response();
    }
    if let Err(d) = policy::at_establishment(&staff, staff.establishment()) {
        return denied(&state, &staff, d);
    }
    match state.store.caseload(staff.establishment()) {
        Ok(rows) => render(CaseloadPage {
            chrome: chrome(&state, &staff, "/"),
            establishment: state.establishment_name(staff.establishment().as_str()),
            rows,
        }),
        Err(e) => denied(&state, &staff, Denied::Store(e)),
    }
}

/// One row of a work queue.
pub struct QueueRow {
    /// The domain's queue order for this row (`clocks::queue_key`).
    order: (bool, bool, chrono::NaiveDate, chrono::NaiveDate),
    person: PersonId,
    name: String,
    prison_number: String,
    referral: String,
    due: String,
    status: String,
    detail: String,
    overdue: bool,
    priority: bool,
}

#[derive(Template)]
#[template(path = "queue.html")]
struct QueuePage {
    chrome: Chrome,
    establishment: String,
    heading: String,
    intro: String,
    rows: Vec<QueueRow>,
}

fn clock_detail(state: ClockState) -> String {
    match state {
        ClockState::Due { working_days_left } => format!(
            "{working_days_left} working day{} left",
            if working_days_left == 1 { "" } else { "s" }
        ),
        ClockState::Breached { working_days_late } => format!(
            "{working_days_late} working day{} late",
            if working_days_late == 1 { "" } else { "s" }
        ),
        ClockState::Met { .. } | ClockState::Closed { .. } => String::new(),
        ClockState::MetLate {
            working_days_late, ..
        } => format!("{working_days_late} working days late"),
    }
}

/// Open first-assessment clocks at the session's establishment, overdue first,
/// offending-linked first within the same due date (S4 §1).
fn open_clock_rows(state: &AppState, staff: &Staff) -> Result<Vec<QueueRow>, Denied> {
    policy::at_establishment(staff, staff.establishment())?;
    let today = forms::today();
    let mut rows = Vec::new();
    for r in state.store.assessments_due(staff.establishment())? {
        let (case, _) = crate::recording::load_case(state.store.as_ref(), r.person)?;
        for c in open_assessment_clocks(
            &case,
            &state.calendar,
            state.profile.clocks.first_assessment_working_days,
            today,
        ) {
            rows.push(QueueRow {
                order: queue_key(&c, r.offending_linked),
                person: r.person,
                name: format!("{}, {}", r.family_name, r.given_name),
                prison_number: r.prison_number.clone(),
                referral: format!(
                    "{} – {}",
                    c.referred_on.format("%-d %b %Y"),
                    c.source.label()
                ),
                due: c.due_on.format("%-d %b %Y").to_string(),
                status: c.state.label().to_string(),
                detail: clock_detail(c.state),
                overdue: c.state.is_breached(),
                priority: r.offending_linked,
            });
        }
    }
    rows.sort_by_key(|r| r.order);
    Ok(rows)
}

/// GET /queues/assessments: assessments due and overdue (S4 §3: five working days).
pub async fn assessments_queue(
    State(state): State<AppState>,
    PageStaff(staff): PageStaff,
) -> Response {
    match open_clock_rows(&state, &staff) {
        Ok(rows) => {
            render(QueuePage {
                chrome: chrome(&state, &staff, "/queues/assessments"),
                establishment: state.establishment_name(staff.establishment().as_str()),
                heading: "Assessments due and overdue".into(),
                intro: "The first assessment is due within five working days of the referral (S4 §3). Overdue first; people whose offending is linked to their substance use are marked as a priority.".into(),
                rows,
            })
        }
        Err(d) => denied(&state, &staff, d),
    }
}

/// GET /referrals: the referral inbox — referrals not yet assessed.
pub async fn referral_inbox(
    State(state): State<AppState>,
    PageStaff(staff): PageStaff,
) -> Response {
    match open_clock_rows(&state, &staff) {
        Ok(mut rows) => {
            rows.sort_by_key(|r| r.order.3);
            render(QueuePage {
                chrome: chrome(&state, &staff, "/referrals"),
                establishment: state.establishment_name(staff.establishment().as_str()),
                heading: "Referral inbox".into(),
                intro: "Referrals that have not had a first assessment yet.".into(),
                rows,
            })
        }
        Err(d) => denied(&state, &staff, d),
    }
}

// ---------- a person ----------

#[derive(Template)]
#[template(path = "person.html")]
struct PersonPage {
    chrome: Chrome,
    person: PersonId,
    name: String,
    prison_number: String,
    details: Vec<(String, String)>,
    clocks: Vec<QueueRow>,
    consents: Vec<(String, String)>,
    care: Vec<(String, String)>,
    courses: Vec<crate::care_summary::CourseRow>,
    work: Vec<crate::care_summary::PersonWorkRow>,
    timeline: Vec<TimelineEntry>,
    forms: Vec<(&'static str, Vec<(&'static str, &'static str)>)>,
}

fn yes(b: bool) -> String {
    if b { "Yes".into() } else { "No".into() }
}

/// GET /people/{id}: the person's record, clocks and timeline (access audited).
pub async fn person_page(
    State(state): State<AppState>,
    PageStaff(staff): PageStaff,
    Path(id): Path<String>,
) -> Response {
    let Some(person) = PersonId::parse(&id) else {
        return denied(&state, &staff, Denied::NotFound);
    };
    let access = match policy::open_case(&state, &staff, person, "view", "/people/{id}") {
        Ok(a) => a,
        Err(d) => return denied(&state, &staff, d),
    };
    let case = access.case();
    let Some(d) = case.details.as_ref() else {
        return denied(&state, &staff, Denied::NotFound);
    };
    if let Some(here) = access.limited_to() {
        return own_entries_page(&state, &staff, case, here);
    }
    let today = forms::today();
    let custody = match &case.custody {
        CustodyStatus::NotYetReceived => "Not yet received".to_string(),
        CustodyStatus::InCustody {
            establishment,
            reception_type,
            received_on,
        } => format!(
            "In custody at {} since {} ({})",
            state.establishment_name(establishment.as_str()),
            received_on.format("%-d %B %Y"),
            reception_type.label().to_lowercase()
        ),
        CustodyStatus::Left {
            establishment, on, ..
        } => format!(
            "Left {} on {}",
            state.establishment_name(establishment.as_str()),
            on.format("%-d %B %Y")
        ),
    };
    let groups = PriorityGroups::of(d, today, case.received_on(), case.expected_release);
    let group_names: Vec<&str> = [
        (groups.prolific_offender, "Prolific offender"),
        (groups.young_adult, "18–25"),
        (groups.minority_ethnic, "Black and minority ethnic"),
        (groups.dual_diagnosis, "Dual diagnosis"),
        (groups.woman_or_pregnant, "Woman or pregnant"),
        (groups.short_sentence, "Short sentence"),
        (groups.older, "Older prisoner"),
    ]
    .iter()
    .filter(|(b, _)| *b)
    .map(|(_, n)| *n)
    .collect();
    let mut details = vec![
        (
            "Date of birth".to_string(),
            format!(
                "{} (age {})",
                d.date_of_birth.format("%-d %B %Y"),
                d.age_on(today)
            ),
        ),
        ("Custody".into(), custody),
        (
            "Expected release".into(),
            case.expected_release
                .map(|x| x.format("%-d %B %Y").to_string())
                .unwrap_or_else(|| "Not known".into()),
        ),
        (
            "Home postcode".into(),
            d.home_postcode
                .as_ref()
                .map(|p| p.to_string())
                .unwrap_or_else(|| "Not recorded".into()),
        ),
        (
            "Priority groups".into(),
            if group_names.is_empty() {
                "None".into()
            } else {
                group_names.join(", ")
            },
        ),
        (
            "Offending linked to substance use".into(),
            yes(case.offending_linked()),
        ),
        ("Complex needs".into(), yes(case.complex_needs())),
    ];
    if !case.merged_prison_numbers.is_empty() {
        details.push((
            "Also known by prison numbers".into(),
            case.merged_prison_numbers
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        ));
    }
    let clocks = assessment_clocks(
        case,
        &state.calendar,
        state.profile.clocks.first_assessment_working_days,
        today,
    )
    .into_iter()
    .map(|c| QueueRow {
        order: queue_key(&c, false),
        person: case.person,
        name: String::new(),
        prison_number: String::new(),
        referral: format!(
            "{} – {}",
            c.referred_on.format("%-d %b %Y"),
            c.source.label()
        ),
        due: c.due_on.format("%-d %b %Y").to_string(),
        status: c.state.label().to_string(),
        detail: clock_detail(c.state),
        overdue: c.state.is_breached(),
        priority: false,
    })
    .collect();
    let consents = throughcare_domain::consent::ConsentPurpose::ALL
        .iter()
        .map(|p| {
            let v = match case.consents.state(*p) {
                None => "Not asked".to_string(),
                Some(ConsentState::Given { on }) => format!("Given {}", on.format("%-d %B %Y")),
                Some(ConsentState::Refused { on }) => format!("Refused {}", on.format("%-d %B %Y")),
                Some(ConsentState::Withdrawn { on }) => {
                    format!("Withdrawn {}", on.format("%-d %B %Y"))
                }
            };
            (p.label().to_string(), v)
        })
        .collect();
    render(PersonPage {
        chrome: chrome(&state, &staff, ""),
        person: case.person,
        name: format!("{} {}", d.given_name, d.family_name),
        prison_number: d.prison_number.to_string(),
        details,
        clocks,
        consents,
        care: crate::care_summary::summary(case, &state.profile),
        courses: crate::care_summary::courses(case, &state.profile),
        work: crate::care_summary::work(case, &state.profile, &state.calendar, Utc::now()),
        timeline: timeline(case),
        forms: forms::groups_for(staff.account.role),
    })
}

/// The person page as a sending establishment sees it after the person moved on:
/// their name and number, where they are now, and only the entries this
/// establishment recorded (REQUIREMENTS §10). Nothing can be recorded from it.
fn own_entries_page(
    state: &AppState,
    staff: &Staff,
    case: &throughcare_domain::case::Case,
    here: &EstablishmentCode,
) -> Response {
    let Some(d) = case.details.as_ref() else {
        return denied(state, staff, Denied::NotFound);
    };
    let now_at = case
        .establishment()
        .map(|e| state.establishment_name(e.as_str()))
        .unwrap_or_default();
    let mut own = case.clone();
    own.history.retain(|e| &e.establishment == here);
    render(PersonPage {
        chrome: chrome(state, staff, ""),
        person: case.person,
        name: format!("{} {}", d.given_name, d.family_name),
        prison_number: d.prison_number.to_string(),
        details: vec![(
            "Now the responsibility of".into(),
            format!(
                "{now_at}. You see only what {} recorded.",
                state.establishment_name(here.as_str())
            ),
        )],
        clocks: Vec::new(),
        consents: Vec::new(),
        care: Vec::new(),
        courses: Vec::new(),
        work: Vec::new(),
        timeline: timeline(&own)
            .into_iter()
            .map(|mut t| {
                t.correct_form = String::new();
                t
            })
            .collect(),
        forms: Vec::new(),
    })
}

// ---------- forms ----------

/// The generic form page (templates/form.html), also used by other page modules.
#[derive(Template)]
#[template(path = "form.html")]
pub(crate) struct FormPage {
    pub(crate) chrome: Chrome,
    pub(crate) errors: FormErrors,
    pub(crate) spec: FormSpec,
    pub(crate) action: String,
    pub(crate) back: String,
    pub(crate) subject: String,
    pub(crate) supersedes: String,
}

/// Maps a domain refusal onto the form's fields.
pub fn domain_errors(e: &DomainError) -> FormErrors {
    let mut errors = FormErrors::default();
    match e {
        DomainError::Invalid(ps) => {
            for p in ps {
                errors.add(&p.field, p.problem.clone());
            }
        }
        DomainError::NotFound { what } => errors.add("form", format!("{what} was not found")),
        DomainError::Refused(why) | DomainError::NotPermitted(why) => {
            errors.add("form", why.clone())
        }
    }
    errors
}

/// GET /people/new: the registration form.
pub async fn register_page(State(state): State<AppState>, PageStaff(staff): PageStaff) -> Response {
    if let Err(d) = policy::at_establishment(&staff, staff.establishment()) {
        return denied(&state, &staff, d);
    }
    render(FormPage {
        chrome: chrome(&state, &staff, "/people/new"),
        errors: FormErrors::default(),
        spec: crate::registration::spec(&FormData::default()),
        action: "/people/new".into(),
        back: "/".into(),
        subject: state.establishment_name(staff.establishment().as_str()),
        supersedes: String::new(),
    })
}

/// POST /people/new: registers a person at the session's establishment.
pub async fn register(
    State(state): State<AppState>,
    PageStaff(staff): PageStaff,
    headers: HeaderMap,
    Form(form): Pairs,
) -> Response {
    let f = match checked_form(&state, &staff, &headers, form) {
        Ok(f) => f,
        Err(refused) => return refused,
    };
    let access = match policy::at_establishment(&staff, staff.establishment()) {
        Ok(a) => a,
        Err(d) => return denied(&state, &staff, d),
    };
    let show = |errors: FormErrors| {
        with_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            render(FormPage {
                chrome: chrome(&state, &staff, "/people/new"),
                errors,
                spec: crate::registration::spec(&f),
                action: "/people/new".into(),
                back: "/".into(),
                subject: state.establishment_name(staff.establishment().as_str()),
                supersedes: String::new(),
            }),
        )
    };
    let details = match crate::registration::parse(&f) {
        Ok(d) => d,
        Err(e) => return show(e),
    };
    match state.recorder().register(
        &staff.author(),
        access.establishment(),
        details,
        Utc::now(),
        &mut RandomIds,
        None,
    ) {
        Ok((person, _)) => Redirect::to(&format!("/people/{person}")).into_response(),
        Err(RecordError::Domain(e)) => show(domain_errors(&e)),
        Err(RecordError::Store(e)) => denied(&state, &staff, Denied::Store(e)),
    }
}

/// GET /people/{id}/record/{form}: a recording form for one person.
pub async fn record_page(
    State(state): State<AppState>,
    PageStaff(staff): PageStaff,
    Path((id, form)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(person) = PersonId::parse(&id) else {
        return denied(&state, &staff, Denied::NotFound);
    };
    let access = match policy::open_case(&state, &staff, person, "open-form", "/people/{id}/record")
    {
        Ok(a) => a,
        Err(d) => return denied(&state, &staff, d),
    };
    if let Some(refused) = form_refused(&state, &staff, &form) {
        return refused;
    }
    let supersedes = query.get("supersedes").cloned().unwrap_or_default();
    // A link may start a form with values (e.g. a session from its appointment);
    // a correction starts empty but for the entry it corrects.
    let f = if supersedes.is_empty() {
        forms::defaults(&form, forms::today()).with(query.into_iter().collect())
    } else {
        FormData::from_pairs(vec![("supersedes".into(), supersedes)])
    };
    form_page(
        &state,
        &staff,
        access.case(),
        &form,
        &f,
        FormErrors::default(),
        StatusCode::OK,
    )
}

fn form_page(
    state: &AppState,
    staff: &Staff,
    case: &throughcare_domain::case::Case,
    form: &str,
    f: &FormData,
    errors: FormErrors,
    status: StatusCode,
) -> Response {
    let Some(spec) = forms::spec(form, case, &state.profile, f) else {
        return message(
            state,
            staff,
            StatusCode::NOT_FOUND,
            "Page not found",
            "There is no such form.",
        );
    };
    let subject = case
        .details
        .as_ref()
        .map(|d| format!("{} {} ({})", d.given_name, d.family_name, d.prison_number))
        .unwrap_or_default();
    with_status(
        status,
        render(FormPage {
            chrome: chrome(state, staff, ""),
            errors,
            spec,
            action: format!("/people/{}/record/{form}", case.person),
            back: format!("/people/{}", case.person),
            subject,
            supersedes: f.get("supersedes").to_string(),
        }),
    )
}

/// POST /people/{id}/record/{form}: records the event, or shows the form again
/// with every problem named.
pub async fn record(
    State(state): State<AppState>,
    PageStaff(staff): PageStaff,
    headers: HeaderMap,
    Path((id, form)): Path<(String, String)>,
    Form(pairs): Pairs,
) -> Response {
    let f = match checked_form(&state, &staff, &headers, pairs) {
        Ok(f) => f,
        Err(refused) => return refused,
    };
    let Some(person) = PersonId::parse(&id) else {
        return denied(&state, &staff, Denied::NotFound);
    };
    let access = match policy::open_case(&state, &staff, person, "record", "/people/{id}/record") {
        Ok(a) => a,
        Err(d) => return denied(&state, &staff, d),
    };
    if let Some(refused) = form_refused(&state, &staff, &form) {
        return refused;
    }
    let case = access.case();
    if form == "merge" {
        return merge(&state, &staff, &access, &f);
    }
    let parsed = match forms::parse(&form, case, &state.profile, &f) {
        Ok(p) => p,
        Err(e) => {
            return form_page(
                &state,
                &staff,
                case,
                &form,
                &f,
                e,
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
    };
    let establishment = match form.as_str() {
        "reception" => staff.establishment().clone(),
        _ => parsed
            .establishment
            .clone()
            .or_else(|| case.establishment().cloned())
            .unwrap_or_else(|| staff.establishment().clone()),
    };
    if let Err(d) = policy::at_establishment(&staff, &establishment) {
        return denied(&state, &staff, d);
    }
    match state.recorder().record(
        &staff.author(),
        &establishment,
        access.person(),
        parsed.command,
        Utc::now(),
        &mut RandomIds,
        None,
    ) {
        Ok(_) => Redirect::to(&format!("/people/{}", access.person())).into_response(),
        Err(RecordError::Domain(DomainError::NotPermitted(why))) => message(
            &state,
            &staff,
            StatusCode::FORBIDDEN,
            "You cannot record this",
            &why,
        ),
        Err(RecordError::Domain(e)) => form_page(
            &state,
            &staff,
            case,
            &form,
            &f,
            forms::on_form_fields(&form, domain_errors(&e)),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(RecordError::Store(e)) => denied(&state, &staff, Denied::Store(e)),
    }
}

/// Refuses (403) a form whose entries the user's role may not record: the policy
/// table in the domain ([`throughcare_domain::access`]; a worker records no clinical
/// event, KM 4.16–4.17). The domain refuses such a write anyway; this keeps the form
/// from being offered.
fn form_refused(state: &AppState, staff: &Staff, form: &str) -> Option<Response> {
    if forms::role_may_use(staff.account.role, form) {
        return None;
    }
    Some(message(
        state,
        staff,
        StatusCode::FORBIDDEN,
        "You cannot record this",
        "Your role may not record this kind of entry.",
    ))
}

/// The merge form: the duplicate record (found by prison number, and one the user
/// may see) joins this one.
fn merge(state: &AppState, staff: &Staff, access: &policy::CaseAccess, f: &FormData) -> Response {
    let case = access.case();
    let mut errors = FormErrors::default();
    let duplicate =
        match throughcare_domain::identifiers::PrisonNumber::parse(f.get("prison_number")) {
            Err(_) => {
                errors.add("prison_number", "Enter a prison number like A1234BC");
                None
            }
            Ok(number) => match policy::open_by_prison_number(
                state,
                staff,
                &number,
                "merge",
                "/people/{id}/record/merge",
            ) {
                Ok(Some(found)) => Some(found.person()),
                Ok(None) => {
                    errors.add("prison_number", policy::no_record_you_can_see(&number));
                    None
                }
                Err(d) => return denied(state, staff, d),
            },
        };
    let Some(duplicate) = duplicate else {
        return form_page(
            state,
            staff,
            case,
            "merge",
            f,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    };
    let establishment = case
        .establishment()
        .cloned()
        .unwrap_or_else(|| staff.establishment().clone());
    match state.recorder().merge(
        &staff.author(),
        &establishment,
        access.person(),
        duplicate,
        Utc::now(),
        &mut RandomIds,
    ) {
        Ok(_) => Redirect::to(&format!("/people/{}", access.person())).into_response(),
        Err(RecordError::Domain(e)) => {
            let mut errors = domain_errors(&e);
            if let Some(m) = errors.for_field("merge_with").map(str::to_string) {
                errors.add("prison_number", m);
            }
            form_page(
                state,
                staff,
                case,
                "merge",
                f,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(RecordError::Store(e)) => denied(state, staff, Denied::Store(e)),
    }
}
