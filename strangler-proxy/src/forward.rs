//! The request path: refuse what a reverse proxy must not follow, pick the route and side on one
//! table snapshot, rewrite headers, stream the request to one instance of the chosen upstream and
//! its answer back, and count and log the outcome.
//!
//! The steps are separate functions so the cutover safety features (shadow, fallback, breaker)
//! can wrap [`forward_to`] without touching routing or accounting: a [`Decision`] says where a
//! request goes, `forward_to` takes it there once, and `handle` records what happened.
//!
//! Headers: hop-by-hop headers (and any named in `Connection`) are removed both ways;
//! `X-Forwarded-For` gets the client address appended; `X-Forwarded-Proto` is set to `http` when
//! absent; `X-Request-Id` and `traceparent` are kept when well-formed, generated otherwise, and the
//! request id is echoed in the response. `Host` is replaced by the instance's `host:port` (the
//! original goes to `X-Forwarded-Host`) unless the upstream says `preserve_host = true`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::uri::PathAndQuery;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Body as _;
use serde_json::json;

use crate::body::{ClientBody, LimitedBody, ProxyBody, RequestBodyError};
use crate::deadline::Deadlines;
use crate::h1::Replacements;
use crate::ids::{
    is_acceptable_request_id, is_valid_traceparent, trace_id_bytes, traceparent_bytes,
};
use crate::log::AccessRecord;
use crate::metrics::ProxyFailure;
use crate::pool::{AnswerDeadline, ExchangeError, PoolError, SendFailure};
use crate::shadow::SHADOW_BODY_LIMIT;
use crate::split::Side;
use crate::state::Shared;
use crate::table::{Route, RoutingTable};
use crate::upstream::Upstream;

const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
static X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
static X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
const TRACESTATE: HeaderName = HeaderName::from_static("tracestate");

/// Where one request goes: the route it matched, the side chosen, and that side's upstream.
#[derive(Debug, Clone)]
pub struct Decision {
    /// The matched route (its counters, weight and upstreams).
    pub route: Arc<Route>,
    /// Primary or candidate.
    pub side: Side,
    /// The upstream of that side.
    pub upstream: Arc<Upstream>,
}

/// The result of one attempt on one upstream.
pub(crate) struct Attempt {
    pub response: Response<ProxyBody>,
    pub failure: Option<ProxyFailure>,
    pub endpoint: Option<Arc<str>>,
    /// This answer came from the primary after the candidate failed.
    pub fell_back: bool,
    /// The request itself, when it never left the proxy (no connection could be made): it may
    /// still be sent to another upstream, whatever its method and body.
    /// (Boxed: rare, and the attempt is moved several times per request.)
    pub unsent: Option<Box<(http::request::Parts, LimitedBody)>>,
}

impl Attempt {
    /// Failed in a way a fallback may repair: no answer, or a 5xx.
    fn failed(&self) -> bool {
        matches!(
            self.failure,
            Some(ProxyFailure::Connect | ProxyFailure::Upstream | ProxyFailure::Timeout)
        ) || self.response.status().is_server_error()
    }
}

fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
}

/// A copy of the request to replay on the primary, when the route allows a fallback for it:
/// candidate side, a method the route calls idempotent, and no body (a body is streamed, not
/// kept, so it cannot be sent twice).
fn fallback_copy(
    decision: &Decision,
    parts: &http::request::Parts,
    body: &ClientBody,
) -> Option<http::request::Parts> {
    use hyper::body::Body as _;
    let route = &decision.route;
    if decision.side != Side::Candidate
        || !route.fallback_methods.contains(&parts.method)
        || !body.is_end_stream()
    {
        return None;
    }
    let (mut copy, ()) = Request::builder()
        .method(parts.method.clone())
        .uri(parts.uri.clone())
        .version(parts.version)
        .body(())
        .ok()?
        .into_parts();
    copy.headers = parts.headers.clone();
    Some(copy)
}

