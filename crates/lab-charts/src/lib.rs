//! Charts as SVG text, drawn with `plotters`' SVG backend.
//!
//! Every function takes plain numbers and returns a self-contained `<svg>`
//! document, so any front end can show it inline (the desktop app does, and
//! a report could save it). Nothing here knows where the numbers come from.
//!
//! Colours are mid-tones that read on light and dark backgrounds; text is
//! emitted with a fill a stylesheet may override (`svg text { fill: … }`).

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::{Deserialize, Serialize};

/// A chart could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("chart `{chart}`: {message}")]
    Draw { chart: String, message: String },
    #[error("chart `{chart}`: {message}")]
    Invalid { chart: String, message: String },
}

pub type Result<T> = std::result::Result<T, ChartError>;

/// The palette, in series order.
pub const PALETTE: [RGBColor; 6] = [
    RGBColor(66, 133, 244),
    RGBColor(234, 116, 52),
    RGBColor(52, 168, 83),
    RGBColor(171, 71, 188),
    RGBColor(0, 172, 193),
    RGBColor(214, 69, 65),
];
const GRID: RGBColor = RGBColor(136, 136, 136);
const REFERENCE: RGBColor = PALETTE[0];
const CURRENT: RGBColor = PALETTE[1];
const ALARM: RGBColor = RGBColor(214, 69, 65);
const OK: RGBColor = RGBColor(52, 168, 83);
const FONT: &str = "sans-serif";

/// Size of a chart in CSS pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Size {
    pub width: u32,
    pub height: u32,
}

impl Default for Size {
    fn default() -> Self {
        Size {
            width: 560,
            height: 260,
        }
    }
}

/// One named line of points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// A line chart of one or more series, with an optional horizontal
/// threshold line.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LineChart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
    pub threshold: Option<f64>,
    /// Draw a dot on every point (for short series).
    pub markers: bool,
    /// Start the y axis at zero.
    pub y_from_zero: bool,
}

/// Horizontal bars, one per label, each with an optional threshold mark;
/// `flagged` bars are drawn in the alarm colour.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BarChart {
    pub title: String,
    pub x_label: String,
    pub labels: Vec<String>,
    pub values: Vec<f64>,
    pub thresholds: Vec<Option<f64>>,
    pub flagged: Vec<bool>,
}

/// Reference and current distributions of one column, as shares of their
/// rows: numeric columns by bin `edges` (bins + 1 of them), categorical
/// columns by `labels`. With `current` empty, one distribution is drawn
/// (a profile histogram).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HistogramPair {
    pub title: String,
    pub edges: Vec<f64>,
    pub labels: Vec<String>,
    pub reference: Vec<u64>,
    pub current: Vec<u64>,
}

fn draw_err(chart: &str) -> impl Fn(DrawingAreaErrorKind<std::io::Error>) -> ChartError + '_ {
    move |e| ChartError::Draw {
        chart: chart.to_string(),
        message: e.to_string(),
    }
}

fn invalid(chart: &str, message: impl Into<String>) -> ChartError {
    ChartError::Invalid {
        chart: chart.to_string(),
        message: message.into(),
    }
}

/// A padded range around `lo..hi` (never empty).
fn padded(lo: f64, hi: f64, from_zero: bool) -> std::ops::Range<f64> {
    let (mut lo, hi) = if lo.is_finite() && hi.is_finite() {
        (lo, hi)
    } else {
        (0.0, 1.0)
    };
    if from_zero {
        lo = lo.min(0.0);
    }
    if hi - lo < 1e-12 {
        let pad = if hi.abs() > 1e-12 {
            hi.abs() * 0.1
        } else {
            1.0
        };
        if from_zero && lo >= 0.0 {
            return lo..(hi + pad);
        }
        return (lo - pad)..(hi + pad);
    }
    let pad = (hi - lo) * 0.05;
    (if from_zero && lo >= 0.0 { lo } else { lo - pad })..(hi + pad)
}

/// A short label for an axis tick.
pub fn tick(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if a >= 10_000.0 {
        format!("{:.0}k", v / 1000.0)
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else if a >= 0.001 {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{v:.1e}")
    }
}

fn empty(root: &DrawingArea<SVGBackend, Shift>, title: &str, note: &str) -> Result<()> {
    let (w, h) = root.dim_in_pixel();
    root.draw(&Text::new(
        title.to_string(),
        (10, 8),
        (FONT, 17).into_font().color(&BLACK),
    ))
    .map_err(draw_err(title))?;
    root.draw(&Text::new(
        note.to_string(),
        (w as i32 / 2, h as i32 / 2),
        (FONT, 16)
            .into_font()
            .color(&GRID)
            .pos(Pos::new(HPos::Center, VPos::Center)),
    ))
    .map_err(draw_err(title))?;
    Ok(())
}

fn svg(
    size: Size,
    f: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> Result<()>,
) -> Result<String> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (size.width, size.height)).into_drawing_area();
        f(&root)?;
        root.present().map_err(draw_err("svg"))?;
    }
    Ok(out)
}

