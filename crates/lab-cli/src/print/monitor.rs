//! Monitor: drift reports, traffic runs, monitoring windows, alerts and
//! retraining.

use std::fmt::{self, Write as _};

use lab_pipeline::{
    AlertRecord, AlertRule, CollectSummary, ColumnStats, DriftReport, RetrainResult, ScenarioDrift,
    TrafficSummary, WindowResult,
};
use serde::Serialize;

use super::{Render, num, serialize_as_value, table, time};

/// `drift`: a shipped scenario's reference slice against its current slice.
impl Render for ScenarioDrift {
    fn human(&self, out: &mut String) -> fmt::Result {
        writeln!(
            out,
            "{} ({}): {} reference rows vs {} current rows. {}",
            self.scenario, self.dataset, self.reference_rows, self.current_rows, self.description
        )?;
        drift_table(&self.report, out)?;
        if let Some(e) = self.expect_drift {
            writeln!(
                out,
                "catalogue expects {}: {}",
                if e { "drift" } else { "no drift" },
                if e == self.report.dataset_drift {
                    "as expected"
                } else {
                    "NOT as expected"
                }
            )?;
        }
        Ok(())
    }
}

/// Per-column drift (the test that decides, and every statistic), then the
/// dataset-level verdict.
fn drift_table(r: &DriftReport, out: &mut String) -> fmt::Result {
    let mut t = table(&[
        "column",
        "test",
        "score",
        "threshold",
        "drift",
        "KS D",
        "KS p",
        "W/std",
        "PSI",
        "chi² p",
        "JS",
    ]);
    for c in &r.columns {
        let mut row = vec![
            c.column.clone(),
            c.test.as_str().to_string(),
            format!("{:.4}", c.score),
            num(Some(c.threshold)),
            if c.drifted { "DRIFT".into() } else { "".into() },
        ];
        row.extend(column_stats(&c.stats));
        t.add_row(row);
    }
    writeln!(out, "{t}")?;
    writeln!(
        out,
        "{} of {} columns drifted ({:.0}%): {}",
        r.drifted_columns,
        r.columns.len(),
        r.share * 100.0,
        if r.dataset_drift {
            "DATASET DRIFT"
        } else {
            "no dataset drift"
        }
    )
}

/// The six statistic cells: KS D, KS p, W/std, PSI for a numeric column;
/// chi² p and JS for a categorical one.
fn column_stats(stats: &ColumnStats) -> [String; 6] {
    match stats {
        ColumnStats::Numeric(n) => [
            format!("{:.4}", n.ks.statistic),
            format!("{:.2e}", n.ks.pvalue),
            format!("{:.4}", n.wasserstein_norm),
            format!("{:.4}", n.psi.value),
            String::new(),
            String::new(),
        ],
        ColumnStats::Categorical(k) => [
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            format!("{:.2e}", k.chi2.pvalue),
            format!("{:.4}", k.jensenshannon),
        ],
    }
}

/// `traffic`: what was sent and how it went.
impl Render for TrafficSummary {
    fn human(&self, out: &mut String) -> fmt::Result {
        let s = self;
        writeln!(
            out,
            "{} → {}: sent {}, ok {}, errors {} in {:.1}s; latency p50 {} ms, p95 {} ms, p99 {} ms; {} labels fed",
            s.service,
            s.endpoint,
            s.sent,
            s.ok,
            s.errors,
            s.seconds,
            num(s.p50_ms),
            num(s.p95_ms),
            num(s.p99_ms),
            s.labels_fed
        )?;
        if let Some(e) = &s.first_error {
            writeln!(out, "first error: {e}")?;
        }
        Ok(())
    }
}

/// `monitor`: what was collected and the windows evaluated.
///
/// The JSON is `{"collected", "windows"}` with the keys of every object
/// sorted, as it has always been (fields in key order, parts through
/// `serde_json::Value`).
#[derive(Serialize)]
pub struct MonitorView<'a> {
    #[serde(serialize_with = "serialize_as_value")]
    pub collected: &'a CollectSummary,
    #[serde(serialize_with = "serialize_as_value")]
    pub windows: &'a [WindowResult],
}

impl Render for MonitorView<'_> {
    fn human(&self, out: &mut String) -> fmt::Result {
        let c = self.collected;
        writeln!(
            out,
            "collected {} new records from {} deployment(s) ({} lines read, {} /metrics scrapes)",
            c.new_records, c.deployments, c.lines_read, c.scrapes
        )?;
        windows_table(self.windows, out)?;
        if let Some(w) = self.windows.iter().rev().find(|w| w.drift.is_some()) {
            latest_drift(w, out)?;
        }
        Ok(())
    }
}

