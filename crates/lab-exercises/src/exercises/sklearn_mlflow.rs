//! scikit-learn + MLflow (Months 2–3): train a wine classifier on the
//! lab's split and log it, with MLflow's own client, to the lab's tracking
//! server. The lab reads the run and the registered version from its own
//! store, and loads the model through `models:/` in a fresh Python to
//! measure it itself.

use super::{Ctx, Exercise, num, run_script_with, tracking};
use crate::check::Checks;

pub const ID: &str = "sklearn-mlflow";
pub const EXPERIMENT: &str = "exercise-wine";
pub const MODEL: &str = "wine-yours";
const SCRIPT: &str = "train.py";
/// The lab's own logistic regression on this split: 0.7400.
pub const MIN_ACCURACY: f64 = 0.73;

pub const EXERCISE: Exercise = Exercise {
    id: ID,
    lesson: "m3-15-mlflow-client",
    title: "A scikit-learn classifier logged and registered with MLflow's client",
    files: &[
        (
            "README.md",
            include_str!("../../starters/sklearn-mlflow/README.md"),
        ),
        (
            "train.py",
            include_str!("../../starters/sklearn-mlflow/train.py"),
        ),
    ],
    packages: &["pandas", "scikit-learn", "mlflow-skinny"],
    checks: &["runs", "run", "source", "logged", "registered", "loads"],
    run: check,
};

/// The test rows' true labels, from the shipped data and split.
fn test_labels(ctx: &Ctx) -> std::result::Result<Vec<String>, String> {
    Ok(super::wine::test_rows(ctx.lab)?
        .good
        .into_iter()
        .map(|g| if g { "good" } else { "not-good" }.to_string())
        .collect())
}

const LOADER: &str = r#"
import json, sys
import mlflow.pyfunc
import pandas as pd
model = mlflow.pyfunc.load_model(sys.argv[1])
df = pd.read_csv("data/wine-quality-red.csv")
with open("data/split.json") as f:
    test = json.load(f)["test"]
X = df.drop(columns=["quality"]).iloc[test]
print(json.dumps([str(p) for p in model.predict(X)]))
"#;

fn check(ctx: &Ctx, checks: &mut Checks) {
    if tracking::names_its_own_uri(ctx, checks, SCRIPT) {
        return;
    }
    let Some(server) = tracking::start_server(ctx, checks, "runs") else {
        return;
    };
    let uri = server.uri();
    let started = tracking::now_ms();
    if run_script_with(ctx, checks, SCRIPT, &[], &tracking::client_env(&uri)).is_some() {
        finish(ctx, checks, started, &uri);
    }
    server.stop();
}

