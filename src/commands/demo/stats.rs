//! What the simulated users counted, step by step: requests, reads, failures (reads and writes
//! apart, with the first one in words) and client-side latency.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::time::Duration;

/// Latency samples kept per step.
const MAX_SAMPLES: usize = 500_000;

/// Counters of one step, as the clients saw it.
#[derive(Debug, Default)]
pub struct StepCounters {
    /// Requests answered or failed.
    pub requests: AtomicU64,
    /// Of which reads (GET).
    pub reads: AtomicU64,
    /// Failed requests.
    pub failures: AtomicU64,
    /// Failed reads.
    pub failed_reads: AtomicU64,
    /// Failed writes.
    pub failed_writes: AtomicU64,
    latencies_us: Mutex<Vec<u32>>,
    first_failure: Mutex<Option<String>>,
}

impl StepCounters {
    /// 99th percentile of the client-side latency, in ms.
    pub fn p99_ms(&self) -> Option<f64> {
        let mut samples = self
            .latencies_us
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if samples.is_empty() {
            return None;
        }
        samples.sort_unstable();
        let index = (samples.len() * 99).div_ceil(100).saturating_sub(1);
        Some(f64::from(samples[index]) / 1000.0)
    }

    /// The first failure of the step, in words.
    pub fn first_failure(&self) -> Option<String> {
        self.first_failure
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// Counters of the whole run, one [`StepCounters`] per step.
#[derive(Debug)]
pub struct Stats {
    /// Per step.
    pub steps: Vec<StepCounters>,
    current: AtomicUsize,
    /// Requests so far, all steps.
    pub total: AtomicU64,
    /// Failures so far, all steps.
    pub total_failures: AtomicU64,
}

impl Stats {
    /// Counters for `steps` steps.
    pub fn new(steps: usize) -> Stats {
        Stats {
            steps: (0..steps).map(|_| StepCounters::default()).collect(),
            current: AtomicUsize::new(0),
            total: AtomicU64::new(0),
            total_failures: AtomicU64::new(0),
        }
    }

    /// From now on, requests count for step `index`.
    pub fn enter_step(&self, index: usize) {
        self.current.store(index.min(self.steps.len() - 1), Relaxed);
    }

    pub(super) fn record(&self, read: bool, latency: Duration, failure: Option<String>) {
        let step = &self.steps[self.current.load(Relaxed)];
        step.requests.fetch_add(1, Relaxed);
        self.total.fetch_add(1, Relaxed);
        if read {
            step.reads.fetch_add(1, Relaxed);
        }
        {
            let mut samples = step.latencies_us.lock().unwrap_or_else(|e| e.into_inner());
            if samples.len() < MAX_SAMPLES {
                samples.push(u32::try_from(latency.as_micros()).unwrap_or(u32::MAX));
            }
        }
        if let Some(failure) = failure {
            step.failures.fetch_add(1, Relaxed);
            self.total_failures.fetch_add(1, Relaxed);
            if read {
                step.failed_reads.fetch_add(1, Relaxed);
            } else {
                step.failed_writes.fetch_add(1, Relaxed);
            }
            step.first_failure
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get_or_insert(failure);
        }
    }
}
