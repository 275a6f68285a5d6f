//! The model artifact: an envelope around a fitted linfa model, and `predict`.
//!
//! The envelope carries everything needed to turn raw input rows into a
//! prediction: the input features in order, the preprocessing fitted on the
//! training split (imputation, one-hot encoding, standard scaling), the class
//! labels, the target, the task, the training metrics and a format version.
//!
//! This crate knows nothing of polars, SQLite or any front end: the model
//! server depends on it alone, so it stays small.

mod artifact;
mod preprocess;

pub use artifact::{
    ArtifactError, DatasetRef, FORMAT_VERSION, FittedModel, ModelArtifact, ModelKind, Output,
    Prediction, Task,
};
pub use preprocess::{InputFeature, InputKind, MissingPolicy, Preprocessor, Value, format_number};
