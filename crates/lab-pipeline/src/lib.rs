//! Orchestration of the pipeline stages against the store.
//!
//! Every front end (the CLI now, the desktop app later) calls this crate and
//! only this crate for pipeline work; none of them holds pipeline logic. Long
//! work reports typed [`Event`]s to a caller-supplied sink, which a CLI turns
//! into progress bars and the desktop app into channel messages.

mod cancel;
mod deploy;
mod error;
mod events;
mod failpoint;
mod lab;
mod monitor;
mod overview;
mod pipeline;
mod retrain;
mod service;
mod traffic;

pub use cancel::Cancel;
pub use deploy::{DeployResult, PredictInput};
pub use error::PipelineError;
pub use events::{Event, Stage};
pub use lab::{
    DataSource, LEARNING_CURVE, Lab, ModelRef, RunComparison, TrainRequest, TrainResult,
    default_model_name,
};
pub use lab_monitor::{
    AlertMetric, AlertRule, ColumnDrift, ColumnStats, DriftConfig, DriftReport, DriftTest,
};
pub use monitor::{CollectSummary, MIN_DRIFT_ROWS, ScenarioDrift, WindowResult};
pub use overview::{
    DeploymentStatus, DockerStatus, HistoryPoint, MonitorSnapshot, Overview, RunDetail,
    SampleRequest, SentRequest, StageHealth, StageState, curl_command, headline_metric,
    model_name_for_run,
};
pub use pipeline::{DEFAULT_SCENARIO, PipelineRequest, PipelineSummary, StageTiming};
pub use retrain::RetrainResult;
pub use service::{RolloutResult, ServiceStatus};
pub use traffic::{TrafficMix, TrafficRequest, TrafficSummary};

pub type Result<T, E = PipelineError> = std::result::Result<T, E>;

// Re-exported so front ends need no direct dependency for the types they show.
pub use lab_data::{Catalog, DatasetSpec, Profile, ValidationReport};
pub use lab_model::{MissingPolicy, ModelKind, Task};
pub use lab_store::{
    AlertRecord, DeploymentRecord, DeploymentRuntime, DeploymentState, Experiment, LabHome,
    ModelVersion, RegisteredModel, RetrainRecord, Run, RunFilter, RunStatus, Service, WindowRecord,
};
pub use lab_train::{Comparison, GateResult, ParamSpec, param_specs};
