//! Monitoring records: services, the collected prediction log, late ground
//! truth, windows, alert rules, alerts and retrain decisions.

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::store::Store;
use crate::{Result, now_ms};

/// A stable endpoint (a gateway port) in front of a model's deployments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Service {
    pub name: String,
    pub model_name: String,
    pub port: i64,
    pub gateway_pid: Option<i64>,
    /// The gateway's start time (clock ticks after boot) and executable,
    /// checked before any signal.
    pub gateway_start: Option<i64>,
    pub gateway_exe: Option<String>,
    /// The per-spawn token of the gateway's admin API (never printed).
    #[serde(skip)]
    pub gateway_token: Option<String>,
    pub active_deployment_id: Option<String>,
    pub active_version: Option<i64>,
    pub previous_version: Option<i64>,
    pub dataset: Option<String>,
    pub scenario: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Service {
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// One collected prediction-log line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogRow {
    pub instance: String,
    pub seq: i64,
    pub deployment_id: String,
    pub service: Option<String>,
    /// `prediction` or `error`.
    pub kind: String,
    pub ts_ms: i64,
    pub model_version: String,
    pub endpoint: String,
    pub status: i64,
    pub latency_ms: f64,
    pub request_id: Option<String>,
    pub row_index: i64,
    /// JSON object of the input features (predictions only).
    pub features: Option<String>,
    /// JSON value of the output (predictions only).
    pub prediction: Option<String>,
    /// JSON value of the late ground truth, when it has arrived.
    #[serde(default)]
    pub label: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowRecord {
    pub window_id: i64,
    pub service: String,
    pub start_ms: i64,
    pub end_ms: i64,
    pub versions: String,
    pub requests: i64,
    pub errors: i64,
    pub error_rate: f64,
    pub latency_p50: Option<f64>,
    pub latency_p95: Option<f64>,
    pub latency_p99: Option<f64>,
    pub drift_share: Option<f64>,
    pub dataset_drift: Option<bool>,
    pub quality_metric: Option<String>,
    pub quality_value: Option<f64>,
    pub labelled: i64,
    /// JSON: per-feature drift, prediction distribution, target drift.
    pub detail: String,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRuleRecord {
    pub metric: String,
    pub threshold: f64,
    pub retrain: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRecord {
    pub alert_id: i64,
    pub service: String,
    pub window_id: i64,
    pub metric: String,
    pub value: f64,
    pub threshold: f64,
    pub message: String,
    /// JSON evidence: the window's numbers behind the alert.
    pub evidence: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetrainRecord {
    pub retrain_id: String,
    pub service: String,
    pub reason: String,
    pub champion_version: Option<i64>,
    pub challenger_run_id: Option<String>,
    pub challenger_version: Option<i64>,
    pub metric: Option<String>,
    pub champion_score: Option<f64>,
    pub challenger_score: Option<f64>,
    pub promoted: bool,
    pub detail: String,
    pub created_at: i64,
}

const SERVICE_COLS: &str = "name, model_name, port, gateway_pid, active_deployment_id, active_version, previous_version, dataset, scenario, created_at, updated_at, gateway_start, gateway_exe, gateway_token";

fn service_row(r: &rusqlite::Row) -> rusqlite::Result<Service> {
    Ok(Service {
        name: r.get(0)?,
        model_name: r.get(1)?,
        port: r.get(2)?,
        gateway_pid: r.get(3)?,
        active_deployment_id: r.get(4)?,
        active_version: r.get(5)?,
        previous_version: r.get(6)?,
        dataset: r.get(7)?,
        scenario: r.get(8)?,
        created_at: r.get(9)?,
        updated_at: r.get(10)?,
        gateway_start: r.get(11)?,
        gateway_exe: r.get(12)?,
        gateway_token: r.get(13)?,
    })
}

const WINDOW_COLS: &str = "window_id, service, start_ms, end_ms, versions, requests, errors, error_rate, latency_p50, latency_p95, latency_p99, drift_share, dataset_drift, quality_metric, quality_value, labelled, detail, updated_at";

fn window_row(r: &rusqlite::Row) -> rusqlite::Result<WindowRecord> {
    Ok(WindowRecord {
        window_id: r.get(0)?,
        service: r.get(1)?,
        start_ms: r.get(2)?,
        end_ms: r.get(3)?,
        versions: r.get(4)?,
        requests: r.get(5)?,
        errors: r.get(6)?,
        error_rate: r.get(7)?,
        latency_p50: r.get(8)?,
        latency_p95: r.get(9)?,
        latency_p99: r.get(10)?,
        drift_share: r.get(11)?,
        dataset_drift: r.get(12)?,
        quality_metric: r.get(13)?,
        quality_value: r.get(14)?,
        labelled: r.get(15)?,
        detail: r.get(16)?,
        updated_at: r.get(17)?,
    })
}

impl Store {
    // ------------------------------------------------------------- services

    /// Insert or replace a service.
    pub fn upsert_service(&self, s: &Service) -> Result<()> {
        self.conn.execute(
            &format!(
                "INSERT INTO services ({SERVICE_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
                 ON CONFLICT(name) DO UPDATE SET model_name = excluded.model_name, port = excluded.port,
                   gateway_pid = excluded.gateway_pid, active_deployment_id = excluded.active_deployment_id,
                   active_version = excluded.active_version, previous_version = excluded.previous_version,
                   dataset = excluded.dataset, scenario = excluded.scenario, updated_at = excluded.updated_at,
                   gateway_start = excluded.gateway_start, gateway_exe = excluded.gateway_exe,
                   gateway_token = excluded.gateway_token"
            ),
            params![
                s.name, s.model_name, s.port, s.gateway_pid, s.active_deployment_id, s.active_version,
                s.previous_version, s.dataset, s.scenario, s.created_at, s.updated_at,
                s.gateway_start, s.gateway_exe, s.gateway_token
            ],
        )?;
        Ok(())
    }

    pub fn service(&self, name: &str) -> Result<Option<Service>> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {SERVICE_COLS} FROM services WHERE name = ?1"),
                [name],
                service_row,
            )
            .optional()?)
    }

    pub fn list_services(&self) -> Result<Vec<Service>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {SERVICE_COLS} FROM services ORDER BY name"
        ))?;
        Ok(stmt
            .query_map([], service_row)?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// Record which service a deployment serves.
    pub fn set_deployment_service(&self, deployment_id: &str, service: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE deployments SET service = ?2 WHERE deployment_id = ?1",
            params![deployment_id, service],
        )?;
        Ok(())
    }

    /// The service a deployment serves, if any.
    pub fn deployment_service(&self, deployment_id: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT service FROM deployments WHERE deployment_id = ?1",
                [deployment_id],
                |r| r.get::<_, Option<String>>(0),
            )
            .optional()?
            .flatten())
    }

    // ---------------------------------------------------------- collection

    /// Store collected log lines; lines already stored (same instance and
    /// seq) are skipped. Returns how many were new. One transaction.
    pub fn insert_log_rows(&self, rows: &[LogRow]) -> Result<usize> {
        let tx = self.write_tx()?;
        let mut n = 0;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT OR IGNORE INTO prediction_log (instance, seq, deployment_id, service, kind, ts_ms,
                   model_version, endpoint, status, latency_ms, request_id, row_index, features, prediction)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            )?;
            for r in rows {
                n += stmt.execute(params![
                    r.instance,
                    r.seq,
                    r.deployment_id,
                    r.service,
                    r.kind,
                    r.ts_ms,
                    r.model_version,
                    r.endpoint,
                    r.status,
                    r.latency_ms,
                    r.request_id,
                    r.row_index,
                    r.features,
                    r.prediction
                ])?;
            }
        }
        tx.commit()?;
        Ok(n)
    }

    pub fn collection_cursor(&self, deployment_id: &str) -> Result<i64> {
        Ok(self
            .conn
            .query_row(
                "SELECT cursor FROM collection_cursors WHERE deployment_id = ?1",
                [deployment_id],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(0))
    }

    pub fn set_collection_cursor(&self, deployment_id: &str, cursor: i64) -> Result<()> {
        self.conn.execute(
            "INSERT INTO collection_cursors (deployment_id, cursor, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(deployment_id) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at",
            params![deployment_id, cursor, now_ms()],
        )?;
        Ok(())
    }

    pub fn insert_scrape(
        &self,
        deployment_id: &str,
        requests_total: f64,
        errors_total: f64,
        body: &str,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT INTO metric_scrapes (deployment_id, ts_ms, requests_total, errors_total, body)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![deployment_id, now_ms(), requests_total, errors_total, body],
        )?;
        Ok(())
    }

    /// Late ground truth: `(request_id, row, label JSON)`. A label already
    /// received is kept. Returns how many were new.
    pub fn insert_ground_truth(&self, labels: &[(String, i64, String)]) -> Result<usize> {
        let tx = self.write_tx()?;
        let mut n = 0;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT OR IGNORE INTO ground_truth (request_id, row_index, label, received_at)
                 VALUES (?1, ?2, ?3, ?4)",
            )?;
            let now = now_ms();
            for (id, row, label) in labels {
                n += stmt.execute(params![id, row, label, now])?;
            }
        }
        tx.commit()?;
        Ok(n)
    }

    /// Collected lines of a service with `start_ms <= ts < end_ms`, with
    /// their ground truth when it arrived, oldest first.
    pub fn log_rows(&self, service: &str, start_ms: i64, end_ms: i64) -> Result<Vec<LogRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT p.instance, p.seq, p.deployment_id, p.service, p.kind, p.ts_ms, p.model_version,
                    p.endpoint, p.status, p.latency_ms, p.request_id, p.row_index, p.features,
                    p.prediction, g.label
             FROM prediction_log p
             LEFT JOIN ground_truth g ON g.request_id = p.request_id AND g.row_index = p.row_index
             WHERE p.service = ?1 AND p.ts_ms >= ?2 AND p.ts_ms < ?3
             ORDER BY p.ts_ms, p.instance, p.seq",
        )?;
        Ok(stmt
            .query_map(params![service, start_ms, end_ms], |r| {
                Ok(LogRow {
                    instance: r.get(0)?,
                    seq: r.get(1)?,
                    deployment_id: r.get(2)?,
                    service: r.get(3)?,
                    kind: r.get(4)?,
                    ts_ms: r.get(5)?,
                    model_version: r.get(6)?,
                    endpoint: r.get(7)?,
                    status: r.get(8)?,
                    latency_ms: r.get(9)?,
                    request_id: r.get(10)?,
                    row_index: r.get(11)?,
                    features: r.get(12)?,
                    prediction: r.get(13)?,
                    label: r.get(14)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// How many lines of a service were collected with `start_ms <= ts < end_ms`.
    pub fn log_count(&self, service: &str, start_ms: i64, end_ms: i64) -> Result<i64> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM prediction_log WHERE service = ?1 AND ts_ms >= ?2 AND ts_ms < ?3",
            params![service, start_ms, end_ms],
            |r| r.get(0),
        )?)
    }

    /// The time span of a service's collected lines, if any.
    pub fn log_span(&self, service: &str) -> Result<Option<(i64, i64)>> {
        Ok(self.conn.query_row(
            "SELECT MIN(ts_ms), MAX(ts_ms) FROM prediction_log WHERE service = ?1",
            [service],
            |r| Ok(r.get::<_, Option<i64>>(0)?.zip(r.get::<_, Option<i64>>(1)?)),
        )?)
    }

    /// Collected lines per kind for a deployment: (predictions, errors).
    pub fn log_counts(&self, deployment_id: &str) -> Result<(i64, i64)> {
        Ok(self.conn.query_row(
            "SELECT COALESCE(SUM(kind = 'prediction'), 0), COALESCE(SUM(kind = 'error'), 0)
             FROM prediction_log WHERE deployment_id = ?1",
            [deployment_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    }

    // -------------------------------------------------------------- windows

    /// Insert a window, or update the one with the same service and span
    /// (re-evaluation after more lines arrive). Returns its id.
    pub fn upsert_window(&self, w: &WindowRecord) -> Result<i64> {
        Ok(self.conn.query_row(
            "INSERT INTO monitor_windows (service, start_ms, end_ms, versions, requests, errors, error_rate,
               latency_p50, latency_p95, latency_p99, drift_share, dataset_drift, quality_metric,
               quality_value, labelled, detail, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
             ON CONFLICT(service, start_ms, end_ms) DO UPDATE SET versions = excluded.versions,
               requests = excluded.requests, errors = excluded.errors, error_rate = excluded.error_rate,
               latency_p50 = excluded.latency_p50, latency_p95 = excluded.latency_p95,
               latency_p99 = excluded.latency_p99, drift_share = excluded.drift_share,
               dataset_drift = excluded.dataset_drift, quality_metric = excluded.quality_metric,
               quality_value = excluded.quality_value, labelled = excluded.labelled,
               detail = excluded.detail, updated_at = excluded.updated_at
             RETURNING window_id",
            params![
                w.service, w.start_ms, w.end_ms, w.versions, w.requests, w.errors, w.error_rate,
                w.latency_p50, w.latency_p95, w.latency_p99, w.drift_share, w.dataset_drift,
                w.quality_metric, w.quality_value, w.labelled, w.detail, now_ms()
            ],
            |r| r.get(0),
        )?)
    }

    /// A service's windows, oldest first.
    pub fn list_windows(&self, service: &str) -> Result<Vec<WindowRecord>> {
        self.list_windows_from(service, i64::MIN)
    }

    /// The service's windows starting at or after `from_ms`.
    pub fn list_windows_from(&self, service: &str, from_ms: i64) -> Result<Vec<WindowRecord>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {WINDOW_COLS} FROM monitor_windows WHERE service = ?1 AND start_ms >= ?2
             ORDER BY start_ms, end_ms"
        ))?;
        Ok(stmt
            .query_map(rusqlite::params![service, from_ms], window_row)?
            .collect::<rusqlite::Result<_>>()?)
    }

    // --------------------------------------------------------------- alerts

    /// The service's alert rules (empty: the caller applies defaults).
    pub fn alert_rules(&self, service: &str) -> Result<Vec<AlertRuleRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT metric, threshold, retrain FROM alert_rules WHERE service = ?1 ORDER BY metric",
        )?;
        Ok(stmt
            .query_map([service], |r| {
                Ok(AlertRuleRecord {
                    metric: r.get(0)?,
                    threshold: r.get(1)?,
                    retrain: r.get(2)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// Replace the service's alert rules. One transaction.
    pub fn set_alert_rules(&self, service: &str, rules: &[AlertRuleRecord]) -> Result<()> {
        let tx = self.write_tx()?;
        tx.execute("DELETE FROM alert_rules WHERE service = ?1", [service])?;
        for r in rules {
            tx.execute(
                "INSERT INTO alert_rules (service, metric, threshold, retrain) VALUES (?1, ?2, ?3, ?4)",
                params![service, r.metric, r.threshold, r.retrain],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Record an alert; `None` if this window already has one for the metric.
    pub fn insert_alert(&self, a: &AlertRecord) -> Result<Option<i64>> {
        let n = self.conn.execute(
            "INSERT OR IGNORE INTO alerts (service, window_id, metric, value, threshold, message, evidence, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![a.service, a.window_id, a.metric, a.value, a.threshold, a.message, a.evidence, now_ms()],
        )?;
        Ok((n == 1).then(|| self.conn.last_insert_rowid()))
    }

    /// A service's alerts, newest first.
    pub fn list_alerts(&self, service: &str) -> Result<Vec<AlertRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT alert_id, service, window_id, metric, value, threshold, message, evidence, created_at
             FROM alerts WHERE service = ?1 ORDER BY alert_id DESC",
        )?;
        Ok(stmt
            .query_map([service], |r| {
                Ok(AlertRecord {
                    alert_id: r.get(0)?,
                    service: r.get(1)?,
                    window_id: r.get(2)?,
                    metric: r.get(3)?,
                    value: r.get(4)?,
                    threshold: r.get(5)?,
                    message: r.get(6)?,
                    evidence: r.get(7)?,
                    created_at: r.get(8)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?)
    }

    // ------------------------------------------------------------- retrains

    pub fn insert_retrain(&self, r: &RetrainRecord) -> Result<()> {
        self.conn.execute(
            "INSERT INTO retrains (retrain_id, service, reason, champion_version, challenger_run_id,
               challenger_version, metric, champion_score, challenger_score, promoted, detail, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                r.retrain_id, r.service, r.reason, r.champion_version, r.challenger_run_id,
                r.challenger_version, r.metric, r.champion_score, r.challenger_score, r.promoted,
                r.detail, r.created_at
            ],
        )?;
        Ok(())
    }

    pub fn list_retrains(&self, service: &str) -> Result<Vec<RetrainRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT retrain_id, service, reason, champion_version, challenger_run_id, challenger_version,
                    metric, champion_score, challenger_score, promoted, detail, created_at
             FROM retrains WHERE service = ?1 ORDER BY created_at DESC",
        )?;
        Ok(stmt
            .query_map([service], |r| {
                Ok(RetrainRecord {
                    retrain_id: r.get(0)?,
                    service: r.get(1)?,
                    reason: r.get(2)?,
                    champion_version: r.get(3)?,
                    challenger_run_id: r.get(4)?,
                    challenger_version: r.get(5)?,
                    metric: r.get(6)?,
                    champion_score: r.get(7)?,
                    challenger_score: r.get(8)?,
                    promoted: r.get(9)?,
                    detail: r.get(10)?,
                    created_at: r.get(11)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?)
    }
}
