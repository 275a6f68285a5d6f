//! Running commands, loudly.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

/// Announce a step.
pub fn step(what: &str) {
    println!("==> {what}");
}

/// Work from the workspace root, wherever `cargo xtask` was called.
pub fn enter_workspace_root() -> Result<()> {
    // `cargo run` (the `xtask` alias) sets CARGO_MANIFEST_DIR at run time:
    // the checkout being worked in. The compile-time value can name another
    // checkout whose build this one reused from a shared target dir.
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    let root = manifest_dir
        .parent()
        .context("xtask lives in the workspace")?
        .to_path_buf();
    std::env::set_current_dir(&root).with_context(|| format!("cd {}", root.display()))
}

pub fn cargo_cmd(args: &[&str]) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut c = Command::new(cargo);
    c.args(args);
    c
}

pub fn cargo(args: &[&str]) -> Result<()> {
    run(&mut cargo_cmd(args))
}

/// Run, inheriting stdio; fail with the command line on a non-zero exit.
pub fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("cannot start {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed ({status})");
    }
    Ok(())
}

/// Run without output; Ok when it exits 0.
pub fn quiet(mut cmd: Command) -> Result<()> {
    let status = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .with_context(|| format!("cannot start {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed ({status})");
    }
    Ok(())
}

/// Run and parse stdout as JSON.
pub fn json(mut cmd: Command) -> Result<serde_json::Value> {
    let out = cmd
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("cannot start {cmd:?}"))?;
    if !out.status.success() {
        bail!("{cmd:?} failed ({})", out.status);
    }
    let text = String::from_utf8_lossy(&out.stdout);
    // Whole output (pretty-printed JSON), else its last line (JSON after logs).
    serde_json::from_str(text.trim())
        .or_else(|_| serde_json::from_str(text.lines().last().unwrap_or_default()))
        .with_context(|| format!("{cmd:?} printed no JSON: {text}"))
}

/// Where `cargo build --release` put binary `name` (honours CARGO_TARGET_DIR).
pub fn release_binary(name: &str) -> std::path::PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from("target"))
        .join("release")
        .join(name)
}
