//! The app's commands. Each one translates its arguments, calls
//! `lab-pipeline` on a blocking thread (the window never waits), and returns
//! a typed result or a `{code, message}` error. Long work streams
//! `lab_pipeline::Event`s over a `tauri::ipc::Channel` and runs under a job
//! id the UI can cancel. Charts are rendered to SVG by `lab-charts`
//! (see `views`).

mod views;

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use lab_pipeline::{
    Cancel, DataSource, Event, LEARNING_CURVE, Lab, LabHome, ModelKind, ModelRef, PipelineError,
    PipelineRequest, TrainRequest,
};
use serde::{Deserialize, Serialize};
use tauri::State;
use tauri::ipc::Channel;

/// The lab home the app works in (resolved once at start).
pub struct AppHome(pub LabHome);

/// Long work in progress, by the job id the UI gave it.
#[derive(Default)]
pub struct Jobs(Mutex<HashMap<String, Cancel>>);

/// An error as the UI receives it.
#[derive(Debug, Clone, Serialize)]
pub struct UiError {
    pub code: String,
    pub message: String,
}

impl<E: Into<PipelineError>> From<E> for UiError {
    fn from(e: E) -> Self {
        let w = e.into().to_wire();
        UiError {
            code: w.code,
            message: w.message,
        }
    }
}

type UiResult<T> = Result<T, UiError>;

/// Open the lab (per call: the store is a file, and each command runs on
/// its own thread) and run `f` off the UI thread.
async fn with_lab<T: Send + 'static>(
    home: &AppHome,
    f: impl FnOnce(Lab) -> Result<T, UiError> + Send + 'static,
) -> UiResult<T> {
    let home = home.0.clone();
    tauri::async_runtime::spawn_blocking(move || {
        let lab = Lab::open(&home, lab_pipeline::Catalog::load_default()?)?;
        f(lab)
    })
    .await
    .map_err(|e| UiError {
        code: "app.task".into(),
        message: format!("the background task failed: {e}"),
    })?
}

/// Like [`with_lab`], for long work registered as `job` (cancellable).
async fn with_job<T: Send + 'static>(
    home: &AppHome,
    jobs: &Jobs,
    job: String,
    f: impl FnOnce(Lab) -> Result<T, UiError> + Send + 'static,
) -> UiResult<T> {
    let cancel = Cancel::new();
    {
        let mut jobs = jobs.0.lock().unwrap_or_else(|p| p.into_inner());
        if jobs.contains_key(&job) {
            return Err(UiError {
                code: "app.busy".into(),
                message: format!("`{job}` is already running: wait for it or cancel it"),
            });
        }
        jobs.insert(job.clone(), cancel.clone());
    }
    let r = with_lab(home, move |lab| f(lab.with_cancel(cancel))).await;
    jobs.0
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&job);
    r
}

fn sink(ch: &Channel<Event>) -> impl Fn(Event) + '_ {
    move |e| {
        let _ = ch.send(e);
    }
}

/// The UI calls this once, when its first view is painted. With
/// `MLOPS_LAB_PAINT_REPORT` set (`cargo xtask bench app`), a
/// `first-paint` line goes to stdout for the benchmark to time.
#[tauri::command]
fn first_paint() {
    tracing::info!("first paint");
    if std::env::var_os("MLOPS_LAB_PAINT_REPORT").is_some() {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "first-paint");
        let _ = out.flush();
    }
}

/// Ask job `job` to stop at its next checkpoint. False when no such job runs.
#[tauri::command]
fn cancel(jobs: State<'_, Jobs>, job: String) -> bool {
    match jobs.0.lock().unwrap_or_else(|p| p.into_inner()).get(&job) {
        Some(c) => {
            c.cancel();
            true
        }
        None => false,
    }
}

#[tauri::command]
async fn docker_status(home: State<'_, AppHome>) -> UiResult<lab_pipeline::DockerStatus> {
    with_lab(&home, |lab| Ok(lab.docker_status())).await
}

#[tauri::command]
async fn overview(home: State<'_, AppHome>) -> UiResult<lab_pipeline::Overview> {
    with_lab(&home, |lab| Ok(lab.overview()?)).await
}

