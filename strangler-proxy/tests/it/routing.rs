//! Route precedence, the weighted split, and sticky users, through a real proxy.

use std::collections::BTreeMap;

use crate::support::{HEADER, TestClient, TestUpstream, fill, start_proxy};

#[tokio::test]
async fn the_most_specific_route_wins_over_the_wire() {
    let mono = TestUpstream::start("mono").await;
    let a = TestUpstream::start("a").await;
    let b = TestUpstream::start("b").await;
    let c = TestUpstream::start("c").await;
    let d = TestUpstream::start("d").await;
    let template = format!(
        "{HEADER}{}",
        r#"
[upstreams.mono]
endpoints = ["{mono}"]
[upstreams.a]
endpoints = ["{a}"]
[upstreams.b]
endpoints = ["{b}"]
[upstreams.c]
endpoints = ["{c}"]
[upstreams.d]
endpoints = ["{d}"]
[[routes]]
name = "api"
match = { prefix = "/api" }
primary = "a"
[[routes]]
name = "movie-reviews"
match = { pattern = "/api/movies/{id}/reviews" }
primary = "b"
[[routes]]
name = "summary"
match = { exact = "/api/movies/top/reviews" }
primary = "c"
[[routes]]
name = "writes"
match = { prefix = "/api", methods = ["POST"], headers = [{ name = "x-tenant", value = "beta" }] }
primary = "d"
[default]
primary = "mono"
"#
    );
    let proxy = start_proxy(&fill(&template, &[&mono, &a, &b, &c, &d])).await;
    let client = TestClient::new();
    let base = format!("http://{}", proxy.listen_addr());
    type Case<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case<'_>; 7] = [
        ("GET", "/api/movies/top/reviews", &[], "c"),
        ("GET", "/api/movies/7/reviews", &[], "b"),
        ("GET", "/api/movies/7/reviews/1", &[], "a"),
        ("POST", "/api/x", &[("x-tenant", "beta")], "d"),
        ("POST", "/api/x", &[("x-tenant", "alpha")], "a"),
        ("GET", "/apix", &[], "mono"),
        ("GET", "/", &[], "mono"),
    ];
    for (method, path, headers, expected) in cases {
        let reply = client
            .send(
                method.parse().expect("method"),
                &format!("{base}{path}"),
                headers,
                "",
            )
            .await
            .expect("reply");
        assert_eq!(reply.upstream(), expected, "{method} {path} {headers:?}");
    }
}

fn split_config(mono: &TestUpstream, svc: &TestUpstream, weight: u8, sticky: &str) -> String {
    fill(
        &(HEADER.to_owned()
            + &format!(
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
weight = {weight}
{sticky}
[default]
primary = "mono"
"#
            )),
        &[mono, svc],
    )
}

/// Sends `count` requests with up to 32 in flight; returns how many the candidate served.
async fn candidate_share(client: &TestClient, url: &str, count: usize) -> usize {
    let mut served = 0;
    let mut pending = tokio::task::JoinSet::new();
    for index in 0..count {
        let (client, url) = (client.clone(), url.to_owned());
        pending.spawn(async move { client.get(&url, &[]).await.upstream() == "svc" });
        if pending.len() >= 32 || index + 1 == count {
            while let Some(result) = pending.join_next().await {
                served += usize::from(result.expect("task"));
                if pending.len() < 16 && index + 1 < count {
                    break;
                }
            }
        }
    }
    served
}

#[tokio::test]
async fn weight_30_sends_30_percent_within_2_points() {
    let mono = TestUpstream::start("mono").await;
    let svc = TestUpstream::start("svc").await;
    let proxy = start_proxy(&split_config(&mono, &svc, 30, "")).await;
    let client = TestClient::new();
    let url = format!("http://{}/api/reviews", proxy.listen_addr());
    let requests = 10_000;
    let served = candidate_share(&client, &url, requests).await;
    let share = served as f64 / requests as f64;
    assert!((0.28..=0.32).contains(&share), "candidate share {share}");
    let status = proxy.status();
    let route = &status.routes[0];
    assert_eq!(route.candidate_side.requests as usize, served);
    assert_eq!(
        (route.primary_side.requests + route.candidate_side.requests) as usize,
        requests
    );
}

#[tokio::test]
async fn sticky_users_keep_their_side_and_only_ever_move_to_the_candidate() {
    let mono = TestUpstream::start("mono").await;
    let svc = TestUpstream::start("svc").await;
    let config = split_config(&mono, &svc, 10, "sticky = { header = \"x-user-id\" }");
    let proxy = start_proxy(&config).await;
    let client = TestClient::new();
    let url = format!("http://{}/api/reviews", proxy.listen_addr());
    let users: Vec<String> = (0..600).map(|i| format!("user-{i}")).collect();
    let mut on_candidate: BTreeMap<&str, bool> = BTreeMap::new();
    for weight in [10u32, 30, 60, 90] {
        proxy.set_weight("reviews", weight).expect("weight");
        let mut count = 0;
        for user in &users {
            let first = client.get(&url, &[("x-user-id", user)]).await.upstream() == "svc";
            let again = client.get(&url, &[("x-user-id", user)]).await.upstream() == "svc";
            assert_eq!(first, again, "{user} changed side at weight {weight}");
            let before = on_candidate.insert(user, first).unwrap_or(false);
            assert!(
                !before || first,
                "{user} moved back to the primary at weight {weight}"
            );
            count += usize::from(first);
        }
        let share = count as f64 / users.len() as f64 * 100.0;
        assert!(
            (share - f64::from(weight)).abs() <= 7.0,
            "weight {weight}: {share}% of users"
        );
    }
}

#[tokio::test]
async fn a_sticky_cookie_pins_the_user() {
    let mono = TestUpstream::start("mono").await;
    let svc = TestUpstream::start("svc").await;
    let proxy = start_proxy(&split_config(
        &mono,
        &svc,
        50,
        "sticky = { cookie = \"session\" }",
    ))
    .await;
    let client = TestClient::new();
    let url = format!("http://{}/api/reviews", proxy.listen_addr());
    for user in 0..40 {
        let cookie = format!("theme=dark; session=s{user}");
        let sides: Vec<String> = sides_of_one_session(&client, &url, &cookie).await;
        assert!(
            sides.windows(2).all(|w| w[0] == w[1]),
            "session s{user}: {sides:?}"
        );
    }
}

async fn sides_of_one_session(client: &TestClient, url: &str, cookie: &str) -> Vec<String> {
    let mut sides = Vec::new();
    for _ in 0..5 {
        sides.push(client.get(url, &[("cookie", cookie)]).await.upstream());
    }
    sides
}
