//! lab-monitor's statistics against SciPy, run in the venv `cargo xtask
//! test` installs (MLOPS_LAB_VENV), and the drift rules on known cases.

use std::path::PathBuf;
use std::process::Command;

use lab_monitor::stats::{self, KsMethod};
use lab_monitor::{
    AlertMetric, AlertRule, ColumnPair, DriftConfig, DriftTest, Sample, Signals, drift_report,
};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde_json::{Value, json};

fn python() -> PathBuf {
    let dir = std::env::var_os("MLOPS_LAB_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/mlops-lab/venv")
        });
    let py = dir.join("bin/python");
    assert!(
        py.is_file(),
        "SciPy's venv {} is missing: run `cargo xtask test`, which installs it",
        dir.display()
    );
    py
}

fn scipy(cases: &Value) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cases.json");
    std::fs::write(&path, cases.to_string()).unwrap();
    // Run time, not build time: a test binary cargo reuses from another
    // checkout must still read this one's script.
    let script = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("run by cargo test"))
        .join("tests/scipy_stats.py");
    let out = Command::new(python())
        .arg(script)
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "scipy_stats.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn close(what: &str, ours: f64, theirs: f64, tol: f64) {
    assert!(
        (ours - theirs).abs() <= tol,
        "{what}: ours {ours:e}, SciPy {theirs:e}, difference {:e} > {tol:e}",
        (ours - theirs).abs()
    );
}

/// Random samples: normal-ish, shifted, with ties (rounded), equal and
/// unequal sizes, and a few large enough for the asymptotic KS p-value.
fn numeric_cases() -> Vec<(Vec<f64>, Vec<f64>)> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    let mut normal = |n: usize, mu: f64, sd: f64, round: bool| -> Vec<f64> {
        (0..n)
            .map(|_| {
                // Box-Muller.
                let (u1, u2): (f64, f64) = (rng.r#gen::<f64>().max(1e-300), rng.r#gen());
                let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
                let x = mu + sd * z;
                if round { x.round() } else { x }
            })
            .collect()
    };
    let mut cases = vec![];
    for &(n1, n2, shift, round) in &[
        (10, 10, 0.0, false),
        (50, 50, 0.5, false),
        (37, 53, 0.3, false),
        (100, 80, 0.0, true),
        (214, 178, 0.8, false),
        (1, 5, 0.0, false),
        (300, 1200, 0.1, false),
        (2786, 2195, 0.05, true),
        (999, 1000, 0.02, false),
        (5000, 5000, 0.03, false),
        (120, 7, 1.5, false),
    ] {
        cases.push((normal(n1, 0.0, 1.0, round), normal(n2, shift, 1.0, round)));
    }
    // Larger than 10,000: asymptotic p-value (statistics still compared).
    cases.push((
        normal(12_000, 10.0, 3.0, false),
        normal(11_000, 10.2, 3.0, false),
    ));
    cases
}

#[test]
fn numeric_statistics_match_scipy() {
    let cases = numeric_cases();
    let payload: Vec<Value> = cases
        .iter()
        .map(|(a, b)| json!({"kind": "numeric", "a": a, "b": b}))
        .collect();
    let reference = scipy(&json!(payload));
    assert_eq!(reference.len(), cases.len());
    for (i, ((a, b), r)) in cases.iter().zip(&reference).enumerate() {
        let what = format!("case {i} ({} vs {} values)", a.len(), b.len());
        let ks = stats::ks_2samp(a, b).unwrap();
        close(
            &format!("{what} KS statistic"),
            ks.statistic,
            r["ks_statistic"].as_f64().unwrap(),
            1e-9,
        );
        if ks.method == KsMethod::Exact {
            close(
                &format!("{what} KS p-value"),
                ks.pvalue,
                r["ks_pvalue"].as_f64().unwrap(),
                1e-6,
            );
        } else {
            // Kolmogorov's limit vs SciPy's finite-n kstwo: close, not equal.
            close(
                &format!("{what} KS p-value (asymptotic)"),
                ks.pvalue,
                r["ks_pvalue"].as_f64().unwrap(),
                1e-2,
            );
        }
        close(
            &format!("{what} Wasserstein"),
            stats::wasserstein_distance(a, b).unwrap(),
            r["wasserstein"].as_f64().unwrap(),
            1e-9,
        );
        let psi =
            stats::psi_sorted(&stats::sorted(a).unwrap(), &stats::sorted(b).unwrap(), 10).unwrap();
        close(
            &format!("{what} PSI"),
            psi.value,
            r["psi"].as_f64().unwrap(),
            1e-9,
        );
    }
    // Case 9 and 10 exercise both exact paths (equal and unequal sizes).
    assert!(matches!(
        stats::ks_2samp(&cases[9].0, &cases[9].1).unwrap().method,
        KsMethod::Exact
    ));
}

