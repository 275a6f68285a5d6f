//! Exports of a registered model for the tools learners meet at work.
//!
//! `k8s`: Kubernetes manifests (Deployment, Service, HorizontalPodAutoscaler,
//! PodDisruptionBudget, NetworkPolicy, ServiceAccount) built as typed
//! `k8s-openapi` objects, and a KServe `InferenceService` with serde types of
//! our own, all for the same `FROM scratch` image `mlops-lab deploy` builds.
//!
//! Pure: plain values in, YAML text out. No store, no Docker, no I/O.

pub mod k8s;
pub mod kfp;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot write {what} as YAML: {message}")]
    Yaml { what: String, message: String },
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T, E = ExportError> = std::result::Result<T, E>;

/// One generated file, with a line saying what it is for.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    pub file_name: String,
    pub kind: String,
    pub explanation: String,
    pub yaml: String,
}

pub(crate) fn to_yaml<T: serde::Serialize>(what: &str, value: &T) -> Result<String> {
    serde_saphyr::to_string(value).map_err(|e| ExportError::Yaml {
        what: what.to_string(),
        message: e.to_string(),
    })
}
