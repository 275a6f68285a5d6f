//! Train and the tracking store: a training result, runs, one run's detail,
//! run comparisons and experiments.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use lab_pipeline::{Experiment, Run, RunComparison, RunDetail, TrainResult};

use super::{Render, num, short, table, time};

/// `train`: the new run, its metrics, the gate and what to do next.
impl Render for TrainResult {
    fn human(&self, out: &mut String) -> fmt::Result {
        let r = self;
        writeln!(
            out,
            "run {}  ({})\n{} on {} → {} [{}], split {}: {} train / {} test rows",
            r.run_id,
            r.run_name,
            r.model,
            r.dataset,
            r.target,
            r.task,
            r.split,
            r.train_rows,
            r.test_rows
        )?;
        let mut t = table(&["metric", "test", "train"]);
        for (k, v) in &r.metrics {
            t.add_row(vec![
                k.clone(),
                format!("{v:.4}"),
                r.train_metrics
                    .get(k)
                    .map(|x| format!("{x:.4}"))
                    .unwrap_or_default(),
            ]);
        }
        writeln!(out, "{t}")?;
        if let Some(cm) = &r.confusion_matrix {
            writeln!(out, "{}", confusion(cm, &r.classes))?;
        }
        train_verdicts(r, out)?;
        for n in &r.notes {
            writeln!(out, "note: {n}")?;
        }
        writeln!(
            out,
            "artifact: {}\nnext: mlops-lab models register {} --name {}",
            r.artifact_path,
            short(&r.run_id, 8),
            lab_pipeline::default_model_name(&r.dataset, &r.target)
        )
    }
}

/// The validation gate's checks and the comparison with the champion.
fn train_verdicts(r: &TrainResult, out: &mut String) -> fmt::Result {
    for c in &r.gate.checks {
        writeln!(
            out,
            "gate: {} {} {} → {} ({})",
            c.metric,
            c.op,
            c.threshold,
            num(c.value),
            if c.passed { "pass" } else { "FAIL" }
        )?;
    }
    if let Some(c) = &r.champion {
        writeln!(
            out,
            "vs {}@champion (v{}): {} {:.4} → {:.4}: {}",
            c.model,
            c.version,
            c.comparison.metric,
            c.comparison.champion,
            c.comparison.challenger,
            if c.comparison.challenger_wins {
                "the new run is better"
            } else {
                "the champion stays ahead"
            }
        )?;
    }
    Ok(())
}

/// A confusion matrix, true classes down, predicted across.
fn confusion(cm: &[Vec<usize>], classes: &[String]) -> Table {
    let mut header = vec!["true \\ predicted".to_string()];
    header.extend(classes.iter().cloned());
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_header(header);
    for (i, row) in cm.iter().enumerate() {
        let mut cells = vec![classes.get(i).cloned().unwrap_or_else(|| i.to_string())];
        cells.extend(row.iter().map(|v| v.to_string()));
        t.add_row(cells);
    }
    t
}

/// `runs list`: runs, newest first, with their headline metrics.
impl Render for [Run] {
    fn human(&self, out: &mut String) -> fmt::Result {
        if self.is_empty() {
            return writeln!(
                out,
                "no runs yet: mlops-lab train --dataset wine-quality-red --model logistic-regression"
            );
        }
        let mut t = table(&[
            "run id", "name", "status", "started", "dataset", "model", "metrics",
        ]);
        for r in self {
            let m = lab_pipeline::headline_metrics(&r.metrics, 4)
                .iter()
                .map(|(k, v)| format!("{k}={v:.4}"))
                .collect::<Vec<_>>()
                .join(" ");
            t.add_row(vec![
                short(&r.run_id, 12).to_string(),
                r.run_name.clone(),
                r.status.to_string(),
                time(r.start_time),
                r.tags.get("mlops.dataset").cloned().unwrap_or_default(),
                r.tags.get("mlops.model").cloned().unwrap_or_default(),
                m,
            ]);
        }
        writeln!(out, "{t}")
    }
}

