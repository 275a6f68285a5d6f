//! Load with wrk, shared by the benchmarks: a server process that is
//! stopped when dropped, a free port, and wrk's figures read from its
//! `--latency` output.

use std::path::Path;
use std::process::{Child, Command};

use anyhow::{Context, Result};

use crate::sh::{self, step};

/// A server process, killed when dropped.
pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

pub fn ensure_wrk() -> Result<()> {
    if Command::new("wrk").arg("-v").output().is_ok() {
        return Ok(());
    }
    step("install wrk (Debian package) for the load");
    sh::run(
        Command::new("apt-get")
            .args(["install", "-y", "-qq", "wrk"])
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
    .context("wrk is needed: apt-get install wrk")
}

#[derive(Debug, Clone, Copy)]
pub struct Load {
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// wrk saw non-2xx answers or socket errors (its output is printed).
    pub errors: bool,
}

fn to_ms(v: &str) -> Option<f64> {
    let (num, unit) = v.split_at(v.find(|c: char| c.is_ascii_alphabetic())?);
    let x: f64 = num.parse().ok()?;
    Some(match unit {
        "us" => x / 1000.0,
        "ms" => x,
        "s" => x * 1000.0,
        _ => return None,
    })
}

/// wrk with a Lua `script`, one thread and `connections` connections: a
/// 2 s warm-up, then `seconds` measured.
pub fn run(script: &Path, url: &str, connections: u32, seconds: u64) -> Result<Load> {
    let run = |secs: u64| {
        Command::new("wrk")
            .args([
                "-t1",
                &format!("-c{connections}"),
                &format!("-d{secs}s"),
                "--latency",
                "-s",
            ])
            .arg(script)
            .arg(url)
            .output()
    };
    run(2)?;
    let out = run(seconds)?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let find = |prefix: &str| {
        text.lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(prefix).map(|r| r.trim().to_string()))
    };
    let errors = text.contains("Non-2xx") || text.contains("Socket errors");
    let load = (|| {
        Some(Load {
            rps: find("Requests/sec:")?.parse().ok()?,
            p50_ms: to_ms(&find("50%")?)?,
            p99_ms: to_ms(&find("99%")?)?,
            errors,
        })
    })()
    .with_context(|| format!("cannot read wrk's output:\n{text}"))?;
    if errors {
        println!("      wrk reported errors:\n{text}");
    }
    Ok(load)
}
