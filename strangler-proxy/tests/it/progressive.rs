//! Progressive cutover through the admin API: steps pass while the candidate behaves, and a
//! failing candidate stops the plan with the weight back at 0.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Duration;

use strangler_proxy::{AdminClient, CutoverPlan, PlanEvent, PlanOutcome, run_plan};

use crate::support::{HEADER, TestClient, TestUpstream, fill, start_proxy};

fn config(mono: &TestUpstream, svc: &TestUpstream) -> String {
    config_with(mono, svc, "")
}

fn config_with(mono: &TestUpstream, svc: &TestUpstream, extra: &str) -> String {
    config_of(
        mono,
        svc,
        &format!(
            "{}{extra}\n",
            route_from_mono_to_svc("reviews", "/api/reviews")
        ),
    )
}

/// Upstreams `mono` and `svc`, the given routes, and `mono` as the default.
fn config_of(mono: &TestUpstream, svc: &TestUpstream, routes: &str) -> String {
    let upstreams = "[upstreams.mono]\nendpoints = [\"{mono}\"]\n\
                     [upstreams.svc]\nendpoints = [\"{svc}\"]\n";
    fill(
        &format!("{HEADER}{upstreams}{routes}[default]\nprimary = \"mono\"\n"),
        &[mono, svc],
    )
}

/// A `[[routes]]` block from `mono` to `svc` on a path prefix.
fn route_from_mono_to_svc(name: &str, prefix: &str) -> String {
    format!(
        "[[routes]]\nname = \"{name}\"\nmatch = {{ prefix = \"{prefix}\" }}\n\
         primary = \"mono\"\ncandidate = \"svc\"\n"
    )
}

/// Requests every 2 ms until dropped; `failing` makes the candidate answer 500.
struct Load {
    running: Arc<AtomicBool>,
}

impl Load {
    fn start(url: String, failing: bool) -> Load {
        let running = Arc::new(AtomicBool::new(true));
        let flag = running.clone();
        tokio::spawn(async move {
            let client = TestClient::new();
            let headers: &[(&str, &str)] = if failing {
                &[("x-fail-on", "svc")]
            } else {
                &[]
            };
            while flag.load(Relaxed) {
                client.get(&url, headers).await;
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        });
        Load { running }
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.running.store(false, Relaxed);
    }
}

fn plan() -> CutoverPlan {
    CutoverPlan {
        routes: vec!["reviews".into()],
        steps: vec![20, 50, 100],
        interval: Duration::from_millis(300),
        max_error_rate: 0.01,
        min_match_rate: None,
    }
}

#[tokio::test]
async fn a_healthy_candidate_is_walked_to_100() {
    let mono = TestUpstream::start("mono").await;
    let svc = TestUpstream::start("svc").await;
    let proxy = start_proxy(&config(&mono, &svc)).await;
    let _load = Load::start(format!("http://{}/api/reviews", proxy.listen_addr()), false);
    let admin = AdminClient::new(&proxy.admin_addr().to_string(), None).expect("client");
    let mut events = Vec::new();
    let outcome = run_plan(&admin, &plan(), |event| events.push(event.clone()))
        .await
        .expect("plan");
    assert_eq!(outcome, PlanOutcome::Completed);
    assert_eq!(proxy.status().routes[0].weight, 100);
    let steps: Vec<u32> = events
        .iter()
        .filter_map(|e| match e {
            PlanEvent::Step { weight, .. } => Some(*weight),
            PlanEvent::Passed { .. } => None,
        })
        .collect();
    assert_eq!(steps, [20, 50, 100]);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, PlanEvent::Passed { requests, errors: 0, .. } if *requests > 0))
    );
}

/// The plan stopped at its first step (weight 20) because every candidate request failed.
fn assert_rolled_back_at_the_first_step(outcome: PlanOutcome) {
    match outcome {
        PlanOutcome::RolledBack { at_weight, reason } => {
            assert_eq!(at_weight, 20);
            assert!(
                reason.starts_with("candidate error rate 1.000 > 0.01 during step 1"),
                "{reason}"
            );
        }
        other => panic!("expected a rollback, got {other:?}"),
    }
}

#[tokio::test]
async fn a_failing_candidate_stops_the_plan_at_the_first_step_with_weight_0() {
    let mono = TestUpstream::start("mono").await;
    let svc = TestUpstream::start("svc").await;
    let proxy = start_proxy(&config(&mono, &svc)).await;
    let _load = Load::start(format!("http://{}/api/reviews", proxy.listen_addr()), true);
    let admin = AdminClient::new(&proxy.admin_addr().to_string(), None).expect("client");
    let outcome = run_plan(&admin, &plan(), |_| {}).await.expect("plan");
    assert_rolled_back_at_the_first_step(outcome);
    assert_eq!(proxy.status().routes[0].weight, 0);
}

/// With `fallback = true` the primary answers what the candidate fails, so the client sees no
/// error and the candidate's side counts nothing; the plan's check must still see the failures.
#[tokio::test]
async fn a_failing_candidate_behind_fallback_still_stops_the_plan() {
    let mono = TestUpstream::start("mono").await;
    let svc = TestUpstream::start("svc").await;
    let proxy = start_proxy(&config_with(&mono, &svc, "fallback = true")).await;
    let _load = Load::start(format!("http://{}/api/reviews", proxy.listen_addr()), true);
    let admin = AdminClient::new(&proxy.admin_addr().to_string(), None).expect("client");
    let outcome = run_plan(&admin, &plan(), |_| {}).await.expect("plan");
    assert_rolled_back_at_the_first_step(outcome);
    let route = &proxy.status().routes[0];
    assert_eq!(route.weight, 0);
    assert!(route.fallbacks > 0, "the candidate's failures fell back");
}

