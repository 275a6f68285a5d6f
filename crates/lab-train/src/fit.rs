//! Fit a linfa model on prepared matrices and wrap it in an artifact.

use std::collections::BTreeMap;

use lab_data::{Prepared, Target};
use lab_model::{DatasetRef, FORMAT_VERSION, FittedModel, ModelArtifact, ModelKind, Task};
use linfa::prelude::*;
use ndarray::Array1;
use rand::SeedableRng;

use crate::metrics::{Evaluation, evaluate};
use crate::params::{Resolved, resolve_params};
use crate::{Result, TrainError};

/// A fitted model and its evaluation.
#[derive(Debug, Clone)]
pub struct TrainOutput {
    pub artifact: ModelArtifact,
    /// Metrics on the test split.
    pub test: Evaluation,
    /// Metrics on the training split (to spot over-fitting).
    pub train: Evaluation,
    /// Resolved hyper-parameters (defaults filled in).
    pub params: BTreeMap<String, String>,
    /// Whether fitting the same inputs again gives the same model.
    pub deterministic: bool,
    pub notes: Vec<String>,
}

/// linfa's version, recorded in every artifact.
const LIBRARY: &str = "linfa 0.8.1";

/// Fit `kind` on `prepared`'s training split and evaluate it on both splits.
/// `seed` drives the models that draw random numbers (k-means).
pub fn train(
    prepared: &Prepared,
    kind: ModelKind,
    params: &BTreeMap<String, String>,
    seed: u64,
) -> Result<TrainOutput> {
    let task = prepared.task.task;
    if !kind.supports(task) {
        let hint = if task.is_classification() {
            "for classification use logistic-regression, decision-tree or gaussian-nb"
        } else {
            "for regression use linear-regression or elastic-net"
        };
        return Err(TrainError::Unsupported {
            model: kind.to_string(),
            task: task.to_string(),
            hint: hint.to_string(),
        });
    }
    let params = resolve_params(kind, params)?;
    let r = Resolved { kind, map: &params };
    let x = &prepared.x_train;
    let fit_err = |e: &dyn std::fmt::Display| TrainError::Fit {
        model: kind.to_string(),
        message: e.to_string(),
    };
    let mut notes = Vec::new();
    let mut deterministic = true;

    let classes = |t: &Target| -> Result<Array1<usize>> {
        match t {
            Target::Classes(c) => Ok(Array1::from(c.clone())),
            Target::Values(_) => Err(fit_err(&"expected class labels")),
        }
    };
    let values = |t: &Target| -> Result<Array1<f64>> {
        match t {
            Target::Values(v) => Ok(Array1::from(v.clone())),
            Target::Classes(_) => Err(fit_err(&"expected numeric targets")),
        }
    };

    let model = match kind {
        ModelKind::LogisticRegression => {
            let ds = Dataset::new(x.clone(), classes(&prepared.y_train)?);
            let alpha = 1.0 / r.positive_f64("C")?;
            let max_iter = r.usize("max_iter")? as u64;
            let tol = r.positive_f64("tol")?;
            let intercept = r.bool("fit_intercept")?;
            if task == Task::BinaryClassification {
                let m = linfa_logistic::LogisticRegression::default()
                    .alpha(alpha)
                    .max_iterations(max_iter)
                    .gradient_tolerance(tol)
                    .with_intercept(intercept)
                    .fit(&ds)
                    .map_err(|e| fit_err(&e))?;
                FittedModel::LogisticRegression(m)
            } else {
                let m = linfa_logistic::MultiLogisticRegression::default()
                    .alpha(alpha)
                    .max_iterations(max_iter)
                    .gradient_tolerance(tol)
                    .with_intercept(intercept)
                    .fit(&ds)
                    .map_err(|e| fit_err(&e))?;
                FittedModel::MultinomialLogisticRegression(m)
            }
        }
        ModelKind::DecisionTree => {
            let ds = Dataset::new(x.clone(), classes(&prepared.y_train)?);
            let max_depth = r.opt_usize("max_depth")?;
            let m = linfa_trees::DecisionTree::params()
                .max_depth(max_depth)
                .split_quality(r.criterion()?)
                .min_weight_split(r.positive_f64("min_samples_split")? as f32)
                .min_weight_leaf(r.positive_f64("min_samples_leaf")? as f32)
                .fit(&ds)
                .map_err(|e| fit_err(&e))?;
            if max_depth.is_none() {
                deterministic = false;
                notes.push(
                    "linfa 0.8 grows full-depth decision trees in HashMap order, so equal-gain \
                     splits can be chosen differently from one run to the next: metrics and the \
                     artifact may differ between identical runs. Set max_depth for a shallower, \
                     usually stable tree."
                        .to_string(),
                );
            }
            FittedModel::DecisionTree(m)
        }
        ModelKind::GaussianNb => {
            let ds = Dataset::new(x.clone(), classes(&prepared.y_train)?);
            let m = linfa_bayes::GaussianNb::params()
                .var_smoothing(r.positive_f64("var_smoothing")?)
                .fit(&ds)
                .map_err(|e| fit_err(&e))?;
            FittedModel::GaussianNb(m)
        }
        ModelKind::LinearRegression => {
            let ds = Dataset::new(x.clone(), values(&prepared.y_train)?);
            let m = linfa_linear::LinearRegression::new()
                .with_intercept(r.bool("fit_intercept")?)
                .fit(&ds)
                .map_err(|e| fit_err(&e))?;
            FittedModel::LinearRegression(m)
        }
        ModelKind::ElasticNet => {
            let ds = Dataset::new(x.clone(), values(&prepared.y_train)?);
            let m = linfa_elasticnet::ElasticNet::params()
                .penalty(r.non_negative_f64("alpha")?)
                .l1_ratio(r.non_negative_f64("l1_ratio")?)
                .max_iterations(r.usize("max_iter")? as u32)
                .tolerance(r.positive_f64("tol")?)
                .with_intercept(r.bool("fit_intercept")?)
                .fit(&ds)
                .map_err(|e| fit_err(&e))?;
            FittedModel::ElasticNet(m)
        }
        ModelKind::KMeans => {
            let k = r.usize("n_clusters")?;
            if k > x.nrows() {
                return Err(r.err(
                    "n_clusters",
                    &format!("{k} clusters but only {} training rows", x.nrows()),
                ));
            }
            let rng = rand_xoshiro::Xoshiro256Plus::seed_from_u64(seed);
            let ds = DatasetBase::from(x.clone());
            let m = linfa_clustering::KMeans::params_with_rng(k, rng)
                .n_runs(r.usize("n_init")?.max(1))
                .max_n_iterations(r.usize("max_iter")? as u64)
                .tolerance(r.positive_f64("tol")?)
                .fit(&ds)
                .map_err(|e| fit_err(&e))?;
            notes.push(format!(
                "k-means is unsupervised: the target was not used for fitting; clusters are seeded with {seed}"
            ));
            FittedModel::KMeans {
                centroids: m.centroids().clone(),
            }
        }
    };

    let mut artifact = ModelArtifact {
        format_version: FORMAT_VERSION,
        model_kind: kind,
        task: if kind == ModelKind::KMeans {
            Task::Clustering
        } else {
            task
        },
        target: prepared.task.target_name.clone(),
        classes: if kind == ModelKind::KMeans {
            Vec::new()
        } else {
            prepared.classes.clone()
        },
        preprocessor: prepared.preprocessor.clone(),
        model,
        params: params.clone(),
        metrics: BTreeMap::new(),
        dataset: DatasetRef {
            name: prepared.task.dataset.clone(),
            target_definition: prepared.task.target_definition(),
            split: prepared.split.clone(),
            train_rows: prepared.train_rows.len(),
            test_rows: prepared.test_rows.len(),
        },
        library: LIBRARY.to_string(),
        notes: notes.clone(),
    };
    artifact.check().map_err(|e| fit_err(&e))?;
    let test = evaluate(&artifact, &prepared.x_test, &prepared.y_test)?;
    let train = evaluate(&artifact, &prepared.x_train, &prepared.y_train)?;
    artifact.metrics = test.metrics.clone();
    Ok(TrainOutput {
        artifact,
        test,
        train,
        params,
        deterministic,
        notes,
    })
}

