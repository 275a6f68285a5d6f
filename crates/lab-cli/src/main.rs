//! `mlops-lab`: the command line. Parsing and printing only; every operation
//! is a call into `lab-pipeline`.

mod print;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use lab_pipeline::{
    DataSource, Event, Lab, MissingPolicy, ModelKind, ModelRef, RunFilter, RunStatus, Task,
    TrainRequest,
};

#[derive(Parser)]
#[command(
    name = "mlops-lab",
    version,
    about = "MLOps Lab: data, training, tracking and a model registry on your laptop",
    long_about = "MLOps Lab runs the pipeline Data → Train → Validate → Package → Deploy → Monitor → Retrain \
                  locally on real datasets. Runs, metrics and the model registry live in SQLite under the \
                  lab home (MLOPS_LAB_HOME, default: your platform data folder)."
)]
struct Cli {
    /// Lab home folder (database and artifacts). Overrides MLOPS_LAB_HOME.
    #[arg(long, global = true, value_name = "DIR")]
    home: Option<PathBuf>,
    /// Print JSON instead of tables.
    #[arg(long, global = true)]
    json: bool,
    /// More log output on stderr (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
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
    Predict {
        /// Deployment id (or prefix) or name.
        deployment: String,
        /// One row: a JSON object {"feature": value, ...}, a JSON list in
        /// feature order, or a full MLflow JSON body.
        #[arg(long, conflicts_with = "csv", required_unless_present = "csv")]
        row: Option<String>,
        /// A CSV file with a header row.
        #[arg(long, value_name = "CSV")]
        csv: Option<PathBuf>,
    },
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
    Traffic {
        /// The service (or deployment name) to send to.
        #[arg(long, visible_alias = "service")]
        deployment: String,
        /// Sample dataset the rows come from (default: the service's).
        #[arg(long)]
        dataset: Option<String>,
        /// reference, drift, or shift (reference turning into drift).
        #[arg(long, default_value = "drift")]
        scenario: String,
        /// Which of the dataset's drift scenarios (default: its first).
        #[arg(long, value_name = "NAME")]
        drift_scenario: Option<String>,
        #[arg(long, default_value_t = 50.0)]
        rps: f64,
        /// How long to send, e.g. 30s, 2m, 500ms.
        #[arg(long, default_value = "10s", conflicts_with = "requests")]
        duration: String,
        /// Send exactly this many requests instead.
        #[arg(long)]
        requests: Option<usize>,
        /// Do not feed the true labels afterwards.
        #[arg(long)]
        no_labels: bool,
        /// Seed of the row sample (default: a new sample each run).
        #[arg(long)]
        seed: Option<u64>,
    },
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
    /// List a model's parameters and their defaults.
    Params {
        /// e.g. logistic-regression
        model: String,
    },
}

#[derive(Args)]
struct SourceArgs {
    /// A sample dataset name (see `mlops-lab datasets`).
    #[arg(required_unless_present = "file", conflicts_with = "file")]
    dataset: Option<String>,
    /// Your own CSV file (header row; NA or empty for missing values).
    #[arg(long, value_name = "CSV")]
    file: Option<PathBuf>,
}

impl SourceArgs {
    fn source(&self) -> DataSource {
        match (&self.dataset, &self.file) {
            (_, Some(path)) => DataSource::File { path: path.clone() },
            (Some(name), None) => DataSource::Catalog { name: name.clone() },
            (None, None) => unreachable!("clap requires one"),
        }
    }
}

#[derive(Subcommand)]
enum DataCommand {
    /// Per-column statistics: type, nulls, mean, quantiles, top values, histogram.
    Profile(SourceArgs),
    /// Check the data against its expectations (pass/fail per expectation).
    Validate(SourceArgs),
}

