//! The JSON API under `/api/v1`: the same reads and writes as the pages, for other
//! systems. Errors are JSON naming the field and the problem. Sign in with
//! `POST /api/v1/session` and send `Authorization: Bearer TOKEN`.

// The parsing helpers return the finished error response on their (cold) error
// path; boxing it would only add noise at every call site.
#![allow(clippy::result_large_err)]

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use throughcare_domain::clocks::{assessment_clocks, open_assessment_clocks, queue_key};
use throughcare_domain::decide::Command;
use throughcare_domain::error::DomainError;
use throughcare_domain::events::{EventKind, RecordedEvent};
use throughcare_domain::identifiers::{EstablishmentCode, StaffUsername};
use throughcare_domain::people::PersonDetails;
use throughcare_domain::record_ids::{EventId, PersonId, RandomIds};
use throughcare_domain::work_queues::QueueKind;

use crate::app::AppState;
use crate::auth::{self, ApiStaff, Staff};
use crate::forms;
use crate::policy::{self, Denied};
use crate::recording::RecordError;
use sha2::{Digest, Sha256};
use throughcare_store::{FeedRecord, IdempotencyClaim};

/// Every API route with its method and summary: the router and the OpenAPI
/// document are both built from this list, so they cannot drift apart.
pub const ROUTES: [(&str, &str, &str); 16] = [
    ("post", "/api/v1/session", "Sign in: returns a bearer token"),
    (
        "get",
        "/api/v1/people",
        "The caseload at the session's establishment",
    ),
    ("post", "/api/v1/people", "Register a person"),
    (
        "get",
        "/api/v1/people/{id}",
        "A person's case: details, custody, clocks, consents and every event",
    ),
    (
        "post",
        "/api/v1/people/{id}/events",
        "Record an event about a person",
    ),
    (
        "post",
        "/api/v1/people/{id}/events/{event_id}/correction",
        "Correct an event",
    ),
    (
        "post",
        "/api/v1/people/{id}/events/{event_id}/entered-in-error",
        "Mark an event as entered in error",
    ),
    (
        "post",
        "/api/v1/people/{id}/merge",
        "Merge the record with the given prison number into this one",
    ),
    (
        "get",
        "/api/v1/queues/assessments",
        "Open first-assessment clocks at the session's establishment",
    ),
    (
        "get",
        "/api/v1/queues/release",
        "Everyone due for release in the next 12 weeks at the session's establishment, with what their release plan lacks",
    ),
    (
        "post",
        "/api/v1/service/events",
        "Record a fact about the service (incident, learning action, death review, clinical cover, meeting, feedback, involvement, activity, commissioner issue, sub-contractor, obligation done); managers only",
    ),
    (
        "get",
        "/api/v1/service/governance",
        "Incidents, learning actions, death reviews, clinical cover, obligations due, complaints, commissioner issues, sub-contractor registrations, recent meetings, involvement and activities; managers only",
    ),
    (
        "get",
        "/api/v1/queues/work",
        "The work queue at the session's establishment, 50 items a page, overdue first (?page=N; ?queue=CODE: one queue; ?mine=1: the caller's keyworking caseload), with the total and every queue's count",
    ),
    (
        "post",
        "/api/v1/self-referrals",
        "A self-referral from the in-cell telephone system (S4 §2): prison_number, given_name, family_name, date_of_birth, optionally help and establishment; the self-referral service account only",
    ),
    (
        "get",
        "/api/v1/data-quality",
        "What would make a return or the NDTMS extract wrong at the session's establishment, with counts by kind",
    ),
    ("get", "/api/v1/openapi.json", "This document"),
];

/// The API's routes, as [`crate::app::Route`]s (the router serves them; the
/// OpenAPI document lists [`ROUTES`], which a test keeps equal to this table).
pub fn table() -> Vec<crate::app::Route> {
    crate::app::routes![
        "/api/v1/session" => post(sign_in),
        "/api/v1/people" => get(caseload).post(register),
        "/api/v1/people/{id}" => get(person),
        "/api/v1/people/{id}/events" => post(record),
        "/api/v1/people/{id}/events/{event_id}/correction" => post(correct),
        "/api/v1/people/{id}/events/{event_id}/entered-in-error" => post(enter_in_error),
        "/api/v1/people/{id}/merge" => post(merge),
        "/api/v1/queues/assessments" => get(assessments_due),
        "/api/v1/queues/work" => get(work_queue),
        "/api/v1/service/events" => post(crate::governance_pages::api_record),
        "/api/v1/service/governance" => get(crate::governance_pages::api_governance),
        "/api/v1/queues/release" => get(crate::release_pages::release_queue_api),
        "/api/v1/self-referrals" => post(crate::self_referral::api_post),
        "/api/v1/data-quality" => get(crate::data_quality_pages::api),
        "/api/v1/openapi.json" => get(openapi),
    ]
}

