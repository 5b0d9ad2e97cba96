//! Kubernetes Gateway API `HTTPRoute` objects (gateway.networking.k8s.io/v1) for a proxy config.
//!
//! One `HTTPRoute` per proxy route, attached to one Gateway, plus one for `[default]` (prefix
//! `/`). Upstreams become Service names. How each strangler feature maps:
//!
//! - `exact` -> `Exact`; `prefix` -> `PathPrefix` (both match element by element, as strangler
//!   does); `pattern` -> `RegularExpression` (`^/api/movies/[^/]+/reviews$`). A `PathPrefix` of
//!   the pattern's literal head would silently widen the route, so the regular expression is
//!   used even though its support is implementation-specific: a gateway without it refuses the
//!   route in its status rather than sending the wrong paths. Which of a regular expression and a
//!   prefix wins is implementation-specific too (strangler: the pattern).
//! - `methods` -> one match per method; `headers` -> `Exact` header matches, or a
//!   `RegularExpression` `.*` for "present" (Gateway API has no presence match).
//! - The split -> two `backendRefs` with weights `100 - w` and `w`.
//! - `sticky` has no equivalent: Gateway API splits per request. Its session persistence
//!   (`sessionPersistence`, experimental) pins a client to the backend the gateway first chose,
//!   through a cookie or header the gateway issues; it is not a stable hash of the team's own
//!   user key, so a user may land on either side, and raising the weight does not move users
//!   one way only. The export says so in a comment and sets nothing.
//! - `shadow` -> a `RequestMirror` filter to the candidate (with `percent` or `fraction` when
//!   the sample is below 1). The gateway only copies the request: nothing compares the answers,
//!   and it mirrors requests the candidate serves too. Reads only, unless the route mirrors
//!   writes: a separate rule without the filter carries the other methods.
//! - Fallback, rollback, rate limits and outlier ejection are the gateway's own business.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;
use strangler_proxy::route_match::PathMatch;

use super::{ExportPlan, ExportRoute, UniqueNames, pattern_regex, sticky_text};

/// What the HTTPRoutes attach to and where the backends listen.
pub struct GatewayOptions {
    /// The Gateway: `NAME` or `NAMESPACE/NAME`.
    pub gateway: String,
    /// Namespace of the HTTPRoutes, if set.
    pub namespace: Option<String>,
    /// Port of every backend Service; each upstream's first endpoint port otherwise.
    pub service_port: Option<u16>,
}

/// The methods strangler mirrors when a route does not mirror writes.
const READ_METHODS: [&str; 3] = ["GET", "HEAD", "OPTIONS"];

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HttpRoute {
    api_version: &'static str,
    kind: &'static str,
    metadata: Metadata,
    spec: Spec,
}

