//! Preprocessing fitted on the training split and replayed at predict time.
//!
//! Training and serving share one code path, [`Preprocessor::encode_cell`],
//! so what a model saw while it was fitted is exactly what it sees in
//! production.

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::ArtifactError;

/// How rows with a missing value were handled while training.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum MissingPolicy {
    /// Rows with a missing feature or target were dropped before splitting.
    /// At predict time a missing value is an error.
    #[default]
    Drop,
    /// Missing numeric values take the training median, missing categorical
    /// values the training mode. The same values are used at predict time.
    Impute,
}

impl MissingPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            MissingPolicy::Drop => "drop",
            MissingPolicy::Impute => "impute",
        }
    }
}

impl std::str::FromStr for MissingPolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "drop" => Ok(MissingPolicy::Drop),
            "impute" => Ok(MissingPolicy::Impute),
            other => Err(format!(
                "unknown missing-value policy `{other}`: use `drop` or `impute`"
            )),
        }
    }
}

/// One raw input feature, as the learner or a client sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputFeature {
    pub name: String,
    #[serde(flatten)]
    pub kind: InputKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum InputKind {
    /// A numeric feature, standard-scaled with the training mean and
    /// standard deviation (population, ddof = 0, as scikit-learn's
    /// `StandardScaler`). `std` is 1 where scaling is off.
    Numeric {
        mean: f64,
        std: f64,
        impute: Option<f64>,
    },
    /// A categorical feature, one-hot encoded over the categories seen in the
    /// training split. An unseen category encodes as all zeros (scikit-learn's
    /// `handle_unknown="ignore"`).
    Categorical {
        categories: Vec<String>,
        impute: Option<String>,
    },
}

/// A raw cell value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Number(f64),
    Text(String),
    Missing,
}

impl Value {
    /// A number, a string, or `null` for a missing value.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Number(x) => serde_json::json!(x),
            Value::Text(t) => serde_json::Value::String(t.clone()),
            Value::Missing => serde_json::Value::Null,
        }
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Number(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_string())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preprocessor {
    pub features: Vec<InputFeature>,
    pub missing: MissingPolicy,
    pub scaled: bool,
}

impl Preprocessor {
    /// Number of columns after encoding.
    pub fn n_encoded(&self) -> usize {
        self.features
            .iter()
            .map(|f| match &f.kind {
                InputKind::Numeric { .. } => 1,
                InputKind::Categorical { categories, .. } => categories.len(),
            })
            .sum()
    }

    pub fn input_names(&self) -> Vec<&str> {
        self.features.iter().map(|f| f.name.as_str()).collect()
    }

    /// [`Self::input_names`], owned.
    pub fn feature_names(&self) -> Vec<String> {
        self.features.iter().map(|f| f.name.clone()).collect()
    }

    /// Names of the encoded columns: numeric features keep their name,
    /// one-hot columns are `feature=category`.
    pub fn encoded_names(&self) -> Vec<String> {
        let mut out = Vec::with_capacity(self.n_encoded());
        for f in &self.features {
            match &f.kind {
                InputKind::Numeric { .. } => out.push(f.name.clone()),
                InputKind::Categorical { categories, .. } => {
                    out.extend(categories.iter().map(|c| format!("{}={c}", f.name)))
                }
            }
        }
        out
    }

    /// Column offset of each input feature in the encoded matrix.
    fn offsets(&self) -> Vec<usize> {
        let mut at = 0;
        self.features
            .iter()
            .map(|f| {
                let here = at;
                at += match &f.kind {
                    InputKind::Numeric { .. } => 1,
                    InputKind::Categorical { categories, .. } => categories.len(),
                };
                here
            })
            .collect()
    }

    /// Encode one raw cell of feature `feature` into `out`, the slice of the
    /// encoded row that belongs to it. The one code path for training and
    /// serving.
    pub fn encode_cell(
        &self,
        feature: usize,
        value: &Value,
        out: &mut [f64],
    ) -> Result<(), ArtifactError> {
        let f = &self.features[feature];
        match &f.kind {
            InputKind::Numeric { mean, std, impute } => {
                let x = match value {
                    Value::Number(x) if x.is_finite() => *x,
                    Value::Number(x) => {
                        return Err(ArtifactError::BadValue {
                            feature: f.name.clone(),
                            message: format!("{x} is not a finite number"),
                        });
                    }
                    Value::Text(t) => match t.trim().parse::<f64>() {
                        Ok(x) if x.is_finite() => x,
                        _ => {
                            return Err(ArtifactError::BadValue {
                                feature: f.name.clone(),
                                message: format!("expected a number, got text {t:?}"),
                            });
                        }
                    },
                    Value::Missing => impute.ok_or_else(|| ArtifactError::Missing {
                        feature: f.name.clone(),
                    })?,
                };
                out[0] = (x - mean) / std;
            }
            InputKind::Categorical { categories, impute } => {
                let owned;
                let text: &str = match value {
                    Value::Text(t) => t,
                    // Numbers are accepted for categorical features whose
                    // categories are written as numbers (e.g. `origin` = 1).
                    Value::Number(x) => {
                        owned = format_number(*x);
                        &owned
                    }
                    Value::Missing => impute.as_deref().ok_or_else(|| ArtifactError::Missing {
                        feature: f.name.clone(),
                    })?,
                };
                out.iter_mut().for_each(|v| *v = 0.0);
                if let Some(i) = categories.iter().position(|c| c == text) {
                    out[i] = 1.0;
                }
            }
        }
        Ok(())
    }

