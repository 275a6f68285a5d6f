//! Experiments: runs, one run's detail, runs side by side, and registering
//! a run's model.

use serde::Serialize;
use tauri::State;

use crate::state::{AppLab, UiResult, with_lab};
use crate::views;

/// A run with its headline metric, as the runs table shows it.
#[derive(Debug, Clone, Serialize)]
pub struct RunRow {
    #[serde(flatten)]
    pub run: lab_pipeline::Run,
    pub headline: Option<(&'static str, f64)>,
}

#[tauri::command]
pub async fn runs(app: State<'_, AppLab>) -> UiResult<Vec<RunRow>> {
    with_lab(&app, |lab| {
        Ok(lab
            .runs(&lab_pipeline::RunFilter::default())?
            .into_iter()
            .map(|run| RunRow {
                headline: lab_pipeline::headline_metric(&run),
                run,
            })
            .collect())
    })
    .await
}

#[derive(Debug, Clone, Serialize)]
pub struct RunDetailView {
    #[serde(flatten)]
    pub detail: lab_pipeline::RunDetail,
    /// The learning curve (the run's metric history) and the confusion
    /// matrix, drawn.
    pub history_svg: Option<String>,
    /// Each other metric logged at several steps: (metric, chart).
    pub stepped_svgs: Vec<(String, String)>,
    pub confusion_svg: Option<String>,
}

#[tauri::command]
pub async fn run_detail(app: State<'_, AppLab>, run_id: String) -> UiResult<RunDetailView> {
    with_lab(&app, move |lab| {
        let detail = lab.run_detail(&run_id)?;
        let history_svg = match &detail.primary_metric {
            Some(m) if !detail.history.is_empty() => Some(views::learning_curve(
                &format!("{m} by training rows (learning curve)"),
                vec![
                    ("test".into(), &detail.history),
                    ("train".into(), &detail.train_history),
                ],
                m,
            )?),
            _ => None,
        };
        let confusion_svg = match &detail.confusion_matrix {
            Some(m) if !detail.classes.is_empty() => Some(views::confusion(&detail.classes, m)?),
            _ => None,
        };
        let stepped_svgs = detail
            .metric_histories
            .iter()
            .map(|(k, points)| Ok((k.clone(), views::metric_history(k, points)?)))
            .collect::<Result<_, crate::state::UiError>>()?;
        Ok(RunDetailView {
            detail,
            history_svg,
            stepped_svgs,
            confusion_svg,
        })
    })
    .await
}

#[derive(Debug, Clone, Serialize)]
pub struct CompareView {
    #[serde(flatten)]
    pub comparison: lab_pipeline::RunComparison,
    pub curves_svg: Option<String>,
}

#[tauri::command]
pub async fn compare_runs(app: State<'_, AppLab>, run_ids: Vec<String>) -> UiResult<CompareView> {
    with_lab(&app, move |lab| {
        let comparison = lab.compare_runs(&run_ids)?;
        let curves_svg = match &comparison.curve_metric {
            Some(m) => Some(views::learning_curve(
                &format!("{m} learning curves"),
                comparison
                    .curves
                    .iter()
                    .map(|(n, h)| (n.clone(), h))
                    .collect(),
                m,
            )?),
            None => None,
        };
        Ok(CompareView {
            comparison,
            curves_svg,
        })
    })
    .await
}

#[tauri::command]
pub async fn register(
    app: State<'_, AppLab>,
    run_id: String,
    name: Option<String>,
) -> UiResult<lab_pipeline::ModelVersion> {
    with_lab(&app, move |lab| {
        Ok(lab.register_run(&run_id, name.as_deref())?)
    })
    .await
}
