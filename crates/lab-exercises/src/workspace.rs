//! The learner's workspace: one folder per exercise, the learner's own.
//! Starter files are written once and never overwritten; `data/` in each
//! folder is the lab's (rewritten before every check).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::exercises::Exercise;
use crate::{ExerciseError, Result};

/// The workspace folder when no other is named.
pub const ENV: &str = "MLOPS_LAB_WORKSPACE";

#[derive(Debug, Clone)]
pub struct Workspace {
    pub root: PathBuf,
}

/// What `exercises start` did.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Started {
    pub exercise: String,
    pub folder: String,
    /// Files written now.
    pub written: Vec<String>,
    /// Files that were there already, left as they are.
    pub kept: Vec<String>,
}

impl Started {
    pub fn folder_path(&self) -> PathBuf {
        PathBuf::from(&self.folder)
    }
}

impl Workspace {
    /// `explicit`, else `MLOPS_LAB_WORKSPACE`, else `~/mlops-lab-workspace`.
    pub fn resolve(explicit: Option<PathBuf>) -> Result<Workspace> {
        let root = match explicit {
            Some(p) => p,
            None => match std::env::var_os(ENV).filter(|v| !v.is_empty()) {
                Some(p) => PathBuf::from(p),
                None => {
                    let home = std::env::var_os("HOME").ok_or_else(|| {
                        ExerciseError::Invalid(format!(
                            "HOME is not set: name a workspace with --workspace or {ENV}"
                        ))
                    })?;
                    PathBuf::from(home).join("mlops-lab-workspace")
                }
            },
        };
        Ok(Workspace { root })
    }

    pub fn folder(&self, id: &str) -> PathBuf {
        self.root.join(id)
    }

    /// Write the starter files of `ex` that do not exist yet.
    pub fn start(&self, ex: &Exercise) -> Result<Started> {
        let folder = self.folder(ex.id);
        std::fs::create_dir_all(&folder)
            .map_err(|e| ExerciseError::Io(format!("cannot create {}", folder.display()), e))?;
        let mut written = vec![];
        let mut kept = vec![];
        for (name, text) in ex.files {
            let path = folder.join(name);
            // create_new: an existing file (or a link) is never replaced,
            // even when it appears between a look and the write.
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    use std::io::Write;
                    f.write_all(text.as_bytes()).map_err(|e| {
                        ExerciseError::Io(format!("cannot write {}", path.display()), e)
                    })?;
                    written.push(name.to_string());
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    kept.push(name.to_string())
                }
                Err(e) => {
                    return Err(ExerciseError::Io(
                        format!("cannot write {}", path.display()),
                        e,
                    ));
                }
            }
        }
        Ok(Started {
            exercise: ex.id.into(),
            folder: folder.display().to_string(),
            written,
            kept,
        })
    }
}

/// A fingerprint of the learner's Python files in `folder` (names, sizes,
/// modification times): what watch mode compares. Files the checks write
/// (outputs, `data/`) are not in it, so a check never triggers another.
pub fn fingerprint(folder: &Path) -> Vec<(String, u64, std::time::SystemTime)> {
    let mut out: Vec<_> = std::fs::read_dir(folder)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "py"))
        .filter_map(|e| {
            let m = e.metadata().ok()?;
            Some((
                e.file_name().to_string_lossy().into_owned(),
                m.len(),
                m.modified().ok()?,
            ))
        })
        .collect();
    out.sort();
    out
}
