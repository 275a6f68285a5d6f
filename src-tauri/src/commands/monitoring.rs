//! Monitoring: services, traffic, the live snapshot with its charts, and a
//! retrain on demand.

use lab_pipeline::{AlertMetric, Event, TrafficPlan};
use serde::Serialize;
use tauri::State;
use tauri::ipc::Channel;

use crate::state::{AppLab, Jobs, UiResult, sink, with_job, with_lab};
use crate::views;

#[tauri::command]
pub async fn services(app: State<'_, AppLab>) -> UiResult<Vec<lab_pipeline::ServiceStatus>> {
    with_lab(&app, |lab| Ok(lab.services()?)).await
}

/// Send traffic as `plan` says (the core fills in the dataset, scenario and
/// a fresh sample, as it does for the CLI).
#[tauri::command]
pub async fn traffic(
    app: State<'_, AppLab>,
    jobs: State<'_, Jobs>,
    job: String,
    args: TrafficPlan,
    on_event: Channel<Event>,
) -> UiResult<lab_pipeline::TrafficSummary> {
    with_job(&app, &jobs, job, move |lab| {
        let req = lab.traffic_request(&args)?;
        Ok(lab.traffic(&req, &sink(&on_event))?)
    })
    .await
}

#[derive(Debug, Clone, Serialize)]
pub struct MonitorView {
    #[serde(flatten)]
    pub snapshot: lab_pipeline::MonitorSnapshot,
    pub charts: views::MonitorCharts,
    pub drift_scores_svg: Option<String>,
    pub histograms: Vec<views::ColumnChart>,
    pub prediction_svg: Option<String>,
}

#[tauri::command]
pub async fn monitor(
    app: State<'_, AppLab>,
    service: String,
    since_ms: Option<i64>,
) -> UiResult<MonitorView> {
    with_lab(&app, move |lab| {
        let snapshot = lab.live_snapshot(&service, since_ms)?;
        let rule = |m: AlertMetric| {
            snapshot
                .rules
                .iter()
                .find(|r| r.metric == m)
                .map(|r| r.threshold)
        };
        let charts = views::monitor_series(
            &snapshot.windows,
            snapshot.window_ms,
            rule(AlertMetric::ErrorRate),
            rule(AlertMetric::DriftShare),
            rule(AlertMetric::LatencyP99Ms),
        )?;
        let (drift_scores_svg, histograms) = match &snapshot.drift {
            Some(d) => (
                Some(views::drift_scores(d)?),
                d.columns
                    .iter()
                    .map(|c| {
                        Ok(views::ColumnChart {
                            column: c.column.clone(),
                            svg: views::drift_histogram(c)?,
                        })
                    })
                    .collect::<UiResult<Vec<_>>>()?,
            ),
            None => (None, vec![]),
        };
        let prediction_svg = snapshot
            .prediction_drift
            .as_ref()
            .map(views::drift_histogram)
            .transpose()?;
        Ok(MonitorView {
            snapshot,
            charts,
            drift_scores_svg,
            histograms,
            prediction_svg,
        })
    })
    .await
}

#[tauri::command]
pub async fn retrain(
    app: State<'_, AppLab>,
    jobs: State<'_, Jobs>,
    job: String,
    service: String,
    on_event: Channel<Event>,
) -> UiResult<lab_pipeline::RetrainResult> {
    with_job(&app, &jobs, job, move |lab| {
        Ok(lab.retrain(&service, "on demand (app)", false, &sink(&on_event))?)
    })
    .await
}
