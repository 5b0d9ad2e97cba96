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
use http::header::{self, HeaderName, HeaderValue};
use http::uri::PathAndQuery;
use http::{Method, Response, StatusCode};
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
use crate::message::{ClientRequest, FieldList, ProxyResponse, RequestHead, RequestId};
use crate::metrics::ProxyFailure;
use crate::pool::{AnswerDeadline, ExchangeError, PoolError, SendFailure};
use crate::shadow::SHADOW_BODY_LIMIT;
use crate::split::Side;
use crate::state::Shared;
use crate::table::{Route, RoutingTable};
use crate::upstream::Upstream;

pub(crate) const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
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
    pub unsent: Option<Box<(RequestHead, LimitedBody)>>,
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

fn declared_length(fields: &FieldList) -> Option<u64> {
    fields
        .get(header::CONTENT_LENGTH.as_str())
        .and_then(|v| std::str::from_utf8(v).ok())
        .and_then(|v| v.parse::<u64>().ok())
}

/// A copy of the request to replay on the primary, when the route allows a fallback for it:
/// candidate side, a method the route calls idempotent, and no body (a body is streamed, not
/// kept, so it cannot be sent twice).
fn fallback_copy(
    decision: &Decision,
    head: &RequestHead,
    body: &ClientBody,
) -> Option<RequestHead> {
    let route = &decision.route;
    if decision.side != Side::Candidate
        || !route.fallback_methods.contains(&head.method)
        || !body.is_end_stream()
    {
        return None;
    }
    Some(head.clone())
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
    request: ClientRequest,
    peer: ClientPeer,
) -> Result<ProxyResponse, Infallible> {
    let started = Instant::now();
    let client = peer.addr;
    let ClientRequest { mut head, body } = request;
    if let Some(reason) = refusal(&head) {
        shared.metrics.global.rejected.fetch_add(1, Relaxed);
        let status = if head.method == Method::CONNECT {
            StatusCode::METHOD_NOT_ALLOWED
        } else {
            StatusCode::BAD_REQUEST
        };
        return Ok(json_response(status, json!({"error": "refused", "reason": reason})).into());
    }
    let table = shared.table.load_full();
    let route = table
        .route_for(&head.method, head.uri.path(), &head.fields)
        .clone();
    let (side, upstream) = route.choose(&head.fields);
    let decision = Decision {
        side,
        upstream: upstream.clone(),
        route,
    };
    let request_id_value = ensure_request_ids(&mut head);
    let request_id = &request_id_value;
    // Only kept when there is an access log to write them to.
    let logged = shared.log.access_enabled().then(|| {
        let path = head.uri.path_and_query().map_or("/", PathAndQuery::as_str);
        (head.method.clone(), path.to_owned())
    });

    let mut decision = decision;
    let throttled = decision
        .route
        .rate_limiter
        .as_ref()
        .and_then(|limiter| limiter.check(&head.fields).err());
    let attempt = if let Some(wait) = throttled {
        let mut attempt = local_failure(&decision, ProxyFailure::Throttled, request_id, None);
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        attempt
            .response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
        attempt
    } else if declared_length(&head.fields) > Some(table.limits.max_body_bytes) {
        local_failure(&decision, ProxyFailure::BodyTooLarge, request_id, None)
    } else {
        let retry = fallback_copy(&decision, &head, &body);
        let limit = table.limits.max_body_bytes;
        let (body, mirror) = match crate::shadow::shadow_copy(&decision, &head) {
            None => (LimitedBody::new(body, limit), None),
            Some(copy) if body.is_end_stream() => {
                (LimitedBody::new(body, limit), Some((copy, Bytes::new())))
            }
            Some(copy)
                if declared_length(&head.fields).is_some_and(|n| n <= SHADOW_BODY_LIMIT as u64) =>
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
                        )
                        .into());
                    }
                }
            }
            Some(_) => {
                decision.route.metrics.shadow.skipped.fetch_add(1, Relaxed);
                (LimitedBody::new(body, limit), None)
            }
        };
        let mut first = forward_to(&table, &decision, head, body, &peer, request_id).await;
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
            Some((head, body)) => {
                watch_candidate(&shared, &decision, true, started.elapsed());
                decision.route.metrics.count_fallback();
                decision = Decision {
                    side: Side::Primary,
                    upstream: decision.route.primary.clone(),
                    route: decision.route.clone(),
                };
                let mut second =
                    Box::pin(forward_to(&table, &decision, head, body, &peer, request_id)).await;
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
            request_id: request_id.as_str(),
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
    Ok(ProxyResponse {
        response: attempt.response,
        request_id: (!upstream_id).then_some(request_id_value),
    })
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
fn refusal(head: &RequestHead) -> Option<&'static str> {
    if head.method == Method::CONNECT {
        return Some("CONNECT is not supported: this is a reverse proxy");
    }
    let uri = &head.uri;
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
    head: RequestHead,
    body: LimitedBody,
    peer: &ClientPeer,
    request_id: &RequestId,
) -> Attempt {
    let lease = decision.upstream.pick();
    let endpoint = lease.endpoint();
    // The codec leaves out hop-by-hop headers and writes these in place of the client's: the
    // client's fields are not edited, and the target goes out in origin form whatever its form
    // here.
    let mut joined_forwarded_for = None;
    let replacements = forwarding_replacements(
        &head,
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
            &head,
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
            attempt.unsent = unsent_body.map(|body| Box::new((head, body)));
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
    request_id: &RequestId,
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
            "request_id": request_id.as_str(),
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

/// Keeps a well-formed `X-Request-Id` and `traceparent`, generates the missing or malformed ones
/// (sent instead of the client's), and returns the request id. A field the client's
/// `Connection` names counts as absent: it is not forwarded.
fn ensure_request_ids(head: &mut RequestHead) -> RequestId {
    let fields = &head.fields;
    let connection_names = crate::h1::lists_other_headers(fields);
    let forwarded = |name: &HeaderName| {
        fields.get(name.as_str()).filter(|_| {
            !connection_names || !crate::h1::named_by_connection(fields, name.as_str().as_bytes())
        })
    };
    let kept = forwarded(&X_REQUEST_ID)
        .filter(|value| is_acceptable_request_id(value))
        .map(|value| fields.shared(value));
    let trace_ok = forwarded(&TRACEPARENT).is_some_and(is_valid_traceparent);
    let request_id = match kept {
        Some(id) => RequestId::Kept(id),
        None => {
            let generated = trace_id_bytes();
            head.generated_request_id = Some(generated);
            RequestId::Generated(generated)
        }
    };
    if !trace_ok {
        // A generated request id doubles as the trace id, so logs and traces join up; so does a
        // kept one that has the shape of a trace id.
        let trace_id = match &request_id {
            RequestId::Generated(generated) => *generated,
            RequestId::Kept(kept) => <[u8; 32]>::try_from(&kept[..])
                .ok()
                .filter(|id| id.iter().all(u8::is_ascii_hexdigit))
                .unwrap_or_else(trace_id_bytes),
        };
        head.generated_traceparent = Some(traceparent_bytes(&trace_id));
    }
    request_id
}

/// The forwarding headers of a request to `endpoint`, as replacements for the codec to write
/// in place of the client's (slot 7 is left for the caller). One pass over the client's fields
/// instead of a look-up per name; `joined` holds an `X-Forwarded-For` extended with the
/// client's address when the request already had one.
pub(crate) fn forwarding_replacements<'a>(
    head: &'a RequestHead,
    client_ip: Option<&'a HeaderValue>,
    upstream: &Upstream,
    endpoint: &'a crate::upstream::EndpointState,
    joined: &'a mut Option<String>,
) -> Replacements<'a> {
    static HOST: HeaderName = header::HOST;
    static REQUEST_ID: HeaderName = X_REQUEST_ID;
    static TRACE: HeaderName = TRACEPARENT;
    static STATE: HeaderName = TRACESTATE;
    let fields = &head.fields;
    let mut original_host = None;
    let (mut has_forwarded_for, mut has_proto, mut has_forwarded_host) = (false, false, false);
    // A header the client's `Connection` names is dropped on the way: it counts as absent, so a
    // client cannot use `Connection` to strip or forge what the proxy sets.
    let connection_names = crate::h1::lists_other_headers(fields);
    for (name, value) in fields.iter() {
        if connection_names && crate::h1::named_by_connection(fields, name) {
            continue;
        }
        let is = |known: &HeaderName| name.eq_ignore_ascii_case(known.as_str().as_bytes());
        if is(&HOST) {
            original_host.get_or_insert(value);
        } else if is(&X_FORWARDED_FOR) {
            has_forwarded_for = true;
        } else if is(&X_FORWARDED_PROTO) {
            has_proto = true;
        } else if is(&X_FORWARDED_HOST) {
            has_forwarded_host = true;
        }
    }
    let mut replacements: Replacements<'a> = [None; 8];
    if let Some(client_ip) = client_ip {
        let forwarded_for = if has_forwarded_for {
            let earlier: Vec<&str> = fields
                .get_all(X_FORWARDED_FOR.as_str())
                .filter_map(visible_text)
                .collect();
            if earlier.is_empty() {
                Some(client_ip.as_bytes())
            } else {
                let mut text = earlier.join(", ");
                text.push_str(", ");
                text.push_str(client_ip.to_str().unwrap_or_default());
                Some(joined.insert(text).as_bytes())
            }
        } else {
            Some(client_ip.as_bytes())
        };
        replacements[0] = forwarded_for.map(|value| (&X_FORWARDED_FOR, Some(value)));
    }
    if !has_proto {
        replacements[1] = Some((&X_FORWARDED_PROTO, Some(b"http".as_slice())));
    }
    if let Some(id) = &head.generated_request_id {
        replacements[4] = Some((&REQUEST_ID, Some(id.as_slice())));
    }
    if let Some(traceparent) = &head.generated_traceparent {
        replacements[5] = Some((&TRACE, Some(traceparent.as_slice())));
        replacements[6] = Some((&STATE, None));
    }
    if upstream.preserve_host && original_host.is_some() {
        return replacements;
    }
    if let Some(original) = original_host
        && !has_forwarded_host
    {
        replacements[2] = Some((&X_FORWARDED_HOST, Some(original)));
    }
    if let Some(host) = &endpoint.host_header {
        replacements[3] = Some((&HOST, Some(host.as_bytes())));
    }
    replacements
}

/// A header value as text when it is visible ASCII (what `HeaderValue::to_str` accepts).
fn visible_text(value: &[u8]) -> Option<&str> {
    value
        .iter()
        .all(|&b| b == b'\t' || (32..127).contains(&b))
        .then(|| std::str::from_utf8(value).ok())
        .flatten()
}
