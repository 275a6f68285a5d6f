//! `cargo xtask`: the project's two README commands and its benchmarks.
//!
//! - `cargo xtask run [--headless]`: build and run MLOps Lab.
//! - `cargo xtask test`: check/install what the tests need, then fmt,
//!   clippy and every test.
//! - `cargo xtask bench train|serve|drift|pipeline|app|tracking`: benchmarks against
//!   their named baselines.
//!
//! Every step says what it does before doing it, and is idempotent.

mod bench_app;
mod bench_serve;
mod bench_tracking;
mod bundle;
mod desktop;
mod docker;
mod python;
mod sh;
mod statics;
#[cfg(test)]
mod tidy;
mod ui;
mod wrk;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

use crate::sh::{cargo, step};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Run, test and benchmark MLOps Lab")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build and run MLOps Lab.
    Run {
        /// Run the pipeline in the terminal, without a window.
        #[arg(long)]
        headless: bool,
    },
    /// Set up what the tests need, then run fmt, clippy and every test.
    Test {
        /// Extra arguments for `cargo test` (after `--`), e.g. a test name.
        #[arg(last = true)]
        cargo_args: Vec<String>,
    },
    /// Build the desktop app as a .deb, with the CLI and the static model
    /// server and gateway inside (target/release/bundle/deb/).
    Bundle {
        /// Bundle the dev build instead of a release build (faster).
        #[arg(long)]
        debug: bool,
    },
    /// Benchmarks, each beside its baseline, reported as ratios.
    Bench {
        #[command(subcommand)]
        which: Bench,
    },
}

#[derive(Subcommand, Clone, Copy)]
enum Bench {
    /// Desktop app: cold start to first paint and RSS of its process tree.
    App {
        /// Measured launches (after one unmeasured first launch).
        #[arg(long, default_value_t = 5)]
        repeat: usize,
    },
    /// Model server vs FastAPI + uvicorn + scikit-learn, with wrk.
    Serve {
        /// Seconds of load per server.
        #[arg(long, default_value_t = 15)]
        seconds: u64,
        /// Concurrent connections.
        #[arg(long, default_value_t = 32)]
        connections: u32,
    },
    /// Drift report on 1,000,000 × 11 synthetic wine rows vs Evidently's DataDriftPreset.
    Drift {
        /// Rows in the reference and in the current data (each).
        #[arg(long, default_value_t = 1_000_000)]
        rows: usize,
        /// Timed repetitions per side.
        #[arg(long, default_value_t = 3)]
        repeat: usize,
    },
    /// Wall time of `mlops-lab pipeline run` (release build, warm caches).
    Pipeline {
        /// Timed runs (the first, unmeasured warm-up run builds the caches).
        #[arg(long, default_value_t = 3)]
        repeat: usize,
    },
    /// MLflow tracking server vs the real `mlflow server`: MLflow's client
    /// logging 100 runs, and wrk on runs/log-metric and runs/search.
    Tracking {
        /// Seconds of load per wrk run.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Concurrent connections.
        #[arg(long, default_value_t = 8)]
        connections: u32,
    },
    /// Train + evaluate logistic regression on red wine vs scikit-learn.
    Train {
        /// Timed repetitions per side.
        #[arg(long, default_value_t = 50)]
        repeat: usize,
    },
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    sh::enter_workspace_root()?;
    match cli.command {
        Command::Run { headless } => run(headless),
        Command::Test { cargo_args } => test(&cargo_args),
        Command::Bundle { debug } => bundle::build(debug).map(|deb| {
            println!(
                "\n{}\ninstall it with `sudo apt install ./{}` (see the README's workshop section)",
                deb.display(),
                deb.file_name().unwrap_or_default().to_string_lossy()
            )
        }),
        Command::Bench { which } => match which {
            Bench::Train { repeat } => bench_train(repeat),
            Bench::App { repeat } => bench_app::run(repeat),
            Bench::Drift { rows, repeat } => bench_drift(rows, repeat),
            Bench::Pipeline { repeat } => bench_pipeline(repeat),
            Bench::Serve {
                seconds,
                connections,
            } => bench_serve::run(seconds, connections),
            Bench::Tracking {
                seconds,
                connections,
            } => bench_tracking::run(seconds, connections),
        },
    }
}

