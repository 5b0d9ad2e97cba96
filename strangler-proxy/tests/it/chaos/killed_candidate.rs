//! The candidate process is killed mid-run and started again on the same port, under a steady
//! load of GETs: no client request fails (fallback, then the breaker), the ejection shows in
//! status and metrics, and the candidate gets its share back once it is up again.

use std::time::Duration;

use super::load::{Load, Shot, failures, rate};
use super::process::UpstreamProcess;
use super::{admin, config, status, wait_until};
use crate::support::start_proxy;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_candidate_costs_no_failed_get_and_gets_traffic_back_after_a_restart() {
    let _exclusive = super::exclusive().await;
    let mono = UpstreamProcess::start("mono", &[]);
    let mut svc = UpstreamProcess::start("svc", &[]);
    let routes = r#"
[[routes]]
name = "reviews"
match = { prefix = "/api/reviews" }
primary = "mono"
candidate = "svc"
weight = 50
fallback = true
"#;
    let outlier = r#"outlier = { failures = 3, ejection = "200ms", max_ejection = "400ms" }"#;
    let proxy = start_proxy(&config(&[(&mono, ""), (&svc, outlier)], routes)).await;
    let admin = admin(&proxy);
    let endpoint = svc.url();
    let ejected = move |s: &strangler_proxy::ProxyStatus| {
        s.upstreams
            .iter()
            .flat_map(|u| &u.endpoints)
            .any(|e| e.address == endpoint && e.ejected)
    };

    // 8 clients, one GET each per 25 ms: ~320 requests per second.
    let base = format!("http://{}", proxy.listen_addr());
    let load = Load::start(
        &base,
        8,
        Duration::from_millis(25),
        Duration::from_secs(15),
        |n| Shot::get(&format!("/api/reviews/{}", n % 50)),
    );
    wait_until(&admin, Duration::from_secs(5), "candidate serving", |s| {
        s.routes[0].candidate_side.requests >= 100
    })
    .await;

    svc.kill();
    // From here on the process is gone (killed and reaped).
    let killed_at = load.elapsed();
    // The ejection shows the instant the third failure is recorded, a moment before that
    // request's fallback is counted: wait for both.
    let down = wait_until(&admin, Duration::from_secs(3), "breaker open", |s| {
        ejected(s) && s.routes[0].fallbacks >= 3
    })
    .await;
    let metrics = admin.metrics().await.expect("metrics");
    assert!(
        metrics.contains(&format!(
            "strangler_upstream_ejected{{upstream=\"svc\",endpoint=\"{}\"}} 1",
            svc.url()
        )),
        "{metrics}"
    );
    // Stay down a while: the breaker re-ejects on each failed probe.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let before_restart = status(&admin).await.routes[0].clone();

    let restarted_at = load.elapsed();
    svc.restart();
    let served_before = before_restart.candidate_side.requests;
    let back = wait_until(&admin, Duration::from_secs(5), "traffic back", |s| {
        s.routes[0].candidate_side.requests >= served_before + 50
    })
    .await;
    assert!(!ejected(&back), "still ejected once serving again");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let outcomes = load.stop().await;

    let all: Vec<_> = outcomes.iter().collect();
    let failed = all.iter().filter(|o| !o.ok()).count();
    assert_eq!(
        failed,
        0,
        "{failed} of {} GETs failed: {}",
        all.len(),
        failures(&all)
    );
    let rate = rate(&outcomes);
    assert!(rate >= 150.0, "the load was too light: {rate:.0} req/s");
    let from_svc = |from: Duration, to: Duration| {
        outcomes
            .iter()
            .filter(|o| o.sent_at >= from && o.sent_at < to && o.upstream == "svc")
            .count()
    };
    assert!(from_svc(Duration::ZERO, killed_at) > 0);
    // Between the kill and the restart only the primary answers.
    assert_eq!(from_svc(killed_at, restarted_at), 0);
    let after: Vec<_> = outcomes
        .iter()
        .filter(|o| o.sent_at >= restarted_at)
        .collect();
    let share = after.iter().filter(|o| o.upstream == "svc").count() as f64 / after.len() as f64;
    assert!(
        share > 0.1,
        "candidate share after the restart: {share:.2} of {}",
        after.len()
    );

    let route = &status(&admin).await.routes[0];
    let down_route = &before_restart;
    // While down, a few requests cost a retry (the failures that open the breaker, and one
    // failed probe per ejection); the rest bypassed the candidate without trying it.
    assert!(down_route.fallbacks >= 3, "{down_route:?}");
    assert!(
        down_route.bypasses > 2 * down_route.fallbacks,
        "the breaker did not save retries: {down_route:?}"
    );
    assert!(down.routes[0].fallbacks >= 3);
    assert_eq!(
        route.primary_side.requests + route.candidate_side.requests,
        outcomes.len() as u64,
        "every request counted once"
    );
    assert_eq!(route.candidate_side.server_errors, 0);
}
