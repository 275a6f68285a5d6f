//! The data step, on polars: the sample-data catalogue, CSV loading with
//! strict checks, profiling, validation against expectations, drift-scenario
//! slices, and the deterministic train/test split that yields feature
//! matrices and a fitted [`lab_model::Preprocessor`].
//!
//! Nothing here knows about training, SQLite or any front end.

mod catalog;
mod load;
mod prepare;
mod profile;
mod scenario;
mod validate;

pub use catalog::{
    Catalog, ColumnExpectation, ColumnType, DatasetSpec, Derive, Expectations, ScenarioSpec, Slice,
    SliceValue, TargetSpec,
};
pub use load::{ColumnValues, Table, read_csv};
pub use prepare::{PrepareOptions, Prepared, SplitSpec, Target, TaskSpec, prepare};
pub use profile::{ColumnProfile, Histogram, Profile, profile};
pub use scenario::{append_rows, scenario_slices};
pub use validate::{ExpectationResult, ValidationReport, validate};

#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("cannot read {path}: {source}")]
    Unreadable {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is empty: a CSV file needs a header row and at least one data row")]
    Empty { path: String },
    #[error("{path} has a header but no data rows")]
    NoRows { path: String },
    #[error("{path}: cannot parse as CSV: {message}")]
    Csv { path: String, message: String },
    #[error("{path}: column `{column}` not found; the columns are: {available}")]
    MissingColumn {
        path: String,
        column: String,
        available: String,
    },
    #[error(
        "{path}, line {line}, column `{column}`: expected a number, found {value:?}; fix the value or mark it missing (empty or NA)"
    )]
    TextInNumeric {
        path: String,
        line: usize,
        column: String,
        value: String,
    },
    #[error(
        "{path}, column `{column}`: every row holds the same value ({value}), so it cannot help a model; leave it out of the features"
    )]
    ConstantFeature {
        path: String,
        column: String,
        value: String,
    },
    #[error(
        "{path}, column `{column}`: every value is missing; leave it out of the features or fill it in"
    )]
    AllNullFeature { path: String, column: String },
    #[error("{path}, line {line}, column `{column}`: the target is missing on this row")]
    MissingTarget {
        path: String,
        line: usize,
        column: String,
    },
    #[error("sample-data catalogue {path}: {message}")]
    Catalog { path: String, message: String },
    #[error("unknown dataset `{name}`; the sample datasets are: {available}")]
    UnknownDataset { name: String, available: String },
    #[error("dataset `{dataset}` has no target `{target}`; choose one of: {available}")]
    UnknownTarget {
        dataset: String,
        target: String,
        available: String,
    },
    #[error("unknown scenario `{name}`; the scenarios are: {available}")]
    UnknownScenario { name: String, available: String },
    #[error("split: {0}")]
    Split(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{context}: {source}")]
    Polars {
        context: String,
        source: polars::error::PolarsError,
    },
}

pub type Result<T, E = DataError> = std::result::Result<T, E>;

pub(crate) trait PolarsContext<T> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T> PolarsContext<T> for polars::error::PolarsResult<T> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| DataError::Polars {
            context: context(),
            source,
        })
    }
}
