//! What a front end shows at a glance: the state of each pipeline stage,
//! a live monitoring snapshot of a service, Docker's availability, and a
//! prediction request built from a real dataset row (with its raw HTTP
//! exchange and the equivalent `curl`).

use lab_deploy::Deployer;
use lab_monitor::{AlertRule, ColumnDrift, DriftConfig, DriftReport};
use lab_store::{AlertRecord, DeploymentRecord, DeploymentState, WindowRecord, now_ms};
use serde::{Deserialize, Serialize};
use serde_json::Value as J;

use crate::events::{Event, Stage};
use crate::lab::{LEARNING_CURVE, Lab, ModelRef, default_model_name};
use crate::service::RolloutResult;
use crate::traffic::{TrafficMix, TrafficRequest};
use crate::{PipelineError, Result};

/// The metric a run is summed up by, where it has one: accuracy for
/// classifiers, r2 for regressors, silhouette for clustering.
pub fn headline_metric(run: &lab_store::Run) -> Option<(&'static str, f64)> {
    ["accuracy", "r2", "silhouette"]
        .into_iter()
        .find_map(|k| run.metrics.get(k).map(|v| (k, *v)))
}

/// The registered-model name a run gets by default (as the pipeline names
/// its models): `<dataset>-<target>`.
pub fn model_name_for_run(run: &lab_store::Run) -> String {
    default_model_name(
        run.params.get("dataset").map_or("model", |s| s.as_str()),
        run.tags
            .get("mlops.target")
            .map_or("target", |s| s.as_str()),
    )
}

/// A point of a metric's history: (step, value).
pub type HistoryPoint = (i64, f64);

/// Everything a run's detail view shows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunDetail {
    pub run: lab_store::Run,
    pub experiment: String,
    /// The headline metric, whose learning curve is `history`.
    pub primary_metric: Option<String>,
    /// The learning curve on the test split (step = training rows).
    pub history: Vec<HistoryPoint>,
    /// The same on the rows fitted.
    pub train_history: Vec<HistoryPoint>,
    pub classes: Vec<String>,
    /// Rows: true class, columns: predicted class (test split).
    pub confusion_matrix: Option<Vec<Vec<usize>>>,
    /// The model versions registered from this run.
    pub registered: Vec<lab_store::ModelVersion>,
}

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

/// A monitoring snapshot of a service: its recent windows (equal length,
/// clock-aligned, stored), the drift of every feature over the current
/// span, and its alerts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MonitorSnapshot {
    pub service: String,
    pub window_ms: i64,
    pub windows: Vec<WindowRecord>,
    /// The span the drift report covers.
    pub current_start_ms: i64,
    pub current_end_ms: i64,
    pub current: Option<WindowRecord>,
    pub drift: Option<DriftReport>,
    pub prediction_drift: Option<ColumnDrift>,
    pub alerts: Vec<AlertRecord>,
    pub rules: Vec<AlertRule>,
    pub collected: usize,
}

/// A ready-to-send request built from a dataset row.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SampleRequest {
    pub endpoint: String,
    pub path: String,
    pub content_type: String,
    /// Pretty-printed MLflow `dataframe_split` body.
    pub body: String,
    pub dataset: String,
    pub row: usize,
    pub rows: usize,
    /// The row's true label, for comparing with the answer.
    pub label: Option<J>,
}

/// A request sent, with both sides as raw text and the equivalent `curl`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SentRequest {
    #[serde(flatten)]
    pub exchange: lab_deploy::Exchange,
    pub curl: String,
}

