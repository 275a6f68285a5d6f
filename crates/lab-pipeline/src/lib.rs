//! Orchestration of the pipeline stages against the store.
//!
//! Every front end (the CLI, the desktop app) calls this crate and only this
//! crate for pipeline work; none of them holds pipeline logic. Long work
//! reports typed [`Event`]s to a caller-supplied sink, which a CLI turns into
//! progress bars and the desktop app into channel messages.
//!
//! The modules follow the pipeline: [`request`] types, `data`, `train`,
//! `registry`, `runs`, `deploy` and `service` (rollout), `traffic`,
//! `monitor` and `snapshot`, `retrain`, the whole `pipeline`; `overview` is
//! read-only and `playground` sends single requests.

mod baseline;
mod cancel;
mod data;
mod deploy;
mod error;
mod events;
mod export;
mod failpoint;
mod files;
mod helpers;
mod lab;
mod monitor;
mod overview;
mod pipeline;
mod playground;
mod progress;
mod registry;
pub mod request;
mod retrain;
mod runs;
mod service;
mod settings;
mod snapshot;
pub mod steps;
mod traffic;
mod train;
mod wire;

pub use baseline::BaselineServer;
pub use cancel::Cancel;
pub use data::{DatasetSummary, ModelChoice};
pub use deploy::{DeployResult, PredictInput};
pub use error::{PipelineError, WireError};
pub use events::{Event, Stage};
pub use export::{K8sExport, KfpExport, KfpRequest, STEPS_IMAGE};
pub use files::{DataActivity, Reference, RunEvaluation, WindowDetail};
pub use helpers::{HELPERS_DIR, HelperRecord};
pub use lab::{LEARNING_CURVE, Lab};
pub use lab_export::kfp::KfpPart;
pub use lab_monitor::{
    AlertMetric, AlertRule, ColumnDrift, ColumnStats, DriftConfig, DriftReport, DriftTest,
};
pub use monitor::{CollectSummary, MIN_DRIFT_ROWS, ScenarioDrift, ScenarioSlices, WindowResult};
pub use overview::{DeploymentStatus, DockerStatus, Overview, StageHealth, StageState};
pub use pipeline::{DEFAULT_SCENARIO, PipelineRequest, PipelineSummary, StageTiming};
pub use playground::{SampleRequest, SentRequest, curl_command};
pub use registry::{ModelSummary, ServedBy, VersionSummary};
pub use request::{
    ChampionComparison, DataSource, ModelRef, TrainRequest, TrainResult, default_model_name,
};
pub use retrain::RetrainResult;
pub use runs::{HistoryPoint, RunComparison, RunDetail, headline_metric, model_name_for_run};
pub use service::{RolloutResult, ServiceStatus};
pub use settings::{MONITOR_HORIZON_MS, MONITOR_WINDOW_MS, MixChoice, Settings, TrafficSettings};
pub use snapshot::MonitorSnapshot;
pub use traffic::{TrafficMix, TrafficPlan, TrafficRequest, TrafficSummary};
pub use wire::{ClientRun, MlflowLogged, call_json};

pub type Result<T, E = PipelineError> = std::result::Result<T, E>;

/// Whether a file is a statically linked executable (what an empty image runs).
pub use lab_deploy::is_static_elf;
pub use lab_tracking::{DEFAULT_PORT as TRACKING_DEFAULT_PORT, MLFLOW_API_VERSION, TrackingServer};

// Re-exported so front ends need no direct dependency for the types they show.
pub use lab_data::{Catalog, ColumnValues, DatasetSpec, Profile, Table, ValidationReport};
pub use lab_model::{MissingPolicy, ModelKind, Task};
pub use lab_store::{
    AlertRecord, DeploymentRecord, DeploymentRuntime, DeploymentState, ExerciseAttempt, Experiment,
    LabHome, LessonEvent, LessonState, ModelVersion, RegisteredModel, RetrainRecord, Run,
    RunFilter, RunStatus, Service, WindowRecord,
};
pub use lab_train::{
    Comparison, GateResult, HEADLINE_METRICS, ParamSpec, headline_metrics, param_specs,
};
