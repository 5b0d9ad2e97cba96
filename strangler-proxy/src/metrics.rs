//! Counters and latency histograms per route and side, plus the Prometheus text that exposes them.
//!
//! Counters live in a registry keyed by route name, outside the routing table, so they survive
//! reloads and weight changes; each table holds `Arc`s to its routes' counters so the request path
//! never looks anything up. Everything is a relaxed atomic: a scrape may see a request counted in
//! one series and not yet in another, never a torn number.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::split::Side;

/// Upper bounds of the latency buckets, in microseconds.
pub const LATENCY_BOUNDS_US: [u64; 14] = [
    500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000,
    2_500_000, 5_000_000, 10_000_000,
];

/// Why the proxy answered for the upstream instead of relaying its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyFailure {
    /// No connection to the upstream (502).
    Connect,
    /// The upstream failed mid-request or sent garbage (502).
    Upstream,
    /// The upstream did not answer within the request timeout (504).
    Timeout,
    /// The client's body exceeded the limit (413).
    BodyTooLarge,
    /// The route's rate limit refused the request (429).
    Throttled,
}

impl ProxyFailure {
    /// The label used in metrics and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            ProxyFailure::Connect => "connect",
            ProxyFailure::Upstream => "upstream",
            ProxyFailure::Timeout => "timeout",
            ProxyFailure::BodyTooLarge => "body_too_large",
            ProxyFailure::Throttled => "throttled",
        }
    }

    const ALL: [ProxyFailure; 5] = [
        ProxyFailure::Connect,
        ProxyFailure::Upstream,
        ProxyFailure::Timeout,
        ProxyFailure::BodyTooLarge,
        ProxyFailure::Throttled,
    ];
}

/// Counters of one side of one route.
#[derive(Debug, Default)]
pub struct SideMetrics {
    by_class: [AtomicU64; 5],
    failures: [AtomicU64; 5],
    buckets: [AtomicU64; LATENCY_BOUNDS_US.len() + 1],
    latency_sum_us: AtomicU64,
}

impl SideMetrics {
    /// Counts one answered request.
    pub fn record(&self, status: u16, latency: Duration, failure: Option<ProxyFailure>) {
        let class = usize::from((status / 100).clamp(1, 5) - 1);
        self.by_class[class].fetch_add(1, Relaxed);
        if let Some(failure) = failure {
            let index = ProxyFailure::ALL
                .iter()
                .position(|f| *f == failure)
                .unwrap_or(0);
            self.failures[index].fetch_add(1, Relaxed);
        }
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        let bucket = LATENCY_BOUNDS_US
            .iter()
            .position(|bound| micros <= *bound)
            .unwrap_or(LATENCY_BOUNDS_US.len());
        self.buckets[bucket].fetch_add(1, Relaxed);
        self.latency_sum_us.fetch_add(micros, Relaxed);
    }

    /// Requests answered, all statuses.
    pub fn requests(&self) -> u64 {
        self.by_class.iter().map(|c| c.load(Relaxed)).sum()
    }

    /// Requests answered with a 5xx (the upstream's or the proxy's own).
    pub fn server_errors(&self) -> u64 {
        self.by_class[4].load(Relaxed)
    }

    /// Requests the proxy failed on the upstream's behalf (502/504/413 it generated).
    pub fn proxy_failures(&self) -> u64 {
        self.failures.iter().map(|c| c.load(Relaxed)).sum()
    }

    /// Estimated latency quantile (the upper bound of the bucket it falls in), in milliseconds.
    pub fn quantile_ms(&self, quantile: f64) -> Option<f64> {
        let counts: Vec<u64> = self.buckets.iter().map(|b| b.load(Relaxed)).collect();
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return None;
        }
        let rank = ((total as f64) * quantile).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (index, count) in counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                let bound = LATENCY_BOUNDS_US
                    .get(index)
                    .copied()
                    .unwrap_or(LATENCY_BOUNDS_US[LATENCY_BOUNDS_US.len() - 1] * 2);
                return Some(bound as f64 / 1000.0);
            }
        }
        None
    }
}

