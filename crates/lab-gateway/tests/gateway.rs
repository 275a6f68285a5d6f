//! The gateway binary as a spawner runs it: loopback only, an admin API
//! that needs the spawn's token and a loopback Host, and a hung upstream
//! answered with 504 instead of a request that never ends.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const TOKEN: &str = "0123456789abcdef0123456789abcdef";

struct Gateway {
    child: Child,
    port: u16,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn gateway(args: &[&str], token: Option<&str>) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lab-gateway"));
    c.args(args)
        .env_remove("LAB_GATEWAY_TOKEN")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(t) = token {
        c.env("LAB_GATEWAY_TOKEN", t);
    }
    c
}

/// A gateway on a port it picks itself (`--listen 127.0.0.1:0`), read back
/// from its log: no race with another test for a "free" port.
fn start(upstream: &str, extra: &[&str]) -> Gateway {
    let mut args = vec!["--listen", "127.0.0.1:0", "--upstream", upstream];
    args.extend(extra);
    let mut child = gateway(&args, Some(TOKEN)).spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if let Some(rest) = line.split("listening on http://127.0.0.1:").nth(1) {
                let _ = tx.send(rest.trim().parse::<u16>().ok());
            }
        }
    });
    let port = rx
        .recv_timeout(Duration::from_secs(10))
        .ok()
        .flatten()
        .expect("the gateway logs the port it listens on");
    Gateway { child, port }
}

/// One raw HTTP/1.1 exchange; returns the status and the body.
fn http(port: u16, request: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = out
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    (status, body)
}

fn admin(port: u16, host: &str, auth: Option<&str>) -> (u16, String) {
    let auth = auth.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    http(
        port,
        &format!("GET /-/gateway HTTP/1.1\r\nHost: {host}\r\n{auth}Connection: close\r\n\r\n"),
    )
}

#[test]
fn it_listens_on_loopback_only_and_needs_a_token() {
    for (args, token) in [
        (vec!["--listen", "0.0.0.0:0"], Some(TOKEN)),
        (vec!["--listen", "[::]:0"], Some(TOKEN)),
        (vec!["--listen", "127.0.0.1:0"], None),
        (vec!["--listen", "127.0.0.1:0"], Some("short")),
    ] {
        let mut all = args.clone();
        all.extend(["--upstream", "http://127.0.0.1:9"]);
        let out = gateway(&all, token).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{all:?} {token:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("loopback") || err.contains("LAB_GATEWAY_TOKEN"),
            "{err}"
        );
    }
    // An unknown flag (a typo) is an error, not ignored.
    let out = gateway(
        &[
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            "http://127.0.0.1:9",
            "--upstream-timeout",
            "5",
        ],
        Some(TOKEN),
    )
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--upstream-timeout"), "{err}");
    // Upstreams are this machine's: loopback or a container bridge address.
    let out = gateway(
        &["--listen", "127.0.0.1:0", "--upstream", "http://8.8.8.8:80"],
        Some(TOKEN),
    )
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_admin_api_needs_the_token_and_a_loopback_host() {
    let g = start("http://127.0.0.1:9", &[]);
    let host = format!("127.0.0.1:{}", g.port);
    assert_eq!(admin(g.port, &host, None).0, 401);
    assert_eq!(admin(g.port, &host, Some("wrong-token-wrong-token")).0, 401);
    // DNS rebinding: a page on evil.example resolving to 127.0.0.1.
    let (status, body) = admin(g.port, "evil.example", Some(TOKEN));
    assert_eq!(status, 403, "{body}");
    for host in [host.as_str(), "localhost", "[::1]:80"] {
        let (status, body) = admin(g.port, host, Some(TOKEN));
        assert_eq!(status, 200, "{host}: {body}");
        assert!(
            body.contains("\"upstream\":\"http://127.0.0.1:9\""),
            "{body}"
        );
    }
    // Switching needs the token too, and refuses a public upstream.
    let switch = |auth: &str, upstream: &str| {
        let body = format!("{{\"upstream\": \"{upstream}\"}}");
        http(
            g.port,
            &format!(
                "PUT /-/gateway/upstream HTTP/1.1\r\nHost: {host}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            ),
        )
    };
    assert_eq!(switch("", "http://127.0.0.1:10").0, 401);
    let bearer = format!("Authorization: Bearer {TOKEN}\r\n");
    assert_eq!(switch(&bearer, "http://93.184.216.34:80").0, 400);
    assert_eq!(switch(&bearer, "http://172.17.0.2:8080").0, 200);
}

#[test]
fn a_hung_upstream_gets_504_not_a_request_that_never_ends() {
    // Accepts connections and never answers.
    let hung = TcpListener::bind("127.0.0.1:0").unwrap();
    let up = format!("http://{}", hung.local_addr().unwrap());
    let held = std::thread::spawn(move || {
        let mut conns = vec![];
        for c in hung.incoming().take(1) {
            conns.push(c.unwrap());
        }
        std::thread::sleep(Duration::from_secs(5));
        drop(conns);
    });
    let g = start(&up, &["--upstream-timeout-ms", "500"]);
    let t = Instant::now();
    let (status, body) = http(
        g.port,
        &format!(
            "GET /v2/health/ready HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
            g.port
        ),
    );
    assert_eq!(status, 504, "{body}");
    assert!(body.contains("upstream_timeout"), "{body}");
    assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
    held.join().unwrap();
}
