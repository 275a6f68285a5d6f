//! Processes the lab started (local model servers, gateways), known by more
//! than their PID.
//!
//! A PID alone is not an identity: after a reboot, or once the process has
//! exited and the kernel hands its number to another program, signalling a
//! stored PID would hit an unrelated process. So the lab records the
//! process's start time (field 22 of `/proc/PID/stat`, clock ticks after
//! boot) and its executable, and checks both before any signal.

use std::path::Path;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::{DeployError, Result};

/// A process the lab started, as recorded when it started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnedProcess {
    pub pid: u32,
    /// Start time in clock ticks after boot (`/proc/PID/stat`, field 22).
    pub start_ticks: u64,
    /// The executable (`/proc/PID/exe`).
    pub exe: String,
}

/// What `terminate` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Terminated {
    /// It was ours and running; it has stopped.
    Stopped,
    /// Nothing of ours runs under that PID any more (it exited, or the PID
    /// now belongs to another program, which was left alone).
    Gone,
}

/// Start time and executable of `pid` as the kernel reports them now.
fn identity(pid: u32) -> Option<(u64, String)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ...`: comm may hold spaces and parentheses, so the
    // fields are counted after the last `)`. Field 3 (state) is the first.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?;
    if state == "Z" || state == "X" {
        return None;
    }
    let start_ticks: u64 = fields.nth(18)?.parse().ok()?;
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok()?;
    Some((start_ticks, exe_name(&exe)))
}

/// The executable's path, without the ` (deleted)` the kernel appends once
/// the file was replaced (a rebuilt binary is still the same program).
fn exe_name(exe: &Path) -> String {
    let s = exe.display().to_string();
    s.strip_suffix(" (deleted)")
        .map(str::to_string)
        .unwrap_or(s)
}

impl OwnedProcess {
    /// Record the process `pid` (just spawned by us).
    pub fn of(pid: u32) -> Result<Self> {
        let (start_ticks, exe) = identity(pid).ok_or_else(|| {
            DeployError::Http(format!(
                "process {pid} exited right after it started (or /proc is not available)"
            ))
        })?;
        Ok(OwnedProcess {
            pid,
            start_ticks,
            exe,
        })
    }

    /// A stored record; `None` when it lacks the identity (written by an
    /// earlier release): such a process is never signalled.
    pub fn from_parts(pid: Option<i64>, start: Option<i64>, exe: Option<&str>) -> Option<Self> {
        Some(OwnedProcess {
            pid: u32::try_from(pid?).ok().filter(|p| *p > 1)?,
            start_ticks: u64::try_from(start?).ok()?,
            exe: exe?.to_string(),
        })
    }

    /// Whether this very process still runs: same PID, same start time,
    /// same executable.
    pub fn is_running(&self) -> bool {
        identity(self.pid).is_some_and(|(start, exe)| start == self.start_ticks && exe == self.exe)
    }

    /// SIGTERM (requests in flight finish, logs are flushed), up to 10 s for
    /// it to exit, then SIGKILL. Signals nothing unless the process is still
    /// the one recorded.
    pub fn terminate(&self) -> Result<Terminated> {
        if !self.is_running() {
            return Ok(Terminated::Gone);
        }
        let p = rustix::process::Pid::from_raw(self.pid as i32)
            .ok_or_else(|| DeployError::NotFound(format!("pid {}", self.pid)))?;
        rustix::process::kill_process(p, rustix::process::Signal::TERM)
            .map_err(|e| DeployError::io(format!("cannot stop pid {}", self.pid), e.into()))?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.is_running() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        if self.is_running() {
            let _ = rustix::process::kill_process(p, rustix::process::Signal::KILL);
        }
        Ok(Terminated::Stopped)
    }
}

impl OwnedProcess {
    /// SIGKILL the process group this process leads (it and what it
    /// started), if it is still the one recorded. Returns whether it was.
    pub fn kill_group(&self) -> bool {
        if !self.is_running() {
            return false;
        }
        if let Some(p) = rustix::process::Pid::from_raw(self.pid as i32) {
            let _ = rustix::process::kill_process_group(p, rustix::process::Signal::KILL);
            let _ = rustix::process::kill_process(p, rustix::process::Signal::KILL);
        }
        true
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn a_reused_pid_is_not_ours() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let me = OwnedProcess::of(child.id()).unwrap();
        assert!(me.exe.ends_with("sleep"), "{}", me.exe);
        assert!(me.is_running());
        // The same PID with another start time (a reused PID) or another
        // executable is not the process we started: left alone.
        for other in [
            OwnedProcess {
                start_ticks: me.start_ticks + 1,
                ..me.clone()
            },
            OwnedProcess {
                exe: "/usr/local/bin/lab-serve".into(),
                ..me.clone()
            },
        ] {
            assert!(!other.is_running());
            assert_eq!(other.terminate().unwrap(), Terminated::Gone);
        }
        assert!(child.try_wait().unwrap().is_none(), "sleep was signalled");
        assert_eq!(me.terminate().unwrap(), Terminated::Stopped);
        child.wait().unwrap();
        assert!(!me.is_running());
        assert_eq!(
            OwnedProcess::from_parts(Some(42), None, Some("/bin/x")),
            None
        );
    }
}
