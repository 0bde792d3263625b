//! Operations: liveness (`/ping`), readiness (`/health`), Prometheus metrics
//! (`/metrics`) and the per-request log line.
//!
//! None of these needs a session, so none may reveal personal data: requests are
//! labelled by their route *template* (`/people/{id}`, never the path a person's id
//! fills in), method and status; the store gauges carry only establishment codes.
//! The metrics registry lives in [`crate::app::AppState`], never in a global, so
//! every app instance (and every test) counts for itself.

use axum::Json;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::{encode_eof, encode_registry};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use throughcare_domain::identifiers::EstablishmentCode;
use throughcare_store::{Store, StoreError};

use crate::app::AppState;

/// How long `/health` and `/metrics` wait for the database before giving up on it.
const DATABASE_WAIT: Duration = Duration::from_secs(5);

/// The route label of a request that matched no route (a 404 from the fallback):
/// its path could hold anything, so it is never used as a label.
const UNMATCHED_ROUTE: &str = "unmatched";

/// The labels of one kind of request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

/// The label of an establishment's gauges.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EstablishmentLabels {
    establishment: String,
}

type LatencyFamily = Family<RequestLabels, Histogram, fn() -> Histogram>;

/// The app's metrics: HTTP request counts and latencies, kept as requests come in.
/// The store's gauges are read at scrape time (see [`metrics`]).
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: LatencyFamily,
}

fn latency_histogram() -> Histogram {
    // 5 ms to about 10 s, doubling.
    Histogram::new(exponential_buckets(0.005, 2.0, 12))
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// A fresh registry holding the HTTP request metrics, all at zero.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("throughcare");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency: LatencyFamily = Family::new_with_constructor(latency_histogram);
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route template and status",
            requests.clone(),
        );
        registry.register_with_unit(
            "http_request_duration",
            "Time to answer an HTTP request, by method, route template and status",
            Unit::Seconds,
            latency.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
        }
    }

    /// Counts one answered request.
    fn observe(&self, labels: RequestLabels, elapsed: Duration) {
        self.latency
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
        self.requests.get_or_create(&labels).inc();
    }

    /// The exposition: the HTTP metrics, then the store gauges from `reading`.
    fn render(&self, reading: Option<&StoreReading>) -> Result<String, std::fmt::Error> {
        let mut scrape = Registry::with_prefix("throughcare");
        let up = Gauge::<i64>::default();
        up.set(i64::from(reading.is_some()));
        scrape.register(
            "database_up",
            "Whether the database answered this scrape's reads (1) or not (0)",
            up,
        );
        if let Some(reading) = reading {
            let length = Gauge::<i64>::default();
            length.set(reading.log_events);
            scrape.register(
                "log_events",
                "Events in the log (the hash chain's length)",
                length,
            );
            let due = Family::<EstablishmentLabels, Gauge>::default();
            for (code, count) in &reading.assessments_due {
                due.get_or_create(&EstablishmentLabels {
                    establishment: code.to_string(),
                })
                .set(*count);
            }
            scrape.register(
                "assessments_due",
                "Open first-assessment clocks, by establishment",
                due,
            );
        }
        let mut out = String::new();
        encode_registry(&mut out, &self.registry)?;
        encode_registry(&mut out, &scrape)?;
        encode_eof(&mut out)?;
        Ok(out)
    }
}

/// What `/metrics` reads from the store at scrape time: counts only.
struct StoreReading {
    log_events: i64,
    assessments_due: Vec<(EstablishmentCode, i64)>,
}

fn read_store(
    store: &dyn Store,
    establishments: &[EstablishmentCode],
) -> Result<StoreReading, StoreError> {
    let log_events = store.log_length()?;
    let mut assessments_due = Vec::with_capacity(establishments.len());
    for code in establishments {
        let open = store.assessments_due(code)?.len();
        assessments_due.push((code.clone(), i64::try_from(open).unwrap_or(i64::MAX)));
    }
    Ok(StoreReading {
        log_events,
        assessments_due,
    })
}

/// Runs a store read off the async workers, giving up after [`DATABASE_WAIT`]: a
/// database that hangs must not hang the health check with it.
async fn off_the_runtime<R: Send + 'static>(
    f: impl FnOnce() -> Result<R, StoreError> + Send + 'static,
) -> Result<R, String> {
    match tokio::time::timeout(DATABASE_WAIT, tokio::task::spawn_blocking(f)).await {
        Ok(Ok(Ok(r))) => Ok(r),
        Ok(Ok(Err(e))) => Err(e.to_string()),
        Ok(Err(e)) => Err(format!("the database read stopped: {e}")),
        Err(_) => Err(format!(
            "the database did not answer within {}s",
            DATABASE_WAIT.as_secs()
        )),
    }
}

/// `GET /ping`: liveness. Touches nothing, needs no session.
pub async fn ping() -> &'static str {
    "pong"
}

/// `GET /health`: readiness. 200 when the database answers a cheap read, 503 when
/// it does not. Needs no session.
pub async fn health(State(state): State<AppState>) -> Response {
    let store = state.store.clone();
    // Past the last possible sequence number: an empty answer, from the index alone.
    match off_the_runtime(move || store.events_after(i64::MAX - 1, 1)).await {
        Ok(_) => (
            StatusCode::OK,
            Json(json!({"status": "ok", "database": "reachable"})),
        )
            .into_response(),
        Err(error) => {
            // Errors of this parameterless read name the connection, not anyone's data.
            tracing::warn!(%error, "health check: the database did not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable", "database": "unreachable"})),
            )
                .into_response()
        }
    }
}

/// `GET /metrics`: the OpenMetrics text exposition (which Prometheus reads). Needs
/// no session: it holds route templates, counts and establishment codes only.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let store = state.store.clone();
    let establishments: Vec<EstablishmentCode> = state
        .profile
        .establishments
        .iter()
        .map(|e| e.code.clone())
        .collect();
    let reading = match off_the_runtime(move || read_store(store.as_ref(), &establishments)).await {
        Ok(r) => Some(r),
        Err(error) => {
            tracing::warn!(%error, "metrics: the database did not answer");
            None
        }
    };
    match state.metrics.render(reading.as_ref()) {
        Ok(body) => (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            body,
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// A method as a label: the standard ones by name, anything else as `OTHER`, so a
/// client inventing methods cannot grow the label set.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "OTHER",
    }
}

/// Middleware recording every request: counts, latency and one structured log line
/// with the method, route template, status and latency. Never the URI, query,
/// headers, cookies or body: those can name a person.
pub async fn record_request(
    State(metrics): State<Arc<Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| UNMATCHED_ROUTE.to_string());
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    tracing::info!(
        method,
        route = %route,
        status,
        latency_ms = elapsed.as_secs_f64() * 1000.0,
        "request"
    );
    metrics.observe(
        RequestLabels {
            method: method.to_string(),
            route,
            status,
        },
        elapsed,
    );
    response
}
