//! Validation of a route's cutover policies (shadow, rollback, rate limit, fallback): the rules
//! issue 8 added, kept apart from the routing rules in `validate.rs`.

use std::time::Duration;

use http::{HeaderName, Method};
use toml::Spanned;

use super::raw::{RawRateLimit, RawRollback, RawRoute, RawShadow};
use super::validate::{Checker, valid_cookie_name};
use super::{BreachAction, RateLimit, RollbackRule, ShadowRule, StickyKey};

impl Checker<'_> {
    pub(super) fn shadow(
        &mut self,
        spanned: &Spanned<RawShadow>,
        route: &RawRoute,
    ) -> Option<ShadowRule> {
        let raw = spanned.get_ref();
        if route.candidate.is_none() {
            self.refuse_at(
                spanned,
                "shadow needs a candidate upstream to mirror to".into(),
            );
            return None;
        }
        let sample = raw.sample.unwrap_or(1.0);
        if !(sample > 0.0 && sample <= 1.0) {
            self.refuse_at(spanned, "sample is a fraction in (0, 1], e.g. 0.1".into());
            return None;
        }
        let mut headers = Vec::new();
        for name in &raw.headers {
            match HeaderName::from_bytes(name.as_bytes()) {
                Ok(header) => headers.push(header),
                Err(_) => {
                    self.refuse_at(spanned, format!("`{name}` is not a valid header name"));
                    return None;
                }
            }
        }
        if let Some(bad) = raw
            .ignore
            .iter()
            .chain(&raw.redact)
            .find(|p| !p.starts_with('/'))
        {
            self.refuse_at(
                spanned,
                format!("ignore/redact entry `{bad}` must be a JSON pointer starting with `/`"),
            );
            return None;
        }
        let timeout = self.duration("timeout", raw.timeout.as_ref(), Duration::from_secs(5));
        Some(ShadowRule {
            sample,
            writes: raw.writes,
            diff: crate::diff::DiffRule {
                headers,
                ignore: raw.ignore.clone(),
                redact: raw.redact.clone(),
            },
            timeout,
            noise_probe: raw.noise_probe,
        })
    }

    pub(super) fn rollback(
        &mut self,
        spanned: &Spanned<RawRollback>,
        route: &RawRoute,
    ) -> Option<RollbackRule> {
        let raw = spanned.get_ref();
        if route.candidate.is_none() {
            self.refuse_at(
                spanned,
                "rollback needs a candidate upstream to roll back from".into(),
            );
            return None;
        }
        if raw.max_error_rate.is_none() && raw.max_p99_ms.is_none() {
            self.refuse_at(
                spanned,
                "rollback needs max_error_rate, max_p99_ms or both".into(),
            );
            return None;
        }
        if raw
            .max_error_rate
            .is_some_and(|rate| !(0.0..=1.0).contains(&rate))
        {
            self.refuse_at(
                spanned,
                "max_error_rate is a fraction between 0 and 1, e.g. 0.02".into(),
            );
            return None;
        }
        let max_p99_ms = match raw.max_p99_ms.map(u64::try_from) {
            None => None,
            Some(Ok(ms)) if ms > 0 => Some(ms),
            Some(_) => {
                self.refuse_at(
                    spanned,
                    "max_p99_ms must be a whole number of milliseconds > 0".into(),
                );
                return None;
            }
        };
        let window = self.duration("window", raw.window.as_ref(), Duration::from_secs(30));
        if window < Duration::from_secs(1) || window > Duration::from_secs(600) {
            self.refuse_at(spanned, "window must be between 1s and 10m".into());
            return None;
        }
        let min_requests = match raw.min_requests.map(u64::try_from) {
            None => 50,
            Some(Ok(count)) if count > 0 => count,
            Some(_) => {
                self.refuse_at(spanned, "min_requests must be a whole number > 0".into());
                return None;
            }
        };
        let on_breach = match raw.on_breach.as_deref() {
            None | Some("rollback") => BreachAction::Rollback,
            Some("freeze") => BreachAction::Freeze,
            Some(other) => {
                self.refuse_at(
                    spanned,
                    format!("on_breach = `{other}`: use `rollback` or `freeze`"),
                );
                return None;
            }
        };
        Some(RollbackRule {
            max_error_rate: raw.max_error_rate,
            max_p99_ms,
            window,
            min_requests,
            on_breach,
        })
    }

    pub(super) fn rate_limit(&mut self, spanned: &Spanned<RawRateLimit>) -> Option<RateLimit> {
        let raw = spanned.get_ref();
        let rate = match u32::try_from(*raw.rate.get_ref()) {
            Ok(rate) if rate > 0 => rate,
            _ => {
                self.refuse_at(
                    &raw.rate,
                    "rate must be a whole number of requests > 0".into(),
                );
                return None;
            }
        };
        let per = self.duration("per", raw.per.as_ref(), Duration::from_secs(1));
        let burst = match &raw.burst {
            None => rate,
            Some(burst) => match u32::try_from(*burst.get_ref()) {
                Ok(burst) if burst > 0 => burst,
                _ => {
                    self.refuse_at(burst, "burst must be a whole number of requests > 0".into());
                    return None;
                }
            },
        };
        let key = match &raw.key {
            None => None,
            Some(key) => match (&key.get_ref().header, &key.get_ref().cookie) {
                (Some(header), None) => match HeaderName::from_bytes(header.as_bytes()) {
                    Ok(name) => Some(StickyKey::Header(name)),
                    Err(_) => {
                        self.refuse_at(key, format!("`{header}` is not a valid header name"));
                        return None;
                    }
                },
                (None, Some(cookie)) if valid_cookie_name(cookie) => {
                    Some(StickyKey::Cookie(cookie.clone()))
                }
                _ => {
                    self.refuse_at(
                        key,
                        "key needs exactly one valid `header` or `cookie`".into(),
                    );
                    return None;
                }
            },
        };
        Some(RateLimit {
            rate,
            per,
            burst,
            key,
        })
    }

    pub(super) fn fallback_methods(&mut self, route: &RawRoute) -> Vec<Method> {
        let enabled = route.fallback.as_ref().is_some_and(|f| *f.get_ref());
        if let (Some(fallback), true, None) = (&route.fallback, enabled, &route.candidate) {
            self.refuse_at(
                fallback,
                "fallback needs a candidate upstream to fall back from".into(),
            );
        }
        if let (Some(extra), false) = (&route.idempotent_methods, enabled) {
            self.refuse_at(
                extra,
                "idempotent_methods only applies with fallback = true".into(),
            );
        }
        if !enabled {
            return Vec::new();
        }
        let mut methods = vec![Method::GET, Method::HEAD, Method::OPTIONS];
        if let Some(extra) = &route.idempotent_methods {
            for name in extra.get_ref() {
                let valid = !name.is_empty() && name.bytes().all(|b| b.is_ascii_uppercase());
                match Method::from_bytes(name.as_bytes()) {
                    Ok(method) if valid => {
                        if !methods.contains(&method) {
                            methods.push(method);
                        }
                    }
                    _ => self.refuse_at(
                        extra,
                        format!("method `{name}` is not an upper-case HTTP method"),
                    ),
                }
            }
        }
        methods
    }
}