/// The series legend, in the house style.
fn legend<'a, 'b: 'a>(
    chart: &mut ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    at: SeriesLabelPosition,
    title: &str,
) -> Result<()> {
    chart
        .configure_series_labels()
        .position(at)
        .background_style(GRID.mix(0.08))
        .border_style(GRID.mix(0.4))
        .label_font((FONT, 15))
        .draw()
        .map_err(draw_err(title))
}

/// Draw a line chart.
pub fn line_chart(c: &LineChart, size: Size) -> Result<String> {
    let title = c.title.as_str();
    let points = || c.series.iter().flat_map(|s| s.points.iter().copied());
    if points().any(|(x, y)| !x.is_finite() || !y.is_finite()) {
        return Err(invalid(title, "a point is not a finite number"));
    }
    svg(size, |root| {
        if points().next().is_none() {
            return empty(root, title, "no data yet");
        }
        let (x0, x1) = points().fold((f64::MAX, f64::MIN), |(a, b), (x, _)| (a.min(x), b.max(x)));
        let (mut y0, mut y1) =
            points().fold((f64::MAX, f64::MIN), |(a, b), (_, y)| (a.min(y), b.max(y)));
        // A threshold far above the data (a 250 ms latency limit over
        // 1 ms answers) would flatten it: it is then named, not drawn.
        let threshold = c
            .threshold
            .filter(|t| *t <= y1 + (y1 - y0).abs().max(y1.abs()) * 1.0 + 1e-12);
        if let Some(t) = threshold {
            y0 = y0.min(t);
            y1 = y1.max(t);
        }
        let x_range = padded(x0, x1, false);
        let (xa, xb) = (x_range.start, x_range.end);
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 17))
            .margin(8)
            .x_label_area_size(34)
            .y_label_area_size(52)
            .build_cartesian_2d(x_range, padded(y0, y1, c.y_from_zero))
            .map_err(draw_err(title))?;
        chart
            .configure_mesh()
            .x_desc(c.x_label.as_str())
            .y_desc(c.y_label.as_str())
            .x_labels(6)
            .y_labels(5)
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| tick(*v))
            .axis_style(GRID)
            .bold_line_style(GRID.mix(0.25))
            .light_line_style(TRANSPARENT)
            .label_style((FONT, 15))
            .draw()
            .map_err(draw_err(title))?;
        match (c.threshold, threshold) {
            (_, Some(t)) => {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(xa, t), (xb, t)],
                        ALARM.stroke_width(1),
                    )))
                    .map_err(draw_err(title))?
                    .label(format!("threshold {}", tick(t)))
                    .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], ALARM));
            }
            (Some(t), None) => {
                chart
                    .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
                    .map_err(draw_err(title))?
                    .label(format!("threshold {} (above the chart)", tick(t)))
                    .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], ALARM));
            }
            (None, None) => {}
        }
        for (i, s) in c.series.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            chart
                .draw_series(LineSeries::new(
                    s.points.iter().copied(),
                    color.stroke_width(2),
                ))
                .map_err(draw_err(title))?
                .label(s.name.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
                });
            if c.markers {
                chart
                    .draw_series(s.points.iter().map(|p| Circle::new(*p, 3, color.filled())))
                    .map_err(draw_err(title))?;
            }
        }
        if c.series.len() > 1 || c.threshold.is_some() {
            legend(&mut chart, SeriesLabelPosition::UpperLeft, title)?;
        }
        Ok(())
    })
}

