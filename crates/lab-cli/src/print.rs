//! Tables and JSON for every command, and stage progress bars.

use std::cell::RefCell;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use comfy_table::{Cell, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use indicatif::{ProgressBar, ProgressStyle};
use lab_pipeline::{
    AlertRecord, AlertRule, Catalog, CollectSummary, ColumnStats, DeployResult, DeploymentRecord,
    DriftReport, Event, Experiment, ModelKind, ModelVersion, ParamSpec, PipelineSummary, Profile,
    RegisteredModel, RetrainResult, RolloutResult, Run, RunComparison, RunDetail, ScenarioDrift,
    ServiceStatus, TrafficSummary, TrainResult, ValidationReport, WindowResult,
};
use serde::Serialize;

fn json_out<T: Serialize + ?Sized>(v: &T) -> Result<ExitCode> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(ExitCode::SUCCESS)
}

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.iter().map(Cell::new));
    t
}

fn num(v: Option<f64>) -> String {
    match v {
        None => "".into(),
        Some(x) if x == x.trunc() && x.abs() < 1e12 => format!("{x:.0}"),
        Some(x) if x.abs() >= 1000.0 => format!("{x:.1}"),
        Some(x) => format!("{x:.4}"),
    }
}

/// A store timestamp (ms since the epoch) in the local time zone, with its
/// offset (`2026-12-01 16:53:15 +01:00`), as the app shows it.
fn time(ms: i64) -> String {
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(ts) => ts
            .to_zoned_datetime(jiff::tz::TimeZone::system())
            .strftime("%Y-%m-%d %H:%M:%S %:z")
            .to_string(),
        Err(_) => format!("{ms} ms after 1970"),
    }
}

pub fn datasets(c: &Catalog, json: bool) -> Result<ExitCode> {
    if json {
        return json_out(&c.datasets);
    }
    let mut t = table(&[
        "dataset",
        "rows × cols",
        "targets (task)",
        "scenarios",
        "description",
    ]);
    for d in &c.datasets {
        t.add_row(vec![
            d.name.clone(),
            format!("{} × {}", d.rows, d.columns),
            d.targets
                .iter()
                .map(|x| {
                    let star = if x.name == d.default_target { "*" } else { "" };
                    format!("{}{star} ({})", x.name, x.task)
                })
                .collect::<Vec<_>>()
                .join("\n"),
            d.scenarios
                .iter()
                .map(|s| s.name.clone())
                .collect::<Vec<_>>()
                .join("\n"),
            d.description.clone(),
        ]);
    }
    println!(
        "{t}\n* default target. Train with: mlops-lab train --dataset NAME --model logistic-regression"
    );
    Ok(ExitCode::SUCCESS)
}

pub fn profile(p: &Profile, json: bool) -> Result<ExitCode> {
    if json {
        return json_out(p);
    }
    println!(
        "{}: {} rows × {} columns",
        p.source,
        p.rows,
        p.columns.len()
    );
    let mut t = table(&[
        "column",
        "dtype",
        "count",
        "nulls",
        "unique",
        "mean",
        "std",
        "min",
        "p25",
        "p50",
        "p75",
        "max",
        "top / histogram",
    ]);
    for c in &p.columns {
        let extra = if !c.top.is_empty() {
            c.top
                .iter()
                .map(|(v, n)| format!("{v} ({n})"))
                .collect::<Vec<_>>()
                .join(", ")
        } else if let Some(h) = &c.histogram {
            sparkline(&h.counts)
        } else {
            String::new()
        };
        t.add_row(vec![
            c.name.clone(),
            c.dtype.clone(),
            c.count.to_string(),
            if c.null_count == 0 {
                "0".into()
            } else {
                format!("{} ({:.1}%)", c.null_count, c.null_ratio * 100.0)
            },
            c.unique.to_string(),
            num(c.mean),
            num(c.std),
            num(c.min),
            num(c.p25),
            num(c.p50),
            num(c.p75),
            num(c.max),
            extra,
        ]);
    }
    println!("{t}");
    Ok(ExitCode::SUCCESS)
}

