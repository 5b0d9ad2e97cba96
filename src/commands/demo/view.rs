//! What the demo shows: a live line per step (an indicatif spinner on a terminal, plain lines
//! otherwise), one line per finished step, and the closing summary; and the proxy-side figures
//! behind them, read from the admin API (`/routes` and `/metrics`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::IsTerminal as _;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use strangler_proxy::AdminClient;

use super::stats::Stats;

/// Prints to stdout, line by line.
pub struct Printer {
    terminal: bool,
}

impl Printer {
    /// A printer for this process's stdout.
    pub fn new() -> Printer {
        Printer {
            terminal: std::io::stdout().is_terminal(),
        }
    }

    /// Whether stdout is a terminal.
    pub fn is_terminal(&self) -> bool {
        self.terminal
    }

    /// One line.
    pub fn line(&mut self, text: &str) {
        say(text);
        super::flush();
    }

    /// A block of lines.
    pub fn text(&mut self, text: &str) {
        say_raw(text);
        super::flush();
    }
}

/// The proxy's counters for the reviews routes at one moment.
#[derive(Debug, Clone)]
pub struct Snapshot {
    routes: Vec<RouteCounts>,
    /// Per side, the latency histogram (upper bound in seconds, cumulative count) summed over
    /// the routes.
    histogram: BTreeMap<String, Vec<(f64, u64)>>,
}

#[derive(Debug, Clone)]
struct RouteCounts {
    name: String,
    matches: String,
    primary: u64,
    candidate: u64,
    fallbacks: u64,
    bypasses: u64,
    compared: u64,
    matched: u64,
}

/// What changed between two snapshots.
#[derive(Debug, Default)]
pub struct Delta {
    /// Requests per side.
    pub primary_requests: u64,
    /// Requests per side.
    pub candidate_requests: u64,
    /// Fallbacks.
    pub fallbacks: u64,
    /// Bypasses.
    pub bypasses: u64,
    /// Shadow comparisons per route.
    pub shadow: Vec<ShadowDelta>,
    /// p99 of the primary side, ms.
    pub primary_p99_ms: Option<f64>,
    /// p99 of the candidate side, ms.
    pub candidate_p99_ms: Option<f64>,
}

/// Shadow comparisons of one route between two snapshots.
#[derive(Debug)]
pub struct ShadowDelta {
    /// Route name.
    pub route: String,
    /// What it matches.
    pub matches: String,
    /// Pairs compared.
    pub compared: u64,
    /// Of which equal.
    pub matched: u64,
}

impl Snapshot {
    /// Reads `/routes` and `/metrics` of the proxy.
    pub async fn take(admin: &AdminClient, routes: &[String]) -> anyhow::Result<Snapshot> {
        let status = admin.status().await?;
        let metrics = admin.metrics().await?;
        let routes_counts = status
            .routes
            .iter()
            .filter(|r| routes.contains(&r.name))
            .map(|r| RouteCounts {
                name: r.name.clone(),
                matches: r.matcher.clone(),
                primary: r.primary_side.requests,
                candidate: r.candidate_side.requests,
                fallbacks: r.fallbacks,
                bypasses: r.bypasses,
                compared: r.shadow.as_ref().map_or(0, |s| s.compared),
                matched: r.shadow.as_ref().map_or(0, |s| s.matched),
            })
            .collect();
        Ok(Snapshot {
            routes: routes_counts,
            histogram: histogram(&metrics, routes),
        })
    }

    /// The change from `before` to this snapshot.
    pub fn since(&self, before: &Snapshot) -> Delta {
        let mut delta = Delta::default();
        for now in &self.routes {
            let then = before.routes.iter().find(|r| r.name == now.name);
            let old = |f: fn(&RouteCounts) -> u64| then.map_or(0, f);
            delta.primary_requests += now.primary.saturating_sub(old(|r| r.primary));
            delta.candidate_requests += now.candidate.saturating_sub(old(|r| r.candidate));
            delta.fallbacks += now.fallbacks.saturating_sub(old(|r| r.fallbacks));
            delta.bypasses += now.bypasses.saturating_sub(old(|r| r.bypasses));
            delta.shadow.push(ShadowDelta {
                route: now.name.clone(),
                matches: now.matches.clone(),
                compared: now.compared.saturating_sub(old(|r| r.compared)),
                matched: now.matched.saturating_sub(old(|r| r.matched)),
            });
        }
        delta.primary_p99_ms = self.p99_since(before, "primary");
        delta.candidate_p99_ms = self.p99_since(before, "candidate");
        delta
    }

    fn p99_since(&self, before: &Snapshot, side: &str) -> Option<f64> {
        let now = self.histogram.get(side)?;
        let then = before.histogram.get(side);
        let counts: Vec<(f64, u64)> = now
            .iter()
            .map(|(le, n)| {
                let old = then
                    .and_then(|t| t.iter().find(|(l, _)| l == le))
                    .map_or(0, |(_, n)| *n);
                (*le, n.saturating_sub(old))
            })
            .collect();
        let total = counts.last()?.1;
        if total == 0 {
            return None;
        }
        let target = (total * 99).div_ceil(100);
        counts
            .iter()
            .find(|(_, n)| *n >= target)
            .filter(|(le, _)| le.is_finite())
            .map(|(le, _)| le * 1000.0)
    }
}

