//! The two-sample statistics behind drift detection.
//!
//! Each function matches its SciPy namesake (checked by a test that runs
//! SciPy): [`ks_2samp`] ↔ `scipy.stats.ks_2samp` (two-sided, `method="auto"`),
//! [`wasserstein_distance`] ↔ `scipy.stats.wasserstein_distance`,
//! [`chi2_contingency`] ↔ `scipy.stats.chi2_contingency` (Yates' correction
//! when there is one degree of freedom, as SciPy's default), and
//! [`jensenshannon`] ↔ `scipy.spatial.distance.jensenshannon` (natural log).
//! Distributions come from `statrs`.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ChiSquared, ContinuousCDF};

use crate::MonitorError;

/// Above this many rows in either sample the KS p-value is asymptotic, as in
/// SciPy's `method="auto"`.
pub const KS_EXACT_MAX_N: usize = 10_000;

/// How a KS p-value was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KsMethod {
    /// Exact lattice-path count (Hodges 1958; Viehmann 2021).
    Exact,
    /// Kolmogorov's limiting distribution at `d·√(n·m/(n+m))`.
    Asymptotic,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Ks {
    pub statistic: f64,
    pub pvalue: f64,
    pub method: KsMethod,
}

/// Sort a copy of `xs`, refusing NaN (callers drop missing values first).
pub fn sorted(xs: &[f64]) -> Result<Vec<f64>, MonitorError> {
    if xs.iter().any(|x| x.is_nan()) {
        return Err(MonitorError::Invalid(
            "a sample holds NaN: drop missing values before comparing".into(),
        ));
    }
    let mut v = xs.to_vec();
    v.sort_unstable_by(f64::total_cmp);
    Ok(v)
}

fn non_empty(a: &[f64], b: &[f64]) -> Result<(), MonitorError> {
    if a.is_empty() || b.is_empty() {
        return Err(MonitorError::Invalid(
            "both samples need at least one value".into(),
        ));
    }
    Ok(())
}

/// Two-sided two-sample Kolmogorov–Smirnov test on *sorted* samples.
pub fn ks_2samp_sorted(a: &[f64], b: &[f64]) -> Result<Ks, MonitorError> {
    non_empty(a, b)?;
    let (n1, n2) = (a.len(), b.len());
    let (f1, f2) = (n1 as f64, n2 as f64);
    // At each distinct value both ECDFs are count(x <= v) / n, exactly as
    // SciPy's searchsorted(side="right").
    let d = ecdf_steps(a, b)
        .map(|(_, i, j)| (i as f64 / f1 - j as f64 / f2).abs())
        .fold(0.0f64, f64::max);
    let d = d.clamp(0.0, 1.0);
    if n1.max(n2) <= KS_EXACT_MAX_N
        && let Some((d_exact, p)) = ks_exact(n1, n2, d)
    {
        return Ok(Ks {
            statistic: d_exact,
            pvalue: p.clamp(0.0, 1.0),
            method: KsMethod::Exact,
        });
    }
    let (m, n) = (f1.max(f2), f1.min(f2));
    let en = m * n / (m + n);
    Ok(Ks {
        statistic: d,
        pvalue: kolmogorov_sf(d * en.sqrt()).clamp(0.0, 1.0),
        method: KsMethod::Asymptotic,
    })
}

/// The distinct values of two sorted samples, in order, each with how many
/// values of each sample are at or below it.
fn ecdf_steps<'a>(a: &'a [f64], b: &'a [f64]) -> impl Iterator<Item = (f64, usize, usize)> + 'a {
    let (mut i, mut j) = (0usize, 0usize);
    std::iter::from_fn(move || {
        let v = match (a.get(i), b.get(j)) {
            (Some(&x), Some(&y)) => x.min(y),
            (Some(&x), None) => x,
            (None, Some(&y)) => y,
            (None, None) => return None,
        };
        while i < a.len() && a[i] <= v {
            i += 1;
        }
        while j < b.len() && b[j] <= v {
            j += 1;
        }
        Some((v, i, j))
    })
}

