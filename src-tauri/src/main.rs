//! The MLOps Lab desktop app: a Tauri 2 window over `lab-pipeline`.
//!
//! Run it with `cargo run -p mlops-lab-app` (no tauri-cli needed) or
//! `cargo xtask run`. The UI is `../ui`, plain HTML, CSS and ES modules.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MLOPS_LAB_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    // The lab is opened once, here: migrations, the catalogue, the lease.
    let lab = match lab_pipeline::Lab::open_default() {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {}", e.to_wire().message);
            std::process::exit(1);
        }
    };
    let app = mlops_lab_app::builder(tauri::Builder::default(), lab).setup(|app| {
        use tauri::Manager;
        if std::env::var_os("MLOPS_LAB_SOFTWARE_RENDERING").is_some_and(|v| v == "1")
            && let Some(w) = app.get_webview_window("main")
        {
            mlops_lab_app::software_rendering(&w);
        }
        Ok(())
    });
    if let Err(e) = app.run(tauri::generate_context!()) {
        eprintln!("error: MLOps Lab could not start its window: {e}");
        std::process::exit(1);
    }
}
