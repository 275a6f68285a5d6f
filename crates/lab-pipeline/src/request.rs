//! What front ends ask for: data sources, train requests and their
//! results, model references.

use std::collections::BTreeMap;
use std::path::PathBuf;

use lab_model::{MissingPolicy, ModelKind, Task};
use lab_train::{Comparison, GateResult};
use serde::{Deserialize, Serialize};

use crate::{PipelineError, Result};

/// Where training data comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum DataSource {
    /// A dataset of the shipped catalogue.
    Catalog { name: String },
    /// The learner's own CSV file.
    File { path: PathBuf },
    /// The reference slice of a catalogue dataset's drift scenario (what a
    /// model is first trained on in the monitoring lessons).
    Scenario { name: String, scenario: String },
    /// Rows of a catalogue dataset saved to a CSV file (what the Data step
    /// of an exported Kubeflow pipeline outputs), read with that dataset's
    /// column types, target and expectations.
    Snapshot { name: String, path: PathBuf },
    /// A catalogue dataset (or its scenario's reference slice) plus newly
    /// labelled rows from a CSV with the task's feature and target columns:
    /// the data of a retrain.
    Augmented {
        name: String,
        scenario: Option<String>,
        extra: PathBuf,
    },
}

impl DataSource {
    /// The catalogue dataset behind this source, if any.
    pub fn dataset_name(&self) -> Option<&str> {
        match self {
            DataSource::Catalog { name }
            | DataSource::Scenario { name, .. }
            | DataSource::Snapshot { name, .. }
            | DataSource::Augmented { name, .. } => Some(name),
            DataSource::File { .. } => None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainRequest {
    pub source: DataSource,
    /// Catalogue target name (default: the dataset's default), or for a file
    /// the target column (required).
    pub target: Option<String>,
    pub features: Option<Vec<String>>,
    /// For a file: the task, inferred from the target when absent.
    pub task: Option<Task>,
    pub model: ModelKind,
    pub params: BTreeMap<String, String>,
    /// Seed for the split and for randomised models. Absent: the dataset's
    /// shipped reference split when it has one, else seed 42.
    pub seed: Option<u64>,
    pub test_fraction: f64,
    pub missing: MissingPolicy,
    pub scale: bool,
    pub experiment: Option<String>,
    pub run_name: Option<String>,
    /// Gate thresholds that override the catalogue's.
    pub gate: BTreeMap<String, f64>,
    /// Registered model to compare against (its `champion`); default
    /// `<dataset>-<target>`.
    pub compare_with: Option<String>,
}

impl TrainRequest {
    pub fn new(source: DataSource, model: ModelKind) -> Self {
        TrainRequest {
            source,
            target: None,
            features: None,
            task: None,
            model,
            params: BTreeMap::new(),
            seed: None,
            test_fraction: 0.25,
            missing: MissingPolicy::Drop,
            scale: true,
            experiment: None,
            run_name: None,
            gate: BTreeMap::new(),
            compare_with: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainResult {
    pub run_id: String,
    pub run_name: String,
    pub experiment_id: String,
    pub dataset: String,
    pub target: String,
    pub task: Task,
    pub model: ModelKind,
    pub params: BTreeMap<String, String>,
    /// Test-split metrics.
    pub metrics: BTreeMap<String, f64>,
    pub train_metrics: BTreeMap<String, f64>,
    pub confusion_matrix: Option<Vec<Vec<usize>>>,
    pub classes: Vec<String>,
    pub gate: GateResult,
    /// Against the registered model's champion on this run's test rows.
    pub champion: Option<ChampionComparison>,
    pub split: String,
    pub train_rows: usize,
    pub test_rows: usize,
    pub dropped_rows: usize,
    pub missing: MissingPolicy,
    pub deterministic: bool,
    pub notes: Vec<String>,
    /// Relative to the lab home.
    pub artifact_path: String,
    pub fit_seconds: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChampionComparison {
    pub model: String,
    pub version: i64,
    #[serde(flatten)]
    pub comparison: Comparison,
}

/// `name`, `name@alias` or `name:version`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ModelRef {
    Latest(String),
    Alias(String, String),
    Version(String, i64),
}

impl std::str::FromStr for ModelRef {
    type Err = PipelineError;
    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim();
        if let Some((n, a)) = s.split_once('@') {
            return Ok(ModelRef::Alias(n.to_string(), a.to_string()));
        }
        if let Some((n, v)) = s.split_once(':') {
            let v = v.trim_start_matches('v').parse::<i64>().map_err(|_| {
                PipelineError::Invalid(format!(
                    "`{s}`: a version is a number, as in `{n}:3`; use `{n}@alias` for an alias"
                ))
            })?;
            return Ok(ModelRef::Version(n.to_string(), v));
        }
        if s.is_empty() {
            return Err(PipelineError::Invalid("empty model reference".into()));
        }
        Ok(ModelRef::Latest(s.to_string()))
    }
}

/// The registered-model name used for a catalogue task by default.
pub fn default_model_name(dataset: &str, target: &str) -> String {
    format!("{dataset}-{target}")
}
