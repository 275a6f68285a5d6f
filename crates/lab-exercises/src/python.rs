//! The learner's managed Python: a venv in the lab home (`python/`) with
//! the pinned packages the exercises are written for. Made once with a
//! package index (`mlops-lab python setup`), used offline after.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::run::{Supervised, run};
use crate::{ExerciseError, Result};

/// The pinned requirements (`crates/lab-exercises/python/requirements.txt`).
pub const REQUIREMENTS: &str = include_str!("../python/requirements.txt");

/// An interpreter to use instead of the lab home's venv (it must hold the
/// pinned packages; `python doctor` says which are missing).
pub const PYTHON_ENV: &str = "MLOPS_LAB_PYTHON";
/// The interpreter `setup` makes the venv with (default `python3`).
pub const BASE_PYTHON_ENV: &str = "MLOPS_LAB_BASE_PYTHON";

/// The oldest Python the pinned packages support.
pub const MIN_VERSION: (u32, u32) = (3, 11);

/// One pinned package: name and version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pin {
    pub name: String,
    pub version: String,
}

/// The pins of [`REQUIREMENTS`].
pub fn pins() -> Vec<Pin> {
    REQUIREMENTS
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once("=="))
        .map(|(n, v)| Pin {
            name: n.trim().into(),
            version: v.trim().into(),
        })
        .collect()
}

/// Where the learner's Python lives.
#[derive(Debug, Clone)]
pub struct PythonEnv {
    /// The venv folder (`<lab home>/python`), or `None` when
    /// [`PYTHON_ENV`] names an interpreter.
    pub venv: Option<PathBuf>,
    pub interpreter: PathBuf,
}

impl PythonEnv {
    pub fn for_home(home: &Path) -> PythonEnv {
        if let Some(p) = std::env::var_os(PYTHON_ENV).filter(|p| !p.is_empty()) {
            return PythonEnv {
                venv: None,
                interpreter: PathBuf::from(p),
            };
        }
        let venv = home.join("python");
        PythonEnv {
            interpreter: venv.join("bin/python"),
            venv: Some(venv),
        }
    }

    /// A command running this interpreter (unbuffered output, no user site
    /// packages, no bytecode files in the learner's folder).
    pub fn command(&self) -> Command {
        let mut c = Command::new(&self.interpreter);
        c.env("PYTHONUNBUFFERED", "1")
            .env("PYTHONNOUSERSITE", "1")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env_remove("PYTHONPATH")
            .env_remove("PYTHONHOME");
        c
    }
}

/// One package as installed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PackageState {
    pub name: String,
    pub pinned: String,
    /// The installed version, `None` when missing.
    pub installed: Option<String>,
}

impl PackageState {
    pub fn ok(&self) -> bool {
        self.installed.as_deref() == Some(self.pinned.as_str())
    }
}

/// What `python doctor` found.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Doctor {
    pub interpreter: String,
    /// `Some("3.11.7")` when the interpreter runs.
    pub version: Option<String>,
    pub packages: Vec<PackageState>,
    /// Everything is there, at the pinned versions.
    pub ready: bool,
    /// What is wrong, and how to fix it, one line each.
    pub problems: Vec<String>,
}

impl Doctor {
    /// The packages an exercise needs are installed (any version)?
    pub fn has(&self, names: &[&str]) -> Result<()> {
        if self.version.is_none() {
            return Err(ExerciseError::NoPython(self.problems.join(" ")));
        }
        let missing: Vec<&str> = names
            .iter()
            .copied()
            .filter(|n| {
                !self
                    .packages
                    .iter()
                    .any(|p| p.name == *n && p.installed.is_some())
            })
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(ExerciseError::NoPython(format!(
                "{} has no {}: run `mlops-lab python setup` (once, with access to a package index)",
                self.interpreter,
                missing.join(", ")
            )))
        }
    }
}

