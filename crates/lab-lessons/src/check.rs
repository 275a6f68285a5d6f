//! Checkpoint predicates: questions about the lab's own state, asked only
//! of what the lab made after the learner started the lesson.

use std::collections::BTreeMap;

use lab_pipeline::{DataActivity, Lab, Run, RunFilter, RunStatus};
use serde::{Deserialize, Serialize};

use crate::Result;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Predicate {
    /// The latest data action was `action` (`profiled` or `validated`) on
    /// `dataset`; for a validation, with every expectation met.
    Data { dataset: String, action: String },
    /// At least `count` finished runs on `dataset` that match: `model`,
    /// every `params` value, and `metric` within `min`/`max` (on the test
    /// split; `train_` prefixed metrics are the training split's). With
    /// `distinct`, the runs differ in that parameter.
    Run {
        dataset: String,
        model: Option<String>,
        #[serde(default)]
        params: BTreeMap<String, String>,
        /// Every tag value, e.g. `{ "mlops.gate" = "failed" }`.
        #[serde(default)]
        tags: BTreeMap<String, String>,
        metric: Option<String>,
        min: Option<f64>,
        max: Option<f64>,
        #[serde(default = "one")]
        count: usize,
        distinct: Option<String>,
    },
    /// A finished run on `dataset` with `model` whose training score beats
    /// its test score by at least `min_gap` on `metric`: overfitting.
    Overfit {
        dataset: String,
        model: String,
        metric: String,
        min_gap: f64,
    },
    /// A version of registered model `name` created since the lesson
    /// started from a run of the lesson (with `alias` pointing at it, if
    /// given).
    Version {
        name: String,
        alias: Option<String>,
        /// The version's run must have passed its validation gate.
        #[serde(default)]
        gate_passed: bool,
    },
    /// A deployment of registered model `model` made since the lesson
    /// started, running, that answers `GET /v2/health/ready` with 200 now
    /// (with `docker`, a container rather than a local process).
    Serving {
        model: String,
        #[serde(default)]
        docker: bool,
    },
    /// The newest running deployment of `model`, made since the lesson
    /// started, counted at least
    /// `at_least` successful prediction requests on its Prometheus
    /// `/metrics` (`lab_serve_requests_total` of `/invocations` and
    /// `…/infer` with a 2xx code; with `code = "4xx"`, the refused ones).
    Requests {
        model: String,
        at_least: u64,
        /// `2xx` (the default) or `4xx`.
        code: Option<String>,
    },
    /// The newest running Docker deployment of `model`, made since the
    /// lesson started, was restarted after it was deployed (its
    /// `process_start_time_seconds` on `/metrics` is later than the
    /// deployment's record, written once it first answered) and answers
    /// `/v2/health/ready` with 200 again.
    Restarted { model: String },
    /// A monitoring window of `service` evaluated since the lesson started
    /// with at least `min_requests` requests and, for each one given: a
    /// dataset-drift verdict of `drift`, alerts fired (`alerts = true`) or
    /// none, at least `versions` model versions answering, at most
    /// `max_errors` failed requests.
    Window {
        service: String,
        drift: Option<bool>,
        alerts: Option<bool>,
        #[serde(default = "hundred")]
        min_requests: i64,
        /// At least this many model versions answered in the window (a
        /// switch happened under the traffic).
        versions: Option<usize>,
        /// At most this many requests failed.
        max_errors: Option<i64>,
    },
    /// `service` serves the version `alias` points at now, and was
    /// switched since the lesson started.
    Serves { service: String, alias: String },
    /// The newest Docker deployment of `model` made since the lesson
    /// started runs an image of at most `max_mb` MB.
    Image { model: String, max_mb: f64 },
    /// The latest export of `export` (`k8s` or `kfp`) was made since the
    /// lesson started, its files are still there, and its path contains
    /// `contains` (a model or pipeline name), if given.
    Exported {
        export: String,
        contains: Option<String>,
    },
    /// An alert fired on `service` since the lesson started.
    Alert { service: String },
    /// A retrain of `service` since the lesson started (that promoted its
    /// challenger, with `promoted`).
    Retrain {
        service: String,
        #[serde(default)]
        promoted: bool,
    },
    /// At least `count` finished runs in experiment `experiment` started
    /// since the lesson started and logged by an MLflow client (not by the
    /// lab's own training: its `mlflow.source.name` is not `mlops-lab`),
    /// with `metric` at least `min`, if given.
    ClientRuns {
        experiment: String,
        #[serde(default = "one")]
        count: usize,
        metric: Option<String>,
        min: Option<f64>,
    },
    /// The capstone: a finished run since the lesson started on a CSV
    /// file outside the catalogue that passed its gate, registered as a
    /// version, and a running deployment of that version that answers
    /// `/v2/health/ready` with 200.
    OwnData {},
    /// A check of `exercise` (the learner's own Python) that passed since
    /// the lesson started, recorded by `lab-exercises`.
    Exercise { exercise: String },
    /// Two finished runs on `dataset` with `model` and the same seed whose
    /// model files are byte for byte the same, and one with another seed.
    Reproducible { dataset: String, model: String },
}

