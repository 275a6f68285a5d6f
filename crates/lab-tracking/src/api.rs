//! MLflow's REST endpoints, one function per call, each a translation
//! between MLflow's JSON and one or two `lab_store` calls.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use lab_store::{
    DatasetInput, LoggedModelStatus, Metric, MetricModel, NewLoggedModel, NewModelVersion, NewRun,
    RunBatch, RunModel, RunStatus, Store, ViewType,
};
use serde_json::{Value, json};

use crate::args::Args;
use crate::error::{ApiError, ApiResult};
use crate::filter::{self, Missing};
use crate::json;

/// MLflow's batch limits (`runs/log-batch`).
pub const MAX_BATCH_METRICS: usize = 1000;
pub const MAX_BATCH_PARAMS: usize = 100;
pub const MAX_BATCH_TAGS: usize = 100;

pub struct Ctx {
    /// The lab home; artifact locations are absolute paths under it.
    pub root: PathBuf,
}

/// The calls that only read, and so may come as GET. Every other call
/// changes the store and must come as POST, PATCH or DELETE: a web page
/// cannot make a browser change the lab with a link or an image.
pub(crate) fn reads_only(method: &str, path: &str) -> bool {
    matches!(
        path,
        "experiments/get"
            | "experiments/get-by-name"
            | "experiments/search"
            | "runs/get"
            | "runs/search"
            | "metrics/get-history"
            | "artifacts/list"
            | "registered-models/get"
            | "registered-models/search"
            | "registered-models/get-latest-versions"
            | "model-versions/get"
            | "model-versions/search"
            | "model-versions/get-download-uri"
            | "logged-models/search"
    ) || (path == "registered-models/alias" && method == "GET")
        || (path.starts_with("logged-models/") && method == "GET")
}

/// The calls that change the store (logged models' are told by method).
const WRITES: &[&str] = &[
    "experiments/create",
    "experiments/delete",
    "experiments/delete-experiment-tag",
    "experiments/restore",
    "experiments/set-experiment-tag",
    "experiments/update",
    "model-versions/create",
    "model-versions/delete",
    "model-versions/delete-tag",
    "model-versions/set-tag",
    "model-versions/transition-stage",
    "model-versions/update",
    "registered-models/alias",
    "registered-models/create",
    "registered-models/delete",
    "registered-models/delete-tag",
    "registered-models/rename",
    "registered-models/set-tag",
    "registered-models/update",
    "runs/create",
    "runs/delete",
    "runs/delete-tag",
    "runs/log-batch",
    "runs/log-inputs",
    "runs/log-metric",
    "runs/log-outputs",
    "runs/log-parameter",
    "runs/outputs",
    "runs/restore",
    "runs/set-tag",
    "runs/update",
];

