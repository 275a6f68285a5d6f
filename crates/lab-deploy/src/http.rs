//! HTTP to our own servers on loopback (readiness probes, the gateway's
//! admin API, `mlops-lab predict`, traffic), through hyper's client: header
//! values are validated (no CR/LF smuggling), chunked bodies are decoded,
//! bodies are capped, and the load generator shares one pooled client whose
//! kept-alive connections later requests reuse. One-off calls use a client
//! of their own.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::http::{HeaderValue, Method, Request, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::{DeployError, Result};

/// A response body larger than this is refused rather than buffered.
pub const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;
/// No answer within this is an error (servers answer in milliseconds).
const TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    /// Status line and headers, as received.
    pub head: String,
    pub body: String,
}

/// One request and its response, both as HTTP/1.1 text.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Exchange {
    pub request: String,
    pub response: String,
    pub status: u16,
    pub body: String,
    pub latency_ms: f64,
}

/// A pooled client: keep-alive connections, reused by later requests.
pub(crate) type HttpClient = Client<HttpConnector, Full<Bytes>>;

pub(crate) fn client() -> HttpClient {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.set_connect_timeout(Some(Duration::from_secs(5)));
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(30))
        .build(connector)
}

/// One request as a learner would read it on the wire.
pub(crate) struct Outgoing<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub content_type: Option<&'a str>,
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
}

impl Outgoing<'_> {
    fn build(&self, endpoint: &str) -> Result<Request<Full<Bytes>>> {
        let bad = |what: String| DeployError::Http(format!("{endpoint}{}: {what}", self.path));
        if !endpoint.starts_with("http://") {
            return Err(DeployError::Http(format!(
                "`{endpoint}` is not an http:// endpoint"
            )));
        }
        let uri: Uri = format!("{}{}", endpoint.trim_end_matches('/'), self.path)
            .parse()
            .map_err(|e| bad(format!("not a valid URL ({e})")))?;
        let method = Method::from_bytes(self.method.as_bytes())
            .map_err(|_| bad(format!("`{}` is not an HTTP method", self.method)))?;
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(ct) = self.content_type {
            req = req.header("content-type", header_value(ct).map_err(bad)?);
        }
        for (k, v) in self.headers {
            req = req.header(*k, header_value(v).map_err(bad)?);
        }
        req.body(Full::new(Bytes::copy_from_slice(self.body)))
            .map_err(|e| bad(format!("invalid request: {e}")))
    }

    /// The request as HTTP/1.1 text, with the headers hyper adds (Host,
    /// Content-Length).
    fn text(&self, endpoint: &str) -> String {
        let host = endpoint
            .strip_prefix("http://")
            .unwrap_or(endpoint)
            .trim_end_matches('/');
        let mut head = format!("{} {} HTTP/1.1\r\nHost: {host}\r\n", self.method, self.path);
        if let Some(ct) = self.content_type {
            head.push_str(&format!("Content-Type: {ct}\r\n"));
        }
        for (k, v) in self.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        if !self.body.is_empty() || self.method != "GET" {
            head.push_str(&format!("Content-Length: {}\r\n", self.body.len()));
        }
        format!("{head}\r\n{}", String::from_utf8_lossy(self.body))
    }
}

/// A header value with no control characters (CR/LF would start a new
/// header or a new request).
fn header_value(v: &str) -> std::result::Result<HeaderValue, String> {
    if v.bytes().any(|b| b.is_ascii_control() && b != b'\t') {
        return Err(format!(
            "header value {v:?} contains a control character (CR, LF, ...)"
        ));
    }
    HeaderValue::from_str(v).map_err(|e| format!("invalid header value {v:?}: {e}"))
}

/// Send one request with `client` and read the whole (capped) response.
pub(crate) async fn send(
    client: &HttpClient,
    endpoint: &str,
    out: &Outgoing<'_>,
) -> Result<HttpResponse> {
    let req = out.build(endpoint)?;
    let fail = |what: String| DeployError::Http(format!("{endpoint}{}: {what}", out.path));
    let io = async {
        let resp = client.request(req).await.map_err(|e| fail(describe(&e)))?;
        let (parts, body) = resp.into_parts();
        let too_large = || {
            fail(format!(
                "the response is larger than {} MiB, the most the lab reads",
                MAX_RESPONSE_BYTES / (1024 * 1024)
            ))
        };
        let declared = parts
            .headers
            .get(hyper::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|n| n > MAX_RESPONSE_BYTES as u64) {
            return Err(too_large());
        }
        let bytes = Limited::new(body, MAX_RESPONSE_BYTES)
            .collect()
            .await
            .map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    too_large()
                } else {
                    fail(format!("reading the response failed: {e}"))
                }
            })?
            .to_bytes();
        let mut head = format!(
            "HTTP/1.1 {} {}",
            parts.status.as_u16(),
            parts.status.canonical_reason().unwrap_or("")
        );
        for (k, v) in &parts.headers {
            head.push_str(&format!(
                "\r\n{}: {}",
                k,
                String::from_utf8_lossy(v.as_bytes())
            ));
        }
        Ok(HttpResponse {
            status: parts.status.as_u16(),
            head,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        })
    };
    tokio::time::timeout(TIMEOUT, io)
        .await
        .map_err(|_| fail(format!("no answer within {} s", TIMEOUT.as_secs())))?
}

