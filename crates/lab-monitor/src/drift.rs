//! Drift reports: per-column statistics and verdicts with Evidently's
//! default rules, and the dataset-level verdict.
//!
//! | column | reference rows | test (default threshold) | drift when |
//! |---|---|---|---|
//! | numeric | ≤ 1000 | two-sample KS p-value (0.05) | p < threshold |
//! | numeric | > 1000 | Wasserstein / std(reference) (0.1) | ≥ threshold |
//! | categorical | ≤ 1000 | chi-square p-value (0.05) | p < threshold |
//! | categorical | > 1000 | Jensen–Shannon distance (0.1) | ≥ threshold |
//!
//! The dataset drifts when the share of drifted columns is ≥ 0.5. Every
//! number is in [`DriftConfig`]. PSI and the other statistics are reported
//! for every numeric column whichever test decides.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::MonitorError;
use crate::stats::{self, Chi2, Ks, Psi};

/// One column's values, missing values already removed.
#[derive(Debug, Clone, PartialEq)]
pub enum Sample {
    Numeric(Vec<f64>),
    Categorical(Vec<String>),
}

impl Sample {
    pub fn len(&self) -> usize {
        match self {
            Sample::Numeric(v) => v.len(),
            Sample::Categorical(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A named column of the reference and of the current data.
#[derive(Debug, Clone)]
pub struct ColumnPair {
    pub name: String,
    pub reference: Sample,
    pub current: Sample,
    /// Values that were missing (not compared), for the report.
    pub reference_missing: usize,
    pub current_missing: usize,
}

/// Which test decides a column's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftTest {
    Ks,
    Wasserstein,
    Psi,
    ChiSquare,
    JensenShannon,
}

impl DriftTest {
    /// Its name, as in the JSON report and in `--set numeric_test=…`.
    pub fn as_str(self) -> &'static str {
        match self {
            DriftTest::Ks => "ks",
            DriftTest::Wasserstein => "wasserstein",
            DriftTest::Psi => "psi",
            DriftTest::ChiSquare => "chi_square",
            DriftTest::JensenShannon => "jensen_shannon",
        }
    }

    /// True when a larger score means more drift (distances); false for
    /// p-values, where drift is a small score.
    pub fn higher_is_drift(self) -> bool {
        !matches!(self, DriftTest::Ks | DriftTest::ChiSquare)
    }
}

/// Thresholds and test choice. The defaults follow Evidently's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DriftConfig {
    /// Up to this many reference rows, p-value tests decide; above it, distances.
    pub small_reference_rows: usize,
    pub ks_pvalue: f64,
    pub wasserstein: f64,
    pub psi: f64,
    pub chi2_pvalue: f64,
    pub jensenshannon: f64,
    /// The share of drifted columns from which the dataset drifts.
    pub dataset_share: f64,
    pub psi_bins: usize,
    /// Force a test for numeric columns (ks, wasserstein or psi).
    pub numeric_test: Option<DriftTest>,
    /// Force a test for categorical columns (chi_square or jensen_shannon).
    pub categorical_test: Option<DriftTest>,
    /// Bins of the reference/current histograms in the report (for charts).
    pub histogram_bins: usize,
}

impl Default for DriftConfig {
    fn default() -> Self {
        DriftConfig {
            small_reference_rows: 1000,
            ks_pvalue: 0.05,
            wasserstein: 0.1,
            psi: 0.1,
            chi2_pvalue: 0.05,
            jensenshannon: 0.1,
            dataset_share: 0.5,
            psi_bins: 10,
            numeric_test: None,
            categorical_test: None,
            histogram_bins: 20,
        }
    }
}

impl DriftConfig {
    pub fn check(&self) -> Result<(), MonitorError> {
        let p = |name: &str, v: f64| {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(MonitorError::Invalid(format!(
                    "drift threshold `{name}` must be between 0 and 1, got {v}"
                )))
            }
        };
        p("ks_pvalue", self.ks_pvalue)?;
        p("chi2_pvalue", self.chi2_pvalue)?;
        p("dataset_share", self.dataset_share)?;
        for (name, v) in [
            ("wasserstein", self.wasserstein),
            ("psi", self.psi),
            ("jensenshannon", self.jensenshannon),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(MonitorError::Invalid(format!(
                    "drift threshold `{name}` must be a non-negative number, got {v}"
                )));
            }
        }
        if matches!(
            self.numeric_test,
            Some(DriftTest::ChiSquare | DriftTest::JensenShannon)
        ) {
            return Err(MonitorError::Invalid(
                "numeric_test must be ks, wasserstein or psi".into(),
            ));
        }
        if matches!(
            self.categorical_test,
            Some(DriftTest::Ks | DriftTest::Wasserstein | DriftTest::Psi)
        ) {
            return Err(MonitorError::Invalid(
                "categorical_test must be chi_square or jensen_shannon".into(),
            ));
        }
        Ok(())
    }

    /// Set one threshold by name (`ks_pvalue=0.01`, `dataset_share=0.3`, …).
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), MonitorError> {
        let num = || {
            value.parse::<f64>().map_err(|_| {
                MonitorError::Invalid(format!("drift setting `{key}`: {value:?} is not a number"))
            })
        };
        match key {
            "small_reference_rows" => {
                self.small_reference_rows = value.parse().map_err(|_| {
                    MonitorError::Invalid(format!("`{key}` needs a whole number, got {value:?}"))
                })?
            }
            "ks_pvalue" => self.ks_pvalue = num()?,
            "wasserstein" => self.wasserstein = num()?,
            "psi" => self.psi = num()?,
            "chi2_pvalue" => self.chi2_pvalue = num()?,
            "jensenshannon" => self.jensenshannon = num()?,
            "dataset_share" => self.dataset_share = num()?,
            "numeric_test" | "categorical_test" => {
                let t = match [
                    DriftTest::Ks,
                    DriftTest::Wasserstein,
                    DriftTest::Psi,
                    DriftTest::ChiSquare,
                    DriftTest::JensenShannon,
                ]
                .into_iter()
                .find(|t| t.as_str() == value)
                {
                    Some(t) => t,
                    None => {
                        return Err(MonitorError::Invalid(format!(
                            "`{key}`: unknown test {value:?}; use ks, wasserstein, psi, chi_square or jensen_shannon"
                        )));
                    }
                };
                if key == "numeric_test" {
                    self.numeric_test = Some(t)
                } else {
                    self.categorical_test = Some(t)
                }
            }
            _ => {
                return Err(MonitorError::Invalid(format!(
                    "unknown drift setting `{key}`; the settings are: small_reference_rows, ks_pvalue, wasserstein, psi, chi2_pvalue, jensenshannon, dataset_share, numeric_test, categorical_test"
                )));
            }
        }
        self.check()
    }
}

