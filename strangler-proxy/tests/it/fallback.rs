//! Fallback: the primary answers a request the candidate failed, when that is safe: any request
//! that never reached the candidate, an idempotent one that did.

use bytes::Bytes;
use http::Method;

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use crate::support::{
    HEADER, Reply, TestClient, TestUpstream, dead_address, fill, raw_exchange, start_proxy,
    unanswered_address,
};
use strangler_proxy::RunningProxy;

fn config(candidate: &str, fallback: &str) -> String {
    format!(
        "{HEADER}[upstreams.mono]\nendpoints = [\"{{mono}}\"]\n[upstreams.svc]\nendpoints = [\"{candidate}\"]\n\
         [[routes]]\nname = \"reviews\"\nmatch = {{ prefix = \"/api/reviews\" }}\nprimary = \"mono\"\n\
         candidate = \"svc\"\nweight = 100\n{fallback}\n[default]\nprimary = \"mono\"\n"
    )
}

#[tokio::test]
async fn a_dead_candidate_costs_no_failed_get() {
    let mono = TestUpstream::start("mono").await;
    let dead = dead_address().await;
    let toml = fill(
        &config(&format!("http://{dead}"), "fallback = true"),
        &[&mono],
    );
    let proxy = start_proxy(&toml).await;
    let client = TestClient::new();
    let url = format!("http://{}/api/reviews/1", proxy.listen_addr());
    for _ in 0..5 {
        let reply = client.get(&url, &[]).await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.upstream(), "mono");
    }
    // Not even a write reached a candidate nobody could connect to: it goes to the primary too.
    let post = client
        .send(Method::POST, &url, &[], Bytes::new())
        .await
        .expect("reply");
    assert_eq!(
        (post.status.as_u16(), post.upstream()),
        (200, "mono".to_owned())
    );
    let route = &proxy.status().routes[0];
    assert!(route.fallback);
    assert_eq!(route.fallbacks, 6);
    assert_eq!(
        route.primary_side.requests, 6,
        "fallback answers count on the primary side"
    );
    assert_eq!(route.candidate_side.requests, 0);
    let metrics = proxy.metrics_text();
    assert!(
        metrics.contains("strangler_fallbacks_total{route=\"reviews\"} 6"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_request_that_never_reached_the_candidate_goes_to_the_primary_with_its_body() {
    let mono = TestUpstream::start("mono").await;
    let dead = dead_address().await;
    let toml = fill(
        &format!(
            "{HEADER}[upstreams.mono]\nendpoints = [\"{{mono}}\"]\n[upstreams.svc]\nendpoints = [\"http://{dead}\"]\n\
             [[routes]]\nname = \"echo\"\nmatch = {{ prefix = \"/echo\" }}\nprimary = \"mono\"\n\
             candidate = \"svc\"\nweight = 100\nfallback = true\n[default]\nprimary = \"mono\"\n"
        ),
        &[&mono],
    );
    let proxy = start_proxy(&toml).await;
    // A body held whole (sent with its length) ...
    let held = TestClient::new()
        .send(
            Method::POST,
            &format!("http://{}/echo", proxy.listen_addr()),
            &[],
            Bytes::from_static(b"a new booking"),
        )
        .await
        .expect("reply");
    assert_eq!(held.status, 200);
    assert_eq!(held.headers["x-upstream"], "mono");
    assert_eq!(&held.body[..], b"a new booking");
    // ... and one streamed in chunks, not read before the candidate was tried.
    let streamed = raw_exchange(
        proxy.listen_addr(),
        b"PATCH /echo HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
        Duration::from_secs(5),
    )
    .await;
    assert!(streamed.starts_with("HTTP/1.1 200"), "{streamed}");
    assert!(streamed.contains("x-upstream: mono"), "{streamed}");
    // Echoed back in chunks of the upstream's choosing.
    let echoed = streamed.split("\r\n\r\n").nth(1).unwrap_or_default();
    assert!(
        echoed.contains("hello") && echoed.contains(" world"),
        "{streamed}"
    );
    let route = &proxy.status().routes[0];
    assert_eq!((route.fallbacks, route.primary_side.requests), (2, 2));
}

#[tokio::test]
async fn a_candidate_5xx_is_replaced_by_the_primarys_answer_for_marked_methods_only() {
    let mono = TestUpstream::start("mono").await;
    let svc = TestUpstream::start("svc").await;
    let toml = fill(
        &config(
            "{svc}",
            "fallback = true\nidempotent_methods = [\"DELETE\"]",
        ),
        &[&mono, &svc],
    );
    let proxy = start_proxy(&toml).await;
    let client = TestClient::new();
    let url = format!("http://{}/api/reviews/1", proxy.listen_addr());
    let failing = [("x-fail-on", "svc")];
    let get = client.get(&url, &failing).await;
    assert_eq!(
        (get.status.as_u16(), get.upstream()),
        (200, "mono".to_owned())
    );
    let delete = client
        .send(Method::DELETE, &url, &failing, Bytes::new())
        .await
        .expect("reply");
    assert_eq!(
        (delete.status.as_u16(), delete.upstream()),
        (200, "mono".to_owned())
    );
    let put = client
        .send(Method::PUT, &url, &failing, Bytes::new())
        .await
        .expect("reply");
    assert_eq!(
        put.status, 500,
        "PUT is not marked idempotent on this route"
    );
    let healthy = client.get(&url, &[]).await;
    assert_eq!(healthy.upstream(), "svc");
    assert_eq!(proxy.status().routes[0].fallbacks, 2);
}

#[tokio::test]
async fn without_fallback_the_candidates_failure_reaches_the_client() {
    let mono = TestUpstream::start("mono").await;
    let dead = dead_address().await;
    let proxy = start_proxy(&fill(&config(&format!("http://{dead}"), ""), &[&mono])).await;
    let reply = TestClient::new()
        .get(
            &format!("http://{}/api/reviews/1", proxy.listen_addr()),
            &[],
        )
        .await;
    assert_eq!(reply.status, 502);
    assert_eq!(reply.json()["side"], "candidate");
}

#[test]
fn fallback_without_a_candidate_is_refused() {
    let text = "listen = \"127.0.0.1:0\"\n[upstreams.m]\nendpoints = [\"http://127.0.0.1:1\"]\n\
                [[routes]]\nname = \"r\"\nmatch = { prefix = \"/r\" }\nprimary = \"m\"\nfallback = true\n\
                [default]\nprimary = \"m\"\n";
    let error = strangler_proxy::ValidConfig::from_toml_str(text, "s.toml").expect_err("refused");
    assert!(
        error
            .to_string()
            .contains("s.toml:8:12: fallback needs a candidate"),
        "{error}"
    );
}

#[tokio::test]
async fn a_write_that_reached_the_candidate_is_not_sent_again() {
    let mono = TestUpstream::start("mono").await;
    // A candidate that takes the request and hangs up without an answer.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let received = Arc::new(AtomicUsize::new(0));
    let counted = received.clone();
    let hangs_up = tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            if tokio::io::AsyncReadExt::read(&mut stream, &mut buf)
                .await
                .is_ok_and(|n| n > 0)
            {
                counted.fetch_add(1, Relaxed);
            }
        }
    });
    let toml = fill(
        &config(&format!("http://{address}"), "fallback = true"),
        &[&mono],
    );
    let proxy = start_proxy(&toml).await;
    let post = TestClient::new()
        .send(
            Method::POST,
            &format!("http://{}/api/reviews/1", proxy.listen_addr()),
            &[],
            Bytes::from_static(b"pay once"),
        )
        .await
        .expect("reply");
    assert_eq!(post.status, 502);
    assert_eq!(received.load(Relaxed), 1, "sent to the candidate once");
    assert_eq!(mono.hits(), 0, "and never to the primary");
    assert_eq!(proxy.status().routes[0].fallbacks, 0);
    hangs_up.abort();
}

