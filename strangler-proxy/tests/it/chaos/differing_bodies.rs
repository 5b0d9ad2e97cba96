//! Shadowing to a candidate process whose JSON differs from the primary's, under a steady load
//! of requests carrying credentials: the diff store (`GET /diffs?route=`) holds exactly the
//! expected differences, ignored fields are never reported, and no secret (request
//! `Authorization` / `Cookie`, response `Set-Cookie`, a redacted body field) is stored.

use std::time::Duration;

use strangler_proxy::diff::DiffSample;

use super::load::{Load, Outcome, Shot, failures, rate};
use super::process::UpstreamProcess;
use super::{admin, config, route, wait_until};
use crate::support::{TestClient, start_proxy};

const TOKEN: &str = "Bearer chaos-token-5f1c";
const COOKIE: &str = "session=client-secret-77ab";
/// Strings that must never appear in what the proxy stores or reports.
const SECRETS: [&str; 7] = [
    "chaos-token-5f1c",
    "client-secret-77ab",
    "mono-cookie-91e2",
    "svc-cookie-03d4",
    "ripley@nostromo.example",
    "ellen@sulaco.example",
    "2026-06-01",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn differing_json_bodies_are_stored_as_expected_without_ignored_fields_or_secrets() {
    let _exclusive = super::exclusive().await;
    let mono = UpstreamProcess::start(
        "mono",
        &[
            "--field",
            r#"title="Alien""#,
            "--field",
            "price=10",
            "--field",
            r#"updated_at="2026-01-01T00:00:00Z""#,
            "--field",
            r#"cast=[{"id": 1, "name": "Ripley", "email": "ripley@nostromo.example"}]"#,
            "--set-cookie",
            "session=mono-cookie-91e2",
        ],
    );
    let svc = UpstreamProcess::start(
        "svc",
        &[
            "--field",
            r#"title="Aliens""#,
            // The same number, written differently: not a difference.
            "--field",
            "price=10.0",
            "--field",
            r#"updated_at="2026-06-01T12:00:00Z""#,
            "--field",
            r#"cast=[{"id": 7, "name": "Ripley", "email": "ellen@sulaco.example"}]"#,
            "--field",
            "rating=4.5",
            "--set-cookie",
            "session=svc-cookie-03d4",
        ],
    );
    // `/headers` (the echo of what each side received: hosts and the shadow marker differ) and
    // `/upstream` (the process name) are ignored too.
    let routes = r#"
[[routes]]
name = "movies"
match = { prefix = "/api/movies" }
primary = "mono"
candidate = "svc"
shadow = { headers = ["content-type", "set-cookie"], ignore = ["/updated_at", "/**/id", "/headers", "/upstream"], redact = ["/**/email"] }
"#;
    let proxy = start_proxy(&config(&[(&mono, ""), (&svc, "")], routes)).await;
    let admin = admin(&proxy);

    // 6 clients at 25 ms (~240/s) for 1.5 s, every request with credentials.
    let base = format!("http://{}", proxy.listen_addr());
    let load = Load::start(
        &base,
        6,
        Duration::from_millis(25),
        Duration::from_secs(10),
        |n| Shot {
            headers: vec![("authorization", TOKEN), ("cookie", COOKIE)],
            ..Shot::get(&format!("/api/movies/{}", n % 5))
        },
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let outcomes = load.stop().await;
    let all: Vec<&Outcome> = outcomes.iter().collect();
    assert!(all.iter().all(|o| o.ok()), "{}", failures(&all));
    assert!(
        all.iter().all(|o| o.upstream == "mono"),
        "a client saw the candidate"
    );
    let rate = rate(&outcomes);
    assert!(rate >= 150.0, "the load was too light: {rate:.0} req/s");

    let sent = outcomes.len() as u64;
    let done = wait_until(&admin, Duration::from_secs(5), "mirrors compared", |s| {
        route(s, "movies")
            .shadow
            .as_ref()
            .is_some_and(|c| c.compared + c.dropped == sent)
    })
    .await;
    let counters = route(&done, "movies").shadow.clone().expect("counters");
    assert!(counters.compared > 100, "{counters:?}");
    assert_eq!(counters.matched, 0, "{counters:?}");

    let client = TestClient::new();
    let reply = client
        .get(
            &format!("http://{}/diffs?route=movies", proxy.admin_addr()),
            &[],
        )
        .await;
    let stored = String::from_utf8_lossy(&reply.body).into_owned();
    let diffs: Vec<DiffSample> = serde_json::from_slice(&reply.body).expect("diffs JSON");
    assert_eq!(diffs.len(), 100, "the store keeps the newest 100");
    let expected = [
        "header set-cookie: values differ (redacted)",
        "/cast/0/email: values differ (redacted)",
        "/rating: only in candidate",
        "/title: \"Alien\" != \"Aliens\"",
    ];
    for diff in &diffs {
        assert_eq!(diff.route, "movies");
        assert!(diff.request.starts_with("GET /api/movies/"), "{diff:?}");
        assert_eq!(diff.differences, expected, "{diff:?}");
        for secret in ["authorization", "cookie"] {
            assert!(
                diff.headers.contains(&(secret.into(), "[redacted]".into())),
                "{diff:?}"
            );
        }
    }
    // Nothing the proxy reports holds a secret: the diff store, the status, the metrics.
    let routes = client
        .get(&format!("http://{}/routes", proxy.admin_addr()), &[])
        .await;
    let metrics = admin.metrics().await.expect("metrics");
    for (what, text) in [
        ("/diffs", stored.as_str()),
        ("/routes", &String::from_utf8_lossy(&routes.body)),
        ("/metrics", metrics.as_str()),
    ] {
        for secret in SECRETS {
            assert!(!text.contains(secret), "{what} holds {secret}: {text}");
        }
    }
}
