//! The proxy's upstream HTTP/1.1 codec against an upstream that answers with exact bytes:
//! every body framing (length, chunked, until close, none for HEAD and 204), interim answers,
//! keep-alive connections the upstream closes while idle, and answers that are not HTTP.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::support::{HEADER, TestClient, start_proxy};

/// An upstream on loopback that reads each request head and writes the canned answer its path
/// names; `close_after_idle` closes a keep-alive connection that long after an answer.
struct ScriptedUpstream {
    address: std::net::SocketAddr,
    connections: Arc<AtomicUsize>,
    requests: Arc<AtomicUsize>,
    /// Requests for `/die`, which closes the connection without an answer.
    dies: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ScriptedUpstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn answer(path: &str) -> (&'static [u8], bool) {
    // (bytes, close the connection after writing them)
    match path {
        "/length" => (
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Kind: length\r\n\r\nhello",
            false,
        ),
        "/chunked" => (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: x-sum\r\n\r\n\
              5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nx-sum: 11\r\n\r\n",
            false,
        ),
        "/until-close" => (
            b"HTTP/1.1 200 OK\r\nX-Kind: close\r\n\r\nread until the end",
            true,
        ),
        "/head" => (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", false),
        "/no-content" => (b"HTTP/1.1 204 No Content\r\n\r\n", false),
        "/continue" => (
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
            false,
        ),
        "/hop" => (
            b"HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Secret\r\nKeep-Alive: timeout=5\r\n\
              X-Secret: s\r\nX-Public: p\r\nContent-Length: 2\r\n\r\nok",
            false,
        ),
        "/http10" => (b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", true),
        "/own-id" => (
            b"HTTP/1.1 200 OK\r\nX-Request-Id: up-7\r\nDate: Sun, 06 Dec 2026 07:00:00 GMT\r\n\
              Connection: x-secret\r\nX-Secret: s\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\n\
              Content-Length: 2\r\n\r\nok",
            false,
        ),
        "/bad-chunk" => (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nnope\r\n",
            true,
        ),
        _ => (b"this is not HTTP\r\n\r\n", true),
    }
}

impl ScriptedUpstream {
    async fn start(close_after_idle: Option<Duration>) -> ScriptedUpstream {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let connections = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(AtomicUsize::new(0));
        let dies = Arc::new(AtomicUsize::new(0));
        let (counted, served, died) = (connections.clone(), requests.clone(), dies.clone());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                let counters = (served.clone(), died.clone());
                tokio::spawn(serve(stream, counters, close_after_idle));
            }
        });
        ScriptedUpstream {
            address,
            connections,
            requests,
            dies,
            task,
        }
    }

    fn config(&self) -> String {
        format!(
            "{HEADER}[upstreams.up]\nendpoints = [\"http://{}\"]\n[default]\nprimary = \"up\"\n",
            self.address
        )
    }
}

async fn serve(
    mut stream: TcpStream,
    (served, died): (Arc<AtomicUsize>, Arc<AtomicUsize>),
    close_after_idle: Option<Duration>,
) {
    let mut buffer = Vec::new();
    let mut answered = false;
    loop {
        // Read one request head (the tests send no request bodies except where noted).
        let head_end = loop {
            if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
            let mut chunk = [0u8; 4096];
            let read = match close_after_idle {
                Some(idle) if answered && buffer.is_empty() => {
                    match tokio::time::timeout(idle, stream.read(&mut chunk)).await {
                        Ok(read) => read,
                        Err(_) => return, // idle too long: close, as keep-alive timeouts do
                    }
                }
                _ => stream.read(&mut chunk).await,
            };
            match read {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
        buffer.drain(..head_end);
        let path = head.split(' ').nth(1).unwrap_or("/").to_owned();
        if path == "/die" {
            died.fetch_add(1, Ordering::SeqCst);
            return;
        }
        if path == "/early" {
            // Answers before reading the body, and closes: as servers refusing an upload do.
            let _ = stream
                .write_all(b"HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\nContent-Length: 4\r\n\r\nbig!")
                .await;
            return;
        }
        // Skip a declared request body.
        let length = head
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse::<usize>().ok())?
            })
            .unwrap_or(0);
        while buffer.len() < length {
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        }
        buffer.drain(..length);
        served.fetch_add(1, Ordering::SeqCst);
        let (bytes, close) = answer(&path);
        if stream.write_all(bytes).await.is_err() || close {
            return;
        }
        answered = true;
    }
}

