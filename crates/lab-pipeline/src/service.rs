//! Services: one stable endpoint per model (a `lab-gateway` on a fixed
//! loopback port, the role of a Kubernetes Service) and zero-downtime
//! rollouts behind it.

use std::time::{Duration, Instant};

use lab_deploy::{Gateway, OwnedProcess};
use lab_store::{DeploymentRecord, DeploymentState, Service, now_ms};
use serde::{Deserialize, Serialize};

use crate::deploy::DeployResult;
use crate::events::{Event, Stage, stage};
use crate::lab::Lab;
use crate::request::ModelRef;
use crate::{PipelineError, Result};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RolloutResult {
    pub service: Service,
    /// The stable endpoint learners call.
    pub endpoint: String,
    pub deployed: DeployResult,
    /// The deployment that served before, now drained and stopped.
    pub replaced: Option<DeploymentRecord>,
    pub drain_ms: Option<u64>,
    pub gateway_started: bool,
}

/// A service with its gateway's state.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServiceStatus {
    #[serde(flatten)]
    pub service: Service,
    pub endpoint: String,
    pub gateway_up: bool,
    pub upstream: Option<String>,
}

impl Lab {
    /// Deploy `model` and move `service`'s traffic to it: the new server is
    /// ready before the switch, the old one is drained (no request in
    /// flight), its log collected, and then removed.
    pub fn rollout(
        &self,
        service: &str,
        model: &ModelRef,
        local: bool,
        sink: &dyn Fn(Event),
    ) -> Result<RolloutResult> {
        check_service_name(service)?;
        let existing = self.store.service(service)?;
        let mv = self.resolve_model(model)?;
        if let Some(s) = &existing
            && s.model_name != mv.name
        {
            return Err(PipelineError::Invalid(format!(
                "service `{service}` serves model `{}`, not `{}`",
                s.model_name, mv.name
            )));
        }
        self.checkpoint("deploying")?;
        let deployed = self.deploy(&ModelRef::Version(mv.name.clone(), mv.version), local, sink)?;
        if let Err(e) = self.checkpoint("switching traffic to the new server") {
            // Nothing routes to it yet: remove it again.
            let _ = self.stop_deployment(&deployed.deployment.deployment_id);
            return Err(e);
        }
        let new = deployed.deployment.clone();
        self.store
            .set_deployment_service(&new.deployment_id, service)?;
        let (svc, gateway_started, replaced, drain_ms) = stage(
            sink,
            Stage::Deploy,
            format!("routing service `{service}` to v{}", mv.version),
            || {
                let port = match &existing {
                    Some(s) => s.port as u16,
                    None => lab_deploy::free_port()?,
                };
                let running = existing.as_ref().and_then(|s| {
                    let g = gateway_of(s)?;
                    g.status().is_some().then_some(g)
                });
                let up = running.is_some();
                let mut gateway = existing.as_ref().map(GatewayRecord::of).unwrap_or_default();
                match &running {
                    Some(g) => g.switch_upstream(new.gateway_upstream())?,
                    None => gateway = self.start_gateway(service, port, new.gateway_upstream())?,
                }
                // Drain and remove the old deployment.
                let old = existing
                    .as_ref()
                    .and_then(|s| s.active_deployment_id.clone())
                    .filter(|id| *id != new.deployment_id)
                    .map(|id| self.store.find_deployment(&id))
                    .transpose()?
                    .filter(|d| d.status == DeploymentState::Running);
                let mut drain_ms = None;
                if let Some(old) = &old {
                    let t = Instant::now();
                    if let Some(g) = &running {
                        g.wait_drained(old.gateway_upstream(), Duration::from_secs(60))?;
                    }
                    drain_ms = Some(t.elapsed().as_millis() as u64);
                    // Stopping collects its prediction log first.
                    self.stop_deployment(&old.deployment_id)?;
                }
                let now = now_ms();
                let svc = Service {
                    name: service.to_string(),
                    model_name: mv.name.clone(),
                    port: port as i64,
                    gateway_pid: gateway.pid,
                    gateway_start: gateway.start,
                    gateway_exe: gateway.exe,
                    gateway_token: gateway.token,
                    active_deployment_id: Some(new.deployment_id.clone()),
                    active_version: Some(mv.version),
                    previous_version: existing
                        .as_ref()
                        .and_then(|s| s.active_version)
                        .filter(|v| *v != mv.version)
                        .or(existing.as_ref().and_then(|s| s.previous_version)),
                    dataset: existing.as_ref().and_then(|s| s.dataset.clone()),
                    scenario: existing.as_ref().and_then(|s| s.scenario.clone()),
                    created_at: existing.as_ref().map_or(now, |s| s.created_at),
                    updated_at: now,
                };
                self.store.upsert_service(&svc)?;
                let msg = format!(
                    "{} → v{} at {}{}",
                    svc.endpoint(),
                    mv.version,
                    new.gateway_upstream(),
                    match (&old, drain_ms) {
                        (Some(o), Some(ms)) =>
                            format!("; v{} drained in {ms} ms and removed", o.model_version),
                        _ => String::new(),
                    }
                );
                Ok::<_, PipelineError>(((svc, !up, old, drain_ms), msg))
            },
        )?;
        Ok(RolloutResult {
            endpoint: svc.endpoint(),
            service: svc,
            deployed,
            replaced,
            drain_ms,
            gateway_started,
        })
    }

