//! The learner's Python and the exercises.

use std::fmt::{self, Write};

use lab_exercises::exercises::ExerciseInfoList;
use lab_exercises::{Doctor, ExerciseReport, SetupReport, Started};
use serde::Serialize;

use super::{Render, table};

impl Render for Doctor {
    fn human(&self, out: &mut String) -> fmt::Result {
        writeln!(
            out,
            "Python: {} ({})",
            self.interpreter,
            self.version.as_deref().unwrap_or("does not run")
        )?;
        let mut t = table(&["package", "pinned", "installed"]);
        for p in &self.packages {
            t.add_row(vec![
                p.name.clone(),
                p.pinned.clone(),
                match (&p.installed, p.ok()) {
                    (None, _) => "missing".into(),
                    (Some(v), true) => format!("{v} ✓"),
                    (Some(v), false) => format!("{v} (not the pinned version)"),
                },
            ]);
        }
        writeln!(out, "{t}")?;
        if self.ready {
            writeln!(out, "Ready: the exercises run with this Python, offline.")
        } else {
            for p in &self.problems {
                writeln!(out, "✗ {p}")?;
            }
            Ok(())
        }
    }
}

/// What `python setup` did.
#[derive(Serialize)]
#[serde(transparent)]
pub struct Setup(pub SetupReport);

impl Render for Setup {
    fn human(&self, out: &mut String) -> fmt::Result {
        if self.0.up_to_date {
            writeln!(out, "{} is up to date: nothing to install.", self.0.venv)?;
        } else {
            writeln!(out, "Made {} with the pinned packages.", self.0.venv)?;
        }
        self.0.doctor.human(out)
    }
}

impl Render for ExerciseInfoList {
    fn human(&self, out: &mut String) -> fmt::Result {
        let mut t = table(&["exercise", "lesson", "title", "status"]);
        for e in &self.0 {
            t.add_row(vec![
                e.id.clone(),
                e.lesson.clone(),
                e.title.clone(),
                if e.passed {
                    "passed".into()
                } else if e.attempts > 0 {
                    format!("{} checks, not passed yet", e.attempts)
                } else if e.started {
                    "started".into()
                } else {
                    "not started".into()
                },
            ]);
        }
        writeln!(out, "{t}")?;
        writeln!(out, "Start one: mlops-lab exercises start ID")
    }
}

impl Render for Started {
    fn human(&self, out: &mut String) -> fmt::Result {
        writeln!(out, "Exercise {} in {}", self.exercise, self.folder)?;
        for f in &self.written {
            writeln!(out, "  wrote {f}")?;
        }
        for f in &self.kept {
            writeln!(out, "  kept  {f} (yours: never overwritten)")?;
        }
        writeln!(
            out,
            "  data/ holds the lab's input (rewritten before every check)"
        )?;
        writeln!(
            out,
            "Read README.md there, then: mlops-lab exercises check {} (or watch)",
            self.exercise
        )
    }
}

/// One check's report.
#[derive(Serialize)]
#[serde(transparent)]
pub struct Checked<'a>(pub &'a ExerciseReport);

impl Render for Checked<'_> {
    fn human(&self, out: &mut String) -> fmt::Result {
        let r = self.0;
        writeln!(out, "Exercise {} ({} ms)", r.exercise, r.millis)?;
        for c in &r.checks {
            let mark = if c.passed { "✅" } else { "❌" };
            writeln!(out, "{mark} {}: {}", c.name, c.ran)?;
            writeln!(out, "     expected: {}", c.expected)?;
            writeln!(out, "     got:      {}", c.got)?;
            if let Some(fix) = &c.fix {
                writeln!(out, "     change:   {fix}")?;
            }
        }
        for n in &r.not_run {
            writeln!(out, "·  {n}: not run (it needs the checks before it)")?;
        }
        for (k, v) in &r.figures {
            writeln!(out, "   {k}: {v}")?;
        }
        if r.passed {
            writeln!(
                out,
                "Passed (attempt {}). It counts for lesson {}'s checkpoint if you started the lesson before this check (mlops-lab lessons start {}).",
                r.attempt.unwrap_or_default(),
                r.lesson,
                r.lesson
            )
        } else {
            writeln!(
                out,
                "Not yet: change what the first ❌ says, then check again."
            )
        }
    }
}
