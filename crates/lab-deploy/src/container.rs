//! Hardened containers on loopback, and managing only our own.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::models::{ContainerCreateBody, HostConfig, HostConfigLogConfig, PortBinding};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, ListContainersOptionsBuilder, LogsOptionsBuilder,
    RemoveContainerOptionsBuilder, StopContainerOptionsBuilder,
};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use crate::image::ImageInfo;
use crate::{
    CONTAINER_PORT, DeployError, DeploySpec, Deployment, HOME_LABEL, MANAGED_LABEL, Progress,
    Result, Runtime, free_port, wait_ready,
};

const READY_TIMEOUT: Duration = Duration::from_secs(30);
const MEMORY_BYTES: i64 = 256 * 1024 * 1024;
pub(crate) const LOG_MAX_SIZE: &str = "20m";
pub(crate) const LOG_MAX_FILES: u32 = 5;

/// A container of ours, as Docker reports it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContainerState {
    pub id: String,
    pub name: String,
    pub image: String,
    pub state: String,
    pub status: String,
    pub labels: HashMap<String, String>,
}

pub(crate) async fn run(
    docker: &Docker,
    spec: &DeploySpec,
    image: &ImageInfo,
    progress: Progress<'_>,
) -> Result<Deployment> {
    let port = free_port()?;
    let name = format!(
        "mlops-lab-{}-v{}-{}",
        image
            .tag
            .trim_start_matches("mlops-lab/")
            .split(':')
            .next()
            .unwrap_or("model"),
        spec.model_version,
        port
    );
    let labels: HashMap<String, String> = [
        (MANAGED_LABEL.to_string(), "true".to_string()),
        (
            "dev.mlops-lab.model.name".to_string(),
            spec.model_name.clone(),
        ),
        (
            "dev.mlops-lab.model.version".to_string(),
            spec.model_version.to_string(),
        ),
        ("dev.mlops-lab.run-id".to_string(), spec.run_id.clone()),
        ("dev.mlops-lab.host-port".to_string(), port.to_string()),
        (HOME_LABEL.to_string(), spec.home_id.clone()),
    ]
    .into();
    let container_port = format!("{CONTAINER_PORT}/tcp");
    let host_config = HostConfig {
        port_bindings: Some(
            [(
                container_port.clone(),
                Some(vec![PortBinding {
                    host_ip: Some("127.0.0.1".into()),
                    host_port: Some(port.to_string()),
                }]),
            )]
            .into(),
        ),
        readonly_rootfs: Some(true),
        cap_drop: Some(vec!["ALL".into()]),
        security_opt: Some(vec!["no-new-privileges".into()]),
        memory: Some(MEMORY_BYTES),
        // Equal to the memory limit: no swap on top of it.
        memory_swap: Some(MEMORY_BYTES),
        // The prediction log is the container's stdout: a long traffic run
        // must not fill the disk. Docker rotates at 20 MB, keeping 5 files:
        // 100 MB, above the ~70 MB of a 100,000-request run (the most one
        // traffic run sends), which the lab collects after the run.
        log_config: Some(HostConfigLogConfig {
            typ: Some("json-file".into()),
            config: Some(
                [
                    ("max-size".to_string(), LOG_MAX_SIZE.to_string()),
                    ("max-file".to_string(), LOG_MAX_FILES.to_string()),
                ]
                .into(),
            ),
        }),
        nano_cpus: Some(1_000_000_000),
        pids_limit: Some(64),
        ..Default::default()
    };
    let body = ContainerCreateBody {
        // By id, not tag: another lab home may rebuild the same tag meanwhile.
        image: Some(image.id.clone()),
        labels: Some(labels),
        exposed_ports: Some(vec![container_port]),
        host_config: Some(host_config),
        ..Default::default()
    };
    progress(&format!(
        "docker run {name}: 127.0.0.1:{port} → {CONTAINER_PORT}, read-only, no capabilities, 256 MiB (no swap), 1 CPU, 64 PIDs, logs rotated at {LOG_MAX_SIZE} × {LOG_MAX_FILES}"
    ));
    let created = docker
        .create_container(
            Some(CreateContainerOptionsBuilder::default().name(&name).build()),
            body,
        )
        .await
        .map_err(|e| DeployError::Docker(format!("cannot create the container: {e}")))?;
    let started = Instant::now();
    if let Err(e) = docker.start_container(&created.id, None).await {
        let _ = remove(docker, &created.id).await;
        let msg = e.to_string();
        return Err(DeployError::Docker(
            if msg.contains("address already in use") {
                format!("port {port} was taken before the container started; deploy again ({msg})")
            } else {
                format!("cannot start the container: {msg}")
            },
        ));
    }
    if !wait_ready(port, READY_TIMEOUT).await {
        let logs = logs(docker, &created.id, 40).await.unwrap_or_default();
        let _ = remove(docker, &created.id).await;
        return Err(DeployError::NotReady {
            seconds: READY_TIMEOUT.as_secs(),
            logs,
        });
    }
    let ready_ms = started.elapsed().as_millis() as u64;
    progress(&format!(
        "ready in {ready_ms} ms at http://127.0.0.1:{port}"
    ));
    let upstream = bridge_upstream(docker, &created.id).await;
    if let Some(u) = &upstream {
        progress(&format!(
            "the host reaches the container on Docker's bridge at {u}: the gateway will forward there directly (no docker-proxy hop)"
        ));
    }
    Ok(Deployment {
        runtime: Runtime::Docker,
        id: created.id,
        name,
        endpoint: format!("http://127.0.0.1:{port}"),
        host_port: port,
        model_name: spec.model_name.clone(),
        model_version: spec.model_version,
        run_id: spec.run_id.clone(),
        image_id: Some(image.id.clone()),
        image_tag: Some(image.tag.clone()),
        image_size_bytes: Some(image.size_bytes),
        process: None,
        upstream,
        start_to_ready_ms: ready_ms,
    })
}

