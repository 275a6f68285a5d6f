//! Deployments: the model servers the lab started, where and how.

use rusqlite::params;
use serde::{Deserialize, Serialize};

use crate::store::Store;
use crate::{Result, StoreError, now_ms};

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

impl Store {
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
}
