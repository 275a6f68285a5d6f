//! The learner's record: every lesson's status, time, checkpoint evidence
//! (re-checked: does it still exist?), quiz score and hints, as JSON and
//! as one self-contained HTML page (inline CSS, no script, no link out)
//! that a learner keeps and an instructor collects.

use std::collections::BTreeSet;

use lab_pipeline::Lab;
use serde::{Deserialize, Serialize};

use crate::Result;
use crate::course::Course;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// When it was made (ms since the epoch).
    pub generated_at: i64,
    pub lab_home: String,
    pub total: usize,
    pub passed: usize,
    pub skipped: usize,
    pub in_progress: usize,
    /// Quiz questions answered correctly, of all the course's questions.
    pub quiz_correct: usize,
    pub quiz_total: usize,
    /// From each lesson's start to its last recorded event, summed.
    pub minutes_spent: f64,
    pub lessons: Vec<LessonRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LessonRecord {
    pub id: String,
    pub title: String,
    pub month: u8,
    pub status: String,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub minutes_spent: f64,
    pub steps_run: usize,
    pub check_attempts: usize,
    pub hints_shown: usize,
    pub quiz_correct: usize,
    pub quiz_total: usize,
    /// The evidence of the latest passing checkpoint, re-checked now.
    pub evidence: Vec<Evidence>,
}

/// One id a checkpoint recorded, and whether it still exists.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Evidence {
    pub id: String,
    pub holds: bool,
    /// What it is, or why it no longer holds.
    pub note: String,
}

/// Everything the lab knows by id, to tell whether evidence still exists.
struct Known {
    runs: BTreeSet<String>,
    versions: BTreeSet<String>,
    deployments: Vec<lab_pipeline::DeploymentRecord>,
    retrains: BTreeSet<String>,
    alerts: BTreeSet<String>,
    windows: BTreeSet<String>,
    exercises: BTreeSet<String>,
}

