//! Drift by hand (Month 4): KS and PSI on the auto-mpg scenario with SciPy
//! and NumPy, compared with `lab-monitor`'s numbers within 1e-6; a PSI that
//! differs is matched against the common other binnings, so the learner
//! reads which choice differs.

use lab_monitor::stats;

use super::{Ctx, Exercise, num, run_script};
use crate::check::Checks;

pub const ID: &str = "drift-by-hand";
pub const SCENARIO: &str = "auto-mpg-drift";
pub const FEATURES: [&str; 6] = ["mpg", "cyl", "displ", "hp", "weight", "accel"];
const OUTPUT: &str = "drift.json";
const BINS: usize = 10;
/// How close the learner's numbers must be to the lab's.
pub const TOLERANCE: f64 = 1e-6;

pub const EXERCISE: Exercise = Exercise {
    id: ID,
    lesson: "m4-19-drift",
    title: "Drift by hand: KS and PSI with SciPy and NumPy, against the lab's own",
    files: &[
        (
            "README.md",
            include_str!("../../starters/drift-by-hand/README.md"),
        ),
        (
            "drift.py",
            include_str!("../../starters/drift-by-hand/drift.py"),
        ),
    ],
    packages: &["pandas", "numpy", "scipy"],
    checks: &["runs", "output", "features", "ks", "psi"],
    run: check,
};

/// The lab's numbers for one feature.
struct Lab {
    ks: f64,
    ks_pvalue: f64,
    psi: f64,
    reference: Vec<f64>,
    current: Vec<f64>,
}

