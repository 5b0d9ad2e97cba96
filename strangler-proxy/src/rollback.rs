//! Automatic rollback: a route's rule on its candidate's error rate and p99 latency over a
//! sliding window. When the candidate breaks it, the route's weight goes to 0 (or, with
//! `on_breach = "freeze"`, holds where it is), the event is logged and shown, and it stays so
//! until an operator sets the weight again.
//!
//! The window is a ring of one-second slots of candidate outcomes; every candidate response is
//! recorded, and the rule is evaluated at most every 10 ms per route.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::config::{BreachAction, RollbackRule};
use crate::metrics::LATENCY_BOUNDS_US;

#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    second: u64,
    requests: u64,
    errors: u64,
    buckets: [u64; LATENCY_BOUNDS_US.len() + 1],
}

/// What the rule saw when it was broken.
#[derive(Debug, Clone, PartialEq)]
pub struct Breach {
    /// What to do about it.
    pub action: BreachAction,
    /// In words, e.g. `error rate 0.40 > 0.02 over 30s (50 requests)`.
    pub reason: String,
}

/// The sliding window of one route's candidate.
#[derive(Debug)]
pub struct RollbackWatch {
    rule: RollbackRule,
    slots: Mutex<Vec<Slot>>,
    last_check_ms: AtomicU64,
}

/// `last_check_ms` before the first evaluation.
const NEVER: u64 = u64::MAX;

fn now_ms() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    let epoch = *EPOCH.get_or_init(Instant::now);
    u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
}

impl RollbackWatch {
    fn new(rule: RollbackRule) -> Self {
        let slots = vec![Slot::default(); rule.window.as_secs().max(1) as usize];
        RollbackWatch {
            rule,
            slots: Mutex::new(slots),
            last_check_ms: AtomicU64::new(NEVER),
        }
    }

    /// Forgets the window (an operator moved the weight: judge the new share afresh).
    pub fn clear(&self) {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.iter_mut().for_each(|slot| *slot = Slot::default());
    }

    /// Records one candidate response; returns a breach when the rule is broken now.
    pub fn record(&self, failed: bool, latency: Duration) -> Option<Breach> {
        let now = now_ms();
        let second = now / 1000;
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        let bucket = LATENCY_BOUNDS_US
            .iter()
            .position(|bound| micros <= *bound)
            .unwrap_or(LATENCY_BOUNDS_US.len());
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        let count = slots.len() as u64;
        let slot = &mut slots[(second % count) as usize];
        if slot.second != second {
            *slot = Slot {
                second,
                ..Slot::default()
            };
        }
        slot.requests += 1;
        slot.errors += u64::from(failed);
        slot.buckets[bucket] += 1;
        let last = self.last_check_ms.load(Relaxed);
        if last != NEVER && now < last.saturating_add(10) {
            return None;
        }
        self.last_check_ms.store(now, Relaxed);
        self.evaluate(&slots, second)
    }

    fn evaluate(&self, slots: &[Slot], second: u64) -> Option<Breach> {
        let oldest = second.saturating_sub(slots.len() as u64 - 1);
        let live = slots
            .iter()
            .filter(|slot| slot.second >= oldest && slot.requests > 0);
        let mut requests = 0;
        let mut errors = 0;
        let mut buckets = [0u64; LATENCY_BOUNDS_US.len() + 1];
        for slot in live {
            requests += slot.requests;
            errors += slot.errors;
            for (total, count) in buckets.iter_mut().zip(slot.buckets) {
                *total += count;
            }
        }
        let rule = &self.rule;
        if requests < rule.min_requests {
            return None;
        }
        let window = format!("{}s", rule.window.as_secs());
        if let Some(max_rate) = rule.max_error_rate {
            let rate = errors as f64 / requests as f64;
            if rate > max_rate {
                return Some(Breach {
                    action: rule.on_breach,
                    reason: format!(
                        "error rate {rate:.3} > {max_rate} over {window} ({requests} requests)"
                    ),
                });
            }
        }
        if let Some(max_p99) = rule.max_p99_ms {
            let rank = (requests as f64 * 0.99).ceil() as u64;
            let mut seen = 0;
            let p99_us = buckets
                .iter()
                .enumerate()
                .find_map(|(index, count)| {
                    seen += count;
                    (seen >= rank)
                        .then(|| LATENCY_BOUNDS_US.get(index).copied().unwrap_or(u64::MAX))
                })
                .unwrap_or(0);
            let p99_ms = p99_us as f64 / 1000.0;
            if p99_ms > max_p99 as f64 {
                return Some(Breach {
                    action: rule.on_breach,
                    reason: format!(
                        "p99 {p99_ms} ms > {max_p99} ms over {window} ({requests} requests)"
                    ),
                });
            }
        }
        None
    }
}

/// Windows by route name; kept while a route's rule is unchanged.
#[derive(Debug, Default)]
pub struct RollbackRegistry {
    watches: Mutex<BTreeMap<String, Arc<RollbackWatch>>>,
}

impl RollbackRegistry {
    pub(crate) fn get(&self, route: &str, rule: &RollbackRule) -> Arc<RollbackWatch> {
        let mut watches = self.watches.lock().unwrap_or_else(|e| e.into_inner());
        match watches.get(route) {
            Some(existing) if existing.rule == *rule => existing.clone(),
            _ => {
                let fresh = Arc::new(RollbackWatch::new(rule.clone()));
                watches.insert(route.to_owned(), fresh.clone());
                fresh
            }
        }
    }

    pub(crate) fn clear(&self, route: &str) {
        let watches = self.watches.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(watch) = watches.get(route) {
            watch.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(min_requests: u64) -> RollbackRule {
        RollbackRule {
            max_error_rate: Some(0.1),
            max_p99_ms: Some(100),
            window: Duration::from_secs(30),
            min_requests,
            on_breach: BreachAction::Rollback,
        }
    }

    #[test]
    fn no_verdict_before_min_requests_then_the_error_rate_breaks_the_rule() {
        let watch = RollbackWatch::new(rule(10));
        let mut breach = None;
        for index in 0..10 {
            std::thread::sleep(Duration::from_millis(if index == 9 { 15 } else { 0 }));
            breach = watch.record(index % 2 == 0, Duration::from_millis(1));
            if index < 9 {
                assert_eq!(breach, None, "verdict after {} requests", index + 1);
            }
        }
        let breach = breach.expect("breach");
        assert!(
            breach
                .reason
                .starts_with("error rate 0.500 > 0.1 over 30s (10 requests)"),
            "{}",
            breach.reason
        );
    }

    #[test]
    fn slow_answers_break_the_latency_rule() {
        let watch = RollbackWatch::new(rule(1));
        let breach = watch
            .record(false, Duration::from_millis(300))
            .expect("breach");
        assert!(
            breach.reason.starts_with("p99 500 ms > 100 ms"),
            "{}",
            breach.reason
        );
        watch.clear();
    }
}
