//! A client of the admin API, for `strangler cutover` / `strangler status`, the demo and tests.

use std::time::Duration;

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::de::DeserializeOwned;

use super::{ReloadReport, WeightChange};
use crate::status::{ProxyStatus, RouteStatus};

/// Why an admin call failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The base URL is not `http://host:port`.
    #[error("admin address `{0}` is not a URL like http://127.0.0.1:9090")]
    BadAddress(String),
    /// No answer (proxy not running, wrong address).
    #[error(
        "cannot reach the admin API at {address} ({reason}); is the proxy running, and is this its \
         `admin` address (--admin or STRANGLER_ADMIN)?"
    )]
    Unreachable {
        /// The admin base URL.
        address: String,
        /// What went wrong.
        reason: String,
    },
    /// The proxy answered with an error.
    #[error("the admin API answered {status}: {message}")]
    Refused {
        /// HTTP status.
        status: StatusCode,
        /// Its explanation.
        message: String,
    },
    /// The answer was not what this client understands.
    #[error("unexpected answer from the admin API: {0}")]
    Decode(String),
    /// The blocking client's runtime could not start.
    #[error("cannot start the client runtime: {0}")]
    Runtime(std::io::Error),
}

/// Talks to one proxy's admin API.
#[derive(Debug, Clone)]
pub struct AdminClient {
    base: String,
    token: Option<String>,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl AdminClient {
    /// `base` is e.g. `http://127.0.0.1:9090` (a bare `host:port` is accepted too).
    pub fn new(base: &str, token: Option<String>) -> Result<Self, AdminError> {
        let base = if base.contains("://") {
            base.trim_end_matches('/').to_owned()
        } else {
            format!("http://{}", base.trim_end_matches('/'))
        };
        let uri: Uri = base
            .parse()
            .map_err(|_| AdminError::BadAddress(base.clone()))?;
        if uri.scheme_str() != Some("http") || uri.authority().is_none() {
            return Err(AdminError::BadAddress(base));
        }
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(Duration::from_secs(3)));
        Ok(AdminClient {
            base,
            token,
            client: Client::builder(TokioExecutor::new()).build(connector),
        })
    }

    /// `GET /routes`.
    pub async fn status(&self) -> Result<ProxyStatus, AdminError> {
        self.call_json(Method::GET, "/routes", None).await
    }

    /// `PUT /routes/{name}`: returns the route as it now is.
    pub async fn set_weight(&self, route: &str, weight: u32) -> Result<RouteStatus, AdminError> {
        let body = serde_json::to_vec(&WeightChange { weight })
            .map_err(|e| AdminError::Decode(e.to_string()))?;
        self.call_json(Method::PUT, &format!("/routes/{route}"), Some(body))
            .await
    }

    /// `POST /reload`: returns the new table version.
    pub async fn reload(&self) -> Result<u64, AdminError> {
        let report: ReloadReport = self.call_json(Method::POST, "/reload", None).await?;
        Ok(report.version)
    }

    /// `GET /metrics`.
    pub async fn metrics(&self) -> Result<String, AdminError> {
        let bytes = self.call(Method::GET, "/metrics", None).await?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    async fn call_json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<T, AdminError> {
        let bytes = self.call(method, path, body).await?;
        serde_json::from_slice(&bytes).map_err(|e| AdminError::Decode(e.to_string()))
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Bytes, AdminError> {
        let uri: Uri = format!("{}{}", self.base, path)
            .parse()
            .map_err(|_| AdminError::BadAddress(self.base.clone()))?;
        let mut builder = Request::builder().method(method).uri(uri);
        if let Some(token) = &self.token
            && let Ok(value) = HeaderValue::from_str(&format!("Bearer {token}"))
        {
            builder = builder.header(header::AUTHORIZATION, value);
        }
        if body.is_some() {
            builder = builder.header(header::CONTENT_TYPE, "application/json");
        }
        let request = builder
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| AdminError::BadAddress(e.to_string()))?;
        let unreachable = |reason: String| AdminError::Unreachable {
            address: self.base.clone(),
            reason,
        };
        let response = tokio::time::timeout(Duration::from_secs(10), self.client.request(request))
            .await
            .map_err(|_| unreachable("no answer within 10s".into()))?
            .map_err(|e| unreachable(error_chain(&e)))?;
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| unreachable(e.to_string()))?
            .to_bytes();
        if !status.is_success() {
            let message = serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| v.get("reason").and_then(|r| r.as_str()).map(str::to_owned))
                .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
            return Err(AdminError::Refused { status, message });
        }
        Ok(bytes)
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// [`AdminClient`] for callers without an async runtime (the CLI).
#[derive(Debug)]
pub struct BlockingAdminClient {
    runtime: tokio::runtime::Runtime,
    client: AdminClient,
}

impl BlockingAdminClient {
    /// See [`AdminClient::new`].
    pub fn new(base: &str, token: Option<String>) -> Result<Self, AdminError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(AdminError::Runtime)?;
        let client = {
            let _guard = runtime.enter();
            AdminClient::new(base, token)?
        };
        Ok(BlockingAdminClient { runtime, client })
    }

    /// See [`AdminClient::status`].
    pub fn status(&self) -> Result<ProxyStatus, AdminError> {
        self.runtime.block_on(self.client.status())
    }

    /// See [`AdminClient::set_weight`].
    pub fn set_weight(&self, route: &str, weight: u32) -> Result<RouteStatus, AdminError> {
        self.runtime.block_on(self.client.set_weight(route, weight))
    }

    /// Runs a progressive cutover plan (see [`super::run_plan`]).
    pub fn run_plan(
        &self,
        plan: &super::CutoverPlan,
        on_event: impl FnMut(&super::PlanEvent),
    ) -> Result<super::PlanOutcome, AdminError> {
        self.runtime
            .block_on(super::run_plan(&self.client, plan, on_event))
    }

    /// See [`AdminClient::reload`].
    pub fn reload(&self) -> Result<u64, AdminError> {
        self.runtime.block_on(self.client.reload())
    }
}