#[derive(Debug, Clone, Serialize)]
pub struct DatasetInfo {
    pub name: String,
    pub title: String,
    pub rows: usize,
    pub columns: usize,
    pub description: String,
    pub targets: Vec<String>,
    pub scenarios: Vec<String>,
}

#[tauri::command]
async fn datasets(home: State<'_, AppHome>) -> UiResult<Vec<DatasetInfo>> {
    with_lab(&home, |lab| {
        Ok(lab
            .catalog
            .datasets
            .iter()
            .map(|d| DatasetInfo {
                name: d.name.clone(),
                title: d.title.clone(),
                rows: d.rows,
                columns: d.columns,
                description: d.description.clone(),
                targets: d.targets.iter().map(|t| t.name.clone()).collect(),
                scenarios: d.scenarios.iter().map(|s| s.name.clone()).collect(),
            })
            .collect())
    })
    .await
}

#[derive(Debug, Clone, Serialize)]
pub struct ProfileView {
    #[serde(flatten)]
    pub profile: lab_pipeline::Profile,
    pub charts: Vec<views::ColumnChart>,
}

#[tauri::command]
async fn profile(home: State<'_, AppHome>, dataset: String) -> UiResult<ProfileView> {
    with_lab(&home, move |lab| {
        let profile = lab.profile(&DataSource::Catalog { name: dataset })?;
        let charts = views::profile_histograms(&profile)?;
        Ok(ProfileView { profile, charts })
    })
    .await
}

#[tauri::command]
async fn validate(
    home: State<'_, AppHome>,
    dataset: String,
) -> UiResult<lab_pipeline::ValidationReport> {
    with_lab(&home, move |lab| {
        Ok(lab.validate(&DataSource::Catalog { name: dataset })?)
    })
    .await
}

#[derive(Debug, Clone, Serialize)]
pub struct ModelChoice {
    pub name: String,
    pub params: Vec<lab_pipeline::ParamSpec>,
}

/// The models that fit a dataset's default task, with their parameters.
#[tauri::command]
async fn models_for(home: State<'_, AppHome>, dataset: String) -> UiResult<Vec<ModelChoice>> {
    with_lab(&home, move |lab| {
        let task = lab.catalog.dataset(&dataset)?.target(None)?.task;
        Ok(ModelKind::ALL
            .iter()
            .filter(|k| k.supports(task))
            .map(|k| ModelChoice {
                name: k.to_string(),
                params: lab_pipeline::param_specs(*k).to_vec(),
            })
            .collect())
    })
    .await
}

#[derive(Debug, Clone, Deserialize)]
pub struct TrainArgs {
    pub dataset: String,
    pub model: String,
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    #[serde(default)]
    pub experiment: Option<String>,
}

#[tauri::command]
async fn train(
    home: State<'_, AppHome>,
    jobs: State<'_, Jobs>,
    job: String,
    args: TrainArgs,
    on_event: Channel<Event>,
) -> UiResult<lab_pipeline::TrainResult> {
    with_job(&home, &jobs, job, move |lab| {
        let model: ModelKind = args
            .model
            .parse()
            .map_err(|e: String| PipelineError::Invalid(e))?;
        let req = TrainRequest {
            params: args.params,
            experiment: args.experiment,
            ..TrainRequest::new(DataSource::Catalog { name: args.dataset }, model)
        };
        Ok(lab.train(&req, &sink(&on_event))?)
    })
    .await
}

