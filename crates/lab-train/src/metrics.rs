//! Evaluation metrics, with scikit-learn's definitions.

use std::collections::BTreeMap;

use lab_data::Target;
use lab_model::{ModelArtifact, Output, Value};
use ndarray::{Array2, Axis};
use serde::{Deserialize, Serialize};

use crate::{Result, TrainError};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub metrics: BTreeMap<String, f64>,
    /// Rows: true class, columns: predicted class (scikit-learn's layout).
    pub confusion_matrix: Option<Vec<Vec<usize>>>,
}

/// Evaluate `artifact` on encoded `x` against `y`.
pub fn evaluate(artifact: &ModelArtifact, x: &Array2<f64>, y: &Target) -> Result<Evaluation> {
    let out = artifact
        .predict_encoded(x)
        .map_err(|e| TrainError::Evaluate(e.to_string()))?;
    evaluate_output(artifact, x, out, y)
}

/// Evaluate `artifact` on raw rows (each ordered as its input features): the
/// path for comparing a champion trained with other preprocessing.
pub fn evaluate_rows(
    artifact: &ModelArtifact,
    rows: &[Vec<Value>],
    y: &Target,
) -> Result<Evaluation> {
    let x = artifact
        .preprocessor
        .encode_rows(rows)
        .map_err(|e| TrainError::Evaluate(e.to_string()))?;
    evaluate(artifact, &x, y)
}

fn evaluate_output(
    artifact: &ModelArtifact,
    x: &Array2<f64>,
    out: Output,
    y: &Target,
) -> Result<Evaluation> {
    match (out, y) {
        (
            Output::Classes {
                index,
                probabilities,
            },
            Target::Classes(truth),
        ) => {
            let n_classes = artifact.classes.len();
            let mut e = classification(truth, &index, n_classes);
            if n_classes == 2
                && let Some(p) = probabilities
                && let Some(auc) = roc_auc(truth, &p.column(1).to_vec())
            {
                e.metrics.insert("roc_auc".into(), auc);
            }
            Ok(e)
        }
        (Output::Values(pred), Target::Values(truth)) => Ok(regression(truth, &pred)),
        (Output::Clusters(assign), _) => {
            let centroids = match &artifact.model {
                lab_model::FittedModel::KMeans { centroids } => centroids,
                _ => unreachable!("clusters come from k-means"),
            };
            let inertia: f64 = x
                .axis_iter(Axis(0))
                .zip(&assign)
                .map(|(row, &k)| {
                    row.iter()
                        .zip(centroids.row(k).iter())
                        .map(|(a, b)| (a - b).powi(2))
                        .sum::<f64>()
                })
                .sum();
            let mut metrics = BTreeMap::new();
            metrics.insert("inertia".into(), inertia);
            metrics.insert("n_clusters".into(), centroids.nrows() as f64);
            let used = {
                let mut v = assign.clone();
                v.sort_unstable();
                v.dedup();
                v.len()
            };
            metrics.insert("clusters_used".into(), used as f64);
            Ok(Evaluation {
                metrics,
                confusion_matrix: None,
            })
        }
        _ => Err(TrainError::Evaluate(
            "the model's output does not match the target type".into(),
        )),
    }
}

/// Accuracy, macro precision/recall/F1 (zero where undefined, as
/// scikit-learn's `zero_division=0`) and the confusion matrix.
pub fn classification(truth: &[usize], pred: &[usize], n_classes: usize) -> Evaluation {
    let n = n_classes.max(truth.iter().chain(pred).map(|c| c + 1).max().unwrap_or(0));
    let mut cm = vec![vec![0usize; n]; n];
    for (t, p) in truth.iter().zip(pred) {
        cm[*t][*p] += 1;
    }
    let total = truth.len().max(1) as f64;
    let correct: usize = cm.iter().enumerate().map(|(i, r)| r[i]).sum();
    let (mut p_sum, mut r_sum, mut f_sum) = (0.0, 0.0, 0.0);
    // Macro averages run over the classes present in truth or prediction,
    // as scikit-learn does with its default `labels`.
    let mut present = 0usize;
    for (c, row) in cm.iter().enumerate() {
        let tp = row[c] as f64;
        let predicted: usize = cm.iter().map(|r| r[c]).sum();
        let actual: usize = row.iter().sum();
        if predicted == 0 && actual == 0 {
            continue;
        }
        present += 1;
        let precision = if predicted == 0 {
            0.0
        } else {
            tp / predicted as f64
        };
        let recall = if actual == 0 { 0.0 } else { tp / actual as f64 };
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        p_sum += precision;
        r_sum += recall;
        f_sum += f1;
    }
    let k = present.max(1) as f64;
    let mut metrics = BTreeMap::new();
    metrics.insert("accuracy".into(), correct as f64 / total);
    metrics.insert("precision_macro".into(), p_sum / k);
    metrics.insert("recall_macro".into(), r_sum / k);
    metrics.insert("f1_macro".into(), f_sum / k);
    Evaluation {
        metrics,
        confusion_matrix: Some(cm),
    }
}

