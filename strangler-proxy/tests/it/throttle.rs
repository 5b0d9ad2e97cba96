//! Per-route rate limits answer 429 with Retry-After, per key when one is configured.

use crate::support::{HEADER, TestClient, TestUpstream, fill, start_proxy};

#[tokio::test]
async fn a_keyed_rate_limit_answers_429_with_retry_after() {
    let mono = TestUpstream::start("mono").await;
    let toml = fill(
        &format!(
            "{HEADER}{}",
            r#"
[upstreams.mono]
endpoints = ["{mono}"]
[[routes]]
name = "api"
match = { prefix = "/api" }
primary = "mono"
rate_limit = { rate = 5, per = "1m", burst = 3, key = { header = "x-api-key" } }
[default]
primary = "mono"
"#
        ),
        &[&mono],
    );
    let proxy = start_proxy(&toml).await;
    let client = TestClient::new();
    let url = format!("http://{}/api/x", proxy.listen_addr());
    let alice = [("x-api-key", "alice")];
    for _ in 0..3 {
        assert_eq!(client.get(&url, &alice).await.status, 200);
    }
    let refused = client.get(&url, &alice).await;
    assert_eq!(refused.status, 429);
    assert_eq!(refused.json()["error"], "too_many_requests");
    // 5 per minute: the next token comes in 12 s.
    assert_eq!(refused.headers["retry-after"], "12");
    assert_eq!(client.get(&url, &[("x-api-key", "bob")]).await.status, 200);
    assert_eq!(
        client
            .get(&format!("http://{}/other", proxy.listen_addr()), &alice)
            .await
            .status,
        200
    );
    assert_eq!(mono.hits(), 5, "a throttled request reached the upstream");

    let route = &proxy.status().routes[0];
    assert_eq!(
        route.rate_limit.as_deref(),
        Some("5/60s burst 3 per header x-api-key")
    );
    assert_eq!(route.primary_side.proxy_failures, 1);
    let metrics = proxy.metrics_text();
    assert!(
        metrics.contains(
            "strangler_proxy_failures_total{route=\"api\",side=\"primary\",kind=\"throttled\"} 1"
        ),
        "{metrics}"
    );
}