#[test]
fn categorical_statistics_match_scipy() {
    let tables: Vec<Vec<Vec<f64>>> = vec![
        vec![vec![10.0, 20.0, 30.0], vec![12.0, 18.0, 40.0]],
        vec![vec![44.0, 56.0], vec![30.0, 70.0]], // dof 1: Yates' correction
        vec![vec![5.0, 0.0, 3.0, 9.0], vec![0.0, 4.0, 3.0, 1.0]],
        vec![vec![152.0, 0.0, 0.0], vec![0.0, 124.0, 68.0]],
        vec![vec![1.0, 1.0], vec![1.0, 1.0]],
    ];
    let payload: Vec<Value> = tables
        .iter()
        .map(|t| json!({"kind": "categorical", "table": t}))
        .collect();
    let reference = scipy(&json!(payload));
    assert_eq!(reference.len(), tables.len());
    for (i, (t, r)) in tables.iter().zip(&reference).enumerate() {
        let chi = stats::chi2_contingency(t).unwrap();
        close(
            &format!("table {i} chi2"),
            chi.statistic,
            r["chi2"].as_f64().unwrap(),
            1e-9,
        );
        close(
            &format!("table {i} chi2 p-value"),
            chi.pvalue,
            r["chi2_pvalue"].as_f64().unwrap(),
            1e-6,
        );
        assert_eq!(chi.dof as u64, r["dof"].as_u64().unwrap());
        close(
            &format!("table {i} Jensen-Shannon"),
            stats::jensenshannon(&t[0], &t[1]).unwrap(),
            r["jensenshannon"].as_f64().unwrap(),
            1e-9,
        );
    }
}

fn pair(name: &str, reference: Sample, current: Sample) -> ColumnPair {
    ColumnPair {
        name: name.into(),
        reference,
        current,
        reference_missing: 0,
        current_missing: 0,
    }
}

#[test]
fn rules_follow_evidently_defaults_and_thresholds_are_configurable() {
    let same: Vec<f64> = (0..500).map(|i| (i % 50) as f64).collect();
    let shifted: Vec<f64> = same.iter().map(|x| x + 10.0).collect();
    let cols = vec![
        pair(
            "a",
            Sample::Numeric(same.clone()),
            Sample::Numeric(shifted.clone()),
        ),
        pair(
            "b",
            Sample::Numeric(same.clone()),
            Sample::Numeric(same.clone()),
        ),
        pair(
            "c",
            Sample::Categorical(vec!["x".into(); 300]),
            Sample::Categorical(
                (0..300)
                    .map(|i| if i % 2 == 0 { "x" } else { "y" }.to_string())
                    .collect(),
            ),
        ),
    ];
    let cfg = DriftConfig::default();
    let r = drift_report(&cols, &cfg).unwrap();
    assert_eq!(r.column("a").unwrap().test, DriftTest::Ks);
    assert!(r.column("a").unwrap().drifted);
    assert!(!r.column("b").unwrap().drifted);
    assert_eq!(r.column("c").unwrap().test, DriftTest::ChiSquare);
    assert!(r.column("c").unwrap().drifted);
    assert_eq!(r.drifted_columns, 2);
    assert!(r.dataset_drift);

    // A large reference switches to distances.
    let big: Vec<f64> = (0..5000).map(|i| (i % 100) as f64).collect();
    let big_shift: Vec<f64> = big.iter().map(|x| x + 3.0).collect();
    let r = drift_report(
        &[pair(
            "w",
            Sample::Numeric(big.clone()),
            Sample::Numeric(big_shift),
        )],
        &cfg,
    )
    .unwrap();
    let w = r.column("w").unwrap();
    assert_eq!(w.test, DriftTest::Wasserstein);
    // W = 3, std of 0..99 = 28.866: 0.1039 >= 0.1.
    assert!(
        (w.score - 3.0 / 28.86607004772212).abs() < 1e-9,
        "{}",
        w.score
    );
    assert!(w.drifted);

    // Thresholds are settings.
    let mut strict = DriftConfig::default();
    strict.set("wasserstein", "0.2").unwrap();
    strict.set("dataset_share", "0.9").unwrap();
    let r = drift_report(&cols[..1], &strict).unwrap();
    assert!(r.dataset_drift);
    let r = drift_report(
        &[pair(
            "w",
            Sample::Numeric(big.clone()),
            Sample::Numeric(big.iter().map(|x| x + 3.0).collect()),
        )],
        &strict,
    )
    .unwrap();
    assert!(!r.columns[0].drifted);
    assert!(strict.set("ks_pvalue", "2").is_err());
    assert!(strict.set("nope", "1").is_err());
    assert!(strict.set("numeric_test", "chi_square").is_err());

    // Mixed types and empty samples are clear errors.
    let err = drift_report(
        &[pair(
            "m",
            Sample::Numeric(vec![1.0]),
            Sample::Categorical(vec!["a".into()]),
        )],
        &cfg,
    )
    .unwrap_err();
    assert!(err.to_string().contains("column `m`"), "{err}");
    let err = drift_report(
        &[pair(
            "e",
            Sample::Numeric(vec![1.0]),
            Sample::Numeric(vec![]),
        )],
        &cfg,
    )
    .unwrap_err();
    assert!(err.to_string().contains("no values"), "{err}");
}

#[test]
fn alert_rules_fire_at_their_thresholds() {
    let rules = AlertRule::defaults();
    let quiet = Signals {
        drift_share: Some(0.2),
        latency_p99_ms: Some(3.0),
        error_rate: Some(0.0),
        quality_drop: Some(-0.05),
    };
    assert!(lab_monitor::evaluate(&rules, &quiet).is_empty());
    let loud = Signals {
        drift_share: Some(0.5),
        latency_p99_ms: Some(400.0),
        error_rate: Some(0.2),
        quality_drop: None,
    };
    let fired = lab_monitor::evaluate(&rules, &loud);
    let metrics: Vec<AlertMetric> = fired.iter().map(|f| f.metric).collect();
    assert_eq!(
        metrics,
        vec![
            AlertMetric::DriftShare,
            AlertMetric::LatencyP99Ms,
            AlertMetric::ErrorRate
        ]
    );
    assert!(fired[0].retrain && !fired[1].retrain);
    assert!(
        fired[1].message.contains("400.0 ms"),
        "{}",
        fired[1].message
    );
}
