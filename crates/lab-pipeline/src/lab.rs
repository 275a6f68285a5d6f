//! The lab: catalogue + store, and the operations front ends call.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Instant;

use lab_data::{Catalog, DatasetSpec, PrepareOptions, Prepared, SplitSpec, Table, TaskSpec};
use lab_model::{MissingPolicy, ModelArtifact, ModelKind, Task};
use lab_store::{LabHome, Metric, ModelVersion, Run, RunStatus, Store, now_ms};
use lab_train::{Comparison, GateResult};
use serde::{Deserialize, Serialize};

use crate::cancel::Cancel;
use crate::events::{Event, Stage, stage};
use crate::{PipelineError, Result, failpoint};

/// Where training data comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum DataSource {
    /// A dataset of the shipped catalogue.
    Catalog { name: String },
    /// The learner's own CSV file.
    File { path: PathBuf },
    /// The reference slice of a catalogue dataset's drift scenario (what a
    /// model is first trained on in the monitoring lessons).
    Scenario { name: String, scenario: String },
    /// A catalogue dataset (or its scenario's reference slice) plus newly
    /// labelled rows from a CSV with the task's feature and target columns:
    /// the data of a retrain.
    Augmented {
        name: String,
        scenario: Option<String>,
        extra: PathBuf,
    },
}

