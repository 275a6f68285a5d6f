//! The artifact envelope and `predict`.

use std::collections::BTreeMap;
use std::path::Path;

use linfa::prelude::Predict;
use linfa_bayes::NaiveBayes;
use ndarray::{Array1, Array2, Axis};
use serde::{Deserialize, Serialize};

use crate::preprocess::{Preprocessor, Value};

/// Bumped whenever the envelope changes shape; a server refuses an artifact
/// whose version it does not know instead of misreading it.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    #[error("cannot read model artifact {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("model artifact {path} is not valid JSON for this format: {source}")]
    Parse {
        path: String,
        source: serde_json::Error,
    },
    #[error(
        "model artifact has format version {found}, this build reads version {FORMAT_VERSION}: retrain the model or upgrade MLOps Lab"
    )]
    Version { found: u32 },
    #[error("model artifact is inconsistent: {0}")]
    Inconsistent(String),
    #[error("feature `{feature}` is missing and the model was trained without imputation")]
    Missing { feature: String },
    #[error("feature `{feature}`: {message}")]
    BadValue { feature: String, message: String },
    #[error("{0}")]
    Shape(String),
    #[error("row {row}: {source}")]
    AtRow {
        row: usize,
        source: Box<ArtifactError>,
    },
}

impl ArtifactError {
    pub(crate) fn at_row(self, row: usize) -> ArtifactError {
        match self {
            e @ ArtifactError::AtRow { .. } => e,
            e => ArtifactError::AtRow {
                row,
                source: Box::new(e),
            },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Task {
    BinaryClassification,
    MulticlassClassification,
    Regression,
    Clustering,
}

impl Task {
    pub fn is_classification(self) -> bool {
        matches!(
            self,
            Task::BinaryClassification | Task::MulticlassClassification
        )
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Task::BinaryClassification => "binary-classification",
            Task::MulticlassClassification => "multiclass-classification",
            Task::Regression => "regression",
            Task::Clustering => "clustering",
        }
    }
}

impl std::fmt::Display for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelKind {
    LogisticRegression,
    DecisionTree,
    GaussianNb,
    LinearRegression,
    ElasticNet,
    KMeans,
}

impl ModelKind {
    pub const ALL: [ModelKind; 6] = [
        ModelKind::LogisticRegression,
        ModelKind::DecisionTree,
        ModelKind::GaussianNb,
        ModelKind::LinearRegression,
        ModelKind::ElasticNet,
        ModelKind::KMeans,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ModelKind::LogisticRegression => "logistic-regression",
            ModelKind::DecisionTree => "decision-tree",
            ModelKind::GaussianNb => "gaussian-nb",
            ModelKind::LinearRegression => "linear-regression",
            ModelKind::ElasticNet => "elastic-net",
            ModelKind::KMeans => "k-means",
        }
    }

    /// Whether this model can learn `task`.
    pub fn supports(self, task: Task) -> bool {
        match self {
            ModelKind::LogisticRegression | ModelKind::DecisionTree | ModelKind::GaussianNb => {
                task.is_classification()
            }
            ModelKind::LinearRegression | ModelKind::ElasticNet => task == Task::Regression,
            ModelKind::KMeans => true,
        }
    }
}

impl std::fmt::Display for ModelKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

impl std::str::FromStr for ModelKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase().replace('_', "-");
        ModelKind::ALL
            .into_iter()
            .find(|k| k.as_str() == wanted || (wanted == "kmeans" && *k == ModelKind::KMeans))
            .ok_or_else(|| {
                format!(
                    "unknown model `{s}`: choose one of {}",
                    ModelKind::ALL.map(|k| k.as_str()).join(", ")
                )
            })
    }
}

/// The fitted linfa model. Classes are encoded as indices into
/// [`ModelArtifact::classes`].
///
/// Externally tagged on purpose: an internally or adjacently tagged enum
/// buffers its content, and buffered map keys (`"0"`, from linfa's
/// `HashMap<usize, _>`) no longer deserialize as integers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FittedModel {
    LogisticRegression(linfa_logistic::FittedLogisticRegression<f64, usize>),
    MultinomialLogisticRegression(linfa_logistic::MultiFittedLogisticRegression<f64, usize>),
    DecisionTree(linfa_trees::DecisionTree<f64, usize>),
    GaussianNb(linfa_bayes::GaussianNb<f64, usize>),
    LinearRegression(linfa_linear::FittedLinearRegression<f64>),
    ElasticNet(linfa_elasticnet::ElasticNet<f64>),
    /// linfa's `KMeans` assigns each row to its nearest centroid; the
    /// centroids are all prediction needs.
    KMeans {
        centroids: Array2<f64>,
    },
}

