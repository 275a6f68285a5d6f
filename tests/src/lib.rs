//! Helpers for the end-to-end tests: run the real `mlops-lab` binary against
//! a throw-away lab home and read the real SQLite file it writes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `mlops-lab` binary `cargo test` built beside this test executable
/// (`lab-cli`'s own integration test makes cargo build it).
pub fn binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/e2e-<hash> -> target/<profile>/mlops-lab
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile> folder");
    let bin = dir.join(format!("mlops-lab{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "{} is missing: run `cargo test --workspace` (or `cargo xtask test`), which builds it",
        bin.display()
    );
    bin
}

/// A lab home in a temporary folder, removed on drop.
pub struct Lab {
    pub dir: tempfile::TempDir,
}

impl Default for Lab {
    fn default() -> Self {
        Self::new()
    }
}

impl Lab {
    pub fn new() -> Self {
        Lab {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn home(&self) -> &Path {
        self.dir.path()
    }

    /// The lab home's id, from the marker the lab wrote when it made the
    /// home (every container and image of this home carries it as a label).
    pub fn home_id(&self) -> String {
        let marker = std::fs::read_to_string(self.home().join(".mlops-lab-home"))
            .expect("the lab home has its marker");
        marker
            .lines()
            .find_map(|l| l.strip_prefix("id = "))
            .expect("an id line")
            .trim()
            .to_string()
    }

    pub fn db(&self) -> PathBuf {
        self.home().join("lab.db")
    }

    /// A `mlops-lab` command with this lab home.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(binary());
        c.args(args)
            .env("MLOPS_LAB_HOME", self.home())
            // This checkout's data, whichever checkout built the binary.
            .env("MLOPS_LAB_SAMPLE_DATA", repo_root().join("sample-data"))
            // The learner's exercises: a workspace of this lab's own, run
            // with the tests' Python (it holds every pinned package).
            .env("MLOPS_LAB_WORKSPACE", self.workspace())
            .env("MLOPS_LAB_PYTHON", venv().join("bin/python"))
            .env_remove("MLOPS_LAB_FAILPOINTS")
            .env_remove("MLOPS_LAB_LOG");
        c
    }

    /// The learner's exercise workspace.
    pub fn workspace(&self) -> PathBuf {
        self.dir.path().join("workspace")
    }

    /// Put the reference solution of `exercise` (`tests/exercises/`) in
    /// the learner's folder, as the learner would write it.
    pub fn solve_exercise(&self, exercise: &str) {
        let from = repo_root()
            .join("tests/exercises")
            .join(exercise)
            .join("solution");
        let to = self.workspace().join(exercise);
        for f in std::fs::read_dir(&from).unwrap() {
            let f = f.unwrap();
            std::fs::copy(f.path(), to.join(f.file_name())).unwrap();
        }
    }

    /// Run and require success.
    pub fn run(&self, args: &[&str]) -> Output {
        let out = self.cmd(args).output().expect("run mlops-lab");
        assert!(
            out.status.success(),
            "mlops-lab {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Run with `--json` and parse stdout.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut a = args.to_vec();
        a.push("--json");
        let out = self.run(&a);
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "mlops-lab {args:?} --json printed no JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    /// Open the lab database read-only, as an outside observer.
    pub fn sqlite(&self) -> rusqlite::Connection {
        rusqlite::Connection::open_with_flags(self.db(), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("open lab.db")
    }
}

impl Drop for Lab {
    /// Stop and remove what this lab started: `reset` stops its gateways
    /// and local servers (when they are still the processes it started) and
    /// removes this home's containers and images, so tests leave nothing
    /// behind and touch no other home's.
    fn drop(&mut self) {
        if self.home().join(".mlops-lab-home").is_file() {
            let _ = self.cmd(&["reset", "--yes"]).output();
        }
    }
}

/// Docker tests share the daemon. `reset` removes only its own home's
/// containers and images, but the reset test lists what the daemon holds,
/// and the Kubeflow test runs the steps image by its one tag (which the
/// app test's export builds too, and its reset removes), so those two take
/// this lock exclusively and the others share it.
pub static DOCKER: std::sync::RwLock<()> = std::sync::RwLock::new(());

/// The Python venv with the reference clients (`cargo xtask test` sets
/// `MLOPS_LAB_VENV`).
pub fn venv() -> PathBuf {
    let dir = std::env::var_os("MLOPS_LAB_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME"))
                .join(".cache/mlops-lab/venv-tests")
        });
    assert!(
        dir.join("bin/python").is_file(),
        "the reference clients' venv {} is missing: run `cargo xtask test`, which installs it",
        dir.display()
    );
    dir
}

/// The repository root (for `tests/clients/*.py`).
/// Read at run time (cargo test sets it), not build time: a test binary
/// cargo reuses from another checkout must still use this one's files.
pub fn repo_root() -> PathBuf {
    let tests = std::env::var("CARGO_MANIFEST_DIR").expect("run by cargo test");
    Path::new(&tests).join("..")
}