#[tokio::test]
async fn a_low_shadow_match_rate_stops_the_plan() {
    let mono = TestUpstream::start("mono").await;
    let svc = TestUpstream::start("svc").await;
    // The test upstreams answer with their own names: every mirrored pair differs.
    let proxy = start_proxy(&config_with(
        &mono,
        &svc,
        "shadow = { ignore = [\"/headers\"] }",
    ))
    .await;
    let _load = Load::start(format!("http://{}/api/reviews", proxy.listen_addr()), false);
    let admin = AdminClient::new(&proxy.admin_addr().to_string(), None).expect("client");
    let plan = CutoverPlan {
        min_match_rate: Some(0.9),
        ..plan()
    };
    match run_plan(&admin, &plan, |_| {}).await.expect("plan") {
        PlanOutcome::RolledBack { at_weight, reason } => {
            assert_eq!(at_weight, 20);
            assert!(
                reason.starts_with("shadow match rate 0.000 < 0.9 during step 1"),
                "{reason}"
            );
        }
        other => panic!("expected a rollback, got {other:?}"),
    }
    assert_eq!(proxy.status().routes[0].weight, 0);
}

/// Two routes of one group (`reviews-1`, `reviews-2`), both from `mono` to `svc`.
fn group_config(mono: &TestUpstream, svc: &TestUpstream) -> String {
    let routes = route_from_mono_to_svc("reviews-1", "/api/reviews")
        + &route_from_mono_to_svc("reviews-2", "/api/ratings");
    config_of(mono, svc, &routes)
}

fn group_plan() -> CutoverPlan {
    CutoverPlan {
        routes: vec!["reviews-1".into(), "reviews-2".into()],
        ..plan()
    }
}

#[tokio::test]
async fn a_route_group_moves_together() {
    let mono = TestUpstream::start("mono").await;
    let svc = TestUpstream::start("svc").await;
    let proxy = start_proxy(&group_config(&mono, &svc)).await;
    let _reviews = Load::start(format!("http://{}/api/reviews", proxy.listen_addr()), false);
    let _ratings = Load::start(format!("http://{}/api/ratings", proxy.listen_addr()), false);
    let admin = AdminClient::new(&proxy.admin_addr().to_string(), None).expect("client");
    assert!(
        group_plan()
            .describe()
            .contains("routes reviews-1, reviews-2")
    );
    let outcome = run_plan(&admin, &group_plan(), |_| {}).await.expect("plan");
    assert_eq!(outcome, PlanOutcome::Completed);
    let weights = group_weights(&proxy);
    assert_eq!(weights, [100, 100]);
}

#[tokio::test]
async fn a_failure_on_one_route_of_a_group_rolls_back_all_of_it() {
    let mono = TestUpstream::start("mono").await;
    let svc = TestUpstream::start("svc").await;
    let proxy = start_proxy(&group_config(&mono, &svc)).await;
    // Only the second route's candidate fails; the first is healthy.
    let _reviews = Load::start(format!("http://{}/api/reviews", proxy.listen_addr()), false);
    let _ratings = Load::start(format!("http://{}/api/ratings", proxy.listen_addr()), true);
    let admin = AdminClient::new(&proxy.admin_addr().to_string(), None).expect("client");
    match run_plan(&admin, &group_plan(), |_| {}).await.expect("plan") {
        PlanOutcome::RolledBack { at_weight, reason } => {
            assert_eq!(at_weight, 20);
            assert!(reason.starts_with("candidate error rate"), "{reason}");
        }
        other => panic!("expected a rollback, got {other:?}"),
    }
    let weights = group_weights(&proxy);
    assert_eq!(weights, [0, 0]);
}

#[tokio::test]
async fn a_plan_naming_an_unknown_route_is_refused_before_any_weight_moves() {
    let mono = TestUpstream::start("mono").await;
    let svc = TestUpstream::start("svc").await;
    let proxy = start_proxy(&group_config(&mono, &svc)).await;
    let admin = AdminClient::new(&proxy.admin_addr().to_string(), None).expect("client");
    let plan = CutoverPlan {
        routes: vec!["reviews-1".into(), "nope".into()],
        ..plan()
    };
    let error = run_plan(&admin, &plan, |_| {}).await.expect_err("refused");
    assert!(error.to_string().contains("nope"), "{error}");
    let weights = group_weights(&proxy);
    assert_eq!(weights, [0, 0]);
}

/// The weights of `reviews-1` and `reviews-2`, in that order.
fn group_weights(proxy: &strangler_proxy::RunningProxy) -> Vec<u8> {
    let status = proxy.status();
    ["reviews-1", "reviews-2"]
        .iter()
        .map(|name| {
            status
                .routes
                .iter()
                .find(|route| route.name == *name)
                .map(|route| route.weight)
                .expect("the route is listed")
        })
        .collect()
}
