//! pandas (Month 1): clean penguins (missing values, types, one-hot
//! encoding). The lab reads the learner's CSV with polars and compares it
//! with its own cleaning of the same file.

use std::collections::BTreeMap;
use std::path::Path;

use lab_pipeline::Lab;
use polars::prelude::*;

use super::{Ctx, Exercise, num, run_script};
use crate::Result;
use crate::check::Checks;

pub const ID: &str = "pandas-clean";
const OUTPUT: &str = "penguins_clean.csv";
const ISLANDS: [&str; 3] = ["Biscoe", "Dream", "Torgersen"];

pub const EXERCISE: Exercise = Exercise {
    id: ID,
    lesson: "m1-03-validate-clean",
    title: "Clean penguins with pandas: missing values, types, one-hot encoding",
    files: &[
        (
            "README.md",
            include_str!("../../starters/pandas-clean/README.md"),
        ),
        (
            "clean.py",
            include_str!("../../starters/pandas-clean/clean.py"),
        ),
    ],
    packages: &["pandas"],
    checks: &[
        "runs", "output", "columns", "rows", "no-nulls", "types", "values",
    ],
    run: check,
};

pub(crate) fn input(lab: &Lab) -> Result<Vec<u8>> {
    let spec = lab
        .catalog()
        .dataset("penguins")
        .map_err(|e| crate::ExerciseError::Invalid(e.to_string()))?;
    let path = lab.catalog().path_of(spec);
    std::fs::read(&path)
        .map_err(|e| crate::ExerciseError::Io(format!("cannot read {}", path.display()), e))
}

/// A column as read: its kind (`integer`, `float`, `text`, `boolean`) and
/// values.
#[derive(Debug, Clone, PartialEq)]
enum Values {
    Num(Vec<Option<f64>>),
    Text(Vec<Option<String>>),
}

impl Values {
    fn nulls(&self) -> usize {
        match self {
            Values::Num(v) => v.iter().filter(|x| x.is_none_or(f64::is_nan)).count(),
            Values::Text(v) => v.iter().filter(|x| x.is_none()).count(),
        }
    }
}

#[derive(Debug, Clone)]
struct Col {
    kind: &'static str,
    values: Values,
}

/// A CSV as read: its column names in order, each column by name, and its
/// row count.
type Read = (Vec<String>, BTreeMap<String, Col>, usize);

/// A CSV read with polars (types inferred from every row, as the lab reads
/// a dataset), by column name.
fn read(path: &Path) -> std::result::Result<Read, String> {
    let nulls = NullValues::AllColumns(vec!["NA".into(), "NaN".into(), "nan".into()]);
    let df = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(None)
        .with_parse_options(CsvParseOptions::default().with_null_values(Some(nulls)))
        .try_into_reader_with_file_path(Some(path.to_path_buf()))
        .and_then(|r| r.finish())
        .map_err(|e| e.to_string().lines().next().unwrap_or_default().to_string())?;
    let mut order = vec![];
    let mut cols = BTreeMap::new();
    for c in df.columns() {
        let s = c.as_materialized_series();
        let dtype = s.dtype();
        let kind = if dtype.is_integer() {
            "integer"
        } else if dtype.is_float() {
            "float"
        } else if dtype.is_bool() {
            "boolean"
        } else {
            "text"
        };
        let values = if kind == "text" {
            let t = s.cast(&DataType::String).map_err(|e| e.to_string())?;
            Values::Text(
                t.str()
                    .map_err(|e| e.to_string())?
                    .iter()
                    .map(|v| v.map(String::from))
                    .collect(),
            )
        } else {
            let f = s.cast(&DataType::Float64).map_err(|e| e.to_string())?;
            Values::Num(f.f64().map_err(|e| e.to_string())?.iter().collect())
        };
        order.push(s.name().to_string());
        cols.insert(s.name().to_string(), Col { kind, values });
    }
    Ok((order, cols, df.height()))
}

