//! A lesson file: TOML front matter between `+++` lines, then Markdown.
//!
//! ```text
//! +++
//! id = "02-profile"
//! title = "Profile a dataset"
//! month = 1
//! minutes = 15
//! objectives = ["…"]
//! hints = ["the concept", "the command or button", "the exact command"]
//! solve = [{ kind = "profile", dataset = "penguins" }]
//!
//! [concept]
//! devops = "…"        # what the learner knows
//! mlops = "…"         # what it maps to here
//! why = "…"
//!
//! [[step]]
//! id = "profile"
//! title = "…"
//! cli = "mlops-lab data profile penguins"
//! action = { kind = "profile", dataset = "penguins" }
//!
//! [[check]]
//! name = "profiled"
//! fail = "what is missing and what to do"
//! predicate = { kind = "data", dataset = "penguins", action = "profiled" }
//!
//! [[quiz]]
//! id = "missing-sex"
//! question = "…"
//! answer = { kind = "number", value = 11 }
//! +++
//! Markdown…
//! ```
//!
//! Unknown keys are errors, so a misspelt field fails with its file and
//! line rather than being ignored.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::action::Action;
use crate::check::Predicate;
use crate::{LessonError, Result};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lesson {
    pub id: String,
    pub title: String,
    /// 1 to 4: the roadmap's month.
    pub month: u8,
    /// Estimated time.
    pub minutes: u32,
    pub objectives: Vec<String>,
    pub concept: Concept,
    #[serde(default, rename(deserialize = "step"))]
    pub steps: Vec<Step>,
    #[serde(rename(deserialize = "check"))]
    pub checks: Vec<Check>,
    /// Three levels: the concept, the command or button, the exact command.
    pub hints: Vec<String>,
    #[serde(default, rename = "quiz")]
    pub quiz: Vec<Question>,
    /// Engine actions that do the lesson (what "skip" runs).
    pub solve: Vec<Action>,
    /// The Markdown after the front matter.
    #[serde(skip_deserializing)]
    pub body: String,
    /// Where the file is.
    #[serde(skip_deserializing)]
    pub file: PathBuf,
    /// The line of the body's first line in the file.
    #[serde(skip)]
    pub body_line: usize,
}

/// The DevOps concept a lesson maps to.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Concept {
    pub devops: String,
    pub mlops: String,
    pub why: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub id: String,
    pub title: String,
    /// The same action as a command line, to show and to copy.
    pub cli: String,
    pub action: Action,
}

/// One named predicate of the checkpoint, and what to do when it fails.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    pub name: String,
    pub fail: String,
    pub predicate: Predicate,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub id: String,
    pub question: String,
    pub answer: Answer,
}

/// How a quiz answer is checked.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Answer {
    /// One of `options`, the `correct`-th (from 0).
    Choice {
        options: Vec<String>,
        correct: usize,
    },
    /// A number, within `tolerance`.
    Number {
        value: f64,
        #[serde(default)]
        tolerance: f64,
    },
    /// A metric of the run that satisfied checkpoint predicate `check`,
    /// within `tolerance`: the learner reads it from their own result.
    Metric {
        check: String,
        metric: String,
        tolerance: f64,
    },
}

impl Lesson {
    /// Parse the text of a lesson file.
    pub fn parse(file: &Path, text: &str) -> Result<Lesson> {
        let err = |line: usize, message: String| LessonError::File {
            file: file.to_path_buf(),
            line,
            message,
        };
        let rest = text.strip_prefix("+++\n").ok_or_else(|| {
            err(
                1,
                "a lesson starts with a `+++` line (TOML front matter)".into(),
            )
        })?;
        let end = rest
            .find("\n+++\n")
            .ok_or_else(|| err(1, "the front matter has no closing `+++` line".into()))?;
        let front = &rest[..=end];
        let body = &rest[end + 5..];
        let mut lesson: Lesson = toml::from_str(front).map_err(|e| {
            // The span is in the front matter, which starts on line 2.
            let line = e
                .span()
                .map(|s| front[..s.start].matches('\n').count() + 2)
                .unwrap_or(1);
            err(line, e.message().to_string())
        })?;
        lesson.body = body.to_string();
        lesson.file = file.to_path_buf();
        lesson.body_line = front.matches('\n').count() + 3;
        Ok(lesson)
    }

    /// The line in the file where `needle` first appears in the front
    /// matter (for messages about a value), else 1.
    pub fn line_of(&self, text: &str, needle: &str) -> usize {
        text.lines()
            .position(|l| l.contains(needle))
            .map_or(1, |i| i + 1)
    }
}
