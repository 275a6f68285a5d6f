//! The lessons together, and the learner's progress through them.

use std::path::{Path, PathBuf};

use lab_pipeline::{Event, Lab, LessonState};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::check::Verdict;
use crate::lesson::{Answer, Lesson};
use crate::{LessonError, Result};

/// Where the lessons are looked up, like the sample data: this variable,
/// then `tutorials/course` beside the executable, in
/// `../share/mlops-lab`, or in the source tree.
pub const LESSONS_ENV: &str = "MLOPS_LAB_LESSONS";

pub struct Course {
    pub dir: PathBuf,
    lessons: Vec<Lesson>,
    /// The learner's exercise workspace (`None`: `MLOPS_LAB_WORKSPACE`,
    /// else `~/mlops-lab-workspace`).
    pub workspace: Option<PathBuf>,
    /// The Python exercises run with (`None`: `MLOPS_LAB_PYTHON`, else the
    /// lab home's managed venv).
    pub python: Option<PathBuf>,
}

/// A lesson in the roadmap, with the learner's status.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LessonSummary {
    pub id: String,
    pub title: String,
    pub month: u8,
    pub minutes: u32,
    /// `not-started`, `in-progress`, `passed` or `skipped`.
    pub status: String,
}

/// One lesson with the learner's progress in it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LessonDetail {
    pub lesson: Lesson,
    pub state: Option<LessonState>,
    /// How many hints were shown.
    pub hints_shown: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepResult {
    pub lesson: String,
    pub step: String,
    pub summary: String,
    pub created: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckReport {
    pub lesson: String,
    pub passed: bool,
    /// In the order of the lesson's checks.
    pub verdicts: Vec<Verdict>,
    /// The lesson's status after the check.
    pub status: String,
    /// On the course's last lesson: every earlier checkpoint's evidence,
    /// re-checked (what no longer holds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recheck: Option<Recheck>,
}

/// The evidence of every earlier passed checkpoint, re-checked.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Recheck {
    pub held: usize,
    /// `(lesson, evidence)` that no longer holds.
    pub broken: Vec<(String, crate::report::Evidence)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HintShown {
    pub lesson: String,
    /// 1, 2 or 3.
    pub level: usize,
    pub hint: String,
    pub remaining: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QuizResult {
    pub lesson: String,
    pub question: String,
    pub correct: bool,
    /// The right answer, once found.
    pub expected: Option<String>,
}

impl Course {
    /// The lessons in `dir`: every `*.md` file that starts with front
    /// matter, in roadmap order (month, then id). Each is checked (see
    /// [`Course::validate`] for the checks that need a lab).
    pub fn load(dir: &Path) -> Result<Course> {
        let mut lessons = Vec::new();
        let entries = std::fs::read_dir(dir).map_err(|e| {
            LessonError::Invalid(format!("cannot read the lessons in {}: {e}", dir.display()))
        })?;
        for entry in entries {
            let path = entry
                .map_err(|e| LessonError::Invalid(format!("{}: {e}", dir.display())))?
                .path();
            if path.extension().is_some_and(|e| e == "md") {
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    LessonError::Invalid(format!("cannot read {}: {e}", path.display()))
                })?;
                if text.starts_with("+++") {
                    lessons.push(Lesson::parse(&path, &text)?);
                }
            }
        }
        lessons.sort_by(|a, b| (a.month, &a.id).cmp(&(b.month, &b.id)));
        for w in lessons.windows(2) {
            if w[0].id == w[1].id {
                return Err(LessonError::File {
                    file: w[1].file.clone(),
                    line: 2,
                    message: format!(
                        "lesson id `{}` is also used by {}",
                        w[1].id,
                        w[0].file.display()
                    ),
                });
            }
        }
        Ok(Course {
            dir: dir.to_path_buf(),
            lessons,
            workspace: None,
            python: None,
        })
    }

    /// The exercises in the learner's workspace, with the learner's Python.
    pub fn exercises(&self, lab: &Lab) -> Result<lab_exercises::Exercises> {
        let mut ex = lab_exercises::Exercises::new(
            lab,
            lab_exercises::Workspace::resolve(self.workspace.clone())?,
        );
        if let Some(p) = &self.python {
            ex.python = lab_exercises::PythonEnv {
                venv: None,
                interpreter: p.clone(),
            };
        }
        Ok(ex)
    }

    /// The shipped lessons (see [`LESSONS_ENV`]).
    pub fn load_default() -> Result<Course> {
        Course::load(&Self::default_dir())
    }

    pub fn default_dir() -> PathBuf {
        if let Some(d) = std::env::var_os(LESSONS_ENV).filter(|d| !d.is_empty()) {
            return PathBuf::from(d);
        }
        if let Some(exe_dir) = std::env::current_exe()
            .ok()
            .and_then(|e| e.parent().map(Path::to_path_buf))
        {
            for c in [
                exe_dir.join("tutorials/course"),
                exe_dir.join("../share/mlops-lab/tutorials/course"),
            ] {
                if c.is_dir() {
                    return c;
                }
            }
        }
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tutorials/course")
    }

    pub fn lessons(&self) -> &[Lesson] {
        &self.lessons
    }

    pub fn lesson(&self, id: &str) -> Result<&Lesson> {
        self.lessons.iter().find(|l| l.id == id).ok_or_else(|| {
            LessonError::NotFound(format!("lesson `{id}` (see `mlops-lab lessons list`)"))
        })
    }

    /// What needs the lab to check: every action and predicate names a
    /// dataset, model and parameter that exist; step ids and check names
    /// are unique; there are three hints and a `solve` list; a quiz answer
    /// refers to a check; relative links point to files that exist.
    /// Errors name the file and line.
    pub fn validate(&self, lab: &Lab) -> Result<()> {
        for l in &self.lessons {
            let text = std::fs::read_to_string(&l.file).unwrap_or_default();
            let fail = |needle: &str, message: String| LessonError::File {
                file: l.file.clone(),
                line: l.line_of(&text, needle),
                message,
            };
            if !(1..=4).contains(&l.month) {
                return Err(fail("month", format!("month {} is not 1 to 4", l.month)));
            }
            if l.hints.len() != 3 {
                return Err(fail(
                    "hints",
                    format!(
                        "{} hints: give three (the concept, the command, the exact command)",
                        l.hints.len()
                    ),
                ));
            }
            if l.checks.is_empty() || l.solve.is_empty() {
                return Err(fail(
                    "id",
                    "a lesson needs a checkpoint and a solve list".into(),
                ));
            }
            let mut seen = std::collections::BTreeSet::new();
            for s in &l.steps {
                if !seen.insert(&s.id) {
                    return Err(fail(
                        &format!("\"{}\"", s.id),
                        format!("step id `{}` is used twice", s.id),
                    ));
                }
                s.action
                    .validate(lab)
                    .map_err(|m| fail(&format!("\"{}\"", s.id), format!("step `{}`: {m}", s.id)))?;
            }
            for a in &l.solve {
                a.validate(lab)
                    .map_err(|m| fail("solve", format!("solve: {m}")))?;
            }
            let mut names = std::collections::BTreeSet::new();
            for c in &l.checks {
                if !names.insert(&c.name) {
                    return Err(fail(
                        &format!("\"{}\"", c.name),
                        format!("check `{}` is named twice", c.name),
                    ));
                }
                c.predicate.validate(lab).map_err(|m| {
                    fail(
                        &format!("\"{}\"", c.name),
                        format!("check `{}`: {m}", c.name),
                    )
                })?;
                // An exercise is bound to one lesson's checkpoint, and the
                // lesson has the steps that start and check it.
                if let crate::check::Predicate::Exercise { exercise } = &c.predicate {
                    let bound = lab_exercises::CATALOGUE
                        .iter()
                        .find(|e| e.id == exercise)
                        .map(|e| e.lesson);
                    if bound != Some(l.id.as_str()) {
                        return Err(fail(
                            &format!("\"{}\"", c.name),
                            format!(
                                "check `{}`: exercise `{exercise}` belongs to lesson `{}`",
                                c.name,
                                bound.unwrap_or("?")
                            ),
                        ));
                    }
                    let has = |kind: &dyn Fn(&crate::Action) -> bool| {
                        l.steps.iter().any(|s| kind(&s.action))
                    };
                    if !has(
                        &|a| matches!(a, crate::Action::Exercise { exercise: e } if e == exercise),
                    ) || !has(
                        &|a| matches!(a, crate::Action::ExerciseCheck { exercise: e } if e == exercise),
                    ) {
                        return Err(fail(
                            &format!("\"{}\"", c.name),
                            format!(
                                "check `{}`: the lesson needs a step that starts exercise `{exercise}` and one that checks it",
                                c.name
                            ),
                        ));
                    }
                }
            }
            for q in &l.quiz {
                match &q.answer {
                    Answer::Metric { check, .. } if !names.contains(check) => {
                        return Err(fail(
                            &format!("\"{}\"", q.id),
                            format!(
                                "quiz `{}` reads check `{check}`, which the lesson does not have",
                                q.id
                            ),
                        ));
                    }
                    Answer::Choice { options, correct } if *correct >= options.len() => {
                        return Err(fail(
                            &format!("\"{}\"", q.id),
                            format!(
                                "quiz `{}`: correct = {correct}, but there are {} options",
                                q.id,
                                options.len()
                            ),
                        ));
                    }
                    _ => {}
                }
            }
            for (i, line) in l.body.lines().enumerate() {
                for target in relative_links(line) {
                    let path = l.file.parent().unwrap_or(Path::new(".")).join(target);
                    if !path.exists() {
                        return Err(LessonError::File {
                            file: l.file.clone(),
                            line: l.body_line + i,
                            message: format!("broken link `{target}`"),
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// Every lesson with the learner's status, in roadmap order.
    pub fn roadmap(&self, lab: &Lab) -> Result<Vec<LessonSummary>> {
        let states = lab.lesson_states()?;
        Ok(self
            .lessons
            .iter()
            .map(|l| LessonSummary {
                id: l.id.clone(),
                title: l.title.clone(),
                month: l.month,
                minutes: l.minutes,
                status: states
                    .iter()
                    .find(|s| s.lesson_id == l.id)
                    .map_or("not-started".into(), |s| s.status.clone()),
            })
            .collect())
    }

    pub fn detail(&self, lab: &Lab, id: &str) -> Result<LessonDetail> {
        let lesson = self.lesson(id)?.clone();
        let state = lab.lesson_state(id)?;
        let hints_shown = if state.is_some() {
            lab.lesson_events(id)?
                .iter()
                .filter(|e| e.kind == "hint")
                .count()
        } else {
            0
        };
        Ok(LessonDetail {
            lesson,
            state,
            hints_shown,
        })
    }

    /// Start the lesson (or resume it): from now on, what the lab makes
    /// counts for its checkpoint.
    pub fn start(&self, lab: &Lab, id: &str) -> Result<LessonState> {
        self.lesson(id)?;
        Ok(lab.start_lesson(id)?)
    }

    /// Run one step's action, starting the lesson if needed.
    pub fn run_step(
        &self,
        lab: &Lab,
        id: &str,
        step: &str,
        sink: &dyn Fn(Event),
    ) -> Result<StepResult> {
        let lesson = self.lesson(id)?;
        let s = lesson.steps.iter().find(|s| s.id == step).ok_or_else(|| {
            LessonError::NotFound(format!(
                "step `{step}` of lesson `{id}` (its steps: {})",
                lesson
                    .steps
                    .iter()
                    .map(|s| s.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
        lab.start_lesson(id)?;
        let out = s.action.run(lab, &self.exercises(lab)?, sink)?;
        lab.record_lesson_event(
            id,
            "step",
            &json!({"step": step, "summary": out.summary, "created": out.created}),
        )?;
        Ok(StepResult {
            lesson: id.into(),
            step: step.into(),
            summary: out.summary,
            created: out.created,
        })
    }

    /// Evaluate the checkpoint. Every predicate is evaluated and reported;
    /// a pass records the evidence and passes the lesson (a skipped one
    /// stays skipped).
    pub fn check(&self, lab: &Lab, id: &str) -> Result<CheckReport> {
        let lesson = self.lesson(id)?;
        let state = lab.lesson_state(id)?.ok_or_else(|| {
            LessonError::Invalid(format!(
                "lesson `{id}` is not started: only what you do after `mlops-lab lessons start {id}` counts"
            ))
        })?;
        let mut verdicts = Vec::new();
        for c in &lesson.checks {
            let (passed, found, evidence) = c.predicate.evaluate(lab, state.started_at)?;
            verdicts.push(Verdict {
                name: c.name.clone(),
                passed,
                message: if passed {
                    found
                } else {
                    format!("{} ({found})", c.fail)
                },
                evidence,
            });
        }
        let passed = verdicts.iter().all(|v| v.passed);
        lab.record_lesson_event(
            id,
            "check",
            &json!({"passed": passed, "verdicts": verdicts}),
        )?;
        if passed && state.status == "in-progress" {
            let evidence: Vec<&String> = verdicts.iter().flat_map(|v| &v.evidence).collect();
            lab.record_lesson_event(id, "passed", &json!({"evidence": evidence}))?;
        }
        let status = lab
            .lesson_state(id)?
            .map_or("not-started".into(), |s| s.status);
        // The last lesson re-checks the whole course, as Rustlings does.
        let recheck = if self.lessons.last().is_some_and(|l| l.id == id) {
            let report = self.report(lab)?;
            let held = report
                .lessons
                .iter()
                .filter(|l| l.id != id)
                .flat_map(|l| &l.evidence)
                .filter(|e| e.holds)
                .count();
            Some(Recheck {
                held,
                broken: report
                    .broken()
                    .into_iter()
                    .filter(|(l, _)| *l != id)
                    .map(|(l, e)| (l.to_string(), e.clone()))
                    .collect(),
            })
        } else {
            None
        };
        Ok(CheckReport {
            lesson: id.into(),
            passed,
            verdicts,
            status,
            recheck,
        })
    }

    /// The next hint (the concept, then the command, then the exact
    /// command); starts the lesson if needed.
    pub fn hint(&self, lab: &Lab, id: &str) -> Result<HintShown> {
        let lesson = self.lesson(id)?;
        lab.start_lesson(id)?;
        let shown = lab
            .lesson_events(id)?
            .iter()
            .filter(|e| e.kind == "hint")
            .count();
        let level = (shown + 1).min(lesson.hints.len());
        if shown < lesson.hints.len() {
            lab.record_lesson_event(id, "hint", &json!({"level": level}))?;
        }
        Ok(HintShown {
            lesson: id.into(),
            level,
            hint: lesson.hints[level - 1].clone(),
            remaining: lesson.hints.len() - level,
        })
    }

    /// Check the learner's answer to a quiz question, and record it.
    pub fn answer(&self, lab: &Lab, id: &str, question: &str, answer: &str) -> Result<QuizResult> {
        let lesson = self.lesson(id)?;
        let q = lesson
            .quiz
            .iter()
            .find(|q| q.id == question)
            .ok_or_else(|| {
                LessonError::NotFound(format!("question `{question}` of lesson `{id}`"))
            })?;
        lab.start_lesson(id)?;
        let number = |s: &str| {
            s.trim().parse::<f64>().map_err(|_| {
                LessonError::Invalid(format!("`{s}` is not a number; answer with one, as 0.95"))
            })
        };
        let (correct, expected) = match &q.answer {
            Answer::Choice { options, correct } => {
                let given = answer.trim();
                // An option's own text first (options can be numbers), then
                // its number in the list.
                let pick = match options.iter().position(|o| o.eq_ignore_ascii_case(given)) {
                    Some(i) => i,
                    None => match given.parse::<usize>() {
                        Ok(n) if (1..=options.len()).contains(&n) => n - 1,
                        _ => {
                            return Err(LessonError::Invalid(format!(
                                "`{given}` is not one of the options: answer 1 to {} or an option's text (mlops-lab lessons quiz {id})",
                                options.len()
                            )));
                        }
                    },
                };
                (pick == *correct, options[*correct].clone())
            }
            Answer::Number { value, tolerance } => (
                within(number(answer)?, *value, *tolerance),
                value.to_string(),
            ),
            Answer::Metric {
                check,
                metric,
                tolerance,
            } => {
                let run = self.evidence_of(lab, id, check)?.ok_or_else(|| {
                    LessonError::Invalid(format!(
                        "this question is about your own result: pass check `{check}` first (`mlops-lab lessons check {id}`)"
                    ))
                })?;
                let value = *lab.run(&run)?.metrics.get(metric).ok_or_else(|| {
                    LessonError::Invalid(format!("run {run} has no metric `{metric}`"))
                })?;
                (
                    within(number(answer)?, value, *tolerance),
                    format!("{value:.4} (run {})", &run[..8]),
                )
            }
        };
        lab.record_lesson_event(
            id,
            "quiz",
            &json!({"question": question, "answer": answer, "correct": correct}),
        )?;
        // The answer is shown once found, so a second try still means something.
        Ok(QuizResult {
            lesson: id.into(),
            question: question.into(),
            correct,
            expected: correct.then_some(expected),
        })
    }

    /// The first evidence id of check `name` in the lesson's latest
    /// passing checkpoint.
    fn evidence_of(&self, lab: &Lab, id: &str, name: &str) -> Result<Option<String>> {
        let events = lab.lesson_events(id)?;
        let latest = events
            .iter()
            .rev()
            .find(|e| e.kind == "check" && e.detail["passed"] == true);
        Ok(latest.and_then(|e| {
            e.detail["verdicts"]
                .as_array()?
                .iter()
                .find(|v| v["name"] == name)?["evidence"][0]
                .as_str()
                .map(str::to_string)
        }))
    }

    /// Run the lesson's `solve` list and record it as skipped (not
    /// passed): a workshop fast-forwards anyone this way.
    pub fn skip(&self, lab: &Lab, id: &str, sink: &dyn Fn(Event)) -> Result<Vec<String>> {
        let lesson = self.lesson(id)?;
        lab.start_lesson(id)?;
        let mut done = Vec::new();
        let ex = self.exercises(lab)?;
        for a in &lesson.solve {
            done.push(a.run(lab, &ex, sink)?.summary);
        }
        if lab
            .lesson_state(id)?
            .is_some_and(|s| s.status == "in-progress")
        {
            lab.record_lesson_event(id, "skipped", &json!({"solved": done}))?;
        }
        Ok(done)
    }

    /// Forget one lesson's progress, or all of them; the lab's runs,
    /// models and services stay.
    pub fn reset(&self, lab: &Lab, id: Option<&str>) -> Result<usize> {
        if let Some(id) = id {
            self.lesson(id)?;
        }
        Ok(lab.reset_lessons(id)?)
    }
}

/// `given` equals `value` within `tolerance` (and a rounding of the last
/// digit: 0.753 for 0.7525 at ±0.0005).
fn within(given: f64, value: f64, tolerance: f64) -> bool {
    (given - value).abs() <= tolerance + 1e-9
}

/// Relative link targets in a Markdown line (`](path)`, not URLs or
/// anchors), without their `#fragment`.
fn relative_links(line: &str) -> Vec<&str> {
    line.match_indices("](")
        .filter_map(|(i, _)| {
            let rest = &line[i + 2..];
            let end = rest.find(')')?;
            let target = rest[..end].split('#').next()?.trim();
            (!target.is_empty() && !target.contains("://") && !target.starts_with("mailto:"))
                .then_some(target)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::relative_links;

    #[test]
    fn finds_relative_links_only() {
        assert_eq!(
            relative_links("see [a](01-x.md#top), [b](https://x.org) and [c](../README.md)"),
            ["01-x.md", "../README.md"]
        );
    }
}
