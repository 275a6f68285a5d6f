//! Package and deploy: a static `lab-serve` binary, a `FROM scratch` image
//! built through the Docker API with an in-memory build context, hardened
//! containers on loopback, and a local-process fallback when Docker is not
//! there.
//!
//! Knows nothing of SQLite, polars or front ends: callers (lab-pipeline)
//! pass paths and names in and keep the records.

mod binary;
mod container;
mod gateway;
mod http;
mod image;
mod load;
mod local;
mod process;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use binary::{
    GATEWAY_BIN_ENV, SERVE_BIN_ENV, STEPS_BIN_ENV, cache_bin_dir, gateway_binary, is_static_elf,
    static_server_binary, steps_binary,
};
pub use gateway::{GATEWAY_TOKEN_ENV, Gateway, GatewayStatus, start_gateway};
pub use http::{Exchange, HttpResponse, MAX_RESPONSE_BYTES, exchange, get, post};
pub use image::{ImageInfo, dockerfile, image_tag, steps_dockerfile, write_build_context};
pub use load::{LoadRequest, Outcome, load_closed, run_closed, run_load};
pub use process::{OwnedProcess, Terminated};

/// Label every container and image of ours carries; nothing without it is
/// ever touched.
pub const MANAGED_LABEL: &str = "dev.mlops-lab.managed";
/// Label naming the lab home (its id) a container or image belongs to:
/// removing "everything" of one lab home leaves other homes' alone.
pub const HOME_LABEL: &str = "dev.mlops-lab.home";
/// Port the server listens on inside the container.
pub const CONTAINER_PORT: u16 = 8080;

#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error(
        "Docker is not available ({0}). Install Docker (Debian: apt-get install docker.io), start it (systemctl start docker, or run dockerd), and make sure you may use it: join the docker group (sudo usermod -aG docker $USER, then log in again)"
    )]
    DockerUnavailable(String),
    #[error("cannot build the model server: {0}")]
    Binary(String),
    #[error("image build failed: {0}")]
    Build(String),
    #[error("Docker error: {0}")]
    Docker(String),
    #[error("the server did not become ready within {seconds} s; its last log lines:\n{logs}")]
    NotReady { seconds: u64, logs: String },
    #[error(
        "`{0}` is not a deployment of MLOps Lab (it lacks the {MANAGED_LABEL} label); refusing to touch it"
    )]
    NotOurs(String),
    #[error("deployment `{0}` not found")]
    NotFound(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Http(String),
}

impl DeployError {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        DeployError::Io {
            context: context.into(),
            source,
        }
    }
}

pub type Result<T, E = DeployError> = std::result::Result<T, E>;

/// What to deploy.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeploySpec {
    pub model_name: String,
    pub model_version: i64,
    pub run_id: String,
    /// The `model.json` artifact.
    pub artifact: PathBuf,
    /// Where to write the generated Dockerfile for the learner to read.
    pub dockerfile_out: Option<PathBuf>,
    /// Folder for a local process's logs.
    pub local_dir: PathBuf,
    /// The lab home's id ([`HOME_LABEL`] on the image and container).
    pub home_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Runtime {
    Docker,
    Local,
}

impl Runtime {
    pub fn as_str(self) -> &'static str {
        match self {
            Runtime::Docker => "docker",
            Runtime::Local => "local",
        }
    }
}

/// A running model server.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Deployment {
    pub runtime: Runtime,
    /// Container id (Docker) or `local-<pid>`.
    pub id: String,
    pub name: String,
    pub endpoint: String,
    pub host_port: u16,
    pub model_name: String,
    pub model_version: i64,
    pub run_id: String,
    pub image_id: Option<String>,
    pub image_tag: Option<String>,
    pub image_size_bytes: Option<i64>,
    /// A local process: what identifies it (checked before any signal).
    pub process: Option<OwnedProcess>,
    /// Where a gateway on this host should forward to, when it is not
    /// `endpoint`: the container's bridge address (Linux), which skips
    /// docker-proxy. `endpoint` stays for the learner's own calls.
    pub upstream: Option<String>,
    /// Container (or process) start to `/v2/health/ready` answering.
    pub start_to_ready_ms: u64,
}

