//! The admin API: auth, weights, status, metrics, and the admin client the CLI uses.

use http::Method;
use strangler_proxy::{AdminClient, AdminError};

use crate::support::{HEADER, TestClient, TestUpstream, fill, start_proxy};

fn config(mono: &TestUpstream, svc: &TestUpstream, token: &str) -> String {
    fill(
        &format!(
            "{token}\n{HEADER}{}",
            r#"
[upstreams.mono]
endpoints = ["{mono}"]
[upstreams.svc]
endpoints = ["{svc}"]
[[routes]]
name = "reviews"
match = { prefix = "/api/reviews" }
primary = "mono"
candidate = "svc"
[[routes]]
name = "static"
match = { prefix = "/static" }
primary = "mono"
[default]
primary = "mono"
"#
        ),
        &[mono, svc],
    )
}

#[tokio::test]
async fn with_a_token_every_endpoint_but_healthz_needs_it() {
    let mono = TestUpstream::start("mono").await;
    let svc = TestUpstream::start("svc").await;
    let proxy = start_proxy(&config(&mono, &svc, "admin_token = \"s3cret\"")).await;
    let client = TestClient::new();
    let admin = format!("http://{}", proxy.admin_addr());
    assert_eq!(
        client.get(&format!("{admin}/healthz"), &[]).await.status,
        200
    );
    for (method, path) in [
        (Method::GET, "/routes"),
        (Method::GET, "/metrics"),
        (Method::PUT, "/routes/reviews"),
        (Method::POST, "/reload"),
    ] {
        for auth in [
            None,
            Some("Bearer wrong"),
            Some("s3cret"),
            Some("Bearer s3cre"),
        ] {
            let headers: Vec<(&str, &str)> =
                auth.map(|a| ("authorization", a)).into_iter().collect();
            let reply = client
                .send(
                    method.clone(),
                    &format!("{admin}{path}"),
                    &headers,
                    "{\"weight\": 5}",
                )
                .await
                .expect("reply");
            assert_eq!(reply.status, 401, "{method} {path} with {auth:?}");
            assert_eq!(reply.headers["www-authenticate"], "Bearer");
        }
    }
    assert_eq!(
        proxy.status().routes[0].weight,
        0,
        "an unauthorized PUT changed the weight"
    );
    let ok = client
        .get(
            &format!("{admin}/routes"),
            &[("authorization", "Bearer s3cret")],
        )
        .await;
    assert_eq!(ok.status, 200);

    let without = AdminClient::new(&admin, None).expect("client");
    assert!(
        matches!(without.status().await, Err(AdminError::Refused { status, .. }) if status == 401)
    );
    let with = AdminClient::new(&admin, Some("s3cret".into())).expect("client");
    assert_eq!(
        with.set_weight("reviews", 40).await.expect("put").weight,
        40
    );
}

#[tokio::test]
async fn weights_change_at_runtime_and_bad_changes_are_refused() {
    let mono = TestUpstream::start("mono").await;
    let svc = TestUpstream::start("svc").await;
    let proxy = start_proxy(&config(&mono, &svc, "")).await;
    let admin = AdminClient::new(&proxy.admin_addr().to_string(), None).expect("client");
    let client = TestClient::new();
    let url = format!("http://{}/api/reviews", proxy.listen_addr());
    assert_eq!(client.get(&url, &[]).await.upstream(), "mono");
    let route = admin.set_weight("reviews", 100).await.expect("put");
    assert_eq!((route.name.as_str(), route.weight), ("reviews", 100));
    assert_eq!(client.get(&url, &[]).await.upstream(), "svc");

    fn refused<T: std::fmt::Debug>(result: Result<T, AdminError>) -> (u16, String) {
        match result {
            Err(AdminError::Refused { status, message }) => (status.as_u16(), message),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
    let (status, message) = refused(admin.set_weight("nope", 10).await);
    assert_eq!(status, 404, "{message}");
    let (status, message) = refused(admin.set_weight("static", 10).await);
    assert_eq!(status, 400);
    assert!(message.contains("no candidate"), "{message}");
    // The default route exists (GET /routes/default shows it) and has no candidate either.
    let (status, message) = refused(admin.set_weight("default", 10).await);
    assert_eq!(status, 400, "{message}");
    assert!(message.contains("no candidate"), "{message}");
    assert_eq!(
        admin.set_weight("default", 0).await.expect("put 0").weight,
        0
    );
    let (status, _) = refused(admin.set_weight("reviews", 101).await);
    assert_eq!(status, 400);
    let garbage = client
        .send(
            Method::PUT,
            &format!("http://{}/routes/reviews", proxy.admin_addr()),
            &[],
            "weight=5",
        )
        .await
        .expect("reply");
    assert_eq!(garbage.status, 400);
    let (status, message) = refused(admin.reload().await);
    assert_eq!(status, 409, "{message}");

    let status = admin.status().await.expect("status");
    assert_eq!(
        status
            .routes
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>(),
        ["reviews", "static", "default"]
    );
    assert_eq!(status.routes[0].weight, 100);
    assert_eq!(status.routes[0].primary_side.requests, 1);
    assert_eq!(status.routes[0].candidate_side.requests, 1);
    let table = status.render_table();
    assert!(
        table.contains("reviews") && table.contains("100%"),
        "{table}"
    );
    assert!(
        table
            .lines()
            .next()
            .is_some_and(|header| header.contains("FALLBACKS  BYPASSES")),
        "{table}"
    );
}

#[tokio::test]
async fn metrics_are_prometheus_text_per_route_and_side() {
    let mono = TestUpstream::start("mono").await;
    let svc = TestUpstream::start("svc").await;
    let proxy = start_proxy(&config(&mono, &svc, "")).await;
    proxy.set_weight("reviews", 100).expect("weight");
    let client = TestClient::new();
    for _ in 0..3 {
        client
            .get(
                &format!("http://{}/api/reviews/1", proxy.listen_addr()),
                &[],
            )
            .await;
    }
    client
        .get(&format!("http://{}/other", proxy.listen_addr()), &[])
        .await;
    let text = AdminClient::new(&proxy.admin_addr().to_string(), None)
        .expect("client")
        .metrics()
        .await
        .expect("metrics");
    for line in [
        "strangler_requests_total{route=\"reviews\",side=\"candidate\",class=\"2xx\"} 3",
        "strangler_requests_total{route=\"default\",side=\"primary\",class=\"2xx\"} 1",
        "strangler_request_duration_seconds_count{route=\"reviews\",side=\"candidate\"} 3",
        "strangler_route_weight{route=\"reviews\"} 100",
        "# TYPE strangler_request_duration_seconds histogram",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing `{line}` in:\n{text}"
        );
    }
    assert!(text.contains(&format!(
        "strangler_upstream_healthy{{upstream=\"svc\",endpoint=\"{}\"}} 1",
        svc.url()
    )));
}

#[tokio::test]
async fn unknown_admin_paths_are_404() {
    let mono = TestUpstream::start("mono").await;
    let svc = TestUpstream::start("svc").await;
    let proxy = start_proxy(&config(&mono, &svc, "")).await;
    let reply = TestClient::new()
        .get(&format!("http://{}/nope", proxy.admin_addr()), &[])
        .await;
    assert_eq!(reply.status, 404);
}
