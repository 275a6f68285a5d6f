//! `cargo xtask bundle`: the desktop app as a `.deb` for a workshop, with
//! the `mlops-lab` CLI, the static `lab-serve` and `lab-gateway` beside it
//! in `/usr/bin` (Tauri's `bundle.externalBin`) and the sample data in
//! `/usr/share/mlops-lab/sample-data`. Built with Tauri's own bundler
//! (tauri-cli, prebuilt from npm, cached in ~/.cache/mlops-lab/tools like
//! tauri-driver).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::sh::{run, step};
use crate::{desktop, statics};

const TAURI_CLI: &str = "2.12.4";

/// The sidecars, as `bundle.externalBin` names them (Tauri looks for
/// `<name>-<target triple>` and installs `<name>`).
const SIDECARS: [&str; 3] = ["mlops-lab", "lab-serve", "lab-gateway"];

/// Tauri's CLI from npm (`@tauri-apps/cli` ships it prebuilt: seconds,
/// where `cargo install tauri-cli` compiles ~700 crates), one pinned version.
fn ensure_tauri_cli() -> Result<PathBuf> {
    crate::ui::npm_tool("@tauri-apps/cli", TAURI_CLI, "tauri-cli", "tauri")
}

/// Cargo's target directory, as cargo itself resolves it (env, config,
/// relative paths).
fn target_dir() -> Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let meta = crate::sh::json({
        let mut c = Command::new(cargo);
        c.args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ]);
        c
    })?;
    meta["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .context("cargo metadata names no target directory")
}

/// Build the `.deb`; returns its path. `debug`: the dev profile (what the
/// tests install; the build is already there), else release.
pub fn build(debug: bool) -> Result<PathBuf> {
    desktop::ensure_packages()?;
    let tauri = ensure_tauri_cli()?;
    let statics = statics::build()?;
    let profile = if debug { "debug" } else { "release" };
    // The app (and in debug the CLI), built by cargo itself and then bundled (not
    // `tauri build`, which builds the app package alone: a feature set of
    // its own, so every crate twice). In debug, the workspace with all its
    // targets: the very artifacts `cargo test --workspace` then reuses.
    step(&format!("build the app and the mlops-lab CLI ({profile})"));
    let args: &[&str] = if debug {
        &[
            "build",
            "--quiet",
            "--locked",
            "--workspace",
            "--all-targets",
        ]
    } else {
        &[
            "build",
            "--quiet",
            "--locked",
            "--release",
            "-p",
            "mlops-lab-app",
            "--bins",
        ]
    };
    crate::sh::cargo(args)?;
    let triple = host_triple()?;
    let target = target_dir()?;
    let sidecars = Path::new("src-tauri/binaries");
    std::fs::create_dir_all(sidecars)?;
    for name in SIDECARS {
        // A release ships the static CLI: the same program, and the one the
        // steps image of an exported Kubeflow pipeline needs.
        let from = if name == "mlops-lab" && debug {
            target.join(profile).join(name)
        } else {
            statics.join(name)
        };
        let to = sidecars.join(format!("{name}-{triple}"));
        std::fs::copy(&from, &to)
            .with_context(|| format!("cannot copy {} to {}", from.display(), to.display()))?;
    }
    // Bundle settings only for this build: a plain `cargo build` of the app
    // must not need the sidecars.
    let config = serde_json::json!({
        "bundle": {
            "active": true,
            "targets": ["deb"],
            "externalBin": SIDECARS.map(|n| format!("binaries/{n}")),
            "shortDescription": "Learn MLOps on your laptop: data, train, validate, package, deploy, monitor, retrain",
            "longDescription": "MLOps Lab walks a DevOps engineer through MLOps on real public datasets: train classic models, validate them, package each in a FROM scratch image, deploy it behind a stable endpoint, send real traffic, watch drift and alerts, and retrain. Includes the mlops-lab CLI, the static model server and gateway, and the sample data.",
            "linux": { "deb": {
                "depends": [],
                "files": {
                    "/usr/share/mlops-lab/sample-data": "../sample-data",
                    "/usr/share/mlops-lab/tutorials/course": "../tutorials/course"
                }
            } }
        }
    });
    step(&format!("tauri bundle --bundles deb ({profile})"));
    let mut cmd = Command::new(&tauri);
    cmd.args(["bundle", "--bundles", "deb", "--ci", "--config"])
        .arg(config.to_string())
        .current_dir("src-tauri");
    if debug {
        cmd.arg("--debug");
    }
    run(cmd.env("CARGO_TARGET_DIR", &target)).context("tauri could not bundle the app")?;
    let dir = target.join(profile).join("bundle/deb");
    let deb = std::fs::read_dir(&dir)
        .with_context(|| format!("no bundle in {}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "deb"))
        .max_by_key(|p| p.metadata().and_then(|m| m.modified()).ok())
        .with_context(|| format!("no .deb in {}", dir.display()))?;
    step(&format!("built {}", deb.display()));
    Ok(deb)
}

fn host_triple() -> Result<String> {
    let out = Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()))
        .arg("-vV")
        .output()
        .context("cannot run rustc -vV")?;
    match String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
    {
        Some(t) => Ok(t.trim().to_string()),
        None => bail!("rustc -vV did not name the host triple"),
    }
}
