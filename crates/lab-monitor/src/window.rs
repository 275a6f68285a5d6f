//! Monitoring windows: what a stretch of served traffic looked like.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::stats::quantile_sorted;

/// Latency percentiles in milliseconds (linear interpolation).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub mean: f64,
    pub max: f64,
}

impl Latency {
    pub fn of(latencies_ms: &[f64]) -> Option<Latency> {
        if latencies_ms.is_empty() {
            return None;
        }
        let mut v: Vec<f64> = latencies_ms
            .iter()
            .copied()
            .filter(|x| !x.is_nan())
            .collect();
        if v.is_empty() {
            return None;
        }
        v.sort_unstable_by(f64::total_cmp);
        Some(Latency {
            p50: quantile_sorted(&v, 0.50),
            p95: quantile_sorted(&v, 0.95),
            p99: quantile_sorted(&v, 0.99),
            mean: v.iter().sum::<f64>() / v.len() as f64,
            max: v[v.len() - 1],
        })
    }
}

/// The distribution of the model's outputs in a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PredictionDistribution {
    /// Counts per predicted class.
    Classes { counts: BTreeMap<String, u64> },
    /// Summary of predicted values.
    Values {
        count: u64,
        mean: f64,
        p05: f64,
        p50: f64,
        p95: f64,
    },
}

impl PredictionDistribution {
    /// From predictions as JSON values: strings are classes, numbers values.
    pub fn of(predictions: &[serde_value::Pred]) -> Option<PredictionDistribution> {
        if predictions.is_empty() {
            return None;
        }
        let numbers: Vec<f64> = predictions
            .iter()
            .filter_map(|p| match p {
                serde_value::Pred::Value(x) => Some(*x),
                serde_value::Pred::Class(_) => None,
            })
            .collect();
        if numbers.len() == predictions.len() {
            let mut v = numbers;
            v.sort_unstable_by(f64::total_cmp);
            return Some(PredictionDistribution::Values {
                count: v.len() as u64,
                mean: v.iter().sum::<f64>() / v.len() as f64,
                p05: quantile_sorted(&v, 0.05),
                p50: quantile_sorted(&v, 0.50),
                p95: quantile_sorted(&v, 0.95),
            });
        }
        let mut counts = BTreeMap::new();
        for p in predictions {
            let key = match p {
                serde_value::Pred::Class(c) => c.clone(),
                serde_value::Pred::Value(x) => x.to_string(),
            };
            *counts.entry(key).or_insert(0) += 1;
        }
        Some(PredictionDistribution::Classes { counts })
    }
}

/// Prediction values without a JSON dependency.
pub mod serde_value {
    #[derive(Debug, Clone, PartialEq)]
    pub enum Pred {
        Class(String),
        Value(f64),
    }
}

/// Live quality from predictions joined with late ground truth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveQuality {
    /// `accuracy` for classifiers, `mae` for regressors.
    pub metric: String,
    pub value: f64,
    /// Labelled predictions it is computed on.
    pub labelled: u64,
}

impl LiveQuality {
    pub fn accuracy(pairs: &[(String, String)]) -> Option<LiveQuality> {
        (!pairs.is_empty()).then(|| LiveQuality {
            metric: "accuracy".into(),
            value: pairs.iter().filter(|(p, t)| p == t).count() as f64 / pairs.len() as f64,
            labelled: pairs.len() as u64,
        })
    }

    pub fn mae(pairs: &[(f64, f64)]) -> Option<LiveQuality> {
        (!pairs.is_empty()).then(|| LiveQuality {
            metric: "mae".into(),
            value: pairs.iter().map(|(p, t)| (p - t).abs()).sum::<f64>() / pairs.len() as f64,
            labelled: pairs.len() as u64,
        })
    }

    /// How much worse than `baseline` (the same metric at training time), as
    /// a fraction of it: positive is worse. Accuracy falls, MAE rises.
    pub fn drop_from(&self, baseline: f64) -> f64 {
        if baseline.abs() < 1e-12 {
            return 0.0;
        }
        if self.metric == "mae" {
            (self.value - baseline) / baseline.abs()
        } else {
            (baseline - self.value) / baseline.abs()
        }
    }
}
