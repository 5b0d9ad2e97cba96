//! Automatic rollback: a candidate that fails its route's rule loses its traffic by itself.

use std::time::Duration;

use bytes::Bytes;
use http::Method;

use crate::support::{HEADER, TestClient, TestUpstream, fill, start_proxy};

fn config(mono: &TestUpstream, svc: &TestUpstream, on_breach: &str) -> String {
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
match = {{ prefix = "/api/reviews" }}
primary = "mono"
candidate = "svc"
weight = 50
rollback = {{ max_error_rate = 0.2, window = "10s", min_requests = 20, on_breach = "{on_breach}" }}
[default]
primary = "mono"
"#
            )
        ),
        &[mono, svc],
    )
}

/// GETs and POSTs in turn; the candidate answers 500 to every POST. Returns the 5xx count.
async fn load(client: &TestClient, url: &str, requests: usize) -> usize {
    let mut errors = 0;
    for index in 0..requests {
        let reply = if index % 2 == 0 {
            client.get(url, &[]).await
        } else {
            client
                .send(
                    Method::POST,
                    url,
                    &[("x-fail-on", "svc")],
                    Bytes::from_static(b"{}"),
                )
                .await
                .expect("reply")
        };
        errors += usize::from(reply.status.is_server_error());
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    errors
}

#[tokio::test]
async fn a_candidate_failing_posts_is_rolled_back_with_bounded_client_errors() {
    let mono = TestUpstream::start("mono").await;
    let svc = TestUpstream::start("svc").await;
    let proxy = start_proxy(&config(&mono, &svc, "rollback")).await;
    let client = TestClient::new();
    let url = format!("http://{}/api/reviews", proxy.listen_addr());
    let errors = load(&client, &url, 400).await;
    let route = proxy.status().routes[0].clone();
    assert_eq!(route.weight, 0, "the rule did not roll back");
    let breach = route.breach.expect("the breach is shown");
    assert!(
        breach.starts_with("rollback at weight 50: error rate"),
        "{breach}"
    );
    assert_eq!(route.breaches, 1);
    // Errors reach clients only until the rule has its minimum of candidate requests (half of
    // which are failing POSTs), plus what arrives within one evaluation interval.
    assert!(errors > 0 && errors <= 20, "{errors} client-visible errors");
    let after = load(&client, &url, 40).await;
    assert_eq!(after, 0, "errors after the rollback");
    assert!(
        proxy
            .metrics_text()
            .contains("strangler_rollback_breaches_total{route=\"reviews\"} 1")
    );

    // It stays at 0 until an operator moves it; that clears the breach and starts a new window.
    proxy.set_weight("reviews", 10).expect("weight");
    let route = proxy.status().routes[0].clone();
    assert_eq!((route.weight, route.breach), (10, None));
}

#[tokio::test]
async fn on_breach_freeze_holds_the_weight_and_reports() {
    let mono = TestUpstream::start("mono").await;
    let svc = TestUpstream::start("svc").await;
    let proxy = start_proxy(&config(&mono, &svc, "freeze")).await;
    let client = TestClient::new();
    let url = format!("http://{}/api/reviews", proxy.listen_addr());
    load(&client, &url, 200).await;
    let route = proxy.status().routes[0].clone();
    assert_eq!(route.weight, 50);
    let breach = route.breach.expect("the breach is shown");
    assert!(
        breach.starts_with("freeze at weight 50: error rate"),
        "{breach}"
    );
    assert!(
        proxy
            .status()
            .render_table()
            .contains("route reviews: freeze at weight 50")
    );
}

#[test]
fn a_rollback_rule_needs_a_candidate_and_a_threshold() {
    let base = "listen = \"127.0.0.1:0\"\n[upstreams.m]\nendpoints = [\"http://127.0.0.1:1\"]\n[default]\nprimary = \"m\"\n[[routes]]\nname = \"r\"\nmatch = { prefix = \"/r\" }\nprimary = \"m\"\n";
    let no_candidate = format!("{base}rollback = {{ max_error_rate = 0.1 }}\n");
    let error =
        strangler_proxy::ValidConfig::from_toml_str(&no_candidate, "s.toml").expect_err("refused");
    assert!(
        error
            .to_string()
            .contains("s.toml:10:12: rollback needs a candidate"),
        "{error}"
    );
}
