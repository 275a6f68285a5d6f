//! A live monitoring snapshot of a service, as the app's Monitoring view
//! shows it.

use lab_monitor::{AlertRule, ColumnDrift, DriftConfig, DriftReport};
use lab_store::{AlertRecord, WindowRecord, now_ms};
use serde::{Deserialize, Serialize};

use crate::files::WindowDetail;
use crate::lab::Lab;
use crate::monitor::MIN_DRIFT_ROWS;
use crate::settings::{MONITOR_HORIZON_MS, MONITOR_WINDOW_MS};
use crate::{PipelineError, Result};

/// A monitoring snapshot of a service: its recent windows (equal length,
/// clock-aligned, stored), the drift of every feature over the current
/// span, and its alerts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MonitorSnapshot {
    pub service: String,
    pub window_ms: i64,
    pub windows: Vec<WindowRecord>,
    /// The span the drift report covers.
    pub current_start_ms: i64,
    pub current_end_ms: i64,
    pub current: Option<WindowRecord>,
    pub drift: Option<DriftReport>,
    pub prediction_drift: Option<ColumnDrift>,
    pub alerts: Vec<AlertRecord>,
    pub rules: Vec<AlertRule>,
    pub collected: usize,
    /// Predictions a drift verdict needs.
    pub min_drift_rows: usize,
}

impl Lab {
    /// The live view's snapshot: [`MONITOR_WINDOW_MS`] windows over the
    /// last [`MONITOR_HORIZON_MS`], drift since `since_ms`.
    pub fn live_snapshot(&self, service: &str, since_ms: Option<i64>) -> Result<MonitorSnapshot> {
        self.monitor_snapshot(service, MONITOR_WINDOW_MS, MONITOR_HORIZON_MS, since_ms)
    }

    /// Collect `service`'s log, evaluate (and store) its `window_ms`
    /// windows over the last `horizon_ms`, and report drift over the span
    /// from `since_ms` (default: the last minute of its log) to now.
    pub fn monitor_snapshot(
        &self,
        service: &str,
        window_ms: i64,
        horizon_ms: i64,
        since_ms: Option<i64>,
    ) -> Result<MonitorSnapshot> {
        if window_ms < 1000 {
            return Err(PipelineError::Invalid(
                "a monitoring window is at least 1 s long".into(),
            ));
        }
        self.service(service)?;
        let cfg = DriftConfig::default();
        let collected = self.collect(service)?.new_records;
        let now = now_ms();
        let mut windows = vec![];
        let span = self.store.log_span(service)?;
        if let Some((first, last)) = span {
            let from = first.max(last - horizon_ms);
            let from = from - from.rem_euclid(window_ms);
            let stored: std::collections::BTreeMap<(i64, i64), WindowRecord> = self
                .store
                .list_windows_from(service, from)?
                .into_iter()
                .map(|w| ((w.start_ms, w.end_ms), w))
                .collect();
            let mut start = from;
            while start <= last {
                let end = start + window_ms;
                // Windows still open (or new) are evaluated; closed ones
                // stored before are read back.
                match stored.get(&(start, end)) {
                    Some(w) if w.updated_at > end + 2000 => windows.push(w.clone()),
                    _ => {
                        if self.store.log_count(service, start, end)? > 0 {
                            windows.push(self.evaluate_window(service, start, end, &cfg)?.window);
                        }
                    }
                }
                start = end;
            }
        }
        let (current_start_ms, current_end_ms) = match (since_ms, span) {
            (Some(s), _) => (s, now + 1),
            (None, Some((_, last))) => (last - 60_000, last + 1),
            (None, None) => (now - 60_000, now + 1),
        };
        let (current, drift, prediction_drift) = if span.is_some() {
            let (w, drift) =
                self.compute_window(service, current_start_ms, current_end_ms, &cfg)?;
            let pd = WindowDetail::parse(&w.detail).prediction_drift;
            (Some(w), drift, pd)
        } else {
            (None, None, None)
        };
        let mut alerts = self.store.list_alerts(service)?;
        alerts.sort_by_key(|a| std::cmp::Reverse(a.created_at));
        alerts.truncate(20);
        Ok(MonitorSnapshot {
            service: service.to_string(),
            window_ms,
            windows,
            current_start_ms,
            current_end_ms,
            current,
            drift,
            prediction_drift,
            alerts,
            rules: self.alert_rules(service)?,
            collected,
            min_drift_rows: MIN_DRIFT_ROWS,
        })
    }
}
