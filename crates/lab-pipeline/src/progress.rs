//! The learner's progress through the course, kept in the store: what the
//! lesson engine (`lab-lessons`) reads and writes through the lab.

use lab_store::{ExerciseAttempt, LessonEvent, LessonState};

use crate::Result;
use crate::files::DataActivity;
use crate::lab::Lab;

impl Lab {
    /// Start a lesson now, or resume it as it stands.
    pub fn start_lesson(&self, lesson_id: &str) -> Result<LessonState> {
        Ok(self.store.start_lesson(lesson_id)?)
    }

    pub fn lesson_state(&self, lesson_id: &str) -> Result<Option<LessonState>> {
        Ok(self.store.lesson_state(lesson_id)?)
    }

    pub fn lesson_states(&self) -> Result<Vec<LessonState>> {
        Ok(self.store.lesson_states()?)
    }

    /// Record a lesson event; `passed` and `skipped` finish the lesson.
    pub fn record_lesson_event(
        &self,
        lesson_id: &str,
        kind: &str,
        detail: &serde_json::Value,
    ) -> Result<i64> {
        Ok(self.store.record_lesson_event(lesson_id, kind, detail)?)
    }

    pub fn lesson_events(&self, lesson_id: &str) -> Result<Vec<LessonEvent>> {
        Ok(self.store.lesson_events(lesson_id)?)
    }

    /// Forget one lesson's progress, or every lesson's; the lab's runs,
    /// models and services stay.
    pub fn reset_lessons(&self, lesson_id: Option<&str>) -> Result<usize> {
        Ok(self.store.reset_lessons(lesson_id)?)
    }

    /// Record one check of an exercise in the learner's own Python.
    pub fn record_exercise_attempt(
        &self,
        exercise_id: &str,
        millis: i64,
        passed: bool,
        detail: &serde_json::Value,
    ) -> Result<ExerciseAttempt> {
        Ok(self
            .store
            .record_exercise_attempt(exercise_id, millis, passed, detail)?)
    }

    /// An exercise's checks (every exercise's when `None`), oldest first.
    pub fn exercise_attempts(&self, exercise_id: Option<&str>) -> Result<Vec<ExerciseAttempt>> {
        Ok(self.store.exercise_attempts(exercise_id)?)
    }

    /// The latest profile or validation: the dataset, what it found, when.
    pub fn data_activity(&self) -> Result<Option<(String, DataActivity, i64)>> {
        Ok(self.store.activity::<DataActivity>(DataActivity::KIND)?)
    }
}
