//! `drift`, `traffic`, `monitor`, `alerts` and `retrain`.

use std::process::ExitCode;

use anyhow::{Context, Result};
use lab_pipeline::{AlertMetric, TrafficPlan};

use super::{Ctx, drift_config, parse_duration};
use crate::cli::TrafficArgs;
use crate::print::{self, AlertsView, MonitorView};

pub(super) fn drift(ctx: &Ctx, scenario: &str, settings: &[String]) -> Result<ExitCode> {
    let lab = ctx.lab()?;
    let cfg = drift_config(settings)?;
    ctx.emit(&lab.scenario_drift(scenario, &cfg)?)
}

/// Fails (exit 1) when any request failed, after printing the summary.
pub(super) fn traffic(ctx: &Ctx, a: TrafficArgs) -> Result<ExitCode> {
    let lab = ctx.lab()?;
    let requests = match a.requests {
        Some(n) => n,
        // Saturates for absurd values; the lab refuses more than
        // MAX_TRAFFIC_REQUESTS before building anything.
        None => (parse_duration(&a.duration)?.as_secs_f64() * a.rps).round() as usize,
    };
    let req = lab.traffic_request(&TrafficPlan {
        service: a.deployment,
        mix: a.scenario.into(),
        rps: a.rps,
        requests,
        labels: !a.no_labels,
        dataset: a.dataset,
        scenario: a.drift_scenario,
        seed: a.seed,
    })?;
    let result = ctx.progress(|sink| lab.traffic(&req, sink))?;
    if a.monitor {
        let (collected, w) = lab.monitor_traffic(&result, &lab_pipeline::DriftConfig::default())?;
        if ctx.json {
            println!(
                "{}",
                serde_json::to_string_pretty(
                    &serde_json::json!({"traffic": result, "collected": collected, "window": w})
                )?
            );
        } else {
            print::emit(&result, false)?;
            ctx.emit(&MonitorView {
                collected: &collected,
                windows: std::slice::from_ref(&w),
            })?;
        }
    } else {
        print::emit(&result, ctx.json)?;
    }
    Ok(if result.errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

pub(super) fn monitor(
    ctx: &Ctx,
    service: &str,
    window: &str,
    settings: &[String],
) -> Result<ExitCode> {
    let lab = ctx.lab()?;
    let cfg = drift_config(settings)?;
    let ms = i64::try_from(parse_duration(window)?.as_millis())
        .with_context(|| format!("--window {window} is too long"))?;
    let (collected, windows) = lab.monitor(service, ms, &cfg)?;
    ctx.emit(&MonitorView {
        collected: &collected,
        windows: &windows,
    })
}

/// Applies each `--rule METRIC=THRESHOLD`, then shows rules and alerts.
pub(super) fn alerts(ctx: &Ctx, service: &str, rules: &[String]) -> Result<ExitCode> {
    let lab = ctx.lab()?;
    for r in rules {
        let (m, t) = r
            .split_once('=')
            .with_context(|| format!("--rule `{r}` must look like METRIC=THRESHOLD"))?;
        let metric = AlertMetric::parse(m.trim())?;
        let threshold: f64 = t
            .trim()
            .parse()
            .with_context(|| format!("--rule {r}: the threshold must be a number"))?;
        lab.set_alert_threshold(service, metric, threshold)?;
    }
    ctx.emit(&AlertsView {
        rules: lab.alert_rules(service)?,
        alerts: lab.alerts(service)?,
    })
}

pub(super) fn retrain(ctx: &Ctx, service: &str, local: bool) -> Result<ExitCode> {
    let lab = ctx.lab()?;
    let result = ctx.progress(|sink| lab.retrain(service, "on demand", local, sink))?;
    ctx.emit(&result)
}