impl FittedModel {
    /// Number of encoded input columns the fitted model expects, where the
    /// model records it.
    fn n_inputs(&self) -> Option<usize> {
        match self {
            FittedModel::LogisticRegression(m) => Some(m.params().len()),
            FittedModel::MultinomialLogisticRegression(m) => Some(m.params().nrows()),
            FittedModel::LinearRegression(m) => Some(m.params().len()),
            FittedModel::ElasticNet(m) => Some(m.hyperplane().len()),
            FittedModel::KMeans { centroids } => Some(centroids.ncols()),
            FittedModel::DecisionTree(_) | FittedModel::GaussianNb(_) => None,
        }
    }
}

/// Where the training data came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetRef {
    /// Catalogue name, or the file name of the learner's own CSV.
    pub name: String,
    /// How the target was obtained, e.g. `quality >= 6`.
    pub target_definition: String,
    /// Which split was used (`reference:<file>` or `seeded:<seed>`).
    pub split: String,
    pub train_rows: usize,
    pub test_rows: usize,
}

/// The model artifact written as `model.json` next to a run.
///
/// It holds nothing that changes between two identical trainings (no time,
/// no run id), so the same data, seed and parameters give the same bytes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelArtifact {
    pub format_version: u32,
    pub model_kind: ModelKind,
    pub task: Task,
    pub target: String,
    /// Class labels, index-aligned with the model's class indices and with
    /// the probability columns. Empty for regression and clustering.
    pub classes: Vec<String>,
    pub preprocessor: Preprocessor,
    pub model: FittedModel,
    pub params: BTreeMap<String, String>,
    pub metrics: BTreeMap<String, f64>,
    pub dataset: DatasetRef,
    pub library: String,
    pub notes: Vec<String>,
}

/// One prediction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Prediction {
    Class {
        label: String,
        class_index: usize,
        /// Probability of each class, aligned with the artifact's `classes`;
        /// absent for models that do not estimate probabilities.
        #[serde(skip_serializing_if = "Option::is_none")]
        probabilities: Option<Vec<f64>>,
    },
    Value {
        value: f64,
    },
    Cluster {
        cluster: usize,
    },
}

impl Prediction {
    /// The output as a JSON scalar: the class label, the value or the
    /// cluster number (what scoring protocols and the prediction log carry).
    pub fn output_json(&self) -> serde_json::Value {
        match self {
            Prediction::Class { label, .. } => serde_json::json!(label),
            Prediction::Value { value } => serde_json::json!(value),
            Prediction::Cluster { cluster } => serde_json::json!(cluster),
        }
    }
}

/// Raw model output for a batch.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    Classes {
        index: Vec<usize>,
        probabilities: Option<Array2<f64>>,
    },
    Values(Vec<f64>),
    Clusters(Vec<usize>),
}

impl ModelArtifact {
    /// Serialise to JSON bytes. Keys come out in a fixed order (serde_json's
    /// `Value` keeps maps sorted), so maps that linfa holds as `HashMap` do not
    /// make two identical trainings differ; floats are written shortest
    /// round-trip.
    pub fn to_json_bytes(&self) -> Vec<u8> {
        let value = serde_json::to_value(self).expect("artifact serialises to JSON");
        let mut bytes = serde_json::to_vec_pretty(&value).expect("JSON value serialises");
        bytes.push(b'\n');
        bytes
    }

    pub fn from_json_bytes(bytes: &[u8], origin: &str) -> Result<Self, ArtifactError> {
        #[derive(Deserialize)]
        struct Head {
            format_version: u32,
        }
        let head: Head = serde_json::from_slice(bytes).map_err(|source| ArtifactError::Parse {
            path: origin.to_string(),
            source,
        })?;
        if head.format_version != FORMAT_VERSION {
            return Err(ArtifactError::Version {
                found: head.format_version,
            });
        }
        let artifact: ModelArtifact =
            serde_json::from_slice(bytes).map_err(|source| ArtifactError::Parse {
                path: origin.to_string(),
                source,
            })?;
        artifact.check()?;
        Ok(artifact)
    }

