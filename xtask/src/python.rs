//! The Python virtual environments for reference clients and baselines.
//!
//! One venv per requirements file, named after it, in `~/.cache/mlops-lab`
//! (or `$XDG_CACHE_HOME/mlops-lab`), never system-wide:
//! `tests/requirements.txt` → `venv-tests`, `bench/requirements.txt` →
//! `venv-bench`, `bench/requirements-drift.txt` → `venv-bench-drift`. So the
//! tests can never lean on a package only a benchmark installed. A venv is
//! made anew whenever its file changes (a stamp holds the hash of what was
//! installed), so a package dropped from the file is gone from the venv too.

use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::sh::{run, step};

/// Requirement files: the tests' reference clients, and the benchmarks'
/// baselines.
pub const TESTS: &str = "tests/requirements.txt";
pub const BENCH: &str = "bench/requirements.txt";
/// The drift benchmark's baseline (Evidently needs pandas < 3: its own venv).
pub const DRIFT: &str = "bench/requirements-drift.txt";

pub struct Venv {
    pub dir: PathBuf,
}

impl Venv {
    pub fn python(&self, args: &[&str]) -> Command {
        let mut c = Command::new(self.dir.join("bin/python"));
        c.args(args);
        c
    }
}

pub fn cache_dir() -> Result<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_CACHE_HOME").filter(|x| !x.is_empty()) {
        return Ok(PathBuf::from(x).join("mlops-lab"));
    }
    let home = std::env::var_os("HOME").context("HOME is not set")?;
    Ok(PathBuf::from(home).join(".cache/mlops-lab"))
}

/// A stable hash (FNV-1a, not std's randomised hasher) of the requirements.
fn fingerprint(text: &str) -> String {
    struct Fnv(u64);
    impl Hasher for Fnv {
        fn finish(&self) -> u64 {
            self.0
        }
        fn write(&mut self, bytes: &[u8]) {
            for b in bytes {
                self.0 ^= *b as u64;
                self.0 = self.0.wrapping_mul(0x100_0000_01b3);
            }
        }
    }
    let mut h = Fnv(0xcbf2_9ce4_8422_2325);
    text.hash(&mut h);
    format!("{:016x}", h.finish())
}

/// The venv with `requirements` installed (reinstalled only when that file
/// changes).
pub fn ensure_venv(requirements: &str) -> Result<Venv> {
    let dir = cache_dir()?.join(venv_name(requirements));
    let reqs =
        std::fs::read_to_string(requirements).with_context(|| format!("read {requirements}"))?;
    let want = fingerprint(&reqs);
    let stamp = dir.join(".mlops-lab-requirements");
    let venv = Venv { dir: dir.clone() };
    if std::fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == want)
        && dir.join("bin/python").is_file()
    {
        step(&format!(
            "Python venv {} is up to date with {requirements}",
            dir.display()
        ));
        return Ok(venv);
    }
    if dir.exists() {
        step(&format!(
            "{requirements} changed: remove {} to install it afresh",
            dir.display()
        ));
        std::fs::remove_dir_all(&dir).with_context(|| format!("remove {}", dir.display()))?;
    }
    {
        step(&format!(
            "create a Python venv in {} (for reference clients and baselines)",
            dir.display()
        ));
        let python = which_python()?;
        let ok = Command::new(&python)
            .args(["-m", "venv"])
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            ensure_venv_module()?;
            run(Command::new(&python).args(["-m", "venv"]).arg(&dir))?;
        }
    }
    step(&format!("pip install -r {requirements} into the venv"));
    run(&mut venv.python(&[
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "-r",
        requirements,
    ]))
    .context("pip could not install the reference packages (is PyPI reachable?)")?;
    std::fs::write(&stamp, want).context("write the venv stamp")?;
    Ok(venv)
}

/// KServe's SDK for the InferenceService round trip, installed apart: its
/// full dependency set pins pandas < 3, which the tests venv does not use.
/// Only its generated models are imported (tests/clients/k8s_check.py).
pub const KSERVE_SDK: &str = "kserve==0.21.0";
pub const KSERVE_DIR: &str = "kserve-models";

/// `spec` installed without its dependencies into `<venv>/<dir>` (added to
/// `sys.path` by the test that uses it), once per `spec`.
pub fn ensure_no_deps(venv: &Venv, spec: &str, dir: &str) -> Result<PathBuf> {
    let target = venv.dir.join(dir);
    let stamp = target.join(".mlops-lab-spec");
    if std::fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == spec) {
        step(&format!("{spec} is installed in {}", target.display()));
        return Ok(target);
    }
    let _ = std::fs::remove_dir_all(&target);
    step(&format!(
        "pip install --no-deps {spec} into {} (its generated models only)",
        target.display()
    ));
    run(venv
        .python(&[
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--target",
        ])
        .arg(&target)
        .arg(spec))
    .with_context(|| format!("pip could not install {spec} (is PyPI reachable?)"))?;
    std::fs::write(&stamp, spec).context("write the install stamp")?;
    Ok(target)
}

/// `tests/requirements.txt` → `venv-tests`,
/// `bench/requirements-drift.txt` → `venv-bench-drift`.
fn venv_name(requirements: &str) -> String {
    let path = std::path::Path::new(requirements);
    let folder = path
        .parent()
        .and_then(|p| p.file_name())
        .map_or("root".into(), |f| f.to_string_lossy().to_string());
    let stem = path
        .file_stem()
        .map_or(String::new(), |f| f.to_string_lossy().to_string());
    match stem.strip_prefix("requirements") {
        Some("") | None => format!("venv-{folder}"),
        Some(rest) => format!("venv-{folder}{rest}"),
    }
}

fn which_python() -> Result<String> {
    for p in ["python3", "python"] {
        if Command::new(p)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return Ok(p.to_string());
        }
    }
    step("no python3 found: install it with apt-get (Debian)");
    ensure_venv_module()?;
    Ok("python3".into())
}

/// Debian splits `venv` into its own package.
fn ensure_venv_module() -> Result<()> {
    if Command::new("apt-get").arg("--version").output().is_err() {
        bail!("Python 3 with the venv module is needed: install it with your package manager");
    }
    step("apt-get install python3 python3-venv python3-pip");
    run(Command::new("apt-get").arg("update").arg("-qq"))?;
    run(Command::new("apt-get").args([
        "install",
        "-y",
        "-qq",
        "python3",
        "python3-venv",
        "python3-pip",
    ]))
}

#[cfg(test)]
mod tests {
    #[test]
    fn each_requirements_file_has_its_own_venv() {
        assert_eq!(super::venv_name(super::TESTS), "venv-tests");
        assert_eq!(super::venv_name(super::BENCH), "venv-bench");
        assert_eq!(super::venv_name(super::DRIFT), "venv-bench-drift");
    }
}
