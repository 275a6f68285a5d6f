//! KServe Open Inference Protocol (v2), REST with JSON tensors.

use std::time::Instant;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use lab_model::{InputKind, Prediction, Value};
use serde::Deserialize;
use serde_json::{Value as JsonValue, json};

use crate::error::{Protocol, ServeError, from_bytes_rejection};
use crate::{AppState, input};

const P: Protocol = Protocol::Oip;

pub async fn live() -> impl IntoResponse {
    Json(json!({ "live": true }))
}

pub async fn ready() -> impl IntoResponse {
    Json(json!({ "ready": true }))
}

pub async fn server_metadata() -> impl IntoResponse {
    Json(json!({
        "name": "lab-serve",
        "version": env!("CARGO_PKG_VERSION"),
        "extensions": [],
    }))
}

pub async fn not_found() -> ServeError {
    ServeError::status(
        P,
        StatusCode::NOT_FOUND,
        "no such endpoint: see /v2, /v2/models/{name}, /invocations and /metrics",
    )
}

fn check_name(state: &AppState, name: &str) -> Result<(), ServeError> {
    if name != state.config().model_name {
        return Err(ServeError::status(
            P,
            StatusCode::NOT_FOUND,
            format!(
                "unknown model `{name}`; this server serves `{}`",
                state.config().model_name
            ),
        ));
    }
    Ok(())
}

fn datatype_of(kind: &InputKind) -> &'static str {
    match kind {
        InputKind::Numeric { .. } => "FP64",
        InputKind::Categorical { .. } => "BYTES",
    }
}

