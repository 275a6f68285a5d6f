//! The whole pipeline, headless: Data → Train → Validate → Package →
//! Deploy → Monitor → Retrain on a drift scenario, and `reset`.

use std::time::Instant;

use lab_model::{ModelKind, Task};
use lab_monitor::DriftConfig;
use serde::{Deserialize, Serialize};

use crate::events::{Event, Stage, stage};
use crate::lab::Lab;
use crate::monitor::WindowResult;
use crate::request::{DataSource, ModelRef, TrainRequest, default_model_name};
use crate::retrain::RetrainResult;
use crate::service::RolloutResult;
use crate::traffic::{TrafficMix, TrafficRequest, TrafficSummary};
use crate::{PipelineError, Result};

/// The default scenario of `pipeline run`.
pub const DEFAULT_SCENARIO: &str = "auto-mpg-drift";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PipelineRequest {
    pub scenario: String,
    /// Requests of drifted traffic sent in the Monitor stage.
    pub requests: usize,
    pub rps: f64,
    /// Run servers as local processes instead of containers.
    pub local: bool,
}

impl Default for PipelineRequest {
    fn default() -> Self {
        PipelineRequest {
            scenario: DEFAULT_SCENARIO.into(),
            requests: 300,
            rps: 200.0,
            local: false,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StageTiming {
    pub stage: Stage,
    pub millis: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PipelineSummary {
    pub dataset: String,
    pub scenario: String,
    pub service: String,
    pub endpoint: String,
    pub run_id: String,
    pub model: String,
    pub version: i64,
    pub image: Option<String>,
    pub image_size_bytes: Option<i64>,
    pub runtime: lab_store::DeploymentRuntime,
    pub traffic: TrafficSummary,
    pub window: WindowResult,
    pub dataset_drift: Option<bool>,
    pub drift_share: Option<f64>,
    pub drifted_features: Vec<String>,
    pub alerts: Vec<String>,
    pub retrain: Option<RetrainResult>,
    /// The version serving at the end.
    pub serving_version: i64,
    pub timings: Vec<StageTiming>,
    pub total_seconds: f64,
    pub lab_home: String,
}

impl Lab {
    /// Run the whole pipeline on `req.scenario`: train on its reference
    /// slice, deploy behind the service's stable endpoint, send drifted
    /// traffic with late labels, collect and evaluate a monitoring window,
    /// and retrain (and roll out) when an alert asks for it.
    pub fn run_pipeline(
        &self,
        req: &PipelineRequest,
        sink: &dyn Fn(Event),
    ) -> Result<PipelineSummary> {
        crate::traffic::check_load(req.requests, req.rps)?;
        let t0 = Instant::now();
        let timings = std::cell::RefCell::new(Vec::<StageTiming>::new());
        // The retrain's own train and deploy count as Retrain time.
        let retraining = std::cell::Cell::new(false);
        let sink = |e: Event| {
            if let Event::StageFinished { stage, millis, .. } = &e
                && !retraining.get()
            {
                timings.borrow_mut().push(StageTiming {
                    stage: *stage,
                    millis: *millis,
                });
            }
            sink(e)
        };
        let (spec, sc) = self.catalog.scenario(&req.scenario)?;
        let dataset = spec.name.clone();
        let target = spec.target(None)?;
        let service = dataset.clone();

        stage(&sink, Stage::Data, format!("validating {dataset}"), || {
            let report = self.validate(&DataSource::Catalog {
                name: dataset.clone(),
            })?;
            if !report.success() {
                return Err(PipelineError::Invalid(format!(
                    "data validation failed: {} of {} expectations; see `mlops-lab data validate {dataset}`",
                    report.failed,
                    report.failed + report.passed
                )));
            }
            Ok((
                (),
                format!(
                    "{} rows, {} expectations passed",
                    report.rows, report.passed
                ),
            ))
        })?;

        let model = match target.task {
            Task::Regression => ModelKind::LinearRegression,
            _ => ModelKind::LogisticRegression,
        };
        let train_req = TrainRequest {
            experiment: Some(format!("{}-pipeline", sc.name)),
            ..TrainRequest::new(
                DataSource::Scenario {
                    name: dataset.clone(),
                    scenario: sc.name.clone(),
                },
                model,
            )
        };
        let trained = self.train(&train_req, &sink)?;
        let name = default_model_name(&trained.dataset, &trained.target);
        let mv = self.register(&trained.run_id, &name)?;
        let promote = trained.gate.passed
            && trained
                .champion
                .as_ref()
                .is_none_or(|c| c.comparison.challenger_wins);
        self.set_alias(
            &name,
            mv.version,
            if promote { "champion" } else { "challenger" },
        )?;
        let serve = if promote {
            mv.clone()
        } else {
            self.resolve_model(&ModelRef::Alias(name.clone(), "champion".into()))
                .unwrap_or(mv.clone())
        };

        self.checkpoint("packaging")?;
        stage(
            &sink,
            Stage::Package,
            "finding the static model server and gateway",
            || {
                let bin = lab_deploy::static_server_binary()?;
                lab_deploy::gateway_binary()?;
                let size = std::fs::metadata(&bin).map(|m| m.len()).unwrap_or(0);
                Ok::<_, PipelineError>((
                    (),
                    format!("{} ({:.1} MB)", bin.display(), size as f64 / 1e6),
                ))
            },
        )?;
        self.checkpoint("deploying")?;
        let rollout: RolloutResult = self.rollout(
            &service,
            &ModelRef::Version(name.clone(), serve.version),
            req.local,
            &sink,
        )?;
        self.set_service_data(&service, &dataset, Some(&sc.name))?;

        let traffic = self.traffic(
            &TrafficRequest {
                service: service.clone(),
                scenario: sc.name.clone(),
                mix: TrafficMix::Drift,
                rps: req.rps,
                requests: req.requests,
                labels: true,
                seed: 42,
            },
            &sink,
        )?;
        if traffic.errors > 0 {
            return Err(PipelineError::Invalid(format!(
                "{} of {} requests failed: {}",
                traffic.errors,
                traffic.sent,
                traffic.first_error.clone().unwrap_or_default()
            )));
        }
        self.checkpoint("evaluating the monitoring window")?;
        let window = stage(
            &sink,
            Stage::Monitor,
            "collecting the prediction log and evaluating the window",
            || {
                let (_, w) = self.monitor_traffic(&traffic, &DriftConfig::default())?;
                let msg = format!(
                    "{} requests, drift share {}, {} alert(s)",
                    w.window.requests,
                    w.window
                        .drift_share
                        .map_or("n/a".into(), |s| format!("{:.0}%", s * 100.0)),
                    w.alerts.len()
                );
                Ok::<_, PipelineError>((w, msg))
            },
        )?;
        let retrain_alert = window.alerts.iter().find(|a| {
            serde_json::from_str::<serde_json::Value>(&a.evidence)
                .ok()
                .and_then(|e| e["retrain"].as_bool())
                .unwrap_or(false)
        });
        let retrain = match retrain_alert {
            Some(a) => {
                self.checkpoint("retraining")?;
                retraining.set(true);
                let t = Instant::now();
                let r = self.retrain(
                    &service,
                    &format!("alert #{}: {}", a.alert_id, a.message),
                    req.local,
                    &sink,
                );
                retraining.set(false);
                timings.borrow_mut().push(StageTiming {
                    stage: Stage::Retrain,
                    millis: t.elapsed().as_millis() as u64,
                });
                Some(r?)
            }
            None => {
                sink(Event::StageFinished {
                    stage: Stage::Retrain,
                    message: "no alert asked for a retrain".into(),
                    millis: 0,
                });
                None
            }
        };
        let serving_version = retrain.as_ref().filter(|r| r.promoted).map_or(
            rollout.service.active_version.unwrap_or(serve.version),
            |r| r.challenger_version,
        );
        let drift = window.drift.as_ref();
        Ok(PipelineSummary {
            dataset,
            scenario: sc.name.clone(),
            endpoint: rollout.endpoint.clone(),
            service,
            run_id: trained.run_id.clone(),
            model: name,
            version: serve.version,
            image: rollout.deployed.deployment.image_tag.clone(),
            image_size_bytes: rollout.deployed.deployment.image_size_bytes,
            runtime: rollout.deployed.deployment.runtime,
            dataset_drift: drift.map(|d| d.dataset_drift),
            drift_share: drift.map(|d| d.share),
            drifted_features: drift
                .map(|d| {
                    d.columns
                        .iter()
                        .filter(|c| c.drifted)
                        .map(|c| c.column.clone())
                        .collect()
                })
                .unwrap_or_default(),
            alerts: window.alerts.iter().map(|a| a.message.clone()).collect(),
            traffic,
            window,
            retrain,
            serving_version,
            timings: {
                // One entry per stage, in pipeline order, summed.
                let all = timings.into_inner();
                Stage::ALL
                    .iter()
                    .filter_map(|st| {
                        let ms: Vec<u64> = all
                            .iter()
                            .filter(|t| t.stage == *st)
                            .map(|t| t.millis)
                            .collect();
                        (!ms.is_empty()).then(|| StageTiming {
                            stage: *st,
                            millis: ms.iter().sum(),
                        })
                    })
                    .collect()
            },
            total_seconds: t0.elapsed().as_secs_f64(),
            lab_home: self.home().root().display().to_string(),
        })
    }

    /// What `reset` would remove (and what it would leave).
    pub fn reset_plan(&self) -> Result<Vec<String>> {
        let mut plan = vec![];
        for s in self.store.list_services()? {
            plan.push(format!(
                "gateway of service {} (127.0.0.1:{})",
                s.name, s.port
            ));
        }
        for d in self.store.list_deployments(true)? {
            plan.push(format!(
                "{} deployment {} ({})",
                d.runtime, d.name, d.endpoint
            ));
        }
        plan.push(format!(
            "the Docker containers and images of this lab home (labels {}=true, {}={})",
            lab_deploy::MANAGED_LABEL,
            lab_deploy::HOME_LABEL,
            self.home().id()
        ));
        plan.push(format!(
            "in {}: what the lab created there ({})",
            self.home().root().display(),
            lab_store::LAB_ENTRIES.join(", ")
        ));
        let foreign = self.home().foreign_entries()?;
        if !foreign.is_empty() {
            plan.push(format!("(kept: {})", foreign.join(", ")));
        }
        Ok(plan)
    }

    /// Stop this lab's gateways and local servers (only processes that are
    /// still the ones it started), remove this home's containers and images,
    /// then the entries the lab created in its home. Anything else in the
    /// folder stays, and is named. Consumes the lab: nothing is left to use.
    pub fn reset(self) -> Result<Vec<String>> {
        let mut done = vec![];
        for s in self.store.list_services()? {
            if self.stop_gateway(&s) {
                done.push(format!("stopped gateway {}", s.name));
            }
        }
        let deployer = self.deployer()?;
        let docker = deployer.docker_available().is_ok();
        for d in self.store.list_deployments(true)? {
            match crate::deploy::runtime_of(&d) {
                lab_deploy::Runtime::Local => {
                    if let Some(p) = crate::deploy::process_of(&d)
                        && matches!(p.terminate(), Ok(lab_deploy::Terminated::Stopped))
                    {
                        done.push(format!("stopped local server {}", d.name));
                    }
                }
                // By the id this home recorded (containers of an earlier
                // release lack the home label); ours only (managed label).
                lab_deploy::Runtime::Docker if docker => {
                    if deployer
                        .stop(lab_deploy::Runtime::Docker, &d.deployment_id, None)
                        .is_ok()
                    {
                        done.push(format!("container {}", d.name));
                    }
                }
                lab_deploy::Runtime::Docker => {}
            }
        }
        if docker {
            done.extend(deployer.remove_all(self.home().id())?);
        } else {
            done.push("Docker not running: no containers or images to remove".into());
        }
        let home = self.home().clone();
        drop(self);
        let root = home.root();
        let gone = |e: std::io::Error, p: &std::path::Path| {
            PipelineError::Invalid(format!("cannot remove {}: {e}", p.display()))
        };
        for name in lab_store::LAB_ENTRIES {
            let p = root.join(name);
            match std::fs::symlink_metadata(&p) {
                Ok(m) if m.is_dir() => std::fs::remove_dir_all(&p).map_err(|e| gone(e, &p))?,
                Ok(_) => std::fs::remove_file(&p).map_err(|e| gone(e, &p))?,
                Err(_) => continue,
            }
            done.push(format!("removed {}", p.display()));
        }
        let kept = home.foreign_entries()?;
        let marker = root.join(lab_store::LabHome::MARKER);
        if kept.is_empty() {
            let _ = std::fs::remove_file(&marker);
            std::fs::remove_dir(root).map_err(|e| gone(e, root))?;
            done.push(format!("removed {}", root.display()));
        } else {
            done.push(format!(
                "kept {} (not the lab's): {}",
                root.display(),
                kept.join(", ")
            ));
        }
        Ok(done)
    }
}
