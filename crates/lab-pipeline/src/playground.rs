//! The playground: a prediction request built from a real dataset row,
//! sent to a deployment, with its raw HTTP exchange and the equivalent
//! `curl`.

use lab_store::DeploymentState;
use serde::{Deserialize, Serialize};
use serde_json::Value as J;

use crate::lab::Lab;
use crate::{PipelineError, Result};

/// A ready-to-send request built from a dataset row.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SampleRequest {
    pub endpoint: String,
    pub path: String,
    pub content_type: String,
    /// Pretty-printed MLflow `dataframe_split` body.
    pub body: String,
    pub dataset: String,
    pub row: usize,
    pub rows: usize,
    /// The row's true label, for comparing with the answer.
    pub label: Option<J>,
}

/// A request sent, with both sides as raw text and the equivalent `curl`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SentRequest {
    #[serde(flatten)]
    pub exchange: lab_deploy::Exchange,
    pub curl: String,
}

/// A shell-quoted `curl` that sends the same request.
pub fn curl_command(endpoint: &str, path: &str, content_type: &str, body: &str) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let compact = serde_json::from_str::<J>(body)
        .map(|v| v.to_string())
        .unwrap_or_else(|_| body.to_string());
    format!(
        "curl -sS -X POST {} \\\n  -H {} \\\n  --data {}",
        quote(&format!("{}{path}", endpoint.trim_end_matches('/'))),
        quote(&format!("Content-Type: {content_type}")),
        quote(&compact)
    )
}

impl Lab {
    /// A prediction request for `deployment` from row `row` of the dataset
    /// its model was trained on.
    pub fn sample_request(&self, deployment: &str, row: usize) -> Result<SampleRequest> {
        let d = self.store.find_deployment(deployment)?;
        let mv = self.store.model_version(&d.model_name, d.model_version)?;
        let artifact = self.load_artifact(&mv)?;
        let features = artifact.preprocessor.feature_names();
        let run = self.store.get_run(&mv.run_id)?;
        let dataset = run.params.get("dataset").cloned().ok_or_else(|| {
            PipelineError::Invalid(format!("run {} records no dataset", run.run_id))
        })?;
        let spec = self.catalog.dataset(&dataset)?;
        let table = lab_data::read_csv(&self.catalog.path_of(spec), &spec.column_types())?;
        let rows = table.rows();
        if row >= rows {
            return Err(PipelineError::Invalid(format!(
                "row {row} is past the end of {dataset} ({rows} rows: 0 to {})",
                rows - 1
            )));
        }
        let values = table.raw_rows(&features, &[row])?.remove(0);
        let label = spec
            .target(None)
            .ok()
            .and_then(|t| table.raw_rows(std::slice::from_ref(&t.column), &[row]).ok())
            .map(|mut r| r.remove(0).remove(0).to_json());
        let body = serde_json::json!({
            "dataframe_split": {
                "columns": features,
                "data": [values.iter().map(lab_model::Value::to_json).collect::<Vec<_>>()],
            }
        });
        Ok(SampleRequest {
            endpoint: d.endpoint.clone(),
            path: "/invocations".into(),
            content_type: "application/json".into(),
            body: serde_json::to_string_pretty(&body).unwrap_or_default(),
            dataset,
            row,
            rows,
            label,
        })
    }

    /// `GET path` on `deployment`'s endpoint, now: the status and body (what
    /// a probe or a scrape sees). Only a request that got no answer (or
    /// none within the client's time limit) is an error.
    pub fn probe(&self, deployment: &str, path: &str) -> Result<(u16, String)> {
        let d = self.store.find_deployment(deployment)?;
        let r = lab_deploy::get(&d.endpoint, path)?;
        Ok((r.status, r.body))
    }

    /// Send `body` to `deployment` at `path` and return the raw exchange.
    /// The server's answer, whatever its status, is the result; only a
    /// request that got no answer is an error.
    pub fn send_request(
        &self,
        deployment: &str,
        path: &str,
        content_type: &str,
        body: &str,
    ) -> Result<SentRequest> {
        let d = self.store.find_deployment(deployment)?;
        if d.status != DeploymentState::Running {
            return Err(PipelineError::Invalid(format!(
                "deployment {} is stopped: deploy the model again",
                d.name
            )));
        }
        if !path.starts_with('/') {
            return Err(PipelineError::Invalid(format!(
                "the path must start with `/`, e.g. /invocations or /v2/models/{}/infer",
                d.model_name
            )));
        }
        let request_id = format!("try-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let exchange = lab_deploy::exchange(
            &d.endpoint,
            "POST",
            path,
            Some(content_type),
            &[("X-Request-Id", &request_id)],
            body.as_bytes(),
        )?;
        Ok(SentRequest {
            curl: curl_command(&d.endpoint, path, content_type, body),
            exchange,
        })
    }
}