/// Route one call (the path after `/api/2.0/mlflow/`).
pub fn handle(cx: &Ctx, store: &Store, method: &str, path: &str, a: &Args) -> ApiResult<Value> {
    let root = cx.root.as_path();
    if matches!(method, "GET" | "HEAD") && !reads_only(method, path) && WRITES.contains(&path) {
        return Err(ApiError {
            code: "METHOD_NOT_ALLOWED",
            message: format!(
                "{method} /api/2.0/mlflow/{path} is not allowed: this call changes the store, send it as POST, PATCH or DELETE as MLflow's client does"
            ),
        });
    }
    if let Some(rest) = path.strip_prefix("logged-models") {
        return logged_models(store, root, method, rest, a);
    }
    match path {
        // ------------------------------------------------------ experiments
        "experiments/create" => {
            if a.opt_str("artifact_location")?
                .is_some_and(|l| !l.is_empty())
            {
                return Err(ApiError::invalid(format!(
                    "MLOps Lab keeps every artifact under the lab home ({}): leave artifact_location unset",
                    root.display()
                )));
            }
            let e = store.create_experiment(&a.str("name")?, &a.pairs("tags")?)?;
            Ok(json!({ "experiment_id": e.experiment_id }))
        }
        "experiments/get" => {
            let id = a.str("experiment_id")?;
            if id.parse::<u64>().is_err() {
                return Err(ApiError::invalid(format!(
                    "Invalid experiment ID '{id}'. Experiment ID must be a valid integer."
                )));
            }
            let e = store.experiment(&id).map_err(|e| match e {
                lab_store::StoreError::NotFound(_) => {
                    ApiError::not_found(format!("No Experiment with id={id} exists"))
                }
                e => e.into(),
            })?;
            Ok(json!({ "experiment": json::experiment(&e, &store.experiment_tags(&id)?, root) }))
        }
        "experiments/get-by-name" => {
            let name = a.str("experiment_name")?;
            let e = store.experiment_by_name(&name)?.ok_or_else(|| {
                ApiError::not_found(format!("Could not find experiment with name '{name}'"))
            })?;
            let tags = store.experiment_tags(&e.experiment_id)?;
            Ok(json!({ "experiment": json::experiment(&e, &tags, root) }))
        }
        "experiments/search" => {
            let view = view_type(a, "view_type")?;
            let clauses = filter::parse(&a.opt_str("filter")?.unwrap_or_default())?;
            filter::check_attributes(
                &clauses,
                json::EXPERIMENT_ATTRIBUTES,
                &a.opt_str("filter")?.unwrap_or_default(),
            )?;
            let order = filter::parse_order_by(&a.str_list("order_by")?)?;
            filter::check_order_attributes(&order, json::EXPERIMENT_ATTRIBUTES)?;
            let mut found = Vec::new();
            for e in store.list_experiments()? {
                if view.admits(&e.lifecycle_stage) {
                    let tags = store.experiment_tags(&e.experiment_id)?;
                    let x = json::TaggedExperiment(e, tags);
                    if filter::matches(&x, &clauses, Missing::Excluded) {
                        found.push(x);
                    }
                }
            }
            found.sort_by(|x, y| {
                filter::cmp_by(x, y, &order)
                    .then(y.0.creation_time.cmp(&x.0.creation_time))
                    .then(y.0.experiment_id.cmp(&x.0.experiment_id))
            });
            let (page, next) = paginate(found, a, 1000, 50_000)?;
            let experiments: Vec<Value> = page
                .iter()
                .map(|x| json::experiment(&x.0, &x.1, root))
                .collect();
            Ok(with_token(json!({ "experiments": experiments }), next))
        }
        "experiments/update" => {
            let id = a.str("experiment_id")?;
            if let Some(name) = a.opt_str("new_name")? {
                store.rename_experiment(&id, &name)?;
            }
            Ok(json!({}))
        }
        "experiments/delete" => {
            store.set_experiment_deleted(&a.str("experiment_id")?, true)?;
            Ok(json!({}))
        }
        "experiments/restore" => {
            store.set_experiment_deleted(&a.str("experiment_id")?, false)?;
            Ok(json!({}))
        }
        "experiments/set-experiment-tag" => {
            store.set_experiment_tag(
                &a.str("experiment_id")?,
                &a.str("key")?,
                &a.opt_str("value")?.unwrap_or_default(),
            )?;
            Ok(json!({}))
        }
        "experiments/delete-experiment-tag" => {
            store.delete_experiment_tag(&a.str("experiment_id")?, &a.str("key")?)?;
            Ok(json!({}))
        }
        // ------------------------------------------------------------- runs
        "runs/create" => create_run(store, root, a),
        "runs/get" => {
            let id = run_id(a)?;
            Ok(json!({ "run": full_run(store, root, &id)? }))
        }
        "runs/update" => {
            let id = run_id(a)?;
            let status = match a.opt_str("status")? {
                None => None,
                Some(s) => Some(run_status(&s)?),
            };
            let run = store.update_run(
                &id,
                status,
                a.opt_i64("end_time")?,
                a.opt_str("run_name")?.as_deref(),
            )?;
            Ok(json!({ "run_info": json::run_info(&run, root) }))
        }
        "runs/delete" => {
            store.set_run_deleted(&run_id(a)?, true)?;
            Ok(json!({}))
        }
        "runs/restore" => {
            store.set_run_deleted(&run_id(a)?, false)?;
            Ok(json!({}))
        }
        "runs/log-metric" => {
            let id = run_id(a)?;
            let m = metric_of(a)?;
            let batch = RunBatch {
                metrics: vec![m],
                metric_models: vec![metric_model(a)?],
                ..RunBatch::default()
            };
            store.log_batch(&id, &batch)?;
            Ok(json!({}))
        }
        "runs/log-parameter" => {
            let id = run_id(a)?;
            let p = (a.str("key")?, a.opt_str("value")?.unwrap_or_default());
            store.log_batch(
                &id,
                &RunBatch {
                    params: vec![p],
                    ..RunBatch::default()
                },
            )?;
            Ok(json!({}))
        }
        "runs/set-tag" => {
            let id = run_id(a)?;
            let t = (a.str("key")?, a.opt_str("value")?.unwrap_or_default());
            store.log_batch(
                &id,
                &RunBatch {
                    tags: vec![t],
                    ..RunBatch::default()
                },
            )?;
            Ok(json!({}))
        }
        "runs/delete-tag" => {
            store.delete_tag(&run_id(a)?, &a.str("key")?)?;
            Ok(json!({}))
        }
        "runs/log-batch" => log_batch(store, a),
        "runs/log-inputs" => {
            let id = run_id(a)?;
            let mut inputs = Vec::new();
            for d in a.objects("datasets")? {
                let ds = d
                    .object("dataset")
                    .ok_or_else(|| ApiError::missing("dataset"))?;
                inputs.push(DatasetInput {
                    name: ds.str("name")?,
                    digest: ds.str("digest")?,
                    source_type: ds.opt_str("source_type")?.unwrap_or_default(),
                    source: ds.opt_str("source")?.unwrap_or_default(),
                    schema: ds.opt_str("schema")?.unwrap_or_default(),
                    profile: ds.opt_str("profile")?.unwrap_or_default(),
                    tags: d.pairs("tags")?.into_iter().collect(),
                });
            }
            store.log_inputs(&id, &inputs)?;
            let models: Vec<RunModel> = a
                .objects("models")?
                .iter()
                .map(|m| {
                    Ok(RunModel {
                        model_id: m.str("model_id")?,
                        output: false,
                        step: 0,
                    })
                })
                .collect::<ApiResult<_>>()?;
            store.log_run_models(&id, &models)?;
            Ok(json!({}))
        }
        "runs/outputs" | "runs/log-outputs" => {
            let id = run_id(a)?;
            let models: Vec<RunModel> = a
                .objects("models")?
                .iter()
                .map(|m| {
                    Ok(RunModel {
                        model_id: m.str("model_id")?,
                        output: true,
                        step: m.opt_i64("step")?.unwrap_or(0),
                    })
                })
                .collect::<ApiResult<_>>()?;
            store.log_run_models(&id, &models)?;
            Ok(json!({}))
        }
        "runs/search" => search_runs(store, root, a),
        "metrics/get-history" => {
            let id = run_id(a)?;
            let key = a.str("metric_key")?;
            let history = store.metric_history(&id, &key).map_err(|e| match e {
                lab_store::StoreError::NotFound(_) => {
                    ApiError::not_found(format!("Run with id={id} not found"))
                }
                e => e.into(),
            })?;
            let (page, next) = paginate(history, a, 25_000, 25_000)?;
            let metrics: Vec<Value> = page.iter().map(json::metric).collect();
            Ok(with_token(json!({ "metrics": metrics }), next))
        }
        "artifacts/list" => list_artifacts(store, root, a),
        // --------------------------------------------------------- registry
        "registered-models/create" => {
            let m = store.create_registered_model(
                &a.str("name")?,
                &a.opt_str("description")?.unwrap_or_default(),
                &a.pairs("tags")?,
            )?;
            Ok(json!({ "registered_model": json::registered_model(&m, None, root) }))
        }
        "registered-models/get" => {
            let m = store.registered_model(&a.str("name")?)?;
            Ok(json!({ "registered_model": registered(store, root, &m)? }))
        }
        "registered-models/update" => {
            let name = a.str("name")?;
            if let Some(d) = a.opt_str("description")? {
                store.set_registered_model_description(&name, &d)?;
            }
            let m = store.registered_model(&name)?;
            Ok(json!({ "registered_model": registered(store, root, &m)? }))
        }
        "registered-models/rename" => {
            let m = store.rename_registered_model(&a.str("name")?, &a.str("new_name")?)?;
            Ok(json!({ "registered_model": registered(store, root, &m)? }))
        }
        "registered-models/delete" => {
            store.delete_registered_model(&a.str("name")?)?;
            Ok(json!({}))
        }
        "registered-models/search" => {
            let text = a.opt_str("filter")?.unwrap_or_default();
            let clauses = filter::parse(&text)?;
            filter::check_attributes(&clauses, json::MODEL_ATTRIBUTES, &text)?;
            let order = filter::parse_order_by(&a.str_list("order_by")?)?;
            filter::check_order_attributes(&order, json::MODEL_ATTRIBUTES)?;
            let mut found: Vec<_> = store
                .list_registered_models()?
                .into_iter()
                .filter(|m| filter::matches(m, &clauses, Missing::NotEqualMatches))
                .collect();
            found.sort_by(|x, y| filter::cmp_by(x, y, &order).then(x.name.cmp(&y.name)));
            let (page, next) = paginate(found, a, 100, 1000)?;
            let models = page
                .iter()
                .map(|m| registered(store, root, m))
                .collect::<ApiResult<Vec<_>>>()?;
            Ok(with_token(json!({ "registered_models": models }), next))
        }
        "registered-models/get-latest-versions" => {
            let m = store.registered_model(&a.str("name")?)?;
            let latest = match m.latest_version {
                Some(v) => vec![json::model_version(&store.model_version(&m.name, v)?, root)],
                None => Vec::new(),
            };
            Ok(json!({ "model_versions": latest }))
        }
        "registered-models/set-tag" => {
            store.set_registered_model_tag(
                &a.str("name")?,
                &a.str("key")?,
                &a.opt_str("value")?.unwrap_or_default(),
            )?;
            Ok(json!({}))
        }
        "registered-models/delete-tag" => {
            store.delete_registered_model_tag(&a.str("name")?, &a.str("key")?)?;
            Ok(json!({}))
        }
        "registered-models/alias" => match method {
            "POST" => {
                let name = a.str("name")?;
                store.set_alias(&name, &a.str("alias")?, version_of(a)?)?;
                Ok(json!({}))
            }
            "DELETE" => {
                store.delete_alias(&a.str("name")?, &a.str("alias")?)?;
                Ok(json!({}))
            }
            _ => {
                let (name, alias) = (a.str("name")?, a.str("alias")?);
                let v = store.version_by_alias(&name, &alias)?.ok_or_else(|| {
                    ApiError::not_found(format!("Registered model alias {alias} not found."))
                })?;
                Ok(json!({ "model_version": json::model_version(&v, root) }))
            }
        },
        "model-versions/create" => {
            let new = NewModelVersion {
                name: a.str("name")?,
                source: a.str("source")?,
                run_id: a.opt_str("run_id")?.filter(|s| !s.is_empty()),
                model_id: a.opt_str("model_id")?.filter(|s| !s.is_empty()),
                description: a.opt_str("description")?.unwrap_or_default(),
                run_link: a.opt_str("run_link")?.unwrap_or_default(),
                tags: a.pairs("tags")?,
            };
            let v = store.create_mlflow_model_version(&new)?;
            Ok(json!({ "model_version": json::model_version(&v, root) }))
        }
        "model-versions/get" => {
            let v = store.model_version(&a.str("name")?, version_of(a)?)?;
            Ok(json!({ "model_version": json::model_version(&v, root) }))
        }
        "model-versions/update" => {
            let (name, version) = (a.str("name")?, version_of(a)?);
            if let Some(d) = a.opt_str("description")? {
                store.set_model_version_description(&name, version, &d)?;
            }
            let v = store.model_version(&name, version)?;
            Ok(json!({ "model_version": json::model_version(&v, root) }))
        }
        "model-versions/delete" => {
            store.delete_model_version(&a.str("name")?, version_of(a)?)?;
            Ok(json!({}))
        }
        "model-versions/search" => {
            let text = a.opt_str("filter")?.unwrap_or_default();
            let clauses = filter::parse(&text)?;
            filter::check_attributes(&clauses, json::VERSION_ATTRIBUTES, &text)?;
            let order = filter::parse_order_by(&a.str_list("order_by")?)?;
            filter::check_order_attributes(&order, json::VERSION_ATTRIBUTES)?;
            let mut found: Vec<_> = store
                .all_model_versions()?
                .into_iter()
                .filter(|v| filter::matches(v, &clauses, Missing::NotEqualMatches))
                .collect();
            found.sort_by(|x, y| {
                filter::cmp_by(x, y, &order)
                    .then(y.last_updated_time.cmp(&x.last_updated_time))
                    .then(x.name.cmp(&y.name))
                    .then(y.version.cmp(&x.version))
            });
            let (page, next) = paginate(found, a, 10_000, 200_000)?;
            let versions: Vec<Value> = page.iter().map(|v| json::model_version(v, root)).collect();
            Ok(with_token(json!({ "model_versions": versions }), next))
        }
        "model-versions/get-download-uri" => {
            let v = store.model_version(&a.str("name")?, version_of(a)?)?;
            let logged = v
                .model_id
                .as_deref()
                .map(|m| store.logged_model(m))
                .transpose()?;
            let run = store.get_run(&v.run_id).ok();
            Ok(
                json!({ "artifact_uri": json::download_uri(&v, logged.as_ref(), run.as_ref(), root) }),
            )
        }
        "model-versions/set-tag" => {
            store.set_model_version_tag(
                &a.str("name")?,
                version_of(a)?,
                &a.str("key")?,
                &a.opt_str("value")?.unwrap_or_default(),
            )?;
            Ok(json!({}))
        }
        "model-versions/delete-tag" => {
            store.delete_model_version_tag(&a.str("name")?, version_of(a)?, &a.str("key")?)?;
            Ok(json!({}))
        }
        "model-versions/transition-stage" => Err(ApiError::invalid(
            "Model stages are deprecated in MLflow; MLOps Lab uses aliases: set_registered_model_alias(name, \"champion\", version)",
        )),
        _ => Err(ApiError::endpoint_not_found(&format!(
            "/api/2.0/mlflow/{path}"
        ))),
    }
}

