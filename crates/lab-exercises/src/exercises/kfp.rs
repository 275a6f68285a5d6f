//! A Kubeflow component (Month 4): the learner writes a `@dsl.component`
//! step and a pipeline around it, and compiles it to `pipeline.yaml`. The
//! lab validates that YAML (KFP's own loader, then the IR's structure),
//! runs it with KFP's local runner (`SubprocessRunner`, in the lab's Python,
//! with `MLFLOW_TRACKING_URI` pointing at the lab's tracking server), and
//! checks that the step's output reached the tracking server.

use std::time::UNIX_EPOCH;

use serde_json::Value as J;

use super::{
    Ctx, Exercise, exception_lines, explain_error, last_error_line_of, num, run_script_with,
    stopped, tracking,
};
use crate::check::Checks;

pub const ID: &str = "kfp-component";
pub const EXPERIMENT: &str = "exercise-kfp";
const SCRIPT: &str = "pipeline.py";
const YAML: &str = "pipeline.yaml";
pub const PIPELINE: &str = "wine-pipeline";
/// The starter's component (C = 1.0) reaches 0.7350.
pub const MIN_ACCURACY: f64 = 0.73;

pub const EXERCISE: Exercise = Exercise {
    id: ID,
    lesson: "m4-18-kubeflow",
    title: "A Kubeflow component of your own, run with KFP's local runner",
    files: &[
        (
            "README.md",
            include_str!("../../starters/kfp-component/README.md"),
        ),
        (
            "pipeline.py",
            include_str!("../../starters/kfp-component/pipeline.py"),
        ),
    ],
    packages: &["kfp", "pandas", "scikit-learn", "mlflow-skinny"],
    checks: &["runs", "compiled", "valid", "local-run", "tracked"],
    run: check,
};

/// KFP's own loader, then the document as JSON for the lab to read.
const VALIDATOR: &str = r#"
import json
import yaml
from kfp import components
with open("pipeline.yaml") as f:
    doc = next(yaml.safe_load_all(f))
components.load_component_from_file("pipeline.yaml")
print(json.dumps(doc))
"#;

/// The lab's own measure of the starter's model for the logged C and
/// max_iter: what the step should have output.
const MEASURE: &str = r#"
import json, sys
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
df = pd.read_csv("data/wine-quality-red.csv")
with open("data/split.json") as f:
    split = json.load(f)
X, y = df.drop(columns=["quality"]), df["quality"] >= 6
model = make_pipeline(StandardScaler(), LogisticRegression(C=float(sys.argv[1]), max_iter=int(float(sys.argv[2]))))
model.fit(X.iloc[split["train"]], y.iloc[split["train"]])
print(json.dumps(float(accuracy_score(y.iloc[split["test"]], model.predict(X.iloc[split["test"]])))))
"#;

/// KFP's local runner on the compiled YAML (not on the learner's Python).
const RUNNER: &str = r#"
import json
import os
from kfp import components, local
root = os.path.abspath("kfp-runs")
os.makedirs(root, exist_ok=True)
local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=root)
pipeline = components.load_component_from_file("pipeline.yaml")
task = pipeline(data_dir=os.path.abspath("data"))
print("LAB-KFP-OUTPUT " + json.dumps(task.output))
"#;

fn check(ctx: &Ctx, checks: &mut Checks) {
    if tracking::names_its_own_uri(ctx, checks, SCRIPT) {
        return;
    }
    let started = tracking::now_ms();
    // A compile, not a run: no tracking server yet.
    if run_script_with(ctx, checks, SCRIPT, &[], &[]).is_none() {
        return;
    }
    let Some(doc) = compiled(ctx, checks, started) else {
        return;
    };
    if !valid(checks, &doc) {
        return;
    }
    let Some(server) = tracking::start_server(ctx, checks, "local-run") else {
        return;
    };
    let uri = server.uri();
    if let Some(output) = local_run(ctx, checks, &uri) {
        tracked(ctx, checks, started, output);
    }
    server.stop();
}

