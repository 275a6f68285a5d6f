//! The tracking and registry store: one SQLite file under the lab home.
//!
//! This is the one place in MLOps Lab that writes SQL. Tables follow MLflow's
//! names and meanings (experiments, runs, params, metrics with full history,
//! tags, registered models, model versions, aliases), so a later MLflow REST
//! facade can serve them as they are.
//!
//! Crash safety: WAL journal, one transaction per step, and a lease per
//! process (an OS file lock). A run left `RUNNING` by a process that died is
//! marked `FAILED` by the next process that opens the store.

mod deployments;
mod home;
mod logged_models;
mod migrations;
mod monitoring;
mod progress;
mod registry;
mod store;
mod tracking;

pub use deployments::{DeploymentRecord, DeploymentRuntime, DeploymentState};
pub use home::{KEPT_ENTRIES, LAB_ENTRIES, LabHome};
pub use logged_models::{LoggedModel, LoggedModelMetric, LoggedModelStatus, NewLoggedModel};
pub use monitoring::{AlertRecord, AlertRuleRecord, LogRow, RetrainRecord, Service, WindowRecord};
pub use progress::{ExerciseAttempt, LessonEvent, LessonState};
pub use registry::{ModelVersion, NewModelVersion, RegisteredModel};
/// SQLite's error types, for callers that tell "busy" from other failures.
pub use rusqlite::{Error as SqliteError, ErrorCode as SqliteErrorCode};
pub use store::Store;
pub use tracking::{
    DatasetInput, Experiment, Metric, MetricModel, NewRun, Run, RunBatch, RunFilter, RunModel,
    RunStatus, ViewType,
};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    AlreadyExists(String),
    #[error("path `{0}` would leave the lab home; artifact paths must stay inside it")]
    PathEscape(String),
    #[error(
        "the lab database was written by a newer MLOps Lab (schema {found}, this build knows up to {known}); upgrade MLOps Lab"
    )]
    SchemaTooNew { found: i64, known: i64 },
}

impl StoreError {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        StoreError::Io {
            context: context.into(),
            source,
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Milliseconds since the Unix epoch, MLflow's timestamp unit.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
