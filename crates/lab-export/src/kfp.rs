//! A Kubeflow Pipelines v2 pipeline: the intermediate representation (IR)
//! YAML that `kfp`'s compiler writes and a KFP backend, or KFP's local
//! runner, executes.
//!
//! The pipeline is the lab's own loop, Data → Train → Validate → Register →
//! Package, as five container components. Every executor runs the static
//! `mlops-lab` CLI of the steps image (`mlops-lab step <name> …`), with
//! KFP's placeholders for parameters, artifact paths and output files.
//! Artifacts are passed between tasks: the validated dataset, the lab home
//! holding the training run (its tracking store), the model, its metrics,
//! the registry, and the model image's build context.
//!
//! The types are serde structs of our own for the subset of `PipelineSpec`
//! used, with fields in the order `kfp` writes them (alphabetical), so a
//! misspelt field does not compile and the file reads like a compiled one.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{ExportError, Result, to_yaml};

/// IR schema version `kfp` 2.x writes.
pub const SCHEMA_VERSION: &str = "2.1.0";

/// What the pipeline runs, and the defaults of its parameters (each can be
/// changed when the pipeline is run).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KfpSpec {
    /// e.g. `mlops-lab-auto-mpg-drift` (lower case, digits and `-`).
    pub pipeline_name: String,
    pub description: String,
    /// The steps image, e.g. `mlops-lab/steps:0.1.0`.
    pub image: String,
    /// Written as `sdkVersion` (who wrote the IR).
    pub sdk_version: String,
    pub dataset: String,
    /// A drift scenario of `dataset`: train on its reference slice (empty:
    /// the whole dataset).
    pub scenario: String,
    /// Model kind, e.g. `linear-regression`.
    pub model: String,
    /// Hyper-parameters as a JSON object, e.g. `{"alpha": 0.1}`.
    pub hyperparams: String,
    pub seed: u64,
    pub test_fraction: f64,
    /// Validation gate thresholds as a JSON object, e.g. `{"r2": 0.7}`.
    pub gate: String,
    /// Registered model name, e.g. `auto-mpg-mpg`.
    pub model_name: String,
    /// Alias the Register step sets on the new version.
    pub alias: String,
}

/// One part of the pipeline and a line saying what it is for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KfpPart {
    /// `parameter`, `task` or `output`.
    pub kind: String,
    pub name: String,
    pub explanation: String,
}

/// The generated pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KfpPipeline {
    pub yaml: String,
    pub parts: Vec<KfpPart>,
}

// ---- the IR, as much of it as the pipeline uses ----

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PipelineSpec {
    components: BTreeMap<String, ComponentSpec>,
    deployment_spec: DeploymentSpec,
    pipeline_info: PipelineInfo,
    root: ComponentSpec,
    schema_version: &'static str,
    sdk_version: String,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct ComponentSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    dag: Option<Dag>,
    #[serde(skip_serializing_if = "Option::is_none")]
    executor_label: Option<String>,
    #[serde(skip_serializing_if = "Definitions::is_empty")]
    input_definitions: Definitions,
    #[serde(skip_serializing_if = "Definitions::is_empty")]
    output_definitions: Definitions,
}

#[derive(Serialize, Default)]
struct Definitions {
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    artifacts: BTreeMap<String, ArtifactDef>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    parameters: BTreeMap<String, ParameterDef>,
}

