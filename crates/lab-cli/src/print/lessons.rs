//! The course: the roadmap, a lesson, checks, hints and the quiz.

use std::fmt::{self, Write};

use lab_lessons::{
    Answer, CheckReport, HintShown, Lesson, LessonDetail, LessonSummary, QuizResult, StepResult,
};
use serde::Serialize;

use super::{Render, table};

const MONTHS: [&str; 4] = [
    "Month 1: Python, data and ML fundamentals",
    "Month 2: classic models and a prediction API",
    "Month 3: Docker, Kubernetes, MLflow",
    "Month 4: Kubeflow, monitoring, production patterns",
];

impl Render for [LessonSummary] {
    fn human(&self, out: &mut String) -> fmt::Result {
        let passed = self.iter().filter(|l| l.status == "passed").count();
        let skipped = self.iter().filter(|l| l.status == "skipped").count();
        for (i, month) in MONTHS.iter().enumerate() {
            let lessons: Vec<&LessonSummary> =
                self.iter().filter(|l| l.month as usize == i + 1).collect();
            if lessons.is_empty() {
                continue;
            }
            writeln!(out, "{month}")?;
            let mut t = table(&["lesson", "title", "minutes", "status"]);
            for l in lessons {
                t.add_row(vec![
                    l.id.clone(),
                    l.title.clone(),
                    l.minutes.to_string(),
                    l.status.clone(),
                ]);
            }
            writeln!(out, "{t}")?;
        }
        write!(out, "{passed} of {} passed, {skipped} skipped.", self.len())?;
        match self
            .iter()
            .find(|l| l.status == "in-progress" || l.status == "not-started")
        {
            Some(l) if l.status == "in-progress" => {
                writeln!(out, " Continue: mlops-lab lessons show {}", l.id)
            }
            Some(l) => writeln!(out, " Next: mlops-lab lessons start {}", l.id),
            None => writeln!(out, " Every lesson is done."),
        }
    }
}

impl Render for LessonDetail {
    fn human(&self, out: &mut String) -> fmt::Result {
        let l = &self.lesson;
        writeln!(
            out,
            "{} · {} (month {}, about {} min)",
            l.id, l.title, l.month, l.minutes
        )?;
        match &self.state {
            Some(s) => writeln!(out, "status: {}", s.status)?,
            None => writeln!(
                out,
                "status: not started (mlops-lab lessons start {})",
                l.id
            )?,
        }
        writeln!(out, "\nObjectives:")?;
        for o in &l.objectives {
            writeln!(out, "  - {o}")?;
        }
        writeln!(
            out,
            "\nDevOps ↔ MLOps: {} ↔ {}\n  {}",
            l.concept.devops, l.concept.mlops, l.concept.why
        )?;
        writeln!(out, "\nSteps (mlops-lab lessons run {} STEP):", l.id)?;
        for s in &l.steps {
            writeln!(out, "  {:<14} {}\n  {:<14} $ {}", s.id, s.title, "", s.cli)?;
        }
        writeln!(out, "\nCheckpoint (mlops-lab lessons check {}):", l.id)?;
        for c in &l.checks {
            writeln!(out, "  - {}", c.name)?;
        }
        writeln!(out, "\n{}", l.body.trim_end())
    }
}

impl Render for StepResult {
    fn human(&self, out: &mut String) -> fmt::Result {
        writeln!(out, "{} / {}: {}", self.lesson, self.step, self.summary)?;
        writeln!(out, "next: mlops-lab lessons check {}", self.lesson)
    }
}

