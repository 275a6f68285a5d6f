//! Deployments: their live health and logs, stopping one, and the
//! playground (a request built from a dataset row, sent, with its `curl`).

use tauri::State;

use crate::state::{AppLab, UiResult, with_lab};

#[tauri::command]
pub async fn deployments(
    app: State<'_, AppLab>,
    all: bool,
) -> UiResult<Vec<lab_pipeline::DeploymentStatus>> {
    with_lab(&app, move |lab| Ok(lab.deployment_statuses(all)?)).await
}

#[tauri::command]
pub async fn deployment_logs(
    app: State<'_, AppLab>,
    deployment: String,
    tail: usize,
) -> UiResult<String> {
    with_lab(&app, move |lab| {
        Ok(lab.deployment_logs(&deployment, tail.clamp(1, 2000))?)
    })
    .await
}

#[tauri::command]
pub async fn stop_deployment(
    app: State<'_, AppLab>,
    deployment: String,
) -> UiResult<lab_pipeline::DeploymentRecord> {
    with_lab(&app, move |lab| Ok(lab.stop_deployment(&deployment)?)).await
}

#[tauri::command]
pub async fn sample_request(
    app: State<'_, AppLab>,
    deployment: String,
    row: usize,
) -> UiResult<lab_pipeline::SampleRequest> {
    with_lab(&app, move |lab| Ok(lab.sample_request(&deployment, row)?)).await
}

#[tauri::command]
pub async fn send_request(
    app: State<'_, AppLab>,
    deployment: String,
    path: String,
    content_type: String,
    body: String,
) -> UiResult<lab_pipeline::SentRequest> {
    with_lab(&app, move |lab| {
        Ok(lab.send_request(&deployment, &path, &content_type, &body)?)
    })
    .await
}