/// A JSON error response.
pub fn problem(status: StatusCode, error: &str, problems: Vec<(String, String)>) -> Response {
    let list: Vec<Value> = problems
        .into_iter()
        .map(|(field, problem)| json!({"field": field, "problem": problem}))
        .collect();
    (status, Json(json!({"error": error, "problems": list}))).into_response()
}

/// The API's answer to a refusal.
pub(crate) fn denied(d: Denied) -> Response {
    match d {
        Denied::NotFound => problem(StatusCode::NOT_FOUND, "no such person", vec![]),
        Denied::Forbidden(why) => problem(StatusCode::FORBIDDEN, why, vec![]),
        Denied::Store(e) => {
            tracing::error!(error = %e, "store failed");
            problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "the database is not available",
                vec![],
            )
        }
    }
}

pub(crate) fn record_error(e: RecordError) -> Response {
    match e {
        RecordError::Domain(DomainError::Invalid(ps)) => problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "the request is not valid",
            ps.into_iter().map(|p| (p.field, p.problem)).collect(),
        ),
        RecordError::Domain(DomainError::NotFound { what }) => {
            problem(StatusCode::NOT_FOUND, &format!("{what} not found"), vec![])
        }
        RecordError::Domain(DomainError::Refused(why)) => {
            problem(StatusCode::UNPROCESSABLE_ENTITY, &why, vec![])
        }
        RecordError::Domain(DomainError::NotPermitted(why)) => {
            problem(StatusCode::FORBIDDEN, &why, vec![])
        }
        RecordError::Store(throughcare_store::StoreError::Conflict) => problem(
            StatusCode::CONFLICT,
            "the record changed meanwhile; try again",
            vec![],
        ),
        RecordError::Store(e) => denied(Denied::Store(e)),
    }
}

/// Reads a JSON body, naming the field that is wrong.
fn body<T: serde::de::DeserializeOwned>(bytes: &Bytes) -> Result<T, Response> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let field = e.path().to_string();
        invalid_json(field, e.into_inner().to_string())
    })
}

fn invalid_json(field: String, inner: String) -> Response {
    let field = if field == "." {
        "body".to_string()
    } else {
        field
    };
    let message = inner
        .split(" at line ")
        .next()
        .unwrap_or(&inner)
        .to_string();
    problem(
        StatusCode::UNPROCESSABLE_ENTITY,
        "the request is not valid",
        vec![(field, message)],
    )
}

/// Reads one member of a JSON object as `T`, naming the field (under `prefix`) that is wrong.
pub(crate) fn member<T: serde::de::DeserializeOwned>(
    value: Value,
    prefix: &str,
) -> Result<T, Response> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = match (prefix.is_empty(), path.as_str()) {
            (true, p) => p.to_string(),
            (false, ".") => prefix.to_string(),
            (false, p) => format!("{prefix}.{p}"),
        };
        invalid_json(field, e.into_inner().to_string())
    })
}

/// The fields of a JSON object body, or a problem naming the body.
pub(crate) fn object(bytes: &Bytes) -> Result<serde_json::Map<String, Value>, Response> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(invalid_json(
            "body".into(),
            "the body must be a JSON object".into(),
        )),
        Err(e) => Err(invalid_json("body".into(), e.to_string())),
    }
}

