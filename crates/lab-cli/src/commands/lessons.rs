//! `lessons`: the course, through `lab-lessons`.

use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use lab_lessons::Course;

use super::Ctx;
use crate::cli::LessonsCommand;

pub(super) fn run(ctx: &Ctx, command: LessonsCommand) -> Result<ExitCode> {
    let course = Course::load_default()?;
    let lab = ctx.lab()?;
    match command {
        LessonsCommand::List => ctx.emit(course.roadmap(&lab)?.as_slice()),
        LessonsCommand::Show { id } => ctx.emit(&course.detail(&lab, &id)?),
        LessonsCommand::Start { id } => {
            course.start(&lab, &id)?;
            ctx.emit(&course.detail(&lab, &id)?)
        }
        LessonsCommand::Run { id, step } => {
            let r = ctx.progress(|sink| course.run_step(&lab, &id, &step, sink))?;
            ctx.emit(&r)
        }
        LessonsCommand::Check { id } => {
            let r = course.check(&lab, &id)?;
            ctx.emit(&r)?;
            Ok(if r.passed {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        LessonsCommand::Hint { id } => ctx.emit(&course.hint(&lab, &id)?),
        LessonsCommand::Quiz { id, answers } => {
            if answers.is_empty() {
                return ctx.emit(&crate::print::lessons::Quiz(course.lesson(&id)?));
            }
            let mut results = Vec::new();
            for a in &answers {
                let (q, v) = a
                    .split_once('=')
                    .with_context(|| format!("--answer {a}: write QUESTION=ANSWER"))?;
                results.push(course.answer(&lab, &id, q.trim(), v)?);
            }
            ctx.emit(results.as_slice())?;
            Ok(if results.iter().all(|r| r.correct) {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        LessonsCommand::Skip { id } => {
            let done = ctx.progress(|sink| course.skip(&lab, &id, sink))?;
            ctx.emit(&crate::print::lessons::Skipped { id, done })
        }
        LessonsCommand::Report { out } => {
            let report = course.report(&lab)?;
            let dir = out.unwrap_or_else(|| lab.home().root().join("reports"));
            let files = report.write(&dir)?;
            ctx.emit(&crate::print::lessons::Written {
                report: &report,
                html: files.html,
                json: files.json,
            })
        }
        LessonsCommand::Reset { id, .. } => {
            let n = course.reset(&lab, id.as_deref())?;
            if n == 0 && id.is_some() {
                bail!(
                    "lesson `{}` was not started: nothing to reset",
                    id.unwrap_or_default()
                );
            }
            ctx.emit(&crate::print::lessons::Reset { lessons: n })
        }
    }
}
