//! The model registry: versions, registered models and a model's
//! hyper-parameters.

use std::fmt::{self, Write as _};

use lab_pipeline::{ModelKind, ModelVersion, ParamSpec, RegisteredModel};
use serde::Serialize;

use super::{Render, short, table, time};

/// `models register` and `models alias`: the version as it now stands.
impl Render for ModelVersion {
    fn human(&self, out: &mut String) -> fmt::Result {
        writeln!(
            out,
            "{} version {}  (run {}, {}){}",
            self.name,
            self.version,
            short(&self.run_id, 12),
            self.status,
            if self.aliases.is_empty() {
                String::new()
            } else {
                format!("  aliases: {}", self.aliases.join(", "))
            }
        )
    }
}

/// `models list`.
impl Render for [RegisteredModel] {
    fn human(&self, out: &mut String) -> fmt::Result {
        if self.is_empty() {
            return writeln!(
                out,
                "no registered models yet: mlops-lab models register RUN_ID --name NAME"
            );
        }
        let mut t = table(&["model", "latest version", "aliases", "updated"]);
        for m in self {
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
        writeln!(out, "{t}")
    }
}

/// `models versions`.
impl Render for [ModelVersion] {
    fn human(&self, out: &mut String) -> fmt::Result {
        let mut t = table(&["version", "run", "status", "aliases", "created", "source"]);
        for mv in self {
            t.add_row(vec![
                mv.version.to_string(),
                short(&mv.run_id, 12).to_string(),
                mv.status.clone(),
                mv.aliases.join(", "),
                time(mv.creation_time),
                mv.source.clone(),
            ]);
        }
        writeln!(out, "{t}")
    }
}

/// `params`: a model's hyper-parameters. The JSON is the list alone.
#[derive(Serialize)]
#[serde(transparent)]
pub struct ParamsView {
    #[serde(skip)]
    pub kind: ModelKind,
    pub specs: &'static [ParamSpec],
}

impl Render for ParamsView {
    fn human(&self, out: &mut String) -> fmt::Result {
        let mut t = table(&["param", "default", "meaning"]);
        for s in self.specs {
            t.add_row(vec![s.name, s.default, s.help]);
        }
        writeln!(out, "{}\n{t}", self.kind)
    }
}