pub async fn model_metadata(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<impl IntoResponse, ServeError> {
    check_name(&state, &name)?;
    let a = state.artifact();
    let inputs: Vec<JsonValue> = a
        .preprocessor
        .features
        .iter()
        .map(|f| json!({"name": f.name, "datatype": datatype_of(&f.kind), "shape": [-1]}))
        .collect();
    let outputs = match a.task {
        t if t.is_classification() => json!([
            {"name": "label", "datatype": "BYTES", "shape": [-1]},
            {"name": "probabilities", "datatype": "FP64", "shape": [-1, a.classes.len()]},
        ]),
        lab_model::Task::Clustering => {
            json!([{"name": "cluster", "datatype": "INT64", "shape": [-1]}])
        }
        _ => json!([{"name": "value", "datatype": "FP64", "shape": [-1]}]),
    };
    Ok(Json(json!({
        "name": state.config().model_name,
        "versions": [state.config().model_version],
        "platform": format!("mlops-lab_{}", a.library.replace(' ', "-")),
        "inputs": inputs,
        "outputs": outputs,
        "parameters": {
            "model_kind": a.model_kind.as_str(),
            "task": a.task.as_str(),
            "target": a.target,
            "classes": a.classes,
            "feature_order": a.preprocessor.input_names(),
            "batch_input": "one input of shape [N, n_features] (numeric features), or one input per feature of shape [N]",
        },
    })))
}

pub async fn model_ready(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<impl IntoResponse, ServeError> {
    check_name(&state, &name)?;
    Ok(Json(json!({ "name": name, "ready": true })))
}

#[derive(Deserialize)]
struct InferRequest {
    #[serde(default)]
    id: Option<String>,
    inputs: Vec<InferInput>,
    #[serde(default)]
    outputs: Option<Vec<RequestedOutput>>,
}

#[derive(Deserialize)]
struct InferInput {
    name: String,
    shape: Vec<i64>,
    datatype: String,
    data: JsonValue,
}

#[derive(Deserialize)]
struct RequestedOutput {
    name: String,
}

pub async fn infer_version(
    State(state): State<AppState>,
    Path((name, version)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<impl IntoResponse, ServeError> {
    if version != state.config().model_version {
        return Err(ServeError::status(
            P,
            StatusCode::NOT_FOUND,
            format!(
                "model `{name}` has no version `{version}`; this server serves version {}",
                state.config().model_version
            ),
        ));
    }
    infer(State(state), Path(name), headers, body).await
}

pub async fn infer(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<axum::response::Response, ServeError> {
    let started = Instant::now();
    check_name(&state, &name)?;
    if headers.contains_key("inference-header-content-length") {
        return Err(ServeError::bad(
            P,
            "the binary tensor extension (Inference-Header-Content-Length) is not supported: send JSON tensors (tritonclient: binary_data=False)",
        ));
    }
    let body = body.map_err(|r| from_bytes_rejection(P, r))?;
    let req: InferRequest = serde_json::from_slice(&body).map_err(|e| {
        ServeError::bad(
            P,
            format!("the request is not a valid inference request: {e}"),
        )
    })?;
    let rows = rows_of(&state, &req.inputs)?;
    let preds = state
        .predict(
            rows,
            "infer",
            started,
            P,
            crate::request_id(&headers).or(req.id.clone()).as_deref(),
        )
        .await?;
    let outputs = outputs_of(&state, &preds, req.outputs.as_deref())?;
    let mut resp = json!({
        "model_name": state.config().model_name,
        "model_version": state.config().model_version,
        "outputs": outputs,
    });
    if let Some(id) = req.id {
        resp["id"] = json!(id);
    }
    Ok(Json(resp).into_response())
}

/// Flatten nested or flat row-major data into leaves.
fn flatten<'a>(v: &'a JsonValue, out: &mut Vec<&'a JsonValue>) {
    match v {
        JsonValue::Array(items) => items.iter().for_each(|i| flatten(i, out)),
        other => out.push(other),
    }
}

fn check_tensor(t: &InferInput) -> Result<Vec<&JsonValue>, ServeError> {
    let numeric = matches!(
        t.datatype.as_str(),
        "FP16"
            | "FP32"
            | "FP64"
            | "INT8"
            | "INT16"
            | "INT32"
            | "INT64"
            | "UINT8"
            | "UINT16"
            | "UINT32"
            | "UINT64"
    );
    if !numeric && t.datatype != "BYTES" && t.datatype != "BOOL" {
        return Err(ServeError::bad(
            P,
            format!(
                "input `{}`: datatype `{}` is not supported; use FP32, FP64, INT32, INT64 (or BYTES for categorical features)",
                t.name, t.datatype
            ),
        ));
    }
    if t.shape.iter().any(|d| *d < 0) {
        return Err(ServeError::bad(
            P,
            format!(
                "input `{}`: shape {:?} has a negative dimension",
                t.name, t.shape
            ),
        ));
    }
    // A shape is client input: its product is checked, never wrapped (a
    // wrapped product could match a short data array).
    let Some(expected) = t
        .shape
        .iter()
        .try_fold(1i64, |acc, d| acc.checked_mul(*d))
        .filter(|_| t.shape.len() <= 8)
    else {
        return Err(ServeError::bad(
            P,
            format!(
                "input `{}`: shape {:?} is too large (at most 8 dimensions whose product fits in 64 bits)",
                t.name, t.shape
            ),
        ));
    };
    let mut leaves = Vec::new();
    flatten(&t.data, &mut leaves);
    if leaves.len() as i64 != expected {
        return Err(ServeError::bad(
            P,
            format!(
                "input `{}`: shape {:?} needs {expected} values, data has {}",
                t.name,
                t.shape,
                leaves.len()
            ),
        ));
    }
    for v in &leaves {
        let ok = match t.datatype.as_str() {
            "BYTES" => v.is_string(),
            "BOOL" => v.is_boolean(),
            _ => v.is_number(),
        };
        if !ok {
            return Err(ServeError::bad(
                P,
                format!(
                    "input `{}`: {v} is not a valid {} value",
                    t.name, t.datatype
                ),
            ));
        }
        if let Some(x) = v.as_f64()
            && t.datatype.starts_with("INT")
            && x.fract() != 0.0
        {
            return Err(ServeError::bad(
                P,
                format!("input `{}`: {v} is not an integer ({})", t.name, t.datatype),
            ));
        }
    }
    Ok(leaves)
}

fn rows_of(state: &AppState, inputs: &[InferInput]) -> Result<Vec<Vec<Value>>, ServeError> {
    let pre = &state.artifact().preprocessor;
    let names = pre.input_names();
    let n_features = names.len();
    if inputs.is_empty() {
        return Err(ServeError::bad(
            P,
            "`inputs` is empty: send at least one input tensor",
        ));
    }
    // Several inputs, or a 1-D one, are per-feature columns; a single 2-D
    // input is the [N, n_features] matrix.
    let per_feature = inputs.len() > 1 || inputs[0].shape.len() != 2 || n_features == 1;
    if inputs.len() == 1 && !per_feature {
        // One tensor [N, n_features], row-major.
        let t = &inputs[0];
        if t.shape.len() != 2 {
            return Err(ServeError::bad(
                P,
                format!(
                    "input `{}` has shape {:?}: send one input of shape [N, {n_features}], or one input per feature ({}) of shape [N]",
                    t.name,
                    t.shape,
                    names.join(", ")
                ),
            ));
        }
        if t.shape[1] as usize != n_features {
            return Err(ServeError::bad(
                P,
                format!(
                    "wrong feature count: input `{}` has {} columns, the model expects {n_features}: {}",
                    t.name,
                    t.shape[1],
                    names.join(", ")
                ),
            ));
        }
        let leaves = check_tensor(t)?;
        return leaves
            .chunks(n_features.max(1))
            .map(|row| {
                row.iter()
                    .zip(&names)
                    .map(|(v, n)| input::scalar(v, n, P))
                    .collect()
            })
            .collect();
    }
    // One input per feature, each [N] (or [N, 1]).
    let order = input::column_order(pre, inputs.iter().map(|t| t.name.as_str()), P)?;
    let mut columns: Vec<Vec<&JsonValue>> = Vec::with_capacity(inputs.len());
    for t in inputs {
        if !(t.shape.len() == 1 || (t.shape.len() == 2 && t.shape[1] == 1)) {
            return Err(ServeError::bad(
                P,
                format!(
                    "input `{}` has shape {:?}: a per-feature input has shape [N]",
                    t.name, t.shape
                ),
            ));
        }
        columns.push(check_tensor(t)?);
    }
    let n = columns[0].len();
    if let Some(t) = inputs.iter().zip(&columns).find(|(_, c)| c.len() != n) {
        return Err(ServeError::bad(
            P,
            format!(
                "input `{}` has {} rows, `{}` has {n}",
                t.0.name,
                t.1.len(),
                inputs[0].name
            ),
        ));
    }
    (0..n)
        .map(|r| {
            order
                .iter()
                .map(|&i| input::scalar(columns[i][r], &inputs[i].name, P))
                .collect()
        })
        .collect()
}

fn outputs_of(
    state: &AppState,
    preds: &[Prediction],
    requested: Option<&[RequestedOutput]>,
) -> Result<Vec<JsonValue>, ServeError> {
    let n = preds.len();
    let mut all: Vec<(&str, JsonValue)> = Vec::new();
    match preds.first() {
        Some(Prediction::Class { probabilities, .. }) => {
            let labels: Vec<&str> = preds
                .iter()
                .filter_map(|p| match p {
                    Prediction::Class { label, .. } => Some(label.as_str()),
                    _ => None,
                })
                .collect();
            all.push((
                "label",
                json!({"name": "label", "datatype": "BYTES", "shape": [n], "data": labels}),
            ));
            if probabilities.is_some() {
                let c = state.artifact().classes.len();
                let flat: Vec<f64> = preds
                    .iter()
                    .flat_map(|p| match p {
                        Prediction::Class {
                            probabilities: Some(pr),
                            ..
                        } => pr.clone(),
                        _ => vec![],
                    })
                    .collect();
                all.push((
                    "probabilities",
                    json!({"name": "probabilities", "datatype": "FP64", "shape": [n, c], "data": flat,
                           "parameters": {"classes": state.artifact().classes.join(",")}}),
                ));
            }
        }
        Some(Prediction::Value { .. }) => {
            let v: Vec<f64> = preds
                .iter()
                .filter_map(|p| match p {
                    Prediction::Value { value } => Some(*value),
                    _ => None,
                })
                .collect();
            all.push((
                "value",
                json!({"name": "value", "datatype": "FP64", "shape": [n], "data": v}),
            ));
        }
        Some(Prediction::Cluster { .. }) => {
            let v: Vec<usize> = preds
                .iter()
                .filter_map(|p| match p {
                    Prediction::Cluster { cluster } => Some(*cluster),
                    _ => None,
                })
                .collect();
            all.push((
                "cluster",
                json!({"name": "cluster", "datatype": "INT64", "shape": [n], "data": v}),
            ));
        }
        None => {}
    }
    match requested {
        None => Ok(all.into_iter().map(|(_, v)| v).collect()),
        Some(req) => req
            .iter()
            .map(|r| {
                all.iter()
                    .find(|(n, _)| *n == r.name)
                    .map(|(_, v)| v.clone())
                    .ok_or_else(|| {
                        ServeError::bad(
                            P,
                            format!(
                                "unknown output `{}`; this model has: {}",
                                r.name,
                                all.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                            ),
                        )
                    })
            })
            .collect(),
    }
}