fn run(headless: bool) -> Result<()> {
    let display = std::env::var_os("DISPLAY").is_some_and(|d| !d.is_empty())
        || std::env::var_os("WAYLAND_DISPLAY").is_some_and(|d| !d.is_empty());
    if !headless && !display {
        println!(
            "note: no display (DISPLAY / WAYLAND_DISPLAY unset), so no window can open; running the headless pipeline instead."
        );
    }
    step("the static model server and gateway that deploys use");
    statics::ensure()?;
    step("a Docker daemon for the model containers");
    if let Err(e) = docker::ensure_daemon() {
        println!(
            "      note: {e:#}\n      the pipeline will run the model server as a local process instead"
        );
    }
    if !headless && display {
        step("WebKitGTK for the desktop app");
        desktop::ensure_packages()?;
        step("build and open the desktop app (cargo run -p mlops-lab-app)");
        return cargo(&["run", "--quiet", "-p", "mlops-lab-app"]);
    }
    step(
        "build and run `mlops-lab pipeline run`: Data → Train → Validate → Package → Deploy → Monitor → Retrain on the auto-mpg drift scenario",
    );
    println!(
        "      lab home: $MLOPS_LAB_HOME, or your platform data folder; re-running adds new runs and versions behind the same endpoint"
    );
    cargo(&[
        "run",
        "--quiet",
        "-p",
        "lab-cli",
        "--bin",
        "mlops-lab",
        "--",
        "pipeline",
        "run",
    ])
}

fn test(extra: &[String]) -> Result<()> {
    step("check the Rust toolchain has rustfmt and clippy");
    for (tool, component) in [("fmt", "rustfmt"), ("clippy", "clippy")] {
        if sh::quiet(sh::cargo_cmd(&[tool, "--version"])).is_err() {
            step(&format!("install the {component} component with rustup"));
            sh::run(std::process::Command::new("rustup").args(["component", "add", component]))
                .with_context(|| format!("cargo {tool} is missing and rustup could not add it"))?;
        }
    }
    step("a Docker daemon for the deploy tests (real containers)");
    docker::ensure_daemon()?;
    step("the static model server and gateway that deploys use");
    let statics = statics::ensure()?;
    step(
        "the reference clients in a Python venv (tritonclient, prometheus_client, hadolint, SciPy, MLflow's client, kubernetes-validate, KServe's SDK, kfp)",
    );
    let venv = python::ensure_venv(python::TESTS)?;
    python::ensure_no_deps(&venv, python::KSERVE_SDK, python::KSERVE_DIR)?;
    // The tests find the clients through MLOPS_LAB_VENV.
    let venv_dir = venv.dir.display().to_string();
    step(
        "the desktop app's build and end-to-end test needs: WebKitGTK, WebKitWebDriver, Xvfb, tauri-driver",
    );
    desktop::ensure_packages()?;
    let driver = desktop::ensure_tauri_driver()?;
    step("cargo fmt --check: formatting");
    cargo(&["fmt", "--all", "--", "--check"]).context("run `cargo fmt --all` to fix formatting")?;
    ui::check()?;
    step("cargo clippy: lints, warnings are errors");
    cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--quiet",
        "--",
        "-D",
        "warnings",
    ])?;
    step("the app's .deb (dev build), which a test installs and deploys from without cargo");
    let deb = bundle::build(true)?;
    step(
        "cargo test --workspace: unit, integration and end-to-end tests (real SQLite files, real datasets, the real CLI binary, real containers and reference clients)",
    );
    // --no-fail-fast: one red test binary must not hide the others.
    let mut args = vec!["test", "--workspace", "--no-fail-fast"];
    if !extra.is_empty() {
        args.push("--");
        args.extend(extra.iter().map(String::as_str));
    }
    sh::run(
        sh::cargo_cmd(&args)
            .env("MLOPS_LAB_VENV", &venv_dir)
            .env("MLOPS_LAB_TAURI_DRIVER", &driver)
            .env("MLOPS_LAB_DEB", &deb)
            // This tree's static binaries, whatever another checkout put in
            // the shared cache.
            .env("MLOPS_LAB_SERVE_BIN", statics.join("lab-serve"))
            .env("MLOPS_LAB_GATEWAY_BIN", statics.join("lab-gateway"))
            .env("MLOPS_LAB_STEPS_BIN", statics.join("mlops-lab")),
    )?;
    println!("\nall checks passed");
    Ok(())
}