fn run_id(a: &Args) -> ApiResult<String> {
    a.str_of(&["run_id", "run_uuid"])
}

fn version_of(a: &Args) -> ApiResult<i64> {
    let v = a.str("version")?;
    v.parse()
        .map_err(|_| ApiError::invalid(format!("Model version must be an integer, got '{v}'")))
}

fn run_status(s: &str) -> ApiResult<RunStatus> {
    Ok(match s {
        "RUNNING" | "1" => RunStatus::Running,
        "SCHEDULED" | "2" => RunStatus::Scheduled,
        "FINISHED" | "3" => RunStatus::Finished,
        "FAILED" | "4" => RunStatus::Failed,
        "KILLED" | "5" => RunStatus::Killed,
        _ => {
            return Err(ApiError::invalid(format!(
                "Invalid run status '{s}': use RUNNING, SCHEDULED, FINISHED, FAILED or KILLED"
            )));
        }
    })
}

fn view_type(a: &Args, key: &str) -> ApiResult<ViewType> {
    Ok(match a.opt_str(key)?.as_deref() {
        None | Some("") | Some("ACTIVE_ONLY") | Some("1") => ViewType::ActiveOnly,
        Some("DELETED_ONLY") | Some("2") => ViewType::DeletedOnly,
        Some("ALL") | Some("3") => ViewType::All,
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "Invalid {key} '{other}': use ACTIVE_ONLY, DELETED_ONLY or ALL"
            )));
        }
    })
}

