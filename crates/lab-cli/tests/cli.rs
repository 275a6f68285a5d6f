//! The binary's argument handling. (Cross-crate flows are in the top-level
//! `tests/`; this test also makes `cargo test` build the `mlops-lab` binary
//! they drive.)

use std::process::Command;

fn cli() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mlops-lab"))
}

#[test]
fn help_lists_every_command() {
    let out = cli().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for c in [
        "datasets", "data", "train", "runs", "models", "pipeline", "params",
    ] {
        assert!(text.contains(c), "{c} missing from --help");
    }
}

#[test]
fn params_json_lists_defaults_and_unknown_model_fails_in_one_line() {
    let out = cli()
        .args(["params", "logistic-regression", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["name"], "C");
    assert_eq!(v[0]["default"], "1.0");

    let out = cli().args(["params", "random-forest"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: unknown model `random-forest`: choose one of logistic-regression")
    );
}

#[test]
fn usage_errors_are_one_line_and_exit_2() {
    for args in [
        &["train", "--bogus"][..],
        &["runs", "show"][..],
        &["nope"][..],
    ] {
        let out = cli().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("error: "), "{err}");
    }
}