/// Sums `strangler_request_duration_seconds_bucket` per side over `routes`.
fn histogram(metrics: &str, routes: &[String]) -> BTreeMap<String, Vec<(f64, u64)>> {
    let mut sums: BTreeMap<String, BTreeMap<u64, (f64, u64)>> = BTreeMap::new();
    for line in metrics.lines() {
        let Some(rest) = line.strip_prefix("strangler_request_duration_seconds_bucket{") else {
            continue;
        };
        let Some((labels, value)) = rest.split_once("} ") else {
            continue;
        };
        let label = |key: &str| {
            labels.split(',').find_map(|pair| {
                pair.strip_prefix(key)
                    .and_then(|v| v.strip_prefix("=\""))
                    .and_then(|v| v.strip_suffix('"'))
            })
        };
        let (Some(route), Some(side), Some(le)) = (label("route"), label("side"), label("le"))
        else {
            continue;
        };
        if !routes.iter().any(|r| r == route) {
            continue;
        }
        let bound = if le == "+Inf" {
            f64::INFINITY
        } else {
            le.parse().unwrap_or(f64::INFINITY)
        };
        let count: u64 = value.trim().parse().unwrap_or(0);
        let entry = sums
            .entry(side.to_string())
            .or_default()
            .entry(bound.to_bits())
            .or_insert((bound, 0));
        entry.1 += count;
    }
    sums.into_iter()
        .map(|(side, buckets)| {
            let mut list: Vec<(f64, u64)> = buckets.into_values().collect();
            list.sort_by(|a, b| a.0.total_cmp(&b.0));
            (side, list)
        })
        .collect()
}

/// The figures of one line.
pub struct StepLine<'a> {
    /// Step name.
    pub name: &'a str,
    /// Seconds into the step.
    pub seconds: f64,
    /// Client requests in the step.
    pub requests: u64,
    /// Failed client requests in the step.
    pub failures: u64,
    /// p99 per side on the reviews routes.
    pub primary_p99_ms: Option<f64>,
    /// p99 per side on the reviews routes.
    pub candidate_p99_ms: Option<f64>,
    /// Shadow pairs compared.
    pub compared: u64,
    /// Of which equal.
    pub matched: u64,
    /// Fallbacks.
    pub fallbacks: u64,
    /// The candidate's share of the reviews requests, percent.
    pub candidate_share: Option<f64>,
}

fn ms(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_string(), |v| format!("{v:.0}ms"))
}

/// A step's figures as one line.
pub fn step_line(line: &StepLine<'_>) -> String {
    let rate = if line.seconds > 0.0 {
        line.requests as f64 / line.seconds
    } else {
        0.0
    };
    let shadow = if line.compared > 0 {
        format!(
            "{:.1}% of {}",
            line.matched as f64 * 100.0 / line.compared as f64,
            line.compared
        )
    } else {
        "-".to_string()
    };
    format!(
        "{:<6} {:>5.1}s  {:>6} req {:>5.0} req/s  errors {:<3} p99 monolith {:>5} service {:>5}  shadow match {:<14} to service {:>5}  fallbacks {}",
        line.name,
        line.seconds,
        line.requests,
        rate,
        line.failures,
        ms(line.primary_p99_ms),
        ms(line.candidate_p99_ms),
        shadow,
        line.candidate_share
            .map_or_else(|| "-".to_string(), |s| format!("{s:.0}%")),
        line.fallbacks
    )
}

/// The live part: one updating line per step.
pub struct LiveView {
    bar: Option<ProgressBar>,
    terminal: bool,
    step: (&'static str, u32),
    last_tick: Instant,
    last_total: u64,
    step_started: Instant,
}

impl LiveView {
    /// A spinner on a terminal, plain lines otherwise.
    pub fn new(terminal: bool) -> LiveView {
        LiveView {
            bar: None,
            terminal,
            step: ("", 0),
            last_tick: Instant::now(),
            last_total: 0,
            step_started: Instant::now(),
        }
    }

    /// A step starts.
    pub fn begin(&mut self, name: &'static str, weight: u32) {
        self.step = (name, weight);
        self.step_started = Instant::now();
        self.last_tick = Instant::now();
        let heading = if weight == 0 {
            format!(
                "step {name}: weight 0, every reviews request the monolith serves is mirrored to the service and compared"
            )
        } else {
            format!(
                "step {name}: weight {weight}, the service serves the reviews requests of the users the weight picks (about {weight}%, sticky)"
            )
        };
        if self.terminal {
            say(&heading);
            // On stdout, like the lines around it, so the two never overwrite each other.
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stdout());
            bar.set_style(
                ProgressStyle::with_template("  {spinner} {wide_msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            self.bar = Some(bar);
        } else {
            say(&heading);
        }
        super::flush();
    }

    /// A note in the middle of a step.
    pub fn note(&mut self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(format!("  ! {text}")),
            None => say(&format!("  ! {text}")),
        }
        super::flush();
    }

