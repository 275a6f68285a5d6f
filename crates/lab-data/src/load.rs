//! CSV loading with explicit null markers, schema inference and strict checks.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::catalog::ColumnType;
use crate::{DataError, PolarsContext, Result};

/// A loaded CSV file.
#[derive(Debug, Clone)]
pub struct Table {
    pub path: PathBuf,
    pub df: DataFrame,
}

impl Table {
    /// The path as shown in messages.
    pub fn shown(&self) -> String {
        self.path.display().to_string()
    }

    /// A column's values: numbers for numeric columns, text otherwise;
    /// missing values are `None`.
    pub fn values(&self, column: &str) -> Result<ColumnValues> {
        if self.series(column)?.dtype().is_primitive_numeric() {
            Ok(ColumnValues::Numeric(numeric_values(self, column)?))
        } else {
            Ok(ColumnValues::Text(text_values(self, column)?))
        }
    }

    /// The rows as CSV text (header row; missing values empty, as
    /// [`read_csv`] reads them; floats in their shortest round-trip form),
    /// so reading it back with the same column types gives the same table.
    pub fn to_csv(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut df = self.df.clone();
        CsvWriter::new(&mut out)
            .include_header(true)
            .finish(&mut df)
            .ctx(|| format!("cannot write {} as CSV", self.shown()))?;
        Ok(out)
    }

    pub fn rows(&self) -> usize {
        self.df.height()
    }

    /// Rows `rows` as raw values of `columns` (numbers or text; missing as
    /// `Value::Missing`).
    pub fn raw_rows(
        &self,
        columns: &[String],
        rows: &[usize],
    ) -> Result<Vec<Vec<lab_model::Value>>> {
        let cols: Vec<ColumnValues> = columns
            .iter()
            .map(|c| self.values(c))
            .collect::<Result<_>>()?;
        Ok(rows
            .iter()
            .map(|&r| cols.iter().map(|c| c.value(r)).collect())
            .collect())
    }

    pub fn column_names(&self) -> Vec<String> {
        self.df
            .get_column_names()
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    pub fn series(&self, column: &str) -> Result<&Series> {
        self.df
            .column(column)
            .map(|c| c.as_materialized_series())
            .map_err(|_| DataError::MissingColumn {
                path: self.shown(),
                column: column.to_string(),
                available: self.column_names().join(", "),
            })
    }

    pub fn require_columns<'a>(&self, columns: impl IntoIterator<Item = &'a String>) -> Result<()> {
        for c in columns {
            self.series(c)?;
        }
        Ok(())
    }
}

/// Strings that mean "missing" in our CSVs.
pub(crate) const NULL_MARKERS: [&str; 2] = ["NA", ""];

/// Read a CSV file with a header row. `NA` and empty fields are missing
/// values; column types are inferred from every row.
///
/// `expected` declares column types (from the catalogue): a numeric column
/// that holds text fails with the line and value; a categorical column read
/// as numbers is turned into text. Without a declaration, a column whose
/// values are mostly numbers but not all is refused the same way, so a typo
/// never turns a feature into a category, and polars' lenient cast never
/// turns it into silent nulls.
pub fn read_csv(path: &Path, expected: &BTreeMap<String, ColumnType>) -> Result<Table> {
    let shown = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|source| DataError::Unreadable {
        path: shown.clone(),
        source,
    })?;
    if meta.is_dir() {
        return Err(DataError::Unreadable {
            path: shown,
            source: std::io::Error::other("it is a folder, not a CSV file"),
        });
    }
    // Open it ourselves first so permission errors read as such.
    std::fs::File::open(path).map_err(|source| DataError::Unreadable {
        path: shown.clone(),
        source,
    })?;
    if meta.len() == 0 {
        return Err(DataError::Empty { path: shown });
    }

    // polars pads short rows with nulls; a short row is a broken row, so the
    // shape is checked first.
    if let Some(message) = diagnose_shape(path) {
        return Err(DataError::Csv {
            path: shown,
            message,
        });
    }

    let nulls = NullValues::AllColumns(NULL_MARKERS.iter().map(|s| (*s).into()).collect());
    let df = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(None)
        .with_parse_options(CsvParseOptions::default().with_null_values(Some(nulls)))
        .try_into_reader_with_file_path(Some(path.to_path_buf()))
        .and_then(|r| r.finish())
        .map_err(|e| {
            let message = e.to_string();
            if message.to_ascii_lowercase().contains("empty") {
                DataError::Empty {
                    path: shown.clone(),
                }
            } else {
                DataError::Csv {
                    path: shown.clone(),
                    message: diagnose_shape(path).unwrap_or_else(|| {
                        // polars' first line; the rest is advice for its Python API.
                        message
                            .lines()
                            .next()
                            .unwrap_or_default()
                            .trim()
                            .to_string()
                    }),
                }
            }
        })?;
    if df.width() == 0 {
        return Err(DataError::Empty { path: shown });
    }
    if df.height() == 0 {
        return Err(DataError::NoRows { path: shown });
    }

    let mut table = Table {
        path: path.to_path_buf(),
        df,
    };
    let names = table.column_names();
    for name in &names {
        let series = table.series(name)?.clone();
        let declared = expected.get(name).copied();
        let dtype = series.dtype().clone();
        match declared {
            Some(t) if t.is_numeric() && dtype.is_string() => {
                return Err(
                    first_text_in_numeric(&shown, name, &series).unwrap_or_else(|| {
                        DataError::Invalid(format!("{shown}: column `{name}` is text"))
                    }),
                );
            }
            Some(ColumnType::Categorical) if dtype.is_primitive_numeric() || dtype.is_bool() => {
                let as_text = series
                    .strict_cast(&DataType::String)
                    .ctx(|| format!("{shown}: column `{name}` as text"))?;
                table
                    .df
                    .replace(name, as_text.into_column())
                    .ctx(|| format!("{shown}: column `{name}`"))?;
            }
            None if dtype.is_string() && mostly_numeric(&series) => {
                if let Some(err) = first_text_in_numeric(&shown, name, &series) {
                    return Err(err);
                }
            }
            _ => {}
        }
    }
    Ok(table)
}

