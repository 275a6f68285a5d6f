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
    pub description: String,
    /// `lab` (a model.json envelope lab-serve can serve) or `mlflow`
    /// (logged by MLflow's client, e.g. a pickled scikit-learn model).
    pub origin: String,
    /// The MLflow 3 logged model it was registered from.
    pub model_id: Option<String>,
    pub run_link: String,
    pub tags: BTreeMap<String, String>,
}

impl ModelVersion {
    /// True when lab-serve can serve it (MLOps Lab trained it).
    pub fn servable(&self) -> bool {
        self.origin == "lab"
    }
}

/// A model version as MLflow's client registers it.
#[derive(Debug, Clone, Default)]
pub struct NewModelVersion {
    pub name: String,
    /// As the client gave it (`models:/m-…`, `runs:/…`, a path).
    pub source: String,
    pub run_id: Option<String>,
    pub model_id: Option<String>,
    pub description: String,
    pub run_link: String,
    pub tags: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegisteredModel {
    pub name: String,
    pub creation_time: i64,
    pub last_updated_time: i64,
    pub description: String,
    pub latest_version: Option<i64>,
    pub aliases: BTreeMap<String, i64>,
    pub tags: BTreeMap<String, String>,
}

const VERSION_COLUMNS: &str = "name, version, creation_time, last_updated_time, source, run_id, status, description, origin, model_id, run_link";

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
        let tx = self.write_tx()?;
        tx.execute(
            "INSERT INTO registered_models (name, creation_time, last_updated_time) VALUES (?1, ?2, ?2)
             ON CONFLICT (name) DO UPDATE SET last_updated_time = excluded.last_updated_time",
            params![name, now],
        )?;
        let version = next_version(&tx, name)?;
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
                &format!(
                    "SELECT {VERSION_COLUMNS} FROM model_versions WHERE name = ?1 AND version = ?2"
                ),
                params![name, version],
                row_to_version,
            )
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("model `{name}` version {version}")))?;
        mv.aliases = self.aliases_of(name, version)?;
        mv.tags = self.version_tags(name, version)?;
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
        let tx = self.write_tx()?;
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
                    tags: BTreeMap::new(),
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut a = self
            .conn
            .prepare("SELECT alias, version FROM registered_model_aliases WHERE name = ?1")?;
        let mut t = self
            .conn
            .prepare("SELECT key, value FROM registered_model_tags WHERE name = ?1")?;
        for m in &mut models {
            m.aliases = a
                .query_map([&m.name], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            m.tags = t
                .query_map([&m.name], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
        }
        Ok(models)
    }

    pub fn list_model_versions(&self, name: &str) -> Result<Vec<ModelVersion>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {VERSION_COLUMNS} FROM model_versions WHERE name = ?1 ORDER BY version DESC"
        ))?;
        let mut versions: Vec<ModelVersion> = stmt
            .query_map([name], row_to_version)?
            .collect::<rusqlite::Result<_>>()?;
        if versions.is_empty() {
            return Err(StoreError::NotFound(format!("registered model `{name}`")));
        }
        for v in &mut versions {
            v.aliases = self.aliases_of(&v.name, v.version)?;
            v.tags = self.version_tags(&v.name, v.version)?;
        }
        Ok(versions)
    }
}

/// The next version number of `name`, taken for good: a deleted version's
/// number is never given again.
fn next_version(tx: &rusqlite::Transaction<'_>, name: &str) -> Result<i64> {
    Ok(tx.query_row(
        "UPDATE registered_models SET last_version = MAX(last_version,
             (SELECT COALESCE(MAX(version), 0) FROM model_versions WHERE name = ?1)) + 1
         WHERE name = ?1 RETURNING last_version",
        [name],
        |r| r.get(0),
    )?)
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
        description: r.get(7)?,
        origin: r.get(8)?,
        model_id: r.get(9)?,
        run_link: r.get(10)?,
        tags: BTreeMap::new(),
    })
}

