//! What the desktop app's views call, against a real container: the
//! pipeline strip, deployment health, "try a prediction" (raw HTTP and an
//! equivalent `curl` that really works), cancelling traffic mid-way, the
//! live monitoring snapshot, and promote-with-rollout.

use std::time::{Duration, Instant};

use lab_e2e::{DOCKER, Lab};
use lab_pipeline::{Cancel, StageHealth, TrafficMix, TrafficRequest};

fn open(lab: &Lab) -> lab_pipeline::Lab {
    lab_pipeline::Lab::open(
        &lab_pipeline::LabHome::at(lab.home()).unwrap(),
        lab_pipeline::Catalog::load_default().unwrap(),
    )
    .unwrap()
}

#[test]
fn the_views_core_calls_work_against_a_real_container() {
    crate::monitor::need_docker();
    let _shared = DOCKER.read().unwrap_or_else(|e| e.into_inner());
    let lab = Lab::new();
    let summary = lab.json(&["pipeline", "run"]);
    assert_eq!(summary["runtime"], "docker");
    let core = open(&lab);

    // Every stage has a result; Data shows the validation the pipeline ran.
    let ov = core.overview().unwrap();
    assert_eq!(ov.stages.len(), 7);
    for s in &ov.stages {
        assert_ne!(s.health, StageHealth::Idle, "{s:?}");
    }
    assert_eq!(ov.stages[0].headline, "auto-mpg validated");
    assert!(
        ov.stages[4].headline.ends_with("running"),
        "{:?}",
        ov.stages[4]
    );
    assert!(
        ov.stages[5].headline.starts_with("drift"),
        "{:?}",
        ov.stages[5]
    );

    // Health, image size, endpoint.
    let deployments = core.deployment_statuses(false).unwrap();
    assert_eq!(deployments.len(), 1);
    let d = &deployments[0];
    assert!(d.ready, "{d:?}");
    assert_eq!(d.health, "ready");
    assert!(d.deployment.image_size_bytes.unwrap() < 15_000_000);
    let id = d.deployment.deployment_id.clone();

    // Try a prediction from row 5 of auto-mpg: the raw exchange, and a curl
    // command that gets the same answer.
    let s = core.sample_request(&id, 5).unwrap();
    assert_eq!(s.dataset, "auto-mpg");
    assert!(s.body.contains("\"dataframe_split\""), "{}", s.body);
    let sent = core
        .send_request(&id, &s.path, &s.content_type, &s.body)
        .unwrap();
    assert_eq!(sent.exchange.status, 200, "{}", sent.exchange.response);
    assert!(
        sent.exchange
            .request
            .starts_with("POST /invocations HTTP/1.1\r\n")
    );
    assert!(
        sent.exchange
            .request
            .contains("Content-Type: application/json\r\n")
    );
    assert!(sent.exchange.response.starts_with("HTTP/1.1 200"));
    let answer: serde_json::Value = serde_json::from_str(&sent.exchange.body).unwrap();
    assert_eq!(answer["predictions"].as_array().unwrap().len(), 1);
    let curl = std::process::Command::new("sh")
        .args(["-c", &sent.curl])
        .output()
        .unwrap();
    assert!(curl.status.success(), "{}", sent.curl);
    let by_curl: serde_json::Value = serde_json::from_slice(&curl.stdout).unwrap();
    assert_eq!(by_curl, answer, "{}", sent.curl);
    // A bad body is the server's answer (400 with its reason), not an error.
    let bad = core
        .send_request(&id, "/invocations", "application/json", "{\"rows\": 1")
        .unwrap();
    assert_eq!(bad.exchange.status, 400);
    assert!(bad.exchange.body.contains("JSON"), "{}", bad.exchange.body);
    let err = core.sample_request(&id, 10_000).unwrap_err();
    assert!(err.to_string().contains("past the end"), "{err}");

    // Traffic cancelled after about a second of 1000 requests at 50 req/s.
    let cancel = Cancel::new();
    let core = core.with_cancel(cancel.clone());
    let started = lab_store_now();
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1200));
        cancel.cancel();
    });
    let t0 = Instant::now();
    let err = core
        .traffic(
            &TrafficRequest {
                service: "auto-mpg".into(),
                scenario: "auto-mpg-drift".into(),
                mix: TrafficMix::Drift,
                rps: 50.0,
                requests: 1000,
                labels: true,
                seed: 7,
            },
            &|_| {},
        )
        .unwrap_err();
    canceller.join().unwrap();
    assert_eq!(err.code(), "cancelled", "{err}");
    assert!(t0.elapsed() < Duration::from_secs(10), "it stopped early");
    // What was answered is in the log, and the live snapshot shows it.
    let deadline = Instant::now() + Duration::from_secs(10);
    let snap = loop {
        let snap = core
            .monitor_snapshot("auto-mpg", 2000, 600_000, Some(started))
            .unwrap();
        let n = snap.current.as_ref().map_or(0, |w| w.requests);
        if n >= 40 || Instant::now() > deadline {
            break snap;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let sent = snap.current.as_ref().unwrap().requests;
    assert!(
        (40..=120).contains(&sent),
        "{sent} requests before the cancel"
    );
    assert!(!snap.windows.is_empty());
    assert!(snap.drift.is_some(), "a drift report over the span");
    assert!(snap.prediction_drift.is_some());
    let labelled: i64 = lab
        .sqlite()
        .query_row("SELECT COUNT(*) FROM ground_truth", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        labelled,
        300 + sent,
        "labels for the answered requests only"
    );

    // A cancelled lab stays cancelled (each job gets its own); promote the
    // first version back to champion with a fresh one: the service follows.
    assert_eq!(
        core.promote(summary["model"].as_str().unwrap(), 1, false, &|_| {})
            .unwrap_err()
            .code(),
        "cancelled"
    );
    let core = open(&lab);
    let (mv, rollout) = core
        .promote(summary["model"].as_str().unwrap(), 1, false, &|_| {})
        .unwrap();
    assert!(mv.aliases.contains(&"champion".to_string()));
    let rollout = rollout.expect("the serving service was rolled out");
    assert_eq!(rollout.service.active_version, Some(1));
    assert_eq!(rollout.endpoint, summary["endpoint"].as_str().unwrap());
}

fn lab_store_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}
