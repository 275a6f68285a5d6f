//! The exercises against a real lab (a temporary lab home, its real SQLite
//! file, the shipped datasets) and real Python (the tests' venv, which
//! `cargo xtask test` installs: MLOPS_LAB_VENV): every untouched starter
//! fails with its first TODO, every reference solution in
//! `tests/exercises/` passes, every plausible wrong one fails with its own
//! message; a hung script is stopped at the time limit with every process
//! it started; watch mode checks again after a save; `python setup` makes
//! the managed venv for real, once.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Duration;

use lab_exercises::{ExerciseReport, Exercises, PythonEnv, Workspace};
use lab_pipeline::{Catalog, Lab, LabHome};

fn python() -> PathBuf {
    let dir = std::env::var_os("MLOPS_LAB_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME"))
                .join(".cache/mlops-lab/venv-tests")
        });
    let py = dir.join("bin/python");
    assert!(
        py.is_file(),
        "the tests' venv {} is missing: run `cargo xtask test`, which installs it",
        dir.display()
    );
    py
}

struct Setup {
    _dir: tempfile::TempDir,
    lab: Lab,
    ex: Exercises,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let home = LabHome::at(dir.path().join("home")).unwrap();
    let lab = Lab::open(&home, Catalog::load_default().unwrap()).unwrap();
    let mut ex = Exercises::new(
        &lab,
        Workspace {
            root: dir.path().join("workspace"),
        },
    );
    ex.python = PythonEnv {
        venv: None,
        interpreter: python(),
    };
    Setup { _dir: dir, lab, ex }
}

fn solutions(exercise: &str, which: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/exercises")
        .join(exercise)
        .join(which)
}

/// Put `which`'s files over the learner's (as a learner's save would).
fn put(s: &Setup, exercise: &str, which: &str) {
    let folder = s.ex.folder(exercise).unwrap();
    for e in std::fs::read_dir(solutions(exercise, which)).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), folder.join(e.file_name())).unwrap();
    }
}

fn check(s: &Setup, exercise: &str) -> ExerciseReport {
    s.ex.check(&s.lab, exercise).unwrap()
}

fn failure(r: &ExerciseReport) -> (&str, String, String) {
    let f = r
        .first_failure()
        .unwrap_or_else(|| panic!("{} passed: {r:#?}", r.exercise));
    (
        f.name.as_str(),
        f.got.clone(),
        f.fix.clone().unwrap_or_default(),
    )
}

#[test]
fn untouched_starters_fail_with_their_first_todo() {
    let s = setup();
    for (id, stage, todo) in [
        (
            "pandas-clean",
            "runs",
            "TODO 1: drop the rows with a missing value in drop_missing()",
        ),
        (
            "drift-by-hand",
            "runs",
            "TODO 1: return the KS statistic in ks()",
        ),
        (
            "sklearn-mlflow",
            "runs",
            "TODO: log a run in experiment exercise-wine and register the model in main()",
        ),
        // The pipeline's body runs when KFP builds its graph: TODO 1 first.
        (
            "kfp-component",
            "runs",
            "TODO 1: call train_wine and return its output in wine_pipeline()",
        ),
        // train.py is complete; the server starts; /health is the first TODO.
        (
            "fastapi-predict",
            "health",
            "TODO 1: answer {\"status\": \"ok\"} in health()",
        ),
    ] {
        let started = s.ex.start(&s.lab, id).unwrap();
        assert!(
            started.written.contains(&"README.md".to_string()),
            "{started:?}"
        );
        let r = check(&s, id);
        assert!(!r.passed);
        let (name, got, fix) = failure(&r);
        assert_eq!(name, stage, "{id}: {r:#?}");
        if stage == "runs" {
            assert!(got.contains("NotImplementedError"), "{id}: {got}");
        } else {
            assert!(got.starts_with("500"), "{id}: {got}");
        }
        assert!(fix.starts_with(todo), "{id}: {fix}");
        assert!(!r.not_run.is_empty(), "{id}: the later stages are listed");
    }
    // Each check is recorded, failed.
    let attempts = s.lab.exercise_attempts(None).unwrap();
    assert_eq!(attempts.len(), 5);
    assert!(attempts.iter().all(|a| !a.passed));
}

