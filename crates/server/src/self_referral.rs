//! Self-referrals (S4 §2): from the kiosk page (by application) and from the
//! in-cell telephone system (`POST /api/v1/self-referrals`, its service account
//! only). Either way the referral is recorded the way a worker records one — a
//! `referral_made` on the person's record through [`crate::recording`], so it
//! starts the first-assessment clock and shows in the referral inbox — after
//! registering a prison number the service does not know yet
//! ([`throughcare_domain::self_referrals`] holds what is checked and the note).
//!
//! The answer is the same whether the prison number was known or not: nothing
//! here tells the sender whether someone is known to the service.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use throughcare_domain::access::Author;
use throughcare_domain::decide::Command;
use throughcare_domain::events::EventKind;
use throughcare_domain::identifiers::EstablishmentCode;
use throughcare_domain::record_ids::{EventId, IdSource, RandomIds};
use throughcare_domain::referrals::ReferralSource;
use throughcare_domain::self_referrals::SelfReferral;
use throughcare_domain::time::local_date;
use throughcare_store::{AccessEntry, FeedRecord};

use crate::api;
use crate::app::AppState;
use crate::auth::ApiCaller;
use crate::policy;
use crate::recording::{RecordError, Recorder};

/// Records a self-referral received at `now` from `source`: registers the person
/// when their prison number is new, then records the referral on their record at
/// `establishment`, `recorded_by` the kiosk or the service account. Returns the
/// referral's event id (`None` when `feed` shows it was recorded before, or when
/// the prison number's record is held at another establishment: then nothing is
/// recorded).
#[allow(clippy::too_many_arguments)]
pub fn record(
    recorder: &Recorder<'_>,
    by: &Author,
    establishment: &EstablishmentCode,
    source: ReferralSource,
    given: &SelfReferral,
    now: DateTime<Utc>,
    ids: &mut dyn IdSource,
    feed: Option<&FeedRecord>,
) -> Result<Option<EventId>, RecordError> {
    let today = local_date(now);
    given.check(today)?;
    let store = recorder.store;
    let on_record = |person| -> Result<_, RecordError> {
        let (case, _) = crate::recording::load_case(store, person)?;
        let held = case.establishment().cloned();
        Ok((case.person, case.details, held))
    };
    let (person, on_record) = match store.find_prison_number(&given.prison_number)? {
        Some(person) => {
            let (person, details, held) = on_record(person)?;
            // A referral never changes who may see a record: only custody does. A
            // person held (or last held) elsewhere gets nothing recorded here, and
            // the sender the same answer as for a number new to the service. The
            // refusal is in the access audit (no personal data in the logs).
            if held.as_ref() != Some(establishment) {
                store.record_access(&AccessEntry {
                    at: now,
                    username: by.username.to_string(),
                    person: Some(person),
                    action: "self-referral-not-held-here".into(),
                    detail: source.code().into(),
                })?;
                return Ok(None);
            }
            (person, details)
        }
        None => match recorder.register(by, establishment, given.registration(), now, ids, None) {
            Ok((person, _)) => (person, None),
            // Registered meanwhile by someone else: refer that record.
            Err(e) => match store.find_prison_number(&given.prison_number)? {
                Some(person) => {
                    let (person, details, _) = on_record(person)?;
                    (person, details)
                }
                None => return Err(e),
            },
        },
    };
    if on_record.is_some() {
        // Who changed which record (KM 4.27): the kiosk or the telephone system
        // wrote to this person's record.
        store.record_access(&AccessEntry {
            at: now,
            username: by.username.to_string(),
            person: Some(person),
            action: "self-referral".into(),
            detail: source.code().into(),
        })?;
    }
    let referral = given.referral(source, today, on_record.as_ref());
    let events = recorder.record(
        by,
        establishment,
        person,
        // It happened when it was sent (not at midday of the day, as a referral
        // dated by a worker is).
        Command::Record {
            occurred_at: Some(now),
            recorded_at: None,
            kind: EventKind::ReferralMade(referral),
        },
        now,
        ids,
        feed,
    )?;
    Ok(events.first().map(|e| e.id))
}

/// POST /api/v1/self-referrals: the in-cell telephone system posts a self-referral
/// (S4 §2) as JSON: `prison_number`, `given_name`, `family_name`,
/// `date_of_birth`, optionally `help` and `establishment` (the session's by
/// default). Only a self-referral service account may; an `Idempotency-Key`
/// makes a retry safe.
pub async fn api_post(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    headers: HeaderMap,
    uri: Uri,
    bytes: Bytes,
) -> Response {
    let mut fields = match api::object(&bytes) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let establishment = match fields.remove("establishment") {
        None | Some(Value::Null) => None,
        Some(Value::String(code)) => match EstablishmentCode::parse(&code) {
            Ok(c) => Some(c),
            Err(e) => {
                return api::problem(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "the request is not valid",
                    vec![("establishment".into(), e.to_string())],
                );
            }
        },
        Some(_) => {
            return api::problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                "the request is not valid",
                vec![(
                    "establishment".into(),
                    "give an establishment code like MDI".into(),
                )],
            );
        }
    };
    let access = match policy::self_referral_service(&caller, establishment.as_ref()) {
        Ok(a) => a,
        Err(d) => return api::denied(d),
    };
    let given: SelfReferral = match api::member(Value::Object(fields), "") {
        Ok(g) => g,
        Err(r) => return r,
    };
    api::idempotent(
        &state,
        &caller,
        &headers,
        uri.path(),
        &bytes,
        |feed| match record(
            &state.recorder(),
            &caller.author(),
            access.establishment(),
            ReferralSource::SelfReferralInCellTelephone,
            &given,
            Utc::now(),
            &mut RandomIds,
            feed,
        ) {
            // The same answer whether the number was new, held here or held
            // elsewhere (when nothing was recorded): no referral id is given back.
            Ok(_) => (
                StatusCode::CREATED,
                Json(json!({
                    "received": true,
                    "establishment": access.establishment(),
                    "referred_on": local_date(Utc::now()),
                })),
            )
                .into_response(),
            Err(e) => api::record_error(e),
        },
    )
    .await
}
