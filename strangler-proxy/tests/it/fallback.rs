//! Fallback: an idempotent request the candidate fails is answered by the primary.

use bytes::Bytes;
use http::Method;

use crate::support::{HEADER, TestClient, TestUpstream, dead_address, fill, start_proxy};

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
    // A write is not retried: it may have reached the candidate.
    let post = client
        .send(Method::POST, &url, &[], Bytes::new())
        .await
        .expect("reply");
    assert_eq!(post.status, 502);
    let route = &proxy.status().routes[0];
    assert!(route.fallback);
    assert_eq!(route.fallbacks, 5);
    assert_eq!(
        route.primary_side.requests, 5,
        "fallback answers count on the primary side"
    );
    assert_eq!(
        route.candidate_side.requests, 1,
        "only the POST counts on the candidate side"
    );
    let metrics = proxy.metrics_text();
    assert!(
        metrics.contains("strangler_fallbacks_total{route=\"reviews\"} 5"),
        "{metrics}"
    );
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
