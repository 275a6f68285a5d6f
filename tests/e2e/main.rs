//! End-to-end: the real CLI binary, the real SQLite file, the real datasets.

use std::time::{Duration, Instant};

use lab_e2e::Lab;

mod app;
mod app_core;
mod docker;
mod exercises;
mod export;
mod install;
mod kfp;
mod lessons;
mod monitor;
mod safety;
mod tracking;

#[test]
fn train_json_reports_run_id_and_accuracy() {
    let lab = Lab::new();
    let v = lab.json(&[
        "train",
        "--dataset",
        "wine-quality-red",
        "--model",
        "logistic-regression",
    ]);
    let acc = v["metrics"]["accuracy"].as_f64().unwrap();
    assert!(acc >= 0.72, "accuracy {acc}");
    let run_id = v["run_id"].as_str().unwrap();
    assert_eq!(run_id.len(), 32);
    // The artifact is on disk, inside the lab home.
    let artifact = lab.home().join(v["artifact_path"].as_str().unwrap());
    assert!(artifact.is_file(), "{}", artifact.display());
}

#[test]
fn runs_metrics_and_registry_survive_a_restart() {
    let lab = Lab::new();
    let a = lab.json(&[
        "train",
        "--dataset",
        "iris",
        "--model",
        "gaussian-nb",
        "--experiment",
        "flowers",
    ]);
    let b = lab.json(&[
        "train",
        "--dataset",
        "iris",
        "--model",
        "decision-tree",
        "--param",
        "max_depth=3",
        "--experiment",
        "flowers",
    ]);
    let (ra, rb) = (a["run_id"].as_str().unwrap(), b["run_id"].as_str().unwrap());
    let v1 = lab.json(&["models", "register", &ra[..8], "--name", "iris-species"]);
    assert_eq!(v1["version"], 1);
    lab.json(&["models", "register", rb, "--name", "iris-species"]);
    lab.json(&["models", "alias", "iris-species", "2", "champion"]);

    // Every command is a new process: what it sees was read from lab.db.
    let runs = lab.json(&["runs", "list", "--experiment", "flowers"]);
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert!(runs.iter().all(|r| r["status"] == "FINISHED"));
    let shown = lab.json(&["runs", "show", ra]);
    assert_eq!(
        shown["run"]["metrics"]["accuracy"],
        a["metrics"]["accuracy"]
    );
    assert_eq!(shown["run"]["params"]["var_smoothing"], "1e-9");
    assert_eq!(shown["run"]["tags"]["mlops.gate"], "passed");
    // The same detail the app shows: learning curve, confusion matrix, the
    // versions registered from the run.
    assert!(shown["confusion_matrix"].is_array(), "{shown}");
    assert_eq!(shown["experiment"], "flowers");
    assert_eq!(shown["primary_metric"], "accuracy");
    assert!(!shown["history"].as_array().unwrap().is_empty(), "{shown}");
    assert_eq!(shown["registered"][0]["name"], "iris-species");
    assert_eq!(shown["registered"][0]["version"], 1);
    let models = lab.json(&["models", "list"]);
    assert_eq!(models[0]["name"], "iris-species");
    assert_eq!(models[0]["aliases"]["champion"], 2);
    let cmp = lab.json(&["runs", "compare", ra, rb]);
    assert!(
        cmp["differing_params"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == "model")
    );

    // The SQLite file itself agrees, read by an outside connection.
    let db = lab.sqlite();
    let n: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM metrics WHERE run_uuid = ?1",
            [ra],
            |r| r.get(0),
        )
        .unwrap();
    assert!(n >= 8, "{n} metric rows");
    let champion: i64 = db
        .query_row(
            "SELECT version FROM registered_model_aliases WHERE name='iris-species' AND alias='champion'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(champion, 2);
}