impl Known {
    fn of(lab: &Lab) -> Result<Known> {
        let runs = lab
            .runs(&lab_pipeline::RunFilter {
                limit: Some(1_000_000),
                ..Default::default()
            })?
            .into_iter()
            .map(|r| r.run_id)
            .collect();
        let mut versions = BTreeSet::new();
        for m in lab.registered_models()? {
            for v in lab.model_versions(&m.name)? {
                versions.insert(format!("{}:{}", v.name, v.version));
            }
        }
        let (mut retrains, mut alerts, mut windows) =
            (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
        for s in lab.services()? {
            let name = &s.service.name;
            retrains.extend(lab.retrains(name)?.into_iter().map(|r| r.retrain_id));
            alerts.extend(
                lab.alerts(name)?
                    .into_iter()
                    .map(|a| format!("alert {}", a.alert_id)),
            );
            windows.extend(
                lab.windows(name, i64::MIN)?
                    .into_iter()
                    .map(|w| format!("window {}", w.window_id)),
            );
        }
        let exercises = lab
            .exercise_attempts(None)?
            .into_iter()
            .filter(|a| a.passed)
            .map(|a| format!("exercise attempt {}", a.attempt_id))
            .collect();
        Ok(Known {
            runs,
            versions,
            deployments: lab.deployments(true)?,
            retrains,
            alerts,
            windows,
            exercises,
        })
    }

    fn check(&self, id: &str) -> Evidence {
        let found = |holds: bool, note: &str| Evidence {
            id: id.to_string(),
            holds,
            note: note.to_string(),
        };
        if self.runs.contains(id) {
            return found(true, "run");
        }
        if self.retrains.contains(id) {
            return found(true, "retrain");
        }
        if self.versions.contains(id) {
            return found(true, "model version");
        }
        if self.alerts.contains(id) {
            return found(true, "alert");
        }
        if self.windows.contains(id) {
            return found(true, "monitoring window");
        }
        if self.exercises.contains(id) {
            return found(true, "your code's check");
        }
        if let Some(d) = self.deployments.iter().find(|d| d.deployment_id == id) {
            return if d.status == lab_pipeline::DeploymentState::Running {
                found(true, &format!("deployment {}, running", d.name))
            } else {
                found(false, &format!("deployment {} was stopped", d.name))
            };
        }
        if let Some(d) = self
            .deployments
            .iter()
            .find(|d| d.image_tag.as_deref() == Some(id))
        {
            return found(true, &format!("image of deployment {}", d.name));
        }
        if id.starts_with('/') {
            return if std::path::Path::new(id).exists() {
                found(true, "file")
            } else {
                found(false, "the file was removed")
            };
        }
        found(
            false,
            "no longer in the lab (removed, or the lab was reset)",
        )
    }
}

impl Course {
    /// The learner's record, with every passed lesson's evidence
    /// re-checked against the lab as it is now.
    pub fn report(&self, lab: &Lab) -> Result<Report> {
        let known = Known::of(lab)?;
        let mut lessons = Vec::new();
        for l in self.lessons() {
            let state = lab.lesson_state(&l.id)?;
            let events = if state.is_some() {
                lab.lesson_events(&l.id)?
            } else {
                vec![]
            };
            let count = |kind: &str| events.iter().filter(|e| e.kind == kind).count();
            let correct: BTreeSet<&str> = events
                .iter()
                .filter(|e| e.kind == "quiz" && e.detail["correct"] == true)
                .filter_map(|e| e.detail["question"].as_str())
                .collect();
            let evidence: Vec<Evidence> = events
                .iter()
                .rev()
                .find(|e| e.kind == "check" && e.detail["passed"] == true)
                .and_then(|e| e.detail["verdicts"].as_array().cloned())
                .unwrap_or_default()
                .iter()
                .flat_map(|v| v["evidence"].as_array().cloned().unwrap_or_default())
                .filter_map(|id| id.as_str().map(str::to_string))
                // Two checks can name the same id (a server that answers
                // and counted requests): once each.
                .fold(Vec::<String>::new(), |mut seen, id| {
                    if !seen.contains(&id) {
                        seen.push(id);
                    }
                    seen
                })
                .iter()
                .map(|id| known.check(id))
                .collect();
            let minutes = match (&state, events.last()) {
                (Some(s), Some(last)) => (last.at - s.started_at).max(0) as f64 / 60_000.0,
                _ => 0.0,
            };
            lessons.push(LessonRecord {
                id: l.id.clone(),
                title: l.title.clone(),
                month: l.month,
                status: state
                    .as_ref()
                    .map_or("not-started".into(), |s| s.status.clone()),
                started_at: state.as_ref().map(|s| s.started_at),
                finished_at: state.as_ref().and_then(|s| s.finished_at),
                minutes_spent: minutes,
                steps_run: count("step"),
                check_attempts: count("check"),
                hints_shown: count("hint"),
                quiz_correct: correct.len(),
                quiz_total: l.quiz.len(),
                evidence,
            });
        }
        let n = |s: &str| lessons.iter().filter(|l| l.status == s).count();
        Ok(Report {
            generated_at: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64),
            lab_home: lab.home().root().display().to_string(),
            total: lessons.len(),
            passed: n("passed"),
            skipped: n("skipped"),
            in_progress: n("in-progress"),
            quiz_correct: lessons.iter().map(|l| l.quiz_correct).sum(),
            quiz_total: lessons.iter().map(|l| l.quiz_total).sum(),
            minutes_spent: lessons.iter().map(|l| l.minutes_spent).sum(),
            lessons,
        })
    }
}

/// Where [`Report::write`] put the files.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Written {
    pub html: std::path::PathBuf,
    pub json: std::path::PathBuf,
}

