//! Data expectations, the Great Expectations idea kept simple: each
//! expectation is checked and reported pass or fail with what was observed.

use serde::{Deserialize, Serialize};

use crate::Result;
use crate::catalog::{ColumnType, Expectations};
use crate::load::{Table, numeric_values, text_values};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExpectationResult {
    /// Great Expectations-style name, e.g. `expect_column_values_to_be_between`.
    pub expectation: String,
    pub column: Option<String>,
    pub passed: bool,
    pub expected: String,
    pub observed: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ValidationReport {
    pub source: String,
    pub rows: usize,
    pub passed: usize,
    pub failed: usize,
    pub results: Vec<ExpectationResult>,
}

impl ValidationReport {
    pub fn success(&self) -> bool {
        self.failed == 0
    }
}

/// Check `table` against `expect`. Without expectations (a learner's file),
/// the generic ones still apply: at least one row, no column entirely
/// missing, no constant column.
pub fn validate(table: &Table, expect: Option<&Expectations>) -> Result<ValidationReport> {
    let mut results = Vec::new();
    let rows = table.df.height();
    let mut push = |expectation: &str,
                    column: Option<&str>,
                    passed: bool,
                    expected: String,
                    observed: String| {
        results.push(ExpectationResult {
            expectation: expectation.to_string(),
            column: column.map(str::to_string),
            passed,
            expected,
            observed,
        })
    };

    let min_rows = expect.and_then(|e| e.min_rows).unwrap_or(1);
    push(
        "expect_table_row_count_to_be_at_least",
        None,
        rows >= min_rows,
        format!(">= {min_rows} rows"),
        format!("{rows} rows"),
    );

    match expect {
        Some(e) => {
            for (name, ce) in &e.columns {
                let Ok(series) = table.series(name) else {
                    push(
                        "expect_column_to_exist",
                        Some(name),
                        false,
                        "column present".into(),
                        "missing".into(),
                    );
                    continue;
                };
                push(
                    "expect_column_to_exist",
                    Some(name),
                    true,
                    "column present".into(),
                    "present".into(),
                );
                let dtype = series.dtype();
                let type_ok = match ce.ty {
                    ColumnType::Numeric => dtype.is_primitive_numeric(),
                    ColumnType::Integer => dtype.is_integer(),
                    ColumnType::Float => dtype.is_float(),
                    ColumnType::Categorical => dtype.is_string(),
                };
                push(
                    "expect_column_values_to_be_of_type",
                    Some(name),
                    type_ok,
                    ce.ty.as_str().to_string(),
                    dtype.to_string(),
                );
                let nulls = series.null_count();
                let ratio = if rows == 0 {
                    0.0
                } else {
                    nulls as f64 / rows as f64
                };
                if let Some(max) = ce.max_null_ratio {
                    push(
                        "expect_column_null_ratio_to_be_at_most",
                        Some(name),
                        ratio <= max,
                        format!("<= {max}"),
                        format!("{ratio:.4} ({nulls} missing)"),
                    );
                }
                if (ce.min.is_some() || ce.max.is_some()) && dtype.is_primitive_numeric() {
                    let lo = ce.min.unwrap_or(f64::NEG_INFINITY);
                    let hi = ce.max.unwrap_or(f64::INFINITY);
                    let vals: Vec<f64> =
                        numeric_values(table, name)?.into_iter().flatten().collect();
                    let outside: Vec<f64> = vals
                        .iter()
                        .copied()
                        .filter(|v| *v < lo || *v > hi)
                        .collect();
                    let (vmin, vmax) = vals
                        .iter()
                        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                            (a.min(*v), b.max(*v))
                        });
                    push(
                        "expect_column_values_to_be_between",
                        Some(name),
                        outside.is_empty(),
                        format!("{} ..= {}", fmt_bound(lo), fmt_bound(hi)),
                        if outside.is_empty() {
                            format!("min {vmin}, max {vmax}")
                        } else {
                            format!(
                                "{} value(s) outside, e.g. {}; min {vmin}, max {vmax}",
                                outside.len(),
                                outside[0]
                            )
                        },
                    );
                }
                if let Some(allowed) = &ce.allowed {
                    let mut unexpected: Vec<String> = text_values(table, name)?
                        .into_iter()
                        .flatten()
                        .filter(|v| !allowed.contains(v))
                        .collect();
                    unexpected.sort();
                    unexpected.dedup();
                    push(
                        "expect_column_values_to_be_in_set",
                        Some(name),
                        unexpected.is_empty(),
                        allowed.join(", "),
                        if unexpected.is_empty() {
                            "all values in set".into()
                        } else {
                            format!("unexpected: {}", unexpected.join(", "))
                        },
                    );
                }
            }
        }
        None => {
            for name in table.column_names() {
                let series = table.series(&name)?;
                let nulls = series.null_count();
                push(
                    "expect_column_values_to_not_all_be_null",
                    Some(&name),
                    nulls < rows,
                    "some values present".into(),
                    format!("{nulls} of {rows} missing"),
                );
                let unique = series.drop_nulls().n_unique().unwrap_or(0);
                push(
                    "expect_column_unique_value_count_to_be_at_least",
                    Some(&name),
                    unique >= 2,
                    ">= 2 distinct values".into(),
                    format!("{unique} distinct"),
                );
            }
        }
    }

    let passed = results.iter().filter(|r| r.passed).count();
    Ok(ValidationReport {
        source: table.shown(),
        rows,
        failed: results.len() - passed,
        passed,
        results,
    })
}

fn fmt_bound(v: f64) -> String {
    if v.is_infinite() {
        if v > 0.0 { "inf".into() } else { "-inf".into() }
    } else {
        format!("{v}")
    }
}
