//! Tracking: experiments and runs, with their params, metrics (full
//! history) and tags, under MLflow's names.

use std::collections::BTreeMap;

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::store::Store;
use crate::{Result, StoreError, now_ms};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RunStatus {
    Running,
    Scheduled,
    Finished,
    Failed,
    Killed,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "RUNNING",
            RunStatus::Scheduled => "SCHEDULED",
            RunStatus::Finished => "FINISHED",
            RunStatus::Failed => "FAILED",
            RunStatus::Killed => "KILLED",
        }
    }
    fn parse(s: &str) -> RunStatus {
        match s {
            "RUNNING" => RunStatus::Running,
            "SCHEDULED" => RunStatus::Scheduled,
            "FINISHED" => RunStatus::Finished,
            "KILLED" => RunStatus::Killed,
            _ => RunStatus::Failed,
        }
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Experiment {
    pub experiment_id: String,
    pub name: String,
    pub artifact_location: String,
    pub lifecycle_stage: String,
    pub creation_time: i64,
    pub last_update_time: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    pub key: String,
    pub value: f64,
    pub timestamp: i64,
    pub step: i64,
}

/// A run with its params, latest metrics and tags.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub run_id: String,
    pub experiment_id: String,
    pub run_name: String,
    pub status: RunStatus,
    pub start_time: i64,
    pub end_time: Option<i64>,
    /// Relative to the lab home.
    pub artifact_uri: String,
    /// `active` or `deleted` (MLflow's soft delete).
    pub lifecycle_stage: String,
    pub user_id: String,
    pub params: BTreeMap<String, String>,
    pub metrics: BTreeMap<String, f64>,
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    pub experiment: Option<String>,
    pub status: Option<RunStatus>,
    /// Keep runs whose tag `key` equals `value`.
    pub tag: Option<(String, String)>,
    pub limit: Option<usize>,
}

const RUN_COLUMNS: &str = "run_uuid, experiment_id, name, status, start_time, end_time, artifact_uri, lifecycle_stage, user_id";

/// Which lifecycle stages a search sees (MLflow's `ViewType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ViewType {
    #[default]
    ActiveOnly,
    DeletedOnly,
    All,
}

impl ViewType {
    pub fn admits(self, lifecycle_stage: &str) -> bool {
        match self {
            ViewType::ActiveOnly => lifecycle_stage == "active",
            ViewType::DeletedOnly => lifecycle_stage == "deleted",
            ViewType::All => true,
        }
    }
}

/// A new run as MLflow's client creates it.
#[derive(Debug, Clone, Default)]
pub struct NewRun<'a> {
    pub name: &'a str,
    /// Milliseconds; now when `None`.
    pub start_time: Option<i64>,
    pub user_id: &'a str,
    pub tags: &'a [(&'a str, &'a str)],
    /// Started by a client outside the lab (MLflow's): no process of ours
    /// owns it, so a restart of the lab never marks it FAILED; the client
    /// ends it.
    pub external: bool,
}

/// The owner of runs an outside client started.
pub(crate) const EXTERNAL_OWNER: &str = "external";

/// One dataset a run used (MLflow's `DatasetInput`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetInput {
    pub name: String,
    pub digest: String,
    pub source_type: String,
    pub source: String,
    pub schema: String,
    pub profile: String,
    /// The input's tags, e.g. `mlflow.data.context` = `train`.
    pub tags: BTreeMap<String, String>,
}

/// A model a run logged (`output`) or used (`input`), MLflow 3.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunModel {
    pub model_id: String,
    pub output: bool,
    pub step: i64,
}

impl Store {
    pub fn get_or_create_experiment(&self, name: &str) -> Result<Experiment> {
        if let Some(e) = self.experiment_by_name(name.trim())? {
            return Ok(e);
        }
        match self.create_experiment(name, &[]) {
            // Another process created it meanwhile: it is the one.
            Err(StoreError::AlreadyExists(_)) => self
                .experiment_by_name(name.trim())?
                .ok_or_else(|| StoreError::NotFound(format!("experiment `{}`", name.trim()))),
            other => other,
        }
    }

