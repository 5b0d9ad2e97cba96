//! What a run found: the JSON summary (`--json`) and its parts, built from the clients'
//! counters and the proxy's snapshots; the final checks (both stores, the kept shadow
//! differences); and the lines the view prints from them.

use std::path::Path;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use anyhow::Context as _;
use serde::Serialize;
use strangler_proxy::ProxyStatus;

use super::traffic::HttpClient;
use super::view::{self, Snapshot};
use super::{Step, stats};

/// The machine-readable summary (`--json`).
#[derive(Debug, Serialize)]
pub(super) struct Summary {
    /// Client requests over the whole run.
    pub(super) requests: u64,
    /// Of which failed (5xx, no answer, or an answer the request should not get).
    pub(super) failures: u64,
    /// Failed reads (GET).
    pub(super) failed_reads: u64,
    /// Failed writes.
    pub(super) failed_writes: u64,
    /// Requests the proxy retried on the monolith after the candidate failed them.
    pub(super) fallbacks: u64,
    /// Requests meant for the candidate that the proxy sent to the monolith because no
    /// candidate instance was available.
    pub(super) bypasses: u64,
    /// Steps walked through to their end, by name.
    pub(super) steps_reached: Vec<String>,
    /// Per step.
    pub(super) steps: Vec<StepSummary>,
    /// The step at whose middle the candidate was killed.
    pub(super) candidate_killed_at: Option<String>,
    /// The newest shadow differences the proxy kept (at most 10; all in `diffs.json`).
    pub(super) shadow_differences: Vec<serde_json::Value>,
    /// Whether the monolith's and the service's reviews were the same rows at the end (None
    /// when the service was not running then).
    pub(super) stores_in_step: Option<bool>,
    /// Wall time of the whole run, in seconds.
    pub(super) wall_seconds: f64,
    /// The run's directory (removed at the end unless --keep).
    pub(super) dir: String,
    /// The HTML report of the analysis.
    pub(super) report: String,
}

#[derive(Debug, Serialize)]
pub(super) struct StepSummary {
    pub(super) name: String,
    pub(super) weight: u32,
    pub(super) seconds: f64,
    pub(super) requests: u64,
    pub(super) reads: u64,
    pub(super) failures: u64,
    pub(super) failed_reads: u64,
    pub(super) failed_writes: u64,
    /// Client-side p99 over every request of the step, ms.
    pub(super) client_p99_ms: Option<f64>,
    /// Proxy-side p99 of the reviews routes during the step, per side, ms (histogram bucket
    /// bounds).
    pub(super) primary_p99_ms: Option<f64>,
    pub(super) candidate_p99_ms: Option<f64>,
    /// Requests the reviews routes served during the step, per side.
    pub(super) primary_requests: u64,
    pub(super) candidate_requests: u64,
    pub(super) fallbacks: u64,
    pub(super) bypasses: u64,
    /// Shadow comparisons during the step, per reviews route.
    pub(super) shadow: Vec<RouteShadow>,
    pub(super) first_failure: Option<String>,
}

#[derive(Debug, Serialize)]
pub(super) struct RouteShadow {
    pub(super) route: String,
    /// What the route matches, e.g. `GET,POST pattern /api/movies/{id}/reviews`.
    pub(super) matches: String,
    pub(super) compared: u64,
    pub(super) matched: u64,
    /// `matched / compared` in percent (None when nothing was compared).
    pub(super) match_rate: Option<f64>,
}

pub(super) fn traffic_client() -> HttpClient {
    hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http()
}