/// `runs show`: the same run detail the app shows (`Lab::run_detail`).
impl Render for RunDetail {
    fn human(&self, out: &mut String) -> fmt::Result {
        let r = &self.run;
        writeln!(
            out,
            "run {}  ({})\nstatus {}  started {}{}\nexperiment {} ({})  artifacts {}",
            r.run_id,
            r.run_name,
            r.status,
            time(r.start_time),
            r.end_time
                .map(|e| format!("  ended {}", time(e)))
                .unwrap_or_default(),
            self.experiment,
            r.experiment_id,
            r.artifact_uri
        )?;
        writeln!(out, "{}", pairs("param", &r.params, String::clone))?;
        writeln!(
            out,
            "{}",
            pairs("metric", &r.metrics, |v| format!("{v:.6}"))
        )?;
        writeln!(out, "{}", pairs("tag", &r.tags, String::clone))?;
        learning_curve(self, out)?;
        for (key, points) in &self.metric_histories {
            let mut t = table(&["step", key]);
            for (step, v) in points {
                t.add_row(vec![step.to_string(), format!("{v:.6}")]);
            }
            writeln!(
                out,
                "history of {key}:
{t}"
            )?;
        }
        if let Some(cm) = &self.confusion_matrix {
            writeln!(
                out,
                "confusion matrix (test):\n{}",
                confusion(cm, &self.classes)
            )?;
        }
        registered(self, out)
    }
}

/// A two-column table of a run's params, metrics or tags.
fn pairs<V>(what: &str, map: &BTreeMap<String, V>, show: impl Fn(&V) -> String) -> Table {
    let mut t = table(&[what, "value"]);
    for (k, v) in map {
        t.add_row(vec![k.clone(), show(v)]);
    }
    t
}

fn learning_curve(d: &RunDetail, out: &mut String) -> fmt::Result {
    let Some(m) = &d.primary_metric else {
        return Ok(());
    };
    if d.history.is_empty() {
        return Ok(());
    }
    let mut t = table(&[
        "training rows",
        &format!("{m} (test)"),
        &format!("{m} (train)"),
    ]);
    for (rows, test) in &d.history {
        let train = d
            .train_history
            .iter()
            .find(|(n, _)| n == rows)
            .map_or(String::new(), |(_, v)| format!("{v:.4}"));
        t.add_row(vec![rows.to_string(), format!("{test:.4}"), train]);
    }
    writeln!(out, "learning curve:\n{t}")
}

/// The model versions registered from the run, or how to register one.
fn registered(d: &RunDetail, out: &mut String) -> fmt::Result {
    if d.registered.is_empty() {
        return writeln!(
            out,
            "not registered: `mlops-lab models register {} --name NAME`",
            short(&d.run.run_id, 8)
        );
    }
    for mv in &d.registered {
        writeln!(
            out,
            "registered as {} v{}{}",
            mv.name,
            mv.version,
            if mv.aliases.is_empty() {
                String::new()
            } else {
                format!(" ({})", mv.aliases.join(", "))
            }
        )?;
    }
    Ok(())
}

/// `runs compare`: runs side by side, the best value of each metric starred.
impl Render for RunComparison {
    fn human(&self, out: &mut String) -> fmt::Result {
        let c = self;
        let mut header = vec!["".to_string()];
        header.extend(c.runs.iter().map(|r| short(&r.run_id, 8).to_string()));
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_header(header);
        let mut row = vec!["name".to_string()];
        row.extend(c.runs.iter().map(|r| r.run_name.clone()));
        t.add_row(row);
        for k in &c.differing_params {
            let mut row = vec![format!("param {k}")];
            row.extend(
                c.runs
                    .iter()
                    .map(|r| r.params.get(k).cloned().unwrap_or_default()),
            );
            t.add_row(row);
        }
        for k in &c.metric_keys {
            let best = c.best.get(k);
            let mut row = vec![k.clone()];
            row.extend(c.runs.iter().map(|r| {
                let v = r
                    .metrics
                    .get(k)
                    .map(|v| format!("{v:.4}"))
                    .unwrap_or_default();
                if best == Some(&r.run_id) && c.runs.len() > 1 {
                    format!("{v} ★")
                } else {
                    v
                }
            }));
            t.add_row(row);
        }
        writeln!(
            out,
            "{t}\n★ best value of the metric; only params that differ are shown"
        )
    }
}

/// `experiments`.
impl Render for [Experiment] {
    fn human(&self, out: &mut String) -> fmt::Result {
        let mut t = table(&["id", "name", "artifact location", "created"]);
        for x in self {
            t.add_row(vec![
                x.experiment_id.clone(),
                x.name.clone(),
                x.artifact_location.clone(),
                time(x.creation_time),
            ]);
        }
        writeln!(out, "{t}")
    }
}