impl DataSource {
    /// The catalogue dataset behind this source, if any.
    pub fn dataset_name(&self) -> Option<&str> {
        match self {
            DataSource::Catalog { name }
            | DataSource::Scenario { name, .. }
            | DataSource::Augmented { name, .. } => Some(name),
            DataSource::File { .. } => None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainRequest {
    pub source: DataSource,
    /// Catalogue target name (default: the dataset's default), or for a file
    /// the target column (required).
    pub target: Option<String>,
    pub features: Option<Vec<String>>,
    /// For a file: the task, inferred from the target when absent.
    pub task: Option<Task>,
    pub model: ModelKind,
    pub params: BTreeMap<String, String>,
    /// Seed for the split and for randomised models. Absent: the dataset's
    /// shipped reference split when it has one, else seed 42.
    pub seed: Option<u64>,
    pub test_fraction: f64,
    pub missing: MissingPolicy,
    pub scale: bool,
    pub experiment: Option<String>,
    pub run_name: Option<String>,
    /// Gate thresholds that override the catalogue's.
    pub gate: BTreeMap<String, f64>,
    /// Registered model to compare against (its `champion`); default
    /// `<dataset>-<target>`.
    pub compare_with: Option<String>,
}

impl TrainRequest {
    pub fn new(source: DataSource, model: ModelKind) -> Self {
        TrainRequest {
            source,
            target: None,
            features: None,
            task: None,
            model,
            params: BTreeMap::new(),
            seed: None,
            test_fraction: 0.25,
            missing: MissingPolicy::Drop,
            scale: true,
            experiment: None,
            run_name: None,
            gate: BTreeMap::new(),
            compare_with: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainResult {
    pub run_id: String,
    pub run_name: String,
    pub experiment_id: String,
    pub dataset: String,
    pub target: String,
    pub task: Task,
    pub model: ModelKind,
    pub params: BTreeMap<String, String>,
    /// Test-split metrics.
    pub metrics: BTreeMap<String, f64>,
    pub train_metrics: BTreeMap<String, f64>,
    pub confusion_matrix: Option<Vec<Vec<usize>>>,
    pub classes: Vec<String>,
    pub gate: GateResult,
    /// Against the registered model's champion on this run's test rows.
    pub champion: Option<ChampionComparison>,
    pub split: String,
    pub train_rows: usize,
    pub test_rows: usize,
    pub dropped_rows: usize,
    pub missing: MissingPolicy,
    pub deterministic: bool,
    pub notes: Vec<String>,
    /// Relative to the lab home.
    pub artifact_path: String,
    pub fit_seconds: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChampionComparison {
    pub model: String,
    pub version: i64,
    #[serde(flatten)]
    pub comparison: Comparison,
}

/// `name`, `name@alias` or `name:version`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ModelRef {
    Latest(String),
    Alias(String, String),
    Version(String, i64),
}

impl std::str::FromStr for ModelRef {
    type Err = PipelineError;
    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim();
        if let Some((n, a)) = s.split_once('@') {
            return Ok(ModelRef::Alias(n.to_string(), a.to_string()));
        }
        if let Some((n, v)) = s.split_once(':') {
            let v = v.trim_start_matches('v').parse::<i64>().map_err(|_| {
                PipelineError::Invalid(format!(
                    "`{s}`: a version is a number, as in `{n}:3`; use `{n}@alias` for an alias"
                ))
            })?;
            return Ok(ModelRef::Version(n.to_string(), v));
        }
        if s.is_empty() {
            return Err(PipelineError::Invalid("empty model reference".into()));
        }
        Ok(ModelRef::Latest(s.to_string()))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunComparison {
    pub runs: Vec<Run>,
    /// Param keys whose values differ between the runs.
    pub differing_params: Vec<String>,
    pub metric_keys: Vec<String>,
    /// For each metric, the run id with the best value.
    pub best: BTreeMap<String, String>,
}

/// The registered-model name used for a catalogue task by default.
pub fn default_model_name(dataset: &str, target: &str) -> String {
    format!("{dataset}-{target}")
}

/// Prefix of the learning-curve metrics a run logs (step = training rows).
pub const LEARNING_CURVE: &str = "learning_curve/";

/// The catalogue and the store together.
pub struct Lab {
    pub catalog: Catalog,
    pub store: Store,
    cancel: Cancel,
}

impl Lab {
    /// Open the lab in `MLOPS_LAB_HOME` (or the platform data dir) with the
    /// shipped catalogue.
    pub fn open_default() -> Result<Lab> {
        let home = LabHome::from_env()?;
        Self::open(&home, Catalog::load_default()?)
    }

    /// Open an existing lab home only (`root`, else `MLOPS_LAB_HOME` or the
    /// platform data dir), with the shipped catalogue: never creates a home
    /// nor adopts a folder that is not one. What `reset` opens.
    pub fn open_existing(root: Option<&std::path::Path>) -> Result<Lab> {
        let root = match root {
            Some(r) => r.to_path_buf(),
            None => LabHome::default_root()?,
        };
        Self::open(&LabHome::existing(root)?, Catalog::load_default()?)
    }

    pub fn open(home: &LabHome, catalog: Catalog) -> Result<Lab> {
        Ok(Lab {
            catalog,
            store: Store::open(home)?,
            cancel: Cancel::default(),
        })
    }

    /// Long work on this lab stops at its next checkpoint once `cancel` is
    /// cancelled.
    pub fn with_cancel(mut self, cancel: Cancel) -> Lab {
        self.cancel = cancel;
        self
    }

    pub(crate) fn cancel_token(&self) -> &Cancel {
        &self.cancel
    }

    /// A checkpoint: `Err(Cancelled)` once the caller cancelled, saying what
    /// was about to start.
    pub(crate) fn checkpoint(&self, next: &str) -> Result<()> {
        if self.cancel.is_cancelled() {
            return Err(PipelineError::Cancelled(format!("stopped before {next}")));
        }
        Ok(())
    }

    pub fn home(&self) -> &LabHome {
        self.store.home()
    }

    /// Load a data source, strictly typed for catalogue datasets.
    pub fn load(&self, source: &DataSource) -> Result<(Table, Option<&DatasetSpec>)> {
        match source {
            DataSource::Catalog { name } => {
                let spec = self.catalog.dataset(name)?;
                let table = lab_data::read_csv(&self.catalog.path_of(spec), &spec.column_types())?;
                Ok((table, Some(spec)))
            }
            DataSource::File { path } => Ok((lab_data::read_csv(path, &BTreeMap::new())?, None)),
            DataSource::Scenario { name, scenario } => {
                let (table, spec) = self.load(&DataSource::Catalog { name: name.clone() })?;
                let spec = spec.expect("catalogue sources have a spec");
                let (owner, sc) = self.catalog.scenario(scenario)?;
                if owner.name != spec.name {
                    return Err(PipelineError::Invalid(format!(
                        "scenario `{scenario}` belongs to dataset `{}`, not `{name}`",
                        owner.name
                    )));
                }
                let (reference, _) = lab_data::scenario_slices(&table, sc)?;
                Ok((reference, Some(spec)))
            }
            DataSource::Augmented {
                name,
                scenario,
                extra,
            } => {
                let base = match scenario {
                    Some(sc) => DataSource::Scenario {
                        name: name.clone(),
                        scenario: sc.clone(),
                    },
                    None => DataSource::Catalog { name: name.clone() },
                };
                let (table, spec) = self.load(&base)?;
                let spec = spec.expect("catalogue sources have a spec");
                let target = spec.target(None)?;
                let mut columns = target.features.clone();
                columns.push(target.column.clone());
                let extra = lab_data::read_csv(extra, &BTreeMap::new())?;
                Ok((lab_data::append_rows(&table, &extra, &columns)?, Some(spec)))
            }
        }
    }

    pub fn profile(&self, source: &DataSource) -> Result<lab_data::Profile> {
        let (table, _) = self.load(source)?;
        let p = lab_data::profile(&table)?;
        // The app's pipeline strip shows the dataset looked at last.
        let subject = source
            .dataset_name()
            .map_or(p.source.clone(), str::to_string);
        self.store.record_activity(
            "data",
            &subject,
            &serde_json::json!({"action": "profiled", "rows": p.rows, "columns": p.columns.len()}),
        )?;
        Ok(p)
    }

    pub fn validate(&self, source: &DataSource) -> Result<lab_data::ValidationReport> {
        let (table, spec) = self.load(source)?;
        let r = lab_data::validate(&table, spec.and_then(|s| s.expect.as_ref()))?;
        let subject = source
            .dataset_name()
            .map_or(r.source.clone(), str::to_string);
        self.store.record_activity(
            "data",
            &subject,
            &serde_json::json!({"action": "validated", "rows": r.rows,
                                "passed": r.passed, "failed": r.failed}),
        )?;
        Ok(r)
    }

    /// Resolve the task and prepare matrices for a train request.
    pub fn prepare(&self, req: &TrainRequest) -> Result<Prepared> {
        let (table, spec) = self.load(&req.source)?;
        let task = match spec {
            Some(spec) => {
                let target = spec.target(req.target.as_deref())?;
                let mut t =
                    TaskSpec::from_catalog(&self.catalog.root, spec, target, req.features.clone());
                if let Some(task) = req.task
                    && task != t.task
                {
                    return Err(PipelineError::Invalid(format!(
                        "target `{}` of `{}` is a {} task, not {task}",
                        t.target_name, t.dataset, t.task
                    )));
                }
                t.gate.extend(req.gate.clone());
                t
            }
            None => {
                let target = req.target.as_deref().ok_or_else(|| {
                    PipelineError::Invalid(
                        "training on a file needs --target COLUMN: the column to predict".into(),
                    )
                })?;
                let mut t = TaskSpec::for_file(&table, target, req.features.clone(), req.task)?;
                t.gate = req.gate.clone();
                t
            }
        };
        // The shipped split indexes the whole file: not a slice of it.
        let mut task = task;
        if !matches!(req.source, DataSource::Catalog { .. }) {
            task.reference_split = None;
        }
        let split = match (req.seed, &task.reference_split) {
            (None, Some(_)) if req.test_fraction == 0.25 => SplitSpec::Reference,
            (seed, _) => SplitSpec::Seeded {
                seed: seed.unwrap_or(42),
                test_fraction: req.test_fraction,
            },
        };
        Ok(lab_data::prepare(
            &table,
            &task,
            &PrepareOptions {
                missing: req.missing,
                scale: req.scale,
                split,
            },
        )?)
    }

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

    fn train_in_run(
        &self,
        req: &TrainRequest,
        prepared: &Prepared,
        run: &Run,
        sink: &dyn Fn(Event),
    ) -> Result<TrainResult> {
        let seed = req.seed.unwrap_or(42);
        let resolved = lab_train::resolve_params(req.model, &req.params)?;
        let mut params: Vec<(String, String)> = resolved
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
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
        self.store.log_params(&run.run_id, &params)?;

        self.checkpoint("fitting the model")?;
        let (out, fit_seconds) =
            stage(sink, Stage::Train, format!("fitting {}", req.model), || {
                failpoint::hit("train.fit");
                let t0 = Instant::now();
                let out = lab_train::train(prepared, req.model, &req.params, seed)?;
                let secs = t0.elapsed().as_secs_f64();
                let summary = summarize(&out.test.metrics);
                Ok::<_, PipelineError>(((out, secs), format!("{} fitted: {summary}", req.model)))
            })?;

        let now = now_ms();
        let mut metrics: Vec<Metric> = out
            .test
            .metrics
            .iter()
            .map(|(k, v)| Metric {
                key: k.clone(),
                value: *v,
                timestamp: now,
                step: 0,
            })
            .collect();
        metrics.extend(out.train.metrics.iter().map(|(k, v)| Metric {
            key: format!("train_{k}"),
            value: *v,
            timestamp: now,
            step: 0,
        }));
        metrics.push(Metric {
            key: "fit_seconds".into(),
            value: fit_seconds,
            timestamp: now,
            step: 0,
        });
        // The metric history of the run: a learning curve, one step per
        // training-set size (`learning_curve/<metric>` on the test split,
        // `learning_curve/train_<metric>` on the rows fitted).
        self.checkpoint("the learning curve")?;
        let curve = lab_train::learning_curve(prepared, req.model, &req.params, seed, 5, &out);
        for p in &curve {
            for (prefix, m) in [("", &p.test), ("train_", &p.train)] {
                metrics.extend(m.iter().map(|(k, v)| Metric {
                    key: format!("{LEARNING_CURVE}{prefix}{k}"),
                    value: *v,
                    timestamp: now,
                    step: p.train_rows as i64,
                }));
            }
        }
        self.store.log_metrics(&run.run_id, &metrics)?;
        self.checkpoint("the validation gate")?;

        // Artifacts: the model envelope and the evaluation, on disk.
        let model_rel = format!("{}/model/model.json", run.artifact_uri);
        self.home()
            .write_atomic(&model_rel, &out.artifact.to_json_bytes())?;
        let eval_rel = format!("{}/evaluation.json", run.artifact_uri);
        let eval = serde_json::json!({
            "classes": out.artifact.classes,
            "test": out.test,
            "train": out.train,
            "test_rows": prepared.test_rows,
        });
        self.home().write_atomic(
            &eval_rel,
            serde_json::to_string_pretty(&eval)
                .unwrap_or_default()
                .as_bytes(),
        )?;

        // The reference data monitoring compares served traffic with: the
        // raw train rows, their labels and the model's predictions on them.
        let ref_rel = format!("{}/reference.json", run.artifact_uri);
        let reference = reference_json(prepared, &out.artifact);
        self.home().write_atomic(
            &ref_rel,
            serde_json::to_string(&reference)
                .unwrap_or_default()
                .as_bytes(),
        )?;

        let (gate, champion) = stage(
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
        )?;

        let mut tags: Vec<(String, String)> = vec![(
            "mlops.gate".into(),
            if gate.passed { "passed" } else { "failed" }.into(),
        )];
        if !out.notes.is_empty() {
            tags.push(("mlflow.note.content".into(), out.notes.join("\n")));
        }
        tags.push(("mlops.deterministic".into(), out.deterministic.to_string()));
        if let Some(c) = &champion {
            tags.push((
                "mlops.champion_comparison".into(),
                format!(
                    "{}@champion v{}: {} {} -> {} ({})",
                    c.model,
                    c.version,
                    c.comparison.metric,
                    c.comparison.champion,
                    c.comparison.challenger,
                    if c.comparison.challenger_wins {
                        "challenger better"
                    } else {
                        "champion kept"
                    }
                ),
            ));
        }
        let tag_refs: Vec<(&str, &str)> =
            tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        self.store.set_tags(&run.run_id, &tag_refs)?;
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

    pub fn load_artifact(&self, mv: &ModelVersion) -> Result<ModelArtifact> {
        let path = self.home().confine(&mv.source)?;
        Ok(ModelArtifact::load(&path)?)
    }

    /// Register `run_id`'s model as a new version of `name`.
    pub fn register(&self, run_id: &str, name: &str) -> Result<ModelVersion> {
        let run_id = self.store.resolve_run_id(run_id)?;
        let run = self.store.get_run(&run_id)?;
        let source = format!("{}/model/model.json", run.artifact_uri);
        // Refuse an artifact that does not load: better now than at deploy.
        ModelArtifact::load(&self.home().confine(&source)?)?;
        Ok(self.store.create_model_version(name, &run_id, &source)?)
    }

    pub fn set_alias(&self, name: &str, version: i64, alias: &str) -> Result<ModelVersion> {
        self.store.set_alias(name, alias, version)?;
        Ok(self.store.model_version(name, version)?)
    }

    pub fn resolve_model(&self, r: &ModelRef) -> Result<ModelVersion> {
        Ok(match r {
            ModelRef::Version(n, v) => self.store.model_version(n, *v)?,
            ModelRef::Alias(n, a) => self
                .store
                .version_by_alias(n, a)?
                .ok_or_else(|| PipelineError::NotFound(format!("alias `{a}` of model `{n}`")))?,
            ModelRef::Latest(n) => self
                .store
                .list_model_versions(n)?
                .into_iter()
                .next()
                .ok_or_else(|| PipelineError::NotFound(format!("model `{n}`")))?,
        })
    }

    pub fn run(&self, id_or_prefix: &str) -> Result<Run> {
        let id = self.store.resolve_run_id(id_or_prefix)?;
        Ok(self.store.get_run(&id)?)
    }

    /// The confusion matrix and classes saved with a run, if any.
    pub fn run_evaluation(&self, run: &Run) -> Result<Option<serde_json::Value>> {
        let path = self
            .home()
            .confine(format!("{}/evaluation.json", run.artifact_uri))?;
        match std::fs::read(&path) {
            Ok(b) => Ok(serde_json::from_slice(&b).ok()),
            Err(_) => Ok(None),
        }
    }

    pub fn compare_runs(&self, ids: &[String]) -> Result<RunComparison> {
        if ids.len() < 2 {
            return Err(PipelineError::Invalid(
                "compare needs at least two run ids".into(),
            ));
        }
        let runs: Vec<Run> = ids.iter().map(|i| self.run(i)).collect::<Result<_>>()?;
        let param_keys: BTreeSet<&String> = runs.iter().flat_map(|r| r.params.keys()).collect();
        let differing_params = param_keys
            .into_iter()
            .filter(|k| {
                let vals: BTreeSet<Option<&String>> =
                    runs.iter().map(|r| r.params.get(*k)).collect();
                vals.len() > 1
            })
            .cloned()
            .collect();
        let metric_keys: Vec<String> = runs
            .iter()
            .flat_map(|r| r.metrics.keys().cloned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut best = BTreeMap::new();
        for k in &metric_keys {
            let up = lab_train::higher_is_better(k.trim_start_matches("train_"));
            let winner = runs
                .iter()
                .filter_map(|r| r.metrics.get(k).map(|v| (r, *v)))
                .reduce(|a, b| {
                    let better = if up { b.1 > a.1 } else { b.1 < a.1 };
                    if better { b } else { a }
                });
            if let Some((r, _)) = winner {
                best.insert(k.clone(), r.run_id.clone());
            }
        }
        Ok(RunComparison {
            runs,
            differing_params,
            metric_keys,
            best,
        })
    }
}

/// `reference.json`: `{features, rows, target, predictions}`.
fn reference_json(prepared: &Prepared, artifact: &ModelArtifact) -> serde_json::Value {
    let rows: Vec<Vec<serde_json::Value>> = prepared
        .raw_train
        .iter()
        .map(|r| r.iter().map(lab_model::Value::to_json).collect())
        .collect();
    let target: Vec<serde_json::Value> = match &prepared.y_train {
        lab_data::Target::Classes(c) => c
            .iter()
            .map(|&i| serde_json::json!(prepared.classes.get(i)))
            .collect(),
        lab_data::Target::Values(v) => v.iter().map(|x| serde_json::json!(x)).collect(),
    };
    let predictions: Vec<serde_json::Value> = artifact
        .predict_rows(&prepared.raw_train)
        .map(|p| p.iter().map(lab_model::Prediction::output_json).collect())
        .unwrap_or_default();
    serde_json::json!({
        "features": prepared.task.features,
        "target": prepared.task.target_name,
        "rows": rows,
        "labels": target,
        "predictions": predictions,
    })
}

fn summarize(m: &BTreeMap<String, f64>) -> String {
    ["accuracy", "f1_macro", "roc_auc", "rmse", "r2", "inertia"]
        .iter()
        .filter_map(|k| m.get(*k).map(|v| format!("{k} {v:.4}")))
        .collect::<Vec<_>>()
        .join(", ")
}
