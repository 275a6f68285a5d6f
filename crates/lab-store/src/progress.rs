//! The learner's progress: lessons, and the latest action of each kind
//! (what the app's pipeline strip shows for Data).

use rusqlite::params;
use serde::{Deserialize, Serialize};

use crate::store::Store;
use crate::{Result, StoreError, now_ms};

/// A lesson the learner started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LessonState {
    pub lesson_id: String,
    /// `in-progress`, `passed` or `skipped`.
    pub status: String,
    /// Only what the lab made from this time on counts for its checkpoint.
    pub started_at: i64,
    pub updated_at: i64,
    pub finished_at: Option<i64>,
}

/// One thing that happened in a lesson.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LessonEvent {
    pub event_id: i64,
    pub lesson_id: String,
    /// `started`, `step`, `check`, `hint`, `quiz`, `skipped` or `passed`.
    pub kind: String,
    pub at: i64,
    pub detail: serde_json::Value,
}

/// One check of an exercise in the learner's own Python.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExerciseAttempt {
    pub attempt_id: i64,
    pub exercise_id: String,
    /// When the check finished (ms since the epoch).
    pub at: i64,
    /// How long it took.
    pub millis: i64,
    pub passed: bool,
    /// The per-check results, as the exercise engine wrote them.
    pub detail: serde_json::Value,
}

const LESSON_EVENTS: [&str; 7] = [
    "started", "step", "check", "hint", "quiz", "skipped", "passed",
];

impl Store {
    /// Start `lesson_id` (now), or return it as it stands when started
    /// before: a restart resumes, it does not move the start.
    pub fn start_lesson(&self, lesson_id: &str) -> Result<LessonState> {
        {
            let tx = self.write_tx()?;
            let now = now_ms();
            let inserted = tx.execute(
                "INSERT INTO lessons (lesson_id, status, started_at, updated_at) VALUES (?1, 'in-progress', ?2, ?2)
                 ON CONFLICT (lesson_id) DO NOTHING",
                params![lesson_id, now],
            )?;
            if inserted == 1 {
                tx.execute(
                    "INSERT INTO lesson_events (lesson_id, kind, at) VALUES (?1, 'started', ?2)",
                    params![lesson_id, now],
                )?;
            }
            tx.commit()?;
        }
        self.lesson_state(lesson_id)?
            .ok_or_else(|| StoreError::NotFound(format!("lesson `{lesson_id}`")))
    }

    pub fn lesson_state(&self, lesson_id: &str) -> Result<Option<LessonState>> {
        Ok(self.lesson_states_where(Some(lesson_id))?.pop())
    }

    /// Every lesson started, by id.
    pub fn lesson_states(&self) -> Result<Vec<LessonState>> {
        self.lesson_states_where(None)
    }

