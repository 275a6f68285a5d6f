//! The lab home: the folder that holds the database and every artifact.

use std::path::{Component, Path, PathBuf};

use crate::{Result, StoreError};

/// The lab home. `MLOPS_LAB_HOME` when set, else the platform data directory
/// (`~/.local/share/mlops-lab` on Linux).
///
/// A folder becomes a lab home when the lab creates it (or finds it empty):
/// it then gets a marker file, [`LabHome::MARKER`], holding the home's id.
/// A non-empty folder without the marker is never used, so a mistyped
/// `--home ~` cannot turn the learner's home folder into a lab, and `reset`
/// can never delete what is not the lab's.
#[derive(Debug, Clone)]
pub struct LabHome {
    root: PathBuf,
    id: String,
}

/// What the lab creates in its home, and so what `reset` may remove. The
/// database's WAL and shared-memory files go with it.
pub const LAB_ENTRIES: &[&str] = &[
    "lab.db",
    "lab.db-wal",
    "lab.db-shm",
    "lab.db-journal",
    "artifacts",
    "deployments",
    "services",
    "retrain",
    "locks",
    "helpers",
];

/// What the lab creates in its home but `reset` keeps: the learner's
/// managed Python (`mlops-lab python setup`), which took a package index to
/// build and works offline after.
pub const KEPT_ENTRIES: &[&str] = &["python"];

impl LabHome {
    pub const ENV: &'static str = "MLOPS_LAB_HOME";
    /// The marker file that makes a folder a lab home.
    pub const MARKER: &'static str = ".mlops-lab-home";

    /// The folder `MLOPS_LAB_HOME` or the platform default names (not created).
    pub fn default_root() -> Result<PathBuf> {
        match std::env::var_os(Self::ENV) {
            Some(p) if !p.is_empty() => Ok(PathBuf::from(p)),
            _ => directories::ProjectDirs::from("dev", "mlops-lab", "mlops-lab")
                .map(|d| d.data_dir().to_path_buf())
                .ok_or_else(|| {
                    StoreError::Invalid(format!(
                        "cannot find a data directory for this user: set {} to a writable folder",
                        Self::ENV
                    ))
                }),
        }
    }

    /// Resolve from the environment, creating the folder if needed.
    pub fn from_env() -> Result<Self> {
        Self::at(Self::default_root()?)
    }

