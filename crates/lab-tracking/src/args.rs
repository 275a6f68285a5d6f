//! A request's arguments: the query string (GET) merged with the JSON body
//! (POST, PATCH, DELETE), read leniently as MLflow's server reads them
//! (numbers may arrive as strings, lists as repeated query keys).

use serde_json::{Map, Value};

use crate::error::{ApiError, ApiResult};

#[derive(Debug, Default, Clone)]
pub struct Args(pub Map<String, Value>);

impl Args {
    pub fn from_request(query: Option<&str>, body: &[u8]) -> ApiResult<Args> {
        let mut map = Map::new();
        if let Some(q) = query {
            for pair in q.split('&').filter(|p| !p.is_empty()) {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                let (k, v) = (decode(k)?, decode(v)?);
                match map.get_mut(&k) {
                    Some(Value::Array(items)) => items.push(Value::String(v)),
                    Some(old) => {
                        let first = old.take();
                        *old = Value::Array(vec![first, Value::String(v)]);
                    }
                    None => {
                        map.insert(k, Value::String(v));
                    }
                }
            }
        }
        if !body.iter().all(u8::is_ascii_whitespace) {
            let parsed: Value = serde_json::from_slice(body).map_err(|e| ApiError {
                code: "INVALID_PARAMETER_VALUE",
                message: format!("Malformed request body: not JSON ({e})"),
            })?;
            match parsed {
                Value::Object(obj) => map.extend(obj),
                _ => {
                    return Err(ApiError {
                        code: "INVALID_PARAMETER_VALUE",
                        message: "Malformed request body: expected a JSON object".into(),
                    });
                }
            }
        }
        Ok(Args(map))
    }

    fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }

    pub fn opt_str(&self, key: &str) -> ApiResult<Option<String>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(other) => Err(ApiError::invalid(format!(
                "Invalid value {other} for parameter '{key}' supplied: expected a string"
            ))),
        }
    }

    pub fn str(&self, key: &str) -> ApiResult<String> {
        self.opt_str(key)?
            .filter(|s| !s.is_empty())
            .ok_or_else(|| ApiError::missing(key))
    }

    /// The first present of several names (`run_id`, then the old `run_uuid`).
    pub fn str_of(&self, keys: &[&str]) -> ApiResult<String> {
        for k in keys {
            if let Some(s) = self.opt_str(k)?.filter(|s| !s.is_empty()) {
                return Ok(s);
            }
        }
        Err(ApiError::missing(keys[0]))
    }

    pub fn opt_i64(&self, key: &str) -> ApiResult<Option<i64>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
                .map(Some)
                .ok_or_else(|| {
                    ApiError::invalid(format!("Parameter '{key}' must be an integer, got {n}"))
                }),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => s.parse().map(Some).map_err(|_| {
                ApiError::invalid(format!("Parameter '{key}' must be an integer, got '{s}'"))
            }),
            Some(other) => Err(ApiError::invalid(format!(
                "Parameter '{key}' must be an integer, got {other}"
            ))),
        }
    }

    pub fn opt_f64(&self, key: &str) -> ApiResult<Option<f64>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => Ok(n.as_f64()),
            Some(Value::String(s)) => match s.as_str() {
                "NaN" => Ok(Some(f64::NAN)),
                "Infinity" => Ok(Some(f64::INFINITY)),
                "-Infinity" => Ok(Some(f64::NEG_INFINITY)),
                _ => s.parse().map(Some).map_err(|_| {
                    ApiError::invalid(format!("Parameter '{key}' must be a number, got '{s}'"))
                }),
            },
            Some(other) => Err(ApiError::invalid(format!(
                "Parameter '{key}' must be a number, got {other}"
            ))),
        }
    }

    /// A list of strings: a JSON array, one value, or repeated query keys.
    pub fn str_list(&self, key: &str) -> ApiResult<Vec<String>> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.clone()),
                    Value::Number(n) => Ok(n.to_string()),
                    other => Err(ApiError::invalid(format!(
                        "'{key}' must list strings, found {other}"
                    ))),
                })
                .collect(),
            Some(Value::String(s)) => Ok(vec![s.clone()]),
            Some(Value::Number(n)) => Ok(vec![n.to_string()]),
            Some(other) => Err(ApiError::invalid(format!(
                "'{key}' must list strings, found {other}"
            ))),
        }
    }

    /// `[{"key": …, "value": …}]` pairs (tags, params).
    pub fn pairs(&self, key: &str) -> ApiResult<Vec<(String, String)>> {
        pairs_of(self.get(key), key)
    }

    pub fn objects(&self, key: &str) -> ApiResult<Vec<Args>> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::Object(m) => Ok(Args(m.clone())),
                    other => Err(ApiError::invalid(format!(
                        "'{key}' must list objects, found {other}"
                    ))),
                })
                .collect(),
            Some(other) => Err(ApiError::invalid(format!(
                "'{key}' must be a list, found {other}"
            ))),
        }
    }

    pub fn object(&self, key: &str) -> Option<Args> {
        match self.get(key) {
            Some(Value::Object(m)) => Some(Args(m.clone())),
            _ => None,
        }
    }
}

pub fn pairs_of(v: Option<&Value>, key: &str) -> ApiResult<Vec<(String, String)>> {
    let Some(v) = v else { return Ok(Vec::new()) };
    let Value::Array(items) = v else {
        return Err(ApiError::invalid(format!(
            "'{key}' must be a list of {{key, value}} objects"
        )));
    };
    items
        .iter()
        .map(|item| {
            let k = item.get("key").and_then(Value::as_str);
            let val = match item.get("value") {
                None | Some(Value::Null) => Some(String::new()),
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                Some(Value::Bool(b)) => Some(b.to_string()),
                Some(_) => None,
            };
            match (k, val) {
                (Some(k), Some(v)) if !k.is_empty() => Ok((k.to_string(), v)),
                _ => Err(ApiError::invalid(format!(
                    "each entry of '{key}' needs a string key and value, found {item}"
                ))),
            }
        })
        .collect()
}

pub(crate) fn decode(s: &str) -> ApiResult<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => {
                        return Err(ApiError::bad_request(format!(
                            "bad percent-encoding in `{s}`"
                        )));
                    }
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out)
        .map_err(|_| ApiError::bad_request(format!("query value `{s}` is not UTF-8")))
}
