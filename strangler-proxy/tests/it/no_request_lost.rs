//! Under steady load, move the weight 0 -> 100 -> 0 in steps and reload the config file again
//! and again (a broken version in between): not one request may fail, and the proxy's counters
//! must add up to what the client sent.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::{Duration, Instant};

use crate::support::{TestClient, TestUpstream, fill, start_proxy_from_file};

const CLIENTS: usize = 24;
/// Each client paces itself to one request per this, so the load is ~24 / 40ms = 600 req/s
/// (less on a busy machine), all over keep-alive connections.
const PACE: Duration = Duration::from_millis(40);

fn config(mono: &TestUpstream, svc: &TestUpstream, weight: u32) -> String {
    fill(
        &format!(
            r#"listen = "127.0.0.1:0"
admin = "127.0.0.1:0"
watch_config = "50ms"
[log]
target = "off"
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
sticky = {{ header = "x-user-id" }}
[default]
primary = "mono"
"#
        ),
        &[mono, svc],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_request_is_lost_while_weights_move_and_the_config_reloads() {
    let mono = TestUpstream::start("mono").await;
    let svc = TestUpstream::start("svc").await;
    let file = start_proxy_from_file(&config(&mono, &svc, 0)).await;
    let proxy = &file.proxy;
    let running = Arc::new(AtomicBool::new(true));
    let mut load = Vec::new();
    for index in 0..CLIENTS {
        let client = TestClient::new();
        let running = running.clone();
        let base = format!("http://{}", proxy.listen_addr());
        load.push(tokio::spawn(async move {
            let (mut sent, mut failures, mut to_candidate) = (0u64, Vec::new(), 0u64);
            let mut ticker = tokio::time::interval(PACE);
            while running.load(Relaxed) {
                ticker.tick().await;
                // Every other request hits the weighted route, the rest the default route.
                let path = if sent % 2 == 0 {
                    "/api/reviews/1"
                } else {
                    "/home"
                };
                let user = format!("user-{index}-{}", sent % 7);
                sent += 1;
                match client
                    .send(
                        http::Method::GET,
                        &format!("{base}{path}"),
                        &[("x-user-id", &user)],
                        "",
                    )
                    .await
                {
                    Ok(reply) if reply.status == 200 => {
                        to_candidate += u64::from(reply.upstream() == "svc")
                    }
                    Ok(reply) => failures.push(format!("{path}: {}", reply.status)),
                    Err(error) => failures.push(format!("{path}: {error}")),
                }
            }
            (sent, failures, to_candidate)
        }));
    }

    let started = Instant::now();
    let steps = [0u32, 10, 25, 50, 75, 100, 75, 50, 25, 10, 0];
    let mut broken_reloads = 0;
    for (index, weight) in steps.iter().enumerate() {
        tokio::time::sleep(Duration::from_millis(150)).await;
        proxy.set_weight("reviews", *weight).expect("weight");
        tokio::time::sleep(Duration::from_millis(150)).await;
        if index % 3 == 1 {
            // A broken file: the watcher and the explicit reload both refuse it.
            std::fs::write(
                &file.path,
                "listen = \"127.0.0.1:0\"\n[[routes]]\nname = 7\n",
            )
            .expect("write");
            assert!(proxy.reload().is_err());
            broken_reloads += 1;
            tokio::time::sleep(Duration::from_millis(120)).await;
        }
        // A valid file (weight line unchanged, so the runtime weight holds), reloaded explicitly
        // and by the watcher.
        std::fs::write(&file.path, config(&mono, &svc, 0)).expect("write");
        proxy.reload().expect("valid reload");
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    running.store(false, Relaxed);
    let elapsed = started.elapsed();

    let (mut sent, mut failures, mut to_candidate) = (0, Vec::new(), 0);
    for task in load {
        let (s, f, c) = task.await.expect("client task");
        sent += s;
        failures.extend(f);
        to_candidate += c;
    }
    assert!(
        failures.is_empty(),
        "{} of {sent} requests failed: {:?}",
        failures.len(),
        &failures[..failures.len().min(10)]
    );
    let rate = sent as f64 / elapsed.as_secs_f64();
    assert!(
        rate >= 200.0,
        "the load was too light to prove anything: {rate:.0} req/s"
    );
    assert!(to_candidate > 0, "the candidate never served");

    let status = proxy.status();
    let counted: u64 = status
        .routes
        .iter()
        .map(|route| route.primary_side.requests + route.candidate_side.requests)
        .sum();
    assert_eq!(
        counted, sent,
        "counters do not add up to what the client sent"
    );
    let served_by_upstreams = (mono.hits() + svc.hits()) as u64;
    assert_eq!(served_by_upstreams, sent);
    let reviews = status
        .routes
        .iter()
        .find(|r| r.name == "reviews")
        .expect("route");
    assert_eq!(reviews.candidate_side.requests, to_candidate);
    assert_eq!(reviews.weight, 0);
    assert!(status.reloads.refused >= broken_reloads);
    assert!(status.reloads.ok >= steps.len() as u64);
}
