//! The server over real HTTP on loopback, with a model trained on the real
//! red-wine data, compared with in-process `predict` on the whole test split.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lab_data::{Catalog, PrepareOptions, Prepared, SplitSpec, TaskSpec, prepare, read_csv};
use lab_model::{ModelArtifact, ModelKind, Prediction, Value};
use lab_serve::{AppState, PredLog, PredictionRecord, ServerConfig};
use serde_json::{Value as Json, json};
use tokio::io::AsyncReadExt;

fn trained(dataset: &str, target: Option<&str>, kind: ModelKind) -> (Prepared, ModelArtifact) {
    let c = Catalog::load_default().unwrap();
    let d = c.dataset(dataset).unwrap();
    let t = read_csv(&c.path_of(d), &d.column_types()).unwrap();
    let task = TaskSpec::from_catalog(&c.root, d, d.target(target).unwrap(), None);
    let split = if task.reference_split.is_some() {
        SplitSpec::Reference
    } else {
        PrepareOptions::default().split
    };
    let p = prepare(
        &t,
        &task,
        &PrepareOptions {
            split,
            ..Default::default()
        },
    )
    .unwrap();
    let out = lab_train::train(&p, kind, &Default::default(), 42).unwrap();
    (p, out.artifact)
}

struct Server {
    addr: SocketAddr,
    log: Arc<Mutex<Vec<u8>>>,
}

