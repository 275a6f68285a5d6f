//! Runs as front ends show them: one run with its learning curve and
//! registered versions, and runs side by side.

use std::collections::{BTreeMap, BTreeSet};

use lab_store::Run;
use serde::{Deserialize, Serialize};

use crate::files::RunEvaluation;
use crate::lab::{LEARNING_CURVE, Lab};
use crate::request::default_model_name;
use crate::{PipelineError, Result};

/// The metric a run is summed up by, where it has one: accuracy for
/// classifiers, r2 for regressors, silhouette for clustering.
pub fn headline_metric(run: &lab_store::Run) -> Option<(&'static str, f64)> {
    lab_train::headline_metrics(&run.metrics, 1)
        .into_iter()
        .next()
}

/// The registered-model name a run gets by default (as the pipeline names
/// its models): `<dataset>-<target>`.
pub fn model_name_for_run(run: &lab_store::Run) -> String {
    default_model_name(
        run.params.get("dataset").map_or("model", |s| s.as_str()),
        run.tags
            .get("mlops.target")
            .map_or("target", |s| s.as_str()),
    )
}

/// A point of a metric's history: (step, value).
pub type HistoryPoint = (i64, f64);

/// Everything a run's detail view shows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunDetail {
    pub run: lab_store::Run,
    /// The run's metrics to show, without its learning-curve history.
    pub metrics: Vec<(String, f64)>,
    pub experiment: String,
    /// The headline metric, whose learning curve is `history`.
    pub primary_metric: Option<String>,
    /// The learning curve on the test split (step = training rows).
    pub history: Vec<HistoryPoint>,
    /// The same on the rows fitted.
    pub train_history: Vec<HistoryPoint>,
    pub classes: Vec<String>,
    /// Rows: true class, columns: predicted class (test split).
    pub confusion_matrix: Option<Vec<Vec<usize>>>,
    /// The model versions registered from this run.
    pub registered: Vec<lab_store::ModelVersion>,
    /// Every other metric logged more than once (e.g. per epoch or step
    /// by MLflow's client), as (step, value) in step order.
    pub metric_histories: std::collections::BTreeMap<String, Vec<HistoryPoint>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunComparison {
    pub runs: Vec<Run>,
    /// Every param name of the runs, sorted.
    pub param_keys: Vec<String>,
    /// Param keys whose values differ between the runs.
    pub differing_params: Vec<String>,
    pub metric_keys: Vec<String>,
    /// For each metric, the run id with the best value.
    pub best: BTreeMap<String, String>,
    /// The headline metric the learning curves are drawn for.
    pub curve_metric: Option<String>,
    /// Each run's learning curve of `curve_metric`: (run name, points).
    pub curves: Vec<(String, Vec<HistoryPoint>)>,
}

/// A run's metrics to show: all but the learning-curve history.
pub fn display_metrics(run: &Run) -> Vec<(String, f64)> {
    run.metrics
        .iter()
        .filter(|(k, _)| !k.starts_with(LEARNING_CURVE))
        .map(|(k, v)| (k.clone(), *v))
        .collect()
}

impl Lab {
    /// Runs matching `filter`, newest first.
    pub fn runs(&self, filter: &lab_store::RunFilter) -> Result<Vec<Run>> {
        Ok(self.store.list_runs(filter)?)
    }

    pub fn experiments(&self) -> Result<Vec<lab_store::Experiment>> {
        Ok(self.store.list_experiments()?)
    }

    pub fn run(&self, id_or_prefix: &str) -> Result<Run> {
        let id = self.store.resolve_run_id(id_or_prefix)?;
        Ok(self.store.get_run(&id)?)
    }

    /// The evaluation saved with a run (confusion matrix, classes), if it
    /// has one the lab can read.
    pub fn run_evaluation(&self, run: &Run) -> Result<Option<RunEvaluation>> {
        let path = self
            .home()
            .confine(format!("{}/evaluation.json", run.artifact_uri))?;
        match std::fs::read(&path) {
            Ok(b) => Ok(serde_json::from_slice(&b).ok()),
            Err(_) => Ok(None),
        }
    }

