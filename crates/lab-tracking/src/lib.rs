//! MLflow's tracking and registry REST API over the lab's store.
//!
//! A thin protocol layer: each call becomes one or two `lab_store` calls
//! (`api.rs`), MLflow's JSON comes from and goes to the store's records
//! (`json.rs`, `args.rs`), and MLflow's search grammar is evaluated on what
//! the store loads (`filter.rs`). Runs logged by MLflow's client land in the
//! same tables as the lab's own, so each side sees the other's.
//!
//! Safety: the server listens on loopback only, refuses requests whose
//! `Host` is not a loopback name (DNS rebinding), sends no CORS headers, and
//! confines every artifact path to the lab home.

mod api;
mod args;
mod error;
mod filter;
mod json;

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use lab_store::Store;

pub use api::{MAX_BATCH_METRICS, MAX_BATCH_PARAMS, MAX_BATCH_TAGS};
pub use error::ApiError;

/// The MLflow version whose REST API this server speaks (and which its
/// tests run the client of).
pub const MLFLOW_API_VERSION: &str = "3.17.2";

/// The port MLflow's own server defaults to.
pub const DEFAULT_PORT: u16 = 5000;

#[derive(Debug, thiserror::Error)]
pub enum TrackingError {
    #[error(
        "port {port} on 127.0.0.1 is in use (another MLflow server, or a tracking server already running?): stop it or pick another port with --port"
    )]
    PortInUse { port: u16 },
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Listen { port: u16, source: std::io::Error },
    #[error("the tracking server could not start: {0}")]
    Runtime(std::io::Error),
    #[error(transparent)]
    Store(#[from] lab_store::StoreError),
}

/// A running tracking server. Dropping it stops it.
pub struct TrackingServer {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Store handles for request threads: a connection is reused, not opened
/// per request.
struct Pool {
    base: Mutex<Store>,
    idle: Mutex<Vec<Store>>,
}

impl Pool {
    fn with<T>(&self, f: impl FnOnce(&Store) -> T) -> Result<T, ApiError> {
        let taken = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let store = match taken {
            Some(s) => s,
            None => self
                .base
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .connect()
                .map_err(ApiError::from)?,
        };
        let out = f(&store);
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < 16 {
            idle.push(store);
        }
        Ok(out)
    }
}

struct App {
    pool: Pool,
    cx: api::Ctx,
    /// Writes queue here, in the process, before SQLite's write lock: a
    /// writer waiting in SQLite's busy handler sleeps in steps of up to
    /// 100 ms, which made the p99 of concurrent `log-metric` calls tens of
    /// milliseconds; a mutex hands the lock over at once.
    writes: Mutex<()>,
}

impl TrackingServer {
    /// Listen on `127.0.0.1:port` (0 picks a free port) and serve in the
    /// background. A port in use is an error here, before anything runs.
    pub fn start(store: Store, port: u16) -> Result<TrackingServer, TrackingError> {
        Self::start_with(store, port, false)
    }

    /// As [`TrackingServer::start`], and also stop on Ctrl-C or SIGTERM
    /// (for a server in the foreground of a terminal).
    pub fn start_until_signal(store: Store, port: u16) -> Result<TrackingServer, TrackingError> {
        Self::start_with(store, port, true)
    }

