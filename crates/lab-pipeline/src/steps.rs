//! The executors of an exported Kubeflow pipeline: what `mlops-lab step
//! NAME` runs in the steps image, one function per task.
//!
//! Each step reads its inputs from the paths KFP gives, does the lab's own
//! work (the same code `mlops-lab train`, `models register` and `deploy`
//! run), writes its outputs, and lists its output artifacts with their
//! metadata in KFP's `executor_output.json` (KFP's local runner passes an
//! artifact downstream only when it is listed there). Output artifacts are
//! given as URIs; a `gs://`, `s3://` or `minio://` URI is read at the path
//! where a KFP backend mounts it (`/gcs/…`, `/s3/…`, `/minio/…`).
//!
//! Steps hand each other the lab home that holds the training run (its
//! SQLite tracking store and artifacts) as an artifact, so a run needs no
//! service and stays inspectable: `mlops-lab --home PATH runs list`. A step that
//! reads a lab home works on a copy; inputs are never changed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use lab_data::Catalog;
use lab_model::ModelKind;
use lab_store::LabHome;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::data::load_source;
use crate::lab::Lab;
use crate::request::{DataSource, ModelRef, TrainRequest};
use crate::{PipelineError, Result};

/// What a step did: a line for the task's log, and its outputs.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StepReport {
    pub step: String,
    pub summary: String,
    /// Output parameters by name.
    pub parameters: BTreeMap<String, Value>,
}

/// The Data step: `dataset` (or its `scenario`'s reference slice) from the
/// catalogue, validated, written as CSV.
#[derive(Debug, Clone)]
pub struct DataStep {
    pub dataset: String,
    /// Empty: the whole dataset.
    pub scenario: String,
    pub out: String,
    pub rows_file: PathBuf,
    pub digest_file: PathBuf,
    pub executor_output: PathBuf,
}

#[derive(Debug, Clone)]
pub struct TrainStep {
    /// The Data step's CSV.
    pub data: PathBuf,
    pub dataset: String,
    pub model: String,
    /// A JSON object of hyper-parameters.
    pub hyperparams: String,
    /// As KFP renders it (`42`, or `42.0` from a default).
    pub seed: String,
    pub test_fraction: String,
    pub lab: String,
    pub model_out: String,
    pub metrics: String,
    pub run_id_file: PathBuf,
    pub executor_output: PathBuf,
}

#[derive(Debug, Clone)]
pub struct ValidateStep {
    pub lab: PathBuf,
    pub run_id: String,
    /// A JSON object of thresholds, e.g. `{"r2": 0.7}`.
    pub gate: String,
    pub report: String,
    pub passed_file: PathBuf,
    pub executor_output: PathBuf,
}

#[derive(Debug, Clone)]
pub struct RegisterStep {
    pub lab: PathBuf,
    pub run_id: String,
    /// The Validate step's verdict (`true`).
    pub gate_passed: String,
    pub name: String,
    pub alias: String,
    pub registry: String,
    pub version_file: PathBuf,
    pub executor_output: PathBuf,
}

#[derive(Debug, Clone)]
pub struct PackageStep {
    pub registry: PathBuf,
    pub name: String,
    pub alias: String,
    pub context: String,
    pub tag_file: PathBuf,
    pub executor_output: PathBuf,
}

/// Where KFP makes an artifact URI readable in the container: its remote
/// stores under `/gcs`, `/s3` and `/minio`; a local runner's URI is a path.
pub fn local_path(uri: &str) -> PathBuf {
    for (scheme, mount) in [
        ("gs://", "/gcs/"),
        ("s3://", "/s3/"),
        ("minio://", "/minio/"),
    ] {
        if let Some(rest) = uri.strip_prefix(scheme) {
            return PathBuf::from(format!("{mount}{rest}"));
        }
    }
    PathBuf::from(uri)
}

/// The outputs a step lists in `executor_output.json`.
#[derive(Default)]
struct Outputs {
    artifacts: BTreeMap<String, Value>,
    parameters: BTreeMap<String, Value>,
}

