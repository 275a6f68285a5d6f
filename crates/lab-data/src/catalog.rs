//! `sample-data/catalog.toml`: datasets, their learning targets, data
//! expectations and drift scenarios.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use lab_model::Task;
use serde::{Deserialize, Serialize};

use crate::{DataError, Result};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Catalog {
    #[serde(rename = "dataset")]
    pub datasets: Vec<DatasetSpec>,
    /// The folder the catalogue was read from; dataset files are relative to it.
    #[serde(skip)]
    pub root: PathBuf,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DatasetSpec {
    pub name: String,
    pub title: String,
    pub file: String,
    pub rows: usize,
    pub columns: usize,
    pub description: String,
    pub default_target: String,
    #[serde(rename = "target")]
    pub targets: Vec<TargetSpec>,
    #[serde(default)]
    pub expect: Option<Expectations>,
    #[serde(rename = "scenario", default)]
    pub scenarios: Vec<ScenarioSpec>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TargetSpec {
    pub name: String,
    pub task: Task,
    pub column: String,
    #[serde(default)]
    pub derive: Option<Derive>,
    pub features: Vec<String>,
    #[serde(default)]
    pub reference_split: Option<String>,
    /// Minimum metric values a run must reach to pass validation (for
    /// error metrics such as `rmse`, maximum values).
    #[serde(default)]
    pub gate: BTreeMap<String, f64>,
}

/// A binary target derived from a numeric column: `true_label` where
/// `column op value` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Derive {
    pub op: String,
    pub value: f64,
    pub true_label: String,
    pub false_label: String,
}

impl Derive {
    pub fn holds(&self, x: f64) -> Result<bool> {
        Ok(match self.op.as_str() {
            ">=" => x >= self.value,
            ">" => x > self.value,
            "<=" => x <= self.value,
            "<" => x < self.value,
            "==" => x == self.value,
            other => {
                return Err(DataError::Invalid(format!(
                    "unknown comparison `{other}` in a derived target: use >=, >, <=, < or =="
                )));
            }
        })
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Expectations {
    #[serde(default)]
    pub min_rows: Option<usize>,
    #[serde(default)]
    pub columns: BTreeMap<String, ColumnExpectation>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnType {
    Numeric,
    Integer,
    Float,
    Categorical,
}

impl ColumnType {
    pub fn is_numeric(self) -> bool {
        !matches!(self, ColumnType::Categorical)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            ColumnType::Numeric => "numeric",
            ColumnType::Integer => "integer",
            ColumnType::Float => "float",
            ColumnType::Categorical => "categorical",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ColumnExpectation {
    #[serde(rename = "type")]
    pub ty: ColumnType,
    #[serde(default)]
    pub min: Option<f64>,
    #[serde(default)]
    pub max: Option<f64>,
    #[serde(default)]
    pub max_null_ratio: Option<f64>,
    #[serde(default)]
    pub allowed: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScenarioSpec {
    pub name: String,
    pub description: String,
    pub reference: Slice,
    pub current: Slice,
    /// What a correct drift report says about this scenario.
    #[serde(default)]
    pub expect_drift: Option<bool>,
}

/// Rows whose `column` is in `values`, or within `[min, max]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Slice {
    pub column: String,
    #[serde(rename = "in", default)]
    pub values: Option<Vec<SliceValue>>,
    #[serde(default)]
    pub min: Option<f64>,
    #[serde(default)]
    pub max: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SliceValue {
    Number(f64),
    Text(String),
}

impl Catalog {
    pub const ENV: &'static str = "MLOPS_LAB_SAMPLE_DATA";

    /// Where the shipped sample data lives: `MLOPS_LAB_SAMPLE_DATA`, else
    /// `sample-data` beside the executable or in `../share/mlops-lab`, else
    /// the source tree this binary was built from.
    pub fn default_root() -> PathBuf {
        if let Some(p) = std::env::var_os(Self::ENV).filter(|p| !p.is_empty()) {
            return PathBuf::from(p);
        }
        if let Ok(exe) = std::env::current_exe()
            && let Some(dir) = exe.parent()
        {
            for c in [
                dir.join("sample-data"),
                dir.join("../share/mlops-lab/sample-data"),
            ] {
                if c.join("catalog.toml").is_file() {
                    return c;
                }
            }
        }
        let source_tree = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sample-data");
        source_tree.canonicalize().unwrap_or(source_tree)
    }

    pub fn load_default() -> Result<Catalog> {
        Self::load(&Self::default_root())
    }

    pub fn load(root: &Path) -> Result<Catalog> {
        let path = root.join("catalog.toml");
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(&path).map_err(|e| DataError::Catalog {
            path: shown.clone(),
            message: format!("{e} (set {} to the sample-data folder)", Self::ENV),
        })?;
        let mut catalog: Catalog = toml::from_str(&text).map_err(|e| DataError::Catalog {
            path: shown.clone(),
            message: e.to_string(),
        })?;
        catalog.root = root.to_path_buf();
        catalog.check().map_err(|message| DataError::Catalog {
            path: shown,
            message,
        })?;
        Ok(catalog)
    }

    fn check(&self) -> std::result::Result<(), String> {
        for d in &self.datasets {
            if !d.targets.iter().any(|t| t.name == d.default_target) {
                return Err(format!(
                    "dataset `{}`: default_target `{}` is not one of its targets",
                    d.name, d.default_target
                ));
            }
            for t in &d.targets {
                if t.features.contains(&t.column) {
                    return Err(format!(
                        "dataset `{}`, target `{}`: the target column is also a feature",
                        d.name, t.name
                    ));
                }
            }
        }
        Ok(())
    }

    pub fn names(&self) -> Vec<&str> {
        self.datasets.iter().map(|d| d.name.as_str()).collect()
    }

    pub fn dataset(&self, name: &str) -> Result<&DatasetSpec> {
        self.datasets
            .iter()
            .find(|d| d.name == name)
            .ok_or_else(|| DataError::UnknownDataset {
                name: name.to_string(),
                available: self.names().join(", "),
            })
    }

    pub fn path_of(&self, dataset: &DatasetSpec) -> PathBuf {
        self.root.join(&dataset.file)
    }

    /// Every scenario of every dataset, with its dataset.
    pub fn scenarios(&self) -> Vec<(&DatasetSpec, &ScenarioSpec)> {
        self.datasets
            .iter()
            .flat_map(|d| d.scenarios.iter().map(move |s| (d, s)))
            .collect()
    }

    pub fn scenario(&self, name: &str) -> Result<(&DatasetSpec, &ScenarioSpec)> {
        let all = self.scenarios();
        all.iter()
            .find(|(_, s)| s.name == name)
            .copied()
            .ok_or_else(|| DataError::UnknownScenario {
                name: name.to_string(),
                available: all
                    .iter()
                    .map(|(_, s)| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

impl DatasetSpec {
    /// The target named `name`, or the default one.
    pub fn target(&self, name: Option<&str>) -> Result<&TargetSpec> {
        let wanted = name.unwrap_or(&self.default_target);
        self.targets
            .iter()
            .find(|t| t.name == wanted)
            .ok_or_else(|| DataError::UnknownTarget {
                dataset: self.name.clone(),
                target: wanted.to_string(),
                available: self
                    .targets
                    .iter()
                    .map(|t| t.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// Expected column types, for strict loading.
    pub fn column_types(&self) -> BTreeMap<String, ColumnType> {
        self.expect
            .as_ref()
            .map(|e| e.columns.iter().map(|(k, v)| (k.clone(), v.ty)).collect())
            .unwrap_or_default()
    }
}