/// [`ks_2samp_sorted`] on unsorted samples.
pub fn ks_2samp(a: &[f64], b: &[f64]) -> Result<Ks, MonitorError> {
    ks_2samp_sorted(&sorted(a)?, &sorted(b)?)
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Exact two-sided p-value: `d` is snapped to the lattice `h / lcm(n1, n2)`
/// (SciPy does the same); `None` when the computation is not finite.
fn ks_exact(n1: usize, n2: usize, d: f64) -> Option<(f64, f64)> {
    let (n1, n2) = (n1 as u64, n2 as u64);
    let g = gcd(n1, n2);
    let lcm = (n1 / g) * n2;
    let h = (d * lcm as f64).round_ties_even() as u64;
    let d = h as f64 / lcm as f64;
    if h == 0 {
        return Some((d, 1.0));
    }
    let p = if n1 == n2 {
        prob_outside_square(n1, h)
    } else {
        prob_outside_band(n1, n2, g, h)
    };
    (p.is_finite() && (0.0..=1.0).contains(&p)).then_some((d, p))
}

/// P(D_{n,n} >= h/n): the share of lattice paths from (0,0) to (n,n) that
/// touch a diagonal |x - y| = h. Alternating sum of binomial ratios,
/// evaluated Horner-style to avoid cancellation.
fn prob_outside_square(n: u64, h: u64) -> f64 {
    let (n, h) = (n as f64, h as f64);
    let mut p = 0.0;
    let mut k = (n / h).floor();
    while k >= 0.0 {
        let mut p1 = 1.0;
        let mut j = 0.0;
        while j < h {
            p1 = (n - k * h - j) * p1 / (n + k * h + j + 1.0);
            j += 1.0;
        }
        p = p1 * (1.0 - p);
        k -= 1.0;
    }
    2.0 * p
}

/// P(D_{m,n} >= h/lcm) for m != n: the share of lattice paths from (0,0) to
/// (m,n) that leave the band |x/m - y/n| < h/lcm. Column by column, each
/// entry is the probability that a uniformly random path to (i, j) has
/// already left the band: p(i,j) = (i·p(i-1,j) + j·p(i,j-1)) / (i+j), and
/// 1 outside the band (Viehmann 2021, arXiv:2102.08037, after Hodges 1958).
fn prob_outside_band(m: u64, n: u64, g: u64, h: u64) -> f64 {
    let (m, n) = if m < n { (n, m) } else { (m, n) };
    let (m, n, g, h) = (m as i64, n as i64, g as i64, h as i64);
    let mg = m / g;
    let ng = n / g;
    let ceil_div = |a: i64, b: i64| -(-a).div_euclid(b);
    // Column 0: y with |0 - y·mg| < h are inside (probability 0).
    let mut minj: i64 = 0;
    let mut maxj: i64 = ceil_div(h, mg).min(n + 1);
    let mut curlen = maxj - minj;
    let len = (2 * maxj + 2).min(n + 1).max(1) as usize;
    let mut col = vec![1.0f64; len.max((n + 1) as usize)];
    for v in col.iter_mut().take(maxj as usize) {
        *v = 0.0;
    }
    for i in 1..=m {
        let (lastminj, lastlen) = (minj, curlen);
        minj = ((ng * i - h).div_euclid(mg) + 1).clamp(0, n);
        maxj = ceil_div(ng * i + h, mg).min(n + 1);
        if maxj <= minj {
            return 1.0;
        }
        let fi = i as f64;
        let mut val = if minj == 0 { 0.0 } else { 1.0 };
        for jj in 0..(maxj - minj) {
            let j = jj + minj;
            let prev = col[(jj + minj - lastminj) as usize];
            val = (prev * fi + val * j as f64) / (fi + j as f64);
            col[jj as usize] = val;
        }
        curlen = maxj - minj;
        if lastlen > curlen {
            for v in &mut col[curlen as usize..lastlen as usize] {
                *v = 1.0;
            }
        }
    }
    col[(maxj - minj - 1) as usize]
}

/// Survival function of Kolmogorov's limiting distribution,
/// Q(x) = 2 Σ (-1)^(k-1) exp(-2k²x²), with Jacobi's dual series for small x.
pub fn kolmogorov_sf(x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    if x < 1.0 {
        // 1 - √(2π)/x Σ exp(-(2k-1)²π²/(8x²))
        let mut s = 0.0;
        for k in 1..=20 {
            let t = (2 * k - 1) as f64;
            s += (-(t * t) * std::f64::consts::PI.powi(2) / (8.0 * x * x)).exp();
        }
        return (1.0 - (2.0 * std::f64::consts::PI).sqrt() / x * s).clamp(0.0, 1.0);
    }
    let mut s = 0.0;
    for k in 1..=100 {
        let kf = k as f64;
        let term = (-2.0 * kf * kf * x * x).exp();
        s += if k % 2 == 1 { term } else { -term };
        if term < 1e-18 {
            break;
        }
    }
    (2.0 * s).clamp(0.0, 1.0)
}

/// First Wasserstein distance between two samples' empirical distributions
/// (the area between their CDFs), on *sorted* samples.
pub fn wasserstein_sorted(a: &[f64], b: &[f64]) -> Result<f64, MonitorError> {
    non_empty(a, b)?;
    let (n1, n2) = (a.len(), b.len());
    let (f1, f2) = (n1 as f64, n2 as f64);
    // Neumaier-compensated sum of |F_a - F_b| · Δx: between consecutive
    // distinct values the ECDFs are those at the lower one.
    let (mut sum, mut comp) = (0.0f64, 0.0f64);
    let mut prev: Option<(f64, usize, usize)> = None;
    for (v, i, j) in ecdf_steps(a, b) {
        if let Some((p, pi, pj)) = prev {
            let term = (pi as f64 / f1 - pj as f64 / f2).abs() * (v - p);
            let t = sum + term;
            if sum.abs() >= term.abs() {
                comp += (sum - t) + term;
            } else {
                comp += (term - t) + sum;
            }
            sum = t;
        }
        prev = Some((v, i, j));
    }
    Ok(sum + comp)
}

/// [`wasserstein_sorted`] on unsorted samples.
pub fn wasserstein_distance(a: &[f64], b: &[f64]) -> Result<f64, MonitorError> {
    wasserstein_sorted(&sorted(a)?, &sorted(b)?)
}

/// Population standard deviation (NumPy's `std`, ddof = 0).
pub fn std_dev(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    (xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n).sqrt()
}

/// Linear-interpolation quantile of a *sorted* sample (NumPy's default).
pub fn quantile_sorted(xs: &[f64], q: f64) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    let pos = q.clamp(0.0, 1.0) * (xs.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    xs[lo] + (xs[hi] - xs[lo]) * (pos - lo as f64)
}

/// PSI bins and value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Psi {
    pub value: f64,
    /// Inner bin edges: bin k holds values in (edges[k-1], edges[k]].
    pub edges: Vec<f64>,
    pub reference_share: Vec<f64>,
    pub current_share: Vec<f64>,
}