/// `pipeline.yaml`, written by this check's run, loaded by KFP and read.
fn compiled(ctx: &Ctx, checks: &mut Checks, started: i64) -> Option<J> {
    let path = ctx.dir.join(YAML);
    let ran = format!("read {YAML}");
    let expected = format!("{YAML}, written by python {SCRIPT}");
    let modified = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_millis() as i64);
    match modified {
        None => {
            checks.fail(
                "compiled",
                ran,
                expected,
                format!("no {YAML} in the folder"),
                format!(
                    "compile it in {SCRIPT}: compiler.Compiler().compile(wine_pipeline, \"{YAML}\") under `if __name__ == \"__main__\":`"
                ),
            );
            return None;
        }
        // File times can be a little coarser than the clock.
        Some(t) if t + 2000 < started => {
            checks.fail(
                "compiled",
                ran,
                expected,
                format!("{YAML} is older than this check: {SCRIPT} did not write it"),
                format!(
                    "compile it in {SCRIPT} itself: compiler.Compiler().compile(wine_pipeline, \"{YAML}\") under `if __name__ == \"__main__\":`"
                ),
            );
            return None;
        }
        Some(_) => {}
    }
    let mut cmd = ctx.python.command();
    cmd.arg("-c").arg(VALIDATOR);
    let done = match ctx.run(cmd) {
        Ok(d) => d,
        Err(e) => {
            checks.fail(
                "compiled",
                ran,
                expected,
                e.to_string(),
                "check the lab's Python: mlops-lab python doctor",
            );
            return None;
        }
    };
    let doc: Option<J> = done
        .success()
        .then(|| serde_json::from_str(done.stdout.trim()).ok())
        .flatten();
    let Some(doc) = doc else {
        let last = last_error_line_of(&done.tail(30));
        checks.fail(
            "compiled",
            format!("{ran}; kfp.components.load_component_from_file(\"{YAML}\")"),
            expected,
            format!("KFP cannot load it: {last}"),
            "write it with KFP's compiler only (compiler.Compiler().compile), not by hand",
        );
        return None;
    };
    let size = std::fs::metadata(&path).map_or(0, |m| m.len());
    checks.pass(
        "compiled",
        format!("{ran}; kfp.components.load_component_from_file(\"{YAML}\")"),
        expected,
        format!("{size} bytes, loaded by KFP"),
    );
    Some(doc)
}