/// The lab's own cleaning of the input: rows with any missing value
/// dropped, island one-hot encoded (integers), other columns as they are.
fn expected(input: &Path) -> std::result::Result<(BTreeMap<String, Col>, usize), String> {
    let (_, cols, height) = read(input)?;
    let keep: Vec<bool> = (0..height)
        .map(|i| {
            cols.values().all(|c| match &c.values {
                Values::Num(v) => v[i].is_some(),
                Values::Text(v) => v[i].is_some(),
            })
        })
        .collect();
    let rows = keep.iter().filter(|k| **k).count();
    let mut out = BTreeMap::new();
    for (name, c) in &cols {
        let values = match &c.values {
            Values::Num(v) => Values::Num(
                v.iter()
                    .zip(&keep)
                    .filter(|(_, k)| **k)
                    .map(|(x, _)| *x)
                    .collect(),
            ),
            Values::Text(v) => Values::Text(
                v.iter()
                    .zip(&keep)
                    .filter(|(_, k)| **k)
                    .map(|(x, _)| x.clone())
                    .collect(),
            ),
        };
        if name == "island" {
            let Values::Text(v) = &values else {
                return Err("island is not text".into());
            };
            for island in ISLANDS {
                out.insert(
                    format!("island_{island}"),
                    Col {
                        kind: "integer",
                        values: Values::Num(
                            v.iter()
                                .map(|x| Some(f64::from(u8::from(x.as_deref() == Some(island)))))
                                .collect(),
                        ),
                    },
                );
            }
        } else {
            out.insert(
                name.clone(),
                Col {
                    kind: c.kind,
                    values,
                },
            );
        }
    }
    Ok((out, rows))
}

