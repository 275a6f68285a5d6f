//! The JSON the lab writes beside its records, one type each, written and
//! read through that same type: a run's `evaluation.json` and
//! `reference.json`, a monitoring window's `detail`, and the latest data
//! activity.

use lab_data::Prepared;
use lab_model::ModelArtifact;
use lab_monitor::{ColumnDrift, DriftReport, PredictionDistribution};
use lab_train::Evaluation;
use serde::{Deserialize, Serialize};
use serde_json::Value as J;

use crate::{PipelineError, Result};

/// `evaluation.json`: how a run's model did on its test and train rows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunEvaluation {
    pub classes: Vec<String>,
    pub test: Evaluation,
    pub train: Evaluation,
    /// Indices of the test rows in the data trained on.
    pub test_rows: Vec<usize>,
}

/// `reference.json`: what monitoring compares served traffic with: the raw
/// train rows, their labels and the model's predictions on them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reference {
    pub features: Vec<String>,
    pub target: String,
    pub rows: Vec<Vec<J>>,
    pub labels: Vec<J>,
    pub predictions: Vec<J>,
}

impl Reference {
    pub(crate) fn of(prepared: &Prepared, artifact: &ModelArtifact) -> Reference {
        let labels = match &prepared.y_train {
            lab_data::Target::Classes(c) => c
                .iter()
                .map(|&i| serde_json::json!(prepared.classes.get(i)))
                .collect(),
            lab_data::Target::Values(v) => v.iter().map(|x| serde_json::json!(x)).collect(),
        };
        Reference {
            features: prepared.task.features.clone(),
            target: prepared.task.target_name.clone(),
            rows: prepared
                .raw_train
                .iter()
                .map(|r| r.iter().map(lab_model::Value::to_json).collect())
                .collect(),
            labels,
            predictions: artifact
                .predict_rows(&prepared.raw_train)
                .map(|p| p.iter().map(lab_model::Prediction::output_json).collect())
                .unwrap_or_default(),
        }
    }

    pub(crate) fn column(&self, i: usize) -> Vec<J> {
        self.rows
            .iter()
            .map(|r| r.get(i).cloned().unwrap_or(J::Null))
            .collect()
    }
}

/// A monitoring window's `detail`: what does not fit its columns. Each
/// field reads on its own: one an earlier release wrote differently reads
/// as absent, and the others still read.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WindowDetail {
    /// Drift of every feature (with enough predictions).
    #[serde(default, deserialize_with = "lenient")]
    pub drift: Option<DriftReport>,
    /// The model's outputs against its outputs on the reference rows.
    #[serde(default, deserialize_with = "lenient")]
    pub prediction_drift: Option<ColumnDrift>,
    #[serde(default, deserialize_with = "lenient")]
    pub prediction_distribution: Option<PredictionDistribution>,
    /// The late labels against the training labels.
    #[serde(default, deserialize_with = "lenient")]
    pub target_drift: Option<ColumnDrift>,
    /// The run's own quality metric on its test split.
    #[serde(default, deserialize_with = "lenient")]
    pub quality_baseline: Option<f64>,
    #[serde(default, deserialize_with = "lenient")]
    pub quality_drop: Option<f64>,
}

/// A field that does not read as `T` reads as `None`.
fn lenient<'de, D, T>(d: D) -> std::result::Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    Ok(T::deserialize(J::deserialize(d)?).ok())
}

impl WindowDetail {
    /// Read a stored detail; text that is not a JSON object reads as
    /// empty, never as an error.
    pub fn parse(text: &str) -> WindowDetail {
        serde_json::from_str(text).unwrap_or_default()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// What was last done with data (the app's Data stage shows it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "lowercase")]
pub enum DataActivity {
    Profiled {
        rows: usize,
        columns: usize,
    },
    Validated {
        rows: usize,
        passed: usize,
        failed: usize,
    },
}

impl DataActivity {
    pub(crate) const KIND: &'static str = "data";
}

/// Write `value` as JSON to `rel` under the lab home, atomically.
pub(crate) fn write_json<T: Serialize>(
    home: &lab_store::LabHome,
    rel: &str,
    value: &T,
    pretty: bool,
) -> Result<()> {
    let bytes = if pretty {
        serde_json::to_vec_pretty(value)
    } else {
        serde_json::to_vec(value)
    }
    .map_err(|e| PipelineError::Invalid(format!("{rel}: {e}")))?;
    home.write_atomic(rel, &bytes)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_detail_reads_field_by_field() {
        // An earlier release wrote null for a missing drift, and a field in
        // a shape this one does not know: the other fields still read.
        let d = WindowDetail::parse(
            r#"{"prediction_drift": null, "target_drift": {"odd": 1},
                "quality_baseline": 0.9, "quality_drop": 0.25, "later": true}"#,
        );
        assert!(d.prediction_drift.is_none() && d.target_drift.is_none());
        assert_eq!(
            (d.quality_baseline, d.quality_drop),
            (Some(0.9), Some(0.25))
        );
        assert!(WindowDetail::parse("not json").quality_drop.is_none());
        let back = WindowDetail::parse(&d.to_json());
        assert_eq!(back.quality_drop, Some(0.25));
    }

    #[test]
    fn the_data_activity_of_the_earlier_release_reads() {
        let a: DataActivity = serde_json::from_str(
            r#"{"action": "validated", "rows": 398, "passed": 9, "failed": 0}"#,
        )
        .unwrap();
        assert_eq!(
            a,
            DataActivity::Validated {
                rows: 398,
                passed: 9,
                failed: 0
            }
        );
    }
}
