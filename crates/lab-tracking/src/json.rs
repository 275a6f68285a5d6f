//! The lab's records as MLflow's protobuf JSON (field names as in MLflow's
//! `.proto` files; ids and versions are strings, times are milliseconds),
//! and the keys MLflow's search grammar looks up on each.

use std::collections::BTreeMap;
use std::path::Path;

use lab_store::{
    DatasetInput, Experiment, LoggedModel, Metric, ModelVersion, RegisteredModel, Run, RunModel,
};
use serde_json::{Value, json};

use crate::filter::{Key, Kind, Searchable, Val};

/// An absolute artifact location for a path the store keeps relative.
pub fn absolute(root: &Path, relative: &str) -> String {
    root.join(relative).to_string_lossy().into_owned()
}

pub fn pairs(map: &BTreeMap<String, String>) -> Value {
    Value::Array(
        map.iter()
            .map(|(k, v)| json!({ "key": k, "value": v }))
            .collect(),
    )
}

/// Drop what protobuf's JSON leaves out: nulls and empty lists.
fn prune(mut v: Value) -> Value {
    if let Value::Object(m) = &mut v {
        m.retain(|_, x| !(x.is_null() || x.as_array().is_some_and(|a| a.is_empty())));
    }
    v
}

pub fn experiment(e: &Experiment, tags: &BTreeMap<String, String>, root: &Path) -> Value {
    prune(json!({
        "experiment_id": e.experiment_id,
        "name": e.name,
        "artifact_location": absolute(root, &e.artifact_location),
        "lifecycle_stage": e.lifecycle_stage,
        "last_update_time": e.last_update_time,
        "creation_time": e.creation_time,
        "tags": pairs(tags),
        "workspace": "default",
    }))
}

pub fn run_info(r: &Run, root: &Path) -> Value {
    prune(json!({
        "run_id": r.run_id,
        "run_uuid": r.run_id,
        "run_name": r.run_name,
        "experiment_id": r.experiment_id,
        "user_id": r.user_id,
        "status": r.status.as_str(),
        "start_time": r.start_time,
        "end_time": r.end_time,
        "artifact_uri": absolute(root, &r.artifact_uri),
        "lifecycle_stage": r.lifecycle_stage,
    }))
}

pub fn metric(m: &Metric) -> Value {
    json!({ "key": m.key, "value": m.value, "timestamp": m.timestamp, "step": m.step })
}

pub fn run(
    r: &Run,
    metrics: &[Metric],
    inputs: &[DatasetInput],
    models: &[RunModel],
    root: &Path,
) -> Value {
    let params: BTreeMap<String, String> = r.params.clone();
    let data = prune(json!({
        "metrics": metrics.iter().map(metric).collect::<Vec<_>>(),
        "params": pairs(&params),
        "tags": pairs(&r.tags),
    }));
    let dataset_inputs: Vec<Value> = inputs
        .iter()
        .map(|d| {
            prune(json!({
                "tags": pairs(&d.tags),
                "dataset": prune(json!({
                    "name": d.name,
                    "digest": d.digest,
                    "source_type": d.source_type,
                    "source": d.source,
                    "schema": (!d.schema.is_empty()).then_some(&d.schema),
                    "profile": (!d.profile.is_empty()).then_some(&d.profile),
                })),
            }))
        })
        .collect();
    let model_inputs: Vec<Value> = models
        .iter()
        .filter(|m| !m.output)
        .map(|m| json!({ "model_id": m.model_id }))
        .collect();
    let model_outputs: Vec<Value> = models
        .iter()
        .filter(|m| m.output)
        .map(|m| json!({ "model_id": m.model_id, "step": m.step }))
        .collect();
    json!({
        "info": run_info(r, root),
        "data": data,
        "inputs": prune(json!({ "dataset_inputs": dataset_inputs, "model_inputs": model_inputs })),
        "outputs": prune(json!({ "model_outputs": model_outputs })),
    })
}