/// hyper's client error with its cause (connection refused, reset, ...).
fn describe(e: &hyper_util::client::legacy::Error) -> String {
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(cause) = src {
        s.push_str(&format!(": {cause}"));
        src = cause.source();
    }
    s
}

/// One request with extra headers (`X-Request-Id`, ...).
pub async fn request_with_headers(
    endpoint: &str,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<HttpResponse> {
    let out = Outgoing {
        method,
        path,
        content_type,
        headers,
        body,
    };
    send(&client(), endpoint, &out).await
}

/// Send one request and keep both sides as HTTP/1.1 text (for showing a
/// learner what went over the wire).
pub fn exchange(
    endpoint: &str,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Exchange> {
    let out = Outgoing {
        method,
        path,
        content_type,
        headers,
        body,
    };
    let request = out.text(endpoint);
    let t = std::time::Instant::now();
    let r = block_on(async { send(&client(), endpoint, &out).await })?;
    Ok(Exchange {
        request,
        response: format!("{}\r\n\r\n{}", r.head, r.body),
        status: r.status,
        body: r.body,
        latency_ms: t.elapsed().as_secs_f64() * 1000.0,
    })
}

pub(crate) async fn get_async(endpoint: &str, path: &str) -> Result<HttpResponse> {
    request_with_headers(endpoint, "GET", path, None, &[], b"").await
}

pub(crate) fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime")
        .block_on(f)
}

/// `GET endpoint+path`.
pub fn get(endpoint: &str, path: &str) -> Result<HttpResponse> {
    block_on(get_async(endpoint, path))
}

/// `method endpoint+path` with headers and a JSON body (blocking).
pub fn request_json(
    endpoint: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<HttpResponse> {
    block_on(request_with_headers(
        endpoint,
        method,
        path,
        (!body.is_empty()).then_some("application/json"),
        headers,
        body,
    ))
}

/// `POST endpoint+path` with a body of `content_type`.
pub fn post(endpoint: &str, path: &str, content_type: &str, body: &[u8]) -> Result<HttpResponse> {
    block_on(request_with_headers(
        endpoint,
        "POST",
        path,
        Some(content_type),
        &[],
        body,
    ))
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use super::*;

    /// A one-shot raw HTTP server on loopback answering with `response`.
    fn serve_once(response: &'static [u8]) -> (String, std::thread::JoinHandle<Vec<u8>>) {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = format!("http://{}", l.local_addr().unwrap());
        let h = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut buf = vec![0u8; 4096];
            let n = s.read(&mut buf).unwrap();
            // The client may hang up early (a refused body).
            let _ = s.write_all(response);
            buf.truncate(n);
            buf
        });
        (addr, h)
    }

    #[test]
    fn chunked_bodies_are_decoded() {
        let (addr, h) = serve_once(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
        );
        let r = get(&addr, "/x").unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.body, "hello world");
        let sent = String::from_utf8(h.join().unwrap()).unwrap();
        assert!(sent.starts_with("GET /x HTTP/1.1\r\n"), "{sent}");
    }

    #[test]
    fn headers_with_cr_or_lf_are_refused_before_sending() {
        for evil in ["a\r\nX-Admin: 1", "a\nb", "a\rb"] {
            let e = block_on(request_with_headers(
                "http://127.0.0.1:9",
                "POST",
                "/invocations",
                Some("application/json"),
                &[("X-Request-Id", evil)],
                b"{}",
            ))
            .unwrap_err()
            .to_string();
            assert!(e.contains("control character"), "{e}");
        }
        let e = post("http://127.0.0.1:9", "/x", "text/csv\r\nEvil: 1", b"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("control character"), "{e}");
    }

    #[test]
    fn oversized_bodies_are_refused() {
        // Declared far beyond the cap: refused before reading.
        let (addr, _h) = serve_once(
            b"HTTP/1.1 200 OK\r\nContent-Length: 999999999999\r\nConnection: close\r\n\r\nxx",
        );
        let e = get(&addr, "/big").unwrap_err().to_string();
        assert!(e.contains("larger than 16 MiB"), "{e}");
        // Chunked, so undeclared: read up to the cap, then refused.
        let chunk = vec![b'x'; 1 << 20];
        let mut body = Vec::new();
        body.extend_from_slice(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        );
        for _ in 0..17 {
            body.extend_from_slice(b"100000\r\n");
            body.extend_from_slice(&chunk);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(b"0\r\n\r\n");
        let (addr, _h) = serve_once(Box::leak(body.into_boxed_slice()));
        let e = get(&addr, "/big").unwrap_err().to_string();
        assert!(e.contains("larger than 16 MiB"), "{e}");
        // Just under the cap is read whole.
        let (addr, _h) =
            serve_once(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
        assert_eq!(get(&addr, "/ok").unwrap().body, "hello");
    }
}
