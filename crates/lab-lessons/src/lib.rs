//! The course: the four-month roadmap as lessons that run the real steps
//! and check, from the lab's own state, that the learner did them.
//!
//! - [`lesson`]: the file format (TOML front matter, Markdown body) and its
//!   parser, which names the file and line of any mistake;
//! - [`action`]: the engine actions a step or a `solve` list runs (the same
//!   `lab-pipeline` calls as the CLI and the app);
//! - [`check`]: checkpoint predicates, evaluated against what the lab made
//!   after the lesson started;
//! - [`course`]: the lessons together, and the learner's progress through
//!   them (start, steps, checks, hints, quiz, skip, reset), recorded in the
//!   lab's SQLite store through `lab-pipeline`;
//! - [`page`]: what a front end shows (the roadmap with progress, a lesson
//!   as a page without its quiz answers);
//! - [`markdown`]: lesson Markdown to HTML that is safe to show as is;
//! - [`report`]: the learner's record (JSON and a self-contained HTML
//!   page), every passed lesson's evidence re-checked.
//!
//! Front ends (the CLI, the app) call [`Course`]; it knows nothing of them.

pub mod action;
pub mod check;
pub mod course;
pub mod lesson;
pub mod markdown;
pub mod page;
pub mod report;

pub use action::{Action, ActionOutcome};
pub use check::{Predicate, Verdict};
pub use course::{
    CheckReport, Course, HintShown, LessonDetail, LessonSummary, QuizResult, Recheck, StepResult,
};
pub use lesson::{Answer, Check, Concept, Lesson, Question, Step};
pub use page::{CheckView, ExerciseView, LessonPage, QuizView, Roadmap, StepView};
pub use report::{Evidence, LessonRecord, Report, Written};

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum LessonError {
    /// A lesson file is wrong: where, and what.
    #[error("{}:{line}: {message}", file.display())]
    File {
        file: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{0}")]
    Invalid(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error(transparent)]
    Pipeline(#[from] lab_pipeline::PipelineError),
    #[error(transparent)]
    Exercise(#[from] lab_exercises::ExerciseError),
}

impl LessonError {
    /// A stable code for front ends (`{code, message}`).
    pub fn code(&self) -> &'static str {
        match self {
            LessonError::File { .. } => "lesson.file",
            LessonError::Invalid(_) => "invalid",
            LessonError::NotFound(_) => "not_found",
            LessonError::Pipeline(e) => e.code(),
            LessonError::Exercise(_) => "exercise",
        }
    }

    /// The error as front ends receive it: `{code, message}`.
    pub fn to_wire(&self) -> lab_pipeline::WireError {
        match self {
            LessonError::Pipeline(e) => e.to_wire(),
            LessonError::Exercise(e) => e.to_wire(),
            e => lab_pipeline::WireError {
                code: e.code().into(),
                message: e.to_string(),
            },
        }
    }
}

pub type Result<T, E = LessonError> = std::result::Result<T, E>;
