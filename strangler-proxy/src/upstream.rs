//! Upstreams at run time: their instances, which of them are healthy, how many requests each has
//! in flight, and how a request picks one.
//!
//! An instance's state (health, in-flight count) lives in an [`EndpointRegistry`] keyed by
//! upstream name and address, outside the routing table, so a reload does not forget that an
//! instance is down or reset its in-flight count.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::Uri;
use http_body_util::Empty;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use tokio::task::JoinHandle;

use crate::config::{Balance, EndpointAddress, HealthCheck, UpstreamConfig};
use crate::pool::ConnectionPool;

/// Consecutive failed checks that mark an instance down.
pub const FAILS_TO_MARK_DOWN: u32 = 2;
/// Consecutive passed checks that mark a down instance up again.
pub const PASSES_TO_MARK_UP: u32 = 1;

/// The shared state of one instance.
#[derive(Debug)]
pub struct EndpointState {
    /// Where it listens.
    pub address: EndpointAddress,
    /// `scheme://authority` as text, for logs.
    pub label: String,
    /// Its idle keep-alive connections.
    pub pool: Arc<ConnectionPool>,
    healthy: AtomicBool,
    streak: AtomicU32,
    outstanding: AtomicUsize,
}

impl EndpointState {
    fn new(address: EndpointAddress) -> Self {
        EndpointState {
            label: address.to_string(),
            address,
            pool: Arc::default(),
            healthy: AtomicBool::new(true),
            streak: AtomicU32::new(0),
            outstanding: AtomicUsize::new(0),
        }
    }

    /// Does it currently pass its health check? (Instances start healthy.)
    pub fn is_healthy(&self) -> bool {
        self.healthy.load(Relaxed)
    }

    /// Requests in flight to it.
    pub fn outstanding(&self) -> usize {
        self.outstanding.load(Relaxed)
    }

    /// Records one health check result; returns `Some(new state)` when the state flipped.
    fn record_check(&self, passed: bool) -> Option<bool> {
        let healthy = self.is_healthy();
        if passed == healthy {
            self.streak.store(0, Relaxed);
            return None;
        }
        let streak = self.streak.fetch_add(1, Relaxed) + 1;
        let needed = if healthy {
            FAILS_TO_MARK_DOWN
        } else {
            PASSES_TO_MARK_UP
        };
        if streak >= needed {
            self.healthy.store(passed, Relaxed);
            self.streak.store(0, Relaxed);
            Some(passed)
        } else {
            None
        }
    }
}

/// Keeps endpoint state across table rebuilds.
#[derive(Debug, Default)]
pub struct EndpointRegistry {
    endpoints: Mutex<BTreeMap<(String, String), Arc<EndpointState>>>,
}

impl EndpointRegistry {
    fn get(&self, upstream: &str, address: &EndpointAddress) -> Arc<EndpointState> {
        let mut endpoints = self.endpoints.lock().unwrap_or_else(|e| e.into_inner());
        endpoints
            .entry((upstream.to_owned(), address.to_string()))
            .or_insert_with(|| Arc::new(EndpointState::new(address.clone())))
            .clone()
    }
}

/// One upstream as the routing table sees it.
#[derive(Debug)]
pub struct Upstream {
    /// Its name in the config.
    pub name: String,
    /// Its instances, in config order.
    pub endpoints: Vec<Arc<EndpointState>>,
    /// Whether to pass the client's `Host` through.
    pub preserve_host: bool,
    pub(crate) health: Option<HealthCheck>,
    balance: Balance,
    next: AtomicUsize,
}

/// An instance chosen for one request; the in-flight count drops when it is dropped.
#[derive(Debug)]
pub struct EndpointLease {
    endpoint: Arc<EndpointState>,
}

impl EndpointLease {
    /// The chosen instance.
    pub fn endpoint(&self) -> &EndpointState {
        &self.endpoint
    }
}

impl Drop for EndpointLease {
    fn drop(&mut self) {
        self.endpoint.outstanding.fetch_sub(1, Relaxed);
    }
}

impl Upstream {
    pub(crate) fn new(config: &UpstreamConfig, registry: &EndpointRegistry) -> Self {
        Upstream {
            name: config.name.clone(),
            endpoints: config
                .endpoints
                .iter()
                .map(|address| registry.get(&config.name, address))
                .collect(),
            preserve_host: config.preserve_host,
            health: config.health.clone(),
            balance: config.balance,
            next: AtomicUsize::new(0),
        }
    }

