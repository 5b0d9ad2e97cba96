//! Raw config to [`ValidConfig`]: every rule a config must satisfy, each refusal tied to a span.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::ops::Range;
use std::path::PathBuf;
use std::time::Duration;

use http::uri::Scheme;
use http::{HeaderName, HeaderValue, Method, Uri};
use toml::Spanned;

use super::raw::{RawConfig, RawMatch, RawRoute, RawUpstream};
use super::{
    Balance, ConfigError, ConfigProblem, DEFAULT_ROUTE, EndpointAddress, HealthCheck, Limits,
    LogConfig, LogTarget, OutlierDetection, RouteConfig, StickyKey, Timeouts, UpstreamConfig,
    ValidConfig,
};
use crate::route_match::{HeaderCondition, PathMatch, RouteMatch, parse_pattern};

/// Parses `250ms`, `2s`, `1m`, `1h` (a whole number and a unit).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration like `500ms`, `2s` or `1m`"))?;
    let duration = match unit {
        "ms" => Duration::from_millis(value),
        "s" => Duration::from_secs(value),
        "m" => Duration::from_secs(value.saturating_mul(60)),
        "h" => Duration::from_secs(value.saturating_mul(3600)),
        _ => {
            return Err(format!(
                "`{text}`: unknown duration unit `{unit}` (use ms, s, m or h)"
            ));
        }
    };
    Ok(duration)
}

pub(super) fn from_toml(text: &str, origin: &str) -> Result<ValidConfig, ConfigError> {
    let mut checker = Checker {
        text,
        problems: Vec::new(),
    };
    let raw: RawConfig = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(error) => {
            checker.refuse(error.span(), error.message().trim_end().to_owned());
            return Err(checker.into_error(origin));
        }
    };
    let config = checker.check(raw);
    if checker.problems.is_empty()
        && let Some(config) = config
    {
        return Ok(config);
    }
    Err(checker.into_error(origin))
}

pub(super) struct Checker<'a> {
    text: &'a str,
    problems: Vec<(usize, usize, String)>,
}

