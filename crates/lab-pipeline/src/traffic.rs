//! Traffic: replay real rows of a drift scenario against a service, and
//! feed their ground truth late, as production labels arrive.

use lab_deploy::LoadRequest;
use lab_monitor::Latency;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::Value as J;

use crate::events::{Event, Stage};
use crate::lab::Lab;
use crate::{PipelineError, Result};

/// Which rows to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TrafficMix {
    /// The scenario's reference slice (what the model was trained on).
    Reference,
    /// The drifted slice.
    Drift,
    /// Reference at first, shifting linearly to the drifted slice.
    Shift,
}

impl std::str::FromStr for TrafficMix {
    type Err = PipelineError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "reference" => Ok(TrafficMix::Reference),
            "drift" | "current" => Ok(TrafficMix::Drift),
            "shift" | "mix" => Ok(TrafficMix::Shift),
            _ => Err(PipelineError::Invalid(format!(
                "unknown traffic mix `{s}`: use reference, drift or shift"
            ))),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrafficRequest {
    pub service: String,
    pub scenario: String,
    pub mix: TrafficMix,
    pub rps: f64,
    pub requests: usize,
    /// Feed the true labels of answered requests afterwards.
    pub labels: bool,
    pub seed: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrafficSummary {
    pub service: String,
    pub endpoint: String,
    pub sent: usize,
    pub ok: usize,
    pub errors: usize,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub seconds: f64,
    pub labels_fed: usize,
    pub first_error: Option<String>,
    pub start_ms: i64,
    pub end_ms: i64,
}

/// At most this many requests in one traffic run: every request is built
/// (and its outcome kept) in memory, so input cannot size it unbounded.
pub const MAX_TRAFFIC_REQUESTS: usize = 100_000;

/// The fastest rate one traffic run asks for.
pub const MAX_TRAFFIC_RPS: f64 = 10_000.0;

/// A traffic run's size and rate, checked before anything is built.
pub(crate) fn check_load(requests: usize, rps: f64) -> Result<()> {
    if !(rps > 0.0 && rps <= MAX_TRAFFIC_RPS) {
        return Err(PipelineError::Invalid(format!(
            "--rps must be between 0 and {MAX_TRAFFIC_RPS}, got {rps}"
        )));
    }
    if requests == 0 {
        return Err(PipelineError::Invalid(
            "send at least one request (--duration or --requests)".into(),
        ));
    }
    if requests > MAX_TRAFFIC_REQUESTS {
        return Err(PipelineError::Invalid(format!(
            "{requests} requests is more than one traffic run sends (at most {MAX_TRAFFIC_REQUESTS}): lower --requests, or --duration × --rps"
        )));
    }
    Ok(())
}

/// Row indices drawn without replacement, pass after shuffled pass.
struct Deck {
    rows: usize,
    order: Vec<usize>,
    next: usize,
    passes: usize,
    drawn: usize,
}

impl Deck {
    fn new(rows: usize) -> Self {
        Deck {
            rows,
            order: (0..rows).collect(),
            next: rows,
            passes: 0,
            drawn: 0,
        }
    }

    fn draw(&mut self, rng: &mut impl Rng) -> usize {
        if self.next == self.rows {
            self.order.shuffle(rng);
            self.next = 0;
            self.passes += 1;
        }
        self.next += 1;
        self.drawn += 1;
        self.order[self.next - 1]
    }
}

impl Lab {
    /// The drift scenario of `dataset` that traffic replays: `scenario` if
    /// given (it must belong to the dataset), else the dataset's first.
    pub fn traffic_scenario(&self, dataset: &str, scenario: Option<&str>) -> Result<String> {
        let spec = self.catalog.dataset(dataset)?;
        match scenario {
            Some(name) => {
                let (owner, sc) = self.catalog.scenario(name)?;
                if owner.name != spec.name {
                    return Err(PipelineError::Invalid(format!(
                        "scenario `{name}` belongs to dataset `{}`, not `{dataset}`",
                        owner.name
                    )));
                }
                Ok(sc.name.clone())
            }
            None => spec
                .scenarios
                .first()
                .map(|s| s.name.clone())
                .ok_or_else(|| {
                    PipelineError::Invalid(format!("dataset `{dataset}` has no drift scenario"))
                }),
        }
    }

    /// Send `requests` real rows at `rps` to the service's stable endpoint.
    pub fn traffic(&self, req: &TrafficRequest, sink: &dyn Fn(Event)) -> Result<TrafficSummary> {
        check_load(req.requests, req.rps)?;
        if self.store.service(&req.service)?.is_none() {
            return Err(PipelineError::NotFoundHint {
                what: format!("service `{}`", req.service),
                hint: "roll a model out first: `mlops-lab rollout MODEL@champion`".into(),
            });
        }
        let svc = self.ensure_gateway(&req.service, sink)?;
        let version = svc.active_version.ok_or_else(|| {
            PipelineError::Invalid(format!("service `{}` serves no model", svc.name))
        })?;
        let mv = self.store.model_version(&svc.model_name, version)?;
        let artifact = self.load_artifact(&mv)?;
        let features = artifact.preprocessor.feature_names();
        let (spec, sc) = self.catalog.scenario(&req.scenario)?;
        let target_col = spec.target(None)?.column.clone();
        let table = lab_data::read_csv(&self.catalog.path_of(spec), &spec.column_types())?;
        table.require_columns(features.iter())?;
        let (reference, current) = lab_data::scenario_slices(&table, sc)?;
        let rows_of =
            |t: &lab_data::Table| -> Result<(Vec<Vec<lab_model::Value>>, Vec<lab_model::Value>)> {
                let all: Vec<usize> = (0..t.rows()).collect();
                let x = t.raw_rows(&features, &all)?;
                let y = t
                    .raw_rows(std::slice::from_ref(&target_col), &all)?
                    .into_iter()
                    .map(|mut r| r.remove(0))
                    .collect();
                Ok((x, y))
            };
        // Rows with a missing feature or label are left out: the served
        // model was trained without them.
        let complete = |(x, y): (Vec<Vec<lab_model::Value>>, Vec<lab_model::Value>)| {
            x.into_iter()
                .zip(y)
                .filter(|(r, l)| {
                    *l != lab_model::Value::Missing && !r.contains(&lab_model::Value::Missing)
                })
                .unzip::<_, _, Vec<_>, Vec<_>>()
        };
        let (ref_x, ref_y) = complete(rows_of(&reference)?);
        let (cur_x, cur_y) = complete(rows_of(&current)?);
        if ref_x.is_empty() || cur_x.is_empty() {
            return Err(PipelineError::Invalid(format!(
                "scenario `{}` has no complete rows for the model's features",
                sc.name
            )));
        }
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(req.seed);
        let run_tag = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
        let n = req.requests;
        // Each slice is replayed without replacement: a shuffled pass over
        // its rows, and another pass only once every row was sent. A real
        // service does not see the same rows over and over, and repeated
        // rows would make the drift tests' p-values far too small.
        let mut decks = [Deck::new(ref_x.len()), Deck::new(cur_x.len())];
        let mut requests = Vec::with_capacity(n);
        let mut labels = Vec::with_capacity(n);
        for i in 0..n {
            let p_current = match req.mix {
                TrafficMix::Reference => 0.0,
                TrafficMix::Drift => 1.0,
                TrafficMix::Shift => i as f64 / (n.max(2) - 1) as f64,
            };
            let slice = usize::from(rng.r#gen::<f64>() < p_current);
            let (xs, ys) = if slice == 1 {
                (&cur_x, &cur_y)
            } else {
                (&ref_x, &ref_y)
            };
            let k = decks[slice].draw(&mut rng);
            let row: Vec<J> = xs[k].iter().map(lab_model::Value::to_json).collect();
            let body = serde_json::json!({
                "dataframe_split": {"columns": features, "data": [row]}
            });
            let request_id = format!("traffic-{run_tag}-{i:06}");
            labels.push((request_id.clone(), ys[k].to_json()));
            requests.push(LoadRequest {
                path: "/invocations".into(),
                content_type: "application/json".into(),
                body: body.to_string(),
                request_id,
            });
        }
        for (deck, what) in decks.iter().zip(["reference", "drifted"]) {
            if deck.passes > 1 {
                sink(Event::StageProgress {
                    stage: Stage::Monitor,
                    fraction: None,
                    message: format!(
                        "the {what} slice has {} complete rows, fewer than the {} requests drawn from it: they are replayed in {} shuffled passes (no row repeats within a pass)",
                        deck.rows, deck.drawn, deck.passes
                    ),
                });
            }
        }
        let endpoint = svc.endpoint();
        sink(Event::StageStarted {
            stage: Stage::Monitor,
            message: format!(
                "sending {n} {} rows of {} to {endpoint} at {} req/s",
                match req.mix {
                    TrafficMix::Reference => "reference",
                    TrafficMix::Drift => "drifted",
                    TrafficMix::Shift => "reference→drifted",
                },
                spec.name,
                req.rps
            ),
        });
        let deployer = self.deployer()?;
        let start_ms = lab_store::now_ms();
        let t0 = std::time::Instant::now();
        let step = (n / 50).max(1);
        let progress = |done: usize, total: usize| {
            if done.is_multiple_of(step) || done == total {
                sink(Event::StageProgress {
                    stage: Stage::Monitor,
                    fraction: Some(done as f64 / total as f64),
                    message: format!("{done}/{total} requests answered"),
                });
            }
        };
        let cancel = self.cancel_token().clone();
        let outcomes = deployer.load(&endpoint, requests, req.rps, &progress, &|| {
            cancel.is_cancelled()
        });
        let n = outcomes.len();
        let seconds = t0.elapsed().as_secs_f64();
        let end_ms = lab_store::now_ms();
        let ok: Vec<bool> = outcomes.iter().map(|o| o.status == 200).collect();
        let latencies: Vec<f64> = outcomes.iter().map(|o| o.latency_ms).collect();
        let lat = Latency::of(&latencies);
        let first_error = outcomes.iter().find(|o| o.status != 200).map(|o| {
            o.error
                .clone()
                .unwrap_or_else(|| format!("HTTP {}: {}", o.status, o.body.trim()))
        });
        // Ground truth arrives after the fact, for answered requests only.
        let labels_fed = if req.labels {
            let rows: Vec<(String, i64, String)> = labels
                .into_iter()
                .zip(&ok)
                .filter(|(_, ok)| **ok)
                .map(|((id, l), _)| (id, 0, l.to_string()))
                .collect();
            self.store.insert_ground_truth(&rows)?
        } else {
            0
        };
        let n_ok = ok.iter().filter(|x| **x).count();
        let summary = TrafficSummary {
            service: svc.name.clone(),
            endpoint,
            sent: n,
            ok: n_ok,
            errors: n - n_ok,
            p50_ms: lat.map(|l| l.p50),
            p95_ms: lat.map(|l| l.p95),
            p99_ms: lat.map(|l| l.p99),
            seconds,
            labels_fed,
            first_error,
            start_ms,
            end_ms,
        };
        if n < req.requests {
            sink(Event::StageFailed {
                stage: Stage::Monitor,
                message: format!("traffic cancelled after {n} of {} requests", req.requests),
            });
            return Err(PipelineError::Cancelled(format!(
                "traffic stopped after {n} of {} requests; the {n_ok} answered are in the prediction log{}",
                req.requests,
                if labels_fed > 0 {
                    " with their labels"
                } else {
                    ""
                }
            )));
        }
        sink(Event::StageFinished {
            stage: Stage::Monitor,
            message: format!(
                "{} sent, {} ok, {} errors, p99 {:.1} ms",
                summary.sent,
                summary.ok,
                summary.errors,
                summary.p99_ms.unwrap_or(0.0)
            ),
            millis: (seconds * 1000.0) as u64,
        });
        Ok(summary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deck_repeats_no_row_within_a_pass() {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(7);
        let mut deck = Deck::new(120);
        let drawn: Vec<usize> = (0..300).map(|_| deck.draw(&mut rng)).collect();
        for pass in drawn.chunks(120) {
            let mut p = pass.to_vec();
            p.sort_unstable();
            p.dedup();
            assert_eq!(p.len(), pass.len(), "a row repeated within a pass");
        }
        assert_eq!(deck.passes, 3);
        // Fewer requests than rows: every row at most once.
        let mut deck = Deck::new(120);
        let mut once: Vec<usize> = (0..100).map(|_| deck.draw(&mut rng)).collect();
        once.sort_unstable();
        once.dedup();
        assert_eq!((once.len(), deck.passes), (100, 1));
    }
}

/// What a front end asks of a traffic run. [`Lab::traffic_request`] fills
/// in the rest from the service, the same way for every front end.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrafficPlan {
    pub service: String,
    pub mix: TrafficMix,
    pub rps: f64,
    pub requests: usize,
    /// Feed the true labels back afterwards (late labels).
    #[serde(default = "yes")]
    pub labels: bool,
    /// The catalogue dataset whose rows are sent (default: the service's).
    #[serde(default)]
    pub dataset: Option<String>,
    /// Its drift scenario (default: the service's, else the dataset's first).
    #[serde(default)]
    pub scenario: Option<String>,
    /// Seed of the row sample; absent: a new sample each run.
    #[serde(default)]
    pub seed: Option<u64>,
}

fn yes() -> bool {
    true
}

impl Lab {
    /// The traffic request for `plan`: the service's dataset and drift
    /// scenario unless the plan names others, and a fresh seed unless it
    /// gives one.
    pub fn traffic_request(&self, plan: &TrafficPlan) -> Result<TrafficRequest> {
        check_load(plan.requests, plan.rps)?;
        let svc = self.service(&plan.service)?;
        // The dataset: the plan's, else its scenario's, else the service's.
        let scenario_owner = match &plan.scenario {
            Some(sc) => Some(self.catalog.scenario(sc)?.0.name.clone()),
            None => None,
        };
        let dataset = (plan.dataset.clone())
            .or(scenario_owner)
            .or(svc.dataset.clone())
            .ok_or_else(|| {
                PipelineError::Invalid(format!(
                    "service `{}` has no dataset recorded: name the dataset or scenario to send, roll the model out again (rollout, or Deploy in Models), or run the pipeline",
                    svc.name
                ))
            })?;
        // The scenario: the plan's, else the service's when it sends the
        // service's own dataset, else the dataset's first.
        let scenario = match &plan.scenario {
            Some(s) => Some(s.as_str()),
            None if svc.dataset.as_ref() == Some(&dataset) => svc.scenario.as_deref(),
            None => None,
        };
        let seed = plan.seed.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(42, |d| d.as_millis() as u64)
        });
        Ok(TrafficRequest {
            service: svc.name.clone(),
            scenario: self.traffic_scenario(&dataset, scenario)?,
            mix: plan.mix,
            rps: plan.rps,
            requests: plan.requests,
            labels: plan.labels,
            seed,
        })
    }
}
