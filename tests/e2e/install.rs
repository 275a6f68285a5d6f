//! The `.deb` a workshop hands out (`cargo xtask bundle`): unpacked as apt
//! lays it out, run with no cargo on `PATH`, no source tree and an empty
//! cache, its own CLI trains, registers and deploys a model to a real
//! container from the static binaries inside the package.

use std::path::Path;
use std::process::Command;

use lab_e2e::DOCKER;
use serde_json::Value as Json;

/// The unpacked package's CLI, in a world without cargo: a `PATH` of
/// system folders only, a fresh `HOME` (so `~/.cache/mlops-lab/bin` is
/// empty) and the lab home under it.
fn installed(root: &Path, home: &Path, args: &[&str]) -> std::process::Output {
    Command::new(root.join("usr/bin/mlops-lab"))
        .args(args)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("HOME", home)
        .env("MLOPS_LAB_HOME", home.join("lab"))
        .output()
        .unwrap()
}

fn json(root: &Path, home: &Path, args: &[&str]) -> Json {
    let mut all = args.to_vec();
    all.push("--json");
    let out = installed(root, home, &all);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// The lab the test made goes, whatever happens.
struct Reset<'a>(&'a Path, &'a Path);

impl Drop for Reset<'_> {
    fn drop(&mut self) {
        let _ = installed(self.0, self.1, &["reset", "--yes"]);
    }
}

#[test]
fn the_deb_deploys_a_model_to_a_container_without_cargo() {
    crate::monitor::need_docker();
    let _shared = DOCKER.read().unwrap_or_else(|e| e.into_inner());
    let deb = std::env::var_os("MLOPS_LAB_DEB")
        .expect("MLOPS_LAB_DEB names the .deb to install: run this through `cargo xtask test`");
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let out = Command::new("dpkg-deb")
        .arg("-x")
        .arg(&deb)
        .arg(&root)
        .output()
        .unwrap();
    assert!(out.status.success(), "dpkg-deb: {out:?}");

    // What the package holds: the app, its CLI, both static binaries, data,
    // the course.
    for f in [
        "usr/bin/mlops-lab-app",
        "usr/bin/mlops-lab",
        "usr/bin/lab-serve",
        "usr/bin/lab-gateway",
        "usr/share/mlops-lab/sample-data/catalog.toml",
        "usr/share/mlops-lab/tutorials/course/m1-02-profile.md",
    ] {
        assert!(root.join(f).is_file(), "the .deb has no /{f}");
    }
    for f in ["lab-serve", "lab-gateway"] {
        assert!(
            lab_pipeline::is_static_elf(&root.join("usr/bin").join(f)).unwrap(),
            "/usr/bin/{f} is not static"
        );
    }
    // No cargo in that world.
    let cargo = Command::new("sh")
        .args(["-c", "command -v cargo"])
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .output()
        .unwrap();
    assert!(!cargo.status.success(), "cargo is on the system PATH");

    let _reset = Reset(&root, &home);
    // The course ships with it (found beside the CLI, in ../share).
    let roadmap = json(&root, &home, &["lessons", "list"]);
    assert!(roadmap.as_array().unwrap().len() >= 13, "{roadmap}");
    let run = json(
        &root,
        &home,
        &[
            "train",
            "--dataset",
            "iris",
            "--model",
            "logistic-regression",
        ],
    );
    let run_id = run["run_id"].as_str().unwrap();
    json(
        &root,
        &home,
        &["models", "register", run_id, "--name", "iris-deb"],
    );
    let d = json(&root, &home, &["deploy", "iris-deb:1"]);
    assert_eq!(d["runtime"], "docker", "{d}");
    let endpoint = d["endpoint"].as_str().unwrap();

    // The container answers a prediction over MLflow's scoring protocol.
    let body = r#"{"dataframe_split": {"columns": ["sepal_length", "sepal_width", "petal_length", "petal_width"], "data": [[5.1, 3.5, 1.4, 0.2]]}}"#;
    let (status, answer) = crate::docker::post(endpoint, "/invocations", "application/json", body);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["predictions"][0], "setosa", "{answer}");
}
