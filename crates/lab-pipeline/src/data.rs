//! Data: load a source, profile it, validate it, and prepare the train and
//! test matrices of a request.

use std::collections::BTreeMap;

use lab_data::{Catalog, DatasetSpec, PrepareOptions, Prepared, SplitSpec, Table, TaskSpec};

use serde::{Deserialize, Serialize};

use crate::files::DataActivity;
use crate::lab::Lab;
use crate::request::{DataSource, TrainRequest};
use crate::{PipelineError, Result};

/// A catalogue dataset as front ends list it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DatasetSummary {
    pub name: String,
    pub title: String,
    pub rows: usize,
    pub columns: usize,
    pub description: String,
    pub targets: Vec<String>,
    pub scenarios: Vec<String>,
}

/// A model that can learn a dataset's default task, with its parameters.
#[derive(Debug, Clone, Serialize)]
pub struct ModelChoice {
    pub name: String,
    pub params: Vec<lab_train::ParamSpec>,
}

impl Lab {
    /// The shipped datasets.
    pub fn dataset_summaries(&self) -> Vec<DatasetSummary> {
        self.catalog
            .datasets
            .iter()
            .map(|d| DatasetSummary {
                name: d.name.clone(),
                title: d.title.clone(),
                rows: d.rows,
                columns: d.columns,
                description: d.description.clone(),
                targets: d.targets.iter().map(|t| t.name.clone()).collect(),
                scenarios: d.scenarios.iter().map(|s| s.name.clone()).collect(),
            })
            .collect()
    }

    /// The models that fit `dataset`'s default task, with their parameters.
    pub fn models_for(&self, dataset: &str) -> Result<Vec<ModelChoice>> {
        let task = self.catalog.dataset(dataset)?.target(None)?.task;
        Ok(lab_model::ModelKind::ALL
            .iter()
            .filter(|k| k.supports(task))
            .map(|k| ModelChoice {
                name: k.to_string(),
                params: lab_train::param_specs(*k).to_vec(),
            })
            .collect())
    }

    /// Load a data source, strictly typed for catalogue datasets.
    pub fn load(&self, source: &DataSource) -> Result<(Table, Option<&DatasetSpec>)> {
        load_source(&self.catalog, source)
    }

    pub fn profile(&self, source: &DataSource) -> Result<lab_data::Profile> {
        let (table, _) = self.load(source)?;
        let p = lab_data::profile(&table)?;
        // The app's pipeline strip shows the dataset looked at last.
        let subject = source
            .dataset_name()
            .map_or(p.source.clone(), str::to_string);
        let activity = DataActivity::Profiled {
            rows: p.rows,
            columns: p.columns.len(),
        };
        self.store
            .record_activity(DataActivity::KIND, &subject, &activity)?;
        Ok(p)
    }

    pub fn validate(&self, source: &DataSource) -> Result<lab_data::ValidationReport> {
        let (table, spec) = self.load(source)?;
        let r = lab_data::validate(&table, spec.and_then(|s| s.expect.as_ref()))?;
        let subject = source
            .dataset_name()
            .map_or(r.source.clone(), str::to_string);
        let activity = DataActivity::Validated {
            rows: r.rows,
            passed: r.passed,
            failed: r.failed,
        };
        self.store
            .record_activity(DataActivity::KIND, &subject, &activity)?;
        Ok(r)
    }

    /// Resolve the task and prepare matrices for a train request.
    pub fn prepare(&self, req: &TrainRequest) -> Result<Prepared> {
        let (table, spec) = self.load(&req.source)?;
        let task = match spec {
            Some(spec) => {
                let target = spec.target(req.target.as_deref())?;
                let mut t =
                    TaskSpec::from_catalog(&self.catalog.root, spec, target, req.features.clone());
                if let Some(task) = req.task
                    && task != t.task
                {
                    return Err(PipelineError::Invalid(format!(
                        "target `{}` of `{}` is a {} task, not {task}",
                        t.target_name, t.dataset, t.task
                    )));
                }
                t.gate.extend(req.gate.clone());
                t
            }
            None => {
                let target = req.target.as_deref().ok_or_else(|| {
                    PipelineError::Invalid(
                        "training on a file needs --target COLUMN: the column to predict".into(),
                    )
                })?;
                let mut t = TaskSpec::for_file(&table, target, req.features.clone(), req.task)?;
                t.gate = req.gate.clone();
                t
            }
        };
        // The shipped split indexes the whole file: not a slice of it.
        let mut task = task;
        if !matches!(req.source, DataSource::Catalog { .. }) {
            task.reference_split = None;
        }
        let split = match (req.seed, &task.reference_split) {
            (None, Some(_)) if req.test_fraction == 0.25 => SplitSpec::Reference,
            (seed, _) => SplitSpec::Seeded {
                seed: seed.unwrap_or(42),
                test_fraction: req.test_fraction,
            },
        };
        Ok(lab_data::prepare(
            &table,
            &task,
            &PrepareOptions {
                missing: req.missing,
                scale: req.scale,
                split,
            },
        )?)
    }
}

/// Load a data source with `catalog`, strictly typed for catalogue datasets.
pub(crate) fn load_source<'c>(
    catalog: &'c Catalog,
    source: &DataSource,
) -> Result<(Table, Option<&'c DatasetSpec>)> {
    match source {
        DataSource::Catalog { name } => {
            let spec = catalog.dataset(name)?;
            let table = lab_data::read_csv(&catalog.path_of(spec), &spec.column_types())?;
            Ok((table, Some(spec)))
        }
        DataSource::File { path } => Ok((lab_data::read_csv(path, &BTreeMap::new())?, None)),
        DataSource::Snapshot { name, path } => {
            let spec = catalog.dataset(name)?;
            Ok((lab_data::read_csv(path, &spec.column_types())?, Some(spec)))
        }
        DataSource::Scenario { name, scenario } => {
            let (table, spec) = load_source(catalog, &DataSource::Catalog { name: name.clone() })?;
            let spec = spec.expect("catalogue sources have a spec");
            let (owner, sc) = catalog.scenario(scenario)?;
            if owner.name != spec.name {
                return Err(PipelineError::Invalid(format!(
                    "scenario `{scenario}` belongs to dataset `{}`, not `{name}`",
                    owner.name
                )));
            }
            let (reference, _) = lab_data::scenario_slices(&table, sc)?;
            Ok((reference, Some(spec)))
        }
        DataSource::Augmented {
            name,
            scenario,
            extra,
        } => {
            let base = match scenario {
                Some(sc) => DataSource::Scenario {
                    name: name.clone(),
                    scenario: sc.clone(),
                },
                None => DataSource::Catalog { name: name.clone() },
            };
            let (table, spec) = load_source(catalog, &base)?;
            let spec = spec.expect("catalogue sources have a spec");
            let target = spec.target(None)?;
            let mut columns = target.features.clone();
            columns.push(target.column.clone());
            let extra = lab_data::read_csv(extra, &BTreeMap::new())?;
            Ok((lab_data::append_rows(&table, &extra, &columns)?, Some(spec)))
        }
    }
}
