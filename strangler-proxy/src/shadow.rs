//! Shadow traffic: requests the primary serves on a `shadow` route are also sent to the
//! candidate, off the request path, and the two responses are compared.
//!
//! The client only ever waits for the primary. The mirror runs in its own task with its own
//! timeout; at most [`MAX_IN_FLIGHT`] mirrors run at once and the rest are dropped and counted.
//! A request body is mirrored when it is at most [`SHADOW_BODY_LIMIT`] bytes (it is read before
//! the primary gets it); a larger or unsized one is served normally and its mirror skipped and
//! counted. Every mirrored request carries `x-strangler-shadow: 1`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use bytes::Bytes;
use http::header::HeaderValue;
use http::{HeaderName, Method, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use tokio::sync::{OwnedSemaphorePermit, oneshot};

use crate::body::{LimitedBody, ProxyBody, TeeBody};
use crate::config::ShadowRule;
use crate::diff::{DiffSample, DiffStore, Observed, compare, noise_patterns, redacted_headers};
use crate::forward::forwarding_replacements;
use crate::forward::{Attempt, Decision};
use crate::ids::{now_rfc3339, random_u64};
use crate::message::{RequestHead, RequestId};
use crate::split::Side;
use crate::state::Shared;
use crate::table::RoutingTable;
use crate::upstream::Upstream;

/// Mirrors running at once; more are dropped.
pub const MAX_IN_FLIGHT: usize = 64;
/// Largest request or response body a mirror keeps.
pub const SHADOW_BODY_LIMIT: usize = 256 * 1024;
/// The header that marks mirrored requests.
pub const SHADOW_HEADER: HeaderName = HeaderName::from_static("x-strangler-shadow");

/// Shadow counters of one route.
#[derive(Debug, Default)]
pub struct ShadowMetrics {
    /// Pairs compared.
    pub compared: AtomicU64,
    /// Of which identical (after ignored fields).
    pub matched: AtomicU64,
    /// Mirrors dropped because too many were running.
    pub dropped: AtomicU64,
    /// Mirrors skipped because the request body was too large or of unknown size.
    pub skipped: AtomicU64,
    /// JSON pointer patterns learned as noise by the noise probe.
    noise: std::sync::Mutex<Vec<String>>,
}

/// Noise patterns kept per route.
const MAX_NOISE: usize = 256;

impl ShadowMetrics {
    fn learn_noise(&self, patterns: Vec<String>) {
        let mut noise = self.noise.lock().unwrap_or_else(|e| e.into_inner());
        for pattern in patterns {
            if noise.len() < MAX_NOISE && !noise.contains(&pattern) {
                noise.push(pattern);
            }
        }
    }

    /// The patterns learned so far, sorted.
    pub fn noise(&self) -> Vec<String> {
        let mut noise = self.noise.lock().unwrap_or_else(|e| e.into_inner()).clone();
        noise.sort();
        noise
    }
}

/// Should this request (served by the primary) be mirrored?
pub(crate) fn wanted(rule: &ShadowRule, method: &Method) -> bool {
    let read = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    (read || rule.writes)
        && (rule.sample >= 1.0 || (random_u64() % 10_000) < (rule.sample * 10_000.0) as u64)
}

/// Everything a mirror needs, gathered on the request path.
pub(crate) struct Mirror {
    pub route: String,
    pub request_id: String,
    pub rule: ShadowRule,
    pub primary: Arc<Upstream>,
    pub candidate: Arc<Upstream>,
    pub head: RequestHead,
    pub body: Bytes,
    pub client: SocketAddr,
    pub connect_timeout: Duration,
    pub permit: OwnedSemaphorePermit,
}

/// Sends one copy of the request to one instance of `upstream`, marked as shadow traffic, and
/// keeps its answer (the body only when it is small enough).
async fn observe(
    upstream: &Upstream,
    head: RequestHead,
    body: Bytes,
    client: SocketAddr,
    connect_timeout: Duration,
    timeout: Duration,
) -> Option<Observed> {
    static MARKER: HeaderName = SHADOW_HEADER;
    let lease = upstream.pick();
    let endpoint = lease.endpoint();
    // The same rewriting a forwarded request gets, plus the shadow marker: a replacement, so the
    // client can neither send its own value nor have it dropped by naming it in `Connection`.
    let client_ip = HeaderValue::from_str(&client.ip().to_string()).ok();
    let mut joined = None;
    let mut replacements =
        forwarding_replacements(&head, client_ip.as_ref(), upstream, endpoint, &mut joined);
    replacements[7] = Some((&MARKER, Some(b"1".as_slice())));
    let body = LimitedBody::from_bytes(body);
    let exchange = async {
        let authority = endpoint.address.authority.as_str();
        let response = endpoint
            .pool
            .send(authority, connect_timeout, None, &head, body, &replacements)
            .await
            .ok()?;
        let (answer, body) = response.into_parts();
        let headers = body.received_fields().merged_with(&answer.headers);
        let body = Limited::new(body, SHADOW_BODY_LIMIT)
            .collect()
            .await
            .ok()
            .map(|c| c.to_bytes());
        Some(Observed {
            status: answer.status,
            headers,
            body,
        })
    };
    tokio::time::timeout(timeout, exchange).await.ok().flatten()
}

/// Sends the mirror (and, with `noise_probe`, a second copy to the primary), waits for the
/// primary's body copy, compares, records.
pub(crate) async fn run(
    mirror: Mirror,
    primary_status: StatusCode,
    primary_headers: http::HeaderMap,
    primary_body: oneshot::Receiver<Option<Bytes>>,
    metrics: Arc<ShadowMetrics>,
    store: Arc<DiffStore>,
) {
    let Mirror {
        route,
        request_id,
        rule,
        primary: primary_upstream,
        candidate,
        head,
        body,
        client,
        connect_timeout,
        permit,
    } = mirror;
    let sample_request = format!("{} {}", head.method, head.uri);
    let sample_headers = redacted_headers(&head.to_map());
    let read = matches!(head.method, Method::GET | Method::HEAD);
    let probe = (rule.noise_probe && read).then(|| head.clone());
    let candidate_answer = observe(
        &candidate,
        head,
        body.clone(),
        client,
        connect_timeout,
        rule.timeout,
    )
    .await;
    let primary = Observed {
        status: primary_status,
        headers: primary_headers,
        body: tokio::time::timeout(Duration::from_secs(60), primary_body)
            .await
            .ok()
            .and_then(Result::ok)
            .flatten(),
    };
    if let Some(probe) = probe {
        // What differs between two answers of the primary itself is noise (timestamps, ids).
        let again = observe(
            &primary_upstream,
            probe,
            body,
            client,
            connect_timeout,
            rule.timeout,
        )
        .await;
        if let Some(again) = again {
            let learned = noise_patterns(&compare(&rule.diff, &primary, &again));
            metrics.learn_noise(learned);
        }
    }
    let mut diff_rule = rule.diff.clone();
    diff_rule.ignore.extend(metrics.noise());
    let differences = match &candidate_answer {
        Some(candidate) => compare(&diff_rule, &primary, candidate),
        None => vec![format!("candidate: no answer within {:?}", rule.timeout)],
    };
    metrics.compared.fetch_add(1, Relaxed);
    if differences.is_empty() {
        metrics.matched.fetch_add(1, Relaxed);
    } else {
        store.push(DiffSample {
            time: now_rfc3339(),
            route,
            request_id,
            request: sample_request,
            headers: sample_headers,
            differences,
        });
    }
    drop(permit);
}

/// A copy of the request to mirror, when the route shadows and this request qualifies.
pub(crate) fn shadow_copy(decision: &Decision, head: &RequestHead) -> Option<RequestHead> {
    let rule = decision.route.shadow.as_ref()?;
    if decision.side != Side::Primary || decision.route.candidate.is_none() {
        return None;
    }
    if !wanted(rule, &head.method) {
        return None;
    }
    // The mirror outlives the request: its fields get bytes of their own.
    Some(head.detached())
}

/// Starts the mirror of a request the primary answered: its body is copied as it streams to
/// the client, and the comparison runs in its own task. Never delays the client.
#[allow(clippy::too_many_arguments)]
pub(crate) fn start_mirror(
    shared: &Shared,
    table: &RoutingTable,
    decision: &Decision,
    attempt: Attempt,
    copy: RequestHead,
    body: Bytes,
    client: SocketAddr,
    request_id: &RequestId,
) -> Attempt {
    let (Some(rule), Some(candidate)) = (&decision.route.shadow, &decision.route.candidate) else {
        return attempt;
    };
    if attempt.failure.is_some() {
        return attempt;
    }
    let Ok(permit) = shared.shadow_permits.clone().try_acquire_owned() else {
        decision.route.metrics.shadow.dropped.fetch_add(1, Relaxed);
        return attempt;
    };
    let Attempt {
        response,
        failure,
        endpoint,
        fell_back,
        unsent,
    } = attempt;
    let (head, body_out) = response.into_parts();
    let ProxyBody::Upstream(pooled) = body_out else {
        return Attempt {
            response: Response::from_parts(head, body_out),
            failure,
            endpoint,
            fell_back,
            unsent,
        };
    };
    let primary_headers = pooled.received_fields().merged_with(&head.headers);
    let (done, primary_body) = tokio::sync::oneshot::channel();
    let mirror = Mirror {
        route: decision.route.name.clone(),
        request_id: request_id.as_str().to_owned(),
        rule: rule.clone(),
        primary: decision.route.primary.clone(),
        candidate: candidate.clone(),
        head: copy,
        body,
        client,
        connect_timeout: table.timeouts.connect,
        permit,
    };
    tokio::spawn(run(
        mirror,
        head.status,
        primary_headers,
        primary_body,
        decision.route.metrics.shadow.clone(),
        shared.diffs.clone(),
    ));
    Attempt {
        response: Response::from_parts(
            head,
            ProxyBody::Teed(Box::new(TeeBody::new(pooled, SHADOW_BODY_LIMIT, done))),
        ),
        failure,
        endpoint,
        fell_back,
        unsent,
    }
}