#[test]
fn identical_trainings_in_two_processes_write_byte_identical_artifacts() {
    let lab = Lab::new();
    for model in ["logistic-regression", "gaussian-nb"] {
        let a = lab.json(&["train", "--dataset", "wine-quality-red", "--model", model]);
        let b = lab.json(&["train", "--dataset", "wine-quality-red", "--model", model]);
        assert_eq!(a["metrics"], b["metrics"], "{model}");
        let read = |v: &serde_json::Value| {
            std::fs::read(lab.home().join(v["artifact_path"].as_str().unwrap())).unwrap()
        };
        assert_eq!(read(&a), read(&b), "{model}: artifacts differ");
    }
    for model in ["linear-regression", "elastic-net"] {
        let args = [
            "train",
            "--dataset",
            "auto-mpg",
            "--model",
            model,
            "--seed",
            "7",
        ];
        let a = lab.json(&args);
        let b = lab.json(&args);
        assert_eq!(a["metrics"], b["metrics"], "{model}");
    }
}

fn integrity(lab: &Lab) -> String {
    lab.sqlite()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap()
}

fn status_of(lab: &Lab, run_id: &str) -> String {
    lab.sqlite()
        .query_row(
            "SELECT status FROM runs WHERE run_uuid = ?1",
            [run_id],
            |r| r.get(0),
        )
        .unwrap()
}

#[test]
fn kill_9_during_a_run_leaves_the_db_consistent_and_the_run_failed() {
    let lab = Lab::new();
    lab.run(&["experiments"]); // create and migrate the database
    let mut child = lab
        .cmd(&[
            "train",
            "--dataset",
            "bike-sharing",
            "--model",
            "linear-regression",
        ])
        .env("MLOPS_LAB_FAILPOINTS", "train.fit=sleep(60000)")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the run exists and its params are logged: mid-run.
    let deadline = Instant::now() + Duration::from_secs(30);
    let run_id = loop {
        let found: Option<String> = lab
            .sqlite()
            .query_row(
                "SELECT r.run_uuid FROM runs r WHERE r.status = 'RUNNING'
                 AND EXISTS (SELECT 1 FROM params p WHERE p.run_uuid = r.run_uuid)",
                [],
                |r| r.get(0),
            )
            .ok();
        if let Some(id) = found {
            break id;
        }
        assert!(Instant::now() < deadline, "the run never started");
        std::thread::sleep(Duration::from_millis(20));
    };
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    assert_eq!(integrity(&lab), "ok");
    assert_eq!(status_of(&lab, &run_id), "RUNNING", "nobody has looked yet");
    // The next process marks it failed, with the reason.
    let shown = lab.json(&["runs", "show", &run_id]);
    assert_eq!(shown["run"]["status"], "FAILED");
    assert!(
        shown["run"]["tags"]["mlops.failure"]
            .as_str()
            .unwrap()
            .contains("killed or crashed")
    );
    assert!(shown["run"]["end_time"].is_i64());
    // And the lab goes on working.
    lab.json(&["train", "--dataset", "iris", "--model", "gaussian-nb"]);
    assert_eq!(integrity(&lab), "ok");
}

