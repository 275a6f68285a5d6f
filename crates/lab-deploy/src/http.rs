//! A minimal HTTP/1.1 client for our own servers on loopback: readiness
//! probes and `mlops-lab predict`. One request per connection.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::{DeployError, Result};

#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    /// Status line and headers, as received.
    pub head: String,
    pub body: String,
}

/// One request and its response, both as the raw text on the wire.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Exchange {
    pub request: String,
    pub response: String,
    pub status: u16,
    pub body: String,
    pub latency_ms: f64,
}

fn request_head(
    addr: &str,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    headers: &[(&str, &str)],
    body_len: usize,
) -> String {
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {body_len}\r\n"
    );
    if let Some(ct) = content_type {
        head.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    head
}

fn host_port(endpoint: &str) -> Result<String> {
    endpoint
        .strip_prefix("http://")
        .map(|r| r.trim_end_matches('/').to_string())
        .ok_or_else(|| DeployError::Http(format!("`{endpoint}` is not an http:// endpoint")))
}

pub(crate) async fn request_async(
    endpoint: &str,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<HttpResponse> {
    request_with_headers(endpoint, method, path, content_type, &[], body).await
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
    let addr = host_port(endpoint)?;
    let io = async {
        let mut s = tokio::net::TcpStream::connect(&addr).await?;
        let head = request_head(&addr, method, path, content_type, headers, body.len());
        s.write_all(head.as_bytes()).await?;
        s.write_all(body).await?;
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).await?;
        Ok::<_, std::io::Error>(raw)
    };
    let raw = tokio::time::timeout(Duration::from_secs(30), io)
        .await
        .map_err(|_| DeployError::Http(format!("{endpoint}{path}: no answer within 30 s")))?
        .map_err(|e| DeployError::Http(format!("{endpoint}{path}: {e}")))?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| DeployError::Http(format!("{endpoint}{path}: not an HTTP response")))?;
    Ok(HttpResponse {
        status,
        head: head.to_string(),
        body: body.to_string(),
    })
}

/// Send one request and keep both sides as raw text (for showing a learner
/// what went over the wire).
pub fn exchange(
    endpoint: &str,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Exchange> {
    let addr = host_port(endpoint)?;
    let request = format!(
        "{}{}",
        request_head(&addr, method, path, content_type, headers, body.len()),
        String::from_utf8_lossy(body)
    );
    let t = std::time::Instant::now();
    let r = block_on(request_with_headers(
        endpoint,
        method,
        path,
        content_type,
        headers,
        body,
    ))?;
    Ok(Exchange {
        request,
        response: format!("{}\r\n\r\n{}", r.head, r.body),
        status: r.status,
        body: r.body,
        latency_ms: t.elapsed().as_secs_f64() * 1000.0,
    })
}

pub(crate) async fn get_async(endpoint: &str, path: &str) -> Result<HttpResponse> {
    request_async(endpoint, "GET", path, None, b"").await
}

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
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

/// `PUT endpoint+path` with a JSON body.
pub fn put_json(endpoint: &str, path: &str, body: &[u8]) -> Result<HttpResponse> {
    block_on(request_async(
        endpoint,
        "PUT",
        path,
        Some("application/json"),
        body,
    ))
}

/// `POST endpoint+path` with a body of `content_type`.
pub fn post(endpoint: &str, path: &str, content_type: &str, body: &[u8]) -> Result<HttpResponse> {
    block_on(request_async(
        endpoint,
        "POST",
        path,
        Some(content_type),
        body,
    ))
}
