//! `lab-gateway`: the stable endpoint in front of a model's containers.
//!
//! Every request is forwarded to the current upstream (a `lab-serve`
//! container or process on loopback). The admin API under `/-/gateway`
//! switches the upstream atomically and reports how many requests the old
//! one still serves, so a rollout can drain it before removing it:
//!
//! - `GET  /-/gateway`          → `{"upstream", "requests", "errors", "retired": [{"upstream", "in_flight"}]}`
//! - `PUT  /-/gateway/upstream` ← `{"upstream": "http://127.0.0.1:PORT"}`
//!
//! Usage: `lab-gateway --listen 127.0.0.1:PORT --upstream http://127.0.0.1:PORT`.
//! It binds loopback only and stops gracefully on SIGTERM or Ctrl-C.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use axum::Json;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;
use serde_json::json;

struct Upstream {
    url: String,
    authority: String,
}

struct Gateway {
    current: RwLock<Arc<Upstream>>,
    /// Upstreams switched away from; each `Arc`'s extra references are the
    /// requests it is still serving.
    retired: RwLock<Vec<Arc<Upstream>>>,
    client: Client<HttpConnector, Body>,
    requests: AtomicU64,
    errors: AtomicU64,
}

type Shared = Arc<Gateway>;

fn upstream(url: &str) -> Result<Upstream, String> {
    let authority = url
        .strip_prefix("http://")
        .map(|r| r.trim_end_matches('/'))
        .filter(|a| !a.is_empty() && !a.contains('/'))
        .ok_or_else(|| format!("upstream `{url}` must look like http://127.0.0.1:PORT"))?;
    let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    if host != "127.0.0.1" && host != "localhost" && host != "[::1]" {
        return Err(format!(
            "upstream `{url}` is not on loopback: the gateway only forwards to this machine"
        ));
    }
    Ok(Upstream {
        url: url.trim_end_matches('/').to_string(),
        authority: authority.to_string(),
    })
}

fn error(status: StatusCode, code: &str, message: String) -> Response {
    (
        status,
        Json(json!({"code": code, "message": message, "error": message})),
    )
        .into_response()
}

async fn forward(State(g): State<Shared>, mut req: Request) -> Response {
    g.requests.fetch_add(1, Ordering::Relaxed);
    // Held for the whole request: the drain count.
    let up = g.current.read().expect("gateway lock").clone();
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let uri: Uri = match format!("http://{}{path}", up.authority).parse() {
        Ok(u) => u,
        Err(e) => {
            g.errors.fetch_add(1, Ordering::Relaxed);
            return error(
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!("bad path: {e}"),
            );
        }
    };
    *req.uri_mut() = uri;
    match g.client.request(req).await {
        Ok(resp) => {
            let (mut parts, body) = resp.into_parts();
            if let Ok(v) = HeaderValue::from_str(&up.url) {
                parts.headers.insert("x-mlops-lab-upstream", v);
            }
            Response::from_parts(parts, Body::new(body))
        }
        Err(e) => {
            g.errors.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(upstream = %up.url, "upstream failed: {e}");
            error(
                StatusCode::BAD_GATEWAY,
                "upstream_unavailable",
                format!(
                    "the model server at {} did not answer ({e}); see `mlops-lab services` and `mlops-lab deployments list`",
                    up.url
                ),
            )
        }
    }
}

async fn status(State(g): State<Shared>) -> impl IntoResponse {
    let current = g.current.read().expect("gateway lock").url.clone();
    let retired: Vec<_> = g
        .retired
        .read()
        .expect("gateway lock")
        .iter()
        .map(|u| json!({"upstream": u.url, "in_flight": Arc::strong_count(u) - 1}))
        .collect();
    Json(json!({
        "upstream": current,
        "requests": g.requests.load(Ordering::Relaxed),
        "errors": g.errors.load(Ordering::Relaxed),
        "retired": retired,
    }))
}

#[derive(Deserialize)]
struct Switch {
    upstream: String,
}

async fn switch(State(g): State<Shared>, body: axum::body::Bytes) -> Response {
    let s: Switch = match serde_json::from_slice(&body) {
        Ok(s) => s,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!("expected {{\"upstream\": \"http://127.0.0.1:PORT\"}}: {e}"),
            );
        }
    };
    let new = match upstream(&s.upstream) {
        Ok(u) => Arc::new(u),
        Err(m) => return error(StatusCode::BAD_REQUEST, "bad_request", m),
    };
    let old = {
        let mut cur = g.current.write().expect("gateway lock");
        std::mem::replace(&mut *cur, new.clone())
    };
    let mut retired = g.retired.write().expect("gateway lock");
    // Forget drained upstreams; keep the one just replaced.
    retired.retain(|u| Arc::strong_count(u) > 1 && u.url != new.url);
    if old.url != new.url {
        retired.push(old.clone());
    }
    tracing::info!(from = %old.url, to = %new.url, "upstream switched");
    Json(json!({"upstream": new.url, "previous": old.url})).into_response()
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    let args: Vec<String> = std::env::args().collect();
    let (Some(listen), Some(up)) = (arg(&args, "--listen"), arg(&args, "--upstream")) else {
        eprintln!("usage: lab-gateway --listen 127.0.0.1:PORT --upstream http://127.0.0.1:PORT");
        std::process::exit(2);
    };
    let up = match upstream(&up) {
        Ok(u) => u,
        Err(m) => {
            eprintln!("lab-gateway: {m}");
            std::process::exit(2);
        }
    };
    let listener = match tokio::net::TcpListener::bind(&listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!(
                "lab-gateway: cannot listen on {listen}: {e}; another process may hold the port (see `ss -ltnp`)"
            );
            std::process::exit(1);
        }
    };
    let client = Client::builder(TokioExecutor::new())
        .pool_idle_timeout(std::time::Duration::from_secs(10))
        .build_http();
    let g: Shared = Arc::new(Gateway {
        current: RwLock::new(Arc::new(up)),
        retired: RwLock::new(vec![]),
        client,
        requests: AtomicU64::new(0),
        errors: AtomicU64::new(0),
    });
    let app = axum::Router::new()
        .route("/-/gateway", get(status))
        .route("/-/gateway/upstream", put(switch))
        .fallback(forward)
        .with_state(g);
    tracing::info!("lab-gateway listening on {listen}");
    let shutdown = async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    };
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
    {
        eprintln!("lab-gateway: {e}");
        std::process::exit(1);
    }
}