/// Draw horizontal bars.
pub fn bar_chart(c: &BarChart, size: Size) -> Result<String> {
    let title = c.title.as_str();
    let n = c.labels.len();
    if c.values.len() != n {
        return Err(invalid(
            title,
            format!("{n} labels but {} values", c.values.len()),
        ));
    }
    if c.values.iter().any(|v| !v.is_finite()) {
        return Err(invalid(title, "a value is not a finite number"));
    }
    svg(size, |root| {
        if n == 0 {
            return empty(root, title, "no data yet");
        }
        let threshold = |i: usize| c.thresholds.get(i).copied().flatten();
        let hi = c
            .values
            .iter()
            .copied()
            .chain((0..n).filter_map(threshold))
            .fold(0.0f64, f64::max);
        let label_width = c
            .labels
            .iter()
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(4) as u32
            * 7
            + 12;
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 17))
            .margin(8)
            .x_label_area_size(34)
            .y_label_area_size(label_width.min(size.width / 3))
            .build_cartesian_2d(
                0.0..(if hi > 0.0 { hi * 1.08 } else { 1.0 }),
                -0.5..(n as f64 - 0.5),
            )
            .map_err(draw_err(title))?;
        let labels = c.labels.clone();
        chart
            .configure_mesh()
            .x_desc(c.x_label.as_str())
            .x_labels(6)
            .y_labels(n.min(40))
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&move |v| {
                let i = v.round();
                if (v - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < labels.len() {
                    labels[n - 1 - i as usize].clone()
                } else {
                    String::new()
                }
            })
            .axis_style(GRID)
            .bold_line_style(GRID.mix(0.2))
            .light_line_style(TRANSPARENT)
            .disable_y_mesh()
            .label_style((FONT, 15))
            .draw()
            .map_err(draw_err(title))?;
        // First label at the top.
        let row = |i: usize| (n - 1 - i) as f64;
        chart
            .draw_series((0..n).map(|i| {
                let color = if c.flagged.get(i).copied().unwrap_or(false) {
                    ALARM
                } else {
                    PALETTE[0]
                };
                Rectangle::new(
                    [(0.0, row(i) - 0.32), (c.values[i], row(i) + 0.32)],
                    color.mix(0.85).filled(),
                )
            }))
            .map_err(draw_err(title))?;
        chart
            .draw_series((0..n).filter_map(|i| {
                threshold(i).map(|t| {
                    PathElement::new(
                        vec![(t, row(i) - 0.45), (t, row(i) + 0.45)],
                        GRID.stroke_width(2),
                    )
                })
            }))
            .map_err(draw_err(title))?;
        Ok(())
    })
}

/// Draw a reference/current histogram pair as shares of each side's rows.
pub fn histogram_pair(h: &HistogramPair, size: Size) -> Result<String> {
    let title = h.title.as_str();
    let bins = h.reference.len();
    let single = h.current.is_empty();
    if !single && h.current.len() != bins {
        return Err(invalid(title, "reference and current have different bins"));
    }
    let numeric = !h.edges.is_empty();
    if numeric && h.edges.len() != bins + 1 {
        return Err(invalid(
            title,
            format!("{bins} bins need {} edges", bins + 1),
        ));
    }
    if !numeric && h.labels.len() != bins {
        return Err(invalid(title, format!("{bins} bins need {bins} labels")));
    }
    let share = |v: &[u64]| -> Vec<f64> {
        let total: u64 = v.iter().sum();
        v.iter()
            .map(|&x| {
                if total == 0 {
                    0.0
                } else {
                    x as f64 / total as f64
                }
            })
            .collect()
    };
    let (r, c) = (share(&h.reference), share(&h.current));
    svg(size, |root| {
        if bins == 0 {
            return empty(root, title, "no data");
        }
        let top = r.iter().chain(&c).copied().fold(0.0f64, f64::max).max(1e-9) * 1.1;
        // Numeric bins sit on their edges; categories on 0..bins.
        let (x_range, span): (std::ops::Range<f64>, Vec<(f64, f64)>) = if numeric {
            let lo = h.edges[0];
            let hi = h.edges[bins];
            (
                padded(lo, hi, false),
                h.edges.windows(2).map(|w| (w[0], w[1])).collect(),
            )
        } else {
            (
                -0.5..(bins as f64 - 0.5),
                (0..bins)
                    .map(|i| (i as f64 - 0.5, i as f64 + 0.5))
                    .collect(),
            )
        };
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 17))
            .margin(8)
            .x_label_area_size(34)
            .y_label_area_size(46)
            .build_cartesian_2d(x_range, 0.0..top)
            .map_err(draw_err(title))?;
        let labels = h.labels.clone();
        chart
            .configure_mesh()
            .y_desc("share of rows")
            .x_labels(if numeric { 6 } else { bins.min(12) })
            .y_labels(5)
            .x_label_formatter(&move |v| {
                if numeric {
                    tick(*v)
                } else {
                    let i = v.round();
                    if (v - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < labels.len() {
                        labels[i as usize].clone()
                    } else {
                        String::new()
                    }
                }
            })
            .y_label_formatter(&|v| format!("{:.0}%", v * 100.0))
            .axis_style(GRID)
            .bold_line_style(GRID.mix(0.2))
            .light_line_style(TRANSPARENT)
            .disable_x_mesh()
            .label_style((FONT, 15))
            .draw()
            .map_err(draw_err(title))?;
        let sides: &[(&str, &Vec<f64>, RGBColor, usize)] = if single {
            &[("rows", &r, REFERENCE, 0)]
        } else {
            &[("reference", &r, REFERENCE, 0), ("current", &c, CURRENT, 1)]
        };
        let parts = sides.len() as f64;
        for &(name, values, color, half) in sides {
            chart
                .draw_series(span.iter().zip(values.iter()).map(|(&(a, b), &v)| {
                    // Side by side within each bin.
                    let w = (b - a) * 0.9 / parts;
                    let left = a + (b - a) * 0.05 + w * half as f64;
                    Rectangle::new([(left, 0.0), (left + w, v)], color.mix(0.8).filled())
                }))
                .map_err(draw_err(title))?
                .label(name)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled())
                });
        }
        if single {
            return Ok(());
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight, title)?;
        Ok(())
    })
}

