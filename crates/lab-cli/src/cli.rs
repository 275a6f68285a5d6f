//! The command line's shape: every subcommand, flag and default, for clap.
//! No behaviour here beyond turning fixed-set values into `lab-pipeline`
//! types; `commands` does the work.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use lab_pipeline::{DataSource, MissingPolicy, RunStatus, Task, TrafficMix};

#[derive(Parser)]
#[command(
    name = "mlops-lab",
    version,
    about = "MLOps Lab: data, training, tracking and a model registry on your laptop",
    long_about = "MLOps Lab runs the pipeline Data → Train → Validate → Package → Deploy → Monitor → Retrain \
                  locally on real datasets. Runs, metrics and the model registry live in SQLite under the \
                  lab home (MLOPS_LAB_HOME, default: your platform data folder)."
)]
pub struct Cli {
    /// Lab home folder (database and artifacts). Overrides MLOPS_LAB_HOME.
    #[arg(long, global = true, value_name = "DIR")]
    pub home: Option<PathBuf>,
    /// Print JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    /// More log output on stderr (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// List the shipped sample datasets.
    Datasets,
    /// Profile or validate data.
    Data {
        #[command(subcommand)]
        command: DataCommand,
    },
    /// Train a model: data → train → validate, recorded as a run.
    Train(Box<TrainArgs>),
    /// Inspect runs.
    Runs {
        #[command(subcommand)]
        command: RunsCommand,
    },
    /// List experiments.
    Experiments,
    /// The model registry.
    Models {
        #[command(subcommand)]
        command: ModelsCommand,
    },
    /// Package a registered model into a FROM scratch image and run it (or a local process).
    Deploy {
        /// NAME, NAME@alias or NAME:version (default: the latest version).
        model: String,
        /// Run the server as a local process instead of a Docker container.
        #[arg(long)]
        local: bool,
    },
    /// Running model servers.
    Deployments {
        #[command(subcommand)]
        command: Option<DeploymentsCommand>,
    },
    /// Send rows to a deployment (MLflow /invocations).
    Predict(PredictArgs),
    /// The pipeline, end to end.
    Pipeline {
        #[command(subcommand)]
        command: PipelineCommand,
    },
    /// Drift report of a shipped scenario (reference slice vs current slice).
    Drift {
        /// Scenario name (see `mlops-lab datasets`), e.g. auto-mpg-drift.
        #[arg(long)]
        scenario: String,
        /// Change a drift setting, e.g. --set ks_pvalue=0.01 --set dataset_share=0.3.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        settings: Vec<String>,
    },
    /// Deploy a model behind its service's stable endpoint (zero downtime:
    /// the new server is ready before traffic moves; the old one is drained).
    Rollout {
        /// NAME, NAME@alias or NAME:version.
        model: String,
        /// Service name (default: the service already serving the model, else the model name).
        #[arg(long)]
        service: Option<String>,
        #[arg(long)]
        local: bool,
    },
    /// Roll a service back to the version it served before.
    Rollback {
        service: String,
        #[arg(long)]
        local: bool,
    },
    /// Services: stable endpoints and the versions behind them.
    Services,
    /// Replay real rows of a dataset's drift scenario against a service.
    Traffic(Box<TrafficArgs>),
    /// Collect a service's prediction log and evaluate monitoring windows.
    Monitor {
        service: String,
        /// Window length, e.g. 10s, 1m.
        #[arg(long, default_value = "10s")]
        window: String,
        /// Change a drift setting, e.g. --set wasserstein=0.2.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        settings: Vec<String>,
    },
    /// A service's alerts, and its alert rules (--rule to change one).
    Alerts {
        service: String,
        /// metric=threshold, e.g. --rule drift_share=0.3 --rule latency_p99_ms=100.
        #[arg(long, value_name = "METRIC=THRESHOLD")]
        rule: Vec<String>,
    },
    /// Retrain a service's model on reference + newly labelled data; promote
    /// and roll out only if it beats the champion on recent labelled data.
    Retrain {
        service: String,
        #[arg(long)]
        local: bool,
    },
    /// Remove this lab home's containers, images and gateways, and the files
    /// the lab made in it (your own files there stay).
    Reset {
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// Export a model for the tools you meet at work (Kubernetes, KServe).
    Export {
        #[command(subcommand)]
        command: ExportCommand,
    },
    /// Serve MLflow's tracking and registry REST API over this lab, on
    /// 127.0.0.1 only, until Ctrl-C: MLflow's own client logs runs and
    /// models here, and they show up in the lab as its own do.
    TrackingServer {
        /// Port on 127.0.0.1 (0: any free port).
        #[arg(long, default_value_t = lab_pipeline::TRACKING_DEFAULT_PORT)]
        port: u16,
    },
    /// The course: the four-month roadmap as lessons that run the real
    /// steps and check your lab's state.
    Lessons {
        #[command(subcommand)]
        command: LessonsCommand,
    },
    /// Your own Python for the exercises: a venv in the lab home with the
    /// pinned packages the exercises are written for.
    Python {
        #[command(subcommand)]
        command: PythonCommand,
    },
    /// Exercises in your own Python, checked by the lab: starter files in
    /// your workspace, checks that run your code and compare its result
    /// with the lab's own.
    Exercises {
        /// Your workspace (default: $MLOPS_LAB_WORKSPACE, else
        /// ~/mlops-lab-workspace); each exercise gets a folder in it.
        #[arg(long, global = true, value_name = "DIR")]
        workspace: Option<std::path::PathBuf>,
        /// Time limit of each run of your code, in seconds.
        #[arg(long, global = true, value_name = "SECONDS", default_value_t = 60)]
        limit: u64,
        #[command(subcommand)]
        command: ExercisesCommand,
    },
    /// Run one step of an exported Kubeflow pipeline: what its containers
    /// run (`mlops-lab export kfp` writes the pipeline). Paths and values
    /// come from Kubeflow's placeholders.
    #[command(hide = true)]
    Step {
        #[command(subcommand)]
        step: StepCommand,
    },
    /// List a model's parameters and their defaults.
    Params {
        /// e.g. logistic-regression
        model: String,
    },
}

#[derive(Args)]
pub struct SourceArgs {
    /// A sample dataset name (see `mlops-lab datasets`).
    #[arg(required_unless_present = "file", conflicts_with = "file")]
    pub dataset: Option<String>,
    /// Your own CSV file (header row; NA or empty for missing values).
    #[arg(long, value_name = "CSV")]
    pub file: Option<PathBuf>,
}

impl SourceArgs {
    pub fn source(&self) -> DataSource {
        match (&self.dataset, &self.file) {
            (_, Some(path)) => DataSource::File { path: path.clone() },
            (Some(name), None) => DataSource::Catalog { name: name.clone() },
            (None, None) => unreachable!("clap requires one"),
        }
    }
}

#[derive(Subcommand)]
pub enum DataCommand {
    /// Per-column statistics: type, nulls, mean, quantiles, top values, histogram.
    Profile(SourceArgs),
    /// Check the data against its expectations (pass/fail per expectation).
    Validate(SourceArgs),
}

#[derive(Args)]
pub struct TrainArgs {
    /// A sample dataset name.
    #[arg(long, conflicts_with = "file", required_unless_present = "file")]
    pub dataset: Option<String>,
    /// Your own CSV file; needs --target.
    #[arg(long, value_name = "CSV")]
    pub file: Option<PathBuf>,
    /// Train on this drift scenario's reference slice of --dataset (as the
    /// lab's pipeline and its Kubeflow export do), e.g. auto-mpg-drift.
    #[arg(long, requires = "dataset")]
    pub scenario: Option<String>,
    /// Target: a catalogue target name (default: the dataset's), or a column of --file.
    #[arg(long)]
    pub target: Option<String>,
    /// Model: logistic-regression, decision-tree, gaussian-nb, linear-regression, elastic-net, k-means.
    #[arg(long, default_value = "logistic-regression")]
    pub model: String,
    /// Hyper-parameter, repeatable: --param C=0.5 --param max_iter=200.
    #[arg(long = "param", value_name = "KEY=VALUE")]
    pub params: Vec<String>,
    /// Seed for the split and randomised models. Without it, the dataset's
    /// shipped scikit-learn split is used where there is one, else seed 42.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Share of rows held out for testing.
    #[arg(long, default_value_t = 0.25)]
    pub test_fraction: f64,
    /// Comma-separated feature columns (default: the catalogue's, or every other column of --file).
    #[arg(long, value_delimiter = ',')]
    pub features: Option<Vec<String>>,
    /// Task for --file targets.
    #[arg(long)]
    pub task: Option<TaskArg>,
    /// Rows with missing values: drop, or impute (median / most frequent, fitted on train).
    #[arg(long, value_enum, default_value_t = MissingArg::Drop)]
    pub missing: MissingArg,
    /// Do not standard-scale numeric features.
    #[arg(long)]
    pub no_scale: bool,
    /// Experiment name (created if new).
    #[arg(long)]
    pub experiment: Option<String>,
    /// Run name.
    #[arg(long)]
    pub name: Option<String>,
    /// Gate threshold override, repeatable: --gate accuracy=0.8.
    #[arg(long = "gate", value_name = "METRIC=VALUE")]
    pub gate: Vec<String>,
}

#[derive(Subcommand)]
pub enum RunsCommand {
    /// Runs, newest first.
    List {
        #[arg(long)]
        experiment: Option<String>,
        /// A run status (any case).
        #[arg(long, ignore_case = true)]
        status: Option<StatusArg>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// One run: params, metrics, tags, confusion matrix.
    Show {
        /// Run id or a unique prefix.
        run: String,
    },
    /// Two or more runs side by side.
    Compare {
        #[arg(required = true, num_args = 2..)]
        runs: Vec<String>,
    },
}

#[derive(Subcommand)]
pub enum ExportCommand {
    /// Kubernetes manifests (Deployment, Service, HPA, PDB, NetworkPolicy,
    /// ServiceAccount) and a KServe InferenceService for the image
    /// `deploy` builds, with a README on loading and applying them.
    K8s {
        /// NAME, NAME@alias or NAME:version (default: the latest version).
        model: String,
        /// Folder to write into (default: exports/k8s/NAME-vVERSION in the lab home).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// The lab's pipeline (Data → Train → Validate → Register → Package) as
    /// a Kubeflow Pipelines v2 YAML whose steps run MLOps Lab in a FROM
    /// scratch steps image, which this builds in your local Docker.
    Kfp {
        /// Train on this drift scenario's reference slice (default:
        /// auto-mpg-drift, as `mlops-lab pipeline run`).
        #[arg(long, conflicts_with = "dataset")]
        scenario: Option<String>,
        /// Train on this whole dataset instead.
        #[arg(long)]
        dataset: Option<String>,
        /// Model kind (default: linear-regression for a regression
        /// target, else logistic-regression).
        #[arg(long)]
        model: Option<String>,
        /// File to write (default: exports/kfp/NAME.yaml in the lab home).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Write the YAML only; do not build the steps image.
        #[arg(long)]
        no_image: bool,
    },
}

/// The executors of an exported Kubeflow pipeline (see `export kfp`).
#[derive(Subcommand)]
pub enum StepCommand {
    /// Load and validate the data; write it as CSV.
    Data {
        #[arg(long)]
        dataset: String,
        #[arg(long, default_value = "")]
        scenario: String,
        /// Output Dataset URI.
        #[arg(long)]
        out: String,
        #[arg(long)]
        rows_file: PathBuf,
        #[arg(long)]
        digest_file: PathBuf,
        #[arg(long)]
        executor_output: PathBuf,
    },
    /// Train on the Data step's CSV in a fresh lab home.
    Train {
        #[arg(long)]
        data: PathBuf,
        #[arg(long)]
        dataset: String,
        #[arg(long)]
        model: String,
        #[arg(long, default_value = "{}")]
        hyperparams: String,
        #[arg(long, default_value = "42")]
        seed: String,
        #[arg(long, default_value = "0.25")]
        test_fraction: String,
        /// Output lab home URI.
        #[arg(long)]
        lab: String,
        #[arg(long)]
        model_out: String,
        #[arg(long)]
        metrics: String,
        #[arg(long)]
        run_id_file: PathBuf,
        #[arg(long)]
        executor_output: PathBuf,
    },
    /// Check the run's metrics against the gate; fail below it.
    Validate {
        #[arg(long)]
        lab: PathBuf,
        #[arg(long)]
        run_id: String,
        #[arg(long)]
        gate: String,
        #[arg(long)]
        report: String,
        #[arg(long)]
        passed_file: PathBuf,
        #[arg(long)]
        executor_output: PathBuf,
    },
    /// Register the run's model and set the alias, in a copy of the lab home.
    Register {
        #[arg(long)]
        lab: PathBuf,
        #[arg(long)]
        run_id: String,
        #[arg(long)]
        gate_passed: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        alias: String,
        #[arg(long)]
        registry: String,
        #[arg(long)]
        version_file: PathBuf,
        #[arg(long)]
        executor_output: PathBuf,
    },
    /// Write the model image's build context.
    Package {
        #[arg(long)]
        registry: PathBuf,
        #[arg(long)]
        name: String,
        #[arg(long)]
        alias: String,
        #[arg(long)]
        context: String,
        #[arg(long)]
        tag_file: PathBuf,
        #[arg(long)]
        executor_output: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum ModelsCommand {
    /// Register a run's model as a new version.
    Register {
        /// Run id or a unique prefix.
        run: String,
        #[arg(long)]
        name: String,
    },
    /// Point an alias (e.g. champion) at a version.
    Alias {
        name: String,
        version: i64,
        alias: String,
    },
    /// Registered models with their latest version and aliases.
    List,
    /// Versions of one model.
    Versions { name: String },
}

#[derive(Subcommand)]
pub enum DeploymentsCommand {
    /// Running deployments (--all: stopped ones too).
    List {
        #[arg(long)]
        all: bool,
    },
    /// Stop a deployment: in-flight requests finish, then it is removed.
    Stop { deployment: String },
    /// Restart a container in place (`docker restart`) and wait until it
    /// answers /v2/health/ready again.
    Restart { deployment: String },
    /// The last log lines: the prediction log and the server's own log.
    Logs {
        deployment: String,
        #[arg(long, default_value_t = 50)]
        tail: usize,
    },
}

#[derive(Args)]
pub struct PredictArgs {
    /// Deployment id (or prefix) or name.
    pub deployment: String,
    /// One row: a JSON object {"feature": value, ...}, a JSON list in
    /// feature order, or a full MLflow JSON body.
    #[arg(long, conflicts_with = "csv", required_unless_present = "csv")]
    pub row: Option<String>,
    /// A CSV file with a header row.
    #[arg(long, value_name = "CSV")]
    pub csv: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum PipelineCommand {
    /// Data → Train → Validate → Package → Deploy → Monitor → Retrain on a
    /// drift scenario: train on its reference slice, serve behind a stable
    /// endpoint, send drifted traffic with late labels, evaluate drift and
    /// alerts, retrain and roll out when an alert asks. Re-runnable.
    Run {
        #[arg(long, default_value = lab_pipeline::DEFAULT_SCENARIO)]
        scenario: String,
        /// Requests of drifted traffic in the Monitor stage.
        #[arg(long, default_value_t = 300)]
        requests: usize,
        #[arg(long, default_value_t = 200.0)]
        rps: f64,
        /// Local processes instead of Docker containers.
        #[arg(long)]
        local: bool,
    },
}

#[derive(Args)]
pub struct TrafficArgs {
    /// The service (or deployment name) to send to.
    #[arg(long, visible_alias = "service")]
    pub deployment: String,
    /// Sample dataset the rows come from (default: the service's).
    #[arg(long)]
    pub dataset: Option<String>,
    /// The reference slice, the drifted slice, or a shift (reference turning into drift).
    #[arg(long, value_enum, default_value_t = MixArg::Drift)]
    pub scenario: MixArg,
    /// Which drift scenario (default: the service's when sending its own
    /// dataset, else the dataset's first).
    #[arg(long, value_name = "NAME")]
    pub drift_scenario: Option<String>,
    /// Requests per second (the lab's default: the app offers the same).
    #[arg(long, default_value_t = lab_pipeline::Settings::default().traffic.default_rps)]
    pub rps: f64,
    /// How long to send, e.g. 30s, 2m, 500ms.
    #[arg(long, default_value = "10s", conflicts_with = "requests")]
    pub duration: String,
    /// Send exactly this many requests instead.
    #[arg(long)]
    pub requests: Option<usize>,
    /// Do not feed the true labels afterwards.
    #[arg(long)]
    pub no_labels: bool,
    /// Seed of the row sample (default: a new sample each run).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Then collect the prediction log and evaluate the one monitoring
    /// window that covers exactly this traffic (drift, quality, alerts).
    #[arg(long)]
    pub monitor: bool,
}

/// `runs list --status`, in any case.
#[derive(Clone, Copy, ValueEnum)]
pub enum StatusArg {
    #[value(name = "RUNNING")]
    Running,
    #[value(name = "FINISHED")]
    Finished,
    #[value(name = "FAILED")]
    Failed,
    #[value(name = "KILLED")]
    Killed,
    #[value(name = "SCHEDULED")]
    Scheduled,
}

impl From<StatusArg> for RunStatus {
    fn from(s: StatusArg) -> Self {
        match s {
            StatusArg::Running => RunStatus::Running,
            StatusArg::Finished => RunStatus::Finished,
            StatusArg::Failed => RunStatus::Failed,
            StatusArg::Killed => RunStatus::Killed,
            StatusArg::Scheduled => RunStatus::Scheduled,
        }
    }
}

/// `traffic --scenario`: which rows to send (`current` and `mix` are old names).
#[derive(Clone, Copy, ValueEnum)]
pub enum MixArg {
    // No doc comments here: they would turn `traffic --help` into its long form.
    Reference,
    #[value(alias = "current")]
    Drift,
    #[value(alias = "mix")]
    Shift,
}

impl From<MixArg> for TrafficMix {
    fn from(m: MixArg) -> Self {
        match m {
            MixArg::Reference => TrafficMix::Reference,
            MixArg::Drift => TrafficMix::Drift,
            MixArg::Shift => TrafficMix::Shift,
        }
    }
}

/// `train --missing`.
#[derive(Clone, Copy, ValueEnum)]
pub enum MissingArg {
    Drop,
    Impute,
}

impl From<MissingArg> for MissingPolicy {
    fn from(m: MissingArg) -> Self {
        match m {
            MissingArg::Drop => MissingPolicy::Drop,
            MissingArg::Impute => MissingPolicy::Impute,
        }
    }
}

/// `train --task`, for --file targets.
#[derive(Clone, Copy, ValueEnum)]
pub enum TaskArg {
    #[value(alias = "binary")]
    BinaryClassification,
    #[value(aliases = ["multiclass", "classification"])]
    MulticlassClassification,
    Regression,
}

impl From<TaskArg> for Task {
    fn from(t: TaskArg) -> Self {
        match t {
            TaskArg::BinaryClassification => Task::BinaryClassification,
            TaskArg::MulticlassClassification => Task::MulticlassClassification,
            TaskArg::Regression => Task::Regression,
        }
    }
}

#[derive(Subcommand)]
pub enum PythonCommand {
    /// Make the venv and install the pinned packages (once, with access to
    /// a package index; nothing happens when they are there already).
    Setup,
    /// What the learner's Python holds, what is missing, how to fix it
    /// (exit 1 unless it is ready).
    Doctor,
}

#[derive(Subcommand)]
pub enum ExercisesCommand {
    /// Every exercise, its lesson, folder and whether it passed.
    List,
    /// Write the exercise's starter files into your workspace (an existing
    /// file is never overwritten).
    Start { id: String },
    /// Run the exercise's checks on your code (exit 1 until it passes).
    Check { id: String },
    /// Check now and again on every save of your .py files, until Ctrl-C.
    Watch { id: String },
}

#[derive(Subcommand)]
pub enum LessonsCommand {
    /// The roadmap: every lesson with your status.
    List,
    /// A lesson: objectives, concept, steps, checks, and its text.
    Show { id: String },
    /// Start a lesson: from now on, what you do counts for its checkpoint.
    Start { id: String },
    /// Run one of a lesson's steps.
    Run { id: String, step: String },
    /// Check the lesson's checkpoint against your lab (exit 1 until it passes).
    Check { id: String },
    /// Show the next hint (three levels).
    Hint { id: String },
    /// The quiz: without --answer, its questions; with it, your answers checked.
    Quiz {
        id: String,
        /// QUESTION=ANSWER, repeatable (a choice by its number or its text).
        #[arg(long = "answer", value_name = "QUESTION=ANSWER")]
        answers: Vec<String>,
    },
    /// Do the lesson for you (its solve list) and mark it skipped, not passed.
    Skip { id: String },
    /// Your record: progress.html (self-contained) and progress.json, with
    /// each lesson's status, time, quiz score and evidence, re-checked.
    Report {
        /// Folder to write them in (default: the lab home's reports/).
        #[arg(long, value_name = "DIR")]
        out: Option<std::path::PathBuf>,
    },
    /// Forget a lesson's progress (or, with --all, every lesson's: workshop
    /// mode). Your runs, models and services stay.
    Reset {
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        id: Option<String>,
        #[arg(long)]
        all: bool,
    },
}
