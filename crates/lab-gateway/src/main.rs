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
//! Usage: `LAB_GATEWAY_TOKEN=... lab-gateway --listen 127.0.0.1:PORT --upstream http://127.0.0.1:PORT`.
//!
//! - It listens on loopback only, and stops gracefully on SIGTERM or Ctrl-C.
//! - The admin API needs `Authorization: Bearer <token>`, the token its
//!   spawner made and handed over in `LAB_GATEWAY_TOKEN`, and refuses a
//!   `Host` header that is not a loopback name (DNS rebinding).
//! - Upstreams are loopback or private-range IP addresses (a container's
//!   address on Docker's bridge), never names.
//! - A request whose upstream sends no response head within 28 s gets 504,
//!   and at most 1024 requests are forwarded at once (the admin API stays
//!   outside that limit), so a hung upstream cannot stall a drain.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

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
    authority: axum::http::uri::Authority,
    /// `x-mlops-lab-upstream`, made once rather than per request.
    header: HeaderValue,
}

struct Gateway {
    token: String,
    upstream_timeout: Duration,
    /// Forwarded requests in flight, at most `MAX_IN_FLIGHT`; the admin API
    /// is outside it, so a drain can always ask.
    in_flight: tokio::sync::Semaphore,
    current: RwLock<Arc<Upstream>>,
    /// Upstreams switched away from; each `Arc`'s extra references are the
    /// requests it is still serving.
    retired: RwLock<Vec<Arc<Upstream>>>,
    client: Client<HttpConnector, Body>,
    requests: AtomicU64,
    errors: AtomicU64,
}

type Shared = Arc<Gateway>;

/// How long an upstream may take to send its response head
/// (`--upstream-timeout-ms`): above lab-serve's own 25 s, below the lab's
/// client's 30 s, so each layer's error is the one seen.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(28);
/// Requests forwarded at once; more wait for a slot.
const MAX_IN_FLIGHT: usize = 1024;

