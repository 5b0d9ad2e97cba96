//! The proxy's shared state and the only place that changes routing: weight changes and reloads
//! build a new [`RoutingTable`] under one lock and swap it in atomically.
//!
//! Reload and weight semantics: a weight set at run time (admin API, `strangler cutover`) stays in
//! force across reloads until the file's own weight for that route changes; then the file wins.
//! Each source of change applies when it changes, and an unrelated edit of the file does not undo
//! an operator's cutover.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex, MutexGuard};

use arc_swap::ArcSwap;
use serde_json::json;
use tokio::task::JoinHandle;

use crate::config::BreachAction;
use crate::config::{ConfigError, DEFAULT_ROUTE, ValidConfig};
use crate::diff::DiffStore;
use crate::log::EventLog;
use crate::metrics::{EndpointGauge, MetricsRegistry, render_prometheus};
use crate::rollback::{Breach, RollbackRegistry};
use crate::split::Side;
use crate::status::{
    EndpointStatus, ProxyStatus, ReloadStatus, RouteStatus, ShadowStatus, SideStatus,
    UpstreamStatus,
};
use crate::table::{Route, RoutingTable};
use crate::throttle::LimiterRegistry;
use crate::upstream::{EndpointRegistry, spawn_health_checks};

/// Why a weight change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WeightError {
    /// No route has that name.
    #[error("no route named `{0}`")]
    UnknownRoute(String),
    /// The route has no candidate to send traffic to.
    #[error("route `{0}` has no candidate upstream, so its weight stays 0")]
    NoCandidate(String),
    /// Weights are 0-100.
    #[error("weight {0} is not between 0 and 100")]
    OutOfRange(u32),
}

/// Why a reload did not happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReloadError {
    /// The proxy was started from a config that came from no file.
    #[error("this proxy was not started from a config file, so there is nothing to reload")]
    NoSource,
    /// The file was refused; the running table stays.
    #[error("{0}")]
    Refused(ConfigError),
}

struct Control {
    config: Arc<ValidConfig>,
    weights: BTreeMap<String, u8>,
    version: u64,
    health_tasks: Vec<JoinHandle<()>>,
    last_reload_error: Option<String>,
    /// Routes whose rollback rule fired, and why; cleared when an operator sets the weight.
    breaches: BTreeMap<String, String>,
}

/// Everything the request path and the admin API share.
pub(crate) struct Shared {
    pub table: ArcSwap<RoutingTable>,
    pub metrics: Arc<MetricsRegistry>,
    pub log: EventLog,
    pub admin_token: Option<String>,
    pub source: Option<PathBuf>,
    /// Newest shadow differences.
    pub diffs: Arc<DiffStore>,
    /// Bounds the mirrors in flight.
    pub shadow_permits: Arc<tokio::sync::Semaphore>,
    endpoints: EndpointRegistry,
    limiters: LimiterRegistry,
    rollbacks: RollbackRegistry,
    control: Mutex<Control>,
}

impl Shared {
    pub(crate) fn new(
        config: ValidConfig,
        log: EventLog,
        metrics: Arc<MetricsRegistry>,
    ) -> Arc<Shared> {
        let endpoints = EndpointRegistry::default();
        let limiters = LimiterRegistry::default();
        let rollbacks = RollbackRegistry::default();
        let weights = file_weights(&config);
        let table = RoutingTable::build(
            &config, &weights, 1, &metrics, &endpoints, &limiters, &rollbacks,
        );
        let health_tasks = spawn_health_checks(&table.upstreams);
        Arc::new(Shared {
            table: ArcSwap::from_pointee(table),
            admin_token: config.admin_token.clone(),
            source: config.source.clone(),
            diffs: Arc::default(),
            shadow_permits: Arc::new(tokio::sync::Semaphore::new(crate::shadow::MAX_IN_FLIGHT)),
            metrics,
            log,
            endpoints,
            limiters,
            rollbacks,
            control: Mutex::new(Control {
                config: Arc::new(config),
                weights,
                version: 1,
                health_tasks,
                last_reload_error: None,
                breaches: BTreeMap::new(),
            }),
        })
    }

