//! A steady, bounded load: a few clients, each sending one request per `pace` over its own
//! keep-alive connection until told to stop or until `limit` passes, recording every outcome.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::Method;
use tokio::task::JoinHandle;

use crate::support::TestClient;

/// One request to send.
pub struct Shot {
    pub method: Method,
    pub path: String,
    pub headers: Vec<(&'static str, &'static str)>,
    pub body: Bytes,
}

impl Shot {
    pub fn get(path: &str) -> Shot {
        Shot {
            method: Method::GET,
            path: path.to_owned(),
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }
}

/// What one request got.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// When it was sent, from the start of the load.
    pub sent_at: Duration,
    pub latency: Duration,
    pub method: Method,
    pub path: String,
    /// The status, or the transport error.
    pub status: Result<u16, String>,
    /// The `upstream` field of a JSON answer (which process answered), or "".
    pub upstream: String,
}

impl Outcome {
    pub fn ok(&self) -> bool {
        self.status.as_ref().is_ok_and(|s| *s < 400)
    }
}

type Plan = Arc<dyn Fn(u64) -> Shot + Send + Sync>;

/// A running load.
pub struct Load {
    running: Arc<AtomicBool>,
    started: Instant,
    clients: Vec<JoinHandle<Vec<Outcome>>>,
}

impl Load {
    /// Starts `clients` clients against `base` (`http://host:port`); request `n` of a client is
    /// `plan(n * clients + index)`, so the plan sees one global sequence.
    pub fn start(
        base: &str,
        clients: usize,
        pace: Duration,
        limit: Duration,
        plan: impl Fn(u64) -> Shot + Send + Sync + 'static,
    ) -> Load {
        let plan: Plan = Arc::new(plan);
        let running = Arc::new(AtomicBool::new(true));
        let started = Instant::now();
        let clients = (0..clients as u64)
            .map(|index| {
                let (plan, running, base) = (plan.clone(), running.clone(), base.to_owned());
                let count = clients as u64;
                tokio::spawn(async move {
                    let client = TestClient::new();
                    let mut outcomes = Vec::new();
                    let mut ticker = tokio::time::interval(pace);
                    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                    let mut n = 0u64;
                    while running.load(Relaxed) && started.elapsed() < limit {
                        ticker.tick().await;
                        let shot = plan(n * count + index);
                        n += 1;
                        let sent = Instant::now();
                        let reply = client
                            .send(
                                shot.method.clone(),
                                &format!("{base}{}", &shot.path),
                                &shot.headers,
                                shot.body,
                            )
                            .await;
                        let latency = sent.elapsed();
                        let (status, upstream) = match reply {
                            Ok(reply) => {
                                let upstream =
                                    serde_json::from_slice::<serde_json::Value>(&reply.body)
                                        .ok()
                                        .and_then(|v| v["upstream"].as_str().map(str::to_owned))
                                        .unwrap_or_default();
                                (Ok(reply.status.as_u16()), upstream)
                            }
                            Err(error) => (Err(error), String::new()),
                        };
                        outcomes.push(Outcome {
                            sent_at: sent - started,
                            latency,
                            method: shot.method,
                            path: shot.path,
                            status,
                            upstream,
                        });
                    }
                    outcomes
                })
            })
            .collect();
        Load {
            running,
            started,
            clients,
        }
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Stops the clients and returns every outcome, in the order sent.
    pub async fn stop(self) -> Vec<Outcome> {
        self.running.store(false, Relaxed);
        let mut all = Vec::new();
        for client in self.clients {
            all.extend(client.await.expect("load client"));
        }
        all.sort_by_key(|o| o.sent_at);
        all
    }
}

/// Requests per second over the outcomes' span.
pub fn rate(outcomes: &[Outcome]) -> f64 {
    let span = outcomes
        .last()
        .map_or(Duration::ZERO, |o| o.sent_at + o.latency);
    outcomes.len() as f64 / span.as_secs_f64().max(0.001)
}

/// The `q` quantile (0-1) of latencies, nearest rank.
pub fn quantile(outcomes: &[&Outcome], q: f64) -> Duration {
    let mut latencies: Vec<Duration> = outcomes.iter().map(|o| o.latency).collect();
    latencies.sort();
    if latencies.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((q * latencies.len() as f64).ceil() as usize).clamp(1, latencies.len());
    latencies[rank - 1]
}

/// A short description of the failures, for assertion messages.
pub fn failures(outcomes: &[&Outcome]) -> String {
    let shown: Vec<String> = outcomes
        .iter()
        .filter(|o| !o.ok())
        .take(8)
        .map(|o| format!("{} at {:?}: {:?}", o.method, o.sent_at, o.status))
        .collect();
    shown.join("; ")
}
