//! Per-route rate limits: token buckets, one for the whole route or one per key (a header or
//! cookie such as an API key), so a young service gets no more load than it was sized for.
//!
//! A request that finds its bucket empty is answered `429 Too Many Requests` with `Retry-After`.
//! Buckets live in a registry keyed by route name and survive reloads and weight changes while
//! the route's limit stays the same.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::config::RateLimit;
use crate::message::FieldList;
use crate::split::sticky_value;

/// Keys tracked per route before idle buckets are forgotten.
const MAX_KEYS: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// The buckets of one route.
#[derive(Debug)]
pub struct RateLimiter {
    limit: RateLimit,
    per_second: f64,
    buckets: Mutex<HashMap<Vec<u8>, Bucket>>,
}

impl RateLimiter {
    fn new(limit: RateLimit) -> Self {
        RateLimiter {
            per_second: f64::from(limit.rate) / limit.per.as_secs_f64(),
            limit,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// `100/1s burst 200 per header x-api-key`, for status.
    pub fn describe(&self) -> String {
        let mut text = format!(
            "{}/{:?} burst {}",
            self.limit.rate, self.limit.per, self.limit.burst
        );
        match &self.limit.key {
            Some(crate::config::StickyKey::Header(name)) => {
                text.push_str(&format!(" per header {name}"))
            }
            Some(crate::config::StickyKey::Cookie(name)) => {
                text.push_str(&format!(" per cookie {name}"))
            }
            None => {}
        }
        text
    }

    /// Takes a token for this request, or says how long until one is available.
    pub fn check(&self, fields: &FieldList) -> Result<(), Duration> {
        self.check_at(fields, Instant::now())
    }

    fn check_at(&self, fields: &FieldList, now: Instant) -> Result<(), Duration> {
        // Requests without the key share one bucket (the empty key).
        let key = self
            .limit
            .key
            .as_ref()
            .and_then(|key| sticky_value(key, fields))
            .unwrap_or_default();
        let burst = f64::from(self.limit.burst);
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_KEYS && !buckets.contains_key(key) {
            let per_second = self.per_second;
            buckets.retain(|_, bucket| refilled(bucket, now, per_second, burst) < burst);
            if buckets.len() >= MAX_KEYS {
                buckets.clear();
            }
        }
        let bucket = buckets.entry(key.to_vec()).or_insert(Bucket {
            tokens: burst,
            updated: now,
        });
        bucket.tokens = refilled(bucket, now, self.per_second, burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - bucket.tokens) / self.per_second,
            ))
        }
    }
}

fn refilled(bucket: &Bucket, now: Instant, per_second: f64, burst: f64) -> f64 {
    let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
    (bucket.tokens + elapsed * per_second).min(burst)
}

/// Rate limiters by route name.
#[derive(Debug, Default)]
pub struct LimiterRegistry {
    limiters: Mutex<BTreeMap<String, Arc<RateLimiter>>>,
}

impl LimiterRegistry {
    /// The limiter of a route: the existing one while its limit is unchanged, else a fresh one.
    pub(crate) fn get(&self, route: &str, limit: &RateLimit) -> Arc<RateLimiter> {
        let mut limiters = self.limiters.lock().unwrap_or_else(|e| e.into_inner());
        match limiters.get(route) {
            Some(existing) if existing.limit == *limit => existing.clone(),
            _ => {
                let fresh = Arc::new(RateLimiter::new(limit.clone()));
                limiters.insert(route.to_owned(), fresh.clone());
                fresh
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::StickyKey;

    fn limiter(rate: u32, burst: u32, key: Option<StickyKey>) -> RateLimiter {
        RateLimiter::new(RateLimit {
            rate,
            per: Duration::from_secs(1),
            burst,
            key,
        })
    }

    #[test]
    fn a_bucket_allows_its_burst_then_refills_at_the_rate() {
        let limiter = limiter(10, 3, None);
        let start = Instant::now();
        let headers = FieldList::default();
        for _ in 0..3 {
            assert!(limiter.check_at(&headers, start).is_ok());
        }
        let wait = limiter.check_at(&headers, start).expect_err("empty");
        assert!(
            wait > Duration::from_millis(90) && wait <= Duration::from_millis(100),
            "{wait:?}"
        );
        assert!(
            limiter
                .check_at(&headers, start + Duration::from_millis(100))
                .is_ok()
        );
        assert!(
            limiter
                .check_at(&headers, start + Duration::from_millis(110))
                .is_err()
        );
    }

    #[test]
    fn keyed_buckets_are_separate() {
        let limiter = limiter(
            1,
            1,
            Some(StickyKey::Header(http::HeaderName::from_static(
                "x-api-key",
            ))),
        );
        let now = Instant::now();
        let alice = FieldList::from_pairs([("x-api-key", "alice")]);
        let bob = FieldList::from_pairs([("x-api-key", "bob")]);
        assert!(limiter.check_at(&alice, now).is_ok());
        assert!(limiter.check_at(&alice, now).is_err());
        assert!(limiter.check_at(&bob, now).is_ok());
    }
}
