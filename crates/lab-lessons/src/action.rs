//! The engine actions a lesson step (or its `solve` list) runs: the same
//! `lab-pipeline` calls the CLI and the app make.

use std::collections::BTreeMap;

use lab_pipeline::{DataSource, Event, Lab, MissingPolicy, ModelKind, TrainRequest};
use serde::{Deserialize, Serialize};

use crate::{LessonError, Result};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Action {
    /// `mlops-lab data profile DATASET`.
    Profile { dataset: String },
    /// `mlops-lab data validate DATASET`.
    Validate { dataset: String },
    /// `mlops-lab train --dataset DATASET --model MODEL …`.
    Train {
        dataset: String,
        model: String,
        #[serde(default)]
        params: BTreeMap<String, String>,
        seed: Option<u64>,
        /// Train on this drift scenario's reference slice.
        scenario: Option<String>,
        /// `drop` (default) or `impute`.
        missing: Option<String>,
        test_fraction: Option<f64>,
        /// Validation gate thresholds overriding the catalogue's.
        #[serde(default)]
        gate: BTreeMap<String, f64>,
    },
    /// `mlops-lab models register RUN --name NAME`, for the newest finished
    /// run on `dataset` (with `model`, if given).
    Register {
        dataset: String,
        model: Option<String>,
        name: String,
    },
    /// `mlops-lab models alias NAME VERSION ALIAS`, on the latest version.
    Alias { name: String, alias: String },
    /// `mlops-lab deploy MODEL` (`name@alias` or `name:version`): the
    /// image and a hardened container (`local`: a local process).
    Deploy {
        model: String,
        #[serde(default)]
        local: bool,
    },
    /// Send the first `rows` rows of the model's dataset, one request each
    /// (MLflow's `/invocations`), to its newest running deployment.
    Predict { model: String, rows: usize },
    /// `mlops-lab export k8s MODEL`: Kubernetes and KServe manifests.
    ExportK8s { model: String },
    /// `mlops-lab export kfp --scenario SCENARIO`: the Kubeflow pipeline
    /// and its steps image.
    ExportKfp { scenario: String },
    /// `mlops-lab pipeline run --scenario SCENARIO`: the whole loop.
    Pipeline { scenario: String },
}

/// What an action did: a line to show, and the ids it made.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ActionOutcome {
    pub summary: String,
    /// Run ids (and later versions, deployments …) it created.
    pub created: Vec<String>,
}

impl Action {
    /// Check the action's values against the lab's catalogue and models:
    /// what a lesson file names must exist.
    pub fn validate(&self, lab: &Lab) -> std::result::Result<(), String> {
        let catalog = lab.catalog();
        match self {
            Action::Profile { dataset } | Action::Validate { dataset } => catalog
                .dataset(dataset)
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Action::Train {
                dataset,
                model,
                params,
                scenario,
                missing,
                test_fraction,
                ..
            } => {
                catalog.dataset(dataset).map_err(|e| e.to_string())?;
                let kind: ModelKind = model.parse()?;
                let specs = lab_pipeline::param_specs(kind);
                for k in params.keys() {
                    if !specs.iter().any(|s| s.name == k.as_str()) {
                        return Err(format!("{model} has no parameter `{k}`"));
                    }
                }
                if let Some(sc) = scenario {
                    let (owner, _) = catalog.scenario(sc).map_err(|e| e.to_string())?;
                    if owner.name != *dataset {
                        return Err(format!("scenario `{sc}` is not one of `{dataset}`"));
                    }
                }
                if let Some(m) = missing
                    && !matches!(m.as_str(), "drop" | "impute")
                {
                    return Err(format!("missing = `{m}`: drop or impute"));
                }
                if let Some(f) = test_fraction
                    && !(*f > 0.0 && *f < 1.0)
                {
                    return Err(format!("test_fraction {f} is not between 0 and 1"));
                }
                Ok(())
            }
            Action::Register {
                dataset,
                model,
                name,
            } => {
                catalog.dataset(dataset).map_err(|e| e.to_string())?;
                if let Some(m) = model {
                    m.parse::<ModelKind>()?;
                }
                valid_name(name)
            }
            Action::Alias { name, alias } => {
                valid_name(name)?;
                valid_name(alias)
            }
            Action::Deploy { model, .. } => {
                let r: lab_pipeline::ModelRef = model
                    .parse()
                    .map_err(|e: lab_pipeline::PipelineError| e.to_string())?;
                let name = match &r {
                    lab_pipeline::ModelRef::Latest(n)
                    | lab_pipeline::ModelRef::Alias(n, _)
                    | lab_pipeline::ModelRef::Version(n, _) => n,
                };
                valid_name(name)
            }
            Action::Predict { model, rows } => {
                if *rows == 0 || *rows > 1000 {
                    return Err(format!("rows = {rows}: send 1 to 1000"));
                }
                valid_name(model)
            }
            Action::ExportK8s { model } => model
                .parse::<lab_pipeline::ModelRef>()
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Action::ExportKfp { scenario } | Action::Pipeline { scenario } => catalog
                .scenario(scenario)
                .map(|_| ())
                .map_err(|e| e.to_string()),
        }
    }

