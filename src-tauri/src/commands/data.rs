//! Data and training: the catalogue, profiles, validation, the models a
//! dataset's task can use, and a training run.

use std::collections::BTreeMap;

use lab_pipeline::{DataSource, Event, ModelKind, PipelineError, TrainRequest};
use serde::{Deserialize, Serialize};
use tauri::State;
use tauri::ipc::Channel;

use crate::state::{AppLab, Jobs, UiResult, sink, with_job, with_lab};
use crate::views;

#[tauri::command]
pub async fn datasets(app: State<'_, AppLab>) -> UiResult<Vec<lab_pipeline::DatasetSummary>> {
    with_lab(&app, |lab| Ok(lab.dataset_summaries())).await
}

#[derive(Debug, Clone, Serialize)]
pub struct ProfileView {
    #[serde(flatten)]
    pub profile: lab_pipeline::Profile,
    pub charts: Vec<views::ColumnChart>,
}

#[tauri::command]
pub async fn profile(app: State<'_, AppLab>, dataset: String) -> UiResult<ProfileView> {
    with_lab(&app, move |lab| {
        let profile = lab.profile(&DataSource::Catalog { name: dataset })?;
        let charts = views::profile_histograms(&profile)?;
        Ok(ProfileView { profile, charts })
    })
    .await
}

#[tauri::command]
pub async fn validate(
    app: State<'_, AppLab>,
    dataset: String,
) -> UiResult<lab_pipeline::ValidationReport> {
    with_lab(&app, move |lab| {
        Ok(lab.validate(&DataSource::Catalog { name: dataset })?)
    })
    .await
}

/// The models that fit a dataset's default task, with their parameters.
#[tauri::command]
pub async fn models_for(
    app: State<'_, AppLab>,
    dataset: String,
) -> UiResult<Vec<lab_pipeline::ModelChoice>> {
    with_lab(&app, move |lab| Ok(lab.models_for(&dataset)?)).await
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
pub async fn train(
    app: State<'_, AppLab>,
    jobs: State<'_, Jobs>,
    job: String,
    args: TrainArgs,
    on_event: Channel<Event>,
) -> UiResult<lab_pipeline::TrainResult> {
    with_job(&app, &jobs, job, move |lab| {
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
