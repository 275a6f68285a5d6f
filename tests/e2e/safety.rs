//! What must never happen, whatever the learner types: `reset` deleting
//! what is not the lab's, a signal to a process the lab did not start, work
//! sized without bound by input, a monitoring alarm on a control scenario,
//! a retrain judged on rows it trained on.

use std::collections::HashSet;
use std::process::{Child, Command, Stdio};

use lab_e2e::{DOCKER, Lab};

use crate::monitor::{need_docker, register_two_penguin_versions};

/// A live process the lab never started.
struct Bystander(Child);

impl Bystander {
    fn start() -> Self {
        Bystander(
            Command::new("sleep")
                .arg("600")
                .stdin(Stdio::null())
                .spawn()
                .expect("start sleep"),
        )
    }

    fn pid(&self) -> u32 {
        self.0.id()
    }

    fn alive(&mut self) -> bool {
        self.0.try_wait().unwrap().is_none()
    }
}

impl Drop for Bystander {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn sql(lab: &Lab, statement: &str, pid: u32) {
    let db = rusqlite::Connection::open(lab.db()).unwrap();
    db.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
    db.execute(statement, [pid as i64]).unwrap();
}

fn one_i64(lab: &Lab, query: &str) -> i64 {
    lab.sqlite().query_row(query, [], |r| r.get(0)).unwrap()
}

/// Stop the real process behind a record before pointing the record
/// elsewhere (the test must leave nothing running).
fn kill_recorded(lab: &Lab, query: &str) {
    let pid = one_i64(lab, query);
    let _ = Command::new("kill").arg(pid.to_string()).status();
    for _ in 0..500 {
        if !std::path::Path::new(&format!("/proc/{pid}/exe")).exists() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn reset_never_touches_a_folder_that_is_not_a_lab_home() {
    let dir = tempfile::tempdir().unwrap();
    let precious = dir.path().join("thesis.tex");
    std::fs::write(&precious, "years of work").unwrap();
    let lab = Lab::new();
    for args in [
        vec!["reset", "--yes"],
        vec!["runs", "list"],
        vec!["datasets"],
    ] {
        let out = lab
            .cmd(&args)
            .env("MLOPS_LAB_HOME", dir.path())
            .output()
            .unwrap();
        if args[0] == "datasets" {
            // The catalogue needs no lab home.
            assert!(out.status.success());
            continue;
        }
        assert!(!out.status.success(), "{args:?} accepted a foreign folder");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("is not an MLOps Lab home"), "{args:?}: {err}");
    }
    assert_eq!(std::fs::read_to_string(&precious).unwrap(), "years of work");
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(
        names.len(),
        1,
        "the lab wrote into a folder that is not its"
    );

    // In a real lab home, reset removes what the lab made and keeps (and
    // names) the rest.
    lab.json(&["data", "profile", "iris"]);
    std::fs::write(lab.home().join("my-notes.md"), "keep me").unwrap();
    let out = lab.run(&["reset", "--yes"]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("my-notes.md"), "{said}");
    assert_eq!(
        std::fs::read_to_string(lab.home().join("my-notes.md")).unwrap(),
        "keep me"
    );
    assert!(!lab.db().exists());
    assert!(!lab.home().join("locks").exists());
}

#[test]
fn a_stale_pid_record_never_signals_an_unrelated_process() {
    need_docker();
    let _shared = DOCKER.read().unwrap_or_else(|e| e.into_inner());
    let lab = Lab::new();
    register_two_penguin_versions(&lab);
    lab.json(&["rollout", "penguins-species:1", "--local"]);
    lab.json(&["rollout", "penguins-species:2", "--local"]);
    let mut bystander = Bystander::start();
    let running = "SELECT pid FROM deployments WHERE status = 'running'";

    // The serving v2 process "died" and its PID went to another program.
    kill_recorded(&lab, running);
    sql(
        &lab,
        "UPDATE deployments SET pid = ?1 WHERE status = 'running'",
        bystander.pid(),
    );
    let back = lab.json(&["rollback", "penguins-species", "--local"]);
    assert_eq!(back["service"]["active_version"], 1);
    assert!(bystander.alive(), "rollback signalled an unrelated process");

    // The same for an explicit stop, and for a record of an earlier
    // release that has no identity at all.
    kill_recorded(&lab, running);
    sql(
        &lab,
        "UPDATE deployments SET pid = ?1, pid_start = NULL, pid_exe = NULL WHERE status = 'running'",
        bystander.pid(),
    );
    let id: String = lab
        .sqlite()
        .query_row(
            "SELECT deployment_id FROM deployments WHERE status = 'running'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let stopped = lab.json(&["deployments", "stop", &id]);
    assert_eq!(stopped[0]["status"], "stopped");
    assert!(bystander.alive(), "deployments stop signalled it");

    // And reset, with the gateway's record pointing at it too.
    kill_recorded(&lab, "SELECT gateway_pid FROM services");
    sql(
        &lab,
        "UPDATE services SET gateway_pid = ?1",
        bystander.pid(),
    );
    lab.run(&["reset", "--yes"]);
    assert!(bystander.alive(), "reset signalled an unrelated process");
}

#[test]
fn input_cannot_size_work_without_bound() {
    let lab = Lab::new();
    for args in [
        vec!["pipeline", "run", "--requests", "18446744073709551615"],
        vec!["pipeline", "run", "--requests", "100001"],
        vec![
            "traffic",
            "--service",
            "nope",
            "--dataset",
            "penguins",
            "--duration",
            "100000000h",
            "--rps",
            "10000",
        ],
    ] {
        let out = lab.cmd(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("at most 100000"), "{args:?}: {err}");
    }
    // A duration too long for any clock is an error, not a panic.
    let out = lab
        .cmd(&[
            "traffic",
            "--service",
            "nope",
            "--dataset",
            "penguins",
            "--duration",
            "1000000000000000000000h",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("too long"));
}

/// The rows of a CSV the lab wrote, as lines (header dropped).
fn rows_of(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .skip(1)
        .map(str::to_string)
        .collect()
}

#[test]
fn the_no_drift_control_raises_no_alarm_and_the_drifted_scenarios_do() {
    need_docker();
    let _shared = DOCKER.read().unwrap_or_else(|e| e.into_inner());
    // penguins-year: 2009's penguins against 2007–08's. 300 requests replay
    // its 120 rows in shuffled passes, so no row is counted twice before
    // every row was seen once.
    let control = Lab::new();
    let v = control.json(&["pipeline", "run", "--scenario", "penguins-year"]);
    assert_eq!(v["traffic"]["errors"], 0);
    assert_eq!(v["dataset_drift"], false, "{}", v["window"]);
    assert!(
        v["retrain"].is_null(),
        "a retrain started: {}",
        v["retrain"]
    );
    assert_eq!(
        one_i64(
            &control,
            "SELECT COUNT(*) FROM alerts WHERE metric = 'drift_share'"
        ),
        0
    );

    // penguins-island: Biscoe's penguins against Dream and Torgersen's.
    let drifted = Lab::new();
    let v = drifted.json(&["pipeline", "run", "--scenario", "penguins-island"]);
    assert_eq!(v["dataset_drift"], true, "{}", v["window"]);
    let r = &v["retrain"];
    assert!(r.is_object(), "{v}");
    // No row the challenger was judged on is one it trained on.
    let labelled = drifted.home().join(r["data_file"].as_str().unwrap());
    let holdout = labelled.with_file_name("holdout.csv");
    let train: HashSet<String> = rows_of(&labelled).into_iter().collect();
    let judged = rows_of(&holdout);
    assert_eq!(judged.len() as i64, r["holdout_rows"].as_i64().unwrap());
    for row in &judged {
        assert!(
            !train.contains(row),
            "holdout row {row} is also a training row"
        );
    }
}
