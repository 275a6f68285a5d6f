//! Retrain: a challenger on the reference data plus newly labelled rows,
//! judged against the champion on the most recent labelled window, and
//! rolled out only if it is better.

use lab_model::ModelKind;
use lab_monitor::LiveQuality;
use lab_store::{RetrainRecord, now_ms};
use serde::{Deserialize, Serialize};
use serde_json::Value as J;

use crate::events::{Event, Stage, stage};
use crate::lab::Lab;
use crate::monitor::model_label;
use crate::request::{DataSource, ModelRef, TrainRequest};
use crate::service::RolloutResult;
use crate::{PipelineError, Result};

/// Share of the labelled rows, the most recent, kept out of training to
/// judge champion and challenger.
pub const HOLDOUT_SHARE: f64 = 0.3;
/// Fewer labelled rows than this cannot support a retrain decision.
pub const MIN_LABELLED: usize = 30;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RetrainResult {
    pub retrain_id: String,
    pub service: String,
    pub reason: String,
    pub labelled_rows: usize,
    pub added_rows: usize,
    pub holdout_rows: usize,
    /// The CSV of newly labelled rows the challenger trained on (lab home).
    pub data_file: String,
    pub metric: String,
    pub champion_version: i64,
    pub champion_score: f64,
    pub challenger_run_id: String,
    pub challenger_version: i64,
    pub challenger_score: f64,
    pub promoted: bool,
    pub decision: String,
    pub rollout: Option<RolloutResult>,
}

