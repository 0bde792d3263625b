//! The application: shared state, the router, and serving.

use axum::Router;
use axum::http::{HeaderValue, header};
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

/// Runs blocking store work on the blocking pool, so one slow query does not hold
/// an async worker (and every other request queued behind it).
pub async fn off_runtime<R: Send + 'static>(
    f: impl FnOnce() -> Result<R, throughcare_store::StoreError> + Send + 'static,
) -> Result<R, crate::policy::Denied> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r.map_err(crate::policy::Denied::Store),
        Err(e) => Err(crate::policy::Denied::Store(
            throughcare_store::StoreError::Database(format!("the database work stopped: {e}")),
        )),
    }
}

/// One route: its path, the HTTP methods it answers (lower case), and its handlers.
pub type Route = (
    &'static str,
    &'static [&'static str],
    axum::routing::MethodRouter<AppState>,
);

/// Builds a list of [`Route`]s from `"path" => get(handler).post(handler)` entries:
/// the methods are read from the same tokens that build the handlers, so the list
/// of routes and methods (which the access test walks, issue 14) cannot differ
/// from what the router serves.
macro_rules! routes {
    ($($path:literal => $method:ident($handler:expr) $(. $more:ident($more_handler:expr))*),* $(,)?) => {
        vec![$(
            (
                $path,
                &[stringify!($method) $(, stringify!($more))*] as &'static [&'static str],
                axum::routing::$method($handler) $(.$more($more_handler))*,
            ),
        )*]
    };
}
pub(crate) use routes;

/// The pages, operations, kiosk and assets routes (the API's are [`api::table`]).
fn page_table() -> Vec<Route> {
    routes![
        "/ping" => get(operations::ping),
        "/health" => get(operations::health),
        "/metrics" => get(operations::metrics),
        "/" => get(web::caseload),
        "/sign-in" => get(web::sign_in_page).post(web::sign_in),
        "/sign-out" => post(web::sign_out),
        "/establishment" => post(web::switch_establishment),
        "/referrals" => get(web::referral_inbox),
        "/queues/assessments" => get(web::assessments_queue),
        "/queues" => get(care_pages::work_queues),
        "/queues/release" => get(release_pages::release_queue),
        "/governance" => get(governance_pages::dashboard),
        "/transfer-in" => get(crate::break_glass::form).post(crate::break_glass::submit),
        "/transfer-requests" => get(crate::transfer_requests::form).post(crate::transfer_requests::submit),
        "/transfer-requests/sent" => get(crate::transfer_requests::sent),
        "/governance/record/{form}" => get(governance_pages::form).post(governance_pages::submit),
        "/data-quality" => get(crate::data_quality_pages::page),
        "/submissions" => get(crate::submission_pages::page).post(crate::submission_pages::sign_off),
        "/submissions/new" => get(crate::submission_pages::form),
        "/submissions/{id}/file" => get(crate::submission_pages::file),
        "/information-requests" => get(crate::information_request_pages::list).post(crate::information_request_pages::make),
        "/information-requests/new" => get(crate::information_request_pages::new_form),
        "/information-requests/{ref}" => get(crate::information_request_pages::show),
        "/information-requests/{ref}/decision" => post(crate::information_request_pages::decide),
        "/information-requests/{ref}/data.csv" => get(crate::information_request_pages::data_csv),
        "/ndtms/extract.csv" => get(ndtms_export::extract_csv),
        "/ndtms/completeness" => get(ndtms_export::completeness),
        "/people/{id}/care-transfer" => get(care_transfer::summary_page),
        "/people/{id}/care-transfer.json" => get(care_transfer::fhir),
        "/returns" => get(return_pages::page),
        "/returns/download.csv" => get(return_pages::download_csv),
        "/returns/download.xlsx" => get(return_pages::download_xlsx),
        "/returns/drill" => get(return_pages::drill),
        "/returns/narrative" => post(return_pages::record_narrative),
        "/diary" => get(care_pages::diary),
        "/diary.csv" => get(care_pages::diary_csv),
        "/group-sessions/new" => get(care_pages::group_session_page),
        "/group-sessions" => post(care_pages::record_group_session),
        "/group-sessions/{id}" => get(care_pages::group_session),
        "/people/new" => get(web::register_page).post(web::register),
        "/people/{id}" => get(web::person_page),
        "/people/{id}/record/{form}" => get(web::record_page).post(web::record),
        "/surveys" => get(survey_pages::surveys),
        "/surveys/codes" => post(survey_pages::issue_satisfaction_code),
        "/surveys/paper" => get(survey_pages::paper_page).post(survey_pages::paper),
        "/surveys/results" => get(survey_pages::results_page),
        "/people/{id}/survey-code" => get(survey_pages::experience_code_page).post(survey_pages::issue_experience_code),
        // The kiosk for people in prison: no staff login, nothing else reachable.
        "/kiosk" => get(kiosk::start_page),
        "/kiosk/code" => post(kiosk::enter_code),
        "/kiosk/survey" => post(kiosk::answer),
        "/kiosk/thank-you" => get(kiosk::thank_you),
        "/kiosk/self-referral" => get(kiosk::self_referral_page).post(kiosk::self_referral),
        "/kiosk/self-referral/sent" => get(kiosk::self_referral_sent),
        "/assets/{*path}" => get(assets::asset),
    ]
}

/// Every route the router serves, with its methods: pages and API alike. The
/// access test (issue 14) visits each as every role.
pub fn route_table() -> Vec<(&'static str, &'static [&'static str])> {
    page_table()
        .into_iter()
        .chain(api::table())
        .map(|(path, methods, _)| (path, methods))
        .collect()
}

/// The whole router: pages, API, assets, operations.
pub fn router(state: AppState) -> Router {
    page_table()
        .into_iter()
        .chain(api::table())
        .fold(Router::new(), |router, (path, _, handlers)| {
            router.route(path, handlers)
        })
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