/// A shell-quoted `curl` that sends the same request.
pub fn curl_command(endpoint: &str, path: &str, content_type: &str, body: &str) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let compact = serde_json::from_str::<J>(body)
        .map(|v| v.to_string())
        .unwrap_or_else(|_| body.to_string());
    format!(
        "curl -sS -X POST {} \\\n  -H {} \\\n  --data {}",
        quote(&format!("{}{path}", endpoint.trim_end_matches('/'))),
        quote(&format!("Content-Type: {content_type}")),
        quote(&compact)
    )
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
    /// The learning curve of `metric` in `run` (test side, or `train_`).
    pub fn learning_curve(&self, run_id: &str, metric: &str) -> Result<Vec<HistoryPoint>> {
        Ok(self
            .store
            .metric_history(run_id, &format!("{LEARNING_CURVE}{metric}"))?
            .into_iter()
            .map(|m| (m.step, m.value))
            .collect())
    }

    /// A run with its experiment, learning curve, confusion matrix and the
    /// versions registered from it.
    pub fn run_detail(&self, id_or_prefix: &str) -> Result<RunDetail> {
        let run = self.run(id_or_prefix)?;
        let experiment = self.store.experiment(&run.experiment_id)?.name;
        let primary_metric = headline_metric(&run).map(|(k, _)| k.to_string());
        let (history, train_history) = match &primary_metric {
            Some(m) => (
                self.learning_curve(&run.run_id, m)?,
                self.learning_curve(&run.run_id, &format!("train_{m}"))?,
            ),
            None => (vec![], vec![]),
        };
        let eval = self.run_evaluation(&run)?.unwrap_or(J::Null);
        let classes = serde_json::from_value(eval["classes"].clone()).unwrap_or_default();
        let confusion_matrix =
            serde_json::from_value(eval["test"]["confusion_matrix"].clone()).ok();
        let mut registered = vec![];
        for m in self.store.list_registered_models()? {
            registered.extend(
                self.store
                    .list_model_versions(&m.name)?
                    .into_iter()
                    .filter(|v| v.run_id == run.run_id),
            );
        }
        Ok(RunDetail {
            run,
            experiment,
            primary_metric,
            history,
            train_history,
            classes,
            confusion_matrix,
            registered,
        })
    }

    /// A traffic request for `service` with rows of its dataset's drift
    /// scenario, mixed as `mix`.
    pub fn traffic_request(
        &self,
        service: &str,
        mix: TrafficMix,
        rps: f64,
        requests: usize,
        labels: bool,
        seed: u64,
    ) -> Result<TrafficRequest> {
        let svc = self.service(service)?;
        let dataset = svc.dataset.clone().ok_or_else(|| {
            PipelineError::Invalid(format!(
                "service `{service}` has no dataset recorded: roll it out with `mlops-lab rollout` (or from Models in the app), or run the pipeline"
            ))
        })?;
        Ok(TrafficRequest {
            service: svc.name.clone(),
            scenario: self.traffic_scenario(&dataset, svc.scenario.as_deref())?,
            mix,
            rps,
            requests,
            labels,
            seed,
        })
    }

    /// Docker's availability, with what to do when it is missing.
    pub fn docker_status(&self) -> DockerStatus {
        match Deployer::new().and_then(|d| d.docker_available()) {
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
        match self.store.activity("data")? {
            Some((name, d, at)) if d["action"] == "validated" => push(
                Stage::Data,
                if d["failed"].as_u64() == Some(0) {
                    StageHealth::Done
                } else {
                    StageHealth::Warn
                },
                format!("{name} validated"),
                format!(
                    "{} rows, {} expectations passed, {} failed, {}",
                    d["rows"],
                    d["passed"],
                    d["failed"],
                    ago(at)
                ),
                Some(at),
            ),
            Some((name, d, at)) => push(
                Stage::Data,
                StageHealth::Done,
                format!("{name} profiled"),
                format!("{} rows × {} columns, {}", d["rows"], d["columns"], ago(at)),
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

    /// Promote `name` v`version` to champion; when a service serves this
    /// model, roll it out there too.
    pub fn promote(
        &self,
        name: &str,
        version: i64,
        local: bool,
        sink: &dyn Fn(Event),
    ) -> Result<(lab_store::ModelVersion, Option<RolloutResult>)> {
        self.checkpoint("promoting")?;
        let mv = self.set_alias(name, version, "champion")?;
        let rollout = match self.service_of_model(name)? {
            Some(s) if s.active_version != Some(version) => Some(self.rollout(
                &s.name,
                &ModelRef::Version(name.to_string(), version),
                local,
                sink,
            )?),
            _ => None,
        };
        Ok((mv, rollout))
    }

    /// A prediction request for `deployment` from row `row` of the dataset
    /// its model was trained on.
    pub fn sample_request(&self, deployment: &str, row: usize) -> Result<SampleRequest> {
        let d = self.store.find_deployment(deployment)?;
        let mv = self.store.model_version(&d.model_name, d.model_version)?;
        let artifact = self.load_artifact(&mv)?;
        let features = artifact.preprocessor.feature_names();
        let run = self.store.get_run(&mv.run_id)?;
        let dataset = run.params.get("dataset").cloned().ok_or_else(|| {
            PipelineError::Invalid(format!("run {} records no dataset", run.run_id))
        })?;
        let spec = self.catalog.dataset(&dataset)?;
        let table = lab_data::read_csv(&self.catalog.path_of(spec), &spec.column_types())?;
        let rows = table.rows();
        if row >= rows {
            return Err(PipelineError::Invalid(format!(
                "row {row} is past the end of {dataset} ({rows} rows: 0 to {})",
                rows - 1
            )));
        }
        let values = table.raw_rows(&features, &[row])?.remove(0);
        let label = spec
            .target(None)
            .ok()
            .and_then(|t| table.raw_rows(std::slice::from_ref(&t.column), &[row]).ok())
            .map(|mut r| r.remove(0).remove(0).to_json());
        let body = serde_json::json!({
            "dataframe_split": {
                "columns": features,
                "data": [values.iter().map(lab_model::Value::to_json).collect::<Vec<_>>()],
            }
        });
        Ok(SampleRequest {
            endpoint: d.endpoint.clone(),
            path: "/invocations".into(),
            content_type: "application/json".into(),
            body: serde_json::to_string_pretty(&body).unwrap_or_default(),
            dataset,
            row,
            rows,
            label,
        })
    }

    /// Send `body` to `deployment` at `path` and return the raw exchange.
    /// The server's answer, whatever its status, is the result; only a
    /// request that got no answer is an error.
    pub fn send_request(
        &self,
        deployment: &str,
        path: &str,
        content_type: &str,
        body: &str,
    ) -> Result<SentRequest> {
        let d = self.store.find_deployment(deployment)?;
        if d.status != DeploymentState::Running {
            return Err(PipelineError::Invalid(format!(
                "deployment {} is stopped: deploy the model again",
                d.name
            )));
        }
        if !path.starts_with('/') {
            return Err(PipelineError::Invalid(format!(
                "the path must start with `/`, e.g. /invocations or /v2/models/{}/infer",
                d.model_name
            )));
        }
        let request_id = format!("try-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let exchange = lab_deploy::exchange(
            &d.endpoint,
            "POST",
            path,
            Some(content_type),
            &[("X-Request-Id", &request_id)],
            body.as_bytes(),
        )?;
        Ok(SentRequest {
            curl: curl_command(&d.endpoint, path, content_type, body),
            exchange,
        })
    }

    /// Collect `service`'s log, evaluate (and store) its `window_ms`
    /// windows over the last `horizon_ms`, and report drift over the span
    /// from `since_ms` (default: the last minute of its log) to now.
    pub fn monitor_snapshot(
        &self,
        service: &str,
        window_ms: i64,
        horizon_ms: i64,
        since_ms: Option<i64>,
    ) -> Result<MonitorSnapshot> {
        if window_ms < 1000 {
            return Err(PipelineError::Invalid(
                "a monitoring window is at least 1 s long".into(),
            ));
        }
        self.service(service)?;
        let cfg = DriftConfig::default();
        let collected = self.collect(service)?.new_records;
        let now = now_ms();
        let mut windows = vec![];
        let span = self.store.log_span(service)?;
        if let Some((first, last)) = span {
            let from = first.max(last - horizon_ms);
            let from = from - from.rem_euclid(window_ms);
            let stored: std::collections::BTreeMap<(i64, i64), WindowRecord> = self
                .store
                .list_windows_from(service, from)?
                .into_iter()
                .map(|w| ((w.start_ms, w.end_ms), w))
                .collect();
            let mut start = from;
            while start <= last {
                let end = start + window_ms;
                // Windows still open (or new) are evaluated; closed ones
                // stored before are read back.
                match stored.get(&(start, end)) {
                    Some(w) if w.updated_at > end + 2000 => windows.push(w.clone()),
                    _ => {
                        if self.store.log_count(service, start, end)? > 0 {
                            windows.push(self.evaluate_window(service, start, end, &cfg)?.window);
                        }
                    }
                }
                start = end;
            }
        }
        let (current_start_ms, current_end_ms) = match (since_ms, span) {
            (Some(s), _) => (s, now + 1),
            (None, Some((_, last))) => (last - 60_000, last + 1),
            (None, None) => (now - 60_000, now + 1),
        };
        let (current, drift, prediction_drift) = if span.is_some() {
            let (w, drift) =
                self.compute_window(service, current_start_ms, current_end_ms, &cfg)?;
            let detail: J = serde_json::from_str(&w.detail).unwrap_or(J::Null);
            let pd = serde_json::from_value(detail["prediction_drift"].clone()).ok();
            (Some(w), drift, pd)
        } else {
            (None, None, None)
        };
        let mut alerts = self.store.list_alerts(service)?;
        alerts.sort_by_key(|a| std::cmp::Reverse(a.created_at));
        alerts.truncate(20);
        Ok(MonitorSnapshot {
            service: service.to_string(),
            window_ms,
            windows,
            current_start_ms,
            current_end_ms,
            current,
            drift,
            prediction_drift,
            alerts,
            rules: self.alert_rules(service)?,
            collected,
        })
    }
}