impl Outputs {
    fn artifact(&mut self, name: &str, uri: &str, metadata: Value) {
        self.artifacts.insert(
            name.into(),
            json!({"artifacts": [{"name": name, "uri": uri, "metadata": metadata}]}),
        );
    }

    /// Write an output parameter's file (KFP reads STRING raw, the other
    /// types as JSON) and list it.
    fn parameter(&mut self, name: &str, file: &Path, value: Value) -> Result<()> {
        let text = match &value {
            Value::String(s) => s.clone(),
            v => v.to_string(),
        };
        write_file(file, text.as_bytes())?;
        self.parameters.insert(name.into(), value);
        Ok(())
    }

    fn write(self, path: &Path) -> Result<()> {
        let doc = json!({"artifacts": self.artifacts, "parameterValues": self.parameters});
        write_file(path, doc.to_string().as_bytes())
    }
}

/// Write `bytes` to `path`, creating its folder: KFP's local runner does not
/// create a task's output folder for a container step.
fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        create_dir(dir)?;
    }
    std::fs::write(path, bytes).map_err(|e| io_error("cannot write", path, e))
}

fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| io_error("cannot create", dir, e))
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> PipelineError {
    let hint = if e.kind() == std::io::ErrorKind::PermissionDenied {
        " (KFP's local runner mounts its pipeline root as root: run the steps as root, or create the pipeline root beforehand, writable for the user you pass to DockerRunner(user=...))"
    } else {
        ""
    };
    PipelineError::Invalid(format!("{what} {}: {e}{hint}", path.display()))
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// An integer parameter as KFP renders it: `42`, or `42.0` (the IR's
/// defaults are doubles).
fn parse_integer(name: &str, s: &str) -> Result<u64> {
    let s = s.trim();
    if let Ok(n) = s.parse::<u64>() {
        return Ok(n);
    }
    match s.parse::<f64>() {
        Ok(x) if x >= 0.0 && x.fract() == 0.0 && x < 2f64.powi(53) => Ok(x as u64),
        _ => Err(PipelineError::Invalid(format!(
            "{name} must be a whole number ≥ 0, not `{s}`"
        ))),
    }
}

fn json_object(name: &str, s: &str, example: &str) -> Result<serde_json::Map<String, Value>> {
    let s = s.trim();
    let s = if s.is_empty() { "{}" } else { s };
    match serde_json::from_str::<Value>(s) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(PipelineError::Invalid(format!(
            "{name} must be a JSON object, as {example}, not `{s}`"
        ))),
    }
}

/// Copy a lab home (without its process leases) to `to`, which must not
/// exist or be empty.
fn copy_home(from: &Path, to: &Path) -> Result<()> {
    LabHome::existing(from)?;
    copy_dir(from, to, true)
}

