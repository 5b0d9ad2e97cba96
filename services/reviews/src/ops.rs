//! Operating the service: `/healthz` (the process answers), `/readyz` (its database answers and
//! holds its tables), `/metrics` (Prometheus text), a request log that carries the caller's
//! `x-request-id` and `traceparent`, and the shutdown signal.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

/// The tables this service owns; `/readyz` checks they exist.
pub const OWNED_TABLES: [&str; 1] = ["reviews"];

static REQUESTS_2XX: AtomicU64 = AtomicU64::new(0);
static REQUESTS_3XX: AtomicU64 = AtomicU64::new(0);
static REQUESTS_4XX: AtomicU64 = AtomicU64::new(0);
static REQUESTS_5XX: AtomicU64 = AtomicU64::new(0);
static IN_FLIGHT: AtomicU64 = AtomicU64::new(0);
static DURATION_MICROS: AtomicU64 = AtomicU64::new(0);
static NEXT_REQUEST_ID: AtomicU64 = AtomicU64::new(1);

/// The operational routes, over the database file's path.
pub fn router(db_path: PathBuf) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(db_path)
}

async fn healthz() -> impl IntoResponse {
    axum::Json(json!({"status": "ok", "service": "reviews-service"}))
}

async fn readyz(State(db_path): State<PathBuf>) -> Response {
    let checked = tokio::task::spawn_blocking(move || check_database(&db_path)).await;
    match checked {
        Ok(Ok(())) => axum::Json(json!({"status": "ready"})).into_response(),
        Ok(Err(problem)) => not_ready(problem),
        Err(err) => not_ready(format!("readiness check failed: {err}")),
    }
}

fn not_ready(problem: String) -> Response {
    tracing::warn!(%problem, "not ready");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        axum::Json(json!({"status": "not_ready", "problem": problem})),
    )
        .into_response()
}

/// Opens the database read-only and checks that every owned table is there.
fn check_database(db_path: &std::path::Path) -> Result<(), String> {
    let conn = rusqlite::Connection::open_with_flags(
        db_path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|err| format!("cannot open the database: {err}"))?;
    for table in OWNED_TABLES {
        let present: bool = conn
            .query_row(
                "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
                [table],
                |row| row.get(0),
            )
            .map_err(|err| format!("the database does not answer: {err}"))?;
        if !present {
            return Err(format!("table `{table}` is missing"));
        }
    }
    Ok(())
}

async fn metrics() -> impl IntoResponse {
    let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
    let mut body = String::new();
    body.push_str("# HELP http_requests_total Requests answered, by status class.\n");
    body.push_str("# TYPE http_requests_total counter\n");
    for (class, counter) in [
        ("2xx", &REQUESTS_2XX),
        ("3xx", &REQUESTS_3XX),
        ("4xx", &REQUESTS_4XX),
        ("5xx", &REQUESTS_5XX),
    ] {
        let labels = format!("service=\"reviews-service\",class=\"{class}\"");
        sample(
            &mut body,
            "http_requests_total",
            &labels,
            &load(counter).to_string(),
        );
    }
    body.push_str("# HELP http_requests_in_flight Requests being served.\n");
    body.push_str("# TYPE http_requests_in_flight gauge\n");
    let service = "service=\"reviews-service\"";
    sample(
        &mut body,
        "http_requests_in_flight",
        service,
        &load(&IN_FLIGHT).to_string(),
    );
    body.push_str("# HELP http_request_duration_seconds_sum Time spent serving requests.\n");
    body.push_str("# TYPE http_request_duration_seconds_sum counter\n");
    let seconds = load(&DURATION_MICROS) as f64 / 1e6;
    sample(
        &mut body,
        "http_request_duration_seconds_sum",
        service,
        &format!("{seconds:.6}"),
    );
    ([("content-type", "text/plain; version=0.0.4")], body)
}

/// Appends one Prometheus sample line: `metric{labels} value`.
fn sample(body: &mut String, metric: &str, labels: &str, value: &str) {
    body.push_str(metric);
    body.push('{');
    body.push_str(labels);
    body.push_str("} ");
    body.push_str(value);
    body.push('\n');
}

/// Unknown paths get the monolith's JSON error shape.
pub async fn route_not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({"error": {"code": "route_not_found", "message": "no such route"}})),
    )
        .into_response()
}

/// Logs every request with the caller's request id and trace context, counts it, and hands the
/// request id back (a new one when the caller sent none).
pub async fn observe(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| {
            format!(
                "reviews-service-{}",
                NEXT_REQUEST_ID.fetch_add(1, Ordering::Relaxed)
            )
        });
    let traceparent = request
        .headers()
        .get("traceparent")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_string();
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    IN_FLIGHT.fetch_add(1, Ordering::Relaxed);
    let mut response = next.run(request).await;
    IN_FLIGHT.fetch_sub(1, Ordering::Relaxed);
    let elapsed = started.elapsed();
    let status = response.status();
    let counter = match status.as_u16() {
        200..=299 => &REQUESTS_2XX,
        300..=399 => &REQUESTS_3XX,
        400..=499 => &REQUESTS_4XX,
        _ => &REQUESTS_5XX,
    };
    counter.fetch_add(1, Ordering::Relaxed);
    DURATION_MICROS.fetch_add(
        u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
        Ordering::Relaxed,
    );
    tracing::info!(
        request_id = %request_id,
        traceparent = %traceparent,
        method = %method,
        path = %path,
        status = status.as_u16(),
        elapsed_ms = elapsed.as_secs_f64() * 1000.0,
        "request"
    );
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// Resolves on ctrl-c or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