#[derive(Args)]
struct TrainArgs {
    /// A sample dataset name.
    #[arg(long, conflicts_with = "file", required_unless_present = "file")]
    dataset: Option<String>,
    /// Your own CSV file; needs --target.
    #[arg(long, value_name = "CSV")]
    file: Option<PathBuf>,
    /// Target: a catalogue target name (default: the dataset's), or a column of --file.
    #[arg(long)]
    target: Option<String>,
    /// Model: logistic-regression, decision-tree, gaussian-nb, linear-regression, elastic-net, k-means.
    #[arg(long, default_value = "logistic-regression")]
    model: String,
    /// Hyper-parameter, repeatable: --param C=0.5 --param max_iter=200.
    #[arg(long = "param", value_name = "KEY=VALUE")]
    params: Vec<String>,
    /// Seed for the split and randomised models. Without it, the dataset's
    /// shipped scikit-learn split is used where there is one, else seed 42.
    #[arg(long)]
    seed: Option<u64>,
    /// Share of rows held out for testing.
    #[arg(long, default_value_t = 0.25)]
    test_fraction: f64,
    /// Comma-separated feature columns (default: the catalogue's, or every other column of --file).
    #[arg(long, value_delimiter = ',')]
    features: Option<Vec<String>>,
    /// Task for --file targets: binary-classification, multiclass-classification, regression.
    #[arg(long)]
    task: Option<String>,
    /// Rows with missing values: drop, or impute (median / most frequent, fitted on train).
    #[arg(long, default_value = "drop")]
    missing: String,
    /// Do not standard-scale numeric features.
    #[arg(long)]
    no_scale: bool,
    /// Experiment name (created if new).
    #[arg(long)]
    experiment: Option<String>,
    /// Run name.
    #[arg(long)]
    name: Option<String>,
    /// Gate threshold override, repeatable: --gate accuracy=0.8.
    #[arg(long = "gate", value_name = "METRIC=VALUE")]
    gate: Vec<String>,
}

