//! What a front end shows at a glance, read-only: the state of each
//! pipeline stage, Docker's availability and the deployments' live health.

use lab_store::{DeploymentRecord, DeploymentState, WindowRecord, now_ms};
use serde::{Deserialize, Serialize};

use crate::Result;
use crate::events::Stage;
use crate::files::DataActivity;
use crate::lab::Lab;
use crate::runs::headline_metric;

/// `done`: the stage has a result; `idle`: nothing yet; `warn`: its latest
/// result needs attention (failed run, drift, stopped deployment).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StageHealth {
    Done,
    Idle,
    Warn,
}

/// One stage of the pipeline strip.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StageState {
    pub stage: Stage,
    pub health: StageHealth,
    /// One short line: "wine-quality-red profiled", "v3 champion", ...
    pub headline: String,
    pub detail: String,
    /// When its latest result happened (ms since the epoch).
    pub at: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Overview {
    pub stages: Vec<StageState>,
    pub lab_home: String,
}

/// Whether containers can be used, and what to do when they cannot.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DockerStatus {
    pub available: bool,
    pub message: String,
}

/// A deployment with its live health.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeploymentStatus {
    #[serde(flatten)]
    pub deployment: DeploymentRecord,
    pub service: Option<String>,
    /// `ready`, `not ready (HTTP 503)`, `unreachable: …` or `stopped`.
    pub health: String,
    pub ready: bool,
}

fn ago(at: i64) -> String {
    let s = ((now_ms() - at) / 1000).max(0);
    match s {
        0..=59 => format!("{s} s ago"),
        60..=3599 => format!("{} min ago", s / 60),
        3600..=86_399 => format!("{} h ago", s / 3600),
        _ => format!("{} days ago", s / 86_400),
    }
}

impl Lab {
    /// Docker's availability, with what to do when it is missing.
    pub fn docker_status(&self) -> DockerStatus {
        let status = self
            .deployer()
            .map_err(|e| e.to_string())
            .and_then(|d| d.docker_available().map_err(|e| e.to_string()));
        match status {
            Ok(()) => DockerStatus {
                available: true,
                message: "Docker is running: models are served in containers".into(),
            },
            Err(e) => DockerStatus {
                available: false,
                message: format!(
                    "{e}. Until then, deploys run the model server as a local process (same API, no container)."
                ),
            },
        }
    }

