//! Translation of core results into what the views show: chart inputs for
//! `lab-charts` (rendered to SVG here, shown inline by the UI). Mechanical
//! mappings only; every number comes from the core.

use lab_charts::{BarChart, HistogramPair, LineChart, Series, Size};
use lab_pipeline::{ColumnDrift, DriftReport, Profile, WindowRecord};
use serde::Serialize;

use crate::UiError;

fn chart_err(e: lab_charts::ChartError) -> UiError {
    UiError {
        code: "app.chart".into(),
        message: e.to_string(),
    }
}

pub const WIDE: Size = Size {
    width: 640,
    height: 260,
};
pub const SMALL: Size = Size {
    width: 420,
    height: 220,
};

/// The learning curve of `metric` (test and train) as a line chart.
pub fn learning_curve(
    title: &str,
    series: Vec<(String, &Vec<lab_pipeline::HistoryPoint>)>,
    metric: &str,
) -> Result<String, UiError> {
    lab_charts::line_chart(
        &LineChart {
            title: title.into(),
            x_label: "training rows".into(),
            y_label: metric.into(),
            series: series
                .into_iter()
                .map(|(name, points)| Series {
                    name,
                    points: points.iter().map(|(step, v)| (*step as f64, *v)).collect(),
                })
                .collect(),
            threshold: None,
            markers: true,
            y_from_zero: false,
        },
        WIDE,
    )
    .map_err(chart_err)
}

/// A metric logged at several steps (e.g. by MLflow's client), by step.
pub fn metric_history(
    metric: &str,
    points: &[lab_pipeline::HistoryPoint],
) -> Result<String, UiError> {
    lab_charts::line_chart(
        &LineChart {
            title: format!("{metric} by step"),
            x_label: "step".into(),
            y_label: metric.into(),
            series: vec![Series {
                name: metric.into(),
                points: points.iter().map(|(step, v)| (*step as f64, *v)).collect(),
            }],
            threshold: None,
            markers: true,
            y_from_zero: false,
        },
        SMALL,
    )
    .map_err(chart_err)
}

pub fn confusion(classes: &[String], m: &[Vec<usize>]) -> Result<String, UiError> {
    lab_charts::confusion_matrix(
        "confusion matrix (test split)",
        classes,
        m,
        Size {
            width: 420,
            height: 300,
        },
    )
    .map_err(chart_err)
}

#[derive(Debug, Clone, Serialize)]
pub struct ColumnChart {
    pub column: String,
    pub svg: String,
}

/// One histogram per profiled column (numeric bins, or the top categories).
pub fn profile_histograms(p: &Profile) -> Result<Vec<ColumnChart>, UiError> {
    p.columns
        .iter()
        .map(|c| {
            let h = match &c.histogram {
                Some(h) => HistogramPair {
                    title: c.name.clone(),
                    edges: h.edges.clone(),
                    labels: vec![],
                    reference: h.counts.iter().map(|&n| n as u64).collect(),
                    current: vec![],
                },
                None => HistogramPair {
                    title: format!("{} (top values)", c.name),
                    edges: vec![],
                    labels: c.top.iter().map(|(v, _)| v.clone()).collect(),
                    reference: c.top.iter().map(|(_, n)| *n as u64).collect(),
                    current: vec![],
                },
            };
            Ok(ColumnChart {
                column: c.name.clone(),
                svg: lab_charts::histogram_pair(&h, SMALL).map_err(chart_err)?,
            })
        })
        .collect()
}

/// Reference vs current histogram of a drift column.
pub fn drift_histogram(c: &ColumnDrift) -> Result<String, UiError> {
    lab_charts::histogram_pair(
        &HistogramPair {
            title: format!(
                "{} — {} {}",
                c.column,
                c.test.as_str(),
                lab_charts::tick(c.score)
            ),
            edges: c.histogram.edges.clone(),
            labels: c.histogram.labels.clone(),
            reference: c.histogram.reference.clone(),
            current: c.histogram.current.clone(),
        },
        SMALL,
    )
    .map_err(chart_err)
}

/// Every feature's drift score with its threshold, drifted ones flagged.
pub fn drift_scores(d: &DriftReport) -> Result<String, UiError> {
    lab_charts::bar_chart(
        &BarChart {
            title: format!(
                "drift score per feature ({} of {} drifted)",
                d.drifted_columns,
                d.columns.len()
            ),
            x_label: "score (p-value: drift below the mark; distance: drift above it)".into(),
            labels: d
                .columns
                .iter()
                .map(|c| format!("{} ({})", c.column, c.test.as_str()))
                .collect(),
            values: d.columns.iter().map(|c| c.score).collect(),
            thresholds: d.columns.iter().map(|c| Some(c.threshold)).collect(),
            flagged: d.columns.iter().map(|c| c.drifted).collect(),
        },
        Size {
            width: 640,
            height: 60 + 26 * d.columns.len().max(1) as u32,
        },
    )
    .map_err(chart_err)
}

#[derive(Debug, Clone, Serialize)]
pub struct MonitorCharts {
    pub requests: String,
    pub latency: String,
    pub errors: String,
    pub drift_share: String,
}

/// Time series of the windows, x in seconds relative to the first one.
pub fn monitor_series(
    windows: &[WindowRecord],
    window_ms: i64,
    error_threshold: Option<f64>,
    drift_threshold: Option<f64>,
    p99_threshold: Option<f64>,
) -> Result<MonitorCharts, UiError> {
    let t0 = windows.first().map_or(0, |w| w.start_ms);
    let x = |w: &WindowRecord| (w.start_ms - t0) as f64 / 1000.0;
    let series = |name: &str, f: &dyn Fn(&WindowRecord) -> Option<f64>| Series {
        name: name.into(),
        points: windows.iter().filter_map(|w| Some((x(w), f(w)?))).collect(),
    };
    let chart = |title: &str, y: &str, s: Vec<Series>, threshold: Option<f64>| {
        lab_charts::line_chart(
            &LineChart {
                title: title.into(),
                x_label: format!("seconds ({} s windows)", window_ms / 1000),
                y_label: y.into(),
                series: s,
                threshold,
                markers: windows.len() < 30,
                y_from_zero: true,
            },
            SMALL,
        )
        .map_err(chart_err)
    };
    let secs = window_ms as f64 / 1000.0;
    Ok(MonitorCharts {
        requests: chart(
            "requests per second",
            "req/s",
            vec![series("req/s", &|w| Some(w.requests as f64 / secs))],
            None,
        )?,
        latency: chart(
            "server latency",
            "ms",
            vec![
                series("p50", &|w| w.latency_p50),
                series("p95", &|w| w.latency_p95),
                series("p99", &|w| w.latency_p99),
            ],
            p99_threshold,
        )?,
        errors: chart(
            "error rate",
            "share of requests",
            vec![series("errors", &|w| Some(w.error_rate))],
            error_threshold,
        )?,
        drift_share: chart(
            "share of drifted features",
            "share",
            vec![series("drift share", &|w| w.drift_share)],
            drift_threshold,
        )?,
    })
}