/// The client end of one connection, with what every request on it needs worked out once per
/// connection rather than once per request.
#[derive(Debug, Clone)]
pub(crate) struct ClientPeer {
    /// The client's address.
    pub addr: SocketAddr,
    /// Its IP as a header value, for `X-Forwarded-For`.
    forwarded_for: Option<HeaderValue>,
    /// The listener's clock for per-request timeouts.
    deadlines: Arc<Deadlines>,
}

impl ClientPeer {
    pub(crate) fn new(addr: SocketAddr, deadlines: Arc<Deadlines>) -> Self {
        ClientPeer {
            addr,
            forwarded_for: HeaderValue::from_str(&addr.ip().to_string()).ok(),
            deadlines,
        }
    }
}

/// Serves one client request.
pub(crate) async fn handle(
    shared: Arc<Shared>,
    mut request: Request<ClientBody>,
    peer: ClientPeer,
) -> Result<Response<ProxyBody>, Infallible> {
    let started = Instant::now();
    let client = peer.addr;
    if let Some(reason) = refusal(&request) {
        shared.metrics.global.rejected.fetch_add(1, Relaxed);
        let status = if request.method() == Method::CONNECT {
            StatusCode::METHOD_NOT_ALLOWED
        } else {
            StatusCode::BAD_REQUEST
        };
        return Ok(json_response(
            status,
            json!({"error": "refused", "reason": reason}),
        ));
    }
    let table = shared.table.load_full();
    let route = table
        .route_for(request.method(), request.uri().path(), request.headers())
        .clone();
    let (side, upstream) = route.choose(request.headers());
    let decision = Decision {
        side,
        upstream: upstream.clone(),
        route,
    };
    let request_id_value = ensure_request_ids(request.headers_mut());
    // Visible ASCII either way: a kept id passed `is_acceptable_request_id`, a new one is hex.
    let request_id = request_id_value.to_str().unwrap_or_default();
    // Only kept when there is an access log to write them to.
    let logged = shared.log.access_enabled().then(|| {
        let path = request
            .uri()
            .path_and_query()
            .map_or("/", PathAndQuery::as_str);
        (request.method().clone(), path.to_owned())
    });

    let (parts, body) = request.into_parts();
    let mut decision = decision;
    let throttled = decision
        .route
        .rate_limiter
        .as_ref()
        .and_then(|limiter| limiter.check(&parts.headers).err());
    let mut attempt = if let Some(wait) = throttled {
        let mut attempt = local_failure(&decision, ProxyFailure::Throttled, request_id, None);
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        attempt
            .response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
        attempt
    } else if declared_length(&parts.headers) > Some(table.limits.max_body_bytes) {
        local_failure(&decision, ProxyFailure::BodyTooLarge, request_id, None)
    } else {
        let retry = fallback_copy(&decision, &parts, &body);
        let limit = table.limits.max_body_bytes;
        let (body, mirror) = match crate::shadow::shadow_copy(&decision, &parts) {
            None => (LimitedBody::new(body, limit), None),
            Some(copy) if body.is_end_stream() => {
                (LimitedBody::new(body, limit), Some((copy, Bytes::new())))
            }
            Some(copy)
                if declared_length(&parts.headers)
                    .is_some_and(|n| n <= SHADOW_BODY_LIMIT as u64) =>
            {
                // Small enough to mirror: read it first, then send the same bytes to both.
                // (Boxed, like the fallback below: rare paths kept out of the request future,
                // which is moved into place once per request.)
                match Box::pin(Limited::new(body, SHADOW_BODY_LIMIT).collect()).await {
                    Ok(collected) => {
                        let bytes = collected.to_bytes();
                        (LimitedBody::from_bytes(bytes.clone()), Some((copy, bytes)))
                    }
                    Err(_) => {
                        return Ok(json_response(
                            StatusCode::BAD_REQUEST,
                            json!({"error": "bad_request", "reason": "the request body could not be read"}),
                        ));
                    }
                }
            }
            Some(_) => {
                decision.route.metrics.shadow.skipped.fetch_add(1, Relaxed);
                (LimitedBody::new(body, limit), None)
            }
        };
        let mut first = forward_to(&table, &decision, parts, body, &peer, request_id).await;
        if let Some((copy, bytes)) = mirror {
            first = crate::shadow::start_mirror(
                &shared, &table, &decision, first, copy, bytes, client, request_id,
            );
        }
        // With fallback on, the primary answers what the candidate failed: any request that
        // never reached the candidate (no connection: nothing was sent), and an idempotent,
        // bodiless one that did. The failure still counts against the candidate's rule.
        let falls_back =
            decision.side == Side::Candidate && !decision.route.fallback_methods.is_empty();
        let again = match (first.unsent.take(), retry) {
            (Some(unsent), _) if falls_back => Some(*unsent),
            (_, Some(copy)) if first.failed() => Some((copy, LimitedBody::empty())),
            _ => None,
        };
        match again {
            Some((parts, body)) => {
                watch_candidate(&shared, &decision, true, started.elapsed());
                decision.route.metrics.count_fallback();
                decision = Decision {
                    side: Side::Primary,
                    upstream: decision.route.primary.clone(),
                    route: decision.route.clone(),
                };
                let mut second = Box::pin(forward_to(
                    &table, &decision, parts, body, &peer, request_id,
                ))
                .await;
                second.fell_back = true;
                second
            }
            None => first,
        }
    };
    let status = attempt.response.status();
    // The upstream's own id for the answer is kept; otherwise the request's is added.
    let upstream_id = attempt
        .response
        .body()
        .received_fields()
        .is_some_and(|fields| fields.contains(&X_REQUEST_ID));
    if !upstream_id {
        attempt
            .response
            .headers_mut()
            .entry(X_REQUEST_ID)
            .or_insert_with(|| request_id_value.clone());
    }
    let latency = started.elapsed();
    decision
        .route
        .metrics
        .side(decision.side)
        .record(status.as_u16(), latency, attempt.failure);
    if decision.side == Side::Candidate && attempt.failure != Some(ProxyFailure::Throttled) {
        let failed = status.is_server_error()
            || matches!(
                attempt.failure,
                Some(ProxyFailure::Connect | ProxyFailure::Upstream | ProxyFailure::Timeout)
            );
        watch_candidate(&shared, &decision, failed, latency);
    }
    if let Some((method, path)) = logged {
        shared.log.access(&AccessRecord {
            time: crate::ids::now_rfc3339(),
            request_id,
            client: client.ip().to_string(),
            method: method.as_str(),
            path: &path,
            route: &decision.route.name,
            side: decision.side.as_str(),
            upstream: &decision.upstream.name,
            endpoint: attempt.endpoint.as_deref(),
            status: status.as_u16(),
            // Whole microseconds, so the log reads 3.801 rather than 3.8012889999999997.
            latency_ms: latency.as_micros() as f64 / 1000.0,
            failure: attempt.failure.map(ProxyFailure::as_str),
            fallback: attempt.fell_back,
        });
    }
    Ok(attempt.response)
}

