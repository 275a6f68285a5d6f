//! Monitor → Retrain end to end: drift statistics against SciPy on the
//! shipped scenarios, the whole pipeline with real containers, a rollout
//! under traffic, collection across a container restart, and reset.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use lab_e2e::{DOCKER, Lab, repo_root, venv};
use serde_json::Value as Json;

use crate::docker::docker_answers;

pub(crate) fn need_docker() {
    assert!(
        docker_answers(),
        "a Docker daemon is needed for this test: run `cargo xtask test`, which installs and starts it"
    );
}

fn close(what: &str, ours: f64, scipy: f64, tol: f64) {
    assert!(
        (ours - scipy).abs() <= tol,
        "{what}: ours {ours:e} vs SciPy {scipy:e} (tolerance {tol:e})"
    );
}

#[test]
fn scenario_drift_matches_scipy_and_the_expected_verdicts() {
    let lab = Lab::new();
    for (scenario, expect_drift) in [
        ("auto-mpg-drift", true),
        ("penguins-island", true),
        ("penguins-year", false),
        ("bike-sharing-seasonal", true),
        ("wine-alcohol", true),
    ] {
        let ours = lab.json(&["drift", "--scenario", scenario]);
        let out = Command::new(venv().join("bin/python"))
            .arg(repo_root().join("tests/clients/drift_check.py"))
            .arg(repo_root().join("sample-data"))
            .arg(scenario)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "drift_check.py: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let scipy: Json = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            ours["reference_rows"], scipy["reference_rows"],
            "{scenario}"
        );
        assert_eq!(ours["current_rows"], scipy["current_rows"], "{scenario}");
        let columns = ours["report"]["columns"].as_array().unwrap();
        assert_eq!(
            columns.len(),
            scipy["columns"].as_object().unwrap().len(),
            "{scenario}: every column is compared"
        );
        for c in columns {
            let name = c["column"].as_str().unwrap();
            let s = &scipy["columns"][name];
            let st = &c["stats"];
            let what = format!("{scenario}/{name}");
            match s["kind"].as_str().unwrap() {
                "numeric" => {
                    assert_eq!(st["kind"], "numeric", "{what}");
                    let f = |j: &Json| j.as_f64().unwrap();
                    close(
                        &format!("{what} KS D"),
                        f(&st["ks"]["statistic"]),
                        f(&s["ks_statistic"]),
                        1e-9,
                    );
                    assert_eq!(
                        st["ks"]["method"], "exact",
                        "{what}: SciPy's auto method is exact here"
                    );
                    close(
                        &format!("{what} KS p"),
                        f(&st["ks"]["pvalue"]),
                        f(&s["ks_pvalue"]),
                        1e-6,
                    );
                    close(
                        &format!("{what} Wasserstein"),
                        f(&st["wasserstein"]),
                        f(&s["wasserstein"]),
                        1e-9,
                    );
                    close(
                        &format!("{what} Wasserstein/std"),
                        f(&st["wasserstein_norm"]),
                        f(&s["wasserstein_norm"]),
                        1e-9,
                    );
                }
                _ => {
                    assert_eq!(st["kind"], "categorical", "{what}");
                    let f = |j: &Json| j.as_f64().unwrap();
                    close(
                        &format!("{what} chi2"),
                        f(&st["chi2"]["statistic"]),
                        f(&s["chi2"]),
                        1e-9,
                    );
                    close(
                        &format!("{what} chi2 p"),
                        f(&st["chi2"]["pvalue"]),
                        f(&s["chi2_pvalue"]),
                        1e-6,
                    );
                    close(
                        &format!("{what} JS"),
                        f(&st["jensenshannon"]),
                        f(&s["jensenshannon"]),
                        1e-9,
                    );
                }
            }
        }
        assert_eq!(
            ours["report"]["dataset_drift"], expect_drift,
            "{scenario}: share {}",
            ours["report"]["share"]
        );
        assert_eq!(ours["expect_drift"], expect_drift, "{scenario}: catalogue");
    }
    // Thresholds are settings; bad ones are refused in one line.
    let strict = lab.json(&[
        "drift",
        "--scenario",
        "penguins-year",
        "--set",
        "dataset_share=0.1",
    ]);
    assert_eq!(strict["report"]["dataset_drift"], true);
    let out = lab
        .cmd(&[
            "drift",
            "--scenario",
            "penguins-year",
            "--set",
            "ks_pvalue=7",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ks_pvalue") && err.lines().count() == 1,
        "{err}"
    );
}

