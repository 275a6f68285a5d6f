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
    /// `mlops-lab train --file CSV --target TARGET --model MODEL
    /// [--features …]`: a CSV outside the catalogue. `sample` is a file of
    /// `sample-data/` (what "skip" uses for the learner's own file).
    TrainCsv {
        sample: String,
        target: String,
        model: String,
        #[serde(default)]
        features: Vec<String>,
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
    /// (MLflow's `/invocations`), to its newest running deployment; with
    /// `malformed`, bodies the server must refuse with a 4xx instead.
    Predict {
        model: String,
        rows: usize,
        #[serde(default)]
        malformed: bool,
    },
    /// `mlops-lab deployments restart ID`: restart the newest running
    /// Docker deployment of `model` in place and wait until it is ready.
    Restart { model: String },
    /// `mlops-lab rollout MODEL --service SERVICE`: the model behind the
    /// service's stable endpoint, replacing what it served with no dropped
    /// request.
    Rollout { model: String, service: String },
    /// `mlops-lab traffic --service SERVICE --scenario MIX --requests N
    /// --seed SEED --monitor`: rows of the service's drift scenario
    /// (`reference`, `drift` or `shift`), their true labels afterwards,
    /// then the monitoring window of exactly this traffic (drift, quality,
    /// alerts).
    Traffic {
        service: String,
        /// The drift scenario whose rows are sent.
        scenario: String,
        mix: String,
        requests: usize,
        #[serde(default = "yes")]
        labels: bool,
        seed: Option<u64>,
    },
    /// What MLflow's Python client does for a small sweep, over the wire:
    /// train `model` on `dataset` for each of `values` of `param` (with the
    /// lab), then log each as a client run in `experiment` through the
    /// tracking server's REST API; with `register`, the best becomes a
    /// version of that model, `@champion`.
    MlflowClient {
        experiment: String,
        dataset: String,
        model: String,
        param: String,
        values: Vec<String>,
        register: Option<String>,
    },
    /// Switch `service` under load: `requests` rows of `scenario`'s
    /// reference slice are sent to its stable endpoint (as `mlops-lab
    /// traffic … &` in another terminal would) while it rolls out `model`,
    /// or rolls back without one; then the window of that traffic is
    /// evaluated (which versions answered, how many failed).
    SwitchUnderLoad {
        service: String,
        model: Option<String>,
        scenario: String,
        requests: usize,
    },
    /// `mlops-lab alerts SERVICE --rule METRIC=THRESHOLD`: change one of
    /// the service's alert rules.
    AlertRule {
        service: String,
        metric: String,
        threshold: f64,
    },
    /// `mlops-lab retrain SERVICE`: a challenger on the reference plus the
    /// newly labelled rows, promoted only if it beats the champion.
    Retrain { service: String },
    /// `mlops-lab export k8s MODEL`: Kubernetes and KServe manifests.
    ExportK8s { model: String },
    /// `mlops-lab export kfp --scenario SCENARIO`: the Kubeflow pipeline
    /// and its steps image.
    ExportKfp { scenario: String },
    /// `mlops-lab pipeline run --scenario SCENARIO`: the whole loop.
    Pipeline { scenario: String },
    /// `mlops-lab exercises start EXERCISE`: the exercise's starter files
    /// in the learner's workspace (never over the learner's own).
    Exercise { exercise: String },
    /// `mlops-lab exercises check EXERCISE`: run the learner's code and
    /// compare its result with the lab's (a failed check is an outcome,
    /// not an error: it says what to change).
    ExerciseCheck { exercise: String },
}

