//! Shadow traffic and response diffs: the client only ever sees the primary, the candidate gets
//! marked mirrors, differences are stored with secrets redacted and ignored fields left out.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::Method;
use strangler_proxy::diff::DiffSample;

use crate::support::{HEADER, TestClient, TestUpstream, fill, start_proxy};

fn config(mono: &TestUpstream, svc: &TestUpstream, shadow: &str) -> String {
    fill(
        &format!(
            "{HEADER}{}",
            format_args!(
                r#"
[upstreams.mono]
endpoints = ["{{mono}}"]
[upstreams.svc]
endpoints = ["{{svc}}"]
[[routes]]
name = "reviews"
match = {{ prefix = "/" }}
primary = "mono"
candidate = "svc"
shadow = {shadow}
[default]
primary = "mono"
"#
            )
        ),
        &[mono, svc],
    )
}

async fn wait_for_compared(proxy: &strangler_proxy::RunningProxy, count: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let compared = proxy.status().routes[0]
            .shadow
            .as_ref()
            .map_or(0, |s| s.compared);
        if compared >= count {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "only {compared} of {count} mirrors compared"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn differing_json_is_stored_without_ignored_fields_or_secrets() {
    let mono = TestUpstream::start("mono").await;
    let svc = TestUpstream::start("svc").await;
    let shadow = r#"{ ignore = ["/headers"], headers = ["content-type"] }"#;
    let proxy = start_proxy(&config(&mono, &svc, shadow)).await;
    let client = TestClient::new();
    let url = format!("http://{}/api/reviews/7", proxy.listen_addr());
    let secrets = [
        ("authorization", "Bearer top-secret"),
        ("cookie", "session=abc"),
    ];
    for _ in 0..3 {
        let reply = client.get(&url, &secrets).await;
        assert_eq!(reply.upstream(), "mono", "the client saw the candidate");
        // The primary's own headers still reach the client while its body is copied.
        assert_eq!(reply.headers["content-type"], "application/json");
    }
    wait_for_compared(&proxy, 3).await;
    assert_eq!(svc.hits(), 3);
    let diffs: Vec<DiffSample> = serde_json::from_slice(
        &client
            .get(
                &format!("http://{}/diffs?route=reviews", proxy.admin_addr()),
                &[],
            )
            .await
            .body,
    )
    .expect("diffs JSON");
    assert_eq!(diffs.len(), 3);
    assert_eq!(diffs[0].differences, ["/upstream: \"mono\" != \"svc\""]);
    assert_eq!(diffs[0].request, "GET /api/reviews/7");
    let stored = serde_json::to_string(&diffs).expect("json");
    assert!(
        !stored.contains("top-secret") && !stored.contains("session=abc"),
        "{stored}"
    );
    assert!(
        diffs[0]
            .headers
            .contains(&("authorization".into(), "[redacted]".into()))
    );
    let route = proxy.status().routes[0].clone();
    let counters = route.shadow.expect("shadow status");
    assert_eq!((counters.compared, counters.matched), (3, 0));
    // Mirrors are not client traffic: only the primary side counts requests.
    assert_eq!(
        (route.primary_side.requests, route.candidate_side.requests),
        (3, 0)
    );
}

#[tokio::test]
async fn mirrors_are_marked_and_writes_with_bodies_are_mirrored_only_when_allowed() {
    let mono = TestUpstream::start("mono").await;
    let svc = TestUpstream::start("svc").await;
    let proxy = start_proxy(&config(
        &mono,
        &svc,
        "{ writes = true, ignore = [\"/upstream\", \"/headers/host\"] }",
    ))
    .await;
    let client = TestClient::new();
    let base = format!("http://{}", proxy.listen_addr());
    let echoed = client
        .send(
            Method::POST,
            &format!("{base}/echo"),
            &[],
            Bytes::from_static(b"{\"stars\": 5}"),
        )
        .await
        .expect("reply");
    assert_eq!(echoed.body, Bytes::from_static(b"{\"stars\": 5}"));
    assert_eq!(echoed.headers["x-upstream"], "mono");
    client.get(&format!("{base}/x"), &[]).await;
    wait_for_compared(&proxy, 2).await;
    let diffs = proxy_diffs(&client, &proxy).await;
    // The echoed POST bodies match; the GET differs only by the marker header the candidate saw.
    assert_eq!(diffs.len(), 1, "{diffs:?}");
    assert_eq!(
        diffs[0].differences,
        ["/headers/x-strangler-shadow: only in candidate"]
    );

    let reads_only = start_proxy(&config(&mono, &svc, "{}")).await;
    let hits = svc.hits();
    client
        .send(
            Method::POST,
            &format!("http://{}/echo", reads_only.listen_addr()),
            &[],
            Bytes::from_static(b"x"),
        )
        .await
        .expect("reply");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        svc.hits(),
        hits,
        "a write was mirrored without writes = true"
    );
}

async fn proxy_diffs(
    client: &TestClient,
    proxy: &strangler_proxy::RunningProxy,
) -> Vec<DiffSample> {
    let reply = client
        .get(&format!("http://{}/diffs", proxy.admin_addr()), &[])
        .await;
    serde_json::from_slice(&reply.body).expect("diffs JSON")
}

#[tokio::test]
async fn a_hanging_candidate_costs_the_client_nothing_and_mirrors_are_dropped_under_pressure() {
    let mono = TestUpstream::start("mono").await;
    let svc = TestUpstream::start("svc").await;
    let proxy = start_proxy(&config(&mono, &svc, "{ timeout = \"5s\" }")).await;
    let client = TestClient::new();
    let url = format!("http://{}/api/reviews", proxy.listen_addr());
    let mut slowest = Duration::ZERO;
    for _ in 0..100 {
        let started = Instant::now();
        let reply = client.get(&url, &[("x-hang-on", "svc")]).await;
        slowest = slowest.max(started.elapsed());
        assert_eq!(reply.upstream(), "mono");
    }
    // Each mirror hangs 3 s; the client never waits for one.
    assert!(
        slowest < Duration::from_millis(500),
        "slowest client request {slowest:?}"
    );
    let counters = proxy.status().routes[0]
        .shadow
        .clone()
        .expect("shadow status");
    assert!(counters.dropped >= 30, "{counters:?}");
    assert_eq!(counters.dropped + svc.hits() as u64, 100, "{counters:?}");
}

#[tokio::test]
async fn the_noise_probe_learns_what_differs_between_two_primary_answers() {
    let mono = TestUpstream::start("mono").await;
    let svc = TestUpstream::start("svc").await;
    let proxy = start_proxy(&config(
        &mono,
        &svc,
        "{ noise_probe = true, ignore = [\"/headers\"] }",
    ))
    .await;
    let client = TestClient::new();
    // With x-nonce each answer carries a counter: it differs between any two answers.
    let url = format!("http://{}/api/reviews", proxy.listen_addr());
    for _ in 0..3 {
        client.get(&url, &[("x-nonce", "1")]).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    wait_for_compared(&proxy, 3).await;
    let counters = proxy.status().routes[0]
        .shadow
        .clone()
        .expect("shadow status");
    assert_eq!(counters.noise, ["/nonce"]);
    let diffs = proxy_diffs(&client, &proxy).await;
    // Once learned, the nonce is no longer reported; the real difference still is.
    assert_eq!(diffs[0].differences, ["/upstream: \"mono\" != \"svc\""]);
}
