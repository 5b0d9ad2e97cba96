//! Request bodies and writes are never retried unsafely: when the candidate process fails a
//! request it received, only the methods safe to send twice (GET, HEAD, OPTIONS, and those the
//! route marks idempotent) are replayed on the primary, and only without a body; everything else
//! gets the candidate's own failure. A request that could not reach the candidate at all goes to
//! the primary whatever it is. Each process's own request counts prove what reached it.

use bytes::Bytes;
use http::Method;

use super::process::UpstreamProcess;
use super::{admin, config, status};
use crate::support::{Reply, TestClient, start_proxy};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_safe_bodiless_requests_fall_back_to_the_primary() {
    let _exclusive = super::exclusive().await;
    let mono = UpstreamProcess::start("mono", &[]);
    let mut svc = UpstreamProcess::start(
        "svc",
        &[
            "--fail-method",
            "GET",
            "--fail-method",
            "POST",
            "--fail-method",
            "PUT",
            "--fail-method",
            "DELETE",
        ],
    );
    let routes = r#"
[[routes]]
name = "reviews"
match = { prefix = "/api/reviews" }
primary = "mono"
candidate = "svc"
weight = 100
fallback = true
idempotent_methods = ["PUT"]
"#;
    let proxy = start_proxy(&config(&[(&mono, ""), (&svc, "")], routes)).await;
    let client = TestClient::new();
    let url = format!("http://{}/api/reviews/7", proxy.listen_addr());
    let send = |method: Method, body: &'static [u8]| {
        let (client, url) = (client.clone(), url.clone());
        async move {
            client
                .send(method, &url, &[], Bytes::from_static(body))
                .await
                .expect("reply")
        }
    };
    let who = |reply: &Reply| (reply.status.as_u16(), reply.upstream());
    let answered = |status: u16, by: &str| (status, by.to_owned());

    // Safe to repeat: the primary answers.
    assert_eq!(who(&send(Method::GET, b"").await), answered(200, "mono"));
    assert_eq!(who(&send(Method::PUT, b"").await), answered(200, "mono"));
    // Not safe: the client gets the candidate's failure.
    let json = b"{\"stars\": 1}";
    assert_eq!(who(&send(Method::POST, json).await), answered(500, "svc"));
    assert_eq!(who(&send(Method::POST, b"").await), answered(500, "svc"));
    assert_eq!(who(&send(Method::DELETE, b"").await), answered(500, "svc"));
    // PUT is marked idempotent, but its body streamed to the candidate and was not kept.
    assert_eq!(who(&send(Method::PUT, json).await), answered(500, "svc"));

    // A dead candidate: the GET finds its kept connection closed and falls back; the POST
    // after it cannot even connect, so not a byte reaches the candidate and the primary gets
    // it, body and all.
    svc.kill();
    assert_eq!(who(&send(Method::GET, b"").await), answered(200, "mono"));
    assert_eq!(who(&send(Method::POST, json).await), answered(200, "mono"));

    assert_eq!(mono.served(&client, "GET").await, 2);
    assert_eq!(
        mono.served(&client, "PUT").await,
        1,
        "only the bodiless PUT fell back"
    );
    assert_eq!(
        mono.served(&client, "POST").await,
        1,
        "only the POST the dead candidate never got reached the primary"
    );
    assert_eq!(
        mono.served(&client, "DELETE").await,
        0,
        "a DELETE reached the primary"
    );
    let route = &status(&admin(&proxy)).await.routes[0];
    assert_eq!(route.fallbacks, 4, "{route:?}");
    // Fallback answers count once, on the primary side: the candidate answered only the four
    // it failed.
    assert_eq!(route.candidate_side.requests, 4, "{route:?}");
    assert_eq!(route.primary_side.requests, 4, "{route:?}");
}
