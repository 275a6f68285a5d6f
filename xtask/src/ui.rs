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
    npm_tool("@biomejs/biome", BIOME, "biome", "biome")
}

/// `package@version` from npm, installed once into
/// `~/.cache/mlops-lab/tools/<dir>/<version>`; the path of its `bin`.
pub fn npm_tool(package: &str, version: &str, dir: &str, bin: &str) -> Result<PathBuf> {
    let prefix = cache_dir()?.join("tools").join(dir).join(version);
    let path = prefix.join("node_modules/.bin").join(bin);
    if path.is_file() {
        step(&format!(
            "{package} {version} is installed ({})",
            path.display()
        ));
        return Ok(path);
    }
    ensure_npm()?;
    step(&format!(
        "npm install {package}@{version} (into ~/.cache/mlops-lab/tools/{dir})"
    ));
    std::fs::create_dir_all(&prefix)
        .with_context(|| format!("cannot create {}", prefix.display()))?;
    run(Command::new("npm")
        .args([
            "install",
            "--no-audit",
            "--no-fund",
            "--save-exact",
            "--prefix",
        ])
        .arg(&prefix)
        .arg(format!("{package}@{version}")))
    .with_context(|| format!("could not install {package} from npm"))?;
    Ok(path)
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
