//! What the desktop app needs: WebKitGTK to build and run it, and for its
//! end-to-end test a virtual display (Xvfb), WebKit's WebDriver and
//! tauri-driver (cargo install --locked, cached in ~/.cache/mlops-lab/tools).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::python::cache_dir;
use crate::sh::{run, step};

/// Debian packages: (what must exist, package).
const PACKAGES: &[(&str, &str)] = &[
    (
        "/usr/lib/x86_64-linux-gnu/pkgconfig/webkit2gtk-4.1.pc",
        "libwebkit2gtk-4.1-dev",
    ),
    ("/usr/bin/WebKitWebDriver", "webkit2gtk-driver"),
    ("/usr/bin/Xvfb", "xvfb"),
];

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Install the WebKitGTK build and test packages that are missing.
pub fn ensure_packages() -> Result<()> {
    let pc_ok = |p: &str| {
        Path::new(p).exists()
            || (p.ends_with(".pc")
                && Command::new("pkg-config")
                    .args(["--exists", "webkit2gtk-4.1"])
                    .status()
                    .is_ok_and(|s| s.success()))
    };
    let missing: Vec<&str> = PACKAGES
        .iter()
        .filter(|(path, _)| !pc_ok(path))
        .map(|(_, pkg)| *pkg)
        .collect();
    if missing.is_empty() {
        step("WebKitGTK, WebKitWebDriver and Xvfb are installed");
        return Ok(());
    }
    if !is_root() {
        bail!(
            "the desktop app needs {}: sudo apt-get install {}",
            missing.join(", "),
            missing.join(" ")
        );
    }
    step(&format!("install {} (apt-get)", missing.join(", ")));
    run(Command::new("apt-get").args(["update", "-qq"]))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-qq"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive"))
    .with_context(|| format!("could not install {}", missing.join(" ")))?;
    Ok(())
}

/// tauri-driver, installed once with `cargo install --locked`.
pub fn ensure_tauri_driver() -> Result<PathBuf> {
    let root = cache_dir()?.join("tools");
    let bin = root.join("bin/tauri-driver");
    if bin.is_file() {
        step(&format!("tauri-driver is installed ({})", bin.display()));
        return Ok(bin);
    }
    step("cargo install tauri-driver --locked (into ~/.cache/mlops-lab/tools)");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    run(Command::new(cargo)
        .args([
            "install",
            "tauri-driver",
            "--version",
            "2.1.0",
            "--locked",
            "--root",
        ])
        .arg(&root)
        .env_remove("CARGO_TARGET_DIR"))
    .context("could not install tauri-driver")?;
    Ok(bin)
}
