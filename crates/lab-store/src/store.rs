//! Experiments, runs, params, metrics, tags, the model registry and lesson
//! progress.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::PathBuf;

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::home::LabHome;
use crate::migrations::migrate;
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelVersion {
    pub name: String,
    pub version: i64,
    pub creation_time: i64,
    pub last_updated_time: i64,
    /// Artifact path relative to the lab home.
    pub source: String,
    pub run_id: String,
    pub status: String,
    pub aliases: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegisteredModel {
    pub name: String,
    pub creation_time: i64,
    pub last_updated_time: i64,
    pub description: String,
    pub latest_version: Option<i64>,
    pub aliases: BTreeMap<String, i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LessonProgress {
    pub lesson_id: String,
    pub status: String,
    pub updated_at: i64,
    pub detail: serde_json::Value,
}

/// A text column with a fixed set of values, stored as its name.
macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl rusqlite::types::ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                Ok(self.as_str().into())
            }
        }

        impl rusqlite::types::FromSql for $name {
            fn column_result(v: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
                match v.as_str()? {
                    $($text => Ok($name::$variant),)+
                    other => Err(rusqlite::types::FromSqlError::Other(
                        format!("`{other}` is not a {}", stringify!($name)).into(),
                    )),
                }
            }
        }
    };
}

text_enum!(
    /// Where a deployment runs.
    DeploymentRuntime {
        Docker => "docker",
        Local => "local",
    }
);

text_enum!(
    /// Whether a deployment still serves.
    DeploymentState {
        Running => "running",
        Stopped => "stopped",
    }
);

/// A model server started by the lab.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeploymentRecord {
    pub deployment_id: String,
    pub runtime: DeploymentRuntime,
    pub name: String,
    pub model_name: String,
    pub model_version: i64,
    pub run_id: String,
    pub endpoint: String,
    pub host_port: i64,
    pub image_id: Option<String>,
    pub image_tag: Option<String>,
    pub image_size_bytes: Option<i64>,
    pub pid: Option<i64>,
    /// Local processes: their start time (clock ticks after boot, from
    /// `/proc/PID/stat`) and executable, checked before any signal.
    pub pid_start: Option<i64>,
    pub pid_exe: Option<String>,
    /// Where a gateway forwards to, when not `endpoint`: a container's
    /// address on Docker's bridge (no docker-proxy hop).
    pub upstream: Option<String>,
    /// Local processes: the folder of their logs, relative to the lab home.
    pub log_dir: Option<String>,
    pub start_to_ready_ms: i64,
    pub status: DeploymentState,
    pub created_at: i64,
    pub stopped_at: Option<i64>,
}

impl DeploymentRecord {
    /// Where a gateway sends this deployment's traffic: its bridge address
    /// when the host reaches it, else its endpoint.
    pub fn gateway_upstream(&self) -> &str {
        self.upstream.as_deref().unwrap_or(&self.endpoint)
    }
}

#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    pub experiment: Option<String>,
    pub status: Option<RunStatus>,
    /// Keep runs whose tag `key` equals `value`.
    pub tag: Option<(String, String)>,
    pub limit: Option<usize>,
}

/// The open store: a connection to `lab.db` and this process's lease. One
/// [`Store::open`] per process runs the migrations and takes the lease;
/// [`Store::connect`] gives further connections (one per thread) that share
/// it.
pub struct Store {
    pub(crate) conn: Connection,
    home: LabHome,
    lease: std::sync::Arc<Lease>,
    lease_name: String,
}

/// This process's lease file, held (locked) while any connection lives.
struct Lease {
    path: PathBuf,
    _file: File,
}

impl Drop for Lease {
    fn drop(&mut self) {
        // Our RUNNING runs (if any) stay RUNNING only while we live; the lease
        // file goes with us so the next process sees them as orphaned.
        let _ = std::fs::remove_file(&self.path);
    }
}

fn connection(home: &LabHome) -> Result<Connection> {
    let conn = Connection::open(home.db_path())?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.execute_batch("PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;")?;
    Ok(conn)
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("home", &self.home.root())
            .finish()
    }
}

const RUN_COLUMNS: &str =
    "run_uuid, experiment_id, name, status, start_time, end_time, artifact_uri";