    /// Refreshes the live figures.
    pub fn tick(
        &mut self,
        stats: &Stats,
        last: &super::Snapshot,
        now: &super::Snapshot,
        start: &super::Snapshot,
    ) {
        let total = stats.total.load(Relaxed);
        let elapsed = self.last_tick.elapsed().as_secs_f64();
        let rate = if elapsed > 0.0 {
            (total - self.last_total.min(total)) as f64 / elapsed
        } else {
            0.0
        };
        self.last_total = total;
        self.last_tick = Instant::now();
        let step = now.since(start);
        let recent = now.since(last);
        let compared: u64 = step.shadow.iter().map(|s| s.compared).sum();
        let matched: u64 = step.shadow.iter().map(|s| s.matched).sum();
        let text = format!(
            "{} {:>4.1}s {:>4.0} req/s  errors {}  p99 monolith {} service {}  shadow {}  to service {}  fallbacks {}",
            self.step.0,
            self.step_started.elapsed().as_secs_f64(),
            rate,
            stats.total_failures.load(Relaxed),
            ms(step.primary_p99_ms),
            ms(step.candidate_p99_ms),
            if compared > 0 {
                format!(
                    "{:.1}% ({matched}/{compared})",
                    matched as f64 * 100.0 / compared as f64
                )
            } else {
                "-".to_string()
            },
            super::summary::share(recent.candidate_requests, recent.primary_requests)
                .map_or_else(|| "-".to_string(), |s| format!("{s:.0}%")),
            step.fallbacks,
        );
        match &self.bar {
            Some(bar) => bar.set_message(text),
            None => say(&format!("  {text}")),
        }
        super::flush();
    }

    /// The step ended: its line replaces the live one.
    pub fn end(&mut self, line: &str) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        say(&format!("  done: {line}"));
        super::flush();
    }

    /// The walk is over.
    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

/// What the closing summary shows.
pub struct FinalView<'a> {
    /// Client requests.
    pub requests: u64,
    /// Failed ones.
    pub failures: u64,
    /// Failed reads.
    pub failed_reads: u64,
    /// Failed writes.
    pub failed_writes: u64,
    /// Fallbacks.
    pub fallbacks: u64,
    /// Bypasses.
    pub bypasses: u64,
    /// Name, line, first failure.
    pub steps: Vec<(&'a str, String, Option<&'a str>)>,
    /// Shadow step: route, match, compared, matched.
    pub shadow_step: Option<Vec<(&'a str, &'a str, u64, u64)>>,
    /// Where the candidate was killed.
    pub killed_at: Option<&'a str>,
    /// Stores compared at the end.
    pub stores_in_step: Option<bool>,
    /// Wall time.
    pub wall_seconds: f64,
    /// The report.
    pub report: &'a str,
}

/// The closing summary.
pub fn final_summary(view: &FinalView<'_>, drained: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\nsummary");
    for (_, line, failure) in &view.steps {
        let _ = writeln!(out, "  {line}");
        if let Some(failure) = failure {
            let _ = writeln!(out, "         first failure: {failure}");
        }
    }
    if let Some(routes) = &view.shadow_step {
        for (route, matches, compared, matched) in routes {
            let rate = if *compared > 0 {
                format!("{:.1}%", *matched as f64 * 100.0 / *compared as f64)
            } else {
                "-".to_string()
            };
            let _ = writeln!(
                out,
                "  shadow step, route {route} ({matches}): {matched} of {compared} mirrored answers equal ({rate})"
            );
        }
    }
    let _ = writeln!(
        out,
        "  client requests: {} ({} failed: {} reads, {} writes); fallbacks to the monolith: {}; bypasses: {}",
        view.requests,
        view.failures,
        view.failed_reads,
        view.failed_writes,
        view.fallbacks,
        view.bypasses
    );
    if let Some(step) = view.killed_at {
        let _ = writeln!(
            out,
            "  the reviews service was killed during step {step}: its reads fell back to the monolith"
        );
    }
    match view.stores_in_step {
        Some(true) => {
            let _ = writeln!(
                out,
                "  stores: the monolith's and the service's reviews are the same rows"
            );
        }
        Some(false) => {
            let _ = writeln!(
                out,
                "  stores: the monolith's and the service's reviews DIFFER"
            );
        }
        None => {}
    }
    if !drained {
        let _ = writeln!(
            out,
            "  proxy: some requests were still running when it stopped"
        );
    }
    let _ = writeln!(out, "  report: {}", view.report);
    let _ = writeln!(
        out,
        "  {} in {:.1}s",
        if view.failures == 0 {
            "no client request failed"
        } else {
            "SOME CLIENT REQUESTS FAILED"
        },
        view.wall_seconds
    );
    out
}

/// One line on stdout. A closed stdout (`strangler demo | head`) must not stop the demo: it
/// goes on, and its exit status still tells whether a request failed.
fn say(text: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}

/// Text on stdout as it is (see [`say`]).
fn say_raw(text: &str) {
    use std::io::Write as _;
    let _ = write!(std::io::stdout().lock(), "{text}");
}