/// A run with its headline metric, as the runs table shows it.
#[derive(Debug, Clone, Serialize)]
pub struct RunRow {
    #[serde(flatten)]
    pub run: lab_pipeline::Run,
    pub headline: Option<(&'static str, f64)>,
}

#[tauri::command]
async fn runs(home: State<'_, AppHome>) -> UiResult<Vec<RunRow>> {
    with_lab(&home, |lab| {
        Ok(lab
            .store
            .list_runs(&lab_pipeline::RunFilter::default())?
            .into_iter()
            .map(|run| RunRow {
                headline: lab_pipeline::headline_metric(&run),
                run,
            })
            .collect())
    })
    .await
}

#[derive(Debug, Clone, Serialize)]
pub struct RunDetailView {
    #[serde(flatten)]
    pub detail: lab_pipeline::RunDetail,
    /// The learning curve (the run's metric history) and the confusion
    /// matrix, drawn.
    pub history_svg: Option<String>,
    pub confusion_svg: Option<String>,
}

#[tauri::command]
async fn run_detail(home: State<'_, AppHome>, run_id: String) -> UiResult<RunDetailView> {
    with_lab(&home, move |lab| {
        let detail = lab.run_detail(&run_id)?;
        let history_svg = match &detail.primary_metric {
            Some(m) if !detail.history.is_empty() => Some(views::learning_curve(
                &format!("{m} by training rows (learning curve)"),
                vec![
                    ("test".into(), &detail.history),
                    ("train".into(), &detail.train_history),
                ],
                m,
            )?),
            _ => None,
        };
        let confusion_svg = match &detail.confusion_matrix {
            Some(m) if !detail.classes.is_empty() => Some(views::confusion(&detail.classes, m)?),
            _ => None,
        };
        Ok(RunDetailView {
            detail,
            history_svg,
            confusion_svg,
        })
    })
    .await
}

#[derive(Debug, Clone, Serialize)]
pub struct CompareView {
    #[serde(flatten)]
    pub comparison: lab_pipeline::RunComparison,
    pub curves_svg: Option<String>,
}

#[tauri::command]
async fn compare_runs(home: State<'_, AppHome>, run_ids: Vec<String>) -> UiResult<CompareView> {
    with_lab(&home, move |lab| {
        let comparison = lab.compare_runs(&run_ids)?;
        let metric = comparison
            .runs
            .iter()
            .find_map(|r| lab_pipeline::headline_metric(r).map(|(k, _)| k));
        let curves_svg = match metric {
            Some(m) => {
                let series = comparison
                    .runs
                    .iter()
                    .map(|r| Ok((r.run_name.clone(), lab.learning_curve(&r.run_id, m)?)))
                    .collect::<UiResult<Vec<_>>>()?;
                Some(views::learning_curve(
                    &format!("{m} learning curves"),
                    series.iter().map(|(n, h)| (n.clone(), h)).collect(),
                    m,
                )?)
            }
            None => None,
        };
        Ok(CompareView {
            comparison,
            curves_svg,
        })
    })
    .await
}

#[tauri::command]
async fn register(
    home: State<'_, AppHome>,
    run_id: String,
    name: Option<String>,
) -> UiResult<lab_pipeline::ModelVersion> {
    with_lab(&home, move |lab| {
        let run = lab.run(&run_id)?;
        let name = name
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| lab_pipeline::model_name_for_run(&run));
        Ok(lab.register(&run.run_id, &name)?)
    })
    .await
}

#[derive(Debug, Clone, Serialize)]
pub struct ModelView {
    #[serde(flatten)]
    pub model: lab_pipeline::RegisteredModel,
    pub versions: Vec<VersionView>,
    /// The service serving this model, with its versions.
    pub service: Option<lab_pipeline::Service>,
}

#[derive(Debug, Clone, Serialize)]
pub struct VersionView {
    #[serde(flatten)]
    pub version: lab_pipeline::ModelVersion,
    pub run_name: String,
    pub metrics: BTreeMap<String, f64>,
}

#[tauri::command]
async fn models(home: State<'_, AppHome>) -> UiResult<Vec<ModelView>> {
    with_lab(&home, |lab| {
        let services = lab.store.list_services()?;
        lab.store
            .list_registered_models()?
            .into_iter()
            .map(|m| {
                let versions = lab
                    .store
                    .list_model_versions(&m.name)?
                    .into_iter()
                    .map(|v| {
                        let run = lab.store.get_run(&v.run_id)?;
                        Ok(VersionView {
                            version: v,
                            run_name: run.run_name,
                            metrics: run
                                .metrics
                                .into_iter()
                                .filter(|(k, _)| {
                                    !k.starts_with(LEARNING_CURVE) && !k.starts_with("train_")
                                })
                                .collect(),
                        })
                    })
                    .collect::<UiResult<Vec<_>>>()?;
                Ok(ModelView {
                    service: services.iter().find(|s| s.model_name == m.name).cloned(),
                    model: m,
                    versions,
                })
            })
            .collect()
    })
    .await
}

#[tauri::command]
async fn promote(
    home: State<'_, AppHome>,
    jobs: State<'_, Jobs>,
    job: String,
    name: String,
    version: i64,
    on_event: Channel<Event>,
) -> UiResult<Option<lab_pipeline::RolloutResult>> {
    with_job(&home, &jobs, job, move |lab| {
        Ok(lab.promote(&name, version, false, &sink(&on_event))?.1)
    })
    .await
}

