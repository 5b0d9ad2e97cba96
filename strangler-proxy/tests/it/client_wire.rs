//! The proxy's server side on the wire, byte by byte: plain requests are read and answered by the
//! proxy's own HTTP/1.1 side, pipelined requests in order, a connection is handed to hyper at
//! its first request with a body (bytes already read included) and served by hyper from then on,
//! a bad head after good ones is refused and counted, answers are streamed as the upstream sends
//! them, a client that leaves cancels its upstream request, and shutdown closes idle connections.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

use crate::support::{HEADER, TestUpstream, raw_exchange, start_proxy};

/// One answer as read off the wire.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| {
            panic!("not JSON: {}", String::from_utf8_lossy(&self.body));
        })
    }
}

/// Reads answers from one connection, keeping what is read past the current one.
struct Reader {
    stream: TcpStream,
    buffer: Vec<u8>,
}

impl Reader {
    async fn fill(&mut self) {
        let mut chunk = [0u8; 16 * 1024];
        let n = tokio::time::timeout(Duration::from_secs(5), self.stream.read(&mut chunk))
            .await
            .expect("the proxy answered within 5 s")
            .expect("read");
        assert!(
            n > 0,
            "connection closed; unread: {:?}",
            String::from_utf8_lossy(&self.buffer)
        );
        self.buffer.extend_from_slice(&chunk[..n]);
    }

    async fn answer(&mut self) -> Answer {
        let (status, headers, head_length) = loop {
            let mut fields = [httparse::EMPTY_HEADER; 32];
            let mut response = httparse::Response::new(&mut fields);
            if let httparse::Status::Complete(length) =
                response.parse(&self.buffer).expect("a valid answer head")
            {
                let headers = response
                    .headers
                    .iter()
                    .map(|f| {
                        (
                            f.name.to_owned(),
                            String::from_utf8_lossy(f.value).into_owned(),
                        )
                    })
                    .collect::<Vec<_>>();
                break (response.code.expect("status"), headers, length);
            }
            self.fill().await;
        };
        self.buffer.drain(..head_length);
        let mut answer = Answer {
            status,
            headers,
            body: Vec::new(),
        };
        if let Some(length) = answer.header("content-length") {
            let length: usize = length.parse().expect("numeric length");
            while self.buffer.len() < length {
                self.fill().await;
            }
            answer.body = self.buffer.drain(..length).collect();
        } else if answer.header("transfer-encoding") == Some("chunked") {
            loop {
                let line_end = loop {
                    if let Some(at) = self.buffer.windows(2).position(|w| w == b"\r\n") {
                        break at;
                    }
                    self.fill().await;
                };
                let size = usize::from_str_radix(
                    std::str::from_utf8(&self.buffer[..line_end]).expect("size line"),
                    16,
                )
                .expect("hex size");
                while self.buffer.len() < line_end + 2 + size + 2 {
                    self.fill().await;
                }
                answer
                    .body
                    .extend_from_slice(&self.buffer[line_end + 2..line_end + 2 + size]);
                self.buffer.drain(..line_end + 2 + size + 2);
                if size == 0 {
                    break;
                }
            }
        }
        answer
    }

    /// Reads until what has been read holds `text`; returns all of it as text.
    async fn read_until(&mut self, text: &str) -> String {
        loop {
            let seen = String::from_utf8_lossy(&self.buffer).into_owned();
            if seen.contains(text) {
                return seen;
            }
            self.fill().await;
        }
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("write");
    }

    /// Whether the proxy closes the connection within 5 s (after any answers already read).
    async fn closes(&mut self) -> bool {
        let mut chunk = [0u8; 1024];
        matches!(
            tokio::time::timeout(Duration::from_secs(5), self.stream.read(&mut chunk)).await,
            Ok(Ok(0) | Err(_))
        )
    }
}

async fn connect(address: SocketAddr) -> Reader {
    Reader {
        stream: TcpStream::connect(address).await.expect("connect"),
        buffer: Vec::new(),
    }
}

/// An upstream on loopback that takes one request, writes `begin` (the first bytes of an
/// answer, or nothing) and then stays silent. It reports when the request arrived, and whether
/// the proxy then closed that connection within 5 s.
struct StalledUpstream {
    address: SocketAddr,
    arrived: oneshot::Receiver<()>,
    released: oneshot::Receiver<bool>,
}

fn stalled_upstream(begin: &'static [u8]) -> StalledUpstream {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let address = listener.local_addr().expect("addr");
    let (arrived_tx, arrived) = oneshot::channel();
    let (released_tx, released) = oneshot::channel();
    tokio::spawn(async move {
        let listener = TcpListener::from_std(listener).expect("tokio listener");
        let (mut stream, _) = listener.accept().await.expect("accept");
        let mut chunk = [0u8; 4096];
        let _ = stream.read(&mut chunk).await;
        stream.write_all(begin).await.expect("write");
        let _ = arrived_tx.send(());
        let eof = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut chunk)).await;
        let _ = released_tx.send(matches!(eof, Ok(Ok(0) | Err(_))));
    });
    StalledUpstream {
        address,
        arrived,
        released,
    }
}