fn windows_table(windows: &[WindowResult], out: &mut String) -> fmt::Result {
    let mut t = table(&[
        "window",
        "versions",
        "requests",
        "error rate",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "drift share",
        "quality",
        "alerts",
    ]);
    for w in windows {
        let r = &w.window;
        t.add_row(vec![
            format!("{} +{}s", time(r.start_ms), (r.end_ms - r.start_ms) / 1000),
            r.versions.clone(),
            r.requests.to_string(),
            format!("{:.1}%", r.error_rate * 100.0),
            num(r.latency_p50),
            num(r.latency_p95),
            num(r.latency_p99),
            r.drift_share
                .map_or("n/a".into(), |s| format!("{:.0}%", s * 100.0)),
            match (&r.quality_metric, r.quality_value) {
                (Some(m), Some(v)) => format!("{m} {v:.4} (n={})", r.labelled),
                _ => String::new(),
            },
            w.alerts
                .iter()
                .map(|a| a.metric.clone())
                .collect::<Vec<_>>()
                .join(", "),
        ]);
    }
    writeln!(out, "{t}")
}

/// The latest window with a drift report: its feature drift, then its
/// prediction and target drift.
fn latest_drift(w: &WindowResult, out: &mut String) -> fmt::Result {
    writeln!(out, "latest window's drift:")?;
    if let Some(d) = &w.drift {
        drift_table(d, out)?;
    }
    let detail: serde_json::Value = serde_json::from_str(&w.window.detail).unwrap_or_default();
    for (key, what) in [
        ("prediction_drift", "prediction drift"),
        ("target_drift", "target drift (late labels)"),
    ] {
        let c = &detail[key];
        if let (Some(test), Some(score), Some(drifted)) = (
            c["test"].as_str(),
            c["score"].as_f64(),
            c["drifted"].as_bool(),
        ) {
            writeln!(
                out,
                "{what}: {test} {score:.4} (threshold {}) → {}",
                num(c["threshold"].as_f64()),
                if drifted { "DRIFT" } else { "no drift" }
            )?;
        }
    }
    Ok(())
}

/// `alerts`: a service's alert rules and the alerts that fired.
///
/// The JSON is `{"alerts", "rules"}` with the keys of every object sorted,
/// as it has always been (fields in key order, parts through
/// `serde_json::Value`).
#[derive(Serialize)]
pub struct AlertsView {
    #[serde(serialize_with = "serialize_as_value")]
    pub alerts: Vec<AlertRecord>,
    #[serde(serialize_with = "serialize_as_value")]
    pub rules: Vec<AlertRule>,
}

impl Render for AlertsView {
    fn human(&self, out: &mut String) -> fmt::Result {
        let mut t = table(&["rule", "fires at or above", "starts a retrain"]);
        for r in &self.rules {
            t.add_row(vec![
                r.metric.as_str().to_string(),
                num(Some(r.threshold)),
                if r.retrain { "yes".into() } else { "no".into() },
            ]);
        }
        writeln!(out, "{t}")?;
        let mut t = table(&["#", "when", "metric", "value", "message"]);
        for a in &self.alerts {
            t.add_row(vec![
                a.alert_id.to_string(),
                time(a.created_at),
                a.metric.clone(),
                num(Some(a.value)),
                a.message.clone(),
            ]);
        }
        writeln!(out, "{t}")
    }
}

/// `retrain`: challenger against champion, and the rollout if it won.
impl Render for RetrainResult {
    fn human(&self, out: &mut String) -> fmt::Result {
        let r = self;
        writeln!(
            out,
            "{} ({}): {} labelled rows, {} added to training, {} most recent held out",
            r.service, r.reason, r.labelled_rows, r.added_rows, r.holdout_rows
        )?;
        writeln!(
            out,
            "{}: champion v{} {:.4}, challenger v{} {:.4} → {}",
            r.metric,
            r.champion_version,
            r.champion_score,
            r.challenger_version,
            r.challenger_score,
            r.decision
        )?;
        if let Some(ro) = &r.rollout {
            writeln!(
                out,
                "rolled out: {} now serves v{}",
                ro.endpoint, ro.deployed.deployment.model_version
            )?;
        }
        Ok(())
    }
}