fn bench_train(repeat: usize) -> Result<()> {
    if repeat == 0 {
        bail!("--repeat must be at least 1");
    }
    let venv = python::ensure_venv(python::BENCH)?;
    let n = repeat.to_string();
    step(&format!(
        "build (release) and time MLOps Lab (crates/lab-train/examples/bench_train.rs): split + scale + fit + metrics, {repeat} runs"
    ));
    let ours = sh::json(sh::cargo_cmd(&[
        "run",
        "--release",
        "-p",
        "lab-train",
        "--example",
        "bench_train",
        "--",
        &n,
    ]))?;
    step(&format!(
        "time scikit-learn on the same split (bench/train_sklearn.py), {repeat} runs"
    ));
    let mut baseline = venv.python(&["bench/train_sklearn.py", &n]);
    // Some machines set these to work around old OpenBLAS bugs; they slow a
    // current numpy, so the baseline runs without them.
    baseline
        .env_remove("OPENBLAS_CORETYPE")
        .env_remove("OPENBLAS_L2_SIZE");
    let theirs = sh::json(baseline)?;
    let (a, b) = (ms(&ours)?, ms(&theirs)?);
    println!(
        "\nbench train: logistic regression on wine-quality-red (1199 train / 400 test rows), median of {repeat}"
    );
    for v in [&ours, &theirs] {
        println!(
            "  {:<28} median {:>8.3} ms   min {:>8.3} ms   accuracy {:.4}",
            v["impl"].as_str().unwrap_or("?"),
            v["median_ms"].as_f64().unwrap_or(f64::NAN),
            v["min_ms"].as_f64().unwrap_or(f64::NAN),
            v["accuracy"].as_f64().unwrap_or(f64::NAN)
        );
    }
    println!(
        "  ratio: MLOps Lab takes {:.3}× scikit-learn's time ({:.1}× faster); target: no slower (≤ 1.0×) → {}",
        a / b,
        b / a,
        if a <= b { "met" } else { "NOT met" }
    );
    Ok(())
}