fn check(ctx: &Ctx, checks: &mut Checks) {
    if run_script(
        ctx,
        checks,
        "drift.py",
        &["data/reference.csv", "data/current.csv", OUTPUT],
    )
    .is_none()
    {
        return;
    }
    let path = ctx.dir.join(OUTPUT);
    let ran = format!("read {OUTPUT}");
    let expected = "a JSON object {\"mpg\": {\"ks\": …, \"psi\": …}, …}";
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let parsed: serde_json::Value = match serde_json::from_str(&text) {
        Ok(v @ serde_json::Value::Object(_)) => v,
        Ok(_) | Err(_) => {
            let (got, fix) = if !path.is_file() {
                (
                    format!("no {OUTPUT}"),
                    format!("write the result with json.dump(result, open(\"{OUTPUT}\", \"w\"))"),
                )
            } else if text.contains("NaN") || text.contains("Infinity") {
                (
                    "NaN or Infinity, which JSON has not".into(),
                    "an empty bin gives log(0): raise every share below 0.0001 to 0.0001 before the log".into(),
                )
            } else {
                (
                    "not a JSON object".into(),
                    "json.dump the dict of features".into(),
                )
            };
            checks.fail("output", ran, expected, got, fix);
            return;
        }
    };
    checks.pass(
        "output",
        ran,
        expected,
        format!("{} keys", parsed.as_object().map_or(0, |o| o.len())),
    );

    let ran = format!("look up ks and psi of every feature in {OUTPUT}");
    let mut mine = vec![];
    for f in FEATURES {
        let ks = parsed[f]["ks"].as_f64();
        let psi = parsed[f]["psi"].as_f64();
        match (ks, psi) {
            (Some(k), Some(p)) => mine.push((f, k, p)),
            _ => {
                checks.fail(
                    "features",
                    ran,
                    format!("ks and psi, numbers, for {}", FEATURES.join(", ")),
                    format!(
                        "{f}: {}",
                        parsed.get(f).map_or("missing".into(), |v| v.to_string())
                    ),
                    format!("write {{\"ks\": float, \"psi\": float}} for {f}"),
                );
                return;
            }
        }
    }
    checks.pass(
        "features",
        ran,
        format!("ks and psi for {}", FEATURES.join(", ")),
        "all there",
    );

    let slices = match ctx.lab.scenario_slices(SCENARIO) {
        Ok(s) => s,
        Err(e) => {
            checks.fail(
                "ks",
                "the lab's drift statistics",
                "-",
                e.to_string(),
                "reinstall the lab's sample data",
            );
            return;
        }
    };
    let mut lab = vec![];
    for f in FEATURES {
        let Some((_, r, c)) = slices.numeric.iter().find(|(n, _, _)| n == f) else {
            checks.fail(
                "ks",
                "the lab's drift statistics",
                f,
                "not numeric in the lab's data",
                "reinstall the lab's sample data",
            );
            return;
        };
        let (Ok(rs), Ok(cs)) = (stats::sorted(r), stats::sorted(c)) else {
            return;
        };
        let (Ok(ks), Ok(psi)) = (
            stats::ks_2samp_sorted(&rs, &cs),
            stats::psi_sorted(&rs, &cs, BINS),
        ) else {
            return;
        };
        lab.push(Lab {
            ks: ks.statistic,
            ks_pvalue: ks.pvalue,
            psi: psi.value,
            reference: rs,
            current: cs,
        });
    }

    let table = |pick: &dyn Fn(&Lab) -> f64| {
        FEATURES
            .iter()
            .zip(&lab)
            .map(|(f, l)| format!("{f} {}", num(pick(l))))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mine_table = |k: usize| {
        mine.iter()
            .map(|m| format!("{} {}", m.0, num(if k == 0 { m.1 } else { m.2 })))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let ran = format!(
        "compare with lab-monitor's KS (scipy.stats.ks_2samp's statistic), within {TOLERANCE:e}"
    );
    let bad_ks: Vec<usize> = (0..FEATURES.len())
        .filter(|&i| (mine[i].1 - lab[i].ks).abs() > TOLERANCE)
        .collect();
    if let Some(&i) = bad_ks.first() {
        let fix = if (mine[i].1 - lab[i].ks_pvalue).abs() <= TOLERANCE {
            format!(
                "{}: {} is the p-value; the statistic is ks_2samp(...).statistic",
                FEATURES[i],
                num(mine[i].1)
            )
        } else {
            format!(
                "{}: yours {} vs the lab's {}: D is max |ECDF_reference(x) − ECDF_current(x)| over every value of both samples",
                FEATURES[i],
                num(mine[i].1),
                num(lab[i].ks)
            )
        };
        checks.fail("ks", ran, table(&|l| l.ks), mine_table(0), fix);
        return;
    }
    checks.pass("ks", ran, table(&|l| l.ks), "the same");

    let ran = format!(
        "compare with lab-monitor's PSI (reference deciles, right-closed, shares floored at 1e-4), within {TOLERANCE:e}"
    );
    let bad_psi: Vec<usize> = (0..FEATURES.len())
        .filter(|&i| (mine[i].2 - lab[i].psi).abs() > TOLERANCE)
        .collect();
    if let Some(&i) = bad_psi.first() {
        let l = &lab[i];
        let why = explain_psi(mine[i].2, &l.reference, &l.current);
        checks.fail(
            "psi",
            ran,
            table(&|l| l.psi),
            mine_table(1),
            format!(
                "{}: yours {} vs the lab's {}. {why}",
                FEATURES[i],
                num(mine[i].2),
                num(l.psi)
            ),
        );
        return;
    }
    checks.pass("psi", ran, table(&|l| l.psi), "the same");
}

/// Which common binning gives `got`, and how it differs from the lab's.
fn explain_psi(got: f64, r: &[f64], c: &[f64]) -> String {
    let variants: [(&str, f64); 7] = [
        (
            "Yours matches bins closed on the left, [a, b) (np.searchsorted(..., side=\"right\") or np.digitize): the lab's bins are closed on the right, (a, b], so a value equal to an edge goes to the lower bin",
            psi_with(r, c, quantile_edges(r, true), Closed::Left, Floor::Share),
        ),
        (
            "Yours matches the deciles without merging repeated edges: merge them (np.unique), so a column of few values gets fewer bins instead of empty ones",
            psi_with(r, c, quantile_edges(r, false), Closed::Right, Floor::Share),
        ),
        (
            "Yours matches 10 equal-width bins over the reference's range (np.histogram): the lab bins by the reference's deciles, so each bin holds a tenth of the reference",
            psi_with(
                r,
                c,
                width_edges(r[0], r[r.len() - 1]),
                Closed::Right,
                Floor::Share,
            ),
        ),
        (
            "Yours matches np.histogram's equal-width bins, which drop the current values outside the reference's range: the lab's outer bins are open, so every value counts",
            histogram_psi(r, c, false),
        ),
        (
            "Yours matches np.histogram's equal-width bins over the reference's range, shares of all the values: the lab bins by the reference's deciles, and its outer bins are open, so no value falls outside",
            histogram_psi(r, c, true),
        ),
        (
            "Yours matches 10 equal-width bins over both samples' range: the lab bins by the reference's deciles (the reference alone decides the bins)",
            psi_with(
                r,
                c,
                width_edges(r[0].min(c[0]), r[r.len() - 1].max(c[c.len() - 1])),
                Closed::Right,
                Floor::Share,
            ),
        ),
        (
            "Yours matches adding 0.0001 to every share: the lab raises only the shares below 0.0001 to 0.0001",
            psi_with(r, c, quantile_edges(r, true), Closed::Right, Floor::Add),
        ),
    ];
    variants
        .iter()
        .find(|(_, v)| (v - got).abs() <= TOLERANCE)
        .map(|(why, _)| why.to_string())
        .unwrap_or_else(|| {
            "None of the usual other binnings gives your number either: check the edges (the reference's 10%…90% quantiles), the bin of each value (right-closed) and the floor of 0.0001 on each share".to_string()
        })
}

fn quantile_edges(r: &[f64], merge: bool) -> Vec<f64> {
    let mut e: Vec<f64> = (1..BINS)
        .map(|k| stats::quantile_sorted(r, k as f64 / BINS as f64))
        .collect();
    if merge {
        e.dedup();
    }
    e
}

/// The inner edges of 10 equal-width bins over `lo..=hi`.
fn width_edges(lo: f64, hi: f64) -> Vec<f64> {
    (1..BINS)
        .map(|k| lo + (hi - lo) * k as f64 / BINS as f64)
        .collect()
}

enum Closed {
    Left,
    Right,
}

enum Floor {
    Share,
    Add,
}

fn psi_with(r: &[f64], c: &[f64], edges: Vec<f64>, closed: Closed, floor: Floor) -> f64 {
    psi_of(r, c, |xs| {
        let mut counts = vec![0usize; edges.len() + 1];
        for &x in xs {
            let k = match closed {
                Closed::Right => edges.partition_point(|e| *e < x),
                Closed::Left => edges.partition_point(|e| *e <= x),
            };
            counts[k] += 1;
        }
        counts
            .iter()
            .map(|&n| {
                let s = n as f64 / xs.len() as f64;
                match floor {
                    // psi_of raises what is below the floor.
                    Floor::Share => s,
                    Floor::Add => s + stats::PSI_FLOOR,
                }
            })
            .collect()
    })
}

/// The PSI of `shares`, each sample's shares floored at the lab's floor.
fn psi_of(r: &[f64], c: &[f64], shares: impl Fn(&[f64]) -> Vec<f64>) -> f64 {
    let floor =
        |v: Vec<f64>| -> Vec<f64> { v.into_iter().map(|s| s.max(stats::PSI_FLOOR)).collect() };
    let (a, b) = (floor(shares(r)), floor(shares(c)));
    a.iter().zip(&b).map(|(r, c)| (c - r) * (c / r).ln()).sum()
}

/// `np.histogram(reference, bins=10)`, then the current sample over the
/// same edges: equal width over the reference's range (NumPy's `linspace`
/// edges, so a value on an edge falls as NumPy puts it), bins closed on
/// the left but the last, values outside the range in no bin. Shares of
/// the values kept (`counts / counts.sum()`) or, with `of_all`, of the
/// whole sample (`counts / len(x)`).
fn histogram_psi(r: &[f64], c: &[f64], of_all: bool) -> f64 {
    let (lo, hi) = (r[0], r[r.len() - 1]);
    let step = (hi - lo) / BINS as f64;
    // np.linspace(lo, hi, BINS + 1): k * step + lo, the last one exactly hi.
    let inner: Vec<f64> = (1..BINS).map(|k| k as f64 * step + lo).collect();
    psi_of(r, c, |xs| {
        let mut counts = [0usize; BINS];
        for &x in xs.iter().filter(|x| (lo..=hi).contains(*x)) {
            counts[inner.partition_point(|e| *e <= x)] += 1;
        }
        let total = if of_all {
            xs.len()
        } else {
            counts.iter().sum::<usize>()
        };
        counts
            .iter()
            .map(|&n| n as f64 / total.max(1) as f64)
            .collect()
    })
}
