//! The service as its clients meet it: the real binary on 127.0.0.1:0 with a database in a
//! temporary directory, real HTTP.
//!
//! `contract_matches_the_monolith` replays the context's GET requests against the monolith and
//! this service and compares the JSON answers. It runs when `MONOLITH_URL` is set (and copies
//! the monolith's rows first when `MONOLITH_DB` names its database file; `CONTRACT_SAMPLES`
//! lists the values tried for path parameters, `1,2,3,999999` by default).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// The context's routes: method and path as the monolith serves them.
const ROUTES: [(&str, &str); 4] = [
    ("DELETE", "/api/reviews/{id}"),
    ("GET", "/api/movies/{id}/reviews"),
    ("GET", "/api/reviews/{id}"),
    ("POST", "/api/movies/{id}/reviews"),
];

/// Values tried for a path parameter: existing rows of the seed, and one that is not there.
const SAMPLE_IDS: [&str; 4] = ["1", "2", "3", "999999"];

static NEXT_DIR: AtomicU32 = AtomicU32::new(0);

/// A scratch directory removed on drop.
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn new() -> ScratchDir {
        let dir = std::env::temp_dir().join(format!(
            "reviews-service-test-{}-{}",
            std::process::id(),
            NEXT_DIR.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        ScratchDir(dir)
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The running service, killed on drop.
struct Service {
    child: Child,
    addr: String,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(db: &Path) -> Service {
    let mut child = Command::new(env!("CARGO_BIN_EXE_reviews-service"))
        .args(["--addr", "127.0.0.1:0", "--db"])
        .arg(db)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the service starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("the service prints its address");
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_string();
    Service { child, addr }
}

/// One HTTP/1.1 request; the status code and the body.
fn request(addr: &str, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let body = body.unwrap_or("");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\nx-request-id: test-1\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("write");
    stream.write_all(body.as_bytes()).expect("write");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").expect("a complete answer");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("a status code");
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    (status, body)
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 || tail.len() < size {
            break;
        }
        out.push_str(&tail[..size]);
        rest = tail[size..].trim_start_matches("\r\n");
    }
    out
}

fn with_sample(path: &str, value: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        match rest[open..].find('}') {
            Some(close) => {
                out.push_str(value);
                rest = &rest[open + close + 1..];
            }
            None => {
                rest = &rest[open..];
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn health_and_readiness_answer() {
    let dir = ScratchDir::new();
    let service = start(&dir.0.join("service.db"));
    let (status, body) = request(&service.addr, "GET", "/healthz", None);
    assert_eq!(status, 200, "{body}");
    let (status, body) = request(&service.addr, "GET", "/readyz", None);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("ready"), "{body}");
}

#[test]
fn readiness_fails_when_the_database_loses_its_tables() {
    let dir = ScratchDir::new();
    let db = dir.0.join("service.db");
    let service = start(&db);
    let conn = rusqlite::Connection::open(&db).expect("open");
    conn.execute_batch("PRAGMA foreign_keys = OFF;")
        .expect("pragma");
    conn.execute_batch(&format!(
        "DROP TABLE \"{}\";",
        reviews_service::ops::OWNED_TABLES[0]
    ))
    .expect("drop");
    let (status, body) = request(&service.addr, "GET", "/readyz", None);
    assert_eq!(status, 503, "{body}");
}

#[test]
fn metrics_count_requests_in_prometheus_text() {
    let dir = ScratchDir::new();
    let service = start(&dir.0.join("service.db"));
    request(&service.addr, "GET", "/healthz", None);
    let (status, body) = request(&service.addr, "GET", "/metrics", None);
    assert_eq!(status, 200);
    let line = body
        .lines()
        .find(|line| line.starts_with("http_requests_total{") && line.contains("2xx"))
        .expect("a 2xx counter");
    let count: u64 = line
        .rsplit(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a number");
    assert!(count >= 1, "{body}");
}

#[test]
fn every_route_answers_with_json() {
    let dir = ScratchDir::new();
    let service = start(&dir.0.join("service.db"));
    for (method, path) in ROUTES {
        let body = (method == "POST" || method == "PUT" || method == "PATCH").then_some("{}");
        let concrete = with_sample(path, "1");
        let (status, text) = request(&service.addr, method, &concrete, body);
        assert_ne!(status, 405, "{method} {concrete} is not routed: {text}");
        assert!(
            !text.contains("route_not_found"),
            "{method} {concrete} is not routed: {text}"
        );
        let json: Result<serde_json::Value, _> = serde_json::from_str(&text);
        assert!(
            json.is_ok(),
            "{method} {concrete} answered {status} without JSON: {text}"
        );
    }
    let (status, _) = request(&service.addr, "GET", "/no/such/route", None);
    assert_eq!(status, 404);
}

#[test]
fn contract_matches_the_monolith() {
    let Ok(monolith) = std::env::var("MONOLITH_URL") else {
        eprintln!("MONOLITH_URL is not set: contract test skipped");
        return;
    };
    let monolith_addr = monolith
        .trim_end_matches('/')
        .strip_prefix("http://")
        .expect("MONOLITH_URL starts with http://")
        .to_string();
    let dir = ScratchDir::new();
    let db = dir.0.join("service.db");
    if let Ok(monolith_db) = std::env::var("MONOLITH_DB") {
        let output = Command::new(env!("CARGO_BIN_EXE_reviews-service"))
            .args(["copy-from", "--monolith-db", &monolith_db, "--db"])
            .arg(&db)
            .output()
            .expect("copy-from runs");
        assert!(
            output.status.success(),
            "copy-from failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        eprint!("{}", String::from_utf8_lossy(&output.stdout));
    }
    let service = start(&db);
    // CONTRACT_SAMPLES=a,b,c replaces the values tried for path parameters.
    let sample_values: Vec<String> = match std::env::var("CONTRACT_SAMPLES") {
        Ok(list) => list.split(',').map(|v| v.trim().to_string()).collect(),
        Err(_) => SAMPLE_IDS.iter().map(|v| v.to_string()).collect(),
    };
    let mut compared = 0;
    let mut successes = 0;
    let mut differences = Vec::new();
    for (method, path) in ROUTES.iter().filter(|(method, _)| *method == "GET") {
        let samples: Vec<String> = if path.contains('{') {
            sample_values
                .iter()
                .map(|id| with_sample(path, id))
                .collect()
        } else {
            vec![path.to_string()]
        };
        for concrete in samples {
            let expected = request(&monolith_addr, method, &concrete, None);
            let actual = request(&service.addr, method, &concrete, None);
            let parse = |text: &str| serde_json::from_str::<serde_json::Value>(text).ok();
            compared += 1;
            if expected.0 == 200 {
                successes += 1;
            }
            if expected.0 != actual.0 || parse(&expected.1) != parse(&actual.1) {
                differences.push(format!(
                    "{method} {concrete}\n  monolith: {} {}\n  service:  {} {}",
                    expected.0, expected.1, actual.0, actual.1
                ));
            }
        }
    }
    eprintln!(
        "contract: compared {compared} requests ({successes} answered 200 by the monolith), {} differ",
        differences.len()
    );
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}
