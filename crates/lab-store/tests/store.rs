//! The store against a real SQLite file in a temporary lab home.

use lab_store::{LabHome, Metric, RunFilter, RunStatus, Store, StoreError};

fn home() -> (tempfile::TempDir, LabHome) {
    let dir = tempfile::tempdir().unwrap();
    let home = LabHome::at(dir.path().join("lab")).unwrap();
    (dir, home)
}

fn metric(key: &str, value: f64, step: i64, ts: i64) -> Metric {
    Metric {
        key: key.into(),
        value,
        timestamp: ts,
        step,
    }
}

#[test]
fn new_store_has_mlflow_default_experiment_and_wal() {
    let (_d, home) = home();
    let store = Store::open(&home).unwrap();
    let exps = store.list_experiments().unwrap();
    assert_eq!(exps.len(), 1);
    assert_eq!(exps[0].experiment_id, "0");
    assert_eq!(exps[0].name, "Default");
    let conn = rusqlite_mode(&home);
    assert_eq!(conn, "wal");
    assert_eq!(store.integrity_check().unwrap(), "ok");
    // Reopening applies no migration twice.
    drop(store);
    let store = Store::open(&home).unwrap();
    assert_eq!(store.list_experiments().unwrap().len(), 1);
}

fn rusqlite_mode(home: &LabHome) -> String {
    // Read the journal mode from the file with a separate connection, as
    // another process would see it.
    let conn = rusqlite::Connection::open(home.db_path()).unwrap();
    conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn runs_params_metric_history_and_tags() {
    let (_d, home) = home();
    let store = Store::open(&home).unwrap();
    let exp = store.get_or_create_experiment("wine").unwrap();
    assert_eq!(exp.experiment_id, "1");
    assert_eq!(store.get_or_create_experiment("wine").unwrap(), exp);
    let run = store
        .create_run(
            &exp.experiment_id,
            "first",
            &[("mlops.model", "logistic-regression")],
        )
        .unwrap();
    assert_eq!(run.status, RunStatus::Running);
    assert!(run.artifact_uri.starts_with("artifacts/1/"));

    store
        .log_params(&run.run_id, &[("C".into(), "1.0".into())])
        .unwrap();
    // Same value again is fine; a different one is refused.
    store
        .log_params(&run.run_id, &[("C".into(), "1.0".into())])
        .unwrap();
    assert!(matches!(
        store.log_params(&run.run_id, &[("C".into(), "2.0".into())]),
        Err(StoreError::Invalid(_))
    ));

    store
        .log_metrics(
            &run.run_id,
            &[
                metric("loss", 0.9, 0, 100),
                metric("loss", 0.5, 1, 200),
                metric("loss", 0.7, 2, 150),
            ],
        )
        .unwrap();
    // An older step logged later does not replace the latest value.
    store
        .log_metrics(&run.run_id, &[metric("loss", 0.1, 1, 300)])
        .unwrap();
    let history = store.metric_history(&run.run_id, "loss").unwrap();
    assert_eq!(history.len(), 4);
    assert_eq!(
        history.iter().map(|m| m.step).collect::<Vec<_>>(),
        [0, 1, 1, 2]
    );
    assert!(
        store
            .log_metrics(&run.run_id, &[metric("bad", f64::NAN, 0, 1)])
            .is_err()
    );

    store.end_run(&run.run_id, RunStatus::Finished).unwrap();
    let got = store.get_run(&run.run_id).unwrap();
    assert_eq!(got.status, RunStatus::Finished);
    assert_eq!(got.metrics["loss"], 0.7);
    assert_eq!(got.params["C"], "1.0");
    assert_eq!(got.tags["mlops.model"], "logistic-regression");
    assert!(got.end_time.is_some());
    // An ended run takes no more metrics.
    assert!(
        store
            .log_metrics(&run.run_id, &[metric("loss", 0.2, 3, 400)])
            .is_err()
    );

    let prefix = &run.run_id[..6];
    assert_eq!(store.resolve_run_id(prefix).unwrap(), run.run_id);
    let listed = store
        .list_runs(&RunFilter {
            experiment: Some("wine".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(listed.len(), 1);
}

#[test]
fn registry_versions_and_aliases_survive_reopen() {
    let (_d, home) = home();
    let (run_id, source) = {
        let store = Store::open(&home).unwrap();
        let run = store.create_run("0", "r", &[]).unwrap();
        let source = format!("{}/model/model.json", run.artifact_uri);
        // Not finished yet: cannot register.
        home.write_atomic(&source, b"{}").unwrap();
        assert!(
            store
                .create_model_version("wine", &run.run_id, &source)
                .is_err()
        );
        store.end_run(&run.run_id, RunStatus::Finished).unwrap();
        let v1 = store
            .create_model_version("wine", &run.run_id, &source)
            .unwrap();
        let v2 = store
            .create_model_version("wine", &run.run_id, &source)
            .unwrap();
        assert_eq!((v1.version, v2.version), (1, 2));
        store.set_alias("wine", "champion", 1).unwrap();
        store.set_alias("wine", "champion", 2).unwrap();
        store.set_alias("wine", "challenger", 1).unwrap();
        assert!(
            store.set_alias("wine", "v3", 1).is_err(),
            "aliases cannot look like versions"
        );
        assert!(store.set_alias("wine", "champion", 9).is_err());
        assert!(
            store
                .create_model_version("bad name!", &run.run_id, &source)
                .is_err()
        );
        assert!(matches!(
            store.create_model_version("x", &run.run_id, "../outside.json"),
            Err(StoreError::PathEscape(_))
        ));
        (run.run_id, source)
    };
    // A new process (here: a new connection and lease) sees it all.
    let store = Store::open(&home).unwrap();
    let champion = store.version_by_alias("wine", "champion").unwrap().unwrap();
    assert_eq!(champion.version, 2);
    assert_eq!(champion.run_id, run_id);
    assert_eq!(champion.source, source);
    let models = store.list_registered_models().unwrap();
    assert_eq!(models.len(), 1);
    assert_eq!(models[0].latest_version, Some(2));
    assert_eq!(models[0].aliases["challenger"], 1);
    let versions = store.list_model_versions("wine").unwrap();
    assert_eq!(versions[1].aliases, vec!["challenger".to_string()]);
    store.delete_alias("wine", "challenger").unwrap();
    assert!(
        store
            .version_by_alias("wine", "challenger")
            .unwrap()
            .is_none()
    );
}

#[test]
fn orphaned_running_run_is_marked_failed_by_the_next_process() {
    let (_d, home) = home();
    let a = Store::open(&home).unwrap();
    let run = a.create_run("0", "doomed", &[]).unwrap();
    // While its owner lives, another process leaves the run alone.
    let b = Store::open(&home).unwrap();
    assert_eq!(b.get_run(&run.run_id).unwrap().status, RunStatus::Running);
    drop(b);
    // The owner goes away without ending the run.
    drop(a);
    let c = Store::open(&home).unwrap();
    let got = c.get_run(&run.run_id).unwrap();
    assert_eq!(got.status, RunStatus::Failed);
    assert!(got.tags["mlops.failure"].contains("ended before it finished"));
    assert!(got.end_time.is_some());
    // Only the live process's lease is left.
    let leases = std::fs::read_dir(home.root().join("locks"))
        .unwrap()
        .count();
    assert_eq!(leases, 1);
}

#[test]
fn lessons_start_once_record_events_and_reset_alone() {
    let (_d, home) = home();
    let store = Store::open(&home).unwrap();
    let a = store.start_lesson("m1-02-profile").unwrap();
    assert_eq!(a.status, "in-progress");
    std::thread::sleep(std::time::Duration::from_millis(5));
    // Starting again resumes: the start (what counts for the checkpoint) stays.
    assert_eq!(
        store.start_lesson("m1-02-profile").unwrap().started_at,
        a.started_at
    );
    store.start_lesson("m1-03-validate").unwrap();
    store
        .record_lesson_event(
            "m1-02-profile",
            "check",
            &serde_json::json!({"passed": false}),
        )
        .unwrap();
    store
        .record_lesson_event(
            "m1-02-profile",
            "passed",
            &serde_json::json!({"evidence": ["r1"]}),
        )
        .unwrap();
    assert!(
        store
            .record_lesson_event("m1-02-profile", "finished", &serde_json::json!({}))
            .is_err()
    );
    assert!(
        store
            .record_lesson_event("never-started", "hint", &serde_json::json!({}))
            .is_err()
    );
    let p = store.lesson_state("m1-02-profile").unwrap().unwrap();
    assert_eq!(p.status, "passed");
    assert!(p.finished_at.is_some());
    let kinds: Vec<String> = store
        .lesson_events("m1-02-profile")
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, ["started", "check", "passed"]);
    // Resetting one lesson leaves the other's progress.
    assert_eq!(store.reset_lessons(Some("m1-02-profile")).unwrap(), 1);
    assert!(store.lesson_events("m1-02-profile").unwrap().is_empty());
    let left: Vec<String> = store
        .lesson_states()
        .unwrap()
        .into_iter()
        .map(|s| s.lesson_id)
        .collect();
    assert_eq!(left, ["m1-03-validate"]);
}

#[test]
fn deployment_runtime_and_state_are_typed_and_stored_as_text() {
    use lab_store::{DeploymentRecord, DeploymentRuntime, DeploymentState};
    let (_dir, home) = home();
    let store = Store::open(&home).unwrap();
    let d = DeploymentRecord {
        deployment_id: "local-42".into(),
        runtime: DeploymentRuntime::Local,
        name: "lab-serve wine v1".into(),
        model_name: "wine".into(),
        model_version: 1,
        run_id: "r".into(),
        endpoint: "http://127.0.0.1:9".into(),
        host_port: 9,
        image_id: None,
        image_tag: None,
        image_size_bytes: None,
        pid: Some(42),
        pid_start: Some(7),
        pid_exe: Some("/x/lab-serve".into()),
        upstream: None,
        log_dir: None,
        start_to_ready_ms: 5,
        status: DeploymentState::Running,
        created_at: 1,
        stopped_at: None,
    };
    store.insert_deployment(&d).unwrap();
    assert_eq!(store.find_deployment("local-42").unwrap(), d);
    store.mark_deployment_stopped("local-42").unwrap();
    let back = store.find_deployment("local-42").unwrap();
    assert_eq!(back.status, DeploymentState::Stopped);
    // On disk and on the wire, the same words as before.
    let db = rusqlite::Connection::open(home.db_path()).unwrap();
    let (runtime, status): (String, String) = db
        .query_row(
            "SELECT runtime, status FROM deployments WHERE deployment_id = 'local-42'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((runtime.as_str(), status.as_str()), ("local", "stopped"));
    let json = serde_json::to_value(&back).unwrap();
    assert_eq!(
        (json["runtime"].as_str(), json["status"].as_str()),
        (Some("local"), Some("stopped"))
    );
}

/// Further connections share the process's one lease: no new lease file,
/// no migrations; they see each other's writes; the lease goes with the
/// last connection.
#[test]
fn connections_share_the_lease_until_the_last_one_goes() {
    let (_tmp, home) = home();
    let leases = || {
        std::fs::read_dir(home.root().join("locks"))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "lock")
            })
            .count()
    };
    let first = Store::open(&home).unwrap();
    assert_eq!(leases(), 1);
    let second = first.connect().unwrap();
    assert_eq!(leases(), 1, "connect takes no lease of its own");
    let exp = second.get_or_create_experiment("shared").unwrap();
    let run = second.create_run(&exp.experiment_id, "r", &[]).unwrap();
    assert_eq!(first.get_run(&run.run_id).unwrap().run_name, "r");
    drop(first);
    // The run is still owned: the lease lives while a connection does.
    assert_eq!(leases(), 1);
    let other = Store::open(&home).unwrap();
    assert_eq!(
        other.get_run(&run.run_id).unwrap().status,
        lab_store::RunStatus::Running,
        "a live connection's run is not an orphan"
    );
    drop(second);
    drop(other);
    assert_eq!(leases(), 0);
}

#[test]
fn a_run_mlflows_client_started_survives_the_lab_restarting() {
    let (_d, home) = home();
    let server = Store::open(&home).unwrap();
    let run = server
        .create_run_with(
            "0",
            &lab_store::NewRun {
                name: "notebook",
                external: true,
                ..lab_store::NewRun::default()
            },
        )
        .unwrap();
    drop(server);
    // The lab (or the tracking server) starts again: the client still owns it.
    let again = Store::open(&home).unwrap();
    let got = again.get_run(&run.run_id).unwrap();
    assert_eq!(got.status, RunStatus::Running);
    assert!(!got.tags.contains_key("mlops.failure"));
}

#[test]
fn a_deleted_versions_number_is_never_given_again() {
    let (_d, home) = home();
    let store = Store::open(&home).unwrap();
    let run = store.create_run("0", "r", &[]).unwrap();
    store.create_registered_model("m", "", &[]).unwrap();
    let new = lab_store::NewModelVersion {
        name: "m".into(),
        source: "models:/m-1".into(),
        run_id: Some(run.run_id.clone()),
        ..lab_store::NewModelVersion::default()
    };
    assert_eq!(store.create_mlflow_model_version(&new).unwrap().version, 1);
    assert_eq!(store.create_mlflow_model_version(&new).unwrap().version, 2);
    store.delete_model_version("m", 2).unwrap();
    assert_eq!(store.create_mlflow_model_version(&new).unwrap().version, 3);
    assert!(matches!(
        store.create_registered_model("m", "", &[]),
        Err(StoreError::AlreadyExists(_))
    ));
    // A rename keeps versions, aliases and the counter.
    store.set_alias("m", "champion", 3).unwrap();
    store.rename_registered_model("m", "m2").unwrap();
    assert_eq!(
        store
            .version_by_alias("m2", "champion")
            .unwrap()
            .unwrap()
            .version,
        3
    );
    assert_eq!(
        store
            .create_mlflow_model_version(&lab_store::NewModelVersion {
                name: "m2".into(),
                ..new
            })
            .unwrap()
            .version,
        4
    );
}
