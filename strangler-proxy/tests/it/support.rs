//! Real parts for the tests: small hyper upstreams on `127.0.0.1:0` that say who answered and
//! what they received, a proxy started in-process on real listeners, and an HTTP client.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering::Relaxed};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Value, json};
use strangler_proxy::{Proxy, RunningProxy, ValidConfig};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A test upstream. Paths:
/// - `/healthz`: answers the status in `health_status` (200 unless a test changes it);
/// - `/slow?ms=N`: waits N ms, then answers like any path;
/// - `/echo`: streams the request body back;
/// - anything else: JSON `{upstream, method, path, headers}`.
pub struct TestUpstream {
    pub name: String,
    pub addr: SocketAddr,
    pub hits: Arc<AtomicUsize>,
    pub health_status: Arc<AtomicU16>,
    task: JoinHandle<()>,
    stop: tokio::sync::watch::Sender<bool>,
}

impl Drop for TestUpstream {
    /// Stops accepting and closes every connection, like a killed process.
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        self.task.abort();
    }
}

type TestBody = BoxBody<Bytes, hyper::Error>;

fn full(bytes: impl Into<Bytes>) -> TestBody {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

impl TestUpstream {
    pub async fn start(name: &str) -> TestUpstream {
        TestUpstream::start_on(name, "127.0.0.1:0".parse().expect("addr")).await
    }

    /// Starts on a given address (to bring a "killed" upstream back where it was).
    pub async fn start_on(name: &str, address: SocketAddr) -> TestUpstream {
        let listener = TcpListener::bind(address).await.expect("bind upstream");
        let addr = listener.local_addr().expect("addr");
        let hits = Arc::new(AtomicUsize::new(0));
        let health_status = Arc::new(AtomicU16::new(200));
        let (task_name, task_hits, task_health) =
            (name.to_owned(), hits.clone(), health_status.clone());
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (name, hits, health) =
                    (task_name.clone(), task_hits.clone(), task_health.clone());
                let mut stopped = stopped.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request: Request<Incoming>| {
                        let (name, hits, health) = (name.clone(), hits.clone(), health.clone());
                        async move { Ok::<_, Infallible>(answer(&name, &hits, &health, request).await) }
                    });
                    let connection =
                        http1::Builder::new().serve_connection(TokioIo::new(stream), service);
                    tokio::select! {
                        _ = connection => {}
                        _ = stopped.changed() => {}
                    }
                });
            }
        });
        TestUpstream {
            name: name.to_owned(),
            addr,
            hits,
            health_status,
            task,
            stop,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn hits(&self) -> usize {
        self.hits.load(Relaxed)
    }
}

