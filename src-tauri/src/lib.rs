//! The MLOps Lab desktop app: a thin Tauri 2 shell over `lab-pipeline`.
//!
//! - `state`: the lab opened once and shared, jobs, `{code, message}` errors;
//! - `commands`: one file per domain; each command translates its
//!   arguments, calls the core on a blocking thread and returns a typed
//!   result; long work streams `lab_pipeline::Event`s over a
//!   `tauri::ipc::Channel` under a job id the UI can cancel;
//! - `views`: mechanical mapping of core results to `lab-charts` inputs.

mod commands;
mod state;
mod views;

use commands::{app, data, deployments, exercises, lessons, models, monitoring, pipeline, runs};
pub use state::{AppLab, Jobs, UiError};

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

/// The app: commands and state on any builder (the real one, or tauri's
/// mock builder in tests), over `lab`, opened once by the caller.
pub fn builder<R: tauri::Runtime>(
    b: tauri::Builder<R>,
    lab: lab_pipeline::Lab,
) -> tauri::Builder<R> {
    let tracking = state::Tracking::start(&lab);
    b.manage(tracking)
        .manage(AppLab::new(lab))
        .manage(lessons::AppCourse::load())
        .manage(Jobs::default())
        .invoke_handler(tauri::generate_handler![
            app::cancel,
            app::first_paint,
            app::ui_settings,
            app::docker_status,
            app::tracking_server,
            app::overview,
            data::datasets,
            data::profile,
            data::validate,
            data::models_for,
            data::train,
            runs::runs,
            runs::run_detail,
            runs::compare_runs,
            runs::register,
            models::models,
            models::export_k8s,
            models::promote,
            models::rollout,
            models::rollback,
            deployments::deployments,
            deployments::deployment_logs,
            deployments::stop_deployment,
            deployments::sample_request,
            deployments::send_request,
            monitoring::services,
            monitoring::traffic,
            monitoring::monitor,
            monitoring::retrain,
            pipeline::run_pipeline,
            pipeline::export_kfp,
            lessons::roadmap,
            lessons::lesson,
            lessons::lesson_start,
            lessons::lesson_step,
            lessons::lesson_check,
            lessons::lesson_hint,
            lessons::lesson_answer,
            lessons::lesson_skip,
            lessons::lesson_reset,
            lessons::lesson_report,
            exercises::python_status,
            exercises::python_setup,
            exercises::exercise_start,
            exercises::exercise_check,
        ])
}
