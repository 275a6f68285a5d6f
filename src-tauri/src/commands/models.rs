//! The registry: models with their versions and services, promotion,
//! rollout and rollback.

use lab_pipeline::{Event, ModelRef};
use tauri::State;
use tauri::ipc::Channel;

use crate::state::{AppLab, Jobs, UiResult, sink, with_job, with_lab};

#[tauri::command]
pub async fn models(app: State<'_, AppLab>) -> UiResult<Vec<lab_pipeline::ModelSummary>> {
    with_lab(&app, |lab| Ok(lab.model_summaries()?)).await
}

/// Kubernetes and KServe manifests of `model` (`name:version`), written
/// into the lab home's exports folder and returned to show.
#[tauri::command]
pub async fn export_k8s(
    app: State<'_, AppLab>,
    model: String,
) -> UiResult<lab_pipeline::K8sExport> {
    with_lab(&app, move |lab| {
        let r: ModelRef = model.parse()?;
        Ok(lab.export_k8s(&r, None)?)
    })
    .await
}

#[tauri::command]
pub async fn promote(
    app: State<'_, AppLab>,
    jobs: State<'_, Jobs>,
    job: String,
    name: String,
    version: i64,
    on_event: Channel<Event>,
) -> UiResult<Option<lab_pipeline::RolloutResult>> {
    with_job(&app, &jobs, job, move |lab| {
        Ok(lab.promote(&name, version, false, &sink(&on_event))?.1)
    })
    .await
}

/// Roll `model` (`name@alias` or `name:version`) out to `service` (by
/// default, the one serving that model, else a new one named after it).
#[tauri::command]
pub async fn rollout(
    app: State<'_, AppLab>,
    jobs: State<'_, Jobs>,
    job: String,
    model: String,
    service: Option<String>,
    on_event: Channel<Event>,
) -> UiResult<lab_pipeline::RolloutResult> {
    with_job(&app, &jobs, job, move |lab| {
        let model: ModelRef = model.parse()?;
        Ok(lab.rollout_model(&model, service.as_deref(), false, &sink(&on_event))?)
    })
    .await
}

#[tauri::command]
pub async fn rollback(
    app: State<'_, AppLab>,
    jobs: State<'_, Jobs>,
    job: String,
    service: String,
    on_event: Channel<Event>,
) -> UiResult<lab_pipeline::RolloutResult> {
    with_job(&app, &jobs, job, move |lab| {
        Ok(lab.rollback(&service, false, &sink(&on_event))?)
    })
    .await
}
