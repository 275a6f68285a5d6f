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