/// Feeds one candidate outcome to the route's rollback rule and acts on a breach.
fn watch_candidate(
    shared: &Shared,
    decision: &Decision,
    failed: bool,
    latency: std::time::Duration,
) {
    if let Some(watch) = &decision.route.rollback
        && let Some(breach) = watch.record(failed, latency)
    {
        shared.breach(&decision.route.name, breach);
    }
}

/// Why a request must not be forwarded at all, if it must not: this is a reverse proxy, so it
/// never follows an absolute-form target (`GET http://elsewhere/`) or tunnels (`CONNECT`).
fn refusal(request: &Request<ClientBody>) -> Option<&'static str> {
    if request.method() == Method::CONNECT {
        return Some("CONNECT is not supported: this is a reverse proxy");
    }
    let uri = request.uri();
    if uri.scheme().is_some() || uri.authority().is_some() {
        return Some("absolute-form request targets are not followed: this is not an open proxy");
    }
    if !uri.path().starts_with('/') {
        return Some("the request target must be a path starting with /");
    }
    None
}

/// Sends the request to one instance of the decided upstream and returns its answer, or the
/// proxy's own error answer; never retries (a retry policy is a wrapper's decision).
pub(crate) async fn forward_to(
    table: &RoutingTable,
    decision: &Decision,
    parts: http::request::Parts,
    body: LimitedBody,
    peer: &ClientPeer,
    request_id: &str,
) -> Attempt {
    let lease = decision.upstream.pick();
    let endpoint = lease.endpoint();
    // The codec leaves out hop-by-hop headers and writes these in place of the client's: the
    // client's map is not edited, and the target goes out in origin form whatever its form here.
    let mut joined_forwarded_for = None;
    let replacements = forwarding_replacements(
        &parts.headers,
        peer.forwarded_for.as_ref(),
        &decision.upstream,
        endpoint,
        &mut joined_forwarded_for,
    );
    let answer = AnswerDeadline {
        deadlines: &peer.deadlines,
        within: table.timeouts.request,
    };
    let outcome = endpoint
        .pool
        .send(
            endpoint.address.authority.as_str(),
            table.timeouts.connect,
            Some(answer),
            &parts,
            body,
            &replacements,
        )
        .await;
    let label = Some(endpoint.shared_label.clone());
    if let Some(outlier) = &decision.upstream.outlier {
        let succeeded = match &outcome {
            Ok(response) => !response.status().is_server_error(),
            // The client's oversized body says nothing about the upstream.
            Err(failure) => body_was_too_large(&failure.error),
        };
        endpoint.record_outcome(succeeded, outlier, &decision.upstream.name);
    }
    match outcome {
        Ok(response) => {
            // The pool's codec has left out the hop-by-hop headers already.
            let (parts, body) = response.into_parts();
            Attempt {
                response: Response::from_parts(parts, ProxyBody::Upstream(body)),
                failure: None,
                endpoint: label,
                fell_back: false,
                unsent: None,
            }
        }
        Err(SendFailure { error, unsent_body }) => {
            let failure = if body_was_too_large(&error) {
                ProxyFailure::BodyTooLarge
            } else {
                match error {
                    PoolError::Connect { .. } => ProxyFailure::Connect,
                    PoolError::Timeout(_) => ProxyFailure::Timeout,
                    PoolError::Exchange(_) => ProxyFailure::Upstream,
                }
            };
            tracing::debug!(%error, upstream = %decision.upstream.name, "upstream request failed");
            let mut attempt = local_failure(decision, failure, request_id, label);
            attempt.unsent = unsent_body.map(|body| Box::new((parts, body)));
            attempt
        }
    }
}