/// Progress lines from long work (image build output, waiting, ...).
pub type Progress<'a> = &'a dyn Fn(&str);

/// Deploys through Docker, or as a local process.
pub struct Deployer {
    rt: tokio::runtime::Runtime,
    docker: std::result::Result<bollard::Docker, String>,
}

impl Deployer {
    /// Connect to the local Docker daemon; a missing daemon is not an error
    /// here (`docker_available` tells, and `deploy` can fall back).
    pub fn new() -> Result<Self> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| DeployError::io("cannot start the async runtime", e))?;
        let docker = rt.block_on(async {
            let d = bollard::Docker::connect_with_local_defaults().map_err(|e| e.to_string())?;
            let d = d.negotiate_version().await.map_err(|e| e.to_string())?;
            d.ping().await.map_err(|e| e.to_string())?;
            Ok::<_, String>(d)
        });
        Ok(Deployer { rt, docker })
    }

    /// Ask the daemon again (one ping on the connection made before): true
    /// while it still answers.
    pub fn still_answers(&self) -> bool {
        match &self.docker {
            Ok(d) => self.rt.block_on(d.ping()).is_ok(),
            Err(_) => false,
        }
    }

    pub fn docker_available(&self) -> std::result::Result<(), DeployError> {
        self.docker
            .as_ref()
            .map(|_| ())
            .map_err(|e| DeployError::DockerUnavailable(e.clone()))
    }

    fn docker(&self) -> Result<&bollard::Docker> {
        self.docker
            .as_ref()
            .map_err(|e| DeployError::DockerUnavailable(e.clone()))
    }

    /// Build the image and run it (Docker), or run the binary as a local
    /// process (`local`). Returns once `/v2/health/ready` answers.
    pub fn deploy(&self, spec: &DeploySpec, local: bool, progress: Progress) -> Result<Deployment> {
        let bin = static_server_binary()?;
        progress(&format!("static model server: {}", bin.display()));
        if local {
            return local::run(&bin, spec, progress);
        }
        let docker = self.docker()?;
        self.rt.block_on(async {
            let image = image::build(docker, spec, &bin, progress).await?;
            container::run(docker, spec, &image, progress).await
        })
    }

    /// Our running deployments, as Docker and the process table see them.
    /// Build the steps image of exported Kubeflow pipelines, `tag`, from
    /// the static `mlops-lab` and `lab-serve` and the `sample_data` folder.
    pub fn build_steps_image(
        &self,
        tag: &str,
        sample_data: &std::path::Path,
        home_id: &str,
        progress: Progress,
    ) -> Result<ImageInfo> {
        let cli = steps_binary()?;
        let serve = static_server_binary()?;
        progress(&format!("static mlops-lab: {}", cli.display()));
        let docker = self.docker()?;
        self.rt.block_on(image::build_steps(
            docker,
            tag,
            &cli,
            &serve,
            sample_data,
            home_id,
            progress,
        ))
    }

    pub fn list_containers(&self) -> Result<Vec<container::ContainerState>> {
        let docker = self.docker()?;
        self.rt.block_on(container::list(docker))
    }

    /// Stop and remove a deployment (container or local process). A local
    /// process is signalled only if it is still the one recorded.
    pub fn stop(&self, runtime: Runtime, id: &str, process: Option<&OwnedProcess>) -> Result<()> {
        match runtime {
            Runtime::Local => match process {
                Some(p) => p.terminate().map(|_| ()),
                None => {
                    tracing::warn!(
                        id,
                        "no process identity recorded (an earlier release): not signalling it"
                    );
                    Ok(())
                }
            },
            Runtime::Docker => {
                let docker = self.docker()?;
                self.rt.block_on(container::stop(docker, id))
            }
        }
    }

    /// Whether a deployment is still up.
    pub fn is_running(&self, runtime: Runtime, id: &str, process: Option<&OwnedProcess>) -> bool {
        match runtime {
            Runtime::Local => process.is_some_and(OwnedProcess::is_running),
            Runtime::Docker => match &self.docker {
                Ok(d) => self.rt.block_on(container::running(d, id)),
                Err(_) => false,
            },
        }
    }

    /// The last `tail` log lines (stdout: the prediction log; stderr: the
    /// server's own log).
    pub fn logs(
        &self,
        runtime: Runtime,
        id: &str,
        local_dir: &std::path::Path,
        tail: usize,
    ) -> Result<String> {
        match runtime {
            Runtime::Local => local::logs(local_dir, tail),
            Runtime::Docker => {
                let docker = self.docker()?;
                self.rt.block_on(container::logs(docker, id, tail))
            }
        }
    }

    /// New prediction-log lines of a deployment. Docker: complete stdout
    /// lines since `cursor` (Unix seconds); local: complete lines of its log
    /// file from byte `cursor`. Returns the lines and the next cursor. The
    /// Docker cursor overlaps by a few seconds: callers deduplicate (every
    /// line carries `instance` + `seq`).
    pub fn prediction_log(
        &self,
        runtime: Runtime,
        id: &str,
        local_dir: &std::path::Path,
        cursor: i64,
    ) -> Result<(Vec<String>, i64)> {
        match runtime {
            Runtime::Local => {
                let (lines, next) = local::stdout_lines(local_dir, cursor.max(0) as u64)?;
                Ok((lines, next as i64))
            }
            Runtime::Docker => {
                let docker = self.docker()?;
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs() as i64)
                    .unwrap_or(0);
                let lines = self
                    .rt
                    .block_on(container::stdout_lines(docker, id, cursor))?;
                Ok((lines, (now - 5).max(0)))
            }
        }
    }

    /// A container's current address on Docker's bridge, if the host
    /// reaches it there (it can change when the container restarts).
    pub fn bridge_upstream(&self, id: &str) -> Option<String> {
        let docker = self.docker.as_ref().ok()?;
        self.rt.block_on(container::bridge_upstream(docker, id))
    }

    /// Restart a container of ours in place (a crash-and-recover drill).
    pub fn restart(&self, id: &str) -> Result<()> {
        let docker = self.docker()?;
        self.rt.block_on(container::restart(docker, id))
    }

    /// Remove every container and image of the lab home `home_id` (both
    /// labels: ours, and that home's); returns what was removed
    /// (`container <name>`, `image <tag>`). Other homes' are left alone.
    pub fn remove_all(&self, home_id: &str) -> Result<Vec<String>> {
        let docker = self.docker()?;
        self.rt.block_on(async {
            let mut removed = vec![];
            for c in container::list(docker).await? {
                if c.labels.get(HOME_LABEL).map(String::as_str) != Some(home_id) {
                    continue;
                }
                container::force_remove(docker, &c.id).await?;
                removed.push(format!("container {}", c.name));
            }
            for (id, shown) in image::list(docker, home_id).await? {
                image::remove(docker, &id, Some(home_id)).await?;
                removed.push(format!("image {shown}"));
            }
            Ok(removed)
        })
    }

    /// Run a load of HTTP requests at a fixed rate (see [`run_load`]).
    pub fn load(
        &self,
        endpoint: &str,
        requests: Vec<LoadRequest>,
        rps: f64,
        progress: &dyn Fn(usize, usize),
        stop: &dyn Fn() -> bool,
    ) -> Vec<Outcome> {
        self.rt
            .block_on(run_load(endpoint, requests, rps, progress, stop))
    }

    /// Remove an image of ours.
    pub fn remove_image(&self, image: &str) -> Result<()> {
        let docker = self.docker()?;
        self.rt.block_on(image::remove(docker, image, None))
    }
}

/// A free TCP port on 127.0.0.1 (the OS picks it).
pub fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| DeployError::io("cannot find a free port on 127.0.0.1", e))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| DeployError::io("cannot find a free port on 127.0.0.1", e))
}

/// Poll `/v2/health/ready` until it answers 200 or `timeout` passes.
pub(crate) async fn wait_ready(port: u16, timeout: std::time::Duration) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Ok(r) =
            http::get_async(&format!("http://127.0.0.1:{port}"), "/v2/health/ready").await
            && r.status == 200
        {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}
