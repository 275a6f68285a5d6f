//! The model registry: register a run's model, aliases, resolve a model
//! reference, promote a champion, and the registry as front ends show it.

use lab_model::ModelArtifact;
use lab_store::{ModelVersion, RegisteredModel, Service};
use serde::{Deserialize, Serialize};

use crate::events::Event;
use crate::lab::Lab;
use crate::request::ModelRef;
use crate::service::RolloutResult;
use crate::{PipelineError, Result};

/// A registered model as the Models views show it: its versions (newest
/// first) with the run each came from, and the service serving it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelSummary {
    #[serde(flatten)]
    pub model: RegisteredModel,
    pub versions: Vec<VersionSummary>,
    pub service: Option<ServedBy>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VersionSummary {
    #[serde(flatten)]
    pub version: ModelVersion,
    pub run_name: String,
    /// Up to four headline metrics of its run (test split).
    pub metrics: Vec<(String, f64)>,
    /// Whether the lab's server can serve it (false for a model MLflow's
    /// client logged).
    pub servable: bool,
}

/// The service serving a model, with its stable endpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServedBy {
    #[serde(flatten)]
    pub service: Service,
    pub endpoint: String,
}

impl Lab {
    /// Every registered model with its versions, their runs and the
    /// service serving it.
    pub fn model_summaries(&self) -> Result<Vec<ModelSummary>> {
        let services = self.store.list_services()?;
        self.store
            .list_registered_models()?
            .into_iter()
            .map(|m| {
                let versions = self
                    .store
                    .list_model_versions(&m.name)?
                    .into_iter()
                    .map(|v| {
                        let run = self.store.get_run(&v.run_id)?;
                        Ok(VersionSummary {
                            metrics: lab_train::headline_metrics(&run.metrics, 4)
                                .into_iter()
                                .map(|(k, x)| (k.to_string(), x))
                                .collect(),
                            run_name: run.run_name,
                            servable: v.servable(),
                            version: v,
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                let service = services
                    .iter()
                    .find(|s| s.model_name == m.name)
                    .map(|s| ServedBy {
                        endpoint: s.endpoint(),
                        service: s.clone(),
                    });
                Ok(ModelSummary {
                    model: m,
                    versions,
                    service,
                })
            })
            .collect()
    }

    /// Register `run`'s model as a new version of `name`, or of the name
    /// the pipeline gives its dataset and target when none is given.
    pub fn register_run(&self, run: &str, name: Option<&str>) -> Result<ModelVersion> {
        let run = self.run(run)?;
        let name = match name.map(str::trim).filter(|n| !n.is_empty()) {
            Some(n) => n.to_string(),
            None => crate::runs::model_name_for_run(&run),
        };
        self.register(&run.run_id, &name)
    }

    /// Registered models (names, aliases, times).
    pub fn registered_models(&self) -> Result<Vec<RegisteredModel>> {
        Ok(self.store.list_registered_models()?)
    }

    /// The versions of `name`, newest first.
    pub fn model_versions(&self, name: &str) -> Result<Vec<ModelVersion>> {
        Ok(self.store.list_model_versions(name)?)
    }

    /// The version's model, when MLOps Lab's server can serve it. A model
    /// MLflow's client logged (a pickled scikit-learn model, say) is
    /// refused plainly: lab-serve serves linfa models in the lab's envelope.
    pub fn load_artifact(&self, mv: &ModelVersion) -> Result<ModelArtifact> {
        require_servable(mv)?;
        let path = self.home().confine(&mv.source)?;
        Ok(ModelArtifact::load(&path)?)
    }

    /// Register `run_id`'s model as a new version of `name`.
    pub fn register(&self, run_id: &str, name: &str) -> Result<ModelVersion> {
        let run_id = self.store.resolve_run_id(run_id)?;
        let run = self.store.get_run(&run_id)?;
        let source = format!("{}/model/model.json", run.artifact_uri);
        // Refuse an artifact that does not load: better now than at deploy.
        ModelArtifact::load(&self.home().confine(&source)?)?;
        Ok(self.store.create_model_version(name, &run_id, &source)?)
    }

    pub fn set_alias(&self, name: &str, version: i64, alias: &str) -> Result<ModelVersion> {
        self.store.set_alias(name, alias, version)?;
        Ok(self.store.model_version(name, version)?)
    }

    pub fn resolve_model(&self, r: &ModelRef) -> Result<ModelVersion> {
        Ok(match r {
            ModelRef::Version(n, v) => self.store.model_version(n, *v)?,
            ModelRef::Alias(n, a) => self
                .store
                .version_by_alias(n, a)?
                .ok_or_else(|| PipelineError::NotFound(format!("alias `{a}` of model `{n}`")))?,
            ModelRef::Latest(n) => self
                .store
                .list_model_versions(n)?
                .into_iter()
                .next()
                .ok_or_else(|| PipelineError::NotFound(format!("model `{n}`")))?,
        })
    }

    /// Promote `name` v`version` to champion; when a service serves this
    /// model, roll it out there too.
    pub fn promote(
        &self,
        name: &str,
        version: i64,
        local: bool,
        sink: &dyn Fn(Event),
    ) -> Result<(lab_store::ModelVersion, Option<RolloutResult>)> {
        self.checkpoint("promoting")?;
        let mv = self.set_alias(name, version, "champion")?;
        let rollout = match self.service_of_model(name)? {
            Some(s) if s.active_version != Some(version) => Some(self.rollout(
                &s.name,
                &ModelRef::Version(name.to_string(), version),
                local,
                sink,
            )?),
            _ => None,
        };
        Ok((mv, rollout))
    }
}

/// A version MLflow's client logged is in MLflow's format (a pickled
/// scikit-learn model, say): lab-serve serves linfa models in the lab's
/// envelope only, so say so plainly before anything is built.
pub(crate) fn require_servable(mv: &ModelVersion) -> Result<()> {
    if mv.servable() {
        return Ok(());
    }
    Err(PipelineError::Invalid(format!(
        "{} v{} was logged by MLflow's client (source {}, run {}): it is a model in MLflow's format, \
                 which MLOps Lab's Rust server cannot serve. Serve a model MLOps Lab trained: `mlops-lab train`, \
                 then `mlops-lab models register RUN_ID --name NAME`. (MLflow itself serves this one with \
                 `mlflow models serve -m models:/{}/{}`.)",
        mv.name, mv.version, mv.source, mv.run_id, mv.name, mv.version
    )))
}