    /// Encode row-oriented raw input (each row ordered as `features`).
    pub fn encode_rows(&self, rows: &[Vec<Value>]) -> Result<Array2<f64>, ArtifactError> {
        let width = self.n_encoded();
        let offsets = self.offsets();
        let mut x = Array2::<f64>::zeros((rows.len(), width));
        for (r, row) in rows.iter().enumerate() {
            if row.len() != self.features.len() {
                return Err(ArtifactError::Shape(format!(
                    "row {r} has {} values, the model expects {} features ({})",
                    row.len(),
                    self.features.len(),
                    self.input_names().join(", ")
                )));
            }
            let mut out = x.row_mut(r);
            let out = out
                .as_slice_mut()
                .expect("rows of a standard-layout array are contiguous");
            for (i, value) in row.iter().enumerate() {
                let end = offsets.get(i + 1).copied().unwrap_or(width);
                self.encode_cell(i, value, &mut out[offsets[i]..end])
                    .map_err(|e| e.at_row(r))?;
            }
        }
        Ok(x)
    }

    /// Encode column-oriented raw input: `columns[i]` holds every row's value
    /// of feature `i`.
    pub fn encode_columns(&self, columns: &[Vec<Value>]) -> Result<Array2<f64>, ArtifactError> {
        if columns.len() != self.features.len() {
            return Err(ArtifactError::Shape(format!(
                "{} columns given, the model expects {}",
                columns.len(),
                self.features.len()
            )));
        }
        let n = columns.first().map_or(0, Vec::len);
        let width = self.n_encoded();
        let offsets = self.offsets();
        let mut x = Array2::<f64>::zeros((n, width));
        let mut buf = vec![0.0; width];
        for (i, col) in columns.iter().enumerate() {
            if col.len() != n {
                return Err(ArtifactError::Shape(format!(
                    "column `{}` has {} rows, expected {n}",
                    self.features[i].name,
                    col.len()
                )));
            }
            let end = offsets.get(i + 1).copied().unwrap_or(width);
            for (r, value) in col.iter().enumerate() {
                let cell = &mut buf[offsets[i]..end];
                self.encode_cell(i, value, cell).map_err(|e| e.at_row(r))?;
                for (j, v) in cell.iter().enumerate() {
                    x[[r, offsets[i] + j]] = *v;
                }
            }
        }
        Ok(x)
    }
}

/// Numbers used as category names print as integers when they are integral
/// (`1`, not `1.0`), as they read in a CSV.
pub fn format_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pre() -> Preprocessor {
        Preprocessor {
            features: vec![
                InputFeature {
                    name: "a".into(),
                    kind: InputKind::Numeric {
                        mean: 1.0,
                        std: 2.0,
                        impute: Some(3.0),
                    },
                },
                InputFeature {
                    name: "island".into(),
                    kind: InputKind::Categorical {
                        categories: vec!["Biscoe".into(), "Dream".into()],
                        impute: None,
                    },
                },
            ],
            missing: MissingPolicy::Impute,
            scaled: true,
        }
    }

    #[test]
    fn rows_and_columns_encode_the_same() {
        let p = pre();
        let rows = vec![
            vec![Value::Number(5.0), Value::Text("Dream".into())],
            vec![Value::Missing, Value::Text("Torgersen".into())],
        ];
        let cols = vec![
            vec![rows[0][0].clone(), rows[1][0].clone()],
            vec![rows[0][1].clone(), rows[1][1].clone()],
        ];
        let a = p.encode_rows(&rows).unwrap();
        let b = p.encode_columns(&cols).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.row(0).to_vec(), vec![2.0, 0.0, 1.0]);
        // imputed 3.0 -> (3-1)/2 = 1; unseen island -> zeros
        assert_eq!(a.row(1).to_vec(), vec![1.0, 0.0, 0.0]);
        assert_eq!(
            p.encoded_names(),
            vec!["a", "island=Biscoe", "island=Dream"]
        );
    }

    #[test]
    fn missing_without_imputer_is_an_error_naming_the_feature() {
        let p = pre();
        let err = p
            .encode_rows(&[vec![Value::Number(1.0), Value::Missing]])
            .unwrap_err();
        assert!(err.to_string().contains("island"), "{err}");
        let err = p
            .encode_rows(&[vec![Value::Number(f64::NAN), Value::Missing]])
            .unwrap_err();
        assert!(err.to_string().contains("finite"), "{err}");
    }
}