    pub fn experiment(&self, id: &str) -> Result<Experiment> {
        self.conn
            .query_row(
                "SELECT experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time
                 FROM experiments WHERE experiment_id = ?1",
                [id],
                row_to_experiment,
            )
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("experiment `{id}`")))
    }

    pub fn experiment_by_name(&self, name: &str) -> Result<Option<Experiment>> {
        Ok(self
            .conn
            .query_row(
                "SELECT experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time
                 FROM experiments WHERE name = ?1",
                [name],
                row_to_experiment,
            )
            .optional()?)
    }

    pub fn list_experiments(&self) -> Result<Vec<Experiment>> {
        let mut stmt = self.conn.prepare(
            "SELECT experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time
             FROM experiments ORDER BY CAST(experiment_id AS INTEGER)",
        )?;
        Ok(stmt
            .query_map([], row_to_experiment)?
            .collect::<rusqlite::Result<_>>()?)
    }

    // ----------------------------------------------------------------------- runs

    /// Create a RUNNING run owned by this process, with its tags, in one
    /// transaction.
    pub fn create_run(
        &self,
        experiment_id: &str,
        run_name: &str,
        tags: &[(&str, &str)],
    ) -> Result<Run> {
        self.create_run_with(
            experiment_id,
            &NewRun {
                name: run_name,
                tags,
                ..NewRun::default()
            },
        )
    }

    /// Create a RUNNING run as MLflow's client asks for one (its own start
    /// time and user). The experiment must be active.
    pub fn create_run_with(&self, experiment_id: &str, new: &NewRun<'_>) -> Result<Run> {
        let exp = self.experiment(experiment_id)?;
        if exp.lifecycle_stage != "active" {
            return Err(StoreError::Invalid(format!(
                "experiment `{}` is deleted: restore it before creating runs in it",
                exp.name
            )));
        }
        let run_id = uuid::Uuid::new_v4().simple().to_string();
        let artifact_uri = format!("{}/{run_id}/artifacts", exp.artifact_location);
        self.home.confine(&artifact_uri)?;
        let now = now_ms();
        let tx = self.write_tx()?;
        tx.execute(
            "INSERT INTO runs (run_uuid, experiment_id, name, status, start_time, artifact_uri, owner, user_id)
             VALUES (?1, ?2, ?3, 'RUNNING', ?4, ?5, ?6, ?7)",
            params![
                run_id,
                exp.experiment_id,
                new.name,
                new.start_time.unwrap_or(now),
                artifact_uri,
                if new.external {
                    EXTERNAL_OWNER
                } else {
                    self.lease_name.as_str()
                },
                new.user_id
            ],
        )?;
        for (k, v) in new.tags {
            tx.execute(
                "INSERT OR REPLACE INTO tags (run_uuid, key, value) VALUES (?1, ?2, ?3)",
                params![run_id, k, v],
            )?;
        }
        tx.execute(
            "UPDATE experiments SET last_update_time = ?2 WHERE experiment_id = ?1",
            params![exp.experiment_id, now],
        )?;
        tx.commit()?;
        self.get_run(&run_id)
    }

    /// Log params in one transaction. A param is write-once, as in MLflow:
    /// logging a different value for an existing key is an error.
    pub fn log_params(&self, run_id: &str, params_: &[(String, String)]) -> Result<()> {
        self.require_active(run_id)?;
        let tx = self.write_tx()?;
        for (k, v) in params_ {
            if let Some(o) = insert_param(&tx, run_id, k, v)? {
                return Err(StoreError::Invalid(format!(
                    "param `{k}` of run {run_id} is already `{o}`; params cannot change"
                )));
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Log metric values in one transaction, keeping the full history and
    /// updating the latest value per key.
    pub fn log_metrics(&self, run_id: &str, metrics: &[Metric]) -> Result<()> {
        self.require_active(run_id)?;
        let tx = self.write_tx()?;
        for m in metrics {
            if !m.value.is_finite() {
                return Err(StoreError::Invalid(format!(
                    "metric `{}` = {} is not a finite number",
                    m.key, m.value
                )));
            }
            insert_metric(&tx, run_id, m)?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn set_tags(&self, run_id: &str, tags: &[(&str, &str)]) -> Result<()> {
        self.run_exists(run_id)?;
        let tx = self.write_tx()?;
        for (k, v) in tags {
            tx.execute(
                "INSERT OR REPLACE INTO tags (run_uuid, key, value) VALUES (?1, ?2, ?3)",
                params![run_id, k, v],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// End a run with `status` (FINISHED, FAILED or KILLED).
    pub fn end_run(&self, run_id: &str, status: RunStatus) -> Result<()> {
        if status == RunStatus::Running {
            return Err(StoreError::Invalid("a run cannot end as RUNNING".into()));
        }
        let n = self.conn.execute(
            "UPDATE runs SET status = ?2, end_time = ?3, owner = NULL WHERE run_uuid = ?1",
            params![run_id, status.as_str(), now_ms()],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("run `{run_id}`")));
        }
        Ok(())
    }

    fn run_exists(&self, run_id: &str) -> Result<RunStatus> {
        let s: Option<String> = self
            .conn
            .query_row(
                "SELECT status FROM runs WHERE run_uuid = ?1",
                [run_id],
                |r| r.get(0),
            )
            .optional()?;
        s.map(|s| RunStatus::parse(&s))
            .ok_or_else(|| StoreError::NotFound(format!("run `{run_id}`")))
    }

    fn require_active(&self, run_id: &str) -> Result<()> {
        match self.run_exists(run_id)? {
            RunStatus::Running | RunStatus::Scheduled => Ok(()),
            s => Err(StoreError::Invalid(format!(
                "run {run_id} has ended ({s}); start a new run to log more"
            ))),
        }
    }

    /// Find a run by full id or by a unique prefix (at least 4 characters).
    pub fn resolve_run_id(&self, id_or_prefix: &str) -> Result<String> {
        let id = id_or_prefix.trim();
        if id.len() < 4 || !id.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(StoreError::Invalid(format!(
                "`{id}` is not a run id: give the id `runs list` prints (at least 4 hex characters)"
            )));
        }
        let mut stmt = self
            .conn
            .prepare("SELECT run_uuid FROM runs WHERE run_uuid LIKE ?1 || '%' LIMIT 2")?;
        let found: Vec<String> = stmt
            .query_map([id.to_ascii_lowercase()], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        match found.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(StoreError::NotFound(format!("run `{id}`"))),
            _ => Err(StoreError::Invalid(format!(
                "run id prefix `{id}` matches several runs: give more characters"
            ))),
        }
    }

    pub fn get_run(&self, run_id: &str) -> Result<Run> {
        let run = self
            .conn
            .query_row(
                &format!("SELECT {RUN_COLUMNS} FROM runs WHERE run_uuid = ?1"),
                [run_id],
                row_to_run,
            )
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("run `{run_id}`")))?;
        self.fill_run(run)
    }

    fn fill_run(&self, mut run: Run) -> Result<Run> {
        let mut p = self
            .conn
            .prepare_cached("SELECT key, value FROM params WHERE run_uuid = ?1")?;
        run.params = p
            .query_map([&run.run_id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut m = self
            .conn
            .prepare_cached("SELECT key, value FROM latest_metrics WHERE run_uuid = ?1")?;
        run.metrics = m
            .query_map([&run.run_id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut t = self
            .conn
            .prepare_cached("SELECT key, value FROM tags WHERE run_uuid = ?1")?;
        run.tags = t
            .query_map([&run.run_id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(run)
    }

    /// Runs, newest first.
    pub fn list_runs(&self, filter: &RunFilter) -> Result<Vec<Run>> {
        let mut sql = format!("SELECT {RUN_COLUMNS} FROM runs r WHERE lifecycle_stage = 'active'");
        let mut args: Vec<String> = Vec::new();
        if let Some(e) = &filter.experiment {
            let exp = match self.experiment_by_name(e)? {
                Some(x) => x,
                None => self.experiment(e)?,
            };
            args.push(exp.experiment_id);
            sql.push_str(&format!(" AND experiment_id = ?{}", args.len()));
        }
        if let Some(s) = filter.status {
            args.push(s.as_str().to_string());
            sql.push_str(&format!(" AND status = ?{}", args.len()));
        }
        if let Some((k, v)) = &filter.tag {
            args.push(k.clone());
            args.push(v.clone());
            sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM tags t WHERE t.run_uuid = r.run_uuid AND t.key = ?{} AND t.value = ?{})",
                args.len() - 1,
                args.len()
            ));
        }
        sql.push_str(" ORDER BY start_time DESC, rowid DESC");
        if let Some(l) = filter.limit {
            sql.push_str(&format!(" LIMIT {l}"));
        }
        let mut stmt = self.conn.prepare(&sql)?;
        let runs: Vec<Run> = stmt
            .query_map(rusqlite::params_from_iter(args.iter()), row_to_run)?
            .collect::<rusqlite::Result<_>>()?;
        runs.into_iter().map(|r| self.fill_run(r)).collect()
    }

    /// Every logged value of `key`, in step then time order.
    pub fn metric_history(&self, run_id: &str, key: &str) -> Result<Vec<Metric>> {
        self.run_exists(run_id)?;
        let mut stmt = self.conn.prepare(
            "SELECT key, value, timestamp, step FROM metrics WHERE run_uuid = ?1 AND key = ?2
             ORDER BY step, timestamp",
        )?;
        Ok(stmt
            .query_map(params![run_id, key], |r| {
                Ok(Metric {
                    key: r.get(0)?,
                    value: r.get(1)?,
                    timestamp: r.get(2)?,
                    step: r.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?)
    }
}

fn row_to_experiment(r: &rusqlite::Row<'_>) -> rusqlite::Result<Experiment> {
    Ok(Experiment {
        experiment_id: r.get(0)?,
        name: r.get(1)?,
        artifact_location: r.get(2)?,
        lifecycle_stage: r.get(3)?,
        creation_time: r.get(4)?,
        last_update_time: r.get(5)?,
    })
}

fn row_to_run(r: &rusqlite::Row<'_>) -> rusqlite::Result<Run> {
    let status: String = r.get(3)?;
    Ok(Run {
        run_id: r.get(0)?,
        experiment_id: r.get(1)?,
        run_name: r.get(2)?,
        status: RunStatus::parse(&status),
        start_time: r.get(4)?,
        end_time: r.get(5)?,
        artifact_uri: r.get(6)?,
        lifecycle_stage: r.get(7)?,
        user_id: r.get(8)?,
        params: BTreeMap::new(),
        metrics: BTreeMap::new(),
        tags: BTreeMap::new(),
    })
}

/// One batch of MLflow writes to a run (`runs/log-batch` and the single
/// `log-metric`, `log-parameter`, `set-tag` calls).
#[derive(Debug, Clone, Default)]
pub struct RunBatch {
    pub metrics: Vec<Metric>,
    pub params: Vec<(String, String)>,
    pub tags: Vec<(String, String)>,
    /// The logged model (and dataset) each metric belongs to, if any, by
    /// position in `metrics` (MLflow 3 links metrics to models).
    pub metric_models: Vec<Option<MetricModel>>,
}

/// The logged model a metric was measured on, and on which dataset.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricModel {
    pub model_id: String,
    pub dataset_name: String,
    pub dataset_digest: String,
}

// What MLflow's API adds to experiments and runs: creation with a clash
// check, tags, renames, soft deletes, batches with MLflow's rules, bulk
// search and dataset and model inputs.
impl Store {
    /// Create an experiment; a name already taken (even by a deleted
    /// experiment) is [`StoreError::AlreadyExists`], as in MLflow.
    pub fn create_experiment(&self, name: &str, tags: &[(String, String)]) -> Result<Experiment> {
        let name = name.trim();
        if name.is_empty() {
            return Err(StoreError::Invalid(
                "an experiment name cannot be empty".into(),
            ));
        }
        let tx = self.write_tx()?;
        let taken: Option<String> = tx
            .query_row(
                "SELECT lifecycle_stage FROM experiments WHERE name = ?1",
                [name],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(stage) = taken {
            let hint = if stage == "deleted" {
                " (it is deleted: restore it, or pick another name)"
            } else {
                ""
            };
            return Err(StoreError::AlreadyExists(format!(
                "experiment `{name}` already exists{hint}"
            )));
        }
        let next: i64 = tx.query_row(
            "SELECT COALESCE(MAX(CAST(experiment_id AS INTEGER)), 0) + 1 FROM experiments",
            [],
            |r| r.get(0),
        )?;
        let id = next.to_string();
        let now = now_ms();
        tx.execute(
            "INSERT INTO experiments (experiment_id, name, artifact_location, creation_time, last_update_time)
             VALUES (?1, ?2, ?3, ?4, ?4)",
            params![id, name, format!("artifacts/{id}"), now],
        )?;
        for (k, v) in tags {
            tx.execute(
                "INSERT OR REPLACE INTO experiment_tags (experiment_id, key, value) VALUES (?1, ?2, ?3)",
                params![id, k, v],
            )?;
        }
        tx.commit()?;
        self.experiment(&id)
    }

    pub fn experiment_tags(&self, id: &str) -> Result<BTreeMap<String, String>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT key, value FROM experiment_tags WHERE experiment_id = ?1")?;
        Ok(stmt
            .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?)
    }

    pub fn set_experiment_tag(&self, id: &str, key: &str, value: &str) -> Result<()> {
        self.experiment(id)?;
        self.conn.execute(
            "INSERT OR REPLACE INTO experiment_tags (experiment_id, key, value) VALUES (?1, ?2, ?3)",
            params![id, key, value],
        )?;
        Ok(())
    }

    pub fn delete_experiment_tag(&self, id: &str, key: &str) -> Result<()> {
        self.experiment(id)?;
        let n = self.conn.execute(
            "DELETE FROM experiment_tags WHERE experiment_id = ?1 AND key = ?2",
            params![id, key],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!(
                "tag `{key}` of experiment {id}"
            )));
        }
        Ok(())
    }

    pub fn rename_experiment(&self, id: &str, new_name: &str) -> Result<()> {
        let new_name = new_name.trim();
        if new_name.is_empty() {
            return Err(StoreError::Invalid(
                "an experiment name cannot be empty".into(),
            ));
        }
        let exp = self.experiment(id)?;
        if exp.lifecycle_stage != "active" {
            return Err(StoreError::Invalid(format!(
                "experiment `{}` is deleted: restore it before renaming it",
                exp.name
            )));
        }
        let tx = self.write_tx()?;
        let clash: Option<String> = tx
            .query_row(
                "SELECT experiment_id FROM experiments WHERE name = ?1 AND experiment_id != ?2",
                params![new_name, id],
                |r| r.get(0),
            )
            .optional()?;
        if clash.is_some() {
            return Err(StoreError::AlreadyExists(format!(
                "experiment `{new_name}` already exists"
            )));
        }
        tx.execute(
            "UPDATE experiments SET name = ?2, last_update_time = ?3 WHERE experiment_id = ?1",
            params![id, new_name, now_ms()],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Soft-delete (or restore) an experiment and its runs, as MLflow does.
    pub fn set_experiment_deleted(&self, id: &str, deleted: bool) -> Result<()> {
        let exp = self.experiment(id)?;
        let (from, to) = stages(deleted);
        if exp.lifecycle_stage != from {
            return Err(StoreError::Invalid(format!(
                "experiment `{}` is already {}",
                exp.name, exp.lifecycle_stage
            )));
        }
        let now = now_ms();
        let tx = self.write_tx()?;
        tx.execute(
            "UPDATE experiments SET lifecycle_stage = ?2, last_update_time = ?3 WHERE experiment_id = ?1",
            params![id, to, now],
        )?;
        tx.execute(
            "UPDATE runs SET lifecycle_stage = ?2, deleted_time = ?3 WHERE experiment_id = ?1 AND lifecycle_stage = ?4",
            params![id, to, deleted.then_some(now), from],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Soft-delete (or restore) a run.
    pub fn set_run_deleted(&self, run_id: &str, deleted: bool) -> Result<()> {
        self.run_exists(run_id)?;
        let (_, to) = stages(deleted);
        self.conn.execute(
            "UPDATE runs SET lifecycle_stage = ?2, deleted_time = ?3 WHERE run_uuid = ?1",
            params![run_id, to, deleted.then_some(now_ms())],
        )?;
        Ok(())
    }

    /// MLflow's `runs/update`: a new status (ending the run when it is
    /// terminal), an end time and a new name (kept in `mlflow.runName`).
    pub fn update_run(
        &self,
        run_id: &str,
        status: Option<RunStatus>,
        end_time: Option<i64>,
        run_name: Option<&str>,
    ) -> Result<Run> {
        self.require_not_deleted(run_id)?;
        let tx = self.write_tx()?;
        if let Some(status) = status {
            let terminal = !matches!(status, RunStatus::Running | RunStatus::Scheduled);
            tx.execute(
                "UPDATE runs SET status = ?2,
                     end_time = CASE WHEN ?4 THEN COALESCE(?3, end_time, ?5) ELSE ?3 END,
                     owner = CASE WHEN ?4 THEN NULL ELSE owner END
                 WHERE run_uuid = ?1",
                params![run_id, status.as_str(), end_time, terminal, now_ms()],
            )?;
        } else if let Some(end) = end_time {
            tx.execute(
                "UPDATE runs SET end_time = ?2 WHERE run_uuid = ?1",
                params![run_id, end],
            )?;
        }
        if let Some(name) = run_name.filter(|n| !n.is_empty()) {
            tx.execute(
                "UPDATE runs SET name = ?2 WHERE run_uuid = ?1",
                params![run_id, name],
            )?;
            tx.execute(
                "INSERT OR REPLACE INTO tags (run_uuid, key, value) VALUES (?1, 'mlflow.runName', ?2)",
                params![run_id, name],
            )?;
        }
        tx.commit()?;
        self.get_run(run_id)
    }

    pub fn delete_tag(&self, run_id: &str, key: &str) -> Result<()> {
        self.require_not_deleted(run_id)?;
        let n = self.conn.execute(
            "DELETE FROM tags WHERE run_uuid = ?1 AND key = ?2",
            params![run_id, key],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("tag `{key}` of run {run_id}")));
        }
        Ok(())
    }

    fn require_not_deleted(&self, run_id: &str) -> Result<()> {
        let stage: Option<String> = self
            .conn
            .query_row(
                "SELECT lifecycle_stage FROM runs WHERE run_uuid = ?1",
                [run_id],
                |r| r.get(0),
            )
            .optional()?;
        match stage.as_deref() {
            None => Err(StoreError::NotFound(format!("run `{run_id}`"))),
            Some("active") => Ok(()),
            Some(s) => Err(StoreError::Invalid(format!(
                "run {run_id} is {s}: restore it before changing it"
            ))),
        }
    }

    /// Metrics, params and tags in one transaction, with MLflow's rules: a
    /// run that is not deleted takes writes even after it ended; a param
    /// may be logged again with the same value but never changed; `runName`
    /// in tags renames the run.
    pub fn log_batch(&self, run_id: &str, batch: &RunBatch) -> Result<()> {
        self.require_not_deleted(run_id)?;
        for m in &batch.metrics {
            if !m.value.is_finite() {
                return Err(StoreError::Invalid(format!(
                    "metric `{}` = {} is not a finite number; MLOps Lab stores finite values only",
                    m.key, m.value
                )));
            }
        }
        let tx = self.write_tx()?;
        for (k, v) in &batch.params {
            if let Some(o) = insert_param(&tx, run_id, k, v)? {
                return Err(StoreError::Invalid(format!(
                    "Changing param values is not allowed. Param with key='{k}' was already logged with value='{o}' for run ID='{run_id}'. Attempted logging new value '{v}'."
                )));
            }
        }
        for (i, m) in batch.metrics.iter().enumerate() {
            insert_metric(&tx, run_id, m)?;
            if let Some(Some(link)) = batch.metric_models.get(i) {
                tx.execute(
                    "INSERT INTO logged_model_metrics (model_id, key, value, timestamp, step, run_id, dataset_name, dataset_digest)
                     SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8 WHERE EXISTS (SELECT 1 FROM logged_models WHERE model_id = ?1)
                     ON CONFLICT (model_id, key, dataset_name, dataset_digest) DO UPDATE SET value = excluded.value,
                        timestamp = excluded.timestamp, step = excluded.step, run_id = excluded.run_id",
                    params![
                        link.model_id,
                        m.key,
                        m.value,
                        m.timestamp,
                        m.step,
                        run_id,
                        link.dataset_name,
                        link.dataset_digest
                    ],
                )?;
            }
        }
        for (k, v) in &batch.tags {
            tx.execute(
                "INSERT OR REPLACE INTO tags (run_uuid, key, value) VALUES (?1, ?2, ?3)",
                params![run_id, k, v],
            )?;
            if k == "mlflow.runName" {
                tx.execute(
                    "UPDATE runs SET name = ?2 WHERE run_uuid = ?1",
                    params![run_id, v],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Every run of `experiment_ids` that `view` admits, filled with
    /// params, latest metrics and tags in three queries (for search).
    pub fn runs_in(&self, experiment_ids: &[String], view: ViewType) -> Result<Vec<Run>> {
        if experiment_ids.is_empty() {
            return Ok(Vec::new());
        }
        let marks = (1..=experiment_ids.len())
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(",");
        let stage = match view {
            ViewType::ActiveOnly => " AND lifecycle_stage = 'active'",
            ViewType::DeletedOnly => " AND lifecycle_stage = 'deleted'",
            ViewType::All => "",
        };
        let args = rusqlite::params_from_iter(experiment_ids.iter());
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE experiment_id IN ({marks}){stage}"
        ))?;
        let mut runs: Vec<Run> = stmt
            .query_map(args, row_to_run)?
            .collect::<rusqlite::Result<_>>()?;
        let index: std::collections::HashMap<String, usize> = runs
            .iter()
            .enumerate()
            .map(|(i, r)| (r.run_id.clone(), i))
            .collect();
        for (table, kind) in [("params", 0), ("latest_metrics", 1), ("tags", 2)] {
            let mut stmt = self.conn.prepare(&format!(
                "SELECT x.run_uuid, x.key, x.value FROM {table} x JOIN runs r ON r.run_uuid = x.run_uuid
                 WHERE r.experiment_id IN ({marks})"
            ))?;
            let mut rows = stmt.query(rusqlite::params_from_iter(experiment_ids.iter()))?;
            while let Some(row) = rows.next()? {
                let id: String = row.get(0)?;
                let Some(&i) = index.get(&id) else { continue };
                let key: String = row.get(1)?;
                match kind {
                    0 => {
                        runs[i].params.insert(key, row.get(2)?);
                    }
                    1 => {
                        runs[i].metrics.insert(key, row.get(2)?);
                    }
                    _ => {
                        runs[i].tags.insert(key, row.get(2)?);
                    }
                }
            }
        }
        Ok(runs)
    }

    /// The full history of each metric of a run logged more than once.
    pub fn stepped_metrics(&self, run_id: &str) -> Result<BTreeMap<String, Vec<Metric>>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT key, value, timestamp, step FROM metrics WHERE run_uuid = ?1
               AND key IN (SELECT key FROM metrics WHERE run_uuid = ?1 GROUP BY key HAVING COUNT(*) > 1)
             ORDER BY key, step, timestamp",
        )?;
        let mut out: BTreeMap<String, Vec<Metric>> = BTreeMap::new();
        let rows = stmt.query_map([run_id], |r| {
            Ok(Metric {
                key: r.get(0)?,
                value: r.get(1)?,
                timestamp: r.get(2)?,
                step: r.get(3)?,
            })
        })?;
        for m in rows {
            let m = m?;
            out.entry(m.key.clone()).or_default().push(m);
        }
        Ok(out)
    }

    /// The latest value of each metric of a run, with its step and time.
    pub fn latest_metrics(&self, run_id: &str) -> Result<Vec<Metric>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT key, value, timestamp, step FROM latest_metrics WHERE run_uuid = ?1 ORDER BY key",
        )?;
        Ok(stmt
            .query_map([run_id], |r| {
                Ok(Metric {
                    key: r.get(0)?,
                    value: r.get(1)?,
                    timestamp: r.get(2)?,
                    step: r.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// Record the datasets a run used (idempotent per dataset).
    pub fn log_inputs(&self, run_id: &str, inputs: &[DatasetInput]) -> Result<()> {
        self.require_not_deleted(run_id)?;
        let run = self.get_run(run_id)?;
        let tx = self.write_tx()?;
        for d in inputs {
            let existing: Option<String> = tx
                .query_row(
                    "SELECT dataset_uuid FROM datasets WHERE experiment_id = ?1 AND name = ?2 AND digest = ?3",
                    params![run.experiment_id, d.name, d.digest],
                    |r| r.get(0),
                )
                .optional()?;
            let id = match existing {
                Some(id) => id,
                None => {
                    let id = uuid::Uuid::new_v4().simple().to_string();
                    tx.execute(
                        "INSERT INTO datasets (dataset_uuid, experiment_id, name, digest, source_type, source, schema, profile)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                        params![id, run.experiment_id, d.name, d.digest, d.source_type, d.source, d.schema, d.profile],
                    )?;
                    id
                }
            };
            let tags = serde_json::to_string(&d.tags).unwrap_or_else(|_| "{}".into());
            tx.execute(
                "INSERT INTO run_inputs (run_uuid, dataset_uuid, tags) VALUES (?1, ?2, ?3)
                 ON CONFLICT (run_uuid, dataset_uuid) DO UPDATE SET tags = excluded.tags",
                params![run_id, id, tags],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn run_inputs(&self, run_id: &str) -> Result<Vec<DatasetInput>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT d.name, d.digest, d.source_type, d.source, d.schema, d.profile, i.tags
             FROM run_inputs i JOIN datasets d ON d.dataset_uuid = i.dataset_uuid
             WHERE i.run_uuid = ?1 ORDER BY d.name",
        )?;
        Ok(stmt
            .query_map([run_id], |r| {
                let tags: String = r.get(6)?;
                Ok(DatasetInput {
                    name: r.get(0)?,
                    digest: r.get(1)?,
                    source_type: r.get(2)?,
                    source: r.get(3)?,
                    schema: r.get(4)?,
                    profile: r.get(5)?,
                    tags: serde_json::from_str(&tags).unwrap_or_default(),
                })
            })?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// Record models a run logged (`output`) or used.
    pub fn log_run_models(&self, run_id: &str, models: &[RunModel]) -> Result<()> {
        self.require_not_deleted(run_id)?;
        let tx = self.write_tx()?;
        for m in models {
            tx.execute(
                "INSERT OR REPLACE INTO run_models (run_uuid, model_id, direction, step) VALUES (?1, ?2, ?3, ?4)",
                params![run_id, m.model_id, if m.output { "output" } else { "input" }, m.step],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn run_models(&self, run_id: &str) -> Result<Vec<RunModel>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT model_id, direction, step FROM run_models WHERE run_uuid = ?1 ORDER BY model_id",
        )?;
        Ok(stmt
            .query_map([run_id], |r| {
                let dir: String = r.get(1)?;
                Ok(RunModel {
                    model_id: r.get(0)?,
                    output: dir == "output",
                    step: r.get(2)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?)
    }
}

/// Log a write-once param: `None` when it is new or logged again with the
/// same value, `Some(old value)` when it would change (nothing written).
fn insert_param(
    tx: &rusqlite::Transaction<'_>,
    run_id: &str,
    key: &str,
    value: &str,
) -> Result<Option<String>> {
    let old: Option<String> = tx
        .query_row(
            "SELECT value FROM params WHERE run_uuid = ?1 AND key = ?2",
            params![run_id, key],
            |r| r.get(0),
        )
        .optional()?;
    match old {
        Some(o) if o == value => Ok(None),
        Some(o) => Ok(Some(o)),
        None => {
            tx.execute(
                "INSERT INTO params (run_uuid, key, value) VALUES (?1, ?2, ?3)",
                params![run_id, key, value],
            )?;
            Ok(None)
        }
    }
}

/// One logged value into the history, and into the latest value per key
/// (highest step, then timestamp, as MLflow keeps it).
fn insert_metric(tx: &rusqlite::Transaction<'_>, run_id: &str, m: &Metric) -> Result<()> {
    tx.execute(
        "INSERT OR IGNORE INTO metrics (run_uuid, key, value, timestamp, step) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![run_id, m.key, m.value, m.timestamp, m.step],
    )?;
    tx.execute(
        "INSERT INTO latest_metrics (run_uuid, key, value, timestamp, step) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value,
            timestamp = excluded.timestamp, step = excluded.step
         WHERE excluded.step > latest_metrics.step
            OR (excluded.step = latest_metrics.step AND excluded.timestamp >= latest_metrics.timestamp)",
        params![run_id, m.key, m.value, m.timestamp, m.step],
    )?;
    Ok(())
}

/// (from, to) lifecycle stages of a delete (`true`) or restore.
fn stages(deleted: bool) -> (&'static str, &'static str) {
    if deleted {
        ("active", "deleted")
    } else {
        ("deleted", "active")
    }
}