    fn control(&self) -> MutexGuard<'_, Control> {
        self.control.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets a route's weight and swaps in the new table.
    pub(crate) fn set_weight(&self, route: &str, weight: u32) -> Result<u64, WeightError> {
        let mut control = self.control();
        let has_candidate = match control.config.routes.iter().find(|r| r.name == route) {
            Some(config) => config.candidate.is_some(),
            // The default route is a route without a candidate, not an unknown one.
            None if route == DEFAULT_ROUTE => false,
            None => return Err(WeightError::UnknownRoute(route.to_owned())),
        };
        if weight > 100 {
            return Err(WeightError::OutOfRange(weight));
        }
        if !has_candidate && weight > 0 {
            return Err(WeightError::NoCandidate(route.to_owned()));
        }
        if route == DEFAULT_ROUTE {
            return Ok(control.version); // Its weight is 0 and has no entry to set.
        }
        let weight = weight as u8;
        control.breaches.remove(route);
        self.rollbacks.clear(route);
        let previous = control.weights.insert(route.to_owned(), weight);
        control.version += 1;
        let table = RoutingTable::build(
            &control.config,
            &control.weights,
            control.version,
            &self.metrics,
            &self.endpoints,
            &self.limiters,
            &self.rollbacks,
        );
        self.table.store(Arc::new(table));
        self.log.event(
            "weight_changed",
            json!({"route": route, "from": previous, "to": weight, "version": control.version}),
        );
        Ok(control.version)
    }

    /// Acts on a broken rollback rule, once per breach: `rollback` sets the weight to 0,
    /// `freeze` holds it; both are logged and shown until an operator sets the weight.
    pub(crate) fn breach(&self, route: &str, breach: Breach) {
        let mut control = self.control();
        if control.breaches.contains_key(route) {
            return;
        }
        let weight = control.weights.get(route).copied().unwrap_or(0);
        if breach.action == BreachAction::Rollback && weight > 0 {
            control.weights.insert(route.to_owned(), 0);
            control.version += 1;
            let table = RoutingTable::build(
                &control.config,
                &control.weights,
                control.version,
                &self.metrics,
                &self.endpoints,
                &self.limiters,
                &self.rollbacks,
            );
            self.table.store(Arc::new(table));
        }
        self.metrics.route(route).count_breach();
        let action = breach.action.as_str();
        control.breaches.insert(
            route.to_owned(),
            format!("{action} at weight {weight}: {}", breach.reason),
        );
        self.log.event(
            action,
            json!({"route": route, "weight_was": weight, "reason": breach.reason, "version": control.version}),
        );
    }

    /// Re-reads the config file; on success swaps the table and returns its version.
    pub(crate) fn reload(&self, trigger: &str) -> Result<u64, ReloadError> {
        let Some(path) = &self.source else {
            return Err(ReloadError::NoSource);
        };
        match ValidConfig::load(path) {
            Ok(config) => Ok(self.apply(config, trigger)),
            Err(error) => {
                self.metrics.global.reloads_refused.fetch_add(1, Relaxed);
                self.control().last_reload_error = Some(error.to_string());
                self.log.event(
                    "config_refused",
                    json!({"trigger": trigger, "file": error.file, "error": error.to_string()}),
                );
                Err(ReloadError::Refused(error))
            }
        }
    }

    fn apply(&self, config: ValidConfig, trigger: &str) -> u64 {
        let mut control = self.control();
        let old_file = file_weights(&control.config);
        let mut weights = BTreeMap::new();
        for route in &config.routes {
            let current = control.weights.get(&route.name).copied();
            let weight = match (old_file.get(&route.name), current) {
                (Some(old), Some(current)) if *old == route.weight && route.candidate.is_some() => {
                    current
                }
                _ => route.weight,
            };
            weights.insert(route.name.clone(), weight);
        }
        if config.listen != control.config.listen || config.admin != control.config.admin {
            self.log.event(
                "restart_needed",
                json!({"reason": "listen and admin addresses change only on restart"}),
            );
        }
        control.version += 1;
        // A weight the file moves is as much a traffic move as one by the admin API: logged alike.
        for (route, weight) in &weights {
            let previous = control.weights.get(route).copied();
            if previous.is_some_and(|previous| previous != *weight) {
                self.log.event(
                    "weight_changed",
                    json!({"route": route, "from": previous, "to": weight, "version": control.version, "trigger": trigger}),
                );
            }
        }
        let table = RoutingTable::build(
            &config,
            &weights,
            control.version,
            &self.metrics,
            &self.endpoints,
            &self.limiters,
            &self.rollbacks,
        );
        for task in control.health_tasks.drain(..) {
            task.abort();
        }
        control.health_tasks = spawn_health_checks(&table.upstreams);
        self.table.store(Arc::new(table));
        control.config = Arc::new(config);
        control.weights = weights;
        control.last_reload_error = None;
        self.metrics.global.reloads_ok.fetch_add(1, Relaxed);
        self.log.event(
            "config_reloaded",
            json!({"trigger": trigger, "version": control.version}),
        );
        control.version
    }

