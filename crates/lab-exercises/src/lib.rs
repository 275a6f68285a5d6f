//! Exercises in the learner's own Python, checked by the lab.
//!
//! - [`python`]: the learner's managed Python (a venv in the lab home with
//!   pinned packages; `setup` and `doctor`);
//! - [`workspace`]: the folder the learner owns (`~/mlops-lab-workspace`),
//!   starter files that are never overwritten;
//! - [`run`]: running the learner's code (own process group, time limit,
//!   capped output, always stopped);
//! - [`check`]: what a check reports (name, what ran, expected, got, what to
//!   change), cumulative: the first failure stops it;
//! - [`exercises`]: the exercises themselves, each comparing the learner's
//!   result with the lab's own.
//!
//! Every check is recorded in the lab's store (`exercise_attempts`), so the
//! course's checkpoints read it from the lab's own state. Front ends (the
//! CLI, the app) call [`Exercises`]; it knows nothing of them.

pub mod check;
pub mod exercises;
pub mod python;
pub mod run;
pub mod workspace;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use lab_pipeline::Lab;
use serde::{Deserialize, Serialize};

pub use check::{Check, ExerciseReport};
pub use exercises::{CATALOGUE, Exercise};
pub use python::{Doctor, PythonEnv, SetupReport};
pub use workspace::{Started, Workspace};

#[derive(Debug, thiserror::Error)]
pub enum ExerciseError {
    #[error("no exercise `{0}`: `mlops-lab exercises list` shows them")]
    Unknown(String),
    #[error("{0}")]
    NoPython(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}: {1}")]
    Io(String, #[source] std::io::Error),
    #[error(transparent)]
    Pipeline(#[from] lab_pipeline::PipelineError),
}

impl ExerciseError {
    /// `{code, message}` for front ends.
    pub fn to_wire(&self) -> lab_pipeline::WireError {
        let code = match self {
            ExerciseError::Unknown(_) => "not_found",
            ExerciseError::NoPython(_) => "no_python",
            ExerciseError::Invalid(_) => "invalid",
            ExerciseError::Io(..) => "io",
            ExerciseError::Pipeline(e) => return e.to_wire(),
        };
        lab_pipeline::WireError {
            code: code.into(),
            message: self.to_string(),
        }
    }
}

pub type Result<T, E = ExerciseError> = std::result::Result<T, E>;

/// The default time limit of one run of the learner's code.
pub const DEFAULT_LIMIT: Duration = Duration::from_secs(60);

/// One exercise as a list shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExerciseInfo {
    pub id: String,
    pub lesson: String,
    pub title: String,
    pub folder: String,
    pub started: bool,
    /// How many times it was checked.
    pub attempts: usize,
    /// Passed at least once.
    pub passed: bool,
}

/// The exercises, the learner's workspace and Python.
pub struct Exercises {
    pub workspace: Workspace,
    pub python: PythonEnv,
    /// Time limit of each run of the learner's code.
    pub limit: Duration,
    /// Set it to stop what runs (the learner's code, pip) now.
    pub cancel: Arc<AtomicBool>,
}

impl Exercises {
    pub fn new(lab: &Lab, workspace: Workspace) -> Exercises {
        Exercises {
            workspace,
            python: PythonEnv::for_home(lab.home().root()),
            limit: DEFAULT_LIMIT,
            // The lab's own token: a front end's Cancel (the app's, Ctrl-C
            // in the CLI) stops the learner's code too.
            cancel: lab.cancel().flag(),
        }
    }

    /// What the learner's Python holds.
    pub fn doctor(&self) -> Doctor {
        python::doctor(&self.python)
    }

    /// Make the lab home's venv with the pinned packages (idempotent).
    pub fn setup_python(&self, lab: &Lab, progress: &mut dyn FnMut(&str)) -> Result<SetupReport> {
        python::setup(lab.home().root(), &self.cancel, progress)
    }

