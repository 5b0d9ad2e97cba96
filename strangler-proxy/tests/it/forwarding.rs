//! What the proxy adds, removes and keeps on the way through, and that bodies stream both ways.

use bytes::Bytes;
use http::Method;

use crate::support::{HEADER, TestClient, TestUpstream, fill, raw_exchange, start_proxy};

fn config(mono: &TestUpstream, preserve_host: bool) -> String {
    fill(
        &format!(
            "{HEADER}[upstreams.mono]\nendpoints = [\"{{mono}}\"]\npreserve_host = {preserve_host}\n[default]\nprimary = \"mono\"\n"
        ),
        &[mono],
    )
}

#[tokio::test]
async fn hop_by_hop_headers_are_removed_and_forwarding_headers_set() {
    let mono = TestUpstream::start("mono").await;
    let proxy = start_proxy(&config(&mono, false)).await;
    let client = TestClient::new();
    let url = format!("http://{}/path?q=1", proxy.listen_addr());
    let reply = client
        .get(
            &url,
            &[
                ("connection", "x-private"),
                ("x-private", "hop"),
                ("te", "trailers"),
                ("proxy-authorization", "Basic abc"),
                ("upgrade", "websocket"),
                ("x-forwarded-for", "203.0.113.9"),
                ("x-kept", "yes"),
                ("host", "shop.example"),
            ],
        )
        .await;
    assert_eq!(reply.json()["path"], "/path?q=1");
    for gone in [
        "x-private",
        "te",
        "proxy-authorization",
        "upgrade",
        "keep-alive",
    ] {
        assert_eq!(reply.seen(gone), None, "{gone} reached the upstream");
    }
    assert_eq!(reply.seen("x-kept").as_deref(), Some("yes"));
    assert_eq!(
        reply.seen("x-forwarded-for").as_deref(),
        Some("203.0.113.9, 127.0.0.1")
    );
    assert_eq!(reply.seen("x-forwarded-proto").as_deref(), Some("http"));
    assert_eq!(
        reply.seen("x-forwarded-host").as_deref(),
        Some("shop.example")
    );
    assert_eq!(reply.seen("host"), Some(mono.addr.to_string()));
    // The upstream's own hop-by-hop headers stop at the proxy too.
    assert!(reply.headers.get("x-upstream-hop").is_none());
    assert!(reply.headers.get("keep-alive").is_none());
}

#[tokio::test]
async fn preserve_host_passes_the_clients_host() {
    let mono = TestUpstream::start("mono").await;
    let proxy = start_proxy(&config(&mono, true)).await;
    let reply = TestClient::new()
        .get(
            &format!("http://{}/", proxy.listen_addr()),
            &[("host", "shop.example")],
        )
        .await;
    assert_eq!(reply.seen("host").as_deref(), Some("shop.example"));
    assert_eq!(reply.seen("x-forwarded-host"), None);
}

#[tokio::test]
async fn request_id_and_traceparent_are_kept_when_valid_and_generated_otherwise() {
    let mono = TestUpstream::start("mono").await;
    let proxy = start_proxy(&config(&mono, false)).await;
    let client = TestClient::new();
    let url = format!("http://{}/", proxy.listen_addr());
    let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let kept = client
        .get(&url, &[("x-request-id", "req-42"), ("traceparent", parent)])
        .await;
    assert_eq!(kept.seen("x-request-id").as_deref(), Some("req-42"));
    assert_eq!(kept.seen("traceparent").as_deref(), Some(parent));
    assert_eq!(kept.headers["x-request-id"], "req-42");

    let made = client.get(&url, &[("traceparent", "not-a-trace")]).await;
    let id = made.seen("x-request-id").expect("generated id");
    assert_eq!(id.len(), 32);
    assert_eq!(made.headers["x-request-id"], id.as_str());
    let trace = made.seen("traceparent").expect("generated traceparent");
    assert!(
        trace.starts_with(&format!("00-{id}-")) && trace.ends_with("-01"),
        "{trace}"
    );
    let other = client
        .get(&url, &[])
        .await
        .seen("x-request-id")
        .expect("id");
    assert_ne!(other, id, "request ids repeat");
}

#[tokio::test]
async fn bodies_stream_both_ways() {
    let mono = TestUpstream::start("mono").await;
    let proxy = start_proxy(&config(&mono, false)).await;
    let body: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let reply = TestClient::new()
        .send(
            Method::POST,
            &format!("http://{}/echo", proxy.listen_addr()),
            &[],
            Bytes::from(body.clone()),
        )
        .await
        .expect("reply");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.headers["x-upstream"], "mono");
    assert!(
        reply.body == body,
        "echoed body differs ({} bytes back)",
        reply.body.len()
    );
}

#[tokio::test]
async fn a_chunked_request_body_streams_through() {
    let mono = TestUpstream::start("mono").await;
    let proxy = start_proxy(&config(&mono, false)).await;
    let request = b"POST /echo HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
    let answer = raw_exchange(
        proxy.listen_addr(),
        request,
        std::time::Duration::from_secs(5),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains("hello") && answer.contains(" world"),
        "{answer}"
    );
}