#[derive(Serialize)]
struct Metadata {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<String>,
    labels: BTreeMap<&'static str, &'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Spec {
    parent_refs: Vec<ParentRef>,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
struct ParentRef {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    matches: Vec<Match>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    filters: Vec<Filter>,
    backend_refs: Vec<BackendRef>,
}

#[derive(Serialize)]
struct Match {
    path: PathCondition,
    #[serde(skip_serializing_if = "Option::is_none")]
    method: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    headers: Vec<HeaderCondition>,
}

#[derive(Serialize, Clone)]
struct PathCondition {
    #[serde(rename = "type")]
    kind: &'static str,
    value: String,
}

#[derive(Serialize, Clone)]
struct HeaderCondition {
    #[serde(rename = "type")]
    kind: &'static str,
    name: String,
    value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Filter {
    #[serde(rename = "type")]
    kind: &'static str,
    request_mirror: Mirror,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Mirror {
    backend_ref: ServiceRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    percent: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fraction: Option<Fraction>,
}

#[derive(Serialize)]
struct Fraction {
    numerator: u32,
    denominator: u32,
}

#[derive(Serialize, Clone)]
struct ServiceRef {
    name: String,
    port: u16,
}

#[derive(Serialize)]
struct BackendRef {
    name: String,
    port: u16,
    weight: u32,
}

/// The HTTPRoutes for `plan`, as YAML documents each opened by `---` and comments.
pub fn render(plan: &ExportPlan<'_>, options: &GatewayOptions) -> anyhow::Result<String> {
    let (gateway_namespace, gateway_name) = match options.gateway.split_once('/') {
        Some((namespace, name)) => (Some(namespace.to_string()), name.to_string()),
        None => (None, options.gateway.clone()),
    };
    if !is_dns_label(&gateway_name)
        || gateway_namespace
            .as_deref()
            .is_some_and(|ns| !is_dns_label(ns))
    {
        anyhow::bail!(
            "--gateway `{}` is not NAME or NAMESPACE/NAME (lower-case letters, digits and `-`)",
            options.gateway
        );
    }
    if let Some(namespace) = &options.namespace
        && !is_dns_label(namespace)
    {
        anyhow::bail!("--namespace `{namespace}` is not a Kubernetes namespace name");
    }
    let services = Services::new(plan, options.service_port);
    let parent_refs = || {
        vec![ParentRef {
            name: gateway_name.clone(),
            namespace: gateway_namespace.clone(),
        }]
    };
    let metadata = |name: String| Metadata {
        name,
        namespace: options.namespace.clone(),
        labels: BTreeMap::from([("app.kubernetes.io/managed-by", "strangler")]),
    };

    let mut out = String::new();
    let _ = writeln!(
        out,
        "# strangler plan --export gateway-api: routes from {}, weights from {}.",
        plan.source, plan.weights_from
    );
    let _ = writeln!(
        out,
        "# Backends are the Services named after the upstreams: {}.",
        services.describe()
    );
    let _ = writeln!(
        out,
        "# Apply with `kubectl apply -f FILE`; export again after each cutover step."
    );
    let mut names = UniqueNames::new(&[]);
    // File order: Gateway API ranks matches by their own precedence, not by document order.
    let mut in_file_order: Vec<&ExportRoute<'_>> = plan.routes.iter().collect();
    in_file_order.sort_by_key(|route| route.position);
    for route in in_file_order {
        let name = names.take(&dns_label(route.config.name(), "route"), '-');
        let document = HttpRoute {
            api_version: "gateway.networking.k8s.io/v1",
            kind: "HTTPRoute",
            metadata: metadata(name),
            spec: Spec {
                parent_refs: parent_refs(),
                rules: rules(route, &services),
            },
        };
        out.push_str("---\n");
        for line in comments(route) {
            let _ = writeln!(out, "# {line}");
        }
        out.push_str(&serde_saphyr::to_string(&document)?);
    }
    let catch_all = plan.routes.iter().any(|route| {
        let matcher = route.config.matcher();
        matches!(&matcher.path, PathMatch::Prefix(prefix) if prefix == "/")
            && matcher.methods.is_empty()
            && matcher.headers.is_empty()
    });
    if !catch_all {
        let primary = plan.config.default_primary();
        let document = HttpRoute {
            api_version: "gateway.networking.k8s.io/v1",
            kind: "HTTPRoute",
            metadata: metadata(names.take("strangler-default", '-')),
            spec: Spec {
                parent_refs: parent_refs(),
                rules: vec![Rule {
                    matches: vec![Match {
                        path: PathCondition {
                            kind: "PathPrefix",
                            value: "/".into(),
                        },
                        method: None,
                        headers: Vec::new(),
                    }],
                    filters: Vec::new(),
                    backend_refs: vec![services.backend(primary, 100)],
                }],
            },
        };
        out.push_str("---\n");
        let _ = writeln!(out, "# [default]: what no route matches goes to {primary}");
        out.push_str(&serde_saphyr::to_string(&document)?);
    }
    Ok(out)
}

/// The comment lines above a route's document: what it does and what the gateway cannot.
fn comments(route: &ExportRoute<'_>) -> Vec<String> {
    let config = route.config;
    let mut lines = vec![format!("route {}", route.describe())];
    if let PathMatch::Pattern(_) = &config.matcher().path {
        lines.push(format!(
            "pattern {} as a RegularExpression path match (support is implementation-specific)",
            config.matcher().path.text()
        ));
    }
    if config.matcher().headers.iter().any(|h| h.value.is_none()) {
        lines
            .push("a header that must only be present is matched as RegularExpression `.*`".into());
    }
    if let Some(sticky) = config.sticky() {
        lines.push(format!(
            "sticky on {} in strangler: Gateway API splits per request; its experimental \
             sessionPersistence pins a client to a backend the gateway chose, not by this key",
            sticky_text(sticky)
        ));
    }
    if config.shadow().is_some() && config.candidate().is_some() {
        lines.push(
            "shadow: RequestMirror copies requests to the candidate; nothing compares the answers"
                .into(),
        );
    }
    lines
}

/// The rules of one route: one, or two when a shadowed route mirrors reads only.
fn rules(route: &ExportRoute<'_>, services: &Services) -> Vec<Rule> {
    let config = route.config;
    let matcher = config.matcher();
    let path = match &matcher.path {
        PathMatch::Exact(path) => PathCondition {
            kind: "Exact",
            value: path.clone(),
        },
        PathMatch::Prefix(prefix) => PathCondition {
            kind: "PathPrefix",
            value: prefix.clone(),
        },
        PathMatch::Pattern(segments) => PathCondition {
            kind: "RegularExpression",
            value: pattern_regex(segments),
        },
    };
    let headers: Vec<HeaderCondition> = matcher
        .headers
        .iter()
        .map(|condition| match &condition.value {
            Some(value) => HeaderCondition {
                kind: "Exact",
                name: condition.name.as_str().to_string(),
                value: String::from_utf8_lossy(value.as_bytes()).into_owned(),
            },
            None => HeaderCondition {
                kind: "RegularExpression",
                name: condition.name.as_str().to_string(),
                value: ".*".into(),
            },
        })
        .collect();
    let methods: Vec<String> = matcher
        .methods
        .iter()
        .map(|m| m.as_str().to_string())
        .collect();
    let matches_for = |methods: &[String]| -> Vec<Match> {
        if methods.is_empty() {
            vec![Match {
                path: path.clone(),
                method: None,
                headers: headers.clone(),
            }]
        } else {
            methods
                .iter()
                .map(|method| Match {
                    path: path.clone(),
                    method: Some(method.clone()),
                    headers: headers.clone(),
                })
                .collect()
        }
    };
    let backends = || {
        let mut refs = vec![services.backend(config.primary(), 100 - u32::from(route.weight))];
        if let Some(candidate) = config.candidate() {
            refs.push(services.backend(candidate, u32::from(route.weight)));
        }
        refs
    };
    let (Some(shadow), Some(candidate)) = (config.shadow(), config.candidate()) else {
        return vec![Rule {
            matches: matches_for(&methods),
            filters: Vec::new(),
            backend_refs: backends(),
        }];
    };
    let mirror = || {
        let sample = shadow.sample().clamp(0.0, 1.0);
        let per_cent = sample * 100.0;
        let (percent, fraction) = if (per_cent - per_cent.round()).abs() < 1e-9 {
            (
                (per_cent.round() as u32 != 100).then_some(per_cent.round() as u32),
                None,
            )
        } else {
            (
                None,
                Some(Fraction {
                    numerator: (sample * 10_000.0).round() as u32,
                    denominator: 10_000,
                }),
            )
        };
        Filter {
            kind: "RequestMirror",
            request_mirror: Mirror {
                backend_ref: services.service_ref(candidate),
                percent,
                fraction,
            },
        }
    };
    if shadow.mirrors_writes() {
        return vec![Rule {
            matches: matches_for(&methods),
            filters: vec![mirror()],
            backend_refs: backends(),
        }];
    }
    let route_methods: Vec<String> = if methods.is_empty() {
        READ_METHODS.iter().map(|m| m.to_string()).collect()
    } else {
        methods.clone()
    };
    let (reads, writes): (Vec<String>, Vec<String>) = route_methods
        .into_iter()
        .partition(|method| READ_METHODS.contains(&method.as_str()));
    let mut rules = Vec::new();
    if !reads.is_empty() {
        rules.push(Rule {
            matches: matches_for(&reads),
            filters: vec![mirror()],
            backend_refs: backends(),
        });
    }
    // Without methods of its own, the route's other methods go through a rule without a
    // method match, which the read rule's method matches take precedence over.
    if methods.is_empty() || !writes.is_empty() {
        rules.push(Rule {
            matches: matches_for(if methods.is_empty() { &[] } else { &writes }),
            filters: Vec::new(),
            backend_refs: backends(),
        });
    }
    rules
}

/// Upstream name -> Service name and port.
struct Services {
    by_upstream: BTreeMap<String, (String, u16)>,
}

impl Services {
    fn new(plan: &ExportPlan<'_>, port: Option<u16>) -> Self {
        let mut names = UniqueNames::new(&[]);
        let by_upstream = plan
            .config
            .upstreams()
            .map(|upstream| {
                let service = names.take(&dns_label(upstream.name(), "svc"), '-');
                let port = port.unwrap_or_else(|| {
                    upstream
                        .endpoints()
                        .first()
                        .map_or(80, |endpoint| endpoint.port())
                });
                (upstream.name().to_string(), (service, port))
            })
            .collect();
        Services { by_upstream }
    }

    fn service_ref(&self, upstream: &str) -> ServiceRef {
        // Every upstream a valid config names exists; the fallback only keeps this total.
        let (name, port) = self
            .by_upstream
            .get(upstream)
            .cloned()
            .unwrap_or_else(|| (dns_label(upstream, "svc"), 80));
        ServiceRef { name, port }
    }

    fn backend(&self, upstream: &str, weight: u32) -> BackendRef {
        let ServiceRef { name, port } = self.service_ref(upstream);
        BackendRef { name, port, weight }
    }

    fn describe(&self) -> String {
        self.by_upstream
            .iter()
            .map(|(upstream, (service, port))| format!("{upstream} -> {service}:{port}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Free text as a DNS-1035 label (what Service and HTTPRoute names accept): lower-case letters,
/// digits and `-`, starting with a letter, at most 63 characters.
fn dns_label(text: &str, lead: &str) -> String {
    let mut label: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    label = label.trim_matches('-').to_string();
    if !label.starts_with(|c: char| c.is_ascii_lowercase()) {
        label = format!("{lead}-{label}").trim_end_matches('-').to_string();
    }
    label.truncate(55);
    label.trim_end_matches('-').to_string()
}

fn is_dns_label(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 63
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !text.starts_with('-')
        && !text.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_valid_kubernetes_names() {
        assert_eq!(dns_label("movie_catalog", "svc"), "movie-catalog");
        assert_eq!(dns_label("Reviews-1", "route"), "reviews-1");
        assert_eq!(dns_label("7up", "svc"), "svc-7up");
        assert_eq!(dns_label("__", "svc"), "svc");
        assert!(is_dns_label(&dns_label(&"x".repeat(100), "svc")));
        assert!(!is_dns_label("Gateway"));
    }
}