    /// The state of every stage, from the store.
    pub fn overview(&self) -> Result<Overview> {
        let mut stages = Vec::with_capacity(7);
        let mut push = |stage, health, headline: String, detail: String, at| {
            stages.push(StageState {
                stage,
                health,
                headline,
                detail,
                at,
            })
        };
        // Data: the dataset profiled or validated last.
        match self.store.activity::<DataActivity>(DataActivity::KIND)? {
            Some((
                name,
                DataActivity::Validated {
                    rows,
                    passed,
                    failed,
                },
                at,
            )) => push(
                Stage::Data,
                if failed == 0 {
                    StageHealth::Done
                } else {
                    StageHealth::Warn
                },
                format!("{name} validated"),
                format!(
                    "{rows} rows, {passed} expectations passed, {failed} failed, {}",
                    ago(at)
                ),
                Some(at),
            ),
            Some((name, DataActivity::Profiled { rows, columns }, at)) => push(
                Stage::Data,
                StageHealth::Done,
                format!("{name} profiled"),
                format!("{rows} rows × {columns} columns, {}", ago(at)),
                Some(at),
            ),
            None => push(
                Stage::Data,
                StageHealth::Idle,
                "no dataset profiled yet".into(),
                "open Data and profile a dataset".into(),
                None,
            ),
        }
        // Train: the latest run.
        let runs = self.store.list_runs(&lab_store::RunFilter::default())?;
        match runs.first() {
            Some(r) => {
                let key = headline_metric(r)
                    .map(|(k, v)| format!("{k} {v:.3}"))
                    .unwrap_or_default();
                push(
                    Stage::Train,
                    if r.status == lab_store::RunStatus::Finished {
                        StageHealth::Done
                    } else {
                        StageHealth::Warn
                    },
                    r.run_name.clone(),
                    format!("{} · {key} · {}", r.status.as_str(), ago(r.start_time)),
                    Some(r.start_time),
                )
            }
            None => push(
                Stage::Train,
                StageHealth::Idle,
                "no run yet".into(),
                "train a model from Data".into(),
                None,
            ),
        }
        // Validate: the champions that passed their gate.
        let models = self.store.list_registered_models()?;
        let champions: Vec<String> = models
            .iter()
            .filter_map(|m| {
                m.aliases
                    .get("champion")
                    .map(|v| format!("{} v{v}", m.name))
            })
            .collect();
        let latest_model = models.iter().map(|m| m.last_updated_time).max();
        match champions.first() {
            Some(c) => push(
                Stage::Validate,
                StageHealth::Done,
                format!("champion {c}"),
                if champions.len() > 1 {
                    format!("{} more champion(s)", champions.len() - 1)
                } else {
                    "passed its validation gate".into()
                },
                latest_model,
            ),
            None => push(
                Stage::Validate,
                StageHealth::Idle,
                "no champion yet".into(),
                "register a run that passes its gate".into(),
                None,
            ),
        }
        // Package and Deploy: the latest deployment, and what runs.
        let deployments = self.store.list_deployments(false)?;
        match deployments.iter().find(|d| d.image_tag.is_some()) {
            Some(d) => push(
                Stage::Package,
                StageHealth::Done,
                d.image_tag.clone().unwrap_or_default(),
                format!(
                    "FROM scratch, {:.1} MB, {}",
                    d.image_size_bytes.unwrap_or(0) as f64 / 1e6,
                    ago(d.created_at)
                ),
                Some(d.created_at),
            ),
            None => push(
                Stage::Package,
                StageHealth::Idle,
                "no image yet".into(),
                "deploy a model to build its image".into(),
                None,
            ),
        }
        let running: Vec<&DeploymentRecord> = deployments
            .iter()
            .filter(|d| d.status == DeploymentState::Running)
            .collect();
        match (running.first(), deployments.first()) {
            (Some(d), _) => push(
                Stage::Deploy,
                StageHealth::Done,
                format!("{} v{} running", d.model_name, d.model_version),
                format!(
                    "{} at {}{}",
                    d.runtime,
                    d.endpoint,
                    if running.len() > 1 {
                        format!(" (+{} more)", running.len() - 1)
                    } else {
                        String::new()
                    }
                ),
                Some(d.created_at),
            ),
            (None, Some(d)) => push(
                Stage::Deploy,
                StageHealth::Warn,
                "nothing running".into(),
                format!("last: {} v{} ({})", d.model_name, d.model_version, d.status),
                d.stopped_at,
            ),
            (None, None) => push(
                Stage::Deploy,
                StageHealth::Idle,
                "nothing deployed".into(),
                "roll a champion out from Models".into(),
                None,
            ),
        }
        // Monitor: the latest window of any service.
        let mut latest: Option<WindowRecord> = None;
        let mut retrains = vec![];
        for s in self.store.list_services()? {
            if let Some(w) = self
                .store
                .list_windows(&s.name)?
                .into_iter()
                .max_by_key(|w| w.end_ms)
                && latest.as_ref().is_none_or(|l| w.end_ms > l.end_ms)
            {
                latest = Some(w);
            }
            retrains.extend(self.store.list_retrains(&s.name)?);
        }
        match latest {
            Some(w) => {
                let drift = w.dataset_drift.unwrap_or(false);
                push(
                    Stage::Monitor,
                    if drift {
                        StageHealth::Warn
                    } else {
                        StageHealth::Done
                    },
                    match (w.dataset_drift, w.drift_share) {
                        (Some(true), Some(s)) => format!("drift: {:.0}% of features", s * 100.0),
                        (Some(false), Some(s)) => {
                            format!("no drift ({:.0}% of features)", s * 100.0)
                        }
                        _ => "too few rows for a drift verdict".into(),
                    },
                    format!(
                        "{} · {} requests · {}",
                        w.service,
                        w.requests,
                        ago(w.end_ms)
                    ),
                    Some(w.end_ms),
                )
            }
            None => push(
                Stage::Monitor,
                StageHealth::Idle,
                "no traffic monitored yet".into(),
                "send traffic from Monitoring".into(),
                None,
            ),
        }
        match retrains.iter().max_by_key(|r| r.created_at) {
            Some(r) => push(
                Stage::Retrain,
                StageHealth::Done,
                match (r.promoted, r.challenger_version) {
                    (true, Some(v)) => format!("v{v} promoted"),
                    (false, Some(v)) => format!("v{v} kept as challenger"),
                    (_, None) => "no challenger trained".into(),
                },
                format!("{} · {}", r.reason, ago(r.created_at)),
                Some(r.created_at),
            ),
            None => push(
                Stage::Retrain,
                StageHealth::Idle,
                "no retrain yet".into(),
                "an alert with retrain on starts one".into(),
                None,
            ),
        }
        Ok(Overview {
            stages,
            lab_home: self.home().root().display().to_string(),
        })
    }

    /// Deployments (running first) with a live readiness probe of each.
    pub fn deployment_statuses(&self, all: bool) -> Result<Vec<DeploymentStatus>> {
        let mut out = vec![];
        for d in self.deployments(all)? {
            let service = self.store.deployment_service(&d.deployment_id)?;
            let (health, ready) = if d.status != DeploymentState::Running {
                ("stopped".to_string(), false)
            } else {
                match lab_deploy::get(&d.endpoint, "/v2/health/ready") {
                    Ok(r) if r.status == 200 => ("ready".into(), true),
                    Ok(r) => (format!("not ready (HTTP {})", r.status), false),
                    Err(e) => (format!("unreachable: {e}"), false),
                }
            };
            out.push(DeploymentStatus {
                deployment: d,
                service,
                health,
                ready,
            });
        }
        out.sort_by_key(|d| d.deployment.status != DeploymentState::Running);
        Ok(out)
    }
}