/// The container's address on Docker's bridge, if this host reaches it
/// (Linux; not Docker Desktop's VM): `http://IP:8080`, answering ready.
pub(crate) async fn bridge_upstream(docker: &Docker, id: &str) -> Option<String> {
    let c = docker.inspect_container(id, None).await.ok()?;
    let ip = c
        .network_settings?
        .networks?
        .into_values()
        .find_map(|n| n.ip_address.filter(|ip| !ip.is_empty()))?;
    let ip: std::net::Ipv4Addr = ip.parse().ok()?;
    // Only a private bridge address: the gateway forwards nowhere else.
    if !ip.is_private() {
        return None;
    }
    let url = format!("http://{ip}:{CONTAINER_PORT}");
    let probe = crate::http::get_async(&url, "/v2/health/ready");
    match tokio::time::timeout(Duration::from_secs(1), probe).await {
        Ok(Ok(r)) if r.status == 200 => Some(url),
        _ => None,
    }
}

async fn require_ours(docker: &Docker, id: &str) -> Result<()> {
    let c = docker.inspect_container(id, None).await.map_err(|e| {
        if e.to_string().contains("404") || e.to_string().contains("No such container") {
            DeployError::NotFound(id.to_string())
        } else {
            DeployError::Docker(e.to_string())
        }
    })?;
    let ours = c
        .config
        .and_then(|c| c.labels)
        .is_some_and(|l| l.get(MANAGED_LABEL).is_some_and(|v| v == "true"));
    if ours {
        Ok(())
    } else {
        Err(DeployError::NotOurs(id.to_string()))
    }
}

async fn remove(docker: &Docker, id: &str) -> Result<()> {
    docker
        .remove_container(
            id,
            Some(RemoveContainerOptionsBuilder::default().force(true).build()),
        )
        .await
        .map_err(|e| DeployError::Docker(e.to_string()))
}

