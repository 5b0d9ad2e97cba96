//! Shadowing to a candidate process that never answers, under a steady load: the client's p99
//! on the shadowed route stays within noise of an unshadowed route's on the same proxy. Requests
//! alternate between the two routes, so a stall of the shared test machine hits both alike; the
//! bound is deliberately generous. The precise figures, with separate proxies for shadow off and
//! on, come from `bench/shadow.sh` (docs/PERFORMANCE.md).

use std::time::Duration;

use super::load::{Load, Outcome, Shot, failures, quantile, rate};
use super::process::UpstreamProcess;
use super::{admin, config, route, status, wait_until};
use crate::support::{TestClient, start_proxy};

const DURATION: Duration = Duration::from_secs(3);
const CLIENTS: usize = 8;
const MIRROR_TIMEOUT: Duration = Duration::from_secs(1);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_shadow_candidate_leaves_the_clients_p99_unchanged() {
    let _exclusive = super::exclusive().await;
    let mono = UpstreamProcess::start("mono", &[]);
    let svc = UpstreamProcess::start("svc", &["--hang"]);
    let routes = format!(
        r#"
[[routes]]
name = "plain"
match = {{ prefix = "/plain" }}
primary = "mono"

[[routes]]
name = "shadowed"
match = {{ prefix = "/shadowed" }}
primary = "mono"
candidate = "svc"
shadow = {{ timeout = "{}ms" }}
"#,
        MIRROR_TIMEOUT.as_millis()
    );
    let proxy = start_proxy(&config(&[(&mono, ""), (&svc, "")], &routes)).await;
    let admin = admin(&proxy);

    // 8 clients at 25 ms (~320/s); each client alternates between the two routes, and at any
    // moment half of them are on each.
    let base = format!("http://{}", proxy.listen_addr());
    let load = Load::start(&base, CLIENTS, Duration::from_millis(25), DURATION, |n| {
        let (client, round) = (n % CLIENTS as u64, n / CLIENTS as u64);
        let route = if (client + round).is_multiple_of(2) {
            "plain"
        } else {
            "shadowed"
        };
        Shot::get(&format!("/{route}/{}", round % 20))
    });
    tokio::time::sleep(DURATION).await;
    let outcomes = load.stop().await;

    let all: Vec<&Outcome> = outcomes.iter().collect();
    assert!(all.iter().all(|o| o.ok()), "{}", failures(&all));
    assert!(all.iter().all(|o| o.upstream == "mono"));
    let rate = rate(&outcomes);
    assert!(rate >= 150.0, "the load was too light: {rate:.0} req/s");
    let on = |prefix: &str| -> Vec<&Outcome> {
        all.iter()
            .copied()
            .filter(|o| o.path.starts_with(prefix))
            .collect()
    };
    let (plain, shadowed) = (on("/plain/"), on("/shadowed/"));
    assert!(plain.len() > 100 && shadowed.len() > 100);
    let (p99_without, p99_with) = (quantile(&plain, 0.99), quantile(&shadowed, 0.99));
    assert!(
        p99_with <= 2 * p99_without + Duration::from_millis(5),
        "p99 with a hanging shadow {p99_with:?}, without {p99_without:?}"
    );
    let slowest = quantile(&shadowed, 1.0);
    assert!(
        slowest < MIRROR_TIMEOUT,
        "a client waited for the mirror: {slowest:?}"
    );

    // The mirrors did go out, and hung: at most 64 at once, the rest dropped and counted; those
    // that timed out are differences.
    let client = TestClient::new();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let reached = svc.served(&client, "GET").await;
    let counters = route(&status(&admin).await, "shadowed")
        .shadow
        .clone()
        .expect("shadow counters");
    assert!(counters.dropped > 0, "{counters:?}");
    assert_eq!(
        counters.dropped + reached,
        shadowed.len() as u64,
        "every shadowed request was mirrored or dropped: {counters:?}"
    );
    let done = wait_until(&admin, MIRROR_TIMEOUT * 3, "mirrors timed out", |s| {
        route(s, "shadowed")
            .shadow
            .as_ref()
            .is_some_and(|c| c.compared == reached)
    })
    .await;
    let counters = route(&done, "shadowed").shadow.clone().expect("counters");
    assert_eq!(counters.matched, 0, "{counters:?}");
    let diffs = client
        .get(
            &format!("http://{}/diffs?route=shadowed", proxy.admin_addr()),
            &[],
        )
        .await;
    let text = String::from_utf8_lossy(&diffs.body);
    assert!(text.contains("candidate: no answer within 1s"), "{text}");
}
