//! The course through the real `mlops-lab` binary: a headless walk-through
//! of every lesson in order (its steps, not `skip`), each checkpoint
//! passing; progress surviving a `kill -9` during a step.

use std::time::{Duration, Instant};

use lab_e2e::Lab;
use serde_json::Value;

#[test]
fn a_learner_walks_every_lesson_in_order_and_each_checkpoint_passes() {
    // The prediction-API lesson deploys (a container when Docker answers).
    let _shared = lab_e2e::DOCKER.read().unwrap_or_else(|e| e.into_inner());
    let lab = Lab::new();
    let started = Instant::now();
    let roadmap = lab.json(&["lessons", "list"]);
    let ids: Vec<String> = roadmap
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_string())
        .collect();
    assert!(ids.len() >= 5, "{roadmap}");
    assert!(
        roadmap
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["status"] == "not-started")
    );
    for id in &ids {
        let detail = lab.json(&["lessons", "start", id]);
        assert_eq!(detail["state"]["status"], "in-progress", "{detail}");
        // Nothing done yet: the check fails, exit 1, each predicate saying why.
        let out = lab.cmd(&["lessons", "check", id]).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{id}");
        assert!(String::from_utf8_lossy(&out.stdout).contains('❌'), "{id}");
        for step in detail["lesson"]["steps"].as_array().unwrap() {
            let r = lab.json(&["lessons", "run", id, step["id"].as_str().unwrap()]);
            assert!(r["summary"].as_str().is_some_and(|s| !s.is_empty()), "{r}");
            // The learner writes the exercise the step started.
            if step["action"]["kind"] == "exercise" {
                lab.solve_exercise(step["action"]["exercise"].as_str().unwrap());
            }
        }
        let check = lab.json(&["lessons", "check", id]);
        assert_eq!(check["passed"], true, "{id}: {check}");
        assert_eq!(check["status"], "passed", "{id}");
    }
    let roadmap = lab.json(&["lessons", "list"]);
    assert!(
        roadmap
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["status"] == "passed"),
        "{roadmap}"
    );
    eprintln!(
        "walk-through of {} lessons: {:.1} s",
        ids.len(),
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn progress_survives_a_kill_during_a_step() {
    let lab = Lab::new();
    let id = "m1-05-overfitting";
    lab.run(&["lessons", "start", id]);
    lab.run(&["lessons", "hint", id]);
    // Kill the CLI in the middle of a step (a training), then resume.
    let mut child = lab.cmd(&["lessons", "run", id, "deep"]).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(150));
    let _ = child.kill();
    let _ = child.wait();
    let detail: Value = lab.json(&["lessons", "show", id]);
    assert_eq!(detail["state"]["status"], "in-progress", "{detail}");
    assert_eq!(detail["hints_shown"], 1, "{detail}");
    for step in ["deep", "shallow"] {
        lab.run(&["lessons", "run", id, step]);
    }
    let check = lab.json(&["lessons", "check", id]);
    assert_eq!(check["passed"], true, "{check}");
    assert_eq!(
        lab.sqlite()
            .query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0))
            .unwrap(),
        "ok"
    );
    // Bad input: one line that says what to do.
    let out = lab.cmd(&["lessons", "run", id, "nope"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("deep, shallow"),
        "{err}"
    );
    let out = lab
        .cmd(&["lessons", "check", "m1-02-profile"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("mlops-lab lessons start m1-02-profile"),
        "{err}"
    );
}
