//! `deploy`, `deployments list|stop|logs`, `predict`, `rollout`,
//! `rollback` and `services`.

use std::process::ExitCode;

use anyhow::{Context, Result};
use lab_pipeline::{ModelRef, PredictInput};

use super::Ctx;
use crate::cli::{DeploymentsCommand, PredictArgs};
use crate::print::Predictions;

pub(super) fn deploy(ctx: &Ctx, model: &str, local: bool) -> Result<ExitCode> {
    let lab = ctx.lab()?;
    let r: ModelRef = model.parse()?;
    let result = ctx.progress(|sink| lab.deploy(&r, local, sink))?;
    ctx.emit(&result)
}

pub(super) fn export_k8s(
    ctx: &Ctx,
    model: &str,
    out: Option<&std::path::Path>,
) -> Result<ExitCode> {
    let lab = ctx.lab()?;
    let r: ModelRef = model.parse()?;
    ctx.emit(&lab.export_k8s(&r, out)?)
}

pub(super) fn export_kfp(ctx: &Ctx, req: lab_pipeline::KfpRequest) -> Result<ExitCode> {
    let lab = ctx.lab()?;
    let export = ctx.progress(|sink| lab.export_kfp(&req, sink))?;
    ctx.emit(&export)
}

pub(super) fn deployments(ctx: &Ctx, command: Option<DeploymentsCommand>) -> Result<ExitCode> {
    let lab = ctx.lab()?;
    match command.unwrap_or(DeploymentsCommand::List { all: false }) {
        DeploymentsCommand::List { all } => ctx.emit(lab.deployments(all)?.as_slice()),
        DeploymentsCommand::Stop { deployment } => {
            let d = lab.stop_deployment(&deployment)?;
            ctx.emit(std::slice::from_ref(&d))
        }
        DeploymentsCommand::Restart { deployment } => {
            let d = lab.restart_deployment(&deployment)?;
            ctx.emit(std::slice::from_ref(&d))
        }
        DeploymentsCommand::Logs { deployment, tail } => {
            print!("{}", lab.deployment_logs(&deployment, tail)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub(super) fn predict(ctx: &Ctx, args: PredictArgs) -> Result<ExitCode> {
    let lab = ctx.lab()?;
    let input = match (args.row, args.csv) {
        (_, Some(path)) => PredictInput::Csv(
            std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?,
        ),
        (Some(row), None) => PredictInput::Row(row),
        (None, None) => anyhow::bail!("give --row JSON or --csv FILE"),
    };
    ctx.emit(&Predictions(lab.predict(&args.deployment, &input)?))
}

pub(super) fn rollout(
    ctx: &Ctx,
    model: &str,
    service: Option<&str>,
    local: bool,
) -> Result<ExitCode> {
    let lab = ctx.lab()?;
    let r: ModelRef = model.parse()?;
    let result = ctx.progress(|sink| lab.rollout_model(&r, service, local, sink))?;
    ctx.emit(&result)
}

pub(super) fn rollback(ctx: &Ctx, service: &str, local: bool) -> Result<ExitCode> {
    let lab = ctx.lab()?;
    let result = ctx.progress(|sink| lab.rollback(service, local, sink))?;
    ctx.emit(&result)
}

pub(super) fn services(ctx: &Ctx) -> Result<ExitCode> {
    ctx.emit(ctx.lab()?.services()?.as_slice())
}
