//! `models register|alias|list|versions` and `params`.

use std::process::ExitCode;

use anyhow::Result;
use lab_pipeline::{ModelKind, ModelRef};

use super::Ctx;
use crate::cli::ModelsCommand;
use crate::print::ParamsView;

pub(super) fn run(ctx: &Ctx, command: ModelsCommand) -> Result<ExitCode> {
    let lab = ctx.lab()?;
    match command {
        ModelsCommand::Register { run, name } => ctx.emit(&lab.register(&run, &name)?),
        ModelsCommand::Alias {
            name,
            version,
            alias,
        } => ctx.emit(&lab.set_alias(&name, version, &alias)?),
        ModelsCommand::List => ctx.emit(lab.registered_models()?.as_slice()),
        ModelsCommand::Versions { name } => {
            // `NAME@alias` or `NAME:version` name the model too.
            let (ModelRef::Latest(name) | ModelRef::Alias(name, _) | ModelRef::Version(name, _)) =
                name.parse()?;
            ctx.emit(lab.model_versions(&name)?.as_slice())
        }
    }
}

pub(super) fn params(ctx: &Ctx, model: &str) -> Result<ExitCode> {
    let kind: ModelKind = model.parse().map_err(anyhow::Error::msg)?;
    ctx.emit(&ParamsView {
        kind,
        specs: lab_pipeline::param_specs(kind),
    })
}
