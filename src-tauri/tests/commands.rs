//! The app's commands without a webview: tauri's mock runtime, a real lab
//! home, the real datasets.

use tauri::test::{INVOKE_KEY, get_ipc_response, mock_builder};
use tauri::webview::InvokeRequest;

fn app(home: &std::path::Path) -> tauri::App<tauri::test::MockRuntime> {
    let home = lab_pipeline::LabHome::at(home).unwrap();
    mlops_lab_app::builder(mock_builder(), home)
        .build(tauri::generate_context!())
        .expect("the app builds on the mock runtime")
}

fn invoke(
    w: &tauri::WebviewWindow<tauri::test::MockRuntime>,
    cmd: &str,
    body: serde_json::Value,
) -> Result<serde_json::Value, serde_json::Value> {
    get_ipc_response(
        w,
        InvokeRequest {
            cmd: cmd.into(),
            callback: tauri::ipc::CallbackFn(0),
            error: tauri::ipc::CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: tauri::ipc::InvokeBody::Json(body),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|b| b.deserialize::<serde_json::Value>().unwrap())
}

#[test]
fn commands_answer_typed_results_and_code_message_errors() {
    let home = tempfile::tempdir().unwrap();
    let app = app(home.path());
    let w = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    let ds = invoke(&w, "datasets", serde_json::json!({})).unwrap();
    assert!(
        ds.as_array()
            .unwrap()
            .iter()
            .any(|d| d["name"] == "penguins")
    );
    let p = invoke(&w, "profile", serde_json::json!({"dataset": "iris"})).unwrap();
    assert_eq!(p["columns"].as_array().unwrap().len(), 5);
    let err = invoke(&w, "profile", serde_json::json!({"dataset": "nope"})).unwrap_err();
    assert_eq!(err["code"], "data.unknown_dataset", "{err}");
    assert!(err["message"].as_str().unwrap().contains("nope"));
    // Training streams events over a channel and lands in the real store.
    let runs = invoke(&w, "runs", serde_json::json!({})).unwrap();
    assert_eq!(runs.as_array().unwrap().len(), 0);
    assert!(home.path().join("lab.db").is_file());
}
