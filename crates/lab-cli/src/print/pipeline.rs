//! The whole pipeline: a `pipeline run` summary, and what `reset` removed.

use std::fmt::{self, Write as _};

use lab_pipeline::PipelineSummary;
use serde::Serialize;

use super::{Render, num, table};

/// `pipeline run`: one row per stage's outcome, then what to try next.
impl Render for PipelineSummary {
    fn human(&self, out: &mut String) -> fmt::Result {
        let s = self;
        let mut t = table(&["pipeline", "result"]);
        for (k, v) in deploy_rows(s).into_iter().chain(monitor_rows(s)) {
            t.add_row(vec![k.to_string(), v]);
        }
        writeln!(out, "{t}")?;
        writeln!(
            out,
            "Try it: curl -s {}/invocations -H 'Content-Type: application/json' -d '{{\"dataframe_records\": [...]}}'",
            s.endpoint
        )?;
        writeln!(
            out,
            "Next: mlops-lab monitor {} · mlops-lab alerts {} · mlops-lab rollback {}",
            s.service, s.service, s.service
        )
    }
}

/// Data → Deploy: the scenario, run, model, image and endpoint.
fn deploy_rows(s: &PipelineSummary) -> Vec<(&'static str, String)> {
    vec![
        ("scenario", format!("{} ({})", s.scenario, s.dataset)),
        ("run", s.run_id.clone()),
        ("model", format!("{} v{}", s.model, s.version)),
        (
            "image",
            match (&s.image, s.image_size_bytes) {
                (Some(i), Some(b)) => format!("{i} ({:.2} MB)", b as f64 / 1e6),
                _ => format!("none ({} process)", s.runtime),
            },
        ),
        ("endpoint", s.endpoint.clone()),
    ]
}

/// Monitor → Retrain: traffic, drift, alerts, the retrain, what serves now
/// and how long each stage took.
fn monitor_rows(s: &PipelineSummary) -> Vec<(&'static str, String)> {
    let pct = |x: Option<f64>| x.map_or("n/a".into(), |v| format!("{:.0}%", v * 100.0));
    let drift = format!(
        "{} (share {}; drifted: {})",
        match s.dataset_drift {
            Some(true) => "DATASET DRIFT",
            Some(false) => "no dataset drift",
            None => "not enough rows",
        },
        pct(s.drift_share),
        if s.drifted_features.is_empty() {
            "none".to_string()
        } else {
            s.drifted_features.join(", ")
        }
    );
    let timings: Vec<String> = s
        .timings
        .iter()
        .map(|t| format!("{} {:.1}s", t.stage, t.millis as f64 / 1000.0))
        .collect();
    vec![
        (
            "traffic",
            format!(
                "{} sent, {} ok, {} errors, p50 {} ms, p99 {} ms",
                s.traffic.sent,
                s.traffic.ok,
                s.traffic.errors,
                num(s.traffic.p50_ms),
                num(s.traffic.p99_ms)
            ),
        ),
        ("drift", drift),
        (
            "alerts",
            if s.alerts.is_empty() {
                "none".into()
            } else {
                s.alerts.join("; ")
            },
        ),
        (
            "retrain",
            s.retrain
                .as_ref()
                .map_or("not needed".into(), |r| r.decision.clone()),
        ),
        ("serving", format!("{} v{}", s.model, s.serving_version)),
        (
            "timings",
            format!("{} — total {:.1}s", timings.join(", "), s.total_seconds),
        ),
    ]
}

/// `reset`: what was removed, one a line.
#[derive(Serialize)]
#[serde(transparent)]
pub struct Removed(pub Vec<String>);

impl Render for Removed {
    fn human(&self, out: &mut String) -> fmt::Result {
        for d in &self.0 {
            writeln!(out, "{d}")?;
        }
        Ok(())
    }
}