/// Where a version's files are, for MLflow's client to download.
pub fn download_uri(
    v: &ModelVersion,
    logged: Option<&LoggedModel>,
    run: Option<&Run>,
    root: &Path,
) -> String {
    if let Some(m) = logged {
        return absolute(root, &m.artifact_location);
    }
    if let Some(rest) = v.source.strip_prefix("runs:/")
        && let (Some(run), Some((_, path))) = (run, rest.split_once('/'))
    {
        return format!("{}/{path}", absolute(root, &run.artifact_uri));
    }
    if v.origin == "lab" {
        // The lab's own versions keep the model file's relative path.
        let dir = Path::new(&v.source)
            .parent()
            .map(|p| p.to_string_lossy().into_owned());
        return absolute(root, &dir.unwrap_or_default());
    }
    v.source.clone()
}

pub fn model_version(v: &ModelVersion, root: &Path) -> Value {
    let source = if v.origin == "lab" {
        absolute(root, &v.source)
    } else {
        v.source.clone()
    };
    prune(json!({
        "name": v.name,
        "version": v.version.to_string(),
        "creation_timestamp": v.creation_time,
        "last_updated_timestamp": v.last_updated_time,
        "current_stage": "None",
        "description": v.description,
        "source": source,
        "run_id": v.run_id,
        "status": v.status,
        "run_link": v.run_link,
        "tags": pairs(&v.tags),
        "aliases": v.aliases,
        "model_id": v.model_id,
    }))
}

pub fn registered_model(m: &RegisteredModel, latest: Option<&ModelVersion>, root: &Path) -> Value {
    let aliases: Vec<Value> = m
        .aliases
        .iter()
        .map(|(a, v)| json!({ "alias": a, "version": v.to_string() }))
        .collect();
    prune(json!({
        "name": m.name,
        "creation_timestamp": m.creation_time,
        "last_updated_timestamp": m.last_updated_time,
        "description": (!m.description.is_empty()).then_some(&m.description),
        "latest_versions": latest.map(|v| vec![model_version(v, root)]).unwrap_or_default(),
        "tags": pairs(&m.tags),
        "aliases": aliases,
    }))
}

pub fn logged_model(m: &LoggedModel, root: &Path) -> Value {
    let metrics: Vec<Value> = m
        .metrics
        .iter()
        .map(|x| {
            prune(json!({
                "key": x.key, "value": x.value, "timestamp": x.timestamp, "step": x.step,
                "run_id": x.run_id,
                "dataset_name": (!x.dataset_name.is_empty()).then_some(&x.dataset_name),
                "dataset_digest": (!x.dataset_digest.is_empty()).then_some(&x.dataset_digest),
                "model_id": m.model_id,
            }))
        })
        .collect();
    json!({
        "info": prune(json!({
            "model_id": m.model_id,
            "experiment_id": m.experiment_id,
            "name": m.name,
            "creation_timestamp_ms": m.creation_time,
            "last_updated_timestamp_ms": m.last_updated_time,
            "artifact_uri": absolute(root, &m.artifact_location),
            "status": m.status.as_str(),
            "status_message": (!m.status_message.is_empty()).then_some(&m.status_message),
            "creator_id": (!m.user_id.is_empty()).then_some(&m.user_id),
            "model_type": (!m.model_type.is_empty()).then_some(&m.model_type),
            "source_run_id": m.source_run_id,
            "tags": pairs(&m.tags),
        })),
        "data": prune(json!({ "params": pairs(&m.params), "metrics": metrics })),
    })
}

// ------------------------------------------------------------ search keys

fn s(v: &str) -> Option<Val> {
    Some(Val::Str(v.to_string()))
}
fn n(v: i64) -> Option<Val> {
    Some(Val::Num(v as f64))
}

pub const RUN_ATTRIBUTES: &[&str] = &[
    "run_id",
    "run_name",
    "status",
    "user_id",
    "artifact_uri",
    "start_time",
    "end_time",
    "created",
    "Created",
    "lifecycle_stage",
];

impl Searchable for Run {
    fn lookup(&self, key: &Key) -> Option<Val> {
        match key.kind {
            Kind::Metric => self.metrics.get(&key.name).map(|v| Val::Num(*v)),
            Kind::Param => self.params.get(&key.name).map(|v| Val::Str(v.clone())),
            Kind::Tag => self.tags.get(&key.name).map(|v| Val::Str(v.clone())),
            Kind::Dataset => None,
            Kind::Attribute => match key.name.as_str() {
                "run_id" => s(&self.run_id),
                "run_name" => s(&self.run_name),
                "status" => s(self.status.as_str()),
                "user_id" => s(&self.user_id),
                "artifact_uri" => s(&self.artifact_uri),
                "lifecycle_stage" => s(&self.lifecycle_stage),
                "start_time" | "created" | "Created" => n(self.start_time),
                "end_time" => self.end_time.and_then(n),
                _ => None,
            },
        }
    }
}