/// One point of a learning curve: metrics of a model fitted on the first
/// `train_rows` rows of a shuffled training split.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CurvePoint {
    pub train_rows: usize,
    /// On the full test split.
    pub test: BTreeMap<String, f64>,
    /// On the rows it was fitted on.
    pub train: BTreeMap<String, f64>,
}

/// A learning curve (scikit-learn's `learning_curve` with one fixed test
/// split): fit `kind` on 1/`points`, 2/`points`, … of the training rows,
/// drawn in a seeded shuffled order, and evaluate each fit on the whole test
/// split. The last point is `full` (the model already fitted on every row).
/// Subsets too small to fit, or missing a class of the training split, are
/// left out. Clustering has no curve.
pub fn learning_curve(
    prepared: &Prepared,
    kind: ModelKind,
    params: &BTreeMap<String, String>,
    seed: u64,
    points: usize,
    full: &TrainOutput,
) -> Vec<CurvePoint> {
    use rand::seq::SliceRandom;
    let n = prepared.x_train.nrows();
    let mut out = Vec::new();
    if kind == ModelKind::KMeans || points < 2 {
        return out;
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed));
    let classes_in = |t: &Target| match t {
        Target::Classes(c) => c.iter().collect::<std::collections::BTreeSet<_>>().len(),
        Target::Values(_) => 0,
    };
    let all_classes = classes_in(&prepared.y_train);
    for i in 1..points {
        let k = n * i / points;
        if k < 10 {
            continue;
        }
        let rows = &order[..k];
        let y = match &prepared.y_train {
            Target::Classes(c) => Target::Classes(rows.iter().map(|&r| c[r]).collect()),
            Target::Values(v) => Target::Values(rows.iter().map(|&r| v[r]).collect()),
        };
        if classes_in(&y) != all_classes {
            continue;
        }
        let subset = Prepared {
            x_train: prepared.x_train.select(ndarray::Axis(0), rows),
            y_train: y,
            ..prepared.clone()
        };
        if let Ok(o) = train(&subset, kind, params, seed) {
            out.push(CurvePoint {
                train_rows: k,
                test: o.test.metrics,
                train: o.train.metrics,
            });
        }
    }
    out.push(CurvePoint {
        train_rows: n,
        test: full.test.metrics.clone(),
        train: full.train.metrics.clone(),
    });
    out
}
