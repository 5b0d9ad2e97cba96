//! The routing table: an immutable snapshot of routes, weights, upstreams and limits.
//!
//! A request loads the current table once when it arrives and uses that snapshot until it is
//! answered; changes (a weight, a reload) build a new table and swap it in atomically, so a
//! request never sees half of a change and a change never waits for requests.

use std::collections::BTreeMap;
use std::sync::Arc;

use http::Method;

use crate::config::{DEFAULT_ROUTE, Limits, ShadowRule, StickyKey, Timeouts, ValidConfig};
use crate::message::FieldList;
use crate::metrics::{MetricsRegistry, RouteMetrics};
use crate::rollback::{RollbackRegistry, RollbackWatch};
use crate::route_match::RouteMatch;
use crate::split::{Side, choose_side};
use crate::throttle::{LimiterRegistry, RateLimiter};
use crate::upstream::{EndpointRegistry, Upstream};

/// One route in a table.
#[derive(Debug)]
pub struct Route {
    /// Its name (`default` for the fallback route).
    pub name: String,
    /// What it matches; `None` for the default route, which matches everything.
    pub matcher: Option<RouteMatch>,
    /// Serves the requests not sent to the candidate.
    pub primary: Arc<Upstream>,
    /// The new service, if any.
    pub candidate: Option<Arc<Upstream>>,
    /// Percent of requests (or of sticky users) sent to the candidate.
    pub weight: u8,
    /// What keeps a user on one side.
    pub sticky: Option<StickyKey>,
    /// Its counters (shared with every other table version).
    pub metrics: Arc<RouteMetrics>,
    /// Methods retried on the primary when the candidate fails; empty when fallback is off.
    pub fallback_methods: Vec<Method>,
    /// The route's token buckets, if it is rate limited.
    pub rate_limiter: Option<Arc<RateLimiter>>,
    /// The candidate's sliding window, if the route has a rollback rule.
    pub rollback: Option<Arc<RollbackWatch>>,
    /// Shadow settings, if the route mirrors to its candidate.
    pub shadow: Option<ShadowRule>,
}

impl Route {
    /// The side and upstream for one request.
    ///
    /// A candidate with no available instance (all failing their health check or ejected as
    /// outliers) is bypassed: the primary serves, and the bypass is counted. A dead candidate
    /// then costs clients nothing.
    pub fn choose(&self, fields: &FieldList) -> (Side, &Arc<Upstream>) {
        match &self.candidate {
            Some(candidate) => match choose_side(self.weight, self.sticky.as_ref(), fields) {
                Side::Candidate if candidate.has_available() => (Side::Candidate, candidate),
                Side::Candidate => {
                    self.metrics.count_bypass();
                    (Side::Primary, &self.primary)
                }
                Side::Primary => (Side::Primary, &self.primary),
            },
            None => (Side::Primary, &self.primary),
        }
    }
}

/// An immutable routing snapshot.
#[derive(Debug)]
pub struct RoutingTable {
    /// Increases with every swap; shown by the admin API.
    pub version: u64,
    /// Routes, most specific first.
    pub routes: Vec<Arc<Route>>,
    /// Serves what no route matches.
    pub default: Arc<Route>,
    /// Every configured upstream.
    pub upstreams: BTreeMap<String, Arc<Upstream>>,
    /// Client limits in force.
    pub limits: Limits,
    /// Timeouts in force.
    pub timeouts: Timeouts,
}

