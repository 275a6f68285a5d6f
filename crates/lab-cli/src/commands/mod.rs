//! What each command does: parse what clap left as text, call
//! `lab-pipeline`, print the result. One file per area, as in `print`.

mod data;
mod deploy;
mod exercises;
mod lessons;
mod models;
mod monitor;
mod pipeline;
mod runs;
mod steps;
mod tracking;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use lab_pipeline::{Event, Lab};

use crate::cli::{Cli, Command, PipelineCommand};
use crate::print::{self, Render};

/// Runs the parsed command line; the exit code of a command that ran.
pub fn run(cli: Cli) -> Result<ExitCode> {
    let ctx = Ctx {
        home: cli.home,
        json: cli.json,
    };
    match cli.command {
        Command::Datasets => data::datasets(&ctx),
        Command::Data { command } => data::run(&ctx, command),
        Command::Train(args) => runs::train(&ctx, *args),
        Command::Runs { command } => runs::run(&ctx, command),
        Command::Experiments => runs::experiments(&ctx),
        Command::Models { command } => models::run(&ctx, command),
        Command::Params { model } => models::params(&ctx, &model),
        Command::Deploy { model, local } => deploy::deploy(&ctx, &model, local),
        Command::Deployments { command } => deploy::deployments(&ctx, command),
        Command::Predict(args) => deploy::predict(&ctx, args),
        Command::Rollout {
            model,
            service,
            local,
        } => deploy::rollout(&ctx, &model, service.as_deref(), local),
        Command::Rollback { service, local } => deploy::rollback(&ctx, &service, local),
        Command::Services => deploy::services(&ctx),
        Command::Drift { scenario, settings } => monitor::drift(&ctx, &scenario, &settings),
        Command::Traffic(args) => monitor::traffic(&ctx, *args),
        Command::Monitor {
            service,
            window,
            settings,
        } => monitor::monitor(&ctx, &service, &window, &settings),
        Command::Alerts { service, rule } => monitor::alerts(&ctx, &service, &rule),
        Command::Retrain { service, local } => monitor::retrain(&ctx, &service, local),
        Command::Pipeline {
            command:
                PipelineCommand::Run {
                    scenario,
                    requests,
                    rps,
                    local,
                },
        } => pipeline::run(&ctx, scenario, requests, rps, local),
        Command::Reset { yes } => pipeline::reset(&ctx, yes),
        Command::TrackingServer { port } => tracking::serve(&ctx, port),
        Command::Export { command } => match command {
            crate::cli::ExportCommand::K8s { model, out } => {
                deploy::export_k8s(&ctx, &model, out.as_deref())
            }
            crate::cli::ExportCommand::Kfp {
                scenario,
                dataset,
                model,
                out,
                no_image,
            } => deploy::export_kfp(
                &ctx,
                lab_pipeline::KfpRequest {
                    scenario,
                    dataset,
                    model,
                    out,
                    build_image: Some(!no_image),
                },
            ),
        },
        Command::Step { step } => steps::run(&ctx, step),
        Command::Lessons { command } => lessons::run(&ctx, command),
        Command::Python { command } => exercises::python(&ctx, command),
        Command::Exercises {
            workspace,
            limit,
            command,
        } => exercises::run(&ctx, workspace, limit, command),
    }
}

/// The global options every command sees.
struct Ctx {
    home: Option<PathBuf>,
    json: bool,
}

impl Ctx {
    /// The lab at `--home`, else at MLOPS_LAB_HOME or the default place.
    fn lab(&self) -> Result<Lab> {
        if let Some(h) = &self.home {
            let home = lab_pipeline::LabHome::at(h)?;
            return Ok(Lab::open(&home, lab_pipeline::Catalog::load_default()?)?);
        }
        Ok(Lab::open_default()?)
    }

    /// Prints `value` (JSON with --json) and succeeds.
    fn emit<T: Render + ?Sized>(&self, value: &T) -> Result<ExitCode> {
        print::emit(value, self.json)?;
        Ok(ExitCode::SUCCESS)
    }

    /// Runs `f` with stage progress on stderr (none with --json).
    fn progress<T>(&self, f: impl FnOnce(&dyn Fn(Event)) -> T) -> T {
        print::with_progress(self.json, f)
    }
}

/// Repeated `--set KEY=VALUE` as drift settings.
fn drift_config(settings: &[String]) -> Result<lab_pipeline::DriftConfig> {
    let mut cfg = lab_pipeline::DriftConfig::default();
    for (k, v) in key_values(settings, "--set")? {
        cfg.set(&k, &v)?;
    }
    Ok(cfg)
}

/// Repeated `KEY=VALUE` flags (`what` names the flag in errors).
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

/// A positive duration in humantime's forms (`30s`, `2m`, `500ms`, `1h`,
/// `1.5s`, `1m 30s`), or plain seconds. Too long for a clock is an error.
fn parse_duration(s: &str) -> Result<Duration> {
    let s = s.trim();
    let plain_seconds = !s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || c == '.');
    let parsed = if plain_seconds {
        humantime::parse_duration(&format!("{s}s"))
    } else {
        humantime::parse_duration(s)
    };
    match parsed {
        Ok(d) if !d.is_zero() => Ok(d),
        Ok(_) => bail!("duration `{s}`: use a positive number with a unit, e.g. 30s"),
        Err(humantime::DurationError::NumberOverflow) => {
            bail!("duration `{s}` is too long (or finer than a nanosecond)")
        }
        Err(humantime::DurationError::UnknownUnit { unit, .. }) => {
            bail!("duration `{s}`: unknown unit `{unit}`; use ms, s, m or h, e.g. 30s")
        }
        Err(e) => bail!("duration `{s}`: {e}; use e.g. 30s, 2m, 500ms or 1h"),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{key_values, parse_duration};

    #[test]
    fn durations_take_units_or_plain_seconds() {
        for (s, ms) in [
            ("10s", 10_000),
            ("2m", 120_000),
            ("1min", 60_000),
            ("500ms", 500),
            ("1h", 3_600_000),
            ("1.5s", 1_500),
            ("0.5m", 30_000),
            (" 30 ", 30_000),
            ("2.5", 2_500),
            ("1m 30s", 90_000),
        ] {
            assert_eq!(parse_duration(s).unwrap(), Duration::from_millis(ms), "{s}");
        }
    }

    #[test]
    fn bad_durations_are_errors_not_panics() {
        let err = |s: &str| parse_duration(s).unwrap_err().to_string();
        assert!(err("1000000000000000000000h").contains("too long"));
        assert!(err("5124095576030432h").contains("too long"));
        assert!(err("0s").contains("positive"));
        assert!(err("0").contains("positive"));
        assert!(err("3x").contains("unknown unit `x`"));
        for s in ["", "3x", "-1s", "s", "1.s"] {
            assert!(err(s).starts_with(&format!("duration `{s}`")), "{s}");
        }
    }

    #[test]
    fn key_values_need_a_name_and_an_equals_sign() {
        let kv = key_values(&["a = 1".into(), "b=x=y".into()], "--set").unwrap();
        assert_eq!(kv["a"], "1");
        assert_eq!(kv["b"], "x=y");
        assert!(key_values(&["a".into()], "--set").is_err());
        assert!(key_values(&["=1".into()], "--set").is_err());
    }
}