/// An event kind from a body's `type` and `payload`, naming the payload field that is wrong.
pub(crate) fn event_kind(
    fields: &mut serde_json::Map<String, Value>,
) -> Result<EventKind, Response> {
    let type_name = match fields.remove("type") {
        Some(Value::String(t)) if EventKind::TYPE_NAMES.contains(&t.as_str()) => t,
        Some(other) => {
            return Err(invalid_json(
                "type".into(),
                format!("unknown event type {other}; see docs/events.md"),
            ));
        }
        None => return Err(invalid_json("type".into(), "missing field `type`".into())),
    };
    let p = fields.remove("payload").unwrap_or(Value::Null);
    let at = "payload";
    Ok(match type_name.as_str() {
        "person_registered" => EventKind::PersonRegistered(member(p, at)?),
        "people_merged" => EventKind::PeopleMerged(member(p, at)?),
        "received" => EventKind::Received(member(p, at)?),
        "transferred" => EventKind::Transferred(member(p, at)?),
        "transfer_requested" => EventKind::TransferRequested(member(p, at)?),
        "transfer_request_answered" => EventKind::TransferRequestAnswered(member(p, at)?),
        "expected_release_set" => EventKind::ExpectedReleaseSet(member(p, at)?),
        "released" => EventKind::Released(member(p, at)?),
        "referral_made" => EventKind::ReferralMade(member(p, at)?),
        "referral_closed" => EventKind::ReferralClosed(member(p, at)?),
        "appointment_offered" => EventKind::AppointmentOffered(member(p, at)?),
        "appointment_outcome_recorded" => EventKind::AppointmentOutcomeRecorded(member(p, at)?),
        "drug_test_resulted" => EventKind::DrugTestResulted(member(p, at)?),
        "information_shared" => EventKind::InformationShared(member(p, at)?),
        "onward_referral_made" => EventKind::OnwardReferralMade(member(p, at)?),
        "screening_completed" => EventKind::ScreeningCompleted(member(p, at)?),
        "assessment_completed" => EventKind::AssessmentCompleted(member(p, at)?),
        "consent_recorded" => EventKind::ConsentRecorded(member(p, at)?),
        "consent_withdrawn" => EventKind::ConsentWithdrawn(member(p, at)?),
        "entered_in_error" => EventKind::EnteredInError(member(p, at)?),
        "survey_code_issued" => EventKind::SurveyCodeIssued(member(p, at)?),
        "survey_response_recorded" => EventKind::SurveyResponseRecorded(member(p, at)?),
        "staff_recorded" => EventKind::StaffRecorded(member(p, at)?),
        "trainee_signed_off" => EventKind::TraineeSignedOff(member(p, at)?),
        "competence_recorded" => EventKind::CompetenceRecorded(member(p, at)?),
        "training_recorded" => EventKind::TrainingRecorded(member(p, at)?),
        "training_needs_analysis_recorded" => {
            EventKind::TrainingNeedsAnalysisRecorded(member(p, at)?)
        }
        "vacancy_recorded" => EventKind::VacancyRecorded(member(p, at)?),
        "return_submitted" => EventKind::ReturnSubmitted(member(p, at)?),
        "information_request_made" => EventKind::InformationRequestMade(member(p, at)?),
        "information_request_decided" => EventKind::InformationRequestDecided(member(p, at)?),
        "report_narrative_recorded" => EventKind::ReportNarrativeRecorded(member(p, at)?),
        "incident_recorded" => EventKind::IncidentRecorded(member(p, at)?),
        "learning_action_recorded" => EventKind::LearningActionRecorded(member(p, at)?),
        "death_review_recorded" => EventKind::DeathReviewRecorded(member(p, at)?),
        "clinical_cover_recorded" => EventKind::ClinicalCoverRecorded(member(p, at)?),
        "meeting_attended" => EventKind::MeetingAttended(member(p, at)?),
        "feedback_recorded" => EventKind::FeedbackRecorded(member(p, at)?),
        "involvement_recorded" => EventKind::InvolvementRecorded(member(p, at)?),
        "activity_recorded" => EventKind::ActivityRecorded(member(p, at)?),
        "commissioner_issue_recorded" => EventKind::CommissionerIssueRecorded(member(p, at)?),
        "subcontractor_recorded" => EventKind::SubcontractorRecorded(member(p, at)?),
        "obligation_completed" => EventKind::ObligationCompleted(member(p, at)?),
        "release_plan_agreed" => EventKind::ReleasePlanAgreed(member(p, at)?),
        "treatment_exited" => EventKind::TreatmentExited(member(p, at)?),
        "community_engagement_recorded" => EventKind::CommunityEngagementRecorded(member(p, at)?),
        "contact_recorded" => EventKind::ContactRecorded(member(p, at)?),
        "death_recorded" => EventKind::DeathRecorded(member(p, at)?),
        "reoffence_recorded" => EventKind::ReoffenceRecorded(member(p, at)?),
        "follow_up_closed" => EventKind::FollowUpClosed(member(p, at)?),
        "appointment_rescheduled" => EventKind::AppointmentRescheduled(member(p, at)?),
        "care_plan_agreed" => EventKind::CarePlanAgreed(member(p, at)?),
        "care_plan_reviewed" => EventKind::CarePlanReviewed(member(p, at)?),
        "induction_recorded" => EventKind::InductionRecorded(member(p, at)?),
        "top_completed" => EventKind::TopCompleted(member(p, at)?),
        "intervention_updated" => EventKind::InterventionUpdated(member(p, at)?),
        "session_attended" => EventKind::SessionAttended(member(p, at)?),
        "clinical_event_recorded" => EventKind::ClinicalEventRecorded(member(p, at)?),
        "blood_borne_virus_recorded" => EventKind::BloodBorneVirusRecorded(member(p, at)?),
        "naloxone_supplied" => EventKind::NaloxoneSupplied(member(p, at)?),
        "drug_intelligence_recorded" => EventKind::DrugIntelligenceRecorded(member(p, at)?),
        "sentence_plan_contributed" => EventKind::SentencePlanContributed(member(p, at)?),
        "keyworker_allocated" => EventKind::KeyworkerAllocated(member(p, at)?),
        "service_exclusion_recorded" => EventKind::ServiceExclusionRecorded(member(p, at)?),
        other => {
            return Err(invalid_json(
                "type".into(),
                format!("unknown event type {other}"),
            ));
        }
    })
}

