//! A small HTTP load generator: requests at a fixed rate, each timed.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::http;

/// One request to send.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoadRequest {
    pub path: String,
    pub content_type: String,
    pub body: String,
    /// Sent as `X-Request-Id`.
    pub request_id: String,
}

/// What happened to one request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Outcome {
    pub request_id: String,
    /// HTTP status, or 0 when no answer came (connection refused, timeout).
    pub status: u16,
    pub latency_ms: f64,
    pub body: String,
    pub error: Option<String>,
}

/// Send `requests` to `endpoint` at `rps` per second (open loop: a slow
/// answer does not delay the next request; at most 256 in flight), calling
/// `progress(done, total)` as answers arrive. Outcomes keep request order.
/// When `stop()` turns true no further request is sent; the outcomes of the
/// ones already sent are returned (fewer than `requests`).
pub async fn run_load(
    endpoint: &str,
    requests: Vec<LoadRequest>,
    rps: f64,
    progress: &dyn Fn(usize, usize),
    stop: &dyn Fn() -> bool,
) -> Vec<Outcome> {
    let total = requests.len();
    let gap = Duration::from_secs_f64(1.0 / rps.max(0.001));
    let limit = Arc::new(tokio::sync::Semaphore::new(256));
    let done = Arc::new(AtomicUsize::new(0));
    let start = tokio::time::Instant::now();
    let mut handles = Vec::with_capacity(total);
    for (i, req) in requests.into_iter().enumerate() {
        tokio::time::sleep_until(start + gap * i as u32).await;
        if stop() {
            break;
        }
        let permit = limit.clone().acquire_owned().await.expect("semaphore open");
        let endpoint = endpoint.to_string();
        let counter = done.clone();
        handles.push(tokio::spawn(async move {
            let t = Instant::now();
            let r = http::request_with_headers(
                &endpoint,
                "POST",
                &req.path,
                Some(&req.content_type),
                &[("X-Request-Id", &req.request_id)],
                req.body.as_bytes(),
            )
            .await;
            let latency_ms = t.elapsed().as_secs_f64() * 1000.0;
            drop(permit);
            counter.fetch_add(1, Ordering::Relaxed);
            match r {
                Ok(r) => Outcome {
                    request_id: req.request_id,
                    status: r.status,
                    latency_ms,
                    body: r.body,
                    error: None,
                },
                Err(e) => Outcome {
                    request_id: req.request_id,
                    status: 0,
                    latency_ms,
                    body: String::new(),
                    error: Some(e.to_string()),
                },
            }
        }));
        progress(done.load(Ordering::Relaxed), total);
    }
    let mut out = Vec::with_capacity(total);
    for h in handles {
        match h.await {
            Ok(o) => out.push(o),
            Err(e) => out.push(Outcome {
                request_id: String::new(),
                status: 0,
                latency_ms: 0.0,
                body: String::new(),
                error: Some(format!("request task failed: {e}")),
            }),
        }
        progress(out.len().max(done.load(Ordering::Relaxed)), total);
    }
    out
}