fn metric_of(a: &Args) -> ApiResult<Metric> {
    let key = a.str("key")?;
    let value = a
        .opt_f64("value")?
        .ok_or_else(|| ApiError::missing("value"))?;
    if value.is_nan() {
        return Err(ApiError::invalid(format!(
            "Metric '{key}' is NaN: MLOps Lab stores finite values only (and ±infinity as ±max float, as MLflow does); log a number"
        )));
    }
    // MLflow's SQL store clamps infinities to the largest finite float.
    let value = value.clamp(f64::MIN, f64::MAX);
    Ok(Metric {
        key,
        value,
        timestamp: a.opt_i64("timestamp")?.unwrap_or_else(lab_store::now_ms),
        step: a.opt_i64("step")?.unwrap_or(0),
    })
}

/// The logged model (and dataset) a metric names, MLflow 3.
fn metric_model(a: &Args) -> ApiResult<Option<MetricModel>> {
    let Some(model_id) = a.opt_str("model_id")?.filter(|m| !m.is_empty()) else {
        return Ok(None);
    };
    Ok(Some(MetricModel {
        model_id,
        dataset_name: a.opt_str("dataset_name")?.unwrap_or_default(),
        dataset_digest: a.opt_str("dataset_digest")?.unwrap_or_default(),
    }))
}