#[derive(Subcommand)]
enum RunsCommand {
    /// Runs, newest first.
    List {
        #[arg(long)]
        experiment: Option<String>,
        /// RUNNING, FINISHED, FAILED or KILLED.
        #[arg(long)]
        status: Option<String>,
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
enum DeploymentsCommand {
    /// Running deployments (--all: stopped ones too).
    List {
        #[arg(long)]
        all: bool,
    },
    /// Stop a deployment: in-flight requests finish, then it is removed.
    Stop { deployment: String },
    /// The last log lines: the prediction log and the server's own log.
    Logs {
        deployment: String,
        #[arg(long, default_value_t = 50)]
        tail: usize,
    },
}

#[derive(Subcommand)]
enum PipelineCommand {
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

#[derive(Subcommand)]
enum ModelsCommand {
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

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion)
                || e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            {
                let _ = e.print();
                return if e.use_stderr() {
                    ExitCode::from(2)
                } else {
                    ExitCode::SUCCESS
                };
            }
            // clap's first line says what is wrong; keep it to one line.
            let rendered = e.render().to_string();
            let head = rendered.split("\n\n").next().unwrap_or("invalid arguments");
            let head = head.split_whitespace().collect::<Vec<_>>().join(" ");
            let head = head.strip_prefix("error: ").unwrap_or(&head);
            eprintln!("error: {head} (see mlops-lab --help)");
            return ExitCode::from(2);
        }
    };
    // `mlops-lab ... | head` closes stdout early: end quietly, as Unix tools do.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.contains("Broken pipe") {
            std::process::exit(141);
        }
        default_hook(info);
    }));
    init_tracing(cli.verbose);
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            // Our errors carry their own detail; one line, no repeated causes.
            let msg = e.to_string().replace('\n', " ");
            eprintln!("error: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("MLOPS_LAB_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

fn open_lab(home: &Option<PathBuf>) -> Result<Lab> {
    if let Some(h) = home {
        let home = lab_pipeline::LabHome::at(h)?;
        return Ok(Lab::open(&home, lab_pipeline::Catalog::load_default()?)?);
    }
    Ok(Lab::open_default()?)
}

fn run(cli: Cli) -> Result<ExitCode> {
    let json = cli.json;
    match cli.command {
        Command::Datasets => {
            let catalog = lab_pipeline::Catalog::load_default()?;
            print::datasets(&catalog, json)
        }
        Command::Data { command } => {
            let lab = open_lab(&cli.home)?;
            match command {
                DataCommand::Profile(src) => {
                    let p = lab.profile(&src.source())?;
                    print::profile(&p, json)
                }
                DataCommand::Validate(src) => {
                    let r = lab.validate(&src.source())?;
                    print::validation(&r, json)?;
                    if r.success() {
                        Ok(ExitCode::SUCCESS)
                    } else {
                        eprintln!(
                            "error: {} of {} expectations failed for {}",
                            r.failed,
                            r.failed + r.passed,
                            r.source
                        );
                        Ok(ExitCode::FAILURE)
                    }
                }
            }
        }
        Command::Train(args) => {
            let lab = open_lab(&cli.home)?;
            let req = train_request(*args)?;
            let progress = print::StageProgress::new(json);
            let sink = |e: Event| progress.on(e);
            let result = lab.train(&req, &sink);
            progress.finish();
            print::train(&result?, json)
        }
        Command::Runs { command } => {
            let lab = open_lab(&cli.home)?;
            match command {
                RunsCommand::List {
                    experiment,
                    status,
                    limit,
                } => {
                    let status = status.map(|s| parse_status(&s)).transpose()?;
                    let runs = lab.runs(&RunFilter {
                        experiment,
                        status,
                        tag: None,
                        limit: Some(limit),
                    })?;
                    print::runs(&runs, json)
                }
                RunsCommand::Show { run } => print::run_detail(&lab.run_detail(&run)?, json),
                RunsCommand::Compare { runs } => {
                    let c = lab.compare_runs(&runs)?;
                    print::compare(&c, json)
                }
            }
        }
        Command::Experiments => {
            let lab = open_lab(&cli.home)?;
            print::experiments(&lab.experiments()?, json)
        }
        Command::Models { command } => {
            let lab = open_lab(&cli.home)?;
            match command {
                ModelsCommand::Register { run, name } => {
                    let mv = lab.register(&run, &name)?;
                    print::model_version(&mv, json)
                }
                ModelsCommand::Alias {
                    name,
                    version,
                    alias,
                } => {
                    let mv = lab.set_alias(&name, version, &alias)?;
                    print::model_version(&mv, json)
                }
                ModelsCommand::List => print::models(&lab.registered_models()?, json),
                ModelsCommand::Versions { name } => {
                    let r: ModelRef = name.parse()?;
                    let name = match r {
                        ModelRef::Latest(n) | ModelRef::Alias(n, _) | ModelRef::Version(n, _) => n,
                    };
                    print::versions(&lab.model_versions(&name)?, json)
                }
            }
        }
        Command::Deploy { model, local } => {
            let lab = open_lab(&cli.home)?;
            let r: ModelRef = model.parse()?;
            let progress = print::StageProgress::new(json);
            let sink = |e: Event| progress.on(e);
            let result = lab.deploy(&r, local, &sink);
            progress.finish();
            print::deployed(&result?, json)
        }
        Command::Deployments { command } => {
            let lab = open_lab(&cli.home)?;
            match command.unwrap_or(DeploymentsCommand::List { all: false }) {
                DeploymentsCommand::List { all } => {
                    print::deployments(&lab.deployments(all)?, json)
                }
                DeploymentsCommand::Stop { deployment } => {
                    let d = lab.stop_deployment(&deployment)?;
                    print::deployments(std::slice::from_ref(&d), json)
                }
                DeploymentsCommand::Logs { deployment, tail } => {
                    print!("{}", lab.deployment_logs(&deployment, tail)?);
                    Ok(ExitCode::SUCCESS)
                }
            }
        }
        Command::Predict {
            deployment,
            row,
            csv,
        } => {
            let lab = open_lab(&cli.home)?;
            let input = match (row, csv) {
                (_, Some(path)) => lab_pipeline::PredictInput::Csv(
                    std::fs::read_to_string(&path)
                        .with_context(|| format!("cannot read {}", path.display()))?,
                ),
                (Some(row), None) => lab_pipeline::PredictInput::Row(row),
                (None, None) => bail!("give --row JSON or --csv FILE"),
            };
            let v = lab.predict(&deployment, &input)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                for p in v["predictions"].as_array().into_iter().flatten() {
                    println!(
                        "{}",
                        p.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| p.to_string())
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Pipeline {
            command:
                PipelineCommand::Run {
                    scenario,
                    requests,
                    rps,
                    local,
                },
        } => {
            let lab = open_lab(&cli.home)?;
            let progress = print::StageProgress::new(json);
            let sink = |e: Event| progress.on(e);
            let req = lab_pipeline::PipelineRequest {
                scenario,
                requests,
                rps,
                local,
            };
            let summary = lab.run_pipeline(&req, &sink);
            progress.finish();
            print::pipeline(&summary?, json)
        }
        Command::Drift { scenario, settings } => {
            let lab = open_lab(&cli.home)?;
            let cfg = drift_config(&settings)?;
            print::scenario_drift(&lab.scenario_drift(&scenario, &cfg)?, json)
        }
        Command::Rollout {
            model,
            service,
            local,
        } => {
            let lab = open_lab(&cli.home)?;
            let r: ModelRef = model.parse()?;
            let progress = print::StageProgress::new(json);
            let sink = |e: Event| progress.on(e);
            let result = lab.rollout_model(&r, service.as_deref(), local, &sink);
            progress.finish();
            print::rollout(&result?, json)
        }
        Command::Rollback { service, local } => {
            let lab = open_lab(&cli.home)?;
            let progress = print::StageProgress::new(json);
            let sink = |e: Event| progress.on(e);
            let result = lab.rollback(&service, local, &sink);
            progress.finish();
            print::rollout(&result?, json)
        }
        Command::Services => {
            let lab = open_lab(&cli.home)?;
            print::services(&lab.services()?, json)
        }
        Command::Traffic {
            deployment,
            dataset,
            scenario,
            drift_scenario,
            rps,
            duration,
            requests,
            no_labels,
            seed,
        } => {
            let lab = open_lab(&cli.home)?;
            let requests = match requests {
                Some(n) => n,
                // Saturates for absurd values; the lab refuses more than
                // MAX_TRAFFIC_REQUESTS before building anything.
                None => (parse_duration(&duration)?.as_secs_f64() * rps).round() as usize,
            };
            let progress = print::StageProgress::new(json);
            let sink = |e: Event| progress.on(e);
            let req = lab.traffic_request(&lab_pipeline::TrafficPlan {
                service: deployment,
                mix: scenario.parse()?,
                rps,
                requests,
                labels: !no_labels,
                dataset,
                scenario: drift_scenario,
                seed,
            })?;
            let result = lab.traffic(&req, &sink);
            progress.finish();
            let result = result?;
            print::traffic(&result, json)?;
            Ok(if result.errors == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Monitor {
            service,
            window,
            settings,
        } => {
            let lab = open_lab(&cli.home)?;
            let cfg = drift_config(&settings)?;
            let ms = i64::try_from(parse_duration(&window)?.as_millis())
                .with_context(|| format!("--window {window} is too long"))?;
            let (collected, windows) = lab.monitor(&service, ms, &cfg)?;
            print::monitor(&collected, &windows, json)
        }
        Command::Alerts { service, rule } => {
            let lab = open_lab(&cli.home)?;
            for r in &rule {
                let (m, t) = r
                    .split_once('=')
                    .with_context(|| format!("--rule `{r}` must look like METRIC=THRESHOLD"))?;
                let metric = lab_pipeline::AlertMetric::parse(m.trim())?;
                let threshold: f64 = t
                    .trim()
                    .parse()
                    .with_context(|| format!("--rule {r}: the threshold must be a number"))?;
                lab.set_alert_threshold(&service, metric, threshold)?;
            }
            print::alerts(&lab.alert_rules(&service)?, &lab.alerts(&service)?, json)
        }
        Command::Retrain { service, local } => {
            let lab = open_lab(&cli.home)?;
            let progress = print::StageProgress::new(json);
            let sink = |e: Event| progress.on(e);
            let result = lab.retrain(&service, "on demand", local, &sink);
            progress.finish();
            print::retrain(&result?, json)
        }
        Command::Reset { yes } => {
            let lab = Lab::open_existing(cli.home.as_deref())?;
            let plan = lab.reset_plan()?;
            if !yes {
                if !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
                    bail!("reset removes {}; confirm with --yes", plan.join(", "));
                }
                eprintln!("This removes:");
                for p in &plan {
                    eprintln!("  - {p}");
                }
                eprint!("Type `reset` to confirm: ");
                let mut answer = String::new();
                std::io::stdin().read_line(&mut answer)?;
                if answer.trim() != "reset" {
                    eprintln!("nothing removed");
                    return Ok(ExitCode::FAILURE);
                }
            }
            let done = lab.reset()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&done)?);
            } else {
                for d in done {
                    println!("{d}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Params { model } => {
            let kind: ModelKind = model.parse().map_err(anyhow::Error::msg)?;
            print::params(kind, lab_pipeline::param_specs(kind), json)
        }
    }
}

fn drift_config(settings: &[String]) -> Result<lab_pipeline::DriftConfig> {
    let mut cfg = lab_pipeline::DriftConfig::default();
    for (k, v) in key_values(settings, "--set")? {
        cfg.set(&k, &v)?;
    }
    Ok(cfg)
}

/// `30s`, `2m`, `500ms`, `1h`, or plain seconds.
fn parse_duration(s: &str) -> Result<std::time::Duration> {
    let s = s.trim();
    let (num, unit) = s
        .find(|c: char| c.is_ascii_alphabetic())
        .map_or((s, "s"), |i| (&s[..i], &s[i..]));
    let n: f64 = num
        .parse()
        .ok()
        .filter(|n: &f64| n.is_finite() && *n > 0.0)
        .with_context(|| {
            format!("duration `{s}`: use a positive number with s, m, ms or h, e.g. 30s")
        })?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        _ => bail!("duration `{s}`: unknown unit `{unit}`; use ms, s, m or h"),
    };
    std::time::Duration::try_from_secs_f64(secs)
        .with_context(|| format!("duration `{s}` is too long"))
}

fn parse_status(s: &str) -> Result<RunStatus> {
    Ok(match s.to_ascii_uppercase().as_str() {
        "RUNNING" => RunStatus::Running,
        "FINISHED" => RunStatus::Finished,
        "FAILED" => RunStatus::Failed,
        "KILLED" => RunStatus::Killed,
        "SCHEDULED" => RunStatus::Scheduled,
        _ => bail!("unknown status `{s}`: use RUNNING, FINISHED, FAILED or KILLED"),
    })
}

fn key_values(items: &[String], what: &str) -> Result<BTreeMap<String, String>> {
    items
        .iter()
        .map(|kv| {
            let (k, v) = kv
                .split_once('=')
                .with_context(|| format!("{what} `{kv}` must look like KEY=VALUE"))?;
            let k = k.trim();
            if k.is_empty() {
                bail!("{what} `{kv}` has an empty name");
            }
            Ok((k.to_string(), v.trim().to_string()))
        })
        .collect()
}

fn train_request(a: TrainArgs) -> Result<TrainRequest> {
    let source = match (a.dataset, a.file) {
        (_, Some(path)) => DataSource::File { path },
        (Some(name), None) => DataSource::Catalog { name },
        (None, None) => bail!("give --dataset NAME or --file CSV --target COLUMN"),
    };
    let model: ModelKind = a.model.parse().map_err(anyhow::Error::msg)?;
    let task = a.task.map(|t| parse_task(&t)).transpose()?;
    let missing: MissingPolicy = a.missing.parse().map_err(anyhow::Error::msg)?;
    let gate = key_values(&a.gate, "--gate")?
        .into_iter()
        .map(|(k, v)| {
            v.parse::<f64>()
                .map(|x| (k.clone(), x))
                .with_context(|| format!("--gate {k}={v}: the threshold must be a number"))
        })
        .collect::<Result<_>>()?;
    Ok(TrainRequest {
        target: a.target,
        features: a.features,
        task,
        params: key_values(&a.params, "--param")?,
        seed: a.seed,
        test_fraction: a.test_fraction,
        missing,
        scale: !a.no_scale,
        experiment: a.experiment,
        run_name: a.name,
        gate,
        compare_with: None,
        ..TrainRequest::new(source, model)
    })
}

fn parse_task(s: &str) -> Result<Task> {
    Ok(match s {
        "binary-classification" | "binary" => Task::BinaryClassification,
        "multiclass-classification" | "multiclass" | "classification" => {
            Task::MulticlassClassification
        }
        "regression" => Task::Regression,
        _ => bail!(
            "unknown task `{s}`: use binary-classification, multiclass-classification or regression"
        ),
    })
}