/// An optional string member.
fn optional_string(
    fields: &mut serde_json::Map<String, Value>,
    name: &str,
) -> Result<Option<String>, Response> {
    match fields.remove(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => member::<String>(v, name).map(Some),
    }
}

#[derive(Deserialize)]
struct SignIn {
    username: String,
    password: String,
}

async fn sign_in(State(state): State<AppState>, bytes: Bytes) -> Response {
    let req: SignIn = match body(&bytes) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let account = StaffUsername::parse(&req.username)
        .ok()
        .and_then(|u| state.store.account(&u).ok().flatten());
    let Some(account) =
        account.filter(|a| a.active && auth::verify_password(&req.password, &a.password_hash))
    else {
        return problem(
            StatusCode::UNAUTHORIZED,
            "wrong username or password",
            vec![],
        );
    };
    // The commissioner sees the returns pages only, never the API.
    if account.role == throughcare_store::Role::Commissioner {
        return problem(
            StatusCode::FORBIDDEN,
            "your role does not give access to the API",
            vec![],
        );
    }
    let Some((token, session)) = auth::new_session(&account, Utc::now()) else {
        return problem(
            StatusCode::FORBIDDEN,
            "this account has no establishment",
            vec![],
        );
    };
    if let Err(e) = state.store.put_session(&session) {
        return denied(Denied::Store(e));
    }
    (StatusCode::CREATED, Json(json!({"token": token, "establishment": session.establishment, "expires_at": session.expires_at}))).into_response()
}

async fn caseload(State(state): State<AppState>, ApiStaff(staff): ApiStaff) -> Response {
    if let Err(d) = policy::at_establishment(&staff, staff.establishment()) {
        return denied(d);
    }
    match state.store.caseload(staff.establishment()) {
        Ok(rows) => {
            Json(json!({"establishment": staff.establishment(), "people": rows})).into_response()
        }
        Err(e) => denied(Denied::Store(e)),
    }
}

async fn register(
    State(state): State<AppState>,
    ApiStaff(staff): ApiStaff,
    headers: HeaderMap,
    uri: Uri,
    bytes: Bytes,
) -> Response {
    let staff = &staff;
    idempotent(&state, staff, &headers, uri.path(), &bytes, |feed| {
        let mut fields = match object(&bytes) {
            Ok(f) => f,
            Err(r) => return r,
        };
        let establishment = match optional_string(&mut fields, "establishment") {
            Ok(e) => e,
            Err(r) => return r,
        };
        let details: PersonDetails = match member(Value::Object(fields), "") {
            Ok(d) => d,
            Err(r) => return r,
        };
        let establishment = match establishment.as_deref().map(EstablishmentCode::parse) {
            None => staff.establishment().clone(),
            Some(Ok(c)) => c,
            Some(Err(e)) => {
                return problem(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "the request is not valid",
                    vec![("establishment".into(), e.to_string())],
                );
            }
        };
        if state.profile.establishment(&establishment).is_none() {
            return problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                "the request is not valid",
                vec![(
                    "establishment".into(),
                    format!("{establishment} is not an establishment of this service"),
                )],
            );
        }
        let access = match policy::at_establishment(staff, &establishment) {
            Ok(a) => a,
            Err(d) => return denied(d),
        };
        match state.recorder().register(
            &staff.author(),
            access.establishment(),
            details,
            Utc::now(),
            &mut RandomIds,
            feed,
        ) {
            Ok((_, events)) if events.is_empty() => already_recorded(),
            Ok((person, events)) => (
                StatusCode::CREATED,
                Json(json!({"id": person, "events": events_json(&events)})),
            )
                .into_response(),
            Err(e) => record_error(e),
        }
    })
    .await
}