fn create_run(store: &Store, root: &Path, a: &Args) -> ApiResult<Value> {
    let experiment_id = a
        .opt_str("experiment_id")?
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "0".into());
    let mut tags = a.pairs("tags")?;
    let name = a
        .opt_str("run_name")?
        .filter(|s| !s.is_empty())
        .or_else(|| {
            tags.iter()
                .find(|(k, _)| k == "mlflow.runName")
                .map(|(_, v)| v.clone())
        })
        .unwrap_or_else(generated_name);
    tags.retain(|(k, _)| k != "mlflow.runName");
    tags.push(("mlflow.runName".into(), name.clone()));
    let user = a.opt_str("user_id")?.unwrap_or_default();
    let tag_refs: Vec<(&str, &str)> = tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let run = store
        .create_run_with(
            &experiment_id,
            &NewRun {
                name: &name,
                start_time: a.opt_i64("start_time")?,
                user_id: &user,
                tags: &tag_refs,
                external: true,
            },
        )
        .map_err(|e| match e {
            lab_store::StoreError::NotFound(_) => {
                ApiError::not_found(format!("No Experiment with id={experiment_id} exists"))
            }
            e => e.into(),
        })?;
    Ok(json!({ "run": full_run(store, root, &run.run_id)? }))
}

/// A readable name for a run created without one, as MLflow's server
/// gives (`adjective-noun-number`).
fn generated_name() -> String {
    const ADJ: &[&str] = &[
        "bold", "brave", "calm", "clever", "eager", "gentle", "keen", "lucky", "merry", "quick",
        "sharp", "steady", "sunny", "swift", "tidy", "wise",
    ];
    const NOUN: &[&str] = &[
        "badger", "crane", "finch", "fox", "gull", "hare", "heron", "lynx", "mole", "otter", "owl",
        "panda", "robin", "seal", "stoat", "wren",
    ];
    let r = uuid::Uuid::new_v4().as_u128();
    format!(
        "{}-{}-{}",
        ADJ[(r % ADJ.len() as u128) as usize],
        NOUN[((r >> 8) % NOUN.len() as u128) as usize],
        (r >> 16) % 1000
    )
}