impl Lab {
    /// Retrain `service`'s model (see the module docs). `reason` is recorded
    /// (`alert #3: drift_share`, `on demand`).
    pub fn retrain(
        &self,
        service: &str,
        reason: &str,
        local: bool,
        sink: &dyn Fn(Event),
    ) -> Result<RetrainResult> {
        let svc = self.service(service)?;
        let dataset = svc.dataset.clone().ok_or_else(|| {
            PipelineError::Invalid(format!(
                "service `{service}` has no catalogue dataset recorded, so its labels cannot be joined to training data: `mlops-lab pipeline run` records it"
            ))
        })?;
        let champion_version = svc.active_version.ok_or_else(|| {
            PipelineError::Invalid(format!("service `{service}` serves no model"))
        })?;
        let champ_mv = self
            .store
            .model_version(&svc.model_name, champion_version)?;
        let champion = self.load_artifact(&champ_mv)?;
        let spec = self.catalog.dataset(&dataset)?;
        let target = spec.target(None)?;
        let derive = target.derive.clone();

        // Labelled predictions, oldest first.
        let rows: Vec<(serde_json::Map<String, J>, J)> = self
            .store
            .log_rows(service, 0, i64::MAX)?
            .into_iter()
            .filter(|r| r.kind == "prediction")
            .filter_map(|r| {
                let f: serde_json::Map<String, J> =
                    serde_json::from_str(r.features.as_deref()?).ok()?;
                let l: J = serde_json::from_str(r.label.as_deref()?).ok()?;
                Some((f, l))
            })
            .collect();
        if rows.len() < MIN_LABELLED {
            return Err(PipelineError::Invalid(format!(
                "service `{service}` has {} labelled predictions; a retrain needs at least {MIN_LABELLED}: send traffic with labels (`mlops-lab traffic ... --labels`) and `mlops-lab monitor` first",
                rows.len()
            )));
        }
        let (train_part, recent) = split_by_source_row(&rows);
        let holdout = recent.len();

        // The newly labelled rows, as a CSV the learner can open.
        let mut columns = target.features.clone();
        columns.push(target.column.clone());
        let retrain_id = uuid::Uuid::new_v4().simple().to_string();
        let rel = format!("retrain/{service}-{}/labelled.csv", &retrain_id[..8]);
        let csv_of = |rows: &[&(serde_json::Map<String, J>, J)]| {
            let mut csv = columns.join(",");
            csv.push('\n');
            for (f, l) in rows {
                let cells: Vec<String> = target
                    .features
                    .iter()
                    .map(|c| csv_cell(f.get(c).unwrap_or(&J::Null)))
                    .chain([csv_cell(l)])
                    .collect();
                csv.push_str(&cells.join(","));
                csv.push('\n');
            }
            csv
        };
        self.home()
            .write_atomic(&rel, csv_of(&train_part).as_bytes())?;
        // The rows both models are judged on, for the learner to inspect.
        self.home().write_atomic(
            rel.replace("labelled.csv", "holdout.csv"),
            csv_of(&recent).as_bytes(),
        )?;
        let extra = self.home().confine(&rel)?;

        let req = TrainRequest {
            experiment: Some(format!("{service}-retrain")),
            run_name: Some(format!("{service}-retrain-{}", &retrain_id[..8])),
            compare_with: Some(svc.model_name.clone()),
            ..TrainRequest::new(
                DataSource::Augmented {
                    name: dataset.clone(),
                    scenario: svc.scenario.clone(),
                    extra,
                },
                champion.model_kind,
            )
        };
        let trained = self.train(&req, sink)?;
        let challenger_mv = self.register(&trained.run_id, &svc.model_name)?;
        let challenger = self.load_artifact(&challenger_mv)?;

        // Both models on the most recent labelled window.
        let (metric, champ_score, chall_score) = stage(
            sink,
            Stage::Retrain,
            format!(
                "champion v{champion_version} vs challenger v{} on the {holdout} most recent labelled rows",
                challenger_mv.version
            ),
            || {
                let c = score(&champion, &recent, derive.as_ref())?;
                let n = score(&challenger, &recent, derive.as_ref())?;
                let msg = format!(
                    "{} champion {:.4}, challenger {:.4}",
                    c.metric, c.value, n.value
                );
                Ok::<_, PipelineError>(((c.metric.clone(), c.value, n.value), msg))
            },
        )?;
        let better = if metric == "mae" {
            chall_score < champ_score
        } else {
            chall_score > champ_score
        };
        let promoted = better && trained.gate.passed;
        let decision = if promoted {
            format!(
                "promoted: challenger v{} {metric} {chall_score:.4} beats champion v{champion_version} {champ_score:.4}",
                challenger_mv.version
            )
        } else if !trained.gate.passed {
            format!(
                "kept champion: challenger v{} failed the validation gate",
                challenger_mv.version
            )
        } else {
            format!(
                "kept champion: challenger v{} {metric} {chall_score:.4} is not better than {champ_score:.4}",
                challenger_mv.version
            )
        };
        let alias = if promoted { "champion" } else { "challenger" };
        self.set_alias(&svc.model_name, challenger_mv.version, alias)?;
        let rollout = if promoted {
            Some(self.rollout(
                service,
                &ModelRef::Version(svc.model_name.clone(), challenger_mv.version),
                local,
                sink,
            )?)
        } else {
            None
        };
        let result = RetrainResult {
            retrain_id: retrain_id.clone(),
            service: service.to_string(),
            reason: reason.to_string(),
            labelled_rows: rows.len(),
            added_rows: train_part.len(),
            holdout_rows: recent.len(),
            data_file: rel,
            metric: metric.clone(),
            champion_version,
            champion_score: champ_score,
            challenger_run_id: trained.run_id.clone(),
            challenger_version: challenger_mv.version,
            challenger_score: chall_score,
            promoted,
            decision: decision.clone(),
            rollout,
        };
        self.store.insert_retrain(&RetrainRecord {
            retrain_id,
            service: service.to_string(),
            reason: reason.to_string(),
            champion_version: Some(champion_version),
            challenger_run_id: Some(trained.run_id),
            challenger_version: Some(challenger_mv.version),
            metric: Some(metric),
            champion_score: Some(champ_score),
            challenger_score: Some(chall_score),
            promoted,
            detail: serde_json::json!({
                "decision": decision,
                "labelled_rows": result.labelled_rows,
                "added_rows": result.added_rows,
                "holdout_rows": result.holdout_rows,
                "data_file": result.data_file,
            })
            .to_string(),
            created_at: now_ms(),
        })?;
        Ok(result)
    }
}

type Labelled = (serde_json::Map<String, J>, J);

