//! The exercises. Each one: its starter files (`starters/ID/`), the data
//! the lab writes into its folder, the packages it needs, and its check
//! stages, which compare the learner's result with the lab's own.

mod drift;
mod fastapi;
mod kfp;
mod pandas_clean;
mod sklearn_mlflow;
mod tracking;
mod wine;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use lab_pipeline::Lab;

use crate::check::Checks;
use crate::python::PythonEnv;
use crate::run::{Finished, Supervised};
use crate::{ExerciseError, Result};

/// One exercise.
pub struct Exercise {
    pub id: &'static str,
    /// The lesson whose checkpoint it is bound to.
    pub lesson: &'static str,
    pub title: &'static str,
    /// Starter files: `(name, contents)`.
    pub files: &'static [(&'static str, &'static str)],
    /// Python packages the learner's code imports.
    pub packages: &'static [&'static str],
    /// The check stages, in order.
    pub checks: &'static [&'static str],
    pub(crate) run: fn(&Ctx, &mut Checks),
}

/// Every exercise with the learner's status.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct ExerciseInfoList(pub Vec<crate::ExerciseInfo>);

/// What a check runs with.
pub struct Ctx<'a> {
    pub lab: &'a Lab,
    /// The exercise's folder in the workspace.
    pub dir: PathBuf,
    pub python: &'a PythonEnv,
    pub limit: Duration,
    pub cancel: &'a AtomicBool,
}

impl Ctx<'_> {
    /// Start the learner's code (or the lab's Python on the learner's
    /// files) in the exercise's folder, recorded in the lab home while it
    /// runs, so that if this lab process dies mid-check (kill -9, a crash)
    /// the next check stops it. The record goes when the guard is dropped,
    /// after the process is stopped.
    pub(crate) fn spawn(
        &self,
        cmd: std::process::Command,
    ) -> Result<(Supervised, Option<lab_pipeline::HelperRecord>)> {
        let proc = Supervised::spawn(cmd, &self.dir)?;
        let record = proc
            .pid()
            .and_then(|pid| match self.lab.track_helper(pid, None) {
                Ok(r) => Some(r),
                Err(e) => {
                    tracing::warn!(pid, "the learner's process runs unrecorded: {e}");
                    None
                }
            });
        Ok((proc, record))
    }

    /// [`Ctx::spawn`] and wait for it, within the time limit.
    pub(crate) fn run(&self, cmd: std::process::Command) -> Result<Finished> {
        let (proc, record) = self.spawn(cmd)?;
        let done = proc.wait(self.limit, self.cancel);
        drop(record);
        Ok(done)
    }
}

pub static CATALOGUE: &[Exercise] = &[
    pandas_clean::EXERCISE,
    fastapi::EXERCISE,
    sklearn_mlflow::EXERCISE,
    kfp::EXERCISE,
    drift::EXERCISE,
];

/// Write the lab's data for `ex` into `folder/data/` (the lab's folder:
/// rewritten before every check, so the learner's code always reads the
/// shipped data).
pub(crate) fn write_data(lab: &Lab, ex: &Exercise, folder: &Path) -> Result<()> {
    let data = folder.join("data");
    std::fs::create_dir_all(&data)
        .map_err(|e| ExerciseError::Io(format!("cannot create {}", data.display()), e))?;
    let files: Vec<(&str, Vec<u8>)> = match ex.id {
        pandas_clean::ID => vec![("penguins.csv", pandas_clean::input(lab)?)],
        sklearn_mlflow::ID | fastapi::ID | kfp::ID => wine::inputs(lab)?,
        drift::ID => {
            let s = lab.scenario_slices(drift::SCENARIO)?;
            vec![
                ("reference.csv", s.reference_csv),
                ("current.csv", s.current_csv),
            ]
        }
        _ => vec![],
    };
    for (name, bytes) in files {
        let path = data.join(name);
        std::fs::write(&path, bytes)
            .map_err(|e| ExerciseError::Io(format!("cannot write {}", path.display()), e))?;
    }
    Ok(())
}

/// Run the learner's script as the `runs` stage: `python SCRIPT ARGS…` in
/// the exercise's folder, within the time limit. Returns what it left when
/// it exited 0.
pub(crate) fn run_script(
    ctx: &Ctx,
    checks: &mut Checks,
    script: &str,
    args: &[&str],
) -> Option<Finished> {
    run_script_with(ctx, checks, script, args, &[])
}

