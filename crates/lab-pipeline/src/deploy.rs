//! Package → Deploy: a registered model version into a running server.

use lab_deploy::{DeploySpec, OwnedProcess, Runtime};
use lab_store::{DeploymentRecord, DeploymentRuntime, DeploymentState, now_ms};
use serde::{Deserialize, Serialize};

use crate::events::{Event, Stage, stage};
use crate::lab::Lab;
use crate::request::ModelRef;
use crate::{PipelineError, Result};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeployResult {
    #[serde(flatten)]
    pub deployment: DeploymentRecord,
    /// Why a Docker deploy became a local process, if it did.
    pub fallback_reason: Option<String>,
    /// The generated Dockerfile, next to the model artifact.
    pub dockerfile: Option<String>,
}

impl From<lab_deploy::DeployError> for PipelineError {
    fn from(e: lab_deploy::DeployError) -> Self {
        PipelineError::Deploy(e)
    }
}

/// What identifies a local deployment's process (`None` for containers, and
/// for records of an earlier release, which are never signalled).
pub(crate) fn process_of(d: &DeploymentRecord) -> Option<OwnedProcess> {
    OwnedProcess::from_parts(d.pid, d.pid_start, d.pid_exe.as_deref())
}

pub(crate) fn runtime_of(d: &DeploymentRecord) -> Runtime {
    match d.runtime {
        DeploymentRuntime::Local => Runtime::Local,
        DeploymentRuntime::Docker => Runtime::Docker,
    }
}

impl Lab {
    /// Build the image and run the model (or, with `local` or without
    /// Docker, run the server as a local process).
    pub fn deploy(
        &self,
        model: &ModelRef,
        local: bool,
        sink: &dyn Fn(Event),
    ) -> Result<DeployResult> {
        let mv = self.resolve_model(model)?;
        // Refuse an artifact this build cannot serve before building anything.
        self.load_artifact(&mv)?;
        let artifact = self.home().confine(&mv.source)?;
        let deployer = self.deployer()?;
        let mut fallback_reason = None;
        let local = if local {
            true
        } else if let Err(e) = deployer.docker_available() {
            let msg = format!("{e} Falling back to a local process so the lesson can go on.");
            sink(Event::StageProgress {
                stage: Stage::Deploy,
                fraction: None,
                message: msg.clone(),
            });
            tracing::warn!("{msg}");
            fallback_reason = Some(e.to_string());
            true
        } else {
            false
        };
        let dockerfile = artifact.with_file_name("Dockerfile");
        let log_dir = format!("deployments/{}-v{}-{}", mv.name, mv.version, now_ms());
        let spec = DeploySpec {
            model_name: mv.name.clone(),
            model_version: mv.version,
            run_id: mv.run_id.clone(),
            artifact,
            dockerfile_out: (!local).then(|| dockerfile.clone()),
            local_dir: self.home().confine(&log_dir)?,
            home_id: self.home().id().to_string(),
        };
        let what = if local {
            "local process"
        } else {
            "Docker container"
        };
        let d = stage(
            sink,
            Stage::Deploy,
            format!("deploying {} v{} as a {what}", mv.name, mv.version),
            || {
                let progress = |line: &str| {
                    sink(Event::StageProgress {
                        stage: Stage::Deploy,
                        fraction: None,
                        message: line.to_string(),
                    })
                };
                let d = deployer.deploy(&spec, local, &progress)?;
                let msg = format!("{} ready in {} ms", d.endpoint, d.start_to_ready_ms);
                Ok::<_, PipelineError>((d, msg))
            },
        )?;
        let record = DeploymentRecord {
            deployment_id: d.id.clone(),
            runtime: match d.runtime {
                Runtime::Docker => DeploymentRuntime::Docker,
                Runtime::Local => DeploymentRuntime::Local,
            },
            name: d.name.clone(),
            model_name: d.model_name.clone(),
            model_version: d.model_version,
            run_id: d.run_id.clone(),
            endpoint: d.endpoint.clone(),
            host_port: d.host_port as i64,
            image_id: d.image_id.clone(),
            image_tag: d.image_tag.clone(),
            image_size_bytes: d.image_size_bytes,
            pid: d.process.as_ref().map(|p| p.pid as i64),
            pid_start: d.process.as_ref().map(|p| p.start_ticks as i64),
            pid_exe: d.process.as_ref().map(|p| p.exe.clone()),
            upstream: d.upstream.clone(),
            log_dir: local.then(|| log_dir.clone()),
            start_to_ready_ms: d.start_to_ready_ms as i64,
            status: DeploymentState::Running,
            created_at: now_ms(),
            stopped_at: None,
        };
        self.store.insert_deployment(&record)?;
        Ok(DeployResult {
            deployment: record,
            fallback_reason,
            dockerfile: (!local).then(|| dockerfile.display().to_string()),
        })
    }

    /// Deployments, with those found gone marked stopped.
    pub fn deployments(&self, all: bool) -> Result<Vec<DeploymentRecord>> {
        let running = self.store.list_deployments(true)?;
        if running.is_empty() {
            return Ok(self.store.list_deployments(!all)?);
        }
        let deployer = self.deployer()?;
        for d in running {
            if !deployer.is_running(runtime_of(&d), &d.deployment_id, process_of(&d).as_ref()) {
                self.store.mark_deployment_stopped(&d.deployment_id)?;
            }
        }
        Ok(self.store.list_deployments(!all)?)
    }

