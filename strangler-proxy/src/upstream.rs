//! Upstreams at run time: their instances, which of them are healthy, how many requests each has
//! in flight, and how a request picks one.
//!
//! An instance's state (health, in-flight count) lives in an [`EndpointRegistry`] keyed by
//! upstream name and address, outside the routing table, so a reload does not forget that an
//! instance is down or reset its in-flight count.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderValue, Uri};
use http_body_util::Empty;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use tokio::task::JoinHandle;

use crate::config::{Balance, EndpointAddress, HealthCheck, OutlierDetection, UpstreamConfig};
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
    /// The same, shared, for the per-request records that carry it (no copy per request).
    pub(crate) shared_label: Arc<str>,
    /// `Host` for requests to this instance, built once instead of per request.
    pub(crate) host_header: Option<HeaderValue>,
    /// Its idle keep-alive connections.
    pub pool: Arc<ConnectionPool>,
    healthy: AtomicBool,
    streak: AtomicU32,
    outstanding: AtomicUsize,
    consecutive_failures: AtomicU32,
    ejections: AtomicU32,
    ejected_until_ms: AtomicU64,
}

/// Milliseconds since the first call: a cheap, monotonic clock for ejection deadlines.
fn now_ms() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    let epoch = *EPOCH.get_or_init(Instant::now);
    u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
}

impl EndpointState {
    fn new(address: EndpointAddress) -> Self {
        let label = address.to_string();
        EndpointState {
            shared_label: Arc::from(label.as_str()),
            host_header: HeaderValue::from_str(address.authority.as_str()).ok(),
            label,
            address,
            pool: Arc::default(),
            healthy: AtomicBool::new(true),
            streak: AtomicU32::new(0),
            outstanding: AtomicUsize::new(0),
            consecutive_failures: AtomicU32::new(0),
            ejections: AtomicU32::new(0),
            ejected_until_ms: AtomicU64::new(0),
        }
    }

    /// Is it ejected by outlier detection right now?
    pub fn is_ejected(&self) -> bool {
        // Never ejected (the usual case): no need to read the clock.
        let until = self.ejected_until_ms.load(Relaxed);
        until != 0 && until > now_ms()
    }

    /// Healthy and not ejected: a request may go there.
    pub fn is_available(&self) -> bool {
        self.is_healthy() && !self.is_ejected()
    }

    /// Records how a request to this instance went, for passive outlier detection. After an
    /// ejection ends the instance is on probation: one more failure ejects it again, for twice
    /// as long (up to the maximum); a success clears the record.
    pub(crate) fn record_outcome(
        &self,
        succeeded: bool,
        outlier: &OutlierDetection,
        upstream: &str,
    ) {
        if succeeded {
            if self.consecutive_failures.load(Relaxed) != 0 {
                self.consecutive_failures.store(0, Relaxed);
                self.ejections.store(0, Relaxed);
            }
            return;
        }
        let failures = self.consecutive_failures.fetch_add(1, Relaxed) + 1;
        if failures < outlier.failures || self.is_ejected() {
            return;
        }
        let ejections = self.ejections.fetch_add(1, Relaxed).min(16);
        let ejection = outlier
            .ejection
            .saturating_mul(1 << ejections)
            .min(outlier.max_ejection);
        let until =
            now_ms().saturating_add(u64::try_from(ejection.as_millis()).unwrap_or(u64::MAX));
        self.ejected_until_ms.store(until, Relaxed);
        self.consecutive_failures
            .store(outlier.failures - 1, Relaxed);
        tracing::warn!(upstream, endpoint = %self.label, ?ejection, "endpoint ejected after consecutive failures");
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
    /// Passive outlier detection, if configured.
    pub outlier: Option<OutlierDetection>,
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
            outlier: config.outlier,
            balance: config.balance,
            next: AtomicUsize::new(0),
        }
    }

    /// Is any instance available (healthy and not ejected)?
    pub fn has_available(&self) -> bool {
        self.endpoints.iter().any(|e| e.is_available())
    }

    /// Picks an instance: only available ones (healthy, not ejected), unless none is, in which
    /// case all of them (a request to an instance that might be back beats a certain failure).
    pub fn pick(&self) -> EndpointLease {
        let count = self.endpoints.len();
        let start = if count > 1 {
            self.next.fetch_add(1, Relaxed) % count
        } else {
            0
        };
        let any_available = self.has_available();
        let eligible = |e: &EndpointState| !any_available || e.is_available();
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
            outlier: None,
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

#[cfg(test)]
mod outlier_tests {
    use super::*;

    #[test]
    fn consecutive_failures_eject_and_a_failed_probe_ejects_for_longer() {
        let endpoint = EndpointState::new(EndpointAddress {
            scheme: http::uri::Scheme::HTTP,
            authority: "a:1".parse().expect("authority"),
        });
        let rule = OutlierDetection {
            failures: 3,
            ejection: Duration::from_millis(40),
            max_ejection: Duration::from_secs(1),
        };
        endpoint.record_outcome(false, &rule, "u");
        endpoint.record_outcome(true, &rule, "u");
        endpoint.record_outcome(false, &rule, "u");
        endpoint.record_outcome(false, &rule, "u");
        assert!(
            endpoint.is_available(),
            "a success in between resets the count"
        );
        endpoint.record_outcome(false, &rule, "u");
        assert!(!endpoint.is_available());
        std::thread::sleep(Duration::from_millis(60));
        assert!(
            endpoint.is_available(),
            "back on probation after the ejection"
        );
        endpoint.record_outcome(false, &rule, "u");
        assert!(endpoint.is_ejected(), "one failed probe ejects again");
        std::thread::sleep(Duration::from_millis(60));
        assert!(
            endpoint.is_ejected(),
            "the second ejection lasts twice as long"
        );
        std::thread::sleep(Duration::from_millis(40));
        assert!(endpoint.is_available());
        endpoint.record_outcome(true, &rule, "u");
        endpoint.record_outcome(false, &rule, "u");
        assert!(endpoint.is_available(), "a success clears the probation");
    }
}
