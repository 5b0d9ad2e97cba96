//! `strangler plan --export`: the cutover a proxy config describes, written for another gateway.
//!
//! A team that runs on Kubernetes (or behind nginx) may want its own gateway to carry out the
//! split rather than add strangler's proxy as one more hop. This module reads the same proxy
//! config `strangler proxy` serves, validated by the proxy crate (so a file the proxy would
//! refuse is refused here with the same file, line and reason), takes the weights either from
//! the file or from a running proxy's admin API (what `strangler cutover` set), and hands the
//! routes, in the proxy's match order, to one writer per format: [`gateway`] for Gateway API
//! `HTTPRoute`s, [`nginx`] for an nginx config. Both writers are pure functions of an
//! [`ExportPlan`], so the same input always gives the same bytes.
//!
//! What the other gateways cannot do like strangler (sticky hashing, compared shadows, automatic
//! rollback) is said in comments in the output and in docs/proxy.md, never silently dropped.

pub mod gateway;
pub mod nginx;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use strangler_proxy::ValidConfig;
use strangler_proxy::config::{RouteConfig, StickyKey};
use strangler_proxy::route_match::PatternSegment;

use crate::cli::{ExportFormat, PlanArgs};

/// Everything a writer needs: the routes in match order with the weights in force.
pub struct ExportPlan<'a> {
    /// Where the routes came from (the config file).
    pub source: String,
    /// Where the weights came from, in words.
    pub weights_from: String,
    /// The proxy's listen address.
    pub listen: SocketAddr,
    /// The config, for its upstreams.
    pub config: &'a ValidConfig,
    /// The routes in the order the proxy tries them, each with its weight in force.
    pub routes: Vec<ExportRoute<'a>>,
}

/// One route and the candidate's share in force.
pub struct ExportRoute<'a> {
    /// The route as configured.
    pub config: &'a RouteConfig,
    /// The candidate's share, 0-100 (0 without a candidate).
    pub weight: u8,
    /// Its place in the file.
    pub position: usize,
}

impl ExportRoute<'_> {
    /// A one-line description for comments: `reviews: prefix /api/reviews [GET]; 25% to ...`.
    pub fn describe(&self) -> String {
        let route = self.config;
        let split = match route.candidate() {
            Some(candidate) => format!(
                "{}% to {candidate}, {}% to {}",
                self.weight,
                100 - u32::from(self.weight),
                route.primary()
            ),
            None => format!("all to {}", route.primary()),
        };
        format!("{}: {}; {split}", route.name(), route.matcher().describe())
    }
}

