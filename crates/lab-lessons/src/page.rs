//! What a front end shows: the roadmap with the learner's progress, and a
//! lesson as a page (its Markdown rendered to safe HTML, its steps, the
//! latest checkpoint, the hints revealed so far and the quiz without its
//! answers).

use lab_pipeline::Lab;
use serde::{Deserialize, Serialize};

use crate::check::Verdict;
use crate::course::{Course, LessonSummary};
use crate::lesson::{Answer, Concept};
use crate::{Result, markdown};

/// The roadmap: every lesson with its status, and where to continue.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Roadmap {
    pub lessons: Vec<LessonSummary>,
    pub total: usize,
    pub passed: usize,
    pub skipped: usize,
    pub in_progress: usize,
    /// The lesson to open next: the one the learner touched last, if it is
    /// still in progress, else the first one not done.
    pub continue_with: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LessonPage {
    pub id: String,
    pub title: String,
    pub month: u8,
    pub minutes: u32,
    /// As inline HTML (see [`crate::markdown::inline_html`]), like the
    /// concept's lines, the hints and the quiz questions.
    pub objectives: Vec<String>,
    pub concept: Concept,
    /// `not-started`, `in-progress`, `passed` or `skipped`.
    pub status: String,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    /// The lesson's Markdown as HTML (see [`crate::markdown`]).
    pub html: String,
    pub steps: Vec<StepView>,
    /// The checkpoint's predicate names, in order.
    pub checks: Vec<String>,
    /// The latest checkpoint attempt.
    pub last_check: Option<CheckView>,
    /// The hints revealed so far, in order.
    pub hints: Vec<String>,
    pub hints_total: usize,
    pub quiz: Vec<QuizView>,
    pub prev: Option<String>,
    pub next: Option<String>,
    /// The exercise in the learner's own Python the checkpoint names.
    pub exercise: Option<ExerciseView>,
}

/// A lesson's exercise: where the learner's files are, and the latest
/// check of them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExerciseView {
    pub id: String,
    pub title: String,
    pub folder: String,
    /// The starter files are there.
    pub started: bool,
    /// The check stages, in order.
    pub checks: Vec<String>,
    pub last: Option<lab_exercises::ExerciseReport>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepView {
    pub id: String,
    pub title: String,
    pub cli: String,
    /// What the latest run of this step did.
    pub last: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckView {
    pub at: i64,
    pub passed: bool,
    pub verdicts: Vec<Verdict>,
}

/// A quiz question without its answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QuizView {
    pub id: String,
    /// Inline HTML.
    pub question: String,
    /// The options of a multiple-choice question; empty when the answer is
    /// a number.
    pub options: Vec<String>,
    /// Answered correctly already.
    pub correct: bool,
    /// The learner's latest answer.
    pub answer: Option<String>,
}

impl Course {
    pub fn progress(&self, lab: &Lab) -> Result<Roadmap> {
        let lessons = self.roadmap(lab)?;
        let count = |s: &str| lessons.iter().filter(|l| l.status == s).count();
        let touched = lab
            .lesson_states()?
            .into_iter()
            .filter(|s| s.status == "in-progress")
            .max_by_key(|s| s.updated_at)
            .map(|s| s.lesson_id);
        let continue_with = touched.or_else(|| {
            lessons
                .iter()
                .find(|l| l.status == "not-started")
                .map(|l| l.id.clone())
        });
        Ok(Roadmap {
            total: lessons.len(),
            passed: count("passed"),
            skipped: count("skipped"),
            in_progress: count("in-progress"),
            continue_with,
            lessons,
        })
    }