impl Checker<'_> {
    fn refuse(&mut self, span: Option<Range<usize>>, reason: String) {
        let (line, column) = match span {
            Some(span) => {
                let start = span.start.min(self.text.len());
                let before = &self.text[..start];
                let line = before.matches('\n').count() + 1;
                let column = before.len() - before.rfind('\n').map_or(0, |at| at + 1) + 1;
                (line, column)
            }
            None => (0, 0),
        };
        self.problems.push((line, column, reason));
    }

    pub(super) fn refuse_at<T>(&mut self, spanned: &Spanned<T>, reason: String) {
        self.refuse(Some(spanned.span()), reason);
    }

    fn into_error(mut self, origin: &str) -> ConfigError {
        self.problems.sort();
        ConfigError {
            file: origin.to_owned(),
            problems: self
                .problems
                .into_iter()
                .map(|(line, column, reason)| ConfigProblem {
                    line,
                    column,
                    reason,
                })
                .collect(),
        }
    }

    fn address(&mut self, field: &str, value: &Spanned<String>) -> Option<SocketAddr> {
        match value.get_ref().parse::<SocketAddr>() {
            Ok(address) => Some(address),
            Err(_) => {
                self.refuse_at(
                    value,
                    format!(
                        "{field} = `{}` is not an IP:port address such as `127.0.0.1:8080`",
                        value.get_ref()
                    ),
                );
                None
            }
        }
    }

    pub(super) fn duration(
        &mut self,
        field: &str,
        value: Option<&Spanned<String>>,
        default: Duration,
    ) -> Duration {
        let Some(value) = value else {
            return default;
        };
        match parse_duration(value.get_ref()) {
            Ok(duration) if !duration.is_zero() => duration,
            Ok(_) => {
                self.refuse_at(value, format!("{field} must be longer than zero"));
                default
            }
            Err(reason) => {
                self.refuse_at(value, format!("{field}: {reason}"));
                default
            }
        }
    }

    fn check(&mut self, raw: RawConfig) -> Option<ValidConfig> {
        let listen = self.address("listen", &raw.listen);
        let admin = match &raw.admin {
            Some(admin) => self.address("admin", admin),
            None => Some(SocketAddr::from(([127, 0, 0, 1], 9090))),
        };
        let admin_token = match &raw.admin_token {
            Some(token) if token.get_ref().trim().is_empty() => {
                self.refuse_at(token, "admin_token must not be empty".into());
                None
            }
            Some(token) => Some(token.get_ref().clone()),
            None => None,
        };
        if let (Some(admin), None) = (admin, &admin_token)
            && !admin.ip().is_loopback()
        {
            let span = raw.admin.as_ref().map(Spanned::span);
            self.refuse(
                span,
                format!(
                    "admin = `{admin}` is not a loopback address: set admin_token so the \
                         admin API asks for a bearer token"
                ),
            );
        }
        let watch_interval = match &raw.watch_config {
            Some(value) if value.get_ref() == "off" => None,
            value => Some(self.duration("watch_config", value.as_ref(), Duration::from_secs(1))),
        };

        let mut upstreams = BTreeMap::new();
        for (name, upstream) in &raw.upstreams {
            if let Some(valid) = self.upstream(name, upstream) {
                upstreams.insert(name.clone(), valid);
            }
        }

        let mut routes = Vec::new();
        let mut seen = BTreeSet::new();
        for route in &raw.routes {
            if !seen.insert(route.get_ref().name.get_ref().clone()) {
                self.refuse_at(
                    &route.get_ref().name,
                    format!(
                        "route `{}` is defined twice",
                        route.get_ref().name.get_ref()
                    ),
                );
                continue;
            }
            if let Some(valid) = self.route(route, &raw.upstreams) {
                routes.push(valid);
            }
        }

        let default_primary = match &raw.default {
            None => {
                self.refuse(
                    None,
                    "missing [default] with `primary = \"...\"`: the upstream (usually the \
                     monolith) that serves requests no route matches"
                        .into(),
                );
                None
            }
            Some(default) => {
                let primary = &default.get_ref().primary;
                self.known_upstream("primary", primary, &raw.upstreams)
                    .then(|| primary.get_ref().clone())
            }
        };

        let limits = Limits {
            max_header_bytes: self.size(
                "max_header_bytes",
                raw.limits.max_header_bytes.as_ref(),
                16 * 1024,
                1024,
            ) as usize,
            max_body_bytes: self.size(
                "max_body_bytes",
                raw.limits.max_body_bytes.as_ref(),
                10 * 1024 * 1024,
                0,
            ),
        };
        let timeouts = Timeouts {
            connect: self.duration(
                "connect",
                raw.timeouts.connect.as_ref(),
                Duration::from_secs(2),
            ),
            request: self.duration(
                "request",
                raw.timeouts.request.as_ref(),
                Duration::from_secs(30),
            ),
            client_header: self.duration(
                "client_header",
                raw.timeouts.client_header.as_ref(),
                Duration::from_secs(10),
            ),
            drain: self.duration(
                "drain",
                raw.timeouts.drain.as_ref(),
                Duration::from_secs(10),
            ),
        };
        let log = LogConfig {
            target: match raw
                .log
                .target
                .as_ref()
                .map(|target| target.get_ref().as_str())
            {
                None | Some("stderr") => LogTarget::Stderr,
                Some("off") => LogTarget::Off,
                Some("") => {
                    if let Some(target) = &raw.log.target {
                        self.refuse_at(
                            target,
                            "log target must be `stderr`, `off` or a file path".into(),
                        );
                    }
                    LogTarget::Off
                }
                Some(path) => LogTarget::File(PathBuf::from(path)),
            },
            access: raw.log.access.unwrap_or(true),
        };

        Some(ValidConfig {
            source: None,
            source_hash: None,
            listen: listen?,
            admin: admin?,
            admin_token,
            watch_interval,
            upstreams,
            routes,
            default_primary: default_primary?,
            limits,
            timeouts,
            log,
        })
    }

    fn size(
        &mut self,
        field: &str,
        value: Option<&Spanned<i64>>,
        default: u64,
        minimum: u64,
    ) -> u64 {
        match value {
            None => default,
            Some(value) => match u64::try_from(*value.get_ref()) {
                Ok(size) if size >= minimum => size,
                _ => {
                    self.refuse_at(
                        value,
                        format!("{field} must be a number of bytes >= {minimum}"),
                    );
                    default
                }
            },
        }
    }

    fn known_upstream(
        &mut self,
        field: &str,
        name: &Spanned<String>,
        upstreams: &BTreeMap<String, Spanned<RawUpstream>>,
    ) -> bool {
        if upstreams.contains_key(name.get_ref()) {
            return true;
        }
        let known: Vec<&str> = upstreams.keys().map(String::as_str).collect();
        self.refuse_at(
            name,
            format!(
                "{field} = `{}` names no upstream (known: {})",
                name.get_ref(),
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            ),
        );
        false
    }

    fn upstream(&mut self, name: &str, raw: &Spanned<RawUpstream>) -> Option<UpstreamConfig> {
        let before = self.problems.len();
        if !valid_name(name) {
            self.refuse_at(
                raw,
                format!("upstream name `{name}` must be letters, digits, `-` or `_`"),
            );
        }
        let upstream = raw.get_ref();
        if upstream.endpoints.get_ref().is_empty() {
            self.refuse_at(
                &upstream.endpoints,
                format!("upstream `{name}` needs at least one endpoint"),
            );
        }
        let mut endpoints = Vec::new();
        for endpoint in upstream.endpoints.get_ref() {
            match parse_endpoint(endpoint.get_ref()) {
                Ok(address) if endpoints.contains(&address) => {
                    self.refuse_at(endpoint, format!("endpoint `{address}` is listed twice"));
                }
                Ok(address) => endpoints.push(address),
                Err(reason) => self.refuse_at(endpoint, reason),
            }
        }
        let health = upstream.health.as_ref().map(|health| {
            let raw_health = health.get_ref();
            if !raw_health.path.get_ref().starts_with('/') {
                self.refuse_at(&raw_health.path, "health path must start with `/`".into());
            }
            let interval = self.duration(
                "interval",
                raw_health.interval.as_ref(),
                Duration::from_secs(2),
            );
            if interval < Duration::from_millis(50)
                && let Some(span) = &raw_health.interval
            {
                self.refuse_at(span, "health interval must be at least 50ms".into());
            }
            let timeout = self.duration(
                "timeout",
                raw_health.timeout.as_ref(),
                interval.min(Duration::from_secs(2)),
            );
            HealthCheck {
                path: raw_health.path.get_ref().clone(),
                interval,
                timeout,
            }
        });
        let balance = match upstream.balance.as_ref().map(|b| b.get_ref().as_str()) {
            None | Some("least_outstanding") => Balance::LeastOutstanding,
            Some("round_robin") => Balance::RoundRobin,
            Some(other) => {
                if let Some(span) = &upstream.balance {
                    self.refuse_at(
                        span,
                        format!("balance = `{other}`: use `least_outstanding` or `round_robin`"),
                    );
                }
                Balance::LeastOutstanding
            }
        };
        let outlier = upstream.outlier.as_ref().map(|outlier| {
            let raw_outlier = outlier.get_ref();
            let failures = match &raw_outlier.failures {
                None => 5,
                Some(failures) => match u32::try_from(*failures.get_ref()) {
                    Ok(count) if count > 0 => count,
                    _ => {
                        self.refuse_at(failures, "failures must be a whole number > 0".into());
                        5
                    }
                },
            };
            let ejection = self.duration(
                "ejection",
                raw_outlier.ejection.as_ref(),
                Duration::from_secs(10),
            );
            let max_ejection = self.duration(
                "max_ejection",
                raw_outlier.max_ejection.as_ref(),
                Duration::from_secs(300).max(ejection),
            );
            if max_ejection < ejection {
                self.refuse_at(outlier, "max_ejection must be at least ejection".into());
            }
            OutlierDetection {
                failures,
                ejection,
                max_ejection,
            }
        });
        (self.problems.len() == before).then(|| UpstreamConfig {
            name: name.to_owned(),
            endpoints,
            health,
            balance,
            preserve_host: upstream.preserve_host,
            outlier,
        })
    }

    fn route(
        &mut self,
        spanned: &Spanned<RawRoute>,
        upstreams: &BTreeMap<String, Spanned<RawUpstream>>,
    ) -> Option<RouteConfig> {
        let before = self.problems.len();
        let route = spanned.get_ref();
        let name = route.name.get_ref();
        if !valid_name(name) {
            self.refuse_at(
                &route.name,
                format!("route name `{name}` must be letters, digits, `-` or `_`"),
            );
        }
        if name == DEFAULT_ROUTE {
            self.refuse_at(
                &route.name,
                "`default` is reserved for the [default] route".into(),
            );
        }
        let matcher = self.route_match(&route.matcher);
        self.known_upstream("primary", &route.primary, upstreams);
        if let Some(candidate) = &route.candidate
            && self.known_upstream("candidate", candidate, upstreams)
            && candidate.get_ref() == route.primary.get_ref()
        {
            self.refuse_at(candidate, "candidate must differ from primary".into());
        }
        let weight = match &route.weight {
            None => 0,
            Some(weight) => match u8::try_from(*weight.get_ref()) {
                Ok(value) if value <= 100 => value,
                _ => {
                    self.refuse_at(
                        weight,
                        format!("weight = {} must be between 0 and 100", weight.get_ref()),
                    );
                    0
                }
            },
        };
        if weight > 0
            && route.candidate.is_none()
            && let Some(span) = &route.weight
        {
            self.refuse_at(
                span,
                format!("weight = {weight} needs a candidate upstream"),
            );
        }
        let sticky = route.sticky.as_ref().and_then(|sticky| {
            match (&sticky.get_ref().header, &sticky.get_ref().cookie) {
                (Some(header), None) => match HeaderName::from_bytes(header.as_bytes()) {
                    Ok(name) => Some(StickyKey::Header(name)),
                    Err(_) => {
                        self.refuse_at(
                            sticky,
                            format!("sticky header `{header}` is not a valid header name"),
                        );
                        None
                    }
                },
                (None, Some(cookie)) if valid_cookie_name(cookie) => {
                    Some(StickyKey::Cookie(cookie.clone()))
                }
                (None, Some(cookie)) => {
                    self.refuse_at(
                        sticky,
                        format!("sticky cookie `{cookie}` is not a valid cookie name"),
                    );
                    None
                }
                _ => {
                    self.refuse_at(
                        sticky,
                        "sticky needs exactly one of `header` or `cookie`".into(),
                    );
                    None
                }
            }
        });
        let fallback_methods = self.fallback_methods(route);
        let rate_limit = route
            .rate_limit
            .as_ref()
            .and_then(|limit| self.rate_limit(limit));
        let rollback = route
            .rollback
            .as_ref()
            .and_then(|rule| self.rollback(rule, route));
        let shadow = route
            .shadow
            .as_ref()
            .and_then(|rule| self.shadow(rule, route));
        (self.problems.len() == before).then(|| RouteConfig {
            name: name.clone(),
            matcher: matcher.expect("no problem recorded means the match is valid"),
            primary: route.primary.get_ref().clone(),
            candidate: route.candidate.as_ref().map(|c| c.get_ref().clone()),
            weight,
            sticky,
            fallback_methods,
            rate_limit,
            rollback,
            shadow,
        })
    }

    fn route_match(&mut self, spanned: &Spanned<RawMatch>) -> Option<RouteMatch> {
        let raw = spanned.get_ref();
        let path = match (&raw.prefix, &raw.exact, &raw.pattern) {
            (Some(prefix), None, None) if prefix.starts_with('/') => {
                Some(PathMatch::Prefix(prefix.clone()))
            }
            (None, Some(exact), None) if exact.starts_with('/') => {
                Some(PathMatch::Exact(exact.clone()))
            }
            (None, None, Some(pattern)) => match parse_pattern(pattern) {
                Ok(segments) => Some(PathMatch::Pattern(segments)),
                Err(reason) => {
                    self.refuse_at(spanned, reason);
                    None
                }
            },
            (None, None, None)
            | (Some(_), Some(_), _)
            | (Some(_), _, Some(_))
            | (_, Some(_), Some(_)) => {
                self.refuse_at(
                    spanned,
                    "match needs exactly one of `prefix`, `exact` or `pattern`".into(),
                );
                None
            }
            _ => {
                self.refuse_at(spanned, "a match path must start with `/`".into());
                None
            }
        };
        let mut methods = Vec::new();
        for method in &raw.methods {
            let valid = !method.is_empty() && method.bytes().all(|b| b.is_ascii_uppercase());
            match Method::from_bytes(method.as_bytes()) {
                Ok(parsed) if valid => methods.push(parsed),
                _ => self.refuse_at(
                    spanned,
                    format!("method `{method}` is not an upper-case HTTP method"),
                ),
            }
        }
        methods.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        methods.dedup();
        let mut headers = Vec::new();
        for header in &raw.headers {
            let Ok(name) = HeaderName::from_bytes(header.name.as_bytes()) else {
                self.refuse_at(
                    spanned,
                    format!("`{}` is not a valid header name", header.name),
                );
                continue;
            };
            let value = match &header.value {
                None => None,
                Some(value) => match HeaderValue::from_str(value) {
                    Ok(value) => Some(value),
                    Err(_) => {
                        self.refuse_at(spanned, format!("`{value}` is not a valid header value"));
                        continue;
                    }
                },
            };
            headers.push(HeaderCondition { name, value });
        }
        Some(RouteMatch {
            path: path?,
            methods,
            headers,
        })
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

pub(super) fn valid_cookie_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b))
}