fn sparkline(counts: &[usize]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = counts.iter().copied().max().unwrap_or(0).max(1);
    counts
        .iter()
        .map(|c| {
            if *c == 0 {
                ' '
            } else {
                BARS[((c * 7) / max).min(7)]
            }
        })
        .collect()
}

pub fn validation(r: &ValidationReport, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(r)?);
        return Ok(());
    }
    let mut t = table(&["", "expectation", "column", "expected", "observed"]);
    for e in &r.results {
        t.add_row(vec![
            if e.passed { "PASS" } else { "FAIL" }.to_string(),
            e.expectation.clone(),
            e.column.clone().unwrap_or_default(),
            e.expected.clone(),
            e.observed.clone(),
        ]);
    }
    println!("{t}");
    println!("{}: {} passed, {} failed", r.source, r.passed, r.failed);
    Ok(())
}

pub fn train(r: &TrainResult, json: bool) -> Result<ExitCode> {
    if json {
        return json_out(r);
    }
    println!(
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
    );
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
    println!("{t}");
    if let Some(cm) = &r.confusion_matrix {
        println!("{}", confusion(cm, &r.classes));
    }
    for c in &r.gate.checks {
        println!(
            "gate: {} {} {} → {} ({})",
            c.metric,
            c.op,
            c.threshold,
            num(c.value),
            if c.passed { "pass" } else { "FAIL" }
        );
    }
    if let Some(c) = &r.champion {
        println!(
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
        );
    }
    for n in &r.notes {
        println!("note: {n}");
    }
    println!(
        "artifact: {}\nnext: mlops-lab models register {} --name {}",
        r.artifact_path,
        &r.run_id[..8],
        lab_pipeline::default_model_name(&r.dataset, &r.target)
    );
    Ok(ExitCode::SUCCESS)
}

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