/// A proxy whose default route goes to `address`, with `extra` config lines.
async fn proxy_at(address: SocketAddr, extra: &str) -> strangler_proxy::RunningProxy {
    start_proxy(&format!(
        "{HEADER}{extra}[upstreams.mono]\nendpoints = [\"http://{address}\"]\n[default]\nprimary = \"mono\"\n"
    ))
    .await
}

async fn proxy_to(upstream: &TestUpstream) -> strangler_proxy::RunningProxy {
    proxy_at(upstream.addr, "").await
}

#[tokio::test]
async fn pipelined_requests_are_answered_in_order_on_one_connection() {
    let mono = TestUpstream::start("mono").await;
    let proxy = proxy_to(&mono).await;
    let mut client = connect(proxy.listen_addr()).await;
    client
        .send(
            b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n\
              GET /b?q=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n\
              DELETE /c HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n",
        )
        .await;
    for (method, path) in [("GET", "/a"), ("GET", "/b?q=1"), ("DELETE", "/c")] {
        let answer = client.answer().await;
        assert_eq!(answer.status, 200);
        assert_eq!(answer.json()["path"], path);
        assert_eq!(answer.json()["method"], method);
        assert!(answer.header("date").is_some(), "{answer:?}");
        assert_eq!(answer.header("connection"), None, "{answer:?}");
        assert!(answer.header("x-request-id").is_some(), "{answer:?}");
    }
    // Still open: a fourth request on the same connection.
    client.send(b"GET /d HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(client.answer().await.json()["path"], "/d");
    assert_eq!(mono.hits(), 4);
}

#[tokio::test]
async fn a_request_with_a_body_hands_the_connection_to_hyper_with_the_bytes_already_read() {
    let mono = TestUpstream::start("mono").await;
    let proxy = proxy_to(&mono).await;
    let mut client = connect(proxy.listen_addr()).await;
    // One write: the plain GET is read together with the chunked POST and the GET behind it.
    client
        .send(
            b"GET /first HTTP/1.1\r\nHost: x\r\n\r\n\
              POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\
              5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n\
              GET /third HTTP/1.1\r\nHost: x\r\n\r\n",
        )
        .await;
    assert_eq!(client.answer().await.json()["path"], "/first");
    let echoed = client.answer().await;
    assert_eq!(echoed.status, 200);
    assert_eq!(echoed.body, b"hello world");
    assert_eq!(client.answer().await.json()["path"], "/third");
    // And a request with a length-delimited body, then a plain one, on the same connection.
    client.send(b"PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /last HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(client.answer().await.body, b"abc");
    assert_eq!(client.answer().await.json()["path"], "/last");
}

#[tokio::test]
async fn a_malformed_head_after_good_requests_is_refused_with_400_and_counted() {
    let mono = TestUpstream::start("mono").await;
    let proxy = proxy_to(&mono).await;
    let mut client = connect(proxy.listen_addr()).await;
    client
        .send(b"GET /ok HTTP/1.1\r\nHost: x\r\n\r\nGET /not ok HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    assert_eq!(client.answer().await.status, 200);
    assert_eq!(client.answer().await.status, 400);
    assert!(client.closes().await, "closed after the 400");
    assert!(
        proxy
            .metrics_text()
            .contains("strangler_rejected_requests_total 1\n"),
        "{}",
        proxy.metrics_text()
    );
    assert_eq!(mono.hits(), 1);
}

#[tokio::test]
async fn http_1_0_head_and_expect_requests_are_served_by_hyper() {
    let mono = TestUpstream::start("mono").await;
    let proxy = proxy_to(&mono).await;
    let answer = raw_exchange(
        proxy.listen_addr(),
        b"GET /old HTTP/1.0\r\nHost: x\r\n\r\n",
        Duration::from_secs(5),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.0 200 OK\r\n"), "{answer}");
    assert!(answer.contains("\"path\":\"/old\""), "{answer}");

    let mut client = connect(proxy.listen_addr()).await;
    client.send(b"HEAD /h HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let seen = client.read_until("\r\n\r\n").await;
    assert!(seen.starts_with("HTTP/1.1 200 OK\r\n"), "{seen}");
    let content_length: usize = seen
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .expect("HEAD keeps the length")
        .parse()
        .expect("numeric");
    assert!(content_length > 0);
    assert!(
        seen.ends_with("\r\n\r\n"),
        "no body after a HEAD answer: {seen}"
    );

    let mut client = connect(proxy.listen_addr()).await;
    client
        .send(
            b"POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n",
        )
        .await;
    client.read_until("100 Continue").await;
    client.buffer.clear();
    client.stream.write_all(b"hi").await.expect("write");
    assert_eq!(client.answer().await.body, b"hi");
}

#[tokio::test]
async fn an_answer_is_streamed_as_the_upstream_sends_it() {
    let upstream = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = upstream.local_addr().expect("addr");
    let (saw_first, first_seen) = oneshot::channel::<()>();
    let serving = tokio::spawn(async move {
        let (mut stream, _) = upstream.accept().await.expect("accept");
        let mut head = Vec::new();
        let mut chunk = [0u8; 4096];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut chunk).await.expect("read");
            assert!(n > 0);
            head.extend_from_slice(&chunk[..n]);
        }
        stream
            .write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n")
            .await
            .expect("write");
        // The rest only once the client has the first part: nothing may wait for the end.
        first_seen.await.expect("the client saw the first part");
        stream
            .write_all(b"6\r\nsecond\r\n0\r\n\r\n")
            .await
            .expect("write");
        let _ = stream.read(&mut chunk).await;
    });
    let proxy = proxy_at(address, "").await;
    let mut client = connect(proxy.listen_addr()).await;
    client
        .send(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    client.read_until("first").await;
    saw_first.send(()).expect("upstream waits");
    let answer = client.answer().await;
    assert_eq!(answer.header("transfer-encoding"), Some("chunked"));
    assert_eq!(answer.body, b"firstsecond");
    serving.abort();
}

#[tokio::test]
async fn a_client_that_leaves_cancels_its_upstream_request() {
    let upstream = stalled_upstream(b"");
    let proxy = proxy_at(upstream.address, "").await;
    let mut client = connect(proxy.listen_addr()).await;
    client.send(b"GET /never HTTP/1.1\r\nHost: x\r\n\r\n").await;
    upstream
        .arrived
        .await
        .expect("the request reached the upstream");
    drop(client);
    assert!(
        upstream.released.await.expect("upstream task reports"),
        "the upstream request was not cancelled within 5 s of the client leaving"
    );
}

#[tokio::test]
async fn shutdown_closes_an_idle_keep_alive_connection_and_drains() {
    let mono = TestUpstream::start("mono").await;
    let proxy = proxy_to(&mono).await;
    let mut client = connect(proxy.listen_addr()).await;
    client.send(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(client.answer().await.status, 200);
    let report = tokio::time::timeout(Duration::from_secs(5), proxy.shutdown())
        .await
        .expect("shutdown does not wait for an idle connection");
    assert!(report.drained);
    assert!(client.closes().await, "the idle connection was closed");
}

#[tokio::test]
async fn answers_made_by_the_proxy_carry_date_and_length() {
    let dead = crate::support::dead_address().await;
    let proxy = proxy_at(dead, "").await;
    let mut client = connect(proxy.listen_addr()).await;
    client.send(b"GET /x HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let answer = client.answer().await;
    assert_eq!(answer.status, 502);
    assert_eq!(answer.json()["error"], "bad_gateway");
    let date = answer.header("date").expect("a Date header");
    assert!(date.ends_with(" GMT") && date.len() == 29, "{date}");
    assert_eq!(answer.header("content-type"), Some("application/json"));
}

#[tokio::test]
async fn a_client_that_leaves_during_a_streamed_answer_frees_the_upstream() {
    // The first event of a stream, then silence.
    let upstream =
        stalled_upstream(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n");
    let proxy = proxy_at(upstream.address, "").await;
    let mut client = connect(proxy.listen_addr()).await;
    client
        .send(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    client.read_until("first").await;
    drop(client);
    assert!(
        upstream.released.await.expect("upstream task reports"),
        "the upstream connection was not released within 5 s of the client leaving"
    );
}

#[tokio::test]
async fn a_client_that_half_closes_after_pipelining_gets_every_answer() {
    let mono = TestUpstream::start("mono").await;
    let proxy = proxy_to(&mono).await;
    let mut client = connect(proxy.listen_addr()).await;
    client
        .send(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    client.stream.shutdown().await.expect("half-close");
    assert_eq!(client.answer().await.json()["path"], "/a");
    assert_eq!(client.answer().await.json()["path"], "/b");
    assert!(client.closes().await, "closed once everything was answered");
}

#[tokio::test]
async fn a_request_still_running_when_the_drain_time_ends_loses_its_connection() {
    let upstream = stalled_upstream(b"");
    let proxy = proxy_at(upstream.address, "[timeouts]\ndrain = \"200ms\"\n").await;
    let mut client = connect(proxy.listen_addr()).await;
    client.send(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n").await;
    upstream
        .arrived
        .await
        .expect("the request reached the upstream");
    let report = proxy.shutdown().await;
    assert!(!report.drained, "the request could not have finished");
    // Nothing outlives the proxy (the request would wait for its 30 s timeout otherwise).
    assert!(
        client.closes().await,
        "the client connection was not closed"
    );
    assert!(
        upstream.released.await.expect("upstream task reports"),
        "the upstream connection was not closed"
    );
}