impl Server {
    fn start(artifact: ModelArtifact, config: ServerConfig) -> Server {
        let (tx, rx) = std::sync::mpsc::channel();
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = log.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(listener.local_addr().unwrap()).unwrap();
                let (w, mut r) = tokio::io::duplex(1 << 16);
                tokio::spawn(async move {
                    let mut buf = [0u8; 8192];
                    while let Ok(n) = r.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                        sink.lock().unwrap().extend_from_slice(&buf[..n]);
                    }
                });
                let state = AppState::new(artifact, config, PredLog::to_writer(w));
                lab_serve::serve(listener, state, std::future::pending())
                    .await
                    .unwrap();
            });
        });
        let addr = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        Server { addr, log }
    }

    /// One HTTP/1.1 request; returns (status, body).
    fn http(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (u16, String) {
        let mut s = TcpStream::connect(self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes()).unwrap();
        // The server may answer (413) before reading all of a large body.
        let _ = s.write_all(body);
        let mut raw = Vec::new();
        let _ = s.read_to_end(&mut raw);
        let text = String::from_utf8_lossy(&raw).to_string();
        let status: u16 = text
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| panic!("no HTTP status in {text:?}"));
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        (status, body)
    }

    fn get(&self, path: &str) -> (u16, Json) {
        let (s, b) = self.http("GET", path, &[], b"");
        (s, serde_json::from_str(&b).unwrap_or(Json::String(b)))
    }

    fn post_json(&self, path: &str, v: &Json) -> (u16, Json) {
        let (s, b) = self.http(
            "POST",
            path,
            &[("Content-Type", "application/json")],
            v.to_string().as_bytes(),
        );
        (s, serde_json::from_str(&b).unwrap_or(Json::String(b)))
    }

    fn log_lines(&self, at_least: usize) -> Vec<PredictionRecord> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = String::from_utf8(self.log.lock().unwrap().clone()).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            if lines.len() >= at_least || Instant::now() > deadline {
                return lines
                    .iter()
                    .map(|l| serde_json::from_str(l).unwrap())
                    .collect();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn to_json(v: &Value) -> Json {
    match v {
        Value::Number(x) => json!(x),
        Value::Text(t) => json!(t),
        Value::Missing => Json::Null,
    }
}

fn labels(preds: &[Prediction]) -> Vec<Json> {
    preds
        .iter()
        .map(|p| match p {
            Prediction::Class { label, .. } => json!(label),
            Prediction::Value { value } => json!(value),
            Prediction::Cluster { cluster } => json!(cluster),
        })
        .collect()
}

#[test]
fn wine_classifier_over_every_protocol_equals_in_process_predict() {
    let (p, artifact) = trained("wine-quality-red", None, ModelKind::LogisticRegression);
    let expected = artifact.predict_rows(&p.raw_test).unwrap();
    let names = artifact
        .preprocessor
        .input_names()
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>();
    let server = Server::start(artifact, ServerConfig::new("wine", "3"));

    assert_eq!(server.get("/v2/health/live"), (200, json!({"live": true})));
    assert_eq!(
        server.get("/v2/health/ready"),
        (200, json!({"ready": true}))
    );
    assert_eq!(server.get("/v2/models/wine/ready").1["ready"], true);
    let (s, meta) = server.get("/v2/models/wine");
    assert_eq!(s, 200);
    assert_eq!(meta["versions"], json!(["3"]));
    assert_eq!(meta["inputs"].as_array().unwrap().len(), 11);
    assert_eq!(meta["inputs"][0]["shape"], json!([-1]));
    assert_eq!(server.get("/v2").1["name"], "lab-serve");
    assert_eq!(server.get("/ping").0, 200);
    assert_eq!(server.get("/health").0, 200);

    // OIP: one [N, 11] tensor, nested data, the whole test split at once.
    let n = p.raw_test.len();
    let nested: Vec<Vec<Json>> = p
        .raw_test
        .iter()
        .map(|r| r.iter().map(to_json).collect())
        .collect();
    let (s, resp) = server.post_json(
        "/v2/models/wine/infer",
        &json!({"id": "t1", "inputs": [{"name": "input-0", "shape": [n, 11], "datatype": "FP64", "data": nested}]}),
    );
    assert_eq!(s, 200, "{resp}");
    assert_eq!(resp["id"], "t1");
    assert_eq!(resp["model_version"], "3");
    assert_eq!(resp["outputs"][0]["data"], json!(labels(&expected)));
    let probs: Vec<f64> = resp["outputs"][1]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(resp["outputs"][1]["shape"], json!([n, 2]));
    for (r, pred) in expected.iter().enumerate() {
        let Prediction::Class {
            probabilities: Some(pr),
            ..
        } = pred
        else {
            panic!()
        };
        assert_eq!(&probs[r * 2..r * 2 + 2], pr.as_slice(), "row {r}");
    }

    // OIP: flat FP32 data, and one input per feature.
    let flat: Vec<Json> = nested.iter().flatten().cloned().collect();
    let (s, resp) = server.post_json(
        "/v2/models/wine/infer",
        &json!({"inputs": [{"name": "x", "shape": [n, 11], "datatype": "FP32", "data": flat}]}),
    );
    assert_eq!(s, 200);
    assert_eq!(resp["outputs"][0]["data"], json!(labels(&expected)));
    let per_feature: Vec<Json> = names
        .iter()
        .enumerate()
        .map(|(i, name)| json!({"name": name, "shape": [n], "datatype": "FP64", "data": nested.iter().map(|r| r[i].clone()).collect::<Vec<_>>()}))
        .collect();
    let (s, resp) = server.post_json(
        "/v2/models/wine/infer",
        &json!({"inputs": per_feature, "outputs": [{"name": "label"}]}),
    );
    assert_eq!(s, 200, "{resp}");
    assert_eq!(resp["outputs"].as_array().unwrap().len(), 1);
    assert_eq!(resp["outputs"][0]["data"], json!(labels(&expected)));

    // MLflow: the four JSON shapes and CSV give the same predictions.
    let want = json!({"predictions": labels(&expected)});
    let records: Vec<Json> = nested
        .iter()
        .map(|r| Json::Object(names.iter().cloned().zip(r.iter().cloned()).collect()))
        .collect();
    let mut cols = serde_json::Map::new();
    for (i, name) in names.iter().enumerate() {
        cols.insert(
            name.clone(),
            json!(nested.iter().map(|r| r[i].clone()).collect::<Vec<_>>()),
        );
    }
    for body in [
        json!({"dataframe_split": {"columns": names, "data": nested}}),
        json!({"dataframe_records": records}),
        json!({"instances": nested}),
        json!({"instances": records}),
        json!({"inputs": nested}),
        json!({"inputs": cols}),
    ] {
        let (s, resp) = server.post_json("/invocations", &body);
        assert_eq!(s, 200, "{resp}");
        assert_eq!(resp, want);
    }
    // Columns in another order are matched by name.
    let mut rev = names.clone();
    rev.reverse();
    let rev_data: Vec<Vec<Json>> = nested
        .iter()
        .map(|r| r.iter().rev().cloned().collect())
        .collect();
    assert_eq!(
        server
            .post_json(
                "/invocations",
                &json!({"dataframe_split": {"columns": rev, "data": rev_data}})
            )
            .1,
        want
    );
    let mut csv = names.join(",") + "\n";
    for r in &p.raw_test {
        let cells: Vec<String> = r
            .iter()
            .map(|v| match v {
                Value::Number(x) => x.to_string(),
                _ => String::new(),
            })
            .collect();
        csv.push_str(&(cells.join(",") + "\n"));
    }
    let (s, b) = server.http(
        "POST",
        "/invocations",
        &[("Content-Type", "text/csv")],
        csv.as_bytes(),
    );
    assert_eq!(s, 200, "{b}");
    assert_eq!(serde_json::from_str::<Json>(&b).unwrap(), want);

    // Every prediction was logged, with features and model version.
    let served = 3 + 6 + 1 + 1;
    let log = server.log_lines(served * n);
    assert_eq!(log.len(), served * n);
    assert_eq!(log[0].version, "3");
    assert_eq!(log[0].features.len(), 11);
    assert_eq!(log[0].prediction, json!(labels(&expected)[0]));
    let mut seqs: Vec<u64> = log.iter().map(|r| r.seq).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=(served * n) as u64).collect::<Vec<_>>());
}