/// Counters of one route, both sides.
#[derive(Debug, Default)]
pub struct RouteMetrics {
    primary: SideMetrics,
    candidate: SideMetrics,
    fallbacks: AtomicU64,
    bypasses: AtomicU64,
    breaches: AtomicU64,
    /// Shadow comparison counters (shared with mirror tasks).
    pub shadow: Arc<crate::shadow::ShadowMetrics>,
}

impl RouteMetrics {
    /// The counters of one side.
    pub fn side(&self, side: Side) -> &SideMetrics {
        match side {
            Side::Primary => &self.primary,
            Side::Candidate => &self.candidate,
        }
    }

    /// Counts a request the candidate failed and the primary answered.
    pub fn count_fallback(&self) {
        self.fallbacks.fetch_add(1, Relaxed);
    }

    /// Requests the candidate failed and the primary answered.
    pub fn fallbacks(&self) -> u64 {
        self.fallbacks.load(Relaxed)
    }

    /// Counts a request meant for the candidate that went to the primary because no candidate
    /// instance was available.
    pub fn count_bypass(&self) {
        self.bypasses.fetch_add(1, Relaxed);
    }

    /// Counts a firing of the route's rollback rule.
    pub fn count_breach(&self) {
        self.breaches.fetch_add(1, Relaxed);
    }

    /// Times the route's rollback rule fired.
    pub fn breaches(&self) -> u64 {
        self.breaches.load(Relaxed)
    }

    /// Requests that bypassed an unavailable candidate.
    pub fn bypasses(&self) -> u64 {
        self.bypasses.load(Relaxed)
    }
}

/// Process-wide counters that belong to no route.
#[derive(Debug, Default)]
pub struct GlobalMetrics {
    /// Requests refused before routing (absolute-form target, CONNECT, bad path).
    pub rejected: AtomicU64,
    /// Reloads that swapped the table.
    pub reloads_ok: AtomicU64,
    /// Reloads refused (invalid config); the old table stayed.
    pub reloads_refused: AtomicU64,
    /// Log lines dropped because the log writer fell behind.
    pub log_dropped: AtomicU64,
}

/// All route counters by route name; only table builds touch the lock.
#[derive(Debug, Default)]
pub struct MetricsRegistry {
    routes: Mutex<BTreeMap<String, Arc<RouteMetrics>>>,
    /// Counters that belong to no route.
    pub global: GlobalMetrics,
}

impl MetricsRegistry {
    /// The counters of a route, created on first use and kept for the life of the process.
    pub fn route(&self, name: &str) -> Arc<RouteMetrics> {
        let mut routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        routes.entry(name.to_owned()).or_default().clone()
    }

    /// Every route's counters, sorted by name.
    pub fn all_routes(&self) -> Vec<(String, Arc<RouteMetrics>)> {
        let routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        routes
            .iter()
            .map(|(name, metrics)| (name.clone(), metrics.clone()))
            .collect()
    }
}

/// The state of one upstream instance at scrape time.
#[derive(Debug, Clone)]
pub(crate) struct EndpointGauge {
    pub upstream: String,
    pub endpoint: String,
    pub healthy: bool,
    pub ejected: bool,
    pub outstanding: usize,
}