/// Numeric column statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericDrift {
    pub ks: Ks,
    pub wasserstein: f64,
    /// Wasserstein distance divided by the reference's standard deviation
    /// (floored at 0.001, as Evidently does).
    pub wasserstein_norm: f64,
    pub psi: Psi,
    pub reference_mean: f64,
    pub current_mean: f64,
}

/// Categorical column statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoricalDrift {
    pub chi2: Chi2,
    pub jensenshannon: f64,
    pub categories: Vec<String>,
    pub reference_counts: Vec<u64>,
    pub current_counts: Vec<u64>,
}

/// Histograms over shared bins, for charts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistogramPair {
    /// Bin edges (bins + 1 of them) for numeric columns; empty for categorical.
    pub edges: Vec<f64>,
    /// Category labels for categorical columns; empty for numeric.
    pub labels: Vec<String>,
    pub reference: Vec<u64>,
    pub current: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ColumnStats {
    Numeric(NumericDrift),
    Categorical(CategoricalDrift),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnDrift {
    pub column: String,
    /// The test that decides the verdict.
    pub test: DriftTest,
    /// Its score (a p-value or a distance).
    pub score: f64,
    pub threshold: f64,
    pub drifted: bool,
    pub reference_rows: usize,
    pub current_rows: usize,
    pub reference_missing: usize,
    pub current_missing: usize,
    pub stats: ColumnStats,
    pub histogram: HistogramPair,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftReport {
    pub columns: Vec<ColumnDrift>,
    pub drifted_columns: usize,
    pub share: f64,
    pub dataset_drift: bool,
    pub config: DriftConfig,
}

impl DriftReport {
    pub fn column(&self, name: &str) -> Option<&ColumnDrift> {
        self.columns.iter().find(|c| c.column == name)
    }
}

/// Compare each column of the current data with the reference.
///
/// Columns are computed in parallel on the available cores.
pub fn drift_report(
    columns: &[ColumnPair],
    cfg: &DriftConfig,
) -> Result<DriftReport, MonitorError> {
    cfg.check()?;
    if columns.is_empty() {
        return Err(MonitorError::Invalid("no columns to compare".into()));
    }
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(columns.len());
    let mut results: Vec<Option<Result<ColumnDrift, MonitorError>>> =
        (0..columns.len()).map(|_| None).collect();
    std::thread::scope(|s| {
        let chunk = columns.len().div_ceil(threads);
        for (cols, out) in columns.chunks(chunk).zip(results.chunks_mut(chunk)) {
            s.spawn(move || {
                for (c, o) in cols.iter().zip(out.iter_mut()) {
                    *o = Some(column_drift(c, cfg));
                }
            });
        }
    });
    let columns: Vec<ColumnDrift> = results
        .into_iter()
        .map(|r| r.expect("every column is computed"))
        .collect::<Result<_, _>>()?;
    let drifted_columns = columns.iter().filter(|c| c.drifted).count();
    let share = drifted_columns as f64 / columns.len() as f64;
    Ok(DriftReport {
        dataset_drift: share >= cfg.dataset_share,
        drifted_columns,
        share,
        columns,
        config: cfg.clone(),
    })
}

/// One column's drift.
pub fn column_drift(c: &ColumnPair, cfg: &DriftConfig) -> Result<ColumnDrift, MonitorError> {
    let named = |e: MonitorError| MonitorError::Invalid(format!("column `{}`: {e}", c.name));
    if c.reference.is_empty() || c.current.is_empty() {
        return Err(MonitorError::Invalid(format!(
            "column `{}`: the {} data has no values to compare",
            c.name,
            if c.reference.is_empty() {
                "reference"
            } else {
                "current"
            }
        )));
    }
    let small = c.reference.len() <= cfg.small_reference_rows;
    let (test, score, stats, histogram) = match (&c.reference, &c.current) {
        (Sample::Numeric(r), Sample::Numeric(k)) => {
            let r = stats::sorted(r).map_err(named)?;
            let k = stats::sorted(k).map_err(named)?;
            let ks = stats::ks_2samp_sorted(&r, &k).map_err(named)?;
            let w = stats::wasserstein_sorted(&r, &k).map_err(named)?;
            let sd = stats::std_dev(&r);
            let w_norm = w / sd.max(0.001);
            let psi = stats::psi_sorted(&r, &k, cfg.psi_bins).map_err(named)?;
            let test = cfg.numeric_test.unwrap_or(if small {
                DriftTest::Ks
            } else {
                DriftTest::Wasserstein
            });
            let score = match test {
                DriftTest::Ks => ks.pvalue,
                DriftTest::Wasserstein => w_norm,
                _ => psi.value,
            };
            let hist = numeric_histograms(&r, &k, cfg.histogram_bins);
            let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
            (
                test,
                score,
                ColumnStats::Numeric(NumericDrift {
                    ks,
                    wasserstein: w,
                    wasserstein_norm: w_norm,
                    psi,
                    reference_mean: mean(&r),
                    current_mean: mean(&k),
                }),
                hist,
            )
        }
        (Sample::Categorical(r), Sample::Categorical(k)) => {
            let mut counts: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
            for v in r {
                counts.entry(v).or_default().0 += 1;
            }
            for v in k {
                counts.entry(v).or_default().1 += 1;
            }
            let categories: Vec<String> = counts.keys().map(|s| s.to_string()).collect();
            let rc: Vec<u64> = counts.values().map(|c| c.0).collect();
            let cc: Vec<u64> = counts.values().map(|c| c.1).collect();
            let as_f = |v: &[u64]| v.iter().map(|&x| x as f64).collect::<Vec<f64>>();
            let chi2 = stats::chi2_contingency(&[as_f(&rc), as_f(&cc)]).map_err(named)?;
            let js = stats::jensenshannon(&as_f(&rc), &as_f(&cc)).map_err(named)?;
            let test = cfg.categorical_test.unwrap_or(if small {
                DriftTest::ChiSquare
            } else {
                DriftTest::JensenShannon
            });
            let score = match test {
                DriftTest::ChiSquare => chi2.pvalue,
                _ => js,
            };
            let hist = HistogramPair {
                edges: vec![],
                labels: categories.clone(),
                reference: rc.clone(),
                current: cc.clone(),
            };
            (
                test,
                score,
                ColumnStats::Categorical(CategoricalDrift {
                    chi2,
                    jensenshannon: js,
                    categories,
                    reference_counts: rc,
                    current_counts: cc,
                }),
                hist,
            )
        }
        _ => {
            return Err(MonitorError::Invalid(format!(
                "column `{}` is numeric in one dataset and text in the other",
                c.name
            )));
        }
    };
    let threshold = match test {
        DriftTest::Ks => cfg.ks_pvalue,
        DriftTest::Wasserstein => cfg.wasserstein,
        DriftTest::Psi => cfg.psi,
        DriftTest::ChiSquare => cfg.chi2_pvalue,
        DriftTest::JensenShannon => cfg.jensenshannon,
    };
    let drifted = if test.higher_is_drift() {
        score >= threshold
    } else {
        score < threshold
    };
    Ok(ColumnDrift {
        column: c.name.clone(),
        test,
        score,
        threshold,
        drifted,
        reference_rows: c.reference.len(),
        current_rows: c.current.len(),
        reference_missing: c.reference_missing,
        current_missing: c.current_missing,
        stats,
        histogram,
    })
}

/// Equal-width histograms of two sorted samples over their joint range.
fn numeric_histograms(r: &[f64], k: &[f64], bins: usize) -> HistogramPair {
    let bins = bins.max(1);
    let lo = r[0].min(k[0]);
    let hi = r[r.len() - 1].max(k[k.len() - 1]);
    let width = if hi > lo {
        (hi - lo) / bins as f64
    } else {
        1.0
    };
    let edges: Vec<f64> = (0..=bins).map(|i| lo + width * i as f64).collect();
    let count = |xs: &[f64]| {
        let mut out = vec![0u64; bins];
        for &x in xs {
            let b = (((x - lo) / width) as usize).min(bins - 1);
            out[b] += 1;
        }
        out
    };
    HistogramPair {
        edges,
        labels: vec![],
        reference: count(r),
        current: count(k),
    }
}
