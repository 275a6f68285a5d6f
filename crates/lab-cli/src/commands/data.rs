//! `datasets` and `data profile|validate`.

use std::process::ExitCode;

use anyhow::Result;

use super::Ctx;
use crate::cli::DataCommand;
use crate::print;

pub(super) fn datasets(ctx: &Ctx) -> Result<ExitCode> {
    let catalog = lab_pipeline::Catalog::load_default()?;
    ctx.emit(catalog.datasets.as_slice())
}

pub(super) fn run(ctx: &Ctx, command: DataCommand) -> Result<ExitCode> {
    let lab = ctx.lab()?;
    match command {
        DataCommand::Profile(src) => ctx.emit(&lab.profile(&src.source())?),
        DataCommand::Validate(src) => {
            let r = lab.validate(&src.source())?;
            print::emit(&r, ctx.json)?;
            if r.success() {
                return Ok(ExitCode::SUCCESS);
            }
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