pub fn runs(runs: &[Run], json: bool) -> Result<ExitCode> {
    if json {
        return json_out(runs);
    }
    if runs.is_empty() {
        println!(
            "no runs yet: mlops-lab train --dataset wine-quality-red --model logistic-regression"
        );
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = table(&[
        "run id", "name", "status", "started", "dataset", "model", "metrics",
    ]);
    for r in runs {
        let m = ["accuracy", "f1_macro", "rmse", "r2", "inertia"]
            .iter()
            .filter_map(|k| r.metrics.get(*k).map(|v| format!("{k}={v:.4}")))
            .collect::<Vec<_>>()
            .join(" ");
        t.add_row(vec![
            r.run_id[..12].to_string(),
            r.run_name.clone(),
            r.status.to_string(),
            time(r.start_time),
            r.tags.get("mlops.dataset").cloned().unwrap_or_default(),
            r.tags.get("mlops.model").cloned().unwrap_or_default(),
            m,
        ]);
    }
    println!("{t}");
    Ok(ExitCode::SUCCESS)
}

/// `runs show`: the same run detail the app shows (`Lab::run_detail`).
pub fn run_detail(d: &RunDetail, json: bool) -> Result<ExitCode> {
    if json {
        return json_out(d);
    }
    let r = &d.run;
    println!(
        "run {}  ({})\nstatus {}  started {}{}\nexperiment {} ({})  artifacts {}",
        r.run_id,
        r.run_name,
        r.status,
        time(r.start_time),
        r.end_time
            .map(|e| format!("  ended {}", time(e)))
            .unwrap_or_default(),
        d.experiment,
        r.experiment_id,
        r.artifact_uri
    );
    let mut t = table(&["param", "value"]);
    for (k, v) in &r.params {
        t.add_row(vec![k.clone(), v.clone()]);
    }
    println!("{t}");
    let mut t = table(&["metric", "value"]);
    for (k, v) in &r.metrics {
        t.add_row(vec![k.clone(), format!("{v:.6}")]);
    }
    println!("{t}");
    let mut t = table(&["tag", "value"]);
    for (k, v) in &r.tags {
        t.add_row(vec![k.clone(), v.clone()]);
    }
    println!("{t}");
    if let Some(m) = &d.primary_metric
        && !d.history.is_empty()
    {
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
        println!("learning curve:\n{t}");
    }
    if let Some(cm) = &d.confusion_matrix {
        println!("confusion matrix (test):\n{}", confusion(cm, &d.classes));
    }
    if d.registered.is_empty() {
        println!(
            "not registered: `mlops-lab models register {} --name NAME`",
            &r.run_id[..8]
        );
    } else {
        for mv in &d.registered {
            println!(
                "registered as {} v{}{}",
                mv.name,
                mv.version,
                if mv.aliases.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", mv.aliases.join(", "))
                }
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn compare(c: &RunComparison, json: bool) -> Result<ExitCode> {
    if json {
        return json_out(c);
    }
    let mut header = vec!["".to_string()];
    header.extend(c.runs.iter().map(|r| r.run_id[..8].to_string()));
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
    println!("{t}\n★ best value of the metric; only params that differ are shown");
    Ok(ExitCode::SUCCESS)
}

pub fn experiments(e: &[Experiment], json: bool) -> Result<ExitCode> {
    if json {
        return json_out(e);
    }
    let mut t = table(&["id", "name", "artifact location", "created"]);
    for x in e {
        t.add_row(vec![
            x.experiment_id.clone(),
            x.name.clone(),
            x.artifact_location.clone(),
            time(x.creation_time),
        ]);
    }
    println!("{t}");
    Ok(ExitCode::SUCCESS)
}

pub fn model_version(mv: &ModelVersion, json: bool) -> Result<ExitCode> {
    if json {
        return json_out(mv);
    }
    println!(
        "{} version {}  (run {}, {}){}",
        mv.name,
        mv.version,
        &mv.run_id[..12],
        mv.status,
        if mv.aliases.is_empty() {
            String::new()
        } else {
            format!("  aliases: {}", mv.aliases.join(", "))
        }
    );
    Ok(ExitCode::SUCCESS)
}

pub fn models(models: &[RegisteredModel], json: bool) -> Result<ExitCode> {
    if json {
        return json_out(models);
    }
    if models.is_empty() {
        println!("no registered models yet: mlops-lab models register RUN_ID --name NAME");
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = table(&["model", "latest version", "aliases", "updated"]);
    for m in models {
        t.add_row(vec![
            m.name.clone(),
            m.latest_version.map(|v| v.to_string()).unwrap_or_default(),
            m.aliases
                .iter()
                .map(|(a, v)| format!("{a} → v{v}"))
                .collect::<Vec<_>>()
                .join(", "),
            time(m.last_updated_time),
        ]);
    }
    println!("{t}");
    Ok(ExitCode::SUCCESS)
}

pub fn versions(v: &[ModelVersion], json: bool) -> Result<ExitCode> {
    if json {
        return json_out(v);
    }
    let mut t = table(&["version", "run", "status", "aliases", "created", "source"]);
    for mv in v {
        t.add_row(vec![
            mv.version.to_string(),
            mv.run_id[..12].to_string(),
            mv.status.clone(),
            mv.aliases.join(", "),
            time(mv.creation_time),
            mv.source.clone(),
        ]);
    }
    println!("{t}");
    Ok(ExitCode::SUCCESS)
}

pub fn params(kind: ModelKind, specs: &[ParamSpec], json: bool) -> Result<ExitCode> {
    if json {
        return json_out(specs);
    }
    let mut t = table(&["param", "default", "meaning"]);
    for s in specs {
        t.add_row(vec![s.name, s.default, s.help]);
    }
    println!("{kind}\n{t}");
    Ok(ExitCode::SUCCESS)
}

/// One spinner per stage on stderr, and a line per finished stage; silent
/// with --json or when stderr is not a terminal (scripts see only results
/// and, on failure, the one error line).
pub struct StageProgress {
    enabled: bool,
    bar: RefCell<Option<ProgressBar>>,
}

impl StageProgress {
    pub fn new(json: bool) -> Self {
        StageProgress {
            enabled: !json && std::io::IsTerminal::is_terminal(&std::io::stderr()),
            bar: RefCell::new(None),
        }
    }

    pub fn on(&self, e: Event) {
        if !self.enabled {
            return;
        }
        match e {
            Event::StageStarted { stage, message } => {
                let pb = ProgressBar::new_spinner();
                pb.set_style(
                    ProgressStyle::with_template("{spinner} {prefix:>9} {msg} [{elapsed}]")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                pb.set_prefix(stage.to_string());
                pb.set_message(message);
                pb.enable_steady_tick(Duration::from_millis(100));
                *self.bar.borrow_mut() = Some(pb);
            }
            Event::StageProgress {
                message, fraction, ..
            } => {
                if let Some(pb) = &*self.bar.borrow() {
                    if let Some(f) = fraction {
                        // Known progress: a bar instead of a spinner.
                        if pb.length().is_none() {
                            pb.set_length(1000);
                            pb.set_style(
                                ProgressStyle::with_template(
                                    "{prefix:>9} [{bar:30}] {percent:>3}% {msg} [{elapsed}]",
                                )
                                .unwrap_or_else(|_| ProgressStyle::default_bar())
                                .progress_chars("=> "),
                            );
                        }
                        pb.set_position((f.clamp(0.0, 1.0) * 1000.0) as u64);
                    }
                    pb.set_message(message);
                }
            }
            Event::StageFinished {
                stage,
                message,
                millis,
            } => {
                if let Some(pb) = self.bar.borrow_mut().take() {
                    pb.finish_and_clear();
                }
                eprintln!("✔ {stage:>9} {message} ({millis} ms)");
            }
            Event::StageFailed { .. } => {
                // The error itself is printed once, by main.
                if let Some(pb) = self.bar.borrow_mut().take() {
                    pb.finish_and_clear();
                }
            }
        }
    }

    pub fn finish(&self) {
        if let Some(pb) = self.bar.borrow_mut().take() {
            pb.finish_and_clear();
        }
    }
}

pub fn pipeline(s: &PipelineSummary, json: bool) -> Result<ExitCode> {
    if json {
        return json_out(s);
    }
    let mut t = table(&["pipeline", "result"]);
    let pct = |x: Option<f64>| x.map_or("n/a".into(), |v| format!("{:.0}%", v * 100.0));
    t.add_row(vec![
        "scenario".into(),
        format!("{} ({})", s.scenario, s.dataset),
    ]);
    t.add_row(vec!["run".into(), s.run_id.clone()]);
    t.add_row(vec!["model".into(), format!("{} v{}", s.model, s.version)]);
    t.add_row(vec![
        "image".into(),
        match (&s.image, s.image_size_bytes) {
            (Some(i), Some(b)) => format!("{i} ({:.2} MB)", b as f64 / 1e6),
            _ => format!("none ({} process)", s.runtime),
        },
    ]);
    t.add_row(vec!["endpoint".into(), s.endpoint.clone()]);
    t.add_row(vec![
        "traffic".into(),
        format!(
            "{} sent, {} ok, {} errors, p50 {} ms, p99 {} ms",
            s.traffic.sent,
            s.traffic.ok,
            s.traffic.errors,
            num(s.traffic.p50_ms),
            num(s.traffic.p99_ms)
        ),
    ]);
    t.add_row(vec![
        "drift".into(),
        format!(
            "{} (share {}; drifted: {})",
            match s.dataset_drift {
                Some(true) => "DATASET DRIFT",
                Some(false) => "no dataset drift",
                None => "not enough rows",
            },
            pct(s.drift_share),
            if s.drifted_features.is_empty() {
                "none".to_string()
            } else {
                s.drifted_features.join(", ")
            }
        ),
    ]);
    t.add_row(vec![
        "alerts".into(),
        if s.alerts.is_empty() {
            "none".into()
        } else {
            s.alerts.join("; ")
        },
    ]);
    t.add_row(vec![
        "retrain".into(),
        s.retrain
            .as_ref()
            .map_or("not needed".into(), |r| r.decision.clone()),
    ]);
    t.add_row(vec![
        "serving".into(),
        format!("{} v{}", s.model, s.serving_version),
    ]);
    let timings: Vec<String> = s
        .timings
        .iter()
        .map(|t| format!("{} {:.1}s", t.stage, t.millis as f64 / 1000.0))
        .collect();
    t.add_row(vec![
        "timings".into(),
        format!("{} — total {:.1}s", timings.join(", "), s.total_seconds),
    ]);
    println!("{t}");
    println!(
        "Try it: curl -s {}/invocations -H 'Content-Type: application/json' -d '{{\"dataframe_records\": [...]}}'",
        s.endpoint
    );
    println!(
        "Next: mlops-lab monitor {} · mlops-lab alerts {} · mlops-lab rollback {}",
        s.service, s.service, s.service
    );
    Ok(ExitCode::SUCCESS)
}

pub fn scenario_drift(d: &ScenarioDrift, json: bool) -> Result<ExitCode> {
    if json {
        return json_out(d);
    }
    println!(
        "{} ({}): {} reference rows vs {} current rows. {}",
        d.scenario, d.dataset, d.reference_rows, d.current_rows, d.description
    );
    drift_table(&d.report);
    if let Some(e) = d.expect_drift {
        println!(
            "catalogue expects {}: {}",
            if e { "drift" } else { "no drift" },
            if e == d.report.dataset_drift {
                "as expected"
            } else {
                "NOT as expected"
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn drift_table(r: &DriftReport) {
    let mut t = table(&[
        "column",
        "test",
        "score",
        "threshold",
        "drift",
        "KS D",
        "KS p",
        "W/std",
        "PSI",
        "chi² p",
        "JS",
    ]);
    for c in &r.columns {
        let mut row = vec![
            c.column.clone(),
            c.test.as_str().to_string(),
            format!("{:.4}", c.score),
            num(Some(c.threshold)),
            if c.drifted { "DRIFT".into() } else { "".into() },
        ];
        match &c.stats {
            ColumnStats::Numeric(n) => row.extend([
                format!("{:.4}", n.ks.statistic),
                format!("{:.2e}", n.ks.pvalue),
                format!("{:.4}", n.wasserstein_norm),
                format!("{:.4}", n.psi.value),
                String::new(),
                String::new(),
            ]),
            ColumnStats::Categorical(k) => row.extend([
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                format!("{:.2e}", k.chi2.pvalue),
                format!("{:.4}", k.jensenshannon),
            ]),
        }
        t.add_row(row);
    }
    println!("{t}");
    println!(
        "{} of {} columns drifted ({:.0}%): {}",
        r.drifted_columns,
        r.columns.len(),
        r.share * 100.0,
        if r.dataset_drift {
            "DATASET DRIFT"
        } else {
            "no dataset drift"
        }
    );
}

pub fn rollout(r: &RolloutResult, json: bool) -> Result<ExitCode> {
    if json {
        return json_out(r);
    }
    println!(
        "service {} → {} v{} ({}), stable endpoint {}",
        r.service.name,
        r.service.model_name,
        r.deployed.deployment.model_version,
        r.deployed.deployment.endpoint,
        r.endpoint
    );
    if let Some(old) = &r.replaced {
        println!(
            "v{} drained in {} ms and removed",
            old.model_version,
            r.drain_ms.unwrap_or(0)
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn services(list: &[ServiceStatus], json: bool) -> Result<ExitCode> {
    if json {
        return json_out(list);
    }
    let mut t = table(&[
        "service", "model", "version", "previous", "endpoint", "gateway", "upstream",
    ]);
    for s in list {
        t.add_row(vec![
            s.service.name.clone(),
            s.service.model_name.clone(),
            s.service
                .active_version
                .map_or(String::new(), |v| v.to_string()),
            s.service
                .previous_version
                .map_or(String::new(), |v| v.to_string()),
            s.endpoint.clone(),
            if s.gateway_up {
                "up".into()
            } else {
                "DOWN".into()
            },
            s.upstream.clone().unwrap_or_default(),
        ]);
    }
    println!("{t}");
    Ok(ExitCode::SUCCESS)
}

pub fn traffic(s: &TrafficSummary, json: bool) -> Result<ExitCode> {
    if json {
        return json_out(s);
    }
    println!(
        "{} → {}: sent {}, ok {}, errors {} in {:.1}s; latency p50 {} ms, p95 {} ms, p99 {} ms; {} labels fed",
        s.service,
        s.endpoint,
        s.sent,
        s.ok,
        s.errors,
        s.seconds,
        num(s.p50_ms),
        num(s.p95_ms),
        num(s.p99_ms),
        s.labels_fed
    );
    if let Some(e) = &s.first_error {
        println!("first error: {e}");
    }
    Ok(ExitCode::SUCCESS)
}

pub fn monitor(c: &CollectSummary, windows: &[WindowResult], json: bool) -> Result<ExitCode> {
    if json {
        return json_out(&serde_json::json!({"collected": c, "windows": windows}));
    }
    println!(
        "collected {} new records from {} deployment(s) ({} lines read, {} /metrics scrapes)",
        c.new_records, c.deployments, c.lines_read, c.scrapes
    );
    let mut t = table(&[
        "window",
        "versions",
        "requests",
        "error rate",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "drift share",
        "quality",
        "alerts",
    ]);
    for w in windows {
        let r = &w.window;
        t.add_row(vec![
            format!("{} +{}s", time(r.start_ms), (r.end_ms - r.start_ms) / 1000),
            r.versions.clone(),
            r.requests.to_string(),
            format!("{:.1}%", r.error_rate * 100.0),
            num(r.latency_p50),
            num(r.latency_p95),
            num(r.latency_p99),
            r.drift_share
                .map_or("n/a".into(), |s| format!("{:.0}%", s * 100.0)),
            match (&r.quality_metric, r.quality_value) {
                (Some(m), Some(v)) => format!("{m} {v:.4} (n={})", r.labelled),
                _ => String::new(),
            },
            w.alerts
                .iter()
                .map(|a| a.metric.clone())
                .collect::<Vec<_>>()
                .join(", "),
        ]);
    }
    println!("{t}");
    if let Some(w) = windows.iter().rev().find(|w| w.drift.is_some()) {
        println!("latest window's drift:");
        if let Some(d) = &w.drift {
            drift_table(d);
        }
        let detail: serde_json::Value = serde_json::from_str(&w.window.detail).unwrap_or_default();
        for (key, what) in [
            ("prediction_drift", "prediction drift"),
            ("target_drift", "target drift (late labels)"),
        ] {
            let c = &detail[key];
            if let (Some(test), Some(score), Some(drifted)) = (
                c["test"].as_str(),
                c["score"].as_f64(),
                c["drifted"].as_bool(),
            ) {
                println!(
                    "{what}: {test} {score:.4} (threshold {}) → {}",
                    num(c["threshold"].as_f64()),
                    if drifted { "DRIFT" } else { "no drift" }
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn alerts(rules: &[AlertRule], alerts: &[AlertRecord], json: bool) -> Result<ExitCode> {
    if json {
        return json_out(&serde_json::json!({"rules": rules, "alerts": alerts}));
    }
    let mut t = table(&["rule", "fires at or above", "starts a retrain"]);
    for r in rules {
        t.add_row(vec![
            r.metric.as_str().to_string(),
            num(Some(r.threshold)),
            if r.retrain { "yes".into() } else { "no".into() },
        ]);
    }
    println!("{t}");
    let mut t = table(&["#", "when", "metric", "value", "message"]);
    for a in alerts {
        t.add_row(vec![
            a.alert_id.to_string(),
            time(a.created_at),
            a.metric.clone(),
            num(Some(a.value)),
            a.message.clone(),
        ]);
    }
    println!("{t}");
    Ok(ExitCode::SUCCESS)
}

pub fn retrain(r: &RetrainResult, json: bool) -> Result<ExitCode> {
    if json {
        return json_out(r);
    }
    println!(
        "{} ({}): {} labelled rows, {} added to training, {} most recent held out",
        r.service, r.reason, r.labelled_rows, r.added_rows, r.holdout_rows
    );
    println!(
        "{}: champion v{} {:.4}, challenger v{} {:.4} → {}",
        r.metric,
        r.champion_version,
        r.champion_score,
        r.challenger_version,
        r.challenger_score,
        r.decision
    );
    if let Some(ro) = &r.rollout {
        println!(
            "rolled out: {} now serves v{}",
            ro.endpoint, ro.deployed.deployment.model_version
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn mb(bytes: Option<i64>) -> String {
    bytes
        .map(|b| format!("{:.1} MB", b as f64 / 1e6))
        .unwrap_or_default()
}

pub fn deployed(r: &DeployResult, json: bool) -> Result<ExitCode> {
    if json {
        return json_out(r);
    }
    let d = &r.deployment;
    if let Some(reason) = &r.fallback_reason {
        eprintln!("note: {reason}\nnote: running as a local process instead.");
    }
    println!("endpoint:  {}", d.endpoint);
    println!(
        "model:     {} v{} (run {})",
        d.model_name,
        d.model_version,
        &d.run_id[..12.min(d.run_id.len())]
    );
    println!("runtime:   {}", d.runtime);
    if d.runtime == lab_pipeline::DeploymentRuntime::Docker {
        println!(
            "container: {} ({})",
            &d.deployment_id[..12.min(d.deployment_id.len())],
            d.name
        );
        println!(
            "image:     {} {} ({})",
            d.image_tag.clone().unwrap_or_default(),
            d.image_id.clone().unwrap_or_default(),
            mb(d.image_size_bytes)
        );
    } else {
        println!("process:   {} ({})", d.deployment_id, d.name);
    }
    println!("ready in:  {} ms", d.start_to_ready_ms);
    if let Some(f) = &r.dockerfile {
        println!("Dockerfile: {f}");
    }
    println!(
        "try it:    curl -s {}/v2/models/{}  |  mlops-lab predict {} --row '{{...}}'",
        d.endpoint,
        d.model_name,
        &d.deployment_id[..12.min(d.deployment_id.len())]
    );
    Ok(ExitCode::SUCCESS)
}

pub fn deployments(list: &[DeploymentRecord], json: bool) -> Result<ExitCode> {
    if json {
        return json_out(list);
    }
    if list.is_empty() {
        println!("no running deployments: mlops-lab deploy MODEL[@alias]");
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = table(&[
        "id",
        "name",
        "model",
        "runtime",
        "status",
        "endpoint",
        "image size",
        "started",
    ]);
    for d in list {
        t.add_row(vec![
            d.deployment_id[..12.min(d.deployment_id.len())].to_string(),
            d.name.clone(),
            format!("{} v{}", d.model_name, d.model_version),
            d.runtime.to_string(),
            d.status.to_string(),
            d.endpoint.clone(),
            mb(d.image_size_bytes),
            time(d.created_at),
        ]);
    }
    println!("{t}");
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_are_local_with_their_offset() {
        let t = super::time(1_764_590_400_000); // 2025-12-01 12:00 UTC
        // `YYYY-MM-DD HH:MM:SS ±HH:MM`, whatever this machine's zone.
        let (date_time, offset) = t.rsplit_once(' ').unwrap();
        assert_eq!(date_time.len(), 19, "{t}");
        assert!(offset.starts_with(['+', '-']) && offset.len() == 6, "{t}");
        assert!(
            t.starts_with("2025-12-01") || t.starts_with("2025-12-02"),
            "{t}"
        );
    }
}