/// An exercise of `lab-exercises`' catalogue.
pub(crate) fn exercise_exists(id: &str) -> std::result::Result<(), String> {
    if lab_exercises::CATALOGUE.iter().any(|e| e.id == id) {
        Ok(())
    } else {
        Err(format!(
            "no exercise `{id}` (exercises: {})",
            lab_exercises::CATALOGUE
                .iter()
                .map(|e| e.id)
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }
}

fn yes() -> bool {
    true
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
            Action::TrainCsv {
                sample,
                model,
                target,
                ..
            } => {
                if sample.contains('/') || !catalog.root.join(sample).is_file() {
                    return Err(format!("`{sample}` is not a file of sample-data/"));
                }
                model.parse::<ModelKind>()?;
                if target.is_empty() {
                    return Err("a target column is needed".into());
                }
                Ok(())
            }
            Action::Register {
                dataset,
                model,
                name,
            } => {
                // A catalogue dataset, or the file name a CSV run records.
                if !dataset.ends_with(".csv") {
                    catalog.dataset(dataset).map_err(|e| e.to_string())?;
                }
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
            Action::Predict { model, rows, .. } => {
                if *rows == 0 || *rows > 1000 {
                    return Err(format!("rows = {rows}: send 1 to 1000"));
                }
                valid_name(model)
            }
            Action::Restart { model } => valid_name(model),
            Action::Rollout { model, service } => {
                model
                    .parse::<lab_pipeline::ModelRef>()
                    .map_err(|e| e.to_string())?;
                valid_name(service)
            }
            Action::Traffic {
                service,
                scenario,
                mix,
                requests,
                ..
            } => {
                mix.parse::<lab_pipeline::TrafficMix>()
                    .map_err(|e| e.to_string())?;
                if *requests == 0 || *requests > 5000 {
                    return Err(format!("requests = {requests}: send 1 to 5000"));
                }
                catalog.scenario(scenario).map_err(|e| e.to_string())?;
                valid_name(service)
            }
            Action::Retrain { service } => valid_name(service),
            Action::SwitchUnderLoad {
                service,
                model,
                scenario,
                requests,
            } => {
                if let Some(m) = model {
                    m.parse::<lab_pipeline::ModelRef>()
                        .map_err(|e| e.to_string())?;
                }
                if *requests < 30 || *requests > 5000 {
                    return Err(format!("requests = {requests}: send 30 to 5000"));
                }
                catalog.scenario(scenario).map_err(|e| e.to_string())?;
                valid_name(service)
            }
            Action::MlflowClient {
                experiment,
                dataset,
                model,
                param,
                values,
                register,
            } => {
                catalog.dataset(dataset).map_err(|e| e.to_string())?;
                let kind: ModelKind = model.parse()?;
                if !lab_pipeline::param_specs(kind)
                    .iter()
                    .any(|s| s.name == param.as_str())
                {
                    return Err(format!("{model} has no parameter `{param}`"));
                }
                if values.is_empty() || experiment.trim().is_empty() {
                    return Err("an experiment and at least one value are needed".into());
                }
                match register {
                    Some(r) => valid_name(r),
                    None => Ok(()),
                }
            }
            Action::AlertRule {
                service,
                metric,
                threshold,
            } => {
                lab_pipeline::AlertMetric::parse(metric).map_err(|e| e.to_string())?;
                if !threshold.is_finite() || *threshold < 0.0 {
                    return Err(format!("threshold {threshold} must be a number >= 0"));
                }
                valid_name(service)
            }
            Action::ExportK8s { model } => model
                .parse::<lab_pipeline::ModelRef>()
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Action::Exercise { exercise } | Action::ExerciseCheck { exercise } => {
                exercise_exists(exercise)
            }
            Action::ExportKfp { scenario } | Action::Pipeline { scenario } => catalog
                .scenario(scenario)
                .map(|_| ())
                .map_err(|e| e.to_string()),
        }
    }

    /// Run it on `lab`, reporting progress to `sink`.
    pub fn run(
        &self,
        lab: &Lab,
        ex: &lab_exercises::Exercises,
        sink: &dyn Fn(Event),
    ) -> Result<ActionOutcome> {
        match self {
            Action::Exercise { exercise } => {
                let s = ex.start(lab, exercise)?;
                let mut parts = vec![];
                if !s.written.is_empty() {
                    parts.push(format!("wrote {}", s.written.join(", ")));
                }
                if !s.kept.is_empty() {
                    parts.push(format!("kept your {}", s.kept.join(", ")));
                }
                Ok(ActionOutcome {
                    summary: format!(
                        "{} in {}: read README.md there, write the TODOs, then check",
                        parts.join("; "),
                        s.folder
                    ),
                    created: vec![],
                })
            }
            Action::ExerciseCheck { exercise } => {
                let r = ex.check(lab, exercise)?;
                let summary = match r.first_failure() {
                    None => format!(
                        "{exercise}: all {} checks passed ({} ms)",
                        r.checks.len(),
                        r.millis
                    ),
                    Some(f) => format!(
                        "{exercise}: {} of {} checks passed; {} failed: expected {}, got {}. Change: {}",
                        r.checks.len() - 1,
                        r.checks.len() + r.not_run.len(),
                        f.name,
                        f.expected,
                        f.got,
                        f.fix.as_deref().unwrap_or("-")
                    ),
                };
                Ok(ActionOutcome {
                    summary,
                    created: r
                        .attempt
                        .map(|a| vec![format!("exercise attempt {a}")])
                        .unwrap_or_default(),
                })
            }
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
            Action::TrainCsv {
                sample,
                target,
                model,
                features,
            } => {
                let kind: ModelKind = model.parse().map_err(LessonError::Invalid)?;
                let mut req = TrainRequest::new(
                    DataSource::File {
                        path: lab.catalog().root.join(sample),
                    },
                    kind,
                );
                req.target = Some(target.clone());
                if !features.is_empty() {
                    req.features = Some(features.clone());
                }
                let r = lab.train(&req, sink)?;
                let shown: Vec<String> = lab_pipeline::headline_metrics(&r.metrics, 2)
                    .iter()
                    .map(|(m, v)| format!("{m} {v:.4}"))
                    .collect();
                Ok(ActionOutcome {
                    summary: format!(
                        "trained {model} on {sample} → {target}: run {} ({}; gate {})",
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
            Action::Predict {
                model,
                rows,
                malformed,
            } => {
                let d = newest_running(lab, model)?.ok_or_else(|| {
                    LessonError::Invalid(format!(
                        "no running deployment of {model}: deploy it first (mlops-lab deploy {model}@champion)"
                    ))
                })?;
                let mut answered: BTreeMap<u16, usize> = BTreeMap::new();
                for row in 0..*rows {
                    let req = lab.sample_request(&d.deployment_id, row)?;
                    // A malformed body: the row's JSON cut in half.
                    let body = if *malformed {
                        req.body[..req.body.len() / 2].to_string()
                    } else {
                        req.body
                    };
                    let sent =
                        lab.send_request(&d.deployment_id, &req.path, &req.content_type, &body)?;
                    *answered.entry(sent.exchange.status).or_default() += 1;
                }
                let codes: Vec<String> = answered
                    .iter()
                    .map(|(code, n)| format!("{n} answered {code}"))
                    .collect();
                Ok(ActionOutcome {
                    summary: format!(
                        "sent {rows} {}requests to {}: {}",
                        if *malformed { "malformed " } else { "" },
                        d.endpoint,
                        codes.join(", ")
                    ),
                    created: vec![],
                })
            }
            Action::Restart { model } => {
                let d = lab
                    .deployments(false)?
                    .into_iter()
                    .filter(|d| {
                        d.model_name == *model
                            && d.status == lab_pipeline::DeploymentState::Running
                            && d.runtime == lab_pipeline::DeploymentRuntime::Docker
                    })
                    .max_by_key(|d| d.created_at)
                    .ok_or_else(|| {
                        LessonError::Invalid(format!(
                            "no running Docker deployment of {model}: start Docker, then deploy it (mlops-lab deploy {model}@champion)"
                        ))
                    })?;
                let t0 = std::time::Instant::now();
                let d = lab.restart_deployment(&d.deployment_id)?;
                Ok(ActionOutcome {
                    summary: format!(
                        "{} restarted and ready again at {} after {:.1} s",
                        d.name,
                        d.endpoint,
                        t0.elapsed().as_secs_f64()
                    ),
                    created: vec![d.deployment_id],
                })
            }
            Action::Rollout { model, service } => {
                let r: lab_pipeline::ModelRef = model.parse()?;
                let out = lab.rollout_model(&r, Some(service), false, sink)?;
                let d = &out.deployed.deployment;
                Ok(ActionOutcome {
                    summary: format!(
                        "service {} serves {} v{} at {}{}",
                        service,
                        d.model_name,
                        d.model_version,
                        out.endpoint,
                        out.replaced
                            .as_ref()
                            .map(|p| format!(" (replaced v{})", p.model_version))
                            .unwrap_or_default()
                    ),
                    created: vec![d.deployment_id.clone()],
                })
            }
            Action::Traffic {
                service,
                scenario,
                mix,
                requests,
                labels,
                seed,
            } => {
                let plan = lab_pipeline::TrafficPlan {
                    service: service.clone(),
                    mix: mix.parse()?,
                    rps: lab_pipeline::Settings::default().traffic.default_rps,
                    requests: *requests,
                    labels: *labels,
                    dataset: None,
                    scenario: Some(scenario.clone()),
                    seed: *seed,
                };
                let req = lab.traffic_request(&plan)?;
                let t = lab.traffic(&req, sink)?;
                let (_, w) = lab.monitor_traffic(&t, &lab_pipeline::DriftConfig::default())?;
                let win = &w.window;
                Ok(ActionOutcome {
                    summary: format!(
                        "sent {} {mix} requests to {service} ({} ok, p99 {}); window {}: drift share {}, {}",
                        t.sent,
                        t.ok,
                        t.p99_ms.map_or("n/a".into(), |v| format!("{v:.1} ms")),
                        win.window_id,
                        win.drift_share
                            .map_or("n/a".into(), |v| format!("{:.0}%", v * 100.0)),
                        match w.alerts.len() {
                            0 => "no alert".to_string(),
                            n => format!(
                                "{n} alert(s): {}",
                                w.alerts
                                    .iter()
                                    .map(|a| a.metric.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        }
                    ),
                    created: vec![format!("window {}", win.window_id)],
                })
            }
            Action::MlflowClient {
                experiment,
                dataset,
                model,
                param,
                values,
                register,
            } => {
                let kind: ModelKind = model.parse().map_err(LessonError::Invalid)?;
                let mut runs = Vec::new();
                let mut best_by = None;
                for v in values {
                    let mut req = TrainRequest::new(
                        DataSource::Catalog {
                            name: dataset.clone(),
                        },
                        kind,
                    );
                    req.params.insert(param.clone(), v.clone());
                    let r = lab.train(&req, sink)?;
                    let metrics: Vec<(String, f64)> = lab_pipeline::headline_metrics(&r.metrics, 3)
                        .into_iter()
                        .map(|(k, v)| (k.to_string(), v))
                        .collect();
                    best_by = best_by.or_else(|| metrics.first().map(|(k, _)| k.clone()));
                    runs.push(lab_pipeline::ClientRun {
                        name: format!("{model}-{param}{v}"),
                        params: vec![(param.clone(), v.clone()), ("model".into(), model.clone())],
                        metrics,
                    });
                }
                let best_by = best_by.unwrap_or_default();
                let logged = lab.log_through_mlflow(
                    experiment,
                    &runs,
                    register.as_deref().map(|n| (n, best_by.as_str())),
                )?;
                Ok(ActionOutcome {
                    summary: format!(
                        "{} runs logged in experiment {experiment} through {} REST calls to the tracking server{}",
                        logged.run_ids.len(),
                        logged.calls.len(),
                        logged
                            .champion
                            .as_ref()
                            .map(|c| format!("; {c} is @champion (best {best_by})"))
                            .unwrap_or_default()
                    ),
                    created: logged.run_ids,
                })
            }
            Action::SwitchUnderLoad {
                service,
                model,
                scenario,
                requests,
            } => {
                let rps = lab_pipeline::Settings::default().traffic.default_rps;
                let req = lab.traffic_request(&lab_pipeline::TrafficPlan {
                    service: service.clone(),
                    mix: lab_pipeline::TrafficMix::Reference,
                    rps,
                    requests: *requests,
                    labels: false,
                    dataset: None,
                    scenario: Some(scenario.clone()),
                    seed: Some(7),
                })?;
                let before = lab.service(service)?.active_version;
                let load = lab.connect()?;
                let sender = std::thread::spawn(move || load.traffic(&req, &|_| {}));
                // A third of the way into the traffic, switch.
                std::thread::sleep(std::time::Duration::from_secs_f64(
                    *requests as f64 / rps / 3.0,
                ));
                let switched = match model {
                    Some(m) => lab.rollout_model(&m.parse()?, Some(service), false, sink),
                    None => lab.rollback(service, false, sink),
                };
                let sent = sender
                    .join()
                    .map_err(|_| LessonError::Invalid("the traffic thread panicked".into()))?;
                let switched = switched?;
                let t = sent?;
                let (_, w) = lab.monitor_traffic(&t, &lab_pipeline::DriftConfig::default())?;
                Ok(ActionOutcome {
                    summary: format!(
                        "{service}: v{} → v{} while {} requests were sent: {} answered, {} failed; window {} saw versions {}",
                        before.map_or("?".into(), |v| v.to_string()),
                        switched
                            .service
                            .active_version
                            .map_or("?".into(), |v| v.to_string()),
                        t.sent,
                        t.ok,
                        t.errors,
                        w.window.window_id,
                        w.window.versions
                    ),
                    created: vec![format!("window {}", w.window.window_id)],
                })
            }
            Action::AlertRule {
                service,
                metric,
                threshold,
            } => {
                let m = lab_pipeline::AlertMetric::parse(metric)
                    .map_err(|e| LessonError::Invalid(e.to_string()))?;
                lab.set_alert_threshold(service, m, *threshold)?;
                let rules: Vec<String> = lab
                    .alert_rules(service)?
                    .iter()
                    .map(|r| format!("{} {}", r.metric.as_str(), r.threshold))
                    .collect();
                Ok(ActionOutcome {
                    summary: format!("{service}'s alert rules: {}", rules.join(", ")),
                    created: vec![],
                })
            }
            Action::Retrain { service } => {
                let r = lab.retrain(service, "lesson step", false, sink)?;
                Ok(ActionOutcome {
                    summary: format!(
                        "retrain {}: challenger v{} {} {:.4} vs champion v{} {:.4}: {}",
                        &r.retrain_id[..8.min(r.retrain_id.len())],
                        r.challenger_version,
                        r.metric,
                        r.challenger_score,
                        r.champion_version,
                        r.champion_score,
                        r.decision
                    ),
                    created: vec![r.retrain_id],
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
