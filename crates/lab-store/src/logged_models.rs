//! MLflow 3 logged models: a model's own record (name, status, params,
//! tags, metrics) apart from the run that logged it, with its artifacts in
//! a folder under the experiment's.

use std::collections::BTreeMap;

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::store::Store;
use crate::tracking::ViewType;
use crate::{Result, StoreError, now_ms};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LoggedModelStatus {
    #[serde(rename = "LOGGED_MODEL_PENDING")]
    Pending,
    #[serde(rename = "LOGGED_MODEL_READY")]
    Ready,
    #[serde(rename = "LOGGED_MODEL_UPLOAD_FAILED")]
    UploadFailed,
}

impl LoggedModelStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LoggedModelStatus::Pending => "LOGGED_MODEL_PENDING",
            LoggedModelStatus::Ready => "LOGGED_MODEL_READY",
            LoggedModelStatus::UploadFailed => "LOGGED_MODEL_UPLOAD_FAILED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "LOGGED_MODEL_PENDING" => Some(LoggedModelStatus::Pending),
            "LOGGED_MODEL_READY" => Some(LoggedModelStatus::Ready),
            "LOGGED_MODEL_UPLOAD_FAILED" => Some(LoggedModelStatus::UploadFailed),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedModelMetric {
    pub key: String,
    pub value: f64,
    pub timestamp: i64,
    pub step: i64,
    pub run_id: Option<String>,
    pub dataset_name: String,
    pub dataset_digest: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedModel {
    pub model_id: String,
    pub experiment_id: String,
    pub name: String,
    /// Relative to the lab home.
    pub artifact_location: String,
    pub creation_time: i64,
    pub last_updated_time: i64,
    pub status: LoggedModelStatus,
    pub status_message: String,
    pub lifecycle_stage: String,
    pub model_type: String,
    pub source_run_id: Option<String>,
    pub user_id: String,
    pub tags: BTreeMap<String, String>,
    pub params: BTreeMap<String, String>,
    pub metrics: Vec<LoggedModelMetric>,
}

/// What MLflow's client sends to create a logged model.
#[derive(Debug, Clone, Default)]
pub struct NewLoggedModel {
    pub experiment_id: String,
    pub name: Option<String>,
    pub model_type: String,
    pub source_run_id: Option<String>,
    pub params: Vec<(String, String)>,
    pub tags: Vec<(String, String)>,
}

const COLUMNS: &str = "model_id, experiment_id, name, artifact_location, creation_time, last_updated_time, status, status_message, lifecycle_stage, model_type, source_run_id, user_id";

impl Store {
    /// Create a PENDING logged model; its artifacts go in
    /// `<experiment>/models/<model_id>/artifacts`.
    pub fn create_logged_model(&self, new: &NewLoggedModel) -> Result<LoggedModel> {
        let exp = self.experiment(&new.experiment_id)?;
        if exp.lifecycle_stage != "active" {
            return Err(StoreError::Invalid(format!(
                "experiment `{}` is deleted: restore it before logging models in it",
                exp.name
            )));
        }
        if let Some(run) = &new.source_run_id {
            self.get_run(run)?;
        }
        let model_id = format!("m-{}", uuid::Uuid::new_v4().simple());
        let name = new
            .name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| "model".to_string());
        let location = format!("{}/models/{model_id}/artifacts", exp.artifact_location);
        self.home.confine(&location)?;
        let now = now_ms();
        let tx = self.write_tx()?;
        tx.execute(
            "INSERT INTO logged_models (model_id, experiment_id, name, artifact_location, creation_time, last_updated_time, status, model_type, source_run_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5, 'LOGGED_MODEL_PENDING', ?6, ?7)",
            params![model_id, exp.experiment_id, name, location, now, new.model_type, new.source_run_id],
        )?;
        for (k, v) in &new.params {
            tx.execute(
                "INSERT OR REPLACE INTO logged_model_params (model_id, key, value) VALUES (?1, ?2, ?3)",
                params![model_id, k, v],
            )?;
        }
        for (k, v) in &new.tags {
            tx.execute(
                "INSERT OR REPLACE INTO logged_model_tags (model_id, key, value) VALUES (?1, ?2, ?3)",
                params![model_id, k, v],
            )?;
        }
        tx.commit()?;
        self.logged_model(&model_id)
    }

    pub fn logged_model(&self, model_id: &str) -> Result<LoggedModel> {
        let model = self
            .conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM logged_models WHERE model_id = ?1"),
                [model_id],
                row_to_model,
            )
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("logged model `{model_id}`")))?;
        self.fill_model(model)
    }

    fn fill_model(&self, mut m: LoggedModel) -> Result<LoggedModel> {
        let mut t = self
            .conn
            .prepare_cached("SELECT key, value FROM logged_model_tags WHERE model_id = ?1")?;
        m.tags = t
            .query_map([&m.model_id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut p = self
            .conn
            .prepare_cached("SELECT key, value FROM logged_model_params WHERE model_id = ?1")?;
        m.params = p
            .query_map([&m.model_id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut x = self.conn.prepare_cached(
            "SELECT key, value, timestamp, step, run_id, dataset_name, dataset_digest
             FROM logged_model_metrics WHERE model_id = ?1 ORDER BY key",
        )?;
        m.metrics = x
            .query_map([&m.model_id], |r| {
                Ok(LoggedModelMetric {
                    key: r.get(0)?,
                    value: r.get(1)?,
                    timestamp: r.get(2)?,
                    step: r.get(3)?,
                    run_id: r.get(4)?,
                    dataset_name: r.get(5)?,
                    dataset_digest: r.get(6)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(m)
    }

    /// Finalize (READY or UPLOAD_FAILED).
    pub fn set_logged_model_status(
        &self,
        model_id: &str,
        status: LoggedModelStatus,
    ) -> Result<LoggedModel> {
        let n = self.conn.execute(
            "UPDATE logged_models SET status = ?2, last_updated_time = ?3 WHERE model_id = ?1",
            params![model_id, status.as_str(), now_ms()],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("logged model `{model_id}`")));
        }
        self.logged_model(model_id)
    }

    pub fn delete_logged_model(&self, model_id: &str) -> Result<()> {
        let n = self.conn.execute(
            "UPDATE logged_models SET lifecycle_stage = 'deleted', last_updated_time = ?2 WHERE model_id = ?1",
            params![model_id, now_ms()],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("logged model `{model_id}`")));
        }
        Ok(())
    }

    pub fn set_logged_model_tags(&self, model_id: &str, tags: &[(String, String)]) -> Result<()> {
        self.logged_model(model_id)?;
        let tx = self.write_tx()?;
        for (k, v) in tags {
            tx.execute(
                "INSERT OR REPLACE INTO logged_model_tags (model_id, key, value) VALUES (?1, ?2, ?3)",
                params![model_id, k, v],
            )?;
        }
        tx.execute(
            "UPDATE logged_models SET last_updated_time = ?2 WHERE model_id = ?1",
            params![model_id, now_ms()],
        )?;
        tx.commit()?;
        Ok(())
    }

    pub fn delete_logged_model_tag(&self, model_id: &str, key: &str) -> Result<()> {
        self.logged_model(model_id)?;
        let n = self.conn.execute(
            "DELETE FROM logged_model_tags WHERE model_id = ?1 AND key = ?2",
            params![model_id, key],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!(
                "tag `{key}` of logged model {model_id}"
            )));
        }
        Ok(())
    }

    /// Log params on a model; like a run's, a param never changes value.
    pub fn log_logged_model_params(
        &self,
        model_id: &str,
        params_: &[(String, String)],
    ) -> Result<()> {
        self.logged_model(model_id)?;
        let tx = self.write_tx()?;
        for (k, v) in params_ {
            let old: Option<String> = tx
                .query_row(
                    "SELECT value FROM logged_model_params WHERE model_id = ?1 AND key = ?2",
                    params![model_id, k],
                    |r| r.get(0),
                )
                .optional()?;
            match old {
                Some(o) if &o == v => {}
                Some(o) => {
                    return Err(StoreError::Invalid(format!(
                        "param `{k}` of logged model {model_id} is already `{o}`; params cannot change"
                    )));
                }
                None => {
                    tx.execute(
                        "INSERT INTO logged_model_params (model_id, key, value) VALUES (?1, ?2, ?3)",
                        params![model_id, k, v],
                    )?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The logged models of `experiment_ids` that `view` admits, oldest first.
    pub fn logged_models_in(
        &self,
        experiment_ids: &[String],
        view: ViewType,
    ) -> Result<Vec<LoggedModel>> {
        let mut out = Vec::new();
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM logged_models WHERE experiment_id = ?1 ORDER BY creation_time, model_id"
        ))?;
        for id in experiment_ids {
            let models: Vec<LoggedModel> = stmt
                .query_map([id], row_to_model)?
                .collect::<rusqlite::Result<_>>()?;
            for m in models {
                if view.admits(&m.lifecycle_stage) {
                    out.push(self.fill_model(m)?);
                }
            }
        }
        Ok(out)
    }
}

fn row_to_model(r: &rusqlite::Row<'_>) -> rusqlite::Result<LoggedModel> {
    let status: String = r.get(6)?;
    Ok(LoggedModel {
        model_id: r.get(0)?,
        experiment_id: r.get(1)?,
        name: r.get(2)?,
        artifact_location: r.get(3)?,
        creation_time: r.get(4)?,
        last_updated_time: r.get(5)?,
        status: LoggedModelStatus::parse(&status).unwrap_or(LoggedModelStatus::UploadFailed),
        status_message: r.get(7)?,
        lifecycle_stage: r.get(8)?,
        model_type: r.get(9)?,
        source_run_id: r.get(10)?,
        user_id: r.get(11)?,
        tags: BTreeMap::new(),
        params: BTreeMap::new(),
        metrics: Vec::new(),
    })
}
