//! The red wines and the lab's split, as the scikit-learn exercises read
//! them (`data/wine-quality-red.csv`, `data/split.json`).

use std::path::Path;

use lab_pipeline::Lab;
use polars::prelude::*;

use crate::{ExerciseError, Result};

/// The wine CSV and the lab's split, written into the exercise's `data/`.
pub(crate) fn inputs(lab: &Lab) -> Result<Vec<(&'static str, Vec<u8>)>> {
    let catalog = lab.catalog();
    let invalid = |e: &dyn std::fmt::Display| ExerciseError::Invalid(e.to_string());
    let spec = catalog
        .dataset("wine-quality-red")
        .map_err(|e| invalid(&e))?;
    let split = spec
        .target(Some("good"))
        .map_err(|e| invalid(&e))?
        .reference_split
        .clone()
        .ok_or_else(|| ExerciseError::Invalid("wine-quality-red has no reference split".into()))?;
    let read = |p: std::path::PathBuf| {
        std::fs::read(&p).map_err(|e| ExerciseError::Io(format!("cannot read {}", p.display()), e))
    };
    Ok(vec![
        ("wine-quality-red.csv", read(catalog.path_of(spec))?),
        ("split.json", read(catalog.root.join(split))?),
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

/// Read the test rows from the exercise's `data/`.
pub(crate) fn test_rows(dir: &Path) -> std::result::Result<TestRows, String> {
    let split: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.join("data/split.json")).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let df = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(None)
        .try_into_reader_with_file_path(Some(dir.join("data/wine-quality-red.csv")))
        .and_then(|r| r.finish())
        .map_err(|e| e.to_string())?;
    let mut cols: Vec<(String, Vec<Option<f64>>)> = vec![];
    for c in df.columns() {
        let v = c.cast(&DataType::Float64).map_err(|e| e.to_string())?;
        let v: Vec<Option<f64>> = v.f64().map_err(|e| e.to_string())?.iter().collect();
        cols.push((c.name().to_string(), v));
    }
    let quality = cols
        .iter()
        .position(|(n, _)| n == "quality")
        .ok_or("the wine CSV has no quality column")?;
    let (_, q) = cols.remove(quality);
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
                .map(|(_, v)| v[i].ok_or_else(missing))
                .collect::<std::result::Result<Vec<f64>, String>>()?,
        );
        good.push(q[i].ok_or_else(missing)? >= 6.0);
    }
    Ok(TestRows {
        columns: cols.into_iter().map(|(n, _)| n).collect(),
        index,
        rows,
        good,
    })
}