/// Runs `strangler plan --export FORMAT`.
pub fn run(args: &PlanArgs, format: ExportFormat) -> anyhow::Result<()> {
    if args.proposal.resolution.is_some()
        || args.proposal.target_contexts.is_some()
        || !args.proposal.pins.is_empty()
    {
        anyhow::bail!(
            "--resolution, --contexts and --pin shape a new plan; --export reads an existing proxy config"
        );
    }
    let path = args
        .proposal
        .config
        .clone()
        .unwrap_or_else(|| PathBuf::from("strangler.toml"));
    let config = ValidConfig::load(&path).map_err(anyhow::Error::new)?;
    let (weights, weights_from) = match &args.live {
        Some(url) => (
            live_weights(&config, url, args.token.clone())?,
            format!("the proxy at {url}"),
        ),
        None => (BTreeMap::new(), "the file".to_string()),
    };
    let plan = ExportPlan::new(&config, path.display().to_string(), weights_from, &weights);
    let text = match format {
        ExportFormat::GatewayApi => gateway::render(
            &plan,
            &gateway::GatewayOptions {
                gateway: args
                    .gateway
                    .clone()
                    .unwrap_or_else(|| "strangler-gateway".to_string()),
                namespace: args.namespace.clone(),
                service_port: args.service_port,
            },
        )?,
        ExportFormat::Nginx => nginx::render(&plan)?,
    };
    match &args.out {
        Some(out) => {
            super::write_output(out, &text, args.force)?;
            let weights: Vec<String> = plan
                .routes
                .iter()
                .filter(|route| route.config.candidate().is_some())
                .map(|route| format!("{} {}%", route.config.name(), route.weight))
                .collect();
            writeln!(
                std::io::stderr().lock(),
                "wrote {}: {} routes from {} (weights from {}: {})",
                out.display(),
                plan.routes.len(),
                plan.source,
                plan.weights_from,
                if weights.is_empty() {
                    "no candidates".to_string()
                } else {
                    weights.join(", ")
                }
            )?;
        }
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    Ok(())
}

impl<'a> ExportPlan<'a> {
    /// The config's routes in match order, with `weights` (by route name) overriding the
    /// file's.
    pub fn new(
        config: &'a ValidConfig,
        source: String,
        weights_from: String,
        weights: &BTreeMap<String, u8>,
    ) -> Self {
        let routes = config
            .routes_in_match_order()
            .into_iter()
            .map(|route| ExportRoute {
                position: config
                    .routes()
                    .iter()
                    .position(|other| std::ptr::eq(other, route))
                    .unwrap_or(usize::MAX),
                config: route,
                weight: if route.candidate().is_none() {
                    0
                } else {
                    weights
                        .get(route.name())
                        .copied()
                        .unwrap_or(route.weight())
                        .min(100)
                },
            })
            .collect();
        ExportPlan {
            source,
            weights_from,
            listen: config.listen(),
            config,
            routes,
        }
    }
}

/// The weights a running proxy holds, by route name. A route of the file the proxy does not
/// know keeps the file's weight, with a warning: the proxy may run an older file.
fn live_weights(
    config: &ValidConfig,
    url: &str,
    token: Option<String>,
) -> anyhow::Result<BTreeMap<String, u8>> {
    let client = strangler_proxy::BlockingAdminClient::new(url, token)?;
    let status = client
        .status()
        .with_context(|| format!("reading the weights from the proxy at {url}"))?;
    let live: BTreeMap<String, u8> = status
        .routes
        .iter()
        .map(|route| (route.name.clone(), route.weight))
        .collect();
    let mut err = std::io::stderr().lock();
    for name in config.route_names() {
        if !live.contains_key(name) {
            writeln!(
                err,
                "warning: the proxy at {url} has no route `{name}`; its weight is the file's"
            )?;
        }
    }
    Ok(live)
}

/// A pattern as an anchored regular expression (RE2 and PCRE agree on this subset): literal
/// segments escaped, each `{name}` one non-empty segment.
pub fn pattern_regex(segments: &[PatternSegment]) -> String {
    let mut regex = String::from("^");
    for segment in segments {
        regex.push('/');
        match segment {
            PatternSegment::Literal(literal) => {
                for c in literal.chars() {
                    if "\\.+*?()|[]{}^$".contains(c) {
                        regex.push('\\');
                    }
                    regex.push(c);
                }
            }
            PatternSegment::Param(_) => regex.push_str("[^/]+"),
        }
    }
    regex.push('$');
    regex
}

/// How a sticky key reads in a comment.
pub fn sticky_text(sticky: &StickyKey) -> String {
    match sticky {
        StickyKey::Header(name) => format!("header {name}"),
        StickyKey::Cookie(name) => format!("cookie {name}"),
    }
}

/// Names made from free text for a target that allows only `allowed` characters, kept
/// distinct: `base`, then `base-2`, `base-3`... (joined with `sep`).
pub struct UniqueNames {
    taken: Vec<String>,
}

impl UniqueNames {
    /// No name taken yet, except `reserved`.
    pub fn new(reserved: &[&str]) -> Self {
        UniqueNames {
            taken: reserved.iter().map(|name| (*name).to_string()).collect(),
        }
    }

    /// A free name from `base`, marked as taken.
    pub fn take(&mut self, base: &str, sep: char) -> String {
        let mut name = base.to_string();
        let mut k = 2;
        while self.taken.contains(&name) {
            name = format!("{base}{sep}{k}");
            k += 1;
        }
        self.taken.push(name.clone());
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_become_anchored_regexes() {
        let segments = vec![
            PatternSegment::Literal("api".into()),
            PatternSegment::Literal("v1.0".into()),
            PatternSegment::Param("id".into()),
            PatternSegment::Literal("reviews".into()),
        ];
        assert_eq!(pattern_regex(&segments), "^/api/v1\\.0/[^/]+/reviews$");
        assert_eq!(
            strangler_proxy::route_match::PathMatch::Pattern(segments).text(),
            "/api/v1.0/{id}/reviews"
        );
    }

    #[test]
    fn unique_names_count_up() {
        let mut names = UniqueNames::new(&["default"]);
        assert_eq!(names.take("default", '-'), "default-2");
        assert_eq!(names.take("reviews", '-'), "reviews");
        assert_eq!(names.take("reviews", '_'), "reviews_2");
    }
}