#[tokio::test]
async fn connection_cannot_strip_or_forge_what_the_proxy_sets() {
    let mono = TestUpstream::start("mono").await;
    let proxy = start_proxy(&config(&mono, false)).await;
    let url = format!("http://{}/path", proxy.listen_addr());
    let reply = TestClient::new()
        .get(
            &url,
            &[
                (
                    "connection",
                    "x-forwarded-proto, x-forwarded-for, x-forwarded-host",
                ),
                ("x-forwarded-for", "6.6.6.6"),
                ("x-forwarded-proto", "gopher"),
                ("x-forwarded-host", "forged.example"),
            ],
        )
        .await;
    assert_eq!(reply.seen("x-forwarded-proto").as_deref(), Some("http"));
    assert_eq!(reply.seen("x-forwarded-for").as_deref(), Some("127.0.0.1"));
    let forwarded_host = reply.seen("x-forwarded-host").expect("set by the proxy");
    assert!(forwarded_host.starts_with("127.0.0.1:"), "{forwarded_host}");

    // Ids named in `Connection` would not reach the upstream: they count as absent, and the
    // proxy's own go in their place (and back to the client).
    let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let reply = TestClient::new()
        .get(
            &url,
            &[
                ("connection", "x-request-id, traceparent"),
                ("x-request-id", "req-hidden"),
                ("traceparent", parent),
            ],
        )
        .await;
    let id = reply
        .seen("x-request-id")
        .expect("an id reaches the upstream");
    assert_eq!(id.len(), 32, "{id}");
    assert_eq!(reply.headers["x-request-id"], id.as_str());
    let trace = reply
        .seen("traceparent")
        .expect("a traceparent reaches the upstream");
    assert!(trace.starts_with(&format!("00-{id}-")), "{trace}");
}

/// A plain request is read by the proxy's own server side: whatever the case of its names, its
/// fields get the same rewriting as on hyper's side, each name once. (The spelling that reaches
/// the upstream is checked against raw bytes in `upstream_wire`.)
#[tokio::test]
async fn fields_of_a_plain_request_are_rewritten_whatever_their_case() {
    let mono = TestUpstream::start("mono").await;
    let proxy = start_proxy(&config(&mono, false)).await;
    // The second request (`Connection: close`) goes to hyper and ends the connection.
    let request = b"GET /p HTTP/1.1\r\nHOST: Shop.Example\r\nX-Forwarded-For: 203.0.113.9\r\n\
        X-Request-ID: req-7\r\nTraceParent: bogus\r\nTraceState: k=v\r\nX-Kept: Yes\r\n\r\n\
        GET /second HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n";
    let answer = raw_exchange(
        proxy.listen_addr(),
        request,
        std::time::Duration::from_secs(5),
    )
    .await;
    let (head, rest) = answer.split_once("\r\n\r\n").expect("a first answer");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("\r\nx-request-id: req-7\r\n"), "{head}");
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length: "))
        .expect("a length")
        .parse()
        .expect("a number");
    let seen: serde_json::Value = serde_json::from_str(&rest[..length]).expect("JSON");
    let headers = &seen["headers"];
    let only = |name: &str| {
        let values = headers[name]
            .as_array()
            .unwrap_or_else(|| panic!("{name} missing: {seen}"));
        assert_eq!(values.len(), 1, "{name}: {values:?}");
        values[0].as_str().expect("text").to_owned()
    };
    assert_eq!(only("host"), mono.addr.to_string());
    assert_eq!(only("x-forwarded-host"), "Shop.Example");
    assert_eq!(only("x-forwarded-for"), "203.0.113.9, 127.0.0.1");
    assert_eq!(only("x-forwarded-proto"), "http");
    assert_eq!(only("x-request-id"), "req-7");
    assert_eq!(only("x-kept"), "Yes");
    let trace = only("traceparent");
    assert!(trace.starts_with("00-") && trace.len() == 55, "{trace}");
    assert!(headers.get("tracestate").is_none(), "{seen}");
    assert!(
        rest[length..].starts_with("HTTP/1.1 200"),
        "the second is answered too"
    );
}

#[tokio::test]
async fn a_full_duplex_upstream_answers_while_the_body_still_arrives() {
    // More than loopback's socket buffers hold: an upstream that echoes as it reads stalls
    // unless the proxy reads the answer while it still writes the body.
    let mono = TestUpstream::start("mono").await;
    let toml = config(&mono, false).replace(
        "[upstreams.mono]",
        "[limits]\nmax_body_bytes = 67108864\n[upstreams.mono]",
    );
    let proxy = start_proxy(&toml).await;
    let body: Vec<u8> = (0..24_000_000u32).map(|i| (i % 253) as u8).collect();
    let reply = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        TestClient::new().send(
            Method::POST,
            &format!("http://{}/echo", proxy.listen_addr()),
            &[],
            Bytes::from(body.clone()),
        ),
    )
    .await
    .expect("no stall")
    .expect("reply");
    assert_eq!(reply.status, 200);
    assert!(
        reply.body == body,
        "echoed body differs ({} bytes back)",
        reply.body.len()
    );
}
