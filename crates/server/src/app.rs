//! The application: shared state, the router, and serving.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::routing::{get, post};
use std::sync::Arc;
use throughcare_domain::calendar::Calendar;
use throughcare_domain::profile::Profile;
use throughcare_store::Store;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::{
    api, assets, care_pages, care_transfer, governance_pages, kiosk, ndtms_export, operations,
    release_pages, return_pages, survey_pages, web,
};

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The event log.
    pub store: Arc<dyn Store>,
    /// The contract profile.
    pub profile: Arc<Profile>,
    /// The profile's working-day calendar.
    pub calendar: Arc<Calendar>,
    /// Whether this instance holds demo data (shows the banner).
    pub demo: bool,
    /// Whether cookies are marked `Secure` (on unless serving plain HTTP off localhost for tests).
    pub secure_cookies: bool,
    /// This instance's metrics registry (never a global one: see [`operations`]).
    pub metrics: Arc<operations::Metrics>,
}

impl AppState {
    /// State over a store and profile.
    pub fn new(store: Arc<dyn Store>, profile: Profile, demo: bool) -> AppState {
        let calendar = profile.calendar();
        AppState {
            store,
            profile: Arc::new(profile),
            calendar: Arc::new(calendar),
            demo,
            secure_cookies: true,
            metrics: Arc::new(operations::Metrics::new()),
        }
    }

    /// A recorder over this state's store and profile.
    pub fn recorder(&self) -> crate::recording::Recorder<'_> {
        crate::recording::Recorder {
            store: self.store.as_ref(),
            profile: &self.profile,
            calendar: &self.calendar,
        }
    }

    /// The name of an establishment of the profile, or its code.
    pub fn establishment_name(&self, code: &str) -> String {
        self.profile
            .establishments
            .iter()
            .find(|e| e.code.as_str() == code)
            .map(|e| e.name.clone())
            .unwrap_or_else(|| code.to_string())
    }
}

/// The whole router: pages, API, assets, operations.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/ping", get(operations::ping))
        .route("/health", get(operations::health))
        .route("/metrics", get(operations::metrics))
        .route("/", get(web::caseload))
        .route("/sign-in", get(web::sign_in_page).post(web::sign_in))
        .route("/sign-out", post(web::sign_out))
        .route("/establishment", post(web::switch_establishment))
        .route("/referrals", get(web::referral_inbox))
        .route("/queues/assessments", get(web::assessments_queue))
        .route("/queues", get(care_pages::work_queues))
        .route("/queues/release", get(release_pages::release_queue))
        .route("/governance", get(governance_pages::dashboard))
        .route(
            "/governance/record/{form}",
            get(governance_pages::form).post(governance_pages::submit),
        )
        .route("/data-quality", get(crate::data_quality_pages::page))
        .route(
            "/submissions",
            get(crate::submission_pages::page).post(crate::submission_pages::sign_off),
        )
        .route("/submissions/new", get(crate::submission_pages::form))
        .route("/submissions/{id}/file", get(crate::submission_pages::file))
        .route(
            "/information-requests",
            get(crate::information_request_pages::list).post(crate::information_request_pages::make),
        )
        .route(
            "/information-requests/new",
            get(crate::information_request_pages::new_form),
        )
        .route(
            "/information-requests/{ref}",
            get(crate::information_request_pages::show),
        )
        .route(
            "/information-requests/{ref}/decision",
            post(crate::information_request_pages::decide),
        )
        .route(
            "/information-requests/{ref}/data.csv",
            get(crate::information_request_pages::data_csv),
        )
        .route("/ndtms/extract.csv", get(ndtms_export::extract_csv))
        .route("/ndtms/completeness", get(ndtms_export::completeness))
        .route("/people/{id}/care-transfer", get(care_transfer::summary_page))
        .route("/people/{id}/care-transfer.json", get(care_transfer::fhir))
        .route("/returns", get(return_pages::page))
        .route("/returns/download.csv", get(return_pages::download_csv))
        .route("/returns/download.xlsx", get(return_pages::download_xlsx))
        .route("/returns/drill", get(return_pages::drill))
        .route("/returns/narrative", post(return_pages::record_narrative))
        .route("/diary", get(care_pages::diary))
        .route("/diary.csv", get(care_pages::diary_csv))
        .route(
            "/group-sessions/new",
            get(care_pages::group_session_page),
        )
        .route("/group-sessions", post(care_pages::record_group_session))
        .route("/group-sessions/{id}", get(care_pages::group_session))
        .route("/people/new", get(web::register_page).post(web::register))
        .route("/people/{id}", get(web::person_page))
        .route(
            "/people/{id}/record/{form}",
            get(web::record_page).post(web::record),
        )
        .route("/surveys", get(survey_pages::surveys))
        .route("/surveys/codes", post(survey_pages::issue_satisfaction_code))
        .route(
            "/surveys/paper",
            get(survey_pages::paper_page).post(survey_pages::paper),
        )
        .route("/surveys/results", get(survey_pages::results_page))
        .route(
            "/people/{id}/survey-code",
            get(survey_pages::experience_code_page).post(survey_pages::issue_experience_code),
        )
        // The kiosk for people in prison: no staff login, nothing else reachable.
        .route("/kiosk", get(kiosk::start_page))
        .route("/kiosk/code", post(kiosk::enter_code))
        .route("/kiosk/survey", post(kiosk::answer))
        .route("/kiosk/thank-you", get(kiosk::thank_you))
        .route(
            "/kiosk/self-referral",
            get(kiosk::self_referral_page).post(kiosk::self_referral),
        )
        .route("/kiosk/self-referral/sent", get(kiosk::self_referral_sent))
        .route("/assets/{*path}", get(assets::asset))
        .merge(api::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.metrics.clone(),
            operations::record_request,
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            ),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .with_state(state)
}

/// Serves the router on a bound listener until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    axum::serve(listener, router(state)).await
}
