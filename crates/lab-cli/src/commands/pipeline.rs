//! `pipeline run` and `reset`.

use std::process::ExitCode;

use anyhow::{Result, bail};
use lab_pipeline::{Lab, PipelineRequest};

use super::Ctx;
use crate::print::Removed;

pub(super) fn run(
    ctx: &Ctx,
    scenario: String,
    requests: usize,
    rps: f64,
    local: bool,
) -> Result<ExitCode> {
    let lab = ctx.lab()?;
    let req = PipelineRequest {
        scenario,
        requests,
        rps,
        local,
    };
    let summary = ctx.progress(|sink| lab.run_pipeline(&req, sink))?;
    ctx.emit(&summary)
}

/// Asks first (type `reset`) unless `--yes`; without a terminal to ask on,
/// refuses.
pub(super) fn reset(ctx: &Ctx, yes: bool) -> Result<ExitCode> {
    let lab = Lab::open_existing(ctx.home.as_deref())?;
    let plan = lab.reset_plan()?;
    if !yes && !confirmed(&plan)? {
        eprintln!("nothing removed");
        return Ok(ExitCode::FAILURE);
    }
    ctx.emit(&Removed(lab.reset()?))
}

fn confirmed(plan: &[String]) -> Result<bool> {
    if !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        bail!("reset removes {}; confirm with --yes", plan.join(", "));
    }
    eprintln!("This removes:");
    for p in plan {
        eprintln!("  - {p}");
    }
    eprint!("Type `reset` to confirm: ");
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(answer.trim() == "reset")
}