/// Remove a container of ours, running or not.
pub(crate) async fn force_remove(docker: &Docker, id: &str) -> Result<()> {
    require_ours(docker, id).await?;
    remove(docker, id).await
}

pub(crate) async fn running(docker: &Docker, id: &str) -> bool {
    docker
        .inspect_container(id, None)
        .await
        .ok()
        .and_then(|c| c.state)
        .and_then(|s| s.running)
        .unwrap_or(false)
}

/// Stop (SIGTERM, then the grace period: requests in flight finish) and
/// remove a container of ours.
pub(crate) async fn stop(docker: &Docker, id: &str) -> Result<()> {
    require_ours(docker, id).await?;
    docker
        .stop_container(
            id,
            Some(StopContainerOptionsBuilder::default().t(10).build()),
        )
        .await
        .map_err(|e| DeployError::Docker(e.to_string()))?;
    remove(docker, id).await
}

/// Complete stdout lines (the prediction log) written since `since_secs`
/// (Unix seconds; 0 for all).
pub(crate) async fn stdout_lines(
    docker: &Docker,
    id: &str,
    since_secs: i64,
) -> Result<Vec<String>> {
    require_ours(docker, id).await?;
    let opts = LogsOptionsBuilder::default()
        .stdout(true)
        .stderr(false)
        .since(since_secs.clamp(0, i32::MAX as i64) as i32)
        .build();
    let mut s = docker.logs(id, Some(opts));
    let mut buf = Vec::new();
    while let Some(chunk) = s.next().await {
        let chunk = chunk.map_err(|e| DeployError::Docker(e.to_string()))?;
        buf.extend_from_slice(&chunk.into_bytes());
    }
    let text = String::from_utf8_lossy(&buf);
    // A last line without its newline is still being written: left for the
    // next collection.
    let complete = text.rfind('\n').map_or("", |i| &text[..i]);
    Ok(complete.lines().map(str::to_string).collect())
}

/// Restart a container of ours (SIGTERM, grace period, start again).
pub(crate) async fn restart(docker: &Docker, id: &str) -> Result<()> {
    require_ours(docker, id).await?;
    docker
        .restart_container(
            id,
            Some(
                bollard::query_parameters::RestartContainerOptionsBuilder::default()
                    .t(10)
                    .build(),
            ),
        )
        .await
        .map_err(|e| DeployError::Docker(e.to_string()))
}

pub(crate) async fn logs(docker: &Docker, id: &str, tail: usize) -> Result<String> {
    require_ours(docker, id).await?;
    let opts = LogsOptionsBuilder::default()
        .stdout(true)
        .stderr(true)
        .tail(&tail.to_string())
        .build();
    let mut s = docker.logs(id, Some(opts));
    let mut out = String::new();
    while let Some(chunk) = s.next().await {
        let chunk = chunk.map_err(|e| DeployError::Docker(e.to_string()))?;
        out.push_str(&chunk.to_string());
    }
    Ok(out)
}

pub(crate) async fn list(docker: &Docker) -> Result<Vec<ContainerState>> {
    let filters: HashMap<String, Vec<String>> =
        [("label".to_string(), vec![format!("{MANAGED_LABEL}=true")])].into();
    let list = docker
        .list_containers(Some(
            ListContainersOptionsBuilder::default()
                .all(true)
                .filters(&filters)
                .build(),
        ))
        .await
        .map_err(|e| DeployError::Docker(e.to_string()))?;
    Ok(list
        .into_iter()
        .map(|c| ContainerState {
            id: c.id.unwrap_or_default(),
            name: c
                .names
                .and_then(|n| n.first().cloned())
                .unwrap_or_default()
                .trim_start_matches('/')
                .to_string(),
            image: c.image.unwrap_or_default(),
            state: c
                .state
                .map(|s| format!("{s:?}").to_lowercase())
                .unwrap_or_default(),
            status: c.status.unwrap_or_default(),
            labels: c.labels.unwrap_or_default(),
        })
        .collect())
}