#[test]
fn bad_requests_get_their_4xx_and_never_a_5xx() {
    let (_p, artifact) = trained("wine-quality-red", None, ModelKind::LogisticRegression);
    let mut cfg = ServerConfig::new("wine", "1");
    cfg.max_batch = 50;
    cfg.max_body_bytes = 64 * 1024;
    let server = Server::start(artifact, cfg);
    let row: Vec<f64> = vec![
        7.4, 0.7, 0.0, 1.9, 0.076, 11.0, 34.0, 0.9978, 3.51, 0.56, 9.4,
    ];
    let infer = |body: Json| server.post_json("/v2/models/wine/infer", &body);
    let oip = |data: Json, shape: Json| json!({"inputs": [{"name": "x", "shape": shape, "datatype": "FP64", "data": data}]});

    let cases: Vec<(&str, (u16, Json), u16, &str)> = vec![
        (
            "wrong feature count",
            infer(oip(json!([[1.0, 2.0]]), json!([1, 2]))),
            400,
            "wrong feature count",
        ),
        (
            "shape/data mismatch",
            infer(oip(json!(row), json!([2, 11]))),
            400,
            "needs 22 values",
        ),
        (
            // 2^60 × 11 does not fit in 64 bits.
            "shape whose product overflows",
            infer(oip(json!([]), json!([1152921504606846976i64, 11]))),
            400,
            "too large",
        ),
        (
            "unknown feature",
            infer(
                json!({"inputs": [{"name": "colour", "shape": [1], "datatype": "FP64", "data": [1]}]}),
            ),
            400,
            "unknown feature name(s): colour",
        ),
        (
            "NaN as text",
            infer(
                json!({"inputs": [{"name": "x", "shape": [1, 11], "datatype": "BYTES", "data": ["NaN","1","1","1","1","1","1","1","1","1","1"]}]}),
            ),
            400,
            "not a finite number",
        ),
        (
            "empty batch",
            infer(oip(json!([]), json!([0, 11]))),
            400,
            "batch is empty",
        ),
        (
            "batch above limit",
            infer(oip(json!(row.repeat(51)), json!([51, 11]))),
            400,
            "the limit is 50",
        ),
        (
            "bad datatype",
            infer(
                json!({"inputs": [{"name": "x", "shape": [1, 11], "datatype": "FP8", "data": row}]}),
            ),
            400,
            "not supported",
        ),
        (
            "not JSON",
            {
                let (s, b) = server.http(
                    "POST",
                    "/v2/models/wine/infer",
                    &[("Content-Type", "application/json")],
                    b"{oops",
                );
                (s, serde_json::from_str(&b).unwrap())
            },
            400,
            "not a valid inference request",
        ),
        (
            "unknown model",
            server.post_json("/v2/models/nope/infer", &oip(json!(row), json!([1, 11]))),
            404,
            "unknown model `nope`",
        ),
        (
            "binary extension",
            {
                let (s, b) = server.http(
                    "POST",
                    "/v2/models/wine/infer",
                    &[("Inference-Header-Content-Length", "10")],
                    b"{}",
                );
                (s, serde_json::from_str(&b).unwrap())
            },
            400,
            "binary tensor extension",
        ),
        (
            "MLflow: no shape key",
            server.post_json("/invocations", &json!({"rows": [row]})),
            400,
            "none of dataframe_split",
        ),
        (
            "MLflow: two shape keys",
            server.post_json(
                "/invocations",
                &json!({"instances": [row], "inputs": [row]}),
            ),
            400,
            "several of",
        ),
        (
            "MLflow: unknown column",
            server.post_json(
                "/invocations",
                &json!({"dataframe_records": [{"colour": 1}]}),
            ),
            400,
            "unknown feature name(s): colour",
        ),
        (
            "MLflow: text in number",
            server.post_json(
                "/invocations",
                &json!({"instances": [["x",0.7,0,1.9,0.076,11,34,0.9978,3.51,0.56,9.4]]}),
            ),
            400,
            "expected a number",
        ),
        (
            "MLflow: missing value, no imputer",
            server.post_json(
                "/invocations",
                &json!({"instances": [[null,0.7,0,1.9,0.076,11,34,0.9978,3.51,0.56,9.4]]}),
            ),
            400,
            "trained without imputation",
        ),
    ];
    for (what, (status, body), want_status, want_text) in cases {
        assert_eq!(status, want_status, "{what}: {body}");
        let msg = body["error"]
            .as_str()
            .or(body["message"].as_str())
            .unwrap_or_default();
        assert!(msg.contains(want_text), "{what}: {body}");
    }
    let (s, b) = server.http(
        "POST",
        "/invocations",
        &[("Content-Type", "application/xml")],
        b"<x/>",
    );
    assert_eq!(s, 415, "{b}");
    let (s, b) = server.http(
        "POST",
        "/invocations",
        &[("Content-Type", "application/json")],
        &vec![b' '; 100 * 1024],
    );
    assert_eq!(s, 413, "{b}");
    assert!(b.contains("larger than the server's limit"), "{b}");
    let (s, b) = server.http(
        "POST",
        "/invocations",
        &[("Content-Type", "application/json")],
        b"{\"instances\": [[1, 2]]}",
    );
    assert_eq!((s, b.contains("BAD_REQUEST")), (400, true), "{b}");
    assert_eq!(server.get("/nope").0, 404);

    // 1,000 randomised malformed bodies: never a crash, never a 5xx.
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let valid =
        json!({"inputs": [{"name": "x", "shape": [1, 11], "datatype": "FP64", "data": row}]})
            .to_string();
    let valid_ml =
        json!({"dataframe_split": {"columns": ["fixed_acidity"], "data": [[1.0]]}}).to_string();
    for i in 0..1000 {
        let base = if i % 2 == 0 { &valid } else { &valid_ml };
        let mut bytes = base.as_bytes().to_vec();
        for _ in 0..(1 + next() % 6) {
            if bytes.is_empty() {
                bytes.push(b'{');
            }
            let pos = (next() as usize) % bytes.len();
            match next() % 4 {
                0 => bytes[pos] = (next() % 256) as u8,
                1 => {
                    bytes.remove(pos);
                }
                2 => bytes.insert(pos, b"{}[],:\"-e.0N"[(next() % 12) as usize]),
                _ => bytes.truncate(pos.max(1)),
            }
        }
        let path = if i % 2 == 0 {
            "/v2/models/wine/infer"
        } else {
            "/invocations"
        };
        let (s, b) = server.http(
            "POST",
            path,
            &[("Content-Type", "application/json")],
            &bytes,
        );
        assert!(
            s < 500,
            "body {:?} gave {s}: {b}",
            String::from_utf8_lossy(&bytes)
        );
    }
    // Still serving.
    assert_eq!(infer(oip(json!(row), json!([1, 11]))).0, 200);

    // The counters match what was sent.
    let (s, text) = server.http("GET", "/metrics", &[], b"");
    assert_eq!(s, 200);
    let count = |endpoint: &str, code: &str| -> u64 {
        let needle =
            format!("lab_serve_requests_total{{endpoint=\"{endpoint}\",code=\"{code}\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(&needle))
            .map(|v| v.trim().parse().unwrap())
            .unwrap_or(0)
    };
    let infer_total: u64 = text
        .lines()
        .filter(|l| l.starts_with("lab_serve_requests_total{endpoint=\"/v2/models/{name}/infer\""))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(infer_total, 11 + 500 + 1, "{text}");
    assert_eq!(count("/invocations", "415"), 1);
    assert!(
        text.contains("# TYPE lab_serve_request_duration_seconds histogram"),
        "{text}"
    );
    assert!(
        text.contains("lab_serve_model_info{model=\"wine\",version=\"1\""),
        "{text}"
    );
    assert!(text.contains("lab_serve_requests_in_flight"), "{text}");
    // The standard process metric: when this server started.
    let started: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("process_start_time_seconds "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no process_start_time_seconds: {text}"));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!(
        started <= now && now - started < 600.0,
        "{started} vs {now}"
    );
}

#[test]
fn regressor_and_categorical_features_by_name() {
    // penguins body mass: species, island and sex are categorical (BYTES).
    let (p, artifact) = trained("penguins", Some("body_mass_g"), ModelKind::LinearRegression);
    let expected = artifact.predict_rows(&p.raw_test).unwrap();
    let names: Vec<String> = artifact
        .preprocessor
        .input_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let kinds: Vec<bool> = artifact
        .preprocessor
        .features
        .iter()
        .map(|f| matches!(f.kind, lab_model::InputKind::Categorical { .. }))
        .collect();
    let server = Server::start(artifact, ServerConfig::new("penguins", "1"));
    let n = p.raw_test.len();
    let inputs: Vec<Json> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            json!({"name": name, "shape": [n], "datatype": if kinds[i] { "BYTES" } else { "FP64" },
                   "data": p.raw_test.iter().map(|r| to_json(&r[i])).collect::<Vec<_>>()})
        })
        .collect();
    let (s, resp) = server.post_json("/v2/models/penguins/infer", &json!({"inputs": inputs}));
    assert_eq!(s, 200, "{resp}");
    assert_eq!(resp["outputs"][0]["name"], "value");
    assert_eq!(resp["outputs"][0]["data"], json!(labels(&expected)));
    let (_, text) = server.http("GET", "/metrics", &[], b"");
    assert!(
        text.contains("# TYPE lab_serve_predicted_value histogram"),
        "{text}"
    );
    assert!(
        text.contains(&format!("lab_serve_predictions_total {n}")),
        "{text}"
    );
}

