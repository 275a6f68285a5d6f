//! The app's commands without a webview: tauri's mock runtime, a real lab
//! home, the real datasets.

use serde_json::json;
use tauri::test::{INVOKE_KEY, get_ipc_response, mock_builder};
use tauri::webview::InvokeRequest;

fn app(home: &std::path::Path) -> tauri::App<tauri::test::MockRuntime> {
    let home = lab_pipeline::LabHome::at(home).unwrap();
    let lab =
        lab_pipeline::Lab::open(&home, lab_pipeline::Catalog::load_default().unwrap()).unwrap();
    mlops_lab_app::builder(mock_builder(), lab)
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
    let ds = invoke(&w, "datasets", json!({})).unwrap();
    assert!(
        ds.as_array()
            .unwrap()
            .iter()
            .any(|d| d["name"] == "penguins")
    );
    // A profile with one histogram per column, drawn as SVG.
    let p = invoke(&w, "profile", json!({"dataset": "iris"})).unwrap();
    assert_eq!(p["columns"].as_array().unwrap().len(), 5);
    let charts = p["charts"].as_array().unwrap();
    assert_eq!(charts.len(), 5);
    assert!(
        charts
            .iter()
            .all(|c| c["svg"].as_str().unwrap().starts_with("<svg"))
    );
    let err = invoke(&w, "profile", json!({"dataset": "nope"})).unwrap_err();
    assert_eq!(err["code"], "data.unknown_dataset", "{err}");
    assert!(err["message"].as_str().unwrap().contains("nope"));
    let models = invoke(&w, "models_for", json!({"dataset": "wine-quality-red"})).unwrap();
    assert!(
        models
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["name"] == "logistic-regression")
    );

    // The pipeline strip of an empty lab, then after profiling.
    let ov = invoke(&w, "overview", json!({})).unwrap();
    let stages = ov["stages"].as_array().unwrap();
    assert_eq!(stages.len(), 7);
    assert_eq!(stages[0]["headline"], "iris profiled", "{ov}");
    assert_eq!(stages[1]["health"], "idle");

    // Training: events over a channel, a run in the real store.
    let train = |job: &str, model: &str| {
        invoke(
            &w,
            "train",
            json!({"job": job, "args": {"dataset": "wine-quality-red", "model": model},
                   "onEvent": "__CHANNEL__:7"}),
        )
    };
    let a = train("t1", "logistic-regression").unwrap();
    let b = train("t2", "gaussian-nb").unwrap();
    let runs = invoke(&w, "runs", json!({})).unwrap();
    assert_eq!(runs.as_array().unwrap().len(), 2);
    assert!(home.path().join("lab.db").is_file());

    // Run detail: params, metrics, the learning curve (metric history) and
    // the confusion matrix, both as SVG.
    let d = invoke(&w, "run_detail", json!({"runId": a["run_id"]})).unwrap();
    assert_eq!(d["primary_metric"], "accuracy");
    let history = d["history"].as_array().unwrap();
    assert_eq!(history.len(), 5, "{d}");
    let last = history.last().unwrap();
    assert_eq!(last[0], a["train_rows"]);
    assert_eq!(last[1], a["metrics"]["accuracy"]);
    assert!(d["history_svg"].as_str().unwrap().contains("<svg"));
    assert!(d["confusion_svg"].as_str().unwrap().contains("<svg"));
    assert_eq!(d["classes"], json!(["not-good", "good"]));
    // The metrics to show come without the learning-curve history.
    let shown = d["metrics"].as_array().unwrap();
    assert!(
        shown.contains(&json!(["accuracy", a["metrics"]["accuracy"]])),
        "{d}"
    );
    assert!(
        shown
            .iter()
            .all(|m| !m[0].as_str().unwrap().starts_with("learning_curve/"))
    );

    let c = invoke(
        &w,
        "compare_runs",
        json!({"runIds": [a["run_id"], b["run_id"]]}),
    )
    .unwrap();
    assert_eq!(c["runs"].as_array().unwrap().len(), 2);
    assert!(
        c["differing_params"]
            .as_array()
            .unwrap()
            .contains(&json!("model"))
    );
    assert!(c["curves_svg"].as_str().unwrap().contains("<svg"));
    assert_eq!(c["curve_metric"], "accuracy");
    let keys = c["metric_keys"].as_array().unwrap();
    assert!(keys.contains(&json!("accuracy")) && keys.contains(&json!("train_accuracy")));
    assert!(
        keys.iter()
            .all(|k| !k.as_str().unwrap().starts_with("learning_curve/"))
    );
    let params = c["param_keys"].as_array().unwrap();
    assert!(
        params.contains(&json!("model"))
            && params.windows(2).all(|p| p[0].as_str() < p[1].as_str())
    );
    let err = invoke(&w, "compare_runs", json!({"runIds": [a["run_id"]]})).unwrap_err();
    assert_eq!(err["code"], "invalid");

    // Registry: register, promote (no service serves it, so no rollout).
    let v = invoke(&w, "register", json!({"runId": a["run_id"], "name": null})).unwrap();
    assert_eq!(v["version"], 1);
    let promoted = invoke(
        &w,
        "promote",
        json!({"job": "p1", "name": v["name"], "version": 1, "onEvent": "__CHANNEL__:8"}),
    )
    .unwrap();
    assert!(promoted.is_null());
    let m = invoke(&w, "models", json!({})).unwrap();
    assert_eq!(m[0]["aliases"]["champion"], 1, "{m}");
    assert_eq!(m[0]["versions"][0]["run_name"], a["run_name"]);
    // Its headline metrics, most telling first, at most four.
    let shown = m[0]["versions"][0]["metrics"].as_array().unwrap();
    assert_eq!(
        shown[0],
        json!(["accuracy", a["metrics"]["accuracy"]]),
        "{m}"
    );
    assert!(shown.len() <= 4);
    assert!(m[0]["service"].is_null());
    let ov = invoke(&w, "overview", json!({})).unwrap();
    assert_eq!(ov["stages"][1]["headline"], b["run_name"]);
    assert_eq!(
        ov["stages"][2]["headline"],
        format!("champion {} v1", v["name"].as_str().unwrap())
    );

    // The forms' defaults come from the core.
    let settings = invoke(&w, "ui_settings", json!({})).unwrap();
    assert_eq!(settings["default_scenario"], lab_pipeline::DEFAULT_SCENARIO);
    assert_eq!(settings["min_drift_rows"], lab_pipeline::MIN_DRIFT_ROWS);
    assert_eq!(settings["traffic"]["default_mix"], "drift");
    assert_eq!(settings["traffic"]["max_requests"], 100_000);

    // Nothing deployed: empty lists, and a clear error for a missing one.
    assert_eq!(invoke(&w, "services", json!({})).unwrap(), json!([]));
    let err = invoke(&w, "monitor", json!({"service": "nope", "sinceMs": null})).unwrap_err();
    assert_eq!(err["code"], "not_found", "{err}");
    let err = invoke(
        &w,
        "traffic",
        json!({"job": "x", "args": {"service": "nope", "mix": "drift", "rps": 10, "requests": 5},
               "onEvent": "__CHANNEL__:9"}),
    )
    .unwrap_err();
    assert_eq!(err["code"], "not_found", "{err}");
    // Cancelling a job that does not run says so.
    assert_eq!(invoke(&w, "cancel", json!({"job": "nope"})).unwrap(), false);
}

