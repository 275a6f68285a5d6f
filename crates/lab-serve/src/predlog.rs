//! The prediction log: one JSON line per prediction on stdout.
//!
//! Each line holds the input features, the output, the model name and
//! version, the request latency and a timestamp, plus `instance` (a random
//! id per server start) and `seq` (1, 2, 3, … within the instance), so a
//! collector reading `docker logs` can deduplicate across restarts.
//!
//! No record is lost under load: handlers hand lines to a bounded channel and
//! wait when it is full (back-pressure), and shutdown drains and flushes it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use lab_model::{ModelArtifact, Prediction, Value};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncWrite, AsyncWriteExt, BufWriter};
use tokio::sync::{mpsc, oneshot};

use crate::ServerConfig;

/// One line of the prediction log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictionRecord {
    /// Always `prediction`: other tools can tell these lines apart.
    #[serde(rename = "type")]
    pub kind: String,
    pub ts_ms: i64,
    pub instance: String,
    pub seq: u64,
    pub model: String,
    pub version: String,
    pub endpoint: String,
    pub features: serde_json::Map<String, serde_json::Value>,
    pub prediction: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probabilities: Option<Vec<f64>>,
    pub latency_ms: f64,
    /// The caller's `X-Request-Id` (or the OIP request `id`), so late
    /// ground truth can be joined to the prediction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The row's index within its request (0 for single-row requests).
    #[serde(default)]
    pub row: u32,
}

/// One line of the prediction log for a prediction request that failed
/// (status 4xx/5xx): monitoring counts errors from the same stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorRecord {
    /// Always `error`.
    #[serde(rename = "type")]
    pub kind: String,
    pub ts_ms: i64,
    pub instance: String,
    pub seq: u64,
    pub model: String,
    pub version: String,
    pub endpoint: String,
    pub status: u16,
    pub latency_ms: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// The request a batch of predictions answered.
pub(crate) struct Served<'a> {
    pub endpoint: &'a str,
    pub latency_ms: f64,
    pub request_id: Option<&'a str>,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

enum Msg {
    Lines(String),
    Flush(oneshot::Sender<()>),
}

#[derive(Clone)]
pub struct PredLog {
    tx: Option<mpsc::Sender<Msg>>,
    instance: Arc<str>,
    seq: Arc<AtomicU64>,
}

impl PredLog {
    /// Lines go to stdout.
    pub fn stdout() -> Self {
        Self::to_writer(tokio::io::stdout())
    }

    /// Lines go to `w` (tests use an in-memory pipe).
    pub fn to_writer<W: AsyncWrite + Unpin + Send + 'static>(w: W) -> Self {
        let (tx, mut rx) = mpsc::channel::<Msg>(1024);
        tokio::spawn(async move {
            let mut out = BufWriter::with_capacity(64 * 1024, w);
            while let Some(msg) = rx.recv().await {
                let mut pending = Some(msg);
                // Write everything queued, then flush once.
                while let Some(m) = pending.take() {
                    match m {
                        Msg::Lines(s) => {
                            if out.write_all(s.as_bytes()).await.is_err() {
                                tracing::error!("cannot write the prediction log");
                            }
                        }
                        Msg::Flush(done) => {
                            let _ = out.flush().await;
                            let _ = done.send(());
                        }
                    }
                    pending = rx.try_recv().ok();
                }
                let _ = out.flush().await;
            }
            let _ = out.flush().await;
        });
        PredLog {
            tx: Some(tx),
            instance: uuid::Uuid::new_v4().simple().to_string().into(),
            seq: Arc::new(AtomicU64::new(0)),
        }
    }

    /// No log (benchmarks of the bare model path).
    pub fn disabled() -> Self {
        PredLog {
            tx: None,
            instance: "disabled".into(),
            seq: Arc::new(AtomicU64::new(0)),
        }
    }

    pub fn instance(&self) -> &str {
        &self.instance
    }

    pub(crate) async fn record(
        &self,
        artifact: &ModelArtifact,
        cfg: &ServerConfig,
        request: Served<'_>,
        rows: &[Vec<Value>],
        preds: &[Prediction],
    ) {
        let Served {
            endpoint,
            latency_ms,
            request_id,
        } = request;
        let Some(tx) = &self.tx else { return };
        let ts_ms = now_ms();
        let names = artifact.preprocessor.input_names();
        let first = self.seq.fetch_add(rows.len() as u64, Ordering::SeqCst) + 1;
        let mut lines = String::with_capacity(rows.len() * 256);
        for (i, (row, pred)) in rows.iter().zip(preds).enumerate() {
            let features = names
                .iter()
                .zip(row)
                .map(|(n, v)| (n.to_string(), v.to_json()))
                .collect();
            let prediction = pred.output_json();
            let probabilities = match pred {
                Prediction::Class { probabilities, .. } => probabilities.clone(),
                _ => None,
            };
            let rec = PredictionRecord {
                kind: "prediction".into(),
                ts_ms,
                instance: self.instance.to_string(),
                seq: first + i as u64,
                model: cfg.model_name.clone(),
                version: cfg.model_version.clone(),
                endpoint: endpoint.to_string(),
                features,
                prediction,
                probabilities,
                latency_ms,
                request_id: request_id.map(str::to_string),
                row: i as u32,
            };
            if let Ok(s) = serde_json::to_string(&rec) {
                lines.push_str(&s);
                lines.push('\n');
            }
        }
        // Waits when the channel is full: back-pressure, never a dropped line.
        let _ = tx.send(Msg::Lines(lines)).await;
    }

    /// Log a failed prediction request.
    pub(crate) async fn record_error(
        &self,
        cfg: &ServerConfig,
        endpoint: &str,
        status: u16,
        latency_ms: f64,
        request_id: Option<String>,
    ) {
        let Some(tx) = &self.tx else { return };
        let rec = ErrorRecord {
            kind: "error".into(),
            ts_ms: now_ms(),
            instance: self.instance.to_string(),
            seq: self.seq.fetch_add(1, Ordering::SeqCst) + 1,
            model: cfg.model_name.clone(),
            version: cfg.model_version.clone(),
            endpoint: endpoint.to_string(),
            status,
            latency_ms,
            request_id,
        };
        if let Ok(mut s) = serde_json::to_string(&rec) {
            s.push('\n');
            let _ = tx.send(Msg::Lines(s)).await;
        }
    }

    /// Wait until every line handed over so far is written and flushed.
    pub async fn flush(&self) {
        if let Some(tx) = &self.tx {
            let (done, wait) = oneshot::channel();
            if tx.send(Msg::Flush(done)).await.is_ok() {
                let _ = wait.await;
            }
        }
    }
}
