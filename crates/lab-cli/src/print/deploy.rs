//! Package + Deploy: a deployed server, deployments, services behind their
//! stable endpoints, rollouts and predictions.

use std::fmt::{self, Write as _};

use lab_pipeline::{DeployResult, DeploymentRecord, RolloutResult, ServiceStatus};
use serde::Serialize;

use super::{Render, short, table, time};

fn mb(bytes: Option<i64>) -> String {
    bytes
        .map(|b| format!("{:.1} MB", b as f64 / 1e6))
        .unwrap_or_default()
}

/// `deploy`: where the server runs and how to try it.
impl Render for DeployResult {
    fn notes(&self) -> Vec<String> {
        match &self.fallback_reason {
            Some(reason) => vec![reason.clone(), "running as a local process instead.".into()],
            None => Vec::new(),
        }
    }

    fn human(&self, out: &mut String) -> fmt::Result {
        let d = &self.deployment;
        writeln!(out, "endpoint:  {}", d.endpoint)?;
        writeln!(
            out,
            "model:     {} v{} (run {})",
            d.model_name,
            d.model_version,
            short(&d.run_id, 12)
        )?;
        writeln!(out, "runtime:   {}", d.runtime)?;
        if d.runtime == lab_pipeline::DeploymentRuntime::Docker {
            writeln!(
                out,
                "container: {} ({})",
                short(&d.deployment_id, 12),
                d.name
            )?;
            writeln!(
                out,
                "image:     {} {} ({})",
                d.image_tag.clone().unwrap_or_default(),
                d.image_id.clone().unwrap_or_default(),
                mb(d.image_size_bytes)
            )?;
        } else {
            writeln!(out, "process:   {} ({})", d.deployment_id, d.name)?;
        }
        writeln!(out, "ready in:  {} ms", d.start_to_ready_ms)?;
        if let Some(f) = &self.dockerfile {
            writeln!(out, "Dockerfile: {f}")?;
        }
        writeln!(
            out,
            "try it:    curl -s {}/v2/models/{}  |  mlops-lab predict {} --row '{{...}}'",
            d.endpoint,
            d.model_name,
            short(&d.deployment_id, 12)
        )
    }
}

/// `deployments list` and `deployments stop`.
impl Render for [DeploymentRecord] {
    fn human(&self, out: &mut String) -> fmt::Result {
        if self.is_empty() {
            return writeln!(
                out,
                "no running deployments: mlops-lab deploy MODEL[@alias]"
            );
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
        for d in self {
            t.add_row(vec![
                short(&d.deployment_id, 12).to_string(),
                d.name.clone(),
                format!("{} v{}", d.model_name, d.model_version),
                d.runtime.to_string(),
                d.status.to_string(),
                d.endpoint.clone(),
                mb(d.image_size_bytes),
                time(d.created_at),
            ]);
        }
        writeln!(out, "{t}")
    }
}

/// `rollout` and `rollback`: what the service serves now.
impl Render for RolloutResult {
    fn human(&self, out: &mut String) -> fmt::Result {
        writeln!(
            out,
            "service {} → {} v{} ({}), stable endpoint {}",
            self.service.name,
            self.service.model_name,
            self.deployed.deployment.model_version,
            self.deployed.deployment.endpoint,
            self.endpoint
        )?;
        if let Some(old) = &self.replaced {
            writeln!(
                out,
                "v{} drained in {} ms and removed",
                old.model_version,
                self.drain_ms.unwrap_or(0)
            )?;
        }
        Ok(())
    }
}

/// `services`: stable endpoints and the versions behind them.
impl Render for [ServiceStatus] {
    fn human(&self, out: &mut String) -> fmt::Result {
        let mut t = table(&[
            "service", "model", "version", "previous", "endpoint", "gateway", "upstream",
        ]);
        for s in self {
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
        writeln!(out, "{t}")
    }
}

/// `predict`: the server's whole answer as JSON, else one prediction a line.
#[derive(Serialize)]
#[serde(transparent)]
pub struct Predictions(pub serde_json::Value);

impl Render for Predictions {
    fn human(&self, out: &mut String) -> fmt::Result {
        for p in self.0["predictions"].as_array().into_iter().flatten() {
            match p.as_str() {
                Some(s) => writeln!(out, "{s}")?,
                None => writeln!(out, "{p}")?,
            }
        }
        Ok(())
    }
}

impl Render for lab_pipeline::K8sExport {
    fn human(&self, out: &mut String) -> fmt::Result {
        writeln!(
            out,
            "{} v{} → {} (image {})",
            self.model,
            self.version,
            self.out_dir.display(),
            self.image
        )?;
        for m in &self.manifests {
            writeln!(out, "  {:<24} {}", m.file_name, m.explanation)?;
        }
        writeln!(
            out,
            "  {:<24} how to load the image into kind or minikube and apply these",
            "README.md"
        )?;
        writeln!(
            out,
            "next: mlops-lab deploy {}:{} (builds the image), then see {}",
            self.model,
            self.version,
            self.out_dir.join("README.md").display()
        )
    }
}

impl Render for lab_pipeline::KfpExport {
    fn human(&self, out: &mut String) -> fmt::Result {
        writeln!(out, "{} → {}", self.pipeline, self.out_file.display())?;
        for kind in ["parameter", "task", "output"] {
            writeln!(out, "{kind}s:")?;
            for p in self.parts.iter().filter(|p| p.kind == kind) {
                writeln!(out, "  {:<14} {}", p.name, p.explanation)?;
            }
        }
        match &self.image_built {
            Some(i) => writeln!(
                out,
                "steps image: {} ({:.1} MB, built now)",
                i.tag,
                i.size_bytes as f64 / 1e6
            )?,
            None => writeln!(
                out,
                "steps image: {} ({})",
                self.image,
                self.image_note.as_deref().unwrap_or("not built")
            )?,
        }
        writeln!(out, "run it with KFP's local runner:\n{}", self.run_with)
    }
}

impl Render for lab_pipeline::steps::StepReport {
    fn human(&self, out: &mut String) -> fmt::Result {
        writeln!(out, "{}: {}", self.step, self.summary)
    }
}
