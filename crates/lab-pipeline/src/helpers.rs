//! Processes a lab process starts for the length of one job (the learner's
//! code during an exercise check, the baseline `lab-serve`), recorded under
//! `helpers/` in the lab home while they run. A lab process that dies
//! before it stops them (kill -9, a crash) leaves its records behind;
//! [`Lab::sweep_helpers`], called before such a job starts, stops each
//! helper whose owner no longer runs, with its whole process group, and
//! removes its files. A live owner's helpers are never touched.

use std::path::PathBuf;

use lab_deploy::OwnedProcess;
use serde::{Deserialize, Serialize};

use crate::Result;
use crate::lab::Lab;

/// Where the records live in the lab home.
pub const HELPERS_DIR: &str = "helpers";

#[derive(Debug, Serialize, Deserialize)]
struct Record {
    /// The lab process that started the helper.
    owner: OwnedProcess,
    /// The helper, leader of its own process group.
    process: OwnedProcess,
    /// The helper's files in the lab home, removed with it.
    dir: Option<PathBuf>,
}

/// A helper's record while it runs. Dropping it forgets the record: stop
/// the helper first.
#[derive(Debug)]
pub struct HelperRecord {
    path: PathBuf,
}

impl Drop for HelperRecord {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Lab {
    /// Record `pid` (a process group leader this process just started, with
    /// its files in `dir`) until the returned record is dropped.
    pub fn track_helper(&self, pid: u32, dir: Option<PathBuf>) -> Result<HelperRecord> {
        let record = Record {
            owner: OwnedProcess::of(std::process::id())?,
            process: OwnedProcess::of(pid)?,
            dir,
        };
        let rel = format!("{HELPERS_DIR}/{}-{pid}.json", std::process::id());
        let bytes = serde_json::to_vec(&record).unwrap_or_default();
        let path = self.home().write_atomic(&rel, &bytes)?;
        Ok(HelperRecord { path })
    }

    /// Stop the helpers of lab processes that no longer run (with their
    /// process groups) and remove their files; returns what was stopped.
    pub fn sweep_helpers(&self) -> Vec<String> {
        let Ok(dir) = self.home().confine(HELPERS_DIR) else {
            return vec![];
        };
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return vec![];
        };
        let mut stopped = vec![];
        for e in entries.flatten() {
            let path = e.path();
            if path.extension().is_none_or(|x| x != "json") {
                continue;
            }
            let record: Option<Record> = std::fs::read(&path)
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok());
            let Some(record) = record else {
                let _ = std::fs::remove_file(&path);
                continue;
            };
            if record.owner.is_running() {
                continue;
            }
            if record.process.kill_group() {
                tracing::warn!(
                    pid = record.process.pid,
                    owner = record.owner.pid,
                    "stopped a helper process its lab process left running"
                );
                stopped.push(format!(
                    "pid {} ({})",
                    record.process.pid, record.process.exe
                ));
            }
            if let Some(d) = &record.dir
                && d.starts_with(self.home().root())
            {
                let _ = std::fs::remove_dir_all(d);
            }
            let _ = std::fs::remove_file(&path);
        }
        stopped
    }
}
