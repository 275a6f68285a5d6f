//! What the exercises that log with MLflow's client share: the lab's
//! tracking server for the check, the client's environment, a script that
//! must not name its own tracking URI, and the runs it made.

use std::time::{SystemTime, UNIX_EPOCH};

use lab_pipeline::{Run, RunFilter, TrackingServer};

use super::{Ctx, num};
use crate::check::Checks;

/// Milliseconds since the epoch (as the store times runs).
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The lab's tracking server on a free loopback port, for one check; a
/// failure is recorded as `stage`.
pub(crate) fn start_server(ctx: &Ctx, checks: &mut Checks, stage: &str) -> Option<TrackingServer> {
    match ctx.lab.tracking_server_on_or_any(0) {
        Ok(s) => Some(s),
        Err(e) => {
            checks.fail(
                stage,
                "start the lab's tracking server",
                "a tracking server on 127.0.0.1",
                e.to_string(),
                "another lab process may hold the store: close it and check again",
            );
            None
        }
    }
}

/// MLflow's client pointed at `uri`; it retries an unreachable server for
/// minutes, so it is told to fail fast.
pub(crate) fn client_env(uri: &str) -> [(&'static str, String); 3] {
    [
        ("MLFLOW_TRACKING_URI", uri.to_string()),
        ("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0".to_string()),
        ("MLFLOW_HTTP_REQUEST_TIMEOUT", "20".to_string()),
    ]
}

/// Refuse a script that sets its own tracking URI (it would log elsewhere,
/// or hang on a server that is not there): records the `runs` stage.
pub(crate) fn names_its_own_uri(ctx: &Ctx, checks: &mut Checks, script: &str) -> bool {
    let text = std::fs::read_to_string(ctx.dir.join(script)).unwrap_or_default();
    if !text.contains("set_tracking_uri") {
        return false;
    }
    checks.fail(
        "runs",
        format!("read {script}"),
        "no tracking URI in the script",
        format!("mlflow.set_tracking_uri(...) in {script}"),
        "remove mlflow.set_tracking_uri: the lab sets MLFLOW_TRACKING_URI to its own tracking server (a free port) for each check, as a CI job's or a cluster's environment would",
    );
    true
}

/// The runs of `experiment` made since `started` (ms), newest first; or
/// why there are none.
pub(crate) fn runs_since(ctx: &Ctx, experiment: &str, started: i64) -> Result<Vec<Run>, String> {
    let exists = ctx
        .lab
        .experiments()
        .map_err(|e| e.to_string())?
        .iter()
        .any(|x| x.name == experiment);
    if !exists {
        return Err(format!("no experiment {experiment}"));
    }
    let runs: Vec<Run> = ctx
        .lab
        .runs(&RunFilter {
            experiment: Some(experiment.to_string()),
            limit: Some(1000),
            ..Default::default()
        })
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|r| r.start_time >= started)
        .collect();
    if runs.is_empty() {
        return Err(format!("no new run in {experiment}"));
    }
    Ok(runs)
}

/// A run's params and one metric as a report shows them, and which of
/// `wanted` params it lacks.
pub(crate) fn logged<'w>(run: &Run, metric: &str, wanted: &[&'w str]) -> (String, Vec<&'w str>) {
    let params = if run.params.is_empty() {
        "none".to_string()
    } else {
        run.params.keys().cloned().collect::<Vec<_>>().join(", ")
    };
    let value = run
        .metrics
        .get(metric)
        .copied()
        .map_or("not logged".into(), num);
    let missing = wanted
        .iter()
        .copied()
        .filter(|p| !run.params.contains_key(*p))
        .collect();
    (format!("params {params}; {metric} {value}"), missing)
}