    pub fn stop_deployment(&self, key: &str) -> Result<DeploymentRecord> {
        let d = self.store.find_deployment(key)?;
        let deployer = self.deployer()?;
        if d.status == DeploymentState::Running {
            // A served deployment's prediction log goes into the store
            // before the container (and its log) is removed.
            if let Some(service) = self.store.deployment_service(&d.deployment_id)? {
                let mut c = crate::monitor::CollectSummary::default();
                if let Err(e) = self.collect_deployment(&deployer, &d, &service, &mut c) {
                    tracing::warn!(
                        "could not collect the log of {} before stopping: {e}",
                        d.name
                    );
                }
            }
            match deployer.stop(runtime_of(&d), &d.deployment_id, process_of(&d).as_ref()) {
                Ok(()) | Err(lab_deploy::DeployError::NotFound(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        self.store.mark_deployment_stopped(&d.deployment_id)?;
        Ok(self.store.find_deployment(&d.deployment_id)?)
    }

    /// Restart a Docker deployment in place (`docker restart`: SIGTERM,
    /// the grace period, start again), then wait until it answers
    /// `/v2/health/ready` on its endpoint again: a crash-and-recover drill.
    pub fn restart_deployment(&self, key: &str) -> Result<DeploymentRecord> {
        let d = self.store.find_deployment(key)?;
        if d.runtime != DeploymentRuntime::Docker {
            return Err(PipelineError::Invalid(format!(
                "{} is a local process: only a container restarts in place (deploy it without --local, with Docker running)",
                d.name
            )));
        }
        if d.status != DeploymentState::Running {
            return Err(PipelineError::Invalid(format!(
                "{} is stopped: deploy the model again",
                d.name
            )));
        }
        self.deployer()?.restart(&d.deployment_id)?;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            match lab_deploy::get(&d.endpoint, "/v2/health/ready") {
                Ok(r) if r.status == 200 => return Ok(d),
                _ if std::time::Instant::now() > deadline => {
                    return Err(PipelineError::Invalid(format!(
                        "{} did not answer /v2/health/ready within 30 s of its restart: see `mlops-lab deployments logs {}`",
                        d.name, d.name
                    )));
                }
                _ => std::thread::sleep(std::time::Duration::from_millis(100)),
            }
        }
    }

    pub fn deployment_logs(&self, key: &str, tail: usize) -> Result<String> {
        let d = self.store.find_deployment(key)?;
        let deployer = self.deployer()?;
        let local_dir = match &d.log_dir {
            Some(rel) => self.home().confine(rel)?,
            None => self.home().root().to_path_buf(),
        };
        Ok(deployer.logs(runtime_of(&d), &d.deployment_id, &local_dir, tail)?)
    }

    /// Send rows to a deployment's MLflow `/invocations` endpoint.
    pub fn predict(&self, key: &str, input: &PredictInput) -> Result<serde_json::Value> {
        let (body, csv) = match input {
            PredictInput::Row(row) => (mlflow_body(row)?, false),
            PredictInput::Csv(text) => (text.clone(), true),
        };
        let d = self.store.find_deployment(key)?;
        if d.status != DeploymentState::Running {
            return Err(PipelineError::Invalid(format!(
                "deployment {} is stopped: deploy the model again",
                d.name
            )));
        }
        let ct = if csv { "text/csv" } else { "application/json" };
        let r = lab_deploy::post(&d.endpoint, "/invocations", ct, body.as_bytes())?;
        let v: serde_json::Value = serde_json::from_str(&r.body).map_err(|_| {
            PipelineError::Invalid(format!("{} answered {}: {}", d.endpoint, r.status, r.body))
        })?;
        if r.status != 200 {
            return Err(PipelineError::Invalid(format!(
                "the model server refused the request ({}): {}",
                r.status,
                v["message"].as_str().unwrap_or(&r.body)
            )));
        }
        Ok(v)
    }
}

/// What `predict` sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PredictInput {
    /// One row as JSON: an object `{"feature": value}`, a list in feature
    /// order, or a whole MLflow body (`dataframe_split`, ...).
    Row(String),
    /// CSV text with a header row.
    Csv(String),
}

/// A row as an MLflow scoring body: an object is one record, a list one row
/// in feature order, an object with an MLflow key is sent as it is.
fn mlflow_body(row: &str) -> Result<String> {
    let v: serde_json::Value = serde_json::from_str(row).map_err(|e| {
        PipelineError::Invalid(format!(
            "the row must be JSON, {{\"feature\": value, ...}} or [v1, v2, ...]: {e}"
        ))
    })?;
    let keys = [
        "dataframe_split",
        "dataframe_records",
        "instances",
        "inputs",
    ];
    Ok(match &v {
        serde_json::Value::Object(o) if keys.iter().any(|k| o.contains_key(*k)) => v.to_string(),
        serde_json::Value::Object(_) => serde_json::json!({ "dataframe_records": [v] }).to_string(),
        serde_json::Value::Array(_) => serde_json::json!({ "instances": [v] }).to_string(),
        _ => {
            return Err(PipelineError::Invalid(
                "the row must be a JSON object or list".into(),
            ));
        }
    })
}
