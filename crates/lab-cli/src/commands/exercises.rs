//! `python` and `exercises`: the learner's own Python, through
//! `lab-exercises`.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use lab_exercises::{Exercises, Workspace};

use super::Ctx;
use crate::cli::{ExercisesCommand, PythonCommand};
use crate::print::exercises::{Checked, Setup};

/// Ctrl-C (or SIGTERM, SIGHUP: a closed terminal, `timeout`) sets the
/// cancel flag: what the lab started is stopped, its process group with
/// it, and the command ends (a second signal ends it at once).
fn on_ctrl_c(ex: &Exercises) {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    for sig in [SIGINT, SIGTERM, SIGHUP] {
        let flag = Arc::clone(&ex.cancel);
        let _ = signal_hook::flag::register_conditional_shutdown(sig, 128 + sig, Arc::clone(&flag));
        let _ = signal_hook::flag::register(sig, flag);
    }
}

pub(super) fn python(ctx: &Ctx, command: PythonCommand) -> Result<ExitCode> {
    let lab = ctx.lab()?;
    let ex = Exercises::new(&lab, Workspace::resolve(None)?);
    match command {
        PythonCommand::Doctor => {
            let d = ex.doctor();
            ctx.emit(&d)?;
            Ok(if d.ready {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        PythonCommand::Setup => {
            on_ctrl_c(&ex);
            let json = ctx.json;
            let r = ex.setup_python(&lab, &mut |line| {
                if !json {
                    eprintln!("  {line}");
                }
            })?;
            ctx.emit(&Setup(r))
        }
    }
}

pub(super) fn run(
    ctx: &Ctx,
    workspace: Option<std::path::PathBuf>,
    limit: u64,
    command: ExercisesCommand,
) -> Result<ExitCode> {
    let lab = ctx.lab()?;
    let mut ex = Exercises::new(&lab, Workspace::resolve(workspace)?);
    ex.limit = Duration::from_secs(limit.max(1));
    match command {
        ExercisesCommand::List => ctx.emit(&ex.list(&lab)?),
        ExercisesCommand::Start { id } => ctx.emit(&ex.start(&lab, &id)?),
        ExercisesCommand::Check { id } => {
            on_ctrl_c(&ex);
            let r = ex.check(&lab, &id)?;
            ctx.emit(&Checked(&r))?;
            Ok(if r.passed {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        ExercisesCommand::Watch { id } => {
            on_ctrl_c(&ex);
            let json = ctx.json;
            let folder = ex.folder(&id)?;
            if !json {
                eprintln!(
                    "watching the .py files of {} (Ctrl-C stops)",
                    folder.display()
                );
            }
            let mut last = ExitCode::FAILURE;
            ex.watch(&lab, &id, &mut |r| match r {
                Ok(r) => {
                    last = if r.passed {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::FAILURE
                    };
                    if let Err(e) = crate::print::emit(&Checked(&r), json) {
                        eprintln!("error: {e}");
                    }
                    if !json {
                        eprintln!(
                            "-- waiting for a change to {} (Ctrl-C stops)",
                            folder.display()
                        );
                    }
                }
                Err(e) => eprintln!("error: {e}"),
            })?;
            if !json {
                eprintln!(
                    "stopped watching; the last check {}",
                    if last == ExitCode::SUCCESS {
                        "passed"
                    } else {
                        "did not pass"
                    }
                );
            }
            Ok(last)
        }
    }
}