    /// Run it on `lab`, reporting progress to `sink`.
    pub fn run(&self, lab: &Lab, sink: &dyn Fn(Event)) -> Result<ActionOutcome> {
        match self {
            Action::Profile { dataset } => {
                data_stage(sink, &format!("profiling {dataset}"), || {
                    let p = lab.profile(&DataSource::Catalog {
                        name: dataset.clone(),
                    })?;
                    Ok(ActionOutcome {
                        summary: format!(
                            "profiled {dataset}: {} rows, {} columns",
                            p.rows,
                            p.columns.len()
                        ),
                        created: vec![],
                    })
                })
            }
            Action::Validate { dataset } => {
                data_stage(sink, &format!("validating {dataset}"), || {
                    let r = lab.validate(&DataSource::Catalog {
                        name: dataset.clone(),
                    })?;
                    Ok(ActionOutcome {
                        summary: format!(
                            "validated {dataset}: {} of {} expectations passed",
                            r.passed,
                            r.passed + r.failed
                        ),
                        created: vec![],
                    })
                })
            }
            Action::Train {
                dataset,
                model,
                params,
                seed,
                scenario,
                missing,
                test_fraction,
                gate,
            } => {
                let kind: ModelKind = model.parse().map_err(LessonError::Invalid)?;
                let source = match scenario {
                    Some(sc) => DataSource::Scenario {
                        name: dataset.clone(),
                        scenario: sc.clone(),
                    },
                    None => DataSource::Catalog {
                        name: dataset.clone(),
                    },
                };
                let mut req = TrainRequest::new(source, kind);
                req.params = params.clone();
                req.seed = *seed;
                if let Some(f) = test_fraction {
                    req.test_fraction = *f;
                }
                if missing.as_deref() == Some("impute") {
                    req.missing = MissingPolicy::Impute;
                }
                req.gate = gate.clone();
                let r = lab.train(&req, sink)?;
                let shown: Vec<String> = lab_pipeline::headline_metrics(&r.metrics, 2)
                    .iter()
                    .map(|(m, v)| format!("{m} {v:.4}"))
                    .collect();
                Ok(ActionOutcome {
                    summary: format!(
                        "trained {model} on {dataset}: run {} ({}; gate {})",
                        &r.run_id[..8],
                        shown.join(", "),
                        if r.gate.passed { "passed" } else { "failed" }
                    ),
                    created: vec![r.run_id],
                })
            }
            Action::Register {
                dataset,
                model,
                name,
            } => {
                let run = crate::check::runs_since(lab, i64::MIN, dataset, model.as_deref())?
                    .into_iter()
                    .next()
                    .ok_or_else(|| {
                        LessonError::Invalid(format!(
                            "no finished run on {dataset} to register: train one first"
                        ))
                    })?;
                let mv = lab.register(&run.run_id, name)?;
                Ok(ActionOutcome {
                    summary: format!(
                        "registered run {} as {} version {}",
                        &run.run_id[..8],
                        mv.name,
                        mv.version
                    ),
                    created: vec![format!("{}:{}", mv.name, mv.version)],
                })
            }
            Action::Alias { name, alias } => {
                let latest = lab
                    .model_versions(name)
                    .ok()
                    .and_then(|vs| vs.into_iter().map(|v| v.version).max())
                    .ok_or_else(|| {
                        LessonError::Invalid(format!(
                            "model `{name}` has no version: register one first"
                        ))
                    })?;
                let mv = lab.set_alias(name, latest, alias)?;
                Ok(ActionOutcome {
                    summary: format!("{name}@{alias} → version {}", mv.version),
                    created: vec![format!("{}:{}", mv.name, mv.version)],
                })
            }
            Action::Deploy { model, local } => {
                let r: lab_pipeline::ModelRef = model.parse()?;
                let d = lab.deploy(&r, *local, sink)?;
                let d = d.deployment;
                Ok(ActionOutcome {
                    summary: format!(
                        "{} v{} serving at {} ({})",
                        d.model_name,
                        d.model_version,
                        d.endpoint,
                        d.runtime.as_str()
                    ),
                    created: vec![d.deployment_id],
                })
            }
            Action::Predict { model, rows } => {
                let d = newest_running(lab, model)?.ok_or_else(|| {
                    LessonError::Invalid(format!(
                        "no running deployment of {model}: deploy it first (mlops-lab deploy {model}@champion)"
                    ))
                })?;
                let mut ok = 0;
                for row in 0..*rows {
                    let req = lab.sample_request(&d.deployment_id, row)?;
                    let sent = lab.send_request(
                        &d.deployment_id,
                        &req.path,
                        &req.content_type,
                        &req.body,
                    )?;
                    if sent.exchange.status == 200 {
                        ok += 1;
                    }
                }
                Ok(ActionOutcome {
                    summary: format!("sent {rows} requests to {}: {ok} answered 200", d.endpoint),
                    created: vec![],
                })
            }
            Action::ExportK8s { model } => {
                let r: lab_pipeline::ModelRef = model.parse()?;
                let x = lab.export_k8s(&r, None)?;
                Ok(ActionOutcome {
                    summary: format!(
                        "{} manifests for {} v{} in {}",
                        x.manifests.len(),
                        x.model,
                        x.version,
                        x.out_dir.display()
                    ),
                    created: vec![x.out_dir.display().to_string()],
                })
            }
            Action::Pipeline { scenario } => {
                let req = lab_pipeline::PipelineRequest {
                    scenario: scenario.clone(),
                    ..Default::default()
                };
                let r = lab.run_pipeline(&req, sink)?;
                Ok(ActionOutcome {
                    summary: format!(
                        "{} v{} serves {} at {}; {} requests sent, {} alert(s){}",
                        r.model,
                        r.version,
                        r.service,
                        r.endpoint,
                        r.traffic.sent,
                        r.alerts.len(),
                        r.retrain
                            .as_ref()
                            .map(|x| format!(", retrain: {}", x.decision))
                            .unwrap_or_default()
                    ),
                    created: vec![r.run_id],
                })
            }
            Action::ExportKfp { scenario } => {
                let req = lab_pipeline::KfpRequest {
                    scenario: Some(scenario.clone()),
                    ..Default::default()
                };
                let x = lab.export_kfp(&req, sink)?;
                Ok(ActionOutcome {
                    summary: format!(
                        "pipeline {} in {} (steps image {}: {})",
                        x.pipeline,
                        x.out_file.display(),
                        x.image,
                        if x.image_built.is_some() {
                            "built"
                        } else {
                            "not built"
                        }
                    ),
                    created: vec![x.out_file.display().to_string()],
                })
            }
        }
    }
}