    fn lesson_states_where(&self, id: Option<&str>) -> Result<Vec<LessonState>> {
        let mut stmt = self.conn.prepare(
            "SELECT lesson_id, status, started_at, updated_at, finished_at FROM lessons
             WHERE ?1 IS NULL OR lesson_id = ?1 ORDER BY lesson_id",
        )?;
        Ok(stmt
            .query_map(params![id], |r| {
                Ok(LessonState {
                    lesson_id: r.get(0)?,
                    status: r.get(1)?,
                    started_at: r.get(2)?,
                    updated_at: r.get(3)?,
                    finished_at: r.get(4)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// Record an event of a started lesson; `passed` and `skipped` also
    /// finish it (one transaction).
    pub fn record_lesson_event(
        &self,
        lesson_id: &str,
        kind: &str,
        detail: &serde_json::Value,
    ) -> Result<i64> {
        if !LESSON_EVENTS.contains(&kind) || kind == "started" {
            return Err(StoreError::Invalid(format!("lesson event `{kind}`")));
        }
        let tx = self.write_tx()?;
        let now = now_ms();
        {
            let status = match kind {
                "passed" | "skipped" => Some(kind),
                _ => None,
            };
            let updated = tx.execute(
                "UPDATE lessons SET updated_at = ?2,
                    status = COALESCE(?3, status),
                    finished_at = CASE WHEN ?3 IS NULL THEN finished_at ELSE ?2 END
                 WHERE lesson_id = ?1",
                params![lesson_id, now, status],
            )?;
            if updated == 0 {
                return Err(StoreError::NotFound(format!(
                    "lesson `{lesson_id}` was not started"
                )));
            }
            tx.execute(
                "INSERT INTO lesson_events (lesson_id, kind, at, detail) VALUES (?1, ?2, ?3, ?4)",
                params![lesson_id, kind, now, detail.to_string()],
            )?;
        }
        let id = tx.last_insert_rowid();
        tx.commit()?;
        Ok(id)
    }

    /// A lesson's events, oldest first.
    pub fn lesson_events(&self, lesson_id: &str) -> Result<Vec<LessonEvent>> {
        let mut stmt = self.conn.prepare(
            "SELECT event_id, lesson_id, kind, at, detail FROM lesson_events
             WHERE lesson_id = ?1 ORDER BY event_id",
        )?;
        Ok(stmt
            .query_map(params![lesson_id], |r| {
                let detail: String = r.get(4)?;
                Ok(LessonEvent {
                    event_id: r.get(0)?,
                    lesson_id: r.get(1)?,
                    kind: r.get(2)?,
                    at: r.get(3)?,
                    detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::Null),
                })
            })?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// Forget one lesson's progress (or every lesson's): its row and its
    /// events. Runs, models and the rest of the lab stay. Returns how many
    /// lessons were reset.
    pub fn reset_lessons(&self, lesson_id: Option<&str>) -> Result<usize> {
        let tx = self.write_tx()?;
        let n = tx.execute(
            "DELETE FROM lessons WHERE ?1 IS NULL OR lesson_id = ?1",
            params![lesson_id],
        )?;
        tx.commit()?;
        Ok(n)
    }

    /// Record the latest action of `kind` (replacing the one before).
    pub fn record_activity<T: serde::Serialize>(
        &self,
        kind: &str,
        subject: &str,
        detail: &T,
    ) -> Result<()> {
        let detail = serde_json::to_string(detail)
            .map_err(|e| StoreError::Invalid(format!("activity `{kind}`: {e}")))?;
        self.conn.execute(
            "INSERT INTO activity (kind, subject, detail, at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (kind) DO UPDATE SET subject = excluded.subject,
                detail = excluded.detail, at = excluded.at",
            params![kind, subject, detail, now_ms()],
        )?;
        Ok(())
    }

    /// The latest action of `kind`: its subject, detail and time (ms). A
    /// detail that does not read as `T` (an earlier release's) is none.
    pub fn activity<T: serde::de::DeserializeOwned>(
        &self,
        kind: &str,
    ) -> Result<Option<(String, T, i64)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT subject, detail, at FROM activity WHERE kind = ?1")?;
        let mut rows = stmt.query(params![kind])?;
        Ok(match rows.next()? {
            Some(r) => {
                let detail: String = r.get(1)?;
                match serde_json::from_str(&detail) {
                    Ok(d) => Some((r.get(0)?, d, r.get(2)?)),
                    Err(_) => None,
                }
            }
            None => None,
        })
    }
}

impl Store {
    /// Record one check of an exercise.
    pub fn record_exercise_attempt(
        &self,
        exercise_id: &str,
        millis: i64,
        passed: bool,
        detail: &serde_json::Value,
    ) -> Result<ExerciseAttempt> {
        let at = now_ms();
        self.conn.execute(
            "INSERT INTO exercise_attempts (exercise_id, at, millis, passed, detail)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![exercise_id, at, millis, passed, detail.to_string()],
        )?;
        Ok(ExerciseAttempt {
            attempt_id: self.conn.last_insert_rowid(),
            exercise_id: exercise_id.into(),
            at,
            millis,
            passed,
            detail: detail.clone(),
        })
    }

    /// An exercise's checks (every exercise's when `None`), oldest first.
    pub fn exercise_attempts(&self, exercise_id: Option<&str>) -> Result<Vec<ExerciseAttempt>> {
        let mut stmt = self.conn.prepare(
            "SELECT attempt_id, exercise_id, at, millis, passed, detail FROM exercise_attempts
             WHERE ?1 IS NULL OR exercise_id = ?1 ORDER BY attempt_id",
        )?;
        Ok(stmt
            .query_map(params![exercise_id], |r| {
                let detail: String = r.get(5)?;
                Ok(ExerciseAttempt {
                    attempt_id: r.get(0)?,
                    exercise_id: r.get(1)?,
                    at: r.get(2)?,
                    millis: r.get(3)?,
                    passed: r.get(4)?,
                    detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::Null),
                })
            })?
            .collect::<rusqlite::Result<_>>()?)
    }
}
