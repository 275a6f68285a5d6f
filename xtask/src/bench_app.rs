//! `cargo xtask bench app`: the desktop app's cold start to first paint and
//! the memory of its process tree, against the targets (2 s,
//! 250 MB).
//!
//! Each launch is a new process with a new, empty lab home, on the release
//! build. "First paint" is the UI's own signal: two animation frames after
//! the Home view (the pipeline strip, read from SQLite) is on screen, it
//! calls the `first_paint` command, which prints a line the bench waits
//! for. Memory is read 2 s later from /proc: the RSS of the app and every
//! descendant (WebKit's web and network processes), and their PSS (shared
//! pages counted once), which is the fairer total.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::python::cache_dir;
use crate::sh::{cargo, step};

const TARGET_FIRST_PAINT_S: f64 = 2.0;
const TARGET_RSS_MB: f64 = 250.0;

/// A child killed with its process group when dropped.
struct Group(Child);

impl Drop for Group {
    fn drop(&mut self) {
        // killpg(2) directly, not through kill(1) (see tests/e2e/app.rs).
        if let Some(pgid) = rustix::process::Pid::from_raw(self.0.id() as i32) {
            let _ = rustix::process::kill_process_group(pgid, rustix::process::Signal::KILL);
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_group(mut cmd: Command) -> Result<Group> {
    use std::os::unix::process::CommandExt;
    cmd.process_group(0).stdin(Stdio::null());
    Ok(Group(cmd.spawn().with_context(|| format!("{cmd:?}"))?))
}

/// The pid and every descendant of it, from /proc.
fn tree(root: u32) -> Vec<u32> {
    let mut parents: Vec<(u32, u32)> = vec![];
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces.
            let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
                continue;
            };
            let Some(after) = stat.rsplit_once(')').map(|(_, a)| a) else {
                continue;
            };
            if let Some(ppid) = after.split_whitespace().nth(1).and_then(|p| p.parse().ok()) {
                parents.push((pid, ppid));
            }
        }
    }
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        let p = out[i];
        out.extend(parents.iter().filter(|(_, pp)| *pp == p).map(|(c, _)| *c));
        i += 1;
    }
    out
}

/// A `kB` field of a /proc file, in bytes.
fn kb_field(path: &Path, field: &str) -> u64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| {
            t.lines().find_map(|l| {
                l.strip_prefix(field)?
                    .trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
        })
        .unwrap_or(0)
        * 1024
}

struct Launch {
    first_paint_s: f64,
    rss_mb: f64,
    pss_mb: f64,
    processes: usize,
    /// (process name, RSS MB, of which shared-library file pages MB).
    parts: Vec<(String, f64, f64)>,
}

