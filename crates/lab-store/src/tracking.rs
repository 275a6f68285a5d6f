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

const RUN_COLUMNS: &str =
    "run_uuid, experiment_id, name, status, start_time, end_time, artifact_uri";

impl Store {
    pub fn get_or_create_experiment(&self, name: &str) -> Result<Experiment> {
        let name = name.trim();
        if name.is_empty() {
            return Err(StoreError::Invalid(
                "an experiment name cannot be empty".into(),
            ));
        }
        if let Some(e) = self.experiment_by_name(name)? {
            return Ok(e);
        }
        let tx = self.conn.unchecked_transaction()?;
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
        tx.commit()?;
        self.experiment(&id)
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
        let exp = self.experiment(experiment_id)?;
        let run_id = uuid::Uuid::new_v4().simple().to_string();
        let artifact_uri = format!("{}/{run_id}/artifacts", exp.artifact_location);
        self.home.confine(&artifact_uri)?;
        let now = now_ms();
        let tx = self.conn.unchecked_transaction()?;
        tx.execute(
            "INSERT INTO runs (run_uuid, experiment_id, name, status, start_time, artifact_uri, owner)
             VALUES (?1, ?2, ?3, 'RUNNING', ?4, ?5, ?6)",
            params![run_id, exp.experiment_id, run_name, now, artifact_uri, self.lease_name],
        )?;
        for (k, v) in tags {
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
        let tx = self.conn.unchecked_transaction()?;
        for (k, v) in params_ {
            let old: Option<String> = tx
                .query_row(
                    "SELECT value FROM params WHERE run_uuid = ?1 AND key = ?2",
                    params![run_id, k],
                    |r| r.get(0),
                )
                .optional()?;
            match old {
                Some(o) if &o == v => {}
                Some(o) => {
                    return Err(StoreError::Invalid(format!(
                        "param `{k}` of run {run_id} is already `{o}`; params cannot change"
                    )));
                }
                None => {
                    tx.execute(
                        "INSERT INTO params (run_uuid, key, value) VALUES (?1, ?2, ?3)",
                        params![run_id, k, v],
                    )?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Log metric values in one transaction, keeping the full history and
    /// updating the latest value per key.
    pub fn log_metrics(&self, run_id: &str, metrics: &[Metric]) -> Result<()> {
        self.require_active(run_id)?;
        let tx = self.conn.unchecked_transaction()?;
        for m in metrics {
            if !m.value.is_finite() {
                return Err(StoreError::Invalid(format!(
                    "metric `{}` = {} is not a finite number",
                    m.key, m.value
                )));
            }
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
        }
        tx.commit()?;
        Ok(())
    }

    pub fn set_tags(&self, run_id: &str, tags: &[(&str, &str)]) -> Result<()> {
        self.run_exists(run_id)?;
        let tx = self.conn.unchecked_transaction()?;
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
        params: BTreeMap::new(),
        metrics: BTreeMap::new(),
        tags: BTreeMap::new(),
    })
}
