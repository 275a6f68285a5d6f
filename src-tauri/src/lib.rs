//! The app's commands. Each one translates its arguments, calls
//! `lab-pipeline` on a blocking thread (the window never waits), and returns
//! a typed result or a `{code, message}` error. Long work streams
//! `lab_pipeline::Event`s over a `tauri::ipc::Channel`.

use std::collections::BTreeMap;

use lab_pipeline::{DataSource, Event, Lab, LabHome, ModelKind, PipelineError, TrainRequest};
use serde::{Deserialize, Serialize};
use tauri::State;
use tauri::ipc::Channel;

/// The lab home the app works in (resolved once at start).
pub struct AppHome(pub LabHome);

/// An error as the UI receives it.
#[derive(Debug, Clone, Serialize)]
pub struct UiError {
    pub code: String,
    pub message: String,
}

impl From<PipelineError> for UiError {
    fn from(e: PipelineError) -> Self {
        let w = e.to_wire();
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
    f: impl FnOnce(Lab) -> Result<T, PipelineError> + Send + 'static,
) -> UiResult<T> {
    let home = home.0.clone();
    tauri::async_runtime::spawn_blocking(move || {
        f(Lab::open(&home, lab_pipeline::Catalog::load_default()?)?)
    })
    .await
    .map_err(|e| UiError {
        code: "app.task".into(),
        message: format!("the background task failed: {e}"),
    })?
    .map_err(UiError::from)
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

#[tauri::command]
async fn profile(home: State<'_, AppHome>, dataset: String) -> UiResult<lab_pipeline::Profile> {
    with_lab(&home, move |lab| {
        lab.profile(&DataSource::Catalog { name: dataset })
    })
    .await
}

#[tauri::command]
async fn validate(
    home: State<'_, AppHome>,
    dataset: String,
) -> UiResult<lab_pipeline::ValidationReport> {
    with_lab(&home, move |lab| {
        lab.validate(&DataSource::Catalog { name: dataset })
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
    args: TrainArgs,
    on_event: Channel<Event>,
) -> UiResult<lab_pipeline::TrainResult> {
    with_lab(&home, move |lab| {
        let model: ModelKind = args
            .model
            .parse()
            .map_err(|e: String| PipelineError::Invalid(e))?;
        let req = TrainRequest {
            params: args.params,
            experiment: args.experiment,
            ..TrainRequest::new(DataSource::Catalog { name: args.dataset }, model)
        };
        lab.train(&req, &|e| {
            let _ = on_event.send(e);
        })
    })
    .await
}

#[tauri::command]
async fn runs(home: State<'_, AppHome>) -> UiResult<Vec<lab_pipeline::Run>> {
    with_lab(&home, |lab| {
        Ok(lab.store.list_runs(&lab_pipeline::RunFilter::default())?)
    })
    .await
}

/// The app: commands and state, on any builder (the real one, or tauri's
/// mock builder in tests).
pub fn builder<R: tauri::Runtime>(b: tauri::Builder<R>, home: LabHome) -> tauri::Builder<R> {
    b.manage(AppHome(home))
        .invoke_handler(tauri::generate_handler![
            datasets, profile, validate, train, runs
        ])
}