fn events_json(events: &[RecordedEvent]) -> Vec<Value> {
    events
        .iter()
        .map(|e| {
            json!({
                "seq": e.seq, "id": e.id, "type": e.kind.type_name(), "person": e.person,
                "establishment": e.establishment, "occurred_at": e.occurred_at, "recorded_at": e.recorded_at,
                "appended_at": e.appended_at, "recorded_by": e.recorded_by, "supersedes": e.supersedes,
                "reason": e.reason, "payload": serde_json::from_str::<Value>(&e.kind.payload_json()).unwrap_or(Value::Null),
                "hash": e.hash,
            })
        })
        .collect()
}

fn person_id(id: &str) -> Result<PersonId, Response> {
    PersonId::parse(id).ok_or_else(|| problem(StatusCode::NOT_FOUND, "no such person", vec![]))
}

async fn person(
    State(state): State<AppState>,
    ApiStaff(staff): ApiStaff,
    Path(id): Path<String>,
) -> Response {
    let person = match person_id(&id) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let access = match policy::open_case(&state, &staff, person, "view", "/api/v1/people/{id}") {
        Ok(a) => a,
        Err(d) => return denied(d),
    };
    let case = access.case();
    if let Some(here) = access.limited_to() {
        // The sending establishment after a transfer: only its own entries.
        let own: Vec<_> = case
            .history
            .iter()
            .filter(|e| &e.establishment == here)
            .cloned()
            .collect();
        return Json(json!({
            "id": case.person,
            "prison_number": case.details.as_ref().map(|d| d.prison_number.to_string()),
            "establishment": case.establishment(),
            "limited_to_entries_of": here,
            "events": events_json(&own),
        }))
        .into_response();
    }
    let clocks = assessment_clocks(
        case,
        &state.calendar,
        state.profile.clocks.first_assessment_working_days,
        forms::today(),
    );
    let consents: Vec<Value> = case
        .consents
        .iter()
        .map(|(p, s)| json!({"purpose": p, "state": s}))
        .collect();
    Json(json!({
        "id": case.person,
        "details": case.details,
        "merged_prison_numbers": case.merged_prison_numbers,
        "establishment": case.establishment(),
        "custody": case.custody,
        "expected_release": case.expected_release,
        "assessment_clocks": clocks,
        "work_items": throughcare_domain::work_queues::work_items(case, &state.profile, &state.calendar, Utc::now()),
        "waits": throughcare_domain::waits::waits(case, &state.profile),
        "keyworker": case.keyworker.as_ref().map(|k| k.worker.to_string()),
        "consents": consents,
        "events": events_json(&case.history),
    }))
    .into_response()
}

fn write(
    state: &AppState,
    staff: &Staff,
    person: PersonId,
    establishment: Option<String>,
    command: Command,
    feed: Option<&FeedRecord>,
) -> Response {
    let access =
        match policy::open_case(state, staff, person, "record", "/api/v1/people/{id}/events") {
            Ok(a) => a,
            Err(d) => return denied(d),
        };
    let establishment = match establishment.as_deref().map(EstablishmentCode::parse) {
        None => access
            .case()
            .establishment()
            .cloned()
            .unwrap_or_else(|| staff.establishment().clone()),
        Some(Ok(c)) => c,
        Some(Err(e)) => {
            return problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                "the request is not valid",
                vec![("establishment".into(), e.to_string())],
            );
        }
    };
    if state.profile.establishment(&establishment).is_some()
        && let Err(d) = policy::at_establishment(staff, &establishment)
    {
        return denied(d);
    }
    match state.recorder().record(
        &staff.author(),
        &establishment,
        access.person(),
        command,
        Utc::now(),
        &mut RandomIds,
        feed,
    ) {
        Ok(events) if events.is_empty() => already_recorded(),
        Ok(events) => (
            StatusCode::CREATED,
            Json(json!({"events": events_json(&events)})),
        )
            .into_response(),
        Err(e) => record_error(e),
    }
}

