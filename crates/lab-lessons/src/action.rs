//! The engine actions a lesson step (or its `solve` list) runs: the same
//! `lab-pipeline` calls the CLI and the app make.

use std::collections::BTreeMap;

use lab_pipeline::{DataSource, Event, Lab, MissingPolicy, ModelKind, TrainRequest};
use serde::{Deserialize, Serialize};

use crate::{LessonError, Result};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Action {
    /// `mlops-lab data profile DATASET`.
    Profile { dataset: String },
    /// `mlops-lab data validate DATASET`.
    Validate { dataset: String },
    /// `mlops-lab train --dataset DATASET --model MODEL …`.
    Train {
        dataset: String,
        model: String,
        #[serde(default)]
        params: BTreeMap<String, String>,
        seed: Option<u64>,
        /// Train on this drift scenario's reference slice.
        scenario: Option<String>,
        /// `drop` (default) or `impute`.
        missing: Option<String>,
        test_fraction: Option<f64>,
    },
}

/// What an action did: a line to show, and the ids it made.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ActionOutcome {
    pub summary: String,
    /// Run ids (and later versions, deployments …) it created.
    pub created: Vec<String>,
}

impl Action {
    /// Check the action's values against the lab's catalogue and models:
    /// what a lesson file names must exist.
    pub fn validate(&self, lab: &Lab) -> std::result::Result<(), String> {
        let catalog = lab.catalog();
        match self {
            Action::Profile { dataset } | Action::Validate { dataset } => catalog
                .dataset(dataset)
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Action::Train {
                dataset,
                model,
                params,
                scenario,
                missing,
                test_fraction,
                ..
            } => {
                catalog.dataset(dataset).map_err(|e| e.to_string())?;
                let kind: ModelKind = model.parse()?;
                let specs = lab_pipeline::param_specs(kind);
                for k in params.keys() {
                    if !specs.iter().any(|s| s.name == k.as_str()) {
                        return Err(format!("{model} has no parameter `{k}`"));
                    }
                }
                if let Some(sc) = scenario {
                    let (owner, _) = catalog.scenario(sc).map_err(|e| e.to_string())?;
                    if owner.name != *dataset {
                        return Err(format!("scenario `{sc}` is not one of `{dataset}`"));
                    }
                }
                if let Some(m) = missing
                    && !matches!(m.as_str(), "drop" | "impute")
                {
                    return Err(format!("missing = `{m}`: drop or impute"));
                }
                if let Some(f) = test_fraction
                    && !(*f > 0.0 && *f < 1.0)
                {
                    return Err(format!("test_fraction {f} is not between 0 and 1"));
                }
                Ok(())
            }
        }
    }

    /// Run it on `lab`, reporting progress to `sink`.
    pub fn run(&self, lab: &Lab, sink: &dyn Fn(Event)) -> Result<ActionOutcome> {
        match self {
            Action::Profile { dataset } => {
                let p = lab.profile(&DataSource::Catalog {
                    name: dataset.clone(),
                })?;
                Ok(ActionOutcome {
                    summary: format!(
                        "profiled {dataset}: {} rows, {} columns",
                        p.rows,
                        p.columns.len()
                    ),
                    created: vec![],
                })
            }
            Action::Validate { dataset } => {
                let r = lab.validate(&DataSource::Catalog {
                    name: dataset.clone(),
                })?;
                Ok(ActionOutcome {
                    summary: format!(
                        "validated {dataset}: {} of {} expectations passed",
                        r.passed,
                        r.passed + r.failed
                    ),
                    created: vec![],
                })
            }
            Action::Train {
                dataset,
                model,
                params,
                seed,
                scenario,
                missing,
                test_fraction,
            } => {
                let kind: ModelKind = model.parse().map_err(LessonError::Invalid)?;
                let source = match scenario {
                    Some(sc) => DataSource::Scenario {
                        name: dataset.clone(),
                        scenario: sc.clone(),
                    },
                    None => DataSource::Catalog {
                        name: dataset.clone(),
                    },
                };
                let mut req = TrainRequest::new(source, kind);
                req.params = params.clone();
                req.seed = *seed;
                if let Some(f) = test_fraction {
                    req.test_fraction = *f;
                }
                if missing.as_deref() == Some("impute") {
                    req.missing = MissingPolicy::Impute;
                }
                let r = lab.train(&req, sink)?;
                let shown: Vec<String> = lab_pipeline::headline_metrics(&r.metrics, 2)
                    .iter()
                    .map(|(m, v)| format!("{m} {v:.4}"))
                    .collect();
                Ok(ActionOutcome {
                    summary: format!(
                        "trained {model} on {dataset}: run {} ({})",
                        &r.run_id[..8],
                        shown.join(", ")
                    ),
                    created: vec![r.run_id],
                })
            }
        }
    }
}