/// A training job cancelled while it fits stops at the next checkpoint:
/// the command answers `cancelled` and the run ends KILLED in the store.
/// The fit is slowed by the test hook `MLOPS_LAB_FAILPOINTS`, set only in a
/// child process running this same test binary (the crate forbids the
/// `unsafe` that setting it in-process would need).
#[test]
fn a_cancelled_training_ends_killed() {
    if std::env::var_os("MLOPS_LAB_FAILPOINTS").is_none() {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "a_cancelled_training_ends_killed", "--nocapture"])
            .env("MLOPS_LAB_FAILPOINTS", "train.fit=sleep(3000)")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("1 passed"));
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let app = app(home.path());
    let w = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    let w2 = w.clone();
    let t = std::thread::spawn(move || {
        invoke(
            &w2,
            "train",
            json!({"job": "slow", "args": {"dataset": "iris", "model": "logistic-regression"},
                   "onEvent": "__CHANNEL__:3"}),
        )
    });
    // Wait until the job is registered, then cancel it (during the fit).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while invoke(&w, "cancel", json!({"job": "slow"})).unwrap() != true {
        assert!(
            std::time::Instant::now() < deadline,
            "the job never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let err = t.join().unwrap().unwrap_err();
    assert_eq!(err["code"], "cancelled", "{err}");
    let runs = invoke(&w, "runs", json!({})).unwrap();
    assert_eq!(runs[0]["status"], "KILLED", "{runs}");
    // The job is gone: a new one under the same id may start.
    assert_eq!(invoke(&w, "cancel", json!({"job": "slow"})).unwrap(), false);
}