/// Renders the Prometheus text exposition format; deterministic order.
pub(crate) fn render_prometheus(
    registry: &MetricsRegistry,
    weights: &[(String, u8)],
    endpoints: &[EndpointGauge],
) -> String {
    let mut out = String::new();
    let routes = registry.all_routes();
    let sides = [Side::Primary, Side::Candidate];
    out.push_str(
        "# HELP strangler_requests_total Requests answered, by route, side and status class.\n",
    );
    out.push_str("# TYPE strangler_requests_total counter\n");
    for (name, metrics) in &routes {
        for side in sides {
            for (index, class) in ["1xx", "2xx", "3xx", "4xx", "5xx"].iter().enumerate() {
                let value = metrics.side(side).by_class[index].load(Relaxed);
                let _ = writeln!(
                    out,
                    "strangler_requests_total{{route=\"{name}\",side=\"{}\",class=\"{class}\"}} {value}",
                    side.as_str()
                );
            }
        }
    }
    out.push_str("# HELP strangler_proxy_failures_total Requests the proxy answered itself because the upstream failed or the body was too large.\n");
    out.push_str("# TYPE strangler_proxy_failures_total counter\n");
    for (name, metrics) in &routes {
        for side in sides {
            for (index, failure) in ProxyFailure::ALL.iter().enumerate() {
                let value = metrics.side(side).failures[index].load(Relaxed);
                let _ = writeln!(
                    out,
                    "strangler_proxy_failures_total{{route=\"{name}\",side=\"{}\",kind=\"{}\"}} {value}",
                    side.as_str(),
                    failure.as_str()
                );
            }
        }
    }
    out.push_str("# HELP strangler_request_duration_seconds Time from request received to response head sent.\n");
    out.push_str("# TYPE strangler_request_duration_seconds histogram\n");
    for (name, metrics) in &routes {
        for side in sides {
            let side_metrics = metrics.side(side);
            let mut cumulative = 0;
            for (index, bound) in LATENCY_BOUNDS_US.iter().enumerate() {
                cumulative += side_metrics.buckets[index].load(Relaxed);
                let _ = writeln!(
                    out,
                    "strangler_request_duration_seconds_bucket{{route=\"{name}\",side=\"{}\",le=\"{}\"}} {cumulative}",
                    side.as_str(),
                    *bound as f64 / 1e6
                );
            }
            cumulative += side_metrics.buckets[LATENCY_BOUNDS_US.len()].load(Relaxed);
            let labels = format!("route=\"{name}\",side=\"{}\"", side.as_str());
            let _ = writeln!(
                out,
                "strangler_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {cumulative}"
            );
            let sum = side_metrics.latency_sum_us.load(Relaxed) as f64 / 1e6;
            let _ = writeln!(
                out,
                "strangler_request_duration_seconds_sum{{{labels}}} {sum}"
            );
            let _ = writeln!(
                out,
                "strangler_request_duration_seconds_count{{{labels}}} {cumulative}"
            );
        }
    }
    out.push_str("# HELP strangler_fallbacks_total Requests the candidate failed and the primary answered instead.\n");
    out.push_str("# TYPE strangler_fallbacks_total counter\n");
    for (name, metrics) in &routes {
        let _ = writeln!(
            out,
            "strangler_fallbacks_total{{route=\"{name}\"}} {}",
            metrics.fallbacks()
        );
    }
    out.push_str("# HELP strangler_candidate_bypassed_total Requests meant for the candidate that the primary served because no candidate instance was available.\n");
    out.push_str("# TYPE strangler_candidate_bypassed_total counter\n");
    for (name, metrics) in &routes {
        let _ = writeln!(
            out,
            "strangler_candidate_bypassed_total{{route=\"{name}\"}} {}",
            metrics.bypasses()
        );
    }
    out.push_str("# HELP strangler_rollback_breaches_total Times the route's rollback rule fired (rollback or freeze).\n");
    out.push_str("# TYPE strangler_rollback_breaches_total counter\n");
    for (name, metrics) in &routes {
        let _ = writeln!(
            out,
            "strangler_rollback_breaches_total{{route=\"{name}\"}} {}",
            metrics.breaches()
        );
    }
    out.push_str("# HELP strangler_shadow_total Shadow mirrors by outcome: compared, matched, dropped (too many in flight), skipped (body too large).\n");
    out.push_str("# TYPE strangler_shadow_total counter\n");
    for (name, metrics) in &routes {
        let shadow = &metrics.shadow;
        for (outcome, value) in [
            ("compared", &shadow.compared),
            ("matched", &shadow.matched),
            ("dropped", &shadow.dropped),
            ("skipped", &shadow.skipped),
        ] {
            let _ = writeln!(
                out,
                "strangler_shadow_total{{route=\"{name}\",outcome=\"{outcome}\"}} {}",
                value.load(Relaxed)
            );
        }
    }
    out.push_str("# HELP strangler_route_weight Share of the route's traffic sent to its candidate, in percent.\n");
    out.push_str("# TYPE strangler_route_weight gauge\n");
    for (name, weight) in weights {
        let _ = writeln!(out, "strangler_route_weight{{route=\"{name}\"}} {weight}");
    }
    out.push_str("# HELP strangler_upstream_healthy 1 when the endpoint passes its health check (or has none).\n");
    out.push_str("# TYPE strangler_upstream_healthy gauge\n");
    for gauge in endpoints {
        let _ = writeln!(
            out,
            "strangler_upstream_healthy{{upstream=\"{}\",endpoint=\"{}\"}} {}",
            gauge.upstream,
            gauge.endpoint,
            u8::from(gauge.healthy)
        );
    }
    out.push_str("# HELP strangler_upstream_ejected 1 while outlier detection keeps the endpoint out of rotation.\n");
    out.push_str("# TYPE strangler_upstream_ejected gauge\n");
    for gauge in endpoints {
        let _ = writeln!(
            out,
            "strangler_upstream_ejected{{upstream=\"{}\",endpoint=\"{}\"}} {}",
            gauge.upstream,
            gauge.endpoint,
            u8::from(gauge.ejected)
        );
    }
    out.push_str("# HELP strangler_upstream_outstanding Requests in flight to the endpoint.\n");
    out.push_str("# TYPE strangler_upstream_outstanding gauge\n");
    for gauge in endpoints {
        let _ = writeln!(
            out,
            "strangler_upstream_outstanding{{upstream=\"{}\",endpoint=\"{}\"}} {}",
            gauge.upstream, gauge.endpoint, gauge.outstanding
        );
    }
    let global = &registry.global;
    out.push_str("# HELP strangler_rejected_requests_total Requests refused before routing: absolute-form target, CONNECT, malformed path, malformed head (400), head over the limit (431).\n");
    out.push_str("# TYPE strangler_rejected_requests_total counter\n");
    let _ = writeln!(
        out,
        "strangler_rejected_requests_total {}",
        global.rejected.load(Relaxed)
    );
    out.push_str("# HELP strangler_config_reloads_total Config reloads, by result.\n");
    out.push_str("# TYPE strangler_config_reloads_total counter\n");
    let _ = writeln!(
        out,
        "strangler_config_reloads_total{{result=\"ok\"}} {}",
        global.reloads_ok.load(Relaxed)
    );
    let _ = writeln!(
        out,
        "strangler_config_reloads_total{{result=\"refused\"}} {}",
        global.reloads_refused.load(Relaxed)
    );
    out.push_str(
        "# HELP strangler_log_dropped_total Log lines dropped because the writer fell behind.\n",
    );
    out.push_str("# TYPE strangler_log_dropped_total counter\n");
    let _ = writeln!(
        out,
        "strangler_log_dropped_total {}",
        global.log_dropped.load(Relaxed)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_come_from_bucket_bounds() {
        let side = SideMetrics::default();
        for _ in 0..99 {
            side.record(200, Duration::from_micros(300), None);
        }
        side.record(502, Duration::from_millis(40), Some(ProxyFailure::Connect));
        assert_eq!(side.requests(), 100);
        assert_eq!(side.server_errors(), 1);
        assert_eq!(side.proxy_failures(), 1);
        assert_eq!(side.quantile_ms(0.5), Some(0.5));
        assert_eq!(side.quantile_ms(1.0), Some(50.0));
    }
}
