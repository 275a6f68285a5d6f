//! Drift scenarios: a reference slice and a current slice of one table.

use polars::prelude::*;

use crate::catalog::{ScenarioSpec, Slice, SliceValue};
use crate::load::{Table, numeric_values, text_values};
use crate::{DataError, PolarsContext, Result};

/// The scenario's (reference, current) row subsets of `table`.
pub fn scenario_slices(table: &Table, scenario: &ScenarioSpec) -> Result<(Table, Table)> {
    let reference = slice(table, &scenario.reference, &scenario.name)?;
    let current = slice(table, &scenario.current, &scenario.name)?;
    Ok((reference, current))
}

fn slice(table: &Table, s: &Slice, scenario: &str) -> Result<Table> {
    let series = table.series(&s.column)?;
    let numeric = series.dtype().is_primitive_numeric();
    let mask: Vec<bool> = if let Some(values) = &s.values {
        if numeric {
            let wanted: Vec<f64> = values
                .iter()
                .filter_map(|v| match v {
                    SliceValue::Number(x) => Some(*x),
                    SliceValue::Text(t) => t.parse().ok(),
                })
                .collect();
            numeric_values(table, &s.column)?
                .into_iter()
                .map(|v| v.is_some_and(|x| wanted.contains(&x)))
                .collect()
        } else {
            let wanted: Vec<String> = values
                .iter()
                .map(|v| match v {
                    SliceValue::Number(x) => lab_model::format_number(*x),
                    SliceValue::Text(t) => t.clone(),
                })
                .collect();
            text_values(table, &s.column)?
                .into_iter()
                .map(|v| v.is_some_and(|x| wanted.contains(&x)))
                .collect()
        }
    } else {
        if !numeric {
            return Err(DataError::Invalid(format!(
                "scenario `{scenario}`: a min/max slice needs a numeric column, `{}` is text",
                s.column
            )));
        }
        let lo = s.min.unwrap_or(f64::NEG_INFINITY);
        let hi = s.max.unwrap_or(f64::INFINITY);
        numeric_values(table, &s.column)?
            .into_iter()
            .map(|v| v.is_some_and(|x| x >= lo && x <= hi))
            .collect()
    };
    let mask = BooleanChunked::from_slice("mask".into(), &mask);
    let df = table
        .df
        .filter(&mask)
        .ctx(|| format!("scenario `{scenario}`: filtering {}", table.shown()))?;
    if df.height() == 0 {
        return Err(DataError::Invalid(format!(
            "scenario `{scenario}`: the slice on `{}` selects no rows",
            s.column
        )));
    }
    Ok(Table {
        path: table.path.clone(),
        df,
    })
}

/// `base` restricted to `columns`, with the rows of `extra` (same columns,
/// cast to `base`'s types) appended: the reference data plus newly labelled
/// rows, for a retrain.
pub fn append_rows(base: &Table, extra: &Table, columns: &[String]) -> Result<Table> {
    base.require_columns(columns.iter())?;
    extra.require_columns(columns.iter())?;
    let cols: Vec<PlSmallStr> = columns.iter().map(|c| c.as_str().into()).collect();
    let left = base
        .df
        .select(cols.clone())
        .ctx(|| format!("selecting columns of {}", base.shown()))?;
    let mut right = extra
        .df
        .select(cols)
        .ctx(|| format!("selecting columns of {}", extra.shown()))?;
    for c in columns {
        let want = left
            .column(c)
            .ctx(|| format!("column `{c}`"))?
            .dtype()
            .clone();
        let cast = right
            .column(c)
            .ctx(|| format!("column `{c}`"))?
            .strict_cast(&want)
            .ctx(|| {
                format!(
                    "{}: column `{c}` does not fit the reference's type {want}",
                    extra.shown()
                )
            })?;
        right.with_column(cast).ctx(|| format!("column `{c}`"))?;
    }
    let df = left
        .vstack(&right)
        .ctx(|| format!("appending {} to {}", extra.shown(), base.shown()))?;
    Ok(Table {
        path: extra.path.clone(),
        df,
    })
}