pub const EXPERIMENT_ATTRIBUTES: &[&str] = &[
    "name",
    "experiment_id",
    "creation_time",
    "last_update_time",
    "lifecycle_stage",
];

/// An experiment with its tags, for search.
pub struct TaggedExperiment(pub Experiment, pub BTreeMap<String, String>);

impl Searchable for TaggedExperiment {
    fn lookup(&self, key: &Key) -> Option<Val> {
        let e = &self.0;
        match key.kind {
            Kind::Tag => self.1.get(&key.name).map(|v| Val::Str(v.clone())),
            Kind::Attribute => match key.name.as_str() {
                "name" => s(&e.name),
                "experiment_id" => Some(Val::Num(e.experiment_id.parse().unwrap_or(f64::NAN))),
                "creation_time" => n(e.creation_time),
                "last_update_time" => n(e.last_update_time),
                "lifecycle_stage" => s(&e.lifecycle_stage),
                _ => None,
            },
            _ => None,
        }
    }
}

pub const MODEL_ATTRIBUTES: &[&str] = &[
    "name",
    "creation_timestamp",
    "last_updated_timestamp",
    "timestamp",
    "description",
];

impl Searchable for RegisteredModel {
    fn lookup(&self, key: &Key) -> Option<Val> {
        match key.kind {
            Kind::Tag => self.tags.get(&key.name).map(|v| Val::Str(v.clone())),
            Kind::Attribute => match key.name.as_str() {
                "name" => s(&self.name),
                "description" => s(&self.description),
                "creation_timestamp" => n(self.creation_time),
                "last_updated_timestamp" | "timestamp" => n(self.last_updated_time),
                _ => None,
            },
            _ => None,
        }
    }
}

pub const VERSION_ATTRIBUTES: &[&str] = &[
    "name",
    "version_number",
    "run_id",
    "source_path",
    "source",
    "creation_timestamp",
    "last_updated_timestamp",
    "timestamp",
    "status",
    "model_id",
];

impl Searchable for ModelVersion {
    fn lookup(&self, key: &Key) -> Option<Val> {
        match key.kind {
            Kind::Tag => self.tags.get(&key.name).map(|v| Val::Str(v.clone())),
            Kind::Attribute => match key.name.as_str() {
                "name" => s(&self.name),
                "version_number" => n(self.version),
                "run_id" => s(&self.run_id),
                "source_path" | "source" => s(&self.source),
                "status" => s(&self.status),
                "model_id" => self.model_id.as_deref().and_then(s),
                "creation_timestamp" => n(self.creation_time),
                "last_updated_timestamp" | "timestamp" => n(self.last_updated_time),
                _ => None,
            },
            _ => None,
        }
    }
}

pub const LOGGED_MODEL_ATTRIBUTES: &[&str] = &[
    "name",
    "model_id",
    "model_type",
    "status",
    "source_run_id",
    "creation_timestamp",
    "creation_time",
    "last_updated_timestamp",
    "experiment_id",
];

impl Searchable for LoggedModel {
    fn lookup(&self, key: &Key) -> Option<Val> {
        match key.kind {
            Kind::Tag => self.tags.get(&key.name).map(|v| Val::Str(v.clone())),
            Kind::Param => self.params.get(&key.name).map(|v| Val::Str(v.clone())),
            Kind::Metric => self
                .metrics
                .iter()
                .filter(|m| m.key == key.name)
                .max_by_key(|m| (m.step, m.timestamp))
                .map(|m| Val::Num(m.value)),
            Kind::Dataset => None,
            Kind::Attribute => match key.name.as_str() {
                "name" => s(&self.name),
                "model_id" => s(&self.model_id),
                "model_type" => s(&self.model_type),
                "status" => s(self.status.as_str()),
                "source_run_id" => self.source_run_id.as_deref().and_then(s),
                "experiment_id" => s(&self.experiment_id),
                "creation_timestamp" | "creation_time" => n(self.creation_time),
                "last_updated_timestamp" => n(self.last_updated_time),
                _ => None,
            },
        }
    }
}