async fn answer(
    name: &str,
    hits: &AtomicUsize,
    health: &AtomicU16,
    request: Request<Incoming>,
) -> Response<TestBody> {
    let path = request.uri().path().to_owned();
    if path == "/healthz" {
        let status = StatusCode::from_u16(health.load(Relaxed)).unwrap_or(StatusCode::OK);
        let mut response = Response::new(full("health"));
        *response.status_mut() = status;
        return response;
    }
    hits.fetch_add(1, Relaxed);
    if request
        .headers()
        .get("x-hang-on")
        .is_some_and(|v| v == name)
    {
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    if request
        .headers()
        .get("x-fail-on")
        .is_some_and(|v| v == name)
    {
        let mut response = Response::new(full("failing on purpose"));
        *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        return response;
    }
    if path == "/echo" {
        let mut response = Response::new(request.into_body().boxed());
        response
            .headers_mut()
            .insert("x-upstream", name.parse().expect("name"));
        return response;
    }
    if path == "/slow" {
        let ms: u64 = request
            .uri()
            .query()
            .and_then(|q| q.strip_prefix("ms="))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let mut headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (key, value) in request.headers() {
        headers
            .entry(key.as_str().to_owned())
            .or_default()
            .push(String::from_utf8_lossy(value.as_bytes()).into_owned());
    }
    let nonce = request
        .headers()
        .contains_key("x-nonce")
        .then(|| hits.load(Relaxed));
    let body = json!({
        "nonce": nonce,
        "upstream": name,
        "method": request.method().as_str(),
        "path": request.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/"),
        "headers": headers,
    });
    let mut response = Response::new(full(body.to_string()));
    response
        .headers_mut()
        .insert("content-type", "application/json".parse().expect("ct"));
    // Hop-by-hop headers the proxy must not pass back to the client.
    response.headers_mut().insert(
        "connection",
        "keep-alive, x-upstream-hop".parse().expect("v"),
    );
    response
        .headers_mut()
        .insert("x-upstream-hop", "secret".parse().expect("v"));
    response
        .headers_mut()
        .insert("keep-alive", "timeout=5".parse().expect("v"));
    response
}

/// An address nothing listens on (bound, then released).
pub async fn dead_address() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    listener.local_addr().expect("addr")
}

/// An address where a connection never opens, held as long as the returned value lives: a
/// listener with a backlog of 0 whose queue is filled by connections it never accepts, so the
/// kernel drops further SYNs and a client's connect hangs (it retries for seconds). Checked:
/// panics if a connect there still completes.
pub async fn unanswered_address() -> (SocketAddr, impl Sized) {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .expect("bind");
    let listener = socket.listen(0).expect("listen");
    let addr = listener.local_addr().expect("addr");
    let mut queued = Vec::new();
    for _ in 0..8 {
        let connect = tokio::net::TcpStream::connect(addr);
        match tokio::time::timeout(Duration::from_millis(300), connect).await {
            Ok(stream) => queued.push(stream.expect("a queued connection")),
            // The queue holds at least one connection before it is full: a first connect
            // that is merely slow says nothing.
            Err(_hangs) if !queued.is_empty() => return (addr, (listener, queued)),
            Err(_slow) => {}
        }
    }
    panic!("connections to {addr} keep opening: the accept queue never fills here");
}

/// Replaces `{name}` placeholders with upstream URLs.
pub fn fill(template: &str, upstreams: &[&TestUpstream]) -> String {
    let mut text = template.to_owned();
    for upstream in upstreams {
        text = text.replace(&format!("{{{}}}", upstream.name), &upstream.url());
    }
    text
}

pub const HEADER: &str =
    "listen = \"127.0.0.1:0\"\nadmin = \"127.0.0.1:0\"\n[log]\ntarget = \"off\"\n";

/// Starts a proxy from config text (no file: reloads are not possible).
pub async fn start_proxy(toml: &str) -> RunningProxy {
    let config = ValidConfig::from_toml_str(toml, "<test>").unwrap_or_else(|e| panic!("{e}"));
    Proxy::start(config).await.expect("proxy starts")
}

/// A config file in a temp dir, and a proxy started from it.
pub struct FileProxy {
    /// Keeps the directory (and the config file) alive as long as the proxy.
    pub _dir: tempfile::TempDir,
    pub path: PathBuf,
    pub proxy: RunningProxy,
}

pub async fn start_proxy_from_file(toml: &str) -> FileProxy {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("strangler.toml");
    std::fs::write(&path, toml).expect("write config");
    let config = ValidConfig::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let proxy = Proxy::start(config).await.expect("proxy starts");
    FileProxy {
        _dir: dir,
        path,
        proxy,
    }
}

/// What the client got back.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&self.body)))
    }

    /// The name of the test upstream that answered.
    pub fn upstream(&self) -> String {
        self.json()["upstream"].as_str().unwrap_or("").to_owned()
    }

    /// The first value of a header the upstream received.
    pub fn seen(&self, header: &str) -> Option<String> {
        self.json()["headers"][header][0]
            .as_str()
            .map(str::to_owned)
    }
}

/// A keep-alive HTTP client.
#[derive(Clone)]
pub struct TestClient {
    client: Client<HttpConnector, Full<Bytes>>,
}

impl TestClient {
    pub fn new() -> TestClient {
        TestClient {
            client: Client::builder(TokioExecutor::new()).build(HttpConnector::new()),
        }
    }

    pub async fn send(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Result<Reply, String> {
        let mut request = Request::builder().method(method).uri(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(Full::new(body.into()))
            .map_err(|e| e.to_string())?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| format!("{e:?}"))?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
        Ok(Reply {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    }

    pub async fn get(&self, url: &str, headers: &[(&str, &str)]) -> Reply {
        self.send(Method::GET, url, headers, Bytes::new())
            .await
            .unwrap_or_else(|e| panic!("GET {url}: {e}"))
    }
}

/// Writes raw bytes on a fresh connection and returns everything read until the server closes
/// or `wait` passes.
pub async fn raw_exchange(addr: SocketAddr, request: &[u8], wait: Duration) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request).await.expect("write");
    let mut received = Vec::new();
    let _ = tokio::time::timeout(wait, stream.read_to_end(&mut received)).await;
    String::from_utf8_lossy(&received).into_owned()
}

/// Waits (polling, at most 2 s) until `condition` holds; panics if it never does.
pub async fn wait_until(condition: impl Fn() -> bool) {
    for _ in 0..100 {
        if condition() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("condition not reached within 2s");
}
