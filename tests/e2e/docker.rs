//! Package → Deploy with a real Docker daemon: a FROM scratch image of the
//! trained wine model, served by a hardened container, checked against
//! in-process predictions and the real reference clients.

use std::process::Command;

use lab_data::{Catalog, PrepareOptions, SplitSpec, TaskSpec, prepare, read_csv};
use lab_e2e::{Lab, repo_root, venv};
use lab_model::{ModelArtifact, Prediction, Value};
use serde_json::{Value as Json, json};

pub(crate) fn docker_answers() -> bool {
    Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .output()
        .is_ok_and(|o| o.status.success())
}

pub(crate) fn post(endpoint: &str, path: &str, ct: &str, body: &str) -> (u16, Json) {
    let out = Command::new(venv().join("bin/python"))
        .args([
            "-c",
            "import sys, urllib.request, urllib.error, json\n\
             r = urllib.request.Request(sys.argv[1], data=sys.argv[3].encode(), headers={'Content-Type': sys.argv[2]})\n\
             try:\n    resp = urllib.request.urlopen(r, timeout=30); print(resp.status); print(resp.read().decode())\n\
             except urllib.error.HTTPError as e:\n    print(e.code); print(e.read().decode())",
            &format!("{endpoint}{path}"),
            ct,
            body,
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let (status, body) = text.split_once('\n').unwrap_or(("0", ""));
    (
        status.trim().parse().unwrap_or(0),
        serde_json::from_str(body.trim()).unwrap_or(Json::Null),
    )
}

fn label_of(p: &Prediction) -> String {
    match p {
        Prediction::Class { label, .. } => label.clone(),
        other => panic!("expected a class, got {other:?}"),
    }
}

#[test]
fn wine_model_in_a_real_container_matches_in_process_predict() {
    assert!(
        docker_answers(),
        "a Docker daemon is needed for this test: run `cargo xtask test`, which installs and starts it"
    );
    let _shared = lab_e2e::DOCKER.read().unwrap_or_else(|e| e.into_inner());
    let lab = Lab::new();
    let train = lab.json(&[
        "train",
        "--dataset",
        "wine-quality-red",
        "--model",
        "logistic-regression",
    ]);
    let run_id = train["run_id"].as_str().unwrap();
    lab.json(&["models", "register", run_id, "--name", "wine"]);
    lab.json(&["models", "alias", "wine", "1", "champion"]);
    let d = lab.json(&["deploy", "wine@champion"]);
    let endpoint = d["endpoint"].as_str().unwrap().to_string();
    let id = d["deployment_id"].as_str().unwrap().to_string();
    assert_eq!(d["runtime"], "docker", "{d}");
    assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint}");
    let size = d["image_size_bytes"].as_i64().unwrap();
    println!(
        "image {} size {:.2} MB; container start to ready {} ms",
        d["image_tag"],
        size as f64 / 1e6,
        d["start_to_ready_ms"]
    );

    // The whole test split, in process.
    let c = Catalog::load_default().unwrap();
    let ds = c.dataset("wine-quality-red").unwrap();
    let table = read_csv(&c.path_of(ds), &ds.column_types()).unwrap();
    let task = TaskSpec::from_catalog(&c.root, ds, ds.target(None).unwrap(), None);
    let p = prepare(
        &table,
        &task,
        &PrepareOptions {
            split: SplitSpec::Reference,
            ..Default::default()
        },
    )
    .unwrap();
    let artifact =
        ModelArtifact::load(&lab.home().join(train["artifact_path"].as_str().unwrap())).unwrap();
    let expected = artifact.predict_rows(&p.raw_test).unwrap();
    let labels: Vec<String> = expected.iter().map(label_of).collect();
    let rows: Vec<Vec<f64>> = p
        .raw_test
        .iter()
        .map(|r| {
            r.iter()
                .map(|v| match v {
                    Value::Number(x) => *x,
                    _ => panic!("wine has no missing values"),
                })
                .collect()
        })
        .collect();
    let names = artifact.preprocessor.input_names();

    // MLflow: four JSON shapes and CSV, over HTTP to the container.
    let records: Vec<Json> = rows
        .iter()
        .map(|r| {
            Json::Object(
                names
                    .iter()
                    .map(|n| n.to_string())
                    .zip(r.iter().map(|x| json!(x)))
                    .collect(),
            )
        })
        .collect();
    let want = json!({"predictions": labels});
    for body in [
        json!({"dataframe_split": {"columns": names, "data": rows}}),
        json!({"dataframe_records": records}),
        json!({"instances": rows}),
        json!({"inputs": rows}),
    ] {
        let (s, v) = post(
            &endpoint,
            "/invocations",
            "application/json",
            &body.to_string(),
        );
        assert_eq!(s, 200, "{v}");
        assert_eq!(v, want);
    }
    let mut csv = names.join(",") + "\n";
    for r in &rows {
        csv.push_str(
            &(r.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(",")
                + "\n"),
        );
    }
    let (s, v) = post(&endpoint, "/invocations", "text/csv", &csv);
    assert_eq!((s, &v), (200, &want));
    // A client's mistake is a 4xx, from the container too.
    let (s, v) = post(
        &endpoint,
        "/invocations",
        "application/json",
        r#"{"instances": [[1, 2]]}"#,
    );
    assert_eq!(s, 400, "{v}");
    assert_eq!(v["error_code"], "BAD_REQUEST");

    // The real tritonclient: live, ready, metadata, infer (JSON tensors).
    let hostport = endpoint.trim_start_matches("http://");
    let out = Command::new(venv().join("bin/python"))
        .arg(repo_root().join("tests/clients/triton_check.py"))
        .args([hostport, "wine", &serde_json::to_string(&rows).unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "tritonclient: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let triton: Json = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(triton["labels"], json!(labels));
    for (r, pred) in expected.iter().enumerate() {
        let Prediction::Class {
            probabilities: Some(pr),
            ..
        } = pred
        else {
            panic!()
        };
        let got: Vec<f64> = triton["probabilities"][r]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(&got, pr, "row {r}");
    }

    // /metrics parses with the real Prometheus parser and counts what we sent:
    // 5 + 1 bad on /invocations, 2 infer calls from tritonclient.
    let out = Command::new(venv().join("bin/python"))
        .arg(repo_root().join("tests/clients/metrics_check.py"))
        .arg(&endpoint)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "prometheus parser: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let m: Json = serde_json::from_slice(&out.stdout).unwrap();
    let count = |endpoint: &str, code: &str| -> f64 {
        m["lab_serve_requests"]["samples"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s[1]["endpoint"] == endpoint && s[1]["code"] == code)
            .map(|s| s[2].as_f64().unwrap())
            .sum()
    };
    assert_eq!(count("/invocations", "200"), 5.0, "{m}");
    assert_eq!(count("/invocations", "400"), 1.0, "{m}");
    assert_eq!(count("/v2/models/{name}/infer", "200"), 2.0, "{m}");
    assert_eq!(m["lab_serve_request_duration_seconds"]["type"], "histogram");
    assert_eq!(m["lab_serve_model_info"]["samples"][0][1]["model"], "wine");
    let predicted: f64 = m["lab_serve_predictions"]["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s[2].as_f64().unwrap())
        .sum();
    assert_eq!(predicted, (5 + 2) as f64 * rows.len() as f64);

    // The generated Dockerfile is next to the artifact and passes hadolint.
    let dockerfile = d["dockerfile"].as_str().unwrap();
    let out = Command::new(venv().join("bin/hadolint"))
        .arg(dockerfile)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "hadolint {dockerfile}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // The container is ours, hardened, and healthy by its own HEALTHCHECK.
    let inspect = Command::new("docker")
        .args(["inspect", &id, "--format",
               "{{.Config.User}} {{.HostConfig.ReadonlyRootfs}} {{.HostConfig.CapDrop}} {{.HostConfig.SecurityOpt}} {{index .Config.Labels \"dev.mlops-lab.managed\"}}"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&inspect.stdout).trim(),
        "65532:65532 true [ALL] [no-new-privileges] true"
    );
    // No swap beyond its memory limit, a log that cannot fill the disk, and
    // the label of the lab home it belongs to (what `reset` removes).
    let inspect = Command::new("docker")
        .args(["inspect", &id, "--format",
               "{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.LogConfig.Type}} {{index .HostConfig.LogConfig.Config \"max-size\"}} {{index .HostConfig.LogConfig.Config \"max-file\"}} {{index .Config.Labels \"dev.mlops-lab.home\"}}"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&inspect.stdout).trim(),
        format!("268435456 268435456 json-file 20m 5 {}", lab.home_id())
    );
    // Its log carries one prediction line per row predicted.
    let logs = lab.run(&["deployments", "logs", &id[..12], "--tail", "100000"]);
    let lines = String::from_utf8_lossy(&logs.stdout)
        .lines()
        .filter(|l| l.starts_with("{\"type\":\"prediction\""))
        .count();
    assert_eq!(lines as f64, predicted);

    // Stop: gone from Docker, marked stopped.
    let stopped = lab.json(&["deployments", "stop", &id[..12]]);
    assert_eq!(stopped[0]["status"], "stopped");
    let ps = Command::new("docker")
        .args(["ps", "-aq", "--filter", &format!("id={id}")])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&ps.stdout).trim().is_empty(),
        "container still there"
    );
    let (s, _) = post(&endpoint, "/ping", "text/plain", "");
    assert_eq!(s, 0, "nothing answers after stop");
}
