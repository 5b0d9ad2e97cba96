//! The candidate process answers 500 to every POST, under a steady mixed load: the route's
//! rollback rule sets its weight to 0 within the window (read back from the admin API), the
//! errors clients saw are bounded by the rule's `min_requests`, and no failed POST was replayed
//! on the primary.

use std::time::Duration;

use bytes::Bytes;
use http::Method;

use super::load::{Load, Shot, failures, rate};
use super::process::UpstreamProcess;
use super::{admin, config, status, wait_until};
use crate::support::{TestClient, start_proxy};

const MIN_REQUESTS: usize = 30;
const WINDOW: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_candidate_failing_posts_is_rolled_back_within_the_window_with_bounded_errors() {
    let _exclusive = super::exclusive().await;
    let mono = UpstreamProcess::start("mono", &[]);
    let svc = UpstreamProcess::start("svc", &["--fail-method", "POST"]);
    let routes = format!(
        r#"
[[routes]]
name = "reviews"
match = {{ prefix = "/api/reviews" }}
primary = "mono"
candidate = "svc"
weight = 50
fallback = true
rollback = {{ max_error_rate = 0.2, window = "{}s", min_requests = {MIN_REQUESTS} }}
"#,
        WINDOW.as_secs()
    );
    let proxy = start_proxy(&config(&[(&mono, ""), (&svc, "")], &routes)).await;
    let admin = admin(&proxy);

    // 6 clients, one request each per 20 ms (~300 per second); every third is a POST.
    let base = format!("http://{}", proxy.listen_addr());
    let load = Load::start(
        &base,
        6,
        Duration::from_millis(20),
        WINDOW + Duration::from_secs(5),
        |n| {
            if n % 3 == 2 {
                Shot {
                    method: Method::POST,
                    path: "/api/reviews".into(),
                    headers: vec![("content-type", "application/json")],
                    body: Bytes::from_static(b"{\"movie\": 7, \"stars\": 4}"),
                }
            } else {
                Shot::get(&format!("/api/reviews/{}", n % 40))
            }
        },
    );
    let rolled_back = wait_until(&admin, WINDOW, "rollback", |s| s.routes[0].weight == 0).await;
    let rolled_back_at = load.elapsed();
    // Keep the load on after the rollback: nothing may fail any more.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let outcomes = load.stop().await;

    let route = &rolled_back.routes[0];
    let breach = route.breach.as_deref().expect("the breach is shown");
    assert!(
        breach.starts_with("rollback at weight 50: error rate"),
        "{breach}"
    );
    assert_eq!(route.breaches, 1);
    let rate = rate(&outcomes);
    assert!(rate >= 150.0, "the load was too light: {rate:.0} req/s");

    let failed: Vec<_> = outcomes.iter().filter(|o| !o.ok()).collect();
    assert!(!failed.is_empty(), "the candidate never failed a POST");
    assert!(
        failed.len() <= MIN_REQUESTS,
        "{} client-visible errors, more than min_requests: {}",
        failed.len(),
        failures(&failed)
    );
    // Only POSTs failed, each with the candidate's own 500: a write is never replayed on the
    // primary (the GETs that the candidate served were fine).
    for outcome in &failed {
        assert_eq!(
            (&outcome.method, &outcome.status, outcome.upstream.as_str()),
            (&Method::POST, &Ok(500), "svc"),
            "{outcome:?}"
        );
        assert!(
            outcome.sent_at < rolled_back_at,
            "failed after the rollback: {outcome:?}"
        );
    }
    let first_failure = failed[0].sent_at;
    assert!(
        rolled_back_at - first_failure < WINDOW,
        "rolled back {:?} after the first failure",
        rolled_back_at - first_failure
    );
    let after: Vec<_> = outcomes
        .iter()
        .filter(|o| o.sent_at > rolled_back_at)
        .collect();
    assert!(after.len() > 50, "too little load after the rollback");
    assert!(
        after.iter().all(|o| o.upstream == "mono"),
        "the candidate still served"
    );

    // What each process received matches what the client saw, one for one.
    let client = TestClient::new();
    let posts_from = |name: &str| {
        outcomes
            .iter()
            .filter(|o| o.method == Method::POST && o.upstream == name)
            .count() as u64
    };
    assert_eq!(mono.served(&client, "POST").await, posts_from("mono"));
    assert_eq!(svc.served(&client, "POST").await, posts_from("svc"));
    assert_eq!(posts_from("svc"), failed.len() as u64);

    let end = status(&admin).await;
    assert_eq!(end.routes[0].weight, 0, "the weight moved back by itself");
    assert_eq!(end.routes[0].fallbacks, 0, "a POST was retried");
    let metrics = admin.metrics().await.expect("metrics");
    assert!(
        metrics.contains("strangler_rollback_breaches_total{route=\"reviews\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("strangler_route_weight{route=\"reviews\"} 0"));
}
