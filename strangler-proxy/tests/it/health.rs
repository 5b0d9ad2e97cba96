//! Load balancing over instances, skipping an instance that fails its health check.

use std::sync::atomic::Ordering::Relaxed;

use crate::support::{HEADER, TestClient, TestUpstream, fill, start_proxy, wait_until};

#[tokio::test]
async fn an_unhealthy_instance_is_skipped_until_it_recovers() {
    let one = TestUpstream::start("one").await;
    let two = TestUpstream::start("two").await;
    let toml = fill(
        &format!(
            "{HEADER}{}",
            r#"
[upstreams.mono]
endpoints = ["{one}", "{two}"]
balance = "round_robin"
health = { path = "/healthz", interval = "50ms" }
[default]
primary = "mono"
"#
        ),
        &[&one, &two],
    );
    let proxy = start_proxy(&toml).await;
    let client = TestClient::new();
    let url = format!("http://{}/", proxy.listen_addr());
    let spread = |replies: Vec<String>| {
        (
            replies.iter().filter(|r| *r == "one").count(),
            replies.iter().filter(|r| *r == "two").count(),
        )
    };
    let mut replies = Vec::new();
    for _ in 0..20 {
        replies.push(client.get(&url, &[]).await.upstream());
    }
    assert_eq!(
        spread(replies),
        (10, 10),
        "round robin over two healthy instances"
    );

    two.health_status.store(503, Relaxed);
    wait_until(|| !proxy.status().upstreams[0].endpoints[1].healthy).await;
    let mut replies = Vec::new();
    for _ in 0..20 {
        replies.push(client.get(&url, &[]).await.upstream());
    }
    assert_eq!(
        spread(replies),
        (20, 0),
        "the unhealthy instance still got traffic"
    );

    two.health_status.store(200, Relaxed);
    wait_until(|| proxy.status().upstreams[0].endpoints[1].healthy).await;
    let mut replies = Vec::new();
    for _ in 0..20 {
        replies.push(client.get(&url, &[]).await.upstream());
    }
    let (to_one, to_two) = spread(replies);
    assert!(
        to_one > 0 && to_two > 0,
        "the recovered instance got no traffic"
    );
}