/// Draw a confusion matrix (rows: true class, columns: predicted class),
/// each cell shaded by its share of its row and labelled with its count.
pub fn confusion_matrix(
    title: &str,
    classes: &[String],
    m: &[Vec<usize>],
    size: Size,
) -> Result<String> {
    let k = classes.len();
    if m.len() != k || m.iter().any(|r| r.len() != k) {
        return Err(invalid(
            title,
            format!("a {k}-class matrix needs {k}×{k} cells"),
        ));
    }
    svg(size, |root| {
        if k == 0 {
            return empty(root, title, "no classes");
        }
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 17))
            .margin(8)
            .x_label_area_size(40)
            .y_label_area_size(
                (classes.iter().map(|c| c.chars().count()).max().unwrap_or(4) as u32 * 7 + 14)
                    .min(size.width / 3),
            )
            .build_cartesian_2d(-0.5..(k as f64 - 0.5), -0.5..(k as f64 - 0.5))
            .map_err(draw_err(title))?;
        let (xl, yl) = (classes.to_vec(), classes.to_vec());
        let at = move |labels: &Vec<String>, v: f64, flip: bool| {
            let i = v.round();
            if (v - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < labels.len() {
                let i = if flip {
                    labels.len() - 1 - i as usize
                } else {
                    i as usize
                };
                labels[i].clone()
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .x_desc("predicted")
            .y_desc("true")
            .x_labels(k.min(20))
            .y_labels(k.min(20))
            .x_label_formatter(&move |v| at(&xl, *v, false))
            .y_label_formatter(&move |v| at(&yl, *v, true))
            .disable_mesh()
            .axis_style(GRID)
            .label_style((FONT, 15))
            .draw()
            .map_err(draw_err(title))?;
        let row_total: Vec<usize> = m.iter().map(|r| r.iter().sum()).collect();
        let cells = (0..k).flat_map(|t| (0..k).map(move |p| (t, p)));
        chart
            .draw_series(cells.clone().map(|(t, p)| {
                let share = if row_total[t] == 0 {
                    0.0
                } else {
                    m[t][p] as f64 / row_total[t] as f64
                };
                let y = (k - 1 - t) as f64;
                let color = if t == p { OK } else { ALARM };
                Rectangle::new(
                    [(p as f64 - 0.48, y - 0.48), (p as f64 + 0.48, y + 0.48)],
                    color.mix(0.1 + 0.8 * share).filled(),
                )
            }))
            .map_err(draw_err(title))?;
        chart
            .draw_series(cells.map(|(t, p)| {
                Text::new(
                    m[t][p].to_string(),
                    (p as f64, (k - 1 - t) as f64),
                    (FONT, 16)
                        .into_font()
                        .color(&BLACK)
                        .pos(Pos::new(HPos::Center, VPos::Center)),
                )
            }))
            .map_err(draw_err(title))?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(svg: &str, needle: &str) -> usize {
        svg.matches(needle).count()
    }

    /// Whether `svg` has a text element reading `t`.
    fn has_text(svg: &str, t: &str) -> bool {
        svg.contains(&format!(">\n{t}\n</text>"))
    }

    #[test]
    fn a_line_chart_draws_each_series_and_its_legend() {
        let c = LineChart {
            title: "latency".into(),
            x_label: "s".into(),
            y_label: "ms".into(),
            series: vec![
                Series {
                    name: "p50".into(),
                    points: vec![(0.0, 1.0), (1.0, 2.0), (2.0, 1.5)],
                },
                Series {
                    name: "p99".into(),
                    points: vec![(0.0, 3.0), (1.0, 4.0), (2.0, 9.0)],
                },
            ],
            threshold: Some(5.0),
            markers: true,
            y_from_zero: true,
        };
        let s = line_chart(&c, Size::default()).unwrap();
        assert!(s.starts_with("<svg"), "{s}");
        assert!(has_text(&s, "latency") && has_text(&s, "p50") && has_text(&s, "p99"));
        assert!(has_text(&s, "threshold 5"));
        let far = LineChart {
            threshold: Some(250.0),
            ..c.clone()
        };
        assert!(has_text(
            &line_chart(&far, Size::default()).unwrap(),
            "threshold 250 (above the chart)"
        ));
        assert_eq!(count(&s, "<circle"), 6);
        assert!(s.trim_end().ends_with("</svg>"));
    }

    #[test]
    fn an_empty_chart_says_so_and_bad_numbers_are_refused() {
        let s = line_chart(&LineChart::default(), Size::default()).unwrap();
        assert!(s.contains("no data yet"));
        let bad = LineChart {
            series: vec![Series {
                name: "x".into(),
                points: vec![(0.0, f64::NAN)],
            }],
            ..Default::default()
        };
        assert!(matches!(
            line_chart(&bad, Size::default()),
            Err(ChartError::Invalid { .. })
        ));
    }

    #[test]
    fn bars_flag_and_mark_thresholds() {
        let c = BarChart {
            title: "drift".into(),
            x_label: "score".into(),
            labels: vec!["alcohol".into(), "ph".into(), "density".into()],
            values: vec![0.3, 0.05, 0.0],
            thresholds: vec![Some(0.1), Some(0.1), None],
            flagged: vec![true, false, false],
        };
        let s = bar_chart(&c, Size::default()).unwrap();
        for l in ["alcohol", "ph", "density"] {
            assert!(has_text(&s, l), "{l}");
        }
        // One bar per label in the alarm colour for the flagged one.
        assert_eq!(count(&s, "fill=\"#D64541\""), 1, "{s}");
        let mismatched = BarChart {
            values: vec![1.0],
            ..c
        };
        assert!(bar_chart(&mismatched, Size::default()).is_err());
    }

    #[test]
    fn histograms_show_shares_for_numeric_and_categorical_columns() {
        let num = HistogramPair {
            title: "alcohol".into(),
            edges: vec![8.0, 10.0, 12.0, 14.0],
            labels: vec![],
            reference: vec![10, 30, 10],
            current: vec![0, 10, 40],
        };
        let s = histogram_pair(&num, Size::default()).unwrap();
        assert!(has_text(&s, "reference") && has_text(&s, "current"));
        let cat = HistogramPair {
            title: "island".into(),
            edges: vec![],
            labels: vec!["Biscoe".into(), "Dream".into()],
            reference: vec![3, 1],
            current: vec![0, 4],
        };
        let s = histogram_pair(&cat, Size::default()).unwrap();
        assert!(has_text(&s, "Biscoe") && has_text(&s, "Dream"));
        let one = HistogramPair {
            current: vec![],
            ..num.clone()
        };
        let s = histogram_pair(&one, Size::default()).unwrap();
        assert!(!has_text(&s, "current") && count(&s, "<rect") >= 3);
        let bad = HistogramPair {
            edges: vec![1.0, 2.0],
            ..num
        };
        assert!(histogram_pair(&bad, Size::default()).is_err());
    }

    #[test]
    fn a_confusion_matrix_labels_every_cell_with_its_count() {
        let classes = vec!["bad".to_string(), "good".to_string()];
        let s = confusion_matrix(
            "confusion",
            &classes,
            &[vec![250, 23], vec![62, 65]],
            Size::default(),
        )
        .unwrap();
        for n in ["250", "23", "62", "65"] {
            assert!(has_text(&s, n), "{n}");
        }
        assert!(confusion_matrix("c", &classes, &[vec![1]], Size::default()).is_err());
    }

    #[test]
    fn ticks_are_short() {
        assert_eq!(tick(0.0), "0");
        assert_eq!(tick(0.05), "0.05");
        assert_eq!(tick(2.5), "2.5");
        assert_eq!(tick(1234.0), "1234");
        assert_eq!(tick(25_000.0), "25k");
        assert_eq!(tick(0.00021), "2.1e-4");
    }
}
