//! The app's commands get ACL permissions generated (`allow-<command>`), so
//! the capability in `capabilities/default.json` grants exactly the ones the
//! UI calls. The tidy test (`xtask/src/tidy.rs`) keeps this list, `generate_handler!`
//! in `src/lib.rs` and the capability equal.

const COMMANDS: &[&str] = &[
    "cancel",
    "first_paint",
    "ui_settings",
    "docker_status",
    "tracking_server",
    "overview",
    "datasets",
    "profile",
    "validate",
    "models_for",
    "train",
    "runs",
    "run_detail",
    "compare_runs",
    "register",
    "models",
    "export_k8s",
    "promote",
    "rollout",
    "rollback",
    "deployments",
    "deployment_logs",
    "stop_deployment",
    "sample_request",
    "send_request",
    "services",
    "traffic",
    "monitor",
    "retrain",
    "run_pipeline",
    "export_kfp",
    "roadmap",
    "lesson",
    "lesson_start",
    "lesson_step",
    "lesson_check",
    "lesson_hint",
    "lesson_answer",
    "lesson_skip",
    "lesson_reset",
    "lesson_report",
    "python_status",
    "python_setup",
    "exercise_start",
    "exercise_check",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri-build");
}