async fn record(
    State(state): State<AppState>,
    ApiStaff(staff): ApiStaff,
    Path(id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    bytes: Bytes,
) -> Response {
    let staff = &staff;
    idempotent(&state, staff, &headers, uri.path(), &bytes, |feed| {
        let parsed = (|| {
            let person = person_id(&id)?;
            let mut fields = object(&bytes)?;
            let kind = event_kind(&mut fields)?;
            let occurred_at: Option<DateTime<Utc>> = match fields.remove("occurred_at") {
                None | Some(Value::Null) => None,
                Some(v) => Some(member(v, "occurred_at")?),
            };
            let establishment = optional_string(&mut fields, "establishment")?;
            Ok::<_, Response>((person, kind, occurred_at, establishment))
        })();
        let (person, kind, occurred_at, establishment) = match parsed {
            Ok(p) => p,
            Err(r) => return r,
        };
        let command = Command::Record {
            occurred_at,
            recorded_at: None,
            kind,
        };
        write(&state, staff, person, establishment, command, feed)
    })
    .await
}

async fn correct(
    State(state): State<AppState>,
    ApiStaff(staff): ApiStaff,
    Path((id, event)): Path<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
    bytes: Bytes,
) -> Response {
    let staff = &staff;
    idempotent(&state, staff, &headers, uri.path(), &bytes, |feed| {
        let parsed = (|| {
            let person = person_id(&id)?;
            let mut fields = object(&bytes)?;
            let kind = event_kind(&mut fields)?;
            let reason = optional_string(&mut fields, "reason")?.unwrap_or_default();
            Ok::<_, Response>((person, kind, reason))
        })();
        let (person, kind, reason) = match parsed {
            Ok(p) => p,
            Err(r) => return r,
        };
        let Some(target) = EventId::parse(&event) else {
            return problem(StatusCode::NOT_FOUND, "no such event", vec![]);
        };
        write(
            &state,
            staff,
            person,
            None,
            Command::Correct {
                target,
                reason,
                kind,
            },
            feed,
        )
    })
    .await
}

#[derive(Deserialize)]
struct ErrorBody {
    reason: String,
}

async fn enter_in_error(
    State(state): State<AppState>,
    ApiStaff(staff): ApiStaff,
    Path((id, event)): Path<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
    bytes: Bytes,
) -> Response {
    let staff = &staff;
    idempotent(&state, staff, &headers, uri.path(), &bytes, |feed| {
        let (person, req) = match (person_id(&id), body::<ErrorBody>(&bytes)) {
            (Ok(p), Ok(r)) => (p, r),
            (Err(r), _) | (_, Err(r)) => return r,
        };
        let Some(target) = EventId::parse(&event) else {
            return problem(StatusCode::NOT_FOUND, "no such event", vec![]);
        };
        write(
            &state,
            staff,
            person,
            None,
            Command::EnterInError {
                target,
                reason: req.reason,
            },
            feed,
        )
    })
    .await
}

async fn merge(
    State(state): State<AppState>,
    ApiStaff(staff): ApiStaff,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Response {
    let parsed = (|| {
        let person = person_id(&id)?;
        let mut fields = object(&bytes)?;
        let number = optional_string(&mut fields, "prison_number")?.unwrap_or_default();
        let number = throughcare_domain::identifiers::PrisonNumber::parse(&number)
            .map_err(|e| invalid_json("prison_number".into(), e.to_string()))?;
        Ok::<_, Response>((person, number))
    })();
    let (person, number) = match parsed {
        Ok(p) => p,
        Err(r) => return r,
    };
    let survivor =
        match policy::open_case(&state, &staff, person, "merge", "/api/v1/people/{id}/merge") {
            Ok(a) => a,
            Err(d) => return denied(d),
        };
    let duplicate = match policy::open_by_prison_number(
        &state,
        &staff,
        &number,
        "merge",
        "/api/v1/people/{id}/merge",
    ) {
        Ok(Some(found)) => found.person(),
        Ok(None) => {
            return problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                "the request is not valid",
                vec![(
                    "prison_number".into(),
                    policy::no_record_you_can_see(&number),
                )],
            );
        }
        Err(d) => return denied(d),
    };
    let establishment = survivor
        .case()
        .establishment()
        .cloned()
        .unwrap_or_else(|| staff.establishment().clone());
    match state.recorder().merge(
        &staff.author(),
        &establishment,
        survivor.person(),
        duplicate,
        Utc::now(),
        &mut RandomIds,
    ) {
        Ok(events) => (
            StatusCode::CREATED,
            Json(json!({"events": events_json(&events)})),
        )
            .into_response(),
        Err(e) => record_error(e),
    }
}

async fn assessments_due(State(state): State<AppState>, ApiStaff(staff): ApiStaff) -> Response {
    if let Err(d) = policy::at_establishment(&staff, staff.establishment()) {
        return denied(d);
    }
    let rows = match state.store.assessments_due(staff.establishment()) {
        Ok(r) => r,
        Err(e) => return denied(Denied::Store(e)),
    };
    let today = forms::today();
    let mut out = Vec::new();
    for r in rows {
        let case = match crate::recording::load_case(state.store.as_ref(), r.person) {
            Ok((c, _)) => c,
            Err(e) => return denied(Denied::Store(e)),
        };
        for c in open_assessment_clocks(
            &case,
            &state.calendar,
            state.profile.clocks.first_assessment_working_days,
            today,
        ) {
            out.push((queue_key(&c, r.offending_linked), json!({"person": r.person, "prison_number": r.prison_number, "clock": c, "offending_linked": r.offending_linked})));
        }
    }
    out.sort_by_key(|(key, _)| *key);
    let out: Vec<Value> = out.into_iter().map(|(_, row)| row).collect();
    Json(json!({"establishment": staff.establishment(), "open": out})).into_response()
}

/// GET /api/v1/queues/work: every work item, in queue order.
async fn work_queue(
    State(state): State<AppState>,
    ApiStaff(staff): ApiStaff,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    let mine = query.get("mine").is_some_and(|v| v == "1");
    let queue = match query.get("queue").map(String::as_str) {
        None | Some("") => None,
        Some(code) => match QueueKind::from_code(code) {
            Some(k) => Some(k),
            None => {
                return problem(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "the request is not valid",
                    vec![("queue".into(), format!("no queue is called {code}"))],
                );
            }
        },
    };
    let page = match query.get("page").map(|p| p.parse::<usize>()) {
        None => 1,
        Some(Ok(p)) if p >= 1 => p,
        Some(_) => {
            return problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                "the request is not valid",
                vec![("page".into(), "a page is a whole number from 1".into())],
            );
        }
    };
    let now = Utc::now();
    let (listed, found) = match crate::care_pages::queue_page(
        &state,
        &staff,
        mine,
        queue,
        page,
        crate::care_pages::QUEUE_PAGE,
        now,
    )
    .await
    {
        Ok(l) => l,
        Err(d) => return denied(d),
    };
    let items: Vec<Value> = listed
        .into_iter()
        .map(|l| {
            json!({"person": l.row.person, "prison_number": l.row.prison_number,
                "keyworker": l.keyworker, "offending_linked": l.offending_linked,
                "queue": l.item.queue.code(), "due": l.item.due, "overdue": l.item.overdue,
                "has_deadline": l.item.has_deadline, "minutes_left": l.item.minutes_left(now),
                "detail": l.item.detail})
        })
        .collect();
    let counts: Vec<Value> = found
        .counts
        .iter()
        .map(|c| json!({"queue": c.queue.code(), "items": c.items, "overdue": c.overdue}))
        .collect();
    Json(
        json!({"establishment": staff.establishment(), "items": items, "total": found.total,
        "page": page, "pages": found.total.div_ceil(crate::care_pages::QUEUE_PAGE).max(1),
        "counts": counts}),
    )
    .into_response()
}