#[test]
fn no_prediction_log_line_is_lost_under_concurrent_load() {
    let (p, artifact) = trained("wine-quality-red", None, ModelKind::LogisticRegression);
    let server = Arc::new(Server::start(artifact, ServerConfig::new("wine", "1")));
    let rows: Vec<Vec<Json>> = p
        .raw_test
        .iter()
        .take(5)
        .map(|r| r.iter().map(to_json).collect())
        .collect();
    let body = json!({"instances": rows});
    let (threads, requests) = (8, 60);
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let server = server.clone();
            let body = body.clone();
            std::thread::spawn(move || {
                for _ in 0..requests {
                    assert_eq!(server.post_json("/invocations", &body).0, 200);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let expected = threads * requests * 5;
    let log = server.log_lines(expected);
    assert_eq!(log.len(), expected);
    let mut seqs: Vec<u64> = log.iter().map(|r| r.seq).collect();
    seqs.sort_unstable();
    seqs.dedup();
    assert_eq!(seqs.len(), expected, "every line has its own seq");
}

#[test]
fn request_ids_and_failed_requests_join_the_prediction_log() {
    let (p, artifact) = trained("wine-quality-red", None, ModelKind::LogisticRegression);
    let server = Server::start(artifact, ServerConfig::new("wine", "2"));
    let rows: Vec<Vec<Json>> = p.raw_test[..2]
        .iter()
        .map(|r| r.iter().map(to_json).collect())
        .collect();
    let body = json!({"instances": rows}).to_string();
    let (s, _) = server.http(
        "POST",
        "/invocations",
        &[
            ("Content-Type", "application/json"),
            ("X-Request-Id", "req-42"),
        ],
        body.as_bytes(),
    );
    assert_eq!(s, 200);
    // A failed prediction request is logged as an error line.
    let (s, _) = server.http(
        "POST",
        "/invocations",
        &[
            ("Content-Type", "application/json"),
            ("X-Request-Id", "bad-1"),
        ],
        b"{not json",
    );
    assert_eq!(s, 400);
    // Non-prediction endpoints are not.
    assert_eq!(server.get("/nope").0, 404);
    let deadline = Instant::now() + Duration::from_secs(10);
    let lines: Vec<Json> = loop {
        let text = String::from_utf8(server.log.lock().unwrap().clone()).unwrap();
        let lines: Vec<Json> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        if lines.len() >= 3 || Instant::now() > deadline {
            break lines;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[0]["type"], "prediction");
    assert_eq!(lines[0]["request_id"], "req-42");
    assert_eq!(
        (lines[0]["row"].clone(), lines[1]["row"].clone()),
        (json!(0), json!(1))
    );
    assert_eq!(lines[1]["request_id"], "req-42");
    assert_eq!(lines[2]["type"], "error");
    assert_eq!(lines[2]["status"], 400);
    assert_eq!(lines[2]["request_id"], "bad-1");
    assert_eq!(lines[2]["endpoint"], "/invocations");
    // One sequence across both kinds: a collector sees no gap.
    let seqs: Vec<u64> = lines.iter().map(|l| l["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, vec![1, 2, 3]);
}

#[test]
fn the_binary_listens_on_loopback_unless_told_otherwise() {
    let (_p, artifact) = trained("iris", None, ModelKind::GaussianNb);
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model.json");
    std::fs::write(&model, artifact.to_json_bytes()).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_lab-serve"))
        .args(["serve", "--model"])
        .arg(&model)
        .args(["--port", &port.to_string()])
        .env_remove("LAB_SERVE_HOST")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = child.stderr.take().unwrap();
    let mut line = String::new();
    let mut byte = [0u8; 1];
    while !line.contains("serving on") && std::io::Read::read(&mut err, &mut byte).unwrap() == 1 {
        line.push(byte[0] as char);
    }
    while !line.ends_with('\n') && std::io::Read::read(&mut err, &mut byte).unwrap() == 1 {
        line.push(byte[0] as char);
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        line.contains(&format!("serving on http://127.0.0.1:{port}")),
        "{line}"
    );
}

#[test]
fn the_binary_refuses_unknown_flags_and_stray_arguments() {
    for args in [
        vec!["serve", "--modle", "model.json"],
        vec!["serve", "model.json"],
        vec!["healthcheck", "--port"],
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_lab-serve"))
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("usage:"), "{args:?}: {err}");
    }
}
