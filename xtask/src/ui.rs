//! The UI's formatter and linter: Biome (from npm, one pinned version,
//! cached in ~/.cache/mlops-lab/tools/biome), configured by `biome.json`
//! at the workspace root (print width 100, recommended lint rules).

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result};

use crate::python::cache_dir;
use crate::sh::{run, step};

const BIOME: &str = "2.6.8";

/// Biome's binary, installed with npm once per version.
fn ensure_biome() -> Result<PathBuf> {
    let dir = cache_dir()?.join("tools/biome").join(BIOME);
    let bin = dir.join("node_modules/.bin/biome");
    if bin.is_file() {
        step(&format!("Biome {BIOME} is installed ({})", bin.display()));
        return Ok(bin);
    }
    ensure_npm()?;
    step(&format!(
        "npm install @biomejs/biome@{BIOME} (into ~/.cache/mlops-lab/tools/biome)"
    ));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    run(Command::new("npm")
        .args([
            "install",
            "--no-audit",
            "--no-fund",
            "--save-exact",
            "--prefix",
        ])
        .arg(&dir)
        .arg(format!("@biomejs/biome@{BIOME}")))
    .context("could not install Biome from npm")?;
    Ok(bin)
}

/// npm, for the tools that come from its registry (Biome, Tauri's CLI).
pub fn ensure_npm() -> Result<()> {
    if Command::new("npm").arg("--version").output().is_ok() {
        return Ok(());
    }
    step("install npm (apt-get)");
    run(Command::new("apt-get")
        .args(["install", "-y", "-qq", "npm"])
        .env("DEBIAN_FRONTEND", "noninteractive"))
    .context("npm is missing and apt-get could not install it")
}

/// `biome check ui`: formatting and lints of the UI's modules, HTML and
/// CSS; warnings are errors.
pub fn check() -> Result<()> {
    let biome = ensure_biome()?;
    step("biome check ui: the UI's formatting and lints (run `biome check --write ui` to fix)");
    run(Command::new(&biome).args(["check", "--error-on-warnings", "ui"]))
        .context("the UI has formatting or lint errors: fix them, or run `biome check --write ui`")
}