#[test]
fn kills_at_random_moments_never_corrupt_the_db() {
    let lab = Lab::new();
    lab.run(&["experiments"]);
    // Deterministic spread of kill delays across the process's life.
    for delay_ms in [0u64, 3, 7, 12, 20, 30, 45, 60, 80, 110] {
        let mut child = lab
            .cmd(&[
                "train",
                "--dataset",
                "wine-quality-red",
                "--model",
                "logistic-regression",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill();
        child.wait().unwrap();
        assert_eq!(integrity(&lab), "ok", "after a kill at {delay_ms} ms");
    }
    // After one more process opens the lab, no run is left RUNNING.
    let runs = lab.json(&["runs", "list"]);
    for r in runs.as_array().unwrap() {
        assert_ne!(r["status"], "RUNNING", "{r}");
    }
}

#[test]
fn bad_input_exits_non_zero_with_one_line_that_says_what_to_fix() {
    let lab = Lab::new();
    // The learner's files live outside the lab home.
    let files = tempfile::tempdir().unwrap();
    let csv = files.path().join("bad.csv");
    std::fs::write(&csv, "a,b,y\n1,2,x\n3,oops,y\n5,6,x\n7,8,y\n").unwrap();
    let csv = csv.to_str().unwrap();
    let good = files.path().join("good.csv");
    std::fs::write(&good, "a,b,y\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n").unwrap();
    let good = good.to_str().unwrap();
    let cases: [(&[&str], &str); 6] = [
        (
            &["train", "--file", csv, "--target", "y"],
            "line 3, column `b`: expected a number, found \"oops\"",
        ),
        (&["train", "--file", good], "needs --target"),
        (
            &["train", "--dataset", "wine"],
            "unknown dataset `wine`; the sample datasets are: wine-quality-red",
        ),
        (
            &["train", "--dataset", "iris", "--param", "C"],
            "must look like KEY=VALUE",
        ),
        (
            &[
                "train",
                "--dataset",
                "iris",
                "--model",
                "gaussian-nb",
                "--param",
                "alpha=1",
            ],
            "unknown parameter; gaussian-nb takes: var_smoothing",
        ),
        (
            &["models", "alias", "nope", "1", "champion"],
            "model `nope` version 1 not found",
        ),
    ];
    for (args, expected) in cases {
        let out = lab.cmd(args).output().unwrap();
        assert!(!out.status.success(), "{args:?} succeeded");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(expected), "{args:?}: {err}");
    }
    // Nothing half-done was recorded for the refused trainings.
    let runs = lab.json(&["runs", "list"]);
    assert_eq!(runs.as_array().unwrap().len(), 0);
}

#[test]
fn local_deploy_predict_logs_and_stop() {
    let lab = Lab::new();
    let v = lab.json(&[
        "train",
        "--dataset",
        "penguins",
        "--model",
        "logistic-regression",
    ]);
    lab.json(&[
        "models",
        "register",
        v["run_id"].as_str().unwrap(),
        "--name",
        "penguins",
    ]);
    let d = lab.json(&["deploy", "penguins:1", "--local"]);
    assert_eq!(d["runtime"], "local", "{d}");
    let id = d["deployment_id"].as_str().unwrap().to_string();
    let row = r#"{"bill_length_mm": 39.1, "bill_depth_mm": 18.7, "flipper_length_mm": 181, "body_mass_g": 3750}"#;
    let out = lab.run(&["predict", &id, "--row", row]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "Adelie");
    let csv = lab.home().join("rows.csv");
    std::fs::write(
        &csv,
        "bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g\n39.1,18.7,181,3750\n46.5,13.5,210,4550\n",
    )
    .unwrap();
    let p = lab.json(&["predict", &id, "--csv", csv.to_str().unwrap()]);
    assert_eq!(p["predictions"], serde_json::json!(["Adelie", "Gentoo"]));
    // A bad row is refused by the server with its reason.
    let bad = lab
        .cmd(&["predict", &id, "--row", r#"{"bill_length_mm": 1}"#])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("missing feature(s): bill_depth_mm"));
    // The prediction log holds the three predictions.
    let logs = lab.run(&["deployments", "logs", &id]);
    let n = String::from_utf8_lossy(&logs.stdout)
        .lines()
        .filter(|l| l.starts_with("{\"type\":\"prediction\""))
        .count();
    assert_eq!(n, 3);
    let listed = lab.json(&["deployments", "list"]);
    assert_eq!(listed[0]["deployment_id"], id.as_str());
    let stopped = lab.json(&["deployments", "stop", &id]);
    assert_eq!(stopped[0]["status"], "stopped");
    assert_eq!(
        lab.json(&["deployments", "list"]).as_array().unwrap().len(),
        0
    );
    let gone = lab.cmd(&["predict", &id, "--row", row]).output().unwrap();
    assert!(String::from_utf8_lossy(&gone.stderr).contains("is stopped"));

    // Docker unreachable: say what to do, then run locally so the lesson goes on.
    let out = lab
        .cmd(&["deploy", "penguins", "--json"])
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(d["runtime"], "local");
    let reason = d["fallback_reason"].as_str().unwrap();
    assert!(
        reason.contains("Docker is not available") && reason.contains("docker group"),
        "{reason}"
    );
    lab.json(&["deployments", "stop", d["deployment_id"].as_str().unwrap()]);
}
