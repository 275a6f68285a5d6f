//! The lab home: the folder that holds the database and every artifact.

use std::path::{Component, Path, PathBuf};

use crate::{Result, StoreError};

/// The lab home. `MLOPS_LAB_HOME` when set, else the platform data directory
/// (`~/.local/share/mlops-lab` on Linux).
#[derive(Debug, Clone)]
pub struct LabHome {
    root: PathBuf,
}

impl LabHome {
    pub const ENV: &'static str = "MLOPS_LAB_HOME";

    /// Resolve from the environment, creating the folder if needed.
    pub fn from_env() -> Result<Self> {
        let root = match std::env::var_os(Self::ENV) {
            Some(p) if !p.is_empty() => PathBuf::from(p),
            _ => directories::ProjectDirs::from("dev", "mlops-lab", "mlops-lab")
                .map(|d| d.data_dir().to_path_buf())
                .ok_or_else(|| {
                    StoreError::Invalid(format!(
                        "cannot find a data directory for this user: set {} to a writable folder",
                        Self::ENV
                    ))
                })?,
        };
        Self::at(root)
    }

    /// Use `root` as the lab home, creating it if needed.
    pub fn at(root: impl Into<PathBuf>) -> Result<Self> {
        let root = root.into();
        std::fs::create_dir_all(&root).map_err(|e| {
            StoreError::io(
                format!(
                    "cannot create the lab home {} (set {} to a writable folder)",
                    root.display(),
                    Self::ENV
                ),
                e,
            )
        })?;
        let root = root
            .canonicalize()
            .map_err(|e| StoreError::io(format!("cannot resolve {}", root.display()), e))?;
        Ok(LabHome { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn db_path(&self) -> PathBuf {
        self.root.join("lab.db")
    }

    pub(crate) fn locks_dir(&self) -> PathBuf {
        self.root.join("locks")
    }

    /// Resolve a path relative to the lab home, refusing anything that would
    /// leave it: absolute paths, `..`, and symlinks pointing outside.
    pub fn confine(&self, relative: impl AsRef<Path>) -> Result<PathBuf> {
        let rel = relative.as_ref();
        let shown = rel.display().to_string();
        if rel.as_os_str().is_empty() {
            return Err(StoreError::PathEscape(shown));
        }
        for c in rel.components() {
            match c {
                Component::Normal(_) | Component::CurDir => {}
                _ => return Err(StoreError::PathEscape(shown)),
            }
        }
        let full = self.root.join(rel);
        // Follow symlinks on the part that exists.
        let mut existing = full.as_path();
        while !existing.exists() {
            match existing.parent() {
                Some(p) => existing = p,
                None => break,
            }
        }
        let resolved = existing
            .canonicalize()
            .map_err(|e| StoreError::io(format!("cannot resolve {}", existing.display()), e))?;
        if !resolved.starts_with(&self.root) {
            return Err(StoreError::PathEscape(shown));
        }
        Ok(full)
    }

    /// Write a file inside the lab home atomically (temporary file, fsync,
    /// rename), so a crash leaves the old file or the new one, never half.
    pub fn write_atomic(&self, relative: impl AsRef<Path>, bytes: &[u8]) -> Result<PathBuf> {
        use std::io::Write;
        let path = self.confine(relative)?;
        let dir = path.parent().expect("confined paths have a parent");
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::io(format!("cannot create {}", dir.display()), e))?;
        let tmp = dir.join(format!(
            ".{}.tmp-{}",
            path.file_name().and_then(|n| n.to_str()).unwrap_or("file"),
            std::process::id()
        ));
        let mut f = std::fs::File::create(&tmp)
            .map_err(|e| StoreError::io(format!("cannot write {}", tmp.display()), e))?;
        f.write_all(bytes)
            .and_then(|_| f.sync_all())
            .map_err(|e| StoreError::io(format!("cannot write {}", tmp.display()), e))?;
        std::fs::rename(&tmp, &path)
            .map_err(|e| StoreError::io(format!("cannot move into {}", path.display()), e))?;
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confine_refuses_escapes() {
        let dir = tempfile::tempdir().unwrap();
        let home = LabHome::at(dir.path().join("home")).unwrap();
        assert!(home.confine("artifacts/0/abc/model.json").is_ok());
        for bad in ["../x", "/etc/passwd", "a/../../b", ""] {
            assert!(
                matches!(home.confine(bad), Err(StoreError::PathEscape(_))),
                "{bad}"
            );
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.path(), home.root().join("out")).unwrap();
            assert!(matches!(
                home.confine("out/secret"),
                Err(StoreError::PathEscape(_))
            ));
        }
    }

    #[test]
    fn write_atomic_replaces_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let home = LabHome::at(dir.path()).unwrap();
        let p = home.write_atomic("a/b/c.json", b"one").unwrap();
        home.write_atomic("a/b/c.json", b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        let leftovers: Vec<_> = std::fs::read_dir(p.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers.len(), 1, "{leftovers:?}");
    }
}