    /// Use `root` as the lab home, creating it (with its marker) if it does
    /// not exist or is empty. A non-empty folder must already be a lab home:
    /// it has the marker, or it is a lab home of an earlier release (it holds
    /// `lab.db` and `locks/`), which gets the marker now.
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
        if let Some(id) = read_marker(&root)? {
            return Ok(LabHome { root, id });
        }
        // Another process's pending marker (see below) does not count.
        let empty = std::fs::read_dir(&root)
            .map_err(|e| StoreError::io(format!("cannot read {}", root.display()), e))?
            .flatten()
            .all(|e| e.file_name().to_string_lossy().starts_with(Self::MARKER));
        if !empty && !Self::earlier_release(&root) {
            return Err(not_a_lab_home(&root));
        }
        let id = uuid::Uuid::new_v4().simple().to_string();
        let text = format!(
            "# This folder is an MLOps Lab home. `mlops-lab reset` removes only what the lab\n# created here ({}), never other files.\nid = {id}\n",
            LAB_ENTRIES.join(", ")
        );
        // Written aside, then linked into place: a link never replaces an
        // existing file, so of two processes making the same home at once,
        // one marker (one id) wins and both use it.
        let marker = root.join(Self::MARKER);
        let pending = root.join(format!("{}.{id}", Self::MARKER));
        std::fs::write(&pending, text)
            .map_err(|e| StoreError::io(format!("cannot write {}", pending.display()), e))?;
        let linked = std::fs::hard_link(&pending, &marker);
        let _ = std::fs::remove_file(&pending);
        match linked {
            Ok(()) => Ok(LabHome { root, id }),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let id = read_marker(&root)?.ok_or_else(|| not_a_lab_home(&root))?;
                Ok(LabHome { root, id })
            }
            Err(e) => Err(StoreError::io(
                format!("cannot write {}", marker.display()),
                e,
            )),
        }
    }

    /// An existing lab home: one with its marker, or one an earlier release
    /// made (`lab.db` and `locks/`), which gets its marker now. Never makes
    /// a new home, nor takes any other folder.
    pub fn existing(root: impl Into<PathBuf>) -> Result<Self> {
        let root = root.into();
        let root = root.canonicalize().map_err(|e| {
            StoreError::io(format!("there is no lab home at {}", root.display()), e)
        })?;
        if read_marker(&root)?.is_none() && !Self::earlier_release(&root) {
            return Err(StoreError::Invalid(format!(
                "{} is not an MLOps Lab home (it has no {} marker): nothing to do there",
                root.display(),
                Self::MARKER
            )));
        }
        Self::at(root)
    }

    /// A lab home made before homes had markers.
    fn earlier_release(root: &Path) -> bool {
        root.join("lab.db").is_file() && root.join("locks").is_dir()
    }

    /// This home's id (random, from its marker): every container and image
    /// the lab builds for this home carries it as a label.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Entries of the home that the lab did not create (left alone by `reset`).
    pub fn foreign_entries(&self) -> Result<Vec<String>> {
        let mut out = vec![];
        for e in std::fs::read_dir(&self.root)
            .map_err(|e| StoreError::io(format!("cannot read {}", self.root.display()), e))?
        {
            let e =
                e.map_err(|e| StoreError::io(format!("cannot read {}", self.root.display()), e))?;
            let name = e.file_name().to_string_lossy().to_string();
            if name != Self::MARKER
                && !LAB_ENTRIES.contains(&name.as_str())
                && !KEPT_ENTRIES.contains(&name.as_str())
            {
                out.push(name);
            }
        }
        out.sort();
        Ok(out)
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

fn not_a_lab_home(root: &Path) -> StoreError {
    StoreError::Invalid(format!(
        "{} is not an MLOps Lab home: it is not empty and has no {} marker. Choose a new or empty folder for the lab (--home or {}), or the folder an earlier `mlops-lab` command created",
        root.display(),
        LabHome::MARKER,
        LabHome::ENV
    ))
}

/// The id in `root`'s marker, if it has one.
fn read_marker(root: &Path) -> Result<Option<String>> {
    let marker = root.join(LabHome::MARKER);
    let text = match std::fs::read_to_string(&marker) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(StoreError::io(
                format!("cannot read {}", marker.display()),
                e,
            ));
        }
    };
    let id = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("id = "))
        .map(|id| id.trim().to_string())
        .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .ok_or_else(|| {
            StoreError::Invalid(format!(
                "{} is damaged (no `id = ...` line); restore it or choose another lab home",
                marker.display()
            ))
        })?;
    Ok(Some(id))
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

    #[test]
    fn a_non_empty_folder_without_the_marker_is_not_a_lab_home() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("thesis.tex"), "mine").unwrap();
        let err = LabHome::at(dir.path()).unwrap_err().to_string();
        assert!(err.contains("is not an MLOps Lab home"), "{err}");
        assert!(!dir.path().join(LabHome::MARKER).exists());
        assert!(LabHome::existing(dir.path()).is_err());
        // A new folder becomes a home with a stable id.
        let a = LabHome::at(dir.path().join("lab")).unwrap();
        let b = LabHome::existing(dir.path().join("lab")).unwrap();
        assert_eq!(a.id(), b.id());
        assert_eq!(a.id().len(), 32);
        std::fs::write(a.root().join("notes.txt"), "mine").unwrap();
        std::fs::create_dir(a.root().join("artifacts")).unwrap();
        assert_eq!(a.foreign_entries().unwrap(), vec!["notes.txt".to_string()]);
    }

    #[test]
    fn homes_made_at_once_share_one_id() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("lab");
        let ids: Vec<String> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| s.spawn(|| LabHome::at(&root).unwrap().id().to_string()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
        assert_eq!(LabHome::existing(&root).unwrap().id(), ids[0]);
        let names: Vec<_> = std::fs::read_dir(&root).unwrap().flatten().collect();
        assert_eq!(names.len(), 1, "a pending marker was left behind");
    }
}