fn full_run(store: &Store, root: &Path, id: &str) -> ApiResult<Value> {
    let run = store.get_run(id).map_err(|e| match e {
        lab_store::StoreError::NotFound(_) => {
            ApiError::not_found(format!("Run with id={id} not found"))
        }
        e => e.into(),
    })?;
    Ok(json::run(
        &run,
        &store.latest_metrics(id)?,
        &store.run_inputs(id)?,
        &store.run_models(id)?,
        root,
    ))
}

fn log_batch(store: &Store, a: &Args) -> ApiResult<Value> {
    let id = run_id(a)?;
    let metrics = a.objects("metrics")?;
    let params = a.pairs("params")?;
    let tags = a.pairs("tags")?;
    for (what, got, max) in [
        ("metrics", metrics.len(), MAX_BATCH_METRICS),
        ("params", params.len(), MAX_BATCH_PARAMS),
        ("tags", tags.len(), MAX_BATCH_TAGS),
    ] {
        if got > max {
            return Err(ApiError::invalid(format!(
                "A batch logging request can contain at most {max} {what}. Got {got} {what}. Please split up {what} across multiple requests and try again."
            )));
        }
    }
    let metric_models = metrics
        .iter()
        .map(metric_model)
        .collect::<ApiResult<Vec<_>>>()?;
    let metrics = metrics
        .iter()
        .map(metric_of)
        .collect::<ApiResult<Vec<_>>>()?;
    // Params that repeat within one batch must agree, as in MLflow.
    let mut seen = std::collections::BTreeMap::new();
    for (k, v) in &params {
        if let Some(old) = seen.insert(k.clone(), v.clone())
            && &old != v
        {
            return Err(ApiError::invalid(format!(
                "Duplicate parameter keys have been submitted: '{k}' with values '{old}' and '{v}'"
            )));
        }
    }
    store.log_batch(
        &id,
        &RunBatch {
            metrics,
            params,
            tags,
            metric_models,
        },
    )?;
    Ok(json!({}))
}