    pub fn compare_runs(&self, ids: &[String]) -> Result<RunComparison> {
        if ids.len() < 2 {
            return Err(PipelineError::Invalid(
                "compare needs at least two run ids".into(),
            ));
        }
        let runs: Vec<Run> = ids.iter().map(|i| self.run(i)).collect::<Result<_>>()?;
        let param_keys: BTreeSet<&String> = runs.iter().flat_map(|r| r.params.keys()).collect();
        let differing_params = param_keys
            .iter()
            .copied()
            .filter(|k| {
                let vals: BTreeSet<Option<&String>> =
                    runs.iter().map(|r| r.params.get(*k)).collect();
                vals.len() > 1
            })
            .cloned()
            .collect();
        let metric_keys: Vec<String> = runs
            .iter()
            .flat_map(|r| r.metrics.keys().cloned())
            .filter(|k| !k.starts_with(LEARNING_CURVE))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut best = BTreeMap::new();
        for k in &metric_keys {
            let up = lab_train::higher_is_better(k.trim_start_matches("train_"));
            let winner = runs
                .iter()
                .filter_map(|r| r.metrics.get(k).map(|v| (r, *v)))
                .reduce(|a, b| {
                    let better = if up { b.1 > a.1 } else { b.1 < a.1 };
                    if better { b } else { a }
                });
            if let Some((r, _)) = winner {
                best.insert(k.clone(), r.run_id.clone());
            }
        }
        let curve_metric = runs
            .iter()
            .find_map(|r| headline_metric(r).map(|(k, _)| k.to_string()));
        let curves = match &curve_metric {
            Some(m) => runs
                .iter()
                .map(|r| Ok((r.run_name.clone(), self.learning_curve(&r.run_id, m)?)))
                .collect::<Result<_>>()?,
            None => vec![],
        };
        Ok(RunComparison {
            param_keys: param_keys.into_iter().cloned().collect(),
            runs,
            differing_params,
            metric_keys,
            best,
            curve_metric,
            curves,
        })
    }

    /// The learning curve of `metric` in `run` (test side, or `train_`).
    pub fn learning_curve(&self, run_id: &str, metric: &str) -> Result<Vec<HistoryPoint>> {
        Ok(self
            .store
            .metric_history(run_id, &format!("{LEARNING_CURVE}{metric}"))?
            .into_iter()
            .map(|m| (m.step, m.value))
            .collect())
    }

    /// A run with its experiment, learning curve, confusion matrix and the
    /// versions registered from it.
    pub fn run_detail(&self, id_or_prefix: &str) -> Result<RunDetail> {
        let run = self.run(id_or_prefix)?;
        let experiment = self.store.experiment(&run.experiment_id)?.name;
        let primary_metric = headline_metric(&run).map(|(k, _)| k.to_string());
        let (history, train_history) = match &primary_metric {
            Some(m) => (
                self.learning_curve(&run.run_id, m)?,
                self.learning_curve(&run.run_id, &format!("train_{m}"))?,
            ),
            None => (vec![], vec![]),
        };
        let (classes, confusion_matrix) = match self.run_evaluation(&run)? {
            Some(e) => (e.classes, e.test.confusion_matrix),
            None => (vec![], None),
        };
        let metrics = display_metrics(&run);
        let mut registered = vec![];
        for m in self.store.list_registered_models()? {
            registered.extend(
                self.store
                    .list_model_versions(&m.name)?
                    .into_iter()
                    .filter(|v| v.run_id == run.run_id),
            );
        }
        let metric_histories = self
            .store
            .stepped_metrics(&run.run_id)?
            .into_iter()
            .filter(|(k, _)| !k.starts_with(LEARNING_CURVE))
            .map(|(k, points)| (k, points.into_iter().map(|m| (m.step, m.value)).collect()))
            .collect();
        Ok(RunDetail {
            metric_histories,
            metrics,
            run,
            experiment,
            primary_metric,
            history,
            train_history,
            classes,
            confusion_matrix,
            registered,
        })
    }
}