    pub fn exercise(&self, id: &str) -> Result<&'static Exercise> {
        CATALOGUE
            .iter()
            .find(|e| e.id == id)
            .ok_or_else(|| ExerciseError::Unknown(id.into()))
    }

    /// Has the learner started `id` (its folder exists)?
    pub fn started(&self, id: &str) -> Result<bool> {
        Ok(self.folder(id)?.is_dir())
    }

    pub fn folder(&self, id: &str) -> Result<PathBuf> {
        Ok(self.workspace.folder(self.exercise(id)?.id))
    }

    pub fn list(&self, lab: &Lab) -> Result<exercises::ExerciseInfoList> {
        let attempts = lab.exercise_attempts(None)?;
        Ok(exercises::ExerciseInfoList(
            CATALOGUE
                .iter()
                .map(|e| {
                    let mine: Vec<_> = attempts.iter().filter(|a| a.exercise_id == e.id).collect();
                    let folder = self.workspace.folder(e.id);
                    ExerciseInfo {
                        id: e.id.into(),
                        lesson: e.lesson.into(),
                        title: e.title.into(),
                        started: folder.is_dir(),
                        folder: folder.display().to_string(),
                        attempts: mine.len(),
                        passed: mine.iter().any(|a| a.passed),
                    }
                })
                .collect(),
        ))
    }

    /// Write the exercise's starter files (never over an existing file) and
    /// its data.
    pub fn start(&self, lab: &Lab, id: &str) -> Result<Started> {
        let ex = self.exercise(id)?;
        let started = self.workspace.start(ex)?;
        exercises::write_data(lab, ex, &started.folder_path())?;
        Ok(started)
    }

    /// Run the exercise's checks against the learner's files, record the
    /// attempt, and report.
    pub fn check(&self, lab: &Lab, id: &str) -> Result<ExerciseReport> {
        let ex = self.exercise(id)?;
        let folder = self.workspace.folder(ex.id);
        if !folder.is_dir() {
            return Err(ExerciseError::Invalid(format!(
                "{} does not exist: run `mlops-lab exercises start {}` first",
                folder.display(),
                ex.id
            )));
        }
        // What a lab process that died mid-check left running goes first.
        for stopped in lab.sweep_helpers() {
            tracing::warn!("stopped {stopped}, left running by an earlier check");
        }
        let doctor = python::doctor(&self.python);
        doctor.has(ex.packages)?;
        exercises::write_data(lab, ex, &folder)?;
        let started = Instant::now();
        let ctx = exercises::Ctx {
            lab,
            dir: folder.clone(),
            python: &self.python,
            limit: self.limit,
            cancel: &self.cancel,
        };
        let mut checks = check::Checks::new(ex.checks);
        (ex.run)(&ctx, &mut checks);
        let millis = started.elapsed().as_millis() as i64;
        let mut report = checks.into_report(ex, &folder, millis);
        let attempt = lab.record_exercise_attempt(
            ex.id,
            millis,
            report.passed,
            &serde_json::to_value(&report).unwrap_or_default(),
        )?;
        report.attempt = Some(attempt.attempt_id);
        tracing::info!(
            exercise = ex.id,
            passed = report.passed,
            millis,
            "exercise checked"
        );
        Ok(report)
    }

    /// Check now, then again whenever a .py file of the exercise's folder
    /// changes (polled twice a second), until `cancel` is set. `on_report`
    /// gets every report.
    pub fn watch(
        &self,
        lab: &Lab,
        id: &str,
        on_report: &mut dyn FnMut(Result<ExerciseReport>),
    ) -> Result<()> {
        let folder = self.folder(id)?;
        let mut seen = workspace::fingerprint(&folder);
        on_report(self.check(lab, id));
        while !self.cancel.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(500));
            let now = workspace::fingerprint(&folder);
            if now != seen && !self.cancel.load(Ordering::Relaxed) {
                // Let an editor finish writing (several events per save).
                std::thread::sleep(Duration::from_millis(300));
                on_report(self.check(lab, id));
                seen = workspace::fingerprint(&folder);
            }
        }
        Ok(())
    }
}
