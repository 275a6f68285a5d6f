//! The static `lab-serve` (what goes into a `FROM scratch` image) and
//! `lab-gateway` binaries. They are built once, ahead of any deploy: by
//! `cargo xtask run`/`test` into `~/.cache/mlops-lab/bin/`, or by
//! `cargo xtask bundle` into the `.deb`, where they sit beside the app and
//! the CLI. A deploy only looks them up; it never calls cargo, so the app
//! and the CLI work without a Rust toolchain or a source tree.
//!
//! Looked up in order: `MLOPS_LAB_SERVE_BIN` / `MLOPS_LAB_GATEWAY_BIN`,
//! beside the running executable, then `~/.cache/mlops-lab/bin/`. Only a
//! statically linked ELF counts (the dynamic `lab-serve` a dev build puts in
//! `target/debug/` could not run in an empty image).

use std::path::{Path, PathBuf};

use crate::{DeployError, Result};

pub const SERVE_BIN_ENV: &str = "MLOPS_LAB_SERVE_BIN";

/// Where a prebuilt gateway may be given.
pub const GATEWAY_BIN_ENV: &str = "MLOPS_LAB_GATEWAY_BIN";

/// `~/.cache/mlops-lab/bin`: where `cargo xtask` puts the static binaries.
pub fn cache_bin_dir() -> PathBuf {
    let cache = match std::env::var_os("XDG_CACHE_HOME").filter(|x| !x.is_empty()) {
        Some(x) => PathBuf::from(x),
        None => std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir)
            .join(".cache"),
    };
    cache.join("mlops-lab/bin")
}

/// Path to the static `lab-serve`.
pub fn static_server_binary() -> Result<PathBuf> {
    find("lab-serve", SERVE_BIN_ENV)
}

/// Path to the static `lab-gateway`.
pub fn gateway_binary() -> Result<PathBuf> {
    find("lab-gateway", GATEWAY_BIN_ENV)
}

fn find(name: &str, env: &str) -> Result<PathBuf> {
    if let Some(p) = std::env::var_os(env).filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        return match is_static_elf(&p) {
            Ok(true) => Ok(p),
            Ok(false) => Err(DeployError::Binary(format!(
                "{env}={} is not a statically linked Linux executable",
                p.display()
            ))),
            Err(e) => Err(DeployError::Binary(format!("{env}={}: {e}", p.display()))),
        };
    }
    let beside = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(|d| d.join(name)));
    let candidates: Vec<PathBuf> = beside
        .into_iter()
        .chain([cache_bin_dir().join(name)])
        .collect();
    for c in &candidates {
        if is_static_elf(c).unwrap_or(false) {
            return Ok(c.clone());
        }
    }
    Err(DeployError::Binary(format!(
        "no static {name} found (looked in {}): install MLOps Lab from its .deb, run `cargo xtask run` once in the source tree, or set {env} to a static Linux {name}",
        candidates
            .iter()
            .map(|c| c.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

/// True for a 64-bit ELF executable without an interpreter (`PT_INTERP`):
/// statically linked, so it runs in an empty image.
pub fn is_static_elf(path: &Path) -> std::io::Result<bool> {
    let bytes = std::fs::read(path)?;
    let u16_at = |o: usize| {
        bytes
            .get(o..o + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
    };
    let u32_at = |o: usize| {
        bytes
            .get(o..o + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let u64_at = |o: usize| {
        (bytes.get(o..o + 8)).map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
    };
    // Magic, 64-bit, little-endian.
    if bytes.get(..6) != Some(b"\x7fELF\x02\x01".as_slice()) {
        return Ok(false);
    }
    let (Some(phoff), Some(phentsize), Some(phnum)) = (u64_at(0x20), u16_at(0x36), u16_at(0x38))
    else {
        return Ok(false);
    };
    const PT_INTERP: u32 = 3;
    for i in 0..phnum as usize {
        let at = phoff as usize + i * phentsize as usize;
        match u32_at(at) {
            Some(PT_INTERP) => return Ok(false),
            Some(_) => {}
            None => return Ok(false),
        }
    }
    Ok(phnum > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dynamic_executable_is_not_static() {
        // The test binary itself is dynamically linked; /bin/sh too.
        let me = std::env::current_exe().unwrap();
        assert!(!is_static_elf(&me).unwrap());
        assert!(!is_static_elf(Path::new("/bin/sh")).unwrap());
        let text = std::env::temp_dir().join(format!("not-elf-{}", std::process::id()));
        std::fs::write(&text, "#!/bin/sh\n").unwrap();
        assert!(!is_static_elf(&text).unwrap());
        std::fs::remove_file(&text).unwrap();
    }
}
