//! Passive outlier detection: a candidate that fails is ejected, its traffic goes to the primary
//! at no cost to clients, and it gets traffic again once it is back.

use std::time::{Duration, Instant};

use crate::support::{HEADER, TestClient, TestUpstream, fill, start_proxy};

#[tokio::test]
async fn a_killed_candidate_is_ejected_and_comes_back_after_a_restart() {
    let mono = TestUpstream::start("mono").await;
    let svc = TestUpstream::start("svc").await;
    let svc_address = svc.addr;
    let toml = fill(
        &format!(
            "{HEADER}{}",
            r#"
[upstreams.mono]
endpoints = ["{mono}"]
[upstreams.svc]
endpoints = ["{svc}"]
outlier = { failures = 2, ejection = "300ms" }
[[routes]]
name = "reviews"
match = { prefix = "/api/reviews" }
primary = "mono"
candidate = "svc"
weight = 100
fallback = true
[default]
primary = "mono"
"#
        ),
        &[&mono, &svc],
    );
    let proxy = start_proxy(&toml).await;
    let client = TestClient::new();
    let url = format!("http://{}/api/reviews", proxy.listen_addr());
    assert_eq!(client.get(&url, &[]).await.upstream(), "svc");

    drop(svc);
    for _ in 0..20 {
        let reply = client.get(&url, &[]).await;
        assert_eq!(
            (reply.status.as_u16(), reply.upstream()),
            (200, "mono".to_owned())
        );
    }
    let status = proxy.status();
    let route = &status.routes[0];
    assert_eq!(
        route.fallbacks, 2,
        "only the failures before the ejection cost a retry"
    );
    assert_eq!(
        route.bypasses, 18,
        "once ejected, the candidate is not even tried"
    );
    assert!(
        status
            .upstreams
            .iter()
            .any(|u| u.name == "svc" && u.endpoints[0].ejected)
    );
    assert!(proxy.metrics_text().contains(&format!(
        "strangler_upstream_ejected{{upstream=\"svc\",endpoint=\"http://{svc_address}\"}} 1"
    )));

    let _back = TestUpstream::start_on("svc", svc_address).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let reply = client.get(&url, &[]).await;
        assert_eq!(reply.status, 200);
        if reply.upstream() == "svc" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the restarted candidate never got traffic back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(client.get(&url, &[]).await.upstream(), "svc");
}