    fn start_with(
        store: Store,
        port: u16,
        on_signal: bool,
    ) -> Result<TrackingServer, TrackingError> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AddrInUse {
                TrackingError::PortInUse { port }
            } else {
                TrackingError::Listen { port, source: e }
            }
        })?;
        listener
            .set_nonblocking(true)
            .map_err(|e| TrackingError::Listen { port, source: e })?;
        let addr = listener
            .local_addr()
            .map_err(|e| TrackingError::Listen { port, source: e })?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("lab-tracking")
            .enable_all()
            .build()
            .map_err(TrackingError::Runtime)?;
        let app = Arc::new(App {
            cx: api::Ctx {
                root: store.home().root().to_path_buf(),
            },
            pool: Pool {
                base: Mutex::new(store),
                idle: Mutex::new(Vec::new()),
            },
            writes: Mutex::new(()),
        });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("lab-tracking-server".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => l,
                        Err(e) => {
                            tracing::error!(error = %e, "tracking server: cannot use the listener");
                            return;
                        }
                    };
                    let router = axum::Router::new()
                        .fallback(move |method, uri, headers, body| {
                            dispatch(app.clone(), method, uri, headers, body)
                        })
                        .layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024));
                    let served = axum::serve(listener, router)
                        .with_graceful_shutdown(async move {
                            if on_signal {
                                tokio::select! {
                                    _ = stopped => {}
                                    _ = interrupted() => {
                                        tracing::info!("tracking server: stopping on a signal");
                                    }
                                }
                            } else {
                                let _ = stopped.await;
                            }
                        })
                        .await;
                    if let Err(e) = served {
                        tracing::error!(error = %e, "tracking server stopped");
                    }
                });
            })
            .map_err(TrackingError::Runtime)?;
        tracing::info!(%addr, "MLflow tracking server listening");
        Ok(TrackingServer {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// What `MLFLOW_TRACKING_URI` should be.
    pub fn uri(&self) -> String {
        format!("http://127.0.0.1:{}", self.addr.port())
    }

    /// Block until the server stops (it stops when told to, or on a fatal
    /// error).
    pub fn wait(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// Stop accepting, finish requests in flight, and return.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// A handle that stops the server from another thread (e.g. Ctrl-C).
    pub fn stopper(&mut self) -> Option<Stopper> {
        self.stop.take().map(Stopper)
    }
}

/// Stops a [`TrackingServer`] from elsewhere.
pub struct Stopper(tokio::sync::oneshot::Sender<()>);

impl Stopper {
    pub fn stop(self) {
        let _ = self.0.send(());
    }
}

impl Drop for TrackingServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Ctrl-C, or SIGTERM on Unix.
async fn interrupted() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// True when `Host` names this machine's loopback (with any port).
fn loopback_host(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        // `[::1]` or `[::1]:port`, nothing else after the bracket.
        match rest.split_once(']') {
            Some((ip, tail)) if tail.is_empty() || is_port(tail) => ip,
            _ => return false,
        }
    } else {
        match host.rsplit_once(':') {
            Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => h,
            _ => host,
        }
    };
    matches!(
        name.to_ascii_lowercase().as_str(),
        "localhost" | "127.0.0.1" | "::1"
    )
}

fn is_port(tail: &str) -> bool {
    tail.strip_prefix(':')
        .is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

/// True when an `Origin` header names a page served from this machine's
/// loopback. A page elsewhere must not change the lab through a browser
/// (cross-site request forgery); MLflow's client sends no `Origin`.
fn loopback_origin(origin: &str) -> bool {
    origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .is_some_and(loopback_host)
}

async fn dispatch(
    app: Arc<App>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if !loopback_host(host) {
        tracing::warn!(host, "refused a request with a non-loopback Host header");
        return (
            StatusCode::FORBIDDEN,
            "Invalid Host header - possible DNS rebinding attack detected. MLOps Lab's tracking server answers only requests for localhost or 127.0.0.1.",
        )
            .into_response();
    }
    if !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS)
        && let Some(origin) = headers.get(header::ORIGIN)
        && !origin.to_str().is_ok_and(loopback_origin)
    {
        tracing::warn!(?origin, "refused a cross-origin write");
        return (
            StatusCode::FORBIDDEN,
            "Cross-origin request blocked: MLOps Lab's tracking server takes writes only from MLflow's client or pages on this machine's loopback.",
        )
            .into_response();
    }
    let path = uri.path();
    match path {
        "/health" => return "OK".into_response(),
        "/version" => return MLFLOW_API_VERSION.into_response(),
        _ => {}
    }
    let Some(call) = path
        .strip_prefix("/api/2.0/mlflow/")
        .or_else(|| path.strip_prefix("/ajax-api/2.0/mlflow/"))
        .map(|c| c.trim_end_matches('/').to_string())
    else {
        return ApiError::endpoint_not_found(path).into_response();
    };
    let args = match args::Args::from_request(uri.query(), &body) {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let method_name = method.as_str().to_string();
    let (logged_method, logged_call) = (method_name.clone(), call.clone());
    let answer = tokio::task::spawn_blocking(move || {
        let _writing = (!api::reads_only(&method_name, &call))
            .then(|| app.writes.lock().unwrap_or_else(|p| p.into_inner()));
        app.pool
            .with(|store| api::handle(&app.cx, store, &method_name, &call, &args))
            .and_then(|r| r)
    })
    .await;
    let response = match answer {
        Ok(Ok(v)) => axum::Json(v).into_response(),
        Ok(Err(e)) => e.into_response(),
        Err(e) => ApiError {
            code: "INTERNAL_ERROR",
            message: format!("the request's worker failed: {e}"),
        }
        .into_response(),
    };
    // Every call, for a learner who wants to see what the client sends
    // (`mlops-lab -v tracking-server`).
    tracing::info!(
        status = response.status().as_u16(),
        "{logged_method} /api/2.0/mlflow/{logged_call}"
    );
    response
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_loopback_origins_write() {
        for ok in [
            "http://localhost:3000",
            "http://127.0.0.1:5000",
            "https://[::1]:8443",
        ] {
            assert!(super::loopback_origin(ok), "{ok}");
        }
        for bad in [
            "http://evil.com",
            "null",
            "http://127.0.0.1.evil.com",
            "file://",
            "tauri://localhost.evil",
        ] {
            assert!(!super::loopback_origin(bad), "{bad}");
        }
    }

    #[test]
    fn only_loopback_hosts_pass() {
        for ok in [
            "localhost",
            "localhost:5000",
            "127.0.0.1:5000",
            "[::1]:5000",
            "LOCALHOST",
        ] {
            assert!(super::loopback_host(ok), "{ok}");
        }
        for bad in [
            "[::1]evil",
            "[::1]:",
            "evil.com",
            "evil.com:5000",
            "127.0.0.1.evil.com",
            "",
            "10.0.0.1:5000",
            "localhost.evil:80",
        ] {
            assert!(!super::loopback_host(bad), "{bad}");
        }
    }
}
