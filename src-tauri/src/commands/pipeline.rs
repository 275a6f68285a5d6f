//! The whole pipeline in one action.

use lab_pipeline::{Event, PipelineRequest};
use tauri::State;
use tauri::ipc::Channel;

use crate::state::{AppLab, Jobs, UiResult, sink, with_job};

#[tauri::command]
pub async fn run_pipeline(
    app: State<'_, AppLab>,
    jobs: State<'_, Jobs>,
    job: String,
    scenario: Option<String>,
    on_event: Channel<Event>,
) -> UiResult<lab_pipeline::PipelineSummary> {
    with_job(&app, &jobs, job, move |lab| {
        let mut req = PipelineRequest::default();
        if let Some(s) = scenario {
            req.scenario = s;
        }
        Ok(lab.run_pipeline(&req, &sink(&on_event))?)
    })
    .await
}

/// The lab's pipeline as a Kubeflow Pipelines YAML for `scenario`, saved in
/// the lab home's exports folder; the steps image is built when Docker
/// answers.
#[tauri::command]
pub async fn export_kfp(
    app: State<'_, AppLab>,
    jobs: State<'_, Jobs>,
    job: String,
    scenario: Option<String>,
    on_event: Channel<Event>,
) -> UiResult<lab_pipeline::KfpExport> {
    with_job(&app, &jobs, job, move |lab| {
        let req = lab_pipeline::KfpRequest {
            scenario,
            ..Default::default()
        };
        Ok(lab.export_kfp(&req, &sink(&on_event))?)
    })
    .await
}