/// The IR's structure: what a cluster's KFP backend would run.
fn valid(checks: &mut Checks, doc: &J) -> bool {
    let ran = format!("read {YAML}'s pipeline spec (KFP v2 IR)");
    let expected = format!(
        "schema 2.1.0; pipeline {PIPELINE}; inputs data_dir (string), C (double), max_iter (integer); one float output; a task running a Python @dsl.component"
    );
    let mut problems: Vec<(String, String)> = vec![];
    let mut problem = |got: String, fix: &str| problems.push((got, fix.to_string()));
    if doc["schemaVersion"] != "2.1.0" {
        problem(
            format!("schemaVersion {}", doc["schemaVersion"]),
            "compile with kfp 2.17.3's compiler (the lab's Python has it)",
        );
    }
    let name = doc["pipelineInfo"]["name"].as_str().unwrap_or("");
    if name != PIPELINE {
        problem(
            format!("pipeline name `{name}`"),
            "name it: @dsl.pipeline(name=\"wine-pipeline\")",
        );
    }
    let inputs = &doc["root"]["inputDefinitions"]["parameters"];
    for (param, kind) in [
        ("data_dir", "STRING"),
        ("C", "NUMBER_DOUBLE"),
        ("max_iter", "NUMBER_INTEGER"),
    ] {
        let got = inputs[param]["parameterType"].as_str();
        if got != Some(kind) {
            problem(
                format!("pipeline input {param}: {}", got.unwrap_or("not declared")),
                "declare the parameters with these types in both functions: def wine_pipeline(data_dir: str, C: float = 1.0, max_iter: int = 1000) -> float, and def train_wine(data_dir: str, C: float, max_iter: int) -> float",
            );
        }
    }
    let outputs = doc["root"]["outputDefinitions"]["parameters"]
        .as_object()
        .map(|o| {
            o.values()
                .map(|v| v["parameterType"].as_str().unwrap_or("").to_string())
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    if outputs != ["NUMBER_DOUBLE"] {
        problem(
            format!("pipeline outputs: {outputs:?}"),
            "return the step's accuracy from the pipeline: `-> float` on wine_pipeline and train_wine, and `return task.output`",
        );
    }
    // The tasks, their components and executors: a Python component runs
    // KFP's executor on the function's source.
    let tasks = doc["root"]["dag"]["tasks"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let python_task = tasks.values().find_map(|t| {
        let comp = t["componentRef"]["name"].as_str()?;
        let exec = doc["components"][comp]["executorLabel"].as_str()?;
        let container = &doc["deploymentSpec"]["executors"][exec]["container"];
        let command = container["command"].to_string();
        let image = container["image"].as_str()?;
        command.contains("kfp.dsl.executor_main").then(|| {
            format!(
                "{} ({image})",
                t["taskInfo"]["name"].as_str().unwrap_or(comp)
            )
        })
    });
    if python_task.is_none() {
        problem(
            format!("{} tasks, none running a Python component", tasks.len()),
            "call the @dsl.component function inside the pipeline: task = train_wine(data_dir=data_dir, C=C, max_iter=max_iter)",
        );
    }
    if let Some((got, fix)) = problems.into_iter().next() {
        checks.fail("valid", ran, expected, got, fix);
        return false;
    }
    checks.pass(
        "valid",
        ran,
        expected,
        format!(
            "schema 2.1.0, {}, pipeline {PIPELINE}, {} task(s): {}",
            doc["sdkVersion"].as_str().unwrap_or("kfp"),
            tasks.len(),
            python_task.unwrap_or_default()
        ),
    );
    true
}

/// Run the YAML with KFP's local runner; the pipeline's output.
fn local_run(ctx: &Ctx, checks: &mut Checks, uri: &str) -> Option<f64> {
    let ran = format!(
        "kfp.local.SubprocessRunner: load_component_from_file(\"{YAML}\")(data_dir=\"data/\"), with MLFLOW_TRACKING_URI={uri}"
    );
    let expected = format!("the pipeline succeeds and outputs the accuracy (≥ {MIN_ACCURACY})");
    let mut cmd = ctx.python.command();
    cmd.arg("-c")
        .arg(RUNNER)
        .envs(tracking::client_env(uri))
        // The component's `pip install` prelude runs in the lab's Python:
        // it may find the pinned packages there, never fetch or change any.
        .env("PIP_NO_INDEX", "1")
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1");
    let done = match ctx.run(cmd) {
        Ok(d) => d,
        Err(e) => {
            checks.fail(
                "local-run",
                ran,
                expected,
                e.to_string(),
                "check the lab's Python: mlops-lab python doctor",
            );
            return None;
        }
    };
    let output = done
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("LAB-KFP-OUTPUT "))
        .and_then(|v| serde_json::from_str::<J>(v.trim()).ok());
    if !done.success() || output.is_none() {
        let (got, fix) = stopped(&done, ctx.limit).unwrap_or_else(|| {
            // The task's traceback is in the runner's log; the component's
            // own error is the first exception after KFP's executor starts.
            let log = format!("{}\n{}", done.stdout, done.stderr);
            let error = exception_lines(&log)
                .find(|l| {
                    !l.starts_with("RuntimeError: Pipeline") && !l.starts_with("RuntimeError: Task")
                })
                .map(str::to_string)
                .unwrap_or_else(|| last_error_line_of(&done.tail(30)));
            let fix = if log.contains("No matching distribution found")
                || log.contains("Could not find a version")
            {
                "the local runner installs nothing: packages_to_install must name packages the lab's Python already holds, at its versions (mlops-lab python doctor lists them)".to_string()
            } else if error.starts_with("NameError") {
                "a component runs alone (on a cluster, in its own container): KFP ships the function's source only, so import what it uses inside the function, not at the top of the file".to_string()
            } else {
                explain_error(&error, SCRIPT)
            };
            (format!("the pipeline failed: {error}"), fix)
        });
        checks.fail("local-run", ran, expected, got, fix);
        return None;
    }
    let output = output.unwrap_or_default();
    let Some(acc) = output.as_f64().filter(|a| *a >= MIN_ACCURACY) else {
        checks.fail(
            "local-run",
            ran,
            expected,
            format!("output {output}"),
            format!(
                "return the test accuracy from train_wine (at least {MIN_ACCURACY}; C = 1.0 gives 0.7350) and the task's output from the pipeline"
            ),
        );
        return None;
    };
    checks.pass(
        "local-run",
        ran,
        expected,
        format!("succeeded in {} ms, output {}", done.millis, num(acc)),
    );
    Some(acc)
}

/// The step's output in the lab's tracking store.
fn tracked(ctx: &Ctx, checks: &mut Checks, started: i64, output: f64) {
    let ran = format!("the lab's store: runs of experiment {EXPERIMENT} since the check began");
    let expected = format!(
        "a run with params C and max_iter and metric accuracy = the step's output ({})",
        num(output)
    );
    let runs = match tracking::runs_since(ctx, EXPERIMENT, started) {
        Ok(r) => r,
        Err(got) => {
            checks.fail(
                "tracked",
                ran,
                expected,
                got,
                format!(
                    "log from inside train_wine: mlflow.set_experiment(\"{EXPERIMENT}\"), then in `with mlflow.start_run():` mlflow.log_params and mlflow.log_metric(\"accuracy\", accuracy)"
                ),
            );
            return;
        }
    };
    let found = &runs[0];
    let acc = found.metrics.get("accuracy").copied();
    let (logged, missing) = tracking::logged(found, "accuracy", &["C", "max_iter"]);
    let got = format!("run {}: {logged}", found.run_id);
    if !missing.is_empty() {
        checks.fail(
            "tracked",
            ran,
            expected,
            got,
            format!(
                "log the step's parameters: mlflow.log_params({{\"C\": C, \"max_iter\": max_iter}}) (missing {})",
                missing.join(", ")
            ),
        );
        return;
    }
    if acc.is_none_or(|a| (a - output).abs() > 1e-9) {
        checks.fail(
            "tracked",
            ran,
            expected,
            got,
            "log the accuracy the step returns: mlflow.log_metric(\"accuracy\", accuracy), then return that same accuracy",
        );
        return;
    }
    // The lab measures the starter's model itself for the logged params:
    // the step passes on what it computed, not on what it claims.
    let (c, max_iter) = (&found.params["C"], &found.params["max_iter"]);
    let mut cmd = ctx.python.command();
    cmd.arg("-c").arg(MEASURE).arg(c).arg(max_iter);
    let measured = ctx.run(cmd).ok().and_then(|d| {
        d.success()
            .then(|| serde_json::from_str::<f64>(d.stdout.trim()).ok())
            .flatten()
    });
    match measured {
        Some(m) if (m - output).abs() <= 1e-9 => {
            checks.pass(
                "tracked",
                ran,
                expected,
                format!("{got}; the lab measures {} for C = {c}, max_iter = {max_iter}", num(m)),
            );
        }
        Some(m) => checks.fail(
            "tracked",
            ran,
            expected,
            format!("{got}; the lab measures {} for C = {c}, max_iter = {max_iter}", num(m)),
            "output and log the accuracy of the model the step fits (the scaled logistic regression with the pipeline's C and max_iter), measured on the test rows",
        ),
        None => checks.fail(
            "tracked",
            ran,
            expected,
            format!("{got}; the lab could not measure C = {c}, max_iter = {max_iter}"),
            "log C and max_iter as numbers: mlflow.log_params({\"C\": C, \"max_iter\": max_iter})",
        ),
    }
}
