//! The red wines and the lab's split, as the scikit-learn exercises read
//! them (`data/wine-quality-red.csv`, `data/split.json`).

use std::path::PathBuf;

use lab_pipeline::{ColumnValues, DataSource, Lab};

use crate::{ExerciseError, Result};

const DATASET: &str = "wine-quality-red";

/// The shipped CSV and the lab's split of it (the catalogue's reference
/// split for the `good` target).
fn files(lab: &Lab) -> Result<(PathBuf, PathBuf)> {
    let catalog = lab.catalog();
    let invalid = |e: &dyn std::fmt::Display| ExerciseError::Invalid(e.to_string());
    let spec = catalog.dataset(DATASET).map_err(|e| invalid(&e))?;
    let split = spec
        .target(Some("good"))
        .map_err(|e| invalid(&e))?
        .reference_split
        .clone()
        .ok_or_else(|| ExerciseError::Invalid(format!("{DATASET} has no reference split")))?;
    Ok((catalog.path_of(spec), catalog.root.join(split)))
}

/// The wine CSV and the lab's split, written into the exercise's `data/`.
pub(crate) fn inputs(lab: &Lab) -> Result<Vec<(&'static str, Vec<u8>)>> {
    let (csv, split) = files(lab)?;
    let read = |p: PathBuf| {
        std::fs::read(&p).map_err(|e| ExerciseError::Io(format!("cannot read {}", p.display()), e))
    };
    Ok(vec![
        ("wine-quality-red.csv", read(csv)?),
        ("split.json", read(split)?),
    ])
}

/// The test rows of the lab's split: their measurements and whether each
/// wine is good (quality 6 or more).
pub(crate) struct TestRows {
    /// The 11 measurements' names, in the CSV's order.
    pub columns: Vec<String>,
    /// Row numbers in the CSV (0-based, without the header).
    pub index: Vec<usize>,
    pub rows: Vec<Vec<f64>>,
    pub good: Vec<bool>,
}

/// The test rows, read as the lab reads the dataset.
pub(crate) fn test_rows(lab: &Lab) -> std::result::Result<TestRows, String> {
    let (_, split) = files(lab).map_err(|e| e.to_string())?;
    let split: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&split).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    let (table, _) = lab
        .load(&DataSource::Catalog {
            name: DATASET.into(),
        })
        .map_err(|e| e.to_string())?;
    let numeric = |c: &str| match table.values(c).map_err(|e| e.to_string())? {
        ColumnValues::Numeric(v) => Ok(v),
        ColumnValues::Text(_) => Err(format!("{c} is not numeric")),
    };
    let columns: Vec<String> = table
        .column_names()
        .into_iter()
        .filter(|c| c != "quality")
        .collect();
    let cols = columns
        .iter()
        .map(|c| numeric(c))
        .collect::<std::result::Result<Vec<_>, String>>()?;
    let q = numeric("quality")?;
    let index: Vec<usize> = split["test"]
        .as_array()
        .ok_or("split.json has no test rows")?
        .iter()
        .map(|i| {
            i.as_u64()
                .map(|i| i as usize)
                .filter(|i| *i < q.len())
                .ok_or_else(|| "a test row is out of range".to_string())
        })
        .collect::<std::result::Result<_, _>>()?;
    let missing = || "a test row has a missing value".to_string();
    let mut rows = Vec::with_capacity(index.len());
    let mut good = Vec::with_capacity(index.len());
    for &i in &index {
        rows.push(
            cols.iter()
                .map(|v| v[i].ok_or_else(missing))
                .collect::<std::result::Result<Vec<f64>, String>>()?,
        );
        good.push(q[i].ok_or_else(missing)? >= 6.0);
    }
    Ok(TestRows {
        columns,
        index,
        rows,
        good,
    })
}
