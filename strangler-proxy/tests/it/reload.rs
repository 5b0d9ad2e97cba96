//! Hot change: file watching, POST /reload, SIGHUP, refused configs, weights across reloads,
//! connections kept across changes, and graceful shutdown.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use strangler_proxy::{AdminClient, AdminError, Proxy, ProxyOptions, ValidConfig};

use crate::support::{FileProxy, TestClient, TestUpstream, fill, start_proxy_from_file};

fn config(mono: &TestUpstream, svc: &TestUpstream, weight: &str, extra_route: &str) -> String {
    fill(
        &format!(
            r#"listen = "127.0.0.1:0"
admin = "127.0.0.1:0"
watch_config = "100ms"
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
{extra_route}
[default]
primary = "mono"
"#
        ),
        &[mono, svc],
    )
}

const MOVIES: &str =
    "[[routes]]\nname = \"movies\"\nmatch = { prefix = \"/api/movies\" }\nprimary = \"svc\"\n";

async fn wait_for_version(proxy: &strangler_proxy::RunningProxy, version: u64) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while proxy.status().version < version {
        assert!(
            Instant::now() < deadline,
            "table version {version} never came"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_changed_file_is_reloaded_and_a_broken_one_refused_with_its_line() {
    let mono = TestUpstream::start("mono").await;
    let svc = TestUpstream::start("svc").await;
    let file = start_proxy_from_file(&config(&mono, &svc, "0", "")).await;
    let proxy = &file.proxy;
    let client = TestClient::new();
    let base = format!("http://{}", proxy.listen_addr());
    assert_eq!(
        client
            .get(&format!("{base}/api/movies"), &[])
            .await
            .upstream(),
        "mono"
    );

    std::fs::write(&file.path, config(&mono, &svc, "0", MOVIES)).expect("write");
    wait_for_version(proxy, 2).await;
    assert_eq!(
        client
            .get(&format!("{base}/api/movies"), &[])
            .await
            .upstream(),
        "svc"
    );

    std::fs::write(&file.path, config(&mono, &svc, "250", "")).expect("write");
    let admin = AdminClient::new(&proxy.admin_addr().to_string(), None).expect("client");
    match admin.reload().await {
        Err(AdminError::Refused { status, message }) => {
            assert_eq!(status.as_u16(), 422);
            assert!(
                message.contains("strangler.toml:15:10: weight = 250"),
                "{message}"
            );
        }
        other => panic!("broken config accepted: {other:?}"),
    }
    let status = proxy.status();
    assert_eq!(status.version, 2, "a refused config changed the table");
    assert!(status.reloads.refused >= 1);
    assert!(
        status
            .reloads
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains("weight = 250")
    );
    assert_eq!(
        client
            .get(&format!("{base}/api/movies"), &[])
            .await
            .upstream(),
        "svc"
    );
}

#[tokio::test]
async fn a_runtime_weight_survives_unrelated_reloads_until_the_file_changes_it() {
    let mono = TestUpstream::start("mono").await;
    let svc = TestUpstream::start("svc").await;
    let file = start_proxy_from_file(&config(&mono, &svc, "0", "")).await;
    let proxy = &file.proxy;
    proxy.set_weight("reviews", 60).expect("weight");
    std::fs::write(&file.path, config(&mono, &svc, "0", MOVIES)).expect("write");
    let version = proxy.reload().expect("reload");
    assert_eq!(
        proxy
            .status()
            .routes
            .iter()
            .find(|r| r.name == "reviews")
            .map(|r| r.weight),
        Some(60)
    );
    std::fs::write(&file.path, config(&mono, &svc, "20", MOVIES)).expect("write");
    proxy.reload().expect("reload");
    assert!(proxy.status().version > version);
    assert_eq!(
        proxy
            .status()
            .routes
            .iter()
            .find(|r| r.name == "reviews")
            .map(|r| r.weight),
        Some(20)
    );
}

/// A weight the file moves is logged as a traffic move, like one made through the admin API.
#[tokio::test]
async fn a_weight_the_file_moves_is_logged_as_weight_changed() {
    let mono = TestUpstream::start("mono").await;
    let svc = TestUpstream::start("svc").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("events.log");
    let logged = |weight: &str| {
        config(&mono, &svc, weight, "")
            .replace(
                "target = \"off\"",
                &format!("target = \"{}\"", log.display()),
            )
            .replace("watch_config = \"100ms\"", "watch_config = \"off\"")
    };
    let file = start_proxy_from_file(&logged("0")).await;
    std::fs::write(&file.path, logged("10")).expect("write");
    file.proxy.reload().expect("reload");
    std::fs::write(&file.path, logged("10")).expect("write");
    file.proxy.reload().expect("reload, nothing moved");
    let FileProxy {
        proxy, _dir: _keep, ..
    } = file;
    assert!(proxy.shutdown().await.drained);
    let text = std::fs::read_to_string(&log).expect("log file");
    let moves: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|line| line["event"] == "weight_changed")
        .collect();
    assert_eq!(moves.len(), 1, "{text}");
    assert_eq!(moves[0]["route"], "reviews");
    assert_eq!(
        (moves[0]["from"].as_u64(), moves[0]["to"].as_u64()),
        (Some(0), Some(10))
    );
    assert_eq!(moves[0]["trigger"], "api", "{text}");
}

#[tokio::test]
async fn sighup_reloads_the_file() {
    let mono = TestUpstream::start("mono").await;
    let svc = TestUpstream::start("svc").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("strangler.toml");
    let text =
        config(&mono, &svc, "0", "").replace("watch_config = \"100ms\"", "watch_config = \"off\"");
    std::fs::write(&path, &text).expect("write");
    let options = ProxyOptions {
        reload_on_sighup: true,
    };
    let proxy = Proxy::start_with(ValidConfig::load(&path).expect("valid"), options)
        .await
        .expect("start");
    std::fs::write(&path, text.replace("weight = 0", "weight = 100")).expect("write");
    let status = std::process::Command::new("kill")
        .args(["-HUP", &std::process::id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    wait_for_version(&proxy, 2).await;
    assert_eq!(proxy.status().routes[0].weight, 100);
}

#[tokio::test]
async fn a_keep_alive_connection_survives_weight_changes_and_reloads() {
    let mono = TestUpstream::start("mono").await;
    let svc = TestUpstream::start("svc").await;
    let file = start_proxy_from_file(&config(&mono, &svc, "0", "")).await;
    let proxy = &file.proxy;
    let stream = tokio::net::TcpStream::connect(proxy.listen_addr())
        .await
        .expect("connect");
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    let connection = tokio::spawn(connection);
    let mut upstreams = Vec::new();
    for step in 0..6 {
        match step {
            1 => drop(proxy.set_weight("reviews", 100).expect("weight")),
            2 => drop(proxy.reload().expect("reload")),
            3 => {
                std::fs::write(&file.path, "garbage =").expect("write");
                assert!(proxy.reload().is_err());
            }
            4 => drop(proxy.set_weight("reviews", 0).expect("weight")),
            _ => {}
        }
        let request = Request::get("/api/reviews")
            .header("host", "x")
            .body(Empty::<Bytes>::new())
            .expect("request");
        let response = sender
            .send_request(request)
            .await
            .expect("the same connection answers");
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let json: serde_json::Value = serde_json::from_slice(&body).expect("json");
        upstreams.push(json["upstream"].as_str().unwrap_or("").to_owned());
    }
    assert_eq!(upstreams, ["mono", "svc", "svc", "svc", "mono", "mono"]);
    assert!(!connection.is_finished(), "the proxy closed the connection");
}

#[tokio::test]
async fn shutdown_lets_in_flight_requests_finish_and_stops_accepting() {
    let mono = TestUpstream::start("mono").await;
    let svc = TestUpstream::start("svc").await;
    let file = start_proxy_from_file(&config(&mono, &svc, "0", "")).await;
    let address = file.proxy.listen_addr();
    let client = TestClient::new();
    let slow = tokio::spawn({
        let client = client.clone();
        async move {
            client
                .get(&format!("http://{address}/slow?ms=500"), &[])
                .await
        }
    });
    tokio::time::sleep(Duration::from_millis(150)).await;
    let report = file.proxy.shutdown().await;
    assert!(report.drained);
    assert_eq!(slow.await.expect("task").status, 200);
    assert!(
        tokio::net::TcpStream::connect(address).await.is_err(),
        "still accepting"
    );
}
