//! Train and Validate: one training request as a run, step by step.

use std::collections::BTreeMap;
use std::time::Instant;

use lab_data::Prepared;
use lab_model::ModelArtifact;
use lab_store::{Metric, Run, RunStatus, now_ms};

use lab_train::{CurvePoint, GateResult, TrainOutput};

use crate::events::{Event, Stage, stage};
use crate::files::{self, Reference, RunEvaluation};
use crate::lab::{LEARNING_CURVE, Lab};
use crate::request::{ChampionComparison, TrainRequest, TrainResult, default_model_name};
use crate::{PipelineError, Result, failpoint};

impl Lab {
    /// Data → Train → Validate for one run, recorded in the store with its
    /// params, metrics, tags and model artifact.
    pub fn train(&self, req: &TrainRequest, sink: &dyn Fn(Event)) -> Result<TrainResult> {
        // Bad parameters are refused before any work is done.
        lab_train::resolve_params(req.model, &req.params)?;
        let prepared = stage(sink, Stage::Data, "loading and splitting data", || {
            let p = self.prepare(req)?;
            let msg = format!(
                "{}: {} train / {} test rows ({}), {} dropped for missing values",
                p.task.dataset,
                p.train_rows.len(),
                p.test_rows.len(),
                p.split,
                p.dropped_rows
            );
            Ok::<_, PipelineError>((p, msg))
        })?;

        let experiment = self
            .store
            .get_or_create_experiment(req.experiment.as_deref().unwrap_or("Default"))?;
        let run_name = req.run_name.clone().unwrap_or_else(|| {
            format!(
                "{}-{}-{}",
                prepared.task.dataset,
                req.model,
                now_ms() % 100_000
            )
        });
        let tags = [
            ("mlflow.runName", run_name.as_str()),
            ("mlflow.source.name", "mlops-lab"),
            ("mlflow.source.type", "LOCAL"),
            ("mlops.dataset", prepared.task.dataset.as_str()),
            ("mlops.target", prepared.task.target_name.as_str()),
            ("mlops.model", req.model.as_str()),
            ("mlops.task", prepared.task.task.as_str()),
        ];
        let run = self
            .store
            .create_run(&experiment.experiment_id, &run_name, &tags)?;
        match self.train_in_run(req, &prepared, &run, sink) {
            Ok(r) => Ok(r),
            Err(e) => {
                let msg = e.to_string();
                let _ = self.store.set_tags(&run.run_id, &[("mlops.error", &msg)]);
                let status = if matches!(e, PipelineError::Cancelled(_)) {
                    RunStatus::Killed
                } else {
                    RunStatus::Failed
                };
                let _ = self.store.end_run(&run.run_id, status);
                Err(e)
            }
        }
    }

    /// One training request inside its run, as a list of named steps.
    fn train_in_run(
        &self,
        req: &TrainRequest,
        prepared: &Prepared,
        run: &Run,
        sink: &dyn Fn(Event),
    ) -> Result<TrainResult> {
        let seed = req.seed.unwrap_or(42);
        self.log_train_params(req, prepared, run, seed)?;
        self.checkpoint("fitting the model")?;
        let (out, fit_seconds) = fit(req, prepared, seed, sink)?;
        self.checkpoint("the learning curve")?;
        let curve = lab_train::learning_curve(prepared, req.model, &req.params, seed, 5, &out);
        self.log_train_metrics(run, &out, fit_seconds, &curve)?;
        self.checkpoint("the validation gate")?;
        let model_rel = self.save_train_artifacts(run, prepared, &out)?;
        let (gate, champion) = self.validate_run(req, prepared, &out, sink)?;
        self.tag_outcome(run, &gate, champion.as_ref(), &out)?;
        self.store.end_run(&run.run_id, RunStatus::Finished)?;
        Ok(TrainResult {
            run_id: run.run_id.clone(),
            run_name: run.run_name.clone(),
            experiment_id: run.experiment_id.clone(),
            dataset: prepared.task.dataset.clone(),
            target: prepared.task.target_name.clone(),
            task: out.artifact.task,
            model: req.model,
            params: out.params,
            metrics: out.test.metrics,
            train_metrics: out.train.metrics,
            confusion_matrix: out.test.confusion_matrix,
            classes: out.artifact.classes,
            gate,
            champion,
            split: prepared.split.clone(),
            train_rows: prepared.train_rows.len(),
            test_rows: prepared.test_rows.len(),
            dropped_rows: prepared.dropped_rows,
            missing: req.missing,
            deterministic: out.deterministic,
            notes: out.notes,
            artifact_path: model_rel,
            fit_seconds,
        })
    }

