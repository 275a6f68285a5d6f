//! `cargo xtask bench drift`, our side: a drift report on the data
//! `bench/drift_data.py` wrote. Reads it outside the timing, then times
//! `drift_report` (every statistic of every column, Evidently's defaults)
//! REPEAT times and prints JSON with the median.
//!
//! Usage: bench_drift DATA_DIR REPEAT

use std::time::Instant;

use lab_monitor::{ColumnPair, DriftConfig, Sample, drift_report};

fn read(path: &std::path::Path, columns: usize) -> Vec<Vec<f64>> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let values: Vec<f64> = bytes
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect();
    let rows = values.len() / columns;
    (0..columns)
        .map(|j| (0..rows).map(|i| values[i * columns + j]).collect())
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = std::path::PathBuf::from(args.get(1).expect("DATA_DIR"));
    let repeat: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(5);
    let names: Vec<String> = serde_json::from_str(
        &std::fs::read_to_string(dir.join("columns.json")).expect("columns.json"),
    )
    .expect("column names");
    let reference = read(&dir.join("reference.f64"), names.len());
    let current = read(&dir.join("current.f64"), names.len());
    let columns: Vec<ColumnPair> = names
        .iter()
        .zip(reference)
        .zip(current)
        .map(|((n, r), c)| ColumnPair {
            name: n.clone(),
            reference: Sample::Numeric(r),
            current: Sample::Numeric(c),
            reference_missing: 0,
            current_missing: 0,
        })
        .collect();
    let cfg = DriftConfig::default();
    let mut times = vec![];
    let mut report = None;
    for _ in 0..repeat.max(1) {
        let t = Instant::now();
        report = Some(drift_report(&columns, &cfg).expect("drift report"));
        times.push(t.elapsed().as_secs_f64());
    }
    let report = report.expect("at least one run");
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    let scores: serde_json::Map<String, serde_json::Value> = report
        .columns
        .iter()
        .map(|c| (c.column.clone(), serde_json::json!(c.score)))
        .collect();
    let mut drifted: Vec<&str> = report
        .columns
        .iter()
        .filter(|c| c.drifted)
        .map(|c| c.column.as_str())
        .collect();
    drifted.sort();
    println!(
        "{}",
        serde_json::json!({
            "impl": "MLOps Lab lab-monitor",
            "median_s": sorted[sorted.len() / 2],
            "min_s": sorted[0],
            "rows": report.columns[0].reference_rows,
            "share": report.share,
            "drifted": drifted,
            "scores": scores,
        })
    );
}
