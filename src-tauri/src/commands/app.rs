//! The app itself: first paint, cancellation, Docker's status, the
//! pipeline overview and the settings the UI offers.

use tauri::State;

use crate::state::{AppLab, Jobs, UiResult, with_lab};

/// The UI calls this once, when its first view is painted. With
/// `MLOPS_LAB_PAINT_REPORT` set (`cargo xtask bench app`), a
/// `first-paint` line goes to stdout for the benchmark to time.
#[tauri::command]
pub fn first_paint() {
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
pub fn cancel(jobs: State<'_, Jobs>, job: String) -> bool {
    jobs.cancel(&job)
}

/// The defaults and bounds the UI's forms offer (decided by the core).
#[tauri::command]
pub fn ui_settings() -> lab_pipeline::Settings {
    lab_pipeline::Settings::default()
}

#[tauri::command]
pub async fn docker_status(app: State<'_, AppLab>) -> UiResult<lab_pipeline::DockerStatus> {
    with_lab(&app, |lab| Ok(lab.docker_status())).await
}

/// The MLflow tracking server's URI (for `MLFLOW_TRACKING_URI`), or why
/// it is not running.
#[tauri::command]
pub fn tracking_server(tracking: State<'_, crate::state::Tracking>) -> crate::state::TrackingInfo {
    tracking.info()
}

#[tauri::command]
pub async fn overview(app: State<'_, AppLab>) -> UiResult<lab_pipeline::Overview> {
    with_lab(&app, |lab| Ok(lab.overview()?)).await
}
