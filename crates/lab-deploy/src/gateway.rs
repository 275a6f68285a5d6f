//! Starting and steering `lab-gateway`, the stable endpoint in front of a
//! model's deployments (the role a Kubernetes Service plays).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::process::OwnedProcess;
use crate::{DeployError, Result, http};

/// What the gateway's admin API reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GatewayStatus {
    pub upstream: String,
    pub requests: u64,
    pub errors: u64,
    pub retired: Vec<Retired>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Retired {
    pub upstream: String,
    pub in_flight: u64,
}

/// The environment variable that hands a gateway its admin token.
pub const GATEWAY_TOKEN_ENV: &str = "LAB_GATEWAY_TOKEN";

/// A gateway's admin API: its port and the token made when it was spawned.
#[derive(Clone, PartialEq, Eq)]
pub struct Gateway {
    pub port: u16,
    pub token: String,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("port", &self.port)
            .field("token", &"<redacted>")
            .finish()
    }
}

impl Gateway {
    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn admin(&self, method: &str, path: &str, body: &[u8]) -> Result<http::HttpResponse> {
        let auth = format!("Bearer {}", self.token);
        http::request_json(
            &self.endpoint(),
            method,
            path,
            &[("Authorization", &auth)],
            body,
        )
    }

    /// Its status, if our gateway answers on the port.
    pub fn status(&self) -> Option<GatewayStatus> {
        let r = self.admin("GET", "/-/gateway", b"").ok()?;
        (r.status == 200)
            .then(|| serde_json::from_str(&r.body).ok())
            .flatten()
    }

    /// Point the gateway at `upstream`; new requests go there at once.
    pub fn switch_upstream(&self, upstream: &str) -> Result<()> {
        let body = serde_json::json!({ "upstream": upstream }).to_string();
        let r = self.admin("PUT", "/-/gateway/upstream", body.as_bytes())?;
        if r.status != 200 {
            return Err(DeployError::Http(format!(
                "the gateway refused the switch to {upstream} ({}): {}",
                r.status, r.body
            )));
        }
        Ok(())
    }

    /// Wait until no request is in flight to the retired `upstream`.
    pub fn wait_drained(&self, upstream: &str, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let status = self.status().ok_or_else(|| {
                DeployError::Http(format!(
                    "the gateway on 127.0.0.1:{} stopped answering",
                    self.port
                ))
            })?;
            let busy = status
                .retired
                .iter()
                .filter(|r| r.upstream == upstream)
                .map(|r| r.in_flight)
                .sum::<u64>();
            if busy == 0 {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(DeployError::Http(format!(
                    "{upstream} still had {busy} requests in flight after {} s",
                    timeout.as_secs()
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Start `bin` detached on 127.0.0.1:`port` forwarding to `upstream`, its
/// log in `log_dir/gateway.log`, with a new admin token; returns the gateway
/// and its process once its admin API answers.
pub fn start_gateway(
    bin: &Path,
    port: u16,
    upstream: &str,
    log_dir: &Path,
) -> Result<(Gateway, OwnedProcess)> {
    std::fs::create_dir_all(log_dir)
        .map_err(|e| DeployError::io(format!("cannot create {}", log_dir.display()), e))?;
    let log_path = log_dir.join("gateway.log");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(|e| DeployError::io(format!("cannot open {}", log_path.display()), e))?;
    let gateway = Gateway {
        port,
        token: uuid::Uuid::new_v4().simple().to_string(),
    };
    let mut cmd = Command::new(bin);
    cmd.args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--upstream", upstream])
        // In the environment, not on the command line `ps` shows.
        .env(GATEWAY_TOKEN_ENV, &gateway.token)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| DeployError::io(format!("cannot start {}", bin.display()), e))?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if gateway.status().is_some() {
            return match OwnedProcess::of(child.id()) {
                Ok(process) => Ok((gateway, process)),
                Err(e) => {
                    // Unrecorded, it could never be stopped: stop it now.
                    let _ = child.kill();
                    let _ = child.wait();
                    Err(e)
                }
            };
        }
        if let Ok(Some(status)) = child.try_wait() {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            let last = log.lines().last().unwrap_or("").to_string();
            return Err(DeployError::Http(format!(
                "the gateway on 127.0.0.1:{port} exited ({status}): {last}"
            )));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(DeployError::Http(format!(
                "the gateway on 127.0.0.1:{port} did not answer within 10 s; see {}",
                log_path.display()
            )));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}