fn bench_drift(rows: usize, repeat: usize) -> Result<()> {
    if repeat == 0 || rows < 10 {
        bail!("--repeat must be at least 1 and --rows at least 10");
    }
    let data_venv = python::ensure_venv(python::BENCH)?;
    let venv = python::ensure_venv(python::DRIFT)?;
    let dir = python::cache_dir()?.join(format!("bench-drift-{rows}"));
    if !dir.join("current.f64").is_file() {
        step(&format!(
            "synthesise {rows} × 11 reference and current rows from red wine (bench/drift_data.py) into {}",
            dir.display()
        ));
        sh::json(data_venv.python(&[
            "bench/drift_data.py",
            &rows.to_string(),
            &dir.display().to_string(),
        ]))?;
    }
    let d = dir.display().to_string();
    let n = repeat.to_string();
    step("build (release) and time MLOps Lab (crates/lab-monitor/examples/bench_drift.rs)");
    let ours = sh::json(sh::cargo_cmd(&[
        "run",
        "--release",
        "-p",
        "lab-monitor",
        "--example",
        "bench_drift",
        "--",
        &d,
        &n,
    ]))?;
    step("time Evidently's DataDriftPreset on the same data (bench/drift_evidently.py)");
    let theirs = sh::json(venv.python(&["bench/drift_evidently.py", &d, &n]))?;
    let secs = |v: &serde_json::Value| v["median_s"].as_f64().unwrap_or(f64::NAN);
    let (a, b) = (secs(&ours), secs(&theirs));
    println!(
        "\nbench drift: {rows} reference + {rows} current rows × 11 numeric features, median of {repeat}"
    );
    for v in [&ours, &theirs] {
        println!(
            "  {:<40} median {:>8.3} s   min {:>8.3} s   drift share {:.3}   drifted {}",
            v["impl"].as_str().unwrap_or("?"),
            secs(v),
            v["min_s"].as_f64().unwrap_or(f64::NAN),
            v["share"].as_f64().unwrap_or(f64::NAN),
            v["drifted"]
        );
    }
    let same = ours["drifted"] == theirs["drifted"];
    let max_diff = ours["scores"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(c, v)| Some((v.as_f64()? - theirs["scores"][c].as_f64()?).abs()))
        .fold(0.0f64, f64::max);
    println!("  largest difference in a column's normalised Wasserstein score: {max_diff:.2e}");
    println!(
        "  same drifted columns: {}",
        if same { "yes" } else { "NO" }
    );
    println!(
        "  ratio: MLOps Lab takes {:.3}× Evidently's time ({:.1}× faster); targets: ≥ 10× faster → {}, under 1 s → {}",
        a / b,
        b / a,
        if b / a >= 10.0 { "met" } else { "NOT met" },
        if a < 1.0 { "met" } else { "NOT met" }
    );
    Ok(())
}

fn bench_pipeline(repeat: usize) -> Result<()> {
    if repeat == 0 {
        bail!("--repeat must be at least 1");
    }
    docker::ensure_daemon()?;
    statics::ensure()?;
    step("build mlops-lab (release)");
    sh::cargo(&[
        "build",
        "--release",
        "--quiet",
        "-p",
        "lab-cli",
        "--bin",
        "mlops-lab",
    ])?;
    let bin = sh::release_binary("mlops-lab");
    let home = python::cache_dir()?.join("bench-pipeline-home");
    let _ = std::fs::remove_dir_all(&home);
    let run = || -> Result<serde_json::Value> {
        let mut c = std::process::Command::new(&bin);
        c.args(["pipeline", "run", "--json"])
            .env("MLOPS_LAB_HOME", &home);
        sh::json(c)
    };
    step("warm-up run (static server build and image layers cached)");
    run()?;
    let mut times = vec![];
    for i in 0..repeat {
        let t = std::time::Instant::now();
        let s = run()?;
        let secs = t.elapsed().as_secs_f64();
        println!(
            "  run {}: {secs:.2} s wall; stages {}; drift {}, retrain {}",
            i + 1,
            s["timings"]
                .as_array()
                .map(|a| a
                    .iter()
                    .map(|t| format!(
                        "{} {:.2}s",
                        t["stage"].as_str().unwrap_or("?"),
                        t["millis"].as_f64().unwrap_or(0.0) / 1000.0
                    ))
                    .collect::<Vec<_>>()
                    .join(", "))
                .unwrap_or_default(),
            s["dataset_drift"],
            s["retrain"]["decision"].as_str().unwrap_or("none")
        );
        times.push(secs);
    }
    // Leave nothing of the bench home behind: `reset` stops its gateway and
    // removes its containers and images (this home's only).
    let mut reset = std::process::Command::new(&bin);
    reset.args(["reset", "--yes"]).env("MLOPS_LAB_HOME", &home);
    let _ = sh::quiet(reset);
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!(
        "\nbench pipeline: `mlops-lab pipeline run` (auto-mpg-drift, Docker), median {median:.2} s of {repeat}; target ≤ 60 s → {}",
        if median <= 60.0 { "met" } else { "NOT met" }
    );
    Ok(())
}

fn ms(v: &serde_json::Value) -> Result<f64> {
    v["median_ms"]
        .as_f64()
        .with_context(|| format!("benchmark output without median_ms: {v}"))
}