/// [`run_script`] with environment variables of its own.
pub(crate) fn run_script_with(
    ctx: &Ctx,
    checks: &mut Checks,
    script: &str,
    args: &[&str],
    env: &[(&str, String)],
) -> Option<Finished> {
    let shown = format!("python {script} {}", args.join(" "))
        .trim_end()
        .to_string();
    let expected = format!("exits 0 within {} s", ctx.limit.as_secs());
    if !ctx.dir.join(script).is_file() {
        checks.fail(
            "runs",
            shown,
            expected,
            format!("no {script} in {}", ctx.dir.display()),
            format!(
                "`mlops-lab exercises start` writes the starter {script}; it was moved or deleted"
            ),
        );
        return None;
    }
    let mut cmd = ctx.python.command();
    cmd.arg(script).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let done = match ctx.run(cmd) {
        Ok(d) => d,
        Err(e) => {
            checks.fail(
                "runs",
                shown,
                expected,
                e.to_string(),
                "check the lab's Python: mlops-lab python doctor",
            );
            return None;
        }
    };
    if done.success() {
        checks.pass(
            "runs",
            shown,
            expected,
            format!("exit 0 in {} ms", done.millis),
        );
        return Some(done);
    }
    let (got, fix) = stopped(&done, ctx.limit).unwrap_or_else(|| {
        let last = last_error_line(&done);
        (
            format!(
                "exit {}: {last}",
                done.code.map_or("by a signal".into(), |c| c.to_string())
            ),
            explain_error(&last, script),
        )
    });
    checks.fail("runs", shown, expected, got, fix);
    None
}

/// Why a run ended before it finished by itself (a cancel, the time
/// limit), as (got, what to change); `None` when it finished.
pub(crate) fn stopped(done: &Finished, limit: Duration) -> Option<(String, String)> {
    if done.cancelled {
        return Some((
            "cancelled: stopped".to_string(),
            "check again when you are ready".to_string(),
        ));
    }
    if !done.timed_out {
        return None;
    }
    let tail = done.tail(3);
    Some((
        format!(
            "still running after {} s: stopped{}",
            limit.as_secs(),
            if tail.trim().is_empty() {
                "; it printed nothing".to_string()
            } else {
                format!("; its last output: {}", tail.trim())
            }
        ),
        "it must finish by itself: look for an endless loop, a wait for input, or a connection to a server that is not there (use the addresses the lab gives, e.g. MLFLOW_TRACKING_URI)".to_string(),
    ))
}

/// The last line of a Python traceback (`ValueError: …`), else the last line.
fn last_error_line(done: &Finished) -> String {
    last_error_line_of(&done.tail(30))
}

/// The lines of a log that name a Python exception (`ValueError: …`), in
/// order, trimmed (KFP indents its tasks' logs).
pub(crate) fn exception_lines(log: &str) -> impl DoubleEndedIterator<Item = &str> {
    log.lines().map(str::trim).filter(|l| {
        let head = l.split(':').next().unwrap_or("");
        !head.is_empty()
            && !head.contains(' ')
            && (head.ends_with("Error") || head.ends_with("Exception") || head.ends_with("Exit"))
    })
}

/// [`last_error_line`] of some output.
pub(crate) fn last_error_line_of(tail: &str) -> String {
    tail.lines()
        .rev()
        .find(|l| !l.trim().is_empty() && !l.starts_with(' '))
        .unwrap_or("(no output)")
        .trim()
        .to_string()
}

pub(crate) fn explain_error(last: &str, script: &str) -> String {
    if let Some(todo) = last.strip_prefix("NotImplementedError: ") {
        return format!("{todo} (in {script})");
    }
    if last.contains("No module named 'skops'") {
        return "MLflow 3 saves a scikit-learn model with skops by default, which mlflow-skinny does not install: pass serialization_format=\"cloudpickle\" to mlflow.sklearn.log_model".into();
    }
    if last.contains("Missing pipeline output") {
        return "the pipeline promises an output (-> float) but returns none: `return task.output` at the end of the pipeline function".into();
    }
    if let Some(m) = last.strip_prefix("ModuleNotFoundError: ") {
        return format!(
            "{m}: the lab runs your code with its own Python; `mlops-lab python doctor` says what it holds"
        );
    }
    format!(
        "{script} raised an error: read the traceback (`python {script}` in the folder shows it whole) and fix that line"
    )
}

/// A number as the reports show it.
pub(crate) fn num(x: f64) -> String {
    if x == x.trunc() && x.abs() < 1e15 {
        format!("{x:.0}")
    } else {
        format!("{x:.8}")
    }
}