fn url(proxy: &strangler_proxy::RunningProxy, path: &str) -> String {
    format!("http://{}{path}", proxy.listen_addr())
}

#[tokio::test]
async fn every_body_framing_arrives_whole_and_the_connection_is_reused() {
    let upstream = ScriptedUpstream::start(None).await;
    let proxy = start_proxy(&upstream.config()).await;
    let client = TestClient::new();

    for _ in 0..3 {
        let reply = client.get(&url(&proxy, "/length"), &[]).await;
        assert_eq!(
            (reply.status, &reply.body[..]),
            (StatusCode::OK, &b"hello"[..])
        );
        assert_eq!(reply.headers["x-kind"], "length");

        let reply = client.get(&url(&proxy, "/chunked"), &[]).await;
        assert_eq!(&reply.body[..], b"hello world");
        assert!(reply.headers.get("trailer").is_none(), "hop-by-hop");
    }
    // Nine answers with a length or chunked framing: one upstream connection served them all.
    assert_eq!(upstream.connections.load(Ordering::SeqCst), 1);

    let reply = client.get(&url(&proxy, "/until-close"), &[]).await;
    assert_eq!(&reply.body[..], b"read until the end");
    assert_eq!(reply.headers["x-kind"], "close");
    // That connection ended with its answer; the next request needs a new one and gets it.
    let reply = client.get(&url(&proxy, "/length"), &[]).await;
    assert_eq!(&reply.body[..], b"hello");
    assert_eq!(upstream.connections.load(Ordering::SeqCst), 2);
}

