//! The exercises through the real `mlops-lab` binary: start, check (exit 1
//! with what to change, then 0), the checks recorded for the lesson's
//! checkpoint, and watch mode re-checking after a save and stopping,
//! with every process it started, on Ctrl-C; a lab killed mid-check
//! leaves the learner's server to the next check, which stops it.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use lab_e2e::Lab;

#[test]
fn start_check_and_the_lessons_checkpoint_through_the_cli() {
    let lab = Lab::new();
    lab.json(&["lessons", "start", "m1-03-validate-clean"]);
    let started = lab.json(&["exercises", "start", "pandas-clean"]);
    assert_eq!(
        started["written"],
        serde_json::json!(["README.md", "clean.py"])
    );
    let folder = lab.workspace().join("pandas-clean");
    assert!(folder.join("data/penguins.csv").is_file());

    // The untouched starter: exit 1, the first TODO as what to change.
    let out = lab
        .cmd(&["exercises", "check", "pandas-clean"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("❌ runs: python clean.py data/penguins.csv penguins_clean.csv"),
        "{text}"
    );
    assert!(
        text.contains("change:   TODO 1: drop the rows with a missing value"),
        "{text}"
    );
    assert!(text.contains("·  columns: not run"), "{text}");

    lab.solve_exercise("pandas-clean");
    let r = lab.json(&["exercises", "check", "pandas-clean"]);
    assert_eq!(r["passed"], true, "{r}");
    assert_eq!(r["checks"].as_array().unwrap().len(), 7);
    // The lesson's other checks are not done: exit 1, this one passed.
    let out = lab
        .cmd(&["lessons", "check", "m1-03-validate-clean", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let check: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mine = check["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "your-pandas")
        .unwrap()
        .clone();
    assert_eq!(mine["passed"], true, "{mine}");
    assert_eq!(
        mine["evidence"][0],
        format!("exercise attempt {}", r["attempt"]),
        "{mine}"
    );
    let list = lab.json(&["exercises", "list"]);
    let pandas = list
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == "pandas-clean")
        .unwrap();
    assert_eq!(
        (pandas["attempts"].as_u64(), pandas["passed"].as_bool()),
        (Some(2), Some(true))
    );

    // An unknown exercise: an error that says where the list is.
    let out = lab.cmd(&["exercises", "check", "nope"]).output().unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("mlops-lab exercises list"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn watch_rechecks_after_a_save_and_ctrl_c_stops_it() {
    let lab = Lab::new();
    lab.json(&["exercises", "start", "drift-by-hand"]);
    let mut child = lab
        .cmd(&["exercises", "watch", "drift-by-hand"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    let wait_for = |needle: &str| {
        let until = Instant::now() + Duration::from_secs(120);
        let mut seen = vec![];
        while Instant::now() < until {
            if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
                if line.contains(needle) {
                    return;
                }
                seen.push(line);
            }
        }
        panic!("no `{needle}` from watch: {seen:#?}");
    };
    wait_for("Not yet");
    std::thread::sleep(Duration::from_millis(1100));
    lab.solve_exercise("drift-by-hand");
    wait_for("Passed");
    rustix::process::kill_process(
        rustix::process::Pid::from_child(&child),
        rustix::process::Signal::INT,
    )
    .unwrap();
    let until = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < until, "watch did not stop on Ctrl-C");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0), "the last check passed");
}

fn alive(pid: i32) -> bool {
    // A zombie waiting for its parent to reap it runs no more.
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit(')')
            .next()
            .is_some_and(|r| !r.trim_start().starts_with('Z'))
    })
}

#[test]
fn a_lab_killed_mid_check_leaves_the_learners_server_to_the_next_check() {
    let lab = Lab::new();
    lab.json(&["exercises", "start", "fastapi-predict"]);
    let folder = lab.workspace().join("fastapi-predict");
    // A server whose /predict never answers and that started a child.
    std::fs::copy(
        lab_e2e::repo_root().join("tests/exercises/hung-server/app.py"),
        folder.join("app.py"),
    )
    .unwrap();
    let mut cli = lab
        .cmd(&["exercises", "--limit", "120", "check", "fastapi-predict"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pids_file = folder.join("pids.txt");
    let until = Instant::now() + Duration::from_secs(120);
    let pids: Vec<i32> = loop {
        if let Ok(t) = std::fs::read_to_string(&pids_file) {
            let p: Vec<i32> = t
                .split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect();
            if p.len() == 2 {
                break p;
            }
        }
        assert!(Instant::now() < until, "the learner's server never started");
        std::thread::sleep(Duration::from_millis(100));
    };
    // Past /health, into the /predict that never answers; then the lab
    // dies as kill -9 (or a crash) kills it: nothing of its own runs.
    std::thread::sleep(Duration::from_secs(3));
    cli.kill().unwrap();
    cli.wait().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        pids.iter().all(|p| alive(*p)),
        "the server and its child outlive a killed lab (their own process group)"
    );
    // The next check stops them first, then checks the learner's new code.
    lab.solve_exercise("fastapi-predict");
    let out = lab
        .cmd(&["exercises", "check", "fastapi-predict"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    for _ in 0..50 {
        if !pids.iter().any(|p| alive(*p)) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    for pid in pids {
        assert!(!alive(pid), "process {pid} left running by the killed lab");
    }
}
