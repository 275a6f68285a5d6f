//! FastAPI prediction API (Month 2), a contract test: the lab runs the
//! learner's `train.py`, starts their `app.py` with uvicorn on a free
//! loopback port and checks it as a client would, in cumulative stages:
//! `/health`, `/openapi.json`, `/predict` on random held-out rows, 4xx for
//! malformed bodies, and agreement with the learner's own saved model (a
//! hard-coded answer fails). Then the same load goes to the learner's API and
//! to the lab's own `lab-serve`, side by side. The learner's server is
//! always stopped: a watchdog kills its process group past each stage's time
//! limit or on a cancel, and the guard's drop kills it on any other way out.

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lab_deploy::{HttpResponse, LoadRequest, Outcome};
use lab_monitor::Latency;
use lab_pipeline::{DataSource, ModelKind, TrainRequest};
use rand::SeedableRng;
use serde_json::{Value as J, json};

use super::wine::{self, TestRows};
use super::{Ctx, Exercise, exception_lines, explain_error, run_script};
use crate::check::Checks;
use crate::run::Supervised;

pub const ID: &str = "fastapi-predict";
const APP: &str = "app.py";
/// Random held-out rows sent to `/predict` in each check: 300 of the 400
/// test rows, so a model's accuracy on them is within ±0.013 (one standard
/// deviation) of its accuracy on all 400.
pub const SAMPLE: usize = 300;
/// Accuracy on them. The starter's model reaches 0.7350 on all 400 test
/// rows (6σ above the bar), a 0.70 model is 4σ above it; a constant answer
/// scores its class's share (0.54 or 0.46).
pub const MIN_ACCURACY: f64 = 0.65;
/// The side-by-side load: requests, and the warm-up before them.
pub const LOAD_REQUESTS: usize = 2000;
const WARM_UP: usize = 100;
pub const CONNECTIONS: usize = 8;

pub const EXERCISE: Exercise = Exercise {
    id: ID,
    lesson: "m2-11-prediction-api",
    title: "A FastAPI prediction API, contract-tested and load-tested against lab-serve",
    files: &[
        (
            "README.md",
            include_str!("../../starters/fastapi-predict/README.md"),
        ),
        (
            "train.py",
            include_str!("../../starters/fastapi-predict/train.py"),
        ),
        (
            "app.py",
            include_str!("../../starters/fastapi-predict/app.py"),
        ),
    ],
    packages: &["pandas", "scikit-learn", "fastapi", "uvicorn"],
    checks: &[
        "runs",
        "starts",
        "health",
        "openapi",
        "predict",
        "malformed",
        "agrees",
    ],
    run: check,
};

/// Kills the learner's server past a stage's time limit or on a cancel.
struct Guard<'a> {
    start: Instant,
    /// Milliseconds after `start` past which the server is killed.
    deadline_ms: AtomicU64,
    /// 0: not fired; 1: the time limit; 2: a cancel.
    fired: AtomicU8,
    done: AtomicBool,
    limit: Duration,
    cancel: &'a AtomicBool,
}

