//! Read-only views of a validated config for code outside this crate that translates it: the
//! CLI's `strangler plan --export` turns the same checked routes the proxy serves into a
//! cluster gateway's objects, so both carry out one plan. Nothing here can change a config.

use super::{EndpointAddress, RouteConfig, ShadowRule, StickyKey, UpstreamConfig, ValidConfig};
use crate::route_match::RouteMatch;

impl ValidConfig {
    /// The routes in file order.
    pub fn routes(&self) -> &[RouteConfig] {
        &self.routes
    }

    /// The routes in the order the proxy tries them (most specific first, then file order),
    /// as `strangler status` lists them.
    pub fn routes_in_match_order(&self) -> Vec<&RouteConfig> {
        let mut ordered: Vec<(usize, &RouteConfig)> = self.routes.iter().enumerate().collect();
        ordered.sort_by_key(|(index, route)| (route.matcher.specificity(), *index));
        ordered.into_iter().map(|(_, route)| route).collect()
    }

    /// The upstreams, by name.
    pub fn upstreams(&self) -> impl Iterator<Item = &UpstreamConfig> {
        self.upstreams.values()
    }

    /// One upstream by name.
    pub fn upstream(&self, name: &str) -> Option<&UpstreamConfig> {
        self.upstreams.get(name)
    }

    /// The upstream of requests that match no route (`[default] primary`).
    pub fn default_primary(&self) -> &str {
        &self.default_primary
    }
}

impl RouteConfig {
    /// The route's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What the route matches.
    pub fn matcher(&self) -> &RouteMatch {
        &self.matcher
    }

    /// The primary upstream's name.
    pub fn primary(&self) -> &str {
        &self.primary
    }

    /// The candidate upstream's name, if any.
    pub fn candidate(&self) -> Option<&str> {
        self.candidate.as_deref()
    }

    /// The candidate's share, 0-100, as the file sets it.
    pub fn weight(&self) -> u8 {
        self.weight
    }

    /// What keeps a user on one side, if anything.
    pub fn sticky(&self) -> Option<&StickyKey> {
        self.sticky.as_ref()
    }

    /// The shadow settings, when the route mirrors to its candidate.
    pub fn shadow(&self) -> Option<&ShadowRule> {
        self.shadow.as_ref()
    }
}

impl ShadowRule {
    /// Share of eligible requests mirrored, 0-1.
    pub fn sample(&self) -> f64 {
        self.sample
    }

    /// Whether writes are mirrored too (reads always are).
    pub fn mirrors_writes(&self) -> bool {
        self.writes
    }
}

impl UpstreamConfig {
    /// The upstream's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its instances, in file order.
    pub fn endpoints(&self) -> &[EndpointAddress] {
        &self.endpoints
    }
}

impl EndpointAddress {
    /// The host, as written (a name or an IP address; IPv6 in brackets).
    pub fn host(&self) -> &str {
        self.authority.host()
    }

    /// The port, or the scheme's default (80 for http, 443 for https).
    pub fn port(&self) -> u16 {
        self.authority
            .port_u16()
            .unwrap_or(if self.scheme == http::uri::Scheme::HTTPS {
                443
            } else {
                80
            })
    }
}