impl Store {
    /// Open (creating and migrating as needed) the store in `home`, take this
    /// process's lease, and mark runs orphaned by dead processes as failed.
    pub fn open(home: &LabHome) -> Result<Store> {
        let mut conn = connection(home)?;
        // WAL is a property of the database file: set once, kept by every
        // later connection.
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(mode, "SQLite refused WAL; continuing in {mode} mode");
        }
        migrate(&mut conn)?;

        let locks = home.locks_dir();
        std::fs::create_dir_all(&locks)
            .map_err(|e| StoreError::io(format!("cannot create {}", locks.display()), e))?;
        let lease_name = format!(
            "{}-{}.lock",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        );
        let lease_path = locks.join(&lease_name);
        // Locked under a temporary name first, so no other process ever sees
        // this lease unlocked (and sweeps it as stale).
        let pending = locks.join(format!("{lease_name}.pending"));
        let lease = File::create(&pending)
            .map_err(|e| StoreError::io(format!("cannot create {}", pending.display()), e))?;
        lease
            .lock()
            .map_err(|e| StoreError::io(format!("cannot lock {}", pending.display()), e))?;
        std::fs::rename(&pending, &lease_path)
            .map_err(|e| StoreError::io(format!("cannot create {}", lease_path.display()), e))?;

