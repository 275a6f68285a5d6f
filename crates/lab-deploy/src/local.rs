//! The fallback without Docker: the same `lab-serve` binary as a local
//! process on a free loopback port, detached so it outlives the command that
//! started it. Its stdout (the prediction log) and stderr go to files.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::process::OwnedProcess;
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
    let process = match OwnedProcess::of(pid) {
        Ok(p) => p,
        Err(e) => {
            // Unrecorded, it could never be stopped: stop it now.
            let _ = child.kill();
            let _ = child.wait();
            return Err(e);
        }
    };
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
        process: Some(process),
        upstream: None,
        start_to_ready_ms: ready_ms,
    })
}

/// Log tails read at most this much of each file.
const TAIL_BYTES: u64 = 256 * 1024;
/// One collection reads at most this much of the prediction log; the rest
/// waits for the next (the cursor says where).
const CHUNK_BYTES: u64 = 8 * 1024 * 1024;

/// The bytes of `path` from `offset`, at most `max` of them (an absent file
/// has none).
fn read_from(path: &Path, offset: u64, max: u64) -> Result<(Vec<u8>, u64)> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((vec![], offset)),
        Err(e) => {
            return Err(DeployError::io(
                format!("cannot read {}", path.display()),
                e,
            ));
        }
    };
    let len = f
        .metadata()
        .map_err(|e| DeployError::io(format!("cannot read {}", path.display()), e))?
        .len();
    let start = offset.min(len);
    f.seek(SeekFrom::Start(start))
        .map_err(|e| DeployError::io(format!("cannot read {}", path.display()), e))?;
    let mut buf = Vec::new();
    f.take(max)
        .read_to_end(&mut buf)
        .map_err(|e| DeployError::io(format!("cannot read {}", path.display()), e))?;
    Ok((buf, start))
}

/// The last `tail` lines of each log file (reading only their ends).
pub(crate) fn logs(dir: &Path, tail: usize) -> Result<String> {
    let mut out = String::new();
    for name in ["server.log", "predictions.jsonl"] {
        let path = dir.join(name);
        let len = std::fs::metadata(&path).map_or(0, |m| m.len());
        let (bytes, start) = read_from(&path, len.saturating_sub(TAIL_BYTES), TAIL_BYTES)?;
        let text = String::from_utf8_lossy(&bytes);
        // A cut first line is dropped.
        let text = if start > 0 {
            text.split_once('\n').map_or("", |(_, rest)| rest)
        } else {
            &text
        };
        let lines: Vec<&str> = text.lines().collect();
        for l in &lines[lines.len().saturating_sub(tail)..] {
            out.push_str(l);
            out.push('\n');
        }
    }
    Ok(out)
}

/// Complete prediction-log lines of a local process from byte `offset`
/// (reading from there, not the whole file); returns them and the offset
/// after the last complete line.
pub(crate) fn stdout_lines(dir: &Path, offset: u64) -> Result<(Vec<String>, u64)> {
    let (bytes, start) = read_from(&dir.join("predictions.jsonl"), offset, CHUNK_BYTES)?;
    let Some(end) = bytes.iter().rposition(|&b| b == b'\n') else {
        return Ok((vec![], start));
    };
    let text = String::from_utf8_lossy(&bytes[..end]);
    Ok((
        text.lines().map(str::to_string).collect(),
        start + end as u64 + 1,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prediction_log_is_read_from_the_cursor_in_bounded_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("predictions.jsonl");
        std::fs::write(&path, "{\"seq\":1}\n{\"seq\":2}\n{\"seq\":3").unwrap();
        let (lines, next) = stdout_lines(dir.path(), 0).unwrap();
        assert_eq!(lines, ["{\"seq\":1}", "{\"seq\":2}"]);
        assert_eq!(next, 20);
        // The half-written third line waits; then it is read from the cursor.
        std::fs::write(&path, "{\"seq\":1}\n{\"seq\":2}\n{\"seq\":3}\n").unwrap();
        let (lines, next) = stdout_lines(dir.path(), next).unwrap();
        assert_eq!(lines, ["{\"seq\":3}"]);
        assert_eq!(next, 30);
        // A cursor past the end (a truncated file) reads nothing.
        assert_eq!(stdout_lines(dir.path(), 999).unwrap().0.len(), 0);
        // The tail of a large log reads only its end.
        let big: String = (0..100_000).map(|i| format!("line {i}\n")).collect();
        std::fs::write(dir.path().join("server.log"), big).unwrap();
        let tail = logs(dir.path(), 2).unwrap();
        assert!(tail.starts_with("line 99998\nline 99999\n"), "{tail}");
    }
}