    /// Lesson `id` as a page, with the learner's progress in it.
    pub fn page(&self, lab: &Lab, id: &str) -> Result<LessonPage> {
        let lesson = self.lesson(id)?;
        let state = lab.lesson_state(id)?;
        let events = if state.is_some() {
            lab.lesson_events(id)?
        } else {
            vec![]
        };
        let steps = lesson
            .steps
            .iter()
            .map(|s| StepView {
                id: s.id.clone(),
                title: s.title.clone(),
                cli: s.cli.clone(),
                last: events
                    .iter()
                    .rev()
                    .find(|e| e.kind == "step" && e.detail["step"] == s.id.as_str())
                    .and_then(|e| e.detail["summary"].as_str().map(str::to_string)),
            })
            .collect();
        let last_check = events
            .iter()
            .rev()
            .find(|e| e.kind == "check")
            .map(|e| CheckView {
                at: e.at,
                passed: e.detail["passed"] == true,
                verdicts: serde_json::from_value(e.detail["verdicts"].clone()).unwrap_or_default(),
            });
        let shown = events.iter().filter(|e| e.kind == "hint").count();
        let quiz = lesson
            .quiz
            .iter()
            .map(|q| {
                let answers: Vec<_> = events
                    .iter()
                    .filter(|e| e.kind == "quiz" && e.detail["question"] == q.id.as_str())
                    .collect();
                QuizView {
                    id: q.id.clone(),
                    question: self.render_inline(&q.question),
                    options: match &q.answer {
                        Answer::Choice { options, .. } => options.clone(),
                        _ => vec![],
                    },
                    correct: answers.iter().any(|e| e.detail["correct"] == true),
                    answer: answers
                        .last()
                        .and_then(|e| e.detail["answer"].as_str().map(str::to_string)),
                }
            })
            .collect();
        let at = self
            .lessons()
            .iter()
            .position(|l| l.id == id)
            .unwrap_or_default();
        let neighbour =
            |i: Option<usize>| i.and_then(|i| self.lessons().get(i)).map(|l| l.id.clone());
        let exercise = match lesson.checks.iter().find_map(|c| match &c.predicate {
            crate::Predicate::Exercise { exercise } => Some(exercise.clone()),
            _ => None,
        }) {
            None => None,
            Some(ex_id) => {
                let ex = self.exercises(lab)?;
                let e = ex.exercise(&ex_id)?;
                let folder = ex.folder(&ex_id)?;
                Some(ExerciseView {
                    id: ex_id.clone(),
                    title: e.title.into(),
                    started: ex.started(&ex_id)?,
                    folder: folder.display().to_string(),
                    checks: e.checks.iter().map(|c| c.to_string()).collect(),
                    last: lab
                        .exercise_attempts(Some(&ex_id))?
                        .pop()
                        .and_then(|a| serde_json::from_value(a.detail).ok()),
                })
            }
        };
        Ok(LessonPage {
            exercise,
            id: lesson.id.clone(),
            title: lesson.title.clone(),
            month: lesson.month,
            minutes: lesson.minutes,
            objectives: lesson
                .objectives
                .iter()
                .map(|o| self.render_inline(o))
                .collect(),
            concept: Concept {
                devops: self.render_inline(&lesson.concept.devops),
                mlops: self.render_inline(&lesson.concept.mlops),
                why: self.render_inline(&lesson.concept.why),
            },
            status: state
                .as_ref()
                .map_or("not-started".into(), |s| s.status.clone()),
            started_at: state.as_ref().map(|s| s.started_at),
            finished_at: state.as_ref().and_then(|s| s.finished_at),
            html: self.render(&lesson.body),
            steps,
            checks: lesson.checks.iter().map(|c| c.name.clone()).collect(),
            last_check,
            hints: lesson.hints[..shown.min(lesson.hints.len())]
                .iter()
                .map(|h| self.render_inline(h))
                .collect(),
            hints_total: lesson.hints.len(),
            quiz,
            prev: neighbour(at.checked_sub(1)),
            next: neighbour(Some(at + 1)),
        })
    }

    /// A lesson body as HTML, with links to other lessons routed in-app.
    pub fn render(&self, markdown: &str) -> String {
        markdown::to_html(markdown, &|id| self.lessons().iter().any(|l| l.id == id))
    }

    /// One line of lesson Markdown as inline HTML.
    pub fn render_inline(&self, markdown: &str) -> String {
        markdown::inline_html(markdown, &|id| self.lessons().iter().any(|l| l.id == id))
    }
}