fn parses(v: &str) -> bool {
    v.trim().parse::<f64>().is_ok()
}

/// More than half of the non-missing values parse as numbers.
fn mostly_numeric(series: &Series) -> bool {
    let Ok(ca) = series.str() else { return false };
    let (mut num, mut all) = (0usize, 0usize);
    for v in ca.iter().flatten() {
        all += 1;
        num += parses(v) as usize;
    }
    all > 0 && num * 2 > all
}

/// The first value of a text column that is not a number, as an error with
/// its line (the header is line 1).
fn first_text_in_numeric(path: &str, column: &str, series: &Series) -> Option<DataError> {
    let ca = series.str().ok()?;
    ca.iter().enumerate().find_map(|(row, v)| match v {
        Some(v) if !parses(v) => Some(DataError::TextInNumeric {
            path: path.to_string(),
            line: row + 2,
            column: column.to_string(),
            value: v.to_string(),
        }),
        _ => None,
    })
}

/// A column's values by kind.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnValues {
    Numeric(Vec<Option<f64>>),
    Text(Vec<Option<String>>),
}

impl ColumnValues {
    pub fn value(&self, row: usize) -> lab_model::Value {
        use lab_model::Value;
        match self {
            ColumnValues::Numeric(v) => v[row].map_or(Value::Missing, Value::Number),
            ColumnValues::Text(v) => v[row].clone().map_or(Value::Missing, Value::Text),
        }
    }

    /// Every value as model input (missing as [`lab_model::Value::Missing`]).
    pub fn into_model_values(self) -> Vec<lab_model::Value> {
        use lab_model::Value;
        match self {
            ColumnValues::Numeric(v) => (v.into_iter())
                .map(|x| x.map_or(Value::Missing, Value::Number))
                .collect(),
            ColumnValues::Text(v) => (v.into_iter())
                .map(|x| x.map_or(Value::Missing, Value::Text))
                .collect(),
        }
    }
}

/// Column values as `f64` (numeric columns) with missing as `None`.
pub(crate) fn numeric_values(table: &Table, column: &str) -> Result<Vec<Option<f64>>> {
    let s = table.series(column)?;
    let f = s
        .strict_cast(&DataType::Float64)
        .ctx(|| format!("{}: column `{column}` as numbers", table.shown()))?;
    let ca = f
        .f64()
        .ctx(|| format!("{}: column `{column}`", table.shown()))?;
    Ok(ca.iter().collect())
}

/// Column values as text (any column) with missing as `None`.
pub(crate) fn text_values(table: &Table, column: &str) -> Result<Vec<Option<String>>> {
    let s = table.series(column)?;
    if s.dtype().is_string() {
        let ca = s
            .str()
            .ctx(|| format!("{}: column `{column}`", table.shown()))?;
        return Ok(ca.iter().map(|v| v.map(str::to_string)).collect());
    }
    if s.dtype().is_primitive_numeric() {
        return Ok(numeric_values(table, column)?
            .into_iter()
            .map(|v| v.map(lab_model::format_number))
            .collect());
    }
    let t = s
        .strict_cast(&DataType::String)
        .ctx(|| format!("{}: column `{column}` as text", table.shown()))?;
    let ca = t
        .str()
        .ctx(|| format!("{}: column `{column}`", table.shown()))?;
    Ok(ca.iter().map(|v| v.map(str::to_string)).collect())
}

/// The first line whose shape is wrong, so the message points at it: a row
/// with another number of fields than the header, or a quote never closed.
fn diagnose_shape(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut header_fields = None;
    let (mut fields, mut in_quotes, mut line, mut record_start) = (1usize, false, 1usize, 1usize);
    let mut prev = '\0';
    for c in text.chars() {
        match c {
            '"' => in_quotes = !in_quotes,
            ',' if !in_quotes => fields += 1,
            '\n' => {
                line += 1;
                if !in_quotes {
                    let blank = prev == '\n' || (prev == '\r' && fields == 1);
                    if !blank {
                        match header_fields {
                            None => header_fields = Some(fields),
                            Some(h) if h != fields => {
                                return Some(format!(
                                    "line {record_start} has {fields} fields, the header has {h}"
                                ));
                            }
                            _ => {}
                        }
                    }
                    fields = 1;
                    record_start = line;
                }
            }
            _ => {}
        }
        prev = c;
    }
    if in_quotes {
        return Some(format!(
            "line {record_start}: a quoted field is never closed (a `\"` is missing)"
        ));
    }
    match header_fields {
        Some(h) if prev != '\n' && fields != h => Some(format!(
            "line {record_start} has {fields} fields, the header has {h}"
        )),
        _ => None,
    }
}
