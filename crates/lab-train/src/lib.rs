//! The train and validate steps: fit linfa models on prepared matrices,
//! compute metrics, and apply the validation gate.
//!
//! Knows nothing of SQLite or front ends: it takes a [`lab_data::Prepared`]
//! and returns a [`lab_model::ModelArtifact`] with its evaluation.

mod fit;
mod gate;
mod metrics;
mod params;

pub use fit::{CurvePoint, TrainOutput, learning_curve, train};
pub use gate::{
    Comparison, GateCheck, GateResult, HEADLINE_METRICS, compare, gate, headline_metrics,
    higher_is_better, primary_metric,
};
pub use metrics::{Evaluation, evaluate, evaluate_rows};
pub use params::{ParamSpec, param_specs, resolve_params};

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("{model} cannot learn a {task} task; {hint}")]
    Unsupported {
        model: String,
        task: String,
        hint: String,
    },
    #[error("parameter `{param}` of {model}: {message}")]
    Param {
        model: String,
        param: String,
        message: String,
    },
    #[error("{model} failed to fit: {message}")]
    Fit { model: String, message: String },
    #[error("evaluation: {0}")]
    Evaluate(String),
}

pub type Result<T, E = TrainError> = std::result::Result<T, E>;
