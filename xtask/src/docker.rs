//! A Docker daemon for the tests: use the one that answers, else install
//! Debian's docker.io and start dockerd (as root), idempotently.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::sh::{run, step};

fn answers() -> bool {
    Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

pub fn ensure_daemon() -> Result<()> {
    if answers() {
        step("Docker daemon answers");
        return Ok(());
    }
    if !is_root() {
        bail!(
            "no Docker daemon answers and this is not root: start Docker (sudo systemctl start docker) \
             and make sure you may use it (sudo usermod -aG docker $USER, then log in again)"
        );
    }
    if !Path::new("/usr/sbin/dockerd").exists() && !Path::new("/usr/bin/dockerd").exists() {
        step("install Docker: apt-get install docker.io (Debian's package)");
        run(Command::new("apt-get").args(["update", "-qq"]))?;
        run(Command::new("apt-get")
            .args(["install", "-y", "-qq", "docker.io"])
            .env("DEBIAN_FRONTEND", "noninteractive"))
        .context("could not install docker.io")?;
    }
    if answers() {
        step("Docker daemon answers (started by its package)");
        return Ok(());
    }
    // A daemon that was killed (not stopped) leaves its pid files behind, and
    // dockerd refuses to start while they name a live-looking process.
    for (pidfile, name) in [
        ("/var/run/docker.pid", "dockerd"),
        ("/var/run/docker/containerd/containerd.pid", "containerd"),
    ] {
        if stale_pidfile(Path::new(pidfile), name) {
            step(&format!(
                "remove the stale {pidfile} of a {name} that is gone"
            ));
            let _ = std::fs::remove_file(pidfile);
        }
    }
    let log = crate::python::cache_dir()?.join("dockerd.log");
    std::fs::create_dir_all(log.parent().expect("log has a parent"))?;
    step(&format!(
        "start dockerd in the background (log: {})",
        log.display()
    ));
    let out = std::fs::File::create(&log)?;
    Command::new("dockerd")
        .stdout(out.try_clone()?)
        .stderr(out)
        .stdin(Stdio::null())
        .spawn()
        .context("could not start dockerd")?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if answers() {
            step("Docker daemon is up");
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    bail!("dockerd did not answer within 60 s; see {}", log.display())
}

/// The pid file exists and names no running `name`: the process is gone, a
/// zombie, or the pid now belongs to another program.
fn stale_pidfile(pidfile: &Path, name: &str) -> bool {
    let Ok(text) = std::fs::read_to_string(pidfile) else {
        return false;
    };
    let Ok(pid) = text.trim().parse::<u32>() else {
        return true;
    };
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return true;
    };
    // "<pid> (<comm>) <state> ..."
    let comm = stat.split_once('(').and_then(|(_, r)| r.rsplit_once(')'));
    match comm {
        Some((comm, rest)) => {
            let state = rest.trim_start().chars().next().unwrap_or('?');
            comm != name || state == 'Z' || state == 'X'
        }
        None => true,
    }
}
