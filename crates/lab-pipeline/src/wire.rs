//! Calls over HTTP to the lab's own servers, as an outside client makes
//! them: the course shows (and its "skip" uses) the requests MLflow's
//! client sends to the tracking server.

use serde_json::{Value, json};

use crate::{Lab, PipelineError, Result};

/// One JSON call; the status and the body as JSON (`Null` when empty).
pub fn call_json(
    endpoint: &str,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Result<(u16, Value)> {
    let bytes = body.map(|b| b.to_string()).unwrap_or_default();
    let x = lab_deploy::exchange(
        endpoint,
        method,
        path,
        body.map(|_| "application/json"),
        &[],
        bytes.as_bytes(),
    )?;
    let v = serde_json::from_str(&x.body).unwrap_or(Value::Null);
    Ok((x.status, v))
}

/// What [`Lab::log_through_mlflow`] made.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct MlflowLogged {
    pub experiment_id: String,
    pub run_ids: Vec<String>,
    /// The REST calls made, as `METHOD path → status`.
    pub calls: Vec<String>,
    /// `name:version` registered and made `@champion`, if asked.
    pub champion: Option<String>,
}

/// One client run to log: its name, params and metrics.
#[derive(Debug, Clone)]
pub struct ClientRun {
    pub name: String,
    pub params: Vec<(String, String)>,
    pub metrics: Vec<(String, f64)>,
}

impl Lab {
    /// Log `runs` into `experiment` the way MLflow's Python client does,
    /// over the wire against this lab's tracking server (started for the
    /// call on a free loopback port): `experiments/get-by-name` (then
    /// `experiments/create`), and per run `runs/create`, `runs/log-batch`
    /// and `runs/update`. With `register`, the run best on `best_by`
    /// becomes a version of that registered model
    /// (`registered-models/create`, `model-versions/create`) and
    /// `@champion` (`registered-models/alias`).
    pub fn log_through_mlflow(
        &self,
        experiment: &str,
        runs: &[ClientRun],
        register: Option<(&str, &str)>,
    ) -> Result<MlflowLogged> {
        let server = self.tracking_server(0, false)?;
        let uri = server.uri();
        let mut calls = Vec::new();
        let mut call = |method: &str, path: &str, body: Option<Value>| -> Result<Value> {
            let (status, v) = call_json(&uri, method, path, body.as_ref())?;
            calls.push(format!("{method} {path} → {status}"));
            let exists = v["error_code"] == "RESOURCE_ALREADY_EXISTS"
                && path.ends_with("registered-models/create");
            if status == 200 || exists || (status == 404 && path.contains("get-by-name")) {
                Ok(v)
            } else {
                Err(PipelineError::Invalid(format!(
                    "the tracking server answered {status} to {method} {path}: {v}"
                )))
            }
        };
        let base = "/api/2.0/mlflow";
        let found = call(
            "GET",
            &format!(
                "{base}/experiments/get-by-name?experiment_name={}",
                experiment.replace(' ', "%20")
            ),
            None,
        )?;
        let experiment_id = match found["experiment"]["experiment_id"].as_str() {
            Some(id) => id.to_string(),
            None => call(
                "POST",
                &format!("{base}/experiments/create"),
                Some(json!({ "name": experiment })),
            )?["experiment_id"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        };
        let now = || {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64)
        };
        let mut run_ids = Vec::new();
        for r in runs {
            let created = call(
                "POST",
                &format!("{base}/runs/create"),
                Some(json!({
                    "experiment_id": experiment_id,
                    "run_name": r.name,
                    "start_time": now(),
                    "tags": [
                        {"key": "mlflow.source.name", "value": "mlops-lab lessons (MLflow's REST calls)"},
                        {"key": "mlflow.source.type", "value": "LOCAL"},
                        {"key": "mlflow.runName", "value": r.name},
                    ],
                })),
            )?;
            let run_id = created["run"]["info"]["run_id"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let t = now();
            call(
                "POST",
                &format!("{base}/runs/log-batch"),
                Some(json!({
                    "run_id": run_id,
                    "params": r.params.iter().map(|(k, v)| json!({"key": k, "value": v})).collect::<Vec<_>>(),
                    "metrics": r.metrics.iter().map(|(k, v)| json!({"key": k, "value": v, "timestamp": t, "step": 0})).collect::<Vec<_>>(),
                })),
            )?;
            call(
                "POST",
                &format!("{base}/runs/update"),
                Some(json!({"run_id": run_id, "status": "FINISHED", "end_time": now()})),
            )?;
            run_ids.push(run_id);
        }
        let champion = match register {
            None => None,
            Some((name, best_by)) => {
                let best = runs
                    .iter()
                    .zip(&run_ids)
                    .filter_map(|(r, id)| {
                        r.metrics
                            .iter()
                            .find(|(k, _)| k == best_by)
                            .map(|(_, v)| (*v, id))
                    })
                    .max_by(|a, b| a.0.total_cmp(&b.0))
                    .map(|(_, id)| id.clone())
                    .ok_or_else(|| {
                        PipelineError::Invalid(format!("no run logged the metric `{best_by}`"))
                    })?;
                // An existing model is fine: the version joins it.
                call(
                    "POST",
                    &format!("{base}/registered-models/create"),
                    Some(json!({"name": name})),
                )?;
                let v = call(
                    "POST",
                    &format!("{base}/model-versions/create"),
                    Some(
                        json!({"name": name, "source": format!("runs:/{best}/model"), "run_id": best}),
                    ),
                )?;
                let version = v["model_version"]["version"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                call(
                    "POST",
                    &format!("{base}/registered-models/alias"),
                    Some(json!({"name": name, "alias": "champion", "version": version})),
                )?;
                Some(format!("{name}:{version}"))
            }
        };
        drop(server);
        Ok(MlflowLogged {
            experiment_id,
            run_ids,
            calls,
            champion,
        })
    }
}
