//! Running the learner's code: in its own process group, with a time
//! limit, output captured and capped, and always stopped (a timeout, a
//! crash of ours, a cancel: the guard's `Drop` kills the whole group).

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::{ExerciseError, Result};

/// How much of each stream is kept (the rest is counted, not stored).
pub const OUTPUT_CAP: usize = 64 * 1024;

/// A capped buffer: the first [`OUTPUT_CAP`] bytes and how many were dropped.
#[derive(Default)]
struct Capped {
    bytes: Vec<u8>,
    dropped: usize,
}

/// What a finished (or stopped) process left.
#[derive(Debug, Clone)]
pub struct Finished {
    /// The exit code; `None` when a signal ended it (ours at the time limit).
    pub code: Option<i32>,
    pub timed_out: bool,
    /// Stopped because the learner cancelled (Ctrl-C, the app's Cancel).
    pub cancelled: bool,
    pub stdout: String,
    pub stderr: String,
    pub millis: u64,
}

impl Finished {
    pub fn success(&self) -> bool {
        self.code == Some(0) && !self.timed_out && !self.cancelled
    }

    /// The last lines of stderr (or stdout), for a failure message.
    pub fn tail(&self, lines: usize) -> String {
        let text = if self.stderr.trim().is_empty() {
            &self.stdout
        } else {
            &self.stderr
        };
        let all: Vec<&str> = text.trim_end().lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

/// A child process of the learner's code, stopped with its whole process
/// group when dropped.
pub struct Supervised {
    child: Option<Child>,
    started: Instant,
    out: Arc<Mutex<Capped>>,
    err: Arc<Mutex<Capped>>,
    readers: Vec<JoinHandle<()>>,
}

fn reader(mut from: impl Read + Send + 'static, into: Arc<Mutex<Capped>>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let mut c = into.lock().unwrap_or_else(|p| p.into_inner());
                    let room = OUTPUT_CAP.saturating_sub(c.bytes.len());
                    let keep = n.min(room);
                    c.bytes.extend_from_slice(&buf[..keep]);
                    c.dropped += n - keep;
                }
            }
        }
    })
}

fn text_of(c: &Arc<Mutex<Capped>>) -> String {
    let c = c.lock().unwrap_or_else(|p| p.into_inner());
    let mut s = String::from_utf8_lossy(&c.bytes).into_owned();
    if c.dropped > 0 {
        s.push_str(&format!("\n[… {} more bytes not kept]", c.dropped));
    }
    s
}

impl Supervised {
    /// Start `cmd` in `dir`, in a process group of its own, stdin closed,
    /// stdout and stderr captured.
    pub fn spawn(mut cmd: Command, dir: &Path) -> Result<Supervised> {
        use std::os::unix::process::CommandExt;
        let shown = format!("{cmd:?}");
        cmd.current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let mut child = cmd
            .spawn()
            .map_err(|e| ExerciseError::Io(format!("cannot start {shown}"), e))?;
        let out = Arc::new(Mutex::new(Capped::default()));
        let err = Arc::new(Mutex::new(Capped::default()));
        let mut readers = vec![];
        if let Some(o) = child.stdout.take() {
            readers.push(reader(o, out.clone()));
        }
        if let Some(e) = child.stderr.take() {
            readers.push(reader(e, err.clone()));
        }
        tracing::debug!(pid = child.id(), command = %shown, "started the learner's code");
        Ok(Supervised {
            child: Some(child),
            started: Instant::now(),
            out,
            err,
            readers,
        })
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// What it wrote to stdout so far.
    pub fn stdout_so_far(&self) -> String {
        text_of(&self.out)
    }

    /// What it wrote to stderr so far.
    pub fn stderr_so_far(&self) -> String {
        text_of(&self.err)
    }

    /// A handle another thread (a watchdog) can kill the whole group with
    /// while this guard lives. The group's id is the child's pid, which the
    /// kernel does not hand out again while the child is unreaped (only this
    /// guard reaps it) or while any member of the group lives.
    pub fn killer(&self) -> Option<GroupKiller> {
        self.child.as_ref().map(|c| GroupKiller(c.id()))
    }

    /// Still running (not exited)?
    pub fn running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Wait for the process to exit, at most `limit`; past it, or when
    /// `cancel` is set, the group is killed.
    pub fn wait(mut self, limit: Duration, cancel: &AtomicBool) -> Finished {
        let deadline = self.started + limit;
        let mut timed_out = false;
        let mut cancelled = false;
        let code = loop {
            let Some(child) = self.child.as_mut() else {
                break None;
            };
            match child.try_wait() {
                Ok(Some(status)) => break status.code(),
                Ok(None) if cancel.load(Ordering::Relaxed) => {
                    cancelled = true;
                    self.kill_group();
                    break None;
                }
                Ok(None) if Instant::now() >= deadline => {
                    timed_out = true;
                    self.kill_group();
                    break None;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(_) => break None,
            }
        };
        self.finish(code, timed_out, cancelled)
    }

    /// Stop it now (SIGTERM to the group, SIGKILL after `grace`).
    pub fn stop(mut self, grace: Duration) -> Finished {
        let code = self.child.as_mut().and_then(|child| {
            if let Ok(Some(s)) = child.try_wait() {
                return s.code();
            }
            signal_group(child, rustix::process::Signal::TERM);
            let until = Instant::now() + grace;
            while Instant::now() < until {
                if let Ok(Some(s)) = child.try_wait() {
                    return s.code();
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            None
        });
        self.kill_group();
        self.finish(code, false, false)
    }

    fn finish(&mut self, code: Option<i32>, timed_out: bool, cancelled: bool) -> Finished {
        // The group may hold grandchildren with the pipes open: kill it
        // before joining the readers, so a join never waits on them.
        self.kill_group();
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        Finished {
            code,
            timed_out,
            cancelled,
            stdout: text_of(&self.out),
            stderr: text_of(&self.err),
            millis: self.started.elapsed().as_millis() as u64,
        }
    }

    /// SIGKILL the whole process group and reap the child.
    fn kill_group(&mut self) {
        if let Some(mut child) = self.child.take() {
            signal_group(&child, rustix::process::Signal::KILL);
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn signal_group(child: &Child, sig: rustix::process::Signal) {
    if let Some(pgid) = rustix::process::Pid::from_raw(child.id() as i32) {
        let _ = rustix::process::kill_process_group(pgid, sig);
    }
}

/// Kills a [`Supervised`] process group from another thread.
#[derive(Debug, Clone, Copy)]
pub struct GroupKiller(u32);

impl GroupKiller {
    /// SIGKILL the whole group (the guard still reaps the child).
    pub fn kill(&self) {
        if let Some(pgid) = rustix::process::Pid::from_raw(self.0 as i32) {
            let _ = rustix::process::kill_process_group(pgid, rustix::process::Signal::KILL);
        }
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        self.kill_group();
    }
}

/// Run `cmd` to completion within `limit` (or until `cancel` is set).
pub fn run(cmd: Command, dir: &Path, limit: Duration, cancel: &AtomicBool) -> Result<Finished> {
    Ok(Supervised::spawn(cmd, dir)?.wait(limit, cancel))
}
