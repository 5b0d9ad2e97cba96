//! Limits, timeouts, failing upstreams, and refusing to be an open proxy.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::Method;

use crate::support::{
    HEADER, TestClient, TestUpstream, dead_address, fill, raw_exchange, start_proxy, wait_until,
};

fn config(mono: &TestUpstream, extra: &str) -> String {
    fill(
        &format!(
            "{HEADER}{extra}\n[upstreams.mono]\nendpoints = [\"{{mono}}\"]\n[default]\nprimary = \"mono\"\n"
        ),
        &[mono],
    )
}

#[tokio::test]
async fn a_body_over_the_limit_gets_413_declared_or_streamed() {
    let mono = TestUpstream::start("mono").await;
    let proxy = start_proxy(&config(&mono, "[limits]\nmax_body_bytes = 1000")).await;
    let client = TestClient::new();
    let url = format!("http://{}/echo", proxy.listen_addr());
    let small = client
        .send(Method::POST, &url, &[], Bytes::from(vec![b'a'; 1000]))
        .await
        .expect("reply");
    assert_eq!(small.status, 200);
    let declared = client
        .send(Method::POST, &url, &[], Bytes::from(vec![b'a'; 1001]))
        .await
        .expect("reply");
    assert_eq!(declared.status, 413);
    assert_eq!(declared.json()["error"], "payload_too_large");
    let hits_before = mono.hits();
    // Chunked: the size is only known while streaming; the upstream sees the start, the client a 413.
    let mut request =
        b"POST /echo HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..3 {
        request.extend_from_slice(b"258\r\n");
        request.extend_from_slice(&[b'b'; 600]);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    let answer = raw_exchange(proxy.listen_addr(), &request, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(mono.hits() <= hits_before + 1);
}

#[tokio::test]
async fn heads_over_the_limit_get_431_and_malformed_ones_400_both_counted() {
    let mono = TestUpstream::start("mono").await;
    let proxy = start_proxy(&config(&mono, "[limits]\nmax_header_bytes = 4096")).await;
    let big = "v".repeat(6000);
    let request = format!("GET / HTTP/1.1\r\nhost: x\r\nx-big: {big}\r\n\r\n");
    let answer = raw_exchange(
        proxy.listen_addr(),
        request.as_bytes(),
        Duration::from_secs(5),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    let garbled = raw_exchange(
        proxy.listen_addr(),
        b"GET / HTTP/1.1\r\nno colon here\r\n\r\n",
        Duration::from_secs(5),
    )
    .await;
    assert!(garbled.starts_with("HTTP/1.1 400"), "{garbled}");
    assert_eq!(mono.hits(), 0);
    // Both refused by the HTTP layer before any routing, and both counted (once the
    // connection's task has ended, just after the answer).
    wait_until(|| proxy.status().rejected_requests == 2).await;
    assert_eq!(proxy.status().rejected_requests, 2);
}

#[tokio::test]
async fn a_slow_upstream_gets_504_after_the_request_timeout() {
    let mono = TestUpstream::start("mono").await;
    let proxy = start_proxy(&config(&mono, "[timeouts]\nrequest = \"300ms\"")).await;
    let client = TestClient::new();
    let started = Instant::now();
    let reply = client
        .get(&format!("http://{}/slow?ms=3000", proxy.listen_addr()), &[])
        .await;
    let waited = started.elapsed();
    assert_eq!(reply.status, 504);
    assert_eq!(reply.json()["error"], "gateway_timeout");
    assert_eq!(reply.json()["upstream"], "mono");
    assert!(
        waited >= Duration::from_millis(300) && waited < Duration::from_secs(2),
        "{waited:?}"
    );
    let fast = client
        .get(&format!("http://{}/slow?ms=10", proxy.listen_addr()), &[])
        .await;
    assert_eq!(fast.status, 200);
}

#[tokio::test]
async fn an_unreachable_upstream_gets_502_with_a_json_body() {
    let dead = dead_address().await;
    let toml = format!(
        "{HEADER}[upstreams.gone]\nendpoints = [\"http://{dead}\"]\n[default]\nprimary = \"gone\"\n"
    );
    let proxy = start_proxy(&toml).await;
    let reply = TestClient::new()
        .get(&format!("http://{}/x", proxy.listen_addr()), &[])
        .await;
    assert_eq!(reply.status, 502);
    let body = reply.json();
    assert_eq!(body["error"], "bad_gateway");
    assert_eq!(body["reason"], "connect");
    assert_eq!(body["route"], "default");
    assert_eq!(
        body["request_id"],
        reply.headers["x-request-id"].to_str().expect("id")
    );
    let side = &proxy.status().routes[0].primary_side;
    assert_eq!(
        (side.requests, side.server_errors, side.proxy_failures),
        (1, 1, 1)
    );
}

#[tokio::test]
async fn an_absolute_form_target_is_not_followed() {
    let mono = TestUpstream::start("mono").await;
    let elsewhere = TestUpstream::start("elsewhere").await;
    let proxy = start_proxy(&config(&mono, "")).await;
    let request = format!(
        "GET http://{}/secret HTTP/1.1\r\nhost: {}\r\nconnection: close\r\n\r\n",
        elsewhere.addr, elsewhere.addr
    );
    let answer = raw_exchange(
        proxy.listen_addr(),
        request.as_bytes(),
        Duration::from_secs(5),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("not an open proxy"), "{answer}");
    let connect = format!(
        "CONNECT {} HTTP/1.1\r\nhost: {}\r\n\r\n",
        elsewhere.addr, elsewhere.addr
    );
    let answer = raw_exchange(
        proxy.listen_addr(),
        connect.as_bytes(),
        Duration::from_secs(2),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 405"), "{answer}");
    assert_eq!(elsewhere.hits(), 0);
    assert_eq!(mono.hits(), 0);
    assert_eq!(proxy.status().rejected_requests, 2);
}
