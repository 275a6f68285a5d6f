//! Prometheus metrics (text exposition format 0.0.4) through the `metrics`
//! facade and its Prometheus exporter. Each server owns its recorder, so
//! several servers in one process (tests) never mix their counts.

use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use lab_model::{ModelArtifact, Prediction};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

use crate::{AppState, ServerConfig};

const LATENCY_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];
const VALUE_BUCKETS: &[f64] = &[
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0,
    10000.0,
];

pub struct Telemetry {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
}

impl Telemetry {
    pub fn new(artifact: &ModelArtifact, config: &ServerConfig) -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full("lab_serve_request_duration_seconds".into()),
                LATENCY_BUCKETS,
            )
            .and_then(|b| {
                b.set_buckets_for_metric(
                    Matcher::Full("lab_serve_predicted_value".into()),
                    VALUE_BUCKETS,
                )
            })
            .expect("bucket lists are non-empty")
            .build_recorder();
        let handle = recorder.handle();
        let t = Telemetry { recorder, handle };
        t.with(|| {
            metrics::describe_counter!(
                "lab_serve_requests_total",
                "HTTP requests by endpoint and status code"
            );
            metrics::describe_histogram!(
                "lab_serve_request_duration_seconds",
                metrics::Unit::Seconds,
                "HTTP request latency by endpoint"
            );
            metrics::describe_gauge!("lab_serve_requests_in_flight", "HTTP requests being served");
            metrics::describe_counter!(
                "lab_serve_predictions_total",
                "Predictions made (rows), by predicted class for classifiers"
            );
            metrics::describe_histogram!(
                "lab_serve_predicted_value",
                "Predicted values of a regression model"
            );
            metrics::describe_gauge!(
                "lab_serve_model_info",
                "The served model: name, version, kind and task (value 1)"
            );
            // Prometheus' standard process metric: a restart shows as a new
            // start time (and every counter starting again from zero).
            metrics::describe_gauge!(
                "process_start_time_seconds",
                metrics::Unit::Seconds,
                "Start time of the process since the Unix epoch"
            );
            let started = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64());
            metrics::gauge!("process_start_time_seconds").set(started);
            metrics::gauge!("lab_serve_requests_in_flight").set(0.0);
            metrics::gauge!(
                "lab_serve_model_info",
                "model" => config.model_name.clone(),
                "version" => config.model_version.clone(),
                "kind" => artifact.model_kind.as_str(),
                "task" => artifact.task.as_str()
            )
            .set(1.0);
        });
        t
    }

    fn with<T>(&self, f: impl FnOnce() -> T) -> T {
        metrics::with_local_recorder(&self.recorder, f)
    }

    pub fn predictions(&self, preds: &[Prediction]) {
        self.with(|| {
            for p in preds {
                match p {
                    Prediction::Class { label, .. } => {
                        metrics::counter!("lab_serve_predictions_total", "class" => label.clone())
                            .increment(1)
                    }
                    Prediction::Value { value } => {
                        metrics::counter!("lab_serve_predictions_total").increment(1);
                        metrics::histogram!("lab_serve_predicted_value").record(*value);
                    }
                    Prediction::Cluster { cluster } => metrics::counter!(
                        "lab_serve_predictions_total", "class" => format!("cluster-{cluster}")
                    )
                    .increment(1),
                }
            }
        })
    }

    fn request(&self, endpoint: String, code: u16, elapsed: Duration) {
        self.with(|| {
            metrics::counter!(
                "lab_serve_requests_total",
                "endpoint" => endpoint.clone(),
                "code" => code.to_string()
            )
            .increment(1);
            metrics::histogram!("lab_serve_request_duration_seconds", "endpoint" => endpoint)
                .record(elapsed.as_secs_f64());
        })
    }

    fn in_flight(&self, delta: f64) {
        self.with(|| metrics::gauge!("lab_serve_requests_in_flight").increment(delta))
    }

    pub fn render(&self) -> String {
        self.handle.run_upkeep();
        self.handle.render()
    }
}

/// Decrements the in-flight gauge even when a client goes away mid-request.
struct InFlight<'a>(&'a Telemetry);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight(-1.0);
    }
}

/// Middleware: count, time and track every request.
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let endpoint = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let request_id = crate::request_id(req.headers());
    let t = &state.0.telemetry;
    let started = Instant::now();
    t.in_flight(1.0);
    let guard = InFlight(t);
    let resp = next.run(req).await;
    drop(guard);
    let status = resp.status().as_u16();
    let elapsed = started.elapsed();
    // Failed prediction requests join the prediction log, so monitoring
    // counts errors and successes from one stream.
    if status >= 400 && (endpoint == "/invocations" || endpoint.ends_with("/infer")) {
        state
            .0
            .log
            .record_error(
                &state.0.config,
                &endpoint,
                status,
                elapsed.as_secs_f64() * 1000.0,
                request_id,
            )
            .await;
    }
    t.request(endpoint, status, elapsed);
    resp
}

pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.0.telemetry.render(),
    )
}