/// The answer when a write's idempotency key shows it was already recorded (its
/// first attempt committed, but the answer was lost, e.g. in a crash).
fn already_recorded() -> Response {
    (
        StatusCode::OK,
        Json(json!({"events": [], "note": "already recorded under this Idempotency-Key"})),
    )
        .into_response()
}

/// Runs a write under its `Idempotency-Key` header (IETF httpapi idempotency-key
/// draft): the same key and body replay the original answer without a second event;
/// the same key with another body is 422; a retry while the first is in flight is
/// 409. Keys are per user. The key also goes into the append as a feed record, so
/// even a write whose answer was lost in a crash is never recorded twice.
pub(crate) async fn idempotent(
    state: &AppState,
    staff: &Staff,
    headers: &HeaderMap,
    path: &str,
    bytes: &Bytes,
    run: impl FnOnce(Option<&FeedRecord>) -> Response,
) -> Response {
    let Some(key) = headers.get("idempotency-key") else {
        return run(None);
    };
    let key = match key.to_str() {
        Ok(k) if !k.trim().is_empty() && k.len() <= 255 => k.trim(),
        _ => {
            return problem(
                StatusCode::BAD_REQUEST,
                "the Idempotency-Key header must be 1 to 255 visible characters",
                vec![("Idempotency-Key".into(), "not a valid key".into())],
            );
        }
    };
    let scope = format!("{}:{key}", staff.username());
    let mut hasher = Sha256::new();
    hasher.update(path.as_bytes());
    hasher.update(b"\n");
    hasher.update(bytes);
    let request_hash = hex::encode(hasher.finalize());
    match state
        .store
        .idempotency_claim(&scope, &request_hash, Utc::now())
    {
        Err(e) => denied(Denied::Store(e)),
        Ok(IdempotencyClaim::Mismatch) => problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "this Idempotency-Key was already used for a different request",
            vec![(
                "Idempotency-Key".into(),
                "reused with a different request".into(),
            )],
        ),
        Ok(IdempotencyClaim::InFlight) => problem(
            StatusCode::CONFLICT,
            "a request with this Idempotency-Key is still being processed; retry later",
            vec![],
        ),
        Ok(IdempotencyClaim::Completed { status, response }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            let mut r = (
                status,
                [(header::CONTENT_TYPE, "application/json")],
                response,
            )
                .into_response();
            r.headers_mut().insert(
                "idempotent-replayed",
                header::HeaderValue::from_static("true"),
            );
            r
        }
        Ok(IdempotencyClaim::Claimed) => {
            let feed = FeedRecord {
                feed: "idempotency-key".into(),
                source_ref: scope.clone(),
            };
            let response = run(Some(&feed));
            let (parts, body) = response.into_parts();
            let body = axum::body::to_bytes(body, 1 << 22)
                .await
                .unwrap_or_default();
            // Transient failures (a server error, a write conflict) free the key for a retry.
            let outcome = if parts.status.is_server_error() || parts.status == StatusCode::CONFLICT
            {
                state.store.idempotency_release(&scope)
            } else {
                state.store.idempotency_complete(
                    &scope,
                    parts.status.as_u16(),
                    &String::from_utf8_lossy(&body),
                )
            };
            if let Err(e) = outcome {
                tracing::warn!(error = %e, "idempotency key could not be completed");
            }
            Response::from_parts(parts, axum::body::Body::from(body))
        }
    }
}