fn copy_dir(from: &Path, to: &Path, top: bool) -> Result<()> {
    create_dir(to)?;
    let entries = std::fs::read_dir(from).map_err(|e| io_error("cannot read", from, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| io_error("cannot read", from, e))?;
        let name = entry.file_name();
        if top && name == "locks" {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        let ty = entry
            .file_type()
            .map_err(|e| io_error("cannot read", &src, e))?;
        if ty.is_dir() {
            copy_dir(&src, &dst, false)?;
        } else if ty.is_file() {
            std::fs::copy(&src, &dst).map_err(|e| io_error("cannot copy", &src, e))?;
        }
    }
    Ok(())
}

/// A copy of the lab home at `from`, opened, in a work folder beside
/// `beside` that is removed when dropped.
struct WorkCopy {
    dir: PathBuf,
    lab: Option<Lab>,
}

impl WorkCopy {
    fn open(from: &Path, beside: &Path) -> Result<WorkCopy> {
        let dir = beside.with_file_name(format!(
            ".{}.lab-work",
            beside
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("step")
        ));
        let _ = std::fs::remove_dir_all(&dir);
        copy_home(from, &dir)?;
        let lab = Lab::open(&LabHome::existing(&dir)?, Catalog::load_default()?)?;
        Ok(WorkCopy {
            dir,
            lab: Some(lab),
        })
    }

    fn lab(&self) -> &Lab {
        self.lab.as_ref().expect("open until dropped")
    }
}

impl Drop for WorkCopy {
    fn drop(&mut self) {
        self.lab.take();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Data: load, check the catalogue's expectations, write the rows.
pub fn data(s: &DataStep) -> Result<StepReport> {
    let catalog = Catalog::load_default()?;
    let scenario = s.scenario.trim();
    // The expectations are the whole dataset's (its row count among them),
    // as the lab's pipeline checks them; a scenario then takes its slice.
    let whole = DataSource::Catalog {
        name: s.dataset.clone(),
    };
    let (table, spec) = load_source(&catalog, &whole)?;
    let report = lab_data::validate(&table, spec.and_then(|x| x.expect.as_ref()))?;
    if !report.success() {
        let failed: Vec<String> = report
            .results
            .iter()
            .filter(|r| !r.passed)
            .map(|r| {
                format!(
                    "{}{}: expected {}, observed {}",
                    r.expectation,
                    r.column
                        .as_deref()
                        .map(|c| format!(" ({c})"))
                        .unwrap_or_default(),
                    r.expected,
                    r.observed
                )
            })
            .collect();
        return Err(PipelineError::Invalid(format!(
            "data validation failed: {} of {} expectations: {}",
            report.failed,
            report.failed + report.passed,
            failed.join("; ")
        )));
    }
    let table = if scenario.is_empty() {
        table
    } else {
        let slice = DataSource::Scenario {
            name: s.dataset.clone(),
            scenario: scenario.to_string(),
        };
        load_source(&catalog, &slice)?.0
    };
    let csv = table.to_csv()?;
    let digest = format!("sha256:{}", sha256_hex(&csv));
    write_file(&local_path(&s.out), &csv)?;
    let mut out = Outputs::default();
    let rows = table.rows();
    out.artifact(
        "dataset",
        &s.out,
        json!({"dataset": s.dataset, "scenario": scenario, "rows": rows,
               "columns": table.column_names().len(), "digest": digest}),
    );
    out.parameter("rows", &s.rows_file, json!(rows))?;
    out.parameter("digest", &s.digest_file, json!(digest))?;
    let parameters = out.parameters.clone();
    out.write(&s.executor_output)?;
    let what = if scenario.is_empty() {
        String::new()
    } else {
        format!("; reference slice of {scenario}: {rows} rows")
    };
    Ok(StepReport {
        step: "data".into(),
        summary: format!(
            "{}: {} rows, {} expectations passed{what}; {digest}",
            s.dataset, report.rows, report.passed
        ),
        parameters,
    })
}

/// Train: `mlops-lab train` on the Data step's rows, in a fresh lab home.
pub fn train(s: &TrainStep) -> Result<StepReport> {
    let kind: ModelKind = s.model.trim().parse().map_err(PipelineError::Invalid)?;
    let seed = parse_integer("seed", &s.seed)?;
    let test_fraction: f64 = s.test_fraction.trim().parse().map_err(|_| {
        PipelineError::Invalid(format!(
            "test_fraction must be a number between 0 and 1, not `{}`",
            s.test_fraction
        ))
    })?;
    let params: BTreeMap<String, String> =
        json_object("hyperparams", &s.hyperparams, r#"{"alpha": 0.1}"#)?
            .into_iter()
            .map(|(k, v)| {
                let v = match v {
                    Value::String(s) => s,
                    v => v.to_string(),
                };
                (k, v)
            })
            .collect();
    let lab_dir = local_path(&s.lab);
    let home = LabHome::at(&lab_dir)?;
    let lab = Lab::open(&home, Catalog::load_default()?)?;
    let req = TrainRequest {
        params,
        seed: Some(seed),
        test_fraction,
        ..TrainRequest::new(
            DataSource::Snapshot {
                name: s.dataset.clone(),
                path: s.data.clone(),
            },
            kind,
        )
    };
    let trained = lab.train(&req, &|_| {})?;
    let artifact = home.confine(&trained.artifact_path)?;
    let model_bytes =
        std::fs::read(&artifact).map_err(|e| io_error("cannot read", &artifact, e))?;
    write_file(&local_path(&s.model_out), &model_bytes)?;
    let metrics = serde_json::to_vec_pretty(&trained.metrics).expect("numbers serialize");
    write_file(&local_path(&s.metrics), &metrics)?;
    drop(lab);

    let mut out = Outputs::default();
    out.artifact(
        "lab",
        &s.lab,
        json!({"run_id": trained.run_id, "experiment_id": trained.experiment_id}),
    );
    out.artifact(
        "model",
        &s.model_out,
        json!({"framework": "linfa", "model": kind.to_string(), "run_id": trained.run_id,
               "target": trained.target, "task": trained.task, "sha256": sha256_hex(&model_bytes)}),
    );
    out.artifact("metrics", &s.metrics, json!(trained.metrics));
    out.parameter("run_id", &s.run_id_file, json!(trained.run_id))?;
    let parameters = out.parameters.clone();
    out.write(&s.executor_output)?;
    let shown: Vec<String> = trained
        .metrics
        .iter()
        .map(|(k, v)| format!("{k}={v:.4}"))
        .collect();
    Ok(StepReport {
        step: "train".into(),
        summary: format!(
            "run {} ({kind}, seed {seed}, {} train / {} test rows): {}",
            trained.run_id,
            trained.train_rows,
            trained.test_rows,
            shown.join(" ")
        ),
        parameters,
    })
}

/// Validate: the run's metrics against the gate; fails below a threshold.
pub fn validate(s: &ValidateStep) -> Result<StepReport> {
    let thresholds: BTreeMap<String, f64> = json_object("gate", &s.gate, r#"{"r2": 0.7}"#)?
        .into_iter()
        .map(|(k, v)| match v.as_f64() {
            Some(x) => Ok((k, x)),
            None => Err(PipelineError::Invalid(format!(
                "gate threshold `{k}` must be a number, not {v}"
            ))),
        })
        .collect::<Result<_>>()?;
    if thresholds.is_empty() {
        return Err(PipelineError::Invalid(
            "the gate has no thresholds, so it would pass any model: give at least one, as {\"r2\": 0.7}".into(),
        ));
    }
    let report_path = local_path(&s.report);
    let work = WorkCopy::open(&s.lab, &report_path)?;
    let run = work.lab().run(s.run_id.trim())?;
    let result = lab_train::gate(&run.metrics, &thresholds);
    drop(work);
    let values: BTreeMap<String, f64> = result
        .checks
        .iter()
        .filter_map(|c| c.value.map(|v| (c.metric.clone(), v)))
        .collect();
    write_file(
        &report_path,
        &serde_json::to_vec_pretty(&result).expect("a gate result serializes"),
    )?;
    let mut out = Outputs::default();
    out.artifact("report", &s.report, json!(values));
    out.parameter("passed", &s.passed_file, json!(result.passed))?;
    let parameters = out.parameters.clone();
    out.write(&s.executor_output)?;
    let checks: Vec<String> = result
        .checks
        .iter()
        .map(|c| match c.value {
            Some(v) => format!(
                "{} {v:.4} (needs {} {}): {}",
                c.metric,
                c.op,
                c.threshold,
                if c.passed { "ok" } else { "FAILED" }
            ),
            None => format!(
                "{} not recorded by run {} (it has: {})",
                c.metric,
                run.run_id,
                run.metrics.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        })
        .collect();
    if !result.passed {
        return Err(PipelineError::Invalid(format!(
            "validation gate failed: {}; nothing is registered or packaged",
            checks.join("; ")
        )));
    }
    Ok(StepReport {
        step: "validate".into(),
        summary: format!("gate passed: {}", checks.join("; ")),
        parameters,
    })
}

/// Register: a copy of the lab home with the run's model registered and
/// aliased.
pub fn register(s: &RegisterStep) -> Result<StepReport> {
    if s.gate_passed.trim() != "true" {
        return Err(PipelineError::Invalid(format!(
            "the validation gate did not pass (passed = `{}`): nothing to register",
            s.gate_passed.trim()
        )));
    }
    let alias = s.alias.trim();
    if alias.is_empty() {
        return Err(PipelineError::Invalid(
            "alias is empty: give one, as champion".into(),
        ));
    }
    let dir = local_path(&s.registry);
    copy_home(&s.lab, &dir)?;
    let lab = Lab::open(&LabHome::existing(&dir)?, Catalog::load_default()?)?;
    let mv = lab.register(s.run_id.trim(), s.name.trim())?;
    let mv = lab.set_alias(&mv.name, mv.version, alias)?;
    drop(lab);
    let mut out = Outputs::default();
    out.artifact(
        "registry",
        &s.registry,
        json!({"name": mv.name, "version": mv.version, "alias": alias, "run_id": mv.run_id}),
    );
    out.parameter("version", &s.version_file, json!(mv.version))?;
    let parameters = out.parameters.clone();
    out.write(&s.executor_output)?;
    Ok(StepReport {
        step: "register".into(),
        summary: format!(
            "{} version {} (run {}) is now @{alias}",
            mv.name, mv.version, mv.run_id
        ),
        parameters,
    })
}

/// Package: the model image's build context, from the registry.
pub fn package(s: &PackageStep) -> Result<StepReport> {
    let context = local_path(&s.context);
    let work = WorkCopy::open(&s.registry, &context)?;
    let lab = work.lab();
    let mv = lab.resolve_model(&ModelRef::Alias(
        s.name.trim().to_string(),
        s.alias.trim().to_string(),
    ))?;
    crate::registry::require_servable(&mv)?;
    let spec = lab_deploy::DeploySpec {
        model_name: mv.name.clone(),
        model_version: mv.version,
        run_id: mv.run_id.clone(),
        artifact: lab.home().confine(&mv.source)?,
        dockerfile_out: None,
        local_dir: context.clone(),
        home_id: lab.home().id().to_string(),
    };
    let server = lab_deploy::static_server_binary()?;
    let files = lab_deploy::write_build_context(&spec, &server, &context)?;
    drop(work);
    let tag = lab_deploy::image_tag(&mv.name, mv.version);
    let mut out = Outputs::default();
    out.artifact(
        "context",
        &s.context,
        json!({"image_tag": tag, "files": files, "model": mv.name, "version": mv.version}),
    );
    out.parameter("image_tag", &s.tag_file, json!(tag))?;
    let parameters = out.parameters.clone();
    out.write(&s.executor_output)?;
    Ok(StepReport {
        step: "package".into(),
        summary: format!(
            "build context for {tag} ({}) in {}: docker build -t {tag} {}",
            files.join(", "),
            context.display(),
            context.display()
        ),
        parameters,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_map_to_kfp_mounts() {
        assert_eq!(
            local_path("gs://b/x/model"),
            PathBuf::from("/gcs/b/x/model")
        );
        assert_eq!(
            local_path("minio://mlpipeline/a"),
            PathBuf::from("/minio/mlpipeline/a")
        );
        assert_eq!(
            local_path("/tmp/root/t/model"),
            PathBuf::from("/tmp/root/t/model")
        );
    }

    #[test]
    fn integers_as_kfp_renders_them() {
        assert_eq!(parse_integer("seed", "42").unwrap(), 42);
        assert_eq!(parse_integer("seed", "42.0").unwrap(), 42);
        assert!(parse_integer("seed", "4.5").is_err());
        assert!(parse_integer("seed", "-1").is_err());
        assert!(parse_integer("seed", "x").is_err());
    }
}
