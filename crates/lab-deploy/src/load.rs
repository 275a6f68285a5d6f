//! A small HTTP load generator: requests at a fixed rate, each timed.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::http;

/// One request to send.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoadRequest {
    pub path: String,
    pub content_type: String,
    pub body: String,
    /// Sent as `X-Request-Id`.
    pub request_id: String,
}

/// What happened to one request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Outcome {
    pub request_id: String,
    /// HTTP status, or 0 when no answer came (connection refused, timeout).
    pub status: u16,
    pub latency_ms: f64,
    pub body: String,
    pub error: Option<String>,
}

/// Send `requests` to `endpoint` at `rps` per second (open loop: a slow
/// answer does not delay the next request; at most 256 in flight) over
/// kept-alive connections that later requests reuse (as wrk does, so the
/// latencies are the server's, not a TCP handshake's), calling
/// `progress(done, total)` as answers arrive. Outcomes keep request order.
/// When `stop()` turns true no further request is sent; the outcomes of the
/// ones already sent are returned (fewer than `requests`).
pub async fn run_load(
    endpoint: &str,
    requests: Vec<LoadRequest>,
    rps: f64,
    progress: &dyn Fn(usize, usize),
    stop: &dyn Fn() -> bool,
) -> Vec<Outcome> {
    let total = requests.len();
    let gap = Duration::from_secs_f64(1.0 / rps.max(0.001));
    let limit = Arc::new(tokio::sync::Semaphore::new(256));
    let done = Arc::new(AtomicUsize::new(0));
    let client = http::client();
    let start = tokio::time::Instant::now();
    let mut handles = Vec::with_capacity(total);
    for (i, req) in requests.into_iter().enumerate() {
        tokio::time::sleep_until(start + gap * i as u32).await;
        if stop() {
            break;
        }
        let permit = limit.clone().acquire_owned().await.expect("semaphore open");
        let endpoint = endpoint.to_string();
        let counter = done.clone();
        let client = client.clone();
        handles.push(tokio::spawn(async move {
            let t = Instant::now();
            let out = http::Outgoing {
                method: "POST",
                path: &req.path,
                content_type: Some(&req.content_type),
                headers: &[("X-Request-Id", &req.request_id)],
                body: req.body.as_bytes(),
            };
            let r = http::send(&client, &endpoint, &out).await;
            let latency_ms = t.elapsed().as_secs_f64() * 1000.0;
            drop(permit);
            counter.fetch_add(1, Ordering::Relaxed);
            outcome(req.request_id, r, latency_ms)
        }));
        progress(done.load(Ordering::Relaxed), total);
    }
    let mut out = Vec::with_capacity(total);
    for h in handles {
        match h.await {
            Ok(o) => out.push(o),
            Err(e) => out.push(Outcome {
                request_id: String::new(),
                status: 0,
                latency_ms: 0.0,
                body: String::new(),
                error: Some(format!("request task failed: {e}")),
            }),
        }
        progress(out.len().max(done.load(Ordering::Relaxed)), total);
    }
    out
}

fn outcome(request_id: String, r: crate::Result<http::HttpResponse>, latency_ms: f64) -> Outcome {
    match r {
        Ok(r) => Outcome {
            request_id,
            status: r.status,
            latency_ms,
            body: r.body,
            error: None,
        },
        Err(e) => Outcome {
            request_id,
            status: 0,
            latency_ms,
            body: String::new(),
            error: Some(e.to_string()),
        },
    }
}

/// Send `requests` from `connections` workers, each sending its next
/// request as soon as its previous answer arrived (a closed loop, as wrk
/// does), over kept-alive connections: the server's throughput at that
/// concurrency. Returns the outcomes in request order and the wall time from
/// the first request to the last answer. When `stop` is set no further
/// request is sent.
pub async fn run_closed(
    endpoint: &str,
    requests: &[LoadRequest],
    connections: usize,
    stop: &AtomicBool,
) -> (Vec<Outcome>, Duration) {
    let client = http::client();
    let next = AtomicUsize::new(0);
    let start = Instant::now();
    let worker = || async {
        let mut mine = vec![];
        while !stop.load(Ordering::Relaxed) {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(req) = requests.get(i) else { break };
            let out = http::Outgoing {
                method: "POST",
                path: &req.path,
                content_type: Some(&req.content_type),
                headers: &[("X-Request-Id", &req.request_id)],
                body: req.body.as_bytes(),
            };
            let t = Instant::now();
            let r = http::send(&client, endpoint, &out).await;
            let latency_ms = t.elapsed().as_secs_f64() * 1000.0;
            mine.push((i, outcome(req.request_id.clone(), r, latency_ms)));
        }
        mine
    };
    let all = futures_util::future::join_all((0..connections.max(1)).map(|_| worker())).await;
    let elapsed = start.elapsed();
    let mut all: Vec<(usize, Outcome)> = all.into_iter().flatten().collect();
    all.sort_by_key(|(i, _)| *i);
    (all.into_iter().map(|(_, o)| o).collect(), elapsed)
}