#[test]
fn reference_solutions_pass_and_are_recorded() {
    let s = setup();
    for id in [
        "pandas-clean",
        "drift-by-hand",
        "sklearn-mlflow",
        "fastapi-predict",
        "kfp-component",
    ] {
        s.ex.start(&s.lab, id).unwrap();
        put(&s, id, "solution");
        let r = check(&s, id);
        assert!(r.passed, "{id}: {r:#?}");
        assert!(r.not_run.is_empty());
        let a = s.lab.exercise_attempts(Some(id)).unwrap();
        assert_eq!(a.len(), 1);
        assert!(a[0].passed);
        assert_eq!(Some(a[0].attempt_id), r.attempt);
    }
    let pandas = s.lab.exercise_attempts(Some("pandas-clean")).unwrap();
    let rows = &pandas[0].detail["checks"][3];
    assert_eq!(rows["name"], "rows");
    assert_eq!(rows["got"], "333", "344 birds, 11 with a missing value");
    // The FastAPI exercise measured both servers under the same load.
    let api = s.lab.exercise_attempts(Some("fastapi-predict")).unwrap();
    let figures: Vec<(String, String)> =
        serde_json::from_value(api[0].detail["figures"].clone()).unwrap();
    let names: Vec<&str> = figures.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "load",
            "your FastAPI app (uvicorn)",
            "the lab's lab-serve (static binary)",
            "lab-serve vs yours"
        ],
        "{figures:?}"
    );
    for (name, value) in &figures[1..3] {
        assert!(value.contains(" · 0 of 2000 failed"), "{name}: {value}");
        assert!(value.contains("answered requests/s"), "{name}: {value}");
    }
}

#[test]
fn plausible_wrong_solutions_fail_with_their_own_message() {
    let s = setup();
    s.ex.start(&s.lab, "pandas-clean").unwrap();
    s.ex.start(&s.lab, "drift-by-hand").unwrap();
    s.ex.start(&s.lab, "sklearn-mlflow").unwrap();
    s.ex.start(&s.lab, "fastapi-predict").unwrap();
    s.ex.start(&s.lab, "kfp-component").unwrap();
    let cases: [(&str, &str, &str, &str); 18] = [
        (
            "pandas-clean",
            "wrong-drops-column",
            "columns",
            "sex went missing",
        ),
        (
            "pandas-clean",
            "wrong-bool-dummies",
            "types",
            "True/False by default: pass dtype=int",
        ),
        (
            "pandas-clean",
            "wrong-measurements-only",
            "rows",
            "sex still has 9 missing values",
        ),
        ("drift-by-hand", "wrong-pvalue", "ks", "is the p-value"),
        (
            "drift-by-hand",
            "wrong-histogram",
            "psi",
            "equal-width bins",
        ),
        (
            "drift-by-hand",
            "wrong-left-closed",
            "psi",
            "closed on the left",
        ),
        (
            "sklearn-mlflow",
            "wrong-experiment",
            "run",
            "mlflow.set_experiment(\"exercise-wine\")",
        ),
        (
            "sklearn-mlflow",
            "wrong-not-registered",
            "registered",
            "registered_model_name=\"wine-yours\"",
        ),
        (
            "sklearn-mlflow",
            "wrong-hardcoded-uri",
            "runs",
            "the lab sets MLFLOW_TRACKING_URI",
        ),
        (
            "sklearn-mlflow",
            "wrong-claimed-accuracy",
            "loads",
            "the logged accuracy is not the registered model's",
        ),
        (
            "fastapi-predict",
            "wrong-constant",
            "predict",
            "every answer was good=true",
        ),
        (
            "fastapi-predict",
            "wrong-missing-fields",
            "openapi",
            "the body lacks 7 of the 11 measurements: add chlorides,",
        ),
        (
            "fastapi-predict",
            "wrong-numpy-bool",
            "predict",
            "bool(prediction)",
        ),
        (
            "fastapi-predict",
            "wrong-500",
            "malformed",
            "FastAPI answers 422 by itself",
        ),
        (
            "fastapi-predict",
            "wrong-own-model",
            "agrees",
            "do not train another model in app.py",
        ),
        (
            "kfp-component",
            "wrong-uncompiled",
            "compiled",
            "compiler.Compiler().compile(wine_pipeline, \"pipeline.yaml\")",
        ),
        (
            "kfp-component",
            "wrong-top-imports",
            "local-run",
            "import what it uses inside the function",
        ),
        (
            "kfp-component",
            "wrong-not-logged",
            "tracked",
            "mlflow.set_experiment(\"exercise-kfp\")",
        ),
    ];
    for (id, which, stage, says) in cases {
        put(&s, id, which);
        let r = check(&s, id);
        let (name, got, fix) = failure(&r);
        assert_eq!(name, stage, "{which}: {r:#?}");
        assert!(fix.contains(says), "{which}: got {got}; fix {fix}");
    }
}

