//! `lab-serve`: serve one model artifact.
//!
//! ```text
//! lab-serve serve --model model.json [--name NAME] [--version V] [--host H] [--port P]
//!                 [--max-batch N] [--max-body-bytes N] [--workers N]
//! lab-serve healthcheck [--port P]
//! ```
//! Every flag can also come from the environment (`LAB_SERVE_MODEL`,
//! `LAB_SERVE_NAME`, `LAB_SERVE_VERSION`, `LAB_SERVE_HOST`, `LAB_SERVE_PORT`,
//! `LAB_SERVE_MAX_BATCH`, `LAB_SERVE_MAX_BODY_BYTES`, `LAB_SERVE_WORKERS`;
//! workers default to the CPUs available). Prediction log lines go
//! to stdout, server logs to stderr. SIGTERM or Ctrl-C stops accepting
//! connections, lets requests in flight finish, flushes the log and exits 0.
//!
//! Arguments are parsed with lexopt (a few KB, no dependencies): the
//! binary ships in a `FROM scratch` image and stays small.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

use lab_model::ModelArtifact;
use lab_serve::{AppState, PredLog, ServerConfig};

const USAGE: &str = "usage:
  lab-serve serve --model FILE [--name NAME] [--version V] [--host HOST] [--port PORT]
                  [--max-batch N] [--max-body-bytes N] [--workers N]
  lab-serve healthcheck [--host HOST] [--port PORT]
flags may also be set as LAB_SERVE_<FLAG> environment variables (e.g. LAB_SERVE_PORT)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(cmd) = args.first().map(String::as_str) else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let flags = match parse_flags(&args[1..]) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match cmd {
        "serve" => match serve(&flags) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
        "healthcheck" => healthcheck(&flags),
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        "-V" | "--version" => {
            println!("lab-serve {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        other => {
            eprintln!("error: unknown command `{other}`\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

const FLAGS: &[&str] = &[
    "model",
    "name",
    "version",
    "host",
    "port",
    "max-batch",
    "max-body-bytes",
    "workers",
];

/// `--flag value` or `--flag=value`, parsed with lexopt: an unknown flag
/// or a stray argument is an error.
fn parse_flags(args: &[String]) -> Result<HashMap<String, String>, String> {
    use lexopt::prelude::*;
    let mut out = HashMap::new();
    let mut parser = lexopt::Parser::from_args(args.iter().cloned());
    while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
        match arg {
            Long(name) => {
                let name = name.to_string();
                if !FLAGS.contains(&name.as_str()) {
                    return Err(format!("unknown flag --{name}"));
                }
                let value = parser
                    .value()
                    .map_err(|e| e.to_string())?
                    .into_string()
                    .map_err(|_| format!("--{name} is not valid UTF-8"))?;
                out.insert(name, value);
            }
            other => return Err(other.unexpected().to_string()),
        }
    }
    Ok(out)
}

/// A flag, else its environment variable, else `default`.
fn flag(flags: &HashMap<String, String>, name: &str, default: Option<&str>) -> Option<String> {
    flags
        .get(name)
        .cloned()
        .or_else(|| {
            std::env::var(format!(
                "LAB_SERVE_{}",
                name.to_uppercase().replace('-', "_")
            ))
            .ok()
        })
        .filter(|v| !v.is_empty())
        .or_else(|| default.map(str::to_string))
}

fn number<T: std::str::FromStr>(
    flags: &HashMap<String, String>,
    name: &str,
    default: &str,
) -> Result<T, String> {
    let raw = flag(flags, name, Some(default)).unwrap_or_default();
    raw.parse::<T>()
        .map_err(|_| format!("--{name} `{raw}` is not a valid number"))
}

fn serve(flags: &HashMap<String, String>) -> Result<(), String> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("LAB_SERVE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let model =
        flag(flags, "model", None).ok_or("--model FILE is required (or LAB_SERVE_MODEL)")?;
    let artifact = ModelArtifact::load(std::path::Path::new(&model)).map_err(|e| e.to_string())?;
    let name = flag(flags, "name", Some("model")).unwrap_or_default();
    let version = flag(flags, "version", Some("1")).unwrap_or_default();
    // Loopback unless told otherwise: the image sets LAB_SERVE_HOST=0.0.0.0
    // itself, since Docker's published port reaches the container's own
    // interface.
    let host = flag(flags, "host", Some("127.0.0.1")).unwrap_or_default();
    let port: u16 = number(flags, "port", "8080")?;
    let mut config = ServerConfig::new(name, version);
    config.max_batch = number(
        flags,
        "max-batch",
        &ServerConfig::DEFAULT_MAX_BATCH.to_string(),
    )?;
    config.max_body_bytes = number(
        flags,
        "max-body-bytes",
        &ServerConfig::DEFAULT_MAX_BODY_BYTES.to_string(),
    )?;
    if config.max_batch == 0 || config.max_body_bytes == 0 {
        return Err("--max-batch and --max-body-bytes must be at least 1".into());
    }

    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers: usize = number(flags, "workers", &cpus.to_string())?;
    if workers == 0 {
        return Err("--workers must be at least 1".into());
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    rt.block_on(async move {
        let addr = format!("{host}:{port}");
        let listener = tokio::net::TcpListener::bind(&addr).await.map_err(|e| {
            if e.kind() == std::io::ErrorKind::AddrInUse {
                format!("port {port} is already in use: stop what uses it or pass --port")
            } else {
                format!("cannot listen on {addr}: {e}")
            }
        })?;
        let log = PredLog::stdout();
        tracing::info!(
            model = %config.model_name,
            version = %config.model_version,
            kind = artifact.model_kind.as_str(),
            instance = log.instance(),
            workers,
            "serving on http://{addr} (OIP v2: /v2, MLflow: /invocations, metrics: /metrics)"
        );
        let state = AppState::new(artifact, config, log);
        lab_serve::serve(listener, state, shutdown_signal())
            .await
            .map_err(|e| format!("server error: {e}"))?;
        tracing::info!("stopped: requests in flight finished, prediction log flushed");
        Ok(())
    })
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("install the SIGTERM handler");
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    tracing::info!("shutting down: finishing requests in flight");
}

/// `GET /v2/health/ready` over plain TCP, for Docker's HEALTHCHECK in an image
/// with no shell and no curl.
fn healthcheck(flags: &HashMap<String, String>) -> ExitCode {
    let host = flag(flags, "host", Some("127.0.0.1")).unwrap_or_default();
    let port: u16 = match number(flags, "port", "8080") {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let check = || -> Result<bool, std::io::Error> {
        let addr: SocketAddr = format!("{host}:{port}")
            .parse()
            .map_err(|e| std::io::Error::other(format!("{e}")))?;
        let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
        s.set_read_timeout(Some(Duration::from_secs(2)))?;
        s.write_all(
            format!("GET /v2/health/ready HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )?;
        let mut buf = String::new();
        s.read_to_string(&mut buf)?;
        Ok(buf.starts_with("HTTP/1.1 200") && buf.contains("\"ready\":true"))
    };
    match check() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("not ready");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("unhealthy: {e}");
            ExitCode::FAILURE
        }
    }
}
