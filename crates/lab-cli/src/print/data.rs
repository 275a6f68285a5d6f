//! Data: the sample-data catalogue, profiles and validation reports.

use std::fmt::{self, Write as _};

use lab_pipeline::{DatasetSpec, Profile, ValidationReport};

use super::{Render, num, table};

/// `datasets`: the catalogue's datasets.
impl Render for [DatasetSpec] {
    fn human(&self, out: &mut String) -> fmt::Result {
        let mut t = table(&[
            "dataset",
            "rows × cols",
            "targets (task)",
            "scenarios",
            "description",
        ]);
        for d in self {
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
        writeln!(
            out,
            "{t}\n* default target. Train with: mlops-lab train --dataset NAME --model logistic-regression"
        )
    }
}

/// `data profile`: per-column statistics.
impl Render for Profile {
    fn human(&self, out: &mut String) -> fmt::Result {
        writeln!(
            out,
            "{}: {} rows × {} columns",
            self.source,
            self.rows,
            self.columns.len()
        )?;
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
        for c in &self.columns {
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
        writeln!(out, "{t}")
    }
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

/// `data validate`: pass/fail per expectation.
impl Render for ValidationReport {
    fn human(&self, out: &mut String) -> fmt::Result {
        let mut t = table(&["", "expectation", "column", "expected", "observed"]);
        for e in &self.results {
            t.add_row(vec![
                if e.passed { "PASS" } else { "FAIL" }.to_string(),
                e.expectation.clone(),
                e.column.clone().unwrap_or_default(),
                e.expected.clone(),
                e.observed.clone(),
            ]);
        }
        writeln!(out, "{t}")?;
        writeln!(
            out,
            "{}: {} passed, {} failed",
            self.source, self.passed, self.failed
        )
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sparklines_scale_to_the_largest_count() {
        assert_eq!(super::sparkline(&[0, 1, 7, 14]), " ▁▄█");
        assert_eq!(super::sparkline(&[]), "");
    }
}