#[test]
fn start_never_overwrites_the_learners_files() {
    let s = setup();
    s.ex.start(&s.lab, "pandas-clean").unwrap();
    let mine = s.ex.folder("pandas-clean").unwrap().join("clean.py");
    std::fs::write(&mine, "print('mine')\n").unwrap();
    let again = s.ex.start(&s.lab, "pandas-clean").unwrap();
    assert!(again.written.is_empty(), "{again:?}");
    assert_eq!(again.kept, ["README.md", "clean.py"]);
    assert_eq!(std::fs::read_to_string(&mine).unwrap(), "print('mine')\n");
    assert!(matches!(
        s.ex.start(&s.lab, "nope"),
        Err(lab_exercises::ExerciseError::Unknown(_))
    ));
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
fn a_hung_script_is_stopped_at_the_limit_with_every_process_it_started() {
    let mut s = setup();
    s.ex.limit = Duration::from_secs(3);
    s.ex.start(&s.lab, "pandas-clean").unwrap();
    put(&s, "pandas-clean", "../hung");
    let r = check(&s, "pandas-clean");
    let (name, got, fix) = failure(&r);
    assert_eq!(name, "runs");
    assert!(got.contains("still running after 3 s: stopped"), "{got}");
    assert!(fix.contains("endless loop"), "{fix}");
    let folder = s.ex.folder("pandas-clean").unwrap();
    let pid: i32 = std::fs::read_to_string(folder.join("child.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // Give init a moment to reap the orphan.
    for _ in 0..50 {
        if !alive(pid) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!alive(pid), "the script's child {pid} was left running");
}

#[test]
fn a_hung_server_is_stopped_at_the_limit_with_every_process_it_started() {
    let mut s = setup();
    // Long enough for train.py and uvicorn's start on a busy machine,
    // shorter than the HTTP client's own 30 s.
    s.ex.limit = Duration::from_secs(15);
    s.ex.start(&s.lab, "fastapi-predict").unwrap();
    put(&s, "fastapi-predict", "../hung-server");
    let r = check(&s, "fastapi-predict");
    let (name, got, fix) = failure(&r);
    // It starts and answers /health; /predict never answers.
    assert_eq!(name, "predict", "{r:#?}");
    assert!(
        got.contains("no answer within the time limit (15 s): the server was stopped"),
        "{got}"
    );
    assert!(fix.contains("never returns"), "{fix}");
    let folder = s.ex.folder("fastapi-predict").unwrap();
    let pids: Vec<i32> = std::fs::read_to_string(folder.join("pids.txt"))
        .unwrap()
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect();
    assert_eq!(pids.len(), 2);
    for _ in 0..50 {
        if !pids.iter().any(|p| alive(*p)) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    for pid in pids {
        assert!(
            !alive(pid),
            "process {pid} of the learner's server was left running"
        );
    }
    // Its record in the lab home went with it, and the next check passes.
    let helpers = s.lab.home().root().join("helpers");
    assert!(
        std::fs::read_dir(&helpers).map_or(true, |d| d.count() == 0),
        "records left in {}",
        helpers.display()
    );
    put(&s, "fastapi-predict", "solution");
    s.ex.limit = Duration::from_secs(60);
    let r = check(&s, "fastapi-predict");
    assert!(r.passed, "{r:#?}");
}

#[test]
fn watch_checks_again_after_a_save() {
    let s = setup();
    s.ex.start(&s.lab, "drift-by-hand").unwrap();
    let mut reports = vec![];
    let folder = s.ex.folder("drift-by-hand").unwrap();
    let cancel = s.ex.cancel.clone();
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::channel();
        // The watcher's own handle on the lab, as a second thread needs.
        let lab = s.lab.connect().unwrap();
        let ex = &s.ex;
        let watcher = scope.spawn(move || {
            ex.watch(&lab, "drift-by-hand", &mut |r| {
                tx.send(r.unwrap()).unwrap();
            })
        });
        reports.push(rx.recv_timeout(Duration::from_secs(60)).unwrap());
        // A save (a later modification time even on a coarse clock).
        std::thread::sleep(Duration::from_millis(1100));
        std::fs::copy(
            solutions("drift-by-hand", "solution").join("drift.py"),
            folder.join("drift.py"),
        )
        .unwrap();
        reports.push(rx.recv_timeout(Duration::from_secs(60)).unwrap());
        cancel.store(true, Ordering::Relaxed);
        watcher.join().unwrap().unwrap();
    });
    assert!(!reports[0].passed);
    assert!(reports[1].passed, "{:#?}", reports[1]);
    // Only the save triggered a check: the outputs the check wrote did not.
    assert_eq!(s.lab.exercise_attempts(None).unwrap().len(), 2);
}

#[test]
fn doctor_names_what_is_missing_and_how_to_fix_it() {
    let s = setup();
    let d = s.ex.doctor();
    assert!(
        d.version.as_deref().is_some_and(|v| v.starts_with("3.")),
        "{d:?}"
    );
    let pandas = d.packages.iter().find(|p| p.name == "pandas").unwrap();
    assert_eq!(pandas.installed.as_deref(), Some(pandas.pinned.as_str()));

    let nowhere = lab_exercises::python::doctor(&PythonEnv {
        venv: Some("/nonexistent/python".into()),
        interpreter: "/nonexistent/python/bin/python".into(),
    });
    assert!(!nowhere.ready);
    assert!(nowhere.problems[0].contains("no Python at /nonexistent/python/bin/python"));
    assert!(nowhere.problems[0].contains("mlops-lab python setup"));
}

/// `python setup` for real: a venv in the lab home, the pinned packages
/// from the package index (pip's cache makes it quick after the first
/// time), ready; a second setup does nothing; an exercise then runs with
/// it, not with the tests' venv.
#[test]
fn python_setup_makes_the_managed_venv_once() {
    let dir = tempfile::tempdir().unwrap();
    let home = LabHome::at(dir.path().join("home")).unwrap();
    let lab = Lab::open(&home, Catalog::load_default().unwrap()).unwrap();
    let ex = Exercises::new(
        &lab,
        Workspace {
            root: dir.path().join("workspace"),
        },
    );
    assert!(
        std::env::var_os(lab_exercises::python::PYTHON_ENV).is_none(),
        "this test needs the managed venv"
    );
    assert!(!ex.doctor().ready);
    let mut lines = vec![];
    let first = ex
        .setup_python(&lab, &mut |l| lines.push(l.to_string()))
        .unwrap();
    assert!(!first.up_to_date);
    assert!(first.doctor.ready, "{:?}", first.doctor.problems);
    assert!(
        lines.iter().any(|l| l.starts_with("creating a venv")),
        "{lines:?}"
    );
    assert!(home.root().join("python/bin/python").is_file());
    let again = ex.setup_python(&lab, &mut |_| {}).unwrap();
    assert!(again.up_to_date);
    // reset keeps it: it took a package index to build.
    assert!(home.foreign_entries().unwrap().is_empty());

    ex.start(&lab, "pandas-clean").unwrap();
    let folder = ex.folder("pandas-clean").unwrap();
    std::fs::copy(
        solutions("pandas-clean", "solution").join("clean.py"),
        folder.join("clean.py"),
    )
    .unwrap();
    let r = ex.check(&lab, "pandas-clean").unwrap();
    assert!(r.passed, "{r:#?}");
}
