//! Per-column profile: the numbers a learner looks at before training.

use std::collections::HashMap;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::load::{Table, numeric_values, text_values};
use crate::{PolarsContext, Result};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Profile {
    pub source: String,
    pub rows: usize,
    pub columns: Vec<ColumnProfile>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ColumnProfile {
    pub name: String,
    /// polars dtype, e.g. `f64`, `i64`, `str`.
    pub dtype: String,
    /// `numeric` or `categorical`.
    pub kind: String,
    pub count: usize,
    pub null_count: usize,
    pub null_ratio: f64,
    pub unique: usize,
    pub mean: Option<f64>,
    /// Sample standard deviation (ddof = 1), as pandas' `describe`.
    pub std: Option<f64>,
    pub min: Option<f64>,
    pub p25: Option<f64>,
    pub p50: Option<f64>,
    pub p75: Option<f64>,
    pub max: Option<f64>,
    /// Most frequent values with their counts (categorical columns).
    pub top: Vec<(String, usize)>,
    pub histogram: Option<Histogram>,
}

/// Equal-width bins from min to max; `edges` has one more entry than `counts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    pub edges: Vec<f64>,
    pub counts: Vec<usize>,
}

pub const HISTOGRAM_BINS: usize = 10;
const TOP_VALUES: usize = 5;

pub fn profile(table: &Table) -> Result<Profile> {
    let rows = table.df.height();
    let mut columns = Vec::new();
    for name in table.column_names() {
        let s = table.series(&name)?;
        let null_count = s.null_count();
        let count = rows - null_count;
        let unique = s
            .drop_nulls()
            .n_unique()
            .ctx(|| format!("{}: unique values of `{name}`", table.shown()))?;
        let mut p = ColumnProfile {
            name: name.clone(),
            dtype: s.dtype().to_string(),
            kind: String::new(),
            count,
            null_count,
            null_ratio: if rows == 0 {
                0.0
            } else {
                null_count as f64 / rows as f64
            },
            unique,
            mean: None,
            std: None,
            min: None,
            p25: None,
            p50: None,
            p75: None,
            max: None,
            top: Vec::new(),
            histogram: None,
        };
        if s.dtype().is_primitive_numeric() {
            p.kind = "numeric".into();
            let f = s
                .strict_cast(&DataType::Float64)
                .ctx(|| format!("{}: column `{name}`", table.shown()))?;
            p.mean = f.mean();
            p.std = f.std(1);
            p.min = f.min::<f64>().ok().flatten();
            p.max = f.max::<f64>().ok().flatten();
            let q = |q: f64| -> Option<f64> {
                f.quantile_reduce(q, QuantileMethod::Linear)
                    .ok()
                    .and_then(|s| s.value().extract::<f64>())
            };
            p.p25 = q(0.25);
            p.p50 = q(0.5);
            p.p75 = q(0.75);
            let values: Vec<f64> = numeric_values(table, &name)?
                .into_iter()
                .flatten()
                .collect();
            p.histogram = histogram(&values, HISTOGRAM_BINS);
        } else {
            p.kind = "categorical".into();
            let mut counts: HashMap<String, usize> = HashMap::new();
            for v in text_values(table, &name)?.into_iter().flatten() {
                *counts.entry(v).or_default() += 1;
            }
            let mut top: Vec<(String, usize)> = counts.into_iter().collect();
            top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            top.truncate(TOP_VALUES);
            p.top = top;
        }
        columns.push(p);
    }
    Ok(Profile {
        source: table.shown(),
        rows,
        columns,
    })
}

/// Equal-width histogram of finite values; `None` when there are none.
pub fn histogram(values: &[f64], bins: usize) -> Option<Histogram> {
    let finite = values.iter().copied().filter(|v| v.is_finite());
    let (min, max) = finite.fold(None, |acc: Option<(f64, f64)>, v| match acc {
        None => Some((v, v)),
        Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
    })?;
    let bins = if min == max { 1 } else { bins.max(1) };
    let width = (max - min) / bins as f64;
    let edges: Vec<f64> = (0..=bins)
        .map(|i| {
            if i == bins {
                max
            } else {
                min + width * i as f64
            }
        })
        .collect();
    let mut counts = vec![0usize; bins];
    for v in values.iter().filter(|v| v.is_finite()) {
        let i = if width == 0.0 {
            0
        } else {
            (((v - min) / width) as usize).min(bins - 1)
        };
        counts[i] += 1;
    }
    Some(Histogram { edges, counts })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_puts_max_in_last_bin() {
        let h = histogram(&[0.0, 1.0, 2.0, 10.0], 10).unwrap();
        assert_eq!(h.counts.iter().sum::<usize>(), 4);
        assert_eq!(h.counts[9], 1);
        assert_eq!(h.edges.len(), 11);
        let flat = histogram(&[3.0, 3.0], 10).unwrap();
        assert_eq!(flat.counts, vec![2]);
        assert!(histogram(&[], 10).is_none());
    }
}
