//! From a table to train/test feature matrices: target extraction, missing
//! values, the deterministic split, and the preprocessing fitted on train.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use lab_model::{InputFeature, InputKind, MissingPolicy, Preprocessor, Task, Value};
use ndarray::Array2;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

use crate::catalog::{DatasetSpec, Derive, TargetSpec};
use crate::load::{ColumnValues, Table, numeric_values, text_values};
use crate::{DataError, Result};

/// What to learn from a table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskSpec {
    /// Catalogue dataset name, or the file name of the learner's CSV.
    pub dataset: String,
    pub target_name: String,
    pub target_column: String,
    pub task: Task,
    pub derive: Option<Derive>,
    pub features: Vec<String>,
    /// Shipped reference split (absolute path), if the catalogue has one.
    pub reference_split: Option<PathBuf>,
    pub gate: BTreeMap<String, f64>,
}

impl TaskSpec {
    /// The task for a catalogue dataset's target, with optional features.
    pub fn from_catalog(
        root: &std::path::Path,
        dataset: &DatasetSpec,
        target: &TargetSpec,
        features: Option<Vec<String>>,
    ) -> TaskSpec {
        // The reference split was made for the default features; other
        // features may drop other rows, so they get a seeded split.
        let default_features = features.as_ref().is_none_or(|f| f == &target.features);
        TaskSpec {
            dataset: dataset.name.clone(),
            target_name: target.name.clone(),
            target_column: target.column.clone(),
            task: target.task,
            derive: target.derive.clone(),
            features: features.unwrap_or_else(|| target.features.clone()),
            reference_split: target
                .reference_split
                .as_ref()
                .filter(|_| default_features)
                .map(|s| root.join(s)),
            gate: target.gate.clone(),
        }
    }

