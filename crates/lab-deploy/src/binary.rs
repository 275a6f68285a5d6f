//! The static `lab-serve` binary that goes into a `FROM scratch` image.
//!
//! On Linux it is built from this source tree with cargo, for the host's
//! architecture, with `-C target-feature=+crt-static` on the gnu target
//! (musl where its target is installed), into
//! `~/.cache/mlops-lab/serve-target/<source tree key>`.
//! cargo's own fingerprints make it rebuild only when sources change.
//! `MLOPS_LAB_SERVE_BIN` points at a prebuilt static binary instead.
//!
//! Where no static Linux binary can be built (macOS, Windows), the fallback
//! is the multi-stage Dockerfile in `crates/lab-deploy/Dockerfile.multistage`:
//! it needs a registry to pull the Rust builder image, so it is documented,
//! not exercised here.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::{DeployError, Progress, Result};

pub const SERVE_BIN_ENV: &str = "MLOPS_LAB_SERVE_BIN";

fn cache_root() -> PathBuf {
    if let Some(x) = std::env::var_os("XDG_CACHE_HOME").filter(|x| !x.is_empty()) {
        return PathBuf::from(x).join("mlops-lab");
    }
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
        .join(".cache/mlops-lab")
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Where a prebuilt gateway may be given instead of building it.
pub const GATEWAY_BIN_ENV: &str = "MLOPS_LAB_GATEWAY_BIN";

/// Path to `lab-gateway`, built (static, cached) with the server.
pub fn gateway_binary(progress: Progress) -> Result<PathBuf> {
    if let Some(p) = std::env::var_os(GATEWAY_BIN_ENV).filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        if !p.is_file() {
            return Err(DeployError::Binary(format!(
                "{GATEWAY_BIN_ENV}={} is not a file",
                p.display()
            )));
        }
        return Ok(p);
    }
    let serve = static_server_binary(progress)?;
    let bin = serve.with_file_name("lab-gateway");
    if !bin.is_file() {
        return Err(DeployError::Binary(format!(
            "{} was not found next to {}: set {GATEWAY_BIN_ENV}",
            bin.display(),
            serve.display()
        )));
    }
    Ok(bin)
}

/// Path to a static `lab-serve` for this host's Linux architecture (the
/// same build makes `lab-gateway` beside it).
pub fn static_server_binary(progress: Progress) -> Result<PathBuf> {
    if let Some(p) = std::env::var_os(SERVE_BIN_ENV).filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        if !p.is_file() {
            return Err(DeployError::Binary(format!(
                "{SERVE_BIN_ENV}={} is not a file",
                p.display()
            )));
        }
        return Ok(p);
    }
    if !cfg!(target_os = "linux") {
        return Err(DeployError::Binary(
            "a static Linux binary cannot be built on this OS: build the image with \
             crates/lab-deploy/Dockerfile.multistage (docker build -f ... .), or set \
             MLOPS_LAB_SERVE_BIN to a static Linux lab-serve"
                .into(),
        ));
    }
    let arch = std::env::consts::ARCH;
    let musl = format!("{arch}-unknown-linux-musl");
    let gnu = format!("{arch}-unknown-linux-gnu");
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).to_string())
        .unwrap_or_default();
    let (target, rustflags) = if installed.lines().any(|l| l.trim() == musl) {
        (musl, "")
    } else {
        (gnu, "-C target-feature=+crt-static")
    };
    // One cache per source tree: two checkouts never share (and overwrite)
    // the same uplifted binary.
    let root = workspace_root();
    let root = root.canonicalize().unwrap_or(root);
    let target_dir = cache_root()
        .join("serve-target")
        .join(tree_key(&root.display().to_string()));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    progress(&format!(
        "cargo build --release -p lab-serve -p lab-gateway --target {target} (static)"
    ));
    let out = Command::new(cargo)
        .current_dir(&root)
        .args([
            "build",
            "--release",
            "--quiet",
            "-p",
            "lab-serve",
            "-p",
            "lab-gateway",
            "--bins",
            "--target",
        ])
        .arg(&target)
        .arg("--target-dir")
        .arg(&target_dir)
        .env("RUSTFLAGS", rustflags)
        .env_remove("CARGO_TARGET_DIR")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| DeployError::Binary(format!("cannot run cargo: {e}")))?;
    if !out.status.success() {
        return Err(DeployError::Binary(format!(
            "cargo build failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let bin = target_dir.join(&target).join("release/lab-serve");
    if !bin.is_file() {
        return Err(DeployError::Binary(format!(
            "{} was not produced",
            bin.display()
        )));
    }
    Ok(bin)
}

/// A short stable key (FNV-1a) for a source tree's path.
fn tree_key(path: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in path.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    format!("{h:016x}")
}