fn upstream(url: &str) -> Result<Upstream, String> {
    let authority = url
        .strip_prefix("http://")
        .map(|r| r.trim_end_matches('/'))
        .filter(|a| !a.is_empty() && !a.contains('/'))
        .ok_or_else(|| format!("upstream `{url}` must look like http://127.0.0.1:PORT"))?;
    let addr: SocketAddr = authority
        .parse()
        .map_err(|_| format!("upstream `{url}` must be an IP address and a port"))?;
    let local = match addr.ip() {
        IpAddr::V4(ip) => ip.is_loopback() || ip.is_private(),
        IpAddr::V6(ip) => ip.is_loopback(),
    };
    if !local {
        return Err(format!(
            "upstream `{url}` is neither loopback nor a private (container bridge) address: the gateway only forwards to this machine's servers"
        ));
    }
    let url = url.trim_end_matches('/').to_string();
    Ok(Upstream {
        header: HeaderValue::from_str(&url).map_err(|e| format!("upstream `{url}`: {e}"))?,
        authority: authority
            .parse()
            .map_err(|e| format!("upstream `{url}`: {e}"))?,
        url,
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
    let Ok(_slot) = g.in_flight.acquire().await else {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting_down",
            "the gateway is stopping".into(),
        );
    };
    // Held for the whole request: the drain count.
    let up = g.current.read().expect("gateway lock").clone();
    let mut parts = axum::http::uri::Parts::default();
    parts.scheme = Some(axum::http::uri::Scheme::HTTP);
    parts.authority = Some(up.authority.clone());
    parts.path_and_query = Some(
        req.uri()
            .path_and_query()
            .cloned()
            .unwrap_or_else(|| axum::http::uri::PathAndQuery::from_static("/")),
    );
    let uri = match Uri::from_parts(parts) {
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
    let answer = match tokio::time::timeout(g.upstream_timeout, g.client.request(req)).await {
        Ok(r) => r,
        Err(_) => {
            g.errors.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(upstream = %up.url, "upstream timed out");
            return error(
                StatusCode::GATEWAY_TIMEOUT,
                "upstream_timeout",
                format!(
                    "the model server at {} did not answer within {} ms",
                    up.url,
                    g.upstream_timeout.as_millis()
                ),
            );
        }
    };
    match answer {
        Ok(resp) => {
            let (mut parts, body) = resp.into_parts();
            parts
                .headers
                .insert("x-mlops-lab-upstream", up.header.clone());
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

/// The admin API's guard: a loopback `Host` and the spawner's token.
async fn admin_guard(
    State(g): State<Shared>,
    req: Request,
    next: axum::middleware::Next,
) -> Response {
    let host = req
        .headers()
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if !loopback_host(host) {
        return error(
            StatusCode::FORBIDDEN,
            "forbidden_host",
            format!(
                "Host `{host}` is not a loopback name: the admin API answers 127.0.0.1, localhost and [::1] only"
            ),
        );
    }
    let bearer = req
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "));
    if !bearer.is_some_and(|t| constant_time_eq(t.as_bytes(), g.token.as_bytes())) {
        return error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "the admin API needs the token this gateway was started with".into(),
        );
    }
    next.run(req).await
}

/// `127.0.0.1[:port]`, `localhost[:port]`, `[::1][:port]`.
fn loopback_host(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split_once(']').map_or("", |(h, _)| h)
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    name.eq_ignore_ascii_case("localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

const USAGE: &str = "usage: LAB_GATEWAY_TOKEN=SECRET lab-gateway --listen 127.0.0.1:PORT --upstream http://127.0.0.1:PORT [--upstream-timeout-ms MS]";

/// The command line, parsed with lexopt: an unknown flag is an error.
struct Args {
    listen: String,
    upstream: String,
    upstream_timeout: Duration,
}

fn parse_args() -> Result<Args, String> {
    use lexopt::prelude::*;
    let (mut listen, mut upstream, mut timeout) = (None, None, UPSTREAM_TIMEOUT);
    let mut parser = lexopt::Parser::from_env();
    let text = |v: std::ffi::OsString, flag: &str| {
        v.into_string()
            .map_err(|_| format!("--{flag} is not valid UTF-8"))
    };
    while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
        match arg {
            Long("listen") => {
                listen = Some(text(parser.value().map_err(|e| e.to_string())?, "listen")?)
            }
            Long("upstream") => {
                upstream = Some(text(
                    parser.value().map_err(|e| e.to_string())?,
                    "upstream",
                )?)
            }
            Long("upstream-timeout-ms") => {
                let ms: u64 = parser
                    .value()
                    .map_err(|e| e.to_string())?
                    .parse()
                    .map_err(|e| format!("--upstream-timeout-ms: {e}"))?;
                if ms == 0 {
                    return Err("--upstream-timeout-ms takes a positive whole number".into());
                }
                timeout = Duration::from_millis(ms);
            }
            Short('h') | Long("help") => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            Short('V') | Long("version") => {
                println!("lab-gateway {}", env!("CARGO_PKG_VERSION"));
                std::process::exit(0);
            }
            other => return Err(other.unexpected().to_string()),
        }
    }
    Ok(Args {
        listen: listen.ok_or("--listen 127.0.0.1:PORT is required")?,
        upstream: upstream.ok_or("--upstream http://127.0.0.1:PORT is required")?,
        upstream_timeout: timeout,
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    let Args {
        listen,
        upstream: up,
        upstream_timeout,
    } = parse_args().unwrap_or_else(|e| {
        eprintln!("lab-gateway: {e}\n{USAGE}");
        std::process::exit(2);
    });
    let up = match upstream(&up) {
        Ok(u) => u,
        Err(m) => {
            eprintln!("lab-gateway: {m}");
            std::process::exit(2);
        }
    };
    if !listen
        .parse::<SocketAddr>()
        .is_ok_and(|a| a.ip().is_loopback())
    {
        eprintln!(
            "lab-gateway: --listen {listen}: listen on a loopback address and port, e.g. 127.0.0.1:8000"
        );
        std::process::exit(2);
    }
    let token = match std::env::var("LAB_GATEWAY_TOKEN") {
        Ok(t) if t.len() >= 16 => t,
        _ => {
            eprintln!(
                "lab-gateway: set LAB_GATEWAY_TOKEN to a secret of 16 characters or more: the admin API needs it"
            );
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
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client = Client::builder(TokioExecutor::new())
        .pool_idle_timeout(std::time::Duration::from_secs(10))
        .build(connector);
    let g: Shared = Arc::new(Gateway {
        token,
        upstream_timeout,
        in_flight: tokio::sync::Semaphore::new(MAX_IN_FLIGHT),
        current: RwLock::new(Arc::new(up)),
        retired: RwLock::new(vec![]),
        client,
        requests: AtomicU64::new(0),
        errors: AtomicU64::new(0),
    });
    let admin = axum::Router::new()
        .route("/-/gateway", get(status))
        .route("/-/gateway/upstream", put(switch))
        .route_layer(axum::middleware::from_fn_with_state(g.clone(), admin_guard));
    let app = admin.fallback(forward).with_state(g);
    // The address really bound (`--listen 127.0.0.1:0` picks a free port).
    match listener.local_addr() {
        Ok(addr) => tracing::info!("lab-gateway listening on http://{addr}"),
        Err(_) => tracing::info!("lab-gateway listening on {listen}"),
    }
    let shutdown = async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    };
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
    {
        eprintln!("lab-gateway: {e}");
        std::process::exit(1);
    }
}
