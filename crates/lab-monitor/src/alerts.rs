//! Alert rules, evaluated once per monitoring window.

use serde::{Deserialize, Serialize};

use crate::MonitorError;

/// What a rule watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertMetric {
    /// Share of drifted features (0–1).
    DriftShare,
    /// 99th percentile latency, milliseconds.
    LatencyP99Ms,
    /// Failed requests / requests (0–1).
    ErrorRate,
    /// Relative drop of live quality from the training-time test metric
    /// (0.1 = 10 % worse).
    QualityDrop,
}

impl AlertMetric {
    pub const ALL: [AlertMetric; 4] = [
        AlertMetric::DriftShare,
        AlertMetric::LatencyP99Ms,
        AlertMetric::ErrorRate,
        AlertMetric::QualityDrop,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertMetric::DriftShare => "drift_share",
            AlertMetric::LatencyP99Ms => "latency_p99_ms",
            AlertMetric::ErrorRate => "error_rate",
            AlertMetric::QualityDrop => "quality_drop",
        }
    }

    pub fn parse(s: &str) -> Result<AlertMetric, MonitorError> {
        AlertMetric::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| {
                MonitorError::Invalid(format!(
                    "unknown alert metric `{s}`; use drift_share, latency_p99_ms, error_rate or quality_drop"
                ))
            })
    }
}

/// Fires when the window's value is at or above `threshold`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRule {
    pub metric: AlertMetric,
    pub threshold: f64,
    /// Whether an alert of this rule starts a retrain.
    pub retrain: bool,
}

impl AlertRule {
    /// The defaults: dataset drift (share ≥ 0.5, Evidently's), p99 latency
    /// ≥ 250 ms, error rate ≥ 5 %, live quality 10 % worse than at training.
    pub fn defaults() -> Vec<AlertRule> {
        vec![
            AlertRule {
                metric: AlertMetric::DriftShare,
                threshold: 0.5,
                retrain: true,
            },
            AlertRule {
                metric: AlertMetric::LatencyP99Ms,
                threshold: 250.0,
                retrain: false,
            },
            AlertRule {
                metric: AlertMetric::ErrorRate,
                threshold: 0.05,
                retrain: false,
            },
            AlertRule {
                metric: AlertMetric::QualityDrop,
                threshold: 0.1,
                retrain: true,
            },
        ]
    }

    pub fn check(&self) -> Result<(), MonitorError> {
        if !self.threshold.is_finite() || self.threshold < 0.0 {
            return Err(MonitorError::Invalid(format!(
                "alert rule {}: the threshold must be a non-negative number, got {}",
                self.metric.as_str(),
                self.threshold
            )));
        }
        Ok(())
    }
}

/// The values a window offers to the rules; absent ones are not evaluated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Signals {
    pub drift_share: Option<f64>,
    pub latency_p99_ms: Option<f64>,
    pub error_rate: Option<f64>,
    pub quality_drop: Option<f64>,
}

impl Signals {
    pub fn get(&self, m: AlertMetric) -> Option<f64> {
        match m {
            AlertMetric::DriftShare => self.drift_share,
            AlertMetric::LatencyP99Ms => self.latency_p99_ms,
            AlertMetric::ErrorRate => self.error_rate,
            AlertMetric::QualityDrop => self.quality_drop,
        }
    }
}

/// A rule that fired, with its evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Firing {
    pub metric: AlertMetric,
    pub value: f64,
    pub threshold: f64,
    pub retrain: bool,
    pub message: String,
}

/// The rules that fire on `signals`.
pub fn evaluate(rules: &[AlertRule], signals: &Signals) -> Vec<Firing> {
    rules
        .iter()
        .filter_map(|r| {
            let v = signals.get(r.metric)?;
            (v >= r.threshold).then(|| Firing {
                metric: r.metric,
                value: v,
                threshold: r.threshold,
                retrain: r.retrain,
                message: match r.metric {
                    AlertMetric::DriftShare => format!(
                        "{:.0}% of features drifted (threshold {:.0}%)",
                        v * 100.0,
                        r.threshold * 100.0
                    ),
                    AlertMetric::LatencyP99Ms => {
                        format!("p99 latency {v:.1} ms (threshold {} ms)", r.threshold)
                    }
                    AlertMetric::ErrorRate => format!(
                        "{:.1}% of requests failed (threshold {:.1}%)",
                        v * 100.0,
                        r.threshold * 100.0
                    ),
                    AlertMetric::QualityDrop => format!(
                        "live quality {:.0}% worse than at training (threshold {:.0}%)",
                        v * 100.0,
                        r.threshold * 100.0
                    ),
                },
            })
        })
        .collect()
}