const PROBE: &str = r#"
import importlib.metadata as m, json, sys
names = sys.argv[1:]
def version(n):
    try:
        return m.version(n)
    except m.PackageNotFoundError:
        return None
print(json.dumps({"python": "%d.%d.%d" % sys.version_info[:3], "packages": {n: version(n) for n in names}}))
"#;

/// Look at the learner's Python: does it run, which pinned packages it has.
pub fn doctor(env: &PythonEnv) -> Doctor {
    let pins = pins();
    let interpreter = env.interpreter.display().to_string();
    let fix = match &env.venv {
        Some(_) => {
            "run `mlops-lab python setup` (once, with access to a package index)".to_string()
        }
        None => format!(
            "install the pinned packages into it (pip install -r, the list `mlops-lab python doctor --json` shows), or unset {PYTHON_ENV} and run `mlops-lab python setup`"
        ),
    };
    let mut cmd = env.command();
    cmd.arg("-c")
        .arg(PROBE)
        .args(pins.iter().map(|p| p.name.as_str()));
    let dir = std::env::temp_dir();
    let probe = if env.interpreter.is_file() {
        run(cmd, &dir, Duration::from_secs(30), &AtomicBool::new(false)).ok()
    } else {
        None
    };
    let parsed: Option<serde_json::Value> = probe
        .as_ref()
        .filter(|f| f.success())
        .and_then(|f| serde_json::from_str(f.stdout.trim()).ok());
    let Some(parsed) = parsed else {
        let why = match &probe {
            None => format!("no Python at {interpreter}"),
            Some(f) => format!("{interpreter} does not run: {}", f.tail(3)),
        };
        return Doctor {
            interpreter,
            version: None,
            packages: pins
                .into_iter()
                .map(|p| PackageState {
                    name: p.name,
                    pinned: p.version,
                    installed: None,
                })
                .collect(),
            ready: false,
            problems: vec![format!("{why}: {fix}")],
        };
    };
    let version = parsed["python"].as_str().unwrap_or("?").to_string();
    let packages: Vec<PackageState> = pins
        .into_iter()
        .map(|p| PackageState {
            installed: parsed["packages"][&p.name].as_str().map(String::from),
            name: p.name,
            pinned: p.version,
        })
        .collect();
    let mut problems = vec![];
    if !version_at_least(&version, MIN_VERSION) {
        problems.push(format!(
            "Python {version} is older than {}.{}, which the pinned packages need: install a newer python3 and run `mlops-lab python setup` again",
            MIN_VERSION.0, MIN_VERSION.1
        ));
    }
    let missing: Vec<String> = packages
        .iter()
        .filter(|p| p.installed.is_none())
        .map(|p| format!("{}=={}", p.name, p.pinned))
        .collect();
    if !missing.is_empty() {
        problems.push(format!("missing {}: {fix}", missing.join(", ")));
    }
    let other: Vec<String> = packages
        .iter()
        .filter(|p| p.installed.is_some() && !p.ok())
        .map(|p| {
            format!(
                "{} {} (pinned {})",
                p.name,
                p.installed.as_deref().unwrap_or(""),
                p.pinned
            )
        })
        .collect();
    if !other.is_empty() {
        problems.push(format!(
            "other versions than the exercises were written for: {}: {fix}",
            other.join(", ")
        ));
    }
    Doctor {
        interpreter,
        version: Some(version),
        ready: problems.is_empty(),
        packages,
        problems,
    }
}

fn version_at_least(v: &str, min: (u32, u32)) -> bool {
    let mut it = v.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let major = it.next().unwrap_or(0);
    let minor = it.next().unwrap_or(0);
    (major, minor) >= min
}

/// What `python setup` did.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SetupReport {
    pub venv: String,
    /// Nothing to do: the venv already held every pin.
    pub up_to_date: bool,
    pub doctor: Doctor,
}