    /// The service serving model `name`, if one does.
    pub fn service_of_model(&self, name: &str) -> Result<Option<lab_store::Service>> {
        Ok(self
            .store
            .list_services()?
            .into_iter()
            .find(|s| s.model_name == name))
    }

    /// Roll `model` out to `service`: by default the service already
    /// serving that model, else a new one named after the model. A new
    /// service records the dataset the model's run trained on (traffic and
    /// monitoring need it).
    pub fn rollout_model(
        &self,
        model: &ModelRef,
        service: Option<&str>,
        local: bool,
        sink: &dyn Fn(Event),
    ) -> Result<RolloutResult> {
        let mv = self.resolve_model(model)?;
        let run = self.store.get_run(&mv.run_id)?;
        let dataset = run.params.get("dataset").cloned();
        let service = match service {
            Some(s) => s.to_string(),
            None => self
                .service_of_model(&mv.name)?
                .map_or_else(|| mv.name.clone(), |s| s.name),
        };
        let out = self.rollout(
            &service,
            &ModelRef::Version(mv.name.clone(), mv.version),
            local,
            sink,
        )?;
        match (&out.service.dataset, dataset) {
            (None, Some(d)) => {
                // A model trained on a scenario's reference slice is
                // monitored, and retrained, against that slice.
                let scenario = run
                    .params
                    .get("scenario")
                    .filter(|sc| self.catalog.scenario(sc).is_ok());
                self.set_service_data(&service, &d, scenario.map(String::as_str))?;
                Ok(RolloutResult {
                    service: self.service(&service)?,
                    ..out
                })
            }
            _ => Ok(out),
        }
    }

    /// Roll `service` back to the version it served before.
    pub fn rollback(
        &self,
        service: &str,
        local: bool,
        sink: &dyn Fn(Event),
    ) -> Result<RolloutResult> {
        let svc = self.service(service)?;
        let prev = svc.previous_version.ok_or_else(|| {
            PipelineError::Invalid(format!(
                "service `{service}` has no previous version to roll back to"
            ))
        })?;
        self.rollout(
            service,
            &ModelRef::Version(svc.model_name.clone(), prev),
            local,
            sink,
        )
    }

    /// Record which catalogue data a service's model comes from (monitoring
    /// uses it for labels and retraining).
    pub fn set_service_data(
        &self,
        service: &str,
        dataset: &str,
        scenario: Option<&str>,
    ) -> Result<()> {
        let mut svc = self.service(service)?;
        self.catalog.dataset(dataset)?;
        if let Some(sc) = scenario {
            self.catalog.scenario(sc)?;
        }
        svc.dataset = Some(dataset.to_string());
        svc.scenario = scenario.map(str::to_string);
        svc.updated_at = now_ms();
        self.store.upsert_service(&svc)?;
        Ok(())
    }

    fn start_gateway(&self, service: &str, port: u16, upstream: &str) -> Result<GatewayRecord> {
        let bin = lab_deploy::gateway_binary()?;
        let dir = self.home().confine("services")?.join(service);
        let recorded = self
            .store
            .service(service)?
            .filter(|s| s.gateway_token.is_none())
            .and_then(|s| s.gateway_pid);
        let (gateway, process) =
            lab_deploy::start_gateway(&bin, port, upstream, &dir).map_err(|e| {
                PipelineError::Invalid(match recorded {
                    // A gateway of an earlier release has no token, so the lab
                    // cannot steer it, and no identity, so it never signals it.
                    Some(pid) => format!(
                        "{e}. The service's port 127.0.0.1:{port} may still be held by the gateway an earlier MLOps Lab started (pid {pid}): check with `ps -p {pid} -o args` and stop it with `kill {pid}`, then try again"
                    ),
                    None => format!(
                        "{e}. The service's port 127.0.0.1:{port} may be taken by another program: free it (`ss -ltnp` shows which), or `mlops-lab reset`"
                    ),
                })
            })?;
        Ok(GatewayRecord {
            pid: Some(process.pid as i64),
            start: Some(process.start_ticks as i64),
            exe: Some(process.exe),
            token: Some(gateway.token),
        })
    }

