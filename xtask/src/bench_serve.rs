//! `cargo xtask bench serve`: our model server against the seed roadmap's
//! stack (FastAPI + uvicorn + scikit-learn), same model, same request, on
//! loopback, measured with wrk, one path at a time: the native `lab-serve`
//! process (one worker), the container on its bridge address, the container
//! through Docker's published loopback port (docker-proxy), and the
//! service's gateway in front of the container (the path `traffic` and
//! `pipeline run` use).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::python::{self, Venv};
use crate::sh::{self, step};
use crate::wrk::{Server, free_port};

fn post(venv: &Venv, url: &str, body: &str) -> Result<String> {
    let out = venv
        .python(&[
            "-c",
            "import sys, urllib.request\n\
             r = urllib.request.Request(sys.argv[1], data=sys.argv[2].encode(), headers={'Content-Type': 'application/json'})\n\
             print(urllib.request.urlopen(r, timeout=5).read().decode())",
            url,
            body,
        ])
        .output()?;
    if !out.status.success() {
        bail!(
            "POST {url} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn wait_up(venv: &Venv, url: &str, body: &str, timeout: Duration) -> Result<String> {
    let deadline = Instant::now() + timeout;
    loop {
        match post(venv, url, body) {
            Ok(r) => return Ok(r),
            Err(e) if Instant::now() > deadline => {
                return Err(e.context(format!("{url} never answered")));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

fn mlops_lab(home: &Path, args: &[&str]) -> Result<serde_json::Value> {
    let mut all = vec![
        "run",
        "--release",
        "--quiet",
        "-p",
        "lab-cli",
        "--bin",
        "mlops-lab",
        "--",
        "--home",
    ];
    let h = home.display().to_string();
    all.push(&h);
    all.extend_from_slice(args);
    all.push("--json");
    sh::json(sh::cargo_cmd(&all))
}

pub fn run(seconds: u64, connections: u32) -> Result<()> {
    let venv = python::ensure_venv(python::BENCH)?;
    crate::wrk::ensure_wrk()?;
    let bin = crate::statics::ensure()?.join("lab-serve");
    let home = python::cache_dir()?.join("bench-serve-home");
    let _ = std::fs::remove_dir_all(&home);

    step("train the model with MLOps Lab (release build): logistic regression on wine-quality-red");
    let train = mlops_lab(
        &home,
        &[
            "train",
            "--dataset",
            "wine-quality-red",
            "--model",
            "logistic-regression",
        ],
    )?;
    let run_id = train["run_id"].as_str().context("run id")?.to_string();
    mlops_lab(&home, &["models", "register", &run_id, "--name", "wine"])?;
    let artifact = home.join(train["artifact_path"].as_str().context("artifact path")?);

    step(
        "roll it out behind a service (Docker when it answers, else a local process): image size, start-to-ready, the gateway",
    );
    let rolled = mlops_lab(&home, &["rollout", "wine"])?;
    let _cleanup = Cleanup(home.clone());
    let d = &rolled["deployed"];
    let runtime = d["runtime"].as_str().unwrap_or("?").to_string();
    let image_mb = d["image_size_bytes"].as_f64().map(|b| b / 1e6);
    let ready_ms = d["start_to_ready_ms"].as_f64().unwrap_or(f64::NAN);
    let published = d["endpoint"].as_str().context("endpoint")?.to_string();
    let bridge = d["upstream"].as_str().map(str::to_string);
    let gateway = rolled["endpoint"]
        .as_str()
        .context("service endpoint")?
        .to_string();

    let body = std::fs::read_to_string("bench/post.lua")?
        .lines()
        .find_map(|l| {
            l.strip_prefix("wrk.body = '")
                .and_then(|r| r.strip_suffix('\''))
                .map(str::to_string)
        })
        .context("bench/post.lua has no wrk.body")?;

    let ours_port = free_port()?;
    step(&format!(
        "start lab-serve (static, 1 worker) on 127.0.0.1:{ours_port}"
    ));
    let _ours = Server(
        Command::new(&bin)
            .args(["serve", "--model"])
            .arg(&artifact)
            .args([
                "--name",
                "wine",
                "--host",
                "127.0.0.1",
                "--port",
                &ours_port.to_string(),
                "--workers",
                "1",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?,
    );
    let ours_url = format!("http://127.0.0.1:{ours_port}/invocations");
    let ours_answer = wait_up(&venv, &ours_url, &body, Duration::from_secs(20))?;

    let ref_port = free_port()?;
    step(&format!(
        "start the reference: uvicorn bench.serve_fastapi:app --workers 1 on 127.0.0.1:{ref_port}"
    ));
    let _reference = Server(
        venv.python(&[
            "-m",
            "uvicorn",
            "bench.serve_fastapi:app",
            "--workers",
            "1",
            "--host",
            "127.0.0.1",
            "--port",
            &ref_port.to_string(),
            "--log-level",
            "warning",
        ])
        .env_remove("OPENBLAS_CORETYPE")
        .env_remove("OPENBLAS_L2_SIZE")
        .stdout(Stdio::null())
        .spawn()?,
    );
    let ref_url = format!("http://127.0.0.1:{ref_port}/invocations");
    let ref_answer = wait_up(&venv, &ref_url, &body, Duration::from_secs(60))?;
    let parse = |s: &str| {
        serde_json::from_str::<serde_json::Value>(s)
            .ok()
            .map(|v| v["predictions"].clone())
    };
    if parse(&ours_answer) != parse(&ref_answer) {
        bail!("the two servers disagree on the benchmark row: {ours_answer} vs {ref_answer}");
    }

    step(&format!(
        "wrk -t1 -c{connections} -d{seconds}s against each path (after a 2 s warm-up), one at a time"
    ));
    let mut paths: Vec<(String, String)> =
        vec![("lab-serve, native process".into(), ours_url.clone())];
    if runtime == "docker" {
        if let Some(b) = &bridge {
            paths.push((
                "container, on its bridge IP".into(),
                format!("{b}/invocations"),
            ));
        }
        paths.push((
            "container, published port (docker-proxy)".into(),
            format!("{published}/invocations"),
        ));
        paths.push((
            format!(
                "gateway → container ({})",
                if bridge.is_some() {
                    "bridge"
                } else {
                    "published port"
                }
            ),
            format!("{gateway}/invocations"),
        ));
    } else {
        paths.push((
            "gateway → local process".into(),
            format!("{gateway}/invocations"),
        ));
    }
    for (_, url) in &paths[1..] {
        let answer = wait_up(&venv, url, &body, Duration::from_secs(20))?;
        if parse(&answer) != parse(&ref_answer) {
            bail!("{url} disagrees with the reference: {answer} vs {ref_answer}");
        }
    }
    let reference = crate::wrk::run(Path::new("bench/post.lua"), &ref_url, connections, seconds)?;
    let mut measured = vec![];
    for (name, url) in &paths {
        measured.push((
            name.clone(),
            crate::wrk::run(Path::new("bench/post.lua"), url, connections, seconds)?,
        ));
    }

    println!(
        "\nbench serve: one wine row per request, POST /invocations, {connections} connections, {seconds} s"
    );
    println!(
        "  {:<44} {:>9} {:>9} {:>9} {:>10} {:>10}",
        "", "req/s", "p50 ms", "p99 ms", "× FastAPI", "p99 ratio"
    );
    println!(
        "  {:<44} {:>9.0} {:>9.3} {:>9.3} {:>10} {:>10}",
        "FastAPI + uvicorn + scikit-learn (1 worker)",
        reference.rps,
        reference.p50_ms,
        reference.p99_ms,
        "1.0×",
        "1.000"
    );
    for (name, l) in &measured {
        println!(
            "  {:<44} {:>9.0} {:>9.3} {:>9.3} {:>9.1}× {:>10.3}",
            name,
            l.rps,
            l.p50_ms,
            l.p99_ms,
            l.rps / reference.rps,
            l.p99_ms / reference.p99_ms
        );
    }
    if let Some((name, l)) = measured.last() {
        let tp = l.rps / reference.rps;
        let p99 = l.p99_ms / reference.p99_ms;
        println!(
            "  the learner's path, {name}: {tp:.1}× FastAPI's throughput (target ≥ 20×) → {}; p99 {p99:.3}× (target ≤ 0.1×) → {}",
            if tp >= 20.0 { "met" } else { "NOT met" },
            if p99 <= 0.1 { "met" } else { "NOT met" }
        );
    }
    match image_mb {
        Some(mb) => println!(
            "  image: {mb:.2} MB (target ≤ 15 MB) → {}",
            if mb <= 15.0 { "met" } else { "NOT met" }
        ),
        None => println!("  image: none ({runtime} deployment: Docker did not answer)"),
    }
    println!(
        "  start to ready ({runtime}): {ready_ms:.0} ms (target ≤ 300 ms) → {}",
        if ready_ms <= 300.0 { "met" } else { "NOT met" }
    );
    Ok(())
}

/// Stops the bench home's service and deployment when the bench ends,
/// however it ends.
struct Cleanup(PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Ok(done) = mlops_lab(&self.0, &["reset", "--yes"]) {
            println!("      cleaned up: {done}");
        }
    }
}