/// Roll `model` (`name@alias` or `name:version`) out to `service` (by
/// default, the one serving that model, else a new one named after it).
#[tauri::command]
async fn rollout(
    home: State<'_, AppHome>,
    jobs: State<'_, Jobs>,
    job: String,
    model: String,
    service: Option<String>,
    on_event: Channel<Event>,
) -> UiResult<lab_pipeline::RolloutResult> {
    with_job(&home, &jobs, job, move |lab| {
        let model: ModelRef = model.parse()?;
        Ok(lab.rollout_model(&model, service.as_deref(), false, &sink(&on_event))?)
    })
    .await
}

#[tauri::command]
async fn rollback(
    home: State<'_, AppHome>,
    jobs: State<'_, Jobs>,
    job: String,
    service: String,
    on_event: Channel<Event>,
) -> UiResult<lab_pipeline::RolloutResult> {
    with_job(&home, &jobs, job, move |lab| {
        Ok(lab.rollback(&service, false, &sink(&on_event))?)
    })
    .await
}

#[tauri::command]
async fn deployments(
    home: State<'_, AppHome>,
    all: bool,
) -> UiResult<Vec<lab_pipeline::DeploymentStatus>> {
    with_lab(&home, move |lab| Ok(lab.deployment_statuses(all)?)).await
}

#[tauri::command]
async fn deployment_logs(
    home: State<'_, AppHome>,
    deployment: String,
    tail: usize,
) -> UiResult<String> {
    with_lab(&home, move |lab| {
        Ok(lab.deployment_logs(&deployment, tail.clamp(1, 2000))?)
    })
    .await
}

#[tauri::command]
async fn stop_deployment(
    home: State<'_, AppHome>,
    deployment: String,
) -> UiResult<lab_pipeline::DeploymentRecord> {
    with_lab(&home, move |lab| Ok(lab.stop_deployment(&deployment)?)).await
}

#[tauri::command]
async fn sample_request(
    home: State<'_, AppHome>,
    deployment: String,
    row: usize,
) -> UiResult<lab_pipeline::SampleRequest> {
    with_lab(&home, move |lab| Ok(lab.sample_request(&deployment, row)?)).await
}

#[tauri::command]
async fn send_request(
    home: State<'_, AppHome>,
    deployment: String,
    path: String,
    content_type: String,
    body: String,
) -> UiResult<lab_pipeline::SentRequest> {
    with_lab(&home, move |lab| {
        Ok(lab.send_request(&deployment, &path, &content_type, &body)?)
    })
    .await
}

#[tauri::command]
async fn services(home: State<'_, AppHome>) -> UiResult<Vec<lab_pipeline::ServiceStatus>> {
    with_lab(&home, |lab| Ok(lab.services()?)).await
}

#[derive(Debug, Clone, Deserialize)]
pub struct TrafficArgs {
    pub service: String,
    /// `reference`, `drift` or `shift`.
    pub mix: String,
    pub rps: f64,
    pub requests: usize,
    #[serde(default = "yes")]
    pub labels: bool,
}

fn yes() -> bool {
    true
}

#[tauri::command]
async fn traffic(
    home: State<'_, AppHome>,
    jobs: State<'_, Jobs>,
    job: String,
    args: TrafficArgs,
    on_event: Channel<Event>,
) -> UiResult<lab_pipeline::TrafficSummary> {
    with_job(&home, &jobs, job, move |lab| {
        // A new sample of rows each time.
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(42, |d| d.as_millis() as u64);
        let req = lab.traffic_request(
            &args.service,
            args.mix.parse()?,
            args.rps,
            args.requests,
            args.labels,
            seed,
        )?;
        Ok(lab.traffic(&req, &sink(&on_event))?)
    })
    .await
}

#[derive(Debug, Clone, Serialize)]
pub struct MonitorView {
    #[serde(flatten)]
    pub snapshot: lab_pipeline::MonitorSnapshot,
    pub charts: views::MonitorCharts,
    pub drift_scores_svg: Option<String>,
    pub histograms: Vec<views::ColumnChart>,
    pub prediction_svg: Option<String>,
}