impl Guard<'_> {
    /// A new stage: its own time limit from now.
    fn arm(&self) {
        let now = self.start.elapsed() + self.limit;
        self.deadline_ms
            .store(now.as_millis() as u64, Ordering::Relaxed);
    }

    fn watch(&self, killer: crate::run::GroupKiller) {
        while !self.done.load(Ordering::Relaxed) {
            let why = if self.cancel.load(Ordering::Relaxed) {
                2
            } else if self.start.elapsed().as_millis() as u64
                > self.deadline_ms.load(Ordering::Relaxed)
            {
                1
            } else {
                0
            };
            if why != 0 {
                self.fired.store(why, Ordering::Relaxed);
                killer.kill();
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Why the server was stopped, if it was: (got, what to change).
    fn stopped(&self) -> Option<(String, String)> {
        match self.fired.load(Ordering::Relaxed) {
            1 => Some((
                format!(
                    "no answer within the time limit ({} s): the server was stopped",
                    self.limit.as_secs()
                ),
                "an endpoint (or the app's start-up) that never returns: look for a loop, a sleep, a wait on input or on a server that is not there".into(),
            )),
            2 => Some((
                "cancelled: the server was stopped".into(),
                "check again when you are ready".into(),
            )),
            _ => None,
        }
    }
}

/// The last exception a traceback in `log` names (`NotImplementedError: …`).
fn last_exception(log: &str) -> Option<String> {
    exception_lines(log).next_back().map(str::to_string)
}

/// The server's log once the traceback of an error it just answered is in
/// it: uvicorn logs the exception after it sent the 500, so wait a moment
/// (at most a second) for it.
fn log_after_error(server: &Supervised) -> String {
    for _ in 0..20 {
        let log = server.stderr_so_far();
        if last_exception(&log).is_some() {
            return log;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    server.stderr_so_far()
}

/// What to change for an exception the learner's endpoint raised.
fn explain_exception(e: &str) -> String {
    if e.starts_with("NotImplementedError") {
        return explain_error(e, APP);
    }
    let lower = e.to_lowercase();
    let why = if lower.contains("numpy") {
        "FastAPI cannot turn a numpy value into JSON: answer a Python value, e.g. {\"good\": bool(prediction)}".to_string()
    } else if lower.contains("feature names") {
        "the model wants the 11 measurements by name, as train.py fitted it: declare all 11 in Wine, in the CSV's order, and build the DataFrame from wine.model_dump()".to_string()
    } else {
        explain_error(e, APP)
    };
    format!("{why} (uvicorn's log: {e})")
}

/// What to change when the server answered `status` (with its log so far).
fn fix_for_status(status: u16, log: &str, route: &str) -> String {
    if status >= 500 {
        return match last_exception(log) {
            Some(e) => explain_exception(&e),
            None => format!(
                "{route} raised an error: run `python -m uvicorn app:app` in the folder and read the traceback it prints"
            ),
        };
    }
    if status == 404 || status == 405 {
        return format!("no {route} route in app.py: add it (the README shows the decorator)");
    }
    format!("{route} must answer 200")
}

fn short(body: &str) -> String {
    let body = body.trim();
    if body.chars().count() > 160 {
        format!("{}…", body.chars().take(160).collect::<String>())
    } else {
        body.to_string()
    }
}

fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// A JSON object with its keys in the order given (as a client builds it
/// from the CSV's columns; `serde_json`'s map would sort them).
fn object<'k>(pairs: impl IntoIterator<Item = (&'k str, J)>) -> String {
    let fields: Vec<String> = pairs
        .into_iter()
        .map(|(k, v)| format!("{}: {v}", J::from(k)))
        .collect();
    format!("{{{}}}", fields.join(", "))
}

/// One wine as `/predict` takes it: the measurements by name, in the
/// CSV's order.
fn wine_json(columns: &[String], row: &[f64]) -> String {
    object(
        columns
            .iter()
            .map(String::as_str)
            .zip(row.iter().map(|v| json!(v))),
    )
}

/// The learner's answer: `{"good": true|false}`.
fn good_of(body: &str) -> Option<bool> {
    serde_json::from_str::<J>(body).ok()?.get("good")?.as_bool()
}

fn check(ctx: &Ctx, checks: &mut Checks) {
    if run_script(ctx, checks, "train.py", &[]).is_none() {
        return;
    }
    let rows = match wine::test_rows(ctx.lab) {
        Ok(r) => r,
        Err(e) => {
            checks.fail(
                "starts",
                "read the lab's wine test rows",
                "the shipped wine data",
                e,
                "reinstall the lab's sample data",
            );
            return;
        }
    };
    let port = match lab_deploy::free_port() {
        Ok(p) => p,
        Err(e) => {
            checks.fail(
                "starts",
                "find a free port on 127.0.0.1",
                "a free port",
                e.to_string(),
                "free some ports (close servers you no longer need) and check again",
            );
            return;
        }
    };
    let shown =
        format!("python -m uvicorn app:app --host 127.0.0.1 --port {port}, in the exercise folder");
    let mut cmd = ctx.python.command();
    cmd.args(["-m", "uvicorn", "app:app", "--host", "127.0.0.1", "--port"])
        .arg(port.to_string());
    let (mut server, record) = match ctx.spawn(cmd) {
        Ok(s) => s,
        Err(e) => {
            checks.fail(
                "starts",
                shown,
                "the server answers",
                e.to_string(),
                "check the lab's Python: mlops-lab python doctor",
            );
            return;
        }
    };
    let guard = Guard {
        start: Instant::now(),
        deadline_ms: AtomicU64::new(0),
        fired: AtomicU8::new(0),
        done: AtomicBool::new(false),
        limit: ctx.limit,
        cancel: ctx.cancel,
    };
    guard.arm();
    let endpoint = format!("http://127.0.0.1:{port}");
    std::thread::scope(|s| {
        if let Some(killer) = server.killer() {
            let g = &guard;
            s.spawn(move || g.watch(killer));
        }
        let api = Api {
            ctx,
            endpoint: &endpoint,
            guard: &guard,
        };
        // The watchdog ends with the stages, even if they panic.
        let _done = DoneOnDrop(&guard.done);
        api.stages(checks, &mut server, &shown, &rows);
    });
    server.stop(Duration::from_secs(3));
    drop(record);
}

/// Sets the flag when dropped.
struct DoneOnDrop<'a>(&'a AtomicBool);

impl Drop for DoneOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// The learner's running API.
struct Api<'a> {
    ctx: &'a Ctx<'a>,
    endpoint: &'a str,
    guard: &'a Guard<'a>,
}

