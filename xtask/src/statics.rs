//! The static `lab-serve`, `lab-gateway` and `mlops-lab` (the CLI the steps
//! image of an exported Kubeflow pipeline runs): built once here (release,
//! statically linked for this host's Linux architecture: musl where its
//! target is installed, else glibc with `+crt-static`), and copied into
//! `~/.cache/mlops-lab/bin/`, where the CLI and the app find them. A deploy
//! never builds anything.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::python::cache_dir;
use crate::sh::{run, step};

pub const BINARIES: [&str; 3] = ["lab-serve", "lab-gateway", "mlops-lab"];

/// Build the three (cargo skips the work when nothing changed) into a target
/// dir of this source tree's own, and install them in the cache. Returns
/// the build's directory: this tree's own binaries, which the tests use
/// (another checkout may install its own in the cache meanwhile).
pub fn ensure() -> Result<PathBuf> {
    let dir = build()?;
    let bin = cache_dir()?.join("bin");
    std::fs::create_dir_all(&bin).with_context(|| format!("cannot create {}", bin.display()))?;
    for name in BINARIES {
        install(&dir.join(name), &bin.join(name))?;
    }
    step(&format!(
        "static lab-serve, lab-gateway and mlops-lab installed in {}",
        bin.display()
    ));
    Ok(bin)
}

/// `cargo build --release` of the three, static; the directory with the
/// results.
pub fn build() -> Result<PathBuf> {
    let arch = std::env::consts::ARCH;
    let musl = format!("{arch}-unknown-linux-musl");
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).to_string())
        .unwrap_or_default();
    let (target, rustflags) = if installed.lines().any(|l| l.trim() == musl) {
        (musl, "")
    } else {
        (
            format!("{arch}-unknown-linux-gnu"),
            "-C target-feature=+crt-static",
        )
    };
    // One target dir per source tree: two checkouts never overwrite each
    // other's outputs.
    let root = std::env::current_dir()?;
    let target_dir = cache_dir()?.join("serve-target").join(tree_key(&root));
    step(&format!(
        "cargo build --release -p lab-serve -p lab-gateway -p lab-cli --target {target} (static; cached)"
    ));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    run(Command::new(cargo)
        .args(["build", "--release", "--quiet", "--locked"])
        .args(["-p", "lab-serve", "-p", "lab-gateway", "-p", "lab-cli"])
        .args(["--bins", "--target"])
        .arg(&target)
        .arg("--target-dir")
        .arg(&target_dir)
        .env("RUSTFLAGS", rustflags)
        .env_remove("CARGO_TARGET_DIR"))
    .context("could not build the static lab-serve, lab-gateway and mlops-lab")?;
    Ok(target_dir.join(&target).join("release"))
}

/// Copy `from` to `to` atomically (a deploy reading `to` never sees half).
fn install(from: &Path, to: &Path) -> Result<()> {
    if !from.is_file() {
        bail!("{} was not produced", from.display());
    }
    let tmp = to.with_extension(format!("tmp-{}", std::process::id()));
    std::fs::copy(from, &tmp)
        .with_context(|| format!("cannot copy {} to {}", from.display(), tmp.display()))?;
    std::fs::rename(&tmp, to).with_context(|| format!("cannot install {}", to.display()))?;
    Ok(())
}

/// A short stable key (FNV-1a) for a source tree's path.
fn tree_key(path: &Path) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in path.display().to_string().bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    format!("{h:016x}")
}
