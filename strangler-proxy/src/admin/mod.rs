//! The admin API, on its own listener (loopback by default):
//!
//! | method and path | what it does |
//! |---|---|
//! | `GET /healthz` | `ok` while the proxy runs (never asks for the token) |
//! | `GET /routes` | routes in match order, weights, counters, upstream health, reloads ([`crate::status::ProxyStatus`]) |
//! | `GET /routes/{name}` | one route ([`crate::status::RouteStatus`]) |
//! | `PUT /routes/{name}` | body `{"weight": N}`: set the candidate's share, answers the route |
//! | `POST /reload` | re-read the config file; 422 with the reasons when it is refused |
//! | `GET /diffs?route=NAME` | the newest shadow differences (all routes without `route`), secrets redacted |
//! | `GET /metrics` | Prometheus text |
//!
//! When an `admin_token` is configured (required off loopback), every endpoint but `/healthz`
//! needs `Authorization: Bearer TOKEN`.

mod client;
mod plan;

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use serde::{Deserialize, Serialize};
use serde_json::json;

pub use client::{AdminClient, AdminError, BlockingAdminClient};
pub use plan::{CutoverPlan, PlanEvent, PlanOutcome, run_plan};

use crate::body::{ClientBody, ProxyBody};
use crate::forward::json_response;
use crate::state::{ReloadError, Shared, WeightError, route_status};

/// Body of `PUT /routes/{name}`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct WeightChange {
    /// The new weight, 0-100.
    pub weight: u32,
}

/// Answer of `POST /reload`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReloadReport {
    /// The table version now in force.
    pub version: u64,
}

const MAX_ADMIN_BODY: usize = 64 * 1024;

pub(crate) async fn handle(
    shared: Arc<Shared>,
    request: Request<ClientBody>,
) -> Result<Response<ProxyBody>, Infallible> {
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    if path == "/healthz" {
        return Ok(text(StatusCode::OK, "text/plain", "ok\n".into()));
    }
    if let Some(token) = &shared.admin_token
        && !authorized(&request, token)
    {
        let mut response = json_response(
            StatusCode::UNAUTHORIZED,
            json!({"error": "unauthorized", "reason": "this admin API needs Authorization: Bearer TOKEN"}),
        );
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return Ok(response);
    }
    let response = match (method, path.as_str()) {
        (Method::GET, "/routes") => ok_json(&shared.status()),
        (Method::GET, "/diffs") => {
            let route = request.uri().query().and_then(|query| {
                query
                    .split('&')
                    .find_map(|pair| pair.strip_prefix("route="))
                    .map(str::to_owned)
            });
            ok_json(&shared.diffs.list(route.as_deref()))
        }
        (Method::GET, "/metrics") => text(
            StatusCode::OK,
            "text/plain; version=0.0.4",
            shared.prometheus(),
        ),
        (Method::POST, "/reload") => match shared.reload("admin") {
            Ok(version) => ok_json(&ReloadReport { version }),
            Err(ReloadError::NoSource) => {
                error(StatusCode::CONFLICT, &ReloadError::NoSource.to_string())
            }
            Err(ReloadError::Refused(refused)) => {
                error(StatusCode::UNPROCESSABLE_ENTITY, &refused.to_string())
            }
        },
        (method, route) if route.starts_with("/routes/") => {
            let name = &route["/routes/".len()..];
            match method {
                Method::GET => route_answer(&shared, name),
                Method::PUT => put_weight(&shared, name, request).await,
                _ => error(StatusCode::METHOD_NOT_ALLOWED, "use GET or PUT"),
            }
        }
        _ => error(StatusCode::NOT_FOUND, "no such admin endpoint"),
    };
    Ok(response)
}

fn authorized(request: &Request<ClientBody>, token: &str) -> bool {
    let Some(value) = request.headers().get(header::AUTHORIZATION) else {
        return false;
    };
    let Some(given) = value.as_bytes().strip_prefix(b"Bearer ") else {
        return false;
    };
    // Compare without an early exit so the time taken does not reveal how much matched.
    let expected = token.as_bytes();
    given.len() == expected.len()
        && given
            .iter()
            .zip(expected)
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

fn route_answer(shared: &Shared, name: &str) -> Response<ProxyBody> {
    let table = shared.table.load_full();
    match table.route_named(name) {
        Some(route) => ok_json(&route_status(route)),
        None => error(StatusCode::NOT_FOUND, &format!("no route named `{name}`")),
    }
}

async fn put_weight(
    shared: &Shared,
    name: &str,
    request: Request<ClientBody>,
) -> Response<ProxyBody> {
    let body: Bytes = match Limited::new(request.into_body(), MAX_ADMIN_BODY)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body too large or unreadable",
            );
        }
    };
    let change: WeightChange = match serde_json::from_slice(&body) {
        Ok(change) => change,
        Err(reason) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("expected a body like {{\"weight\": 25}}: {reason}"),
            );
        }
    };
    match shared.set_weight(name, change.weight) {
        Ok(_) => route_answer(shared, name),
        Err(refused @ WeightError::UnknownRoute(_)) => {
            error(StatusCode::NOT_FOUND, &refused.to_string())
        }
        Err(refused) => error(StatusCode::BAD_REQUEST, &refused.to_string()),
    }
}

fn ok_json<T: Serialize>(value: &T) -> Response<ProxyBody> {
    match serde_json::to_string_pretty(value) {
        Ok(body) => text(StatusCode::OK, "application/json", body),
        Err(reason) => error(StatusCode::INTERNAL_SERVER_ERROR, &reason.to_string()),
    }
}

fn error(status: StatusCode, reason: &str) -> Response<ProxyBody> {
    json_response(
        status,
        json!({"error": status.canonical_reason(), "reason": reason}),
    )
}

fn text(status: StatusCode, content_type: &'static str, body: String) -> Response<ProxyBody> {
    let mut response = Response::new(ProxyBody::local(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
