//! The structured log: one JSON line per request with the fields operators search by, plus
//! events, written to a file.

use crate::support::{TestClient, TestUpstream, fill};
use strangler_proxy::{Proxy, ValidConfig};

#[tokio::test]
async fn each_request_is_one_json_line_in_the_log_file() {
    let mono = TestUpstream::start("mono").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("access.log");
    let toml = fill(
        &format!(
            "listen = \"127.0.0.1:0\"\nadmin = \"127.0.0.1:0\"\n[log]\ntarget = \"{}\"\n[upstreams.mono]\nendpoints = [\"{{mono}}\"]\n[default]\nprimary = \"mono\"\n",
            log.display()
        ),
        &[&mono],
    );
    let proxy = Proxy::start(ValidConfig::from_toml_str(&toml, "<test>").expect("valid"))
        .await
        .expect("start");
    let client = TestClient::new();
    client
        .get(
            &format!("http://{}/books?page=2", proxy.listen_addr()),
            &[("x-request-id", "abc-1")],
        )
        .await;
    // Shutting down flushes the log: everything logged so far is in the file afterwards.
    assert!(proxy.shutdown().await.drained);
    let text = std::fs::read_to_string(&log).expect("log file");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let access: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l.get("request_id").is_some())
        .collect();
    assert_eq!(access.len(), 1, "{text}");
    let line = access[0];
    assert_eq!(line["request_id"], "abc-1");
    assert_eq!(line["method"], "GET");
    assert_eq!(line["path"], "/books?page=2");
    assert_eq!(line["route"], "default");
    assert_eq!(line["side"], "primary");
    assert_eq!(line["upstream"], "mono");
    assert_eq!(line["status"], 200);
    assert!(line["latency_ms"].as_f64().is_some_and(|ms| ms >= 0.0));
    assert!(
        line["time"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z') && t.len() == 24),
        "{line}"
    );
    let events: Vec<&str> = lines.iter().filter_map(|l| l["event"].as_str()).collect();
    assert_eq!(events, ["started", "stopped"]);
}
