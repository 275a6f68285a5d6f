//! The fallback without Docker: the same `lab-serve` binary as a local
//! process on a free loopback port, detached so it outlives the command that
//! started it. Its stdout (the prediction log) and stderr go to files.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{
    DeployError, DeploySpec, Deployment, Progress, Result, Runtime, free_port, wait_ready,
};

pub(crate) fn run(bin: &Path, spec: &DeploySpec, progress: Progress) -> Result<Deployment> {
    let port = free_port()?;
    std::fs::create_dir_all(&spec.local_dir)
        .map_err(|e| DeployError::io(format!("cannot create {}", spec.local_dir.display()), e))?;
    let open = |name: &str| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(spec.local_dir.join(name))
            .map_err(|e| DeployError::io(format!("cannot open {name}"), e))
    };
    let mut cmd = Command::new(bin);
    cmd.arg("serve")
        .arg("--model")
        .arg(&spec.artifact)
        .args(["--name", &spec.model_name])
        .args(["--version", &spec.model_version.to_string()])
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(open("predictions.jsonl")?)
        .stderr(open("server.log")?);
    #[cfg(unix)]
    {
        // Its own process group: Ctrl-C in the learner's terminal does not
        // take the server down with the CLI.
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    progress(&format!(
        "starting {} on 127.0.0.1:{port} (local process)",
        bin.display()
    ));
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| DeployError::io(format!("cannot start {}", bin.display()), e))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| DeployError::io("cannot start the async runtime", e))?;
    if !rt.block_on(wait_ready(port, Duration::from_secs(30))) {
        let _ = child.kill();
        let _ = child.wait();
        return Err(DeployError::NotReady {
            seconds: 30,
            logs: logs(&spec.local_dir, 40).unwrap_or_default(),
        });
    }
    let ready_ms = started.elapsed().as_millis() as u64;
    let pid = child.id();
    progress(&format!(
        "ready in {ready_ms} ms at http://127.0.0.1:{port} (pid {pid})"
    ));
    Ok(Deployment {
        runtime: Runtime::Local,
        id: format!("local-{pid}"),
        name: format!("lab-serve {} v{}", spec.model_name, spec.model_version),
        endpoint: format!("http://127.0.0.1:{port}"),
        host_port: port,
        model_name: spec.model_name.clone(),
        model_version: spec.model_version,
        run_id: spec.run_id.clone(),
        image_id: None,
        image_tag: None,
        image_size_bytes: None,
        pid: Some(pid),
        start_to_ready_ms: ready_ms,
    })
}

pub(crate) fn alive(pid: u32) -> bool {
    let Some(pid) = rustix::process::Pid::from_raw(pid as i32) else {
        return false;
    };
    rustix::process::test_kill_process(pid).is_ok()
}

/// SIGTERM (requests in flight finish, the log is flushed), then wait up to
/// 10 s, then SIGKILL.
pub(crate) fn stop(pid: u32) -> Result<()> {
    let Some(p) = rustix::process::Pid::from_raw(pid as i32) else {
        return Err(DeployError::NotFound(format!("local-{pid}")));
    };
    if !alive(pid) {
        return Ok(());
    }
    rustix::process::kill_process(p, rustix::process::Signal::TERM)
        .map_err(|e| DeployError::io(format!("cannot stop pid {pid}"), e.into()))?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while alive(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    if alive(pid) {
        let _ = rustix::process::kill_process(p, rustix::process::Signal::KILL);
    }
    Ok(())
}

pub(crate) fn logs(dir: &Path, tail: usize) -> Result<String> {
    let mut out = String::new();
    for name in ["server.log", "predictions.jsonl"] {
        if let Ok(text) = std::fs::read_to_string(dir.join(name)) {
            let lines: Vec<&str> = text.lines().collect();
            for l in &lines[lines.len().saturating_sub(tail)..] {
                out.push_str(l);
                out.push('\n');
            }
        }
    }
    Ok(out)
}

/// Complete prediction-log lines of a local process from byte `offset`;
/// returns them and the offset after the last complete line.
pub(crate) fn stdout_lines(dir: &Path, offset: u64) -> Result<(Vec<String>, u64)> {
    let path = dir.join("predictions.jsonl");
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((vec![], offset)),
        Err(e) => {
            return Err(DeployError::io(
                format!("cannot read {}", path.display()),
                e,
            ));
        }
    };
    let start = (offset as usize).min(bytes.len());
    let rest = &bytes[start..];
    let Some(end) = rest.iter().rposition(|&b| b == b'\n') else {
        return Ok((vec![], start as u64));
    };
    let text = String::from_utf8_lossy(&rest[..end]);
    Ok((
        text.lines().map(str::to_string).collect(),
        (start + end + 1) as u64,
    ))
}
