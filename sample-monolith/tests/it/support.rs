//! Test harness: the real `sample-monolith` binary on an ephemeral loopback port with a fresh
//! database in a temp dir, and a tiny blocking HTTP/1.1 client (one connection per request,
//! `Connection: close`) so tests need no extra client crate.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

const START_TIMEOUT: Duration = Duration::from_secs(30);
const IO_TIMEOUT: Duration = Duration::from_secs(30);

/// A running server; killed on drop if not stopped.
pub struct Server {
    child: Option<Child>,
    /// Where it listens.
    pub addr: SocketAddr,
    db_path: PathBuf,
    _dir: Option<TempDir>,
}

impl Server {
    /// Starts a server on a fresh database.
    pub fn start() -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let db_path = dir.path().join("cinema.db");
        let mut server = Server::start_on(&db_path);
        server._dir = Some(dir);
        server
    }

    /// Starts a server on an existing (or new) database file; the caller owns its directory.
    pub fn start_on(db_path: &Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sample-monolith"))
            .arg("--addr")
            .arg("127.0.0.1:0")
            .arg("--db")
            .arg(db_path)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the sample-monolith binary starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = match rx.recv_timeout(START_TIMEOUT) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                panic!("server did not announce its address within {START_TIMEOUT:?}");
            }
        };
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| {
                let _ = child.kill();
                panic!("unexpected first line from server: {line:?}")
            });
        Server {
            child: Some(child),
            addr,
            db_path: db_path.to_path_buf(),
            _dir: None,
        }
    }

    /// The database file.
    pub fn db_path(&self) -> &Path {
        &self.db_path
    }

    /// Sends SIGTERM and waits for a graceful exit; returns the exit status.
    pub fn stop(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("server still running");
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = child.try_wait().expect("wait on server") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("server did not stop within 15s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> Response {
        request(self.addr, "GET", path, None)
    }

    /// `POST path` with a JSON body.
    pub fn post(&self, path: &str, body: &Value) -> Response {
        request(self.addr, "POST", path, Some(body))
    }

    /// `PUT path` with a JSON body.
    pub fn put(&self, path: &str, body: &Value) -> Response {
        request(self.addr, "PUT", path, Some(body))
    }

    /// `DELETE path`.
    pub fn delete(&self, path: &str) -> Response {
        request(self.addr, "DELETE", path, None)
    }

    /// Any request with a raw body and content type.
    pub fn raw(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Response {
        raw_request(self.addr, method, path, content_type, body)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A response: status and JSON body (`Value::Null` when empty or not JSON).
#[derive(Debug)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Parsed body.
    pub body: Value,
}

impl Response {
    /// The `error.code` of an error body; panics with the response when there is none.
    pub fn error_code(&self) -> &str {
        let code = self.body["error"]["code"].as_str();
        let message = self.body["error"]["message"].as_str();
        match (code, message) {
            (Some(code), Some(message)) if !message.is_empty() => code,
            _ => panic!("not an error body: {self:?}"),
        }
    }
}

/// Sends one request with an optional JSON body.
pub fn request(addr: SocketAddr, method: &str, path: &str, body: Option<&Value>) -> Response {
    match body {
        Some(json) => raw_request(
            addr,
            method,
            path,
            Some("application/json"),
            json.to_string().as_bytes(),
        ),
        None => raw_request(addr, method, path, None, b""),
    }
}

/// Sends one request and reads the whole response.
pub fn raw_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> Response {
    let mut stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT).expect("connect to server");
    stream.set_read_timeout(Some(IO_TIMEOUT)).expect("timeout");
    stream.set_write_timeout(Some(IO_TIMEOUT)).expect("timeout");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(content_type) = content_type {
        head.push_str(&format!("Content-Type: {content_type}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).expect("write request");
    stream.write_all(body).expect("write body");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read response");
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> Response {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("response has a header block");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut body = raw[split + 4..].to_vec();
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let chunked = head
        .lines()
        .any(|l| l.to_ascii_lowercase().starts_with("transfer-encoding:") && l.contains("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    Response { status, body }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = data.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&data[..line_end]).to_string();
        let size = usize::from_str_radix(size_text.trim(), 16).expect("chunk size");
        if size == 0 {
            break;
        }
        let start = line_end + 2;
        out.extend_from_slice(&data[start..start + size]);
        data = &data[start + size + 2..];
    }
    out
}

/// Creates a customer and returns its id.
pub fn create_customer(server: &Server, email: &str) -> i64 {
    let response = server.post(
        "/api/customers",
        &serde_json::json!({"email": email, "full_name": "Test Customer"}),
    );
    assert_eq!(response.status, 201, "{response:?}");
    response.body["id"].as_i64().expect("customer id")
}

/// Creates a movie and returns its id.
pub fn create_movie(server: &Server, title: &str) -> i64 {
    let response = server.post(
        "/api/movies",
        &serde_json::json!({
            "title": title, "genre": "drama", "duration_minutes": 100,
            "age_rating": "PG", "release_year": 2026
        }),
    );
    assert_eq!(response.status, 201, "{response:?}");
    response.body["id"].as_i64().expect("movie id")
}

/// Schedules a showtime and returns its id.
pub fn create_showtime(
    server: &Server,
    movie: i64,
    screen: i64,
    starts_at: &str,
    price: i64,
) -> i64 {
    let response = server.post(
        "/api/showtimes",
        &serde_json::json!({
            "movie_id": movie, "screen_id": screen, "starts_at": starts_at,
            "base_price_cents": price
        }),
    );
    assert_eq!(response.status, 201, "{response:?}");
    response.body["id"].as_i64().expect("showtime id")
}