/// Did the exchange fail because the client's body passed the limit?
fn body_was_too_large(error: &PoolError) -> bool {
    matches!(
        error,
        PoolError::Exchange(ExchangeError::RequestBody(RequestBodyError::TooLarge(_)))
    )
}

fn local_failure(
    decision: &Decision,
    failure: ProxyFailure,
    request_id: &str,
    endpoint: Option<Arc<str>>,
) -> Attempt {
    let (status, error) = match failure {
        ProxyFailure::Connect | ProxyFailure::Upstream => (StatusCode::BAD_GATEWAY, "bad_gateway"),
        ProxyFailure::Timeout => (StatusCode::GATEWAY_TIMEOUT, "gateway_timeout"),
        ProxyFailure::BodyTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
        ProxyFailure::Throttled => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests"),
    };
    let mut response = json_response(
        status,
        json!({
            "error": error,
            "reason": failure.as_str(),
            "route": decision.route.name,
            "side": decision.side.as_str(),
            "upstream": decision.upstream.name,
            "request_id": request_id,
        }),
    );
    if failure == ProxyFailure::BodyTooLarge {
        // The rest of the body was not read; the connection cannot be reused.
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    Attempt {
        response,
        failure: Some(failure),
        endpoint,
        fell_back: false,
        unsent: None,
    }
}

/// A JSON answer made by the proxy.
pub(crate) fn json_response(status: StatusCode, body: serde_json::Value) -> Response<ProxyBody> {
    let mut response = Response::new(ProxyBody::local(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Keeps a well-formed `X-Request-Id` and `traceparent`, generates the missing or malformed ones,
/// and returns the request id (as the header value, so echoing it costs no copy).
fn ensure_request_ids(headers: &mut HeaderMap) -> HeaderValue {
    let kept = headers
        .get(X_REQUEST_ID)
        .filter(|value| is_acceptable_request_id(value.as_bytes()))
        .cloned();
    let (request_id, generated) = match kept {
        Some(id) => (id, None),
        None => {
            let generated = trace_id_bytes();
            let value =
                HeaderValue::from_bytes(&generated).expect("hex digits are a valid header value");
            headers.insert(X_REQUEST_ID, value.clone());
            (value, Some(generated))
        }
    };
    let trace_ok = headers
        .get(TRACEPARENT)
        .is_some_and(|value| is_valid_traceparent(value.as_bytes()));
    if !trace_ok {
        // A generated request id doubles as the trace id, so logs and traces join up; so does a
        // kept one that has the shape of a trace id.
        let trace_id = generated
            .or_else(|| {
                let kept = request_id.as_bytes();
                (kept.len() == 32 && kept.iter().all(u8::is_ascii_hexdigit))
                    .then(|| kept.try_into().ok())
                    .flatten()
            })
            .unwrap_or_else(trace_id_bytes);
        let value = HeaderValue::from_bytes(&traceparent_bytes(&trace_id))
            .expect("a traceparent is a valid header value");
        headers.insert(TRACEPARENT, value);
        headers.remove(TRACESTATE);
    }
    request_id
}

/// The forwarding headers of a request to `endpoint`, as replacements for the codec to write
/// in place of the client's. One pass over the client's headers instead of a look-up per name;
/// `joined` holds an `X-Forwarded-For` extended with the client's address when the request
/// already had one.
pub(crate) fn forwarding_replacements<'a>(
    headers: &'a HeaderMap,
    client_ip: Option<&'a HeaderValue>,
    upstream: &Upstream,
    endpoint: &'a crate::upstream::EndpointState,
    joined: &'a mut Option<HeaderValue>,
) -> Replacements<'a> {
    static HOST: HeaderName = header::HOST;
    static HTTP: HeaderValue = HeaderValue::from_static("http");
    let mut original_host = None;
    let (mut has_forwarded_for, mut has_proto, mut has_forwarded_host) = (false, false, false);
    // A header the client's `Connection` names is dropped on the way: it counts as absent, so a
    // client cannot use `Connection` to strip or forge what the proxy sets.
    let connection_names = crate::h1::lists_other_headers(headers);
    for (name, value) in headers {
        if connection_names && crate::h1::named_by_connection(headers, name) {
            continue;
        }
        if name == header::HOST {
            original_host.get_or_insert(value);
        } else if name == X_FORWARDED_FOR {
            has_forwarded_for = true;
        } else if name == X_FORWARDED_PROTO {
            has_proto = true;
        } else if name == X_FORWARDED_HOST {
            has_forwarded_host = true;
        }
    }
    let mut replacements: Replacements<'a> = [None; 5];
    if let Some(client_ip) = client_ip {
        let forwarded_for = if has_forwarded_for {
            let earlier: Vec<&str> = headers
                .get_all(&X_FORWARDED_FOR)
                .iter()
                .filter_map(|value| value.to_str().ok())
                .collect();
            if earlier.is_empty() {
                Some(client_ip)
            } else {
                let mut text = earlier.join(", ");
                text.push_str(", ");
                text.push_str(client_ip.to_str().unwrap_or_default());
                HeaderValue::from_str(&text)
                    .ok()
                    .map(|value| &*joined.insert(value))
            }
        } else {
            Some(client_ip)
        };
        replacements[0] = forwarded_for.map(|value| (&X_FORWARDED_FOR, value));
    }
    if !has_proto {
        replacements[1] = Some((&X_FORWARDED_PROTO, &HTTP));
    }
    if upstream.preserve_host && original_host.is_some() {
        return replacements;
    }
    if let Some(original) = original_host
        && !has_forwarded_host
    {
        replacements[2] = Some((&X_FORWARDED_HOST, original));
    }
    if let Some(host) = &endpoint.host_header {
        replacements[3] = Some((&HOST, host));
    }
    replacements
}