    /// The resolved hyper-parameters and what the run trained on.
    fn log_train_params(
        &self,
        req: &TrainRequest,
        prepared: &Prepared,
        run: &Run,
        seed: u64,
    ) -> Result<()> {
        let resolved = lab_train::resolve_params(req.model, &req.params)?;
        let mut params: Vec<(String, String)> = resolved.into_iter().collect();
        params.extend([
            ("dataset".into(), prepared.task.dataset.clone()),
            ("target".into(), prepared.task.target_definition()),
            ("features".into(), prepared.task.features.join(",")),
            ("model".into(), req.model.to_string()),
            ("split".into(), prepared.split.clone()),
            ("seed".into(), seed.to_string()),
            ("missing".into(), req.missing.as_str().to_string()),
            ("scale".into(), req.scale.to_string()),
            ("train_rows".into(), prepared.train_rows.len().to_string()),
            ("test_rows".into(), prepared.test_rows.len().to_string()),
            ("dropped_rows".into(), prepared.dropped_rows.to_string()),
        ]);
        // Which slice of the dataset: a service serving this model later
        // monitors and retrains against the same one.
        if let crate::DataSource::Scenario { scenario, .. }
        | crate::DataSource::Augmented {
            scenario: Some(scenario),
            ..
        } = &req.source
        {
            params.push(("scenario".into(), scenario.clone()));
        }
        Ok(self.store.log_params(&run.run_id, &params)?)
    }

    /// Test metrics, `train_` metrics, `fit_seconds`, and the metric
    /// history: a learning curve, one step per training-set size
    /// (`learning_curve/<metric>` on the test split,
    /// `learning_curve/train_<metric>` on the rows fitted).
    fn log_train_metrics(
        &self,
        run: &Run,
        out: &TrainOutput,
        fit_seconds: f64,
        curve: &[CurvePoint],
    ) -> Result<()> {
        let now = now_ms();
        let metric = |key: String, value: f64, step: i64| Metric {
            key,
            value,
            timestamp: now,
            step,
        };
        let mut metrics: Vec<Metric> = out
            .test
            .metrics
            .iter()
            .map(|(k, v)| metric(k.clone(), *v, 0))
            .collect();
        metrics
            .extend((out.train.metrics.iter()).map(|(k, v)| metric(format!("train_{k}"), *v, 0)));
        metrics.push(metric("fit_seconds".into(), fit_seconds, 0));
        for p in curve {
            for (prefix, m) in [("", &p.test), ("train_", &p.train)] {
                metrics.extend(m.iter().map(|(k, v)| {
                    metric(
                        format!("{LEARNING_CURVE}{prefix}{k}"),
                        *v,
                        p.train_rows as i64,
                    )
                }));
            }
        }
        Ok(self.store.log_metrics(&run.run_id, &metrics)?)
    }

    /// The model envelope, its evaluation and the reference data monitoring
    /// compares traffic with, on disk under the run's artifact folder.
    /// Returns the model's path (relative to the lab home).
    fn save_train_artifacts(
        &self,
        run: &Run,
        prepared: &Prepared,
        out: &TrainOutput,
    ) -> Result<String> {
        let model_rel = format!("{}/model/model.json", run.artifact_uri);
        self.home()
            .write_atomic(&model_rel, &out.artifact.to_json_bytes())?;
        let evaluation = RunEvaluation {
            classes: out.artifact.classes.clone(),
            test: out.test.clone(),
            train: out.train.clone(),
            test_rows: prepared.test_rows.clone(),
        };
        let dir = &run.artifact_uri;
        files::write_json(
            self.home(),
            &format!("{dir}/evaluation.json"),
            &evaluation,
            true,
        )?;
        let reference = Reference::of(prepared, &out.artifact);
        files::write_json(
            self.home(),
            &format!("{dir}/reference.json"),
            &reference,
            false,
        )?;
        Ok(model_rel)
    }

