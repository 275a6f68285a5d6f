//! Train-plus-evaluate time of logistic regression on red wine, on the
//! shipped scikit-learn split: split + standard scaling + fit + test and
//! train metrics. The CSV is read once, outside the timing, as in
//! `bench/train_sklearn.py`. Prints one JSON object.
//!
//! `cargo xtask bench train` runs it beside scikit-learn; by hand:
//! `cargo run --release -p lab-train --example bench_train -- 50`

use std::time::Instant;

use lab_data::{Catalog, PrepareOptions, SplitSpec, TaskSpec, prepare, read_csv};
use lab_model::ModelKind;

fn main() {
    let repeat: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(50);
    let c = Catalog::load_default().expect("catalogue");
    let d = c.dataset("wine-quality-red").expect("wine");
    let table = read_csv(&c.path_of(d), &d.column_types()).expect("csv");
    let task = TaskSpec::from_catalog(&c.root, d, d.target(None).expect("target"), None);
    let opts = PrepareOptions {
        split: SplitSpec::Reference,
        ..Default::default()
    };
    let params = Default::default();
    let mut times = Vec::with_capacity(repeat);
    let mut accuracy = 0.0;
    for _ in 0..repeat + 3 {
        let t0 = Instant::now();
        let p = prepare(&table, &task, &opts).expect("prepare");
        let out = lab_train::train(&p, ModelKind::LogisticRegression, &params, 42).expect("train");
        times.push(t0.elapsed().as_secs_f64() * 1000.0);
        accuracy = out.test.metrics["accuracy"];
    }
    // The first runs warm caches; keep `repeat` timed runs.
    let mut times = times.split_off(3);
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!(
        "{}",
        serde_json::json!({
            "impl": "mlops-lab (linfa 0.8.1)",
            "repeat": repeat,
            "median_ms": median,
            "min_ms": times[0],
            "accuracy": accuracy,
        })
    );
}