/// Whether every movie's reviews read the same straight from the monolith and from the
/// service (not through the proxy).
pub(super) async fn compare_stores(
    client: &HttpClient,
    monolith: &str,
    service: &str,
) -> anyhow::Result<bool> {
    use http_body_util::BodyExt as _;
    let get = |url: String| async move {
        let response = client
            .get(url.parse().context("bad URL")?)
            .await
            .with_context(|| format!("GET {url}"))?;
        let status = response.status().as_u16();
        let body = response.into_body().collect().await?.to_bytes();
        anyhow::Ok((
            status,
            serde_json::from_slice::<serde_json::Value>(&body).ok(),
        ))
    };
    let (_, movies) = get(format!("{monolith}/api/movies?per_page=100")).await?;
    let ids: Vec<i64> = movies
        .as_ref()
        .and_then(|m| m["items"].as_array())
        .into_iter()
        .flatten()
        .filter_map(|m| m["id"].as_i64())
        .collect();
    for id in ids {
        let path = format!("/api/movies/{id}/reviews?per_page=100");
        let a = get(format!("{monolith}{path}")).await?;
        let b = get(format!("{service}{path}")).await?;
        if a != b {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The proxy's kept shadow differences: written to `diffs.json` in the run's directory, the
/// newest ten returned.
pub(super) async fn shadow_differences(
    client: &HttpClient,
    admin: std::net::SocketAddr,
    dir: &Path,
) -> Vec<serde_json::Value> {
    use http_body_util::BodyExt as _;
    let Ok(uri) = format!("http://{admin}/diffs").parse() else {
        return Vec::new();
    };
    let Ok(response) = client.get(uri).await else {
        return Vec::new();
    };
    let Ok(body) = response.into_body().collect().await else {
        return Vec::new();
    };
    let body = body.to_bytes();
    let _ = std::fs::write(dir.join("diffs.json"), &body);
    let list: Vec<serde_json::Value> = serde_json::from_slice(&body).unwrap_or_default();
    list.into_iter().take(10).collect()
}

pub(super) fn route_totals(status: &ProxyStatus, routes: &[String]) -> (u64, u64) {
    status
        .routes
        .iter()
        .filter(|r| routes.contains(&r.name))
        .fold((0, 0), |(f, b), r| (f + r.fallbacks, b + r.bypasses))
}

pub(super) fn step_summary(
    step: &Step,
    elapsed: Duration,
    counters: &stats::StepCounters,
    before: &Snapshot,
    after: &Snapshot,
) -> StepSummary {
    let delta = after.since(before);
    StepSummary {
        name: step.name.to_string(),
        weight: step.weight,
        seconds: elapsed.as_secs_f64(),
        requests: counters.requests.load(Relaxed),
        reads: counters.reads.load(Relaxed),
        failures: counters.failures.load(Relaxed),
        failed_reads: counters.failed_reads.load(Relaxed),
        failed_writes: counters.failed_writes.load(Relaxed),
        client_p99_ms: counters.p99_ms(),
        primary_p99_ms: delta.primary_p99_ms,
        candidate_p99_ms: delta.candidate_p99_ms,
        primary_requests: delta.primary_requests,
        candidate_requests: delta.candidate_requests,
        fallbacks: delta.fallbacks,
        bypasses: delta.bypasses,
        shadow: delta
            .shadow
            .iter()
            .map(|s| RouteShadow {
                route: s.route.clone(),
                matches: s.matches.clone(),
                compared: s.compared,
                matched: s.matched,
                match_rate: (s.compared > 0).then(|| s.matched as f64 * 100.0 / s.compared as f64),
            })
            .collect(),
        first_failure: counters.first_failure(),
    }
}

pub(super) fn summary_line(step: &StepSummary) -> String {
    view::step_line(&view::StepLine {
        name: &step.name,
        seconds: step.seconds,
        requests: step.requests,
        failures: step.failures,
        primary_p99_ms: step.primary_p99_ms,
        candidate_p99_ms: step.candidate_p99_ms,
        compared: step.shadow.iter().map(|s| s.compared).sum(),
        matched: step.shadow.iter().map(|s| s.matched).sum(),
        fallbacks: step.fallbacks,
        candidate_share: share(step.candidate_requests, step.primary_requests),
    })
}

pub(super) fn share(candidate: u64, primary: u64) -> Option<f64> {
    let total = candidate + primary;
    (total > 0).then(|| candidate as f64 * 100.0 / total as f64)
}

pub(super) fn summary_view(summary: &Summary) -> view::FinalView<'_> {
    view::FinalView {
        requests: summary.requests,
        failures: summary.failures,
        failed_reads: summary.failed_reads,
        failed_writes: summary.failed_writes,
        fallbacks: summary.fallbacks,
        bypasses: summary.bypasses,
        steps: summary
            .steps
            .iter()
            .map(|s| (s.name.as_str(), summary_line(s), s.first_failure.as_deref()))
            .collect(),
        shadow_step: summary.steps.first().map(|s| {
            s.shadow
                .iter()
                .map(|r| (r.route.as_str(), r.matches.as_str(), r.compared, r.matched))
                .collect()
        }),
        killed_at: summary.candidate_killed_at.as_deref(),
        stores_in_step: summary.stores_in_step,
        wall_seconds: summary.wall_seconds,
        report: &summary.report,
    }
}
