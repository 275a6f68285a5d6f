//! What a check reports. Checks are cumulative stages, in a fixed order:
//! the first failure stops the check (what follows it needs it) and says
//! what to change; the stages after it are listed as not run.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::exercises::Exercise;

/// One stage of an exercise's check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub name: String,
    /// What was sent or run.
    pub ran: String,
    pub expected: String,
    pub got: String,
    pub passed: bool,
    /// On a failure: what to change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// One check of an exercise.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExerciseReport {
    pub exercise: String,
    pub lesson: String,
    pub folder: String,
    pub passed: bool,
    /// The stages run, in order; the last one failed unless `passed`.
    pub checks: Vec<Check>,
    /// The stages not run (after the first failure).
    pub not_run: Vec<String>,
    pub millis: i64,
    /// The attempt's id in the lab's store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<i64>,
    /// Figures some exercises measure besides pass or fail (the FastAPI
    /// exercise's side-by-side load), as `(name, value)`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub figures: Vec<(String, String)>,
}

impl ExerciseReport {
    /// The first failed check.
    pub fn first_failure(&self) -> Option<&Check> {
        self.checks.iter().find(|c| !c.passed)
    }
}

/// The stages of one check as they run.
pub struct Checks {
    planned: &'static [&'static str],
    done: Vec<Check>,
    figures: Vec<(String, String)>,
}

impl Checks {
    pub fn new(planned: &'static [&'static str]) -> Checks {
        Checks {
            planned,
            done: vec![],
            figures: vec![],
        }
    }

    /// Record a stage that passed.
    pub fn pass(
        &mut self,
        name: &str,
        ran: impl Into<String>,
        expected: impl Into<String>,
        got: impl Into<String>,
    ) {
        self.push(name, ran.into(), expected.into(), got.into(), None);
    }

    /// Record a stage that failed, with what to change.
    pub fn fail(
        &mut self,
        name: &str,
        ran: impl Into<String>,
        expected: impl Into<String>,
        got: impl Into<String>,
        fix: impl Into<String>,
    ) {
        self.push(
            name,
            ran.into(),
            expected.into(),
            got.into(),
            Some(fix.into()),
        );
    }

    pub fn figure(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.figures.push((name.into(), value.into()));
    }

    fn push(
        &mut self,
        name: &str,
        ran: String,
        expected: String,
        got: String,
        fix: Option<String>,
    ) {
        debug_assert!(
            self.planned.contains(&name),
            "check `{name}` is not planned"
        );
        self.done.push(Check {
            name: name.into(),
            ran,
            expected,
            got,
            passed: fix.is_none(),
            fix,
        });
    }

    /// Did every stage so far pass?
    pub fn ok(&self) -> bool {
        self.done.iter().all(|c| c.passed)
    }

    pub fn into_report(self, ex: &Exercise, folder: &Path, millis: i64) -> ExerciseReport {
        let passed = self.ok() && self.done.len() == self.planned.len();
        let not_run = self
            .planned
            .iter()
            .filter(|p| !self.done.iter().any(|c| c.name == **p))
            .map(|p| p.to_string())
            .collect();
        ExerciseReport {
            exercise: ex.id.into(),
            lesson: ex.lesson.into(),
            folder: folder.display().to_string(),
            passed,
            checks: self.done,
            not_run,
            millis,
            attempt: None,
            figures: self.figures,
        }
    }
}