impl Definitions {
    fn is_empty(&self) -> bool {
        self.artifacts.is_empty() && self.parameters.is_empty()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactDef {
    artifact_type: ArtifactType,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactType {
    schema_title: &'static str,
    schema_version: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ParameterDef {
    #[serde(skip_serializing_if = "Option::is_none")]
    default_value: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    is_optional: Option<bool>,
    parameter_type: &'static str,
}

#[derive(Serialize)]
struct DeploymentSpec {
    executors: BTreeMap<String, Executor>,
}

#[derive(Serialize)]
struct Executor {
    container: Container,
}

#[derive(Serialize)]
struct Container {
    args: Vec<String>,
    command: Vec<String>,
    image: String,
}

#[derive(Serialize)]
struct PipelineInfo {
    description: String,
    name: String,
}

#[derive(Serialize)]
struct Dag {
    #[serde(skip_serializing_if = "Option::is_none")]
    outputs: Option<DagOutputs>,
    tasks: BTreeMap<String, Task>,
}

#[derive(Serialize)]
struct DagOutputs {
    artifacts: BTreeMap<String, DagOutputArtifact>,
    parameters: BTreeMap<String, DagOutputParameter>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DagOutputArtifact {
    artifact_selectors: Vec<ArtifactSelector>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactSelector {
    output_artifact_key: String,
    producer_subtask: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DagOutputParameter {
    value_from_parameter: ParameterSelector,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ParameterSelector {
    output_parameter_key: String,
    producer_subtask: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Task {
    caching_options: CachingOptions,
    component_ref: ComponentRef,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    dependent_tasks: Vec<String>,
    inputs: TaskInputs,
    task_info: TaskInfo,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CachingOptions {
    enable_cache: bool,
}

#[derive(Serialize)]
struct ComponentRef {
    name: String,
}

#[derive(Serialize)]
struct TaskInfo {
    name: String,
}

#[derive(Serialize, Default)]
struct TaskInputs {
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    artifacts: BTreeMap<String, ArtifactInput>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    parameters: BTreeMap<String, ParameterInput>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactInput {
    task_output_artifact: TaskOutputArtifact,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TaskOutputArtifact {
    output_artifact_key: String,
    producer_task: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
enum ParameterInput {
    ComponentInputParameter(String),
    TaskOutputParameter {
        #[serde(rename = "outputParameterKey")]
        output_parameter_key: String,
        #[serde(rename = "producerTask")]
        producer_task: String,
    },
}

// ---- the pipeline ----

/// Parameter types, as the IR names them.
const STRING: &str = "STRING";
const INTEGER: &str = "NUMBER_INTEGER";
const DOUBLE: &str = "NUMBER_DOUBLE";
const BOOLEAN: &str = "BOOLEAN";

/// Artifact types (KFP's `system` schema titles).
const DATASET: &str = "system.Dataset";
const MODEL: &str = "system.Model";
const METRICS: &str = "system.Metrics";
const ARTIFACT: &str = "system.Artifact";

/// Where a step's input parameter comes from.
enum From {
    /// A pipeline parameter of the same name.
    Pipeline,
    /// Another task's output parameter.
    Task(&'static str, &'static str),
}

struct Step {
    name: &'static str,
    explanation: &'static str,
    /// (name, type, where from)
    params_in: Vec<(&'static str, &'static str, From)>,
    /// (name, schema title, producer task, its output key)
    artifacts_in: Vec<(&'static str, &'static str, &'static str, &'static str)>,
    /// (name, schema title, description)
    artifacts_out: Vec<(&'static str, &'static str, &'static str)>,
    params_out: Vec<(&'static str, &'static str)>,
    /// `mlops-lab step <name>` flags: (flag, placeholder).
    flags: Vec<(&'static str, String)>,
    /// Tasks to wait for beyond those whose outputs it reads.
    after: Vec<&'static str>,
}

fn p_in(name: &str) -> String {
    format!("{{{{$.inputs.parameters['{name}']}}}}")
}

fn a_in(name: &str) -> String {
    format!("{{{{$.inputs.artifacts['{name}'].path}}}}")
}

fn a_out(name: &str) -> String {
    format!("{{{{$.outputs.artifacts['{name}'].uri}}}}")
}

fn p_out(name: &str) -> String {
    format!("{{{{$.outputs.parameters['{name}'].output_file}}}}")
}

/// The file KFP reads the step's output artifacts (and their metadata) from.
const EXECUTOR_OUTPUT: &str = "{{$.outputs.output_file}}";

fn steps() -> Vec<Step> {
    vec![
        Step {
            name: "data",
            explanation: "Data: loads the dataset (or the scenario's reference slice) from the sample data in the image, checks the catalogue's expectations (the step fails on a broken one) and outputs the rows as a CSV Dataset with its row count and SHA-256 digest: the data version the model is trained on.",
            params_in: vec![
                ("dataset", STRING, From::Pipeline),
                ("scenario", STRING, From::Pipeline),
            ],
            artifacts_in: vec![],
            artifacts_out: vec![("dataset", DATASET, "The validated rows (CSV).")],
            params_out: vec![("rows", INTEGER), ("digest", STRING)],
            flags: vec![
                ("--dataset", p_in("dataset")),
                ("--scenario", p_in("scenario")),
                ("--out", a_out("dataset")),
                ("--rows-file", p_out("rows")),
                ("--digest-file", p_out("digest")),
            ],
            after: vec![],
        },
        Step {
            name: "train",
            explanation: "Train: fits the model on the Dataset exactly as `mlops-lab train` does (same split, seed and preprocessing, so the same metrics and the same model bytes) in a fresh lab home, and outputs that lab home (the run's tracking store), the model artifact and its test metrics.",
            params_in: vec![
                ("dataset", STRING, From::Pipeline),
                ("model", STRING, From::Pipeline),
                ("hyperparams", STRING, From::Pipeline),
                ("seed", INTEGER, From::Pipeline),
                ("test_fraction", DOUBLE, From::Pipeline),
            ],
            artifacts_in: vec![("data", DATASET, "data", "dataset")],
            artifacts_out: vec![
                (
                    "lab",
                    ARTIFACT,
                    "A lab home holding the training run: open it with `mlops-lab --home PATH runs list`.",
                ),
                ("model", MODEL, "The model artifact (model.json)."),
                ("metrics", METRICS, "Test-split metrics."),
            ],
            params_out: vec![("run_id", STRING)],
            flags: vec![
                ("--data", a_in("data")),
                ("--dataset", p_in("dataset")),
                ("--model", p_in("model")),
                ("--hyperparams", p_in("hyperparams")),
                ("--seed", p_in("seed")),
                ("--test-fraction", p_in("test_fraction")),
                ("--lab", a_out("lab")),
                ("--model-out", a_out("model")),
                ("--metrics", a_out("metrics")),
                ("--run-id-file", p_out("run_id")),
            ],
            after: vec![],
        },
        Step {
            name: "validate",
            explanation: "Validate: the quality gate, as a CI pipeline's test stage. It reads the run's metrics from the lab home and checks them against the gate thresholds; below a threshold the step fails, so nothing is registered or packaged.",
            params_in: vec![
                ("run_id", STRING, From::Task("train", "run_id")),
                ("gate", STRING, From::Pipeline),
            ],
            artifacts_in: vec![("lab", ARTIFACT, "train", "lab")],
            artifacts_out: vec![("report", METRICS, "Each gate check's value.")],
            params_out: vec![("passed", BOOLEAN)],
            flags: vec![
                ("--lab", a_in("lab")),
                ("--run-id", p_in("run_id")),
                ("--gate", p_in("gate")),
                ("--report", a_out("report")),
                ("--passed-file", p_out("passed")),
            ],
            after: vec![],
        },
        Step {
            name: "register",
            explanation: "Register: copies the lab home, registers the run's model as a new version of the registered model and points the alias at it, as `mlops-lab models register` and `alias` do. It runs only after the gate passed, and outputs the registry.",
            params_in: vec![
                ("run_id", STRING, From::Task("train", "run_id")),
                ("gate_passed", BOOLEAN, From::Task("validate", "passed")),
                ("model_name", STRING, From::Pipeline),
                ("alias", STRING, From::Pipeline),
            ],
            artifacts_in: vec![("lab", ARTIFACT, "train", "lab")],
            artifacts_out: vec![(
                "registry",
                ARTIFACT,
                "A lab home with the registered version: `mlops-lab --home PATH models list`.",
            )],
            params_out: vec![("version", INTEGER)],
            flags: vec![
                ("--lab", a_in("lab")),
                ("--run-id", p_in("run_id")),
                ("--gate-passed", p_in("gate_passed")),
                ("--name", p_in("model_name")),
                ("--alias", p_in("alias")),
                ("--registry", a_out("registry")),
                ("--version-file", p_out("version")),
            ],
            after: vec!["validate"],
        },
        Step {
            name: "package",
            explanation: "Package: writes the model image's build context, the same Dockerfile, static model server and model.json `mlops-lab deploy` builds FROM scratch. A pipeline step has no Docker daemon: on a cluster, hand the context to Kaniko or BuildKit; on your laptop, `docker build` it.",
            params_in: vec![
                ("model_name", STRING, From::Pipeline),
                ("alias", STRING, From::Pipeline),
            ],
            artifacts_in: vec![("registry", ARTIFACT, "register", "registry")],
            artifacts_out: vec![(
                "context",
                ARTIFACT,
                "The image's build context: Dockerfile, lab-serve, model.json.",
            )],
            params_out: vec![("image_tag", STRING)],
            flags: vec![
                ("--registry", a_in("registry")),
                ("--name", p_in("model_name")),
                ("--alias", p_in("alias")),
                ("--context", a_out("context")),
                ("--tag-file", p_out("image_tag")),
            ],
            after: vec![],
        },
    ]
}

/// The pipeline's parameters: (name, type, default, explanation).
fn parameters(spec: &KfpSpec) -> Result<Vec<(&'static str, &'static str, Value, String)>> {
    let hyper: Value = serde_json::from_str(&spec.hyperparams).map_err(|e| {
        ExportError::Invalid(format!(
            "hyper-parameters must be a JSON object, as {{\"alpha\": 0.1}}: {e}"
        ))
    })?;
    let gate: Value = serde_json::from_str(&spec.gate).map_err(|e| {
        ExportError::Invalid(format!(
            "gate thresholds must be a JSON object, as {{\"r2\": 0.7}}: {e}"
        ))
    })?;
    if !hyper.is_object() || !gate.is_object() {
        return Err(ExportError::Invalid(
            "hyper-parameters and gate thresholds are JSON objects".into(),
        ));
    }
    if !(spec.test_fraction > 0.0 && spec.test_fraction < 1.0) {
        return Err(ExportError::Invalid(format!(
            "test fraction {} is not between 0 and 1",
            spec.test_fraction
        )));
    }
    Ok(vec![
        (
            "dataset",
            STRING,
            Value::from(spec.dataset.as_str()),
            "Sample dataset the pipeline trains on (in the steps image).".into(),
        ),
        (
            "scenario",
            STRING,
            Value::from(spec.scenario.as_str()),
            "Drift scenario of the dataset: train on its reference slice. Empty: the whole dataset."
                .into(),
        ),
        (
            "model",
            STRING,
            Value::from(spec.model.as_str()),
            "Model kind (`mlops-lab params MODEL` lists its hyper-parameters).".into(),
        ),
        (
            "hyperparams",
            STRING,
            Value::from(spec.hyperparams.as_str()),
            "Hyper-parameters as a JSON object, e.g. {\"alpha\": 0.1}.".into(),
        ),
        (
            "seed",
            INTEGER,
            // The IR's protobuf Value has only doubles.
            Value::from(spec.seed as f64),
            "Seed of the train/test split (and of randomised models).".into(),
        ),
        (
            "test_fraction",
            DOUBLE,
            Value::from(spec.test_fraction),
            "Share of the rows held out for the test metrics.".into(),
        ),
        (
            "gate",
            STRING,
            Value::from(spec.gate.as_str()),
            "Validation gate: minimum (or, for error metrics, maximum) test metrics, as JSON."
                .into(),
        ),
        (
            "model_name",
            STRING,
            Value::from(spec.model_name.as_str()),
            "Registered model the new version joins.".into(),
        ),
        (
            "alias",
            STRING,
            Value::from(spec.alias.as_str()),
            "Alias set on the new version (a mutable tag, like `latest` on an image).".into(),
        ),
    ])
}

/// A valid KFP pipeline name: lower case letters, digits and `-`.
pub fn pipeline_name(s: &str) -> String {
    let name: String = s
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    name.trim_matches('-').to_string()
}

/// The pipeline's IR YAML, and a line per parameter, task and output.
pub fn pipeline(spec: &KfpSpec) -> Result<KfpPipeline> {
    if spec.pipeline_name.is_empty() || pipeline_name(&spec.pipeline_name) != spec.pipeline_name {
        return Err(ExportError::Invalid(format!(
            "`{}` is not a pipeline name: lower case letters, digits and `-`",
            spec.pipeline_name
        )));
    }
    let params = parameters(spec)?;
    let steps = steps();
    let mut parts = Vec::new();
    let mut components = BTreeMap::new();
    let mut executors = BTreeMap::new();
    let mut tasks = BTreeMap::new();
    for s in &steps {
        let comp = format!("comp-{}", s.name);
        let exec = format!("exec-{}", s.name);
        let mut inputs = Definitions::default();
        let mut task_inputs = TaskInputs::default();
        let mut deps: Vec<String> = s.after.iter().map(|t| t.to_string()).collect();
        for (name, ty, from) in &s.params_in {
            inputs.parameters.insert(
                name.to_string(),
                ParameterDef {
                    default_value: None,
                    description: None,
                    is_optional: None,
                    parameter_type: ty,
                },
            );
            let input = match from {
                From::Pipeline => ParameterInput::ComponentInputParameter(name.to_string()),
                From::Task(task, key) => {
                    deps.push(task.to_string());
                    ParameterInput::TaskOutputParameter {
                        output_parameter_key: key.to_string(),
                        producer_task: task.to_string(),
                    }
                }
            };
            task_inputs.parameters.insert(name.to_string(), input);
        }
        for (name, title, task, key) in &s.artifacts_in {
            inputs.artifacts.insert(
                name.to_string(),
                ArtifactDef {
                    artifact_type: artifact_type(title),
                    description: None,
                },
            );
            deps.push(task.to_string());
            task_inputs.artifacts.insert(
                name.to_string(),
                ArtifactInput {
                    task_output_artifact: TaskOutputArtifact {
                        output_artifact_key: key.to_string(),
                        producer_task: task.to_string(),
                    },
                },
            );
        }
        let mut outputs = Definitions::default();
        for (name, title, description) in &s.artifacts_out {
            outputs.artifacts.insert(
                name.to_string(),
                ArtifactDef {
                    artifact_type: artifact_type(title),
                    description: Some(description.to_string()),
                },
            );
        }
        for (name, ty) in &s.params_out {
            outputs.parameters.insert(
                name.to_string(),
                ParameterDef {
                    default_value: None,
                    description: None,
                    is_optional: None,
                    parameter_type: ty,
                },
            );
        }
        components.insert(
            comp.clone(),
            ComponentSpec {
                dag: None,
                executor_label: Some(exec.clone()),
                input_definitions: inputs,
                output_definitions: outputs,
            },
        );
        let mut args = Vec::new();
        for (flag, value) in &s.flags {
            args.push(flag.to_string());
            args.push(value.clone());
        }
        args.push("--executor-output".into());
        args.push(EXECUTOR_OUTPUT.into());
        executors.insert(
            exec,
            Executor {
                container: Container {
                    args,
                    command: vec!["/mlops-lab".into(), "step".into(), s.name.into()],
                    image: spec.image.clone(),
                },
            },
        );
        deps.sort();
        deps.dedup();
        tasks.insert(
            s.name.to_string(),
            Task {
                caching_options: CachingOptions { enable_cache: true },
                component_ref: ComponentRef { name: comp },
                dependent_tasks: deps,
                inputs: task_inputs,
                task_info: TaskInfo {
                    name: s.name.to_string(),
                },
            },
        );
        parts.push(KfpPart {
            kind: "task".into(),
            name: s.name.into(),
            explanation: s.explanation.into(),
        });
    }

    let mut root_inputs = Definitions::default();
    for (name, ty, default, explanation) in &params {
        root_inputs.parameters.insert(
            name.to_string(),
            ParameterDef {
                default_value: Some(default.clone()),
                description: Some(explanation.clone()),
                is_optional: Some(true),
                parameter_type: ty,
            },
        );
        let shown = match default {
            Value::Number(n) if *ty == INTEGER => format!("{}", n.as_f64().unwrap_or(0.0) as i64),
            v => v.to_string(),
        };
        parts.insert(
            parts.iter().filter(|p| p.kind == "parameter").count(),
            KfpPart {
                kind: "parameter".into(),
                name: name.to_string(),
                explanation: format!("{explanation} Default: {shown}."),
            },
        );
    }
    // What a run of the pipeline returns (`run.outputs[...]` in kfp.local).
    let outputs_art = [
        ("model", MODEL, "train", "The trained model artifact."),
        ("metrics", METRICS, "train", "Its test metrics."),
        (
            "context",
            ARTIFACT,
            "package",
            "The model image's build context.",
        ),
    ];
    let outputs_par = [(
        "image_tag",
        STRING,
        "package",
        "The tag to build the context as.",
    )];
    let mut root_outputs = Definitions::default();
    let mut dag_outputs = DagOutputs {
        artifacts: BTreeMap::new(),
        parameters: BTreeMap::new(),
    };
    for (name, title, task, explanation) in outputs_art {
        root_outputs.artifacts.insert(
            name.into(),
            ArtifactDef {
                artifact_type: artifact_type(title),
                description: Some(explanation.into()),
            },
        );
        dag_outputs.artifacts.insert(
            name.into(),
            DagOutputArtifact {
                artifact_selectors: vec![ArtifactSelector {
                    output_artifact_key: name.into(),
                    producer_subtask: task.into(),
                }],
            },
        );
        parts.push(KfpPart {
            kind: "output".into(),
            name: name.into(),
            explanation: format!("{explanation} (from the {task} task)"),
        });
    }
    for (name, ty, task, explanation) in outputs_par {
        root_outputs.parameters.insert(
            name.into(),
            ParameterDef {
                default_value: None,
                description: Some(explanation.into()),
                is_optional: None,
                parameter_type: ty,
            },
        );
        dag_outputs.parameters.insert(
            name.into(),
            DagOutputParameter {
                value_from_parameter: ParameterSelector {
                    output_parameter_key: name.into(),
                    producer_subtask: task.into(),
                },
            },
        );
        parts.push(KfpPart {
            kind: "output".into(),
            name: name.into(),
            explanation: format!("{explanation} (from the {task} task)"),
        });
    }

    let ir = PipelineSpec {
        components,
        deployment_spec: DeploymentSpec { executors },
        pipeline_info: PipelineInfo {
            description: spec.description.clone(),
            name: spec.pipeline_name.clone(),
        },
        root: ComponentSpec {
            dag: Some(Dag {
                outputs: Some(dag_outputs),
                tasks,
            }),
            executor_label: None,
            input_definitions: root_inputs,
            output_definitions: root_outputs,
        },
        schema_version: SCHEMA_VERSION,
        sdk_version: spec.sdk_version.clone(),
    };
    let body = to_yaml("the Kubeflow pipeline", &ir)?;
    Ok(KfpPipeline {
        yaml: format!("{}{body}", header(spec, &params)),
        parts,
    })
}

fn artifact_type(title: &'static str) -> ArtifactType {
    ArtifactType {
        schema_title: title,
        schema_version: "0.0.1",
    }
}

/// The comment block `kfp`'s compiler starts a file with, and how to run it.
fn header(spec: &KfpSpec, params: &[(&str, &str, Value, String)]) -> String {
    let mut h = format!(
        "# PIPELINE DEFINITION\n# Name: {}\n# Description: {}\n# Inputs:\n",
        spec.pipeline_name, spec.description
    );
    for (name, ty, default, _) in params {
        let (ty, shown) = match *ty {
            INTEGER => ("int", format!("{}", default.as_f64().unwrap_or(0.0))),
            DOUBLE => ("float", default.to_string()),
            _ => ("str", format!("'{}'", default.as_str().unwrap_or(""))),
        };
        h.push_str(&format!("#    {name}: {ty} [Default: {shown}]\n"));
    }
    h.push_str(&format!(
        "# Outputs:\n#    context: system.Artifact\n#    image_tag: str\n#    metrics: system.Metrics\n#    model: system.Model\n#\n\
         # Every step runs the static mlops-lab CLI in {image}\n\
         # (`mlops-lab export kfp` builds it). Run the pipeline on your laptop with\n\
         # KFP's local runner (pip install kfp==2.17.3 docker):\n\
         #    from kfp import components, local\n\
         #    local.init(runner=local.DockerRunner(), pipeline_root=\"kfp-runs\")\n\
         #    run = components.load_component_from_file(\"{name}.yaml\")()\n",
        image = spec.image,
        name = spec.pipeline_name,
    ));
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> KfpSpec {
        KfpSpec {
            pipeline_name: "mlops-lab-auto-mpg-drift".into(),
            description: "test".into(),
            image: "mlops-lab/steps:0.1.0".into(),
            sdk_version: "mlops-lab-0.1.0".into(),
            dataset: "auto-mpg".into(),
            scenario: "auto-mpg-drift".into(),
            model: "linear-regression".into(),
            hyperparams: "{}".into(),
            seed: 42,
            test_fraction: 0.25,
            gate: r#"{"r2": 0.7}"#.into(),
            model_name: "auto-mpg-mpg".into(),
            alias: "champion".into(),
        }
    }

    #[test]
    fn tasks_wait_for_what_they_read() {
        let p = pipeline(&spec()).unwrap();
        let y = &p.yaml;
        assert!(y.starts_with("# PIPELINE DEFINITION\n"));
        assert!(y.contains("\nschemaVersion: \"2.1.0\"\n"), "{y}");
        // register reads train's outputs and validate's verdict.
        let register = y.split("\n      register:\n").nth(1).unwrap();
        let deps = register.split("dependentTasks:\n").nth(1).unwrap();
        assert!(
            deps.starts_with("        - train\n        - validate\n"),
            "{deps}"
        );
        assert!(
            y.contains("- \"{{$.outputs.artifacts['model'].uri}}\"\n"),
            "{y}"
        );
        assert_eq!(p.parts.iter().filter(|x| x.kind == "task").count(), 5);
        assert_eq!(p.parts.iter().filter(|x| x.kind == "parameter").count(), 9);
    }

    #[test]
    fn bad_values_are_refused() {
        let mut s = spec();
        s.gate = "r2=0.7".into();
        assert!(
            pipeline(&s)
                .unwrap_err()
                .to_string()
                .contains("JSON object")
        );
        let mut s = spec();
        s.pipeline_name = "Mine!".into();
        assert!(pipeline(&s).is_err());
        let mut s = spec();
        s.test_fraction = 1.0;
        assert!(pipeline(&s).is_err());
    }
}