impl Report {
    /// Write `progress.html` and `progress.json` into `dir` (made if
    /// needed), each atomically.
    pub fn write(&self, dir: &std::path::Path) -> Result<Written> {
        let io = |what: &std::path::Path, e: std::io::Error| {
            crate::LessonError::Invalid(format!("cannot write {}: {e}", what.display()))
        };
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        let html = dir.join("progress.html");
        let json = dir.join("progress.json");
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| crate::LessonError::Invalid(e.to_string()))?;
        for (path, body) in [(&html, self.to_html()), (&json, text)] {
            let tmp = path.with_extension("tmp");
            std::fs::write(&tmp, body).map_err(|e| io(&tmp, e))?;
            std::fs::rename(&tmp, path).map_err(|e| io(path, e))?;
        }
        Ok(Written { html, json })
    }

    /// Evidence ids that no longer hold, with their lesson.
    pub fn broken(&self) -> Vec<(&str, &Evidence)> {
        self.lessons
            .iter()
            .flat_map(|l| {
                l.evidence
                    .iter()
                    .filter(|e| !e.holds)
                    .map(move |e| (l.id.as_str(), e))
            })
            .collect()
    }

    /// One self-contained HTML page: inline CSS, no script, no link out.
    pub fn to_html(&self) -> String {
        let e = escape;
        let mut rows = String::new();
        for l in &self.lessons {
            let evidence: Vec<String> = l
                .evidence
                .iter()
                .map(|x| {
                    format!(
                        "<li class=\"{}\"><code>{}</code> {}</li>",
                        if x.holds { "ok" } else { "bad" },
                        e(&x.id),
                        e(&x.note)
                    )
                })
                .collect();
            rows.push_str(&format!(
                "<tr class=\"{status}\"><td>{month}</td><td><strong>{title}</strong><br><code>{id}</code></td>\
                 <td>{status_text}</td><td class=\"num\">{minutes:.0}</td><td class=\"num\">{steps}</td>\
                 <td class=\"num\">{checks}</td><td class=\"num\">{hints}</td><td class=\"num\">{qc}/{qt}</td>\
                 <td><ul>{evidence}</ul></td></tr>\n",
                status = e(&l.status),
                month = l.month,
                title = e(&l.title),
                id = e(&l.id),
                status_text = e(&l.status.replace('-', " ")),
                minutes = l.minutes_spent,
                steps = l.steps_run,
                checks = l.check_attempts,
                hints = l.hints_shown,
                qc = l.quiz_correct,
                qt = l.quiz_total,
                evidence = evidence.join(""),
            ));
        }
        let broken = self.broken();
        let recheck = if broken.is_empty() {
            "<p class=\"ok\">Every recorded piece of evidence still exists.</p>".to_string()
        } else {
            format!(
                "<p class=\"bad\">{} piece(s) of evidence no longer hold: {}.</p>",
                broken.len(),
                broken
                    .iter()
                    .map(|(l, x)| format!("{} (<code>{}</code>: {})", e(l), e(&x.id), e(&x.note)))
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        };
        format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>MLOps Lab progress</title><style>{CSS}</style></head><body>\
             <h1>MLOps Lab: from DevOps to MLOps</h1>\
             <p>{passed} of {total} lessons passed, {skipped} skipped, {in_progress} in progress; \
             quiz {qc} of {qt} right; about {minutes:.0} minutes in lessons.</p>\
             <p class=\"muted\">Lab home <code>{home}</code>; report made {when} (ms since the epoch: {at}).</p>\
             {recheck}\
             <table><thead><tr><th>Month</th><th>Lesson</th><th>Status</th><th>Minutes</th><th>Steps run</th>\
             <th>Checks</th><th>Hints</th><th>Quiz</th><th>Evidence (re-checked)</th></tr></thead>\
             <tbody>\n{rows}</tbody></table></body></html>\n",
            passed = self.passed,
            total = self.total,
            skipped = self.skipped,
            in_progress = self.in_progress,
            qc = self.quiz_correct,
            qt = self.quiz_total,
            minutes = self.minutes_spent,
            home = e(&self.lab_home),
            when = e(&utc(self.generated_at)),
            at = self.generated_at,
        )
    }
}

const CSS: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#1c2430}\
table{border-collapse:collapse;width:100%;font-size:14px}\
th,td{border:1px solid #dde2ea;padding:4px 8px;text-align:left;vertical-align:top}\
td.num{text-align:right}ul{margin:0;padding-left:16px}\
.ok{color:#067647}.bad{color:#b42318}.muted{color:#5b6676}\
tr.passed td:nth-child(3){color:#067647}tr.skipped td:nth-child(3){color:#b54708}";

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `2026-12-02 03:36 UTC` from ms since the epoch (civil-from-days,
/// Howard Hinnant's algorithm).
fn utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        sod / 3600,
        (sod % 3600) / 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_dates() {
        assert_eq!(super::utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(super::utc(1_796_181_613_150), "2026-12-02 03:20 UTC");
        assert_eq!(
            super::escape("<a href=\"x\">&"),
            "&lt;a href=&quot;x&quot;&gt;&amp;"
        );
    }
}
