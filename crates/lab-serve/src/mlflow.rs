//! MLflow's scoring protocol: `/ping`, `/health`, `/invocations`.

use std::time::Instant;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use lab_model::{Prediction, Value};
use serde_json::{Value as JsonValue, json};

use crate::error::{Protocol, ServeError, from_bytes_rejection};
use crate::{AppState, input};

const P: Protocol = Protocol::Mlflow;

pub async fn ping() -> impl IntoResponse {
    (StatusCode::OK, "\n")
}

pub async fn invocations(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<impl IntoResponse, ServeError> {
    let started = Instant::now();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let is_json = content_type == "application/json";
    let is_csv = content_type == "text/csv";
    if !is_json && !is_csv {
        return Err(ServeError::status(
            P,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "content type {:?} is not supported: use application/json or text/csv",
                content_type
            ),
        ));
    }
    let body = body.map_err(|r| from_bytes_rejection(P, r))?;
    let rows = if is_json {
        json_rows(&state, &body)?
    } else {
        csv_rows(&state, &body)?
    };
    let preds = state
        .predict(
            rows,
            "invocations",
            started,
            P,
            crate::request_id(&headers).as_deref(),
        )
        .await?;
    let predictions: Vec<JsonValue> = preds.iter().map(Prediction::output_json).collect();
    Ok(Json(json!({ "predictions": predictions })))
}

const SHAPES: &str = "dataframe_split, dataframe_records, instances or inputs";

fn json_rows(state: &AppState, body: &[u8]) -> Result<Vec<Vec<Value>>, ServeError> {
    let pre = &state.artifact().preprocessor;
    let v: JsonValue = serde_json::from_slice(body)
        .map_err(|e| ServeError::bad(P, format!("the body is not valid JSON: {e}")))?;
    let obj = v.as_object().ok_or_else(|| {
        ServeError::bad(
            P,
            format!("the body must be a JSON object with one of {SHAPES}"),
        )
    })?;
    let keys: Vec<&str> = [
        "dataframe_split",
        "dataframe_records",
        "instances",
        "inputs",
    ]
    .into_iter()
    .filter(|k| obj.contains_key(*k))
    .collect();
    let key = match keys.as_slice() {
        [k] => *k,
        [] => {
            return Err(ServeError::bad(
                P,
                format!("the body has none of {SHAPES}; see MLflow's scoring protocol"),
            ));
        }
        _ => {
            return Err(ServeError::bad(
                P,
                format!(
                    "the body has several of {}: send exactly one",
                    keys.join(", ")
                ),
            ));
        }
    };
    let payload = &obj[key];
    match key {
        "dataframe_split" => {
            let split = payload.as_object().ok_or_else(|| {
                ServeError::bad(
                    P,
                    "dataframe_split must be an object with `columns` and `data`",
                )
            })?;
            let data = split
                .get("data")
                .and_then(JsonValue::as_array)
                .ok_or_else(|| ServeError::bad(P, "dataframe_split.data must be a list of rows"))?;
            let order = match split.get("columns") {
                None => None,
                Some(c) => {
                    let cols: Vec<&str> = c
                        .as_array()
                        .map(|a| a.iter().filter_map(JsonValue::as_str).collect())
                        .filter(|v: &Vec<&str>| Some(v.len()) == c.as_array().map(Vec::len))
                        .ok_or_else(|| {
                            ServeError::bad(P, "dataframe_split.columns must be a list of names")
                        })?;
                    Some(input::column_order(pre, cols, P)?)
                }
            };
            data.iter()
                .enumerate()
                .map(|(r, row)| {
                    let row = row.as_array().ok_or_else(|| {
                        ServeError::bad(P, format!("dataframe_split.data[{r}] is not a list"))
                    })?;
                    match &order {
                        None => input::positional(pre, row, r, P),
                        Some(order) => {
                            if row.len() != order.len() {
                                return Err(ServeError::bad(
                                    P,
                                    format!(
                                        "row {r} has {} values for {} columns",
                                        row.len(),
                                        order.len()
                                    ),
                                ));
                            }
                            order
                                .iter()
                                .zip(pre.input_names())
                                .map(|(&i, n)| input::scalar(&row[i], n, P))
                                .collect()
                        }
                    }
                })
                .collect()
        }
        "dataframe_records" => {
            let recs = payload
                .as_array()
                .ok_or_else(|| ServeError::bad(P, "dataframe_records must be a list of objects"))?;
            recs.iter()
                .enumerate()
                .map(|(r, rec)| {
                    let o = rec.as_object().ok_or_else(|| {
                        ServeError::bad(P, format!("dataframe_records[{r}] is not an object"))
                    })?;
                    input::record(pre, o, P)
                })
                .collect()
        }
        _ => {
            // instances / inputs: a list of rows (lists or objects), or for
            // `inputs` also an object of columns.
            if let Some(cols) = payload.as_object() {
                let order = input::column_order(pre, cols.keys().map(String::as_str), P)?;
                let columns: Vec<(&String, &Vec<JsonValue>)> = cols
                    .iter()
                    .map(|(k, v)| {
                        v.as_array().map(|a| (k, a)).ok_or_else(|| {
                            ServeError::bad(P, format!("{key}.{k} must be a list of values"))
                        })
                    })
                    .collect::<Result<_, _>>()?;
                let n = columns.first().map_or(0, |c| c.1.len());
                if let Some((k, c)) = columns.iter().find(|(_, c)| c.len() != n) {
                    return Err(ServeError::bad(
                        P,
                        format!("{key}.{k} has {} values, expected {n}", c.len()),
                    ));
                }
                return (0..n)
                    .map(|r| {
                        order
                            .iter()
                            .map(|&i| input::scalar(&columns[i].1[r], columns[i].0, P))
                            .collect()
                    })
                    .collect();
            }
            let rows = payload
                .as_array()
                .ok_or_else(|| ServeError::bad(P, format!("{key} must be a list of rows")))?;
            rows.iter()
                .enumerate()
                .map(|(r, row)| match row {
                    JsonValue::Array(a) => input::positional(pre, a, r, P),
                    JsonValue::Object(o) => input::record(pre, o, P),
                    _ => Err(ServeError::bad(
                        P,
                        format!("{key}[{r}] must be a list of values or an object of features"),
                    )),
                })
                .collect()
        }
    }
}

fn csv_rows(state: &AppState, body: &[u8]) -> Result<Vec<Vec<Value>>, ServeError> {
    let pre = &state.artifact().preprocessor;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(body);
    let headers = reader
        .headers()
        .map_err(|e| ServeError::bad(P, format!("the CSV body has no readable header row: {e}")))?
        .clone();
    let order = input::column_order(pre, headers.iter(), P)?;
    let names = pre.input_names();
    let mut rows = Vec::new();
    for (r, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| ServeError::bad(P, format!("CSV line {}: {e}", r + 2)))?;
        let row = order
            .iter()
            .zip(&names)
            .map(|(&i, n)| {
                let cell = rec.get(i).unwrap_or("").trim();
                if cell.is_empty() || cell == "NA" {
                    return Ok(Value::Missing);
                }
                match cell.parse::<f64>() {
                    Ok(x) if x.is_finite() => Ok(Value::Number(x)),
                    Ok(_) => Err(ServeError::bad(
                        P,
                        format!(
                            "CSV line {}, feature `{n}`: {cell:?} is not a finite number",
                            r + 2
                        ),
                    )),
                    Err(_) => Ok(Value::Text(cell.to_string())),
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        rows.push(row);
    }
    Ok(rows)
}