fn search_runs(store: &Store, root: &Path, a: &Args) -> ApiResult<Value> {
    let text = a.opt_str("filter")?.unwrap_or_default();
    let clauses = filter::parse(&text)?;
    filter::check_attributes(&clauses, json::RUN_ATTRIBUTES, &text)?;
    let order = filter::parse_order_by(&a.str_list("order_by")?)?;
    filter::check_order_attributes(&order, json::RUN_ATTRIBUTES)?;
    let view = view_type(a, "run_view_type")?;
    let ids = a.str_list("experiment_ids")?;
    let mut runs: Vec<_> = store
        .runs_in(&ids, view)?
        .into_iter()
        .filter(|r| filter::matches(r, &clauses, Missing::Excluded))
        .collect();
    runs.sort_by(|x, y| {
        filter::cmp_by(x, y, &order)
            .then(y.start_time.cmp(&x.start_time))
            .then(x.run_id.cmp(&y.run_id))
    });
    let (page, next) = paginate(runs, a, 1000, 50_000)?;
    let out = page
        .iter()
        .map(|r| {
            Ok(json::run(
                r,
                &store.latest_metrics(&r.run_id)?,
                &store.run_inputs(&r.run_id)?,
                &store.run_models(&r.run_id)?,
                root,
            ))
        })
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(with_token(json!({ "runs": out }), next))
}

fn registered(store: &Store, root: &Path, m: &lab_store::RegisteredModel) -> ApiResult<Value> {
    let latest = m
        .latest_version
        .map(|v| store.model_version(&m.name, v))
        .transpose()?;
    Ok(json::registered_model(m, latest.as_ref(), root))
}

fn list_artifacts(store: &Store, root: &Path, a: &Args) -> ApiResult<Value> {
    let id = run_id(a)?;
    let run = store.get_run(&id)?;
    let sub = a.opt_str("path")?.unwrap_or_default();
    let rel = if sub.is_empty() {
        run.artifact_uri.clone()
    } else {
        format!("{}/{sub}", run.artifact_uri)
    };
    let dir = store.home().confine(&rel)?;
    let mut files = Vec::new();
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for e in entries.flatten() {
            let meta = e.metadata().ok();
            let name = e.file_name().to_string_lossy().into_owned();
            let path = if sub.is_empty() {
                name
            } else {
                format!("{sub}/{name}")
            };
            let is_dir = meta.as_ref().is_some_and(|m| m.is_dir());
            let mut f = json!({ "path": path, "is_dir": is_dir });
            if !is_dir {
                f["file_size"] = json!(meta.map(|m| m.len()).unwrap_or(0));
            }
            files.push(f);
        }
    }
    files.sort_by(|x, y| x["path"].as_str().cmp(&y["path"].as_str()));
    Ok(json!({ "root_uri": json::absolute(root, &run.artifact_uri), "files": files }))
}