fn one() -> usize {
    1
}

fn hundred() -> i64 {
    100
}

/// One predicate's verdict.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Verdict {
    pub name: String,
    pub passed: bool,
    /// What was found, or the lesson's message for a failure.
    pub message: String,
    /// Ids of what satisfied it (runs, …).
    pub evidence: Vec<String>,
}

impl Predicate {
    /// Check the predicate's names against the lab (datasets, models).
    pub fn validate(&self, lab: &Lab) -> std::result::Result<(), String> {
        let dataset = match self {
            Predicate::Data { dataset, action } => {
                if !matches!(action.as_str(), "profiled" | "validated") {
                    return Err(format!("action = `{action}`: profiled or validated"));
                }
                dataset
            }
            Predicate::Run {
                dataset,
                model,
                min,
                max,
                metric,
                count,
                ..
            } => {
                if let Some(m) = model {
                    m.parse::<lab_pipeline::ModelKind>()?;
                }
                if (min.is_some() || max.is_some()) && metric.is_none() {
                    return Err("min and max need a metric".into());
                }
                if *count == 0 {
                    return Err("count = 0 would pass with nothing done".into());
                }
                dataset
            }
            Predicate::Overfit { dataset, model, .. }
            | Predicate::Reproducible { dataset, model } => {
                model.parse::<lab_pipeline::ModelKind>()?;
                dataset
            }
            Predicate::Exported { export, .. } => {
                return if matches!(export.as_str(), "k8s" | "kfp") {
                    Ok(())
                } else {
                    Err(format!("export = `{export}`: k8s or kfp"))
                };
            }
            Predicate::Alert { service } | Predicate::Retrain { service, .. } => {
                return if service.is_empty() {
                    Err("a service name is needed".into())
                } else {
                    Ok(())
                };
            }
            Predicate::Requests {
                code: Some(code), ..
            } if !matches!(code.as_str(), "2xx" | "4xx") => {
                return Err(format!("code = `{code}`: 2xx or 4xx"));
            }
            Predicate::Window {
                service,
                min_requests,
                ..
            } => {
                return if service.is_empty() || *min_requests < 1 {
                    Err("a window needs a service and min_requests >= 1".into())
                } else {
                    Ok(())
                };
            }
            Predicate::Serves { service, alias } => {
                return if service.is_empty() || alias.is_empty() {
                    Err("a service and an alias are needed".into())
                } else {
                    Ok(())
                };
            }
            Predicate::Serving { model, .. }
            | Predicate::Requests { model, .. }
            | Predicate::Restarted { model }
            | Predicate::Image { model, .. } => {
                return if model.is_empty() {
                    Err("a model name is needed".into())
                } else {
                    Ok(())
                };
            }
            Predicate::OwnData {} => return Ok(()),
            Predicate::Exercise { exercise } => return crate::action::exercise_exists(exercise),
            Predicate::ClientRuns {
                experiment,
                count,
                metric,
                min,
            } => {
                return if experiment.trim().is_empty() || *count == 0 {
                    Err("an experiment and a count >= 1 are needed".into())
                } else if min.is_some() && metric.is_none() {
                    Err("min needs a metric".into())
                } else {
                    Ok(())
                };
            }
            Predicate::Version { name, .. } => {
                return if name.is_empty() {
                    Err("a version predicate needs a model name".into())
                } else {
                    Ok(())
                };
            }
        };
        lab.catalog()
            .dataset(dataset)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// Evaluate against what the lab made at or after `since` (ms).
    pub fn evaluate(&self, lab: &Lab, since: i64) -> Result<(bool, String, Vec<String>)> {
        match self {
            Predicate::Data { dataset, action } => {
                let Some((subject, activity, at)) = lab.data_activity()? else {
                    return Ok((false, "no data action yet".into(), vec![]));
                };
                if at < since {
                    return Ok((
                        false,
                        "no data action since the lesson started".into(),
                        vec![],
                    ));
                }
                let ok = subject == *dataset
                    && match (&activity, action.as_str()) {
                        (DataActivity::Profiled { .. }, "profiled") => true,
                        (DataActivity::Validated { failed, .. }, "validated") => *failed == 0,
                        _ => false,
                    };
                let found = match &activity {
                    DataActivity::Profiled { rows, columns } => {
                        format!("profiled {subject}: {rows} rows, {columns} columns")
                    }
                    DataActivity::Validated { passed, failed, .. } => {
                        format!("validated {subject}: {passed} passed, {failed} failed")
                    }
                };
                Ok((ok, found, vec![]))
            }
            Predicate::Run {
                dataset,
                model,
                params,
                tags,
                metric,
                min,
                max,
                count,
                distinct,
            } => {
                let runs: Vec<Run> = runs_since(lab, since, dataset, model.as_deref())?
                    .into_iter()
                    .filter(|r| params.iter().all(|(k, v)| r.params.get(k) == Some(v)))
                    .filter(|r| tags.iter().all(|(k, v)| r.tags.get(k) == Some(v)))
                    .filter(|r| match metric {
                        None => true,
                        Some(m) => r.metrics.get(m).is_some_and(|v| {
                            min.is_none_or(|lo| *v >= lo) && max.is_none_or(|hi| *v <= hi)
                        }),
                    })
                    .collect();
                let chosen: Vec<&Run> = match distinct {
                    None => runs.iter().collect(),
                    Some(p) => {
                        let mut seen = std::collections::BTreeSet::new();
                        runs.iter()
                            .filter(|r| seen.insert(r.params.get(p).cloned().unwrap_or_default()))
                            .collect()
                    }
                };
                let ok = chosen.len() >= *count;
                let found = format!(
                    "{} since the lesson started{}",
                    plural(chosen.len(), "matching run", "matching runs"),
                    match (metric, chosen.first()) {
                        (Some(m), Some(r)) => format!(" (latest: {m} {:.4})", r.metrics[m]),
                        _ => String::new(),
                    }
                );
                let evidence = chosen
                    .iter()
                    .take(*count)
                    .map(|r| r.run_id.clone())
                    .collect();
                Ok((ok, found, if ok { evidence } else { vec![] }))
            }
            Predicate::Overfit {
                dataset,
                model,
                metric,
                min_gap,
            } => {
                let runs = runs_since(lab, since, dataset, Some(model))?;
                let best = runs
                    .iter()
                    .filter_map(|r| {
                        let test = r.metrics.get(metric)?;
                        let train = r.metrics.get(&format!("train_{metric}"))?;
                        Some((r, train - test))
                    })
                    .max_by(|a, b| a.1.total_cmp(&b.1));
                Ok(match best {
                    Some((r, gap)) if gap >= *min_gap => (
                        true,
                        format!(
                            "run {} scores {gap:.4} higher on train than on test",
                            &r.run_id[..8]
                        ),
                        vec![r.run_id.clone()],
                    ),
                    Some((_, gap)) => (
                        false,
                        format!("the widest train/test gap since the lesson started is {gap:.4}"),
                        vec![],
                    ),
                    None => (
                        false,
                        "no matching run since the lesson started".into(),
                        vec![],
                    ),
                })
            }
            Predicate::Serving { model, docker } => {
                let recent = lab
                    .deployments(false)?
                    .into_iter()
                    .filter(|d| d.model_name == *model && d.created_at >= since)
                    .filter(|d| d.status == lab_pipeline::DeploymentState::Running)
                    .filter(|d| !docker || d.runtime == lab_pipeline::DeploymentRuntime::Docker)
                    .max_by_key(|d| d.created_at);
                let Some(d) = recent else {
                    return Ok((
                        false,
                        format!(
                            "no running {}deployment of {model} made since the lesson started",
                            if *docker { "Docker " } else { "" }
                        ),
                        vec![],
                    ));
                };
                Ok(match lab.probe(&d.deployment_id, "/v2/health/ready") {
                    Ok((200, _)) => (
                        true,
                        format!(
                            "{} answers /v2/health/ready with 200 at {}",
                            d.name, d.endpoint
                        ),
                        vec![d.deployment_id.clone()],
                    ),
                    Ok((status, _)) => (
                        false,
                        format!("{} answers /v2/health/ready with {status}", d.name),
                        vec![],
                    ),
                    Err(e) => (false, format!("{} does not answer: {e}", d.name), vec![]),
                })
            }
            Predicate::Image { model, max_mb } => {
                let newest = lab
                    .deployments(true)?
                    .into_iter()
                    .filter(|d| d.model_name == *model && d.created_at >= since)
                    .filter(|d| d.runtime == lab_pipeline::DeploymentRuntime::Docker)
                    .max_by_key(|d| d.created_at);
                Ok(match newest {
                    Some(d) => {
                        let mb = d.image_size_bytes.unwrap_or(0) as f64 / 1e6;
                        let tag = d.image_tag.clone().unwrap_or_default();
                        (
                            mb > 0.0 && mb <= *max_mb,
                            format!("{tag} is {mb:.1} MB"),
                            vec![tag],
                        )
                    }
                    None => (
                        false,
                        format!("no Docker deployment of {model} made since the lesson started"),
                        vec![],
                    ),
                })
            }
            Predicate::Exported {
                export: kind,
                contains,
            } => {
                let Some((path, at)) = lab.last_export(kind)? else {
                    return Ok((false, format!("no {kind} export yet"), vec![]));
                };
                let shown = path.display().to_string();
                Ok(if at < since {
                    (
                        false,
                        format!("the latest {kind} export ({shown}) is older than the lesson"),
                        vec![],
                    )
                } else if !path.exists() {
                    (false, format!("{shown} was removed"), vec![])
                } else if let Some(c) = contains.as_ref().filter(|c| !shown.contains(c.as_str())) {
                    (
                        false,
                        format!("the latest {kind} export is {shown}, not one of {c}"),
                        vec![],
                    )
                } else {
                    (true, format!("{shown} written"), vec![shown])
                })
            }
            Predicate::Alert { service } => {
                let alerts = match lab.alerts(service) {
                    Ok(a) => a,
                    Err(e) if e.code().ends_with("not_found") => vec![],
                    Err(e) => return Err(e.into()),
                };
                let fired: Vec<_> = alerts.iter().filter(|a| a.created_at >= since).collect();
                Ok(match fired.first() {
                    Some(a) => (
                        true,
                        format!("{}: {}", plural(fired.len(), "alert", "alerts"), a.message),
                        fired
                            .iter()
                            .map(|a| format!("alert {}", a.alert_id))
                            .collect(),
                    ),
                    None => (
                        false,
                        format!("no alert on {service} since the lesson started"),
                        vec![],
                    ),
                })
            }
            Predicate::Retrain { service, promoted } => {
                let retrains = match lab.retrains(service) {
                    Ok(r) => r,
                    Err(e) if e.code().ends_with("not_found") => vec![],
                    Err(e) => return Err(e.into()),
                };
                let hit = retrains
                    .iter()
                    .filter(|r| r.created_at >= since)
                    .find(|r| !promoted || r.promoted);
                Ok(match hit {
                    Some(r) => (
                        true,
                        format!(
                            "retrain {}: {}",
                            &r.retrain_id[..8.min(r.retrain_id.len())],
                            if r.promoted {
                                "challenger promoted"
                            } else {
                                "champion kept"
                            }
                        ),
                        vec![r.retrain_id.clone()],
                    ),
                    None => (
                        false,
                        format!(
                            "no retrain of {service}{} since the lesson started",
                            if *promoted {
                                " that promoted its challenger"
                            } else {
                                ""
                            }
                        ),
                        vec![],
                    ),
                })
            }
            Predicate::Restarted { model } => {
                let newest = lab
                    .deployments(false)?
                    .into_iter()
                    .filter(|d| d.model_name == *model && d.created_at >= since)
                    .filter(|d| d.status == lab_pipeline::DeploymentState::Running)
                    .filter(|d| d.runtime == lab_pipeline::DeploymentRuntime::Docker)
                    .max_by_key(|d| d.created_at);
                let Some(d) = newest else {
                    return Ok((
                        false,
                        format!(
                            "no running Docker deployment of {model} made since the lesson started"
                        ),
                        vec![],
                    ));
                };
                let started = match lab.probe(&d.deployment_id, "/metrics") {
                    Ok((200, body)) => gauge(&body, "process_start_time_seconds"),
                    Ok((status, _)) => {
                        return Ok((false, format!("/metrics answered {status}"), vec![]));
                    }
                    Err(e) => {
                        return Ok((false, format!("{} does not answer: {e}", d.name), vec![]));
                    }
                };
                let Some(started) = started else {
                    return Ok((
                        false,
                        "/metrics has no process_start_time_seconds".into(),
                        vec![],
                    ));
                };
                // The deployment is recorded once it answered: its first
                // start is earlier, a restart later.
                let after = started - d.created_at as f64 / 1000.0;
                if after <= 0.0 {
                    return Ok((
                        false,
                        format!(
                            "{} has been up since it was deployed: it never restarted",
                            d.name
                        ),
                        vec![],
                    ));
                }
                Ok(match lab.probe(&d.deployment_id, "/v2/health/ready") {
                    Ok((200, _)) => (
                        true,
                        format!(
                            "{} restarted {after:.1} s after it was deployed, and answers /v2/health/ready with 200",
                            d.name
                        ),
                        vec![d.deployment_id.clone()],
                    ),
                    Ok((status, _)) => (
                        false,
                        format!(
                            "{} restarted, but /v2/health/ready answers {status}",
                            d.name
                        ),
                        vec![],
                    ),
                    Err(e) => (false, format!("{} does not answer: {e}", d.name), vec![]),
                })
            }
            Predicate::Serves { service, alias } => {
                let svc = match lab.service(service) {
                    Ok(s) => s,
                    Err(e) if e.code().ends_with("not_found") => {
                        return Ok((false, format!("no service {service}"), vec![]));
                    }
                    Err(e) => return Err(e.into()),
                };
                let aliased = lab
                    .model_versions(&svc.model_name)?
                    .into_iter()
                    .find(|v| v.aliases.contains(alias))
                    .map(|v| v.version);
                let ok =
                    svc.updated_at >= since && aliased.is_some() && svc.active_version == aliased;
                Ok((
                    ok,
                    format!(
                        "{service} serves {} v{}; @{alias} is {}{}",
                        svc.model_name,
                        svc.active_version.map_or("?".into(), |v| v.to_string()),
                        aliased.map_or("nothing".into(), |v| format!("v{v}")),
                        if svc.updated_at >= since {
                            ""
                        } else {
                            "; not switched since the lesson started"
                        }
                    ),
                    if ok {
                        vec![format!(
                            "{}:{}",
                            svc.model_name,
                            svc.active_version.unwrap_or_default()
                        )]
                    } else {
                        vec![]
                    },
                ))
            }
            Predicate::Window {
                service,
                drift,
                alerts,
                min_requests,
                versions,
                max_errors,
            } => {
                let windows = match lab.windows(service, since) {
                    Ok(w) => w,
                    Err(e) if e.code().ends_with("not_found") => vec![],
                    Err(e) => return Err(e.into()),
                };
                let fired = match lab.alerts(service) {
                    Ok(a) => a,
                    Err(e) if e.code().ends_with("not_found") => vec![],
                    Err(e) => return Err(e.into()),
                };
                let alerts_of = |id: i64| fired.iter().filter(|a| a.window_id == id).count();
                let big: Vec<_> = windows
                    .iter()
                    .filter(|w| w.requests >= *min_requests)
                    .collect();
                let hit = big.iter().rev().find(|w| {
                    drift.is_none_or(|d| w.dataset_drift == Some(d))
                        && alerts.is_none_or(|a| (alerts_of(w.window_id) > 0) == a)
                        && versions.is_none_or(|n| w.versions.split(',').count() >= n)
                        && max_errors.is_none_or(|n| w.errors <= n)
                });
                let describe = |w: &lab_pipeline::WindowRecord| {
                    format!(
                        "window {} ({} requests, {} failed, versions {}): {}, {}",
                        w.window_id,
                        w.requests,
                        w.errors,
                        w.versions,
                        match w.dataset_drift {
                            Some(true) => format!(
                                "dataset drift (share {:.0}%)",
                                w.drift_share.unwrap_or(0.0) * 100.0
                            ),
                            Some(false) => format!(
                                "no dataset drift (share {:.0}%)",
                                w.drift_share.unwrap_or(0.0) * 100.0
                            ),
                            None => "too few rows for drift".into(),
                        },
                        plural(alerts_of(w.window_id), "alert", "alerts")
                    )
                };
                Ok(match hit {
                    Some(w) => (true, describe(w), vec![format!("window {}", w.window_id)]),
                    None => (
                        false,
                        match big.last() {
                            Some(w) => format!("the latest is {}", describe(w)),
                            None => format!(
                                "no window of {service} with {min_requests}+ requests since the lesson started"
                            ),
                        },
                        vec![],
                    ),
                })
            }
            Predicate::Requests {
                model,
                at_least,
                code,
            } => {
                let newest = crate::action::newest_running(lab, model)?;
                let Some(d) = newest.filter(|d| d.created_at >= since) else {
                    return Ok((
                        false,
                        format!("no running deployment of {model} made since the lesson started"),
                        vec![],
                    ));
                };
                let class = code.as_deref().unwrap_or("2xx");
                let counted = match lab.probe(&d.deployment_id, "/metrics") {
                    Ok((200, body)) => requests_total(&body, &class[..1]),
                    Ok((status, _)) => {
                        return Ok((false, format!("/metrics answered {status}"), vec![]));
                    }
                    Err(e) => return Ok((false, format!("/metrics: {e}"), vec![])),
                };
                Ok((
                    counted >= *at_least as f64,
                    format!(
                        "{} counted {counted} prediction requests answered {class} on /metrics",
                        d.name
                    ),
                    if counted >= *at_least as f64 {
                        vec![d.deployment_id.clone()]
                    } else {
                        vec![]
                    },
                ))
            }
            Predicate::Version {
                name,
                alias,
                gate_passed,
            } => {
                let versions = match lab.model_versions(name) {
                    Ok(v) => v,
                    Err(e) if e.code().ends_with("not_found") => vec![],
                    Err(e) => return Err(e.into()),
                };
                // The version and the run it was registered from are both
                // this lesson's work.
                let mut recent = Vec::new();
                for v in versions.iter().filter(|v| v.creation_time >= since) {
                    let run = lab.run(&v.run_id)?;
                    if run.start_time >= since
                        && (!gate_passed
                            || run.tags.get("mlops.gate").map(String::as_str) == Some("passed"))
                    {
                        recent.push(v);
                    }
                }
                let hit = recent
                    .iter()
                    .find(|v| alias.as_ref().is_none_or(|a| v.aliases.contains(a)));
                Ok(match hit {
                    Some(v) => (
                        true,
                        format!(
                            "{name} version {} (run {}){}",
                            v.version,
                            &v.run_id[..8.min(v.run_id.len())],
                            alias
                                .as_ref()
                                .map(|a| format!(" is @{a}"))
                                .unwrap_or_default()
                        ),
                        vec![format!("{name}:{}", v.version)],
                    ),
                    None => (
                        false,
                        format!(
                            "{} of {name} from a run of this lesson{}{}",
                            plural(recent.len(), "version", "versions"),
                            if *gate_passed {
                                " that passed its gate"
                            } else {
                                ""
                            },
                            alias
                                .as_ref()
                                .map(|a| format!(", none of them @{a}"))
                                .unwrap_or_default()
                        ),
                        vec![],
                    ),
                })
            }
            Predicate::ClientRuns {
                experiment,
                count,
                metric,
                min,
            } => {
                let runs = match lab.runs(&RunFilter {
                    experiment: Some(experiment.clone()),
                    status: Some(RunStatus::Finished),
                    limit: Some(10_000),
                    ..Default::default()
                }) {
                    Ok(r) => r,
                    Err(e) if e.code().ends_with("not_found") => vec![],
                    Err(e) => return Err(e.into()),
                };
                let from_client: Vec<&Run> = runs
                    .iter()
                    .filter(|r| r.start_time >= since)
                    .filter(|r| {
                        r.tags.get("mlflow.source.name").map(String::as_str) != Some("mlops-lab")
                    })
                    .collect();
                let good: Vec<&&Run> = from_client
                    .iter()
                    .filter(|r| match (metric, min) {
                        (Some(m), Some(lo)) => r.metrics.get(m).is_some_and(|v| v >= lo),
                        (Some(m), None) => r.metrics.contains_key(m),
                        _ => true,
                    })
                    .collect();
                let ok = good.len() >= *count;
                Ok((
                    ok,
                    format!(
                        "{} logged by a client in {experiment} since the lesson started{}",
                        plural(from_client.len(), "run", "runs"),
                        match (metric, min) {
                            (Some(m), Some(lo)) => format!(", {} with {m} >= {lo}", good.len()),
                            _ => String::new(),
                        }
                    ),
                    if ok {
                        good.iter().take(*count).map(|r| r.run_id.clone()).collect()
                    } else {
                        vec![]
                    },
                ))
            }
            Predicate::Exercise { exercise } => {
                let attempts: Vec<_> = lab
                    .exercise_attempts(Some(exercise))?
                    .into_iter()
                    .filter(|a| a.at >= since)
                    .collect();
                let passed = attempts.iter().rev().find(|a| a.passed);
                let found = match (passed, attempts.last()) {
                    (Some(a), _) => format!(
                        "attempt {} passed ({} of the {} checks since you started passed)",
                        a.attempt_id,
                        attempts.iter().filter(|a| a.passed).count(),
                        attempts.len()
                    ),
                    (None, Some(last)) => {
                        let first = last.detail["checks"]
                            .as_array()
                            .and_then(|c| c.iter().find(|c| c["passed"] == false))
                            .and_then(|c| c["name"].as_str())
                            .unwrap_or("?")
                            .to_string();
                        format!(
                            "{} checks since you started, none passed (the latest failed at `{first}`)",
                            attempts.len()
                        )
                    }
                    (None, None) => "not checked since you started".into(),
                };
                Ok((
                    passed.is_some(),
                    found,
                    passed
                        .map(|a| vec![format!("exercise attempt {}", a.attempt_id)])
                        .unwrap_or_default(),
                ))
            }
            Predicate::OwnData {} => {
                let catalog = lab.catalog();
                let runs: Vec<Run> = lab
                    .runs(&RunFilter {
                        status: Some(RunStatus::Finished),
                        limit: Some(10_000),
                        ..Default::default()
                    })?
                    .into_iter()
                    .filter(|r| r.start_time >= since)
                    .filter(|r| {
                        r.params
                            .get("dataset")
                            .is_some_and(|d| catalog.dataset(d).is_err())
                    })
                    .collect();
                if runs.is_empty() {
                    return Ok((
                        false,
                        "no finished run on a CSV of your own since the lesson started".into(),
                        vec![],
                    ));
                }
                let passed: Vec<&Run> = runs
                    .iter()
                    .filter(|r| r.tags.get("mlops.gate").map(String::as_str) == Some("passed"))
                    .collect();
                if passed.is_empty() {
                    return Ok((
                        false,
                        format!(
                            "{} on your CSV, none passed its gate",
                            plural(runs.len(), "run", "runs")
                        ),
                        vec![],
                    ));
                }
                let deployments = lab.deployments(false)?;
                let mut registered = None;
                for m in lab.registered_models()? {
                    for v in lab.model_versions(&m.name)? {
                        if !passed.iter().any(|r| r.run_id == v.run_id) {
                            continue;
                        }
                        registered = Some(format!("{}:{}", v.name, v.version));
                        let live = deployments.iter().find(|d| {
                            d.model_name == v.name
                                && d.model_version == v.version
                                && d.status == lab_pipeline::DeploymentState::Running
                        });
                        if let Some(d) = live
                            && matches!(
                                lab.probe(&d.deployment_id, "/v2/health/ready"),
                                Ok((200, _))
                            )
                        {
                            return Ok((
                                true,
                                format!(
                                    "run {} on {} passed its gate, is {} v{}, served at {}",
                                    &v.run_id[..8],
                                    passed
                                        .iter()
                                        .find(|r| r.run_id == v.run_id)
                                        .and_then(|r| r.params.get("dataset"))
                                        .cloned()
                                        .unwrap_or_default(),
                                    v.name,
                                    v.version,
                                    d.endpoint
                                ),
                                vec![
                                    v.run_id.clone(),
                                    format!("{}:{}", v.name, v.version),
                                    d.deployment_id.clone(),
                                ],
                            ));
                        }
                    }
                }
                Ok((
                    false,
                    match registered {
                        Some(v) => format!(
                            "{v} is registered from your CSV, but no running deployment of it answers"
                        ),
                        None => format!(
                            "{} on your CSV passed the gate, none is registered",
                            plural(passed.len(), "run", "runs")
                        ),
                    },
                    vec![],
                ))
            }
            Predicate::Reproducible { dataset, model } => {
                let runs = runs_since(lab, since, dataset, Some(model))?;
                let mut by_seed: BTreeMap<String, Vec<(&Run, Vec<u8>)>> = BTreeMap::new();
                for r in &runs {
                    let seed = r.params.get("seed").cloned().unwrap_or_default();
                    let path = lab
                        .home()
                        .confine(format!("{}/model/model.json", r.artifact_uri))
                        .map_err(lab_pipeline::PipelineError::from)?;
                    if let Ok(bytes) = std::fs::read(path) {
                        by_seed.entry(seed).or_default().push((r, bytes));
                    }
                }
                let same = by_seed.values().find_map(|rs| {
                    rs.iter().enumerate().find_map(|(i, (a, ab))| {
                        rs[i + 1..]
                            .iter()
                            .find(|(_, bb)| bb == ab)
                            .map(|(b, _)| (a.run_id.clone(), b.run_id.clone()))
                    })
                });
                let seeds = by_seed.len();
                Ok(match same {
                    Some((a, b)) if seeds >= 2 => (
                        true,
                        format!(
                            "runs {} and {} wrote the same model bytes; {seeds} seeds tried",
                            &a[..8],
                            &b[..8]
                        ),
                        vec![a, b],
                    ),
                    Some(_) => (
                        false,
                        "two runs with the same seed match, but no run used another seed".into(),
                        vec![],
                    ),
                    None => (
                        false,
                        format!(
                            "no two runs with the same seed since the lesson started ({} runs)",
                            runs.len()
                        ),
                        vec![],
                    ),
                })
            }
        }
    }
}

/// `1 run`, `2 runs`.
fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Finished runs of the lab on `dataset` (and `model`) started at or after
/// `since`, newest first.
pub(crate) fn runs_since(
    lab: &Lab,
    since: i64,
    dataset: &str,
    model: Option<&str>,
) -> Result<Vec<Run>> {
    Ok(lab
        .runs(&RunFilter {
            status: Some(RunStatus::Finished),
            limit: Some(10_000),
            ..Default::default()
        })?
        .into_iter()
        .filter(|r| r.start_time >= since)
        .filter(|r| r.params.get("dataset").map(String::as_str) == Some(dataset))
        .filter(|r| model.is_none_or(|m| r.params.get("model").map(String::as_str) == Some(m)))
        .collect())
}

/// The value of an unlabelled gauge in a Prometheus text exposition.
fn gauge(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

/// The prediction requests (`/invocations` and v2 `…/infer`) answered
/// with a status code starting with `class` (`2`: success, `4`: refused)
/// that a Prometheus text exposition of `lab-serve` counted; probes and
/// scrapes are counted under their own endpoints, and left out.
fn requests_total(text: &str, class: &str) -> f64 {
    text.lines()
        .filter_map(|l| {
            let labels = l.strip_prefix("lab_serve_requests_total{")?;
            let (labels, value) = labels.split_once("} ")?;
            let endpoint = labels
                .split(',')
                .find_map(|kv| kv.strip_prefix("endpoint=\""))?
                .trim_end_matches('"');
            let code = labels
                .split(',')
                .find_map(|kv| kv.strip_prefix("code=\""))?
                .trim_end_matches('"');
            ((endpoint == "/invocations" || endpoint.ends_with("/infer"))
                && code.starts_with(class))
            .then(|| value.trim().parse::<f64>().ok())?
        })
        .sum()
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_prediction_requests_only() {
        let text = "# TYPE lab_serve_requests_total counter\n\
lab_serve_requests_total{endpoint=\"/invocations\",code=\"200\"} 5\n\
lab_serve_requests_total{endpoint=\"/v2/models/wine/infer\",code=\"200\"} 1\n\
lab_serve_requests_total{endpoint=\"/invocations\",code=\"400\"} 17\n\
lab_serve_requests_total{endpoint=\"/v2/health/ready\",code=\"200\"} 40\n\
lab_serve_requests_total_other{endpoint=\"/invocations\"} 9\n\
lab_serve_predictions_total 4\n";
        assert_eq!(super::requests_total(text, "2"), 6.0);
        assert_eq!(super::requests_total(text, "4"), 17.0);
        assert_eq!(
            super::gauge(
                "process_start_time_seconds 1.7e9\n",
                "process_start_time_seconds"
            ),
            Some(1.7e9)
        );
    }
}