/// A POST of a small body through a proxy whose only route sends everything to `candidate`,
/// with fallback on and a request timeout shorter than the connect timeout.
async fn post_with_short_timeouts(
    candidate: std::net::SocketAddr,
    mono: &TestUpstream,
) -> (Reply, RunningProxy) {
    let toml = fill(
        &config(
            &format!("http://{candidate}"),
            "fallback = true\n[timeouts]\nconnect = \"300ms\"\nrequest = \"100ms\"",
        ),
        &[mono],
    );
    let proxy = start_proxy(&toml).await;
    let url = format!("http://{}/api/reviews/1", proxy.listen_addr());
    let reply = TestClient::new()
        .send(
            Method::POST,
            &url,
            &[],
            Bytes::from_static(b"{\"stars\": 5}"),
        )
        .await
        .expect("reply");
    (reply, proxy)
}

#[tokio::test]
async fn a_candidate_that_never_accepts_the_connection_costs_no_write_even_with_a_short_request_timeout()
 {
    // The request timeout counts from the moment the connection is open: a connect that hangs
    // ends at the connect timeout, with nothing sent, so the POST still goes to the primary
    // (before, a request timeout shorter than the connect timeout answered 504 first).
    let mono = TestUpstream::start("mono").await;
    let (hanging, _held) = unanswered_address().await;
    let (post, proxy) = post_with_short_timeouts(hanging, &mono).await;
    assert_eq!(
        (post.status.as_u16(), post.upstream()),
        (200, "mono".to_owned())
    );
    // A bodiless GET (the path where the request is held and could be sent again) likewise.
    let url = format!("http://{}/api/reviews/1", proxy.listen_addr());
    let get = TestClient::new().get(&url, &[]).await;
    assert_eq!(
        (get.status.as_u16(), get.upstream()),
        (200, "mono".to_owned())
    );
    assert_eq!(mono.hits(), 2);
    let route = &proxy.status().routes[0];
    assert_eq!((route.fallbacks, route.candidate_side.requests), (2, 0));
    // The same timeouts against a candidate that accepts and then never answers: the request
    // timeout does fire (504), and the POST, which reached it, is not sent again.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let silent_addr = silent.local_addr().expect("addr");
    let _accepting = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = silent.accept().await {
            held.push(stream);
        }
    });
    let (post, proxy) = post_with_short_timeouts(silent_addr, &mono).await;
    assert_eq!(post.status.as_u16(), 504);
    assert_eq!(post.json()["error"], "gateway_timeout");
    assert_eq!(
        mono.hits(),
        2,
        "a POST that reached the candidate is not resent"
    );
    let route = &proxy.status().routes[0];
    assert_eq!((route.fallbacks, route.candidate_side.requests), (0, 1));
}
