//! Exercises in the learner's own Python: the managed Python (status, set
//! up with live progress) and an exercise's start and check, each one a
//! call to `lab-exercises` through the course (its workspace and Python).

use lab_exercises::{Doctor, ExerciseError, ExerciseReport, SetupReport, Started};
use tauri::State;
use tauri::ipc::Channel;

use super::lessons::{AppCourse, lesson_error};
use crate::state::{AppLab, Jobs, UiError, UiResult, with_job};

/// An exercise's error as the UI receives it (through the course's).
fn exercise_error(e: ExerciseError) -> UiError {
    lesson_error(e.into())
}

/// What the learner's Python holds (the same as `mlops-lab python doctor`).
#[tauri::command]
pub async fn python_status(
    app: State<'_, AppLab>,
    course: State<'_, AppCourse>,
    jobs: State<'_, Jobs>,
    job: String,
) -> UiResult<Doctor> {
    let course = course.get()?;
    with_job(&app, &jobs, job, move |lab| {
        Ok(course.exercises(lab).map_err(lesson_error)?.doctor())
    })
    .await
}

/// Make the lab home's venv with the pinned packages (once, with a package
/// index); pip's progress lines stream to `on_line`. Cancellable.
#[tauri::command]
pub async fn python_setup(
    app: State<'_, AppLab>,
    course: State<'_, AppCourse>,
    jobs: State<'_, Jobs>,
    job: String,
    on_line: Channel<String>,
) -> UiResult<SetupReport> {
    let course = course.get()?;
    with_job(&app, &jobs, job, move |lab| {
        let ex = course.exercises(lab).map_err(lesson_error)?;
        ex.setup_python(lab, &mut |line| {
            let _ = on_line.send(line.to_string());
        })
        .map_err(exercise_error)
    })
    .await
}

/// Write the exercise's starter files into the learner's workspace (never
/// over the learner's own).
#[tauri::command]
pub async fn exercise_start(
    app: State<'_, AppLab>,
    course: State<'_, AppCourse>,
    jobs: State<'_, Jobs>,
    job: String,
    id: String,
) -> UiResult<Started> {
    let course = course.get()?;
    with_job(&app, &jobs, job, move |lab| {
        let ex = course.exercises(lab).map_err(lesson_error)?;
        ex.start(lab, &id).map_err(exercise_error)
    })
    .await
}

/// Run the exercise's checks on the learner's code (cancellable: the
/// learner's process group is stopped).
#[tauri::command]
pub async fn exercise_check(
    app: State<'_, AppLab>,
    course: State<'_, AppCourse>,
    jobs: State<'_, Jobs>,
    job: String,
    id: String,
) -> UiResult<ExerciseReport> {
    let course = course.get()?;
    with_job(&app, &jobs, job, move |lab| {
        let ex = course.exercises(lab).map_err(lesson_error)?;
        ex.check(lab, &id).map_err(exercise_error)
    })
    .await
}