fn check(ctx: &Ctx, checks: &mut Checks) {
    let input = ctx.dir.join("data/penguins.csv");
    let Some(_) = run_script(ctx, checks, "clean.py", &["data/penguins.csv", OUTPUT]) else {
        return;
    };
    let (want, want_rows) = match expected(&input) {
        Ok(x) => x,
        Err(e) => {
            checks.fail(
                "output",
                "the lab's own cleaning",
                "the shipped penguins.csv",
                e,
                "the lab could not read its own data: reinstall it",
            );
            return;
        }
    };
    let out = ctx.dir.join(OUTPUT);
    let read_it = format!("polars read_csv {OUTPUT}");
    let (order, got, rows) = match read(&out) {
        Ok(x) => x,
        Err(e) => {
            let got = if out.is_file() {
                format!("unreadable: {e}")
            } else {
                format!("no {OUTPUT}")
            };
            checks.fail(
                "output",
                read_it,
                format!("{OUTPUT}, a CSV with a header row"),
                got,
                format!("write the cleaned frame with df.to_csv(\"{OUTPUT}\", index=False)"),
            );
            return;
        }
    };
    checks.pass(
        "output",
        read_it.clone(),
        format!("{OUTPUT}, a CSV with a header row"),
        format!("{rows} rows × {} columns", order.len()),
    );

    // columns
    let want_names: Vec<&String> = want.keys().collect();
    let missing: Vec<&str> = want
        .keys()
        .filter(|k| !got.contains_key(*k))
        .map(String::as_str)
        .collect();
    let extra: Vec<&str> = order
        .iter()
        .filter(|k| !want.contains_key(*k))
        .map(String::as_str)
        .collect();
    let columns_ran = format!("the header of {OUTPUT}");
    let want_shown = want_names
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    if !missing.is_empty() || !extra.is_empty() {
        let fix = if extra.contains(&"island") {
            "one-hot encode island and drop it: pd.get_dummies(df, columns=[\"island\"], dtype=int)"
                .to_string()
        } else if extra
            .iter()
            .any(|e| e.starts_with("Unnamed") || e.is_empty())
        {
            "the row index was written as a column: to_csv(..., index=False)".to_string()
        } else if !missing.is_empty() {
            format!(
                "{} went missing: keep every column but island (a model may need it; a dropped column is silent data loss)",
                missing.join(", ")
            )
        } else {
            format!(
                "drop the columns the lab does not expect: {}",
                extra.join(", ")
            )
        };
        let mut got_shown = vec![];
        if !missing.is_empty() {
            got_shown.push(format!("missing {}", missing.join(", ")));
        }
        if !extra.is_empty() {
            got_shown.push(format!("unexpected {}", extra.join(", ")));
        }
        checks.fail(
            "columns",
            columns_ran,
            want_shown,
            got_shown.join("; "),
            fix,
        );
        return;
    }
    checks.pass(
        "columns",
        columns_ran,
        want_shown,
        format!("{} columns, the same", order.len()),
    );

    // rows
    let rows_ran = format!("count the rows of {OUTPUT}");
    if rows != want_rows {
        let sex_nulls = got.get("sex").map_or(0, |c| c.values.nulls());
        let fix = if rows > want_rows && sex_nulls > 0 {
            format!(
                "sex still has {sex_nulls} missing values: drop rows with a missing value in any column (df.dropna()), not only in the measurements"
            )
        } else if rows > want_rows {
            "some rows with a missing value are still there: df.dropna()".to_string()
        } else {
            format!(
                "{} rows too many were dropped: drop only the rows with a missing value, and no duplicates or outliers",
                want_rows - rows
            )
        };
        checks.fail(
            "rows",
            rows_ran,
            format!("{want_rows} (the lab's cleaning: 344 birds, 11 with a missing value)"),
            rows.to_string(),
            fix,
        );
        return;
    }
    checks.pass("rows", rows_ran, want_rows.to_string(), rows.to_string());

    // no nulls
    let nulls: Vec<String> = order
        .iter()
        .filter_map(|c| {
            let n = got[c].values.nulls();
            (n > 0).then(|| format!("{c}: {n}"))
        })
        .collect();
    let nulls_ran = format!("count missing values per column of {OUTPUT}");
    if !nulls.is_empty() {
        checks.fail(
            "no-nulls",
            nulls_ran,
            "no missing value",
            nulls.join(", "),
            "every row with a missing value must go (df.dropna()), and nothing may write NaN or an empty cell",
        );
        return;
    }
    checks.pass("no-nulls", nulls_ran, "no missing value", "none");

    // types
    let wrong: Vec<(&String, &str, &str)> = want
        .iter()
        .filter(|(k, c)| got[*k].kind != c.kind)
        .map(|(k, c)| (k, c.kind, got[k].kind))
        .collect();
    let types_ran = format!("polars' inferred type of each column of {OUTPUT}");
    if !wrong.is_empty() {
        let (col, want_kind, got_kind) = wrong[0];
        let fix = if col.starts_with("island_") && got_kind == "boolean" {
            "pd.get_dummies gives True/False by default: pass dtype=int".to_string()
        } else if want_kind == "integer" && got_kind == "float" {
            let floats: Vec<&str> = wrong
                .iter()
                .filter(|(_, w, g)| *w == "integer" && *g == "float")
                .map(|(c, _, _)| c.as_str())
                .collect();
            let example = match &got[col].values {
                Values::Num(v) => v.iter().flatten().next().map(|x| format!("{x:.1}")),
                Values::Text(_) => None,
            }
            .unwrap_or_default();
            format!(
                "{} written as floats ({col}: {example}): after dropping the missing rows, df.astype({{{}}})",
                floats.join(" and "),
                floats
                    .iter()
                    .map(|c| format!("\"{c}\": \"int64\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else {
            format!("{col} should be {want_kind}: keep it as the input has it")
        };
        checks.fail(
            "types",
            types_ran,
            wrong
                .iter()
                .map(|(c, w, _)| format!("{c}: {w}"))
                .collect::<Vec<_>>()
                .join(", "),
            wrong
                .iter()
                .map(|(c, _, g)| format!("{c}: {g}"))
                .collect::<Vec<_>>()
                .join(", "),
            fix,
        );
        return;
    }
    checks.pass(
        "types",
        types_ran,
        "flipper_length_mm, body_mass_g, year and island_*: integer; bills: float; species, sex: text",
        "the same",
    );

    // values: each column's values as a multiset (the row order is free)
    let values_ran = format!("compare each column of {OUTPUT} with the lab's, sorted");
    for (name, c) in &want {
        if let Some(diff) = differs(&c.values, &got[name].values) {
            checks.fail(
                "values",
                values_ran,
                format!("the lab's values of {name}"),
                format!("{name}: {diff}"),
                format!(
                    "clean, don't change: {name} must keep the input's values (no scaling, rounding or filling)"
                ),
            );
            return;
        }
    }
    checks.pass(
        "values",
        values_ran,
        "every column equal to the lab's cleaning",
        format!("{} columns × {rows} rows equal", want.len()),
    );
}

/// How two columns' sorted values differ, if they do.
fn differs(want: &Values, got: &Values) -> Option<String> {
    match (want, got) {
        (Values::Num(w), Values::Num(g)) => {
            let sort = |v: &Vec<Option<f64>>| {
                let mut v: Vec<f64> = v.iter().flatten().copied().collect();
                v.sort_by(f64::total_cmp);
                v
            };
            let (w, g) = (sort(w), sort(g));
            let bad = w
                .iter()
                .zip(&g)
                .filter(|(a, b)| (*a - *b).abs() > 1e-9 * a.abs().max(1.0))
                .count();
            let first = w
                .iter()
                .zip(&g)
                .find(|(a, b)| (*a - *b).abs() > 1e-9 * a.abs().max(1.0));
            first.map(|(a, b)| {
                format!(
                    "{bad} of {} sorted values differ (the first: expected {}, got {})",
                    w.len(),
                    num(*a),
                    num(*b)
                )
            })
        }
        (Values::Text(w), Values::Text(g)) => {
            let sort = |v: &Vec<Option<String>>| {
                let mut v: Vec<String> = v.iter().flatten().cloned().collect();
                v.sort();
                v
            };
            let (w, g) = (sort(w), sort(g));
            w.iter()
                .zip(&g)
                .find(|(a, b)| a != b)
                .map(|(a, b)| format!("expected \"{a}\", got \"{b}\" (sorted)"))
        }
        _ => Some("another type".into()),
    }
}