impl Api<'_> {
    fn get(&self, path: &str) -> lab_deploy::Result<HttpResponse> {
        lab_deploy::get(self.endpoint, path)
    }

    fn post(&self, body: &[u8]) -> lab_deploy::Result<HttpResponse> {
        lab_deploy::post(self.endpoint, "/predict", "application/json", body)
    }

    /// Record `stage` as failed because no answer came: stopped by the
    /// guard, or the server died (its last exception), or another error.
    fn no_answer(
        &self,
        checks: &mut Checks,
        stage: &str,
        ran: String,
        expected: String,
        err: String,
        server: &Supervised,
    ) {
        let (got, fix) = self.guard.stopped().unwrap_or_else(|| {
            let log = server.stderr_so_far();
            (
                format!("no answer: {err}"),
                if err.contains("no answer within") {
                    "an endpoint that never returns: look for a loop, a sleep, a wait on input or on a server that is not there".into()
                } else {
                    match last_exception(&log) {
                        Some(e) => explain_error(&e, APP),
                        None => "the server closed the connection: run `python -m uvicorn app:app` in the folder and watch its log".into(),
                    }
                },
            )
        });
        checks.fail(stage, ran, expected, got, fix);
    }

    fn stages(&self, checks: &mut Checks, server: &mut Supervised, shown: &str, rows: &TestRows) {
        if !self.starts(checks, server, shown)
            || !self.health(checks, server)
            || !self.openapi(checks, server, &rows.columns)
        {
            return;
        }
        self.guard.arm();
        let Some(sample) = self.predict(checks, server, rows) else {
            return;
        };
        self.guard.arm();
        if !self.malformed(checks, server, rows) {
            return;
        }
        self.guard.arm();
        if !self.agrees(checks, rows, &sample) {
            return;
        }
        self.guard.arm();
        self.side_by_side(checks, server, rows);
    }

    fn starts(&self, checks: &mut Checks, server: &mut Supervised, shown: &str) -> bool {
        let t = Instant::now();
        let expected = format!(
            "it answers GET /health within {} s",
            self.ctx.limit.as_secs()
        );
        loop {
            if let Some((got, fix)) = self.guard.stopped() {
                checks.fail("starts", shown, expected, got, fix);
                return false;
            }
            if !server.running() {
                let log = server.stderr_so_far();
                let (got, fix) = match last_exception(&log) {
                    Some(e) => (format!("it exited: {e}"), explain_error(&e, APP)),
                    None => (
                        format!("it exited: {}", short(&super::last_error_line_of(&log))),
                        "run `python -m uvicorn app:app` in the folder and read why it stops"
                            .into(),
                    ),
                };
                checks.fail("starts", shown, expected, got, fix);
                return false;
            }
            if self.get("/health").is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        checks.pass(
            "starts",
            shown,
            expected,
            format!("answering after {} ms", t.elapsed().as_millis()),
        );
        true
    }

    fn health(&self, checks: &mut Checks, server: &Supervised) -> bool {
        let ran = format!("GET {}/health", self.endpoint);
        let expected = "200".to_string();
        match self.get("/health") {
            Ok(r) if r.status == 200 => {
                checks.pass("health", ran, expected, format!("200 {}", short(&r.body)));
                true
            }
            Ok(r) => {
                let fix = fix_for_status(r.status, &log_after_error(server), "GET /health");
                checks.fail(
                    "health",
                    ran,
                    expected,
                    format!("{} {}", r.status, short(&r.body)),
                    fix,
                );
                false
            }
            Err(e) => {
                self.no_answer(checks, "health", ran, expected, e.to_string(), server);
                false
            }
        }
    }

    fn openapi(&self, checks: &mut Checks, server: &Supervised, columns: &[String]) -> bool {
        let ran = format!("GET {}/openapi.json", self.endpoint);
        let expected = "200, an OpenAPI document with GET /health and POST /predict".to_string();
        let r = match self.get("/openapi.json") {
            Ok(r) => r,
            Err(e) => {
                self.no_answer(checks, "openapi", ran, expected, e.to_string(), server);
                return false;
            }
        };
        let doc: Option<J> = (r.status == 200)
            .then(|| serde_json::from_str(&r.body).ok())
            .flatten();
        let Some(doc) = doc else {
            checks.fail(
                "openapi",
                ran,
                expected,
                format!("{} {}", r.status, short(&r.body)),
                "FastAPI serves /openapi.json by itself: keep `app = FastAPI(...)` without openapi_url=None",
            );
            return false;
        };
        let has = |path: &str, method: &str| doc["paths"][path].get(method).is_some();
        let mut missing = vec![];
        if !has("/health", "get") {
            missing.push("GET /health");
        }
        if !has("/predict", "post") {
            missing.push("POST /predict");
        }
        let body = doc["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]
            ["schema"]["$ref"]
            .as_str()
            .and_then(|r| r.rsplit('/').next())
            .map(str::to_string);
        let properties = body
            .as_ref()
            .and_then(|b| doc["components"]["schemas"][b]["properties"].as_object());
        let fields = properties.map_or(0, |p| p.len());
        // A declared body must declare every measurement (an undeclared
        // one, read by hand, is the malformed check's business).
        let undeclared: Vec<&str> = properties.map_or(vec![], |p| {
            columns
                .iter()
                .filter(|c| !p.contains_key(*c))
                .map(String::as_str)
                .collect()
        });
        let got = format!(
            "{} {}, {} paths; POST /predict body: {}",
            r.status,
            doc["info"]["title"].as_str().unwrap_or("(untitled)"),
            doc["paths"].as_object().map_or(0, |p| p.len()),
            body.map_or("not declared".into(), |b| format!("{b} ({fields} fields)"))
        );
        let fix = if !missing.is_empty() {
            Some(format!(
                "the document lacks {}: declare the routes with @app.get(\"/health\") and @app.post(\"/predict\")",
                missing.join(" and ")
            ))
        } else if !undeclared.is_empty() {
            Some(format!(
                "the body lacks {} of the 11 measurements: add {} to Wine, each a float, named as in the CSV",
                undeclared.len(),
                undeclared.join(", ")
            ))
        } else {
            None
        };
        if let Some(fix) = fix {
            checks.fail("openapi", ran, expected, got, fix);
            return false;
        }
        checks.pass("openapi", ran, expected, got);
        true
    }

    /// POST /predict for random test rows; returns (row positions, answers).
    fn predict(
        &self,
        checks: &mut Checks,
        server: &Supervised,
        rows: &TestRows,
    ) -> Option<Vec<(usize, bool)>> {
        let seed = now_nanos() % 1_000_000;
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
        let n = SAMPLE.min(rows.rows.len());
        let picked = rand::seq::index::sample(&mut rng, rows.rows.len(), n).into_vec();
        let ran = format!(
            "POST {}/predict, one wine per request, for {n} of the {} test rows drawn at random (seed {seed})",
            self.endpoint,
            rows.rows.len()
        );
        let expected = format!("200 {{\"good\": true|false}} each; accuracy ≥ {MIN_ACCURACY}");
        let mut answers = Vec::with_capacity(n);
        for &i in &picked {
            let body = wine_json(&rows.columns, &rows.rows[i]);
            let r = match self.post(body.as_bytes()) {
                Ok(r) => r,
                Err(e) => {
                    self.no_answer(checks, "predict", ran, expected, e.to_string(), server);
                    return None;
                }
            };
            let shown_row = format!("test row {} (CSV row {})", i, rows.index[i] + 2);
            if r.status != 200 {
                let fix = fix_for_status(r.status, &log_after_error(server), "POST /predict");
                checks.fail(
                    "predict",
                    ran,
                    expected,
                    format!(
                        "{shown_row}: {} {}; the body sent: {body}",
                        r.status,
                        short(&r.body)
                    ),
                    fix,
                );
                return None;
            }
            let Some(good) = good_of(&r.body) else {
                checks.fail(
                    "predict",
                    ran,
                    expected,
                    format!("{shown_row}: 200 {}", short(&r.body)),
                    "answer a JSON object with a boolean `good`: return {\"good\": bool(prediction)}",
                );
                return None;
            };
            answers.push((i, good));
        }
        let right = answers.iter().filter(|(i, g)| rows.good[*i] == *g).count();
        let acc = right as f64 / n.max(1) as f64;
        let goods = answers.iter().filter(|(_, g)| *g).count();
        let got = format!("{n} × 200, {goods} good; accuracy {acc:.4} ({right} of {n} right)");
        if acc < MIN_ACCURACY {
            let fix = if goods == 0 || goods == n {
                format!(
                    "every answer was good={}: predict with the model on the wine you were sent, not a fixed answer",
                    goods == n
                )
            } else {
                "predict with the model train.py saved (model.joblib), on the measurements you were sent, in the CSV's column order".into()
            };
            checks.fail("predict", ran, expected, got, fix);
            return None;
        }
        checks.pass("predict", ran, expected, got);
        Some(answers)
    }

    fn malformed(&self, checks: &mut Checks, server: &Supervised, rows: &TestRows) -> bool {
        let last = rows.columns.last().cloned().unwrap_or_default();
        let pairs = || {
            rows.columns
                .iter()
                .map(String::as_str)
                .zip(rows.rows[0].iter().map(|v| json!(v)))
        };
        let as_text = object(pairs().map(|(k, v)| {
            if k == last {
                (k, json!("strong"))
            } else {
                (k, v)
            }
        }));
        let without = object(pairs().filter(|(k, _)| *k != last));
        let cases: Vec<(String, String)> = vec![
            ("not JSON".into(), r#"{"fixed_acidity": 7.4,"#.into()),
            (format!("{last} as text"), as_text),
            (format!("{last} missing"), without),
            ("an empty object".into(), "{}".into()),
            ("a list".into(), json!(rows.rows[0]).to_string()),
        ];
        let ran = format!(
            "POST {}/predict with {}",
            self.endpoint,
            cases
                .iter()
                .map(|(what, _)| what.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        let expected =
            "4xx for each (FastAPI answers 422 from the body's type), never 5xx or 2xx".to_string();
        let mut got = vec![];
        for (what, body) in &cases {
            let r = match self.post(body.as_bytes()) {
                Ok(r) => r,
                Err(e) => {
                    self.no_answer(checks, "malformed", ran, expected, e.to_string(), server);
                    return false;
                }
            };
            got.push(format!("{what} → {}", r.status));
            if (400..500).contains(&r.status) {
                continue;
            }
            let fix = if r.status >= 500 {
                let log = last_exception(&log_after_error(server))
                    .map(|e| format!(" (uvicorn's log: {e})"))
                    .unwrap_or_default();
                format!(
                    "a bad body is the client's error, not the server's: declare it as the Wine model (`def predict(wine: Wine)`) and FastAPI answers 422 by itself; reading request.json() yourself turns it into a 500{log}"
                )
            } else {
                "the API answered a body it cannot have understood: declare every measurement as a float field of Wine, without a default".into()
            };
            checks.fail(
                "malformed",
                ran,
                expected,
                format!("{}: {}", got.join(", "), short(&r.body)),
                fix,
            );
            return false;
        }
        checks.pass("malformed", ran, expected, got.join(", "));
        true
    }

    /// The learner's saved model, loaded by the lab in a fresh Python, on
    /// the rows the API answered.
    fn agrees(&self, checks: &mut Checks, rows: &TestRows, sample: &[(usize, bool)]) -> bool {
        let ran = format!(
            "joblib.load(\"model.joblib\").predict(the same {} rows), in a fresh Python",
            sample.len()
        );
        let expected = "the API's answer = your model's prediction, row by row".to_string();
        let input = json!({
            "columns": rows.columns,
            "rows": sample.iter().map(|(i, _)| &rows.rows[*i]).collect::<Vec<_>>(),
        });
        let path = self.ctx.dir.join("data/agree.json");
        if let Err(e) = std::fs::write(&path, input.to_string()) {
            checks.fail(
                "agrees",
                ran,
                expected,
                format!("cannot write {}: {e}", path.display()),
                "make the exercise folder writable",
            );
            return false;
        }
        let mut cmd = self.ctx.python.command();
        cmd.arg("-c").arg(LOADER);
        let done = match self.ctx.run(cmd) {
            Ok(d) => d,
            Err(e) => {
                checks.fail(
                    "agrees",
                    ran,
                    expected,
                    e.to_string(),
                    "check the lab's Python: mlops-lab python doctor",
                );
                return false;
            }
        };
        let predictions: Option<Vec<J>> = done
            .success()
            .then(|| serde_json::from_str(done.stdout.trim()).ok())
            .flatten();
        let Some(predictions) = predictions.filter(|p| p.len() == sample.len()) else {
            checks.fail(
                "agrees",
                ran,
                expected,
                short(&done.tail(3)),
                "train.py must save the fitted model with joblib.dump(model, \"model.joblib\")",
            );
            return false;
        };
        let as_good = |p: &J| match p {
            J::Bool(b) => *b,
            J::Number(n) => n.as_f64().is_some_and(|x| x != 0.0),
            J::String(s) => matches!(s.as_str(), "good" | "True" | "true" | "1"),
            _ => false,
        };
        let differ: Vec<(usize, bool, bool)> = sample
            .iter()
            .zip(&predictions)
            .filter(|((_, api), p)| as_good(p) != *api)
            .map(|((i, api), p)| (*i, *api, as_good(p)))
            .collect();
        if let Some((i, api, model)) = differ.first() {
            checks.fail(
                "agrees",
                ran,
                expected,
                format!(
                    "{} of {} rows differ; first, test row {i}: the API said good={api}, your model good={model}",
                    differ.len(),
                    sample.len()
                ),
                "answer with the model train.py saved: load model.joblib once at start-up and predict on a one-row DataFrame in the CSV's column order; do not train another model in app.py or hard-code answers",
            );
            return false;
        }
        checks.pass(
            "agrees",
            ran,
            expected,
            format!("all {} rows agree", sample.len()),
        );
        true
    }

    /// The same load against the learner's API and the lab's lab-serve
    /// (the same model on the same split), one after the other; figures, not
    /// a stage.
    fn side_by_side(&self, checks: &mut Checks, server: &Supervised, rows: &TestRows) {
        let mut req = TrainRequest::new(
            DataSource::Catalog {
                name: "wine-quality-red".into(),
            },
            ModelKind::LogisticRegression,
        );
        req.target = Some("good".into());
        req.params.insert("C".into(), "1.0".into());
        let baseline = match self.ctx.lab.baseline_server(&req) {
            Ok(b) => b,
            Err(e) => {
                checks.figure("side by side", format!("not run: {e}"));
                return;
            }
        };
        let yours: Vec<LoadRequest> = (0..LOAD_REQUESTS + WARM_UP)
            .map(|k| {
                let i = k % rows.rows.len();
                LoadRequest {
                    path: "/predict".into(),
                    content_type: "application/json".into(),
                    body: wine_json(&rows.columns, &rows.rows[i]),
                    request_id: format!("load-{k}"),
                }
            })
            .collect();
        let columns: Vec<&String> = baseline
            .features
            .iter()
            .filter_map(|f| rows.columns.iter().find(|c| *c == f))
            .collect();
        let labs: Vec<LoadRequest> = (0..LOAD_REQUESTS + WARM_UP)
            .map(|k| {
                let i = k % rows.rows.len();
                let data: Vec<f64> = columns
                    .iter()
                    .map(|c| {
                        let j = rows.columns.iter().position(|x| x == *c).unwrap_or(0);
                        rows.rows[i][j]
                    })
                    .collect();
                LoadRequest {
                    path: "/invocations".into(),
                    content_type: "application/json".into(),
                    body: json!({"dataframe_split": {"columns": columns, "data": [data]}})
                        .to_string(),
                    request_id: format!("load-{k}"),
                }
            })
            .collect();
        let cancel = self.ctx.cancel;
        let measure = |endpoint: &str, reqs: &[LoadRequest]| {
            lab_deploy::load_closed(endpoint, &reqs[..WARM_UP], CONNECTIONS, cancel);
            lab_deploy::load_closed(endpoint, &reqs[WARM_UP..], CONNECTIONS, cancel)
        };
        let mine = measure(self.endpoint, &yours);
        let stopped = self.guard.stopped().map(|(g, _)| g);
        let lab = measure(&baseline.endpoint, &labs);
        let your_peak = server.pid().and_then(peak_memory);
        let lab_peak = peak_memory(baseline.pid);
        baseline.stop();
        checks.figure(
            "load",
            format!(
                "{LOAD_REQUESTS} POSTs of one wine each, from {CONNECTIONS} connections in a closed loop (after {WARM_UP} to warm up); both servers one process on 127.0.0.1; lab-serve serves the lab's scaled logistic regression (C = 1.0) on the same split, the model the starter's train.py fits"
            ),
        );
        let a = Measured::of(&mine.0, mine.1, your_peak);
        let b = Measured::of(&lab.0, lab.1, lab_peak);
        checks.figure(
            "your FastAPI app (uvicorn)",
            match stopped {
                Some(why) => format!("{} — {why}", a.shown()),
                None => a.shown(),
            },
        );
        checks.figure("the lab's lab-serve (static binary)", b.shown());
        if let (Some(pa), Some(pb)) = (a.latency.as_ref(), b.latency.as_ref())
            && a.throughput > 0.0
            && pb.p99 > 0.0
        {
            checks.figure(
                "lab-serve vs yours",
                format!(
                    "{:.1}× the throughput, p99 {:.1}× lower",
                    b.throughput / a.throughput,
                    pa.p99 / pb.p99
                ),
            );
        }
    }
}

/// One side of the load.
struct Measured {
    sent: usize,
    errors: usize,
    throughput: f64,
    latency: Option<Latency>,
    peak_bytes: Option<u64>,
}

impl Measured {
    /// Throughput and latencies count the answered requests (2xx) only:
    /// a refused connection is fast and says nothing of the server.
    fn of(outcomes: &[Outcome], elapsed: Duration, peak_bytes: Option<u64>) -> Measured {
        let ok: Vec<f64> = outcomes
            .iter()
            .filter(|o| (200..300).contains(&o.status))
            .map(|o| o.latency_ms)
            .collect();
        Measured {
            sent: outcomes.len(),
            errors: outcomes.len() - ok.len(),
            throughput: ok.len() as f64 / elapsed.as_secs_f64().max(1e-9),
            latency: Latency::of(&ok),
            peak_bytes,
        }
    }

    fn shown(&self) -> String {
        let lat = self.latency.as_ref().map_or("no 2xx answers".into(), |l| {
            format!("p50 {:.2} ms · p99 {:.2} ms", l.p50, l.p99)
        });
        let mem = self.peak_bytes.map_or(String::new(), |b| {
            format!(" · peak memory {:.0} MB", b as f64 / 1e6)
        });
        format!(
            "{:.0} answered requests/s · {lat} · {} of {} failed{mem}",
            self.throughput, self.errors, self.sent
        )
    }
}

/// A process's peak resident memory (`VmHWM` in `/proc/PID/status`).
fn peak_memory(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

const LOADER: &str = r#"
import json
import joblib
import pandas as pd
with open("data/agree.json") as f:
    d = json.load(f)
model = joblib.load("model.joblib")
X = pd.DataFrame(d["rows"], columns=d["columns"])
print(json.dumps([p.item() if hasattr(p, "item") else p for p in model.predict(X)]))
"#;