fn count(lab: &Lab, sql: &str) -> i64 {
    lab.sqlite().query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn pipeline_run_alerts_retrains_and_rolls_out_with_real_containers() {
    need_docker();
    let _shared = DOCKER.read().unwrap_or_else(|e| e.into_inner());
    let lab = Lab::new();
    let first = lab.json(&["pipeline", "run"]);
    assert_eq!(first["runtime"], "docker");
    assert_eq!(first["traffic"]["sent"], 300);
    assert_eq!(first["traffic"]["errors"], 0);
    assert_eq!(first["dataset_drift"], true);
    assert_eq!(
        first["window"]["window"]["requests"], 300,
        "every request was collected"
    );
    assert_eq!(first["window"]["window"]["labelled"], 300);
    let metrics: Vec<&str> = first["window"]["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["metric"].as_str().unwrap())
        .collect();
    assert!(metrics.contains(&"drift_share"), "{metrics:?}");
    // The alert started a retrain; the challenger (trained with the newly
    // labelled data) beats the champion on the most recent labels.
    let r = &first["retrain"];
    assert_eq!(r["promoted"], true, "{r}");
    assert!(
        r["challenger_score"].as_f64() < r["champion_score"].as_f64(),
        "{r}"
    );
    assert_eq!(first["serving_version"], r["challenger_version"]);
    // About 30 % of the 300 labelled rows, by whole source rows (a row
    // replayed twice is on one side only).
    let holdout = r["holdout_rows"].as_i64().unwrap();
    assert!((90..=93).contains(&holdout), "{r}");
    // The endpoint stayed; the gateway now forwards to the new container,
    // and the old one is gone.
    let endpoint = first["endpoint"].as_str().unwrap().to_string();
    let services = lab.json(&["services"]);
    assert_eq!(services[0]["endpoint"], endpoint.as_str());
    assert_eq!(services[0]["gateway_up"], true);
    let running = lab.json(&["deployments", "list"]);
    assert_eq!(running.as_array().unwrap().len(), 1, "{running}");
    // The gateway forwards to the container's bridge address where the
    // host reaches it (no docker-proxy hop), else to its published port.
    let forwards_to = if running[0]["upstream"].is_string() {
        &running[0]["upstream"]
    } else {
        &running[0]["endpoint"]
    };
    assert_eq!(&services[0]["upstream"], forwards_to);
    assert_eq!(running[0]["model_version"], first["serving_version"]);
    // Everything is in SQLite.
    assert_eq!(
        count(
            &lab,
            "SELECT COUNT(*) FROM prediction_log WHERE kind = 'prediction'"
        ),
        300
    );
    assert_eq!(count(&lab, "SELECT COUNT(*) FROM ground_truth"), 300);
    assert!(count(&lab, "SELECT COUNT(*) FROM alerts") >= 1);
    assert_eq!(
        count(&lab, "SELECT COUNT(*) FROM retrains WHERE promoted = 1"),
        1
    );

    // Re-runnable: same endpoint, new versions.
    let second = lab.json(&["pipeline", "run"]);
    assert_eq!(second["endpoint"], endpoint.as_str());
    assert!(second["version"].as_i64() > first["serving_version"].as_i64());
    assert_eq!(second["traffic"]["errors"], 0);

    // One command rolls back to the previous version.
    let before = lab.json(&["services"])[0].clone();
    let back = lab.json(&["rollback", "auto-mpg"]);
    assert_eq!(
        back["service"]["active_version"],
        before["previous_version"]
    );
    assert_eq!(back["endpoint"], endpoint.as_str());
}

/// Train two versions of the penguin classifier and serve v1.
fn two_penguin_versions(lab: &Lab) {
    register_two_penguin_versions(lab);
    lab.json(&["rollout", "penguins-species:1"]);
}

/// Train two versions of the penguin classifier (C = 1.0 and 0.1) and
/// register them as `penguins-species` v1 and v2.
pub(crate) fn register_two_penguin_versions(lab: &Lab) {
    for c in ["1.0", "0.1"] {
        let run = lab.json(&[
            "train",
            "--dataset",
            "penguins",
            "--model",
            "logistic-regression",
            "--param",
            &format!("C={c}"),
        ]);
        lab.json(&[
            "models",
            "register",
            run["run_id"].as_str().unwrap(),
            "--name",
            "penguins-species",
        ]);
    }
}

#[test]
fn a_rollout_under_traffic_fails_no_request() {
    need_docker();
    let _shared = DOCKER.read().unwrap_or_else(|e| e.into_inner());
    let lab = Lab::new();
    two_penguin_versions(&lab);
    // 600 requests over 6 s while the service moves v1 → v2 → v1.
    let traffic = lab
        .cmd(&[
            "traffic",
            "--deployment",
            "penguins-species",
            "--dataset",
            "penguins",
            "--scenario",
            "shift",
            "--drift-scenario",
            "penguins-island",
            "--requests",
            "600",
            "--rps",
            "100",
            "--json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    let to2 = lab.json(&["rollout", "penguins-species:2"]);
    assert_eq!(to2["replaced"]["model_version"], 1);
    let to1 = lab.json(&["rollout", "penguins-species:1"]);
    assert_eq!(to1["replaced"]["model_version"], 2);
    let out = traffic.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "traffic during the rollout: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let t: Json = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(t["sent"], 600);
    assert_eq!(t["ok"], 600);
    assert_eq!(t["errors"], 0, "{t}");
    // All three servers answered some of them, and every answer is logged.
    lab.json(&["monitor", "penguins-species", "--window", "1h"]);
    let versions = count(
        &lab,
        "SELECT COUNT(DISTINCT deployment_id) FROM prediction_log WHERE request_id LIKE 'traffic-%'",
    );
    assert_eq!(versions, 3, "v1, v2 and v1 again served traffic");
    assert_eq!(
        count(
            &lab,
            "SELECT COUNT(*) FROM prediction_log WHERE kind = 'prediction'"
        ),
        600
    );
}

#[test]
fn collection_survives_a_container_restart_without_loss_or_double_counting() {
    need_docker();
    let _shared = DOCKER.read().unwrap_or_else(|e| e.into_inner());
    let lab = Lab::new();
    two_penguin_versions(&lab);
    let send = |n: &str| {
        let t = lab.json(&[
            "traffic",
            "--deployment",
            "penguins-species",
            "--dataset",
            "penguins",
            "--scenario",
            "reference",
            "--requests",
            n,
            "--rps",
            "200",
        ]);
        assert_eq!(t["errors"], 0, "{t}");
    };
    send("120");
    let m = lab.json(&["monitor", "penguins-species", "--window", "1h"]);
    assert_eq!(m["collected"]["new_records"], 120);
    // Restart the container (SIGTERM: the log is flushed) and send more.
    let id = lab.json(&["deployments", "list"])[0]["deployment_id"]
        .as_str()
        .unwrap()
        .to_string();
    let out = Command::new("docker")
        .args(["restart", "-t", "10", &id])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Wait on the container's own published port: its bridge address may
    // change with the restart (another container can take the old one), and
    // the gateway follows it only when the lab next sends traffic
    // (`ensure_gateway`), which `send` below does.
    let container = lab.json(&["deployments", "list"])[0]["endpoint"]
        .as_str()
        .unwrap()
        .to_string();
    let endpoint = lab.json(&["services"])[0]["endpoint"]
        .as_str()
        .unwrap()
        .to_string();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Command::new(venv().join("bin/python"))
        .args([
            "-c",
            "import sys,urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)",
        ])
        .arg(format!("{container}/v2/health/ready"))
        .output()
        .map(|o| !o.status.success())
        .unwrap_or(true)
    {
        assert!(
            Instant::now() < deadline,
            "the restarted container never became ready"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    send("80");
    // A fresh process (an app restart) collects again: nothing lost, nothing twice.
    let m = lab.json(&["monitor", "penguins-species", "--window", "1h"]);
    assert_eq!(m["collected"]["new_records"], 80);
    let again = lab.json(&["monitor", "penguins-species", "--window", "1h"]);
    assert_eq!(again["collected"]["new_records"], 0);
    assert_eq!(count(&lab, "SELECT COUNT(*) FROM prediction_log"), 200);
    assert_eq!(
        count(&lab, "SELECT COUNT(DISTINCT instance) FROM prediction_log"),
        2
    );
    let windows = again["windows"].as_array().unwrap();
    let total: i64 = windows
        .iter()
        .map(|w| w["window"]["requests"].as_i64().unwrap())
        .sum();
    assert_eq!(total, 200);

    // A killed gateway comes back on the same port when traffic needs it.
    let pid = lab.json(&["services"])[0]["gateway_pid"].as_i64().unwrap();
    Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(lab.json(&["services"])[0]["gateway_up"], false);
    send("10");
    let svc = lab.json(&["services"])[0].clone();
    assert_eq!(svc["gateway_up"], true);
    assert_eq!(svc["endpoint"], endpoint.as_str());
    // Stopping a served deployment collects its log first: nothing lost.
    lab.run(&["deployments", "stop", &id]);
    assert_eq!(count(&lab, "SELECT COUNT(*) FROM prediction_log"), 210);
}

#[test]
fn reset_asks_first_then_removes_containers_images_gateways_and_the_home() {
    need_docker();
    let _exclusive = DOCKER.write().unwrap_or_else(|e| e.into_inner());
    let lab = Lab::new();
    two_penguin_versions(&lab);
    let endpoint = lab.json(&["services"])[0]["endpoint"]
        .as_str()
        .unwrap()
        .to_string();
    let out = lab.cmd(&["reset"]).stdin(Stdio::null()).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--yes"), "{err}");
    assert!(
        lab.db().is_file(),
        "nothing is removed without confirmation"
    );
    // A container of another lab home (same labels but the home's) stays.
    let other = Lab::new();
    two_penguin_versions(&other);
    let home_label = |l: &Lab| format!("label=dev.mlops-lab.home={}", l.home_id());
    let listed = |args: &[&str]| {
        let out = Command::new("docker").args(args).output().unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let mine = home_label(&lab);
    assert!(!listed(&["ps", "-aq", "--filter", &mine]).is_empty());
    lab.run(&["reset", "--yes"]);
    assert!(!lab.home().join("lab.db").exists());
    assert!(listed(&["ps", "-aq", "--filter", &mine]).is_empty());
    assert!(listed(&["images", "-q", "--filter", &mine]).is_empty());
    let theirs = home_label(&other);
    assert!(
        !listed(&["ps", "-q", "--filter", &theirs]).is_empty(),
        "another lab home's container was removed"
    );
    assert!(!listed(&["images", "-q", "--filter", &theirs]).is_empty());
    let gone = Command::new(venv().join("bin/python"))
        .args([
            "-c",
            "import sys,urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)",
        ])
        .arg(format!("{endpoint}/-/gateway"))
        .output()
        .unwrap();
    assert!(!gone.status.success(), "the gateway is stopped");
}