        let store = Store {
            conn,
            home: home.clone(),
            lease: std::sync::Arc::new(Lease {
                path: lease_path,
                _file: lease,
            }),
            lease_name,
        };
        store.recover_orphans()?;
        Ok(store)
    }

    /// Another connection to the same store, for another thread: no
    /// migrations, no new lease (it shares this one), no orphan sweep.
    pub fn connect(&self) -> Result<Store> {
        Ok(Store {
            conn: connection(&self.home)?,
            home: self.home.clone(),
            lease: self.lease.clone(),
            lease_name: self.lease_name.clone(),
        })
    }

    pub fn home(&self) -> &LabHome {
        &self.home
    }

    pub fn db_path(&self) -> PathBuf {
        self.home.db_path()
    }

    /// `PRAGMA integrity_check`; `"ok"` when the file is sound.
    pub fn integrity_check(&self) -> Result<String> {
        Ok(self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }

    /// Runs left RUNNING by a process whose lease is no longer held are
    /// marked FAILED, with a tag saying why.
    fn recover_orphans(&self) -> Result<usize> {
        let mut stmt = self
            .conn
            .prepare("SELECT run_uuid, owner FROM runs WHERE status = 'RUNNING'")?;
        let running: Vec<(String, Option<String>)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut recovered = 0;
        for (run_id, owner) in running {
            let alive = match owner.as_deref() {
                Some(o) if o == self.lease_name => true,
                Some(o) => lease_is_held(&self.home.locks_dir().join(o)),
                None => false,
            };
            if alive {
                continue;
            }
            let now = now_ms();
            let tx = self.conn.unchecked_transaction()?;
            let changed = tx.execute(
                "UPDATE runs SET status = 'FAILED', end_time = ?2, owner = NULL
                 WHERE run_uuid = ?1 AND status = 'RUNNING'",
                params![run_id, now],
            )?;
            if changed == 1 {
                tx.execute(
                    "INSERT OR REPLACE INTO tags (run_uuid, key, value) VALUES (?1, 'mlops.failure', ?2)",
                    params![
                        run_id,
                        "the process running this run ended before it finished (killed or crashed)"
                    ],
                )?;
                recovered += 1;
                tracing::warn!(run_id, "marked orphaned run as FAILED");
            }
            tx.commit()?;
            if let Some(o) = owner {
                let _ = std::fs::remove_file(self.home.locks_dir().join(o));
            }
        }
        // Leases of processes that died owning no run.
        if let Ok(entries) = std::fs::read_dir(self.home.locks_dir()) {
            for e in entries.flatten() {
                let path = e.path();
                let name = e.file_name();
                let name = name.to_string_lossy();
                let pending_too_long = name.ends_with(".pending")
                    && e.metadata()
                        .and_then(|m| m.modified())
                        .is_ok_and(|t| t.elapsed().is_ok_and(|d| d.as_secs() > 3600));
                let candidate = name.ends_with(".lock") || pending_too_long;
                if candidate && name != self.lease_name.as_str() && !lease_is_held(&path) {
                    let _ = std::fs::remove_file(path);
                }
            }
        }
        Ok(recovered)
    }

    // ---------------------------------------------------------------- experiments

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

    // ------------------------------------------------------------------- registry

    /// Register a new version of model `name` from `run_id`'s artifact at
    /// `source` (relative to the lab home), creating the registered model if
    /// needed. Returns the new version.
    pub fn create_model_version(
        &self,
        name: &str,
        run_id: &str,
        source: &str,
    ) -> Result<ModelVersion> {
        validate_model_name(name)?;
        let run = self.get_run(run_id)?;
        if run.status != RunStatus::Finished {
            return Err(StoreError::Invalid(format!(
                "run {run_id} is {}: only a FINISHED run can be registered",
                run.status
            )));
        }
        let path = self.home.confine(source)?;
        if !path.is_file() {
            return Err(StoreError::NotFound(format!(
                "model artifact {} of run {run_id}",
                path.display()
            )));
        }
        let now = now_ms();
        let tx = self.conn.unchecked_transaction()?;
        tx.execute(
            "INSERT INTO registered_models (name, creation_time, last_updated_time) VALUES (?1, ?2, ?2)
             ON CONFLICT (name) DO UPDATE SET last_updated_time = excluded.last_updated_time",
            params![name, now],
        )?;
        let version: i64 = tx.query_row(
            "SELECT COALESCE(MAX(version), 0) + 1 FROM model_versions WHERE name = ?1",
            [name],
            |r| r.get(0),
        )?;
        tx.execute(
            "INSERT INTO model_versions (name, version, creation_time, last_updated_time, source, run_id, status)
             VALUES (?1, ?2, ?3, ?3, ?4, ?5, 'READY')",
            params![name, version, now, source, run_id],
        )?;
        tx.commit()?;
        self.model_version(name, version)
    }

    pub fn model_version(&self, name: &str, version: i64) -> Result<ModelVersion> {
        let mut mv = self
            .conn
            .query_row(
                "SELECT name, version, creation_time, last_updated_time, source, run_id, status
                 FROM model_versions WHERE name = ?1 AND version = ?2",
                params![name, version],
                row_to_version,
            )
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("model `{name}` version {version}")))?;
        mv.aliases = self.aliases_of(name, version)?;
        Ok(mv)
    }

    fn aliases_of(&self, name: &str, version: i64) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT alias FROM registered_model_aliases WHERE name = ?1 AND version = ?2 ORDER BY alias",
        )?;
        Ok(stmt
            .query_map(params![name, version], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// Point `alias` of model `name` at `version` (moving it if it pointed
    /// elsewhere).
    pub fn set_alias(&self, name: &str, alias: &str, version: i64) -> Result<()> {
        validate_alias(alias)?;
        self.model_version(name, version)?;
        let tx = self.conn.unchecked_transaction()?;
        tx.execute(
            "INSERT INTO registered_model_aliases (name, alias, version) VALUES (?1, ?2, ?3)
             ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version",
            params![name, alias, version],
        )?;
        tx.execute(
            "UPDATE registered_models SET last_updated_time = ?2 WHERE name = ?1",
            params![name, now_ms()],
        )?;
        tx.commit()?;
        Ok(())
    }

    pub fn delete_alias(&self, name: &str, alias: &str) -> Result<()> {
        let n = self.conn.execute(
            "DELETE FROM registered_model_aliases WHERE name = ?1 AND alias = ?2",
            params![name, alias],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!(
                "alias `{alias}` of model `{name}`"
            )));
        }
        Ok(())
    }

    pub fn version_by_alias(&self, name: &str, alias: &str) -> Result<Option<ModelVersion>> {
        let v: Option<i64> = self
            .conn
            .query_row(
                "SELECT version FROM registered_model_aliases WHERE name = ?1 AND alias = ?2",
                params![name, alias],
                |r| r.get(0),
            )
            .optional()?;
        v.map(|v| self.model_version(name, v)).transpose()
    }

    pub fn list_registered_models(&self) -> Result<Vec<RegisteredModel>> {
        let mut stmt = self.conn.prepare(
            "SELECT m.name, m.creation_time, m.last_updated_time, m.description,
                    (SELECT MAX(version) FROM model_versions v WHERE v.name = m.name)
             FROM registered_models m ORDER BY m.name",
        )?;
        let mut models: Vec<RegisteredModel> = stmt
            .query_map([], |r| {
                Ok(RegisteredModel {
                    name: r.get(0)?,
                    creation_time: r.get(1)?,
                    last_updated_time: r.get(2)?,
                    description: r.get(3)?,
                    latest_version: r.get(4)?,
                    aliases: BTreeMap::new(),
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut a = self
            .conn
            .prepare("SELECT alias, version FROM registered_model_aliases WHERE name = ?1")?;
        for m in &mut models {
            m.aliases = a
                .query_map([&m.name], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
        }
        Ok(models)
    }

    pub fn list_model_versions(&self, name: &str) -> Result<Vec<ModelVersion>> {
        let mut stmt = self.conn.prepare(
            "SELECT name, version, creation_time, last_updated_time, source, run_id, status
             FROM model_versions WHERE name = ?1 ORDER BY version DESC",
        )?;
        let mut versions: Vec<ModelVersion> = stmt
            .query_map([name], row_to_version)?
            .collect::<rusqlite::Result<_>>()?;
        if versions.is_empty() {
            return Err(StoreError::NotFound(format!("registered model `{name}`")));
        }
        for v in &mut versions {
            v.aliases = self.aliases_of(&v.name, v.version)?;
        }
        Ok(versions)
    }

    // ---------------------------------------------------------------- deployments

    pub fn insert_deployment(&self, d: &DeploymentRecord) -> Result<()> {
        self.conn.execute(
            "INSERT INTO deployments (deployment_id, runtime, name, model_name, model_version, run_id,
                endpoint, host_port, image_id, image_tag, image_size_bytes, pid, log_dir,
                start_to_ready_ms, status, created_at, stopped_at, pid_start, pid_exe, upstream)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
            params![
                d.deployment_id, d.runtime, d.name, d.model_name, d.model_version, d.run_id,
                d.endpoint, d.host_port, d.image_id, d.image_tag, d.image_size_bytes, d.pid,
                d.log_dir, d.start_to_ready_ms, d.status, d.created_at, d.stopped_at,
                d.pid_start, d.pid_exe, d.upstream
            ],
        )?;
        Ok(())
    }

    /// Deployments, newest first.
    pub fn list_deployments(&self, running_only: bool) -> Result<Vec<DeploymentRecord>> {
        let sql = format!(
            "SELECT deployment_id, runtime, name, model_name, model_version, run_id, endpoint, host_port,
                    image_id, image_tag, image_size_bytes, pid, log_dir, start_to_ready_ms, status,
                    created_at, stopped_at, pid_start, pid_exe, upstream
             FROM deployments {} ORDER BY created_at DESC, rowid DESC",
            if running_only { "WHERE status = 'running'" } else { "" }
        );
        let mut stmt = self.conn.prepare(&sql)?;
        Ok(stmt
            .query_map([], |r| {
                Ok(DeploymentRecord {
                    deployment_id: r.get(0)?,
                    runtime: r.get(1)?,
                    name: r.get(2)?,
                    model_name: r.get(3)?,
                    model_version: r.get(4)?,
                    run_id: r.get(5)?,
                    endpoint: r.get(6)?,
                    host_port: r.get(7)?,
                    image_id: r.get(8)?,
                    image_tag: r.get(9)?,
                    image_size_bytes: r.get(10)?,
                    pid: r.get(11)?,
                    log_dir: r.get(12)?,
                    start_to_ready_ms: r.get(13)?,
                    status: r.get(14)?,
                    created_at: r.get(15)?,
                    stopped_at: r.get(16)?,
                    pid_start: r.get(17)?,
                    pid_exe: r.get(18)?,
                    upstream: r.get(19)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// A deployment by id, unique id prefix (4+ characters) or name.
    pub fn find_deployment(&self, key: &str) -> Result<DeploymentRecord> {
        let key = key.trim();
        let all = self.list_deployments(false)?;
        let exact: Vec<&DeploymentRecord> = all
            .iter()
            .filter(|d| d.deployment_id == key || d.name == key)
            .collect();
        let found: Vec<&DeploymentRecord> = if exact.is_empty() && key.len() >= 4 {
            all.iter()
                .filter(|d| d.deployment_id.starts_with(key))
                .collect()
        } else {
            exact
        };
        match found.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(StoreError::NotFound(format!(
                "deployment `{key}` (see `mlops-lab deployments list`)"
            ))),
            _ => Err(StoreError::Invalid(format!(
                "`{key}` matches several deployments: give more of the id"
            ))),
        }
    }

    /// Record where a gateway now reaches a deployment (a container's
    /// bridge address changed after a restart, or is gone).
    pub fn set_deployment_upstream(&self, id: &str, upstream: Option<&str>) -> Result<()> {
        self.conn.execute(
            "UPDATE deployments SET upstream = ?2 WHERE deployment_id = ?1",
            params![id, upstream],
        )?;
        Ok(())
    }

    pub fn mark_deployment_stopped(&self, id: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE deployments SET status = 'stopped', stopped_at = ?2 WHERE deployment_id = ?1 AND status = 'running'",
            params![id, now_ms()],
        )?;
        Ok(())
    }

    // ------------------------------------------------------------ lesson progress

    pub fn set_lesson_progress(
        &self,
        lesson_id: &str,
        status: &str,
        detail: &serde_json::Value,
    ) -> Result<()> {
        if !matches!(status, "not-started" | "in-progress" | "done") {
            return Err(StoreError::Invalid(format!(
                "lesson status `{status}`: use not-started, in-progress or done"
            )));
        }
        self.conn.execute(
            "INSERT INTO lesson_progress (lesson_id, status, updated_at, detail) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (lesson_id) DO UPDATE SET status = excluded.status,
                updated_at = excluded.updated_at, detail = excluded.detail",
            params![lesson_id, status, now_ms(), detail.to_string()],
        )?;
        Ok(())
    }

    /// Record the latest action of `kind` (replacing the one before).
    pub fn record_activity<T: serde::Serialize>(
        &self,
        kind: &str,
        subject: &str,
        detail: &T,
    ) -> Result<()> {
        let detail = serde_json::to_string(detail)
            .map_err(|e| StoreError::Invalid(format!("activity `{kind}`: {e}")))?;
        self.conn.execute(
            "INSERT INTO activity (kind, subject, detail, at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (kind) DO UPDATE SET subject = excluded.subject,
                detail = excluded.detail, at = excluded.at",
            params![kind, subject, detail, now_ms()],
        )?;
        Ok(())
    }

    /// The latest action of `kind`: its subject, detail and time (ms). A
    /// detail that does not read as `T` (an earlier release's) is none.
    pub fn activity<T: serde::de::DeserializeOwned>(
        &self,
        kind: &str,
    ) -> Result<Option<(String, T, i64)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT subject, detail, at FROM activity WHERE kind = ?1")?;
        let mut rows = stmt.query(params![kind])?;
        Ok(match rows.next()? {
            Some(r) => {
                let detail: String = r.get(1)?;
                match serde_json::from_str(&detail) {
                    Ok(d) => Some((r.get(0)?, d, r.get(2)?)),
                    Err(_) => None,
                }
            }
            None => None,
        })
    }

    pub fn lesson_progress(&self) -> Result<Vec<LessonProgress>> {
        let mut stmt = self.conn.prepare(
            "SELECT lesson_id, status, updated_at, detail FROM lesson_progress ORDER BY lesson_id",
        )?;
        Ok(stmt
            .query_map([], |r| {
                let detail: String = r.get(3)?;
                Ok(LessonProgress {
                    lesson_id: r.get(0)?,
                    status: r.get(1)?,
                    updated_at: r.get(2)?,
                    detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::Null),
                })
            })?
            .collect::<rusqlite::Result<_>>()?)
    }
}

/// True when another process holds the lease at `path`.
fn lease_is_held(path: &std::path::Path) -> bool {
    match File::options().write(true).open(path) {
        Ok(f) => match f.try_lock() {
            Ok(()) => false,
            Err(std::fs::TryLockError::WouldBlock) => true,
            Err(std::fs::TryLockError::Error(_)) => false,
        },
        Err(_) => false,
    }
}

fn validate_model_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "model name `{name}`: use letters, digits, `-`, `_` and `.`, starting with a letter or digit"
        )))
    }
}

fn validate_alias(alias: &str) -> Result<()> {
    let digits = alias.strip_prefix('v').unwrap_or(alias);
    let looks_like_version = !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit());
    let ok = !alias.is_empty()
        && alias.len() <= 64
        && alias
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        && !looks_like_version;
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "alias `{alias}`: use letters, digits, `-` and `_`; an alias cannot look like a version (`3`, `v3`)"
        )))
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

fn row_to_version(r: &rusqlite::Row<'_>) -> rusqlite::Result<ModelVersion> {
    Ok(ModelVersion {
        name: r.get(0)?,
        version: r.get(1)?,
        creation_time: r.get(2)?,
        last_updated_time: r.get(3)?,
        source: r.get(4)?,
        run_id: r.get(5)?,
        status: r.get(6)?,
        aliases: Vec::new(),
    })
}
