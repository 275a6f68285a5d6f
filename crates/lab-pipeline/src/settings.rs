//! The choices every front end offers, decided once here: the pipeline's
//! default scenario, the traffic form's values and bounds, and the live
//! monitoring view's window and horizon.

use serde::{Deserialize, Serialize};

use crate::monitor::MIN_DRIFT_ROWS;
use crate::pipeline::DEFAULT_SCENARIO;
use crate::traffic::{MAX_TRAFFIC_REQUESTS, MAX_TRAFFIC_RPS, TrafficMix};

/// The live monitoring view's window length.
pub const MONITOR_WINDOW_MS: i64 = 2_000;
/// How far back the live monitoring view shows windows.
pub const MONITOR_HORIZON_MS: i64 = 10 * 60_000;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    pub default_scenario: String,
    /// Predictions a drift verdict needs.
    pub min_drift_rows: usize,
    pub monitor_window_ms: i64,
    pub monitor_horizon_ms: i64,
    pub traffic: TrafficSettings,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrafficSettings {
    pub mixes: Vec<MixChoice>,
    pub default_mix: TrafficMix,
    pub default_rps: f64,
    pub max_rps: f64,
    pub default_requests: usize,
    pub max_requests: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MixChoice {
    pub value: TrafficMix,
    pub label: String,
}

impl Default for Settings {
    fn default() -> Self {
        let mix = |value, label: &str| MixChoice {
            value,
            label: label.into(),
        };
        Settings {
            default_scenario: DEFAULT_SCENARIO.into(),
            min_drift_rows: MIN_DRIFT_ROWS,
            monitor_window_ms: MONITOR_WINDOW_MS,
            monitor_horizon_ms: MONITOR_HORIZON_MS,
            traffic: TrafficSettings {
                mixes: vec![
                    mix(TrafficMix::Reference, "reference rows"),
                    mix(TrafficMix::Drift, "drifted rows"),
                    mix(TrafficMix::Shift, "reference → drifted"),
                ],
                default_mix: TrafficMix::Drift,
                default_rps: 50.0,
                max_rps: MAX_TRAFFIC_RPS,
                default_requests: 1000,
                max_requests: MAX_TRAFFIC_REQUESTS,
            },
        }
    }
}