    /// A task on the learner's own CSV: every other column is a feature
    /// unless `features` says otherwise; the task is inferred from the target
    /// column unless given (text → classification, numbers → regression).
    pub fn for_file(
        table: &Table,
        target: &str,
        features: Option<Vec<String>>,
        task: Option<Task>,
    ) -> Result<TaskSpec> {
        let series = table.series(target)?;
        let task = match task {
            Some(t) => t,
            None if series.dtype().is_primitive_numeric() => Task::Regression,
            None => {
                let n = text_values(table, target)?
                    .into_iter()
                    .flatten()
                    .collect::<BTreeSet<_>>()
                    .len();
                if n <= 2 {
                    Task::BinaryClassification
                } else {
                    Task::MulticlassClassification
                }
            }
        };
        let features = match features {
            Some(f) => f,
            None => table
                .column_names()
                .into_iter()
                .filter(|c| c != target)
                .collect(),
        };
        Ok(TaskSpec {
            dataset: table
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| table.shown()),
            target_name: target.to_string(),
            target_column: target.to_string(),
            task,
            derive: None,
            features,
            reference_split: None,
            gate: BTreeMap::new(),
        })
    }

    pub fn target_definition(&self) -> String {
        match &self.derive {
            Some(d) => format!(
                "{} = {} if {} {} {} else {}",
                self.target_name,
                d.true_label,
                self.target_column,
                d.op,
                lab_model::format_number(d.value),
                d.false_label
            ),
            None => self.target_column.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SplitSpec {
    /// The shipped scikit-learn split of this task.
    Reference,
    /// Our own deterministic split: stratified by class for classification.
    Seeded { seed: u64, test_fraction: f64 },
}

#[derive(Debug, Clone)]
pub struct PrepareOptions {
    pub missing: MissingPolicy,
    pub scale: bool,
    pub split: SplitSpec,
}

impl Default for PrepareOptions {
    fn default() -> Self {
        PrepareOptions {
            missing: MissingPolicy::Drop,
            scale: true,
            split: SplitSpec::Seeded {
                seed: 42,
                test_fraction: 0.25,
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// Class indices into [`Prepared::classes`].
    Classes(Vec<usize>),
    Values(Vec<f64>),
}

impl Target {
    pub fn len(&self) -> usize {
        match self {
            Target::Classes(v) => v.len(),
            Target::Values(v) => v.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Train and test matrices with everything needed to fit and to record.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub task: TaskSpec,
    pub preprocessor: Preprocessor,
    pub classes: Vec<String>,
    pub x_train: Array2<f64>,
    pub y_train: Target,
    pub x_test: Array2<f64>,
    pub y_test: Target,
    /// Raw test rows (ordered as the preprocessor's features), for checking a
    /// served model against in-process predictions.
    pub raw_test: Vec<Vec<Value>>,
    /// Raw train rows, same order: the reference data monitoring compares
    /// served traffic with.
    pub raw_train: Vec<Vec<Value>>,
    /// 0-based data-row numbers of the CSV.
    pub train_rows: Vec<usize>,
    pub test_rows: Vec<usize>,
    /// Rows left out because of missing values.
    pub dropped_rows: usize,
    /// `reference:<file>` or `seeded:<seed>:<fraction>`.
    pub split: String,
}

#[derive(Deserialize)]
struct ReferenceSplit {
    train: Vec<usize>,
    test: Vec<usize>,
}

/// Build train/test matrices for `task` from `table`, step by step.
pub fn prepare(table: &Table, task: &TaskSpec, opts: &PrepareOptions) -> Result<Prepared> {
    check_task(table, task)?;
    let columns = feature_columns(table, task)?;
    let (classes, target) = extract_target(table, task)?;
    let usable = usable_rows(&columns, &target, opts.missing);
    let split = split_rows(table, task, &opts.split, &target, &usable)?;
    let dropped_rows = usable.iter().filter(|u| !**u).count();
    if split.train.len() < 2 || split.test.is_empty() {
        return Err(DataError::Split(format!(
            "only {} training and {} test rows are left after dropping {dropped_rows} rows with missing values; use --missing impute or more data",
            split.train.len(),
            split.test.len()
        )));
    }
    let preprocessor = fit_preprocessor(task, &columns, &split.train, opts);
    let (raw_train, x_train) = encode_rows(table, &preprocessor, &columns, &split.train)?;
    let (raw_test, x_test) = encode_rows(table, &preprocessor, &columns, &split.test)?;
    Ok(Prepared {
        task: task.clone(),
        preprocessor,
        classes,
        x_train,
        y_train: target_of(task, &target, &split.train),
        x_test,
        y_test: target_of(task, &target, &split.test),
        raw_test,
        raw_train,
        train_rows: split.train,
        test_rows: split.test,
        dropped_rows,
        split: split.name,
    })
}

/// The features exist, are not the target, and there is at least one.
fn check_task(table: &Table, task: &TaskSpec) -> Result<()> {
    if task.features.is_empty() {
        return Err(DataError::Invalid("no features selected".into()));
    }
    if task.features.contains(&task.target_column) {
        return Err(DataError::Invalid(format!(
            "`{}` is the target; it cannot also be a feature",
            task.target_column
        )));
    }
    table.require_columns(task.features.iter().chain([&task.target_column]))
}

/// One feature's raw values, as model input, and whether it is numeric.
struct FeatureColumn {
    values: Vec<Value>,
    numeric: bool,
}

/// Every feature's raw values; a feature with a single value is refused.
fn feature_columns(table: &Table, task: &TaskSpec) -> Result<Vec<FeatureColumn>> {
    let shown = table.shown();
    task.features
        .iter()
        .map(|f| {
            let values = table.values(f)?;
            let numeric = matches!(values, ColumnValues::Numeric(_));
            let values = values.into_model_values();
            check_informative(&shown, f, &values)?;
            Ok(FeatureColumn { values, numeric })
        })
        .collect()
}

/// Rows with a target, and with every feature unless missing values are
/// imputed.
fn usable_rows(
    columns: &[FeatureColumn],
    target: &[Option<TargetValue>],
    missing: MissingPolicy,
) -> Vec<bool> {
    (0..target.len())
        .map(|r| {
            target[r].is_some()
                && (missing == MissingPolicy::Impute
                    || columns.iter().all(|c| c.values[r] != Value::Missing))
        })
        .collect()
}

/// Train and test row indices, and the split's name.
struct Split {
    train: Vec<usize>,
    test: Vec<usize>,
    name: String,
}

fn split_rows(
    table: &Table,
    task: &TaskSpec,
    spec: &SplitSpec,
    target: &[Option<TargetValue>],
    usable: &[bool],
) -> Result<Split> {
    match spec {
        SplitSpec::Reference => reference_split(table, task, target, usable),
        SplitSpec::Seeded {
            seed,
            test_fraction,
        } => {
            if !(0.0 < *test_fraction && *test_fraction < 1.0) {
                return Err(DataError::Split(format!(
                    "test fraction {test_fraction} must be between 0 and 1"
                )));
            }
            let rows: Vec<usize> = (0..usable.len()).filter(|&r| usable[r]).collect();
            let strata: Vec<usize> = rows
                .iter()
                .map(|&r| match &target[r] {
                    Some(TargetValue::Class(c)) => *c,
                    _ => 0,
                })
                .collect();
            let (train, test) = seeded_split(&rows, &strata, *seed, *test_fraction);
            Ok(Split {
                train,
                test,
                name: format!("seeded:{seed}:{test_fraction}"),
            })
        }
    }
}

/// The dataset's shipped (scikit-learn) split, minus unusable rows.
fn reference_split(
    table: &Table,
    task: &TaskSpec,
    target: &[Option<TargetValue>],
    usable: &[bool],
) -> Result<Split> {
    let shown = table.shown();
    let n = usable.len();
    let path = task.reference_split.as_ref().ok_or_else(|| {
        DataError::Split(format!(
            "`{}` has no reference split: use a seeded split",
            task.dataset
        ))
    })?;
    let text = std::fs::read_to_string(path).map_err(|source| DataError::Unreadable {
        path: path.display().to_string(),
        source,
    })?;
    let s: ReferenceSplit = serde_json::from_str(&text)
        .map_err(|e| DataError::Split(format!("{}: {e}", path.display())))?;
    for &r in s.train.iter().chain(&s.test) {
        if r >= n {
            return Err(DataError::Split(format!(
                "{} lists row {r}, but {shown} has {n} rows",
                path.display()
            )));
        }
        if target[r].is_none() {
            return Err(DataError::MissingTarget {
                path: shown.clone(),
                line: r + 2,
                column: task.target_column.clone(),
            });
        }
    }
    let keep = |v: Vec<usize>| v.into_iter().filter(|&r| usable[r]).collect::<Vec<_>>();
    Ok(Split {
        train: keep(s.train),
        test: keep(s.test),
        name: format!(
            "reference:{}",
            path.file_name().unwrap_or_default().to_string_lossy()
        ),
    })
}

/// The preprocessing, fitted on the training rows only.
fn fit_preprocessor(
    task: &TaskSpec,
    columns: &[FeatureColumn],
    train: &[usize],
    opts: &PrepareOptions,
) -> Preprocessor {
    let features = task
        .features
        .iter()
        .zip(columns)
        .map(|(name, c)| {
            let train_vals = train.iter().map(|&r| &c.values[r]);
            let kind = if c.numeric {
                fit_numeric(train_vals, opts)
            } else {
                fit_categorical(train_vals, opts)
            };
            InputFeature {
                name: name.clone(),
                kind,
            }
        })
        .collect();
    Preprocessor {
        features,
        missing: opts.missing,
        scaled: opts.scale,
    }
}

/// `rows` as raw rows (what a server receives) and encoded through the
/// preprocessor (what the model sees).
fn encode_rows(
    table: &Table,
    preprocessor: &Preprocessor,
    columns: &[FeatureColumn],
    rows: &[usize],
) -> Result<(Vec<Vec<Value>>, Array2<f64>)> {
    let picked: Vec<Vec<Value>> = columns
        .iter()
        .map(|c| rows.iter().map(|&r| c.values[r].clone()).collect())
        .collect();
    let x = preprocessor
        .encode_columns(&picked)
        .map_err(|e| DataError::Invalid(format!("{}: {e}", table.shown())))?;
    let raw = (0..rows.len())
        .map(|j| picked.iter().map(|c| c[j].clone()).collect())
        .collect();
    Ok((raw, x))
}

/// The target of `rows` (all usable, so all have one).
fn target_of(task: &TaskSpec, target: &[Option<TargetValue>], rows: &[usize]) -> Target {
    if task.task.is_classification() {
        Target::Classes(
            rows.iter()
                .map(|&r| match target[r] {
                    Some(TargetValue::Class(c)) => c,
                    _ => unreachable!("usable rows have a target"),
                })
                .collect(),
        )
    } else {
        Target::Values(
            rows.iter()
                .map(|&r| match target[r] {
                    Some(TargetValue::Value(v)) => v,
                    _ => unreachable!("usable rows have a target"),
                })
                .collect(),
        )
    }
}

#[derive(Debug, Clone, Copy)]
enum TargetValue {
    Class(usize),
    Value(f64),
}

fn extract_target(
    table: &Table,
    task: &TaskSpec,
) -> Result<(Vec<String>, Vec<Option<TargetValue>>)> {
    let col = &task.target_column;
    if let Some(d) = &task.derive {
        let vals = numeric_values(table, col)?;
        let classes = vec![d.false_label.clone(), d.true_label.clone()];
        let y = vals
            .into_iter()
            .map(|v| match v {
                Some(x) => d.holds(x).map(|b| Some(TargetValue::Class(b as usize))),
                None => Ok(None),
            })
            .collect::<Result<_>>()?;
        return Ok((classes, y));
    }
    match task.task {
        Task::Regression => {
            if !table.series(col)?.dtype().is_primitive_numeric() {
                return Err(DataError::Invalid(format!(
                    "{}: target `{col}` holds text, so it cannot be a regression target; train a classifier (--task multiclass-classification)",
                    table.shown()
                )));
            }
            Ok((
                Vec::new(),
                numeric_values(table, col)?
                    .into_iter()
                    .map(|v| v.map(TargetValue::Value))
                    .collect(),
            ))
        }
        Task::Clustering => {
            // Clustering ignores the target values; keep the rows that have one.
            Ok((
                Vec::new(),
                text_values(table, col)?
                    .into_iter()
                    .map(|v| v.map(|_| TargetValue::Value(0.0)))
                    .collect(),
            ))
        }
        Task::BinaryClassification | Task::MulticlassClassification => {
            let vals = text_values(table, col)?;
            let classes: Vec<String> = vals
                .iter()
                .flatten()
                .cloned()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            if classes.len() < 2 {
                return Err(DataError::Invalid(format!(
                    "{}: target `{col}` has {} distinct value(s); a classifier needs at least two classes",
                    table.shown(),
                    classes.len()
                )));
            }
            if task.task == Task::BinaryClassification && classes.len() != 2 {
                return Err(DataError::Invalid(format!(
                    "{}: target `{col}` has {} classes, not 2; use --task multiclass-classification",
                    table.shown(),
                    classes.len()
                )));
            }
            let y = vals
                .into_iter()
                .map(|v| {
                    v.map(|s| {
                        TargetValue::Class(classes.binary_search(&s).expect("class is listed"))
                    })
                })
                .collect();
            Ok((classes, y))
        }
    }
}

fn check_informative(path: &str, column: &str, values: &[Value]) -> Result<()> {
    let mut first: Option<&Value> = None;
    let mut varies = false;
    for v in values.iter().filter(|v| **v != Value::Missing) {
        match first {
            None => first = Some(v),
            Some(f) if f != v => {
                varies = true;
                break;
            }
            _ => {}
        }
    }
    match (first, varies) {
        (None, _) => Err(DataError::AllNullFeature {
            path: path.to_string(),
            column: column.to_string(),
        }),
        (Some(v), false) => Err(DataError::ConstantFeature {
            path: path.to_string(),
            column: column.to_string(),
            value: match v {
                Value::Number(x) => lab_model::format_number(*x),
                Value::Text(t) => t.clone(),
                Value::Missing => String::new(),
            },
        }),
        _ => Ok(()),
    }
}

fn fit_numeric<'a>(vals: impl Iterator<Item = &'a Value>, opts: &PrepareOptions) -> InputKind {
    let mut present: Vec<f64> = Vec::new();
    let mut missing = 0usize;
    for v in vals {
        match v {
            Value::Number(x) => present.push(*x),
            _ => missing += 1,
        }
    }
    let impute = (opts.missing == MissingPolicy::Impute).then(|| median(&mut present.clone()));
    // The scaler sees imputed values, as in a scikit-learn pipeline.
    let fill = impute.unwrap_or(0.0);
    let n = (present.len() + missing) as f64;
    let mean = (present.iter().sum::<f64>() + fill * missing as f64) / n;
    let var = (present.iter().map(|x| (x - mean).powi(2)).sum::<f64>()
        + (fill - mean).powi(2) * missing as f64)
        / n;
    let std = var.sqrt();
    if opts.scale {
        InputKind::Numeric {
            mean,
            // A constant training column keeps unit scale, as StandardScaler does.
            std: if std > 0.0 { std } else { 1.0 },
            impute,
        }
    } else {
        InputKind::Numeric {
            mean: 0.0,
            std: 1.0,
            impute,
        }
    }
}

fn fit_categorical<'a>(vals: impl Iterator<Item = &'a Value>, opts: &PrepareOptions) -> InputKind {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for v in vals {
        let key = match v {
            Value::Text(t) => t.clone(),
            Value::Number(x) => lab_model::format_number(*x),
            Value::Missing => continue,
        };
        *counts.entry(key).or_default() += 1;
    }
    // Mode; ties go to the first category in sorted order.
    let impute = (opts.missing == MissingPolicy::Impute)
        .then(|| {
            counts
                .iter()
                .fold(None::<(&String, usize)>, |best, (k, c)| match best {
                    Some((_, bc)) if bc >= *c => best,
                    _ => Some((k, *c)),
                })
                .map(|(k, _)| k.clone())
        })
        .flatten();
    InputKind::Categorical {
        categories: counts.into_keys().collect(),
        impute,
    }
}

fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

/// Deterministic split: rows grouped by stratum (class, or one group for
/// regression), each group shuffled with a seeded xoshiro256++ generator,
/// and `round(n * fraction)` rows of each group (at least one from any group
/// of two or more) go to the test set.
fn seeded_split(
    rows: &[usize],
    strata: &[usize],
    seed: u64,
    fraction: f64,
) -> (Vec<usize>, Vec<usize>) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (r, s) in rows.iter().zip(strata) {
        groups.entry(*s).or_default().push(*r);
    }
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for (_, mut g) in groups {
        g.shuffle(&mut rng);
        let mut k = (g.len() as f64 * fraction).round() as usize;
        if g.len() >= 2 {
            k = k.clamp(1, g.len() - 1);
        } else {
            k = 0;
        }
        test.extend_from_slice(&g[..k]);
        train.extend_from_slice(&g[k..]);
    }
    train.shuffle(&mut rng);
    test.shuffle(&mut rng);
    (train, test)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_split_is_deterministic_and_stratified() {
        let rows: Vec<usize> = (0..100).collect();
        let strata: Vec<usize> = rows.iter().map(|r| (r % 4 == 0) as usize).collect();
        let a = seeded_split(&rows, &strata, 7, 0.25);
        let b = seeded_split(&rows, &strata, 7, 0.25);
        assert_eq!(a, b);
        let c = seeded_split(&rows, &strata, 8, 0.25);
        assert_ne!(a.1, c.1);
        assert_eq!(a.1.len(), 25);
        let positives = a.1.iter().filter(|r| *r % 4 == 0).count();
        assert_eq!(positives, 6, "25% of the 25 positives, rounded");
        let mut all: Vec<usize> = a.0.iter().chain(&a.1).copied().collect();
        all.sort();
        assert_eq!(all, rows);
    }

    #[test]
    fn median_handles_even_and_odd() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
