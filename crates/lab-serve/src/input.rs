//! Turning request payloads into rows ordered as the model's input features.

use lab_model::{Preprocessor, Value};
use serde_json::Value as Json;

use crate::error::{Protocol, ServeError};

/// A JSON scalar as a model input value. Numbers must be finite; `null` is
/// a missing value (imputed if the model was trained with imputation).
pub(crate) fn scalar(v: &Json, feature: &str, p: Protocol) -> Result<Value, ServeError> {
    match v {
        Json::Null => Ok(Value::Missing),
        Json::Number(n) => match n.as_f64() {
            Some(x) if x.is_finite() => Ok(Value::Number(x)),
            _ => Err(ServeError::bad(
                p,
                format!("feature `{feature}`: {n} is not a finite number"),
            )),
        },
        Json::String(s) => {
            // "NaN", "inf" and friends are refused rather than fed to a model.
            if let Ok(x) = s.trim().parse::<f64>()
                && !x.is_finite()
            {
                return Err(ServeError::bad(
                    p,
                    format!("feature `{feature}`: {s:?} is not a finite number"),
                ));
            }
            Ok(Value::Text(s.clone()))
        }
        Json::Bool(b) => Ok(Value::Number(if *b { 1.0 } else { 0.0 })),
        Json::Array(_) | Json::Object(_) => Err(ServeError::bad(
            p,
            format!("feature `{feature}`: expected a number or a string, got a nested value"),
        )),
    }
}

/// A positional row (a list of values in feature order).
pub(crate) fn positional(
    pre: &Preprocessor,
    row: &[Json],
    r: usize,
    p: Protocol,
) -> Result<Vec<Value>, ServeError> {
    let names = pre.input_names();
    if row.len() != names.len() {
        return Err(ServeError::bad(
            p,
            format!(
                "row {r} has {} values, the model expects {} features: {}",
                row.len(),
                names.len(),
                names.join(", ")
            ),
        ));
    }
    row.iter()
        .zip(&names)
        .map(|(v, n)| scalar(v, n, p))
        .collect()
}

/// Map column names to feature positions: every feature must be present and
/// every name known.
pub(crate) fn column_order<'a>(
    pre: &Preprocessor,
    columns: impl IntoIterator<Item = &'a str>,
    p: Protocol,
) -> Result<Vec<usize>, ServeError> {
    let names = pre.input_names();
    let cols: Vec<&str> = columns.into_iter().collect();
    let unknown: Vec<&str> = cols
        .iter()
        .copied()
        .filter(|c| !names.contains(c))
        .collect();
    if !unknown.is_empty() {
        return Err(ServeError::bad(
            p,
            format!(
                "unknown feature name(s): {}; the model's features are: {}",
                unknown.join(", "),
                names.join(", ")
            ),
        ));
    }
    let missing: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| !cols.contains(n))
        .collect();
    if !missing.is_empty() {
        return Err(ServeError::bad(
            p,
            format!(
                "missing feature(s): {}; send all of: {}",
                missing.join(", "),
                names.join(", ")
            ),
        ));
    }
    // position in the request of each model feature
    Ok(names
        .iter()
        .map(|n| cols.iter().position(|c| c == n).expect("checked above"))
        .collect())
}

/// A row given as an object `{feature: value}`.
pub(crate) fn record(
    pre: &Preprocessor,
    obj: &serde_json::Map<String, Json>,
    p: Protocol,
) -> Result<Vec<Value>, ServeError> {
    let order = column_order(pre, obj.keys().map(String::as_str), p)?;
    let values: Vec<(&String, &Json)> = obj.iter().collect();
    order
        .into_iter()
        .map(|i| scalar(values[i].1, values[i].0, p))
        .collect()
}