#[test]
fn lesson_commands_walk_a_lesson_without_revealing_answers() {
    let home = tempfile::tempdir().unwrap();
    let app = app(home.path());
    let w = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    let r = invoke(&w, "roadmap", json!({})).unwrap();
    let total = r["total"].as_u64().unwrap();
    assert!(total >= 14, "{r}");
    assert_eq!(r["passed"], 0);
    assert_eq!(r["continue_with"], "m1-01-whole-loop");

    let p = invoke(&w, "lesson", json!({"id": "m1-02-profile"})).unwrap();
    assert_eq!(p["status"], "not-started");
    assert_eq!(p["prev"], "m1-01-whole-loop");
    // Markdown rendered in Rust; the next-lesson link routes in the app.
    let body = p["html"].as_str().unwrap();
    assert!(body.contains("<pre><code class=\"language-sh\">mlops-lab data profile penguins"));
    assert!(
        body.contains("href=\"#lesson/m1-03-validate-clean\""),
        "{body}"
    );
    // The quiz goes without its answers.
    let page = p.to_string();
    assert!(
        !page.contains("\"correct\":1") && !page.contains("\"value\""),
        "{page}"
    );
    assert_eq!(p["quiz"][1]["options"][1], "year");
    assert_eq!(p["hints"].as_array().unwrap().len(), 0);

    // Checking before starting says how to start.
    let err = invoke(
        &w,
        "lesson_check",
        json!({"job": "c0", "id": "m1-02-profile"}),
    )
    .unwrap_err();
    assert!(
        err["message"].as_str().unwrap().contains("not started"),
        "{err}"
    );
    let p = invoke(&w, "lesson_start", json!({"id": "m1-02-profile"})).unwrap();
    assert_eq!(p["status"], "in-progress");
    // Not done yet: the predicate's own message.
    let c = invoke(
        &w,
        "lesson_check",
        json!({"job": "c1", "id": "m1-02-profile"}),
    )
    .unwrap();
    assert_eq!(c["passed"], false, "{c}");
    assert!(
        c["verdicts"][0]["message"]
            .as_str()
            .unwrap()
            .contains("run the step"),
        "{c}"
    );
    let s = invoke(
        &w,
        "lesson_step",
        json!({"job": "s1", "id": "m1-02-profile", "step": "profile", "onEvent": "__CHANNEL__:7"}),
    )
    .unwrap();
    assert_eq!(s["summary"], "profiled penguins: 344 rows, 8 columns");
    let c = invoke(
        &w,
        "lesson_check",
        json!({"job": "c2", "id": "m1-02-profile"}),
    )
    .unwrap();
    assert_eq!(c["passed"], true, "{c}");
    assert_eq!(c["status"], "passed");
    let h = invoke(&w, "lesson_hint", json!({"id": "m1-02-profile"})).unwrap();
    assert_eq!(h["level"], 1);
    let q = invoke(
        &w,
        "lesson_answer",
        json!({"id": "m1-02-profile", "question": "missing-sex", "answer": "12"}),
    )
    .unwrap();
    assert_eq!(q["correct"], false);
    assert!(
        q["expected"].is_null(),
        "a wrong answer reveals nothing: {q}"
    );
    let p = invoke(&w, "lesson", json!({"id": "m1-02-profile"})).unwrap();
    assert_eq!(p["last_check"]["passed"], true);
    assert_eq!(
        p["steps"][0]["last"],
        "profiled penguins: 344 rows, 8 columns"
    );
    assert_eq!(p["hints"].as_array().unwrap().len(), 1);
    assert_eq!(p["quiz"][0]["answer"], "12");
    assert_eq!(p["quiz"][0]["correct"], false);
    let r = invoke(&w, "roadmap", json!({})).unwrap();
    assert_eq!(r["passed"], 1);

    let err = invoke(&w, "lesson", json!({"id": "nope"})).unwrap_err();
    assert_eq!(err["code"], "not_found", "{err}");
    assert_eq!(
        invoke(&w, "lesson_reset", json!({"id": "m1-02-profile"})).unwrap(),
        1
    );
    let r = invoke(&w, "roadmap", json!({})).unwrap();
    assert_eq!(r["passed"], 0);
}
