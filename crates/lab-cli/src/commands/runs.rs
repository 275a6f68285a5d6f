//! `train`, `runs list|show|compare` and `experiments`.

use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use lab_pipeline::{DataSource, ModelKind, RunFilter, TrainRequest};

use super::{Ctx, key_values};
use crate::cli::{RunsCommand, TrainArgs};

pub(super) fn train(ctx: &Ctx, args: TrainArgs) -> Result<ExitCode> {
    let lab = ctx.lab()?;
    let req = train_request(args)?;
    let result = ctx.progress(|sink| lab.train(&req, sink))?;
    ctx.emit(&result)
}

fn train_request(a: TrainArgs) -> Result<TrainRequest> {
    let source = match (a.dataset, a.file) {
        (_, Some(path)) => DataSource::File { path },
        (Some(name), None) => match a.scenario {
            Some(scenario) => DataSource::Scenario { name, scenario },
            None => DataSource::Catalog { name },
        },
        (None, None) => bail!("give --dataset NAME or --file CSV --target COLUMN"),
    };
    let model: ModelKind = a.model.parse().map_err(anyhow::Error::msg)?;
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
        task: a.task.map(Into::into),
        params: key_values(&a.params, "--param")?,
        seed: a.seed,
        test_fraction: a.test_fraction,
        missing: a.missing.into(),
        scale: !a.no_scale,
        experiment: a.experiment,
        run_name: a.name,
        gate,
        compare_with: None,
        ..TrainRequest::new(source, model)
    })
}

pub(super) fn run(ctx: &Ctx, command: RunsCommand) -> Result<ExitCode> {
    let lab = ctx.lab()?;
    match command {
        RunsCommand::List {
            experiment,
            status,
            limit,
        } => {
            let runs = lab.runs(&RunFilter {
                experiment,
                status: status.map(Into::into),
                tag: None,
                limit: Some(limit),
            })?;
            ctx.emit(runs.as_slice())
        }
        RunsCommand::Show { run } => ctx.emit(&lab.run_detail(&run)?),
        RunsCommand::Compare { runs } => ctx.emit(&lab.compare_runs(&runs)?),
    }
}

pub(super) fn experiments(ctx: &Ctx) -> Result<ExitCode> {
    ctx.emit(ctx.lab()?.experiments()?.as_slice())
}