fn logged_models(
    store: &Store,
    root: &Path,
    method: &str,
    rest: &str,
    a: &Args,
) -> ApiResult<Value> {
    // A tag key may hold `/`, spaces or non-ASCII: it is the whole,
    // percent-decoded rest of the path.
    if method == "DELETE"
        && let Some((id, key)) = rest.trim_start_matches('/').split_once("/tags/")
    {
        store.delete_logged_model_tag(id, &crate::args::decode(key)?)?;
        return Ok(json!({}));
    }
    let parts: Vec<&str> = rest
        .trim_start_matches('/')
        .split('/')
        .filter(|p| !p.is_empty())
        .collect();
    match (method, parts.as_slice()) {
        ("POST", []) => {
            let new = NewLoggedModel {
                experiment_id: a.str("experiment_id")?,
                name: Some(
                    a.opt_str("name")?
                        .filter(|n| !n.trim().is_empty())
                        .unwrap_or_else(generated_name),
                ),
                model_type: a.opt_str("model_type")?.unwrap_or_default(),
                source_run_id: a.opt_str("source_run_id")?.filter(|s| !s.is_empty()),
                params: a.pairs("params")?,
                tags: a.pairs("tags")?,
            };
            let m = store.create_logged_model(&new)?;
            Ok(json!({ "model": json::logged_model(&m, root) }))
        }
        ("POST", ["search"]) => {
            let text = a.opt_str("filter")?.unwrap_or_default();
            let clauses = filter::parse(&text)?;
            filter::check_attributes(&clauses, json::LOGGED_MODEL_ATTRIBUTES, &text)?;
            // order_by here is a list of {field_name, ascending} objects.
            let mut order = Vec::new();
            for o in a.objects("order_by")? {
                let term = format!(
                    "{} {}",
                    o.str("field_name")?,
                    if matches!(o.0.get("ascending"), Some(Value::Bool(false))) {
                        "DESC"
                    } else {
                        "ASC"
                    }
                );
                order.extend(filter::parse_order_by(&[term])?);
            }
            let ids = a.str_list("experiment_ids")?;
            let mut found: Vec<_> = store
                .logged_models_in(&ids, ViewType::ActiveOnly)?
                .into_iter()
                .filter(|m| filter::matches(m, &clauses, Missing::Excluded))
                .collect();
            found.sort_by(|x, y| {
                filter::cmp_by(x, y, &order)
                    .then(y.creation_time.cmp(&x.creation_time))
                    .then(x.model_id.cmp(&y.model_id))
            });
            let (page, next) = paginate(found, a, 100, 10_000)?;
            let models: Vec<Value> = page.iter().map(|m| json::logged_model(m, root)).collect();
            Ok(with_token(json!({ "models": models }), next))
        }
        ("GET", [id]) => {
            let m = store.logged_model(id)?;
            let allow_deleted = a.opt_str("allow_deleted")?.is_some_and(|v| v == "true");
            if m.lifecycle_stage != "active" && !allow_deleted {
                return Err(ApiError::not_found(format!(
                    "Logged model with ID '{id}' not found."
                )));
            }
            Ok(json!({ "model": json::logged_model(&m, root) }))
        }
        ("PATCH", [id]) => {
            let status = a.str("status")?;
            let status = LoggedModelStatus::parse(&status).ok_or_else(|| {
                ApiError::invalid(format!(
                    "Invalid logged model status '{status}': use LOGGED_MODEL_READY or LOGGED_MODEL_UPLOAD_FAILED"
                ))
            })?;
            let m = store.set_logged_model_status(id, status)?;
            Ok(json!({ "model": json::logged_model(&m, root) }))
        }
        ("DELETE", [id]) => {
            store.delete_logged_model(id)?;
            Ok(json!({}))
        }
        ("PATCH", [id, "tags"]) => {
            store.set_logged_model_tags(id, &a.pairs("tags")?)?;
            Ok(json!({}))
        }
        ("POST", [id, "params"]) => {
            store.log_logged_model_params(id, &a.pairs("params")?)?;
            Ok(json!({}))
        }
        _ => Err(ApiError::endpoint_not_found(&format!(
            "{method} /api/2.0/mlflow/logged-models{rest}"
        ))),
    }
}

// ------------------------------------------------------------- pagination

fn paginate<T>(
    items: Vec<T>,
    a: &Args,
    default_max: i64,
    max_allowed: i64,
) -> ApiResult<(Vec<T>, Option<String>)> {
    let max = a.opt_i64("max_results")?.unwrap_or(default_max);
    if max <= 0 || max > max_allowed {
        return Err(ApiError::invalid(format!(
            "Invalid value {max} for parameter 'max_results' supplied: it must be between 1 and {max_allowed}"
        )));
    }
    let offset = match a.opt_str("page_token")?.filter(|t| !t.is_empty()) {
        None => 0,
        Some(t) => decode_token(&t)?,
    };
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(offset).take(max as usize).collect();
    let end = offset + page.len();
    let next = (end < total).then(|| encode_token(end));
    Ok((page, next))
}

fn encode_token(offset: usize) -> String {
    base64::engine::general_purpose::STANDARD.encode(json!({ "offset": offset }).to_string())
}

fn decode_token(token: &str) -> ApiResult<usize> {
    let bad = || {
        ApiError::invalid(format!(
            "Invalid page token '{token}': pass the next_page_token of a previous answer"
        ))
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(token)
        .map_err(|_| bad())?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    v.get("offset")
        .and_then(Value::as_u64)
        .map(|o| o as usize)
        .ok_or_else(bad)
}

/// A search's answer: an empty list is left out (`{}`), as MLflow's
/// protobuf JSON does; the token only when more rows exist.
fn with_token(mut v: Value, next: Option<String>) -> Value {
    if let Value::Object(m) = &mut v {
        m.retain(|_, x| !x.as_array().is_some_and(|a| a.is_empty()));
    }
    if let Some(t) = next {
        v["next_page_token"] = json!(t);
    }
    v
}