fn parse_endpoint(text: &str) -> Result<EndpointAddress, String> {
    let uri: Uri = text
        .parse()
        .map_err(|_| format!("endpoint `{text}` is not a URL like `http://127.0.0.1:3000`"))?;
    let scheme = uri.scheme().cloned();
    if scheme != Some(Scheme::HTTP) {
        return Err(format!(
            "endpoint `{text}`: only `http://` upstreams are supported (terminate TLS elsewhere)"
        ));
    }
    let Some(authority) = uri.authority().cloned() else {
        return Err(format!("endpoint `{text}` lacks a host"));
    };
    if authority.as_str().contains('@') {
        return Err(format!("endpoint `{text}` must not carry credentials"));
    }
    let path = uri.path_and_query().map_or("", |p| p.as_str());
    if !(path.is_empty() || path == "/") {
        return Err(format!(
            "endpoint `{text}`: a path is not supported, give scheme, host and port only"
        ));
    }
    Ok(EndpointAddress {
        scheme: Scheme::HTTP,
        authority,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_a_unit() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert!(parse_duration("2").is_err());
        assert!(parse_duration("s").is_err());
        assert!(parse_duration("2 weeks").is_err());
    }

    #[test]
    fn the_analyzer_section_is_left_to_the_analyzer() {
        let text = "listen = \"127.0.0.1:0\"\n\
                    [upstreams.monolith]\nendpoints = [\"http://127.0.0.1:3000\"]\n\
                    [default]\nprimary = \"monolith\"\n\
                    [analyze]\ncontexts = 4\npins = { \"src/a.rs\" = \"x\" }\n";
        assert!(from_toml(text, "<test>").is_ok());
        let misspelt = text.replace("[analyze]", "[analyse]");
        let error = from_toml(&misspelt, "<test>").expect_err("unknown sections are refused");
        assert!(error.to_string().contains("analyse"), "{error}");
    }

    #[test]
    fn endpoints_are_plain_http_origins() {
        assert!(parse_endpoint("http://127.0.0.1:3000").is_ok());
        assert!(parse_endpoint("http://127.0.0.1:3000/").is_ok());
        assert!(parse_endpoint("https://127.0.0.1:3000").is_err());
        assert!(parse_endpoint("http://127.0.0.1:3000/api").is_err());
        assert!(parse_endpoint("127.0.0.1:3000").is_err());
        assert!(parse_endpoint("http://user:pw@127.0.0.1:3000").is_err());
    }
}