/// Shares below this are floored, so empty bins give a finite PSI.
pub const PSI_FLOOR: f64 = 1e-4;

/// Population Stability Index on *sorted* samples.
///
/// Binning: `bins` quantile bins of the reference (inner edges at the
/// reference's k/bins quantiles, linear interpolation; repeated edges merged,
/// so discrete columns get fewer bins), right-closed, the outer bins open to
/// ±∞. Shares are floored at [`PSI_FLOOR`].
/// PSI = Σ (cur − ref) · ln(cur / ref).
pub fn psi_sorted(reference: &[f64], current: &[f64], bins: usize) -> Result<Psi, MonitorError> {
    non_empty(reference, current)?;
    let bins = bins.max(2);
    let mut edges: Vec<f64> = (1..bins)
        .map(|k| quantile_sorted(reference, k as f64 / bins as f64))
        .collect();
    edges.dedup();
    let share = |xs: &[f64]| -> Vec<f64> {
        let mut counts = vec![0usize; edges.len() + 1];
        let mut start = 0usize;
        for (k, e) in edges.iter().enumerate() {
            let end = start + xs[start..].partition_point(|x| x <= e);
            counts[k] = end - start;
            start = end;
        }
        counts[edges.len()] = xs.len() - start;
        counts
            .iter()
            .map(|&c| (c as f64 / xs.len() as f64).max(PSI_FLOOR))
            .collect()
    };
    let r = share(reference);
    let c = share(current);
    let value = r.iter().zip(&c).map(|(r, c)| (c - r) * (c / r).ln()).sum();
    Ok(Psi {
        value,
        edges,
        reference_share: r,
        current_share: c,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Chi2 {
    pub statistic: f64,
    pub pvalue: f64,
    pub dof: usize,
}

/// Pearson's chi-square test of independence on a contingency table
/// (rows × columns of counts), as `scipy.stats.chi2_contingency` with its
/// default Yates correction when dof = 1. Columns that are zero in every row
/// must be removed first.
pub fn chi2_contingency(table: &[Vec<f64>]) -> Result<Chi2, MonitorError> {
    let rows = table.len();
    let cols = table.first().map_or(0, Vec::len);
    if rows == 0 || cols == 0 || table.iter().any(|r| r.len() != cols) {
        return Err(MonitorError::Invalid(
            "a contingency table needs equal-length, non-empty rows".into(),
        ));
    }
    let row_sums: Vec<f64> = table.iter().map(|r| r.iter().sum()).collect();
    let col_sums: Vec<f64> = (0..cols)
        .map(|c| table.iter().map(|r| r[c]).sum())
        .collect();
    let total: f64 = row_sums.iter().sum();
    if row_sums.iter().chain(&col_sums).any(|&s| s <= 0.0) {
        return Err(MonitorError::Invalid(
            "a contingency table has a row or column of zeros".into(),
        ));
    }
    let dof = (rows - 1) * (cols - 1);
    if dof == 0 {
        return Ok(Chi2 {
            statistic: 0.0,
            pvalue: 1.0,
            dof,
        });
    }
    let mut stat = 0.0;
    for (r, row) in table.iter().enumerate() {
        for (c, &obs) in row.iter().enumerate() {
            let exp = row_sums[r] * col_sums[c] / total;
            let mut o = obs;
            if dof == 1 {
                let diff = exp - obs;
                o += diff.signum() * diff.abs().min(0.5);
            }
            stat += (o - exp) * (o - exp) / exp;
        }
    }
    let dist = ChiSquared::new(dof as f64).map_err(|e| MonitorError::Invalid(e.to_string()))?;
    Ok(Chi2 {
        statistic: stat,
        pvalue: dist.sf(stat),
        dof,
    })
}

/// Jensen–Shannon distance (the square root of the divergence, natural log)
/// between two count or probability vectors over the same categories.
pub fn jensenshannon(p: &[f64], q: &[f64]) -> Result<f64, MonitorError> {
    let (sp, sq): (f64, f64) = (p.iter().sum(), q.iter().sum());
    if p.len() != q.len() || p.is_empty() || sp <= 0.0 || sq <= 0.0 {
        return Err(MonitorError::Invalid(
            "Jensen-Shannon needs two non-empty distributions over the same categories".into(),
        ));
    }
    let rel_entr = |x: f64, y: f64| if x > 0.0 { x * (x / y).ln() } else { 0.0 };
    let mut left = 0.0;
    let mut right = 0.0;
    for (&a, &b) in p.iter().zip(q) {
        let (a, b) = (a / sp, b / sq);
        let m = (a + b) / 2.0;
        left += rel_entr(a, m);
        right += rel_entr(b, m);
    }
    Ok(((left + right) / 2.0).max(0.0).sqrt())
}