// What MLflow's registry API adds: models created empty, descriptions,
// renames, deletes, tags, and versions registered from MLflow's own model
// format.
impl Store {
    pub fn create_registered_model(
        &self,
        name: &str,
        description: &str,
        tags: &[(String, String)],
    ) -> Result<RegisteredModel> {
        validate_model_name(name)?;
        let now = now_ms();
        let tx = self.write_tx()?;
        let exists: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM registered_models WHERE name = ?1)",
            [name],
            |r| r.get(0),
        )?;
        if exists {
            return Err(StoreError::AlreadyExists(format!(
                "Registered Model (name={name}) already exists."
            )));
        }
        tx.execute(
            "INSERT INTO registered_models (name, creation_time, last_updated_time, description) VALUES (?1, ?2, ?2, ?3)",
            params![name, now, description],
        )?;
        for (k, v) in tags {
            tx.execute(
                "INSERT OR REPLACE INTO registered_model_tags (name, key, value) VALUES (?1, ?2, ?3)",
                params![name, k, v],
            )?;
        }
        tx.commit()?;
        self.registered_model(name)
    }

    pub fn registered_model(&self, name: &str) -> Result<RegisteredModel> {
        self.list_registered_models()?
            .into_iter()
            .find(|m| m.name == name)
            .ok_or_else(|| StoreError::NotFound(format!("Registered Model with name={name}")))
    }

    fn require_model(&self, name: &str) -> Result<()> {
        let exists: bool = self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM registered_models WHERE name = ?1)",
            [name],
            |r| r.get(0),
        )?;
        if exists {
            Ok(())
        } else {
            Err(StoreError::NotFound(format!(
                "Registered Model with name={name}"
            )))
        }
    }

    pub fn set_registered_model_description(&self, name: &str, description: &str) -> Result<()> {
        self.require_model(name)?;
        self.conn.execute(
            "UPDATE registered_models SET description = ?2, last_updated_time = ?3 WHERE name = ?1",
            params![name, description, now_ms()],
        )?;
        Ok(())
    }

    /// What serves model `name` (a service or a running deployment), if
    /// anything: such a model is not renamed or deleted under it.
    fn serving(&self, name: &str, version: Option<i64>) -> Result<Option<String>> {
        let deployment: Option<String> = self
            .conn
            .query_row(
                "SELECT name FROM deployments WHERE model_name = ?1 AND status = 'running'
                 AND (?2 IS NULL OR model_version = ?2) LIMIT 1",
                params![name, version],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(d) = deployment {
            return Ok(Some(format!("deployment `{d}`")));
        }
        // A service keeps its active and previous versions for rollback.
        let service: Option<String> = self
            .conn
            .query_row(
                "SELECT name FROM services WHERE model_name = ?1
                 AND (?2 IS NULL OR active_version = ?2 OR previous_version = ?2) LIMIT 1",
                params![name, version],
                |r| r.get(0),
            )
            .optional()?;
        Ok(service.map(|s| format!("service `{s}` (it serves or rolls back to it)")))
    }

    pub fn rename_registered_model(&self, name: &str, new_name: &str) -> Result<RegisteredModel> {
        validate_model_name(new_name)?;
        self.require_model(name)?;
        if let Some(what) = self.serving(name, None)? {
            return Err(StoreError::Invalid(format!(
                "model `{name}` is served by {what}: stop it before renaming the model"
            )));
        }
        let tx = self.write_tx()?;
        let exists: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM registered_models WHERE name = ?1)",
            [new_name],
            |r| r.get(0),
        )?;
        if exists {
            return Err(StoreError::AlreadyExists(format!(
                "Registered Model (name={new_name}) already exists."
            )));
        }
        // The foreign keys are checked at commit, once every table agrees.
        tx.execute_batch("PRAGMA defer_foreign_keys = ON")?;
        for table in [
            "registered_models",
            "model_versions",
            "registered_model_aliases",
            "registered_model_tags",
            "model_version_tags",
        ] {
            tx.execute(
                &format!("UPDATE {table} SET name = ?2 WHERE name = ?1"),
                params![name, new_name],
            )?;
        }
        tx.execute(
            "UPDATE services SET model_name = ?2 WHERE model_name = ?1",
            params![name, new_name],
        )?;
        tx.execute(
            "UPDATE registered_models SET last_updated_time = ?2 WHERE name = ?1",
            params![new_name, now_ms()],
        )?;
        tx.commit()?;
        self.registered_model(new_name)
    }

    /// Delete a model with its versions, aliases and tags (artifacts stay
    /// with their runs).
    pub fn delete_registered_model(&self, name: &str) -> Result<()> {
        self.require_model(name)?;
        if let Some(what) = self.serving(name, None)? {
            return Err(StoreError::Invalid(format!(
                "model `{name}` is served by {what}: stop it before deleting the model"
            )));
        }
        self.conn
            .execute("DELETE FROM registered_models WHERE name = ?1", [name])?;
        Ok(())
    }

    pub fn set_registered_model_tag(&self, name: &str, key: &str, value: &str) -> Result<()> {
        self.require_model(name)?;
        self.conn.execute(
            "INSERT OR REPLACE INTO registered_model_tags (name, key, value) VALUES (?1, ?2, ?3)",
            params![name, key, value],
        )?;
        Ok(())
    }

    pub fn delete_registered_model_tag(&self, name: &str, key: &str) -> Result<()> {
        self.require_model(name)?;
        let n = self.conn.execute(
            "DELETE FROM registered_model_tags WHERE name = ?1 AND key = ?2",
            params![name, key],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!(
                "tag `{key}` of model `{name}`"
            )));
        }
        Ok(())
    }

    /// Register a version from MLflow's client. The registered model must
    /// exist (the client creates it first); the version is READY at once,
    /// since the artifacts are already on this machine.
    pub fn create_mlflow_model_version(&self, new: &NewModelVersion) -> Result<ModelVersion> {
        self.require_model(&new.name)?;
        let run_id = match (&new.run_id, &new.model_id) {
            (Some(r), _) if !r.is_empty() => r.clone(),
            (_, Some(m)) => self.logged_model(m)?.source_run_id.ok_or_else(|| {
                StoreError::Invalid(format!(
                    "logged model {m} has no source run: MLOps Lab registers versions of runs; log the model inside a run"
                ))
            })?,
            _ => {
                return Err(StoreError::Invalid(
                    "a model version needs its run: pass run_id (MLOps Lab registers versions of runs)".into(),
                ));
            }
        };
        self.get_run(&run_id)?;
        if let Some(m) = &new.model_id {
            let model = self.logged_model(m)?;
            if model.lifecycle_stage != "active" {
                return Err(StoreError::NotFound(format!(
                    "logged model `{m}` (it was deleted)"
                )));
            }
        }
        let now = now_ms();
        let tx = self.write_tx()?;
        let version = next_version(&tx, &new.name)?;
        tx.execute(
            "INSERT INTO model_versions (name, version, creation_time, last_updated_time, source, run_id, status, description, origin, model_id, run_link)
             VALUES (?1, ?2, ?3, ?3, ?4, ?5, 'READY', ?6, 'mlflow', ?7, ?8)",
            params![new.name, version, now, new.source, run_id, new.description, new.model_id, new.run_link],
        )?;
        for (k, v) in &new.tags {
            tx.execute(
                "INSERT OR REPLACE INTO model_version_tags (name, version, key, value) VALUES (?1, ?2, ?3, ?4)",
                params![new.name, version, k, v],
            )?;
        }
        tx.execute(
            "UPDATE registered_models SET last_updated_time = ?2 WHERE name = ?1",
            params![new.name, now],
        )?;
        tx.commit()?;
        self.model_version(&new.name, version)
    }

    pub fn set_model_version_description(
        &self,
        name: &str,
        version: i64,
        description: &str,
    ) -> Result<()> {
        self.model_version(name, version)?;
        self.conn.execute(
            "UPDATE model_versions SET description = ?3, last_updated_time = ?4 WHERE name = ?1 AND version = ?2",
            params![name, version, description, now_ms()],
        )?;
        Ok(())
    }

    pub fn delete_model_version(&self, name: &str, version: i64) -> Result<()> {
        self.model_version(name, version)?;
        if let Some(what) = self.serving(name, Some(version))? {
            return Err(StoreError::Invalid(format!(
                "version {version} of `{name}` is served by {what}: stop it before deleting the version"
            )));
        }
        self.conn.execute(
            "DELETE FROM model_versions WHERE name = ?1 AND version = ?2",
            params![name, version],
        )?;
        Ok(())
    }

    fn version_tags(&self, name: &str, version: i64) -> Result<BTreeMap<String, String>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT key, value FROM model_version_tags WHERE name = ?1 AND version = ?2",
        )?;
        Ok(stmt
            .query_map(params![name, version], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?)
    }

    pub fn set_model_version_tag(
        &self,
        name: &str,
        version: i64,
        key: &str,
        value: &str,
    ) -> Result<()> {
        self.model_version(name, version)?;
        self.conn.execute(
            "INSERT OR REPLACE INTO model_version_tags (name, version, key, value) VALUES (?1, ?2, ?3, ?4)",
            params![name, version, key, value],
        )?;
        Ok(())
    }

    pub fn delete_model_version_tag(&self, name: &str, version: i64, key: &str) -> Result<()> {
        self.model_version(name, version)?;
        let n = self.conn.execute(
            "DELETE FROM model_version_tags WHERE name = ?1 AND version = ?2 AND key = ?3",
            params![name, version, key],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!(
                "tag `{key}` of model `{name}` version {version}"
            )));
        }
        Ok(())
    }

    /// Every version of every model (for search).
    pub fn all_model_versions(&self) -> Result<Vec<ModelVersion>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {VERSION_COLUMNS} FROM model_versions ORDER BY name, version DESC"
        ))?;
        let mut versions: Vec<ModelVersion> = stmt
            .query_map([], row_to_version)?
            .collect::<rusqlite::Result<_>>()?;
        for v in &mut versions {
            v.aliases = self.aliases_of(&v.name, v.version)?;
            v.tags = self.version_tags(&v.name, v.version)?;
        }
        Ok(versions)
    }
}