    /// The validation gate, and the comparison with the registered model's
    /// champion on this run's test rows.
    fn validate_run(
        &self,
        req: &TrainRequest,
        prepared: &Prepared,
        out: &TrainOutput,
        sink: &dyn Fn(Event),
    ) -> Result<(GateResult, Option<ChampionComparison>)> {
        stage(
            sink,
            Stage::Validate,
            "checking the validation gate",
            || {
                let gate = lab_train::gate(&out.test.metrics, &prepared.task.gate);
                let model_name = req.compare_with.clone().unwrap_or_else(|| {
                    default_model_name(&prepared.task.dataset, &prepared.task.target_name)
                });
                let champion = self.compare_with_champion(&model_name, prepared, &out.artifact)?;
                let mut msg = if prepared.task.gate.is_empty() {
                    "no gate thresholds for this task".to_string()
                } else if gate.passed {
                    "gate passed".to_string()
                } else {
                    "gate FAILED".to_string()
                };
                if let Some(c) = &champion {
                    msg.push_str(&format!(
                        "; {} champion v{}: {} {:.4} vs challenger {:.4}",
                        c.model,
                        c.version,
                        c.comparison.metric,
                        c.comparison.champion,
                        c.comparison.challenger
                    ));
                }
                Ok::<_, PipelineError>(((gate, champion), msg))
            },
        )
    }

    /// Tags that say how the run came out: gate, notes, determinism and the
    /// champion comparison.
    fn tag_outcome(
        &self,
        run: &Run,
        gate: &GateResult,
        champion: Option<&ChampionComparison>,
        out: &TrainOutput,
    ) -> Result<()> {
        let mut tags: Vec<(String, String)> = vec![(
            "mlops.gate".into(),
            if gate.passed { "passed" } else { "failed" }.into(),
        )];
        if !out.notes.is_empty() {
            tags.push(("mlflow.note.content".into(), out.notes.join("\n")));
        }
        tags.push(("mlops.deterministic".into(), out.deterministic.to_string()));
        if let Some(c) = champion {
            let verdict = if c.comparison.challenger_wins {
                "challenger better"
            } else {
                "champion kept"
            };
            tags.push((
                "mlops.champion_comparison".into(),
                format!(
                    "{}@champion v{}: {} {} -> {} ({verdict})",
                    c.model,
                    c.version,
                    c.comparison.metric,
                    c.comparison.champion,
                    c.comparison.challenger
                ),
            ));
        }
        let tag_refs: Vec<(&str, &str)> =
            tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        Ok(self.store.set_tags(&run.run_id, &tag_refs)?)
    }

    /// Evaluate `name@champion` on the challenger's test rows, if there is
    /// such a champion for the same target.
    fn compare_with_champion(
        &self,
        name: &str,
        prepared: &Prepared,
        challenger: &ModelArtifact,
    ) -> Result<Option<ChampionComparison>> {
        let Some(mv) = self.store.version_by_alias(name, "champion")? else {
            return Ok(None);
        };
        let champion = self.load_artifact(&mv)?;
        if champion.target != challenger.target || champion.task != challenger.task {
            return Ok(None);
        }
        // The champion reads the same raw rows, in its own feature order.
        let order: Vec<usize> = champion
            .preprocessor
            .features
            .iter()
            .map(|f| prepared.task.features.iter().position(|g| g == &f.name))
            .collect::<Option<_>>()
            .ok_or_else(|| {
                PipelineError::Invalid(format!(
                    "the champion {name} v{} uses features this run does not have",
                    mv.version
                ))
            })?;
        let rows: Vec<Vec<lab_model::Value>> = prepared
            .raw_test
            .iter()
            .map(|r| order.iter().map(|&i| r[i].clone()).collect())
            .collect();
        let eval = lab_train::evaluate_rows(&champion, &rows, &prepared.y_test)?;
        let metric = lab_train::primary_metric(challenger.task);
        let (Some(a), Some(b)) = (eval.metrics.get(metric), challenger.metrics.get(metric)) else {
            return Ok(None);
        };
        Ok(Some(ChampionComparison {
            model: name.to_string(),
            version: mv.version,
            comparison: lab_train::compare(metric, *a, *b),
        }))
    }
}

/// Fit the model (the Train stage), timed.
fn fit(
    req: &TrainRequest,
    prepared: &Prepared,
    seed: u64,
    sink: &dyn Fn(Event),
) -> Result<(TrainOutput, f64)> {
    stage(sink, Stage::Train, format!("fitting {}", req.model), || {
        failpoint::hit("train.fit");
        let t0 = Instant::now();
        let out = lab_train::train(prepared, req.model, &req.params, seed)?;
        let secs = t0.elapsed().as_secs_f64();
        let summary = summarize(&out.test.metrics);
        Ok::<_, PipelineError>(((out, secs), format!("{} fitted: {summary}", req.model)))
    })
}

fn summarize(m: &BTreeMap<String, f64>) -> String {
    lab_train::headline_metrics(m, 4)
        .iter()
        .map(|(k, v)| format!("{k} {v:.4}"))
        .collect::<Vec<_>>()
        .join(", ")
}
