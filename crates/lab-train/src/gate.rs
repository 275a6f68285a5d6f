//! The validation gate: absolute thresholds per dataset, and the
//! champion/challenger comparison on the same test set.

use std::collections::BTreeMap;

use lab_model::Task;
use serde::{Deserialize, Serialize};

/// Error-like metrics, where lower is better.
pub fn higher_is_better(metric: &str) -> bool {
    !matches!(
        metric,
        "rmse" | "mae" | "inertia" | "log_loss" | "fit_seconds"
    )
}

/// The metrics a run is summed up by, most telling first: accuracy for
/// classifiers, r2 for regressors, silhouette for clustering, then the
/// rest. Tables, progress lines and the app's cards all show these.
pub const HEADLINE_METRICS: &[&str] = &[
    "accuracy",
    "r2",
    "silhouette",
    "f1_macro",
    "roc_auc",
    "rmse",
    "mae",
    "inertia",
];

/// Up to `n` of `metrics`' headline metrics, in [`HEADLINE_METRICS`] order.
pub fn headline_metrics(
    metrics: &std::collections::BTreeMap<String, f64>,
    n: usize,
) -> Vec<(&'static str, f64)> {
    HEADLINE_METRICS
        .iter()
        .filter_map(|k| metrics.get(*k).map(|v| (*k, *v)))
        .take(n)
        .collect()
}

/// The metric that decides comparisons for a task.
pub fn primary_metric(task: Task) -> &'static str {
    match task {
        Task::BinaryClassification | Task::MulticlassClassification => "accuracy",
        Task::Regression => "rmse",
        Task::Clustering => "inertia",
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateCheck {
    pub metric: String,
    /// `>=` or `<=`.
    pub op: String,
    pub threshold: f64,
    pub value: Option<f64>,
    pub passed: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateResult {
    pub passed: bool,
    pub checks: Vec<GateCheck>,
}

/// Check `metrics` against `thresholds`: a minimum for higher-is-better
/// metrics, a maximum for error metrics. A metric the run lacks fails.
pub fn gate(metrics: &BTreeMap<String, f64>, thresholds: &BTreeMap<String, f64>) -> GateResult {
    let checks: Vec<GateCheck> = thresholds
        .iter()
        .map(|(m, t)| {
            let up = higher_is_better(m);
            let value = metrics.get(m).copied();
            GateCheck {
                metric: m.clone(),
                op: if up { ">=" } else { "<=" }.into(),
                threshold: *t,
                value,
                passed: value.is_some_and(|v| if up { v >= *t } else { v <= *t }),
            }
        })
        .collect();
    GateResult {
        passed: checks.iter().all(|c| c.passed),
        checks,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub metric: String,
    pub champion: f64,
    pub challenger: f64,
    /// The challenger is strictly better on the primary metric.
    pub challenger_wins: bool,
}

/// Compare champion and challenger on `metric` (both evaluated on the same
/// test rows). Ties keep the champion.
pub fn compare(metric: &str, champion: f64, challenger: f64) -> Comparison {
    let wins = if higher_is_better(metric) {
        challenger > champion
    } else {
        challenger < champion
    };
    Comparison {
        metric: metric.to_string(),
        champion,
        challenger,
        challenger_wins: wins,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gate_uses_direction_per_metric() {
        let m: BTreeMap<String, f64> = [("accuracy".into(), 0.8), ("rmse".into(), 2.0)].into();
        let ok = gate(&m, &[("accuracy".into(), 0.7), ("rmse".into(), 3.0)].into());
        assert!(ok.passed);
        let bad = gate(&m, &[("rmse".into(), 1.0)].into());
        assert!(!bad.passed);
        let missing = gate(&m, &[("r2".into(), 0.1)].into());
        assert!(!missing.passed);
        assert!(compare("rmse", 2.0, 1.5).challenger_wins);
        assert!(!compare("accuracy", 0.8, 0.8).challenger_wins);
    }
}
