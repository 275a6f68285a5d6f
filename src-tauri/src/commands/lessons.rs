//! The course: the roadmap, a lesson as a page, and the learner's actions
//! in it (start, run a step, check, hint, answer, skip, reset), each one a
//! call to `lab-lessons`.

use std::sync::Arc;

use lab_lessons::{
    CheckReport, Course, HintShown, LessonError, LessonPage, QuizResult, Report, Roadmap,
    StepResult, Written,
};
use lab_pipeline::{Event, Lab};
use tauri::State;
use tauri::ipc::Channel;

use crate::state::{AppLab, Jobs, UiError, UiResult, sink, with_job, with_lab};

/// The course, loaded once at start; or why it could not be.
pub struct AppCourse(Result<Arc<Course>, UiError>);

impl AppCourse {
    pub fn load() -> AppCourse {
        AppCourse(Course::load_default().map(Arc::new).map_err(|e| {
            tracing::warn!(error = %e, "the course did not load");
            lesson_error(e)
        }))
    }

    pub(crate) fn get(&self) -> UiResult<Arc<Course>> {
        self.0.clone()
    }
}

pub(crate) fn lesson_error(e: LessonError) -> UiError {
    let w = e.to_wire();
    UiError {
        code: w.code,
        message: w.message,
    }
}

/// Run `f` with the course on a handle of the lab, off the UI thread.
async fn with_course<T: Send + 'static>(
    app: &State<'_, AppLab>,
    course: &State<'_, AppCourse>,
    f: impl FnOnce(&Course, &Lab) -> Result<T, LessonError> + Send + 'static,
) -> UiResult<T> {
    let course = course.get()?;
    with_lab(app, move |lab| f(&course, lab).map_err(lesson_error)).await
}

#[tauri::command]
pub async fn roadmap(app: State<'_, AppLab>, course: State<'_, AppCourse>) -> UiResult<Roadmap> {
    with_course(&app, &course, |c, lab| c.progress(lab)).await
}

#[tauri::command]
pub async fn lesson(
    app: State<'_, AppLab>,
    course: State<'_, AppCourse>,
    id: String,
) -> UiResult<LessonPage> {
    with_course(&app, &course, move |c, lab| c.page(lab, &id)).await
}

/// Start (or resume) lesson `id`: from now on, what the lab makes counts
/// for its checkpoint.
#[tauri::command]
pub async fn lesson_start(
    app: State<'_, AppLab>,
    course: State<'_, AppCourse>,
    id: String,
) -> UiResult<LessonPage> {
    with_course(&app, &course, move |c, lab| {
        c.start(lab, &id)?;
        c.page(lab, &id)
    })
    .await
}

#[tauri::command]
pub async fn lesson_step(
    app: State<'_, AppLab>,
    course: State<'_, AppCourse>,
    jobs: State<'_, Jobs>,
    job: String,
    id: String,
    step: String,
    on_event: Channel<Event>,
) -> UiResult<StepResult> {
    let course = course.get()?;
    with_job(&app, &jobs, job, move |lab| {
        course
            .run_step(lab, &id, &step, &sink(&on_event))
            .map_err(lesson_error)
    })
    .await
}

/// Evaluate the checkpoint (live probes included), as a job so a second
/// click waits for the first.
#[tauri::command]
pub async fn lesson_check(
    app: State<'_, AppLab>,
    course: State<'_, AppCourse>,
    jobs: State<'_, Jobs>,
    job: String,
    id: String,
) -> UiResult<CheckReport> {
    let course = course.get()?;
    with_job(&app, &jobs, job, move |lab| {
        course.check(lab, &id).map_err(lesson_error)
    })
    .await
}

#[tauri::command]
pub async fn lesson_hint(
    app: State<'_, AppLab>,
    course: State<'_, AppCourse>,
    id: String,
) -> UiResult<HintShown> {
    with_course(&app, &course, move |c, lab| c.hint(lab, &id)).await
}

#[tauri::command]
pub async fn lesson_answer(
    app: State<'_, AppLab>,
    course: State<'_, AppCourse>,
    id: String,
    question: String,
    answer: String,
) -> UiResult<QuizResult> {
    with_course(&app, &course, move |c, lab| {
        c.answer(lab, &id, &question, &answer)
    })
    .await
}

/// Run the lesson's solve list and record it as skipped, not passed.
#[tauri::command]
pub async fn lesson_skip(
    app: State<'_, AppLab>,
    course: State<'_, AppCourse>,
    jobs: State<'_, Jobs>,
    job: String,
    id: String,
    on_event: Channel<Event>,
) -> UiResult<Vec<String>> {
    let course = course.get()?;
    with_job(&app, &jobs, job, move |lab| {
        course
            .skip(lab, &id, &sink(&on_event))
            .map_err(lesson_error)
    })
    .await
}

/// Forget lesson `id`'s progress; the lab's runs, models and services stay.
#[tauri::command]
pub async fn lesson_reset(
    app: State<'_, AppLab>,
    course: State<'_, AppCourse>,
    id: String,
) -> UiResult<usize> {
    with_course(&app, &course, move |c, lab| c.reset(lab, Some(&id))).await
}

/// The learner's record, written as `progress.html` and `progress.json`
/// in the lab home's `reports/` folder (every passed lesson's evidence
/// re-checked).
#[tauri::command]
pub async fn lesson_report(
    app: State<'_, AppLab>,
    course: State<'_, AppCourse>,
) -> UiResult<(Report, Written)> {
    with_course(&app, &course, |c, lab| {
        let r = c.report(lab)?;
        let files = r.write(&lab.home().root().join("reports"))?;
        Ok((r, files))
    })
    .await
}
