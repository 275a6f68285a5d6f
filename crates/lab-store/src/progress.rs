//! The learner's progress: lessons, and the latest action of each kind
//! (what the app's pipeline strip shows for Data).

use rusqlite::params;
use serde::{Deserialize, Serialize};

use crate::store::Store;
use crate::{Result, StoreError, now_ms};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LessonProgress {
    pub lesson_id: String,
    pub status: String,
    pub updated_at: i64,
    pub detail: serde_json::Value,
}

impl Store {
    pub fn set_lesson_progress(
        &self,
        lesson_id: &str,
        status: &str,
        detail: &serde_json::Value,
    ) -> Result<()> {
        if !matches!(status, "not-started" | "in-progress" | "done") {
            return Err(StoreError::Invalid(format!(
                "lesson status `{status}`: use not-started, in-progress or done"
            )));
        }
        self.conn.execute(
            "INSERT INTO lesson_progress (lesson_id, status, updated_at, detail) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (lesson_id) DO UPDATE SET status = excluded.status,
                updated_at = excluded.updated_at, detail = excluded.detail",
            params![lesson_id, status, now_ms(), detail.to_string()],
        )?;
        Ok(())
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

    pub fn lesson_progress(&self) -> Result<Vec<LessonProgress>> {
        let mut stmt = self.conn.prepare(
            "SELECT lesson_id, status, updated_at, detail FROM lesson_progress ORDER BY lesson_id",
        )?;
        Ok(stmt
            .query_map([], |r| {
                let detail: String = r.get(3)?;
                Ok(LessonProgress {
                    lesson_id: r.get(0)?,
                    status: r.get(1)?,
                    updated_at: r.get(2)?,
                    detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::Null),
                })
            })?
            .collect::<rusqlite::Result<_>>()?)
    }
}