/// Make the lab home's venv and install the pins into it (idempotent:
/// nothing happens when every pin is already there). `progress` gets one
/// line per thing done, pip's own output included.
pub fn setup(
    home: &Path,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(&str),
) -> Result<SetupReport> {
    let env = PythonEnv::for_home(home);
    let Some(venv) = env.venv.clone() else {
        return Err(ExerciseError::Invalid(format!(
            "{PYTHON_ENV} is set ({}): the lab uses that interpreter and manages no venv; unset it to let `python setup` make one",
            env.interpreter.display()
        )));
    };
    let before = doctor(&env);
    if before.ready {
        progress(&format!(
            "{} already holds every pinned package: nothing to do",
            venv.display()
        ));
        return Ok(SetupReport {
            venv: venv.display().to_string(),
            up_to_date: true,
            doctor: before,
        });
    }
    if !env.interpreter.is_file() {
        let base = std::env::var(BASE_PYTHON_ENV)
            .ok()
            .filter(|b| !b.is_empty())
            .unwrap_or_else(|| "python3".into());
        progress(&format!(
            "creating a venv at {} with {base}",
            venv.display()
        ));
        let mut cmd = Command::new(&base);
        cmd.arg("-m").arg("venv").arg(&venv);
        let done = run(cmd, home, Duration::from_secs(300), cancel).map_err(|_| {
            ExerciseError::NoPython(format!(
                "cannot run `{base}`: install Python {}.{} or newer (Debian: apt-get install python3 python3-venv), or name one in {BASE_PYTHON_ENV}",
                MIN_VERSION.0, MIN_VERSION.1
            ))
        })?;
        if !done.success() {
            let _ = std::fs::remove_dir_all(&venv);
            return Err(ExerciseError::NoPython(format!(
                "`{base} -m venv` failed ({}); on Debian install python3-venv (apt-get install python3-venv)",
                done.tail(3)
            )));
        }
    }
    let reqs = venv.join("requirements.txt");
    std::fs::write(&reqs, REQUIREMENTS)
        .map_err(|e| ExerciseError::Io(format!("cannot write {}", reqs.display()), e))?;
    progress(&format!(
        "installing {} pinned packages with pip (a few minutes the first time; needs a package index)",
        pins().len()
    ));
    let mut cmd = env.command();
    cmd.args([
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-input",
        "--progress-bar",
        "off",
        "-r",
    ])
    .arg(&reqs);
    let pip = Supervised::spawn(cmd, home)?;
    let done = follow(pip, Duration::from_secs(1800), cancel, progress);
    if done.cancelled {
        return Err(ExerciseError::Invalid(
            "cancelled: pip was stopped; `mlops-lab python setup` again goes on where it stopped"
                .into(),
        ));
    }
    if !done.success() {
        return Err(ExerciseError::Invalid(format!(
            "pip could not install the pinned packages (is a package index reachable?): {}",
            done.tail(6)
        )));
    }
    let after = doctor(&env);
    if !after.ready {
        return Err(ExerciseError::Invalid(format!(
            "after pip install: {}",
            after.problems.join("; ")
        )));
    }
    progress("the learner's Python is ready");
    Ok(SetupReport {
        venv: venv.display().to_string(),
        up_to_date: false,
        doctor: after,
    })
}

/// Wait for `p`, reporting its output lines as they come (pip's "Collecting
/// …", "Installing …").
fn follow(
    mut p: Supervised,
    limit: Duration,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(&str),
) -> crate::run::Finished {
    let started = std::time::Instant::now();
    let mut seen = 0usize;
    while p.running() && started.elapsed() < limit && !cancel.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(200));
        let out = p.stdout_so_far();
        for line in out.lines().skip(seen) {
            if line.starts_with("Collecting")
                || line.starts_with("Installing")
                || line.starts_with("Successfully")
            {
                progress(line.trim());
            }
        }
        seen = out.lines().count();
    }
    let remaining = limit.saturating_sub(started.elapsed());
    p.wait(remaining, cancel)
}
