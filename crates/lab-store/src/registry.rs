//! The model registry: registered models, versions and aliases.

use std::collections::BTreeMap;

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::store::Store;
use crate::tracking::RunStatus;
use crate::{Result, StoreError, now_ms};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelVersion {
    pub name: String,
    pub version: i64,
    pub creation_time: i64,
    pub last_updated_time: i64,
    /// Artifact path relative to the lab home.
    pub source: String,
    pub run_id: String,
    pub status: String,
    pub aliases: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegisteredModel {
    pub name: String,
    pub creation_time: i64,
    pub last_updated_time: i64,
    pub description: String,
    pub latest_version: Option<i64>,
    pub aliases: BTreeMap<String, i64>,
}

impl Store {
    /// Register a new version of model `name` from `run_id`'s artifact at
    /// `source` (relative to the lab home), creating the registered model if
    /// needed. Returns the new version.
    pub fn create_model_version(
        &self,
        name: &str,
        run_id: &str,
        source: &str,
    ) -> Result<ModelVersion> {
        validate_model_name(name)?;
        let run = self.get_run(run_id)?;
        if run.status != RunStatus::Finished {
            return Err(StoreError::Invalid(format!(
                "run {run_id} is {}: only a FINISHED run can be registered",
                run.status
            )));
        }
        let path = self.home.confine(source)?;
        if !path.is_file() {
            return Err(StoreError::NotFound(format!(
                "model artifact {} of run {run_id}",
                path.display()
            )));
        }
        let now = now_ms();
        let tx = self.conn.unchecked_transaction()?;
        tx.execute(
            "INSERT INTO registered_models (name, creation_time, last_updated_time) VALUES (?1, ?2, ?2)
             ON CONFLICT (name) DO UPDATE SET last_updated_time = excluded.last_updated_time",
            params![name, now],
        )?;
        let version: i64 = tx.query_row(
            "SELECT COALESCE(MAX(version), 0) + 1 FROM model_versions WHERE name = ?1",
            [name],
            |r| r.get(0),
        )?;
        tx.execute(
            "INSERT INTO model_versions (name, version, creation_time, last_updated_time, source, run_id, status)
             VALUES (?1, ?2, ?3, ?3, ?4, ?5, 'READY')",
            params![name, version, now, source, run_id],
        )?;
        tx.commit()?;
        self.model_version(name, version)
    }

    pub fn model_version(&self, name: &str, version: i64) -> Result<ModelVersion> {
        let mut mv = self
            .conn
            .query_row(
                "SELECT name, version, creation_time, last_updated_time, source, run_id, status
                 FROM model_versions WHERE name = ?1 AND version = ?2",
                params![name, version],
                row_to_version,
            )
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("model `{name}` version {version}")))?;
        mv.aliases = self.aliases_of(name, version)?;
        Ok(mv)
    }

    fn aliases_of(&self, name: &str, version: i64) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT alias FROM registered_model_aliases WHERE name = ?1 AND version = ?2 ORDER BY alias",
        )?;
        Ok(stmt
            .query_map(params![name, version], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// Point `alias` of model `name` at `version` (moving it if it pointed
    /// elsewhere).
    pub fn set_alias(&self, name: &str, alias: &str, version: i64) -> Result<()> {
        validate_alias(alias)?;
        self.model_version(name, version)?;
        let tx = self.conn.unchecked_transaction()?;
        tx.execute(
            "INSERT INTO registered_model_aliases (name, alias, version) VALUES (?1, ?2, ?3)
             ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version",
            params![name, alias, version],
        )?;
        tx.execute(
            "UPDATE registered_models SET last_updated_time = ?2 WHERE name = ?1",
            params![name, now_ms()],
        )?;
        tx.commit()?;
        Ok(())
    }

    pub fn delete_alias(&self, name: &str, alias: &str) -> Result<()> {
        let n = self.conn.execute(
            "DELETE FROM registered_model_aliases WHERE name = ?1 AND alias = ?2",
            params![name, alias],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!(
                "alias `{alias}` of model `{name}`"
            )));
        }
        Ok(())
    }

    pub fn version_by_alias(&self, name: &str, alias: &str) -> Result<Option<ModelVersion>> {
        let v: Option<i64> = self
            .conn
            .query_row(
                "SELECT version FROM registered_model_aliases WHERE name = ?1 AND alias = ?2",
                params![name, alias],
                |r| r.get(0),
            )
            .optional()?;
        v.map(|v| self.model_version(name, v)).transpose()
    }

    pub fn list_registered_models(&self) -> Result<Vec<RegisteredModel>> {
        let mut stmt = self.conn.prepare(
            "SELECT m.name, m.creation_time, m.last_updated_time, m.description,
                    (SELECT MAX(version) FROM model_versions v WHERE v.name = m.name)
             FROM registered_models m ORDER BY m.name",
        )?;
        let mut models: Vec<RegisteredModel> = stmt
            .query_map([], |r| {
                Ok(RegisteredModel {
                    name: r.get(0)?,
                    creation_time: r.get(1)?,
                    last_updated_time: r.get(2)?,
                    description: r.get(3)?,
                    latest_version: r.get(4)?,
                    aliases: BTreeMap::new(),
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut a = self
            .conn
            .prepare("SELECT alias, version FROM registered_model_aliases WHERE name = ?1")?;
        for m in &mut models {
            m.aliases = a
                .query_map([&m.name], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
        }
        Ok(models)
    }

    pub fn list_model_versions(&self, name: &str) -> Result<Vec<ModelVersion>> {
        let mut stmt = self.conn.prepare(
            "SELECT name, version, creation_time, last_updated_time, source, run_id, status
             FROM model_versions WHERE name = ?1 ORDER BY version DESC",
        )?;
        let mut versions: Vec<ModelVersion> = stmt
            .query_map([name], row_to_version)?
            .collect::<rusqlite::Result<_>>()?;
        if versions.is_empty() {
            return Err(StoreError::NotFound(format!("registered model `{name}`")));
        }
        for v in &mut versions {
            v.aliases = self.aliases_of(&v.name, v.version)?;
        }
        Ok(versions)
    }
}

fn validate_model_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "model name `{name}`: use letters, digits, `-`, `_` and `.`, starting with a letter or digit"
        )))
    }
}

fn validate_alias(alias: &str) -> Result<()> {
    let digits = alias.strip_prefix('v').unwrap_or(alias);
    let looks_like_version = !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit());
    let ok = !alias.is_empty()
        && alias.len() <= 64
        && alias
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        && !looks_like_version;
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "alias `{alias}`: use letters, digits, `-` and `_`; an alias cannot look like a version (`3`, `v3`)"
        )))
    }
}

fn row_to_version(r: &rusqlite::Row<'_>) -> rusqlite::Result<ModelVersion> {
    Ok(ModelVersion {
        name: r.get(0)?,
        version: r.get(1)?,
        creation_time: r.get(2)?,
        last_updated_time: r.get(3)?,
        source: r.get(4)?,
        run_id: r.get(5)?,
        status: r.get(6)?,
        aliases: Vec::new(),
    })
}