/// Split labelled rows (oldest first) into the challenger's extra training
/// rows and the holdout both models are judged on: by distinct source row
/// (the same features), so a row sent more than once is wholly on one
/// side, never on both, whatever labels came back for it. The holdout takes the rows first seen most
/// recently, about `HOLDOUT_SHARE` of all (at least 10 when there are
/// enough distinct rows).
fn split_by_source_row(rows: &[Labelled]) -> (Vec<&Labelled>, Vec<&Labelled>) {
    let key = |(f, _): &Labelled| J::Object(f.clone()).to_string();
    // Distinct rows in order of first appearance, with their counts.
    let mut first_seen: Vec<String> = vec![];
    let mut count: std::collections::HashMap<String, usize> = Default::default();
    for r in rows {
        let k = key(r);
        let c = count.entry(k.clone()).or_insert(0);
        if *c == 0 {
            first_seen.push(k);
        }
        *c += 1;
    }
    let want = ((rows.len() as f64 * HOLDOUT_SHARE).round() as usize).max(10);
    let mut held: std::collections::HashSet<&str> = Default::default();
    let mut n = 0;
    // Newest first; keep at least one distinct row for training.
    for k in first_seen
        .iter()
        .rev()
        .take(first_seen.len().saturating_sub(1))
    {
        if n >= want {
            break;
        }
        held.insert(k);
        n += count[k];
    }
    rows.iter().partition(|r| !held.contains(key(r).as_str()))
}

fn csv_cell(v: &J) -> String {
    match v {
        J::Null => String::new(),
        J::Number(n) => lab_model::format_number(n.as_f64().unwrap_or(f64::NAN)),
        J::String(s) if s.contains([',', '"', '\n']) => format!("\"{}\"", s.replace('"', "\"\"")),
        J::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// MAE (regression) or accuracy (classification) of `model` on labelled rows.
fn score(
    model: &lab_model::ModelArtifact,
    rows: &[&Labelled],
    derive: Option<&lab_data::Derive>,
) -> Result<LiveQuality> {
    let names = model.preprocessor.input_names();
    let raw: Vec<Vec<lab_model::Value>> = rows
        .iter()
        .map(|(f, _)| {
            names
                .iter()
                .map(|n| match f.get(*n) {
                    Some(J::Number(x)) => lab_model::Value::Number(x.as_f64().unwrap_or(f64::NAN)),
                    Some(J::String(s)) => lab_model::Value::Text(s.clone()),
                    _ => lab_model::Value::Missing,
                })
                .collect()
        })
        .collect();
    let preds = model.predict_rows(&raw)?;
    let truth: Vec<J> = rows.iter().map(|(_, l)| model_label(l, derive)).collect();
    let q = if matches!(
        model.model_kind,
        ModelKind::LinearRegression | ModelKind::ElasticNet
    ) || model.task == lab_model::Task::Regression
    {
        LiveQuality::mae(
            &preds
                .iter()
                .zip(&truth)
                .filter_map(|(p, t)| match p {
                    lab_model::Prediction::Value { value } => Some((*value, t.as_f64()?)),
                    _ => None,
                })
                .collect::<Vec<_>>(),
        )
    } else {
        LiveQuality::accuracy(
            &preds
                .iter()
                .zip(&truth)
                .filter_map(|(p, t)| match p {
                    lab_model::Prediction::Class { label, .. } => {
                        Some((label.clone(), t.as_str()?.to_string()))
                    }
                    _ => None,
                })
                .collect::<Vec<_>>(),
        )
    };
    q.ok_or_else(|| PipelineError::Invalid("no labelled rows could be scored".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(x: i64, label: &str) -> Labelled {
        let mut f = serde_json::Map::new();
        f.insert("x".into(), J::from(x));
        (f, J::from(label))
    }

    #[test]
    fn a_repeated_row_is_never_on_both_sides() {
        // 60 distinct rows sent twice each, interleaved as traffic would.
        let rows: Vec<Labelled> = (0..120)
            .map(|i| row(i % 60, if i % 2 == 0 { "a" } else { "b" }))
            .collect();
        let (train, holdout) = split_by_source_row(&rows);
        assert_eq!(train.len() + holdout.len(), rows.len());
        assert!(holdout.len() >= 36, "{}", holdout.len());
        for h in &holdout {
            assert!(
                !train.contains(h),
                "holdout row {h:?} is also a training row"
            );
        }
    }
}
