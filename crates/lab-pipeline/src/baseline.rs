//! The lab's own model server as a baseline: the model a train request
//! describes, fitted on the lab's split but not recorded as a run, served by
//! the static `lab-serve` as a local process on a free loopback port, for a
//! side-by-side against another server (the FastAPI exercise's). Stopped,
//! and its files removed, when dropped.

use std::collections::BTreeMap;
use std::path::PathBuf;

use lab_deploy::{DeploySpec, OwnedProcess};
use lab_store::now_ms;

use crate::helpers::{HELPERS_DIR, HelperRecord};
use crate::lab::Lab;
use crate::request::TrainRequest;
use crate::{PipelineError, Result};

/// A running baseline server.
pub struct BaselineServer {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    pub pid: u32,
    /// The model's test metrics on the lab's split.
    pub metrics: BTreeMap<String, f64>,
    /// Its class labels (classification).
    pub classes: Vec<String>,
    /// The model's feature columns, in order.
    pub features: Vec<String>,
    process: Option<OwnedProcess>,
    dir: PathBuf,
    /// Its record while it runs (see [`Lab::sweep_helpers`]).
    record: Option<HelperRecord>,
}

impl BaselineServer {
    /// Stop the server and remove its files (also done on drop).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(p) = self.process.take()
            && let Err(e) = p.terminate()
        {
            tracing::warn!(pid = p.pid, "could not stop the baseline server: {e}");
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        self.record.take();
    }
}

impl Drop for BaselineServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl Lab {
    /// Fit `req`'s model (no run is recorded) and serve it with `lab-serve`
    /// as a local process on 127.0.0.1.
    pub fn baseline_server(&self, req: &TrainRequest) -> Result<BaselineServer> {
        lab_train::resolve_params(req.model, &req.params)?;
        self.sweep_helpers();
        let prepared = self.prepare(req)?;
        let seed = req.seed.unwrap_or(42);
        let out = lab_train::train(&prepared, req.model, &req.params, seed)?;
        let rel = format!("{HELPERS_DIR}/baseline-{}-{}", std::process::id(), now_ms());
        let artifact = self
            .home()
            .write_atomic(format!("{rel}/model.json"), &out.artifact.to_json_bytes())?;
        let dir = self.home().confine(&rel)?;
        let name = format!("{}-baseline", prepared.task.dataset);
        let spec = DeploySpec {
            model_name: name.clone(),
            model_version: 1,
            run_id: String::new(),
            artifact,
            dockerfile_out: None,
            local_dir: dir.clone(),
            home_id: self.home().id().to_string(),
        };
        let deployed = self
            .deployer()
            .and_then(|d| Ok(d.deploy(&spec, true, &|_: &str| {})?));
        let d = match deployed {
            Ok(d) => d,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(e);
            }
        };
        let Some(process) = d.process else {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(PipelineError::Invalid(
                "the baseline server started without a process to stop".into(),
            ));
        };
        tracing::info!(endpoint = %d.endpoint, pid = process.pid, "baseline server ready");
        let record = match self.track_helper(process.pid, Some(dir.clone())) {
            Ok(r) => Some(r),
            Err(e) => {
                tracing::warn!("the baseline server runs unrecorded: {e}");
                None
            }
        };
        Ok(BaselineServer {
            endpoint: d.endpoint,
            pid: process.pid,
            metrics: out.test.metrics,
            classes: out.artifact.classes.clone(),
            features: out
                .artifact
                .preprocessor
                .features
                .iter()
                .map(|f| f.name.clone())
                .collect(),
            process: Some(process),
            dir,
            record,
        })
    }
}