    /// Stops the health checks (at shutdown).
    pub(crate) fn stop_background(&self) {
        for task in self.control().health_tasks.drain(..) {
            task.abort();
        }
    }

    /// The JSON status the admin API serves.
    pub(crate) fn status(&self) -> ProxyStatus {
        let table = self.table.load_full();
        let (last_error, breaches) = {
            let control = self.control();
            (control.last_reload_error.clone(), control.breaches.clone())
        };
        let routes = table
            .routes
            .iter()
            .chain(std::iter::once(&table.default))
            .map(|route| {
                let mut status = route_status(route);
                status.breach = breaches.get(&route.name).cloned();
                status
            })
            .collect();
        let upstreams = table
            .upstreams
            .values()
            .map(|upstream| UpstreamStatus {
                name: upstream.name.clone(),
                endpoints: upstream
                    .endpoints
                    .iter()
                    .map(|endpoint| EndpointStatus {
                        address: endpoint.label.clone(),
                        healthy: endpoint.is_healthy(),
                        ejected: endpoint.is_ejected(),
                        outstanding: endpoint.outstanding() as u64,
                    })
                    .collect(),
            })
            .collect();
        ProxyStatus {
            version: table.version,
            config_file: self.source.as_ref().map(|p| p.display().to_string()),
            routes,
            upstreams,
            reloads: ReloadStatus {
                ok: self.metrics.global.reloads_ok.load(Relaxed),
                refused: self.metrics.global.reloads_refused.load(Relaxed),
                last_error,
            },
            rejected_requests: self.metrics.global.rejected.load(Relaxed),
        }
    }

    /// The Prometheus text the admin API serves.
    pub(crate) fn prometheus(&self) -> String {
        let table = self.table.load_full();
        let weights: Vec<(String, u8)> = table
            .routes
            .iter()
            .map(|route| (route.name.clone(), route.weight))
            .collect::<BTreeMap<_, _>>()
            .into_iter()
            .collect();
        let endpoints: Vec<EndpointGauge> = table
            .upstreams
            .values()
            .flat_map(|upstream| {
                upstream.endpoints.iter().map(|endpoint| EndpointGauge {
                    upstream: upstream.name.clone(),
                    endpoint: endpoint.label.clone(),
                    healthy: endpoint.is_healthy(),
                    ejected: endpoint.is_ejected(),
                    outstanding: endpoint.outstanding(),
                })
            })
            .collect();
        render_prometheus(&self.metrics, &weights, &endpoints)
    }
}

pub(crate) fn route_status(route: &Route) -> RouteStatus {
    let side = |side: Side| {
        let metrics = route.metrics.side(side);
        SideStatus {
            requests: metrics.requests(),
            server_errors: metrics.server_errors(),
            proxy_failures: metrics.proxy_failures(),
            p50_ms: metrics.quantile_ms(0.5),
            p99_ms: metrics.quantile_ms(0.99),
        }
    };
    RouteStatus {
        name: route.name.clone(),
        matcher: route
            .matcher
            .as_ref()
            .map_or_else(|| "*".to_owned(), |m| m.describe()),
        primary: route.primary.name.clone(),
        candidate: route.candidate.as_ref().map(|c| c.name.clone()),
        weight: route.weight,
        sticky: route.sticky.as_ref().map(|key| match key {
            crate::config::StickyKey::Header(name) => format!("header {name}"),
            crate::config::StickyKey::Cookie(name) => format!("cookie {name}"),
        }),
        primary_side: side(Side::Primary),
        candidate_side: side(Side::Candidate),
        fallback: !route.fallback_methods.is_empty(),
        fallbacks: route.metrics.fallbacks(),
        bypasses: route.metrics.bypasses(),
        rate_limit: route
            .rate_limiter
            .as_ref()
            .map(|limiter| limiter.describe()),
        breach: None,
        breaches: route.metrics.breaches(),
        shadow: route.shadow.as_ref().map(|_| {
            let counters = &route.metrics.shadow;
            ShadowStatus {
                compared: counters.compared.load(Relaxed),
                matched: counters.matched.load(Relaxed),
                dropped: counters.dropped.load(Relaxed),
                skipped: counters.skipped.load(Relaxed),
                noise: counters.noise(),
            }
        }),
    }
}

fn file_weights(config: &ValidConfig) -> BTreeMap<String, u8> {
    config
        .routes
        .iter()
        .map(|route| (route.name.clone(), route.weight))
        .collect()
}