/// A data action as the Data stage's progress: started, then finished
/// with its summary (or failed with its error).
fn data_stage(
    sink: &dyn Fn(Event),
    message: &str,
    f: impl FnOnce() -> Result<ActionOutcome>,
) -> Result<ActionOutcome> {
    let stage = lab_pipeline::Stage::Data;
    let t0 = std::time::Instant::now();
    sink(Event::StageStarted {
        stage,
        message: message.into(),
    });
    let r = f();
    sink(match &r {
        Ok(o) => Event::StageFinished {
            stage,
            message: o.summary.clone(),
            millis: t0.elapsed().as_millis() as u64,
        },
        Err(e) => Event::StageFailed {
            stage,
            message: e.to_string(),
        },
    });
    r
}

/// The newest running deployment of registered model `model`.
pub(crate) fn newest_running(
    lab: &Lab,
    model: &str,
) -> Result<Option<lab_pipeline::DeploymentRecord>> {
    Ok(lab
        .deployments(false)?
        .into_iter()
        .filter(|d| d.model_name == model && d.status == lab_pipeline::DeploymentState::Running)
        .max_by_key(|d| d.created_at))
}

/// A registered-model name or alias the lab accepts: letters, digits, `-`,
/// `_` and `.`.
fn valid_name(s: &str) -> std::result::Result<(), String> {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        Ok(())
    } else {
        Err(format!(
            "`{s}` is not a model name or alias (letters, digits, - _ .)"
        ))
    }
}
