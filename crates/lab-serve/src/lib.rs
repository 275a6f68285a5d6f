//! The model server: one model artifact behind the protocols learners meet at
//! work.
//!
//! - KServe Open Inference Protocol v2 (`/v2/...`), JSON tensors;
//! - MLflow's scoring protocol (`/ping`, `/health`, `/invocations`);
//! - Prometheus text exposition 0.0.4 (`/metrics`);
//! - a prediction log as JSON lines on stdout, one line per prediction, so
//!   `docker logs` carries it the way production log shipping does.
//!
//! Depends on `lab-model` only among our crates: no polars, no GUI, so the
//! static binary stays small.

mod error;
mod input;
mod mlflow;
mod oip;
mod predlog;
mod telemetry;

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use lab_model::{ModelArtifact, Prediction, Value};
use tokio::net::TcpListener;

pub use error::{Protocol, ServeError};
pub use predlog::{ErrorRecord, PredLog, PredictionRecord};

/// Limits and identity of a server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub model_name: String,
    pub model_version: String,
    /// Rows per request, at most.
    pub max_batch: usize,
    /// Request body size, at most.
    pub max_body_bytes: usize,
    /// Requests handled at once; more wait for a slot (within the timeout).
    pub max_concurrency: usize,
    /// A request not answered within this (waiting for a slot included)
    /// gets 503, so a stuck request cannot hold a drain or a shutdown.
    pub request_timeout: std::time::Duration,
}

impl ServerConfig {
    pub const DEFAULT_MAX_BATCH: usize = 10_000;
    pub const DEFAULT_MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
    pub const DEFAULT_MAX_CONCURRENCY: usize = 512;
    /// Below the gateway's 28 s and the lab client's 30 s, so the server's
    /// own 503 is what a caller sees.
    pub const DEFAULT_REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(25);

    pub fn new(model_name: impl Into<String>, model_version: impl Into<String>) -> Self {
        ServerConfig {
            model_name: model_name.into(),
            model_version: model_version.into(),
            max_batch: Self::DEFAULT_MAX_BATCH,
            max_body_bytes: Self::DEFAULT_MAX_BODY_BYTES,
            max_concurrency: Self::DEFAULT_MAX_CONCURRENCY,
            request_timeout: Self::DEFAULT_REQUEST_TIMEOUT,
        }
    }
}

/// Shared state of one server.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    artifact: ModelArtifact,
    config: ServerConfig,
    telemetry: telemetry::Telemetry,
    log: PredLog,
}

impl AppState {
    pub fn new(artifact: ModelArtifact, config: ServerConfig, log: PredLog) -> Self {
        let telemetry = telemetry::Telemetry::new(&artifact, &config);
        AppState(Arc::new(Inner {
            artifact,
            config,
            telemetry,
            log,
        }))
    }

    pub fn artifact(&self) -> &ModelArtifact {
        &self.0.artifact
    }

    pub fn config(&self) -> &ServerConfig {
        &self.0.config
    }

    /// Validate the batch size, predict, count and log. The one prediction
    /// path of every protocol.
    pub(crate) async fn predict(
        &self,
        rows: Vec<Vec<Value>>,
        endpoint: &'static str,
        started: Instant,
        protocol: Protocol,
        request_id: Option<&str>,
    ) -> Result<Vec<Prediction>, ServeError> {
        let cfg = &self.0.config;
        if rows.is_empty() {
            return Err(ServeError::bad(
                protocol,
                "the batch is empty: send at least one row",
            ));
        }
        if rows.len() > cfg.max_batch {
            return Err(ServeError::bad(
                protocol,
                format!(
                    "the batch has {} rows, the limit is {}: split it into smaller requests",
                    rows.len(),
                    cfg.max_batch
                ),
            ));
        }
        let preds = self
            .0
            .artifact
            .predict_rows(&rows)
            .map_err(|e| ServeError::bad(protocol, e.to_string()))?;
        self.0.telemetry.predictions(&preds);
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        self.0
            .log
            .record(
                &self.0.artifact,
                cfg,
                predlog::Served {
                    endpoint,
                    latency_ms,
                    request_id,
                },
                &rows,
                &preds,
            )
            .await;
        Ok(preds)
    }
}

/// The caller's request id: `X-Request-Id`, if it is short printable ASCII.
pub(crate) fn request_id(headers: &axum::http::HeaderMap) -> Option<String> {
    let v = headers.get("x-request-id")?.to_str().ok()?;
    (!v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .then(|| v.to_string())
}

/// The router with every endpoint.
pub fn router(state: AppState) -> Router {
    let limit = state.config().max_body_bytes;
    let timeout = state.config().request_timeout;
    // One semaphore shared by every route (a plain ConcurrencyLimit would
    // get one per route).
    let guard = tower::ServiceBuilder::new()
        .layer(axum::error_handling::HandleErrorLayer::new(
            move |e: tower::BoxError| async move { overloaded(e, timeout) },
        ))
        .layer(tower::timeout::TimeoutLayer::new(timeout))
        .layer(tower::limit::GlobalConcurrencyLimitLayer::new(
            state.config().max_concurrency.max(1),
        ));
    Router::new()
        .route("/v2", get(oip::server_metadata))
        .route("/v2/health/live", get(oip::live))
        .route("/v2/health/ready", get(oip::ready))
        .route("/v2/models/{name}", get(oip::model_metadata))
        .route("/v2/models/{name}/ready", get(oip::model_ready))
        .route("/v2/models/{name}/infer", post(oip::infer))
        .route(
            "/v2/models/{name}/versions/{version}/infer",
            post(oip::infer_version),
        )
        .route("/ping", get(mlflow::ping))
        .route("/health", get(mlflow::ping))
        .route("/invocations", post(mlflow::invocations))
        .route("/metrics", get(telemetry::metrics))
        .fallback(oip::not_found)
        // Inside the telemetry: a timed-out request's 503 is counted too.
        .layer(guard)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            telemetry::track,
        ))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

/// A request the server gave up on: 503 with a JSON body, never a hang.
fn overloaded(e: tower::BoxError, timeout: std::time::Duration) -> axum::response::Response {
    use axum::response::IntoResponse;
    let message = if e.is::<tower::timeout::error::Elapsed>() {
        format!(
            "the server did not answer within {} s (it may be overloaded): retry later",
            timeout.as_secs()
        )
    } else {
        format!("the server could not take the request: {e}")
    };
    (
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        axum::Json(serde_json::json!({ "error": message })),
    )
        .into_response()
}

/// Serve until `shutdown` resolves; requests in flight then finish, and the
/// prediction log is flushed, before this returns.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let log = state.0.log.clone();
    // Small request/response pairs: no Nagle delay on either side.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await?;
    log.flush().await;
    Ok(())
}