/// An HTTP/1.0 upstream is that hop's business: the client is answered in HTTP/1.1 and its
/// connection stays open for the next request.
#[tokio::test]
async fn an_http_1_0_upstream_is_answered_in_http_1_1_on_a_kept_connection() {
    let upstream = ScriptedUpstream::start(None).await;
    let proxy = start_proxy(&upstream.config()).await;
    let mut client = TcpStream::connect(proxy.listen_addr())
        .await
        .expect("connect");
    for round in 0..2 {
        client
            .write_all(b"GET /http10 HTTP/1.1\r\nHost: test\r\n\r\n")
            .await
            .expect("request");
        let mut answer = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while !answer.ends_with(b"\r\n\r\nok") {
            let mut chunk = [0u8; 1024];
            let read = tokio::time::timeout_at(deadline, client.read(&mut chunk))
                .await
                .expect("an answer in time")
                .expect("read");
            assert!(
                read > 0,
                "round {round}: the proxy closed the client's connection"
            );
            answer.extend_from_slice(&chunk[..read]);
        }
        let text = String::from_utf8_lossy(&answer);
        assert!(
            text.starts_with("HTTP/1.1 200 OK\r\n"),
            "round {round}: {text}"
        );
        assert!(
            !text.to_ascii_lowercase().contains("connection: close"),
            "{text}"
        );
    }
    // The upstream closed after each HTTP/1.0 answer: two connections to it, one to the client.
    assert_eq!(upstream.connections.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn head_204_and_interim_answers_have_no_body_to_wait_for() {
    let upstream = ScriptedUpstream::start(None).await;
    let proxy = start_proxy(&upstream.config()).await;
    let client = TestClient::new();

    let head = client
        .send(Method::HEAD, &url(&proxy, "/head"), &[], Bytes::new())
        .await
        .expect("HEAD");
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(
        head.headers["content-length"], "10",
        "the length a GET would have"
    );
    assert!(head.body.is_empty());

    let none = client.get(&url(&proxy, "/no-content"), &[]).await;
    assert_eq!(none.status, StatusCode::NO_CONTENT);

    let created = client
        .send(Method::POST, &url(&proxy, "/continue"), &[], "body")
        .await
        .expect("POST");
    assert_eq!(
        (created.status, &created.body[..]),
        (StatusCode::CREATED, &b"ok"[..])
    );

    let hop = client.get(&url(&proxy, "/hop"), &[]).await;
    assert_eq!(hop.headers["x-public"], "p");
    assert!(hop.headers.get("x-secret").is_none(), "named by Connection");
    assert!(hop.headers.get("keep-alive").is_none());
    // All on one connection: no answer was mistaken for a body or left bytes behind.
    assert_eq!(upstream.connections.load(Ordering::SeqCst), 1);
    assert_eq!(upstream.requests.load(Ordering::SeqCst), 4);
}

/// The upstream's fields reach the client as sent, once each, whichever server side answers:
/// the fast path writes them as received, hyper from the map they are merged into.
#[tokio::test]
async fn the_upstreams_own_fields_reach_the_client_once_on_either_server_side() {
    let upstream = ScriptedUpstream::start(None).await;
    let proxy = start_proxy(&upstream.config()).await;
    let client = TestClient::new();

    let plain = client.get(&url(&proxy, "/own-id"), &[]).await;
    let with_body = client
        .send(Method::POST, &url(&proxy, "/own-id"), &[], "body")
        .await
        .expect("POST");
    for (side, reply) in [("fast path", &plain), ("hyper", &with_body)] {
        assert_eq!(reply.status, StatusCode::OK, "{side}");
        let all = |name: &str| -> Vec<&[u8]> {
            reply
                .headers
                .get_all(name)
                .iter()
                .map(|value| value.as_bytes())
                .collect()
        };
        // The upstream's own id and date are kept, not joined by the proxy's.
        assert_eq!(all("x-request-id"), [&b"up-7"[..]], "{side}");
        assert_eq!(
            all("date"),
            [&b"Sun, 06 Dec 2026 07:00:00 GMT"[..]],
            "{side}"
        );
        assert_eq!(all("set-cookie"), [&b"a=1"[..], b"b=2"], "{side}");
        assert!(all("x-secret").is_empty(), "{side}: named by Connection");
        assert!(all("connection").is_empty(), "{side}");
        assert_eq!(&reply.body[..], b"ok", "{side}");
    }
}

#[tokio::test]
async fn answers_that_are_not_http_are_502_and_a_bad_chunk_cuts_the_reply() {
    let upstream = ScriptedUpstream::start(None).await;
    let proxy = start_proxy(&upstream.config()).await;
    let client = TestClient::new();

    let reply = client.get(&url(&proxy, "/garbage"), &[]).await;
    assert_eq!(reply.status, StatusCode::BAD_GATEWAY);
    assert_eq!(reply.json()["reason"], "upstream");

    // The head was already relayed when the body turned out malformed: the client's reply is
    // cut off (an error), never completed with made-up bytes.
    let cut = client
        .send(Method::GET, &url(&proxy, "/bad-chunk"), &[], Bytes::new())
        .await;
    assert!(cut.is_err(), "{cut:?}");

    // And the proxy goes on serving.
    let reply = client.get(&url(&proxy, "/length"), &[]).await;
    assert_eq!(&reply.body[..], b"hello");
}

#[tokio::test]
async fn keep_alive_connections_the_upstream_closed_while_idle_cost_no_request() {
    // The upstream closes a connection 50 ms after it went idle, as keep-alive timeouts do.
    let upstream = ScriptedUpstream::start(Some(Duration::from_millis(50))).await;
    let proxy = start_proxy(&upstream.config()).await;
    let client = TestClient::new();
    let methods = [
        Method::GET,
        Method::POST,
        Method::GET,
        Method::DELETE,
        Method::POST,
    ];
    for (round, method) in methods.iter().enumerate() {
        let reply = client
            .send(method.clone(), &url(&proxy, "/length"), &[], "x")
            .await
            .unwrap_or_else(|e| panic!("round {round}, {method}: {e}"));
        assert_eq!(&reply.body[..], b"hello", "round {round}, {method}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Each request found its pooled connection closed and used a new one.
    assert_eq!(upstream.connections.load(Ordering::SeqCst), methods.len());
    assert_eq!(upstream.requests.load(Ordering::SeqCst), methods.len());
}

#[tokio::test]
async fn a_request_that_kills_its_connection_is_sent_again_once_at_most() {
    let upstream = ScriptedUpstream::start(None).await;
    let proxy = start_proxy(&upstream.config()).await;
    let client = TestClient::new();
    // Several idle connections in the pool.
    let warm: Vec<_> = (0..6)
        .map(|_| {
            let (client, url) = (client.clone(), url(&proxy, "/length"));
            tokio::spawn(async move { client.get(&url, &[]).await })
        })
        .collect();
    for request in warm {
        request.await.expect("warm-up");
    }
    assert!(upstream.connections.load(Ordering::SeqCst) > 1);
    let reply = client.get(&url(&proxy, "/die"), &[]).await;
    assert_eq!(reply.status, StatusCode::BAD_GATEWAY);
    // A GET may be sent once more (the connection may just have gone stale), never once per
    // idle connection.
    let dies = upstream.dies.load(Ordering::SeqCst);
    assert!(
        (1..=2).contains(&dies),
        "the upstream saw /die {dies} times"
    );
}

#[tokio::test]
async fn an_early_answer_to_a_streamed_upload_reaches_the_client() {
    let upstream = ScriptedUpstream::start(None).await;
    let proxy = start_proxy(&upstream.config()).await;
    let body = vec![b'x'; 1 << 20];
    let reply = TestClient::new()
        .send(Method::POST, &url(&proxy, "/early"), &[], body)
        .await;
    // The upstream's own 413, not a 502 that would count against it.
    match reply {
        Ok(reply) => assert_eq!(
            (reply.status, &reply.body[..]),
            (StatusCode::PAYLOAD_TOO_LARGE, &b"big!"[..])
        ),
        Err(error) => panic!("no answer: {error}"),
    }
}

/// The proxy's own server side forwards a plain request's fields as the client spelled them,
/// in its order, with what the proxy sets in place of the client's after them.
#[tokio::test]
async fn a_plain_requests_fields_reach_the_upstream_as_the_client_spelled_them() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let upstream = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.expect("accept");
        let mut head = Vec::new();
        let mut buf = [0; 4096];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut buf).await.expect("read");
            assert!(n > 0, "the head ended early: {head:?}");
            head.extend_from_slice(&buf[..n]);
        }
        stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            .await
            .expect("write");
        String::from_utf8(head).expect("text")
    });
    let proxy = start_proxy(&format!(
        "{HEADER}[upstreams.raw]\nendpoints = [\"http://{address}\"]\n[default]\nprimary = \"raw\"\n"
    ))
    .await;
    let mut client = TcpStream::connect(proxy.listen_addr())
        .await
        .expect("connect");
    client
        .write_all(
            b"GET /p HTTP/1.1\r\nHOST: Shop.Example\r\nX-Request-ID: req-7\r\n\
              TraceState: k=v\r\nTraceParent: bogus\r\nX-Kept: Yes\r\nx-kept: again\r\n\r\n",
        )
        .await
        .expect("write");
    let head = tokio::time::timeout(Duration::from_secs(5), upstream)
        .await
        .expect("the request reaches the upstream")
        .expect("upstream task");
    let lines: Vec<&str> = head.trim_end().split("\r\n").collect();
    assert_eq!(lines[0], "GET /p HTTP/1.1");
    // The client's own fields, in order and spelling; then the proxy's.
    assert_eq!(
        lines[1..4],
        ["X-Request-ID: req-7", "X-Kept: Yes", "x-kept: again"]
    );
    let rest = &lines[4..];
    assert!(rest.contains(&"x-forwarded-host: Shop.Example"), "{head}");
    assert!(
        rest.contains(&format!("host: {address}").as_str()),
        "{head}"
    );
    let lower = head.to_ascii_lowercase();
    assert_eq!(lower.matches("\r\nhost: ").count(), 1, "{head}");
    assert_eq!(lower.matches("\r\ntraceparent: 00-").count(), 1, "{head}");
    assert!(!lower.contains("tracestate"), "{head}");
    let mut answer = vec![0; 256];
    let n = tokio::time::timeout(Duration::from_secs(5), client.read(&mut answer))
        .await
        .expect("an answer")
        .expect("read");
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.contains("\r\nx-request-id: req-7\r\n"), "{answer}");
}