/// The OpenAPI 3.1 document describing this API.
pub fn openapi_document() -> Value {
    let mut paths = serde_json::Map::new();
    for (method, path, summary) in ROUTES {
        let entry = paths.entry(path.to_string()).or_insert_with(|| json!({}));
        let mut op = json!({
            "summary": summary,
            "responses": {
                "200": {"description": "OK"},
                "201": {"description": "Created"},
                "401": {"description": "Not signed in", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}},
                "403": {"description": "Not allowed", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}},
                "404": {"description": "Not found", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}},
                "422": {"description": "Not valid: each problem names its field", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
            }
        });
        if method == "post" && path.contains("/events") && !path.ends_with("entered-in-error") {
            op["requestBody"] = json!({"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Event"}}}});
        }
        if path != "/api/v1/session" && path != "/api/v1/openapi.json" {
            op["security"] = json!([{"bearer": []}]);
        }
        if method == "post"
            && (path.starts_with("/api/v1/people") || path == "/api/v1/self-referrals")
        {
            op["parameters"] = json!([{
                "name": "Idempotency-Key", "in": "header", "required": false,
                "description": "Makes the write safe to retry: the same key and body replay the first answer (header Idempotent-Replayed: true) without a second event; the same key with another body is 422; a retry while the first is in flight is 409.",
                "schema": {"type": "string", "maxLength": 255}
            }]);
        }
        entry[method] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Throughcare API", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Case records of a prison substance use service. Event types and payloads: docs/events.md."},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Problem": {"type": "object", "required": ["error", "problems"], "properties": {
                    "error": {"type": "string"},
                    "problems": {"type": "array", "items": {"type": "object", "properties": {"field": {"type": "string"}, "problem": {"type": "string"}}}}}},
                "Event": {"type": "object", "required": ["type", "payload"], "properties": {
                    "type": {"type": "string", "enum": EventKind::TYPE_NAMES.to_vec()},
                    "payload": {"type": "object", "description": "The payload of the event type (docs/events.md)"},
                    "occurred_at": {"type": "string", "format": "date-time"},
                    "establishment": {"type": "string", "pattern": "^[A-Z]{3}$"},
                    "reason": {"type": "string", "description": "Corrections only: why"}}}
            }
        }
    })
}

async fn openapi() -> Response {
    Json(openapi_document()).into_response()
}
