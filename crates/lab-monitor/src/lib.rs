//! The monitor step: drift statistics and reports, monitoring windows and
//! alert rules.
//!
//! Pure computation on plain vectors: no polars, no SQLite, no HTTP. The
//! pipeline crate feeds it the reference data and the collected predictions,
//! and stores what it returns.

pub mod alerts;
pub mod drift;
pub mod stats;
pub mod window;

pub use alerts::{AlertMetric, AlertRule, Firing, Signals, evaluate};
pub use drift::{
    ColumnDrift, ColumnPair, ColumnStats, DriftConfig, DriftReport, DriftTest, Sample,
    column_drift, drift_report,
};
pub use window::{Latency, LiveQuality, PredictionDistribution};

#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    #[error("{0}")]
    Invalid(String),
}