impl Render for CheckReport {
    fn human(&self, out: &mut String) -> fmt::Result {
        for v in &self.verdicts {
            writeln!(
                out,
                "{} {}: {}",
                if v.passed { "✅" } else { "❌" },
                v.name,
                v.message
            )?;
        }
        if let Some(r) = &self.recheck {
            writeln!(
                out,
                "the whole course re-checked: {} piece(s) of earlier evidence still hold, {} no longer do",
                r.held,
                r.broken.len()
            )?;
            for (lesson, e) in &r.broken {
                writeln!(out, "  ✗ {lesson}: {} ({})", e.id, e.note)?;
            }
        }
        if self.passed {
            writeln!(out, "{} passes (status: {}).", self.lesson, self.status)
        } else {
            writeln!(
                out,
                "{} does not pass yet. A hint: mlops-lab lessons hint {}",
                self.lesson, self.lesson
            )
        }
    }
}

impl Render for HintShown {
    fn human(&self, out: &mut String) -> fmt::Result {
        writeln!(out, "hint {} of 3: {}", self.level, self.hint)?;
        if self.remaining > 0 {
            writeln!(out, "(ask again for a more precise one)")?;
        }
        Ok(())
    }
}

impl Render for [QuizResult] {
    fn human(&self, out: &mut String) -> fmt::Result {
        for r in self {
            match (&r.expected, r.correct) {
                (Some(e), true) => writeln!(out, "✅ {}: right ({e})", r.question)?,
                _ => writeln!(
                    out,
                    "❌ {}: not quite; try again (a hint: mlops-lab lessons hint {})",
                    r.question, r.lesson
                )?,
            }
        }
        Ok(())
    }
}

/// A lesson's quiz questions, to answer with `--answer`.
#[derive(Serialize)]
pub struct Quiz<'a>(pub &'a Lesson);

impl Render for Quiz<'_> {
    fn human(&self, out: &mut String) -> fmt::Result {
        for q in &self.0.quiz {
            writeln!(out, "{}: {}", q.id, q.question)?;
            if let Answer::Choice { options, .. } = &q.answer {
                for (i, o) in options.iter().enumerate() {
                    writeln!(out, "    {}. {o}", i + 1)?;
                }
            }
        }
        writeln!(
            out,
            "answer: mlops-lab lessons quiz {} --answer QUESTION=ANSWER",
            self.0.id
        )
    }
}

/// What `skip` did.
#[derive(Serialize)]
pub struct Skipped {
    pub id: String,
    pub done: Vec<String>,
}

impl Render for Skipped {
    fn human(&self, out: &mut String) -> fmt::Result {
        for d in &self.done {
            writeln!(out, "  {d}")?;
        }
        writeln!(
            out,
            "{} done for you and marked skipped (not passed).",
            self.id
        )
    }
}

/// What `reset` did.
#[derive(Serialize)]
pub struct Reset {
    pub lessons: usize,
}

impl Render for Reset {
    fn human(&self, out: &mut String) -> fmt::Result {
        writeln!(
            out,
            "progress of {} forgotten; your runs, models and services stay",
            if self.lessons == 1 {
                "1 lesson".to_string()
            } else {
                format!("{} lessons", self.lessons)
            }
        )
    }
}

/// What `report` wrote.
#[derive(Serialize)]
pub struct Written<'a> {
    pub report: &'a lab_lessons::Report,
    pub html: std::path::PathBuf,
    pub json: std::path::PathBuf,
}

impl Render for Written<'_> {
    fn human(&self, out: &mut String) -> fmt::Result {
        let r = self.report;
        writeln!(
            out,
            "{} of {} lessons passed, {} skipped, {} in progress; quiz {} of {} right; about {:.0} minutes in lessons",
            r.passed,
            r.total,
            r.skipped,
            r.in_progress,
            r.quiz_correct,
            r.quiz_total,
            r.minutes_spent
        )?;
        let broken = r.broken();
        if broken.is_empty() {
            writeln!(out, "every recorded piece of evidence still exists")?;
        } else {
            for (lesson, e) in broken {
                writeln!(out, "  ✗ {lesson}: {} ({})", e.id, e.note)?;
            }
        }
        writeln!(out, "wrote {}", self.html.display())?;
        writeln!(out, "wrote {}", self.json.display())
    }
}
