//! What every command prints: JSON with `--json`, else tables and lines.
//!
//! Each printable result implements [`Render`]; [`emit`] picks the form.
//! One file per area: `data`, `runs`, `models`, `deploy`, `monitor`,
//! `pipeline`, `lessons`, `exercises`; stage progress on stderr is in `progress`.

mod data;
mod deploy;
pub mod exercises;
pub mod lessons;
mod models;
mod monitor;
mod pipeline;
mod progress;
mod runs;

use std::fmt;

use anyhow::Result;
use comfy_table::{Cell, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use serde::Serialize;

pub use deploy::Predictions;
pub use models::ParamsView;
pub use monitor::{AlertsView, MonitorView};
pub use pipeline::Removed;
pub use progress::with_progress;

/// A command's result. `--json` prints its `Serialize` form (pretty);
/// otherwise [`Render::human`] writes the text for a person.
pub trait Render: Serialize {
    /// The human form: what goes to stdout, tables and lines.
    fn human(&self, out: &mut String) -> fmt::Result;

    /// Notes for stderr, printed before the human form (not with `--json`).
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }
}

/// Print `value` as pretty JSON, or in its human form.
pub fn emit<T: Render + ?Sized>(value: &T, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(value)?);
        return Ok(());
    }
    for note in value.notes() {
        eprintln!("note: {note}");
    }
    let mut out = String::new();
    value.human(&mut out)?;
    print!("{out}");
    Ok(())
}

/// A table with the lab's look and these column headers.
fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.iter().map(Cell::new));
    t
}

/// A number as tables show it: integers bare, large values to one decimal,
/// others to four; nothing for `None`.
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

/// The first `n` characters of an id (all of it when shorter).
fn short(id: &str, n: usize) -> &str {
    id.get(..n).unwrap_or(id)
}

/// Serializes `value` through `serde_json::Value`, whose maps sort their
/// keys at every level: the form the combined outputs (`monitor`,
/// `alerts`) have always had.
fn serialize_as_value<T: Serialize, S: serde::Serializer>(
    value: &T,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    serde_json::to_value(value)
        .map_err(serde::ser::Error::custom)?
        .serialize(serializer)
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

    #[test]
    fn numbers_and_ids() {
        use super::{num, short};
        assert_eq!(num(None), "");
        assert_eq!(num(Some(3.0)), "3");
        assert_eq!(num(Some(1234.56)), "1234.6");
        assert_eq!(num(Some(0.123456)), "0.1235");
        assert_eq!(short("abcdef", 4), "abcd");
        assert_eq!(short("abc", 12), "abc");
    }
}