    /// The service, with its gateway answering: a gateway that died (killed,
    /// machine restarted) is started again on the same port, forwarding to
    /// the active deployment, so the endpoint stays the same.
    pub fn ensure_gateway(&self, name: &str, sink: &dyn Fn(Event)) -> Result<Service> {
        let mut svc = self.service(name)?;
        let running = gateway_of(&svc).filter(|g| g.status().is_some());
        let id = svc
            .active_deployment_id
            .clone()
            .ok_or_else(|| PipelineError::Invalid(format!("service `{name}` serves no model")))?;
        let mut d = self.store.find_deployment(&id)?;
        // A container's bridge address can change when it restarts: ask
        // Docker again, and forward to where it is now (or to its
        // published port when the host no longer reaches it).
        if d.status == DeploymentState::Running && d.upstream.is_some() {
            let now = self.deployer()?.bridge_upstream(&d.deployment_id);
            if now != d.upstream {
                self.store.set_deployment_upstream(&id, now.as_deref())?;
                d.upstream = now;
                if let Some(g) = &running {
                    g.switch_upstream(d.gateway_upstream())?;
                }
            }
        }
        if running.is_some() {
            return Ok(svc);
        }
        if d.status != DeploymentState::Running {
            return Err(PipelineError::Invalid(format!(
                "service `{name}`: its deployment {} is stopped; roll a model out again (`mlops-lab rollout {}:{}`)",
                d.name, d.model_name, d.model_version
            )));
        }
        sink(Event::StageProgress {
            stage: Stage::Deploy,
            fraction: None,
            message: format!(
                "the gateway of `{name}` was not running; starting it again on 127.0.0.1:{}",
                svc.port
            ),
        });
        tracing::warn!(service = name, "restarting a dead gateway");
        let g = self.start_gateway(name, svc.port as u16, d.gateway_upstream())?;
        (
            svc.gateway_pid,
            svc.gateway_start,
            svc.gateway_exe,
            svc.gateway_token,
        ) = (g.pid, g.start, g.exe, g.token);
        svc.updated_at = now_ms();
        self.store.upsert_service(&svc)?;
        Ok(svc)
    }

    /// A service by name, or a not-found error that says where to look.
    pub fn service(&self, name: &str) -> Result<Service> {
        self.store
            .service(name)?
            .ok_or_else(|| PipelineError::NotFoundHint {
                what: format!("service `{name}`"),
                hint: "see `mlops-lab services`".into(),
            })
    }

    pub fn services(&self) -> Result<Vec<ServiceStatus>> {
        Ok(self
            .store
            .list_services()?
            .into_iter()
            .map(|s| {
                let status = gateway_of(&s).and_then(|g| g.status());
                ServiceStatus {
                    endpoint: s.endpoint(),
                    gateway_up: status.is_some(),
                    upstream: status.map(|g| g.upstream),
                    service: s,
                }
            })
            .collect())
    }

    /// Stop a service's gateway (its deployments stay as they are): only
    /// if the process recorded is still the gateway the lab started.
    pub(crate) fn stop_gateway(&self, svc: &Service) -> bool {
        OwnedProcess::from_parts(
            svc.gateway_pid,
            svc.gateway_start,
            svc.gateway_exe.as_deref(),
        )
        .is_some_and(|p| matches!(p.terminate(), Ok(lab_deploy::Terminated::Stopped)))
    }
}

/// A service's gateway admin API, if the service records its token.
fn gateway_of(s: &Service) -> Option<Gateway> {
    Some(Gateway {
        port: u16::try_from(s.port).ok()?,
        token: s.gateway_token.clone()?,
    })
}

/// The gateway fields of a service record.
#[derive(Default)]
struct GatewayRecord {
    pid: Option<i64>,
    start: Option<i64>,
    exe: Option<String>,
    token: Option<String>,
}

impl GatewayRecord {
    fn of(s: &Service) -> Self {
        GatewayRecord {
            pid: s.gateway_pid,
            start: s.gateway_start,
            exe: s.gateway_exe.clone(),
            token: s.gateway_token.clone(),
        }
    }
}

fn check_service_name(name: &str) -> Result<()> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    {
        return Err(PipelineError::Invalid(format!(
            "service name `{name}`: use 1-64 letters, digits, `-`, `_` or `.`"
        )));
    }
    Ok(())
}