    /// Picks an instance: only healthy ones, unless none is, in which case all of them (a
    /// request to an instance that might be back beats a certain failure).
    pub fn pick(&self) -> EndpointLease {
        let count = self.endpoints.len();
        let start = if count > 1 {
            self.next.fetch_add(1, Relaxed) % count
        } else {
            0
        };
        let any_healthy = self.endpoints.iter().any(|e| e.is_healthy());
        let eligible = |e: &EndpointState| !any_healthy || e.is_healthy();
        let mut chosen: Option<&Arc<EndpointState>> = None;
        for offset in 0..count {
            let endpoint = &self.endpoints[(start + offset) % count];
            if !eligible(endpoint) {
                continue;
            }
            match self.balance {
                Balance::RoundRobin => {
                    chosen = Some(endpoint);
                    break;
                }
                Balance::LeastOutstanding => {
                    if chosen.is_none_or(|best| endpoint.outstanding() < best.outstanding()) {
                        chosen = Some(endpoint);
                    }
                }
            }
        }
        let endpoint = chosen.unwrap_or(&self.endpoints[start]).clone();
        endpoint.outstanding.fetch_add(1, Relaxed);
        EndpointLease { endpoint }
    }
}

/// Starts one health-check loop per checked upstream; abort the handles to stop them.
pub(crate) fn spawn_health_checks(
    upstreams: &BTreeMap<String, Arc<Upstream>>,
) -> Vec<JoinHandle<()>> {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.set_connect_timeout(Some(Duration::from_secs(1)));
    let client: Client<HttpConnector, Empty<Bytes>> =
        Client::builder(hyper_util::rt::TokioExecutor::new()).build(connector);
    upstreams
        .values()
        .filter_map(|upstream| {
            let check = upstream.health.clone()?;
            let upstream = upstream.clone();
            let client = client.clone();
            Some(tokio::spawn(async move {
                let mut ticker = tokio::time::interval(check.interval);
                ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    ticker.tick().await;
                    for endpoint in &upstream.endpoints {
                        let passed = probe(&client, endpoint, &check).await;
                        if let Some(now_healthy) = endpoint.record_check(passed) {
                            tracing::warn!(
                                upstream = %upstream.name,
                                endpoint = %endpoint.label,
                                healthy = now_healthy,
                                "endpoint health changed"
                            );
                        }
                    }
                }
            }))
        })
        .collect()
}

async fn probe(
    client: &Client<HttpConnector, Empty<Bytes>>,
    endpoint: &EndpointState,
    check: &HealthCheck,
) -> bool {
    let uri = format!("{}{}", endpoint.label, check.path);
    let Ok(uri) = uri.parse::<Uri>() else {
        return false;
    };
    match tokio::time::timeout(check.timeout, client.get(uri)).await {
        Ok(Ok(response)) => response.status().is_success() || response.status().is_redirection(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upstream(addresses: &[&str], balance: Balance) -> Upstream {
        let registry = EndpointRegistry::default();
        let config = UpstreamConfig {
            name: "u".into(),
            endpoints: addresses
                .iter()
                .map(|a| EndpointAddress {
                    scheme: http::uri::Scheme::HTTP,
                    authority: a.parse().expect("authority"),
                })
                .collect(),
            health: None,
            balance,
            preserve_host: false,
        };
        Upstream::new(&config, &registry)
    }

    #[test]
    fn round_robin_visits_every_instance_and_skips_the_down_one() {
        let upstream = upstream(&["a:1", "b:1", "c:1"], Balance::RoundRobin);
        let picks: Vec<String> = (0..3)
            .map(|_| upstream.pick().endpoint().label.clone())
            .collect();
        assert_eq!(picks, ["http://a:1", "http://b:1", "http://c:1"]);
        upstream.endpoints[1].record_check(false);
        upstream.endpoints[1].record_check(false);
        assert!(!upstream.endpoints[1].is_healthy());
        for _ in 0..6 {
            assert_ne!(upstream.pick().endpoint().label, "http://b:1");
        }
        upstream.endpoints[1].record_check(true);
        assert!(upstream.endpoints[1].is_healthy());
    }

    #[test]
    fn least_outstanding_prefers_the_idle_instance() {
        let upstream = upstream(&["a:1", "b:1"], Balance::LeastOutstanding);
        let busy = upstream.pick();
        for _ in 0..4 {
            let next = upstream.pick();
            assert_ne!(next.endpoint().label, busy.endpoint().label);
        }
    }
}