fn finish(ctx: &Ctx, checks: &mut Checks, started: i64, uri: &str) {
    let lab = ctx.lab;
    // run: a run in the experiment, made during this check
    let ran = format!("the lab's store: runs of experiment {EXPERIMENT} since the check began");
    let runs = match tracking::runs_since(ctx, EXPERIMENT, started) {
        Ok(r) => r,
        Err(got) => {
            checks.fail(
                "run",
                ran,
                format!("a run in {EXPERIMENT}"),
                got,
                format!(
                    "mlflow.set_experiment(\"{EXPERIMENT}\") before mlflow.start_run(), and log inside `with mlflow.start_run():`"
                ),
            );
            return;
        }
    };
    let found = &runs[0];
    checks.pass(
        "run",
        ran,
        format!("a run in {EXPERIMENT}"),
        format!("run {} ({:?})", found.run_id, found.status),
    );

    // source: made by the learner's script
    let source = found
        .tags
        .get("mlflow.source.name")
        .cloned()
        .unwrap_or_default();
    let ran = "the run's mlflow.source.name tag".to_string();
    if !source.ends_with(SCRIPT) {
        checks.fail(
            "source",
            ran,
            format!("…/{SCRIPT}"),
            if source.is_empty() { "no source tag".into() } else { source },
            format!("log from {SCRIPT} itself with MLflow's client (it sets the tag); do not set mlflow.source.name by hand"),
        );
        return;
    }
    checks.pass("source", ran, format!("…/{SCRIPT}"), source);

    // logged: parameters and the accuracy
    let ran = "the run's params and metrics".to_string();
    let acc = found.metrics.get("accuracy").copied();
    let want = format!("params C and max_iter; metric accuracy ≥ {MIN_ACCURACY}");
    let (got, missing) = tracking::logged(found, "accuracy", &["C", "max_iter"]);
    if !missing.is_empty() {
        checks.fail(
            "logged",
            ran,
            want,
            got,
            format!(
                "log the model's parameters: mlflow.log_params({{\"C\": 1.0, \"max_iter\": 1000}}) (missing {})",
                missing.join(", ")
            ),
        );
        return;
    }
    let Some(acc) = acc.filter(|a| *a >= MIN_ACCURACY) else {
        let fix = if acc.is_none() {
            "mlflow.log_metric(\"accuracy\", accuracy_score(y_test, model.predict(X_test)))"
                .to_string()
        } else {
            format!(
                "below {MIN_ACCURACY}: fit on the training rows with the features scaled (the starter's pipeline does), measure on the test rows"
            )
        };
        checks.fail("logged", ran, want, got, fix);
        return;
    };
    checks.pass("logged", ran, want, got);

    // registered: a version of the model from this run
    let ran = format!("the lab's registry: versions of {MODEL}");
    let version = lab
        .model_versions(MODEL)
        .unwrap_or_default()
        .into_iter()
        .find(|v| v.run_id == found.run_id);
    let Some(version) = version else {
        checks.fail(
            "registered",
            ran,
            format!("a version of {MODEL} from run {}", found.run_id),
            "none".to_string(),
            format!(
                "mlflow.sklearn.log_model(model, name=\"model\", registered_model_name=\"{MODEL}\", serialization_format=\"cloudpickle\") inside the run"
            ),
        );
        return;
    };
    checks.pass(
        "registered",
        ran,
        format!("a version of {MODEL} from run {}", found.run_id),
        format!("{MODEL} version {}", version.version),
    );

    // loads: through models:/ in a fresh Python, measured by the lab
    let target = format!("models:/{MODEL}/{}", version.version);
    let ran = format!(
        "mlflow.pyfunc.load_model(\"{target}\").predict(the 400 test rows), in a fresh Python"
    );
    let mut cmd = ctx.python.command();
    cmd.arg("-c")
        .arg(LOADER)
        .arg(&target)
        .env("MLFLOW_TRACKING_URI", uri);
    let done = match ctx.run(cmd) {
        Ok(d) => d,
        Err(e) => {
            checks.fail(
                "loads",
                ran,
                "predictions",
                e.to_string(),
                "check the lab's Python: mlops-lab python doctor",
            );
            return;
        }
    };
    let predictions: Option<Vec<String>> = done
        .success()
        .then(|| serde_json::from_str(done.stdout.trim()).ok())
        .flatten();
    let Some(predictions) = predictions else {
        checks.fail(
            "loads",
            ran,
            "the model loads and predicts",
            done.tail(3),
            "log the fitted pipeline itself with mlflow.sklearn.log_model (not its parts, not a path)",
        );
        return;
    };
    let labels = match test_labels(ctx) {
        Ok(l) => l,
        Err(e) => {
            checks.fail(
                "loads",
                ran,
                "the lab's labels",
                e,
                "reinstall the lab's sample data",
            );
            return;
        }
    };
    let right = predictions
        .iter()
        .zip(&labels)
        .filter(|(p, l)| p == l)
        .count();
    let measured = right as f64 / labels.len().max(1) as f64;
    let want = format!(
        "{} predictions with accuracy {} (the logged one)",
        labels.len(),
        num(acc)
    );
    let got = format!(
        "{} predictions with accuracy {}",
        predictions.len(),
        num(measured)
    );
    if predictions.len() != labels.len() || (measured - acc).abs() > 1e-9 {
        checks.fail(
            "loads",
            ran,
            want,
            got,
            "the logged accuracy is not the registered model's: log accuracy_score(y_test, model.predict(X_test)) of the model you log, after fitting it",
        );
        return;
    }
    checks.pass("loads", ran, want, got);
}