impl RoutingTable {
    /// Builds a table from a config, with `weights` overriding the config's per route name.
    pub(crate) fn build(
        config: &ValidConfig,
        weights: &BTreeMap<String, u8>,
        version: u64,
        metrics: &MetricsRegistry,
        endpoints: &EndpointRegistry,
        limiters: &LimiterRegistry,
        rollbacks: &RollbackRegistry,
    ) -> RoutingTable {
        let upstreams: BTreeMap<String, Arc<Upstream>> = config
            .upstreams
            .iter()
            .map(|(name, upstream)| (name.clone(), Arc::new(Upstream::new(upstream, endpoints))))
            .collect();
        let lookup = |name: &str| {
            upstreams
                .get(name)
                .cloned()
                .expect("a valid config only names configured upstreams")
        };
        let mut ordered: Vec<(usize, &crate::config::RouteConfig)> =
            config.routes.iter().enumerate().collect();
        ordered.sort_by_key(|(index, route)| (route.matcher.specificity(), *index));
        let routes = ordered
            .into_iter()
            .map(|(_, route)| {
                Arc::new(Route {
                    name: route.name.clone(),
                    matcher: Some(route.matcher.clone()),
                    primary: lookup(&route.primary),
                    candidate: route.candidate.as_deref().map(lookup),
                    weight: weights.get(&route.name).copied().unwrap_or(route.weight),
                    sticky: route.sticky.clone(),
                    metrics: metrics.route(&route.name),
                    fallback_methods: route.fallback_methods.clone(),
                    rate_limiter: route
                        .rate_limit
                        .as_ref()
                        .map(|limit| limiters.get(&route.name, limit)),
                    rollback: route
                        .rollback
                        .as_ref()
                        .map(|rule| rollbacks.get(&route.name, rule)),
                    shadow: route.shadow.clone(),
                })
            })
            .collect();
        let default = Arc::new(Route {
            name: DEFAULT_ROUTE.to_owned(),
            matcher: None,
            primary: lookup(&config.default_primary),
            candidate: None,
            weight: 0,
            sticky: None,
            metrics: metrics.route(DEFAULT_ROUTE),
            fallback_methods: Vec::new(),
            rate_limiter: None,
            rollback: None,
            shadow: None,
        });
        RoutingTable {
            version,
            routes,
            default,
            upstreams,
            limits: config.limits,
            timeouts: config.timeouts,
        }
    }

    /// The most specific route that matches, or the default route.
    pub fn route_for(&self, method: &Method, path: &str, fields: &FieldList) -> &Arc<Route> {
        self.routes
            .iter()
            .find(|route| {
                route
                    .matcher
                    .as_ref()
                    .is_some_and(|matcher| matcher.matches(method, path, fields))
            })
            .unwrap_or(&self.default)
    }

    /// A route by name (including `default`).
    pub fn route_named(&self, name: &str) -> Option<&Arc<Route>> {
        if name == DEFAULT_ROUTE {
            return Some(&self.default);
        }
        self.routes.iter().find(|route| route.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"
listen = "127.0.0.1:0"
[upstreams.mono]
endpoints = ["http://127.0.0.1:1"]
[upstreams.svc]
endpoints = ["http://127.0.0.1:2"]
[[routes]]
name = "broad"
match = { prefix = "/api" }
primary = "mono"
[[routes]]
name = "reviews"
match = { prefix = "/api/reviews" }
primary = "mono"
[[routes]]
name = "reviews-post"
match = { prefix = "/api/reviews", methods = ["POST"] }
primary = "mono"
[[routes]]
name = "movie-reviews"
match = { pattern = "/api/movies/{id}/reviews" }
primary = "mono"
[[routes]]
name = "movie-top"
match = { pattern = "/api/movies/top/reviews" }
primary = "mono"
[[routes]]
name = "exact"
match = { exact = "/api/reviews/summary" }
primary = "mono"
[[routes]]
name = "beta"
match = { prefix = "/api/reviews", headers = [{ name = "x-beta" }] }
primary = "mono"
[default]
primary = "mono"
"#;

    #[test]
    fn the_most_specific_route_wins() {
        let config = ValidConfig::from_toml_str(CONFIG, "<test>").expect("valid");
        let table = RoutingTable::build(
            &config,
            &BTreeMap::new(),
            1,
            &MetricsRegistry::default(),
            &EndpointRegistry::default(),
            &LimiterRegistry::default(),
            &RollbackRegistry::default(),
        );
        let beta = FieldList::from_pairs([("X-Beta", "yes")]);
        let none = FieldList::default();
        let cases = [
            (Method::GET, "/api/reviews/summary", &none, "exact"),
            (Method::GET, "/api/movies/top/reviews", &none, "movie-top"),
            (Method::GET, "/api/movies/7/reviews", &none, "movie-reviews"),
            (Method::POST, "/api/reviews/1", &none, "reviews-post"),
            (Method::GET, "/api/reviews/1", &beta, "beta"),
            (Method::GET, "/api/reviews/1", &none, "reviews"),
            (Method::GET, "/api/other", &none, "broad"),
            (Method::GET, "/", &none, "default"),
        ];
        for (method, path, headers, expected) in cases {
            assert_eq!(
                table.route_for(&method, path, headers).name,
                expected,
                "{method} {path}"
            );
        }
    }
}
