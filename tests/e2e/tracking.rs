//! MLflow's own Python client (mlflow-skinny, from the venv `cargo xtask
//! test` installs) against `mlops-lab tracking-server`, and what the lab's
//! CLI and SQLite file then hold: one store, seen from both sides.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

use lab_e2e::{Lab, repo_root, venv};
use serde_json::Value;

/// `mlops-lab tracking-server --port 0` in the background; stopped with
/// SIGTERM (and must exit cleanly) when dropped.
struct Server {
    child: Child,
    uri: String,
}

impl Server {
    fn start(lab: &Lab) -> Server {
        let mut child = lab
            .cmd(&["--json", "tracking-server", "--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the tracking server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let v: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("tracking-server printed {line:?}: {e}"));
        Server {
            uri: v["tracking_uri"].as_str().unwrap().to_string(),
            child,
        }
    }

    fn port(&self) -> u16 {
        self.uri.rsplit(':').next().unwrap().parse().unwrap()
    }

    /// Stop with SIGTERM and require a clean exit.
    fn stop(mut self) {
        let pid = rustix::process::Pid::from_child(&self.child);
        rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "the tracking server exited with {status}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Run one scenario of tests/clients/mlflow_check.py; its last stdout line
/// is JSON.
fn client(server: &Server, args: &[&str]) -> Value {
    let out = Command::new(venv().join("bin/python"))
        .arg(repo_root().join("tests/clients/mlflow_check.py"))
        .args(args)
        .env("MLFLOW_TRACKING_URI", &server.uri)
        .env("MLFLOW_DISABLE_TELEMETRY", "true")
        // A 5xx would be retried for minutes: fail at once instead.
        .env("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
        .env("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")
        .env("GIT_PYTHON_REFRESH", "quiet")
        .output()
        .expect("run MLflow's client");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "mlflow_check.py {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let last = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .unwrap_or("");
    serde_json::from_str(last).unwrap_or_else(|e| panic!("no JSON from {args:?} ({e}): {stdout}"))
}

/// One raw HTTP/1.1 request; (status, headers, body).
fn http(port: u16, method: &str, path: &str, host: &str, body: &str) -> (u16, String, String) {
    http_with(
        port,
        method,
        path,
        &[("Host", host), ("Content-Type", "application/json")],
        body,
    )
}

fn http_with(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let head: String = headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\n{head}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, head.to_ascii_lowercase(), body.to_string())
}

#[test]
fn mlflow_tracking_workflow_lands_in_the_lab() {
    let lab = Lab::new();
    let server = Server::start(&lab);
    let v = client(&server, &["tracking"]);
    // Stepped metrics come back in step order with their values.
    let history: Vec<(i64, f64)> = v["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_i64().unwrap(), p[1].as_f64().unwrap()))
        .collect();
    assert_eq!(history.len(), 3, "{v}");
    for ((step, value), (want_step, want)) in history.iter().zip([(0, 0.73), (1, 0.83), (2, 0.93)])
    {
        assert_eq!(*step, want_step);
        assert!((value - want).abs() < 1e-9, "{history:?}");
    }
    // The filter (metric and param) and the order (acc DESC) were applied.
    assert_eq!(v["found"], serde_json::json!(["depth-5", "depth-8"]), "{v}");
    // Pages of two, oldest first, cover all six runs once.
    let pages: Vec<Vec<String>> = serde_json::from_value(v["pages"].clone()).unwrap();
    assert_eq!(
        pages.iter().map(Vec::len).collect::<Vec<_>>(),
        [2, 2, 2],
        "{pages:?}"
    );
    let mut seen: Vec<&String> = pages.iter().flatten().collect();
    seen.sort();
    seen.dedup();
    assert_eq!(
        seen.len(),
        6,
        "every run exactly once across the pages: {pages:?}"
    );
    let parent5 = v["runs"]["5"][0].as_str().unwrap();
    assert_eq!(v["child_parent"], parent5, "nested run's parent");
    assert_eq!(v["status"], "FINISHED");

    // The lab sees the same runs, params, metrics and history.
    let listed = lab.json(&["runs", "list", "--experiment", "client-demo"]);
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["run_name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 6, "{listed}");
    for n in [
        "depth-3", "depth-5", "depth-8", "fold-3", "fold-5", "fold-8",
    ] {
        assert!(names.contains(&n), "{n} missing from {names:?}");
    }
    let shown = lab.json(&["runs", "show", parent5]);
    assert_eq!(shown["run"]["params"]["depth"], "5", "{shown}");
    assert_eq!(shown["run"]["params"]["criterion"], "gini");
    assert_eq!(shown["run"]["tags"]["team"], "platform");
    assert!((shown["run"]["metrics"]["acc"].as_f64().unwrap() - 0.93).abs() < 1e-9);
    let stepped = &shown["metric_histories"]["acc"];
    assert_eq!(stepped.as_array().map(Vec::len), Some(3), "{shown}");
    let rows: i64 = lab
        .sqlite()
        .query_row(
            "SELECT COUNT(*) FROM metrics WHERE run_uuid = ?1 AND key = 'acc'",
            [parent5],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(rows, 3);
    server.stop();
}

#[test]
fn mlflow_sklearn_autolog_and_a_logged_model_through_the_registry() {
    let lab = Lab::new();
    let server = Server::start(&lab);

    let auto = client(&server, &["autolog"]);
    assert_eq!(auto["params"]["max_iter"], "200", "{auto}");
    assert_eq!(auto["params"]["solver"], "lbfgs");
    let acc = auto["metrics"]["training_accuracy_score"].as_f64().unwrap();
    assert!(acc > 0.9, "{auto}");
    assert_eq!(auto["status"], "FINISHED");
    assert_eq!(auto["outputs"].as_array().map(Vec::len), Some(1), "{auto}");
    assert!(
        auto["model_metrics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m == "training_accuracy_score"),
        "the training metrics are linked to the logged model: {auto}"
    );

    let reg = client(&server, &["registry", "iris-clf"]);
    assert_eq!(reg["version"], "1", "{reg}");
    assert_eq!(reg["aliases"], serde_json::json!(["champion"]));
    let model_id = reg["model_id"].as_str().unwrap();
    assert_eq!(reg["source"], format!("models:/{model_id}"));
    assert_eq!(
        reg["same_predictions"], true,
        "models:/iris-clf@champion loads the logged model"
    );
    assert_eq!(reg["by_run_same"], true, "runs:/RUN/model loads it too");
    assert_eq!(reg["registered"], serde_json::json!(["iris-clf"]));
    // The model's files are under the lab home, where the client wrote them.
    let uri = reg["download_uri"].as_str().unwrap();
    assert!(uri.starts_with(lab.home().to_str().unwrap()), "{uri}");
    assert!(
        std::path::Path::new(uri).join("MLmodel").is_file(),
        "{uri}/MLmodel"
    );

    let admin = client(
        &server,
        &["registry_admin", reg["run_id"].as_str().unwrap()],
    );
    assert_eq!(admin["name"], "scratch-renamed", "{admin}");
    assert_eq!(admin["tags"]["team"], "ml");
    assert_eq!(admin["tags"]["stage"], "test");
    assert_eq!(admin["description"], "renamed soon");
    assert_eq!(admin["version_tags"]["validated"], "yes");
    assert_eq!(admin["version_description"], "first");
    assert_eq!(admin["after_delete"], "RESOURCE_DOES_NOT_EXIST");

    // The lab's registry shows it, and refuses plainly to serve it.
    let models = lab.json(&["models", "list"]);
    let m = models
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "iris-clf")
        .unwrap_or_else(|| panic!("{models}"));
    assert_eq!(m["aliases"]["champion"], 1, "{m}");
    let out = lab
        .cmd(&["deploy", "iris-clf@champion", "--local"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("was logged by MLflow's client") && err.contains("cannot serve"),
        "{err}"
    );
    server.stop();
}

#[test]
fn the_labs_own_runs_and_models_show_in_mlflow() {
    let lab = Lab::new();
    let trained = lab.json(&[
        "train",
        "--dataset",
        "iris",
        "--model",
        "logistic-regression",
        "--name",
        "lab-own",
    ]);
    let run_id = trained["run_id"].as_str().unwrap().to_string();
    lab.run(&["models", "register", &run_id, "--name", "iris-lab"]);
    lab.run(&["models", "alias", "iris-lab", "1", "champion"]);
    let server = Server::start(&lab);
    let v = client(&server, &["lab_view"]);
    assert!(
        v["run_ids"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == &run_id),
        "{v}"
    );
    assert!(
        v["run_names"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "lab-own"),
        "{v}"
    );
    assert_eq!(v["models"]["iris-lab"], serde_json::json!(["1"]), "{v}");
    assert_eq!(v["aliases"]["iris-lab"]["champion"], "1", "{v}");
    server.stop();
}

#[test]
fn mlflow_errors_are_mlflows_codes_never_a_retried_500() {
    let lab = Lab::new();
    let server = Server::start(&lab);
    let v = client(&server, &["errors"]);
    assert_eq!(v["duplicate_experiment"], "RESOURCE_ALREADY_EXISTS", "{v}");
    assert_eq!(v["changed_param"], "INVALID_PARAMETER_VALUE");
    assert_eq!(v["unknown_run"], "RESOURCE_DOES_NOT_EXIST");
    assert_eq!(v["bad_filter"], "INVALID_PARAMETER_VALUE");
    assert!(
        v["bad_filter_message"].as_str().unwrap().contains(">>"),
        "{v}"
    );
    assert_eq!(v["missing_experiment"], Value::Null);
    assert_eq!(v["unknown_model"], "RESOURCE_DOES_NOT_EXIST");
    assert_eq!(v["nan_metric"], "INVALID_PARAMETER_VALUE", "{v}");

    let port = server.port();
    // A second server on the same port says so and exits non-zero.
    let busy = lab
        .cmd(&["tracking-server", "--port", &port.to_string()])
        .output()
        .unwrap();
    assert!(!busy.status.success());
    let err = String::from_utf8_lossy(&busy.stderr);
    assert!(
        err.contains(&format!("port {port}")) && err.contains("in use"),
        "{err}"
    );
    let api = "/api/2.0/mlflow";
    // Protocol errors as MLflow words them, with MLflow's statuses.
    let (status, _, body) = http(
        port,
        "POST",
        &format!("{api}/runs/log-batch"),
        "127.0.0.1",
        "{not json",
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("Malformed request body"), "{body}");
    let metrics: Vec<String> = (0..1001)
        .map(|i| format!(r#"{{"key":"m","value":{i},"timestamp":0,"step":{i}}}"#))
        .collect();
    let (status, _, body) = http(
        port,
        "POST",
        &format!("{api}/runs/log-batch"),
        "localhost",
        &format!(r#"{{"run_id":"x","metrics":[{}]}}"#, metrics.join(",")),
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("at most 1000 metrics"), "{body}");
    let (status, _, body) = http(
        port,
        "GET",
        &format!("{api}/experiments/get"),
        "localhost",
        "",
    );
    assert_eq!(status, 400);
    assert!(
        body.contains("Missing value for required parameter 'experiment_id'"),
        "{body}"
    );
    let (status, _, body) = http(port, "GET", &format!("{api}/no-such-call"), "localhost", "");
    assert_eq!(status, 404);
    assert!(body.contains("ENDPOINT_NOT_FOUND"), "{body}");

    // A write cannot come as GET (a link or an image on a web page) nor
    // from another site's page (its browser sends that site's Origin).
    let (status, _, body) = http(
        port,
        "GET",
        &format!("{api}/experiments/delete?experiment_id=0"),
        "localhost",
        "",
    );
    assert_eq!(status, 405, "{body}");
    let create = r#"{"name":"from-a-web-page"}"#;
    let forged = http_with(
        port,
        "POST",
        &format!("{api}/experiments/create"),
        &[
            ("Host", "127.0.0.1"),
            ("Origin", "http://evil.example"),
            ("Content-Type", "text/plain"),
        ],
        create,
    );
    assert_eq!(forged.0, 403, "{}", forged.2);
    let local = http_with(
        port,
        "POST",
        &format!("{api}/experiments/create"),
        &[
            ("Host", "127.0.0.1"),
            ("Origin", "http://localhost:8888"),
            ("Content-Type", "application/json"),
        ],
        create,
    );
    assert_eq!(
        local.0, 200,
        "a page on this machine (e.g. Jupyter) may write: {}",
        local.2
    );

    // DNS rebinding: a foreign Host is refused; no CORS header is ever sent.
    let (status, head, body) = http(
        port,
        "GET",
        &format!("{api}/experiments/search"),
        "evil.example:5000",
        "",
    );
    assert_eq!(status, 403);
    assert!(body.contains("DNS rebinding"), "{body}");
    assert!(!head.contains("access-control-allow-origin"), "{head}");
    let (status, head, _) = http(
        port,
        "POST",
        &format!("{api}/experiments/search"),
        "localhost",
        "{}",
    );
    assert_eq!(status, 200);
    assert!(!head.contains("access-control-allow-origin"), "{head}");
    server.stop();
}

#[test]
fn mlflow_client_and_the_cli_write_at_once_without_locks_or_losses() {
    let lab = Lab::new();
    let server = Server::start(&lab);
    let writes = 300;
    // The client logs one metric per request while the CLI trains twice.
    let hammer = {
        let uri = server.uri.clone();
        std::thread::spawn(move || {
            let out = Command::new(venv().join("bin/python"))
                .arg(repo_root().join("tests/clients/mlflow_check.py"))
                .args(["hammer", &writes.to_string()])
                .env("MLFLOW_TRACKING_URI", uri)
                .env("MLFLOW_DISABLE_TELEMETRY", "true")
                .env("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
            let last = stdout
                .lines()
                .rev()
                .find(|l| l.starts_with('{'))
                .unwrap()
                .to_string();
            serde_json::from_str::<Value>(&last).unwrap()
        })
    };
    // Train until the client is done, so the writers overlap for certain.
    let mut trained = 0;
    while trained < 2 || !hammer.is_finished() {
        let model = ["logistic-regression", "decision-tree"][trained % 2];
        lab.run(&["train", "--dataset", "wine-quality-red", "--model", model]);
        trained += 1;
    }
    let v = hammer.join().unwrap();
    let run_id = v["run_id"].as_str().unwrap();
    let rows: i64 = lab
        .sqlite()
        .query_row(
            "SELECT COUNT(*) FROM metrics WHERE run_uuid = ?1",
            [run_id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(rows, writes, "every logged value landed");
    let runs = lab.json(&["runs", "list", "--limit", "1000"]);
    assert_eq!(runs.as_array().unwrap().len(), trained + 1, "{runs}");
    server.stop();
}

/// The MLflow lesson, done the learner's way: the guide's script, run by
/// MLflow's own client against the lab's tracking server, and the
/// learner's own train.py (the exercise) pass its checkpoint; the same
/// work done before the lesson started does not.
#[test]
fn the_mlflow_lesson_passes_with_mlflows_own_client_running_the_guides_script() {
    let lab = Lab::new();
    let id = "m3-15-mlflow-client";
    let server = Server::start(&lab);
    let script = || {
        let out = Command::new(venv().join("bin/python"))
            .arg(repo_root().join("tutorials/code/mlflow_wine.py"))
            .current_dir(repo_root())
            .env("MLFLOW_TRACKING_URI", &server.uri)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    // Before the lesson: it does not count.
    script();
    lab.json(&["lessons", "start", id]);
    let out = lab.cmd(&["lessons", "check", id]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "earlier runs count");
    // The learner's run.
    let printed = script();
    assert!(printed.contains("accuracy 0.7400"), "{printed}");
    // The script's runs pass their checks; the learner's own train.py (the
    // exercise) is still to write.
    let out = lab
        .cmd(&["lessons", "check", id, "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let check: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for v in check["verdicts"].as_array().unwrap() {
        assert_eq!(v["passed"], v["name"] != "your-mlflow-run", "{v}");
    }
    lab.json(&["exercises", "start", "sklearn-mlflow"]);
    lab.solve_exercise("sklearn-mlflow");
    let mine = lab.json(&["exercises", "check", "sklearn-mlflow"]);
    assert_eq!(mine["passed"], true, "{mine}");
    let check = lab.json(&["lessons", "check", id]);
    assert_eq!(check["passed"], true, "{check}");
    let runs = &check["verdicts"][0]["evidence"];
    assert_eq!(runs.as_array().unwrap().len(), 3, "{check}");
    // The runs the checkpoint saw are the client's, tagged with its source.
    let run = lab.json(&["runs", "show", runs[0].as_str().unwrap()]);
    assert!(
        run["run"]["tags"]["mlflow.source.name"]
            .as_str()
            .unwrap_or_default()
            .ends_with("mlflow_wine.py"),
        "{run}"
    );
    server.stop();
}