/// [`run_closed`], blocking (on a runtime of its own: one thread).
pub fn load_closed(
    endpoint: &str,
    requests: &[LoadRequest],
    connections: usize,
    stop: &AtomicBool,
) -> (Vec<Outcome>, Duration) {
    http::block_on(run_closed(endpoint, requests, connections, stop))
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// A keep-alive HTTP/1.1 server on loopback that counts connections.
    fn counting_server() -> (String, Arc<AtomicUsize>) {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = format!("http://{}", l.local_addr().unwrap());
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        std::thread::spawn(move || {
            for conn in l.incoming() {
                let Ok(conn) = conn else { return };
                count.fetch_add(1, Ordering::SeqCst);
                std::thread::spawn(move || {
                    let mut w = conn.try_clone().unwrap();
                    let mut r = BufReader::new(conn);
                    loop {
                        let mut len = 0usize;
                        let mut line = String::new();
                        loop {
                            line.clear();
                            if r.read_line(&mut line).unwrap_or(0) == 0 {
                                return;
                            }
                            if line == "\r\n" {
                                break;
                            }
                            if let Some(v) =
                                line.to_ascii_lowercase().strip_prefix("content-length:")
                            {
                                len = v.trim().parse().unwrap();
                            }
                        }
                        let mut body = vec![0; len];
                        r.read_exact(&mut body).unwrap();
                        if w.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                            .is_err()
                        {
                            return;
                        }
                    }
                });
            }
        });
        (addr, accepted)
    }

    #[test]
    fn the_load_generator_reuses_connections() {
        let (addr, accepted) = counting_server();
        let requests: Vec<LoadRequest> = (0..200)
            .map(|i| LoadRequest {
                path: "/invocations".into(),
                content_type: "application/json".into(),
                body: "{}".into(),
                request_id: format!("r{i}"),
            })
            .collect();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let out = rt.block_on(run_load(&addr, requests, 500.0, &|_, _| {}, &|| false));
        assert_eq!(out.len(), 200);
        assert!(out.iter().all(|o| o.status == 200), "{:?}", out[0]);
        // One connection per request would be 200; kept-alive connections
        // are reused, as wrk's are.
        let n = accepted.load(Ordering::SeqCst);
        assert!(n <= 50, "{n} connections for 200 requests");
    }

    #[test]
    fn the_closed_loop_uses_its_connections_and_keeps_order() {
        let (addr, accepted) = counting_server();
        let requests: Vec<LoadRequest> = (0..300)
            .map(|i| LoadRequest {
                path: "/predict".into(),
                content_type: "application/json".into(),
                body: "{}".into(),
                request_id: format!("r{i}"),
            })
            .collect();
        let stop = AtomicBool::new(false);
        let (out, elapsed) = load_closed(&addr, &requests, 4, &stop);
        assert_eq!(out.len(), 300);
        assert!(out.iter().all(|o| o.status == 200), "{:?}", out[0]);
        assert!(
            out.iter()
                .enumerate()
                .all(|(i, o)| o.request_id == format!("r{i}"))
        );
        assert!(elapsed.as_nanos() > 0);
        // Four workers reuse kept-alive connections: a few, not one per
        // request (a connection is back in the pool just after its answer).
        let n = accepted.load(Ordering::SeqCst);
        assert!((1..=12).contains(&n), "{n} connections for 300 requests");
        // A set stop sends nothing.
        stop.store(true, Ordering::Relaxed);
        assert!(load_closed(&addr, &requests, 4, &stop).0.is_empty());
    }
}
