//! `cargo xtask bench tracking`: MLOps Lab's tracking server against the
//! real `mlflow server` (full MLflow 3.17.2, SQLite backend, one worker), on
//! the same machine and the same workload: the wall time of MLflow's own
//! client logging 100 runs (10 params, 50 `log_metric`, a 1000-value
//! `log_batch` each), then raw `runs/log-metric` and `runs/search` with wrk.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::python::{self, Venv};
use crate::sh::{self, step};
use crate::wrk::{self, Load, Server, free_port};

const REQUIREMENTS: &str = "bench/requirements-tracking.txt";

fn wait_healthy(port: u16, server: &mut Server, timeout: Duration) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = server.0.try_wait()? {
            bail!("the server on port {port} exited early ({status})");
        }
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::{Read, Write};
            let _ = s
                .write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
            let mut answer = String::new();
            let _ = s.read_to_string(&mut answer);
            if answer.starts_with("HTTP/1.1 200") {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            bail!("the server on port {port} never answered /health");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A wrk script: log-metric with a fresh step per request, or one search.
fn scripts(
    dir: &Path,
    run_id: &str,
    experiment_id: &str,
) -> Result<(std::path::PathBuf, std::path::PathBuf)> {
    let log = dir.join("log_metric.lua");
    std::fs::write(
        &log,
        format!(
            r#"-- one log-metric request, each with its own step
counter = 0
request = function()
  counter = counter + 1
  local body = string.format('{{"run_id":"{run_id}","key":"wrk","value":%d,"timestamp":%d,"step":%d}}', counter, 1700000000000 + counter, counter)
  return wrk.format("POST", "/api/2.0/mlflow/runs/log-metric", {{["Content-Type"]="application/json"}}, body)
end
"#
        ),
    )?;
    let search = dir.join("search.lua");
    std::fs::write(
        &search,
        format!(
            r#"-- the same runs/search each time: a filter, an order, a page of 100
wrk.method = "POST"
wrk.path = "/api/2.0/mlflow/runs/search"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{{"experiment_ids":["{experiment_id}"],"filter":"metrics.acc > 0.3 and params.p1 != \'7\'","order_by":["metrics.acc DESC"],"max_results":100}}'
"#
        ),
    )?;
    Ok((log, search))
}

struct Side {
    name: &'static str,
    script_s: f64,
    log: Load,
    search: Load,
}

fn measure(
    name: &'static str,
    venv: &Venv,
    port: u16,
    work: &Path,
    seconds: u64,
    connections: u32,
) -> Result<Side> {
    let uri = format!("http://127.0.0.1:{port}");
    step(&format!(
        "{name}: MLflow's client logs 100 runs (bench/tracking_client.py)"
    ));
    let client = sh::json({
        let mut c = venv.python(&["bench/tracking_client.py", &uri, "bench"]);
        c.env("MLFLOW_DISABLE_TELEMETRY", "true");
        c
    })?;
    let script_s = client["seconds"].as_f64().context("seconds")?;
    if client["runs"] != 100 {
        bail!(
            "{name}: the client's search found {} runs, not 100",
            client["runs"]
        );
    }
    let dir = work.join(name);
    std::fs::create_dir_all(&dir)?;
    let (log_lua, search_lua) = scripts(
        &dir,
        client["run_id"].as_str().context("run id")?,
        client["experiment_id"].as_str().context("experiment id")?,
    )?;
    step(&format!(
        "{name}: wrk runs/search ({seconds} s, {connections} connections)"
    ));
    let search = wrk::run(&search_lua, &uri, connections, seconds)?;
    step(&format!(
        "{name}: wrk runs/log-metric ({seconds} s, {connections} connections)"
    ));
    let log = wrk::run(&log_lua, &uri, connections, seconds)?;
    Ok(Side {
        name,
        script_s,
        log,
        search,
    })
}

pub fn run(seconds: u64, connections: u32) -> Result<()> {
    let venv = python::ensure_venv(REQUIREMENTS)?;
    wrk::ensure_wrk()?;
    step("build the CLI (release)");
    sh::cargo(&[
        "build",
        "--release",
        "--quiet",
        "-p",
        "lab-cli",
        "--bin",
        "mlops-lab",
    ])?;
    let work = python::cache_dir()?.join("bench-tracking");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;

    let ours_port = free_port()?;
    let home = work.join("lab-home");
    let mut ours = Server(
        Command::new(sh::release_binary("mlops-lab"))
            .arg("--home")
            .arg(&home)
            .args(["tracking-server", "--port", &ours_port.to_string()])
            .stdout(Stdio::null())
            .spawn()
            .context("start mlops-lab tracking-server")?,
    );
    wait_healthy(ours_port, &mut ours, Duration::from_secs(30))?;
    let ours_side = measure("mlops-lab", &venv, ours_port, &work, seconds, connections)?;
    drop(ours);

    let theirs_port = free_port()?;
    let mlflow_dir = work.join("mlflow");
    std::fs::create_dir_all(&mlflow_dir)?;
    step("start `mlflow server` (SQLite backend store, one worker)");
    let mut theirs = Server(
        Command::new(venv.dir.join("bin/mlflow"))
            .args([
                "server",
                "--host",
                "127.0.0.1",
                "--port",
                &theirs_port.to_string(),
                "--workers",
                "1",
            ])
            .arg("--backend-store-uri")
            .arg(format!(
                "sqlite:///{}",
                mlflow_dir.join("mlflow.db").display()
            ))
            .arg("--default-artifact-root")
            .arg(mlflow_dir.join("artifacts"))
            .arg("--no-serve-artifacts")
            .env("MLFLOW_DISABLE_TELEMETRY", "true")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("start mlflow server")?,
    );
    wait_healthy(theirs_port, &mut theirs, Duration::from_secs(120))?;
    let theirs_side = measure("mlflow", &venv, theirs_port, &work, seconds, connections)?;
    drop(theirs);

    println!(
        "\nbench tracking: MLflow's client and wrk against each server, one at a time ({connections} connections, {seconds} s per wrk run)"
    );
    println!(
        "{:<36} {:>12} {:>12} {:>10}",
        "", "mlops-lab", "mlflow", "ratio"
    );
    let row = |what: &str, a: f64, b: f64, ratio: f64, unit: &str| {
        println!("{what:<36} {a:>10.2}{unit} {b:>10.2}{unit} {ratio:>9.1}×");
    };
    let (o, t) = (&ours_side, &theirs_side);
    row(
        "client script (100 runs), s",
        o.script_s,
        t.script_s,
        t.script_s / o.script_s,
        "  ",
    );
    row(
        "runs/log-metric, requests/s",
        o.log.rps,
        t.log.rps,
        o.log.rps / t.log.rps,
        "  ",
    );
    row(
        "runs/log-metric p50, ms",
        o.log.p50_ms,
        t.log.p50_ms,
        t.log.p50_ms / o.log.p50_ms,
        "  ",
    );
    row(
        "runs/log-metric p99, ms",
        o.log.p99_ms,
        t.log.p99_ms,
        t.log.p99_ms / o.log.p99_ms,
        "  ",
    );
    row(
        "runs/search, requests/s",
        o.search.rps,
        t.search.rps,
        o.search.rps / t.search.rps,
        "  ",
    );
    row(
        "runs/search p50, ms",
        o.search.p50_ms,
        t.search.p50_ms,
        t.search.p50_ms / o.search.p50_ms,
        "  ",
    );
    row(
        "runs/search p99, ms",
        o.search.p99_ms,
        t.search.p99_ms,
        t.search.p99_ms / o.search.p99_ms,
        "  ",
    );
    for s in [o, t] {
        if s.log.errors || s.search.errors {
            println!(
                "warning: wrk saw non-2xx answers or socket errors against {}",
                s.name
            );
        }
    }
    let targets = [
        ("log-metric requests/s ≥ 10×", o.log.rps / t.log.rps >= 10.0),
        ("log-metric p99 ≤ 1/10", t.log.p99_ms / o.log.p99_ms >= 10.0),
        (
            "search requests/s ≥ 10×",
            o.search.rps / t.search.rps >= 10.0,
        ),
        (
            "search p99 ≤ 1/10",
            t.search.p99_ms / o.search.p99_ms >= 10.0,
        ),
    ];
    for (what, met) in targets {
        println!("target {what}: {}", if met { "met" } else { "NOT met" });
    }
    Ok(())
}
