use serde::Serialize;

/// Any failure of a pipeline operation. [`PipelineError::code`] gives a
/// stable machine-readable code; front ends show `{code, message}`.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Data(#[from] lab_data::DataError),
    #[error(transparent)]
    Train(#[from] lab_train::TrainError),
    #[error(transparent)]
    Store(#[from] lab_store::StoreError),
    #[error(transparent)]
    Model(#[from] lab_model::ArtifactError),
    #[error(transparent)]
    Deploy(lab_deploy::DeployError),
    #[error(transparent)]
    Monitor(#[from] lab_monitor::MonitorError),
    #[error(transparent)]
    Tracking(#[from] lab_tracking::TrackingError),
    #[error("{0}")]
    Invalid(String),
    #[error("{0} not found")]
    NotFound(String),
    /// The caller cancelled the work (see [`crate::Cancel`]).
    #[error("cancelled: {0}")]
    Cancelled(String),
    #[error("{what} not found: {hint}")]
    NotFoundHint { what: String, hint: String },
}

impl PipelineError {
    pub fn code(&self) -> &'static str {
        use lab_data::DataError as D;
        use lab_store::StoreError as S;
        match self {
            PipelineError::Data(e) => match e {
                D::Unreadable { .. } => "data.unreadable",
                D::Empty { .. } | D::NoRows { .. } => "data.empty",
                D::Csv { .. } => "data.csv",
                D::MissingColumn { .. } => "data.missing_column",
                D::TextInNumeric { .. } => "data.text_in_numeric",
                D::ConstantFeature { .. } => "data.constant_feature",
                D::AllNullFeature { .. } => "data.all_null_feature",
                D::MissingTarget { .. } => "data.missing_target",
                D::UnknownDataset { .. } => "data.unknown_dataset",
                D::UnknownTarget { .. } => "data.unknown_target",
                D::UnknownScenario { .. } => "data.unknown_scenario",
                D::Catalog { .. } => "data.catalog",
                D::Split(_) => "data.split",
                D::Invalid(_) | D::Polars { .. } => "data.invalid",
            },
            PipelineError::Train(e) => match e {
                lab_train::TrainError::Unsupported { .. } => "train.unsupported",
                lab_train::TrainError::Param { .. } => "train.param",
                lab_train::TrainError::Fit { .. } => "train.fit",
                lab_train::TrainError::Evaluate(_) => "train.evaluate",
            },
            PipelineError::Store(e) => match e {
                S::NotFound(_) => "store.not_found",
                S::Invalid(_) => "store.invalid",
                S::AlreadyExists(_) => "store.already_exists",
                S::PathEscape(_) => "store.path_escape",
                S::SchemaTooNew { .. } => "store.schema_too_new",
                S::Io { .. } => "store.io",
                S::Sqlite(_) => "store.sqlite",
            },
            PipelineError::Model(_) => "model.artifact",
            PipelineError::Deploy(e) => match e {
                lab_deploy::DeployError::DockerUnavailable(_) => "deploy.docker_unavailable",
                lab_deploy::DeployError::NotReady { .. } => "deploy.not_ready",
                lab_deploy::DeployError::NotOurs(_) => "deploy.not_ours",
                lab_deploy::DeployError::NotFound(_) => "deploy.not_found",
                lab_deploy::DeployError::Binary(_) => "deploy.binary",
                lab_deploy::DeployError::Build(_) => "deploy.build",
                _ => "deploy.error",
            },
            PipelineError::Monitor(_) => "monitor.invalid",
            PipelineError::Tracking(e) => match e {
                lab_tracking::TrackingError::PortInUse { .. } => "tracking.port_in_use",
                _ => "tracking.error",
            },
            PipelineError::Invalid(_) => "invalid",
            PipelineError::Cancelled(_) => "cancelled",
            PipelineError::NotFound(_) | PipelineError::NotFoundHint { .. } => "not_found",
        }
    }

    /// The `{code, message}` shape errors take when they cross into a UI.
    pub fn to_wire(&self) -> WireError {
        WireError {
            code: self.code().to_string(),
            message: self.to_string(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct WireError {
    pub code: String,
    pub message: String,
}