    pub fn load(path: &Path) -> Result<Self, ArtifactError> {
        let bytes = std::fs::read(path).map_err(|source| ArtifactError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_json_bytes(&bytes, &path.display().to_string())
    }

    /// Internal consistency: encoded width matches the model, classes match
    /// the task.
    pub fn check(&self) -> Result<(), ArtifactError> {
        let width = self.preprocessor.n_encoded();
        if let Some(n) = self.model.n_inputs()
            && n != width
        {
            return Err(ArtifactError::Inconsistent(format!(
                "the preprocessor yields {width} columns but the model expects {n}"
            )));
        }
        if self.task.is_classification() && self.classes.len() < 2 {
            return Err(ArtifactError::Inconsistent(
                "a classifier needs at least two class labels".into(),
            ));
        }
        Ok(())
    }

    /// Predict from an encoded matrix (output of the preprocessor).
    pub fn predict_encoded(&self, x: &Array2<f64>) -> Result<Output, ArtifactError> {
        let width = self.preprocessor.n_encoded();
        if x.ncols() != width {
            return Err(ArtifactError::Shape(format!(
                "{} encoded columns given, the model expects {width}",
                x.ncols()
            )));
        }
        let n_classes = self.classes.len();
        Ok(match &self.model {
            FittedModel::LogisticRegression(m) => {
                let p_pos = m.predict_probabilities(x);
                let pos = m.labels().pos.class;
                let neg = m.labels().neg.class;
                let mut proba = Array2::<f64>::zeros((x.nrows(), n_classes));
                for (r, p) in p_pos.iter().enumerate() {
                    proba[[r, pos]] = *p;
                    proba[[r, neg]] = 1.0 - *p;
                }
                let index: Array1<usize> = m.predict(x);
                Output::Classes {
                    index: index.to_vec(),
                    probabilities: Some(proba),
                }
            }
            FittedModel::MultinomialLogisticRegression(m) => {
                let p = m.predict_probabilities(x);
                Output::Classes {
                    index: argmax_rows(&p).iter().map(|&i| m.classes()[i]).collect(),
                    probabilities: Some(spread_columns(&p, m.classes(), n_classes)),
                }
            }
            FittedModel::DecisionTree(m) => {
                let index: Array1<usize> = m.predict(x);
                Output::Classes {
                    index: index.to_vec(),
                    probabilities: None,
                }
            }
            FittedModel::GaussianNb(m) => {
                // Softmax over the joint log likelihoods with log-sum-exp,
                // classes in index order so ties break the same way every run.
                let jll = m.joint_log_likelihood(x.view());
                let mut classes: Vec<usize> = jll.keys().map(|c| **c).collect();
                classes.sort_unstable();
                let mut logp = Array2::<f64>::zeros((x.nrows(), classes.len()));
                for (j, c) in classes.iter().enumerate() {
                    logp.column_mut(j).assign(&jll[c]);
                }
                for mut row in logp.rows_mut() {
                    let max = row.fold(f64::NEG_INFINITY, |a, &b| a.max(b));
                    let lse = max + row.mapv(|v| (v - max).exp()).sum().ln();
                    row.mapv_inplace(|v| (v - lse).exp());
                }
                Output::Classes {
                    index: argmax_rows(&logp).iter().map(|&i| classes[i]).collect(),
                    probabilities: Some(spread_columns(&logp, &classes, n_classes)),
                }
            }
            FittedModel::LinearRegression(m) => {
                let y: Array1<f64> = m.predict(x);
                Output::Values(y.to_vec())
            }
            FittedModel::ElasticNet(m) => {
                let y: Array1<f64> = m.predict(x);
                Output::Values(y.to_vec())
            }
            FittedModel::KMeans { centroids } => Output::Clusters(
                x.axis_iter(Axis(0))
                    .map(|row| {
                        let mut best = (0, f64::INFINITY);
                        for (k, c) in centroids.axis_iter(Axis(0)).enumerate() {
                            let d: f64 =
                                row.iter().zip(c.iter()).map(|(a, b)| (a - b).powi(2)).sum();
                            if d < best.1 {
                                best = (k, d);
                            }
                        }
                        best.0
                    })
                    .collect(),
            ),
        })
    }

    /// Predict from raw rows, each ordered as the artifact's input features.
    pub fn predict_rows(&self, rows: &[Vec<Value>]) -> Result<Vec<Prediction>, ArtifactError> {
        let x = self.preprocessor.encode_rows(rows)?;
        Ok(self.to_predictions(self.predict_encoded(&x)?))
    }

    pub fn to_predictions(&self, output: Output) -> Vec<Prediction> {
        match output {
            Output::Classes {
                index,
                probabilities,
            } => index
                .into_iter()
                .enumerate()
                .map(|(r, i)| Prediction::Class {
                    label: self
                        .classes
                        .get(i)
                        .cloned()
                        .unwrap_or_else(|| i.to_string()),
                    class_index: i,
                    probabilities: probabilities.as_ref().map(|p| p.row(r).to_vec()),
                })
                .collect(),
            Output::Values(v) => v
                .into_iter()
                .map(|value| Prediction::Value { value })
                .collect(),
            Output::Clusters(c) => c
                .into_iter()
                .map(|cluster| Prediction::Cluster { cluster })
                .collect(),
        }
    }
}

fn argmax_rows(p: &Array2<f64>) -> Vec<usize> {
    p.axis_iter(Axis(0))
        .map(|row| {
            let mut best = 0;
            for (j, v) in row.iter().enumerate() {
                if *v > row[best] {
                    best = j;
                }
            }
            best
        })
        .collect()
}

/// Place probability columns, ordered as `classes`, at their class index in a
/// matrix of `n_classes` columns (a class absent from training stays 0).
fn spread_columns(p: &Array2<f64>, classes: &[usize], n_classes: usize) -> Array2<f64> {
    let mut out = Array2::<f64>::zeros((p.nrows(), n_classes.max(classes.len())));
    for (j, c) in classes.iter().enumerate() {
        out.column_mut(*c).assign(&p.column(j));
    }
    out
}