/// Area under the ROC curve for class 1, from scores, via the rank-sum
/// (Mann-Whitney) formula with average ranks for ties. `None` when only one
/// class is present.
pub fn roc_auc(truth: &[usize], score: &[f64]) -> Option<f64> {
    let mut idx: Vec<usize> = (0..score.len()).collect();
    idx.sort_by(|a, b| score[*a].total_cmp(&score[*b]));
    let mut ranks = vec![0.0; score.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && score[idx[j + 1]] == score[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for k in i..=j {
            ranks[idx[k]] = avg;
        }
        i = j + 1;
    }
    let n_pos = truth.iter().filter(|t| **t == 1).count() as f64;
    let n_neg = truth.len() as f64 - n_pos;
    if n_pos == 0.0 || n_neg == 0.0 {
        return None;
    }
    let rank_sum: f64 = truth
        .iter()
        .zip(&ranks)
        .filter(|(t, _)| **t == 1)
        .map(|(_, r)| r)
        .sum();
    Some((rank_sum - n_pos * (n_pos + 1.0) / 2.0) / (n_pos * n_neg))
}

/// RMSE, MAE and R².
pub fn regression(truth: &[f64], pred: &[f64]) -> Evaluation {
    let n = truth.len().max(1) as f64;
    let mean = truth.iter().sum::<f64>() / n;
    let (mut se, mut ae, mut ss_tot) = (0.0, 0.0, 0.0);
    for (t, p) in truth.iter().zip(pred) {
        se += (t - p).powi(2);
        ae += (t - p).abs();
        ss_tot += (t - mean).powi(2);
    }
    let mut metrics = BTreeMap::new();
    metrics.insert("rmse".into(), (se / n).sqrt());
    metrics.insert("mae".into(), ae / n);
    metrics.insert(
        "r2".into(),
        if ss_tot == 0.0 {
            0.0
        } else {
            1.0 - se / ss_tot
        },
    );
    Evaluation {
        metrics,
        confusion_matrix: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_matches_hand_computed_values() {
        // truth: 0 0 1 1 1 2 ; pred: 0 1 1 1 0 2
        let e = classification(&[0, 0, 1, 1, 1, 2], &[0, 1, 1, 1, 0, 2], 3);
        assert!((e.metrics["accuracy"] - 4.0 / 6.0).abs() < 1e-12);
        // precision: c0 1/2, c1 2/3, c2 1 -> mean 0.7222..
        assert!((e.metrics["precision_macro"] - (0.5 + 2.0 / 3.0 + 1.0) / 3.0).abs() < 1e-12);
        // recall: c0 1/2, c1 2/3, c2 1
        assert!((e.metrics["recall_macro"] - (0.5 + 2.0 / 3.0 + 1.0) / 3.0).abs() < 1e-12);
        assert_eq!(
            e.confusion_matrix.unwrap(),
            vec![vec![1, 1, 0], vec![1, 2, 0], vec![0, 0, 1]]
        );
    }

    #[test]
    fn roc_auc_handles_ties_and_degenerate_cases() {
        assert_eq!(roc_auc(&[0, 0, 1, 1], &[0.1, 0.4, 0.35, 0.8]), Some(0.75));
        assert_eq!(roc_auc(&[0, 1], &[0.5, 0.5]), Some(0.5));
        assert_eq!(roc_auc(&[1, 1], &[0.5, 0.7]), None);
    }

    #[test]
    fn regression_metrics() {
        let e = regression(&[3.0, -0.5, 2.0, 7.0], &[2.5, 0.0, 2.0, 8.0]);
        assert!((e.metrics["mae"] - 0.5).abs() < 1e-12);
        assert!((e.metrics["rmse"] - 0.375f64.sqrt()).abs() < 1e-12);
        assert!((e.metrics["r2"] - 0.948_608_137_044_967_9).abs() < 1e-12);
    }
}
