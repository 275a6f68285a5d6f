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

/// Where a prebuilt static `mlops-lab` (the steps image's CLI) may be given.
pub const STEPS_BIN_ENV: &str = "MLOPS_LAB_STEPS_BIN";

/// Path to a static `mlops-lab`: what the steps of an exported Kubeflow
/// pipeline run in their `FROM scratch` image.
pub fn steps_binary() -> Result<PathBuf> {
    find("mlops-lab", STEPS_BIN_ENV)
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

/// True for an executable file that is a 64-bit little-endian ELF for this
/// machine's architecture, of type `EXEC` or `DYN` (static-pie), without an
/// interpreter (`PT_INTERP`): statically linked, so it runs in an empty
/// image. Reads the headers only.
pub fn is_static_elf(path: &Path) -> std::io::Result<bool> {
    use std::io::{Read, Seek, SeekFrom};
    use std::os::unix::fs::PermissionsExt;

    let mut f = std::fs::File::open(path)?;
    if f.metadata()?.permissions().mode() & 0o111 == 0 {
        return Ok(false);
    }
    let mut h = [0u8; 64];
    if f.read_exact(&mut h).is_err() || &h[..6] != b"\x7fELF\x02\x01" {
        return Ok(false);
    }
    let u16_at = |b: &[u8], o: usize| u16::from_le_bytes([b[o], b[o + 1]]);
    let machine = match std::env::consts::ARCH {
        "x86_64" => 62,
        "aarch64" => 183,
        _ => return Ok(false),
    };
    const ET_EXEC: u16 = 2;
    const ET_DYN: u16 = 3;
    if !matches!(u16_at(&h, 0x10), ET_EXEC | ET_DYN) || u16_at(&h, 0x12) != machine {
        return Ok(false);
    }
    let phoff = u64::from_le_bytes(h[0x20..0x28].try_into().expect("8 bytes"));
    let (phentsize, phnum) = (u16_at(&h, 0x36) as usize, u16_at(&h, 0x38) as usize);
    if phnum == 0 || phentsize < 4 {
        return Ok(false);
    }
    let mut table = vec![0u8; phentsize * phnum];
    f.seek(SeekFrom::Start(phoff))?;
    if f.read_exact(&mut table).is_err() {
        return Ok(false);
    }
    const PT_INTERP: u32 = 3;
    Ok(table
        .chunks_exact(phentsize)
        .all(|p| u32::from_le_bytes([p[0], p[1], p[2], p[3]]) != PT_INTERP))
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
