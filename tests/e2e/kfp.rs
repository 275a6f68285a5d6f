//! `mlops-lab export kfp`: the Kubeflow pipeline checked by KFP's own SDK
//! and run by KFP's local DockerRunner with the steps image the export
//! builds; its model must be the one `mlops-lab train` gives on the same
//! data and seed, byte for byte.

use std::process::Command;

use lab_e2e::{Lab, repo_root, venv};
use serde_json::Value;

fn host_train(lab: &Lab, seed: &str) -> Value {
    lab.json(&[
        "train",
        "--dataset",
        "auto-mpg",
        "--scenario",
        "auto-mpg-drift",
        "--model",
        "linear-regression",
        "--seed",
        seed,
    ])
}

#[test]
fn kubeflow_pipeline_runs_under_kfp_local_and_trains_what_the_lab_trains() {
    assert!(
        crate::docker::docker_answers(),
        "a Docker daemon is needed for this test: run `cargo xtask test`, which installs and starts it"
    );
    // Exclusive: the pipeline runs `mlops-lab/steps:VERSION` by its tag,
    // which the app test builds and removes too.
    let _exclusive = lab_e2e::DOCKER.write().unwrap_or_else(|e| e.into_inner());
    let lab = Lab::new();
    let file = lab.home().join("kfp/pipeline.yaml");
    let export = lab.json(&["export", "kfp", "--out", file.to_str().unwrap()]);
    assert_eq!(export["pipeline"], "mlops-lab-auto-mpg-drift", "{export}");
    let image = export["image"].as_str().unwrap();
    assert_eq!(export["image_built"]["tag"], image, "{export}");
    let yaml = std::fs::read_to_string(&file).unwrap();
    assert_eq!(yaml, export["yaml"].as_str().unwrap());
    assert!(yaml.starts_with("# PIPELINE DEFINITION\n"), "{yaml}");
    let parts = export["parts"].as_array().unwrap();
    for task in ["data", "train", "validate", "register", "package"] {
        assert!(
            parts
                .iter()
                .any(|p| p["kind"] == "task" && p["name"] == task && p["explanation"] != ""),
            "no explanation for the {task} task: {export}"
        );
    }
    // The steps image: FROM scratch, no entrypoint (KFP appends the
    // command to it), the sample data inside.
    let inspect = Command::new("docker")
        .args([
            "image",
            "inspect",
            "--format",
            "{{json .Config.Entrypoint}} {{json .Config.Env}} {{len .RootFS.Layers}}",
            image,
        ])
        .output()
        .unwrap();
    let inspect = String::from_utf8_lossy(&inspect.stdout);
    assert!(inspect.starts_with("null "), "{inspect}");
    assert!(
        inspect.contains("MLOPS_LAB_SAMPLE_DATA=/sample-data"),
        "{inspect}"
    );

    let work = lab.home().join("kfp-work");
    std::fs::create_dir_all(&work).unwrap();
    let check = Command::new(venv().join("bin/python"))
        .arg(repo_root().join("tests/clients/kfp_check.py"))
        .arg(&file)
        .arg(&work)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&check.stderr);
    let stdout = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "{stdout}\n{stderr}");
    let logs = format!("{stdout}{stderr}");
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(work.join("result.json")).unwrap()).unwrap();

    assert_eq!(
        v["executors"],
        serde_json::json!([
            "exec-data",
            "exec-package",
            "exec-register",
            "exec-train",
            "exec-validate"
        ])
    );
    assert_eq!(v["images"], serde_json::json!([image]));
    assert_eq!(
        v["dependent_tasks"],
        serde_json::json!({
            "data": [], "train": ["data"], "validate": ["train"],
            "register": ["train", "validate"], "package": ["register"]
        })
    );
    assert_eq!(
        v["planted_rejected"], true,
        "strict parsing must refuse a misspelt field"
    );
    assert_eq!(v["name"], "mlops-lab-auto-mpg-drift");
    assert_eq!(
        v["inputs"],
        serde_json::json!([
            "alias",
            "dataset",
            "gate",
            "hyperparams",
            "model",
            "model_name",
            "scenario",
            "seed",
            "test_fraction"
        ])
    );

    // Same data and seed: the same metrics and the same model bytes as
    // `mlops-lab train`; another seed gives another split, as on the host.
    for seed in ["42", "7"] {
        let host = host_train(&lab, seed);
        let run = &v["runs"][seed];
        assert_eq!(
            run["metrics"], host["metrics"],
            "seed {seed}: {run} vs {host}"
        );
        let ours = std::fs::read(lab.home().join(host["artifact_path"].as_str().unwrap())).unwrap();
        let theirs = std::fs::read(run["model"].as_str().unwrap()).unwrap();
        assert!(
            ours == theirs,
            "seed {seed}: the pipeline's model differs from train's"
        );
        assert_eq!(run["image_tag"], "mlops-lab/auto-mpg-mpg:v1");
    }
    assert_ne!(v["runs"]["42"]["metrics"], v["runs"]["7"]["metrics"]);

    // A gate no model passes stops the run at validate.
    let gate_run = v["gate_run"].as_str().unwrap();
    assert!(gate_run.contains("FAILURE"), "{gate_run}");
    assert_eq!(
        v["gate_run_tasks"],
        serde_json::json!(["data", "train", "validate"]),
        "register and package must not run after a failed gate"
    );
    assert!(
        logs.contains("validation gate failed: r2 0.8773 (needs >= 0.99): FAILED"),
        "{logs}"
    );

    // The package step's context builds an image that serves the model.
    assert_eq!(v["image_ready"], 200);
    assert_eq!(v["image_model"]["name"], "auto-mpg-mpg", "{v}");
}

#[test]
fn export_kfp_refuses_what_it_cannot_build() {
    let lab = Lab::new();
    let bad = |args: &[&str], want: &str| {
        let out = lab
            .cmd(args)
            .env("MLOPS_LAB_STEPS_BIN", "/bin/sh")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(err.contains(want), "{args:?}: {err}");
    };
    bad(
        &["export", "kfp", "--scenario", "nope", "--no-image"],
        "nope",
    );
    bad(
        &[
            "export",
            "kfp",
            "--dataset",
            "iris",
            "--model",
            "nope",
            "--no-image",
        ],
        "unknown model",
    );
    bad(
        &[
            "export",
            "kfp",
            "--dataset",
            "iris",
            "--scenario",
            "auto-mpg-drift",
        ],
        "cannot be used with",
    );
    // Building the steps image needs a static mlops-lab.
    bad(
        &["export", "kfp", "--dataset", "iris"],
        "is not a statically linked Linux executable",
    );
    // The YAML alone needs neither the binary nor Docker.
    let out = lab.home().join("iris.yaml");
    let ok = lab
        .cmd(&[
            "export",
            "kfp",
            "--dataset",
            "iris",
            "--no-image",
            "--out",
            out.to_str().unwrap(),
        ])
        .env("MLOPS_LAB_STEPS_BIN", "/bin/sh")
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let yaml = std::fs::read_to_string(&out).unwrap();
    assert!(yaml.contains("name: mlops-lab-iris\n"), "{yaml}");
    assert!(yaml.contains("defaultValue: logistic-regression"), "{yaml}");
}
