//! The desktop app, driven for real: the built `mlops-lab-app` in WebKit
//! through tauri-driver and WebKitWebDriver, on a virtual display (Xvfb).
//! Open the app on the Roadmap, do lesson m1-02 in the Lesson view (start,
//! run its step, pass its checkpoint, a hint, a quiz answer), profile the
//! wine data, train a model from the UI, see the run in Experiments,
//! restart the app and see the lesson and the run still there. Screenshots
//! of each view go to `target/e2e-screenshots/`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use lab_e2e::{Lab, binary, repo_root, venv};
use serde_json::Value as Json;

/// A child killed with its whole process group when dropped (tauri-driver
/// starts WebKitWebDriver, which starts the app: none may outlive the test).
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        // killpg(2) directly. (Not `kill -KILL -PID` through procps-ng 4.0.2's
        // kill(1): run that way here, it took down every process in the
        // container.)
        if let Some(pgid) = rustix::process::Pid::from_raw(self.0.id() as i32) {
            let _ = rustix::process::kill_process_group(pgid, rustix::process::Signal::KILL);
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `cmd` in a process group of its own, away from the terminal (no stdin:
/// a background group touching the terminal would be stopped, or disturb
/// the shell that runs the tests).
fn group(mut cmd: Command) -> Command {
    use std::os::unix::process::CommandExt;
    cmd.process_group(0).stdin(Stdio::null());
    cmd
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn tauri_driver() -> PathBuf {
    let p = std::env::var_os("MLOPS_LAB_TAURI_DRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap())
                .join(".cache/mlops-lab/tools/bin/tauri-driver")
        });
    assert!(
        p.is_file(),
        "tauri-driver is missing ({}): run `cargo xtask test`, which installs it",
        p.display()
    );
    p
}

#[test]
fn the_app_trains_from_the_ui_and_remembers_the_run_after_a_restart() {
    // The Home view's Kubeflow export builds the steps image in Docker.
    let _shared = lab_e2e::DOCKER.read().unwrap_or_else(|e| e.into_inner());
    let app = binary().with_file_name("mlops-lab-app");
    assert!(app.is_file(), "{} is not built", app.display());
    let lab = Lab::new();
    // A display of our own.
    let display = format!(":{}", 90 + std::process::id() % 100);
    let _xvfb = Killed(
        group(Command::new("Xvfb"))
            .args([
                display.as_str(),
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb (cargo xtask test installs it)"),
    );
    let shots = binary().parent().unwrap().join("../e2e-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let driver_log = std::fs::File::create(shots.join("tauri-driver.log")).unwrap();
    let webkit = tempfile::tempdir().unwrap();
    let port = free_port();
    let native = free_port();
    let _driver = Killed(
        group(Command::new(tauri_driver()))
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native.to_string(),
            ])
            .env("DISPLAY", &display)
            .env("MLOPS_LAB_HOME", lab.home())
            // The exercises: a workspace of the test's own, the tests' Python.
            .env("MLOPS_LAB_WORKSPACE", lab.workspace())
            .env("MLOPS_LAB_PYTHON", venv().join("bin/python"))
            // The webview's storage (theme, caches) is the test's own too.
            // (beside the lab home: a lab home holds only what the lab makes)
            .env("XDG_DATA_HOME", webkit.path().join("xdg-data"))
            .env("XDG_CACHE_HOME", webkit.path().join("xdg-cache"))
            // Its log (and WebKitWebDriver's) is kept beside the screenshots.
            .stdout(Stdio::from(driver_log.try_clone().unwrap()))
            .stderr(Stdio::from(driver_log))
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "tauri-driver did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    let step = |name: &str| -> Json {
        let out = Command::new(venv().join("bin/python"))
            .arg(repo_root().join("tests/clients/webdriver_app.py"))
            .arg(format!("http://127.0.0.1:{port}"))
            .arg(&app)
            .arg(&shots)
            .arg(name)
            .env("DISPLAY", &display)
            .env("EXERCISE_FOLDER", lab.workspace().join("pandas-clean"))
            .env(
                "EXERCISE_SOLUTION",
                repo_root().join("tests/exercises/pandas-clean/solution/clean.py"),
            )
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let trained = step("train");
    // The Roadmap: every lesson of the course, in four months.
    let course = std::fs::read_dir(repo_root().join("tutorials/course"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "md")
        })
        .count();
    assert_eq!(trained["lessons"], course, "{trained}");
    assert_eq!(trained["months"], 4, "{trained}");
    assert_eq!(
        trained["progress"],
        format!("0 of {course} passed").as_str(),
        "{trained}"
    );
    assert_eq!(trained["m1_02_status"], "not started", "{trained}");
    // The lesson, done in the app: its step ran the real profile (progress
    // over the channel), and its checkpoint passed from the lab's state.
    assert_eq!(
        trained["lesson_title"], "Profile a dataset before you train",
        "{trained}"
    );
    assert!(
        trained["lesson_code_blocks"].as_u64().unwrap() >= 1,
        "{trained}"
    );
    assert_eq!(
        trained["step_result"], "profiled penguins: 344 rows, 8 columns",
        "{trained}"
    );
    assert!(
        trained["step_events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e.as_str().unwrap().starts_with("✓ ")),
        "{trained}"
    );
    assert!(
        trained["check"]
            .as_str()
            .unwrap()
            .starts_with("✓ Checkpoint passed"),
        "{trained}"
    );
    assert_eq!(trained["verdicts"][0], "ok profiled-penguins", "{trained}");
    assert_eq!(trained["lesson_status"], "● passed", "{trained}");
    assert_eq!(trained["hints"], 1, "{trained}");
    assert!(
        trained["quiz"].as_str().unwrap().starts_with("✓ correct"),
        "{trained}"
    );
    // The exercise, checked from the lesson view: per-check results.
    assert!(
        trained["python"].as_str().unwrap().contains("ready"),
        "{trained}"
    );
    assert_eq!(trained["exercise_first"][0], "runs", "{trained}");
    assert!(
        trained["exercise_first"][1]
            .as_str()
            .unwrap()
            .contains("TODO 1: drop the rows with a missing value"),
        "{trained}"
    );
    assert!(
        trained["exercise"]
            .as_str()
            .unwrap()
            .starts_with("✓ Your code passed"),
        "{trained}"
    );
    let checks: Vec<&str> = trained["exercise_checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(
        checks,
        [
            "ok runs",
            "ok output",
            "ok columns",
            "ok rows",
            "ok no-nulls",
            "ok types",
            "ok values"
        ],
        "{trained}"
    );
    let attempts: i64 = lab
        .sqlite()
        .query_row(
            "SELECT COUNT(*) FROM exercise_attempts WHERE exercise_id = 'pandas-clean'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(attempts, 2);
    // All of it is in the lab's SQLite file.
    let status: String = lab
        .sqlite()
        .query_row(
            "SELECT status FROM lessons WHERE lesson_id = 'm1-02-profile'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(status, "passed");
    assert_eq!(trained["stages"], 7, "{trained}");
    // The app runs an MLflow tracking server over its lab and says where.
    let uri = trained["tracking_uri"].as_str().unwrap_or_default();
    assert!(
        uri.starts_with("MLFLOW_TRACKING_URI=http://127.0.0.1:"),
        "{trained}"
    );
    assert_eq!(trained["tracking_health"], "OK", "{trained}");
    // "Export as a Kubeflow pipeline": the YAML shown, explained, and saved.
    assert_eq!(
        trained["kfp_pipeline"], "mlops-lab-auto-mpg-drift",
        "{trained}"
    );
    assert_eq!(
        trained["kfp_parts"], 18,
        "9 parameters, 5 tasks, 4 outputs: {trained}"
    );
    let saved = lab.home().join("exports/kfp/mlops-lab-auto-mpg-drift.yaml");
    let yaml = std::fs::read_to_string(&saved).unwrap();
    assert!(
        trained["kfp_yaml"]
            .as_str()
            .is_some_and(|shown| shown.trim() == yaml.trim()),
        "the YAML shown is the one saved: {trained}"
    );
    assert_eq!(trained["profile_rows"], 12, "{trained}");
    // One histogram per column, drawn by lab-charts.
    assert_eq!(trained["histograms"], 12, "{trained}");
    assert_eq!(trained["runs"], 1, "{trained}");
    // Data, Train and Validate each started and finished, over the channel.
    let events: Vec<&str> = trained["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    for stage in ["data", "train", "validate"] {
        assert!(
            events.iter().any(|e| e.starts_with(&format!("✓ {stage}:"))),
            "{events:?}"
        );
    }
    let run_name = trained["first_run"].as_str().unwrap().to_string();
    assert!(
        trained["train_result"]
            .as_str()
            .unwrap()
            .contains(&run_name)
    );
    // The run is in the real SQLite file.
    let n: i64 = lab
        .sqlite()
        .query_row(
            "SELECT COUNT(*) FROM runs WHERE status = 'FINISHED'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 1);
    let again = step("restart");
    assert_eq!(again["m1_02_status"], "passed", "{again}");
    assert_eq!(
        again["progress"],
        format!("1 of {course} passed").as_str(),
        "{again}"
    );
    // Continue: the first lesson not done (none is in progress).
    assert_eq!(again["continue"], "#lesson/m1-01-whole-loop", "{again}");
    // The progress report, saved from the Roadmap: the passed lesson in it.
    let saved = lab.home().join("reports/progress.html");
    assert_eq!(
        again["report_html"],
        saved.display().to_string().as_str(),
        "{again}"
    );
    let page = std::fs::read_to_string(&saved).unwrap();
    assert!(
        page.contains("Profile a dataset before you train") && page.contains("1 of "),
        "{page}"
    );
    assert_eq!(again["runs"], 1);
    assert_eq!(again["first_run"], run_name.as_str());
    // Run detail: the learning curve and the confusion matrix.
    assert_eq!(again["detail_charts"], 2, "{again}");
    assert_eq!(again["models"], "Models");
    assert_eq!(again["deployments"], "Deployments");
    assert_eq!(again["monitoring"], "Monitoring");
    for view in [
        "roadmap",
        "lesson",
        "roadmap-after-restart",
        "home",
        "data",
        "experiments",
        "experiments-after-restart",
        "run-detail",
        "models",
        "deployments",
        "monitoring",
    ] {
        assert!(
            shots.join(format!("{view}.png")).is_file(),
            "{view} screenshot"
        );
    }
}