#[tauri::command]
async fn monitor(
    home: State<'_, AppHome>,
    service: String,
    since_ms: Option<i64>,
) -> UiResult<MonitorView> {
    with_lab(&home, move |lab| {
        let snapshot = lab.monitor_snapshot(&service, 2000, 10 * 60_000, since_ms)?;
        let rule = |m: lab_pipeline::AlertMetric| {
            snapshot
                .rules
                .iter()
                .find(|r| r.metric == m)
                .map(|r| r.threshold)
        };
        let charts = views::monitor_series(
            &snapshot.windows,
            snapshot.window_ms,
            rule(lab_pipeline::AlertMetric::ErrorRate),
            rule(lab_pipeline::AlertMetric::DriftShare),
            rule(lab_pipeline::AlertMetric::LatencyP99Ms),
        )?;
        let (drift_scores_svg, histograms) = match &snapshot.drift {
            Some(d) => (
                Some(views::drift_scores(d)?),
                d.columns
                    .iter()
                    .map(|c| {
                        Ok(views::ColumnChart {
                            column: c.column.clone(),
                            svg: views::drift_histogram(c)?,
                        })
                    })
                    .collect::<UiResult<Vec<_>>>()?,
            ),
            None => (None, vec![]),
        };
        let prediction_svg = snapshot
            .prediction_drift
            .as_ref()
            .map(views::drift_histogram)
            .transpose()?;
        Ok(MonitorView {
            snapshot,
            charts,
            drift_scores_svg,
            histograms,
            prediction_svg,
        })
    })
    .await
}

#[tauri::command]
async fn retrain(
    home: State<'_, AppHome>,
    jobs: State<'_, Jobs>,
    job: String,
    service: String,
    on_event: Channel<Event>,
) -> UiResult<lab_pipeline::RetrainResult> {
    with_job(&home, &jobs, job, move |lab| {
        Ok(lab.retrain(&service, "on demand (app)", false, &sink(&on_event))?)
    })
    .await
}

#[tauri::command]
async fn run_pipeline(
    home: State<'_, AppHome>,
    jobs: State<'_, Jobs>,
    job: String,
    scenario: Option<String>,
    on_event: Channel<Event>,
) -> UiResult<lab_pipeline::PipelineSummary> {
    with_job(&home, &jobs, job, move |lab| {
        let req = PipelineRequest {
            scenario: scenario.unwrap_or_else(|| lab_pipeline::DEFAULT_SCENARIO.into()),
            ..PipelineRequest::default()
        };
        Ok(lab.run_pipeline(&req, &sink(&on_event))?)
    })
    .await
}

/// Low-memory mode (`MLOPS_LAB_SOFTWARE_RENDERING=1`): the UI is tables,
/// text and SVG, so WebKit can paint it in software, without GPU
/// compositing. That saves about 90 MB of graphics buffers across the app's
/// processes (`cargo xtask bench app` measures both modes) and avoids the
/// blank windows some GPU drivers give WebKitGTK. It is not the default:
/// switched on after the page loads, WebKitGTK 2.4x never answers a
/// snapshot request (so WebDriver screenshots hang).
pub fn software_rendering(window: &tauri::WebviewWindow) {
    #[cfg(target_os = "linux")]
    {
        let _ = window.with_webview(|w| {
            use webkit2gtk::{HardwareAccelerationPolicy, SettingsExt, WebViewExt};
            if let Some(s) = w.inner().settings() {
                s.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
            }
        });
    }
    #[cfg(not(target_os = "linux"))]
    let _ = window;
}

/// The app: commands and state, on any builder (the real one, or tauri's
/// mock builder in tests).
pub fn builder<R: tauri::Runtime>(b: tauri::Builder<R>, home: LabHome) -> tauri::Builder<R> {
    b.manage(AppHome(home))
        .manage(Jobs::default())
        .invoke_handler(tauri::generate_handler![
            cancel,
            first_paint,
            docker_status,
            overview,
            datasets,
            profile,
            validate,
            models_for,
            train,
            runs,
            run_detail,
            compare_runs,
            register,
            models,
            promote,
            rollout,
            rollback,
            deployments,
            deployment_logs,
            stop_deployment,
            sample_request,
            send_request,
            services,
            traffic,
            monitor,
            retrain,
            run_pipeline,
        ])
}
