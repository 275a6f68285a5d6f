//! `mlops-lab export k8s`: the manifests checked by kubernetes-validate
//! (strict, two Kubernetes versions), the InferenceService by KServe's SDK,
//! and against what the deployed container really serves.

use std::process::Command;

use lab_e2e::{Lab, repo_root, venv};
use serde_json::Value;

fn yaml_value(path: &std::path::Path, needle: &str) -> Vec<String> {
    // The few scalars the test compares, read without a YAML parser: the
    // Python check parses the files properly.
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter_map(|l| {
            l.trim()
                .trim_start_matches("- ")
                .strip_prefix(needle)
                .map(|v| v.trim().trim_matches('\'').trim_matches('"').to_string())
        })
        .collect()
}

#[test]
fn k8s_manifests_validate_and_match_the_running_container() {
    assert!(
        crate::docker::docker_answers(),
        "a Docker daemon is needed for this test: run `cargo xtask test`, which installs and starts it"
    );
    let _shared = lab_e2e::DOCKER.read().unwrap_or_else(|e| e.into_inner());
    let lab = Lab::new();
    let train = lab.json(&[
        "train",
        "--dataset",
        "iris",
        "--model",
        "logistic-regression",
    ]);
    let run_id = train["run_id"].as_str().unwrap();
    lab.run(&["models", "register", run_id, "--name", "Iris_Classifier"]);
    let out = lab.home().join("k8s-out");
    let export = lab.json(&[
        "export",
        "k8s",
        "Iris_Classifier:1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(
        export["name"], "iris-classifier",
        "a valid Kubernetes name: {export}"
    );
    assert_eq!(export["image"], "mlops-lab/iris_classifier:v1");
    for f in [
        "deployment.yaml",
        "service.yaml",
        "hpa.yaml",
        "pdb.yaml",
        "networkpolicy.yaml",
        "serviceaccount.yaml",
        "inferenceservice.yaml",
        "README.md",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let readme = std::fs::read_to_string(out.join("README.md")).unwrap();
    assert!(
        readme.contains("kind load docker-image mlops-lab/iris_classifier:v1"),
        "{readme}"
    );
    assert!(readme.contains("minikube image load mlops-lab/iris_classifier:v1"));

    // The real tools.
    let venv = venv();
    let check = Command::new(venv.join("bin/python"))
        .arg(repo_root().join("tests/clients/k8s_check.py"))
        .arg(&out)
        .arg(venv.join("kserve-models"))
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    let v: Value = serde_json::from_slice(&check.stdout).unwrap();
    assert_eq!(v["errors"], serde_json::json!([]), "{v}");
    assert_eq!(
        v["validated"].as_array().unwrap().len(),
        12,
        "6 kinds × 2 versions: {v}"
    );
    assert_eq!(
        v["planted_rejected"], true,
        "strict validation must reject a misspelt field"
    );
    assert_eq!(v["isvc_roundtrip"], true, "{}", v["isvc_diff"]);
    assert_eq!(
        v["isvc_types"],
        serde_json::json!(["V1beta1InferenceService", "V1Container"])
    );
    assert_eq!(v["isvc_protocol"], serde_json::json!(["v2"]));

    // What the manifests say is what the deployed container serves.
    let d = lab.json(&["deploy", "Iris_Classifier:1"]);
    assert_eq!(d["runtime"], "docker", "{d}");
    assert_eq!(
        d["image_tag"], export["image"],
        "same image as deploy builds"
    );
    let dep = out.join("deployment.yaml");
    assert_eq!(
        yaml_value(&dep, "image:"),
        vec![d["image_tag"].as_str().unwrap().to_string()]
    );
    let port = yaml_value(&dep, "containerPort:");
    let inspect = Command::new("docker")
        .args([
            "image",
            "inspect",
            "--format",
            "{{json .Config.ExposedPorts}}",
        ])
        .arg(d["image_tag"].as_str().unwrap())
        .output()
        .unwrap();
    let exposed = String::from_utf8_lossy(&inspect.stdout);
    assert!(
        exposed.contains(&format!("\"{}/tcp\"", port[0])),
        "image exposes {exposed}, manifest says {port:?}"
    );
    let user = Command::new("docker")
        .args(["image", "inspect", "--format", "{{.Config.User}}"])
        .arg(d["image_tag"].as_str().unwrap())
        .output()
        .unwrap();
    let uid = yaml_value(&dep, "runAsUser:");
    assert_eq!(
        String::from_utf8_lossy(&user.stdout).trim(),
        format!("{}:{}", uid[0], uid[0])
    );
    let endpoint = d["endpoint"].as_str().unwrap();
    let mut paths = yaml_value(&dep, "path:");
    paths.extend(yaml_value(&dep, "prometheus.io/path:"));
    assert_eq!(paths.len(), 3, "two probes and the scrape path: {paths:?}");
    for p in paths {
        let status = Command::new(venv.join("bin/python"))
            .args([
                "-c",
                "import sys, urllib.request\nprint(urllib.request.urlopen(sys.argv[1], timeout=10).status)",
                &format!("{endpoint}{p}"),
            ])
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&status.stdout).trim(),
            "200",
            "GET {p} on the container"
        );
    }

    // A name Kubernetes would refuse (a leading digit) becomes a valid one.
    lab.run(&["models", "register", run_id, "--name", "2024_wine.v2-"]);
    let odd = lab.json(&[
        "export",
        "k8s",
        "2024_wine.v2-",
        "--out",
        lab.home().join("odd").to_str().unwrap(),
    ]);
    assert_eq!(odd["name"], "model-2024-wine-v2", "{odd}");
    assert_eq!(odd["image"], "mlops-lab/2024_wine.v2:v1", "{odd}");

    // An unknown model is an error, not an empty export.
    let bad = lab
        .cmd(&["export", "k8s", "no-such-model"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
}