fn launch(app: &Path, home: &Path, display: &str, software: bool) -> Result<Launch> {
    let _ = std::fs::remove_dir_all(home);
    // WebKit's folders sit beside the lab home: a lab home holds only what
    // the lab makes.
    let webkit = home.with_extension("webkit");
    let _ = std::fs::remove_dir_all(&webkit);
    let mut cmd = Command::new(app);
    if software {
        cmd.env("MLOPS_LAB_SOFTWARE_RENDERING", "1");
    } else {
        cmd.env_remove("MLOPS_LAB_SOFTWARE_RENDERING");
    }
    // WebKit's own data and caches start empty too.
    cmd.env("MLOPS_LAB_HOME", home)
        .env("XDG_DATA_HOME", webkit.join("xdg-data"))
        .env("XDG_CACHE_HOME", webkit.join("xdg-cache"))
        .env("MLOPS_LAB_PAINT_REPORT", "1")
        .env("DISPLAY", display)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let t0 = Instant::now();
    let mut child = spawn_group(cmd)?;
    let stdout = child.0.stdout.take().context("app stdout")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.trim() == "first-paint" {
                let _ = tx.send(());
                return;
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(60))
        .context("the app did not report its first paint within 60 s")?;
    let first_paint_s = t0.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_secs(2));
    let pids = tree(child.0.id());
    let proc = |pid: u32, file: &str| Path::new("/proc").join(pid.to_string()).join(file);
    let rss: u64 = pids
        .iter()
        .map(|p| kb_field(&proc(*p, "status"), "VmRSS:"))
        .sum();
    let pss: u64 = pids
        .iter()
        .map(|p| kb_field(&proc(*p, "smaps_rollup"), "Pss:"))
        .sum();
    let parts = pids
        .iter()
        .map(|p| {
            let name = std::fs::read_to_string(proc(*p, "comm")).unwrap_or_default();
            let status = proc(*p, "status");
            (
                name.trim().to_string(),
                kb_field(&status, "VmRSS:") as f64 / 1e6,
                kb_field(&status, "RssFile:") as f64 / 1e6,
            )
        })
        .collect();
    drop(child);
    Ok(Launch {
        first_paint_s,
        rss_mb: rss as f64 / 1e6,
        pss_mb: pss as f64 / 1e6,
        processes: pids.len(),
        parts,
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

pub fn run(repeat: usize) -> Result<()> {
    if repeat == 0 {
        bail!("--repeat must be at least 1");
    }
    step("WebKitGTK and Xvfb for the desktop app");
    crate::desktop::ensure_packages()?;
    step("build the desktop app (release)");
    cargo(&["build", "--release", "--quiet", "-p", "mlops-lab-app"])?;
    let app = crate::sh::release_binary("mlops-lab-app");
    // Our own virtual display, so the figures do not depend on a desktop.
    let display = format!(":{}", 150 + std::process::id() % 50);
    step(&format!(
        "start Xvfb on {display} (1280×800) for the measured window"
    ));
    let mut xvfb = Command::new("Xvfb");
    xvfb.args([
        display.as_str(),
        "-screen",
        "0",
        "1280x800x24",
        "-nolisten",
        "tcp",
    ])
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    let _xvfb = spawn_group(xvfb)?;
    std::thread::sleep(Duration::from_millis(500));
    let home = cache_dir()?.join("bench-app-home");
    step(&format!(
        "launch the app {} times, each a new process on an empty lab home, alternating the default and the low-memory rendering mode; time to the Home view's first paint, then the memory of its process tree",
        2 * repeat + 1
    ));
    // Both rendering modes, alternating launch by launch so neither gets a
    // warmer machine: the default (GPU compositing, here Mesa's software
    // GL under Xvfb) and the low-memory mode (MLOPS_LAB_SOFTWARE_RENDERING).
    let first = launch(&app, &home, &display, false)?;
    println!(
        "  launch 1 (first after the build, not in the median): first paint {:.2} s, RSS {:.0} MB, PSS {:.0} MB, {} processes",
        first.first_paint_s, first.rss_mb, first.pss_mb, first.processes
    );
    let mut runs: [Vec<Launch>; 2] = [vec![], vec![]];
    for i in 0..repeat {
        for (m, software) in [false, true].into_iter().enumerate() {
            let l = launch(&app, &home, &display, software)?;
            println!(
                "  launch {} ({}): first paint {:.2} s, RSS {:.0} MB, PSS {:.0} MB, {} processes",
                i + 2,
                if software { "low-memory" } else { "default" },
                l.first_paint_s,
                l.rss_mb,
                l.pss_mb,
                l.processes
            );
            runs[m].push(l);
        }
    }
    let _ = std::fs::remove_dir_all(&home);
    let _ = std::fs::remove_dir_all(home.with_extension("webkit"));
    for (m, name) in ["default", "low-memory"].iter().enumerate() {
        if let Some(last) = runs[m].last() {
            println!(
                "  {name}, by process (last launch): {}",
                last.parts
                    .iter()
                    .map(|(n, rss, file)| format!("{n} {rss:.0} MB ({file:.0} MB mapped files)"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    println!();
    println!(
        "| measure (median of {repeat}) | default | low-memory mode | target | ratio to target (default / low-memory) |"
    );
    println!("|---|---|---|---|---|");
    let stat = |m: usize, f: &dyn Fn(&Launch) -> f64| median(runs[m].iter().map(f).collect());
    let paint = [0, 1].map(|m| stat(m, &|l| l.first_paint_s));
    let rss = [0, 1].map(|m| stat(m, &|l| l.rss_mb));
    let pss = [0, 1].map(|m| stat(m, &|l| l.pss_mb));
    println!(
        "| cold start to first paint | {:.2} s | {:.2} s | ≤ {TARGET_FIRST_PAINT_S:.0} s | {:.2}× / {:.2}× |",
        paint[0],
        paint[1],
        paint[0] / TARGET_FIRST_PAINT_S,
        paint[1] / TARGET_FIRST_PAINT_S
    );
    println!(
        "| RSS of the process tree | {:.0} MB | {:.0} MB | ≤ {TARGET_RSS_MB:.0} MB | {:.2}× / {:.2}× |",
        rss[0],
        rss[1],
        rss[0] / TARGET_RSS_MB,
        rss[1] / TARGET_RSS_MB
    );
    println!(
        "| PSS of the process tree (shared pages counted once) | {:.0} MB | {:.0} MB | — | {:.2}× / {:.2}× of 250 MB |",
        pss[0],
        pss[1],
        pss[0] / TARGET_RSS_MB,
        pss[1] / TARGET_RSS_MB
    );
    let met = paint[0] <= TARGET_FIRST_PAINT_S && rss[0] <= TARGET_RSS_MB;
    println!(
        "\ntargets (default mode) {}",
        if met { "met" } else { "NOT met" }
    );
    Ok(())
}
