//! `cargo xtask`: the project's two README commands and its benchmarks.
//!
//! - `cargo xtask run [--headless]`: build and run MLOps Lab.
//! - `cargo xtask test`: check/install what the tests need, then fmt,
//!   clippy and every test.
//! - `cargo xtask bench train`: benchmarks against their named baselines.
//!
//! Every step says what it does before doing it, and is idempotent.

mod bench_serve;
mod docker;
mod python;
mod sh;

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
    /// Benchmarks, each beside its baseline, reported as ratios.
    Bench {
        #[command(subcommand)]
        which: Bench,
    },
}

#[derive(Subcommand, Clone, Copy)]
enum Bench {
    /// Model server vs FastAPI + uvicorn + scikit-learn, with wrk.
    Serve {
        /// Seconds of load per server.
        #[arg(long, default_value_t = 15)]
        seconds: u64,
        /// Concurrent connections.
        #[arg(long, default_value_t = 32)]
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
        Command::Bench { which } => match which {
            Bench::Train { repeat } => bench_train(repeat),
            Bench::Serve {
                seconds,
                connections,
            } => bench_serve::run(seconds, connections),
        },
    }
}

fn run(headless: bool) -> Result<()> {
    if !headless {
        println!(
            "note: the desktop app is not part of this build yet; running the headless pipeline instead."
        );
    }
    step(
        "build and run `mlops-lab pipeline run`: data → train → validate → register on the red-wine data",
    );
    println!(
        "      lab home: $MLOPS_LAB_HOME, or your platform data folder; re-running adds a new run and version"
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
    step("the reference clients in a Python venv (tritonclient, prometheus_client, hadolint)");
    let venv = python::ensure_venv(python::TESTS)?;
    // The tests find the clients through MLOPS_LAB_VENV.
    let venv_dir = venv.dir.display().to_string();
    step("cargo fmt --check: formatting");
    cargo(&["fmt", "--all", "--", "--check"]).context("run `cargo fmt --all` to fix formatting")?;
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
    step(
        "cargo test --workspace: unit, integration and end-to-end tests (real SQLite files, real datasets, the real CLI binary, real containers and reference clients)",
    );
    let mut args = vec!["test", "--workspace"];
    if !extra.is_empty() {
        args.push("--");
        args.extend(extra.iter().map(String::as_str));
    }
    sh::run(sh::cargo_cmd(&args).env("MLOPS_LAB_VENV", &venv_dir))?;
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

fn ms(v: &serde_json::Value) -> Result<f64> {
    v["median_ms"]
        .as_f64()
        .with_context(|| format!("benchmark output without median_ms: {v}"))
}
