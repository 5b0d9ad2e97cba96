//! The status document of a running proxy: what `GET /routes` serves, what [`crate::AdminClient`]
//! reads back, and its rendering as the table `strangler status` prints.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

/// Everything `GET /routes` reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProxyStatus {
    /// Version of the routing table in force (grows with each change).
    pub version: u64,
    /// The config file the proxy reloads from.
    pub config_file: Option<String>,
    /// Routes in the order they are tried (most specific first), then `default`.
    pub routes: Vec<RouteStatus>,
    /// Upstreams by name.
    pub upstreams: Vec<UpstreamStatus>,
    /// Reload counters.
    pub reloads: ReloadStatus,
    /// Requests refused before routing.
    pub rejected_requests: u64,
}

/// One route.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteStatus {
    /// Route name.
    pub name: String,
    /// What it matches, in words (`*` for the default route).
    #[serde(rename = "match")]
    pub matcher: String,
    /// Primary upstream.
    pub primary: String,
    /// Candidate upstream.
    pub candidate: Option<String>,
    /// Percent sent to the candidate.
    pub weight: u8,
    /// `header NAME` or `cookie NAME`.
    pub sticky: Option<String>,
    /// Counters of the primary side.
    pub primary_side: SideStatus,
    /// Counters of the candidate side.
    pub candidate_side: SideStatus,
    /// Whether failed idempotent requests to the candidate are retried on the primary.
    #[serde(default)]
    pub fallback: bool,
    /// Requests the candidate failed and the primary answered.
    #[serde(default)]
    pub fallbacks: u64,
    /// Requests meant for the candidate that the primary served because no candidate
    /// instance was available.
    #[serde(default)]
    pub bypasses: u64,
    /// The route's rate limit, in words.
    #[serde(default)]
    pub rate_limit: Option<String>,
    /// Set when the rollback rule fired (`rollback at weight 25: error rate ...`), until an
    /// operator sets the weight again.
    #[serde(default)]
    pub breach: Option<String>,
    /// Times the rollback rule fired.
    #[serde(default)]
    pub breaches: u64,
    /// Shadow comparison counters, when the route shadows.
    #[serde(default)]
    pub shadow: Option<ShadowStatus>,
}

/// Shadow counters of a route.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShadowStatus {
    /// Pairs compared.
    pub compared: u64,
    /// Of which identical.
    pub matched: u64,
    /// Mirrors dropped under pressure.
    pub dropped: u64,
    /// Mirrors skipped (request body too large or unsized).
    pub skipped: u64,
    /// JSON pointer patterns the noise probe learned to ignore.
    #[serde(default)]
    pub noise: Vec<String>,
}

impl ShadowStatus {
    /// Share of compared pairs that matched, in percent.
    pub fn match_rate(&self) -> Option<f64> {
        (self.compared > 0).then(|| self.matched as f64 * 100.0 / self.compared as f64)
    }
}

/// Counters of one side of a route.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SideStatus {
    /// Requests answered.
    pub requests: u64,
    /// Of which 5xx.
    pub server_errors: u64,
    /// Of which the proxy answered itself (upstream down or slow, body too large).
    pub proxy_failures: u64,
    /// Median latency (bucket upper bound), ms.
    pub p50_ms: Option<f64>,
    /// 99th percentile latency (bucket upper bound), ms.
    pub p99_ms: Option<f64>,
}

/// One upstream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpstreamStatus {
    /// Name.
    pub name: String,
    /// Its instances.
    pub endpoints: Vec<EndpointStatus>,
}

/// One instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointStatus {
    /// `http://host:port`.
    pub address: String,
    /// Passing its health check.
    pub healthy: bool,
    /// Out of rotation after consecutive failures (outlier detection).
    #[serde(default)]
    pub ejected: bool,
    /// Requests in flight.
    pub outstanding: u64,
}

/// Reload counters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReloadStatus {
    /// Reloads applied.
    pub ok: u64,
    /// Reloads refused.
    pub refused: u64,
    /// Why the last reload was refused, until one succeeds.
    pub last_error: Option<String>,
}

impl ProxyStatus {
    /// The table `strangler status` prints.
    pub fn render_table(&self) -> String {
        let mut rows = vec![
            [
                "ROUTE",
                "MATCH",
                "PRIMARY",
                "CANDIDATE",
                "WEIGHT",
                "STICKY",
                "REQ P/C",
                "5XX P/C",
                "P99 MS P/C",
                "FALLBACKS",
                "BYPASSES",
                "SHADOW MATCH",
            ]
            .map(String::from),
        ];
        for route in &self.routes {
            let ms = |value: Option<f64>| value.map_or_else(|| "-".to_owned(), |v| format!("{v}"));
            rows.push([
                route.name.clone(),
                route.matcher.clone(),
                route.primary.clone(),
                route.candidate.clone().unwrap_or_else(|| "-".into()),
                format!("{}%", route.weight),
                route.sticky.clone().unwrap_or_else(|| "-".into()),
                format!(
                    "{}/{}",
                    route.primary_side.requests, route.candidate_side.requests
                ),
                format!(
                    "{}/{}",
                    route.primary_side.server_errors, route.candidate_side.server_errors
                ),
                format!(
                    "{}/{}",
                    ms(route.primary_side.p99_ms),
                    ms(route.candidate_side.p99_ms)
                ),
                if route.fallback {
                    route.fallbacks.to_string()
                } else {
                    "-".to_owned()
                },
                if route.candidate.is_some() {
                    route.bypasses.to_string()
                } else {
                    "-".to_owned()
                },
                match &route.shadow {
                    None => "-".to_owned(),
                    Some(shadow) => match shadow.match_rate() {
                        Some(rate) => format!("{rate:.1}% of {}", shadow.compared),
                        None => "0 compared".to_owned(),
                    },
                },
            ]);
        }
        let mut widths = vec![0usize; rows[0].len()];
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        for row in &rows {
            let mut line = String::new();
            for (index, cell) in row.iter().enumerate() {
                if index > 0 {
                    line.push_str("  ");
                }
                let _ = write!(line, "{cell:<width$}", width = widths[index]);
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out.push('\n');
        for upstream in &self.upstreams {
            let endpoints: Vec<String> = upstream
                .endpoints
                .iter()
                .map(|e| {
                    format!(
                        "{} {} ({} in flight)",
                        e.address,
                        match (e.healthy, e.ejected) {
                            (false, _) => "DOWN",
                            (true, true) => "EJECTED",
                            (true, false) => "up",
                        },
                        e.outstanding
                    )
                })
                .collect();
            let _ = writeln!(out, "upstream {}: {}", upstream.name, endpoints.join(", "));
        }
        for route in &self.routes {
            if let Some(breach) = &route.breach {
                let _ = writeln!(out, "route {}: {breach}", route.name);
            }
        }
        let _ = writeln!(
            out,
            "table version {}, reloads {} ok / {} refused, {} requests rejected before routing",
            self.version, self.reloads.ok, self.reloads.refused, self.rejected_requests
        );
        if let Some(error) = &self.reloads.last_error {
            let _ = writeln!(out, "last reload refused: {error}");
        }
        out
    }
}

/// The status as indented JSON (what `strangler status --json` prints).
pub fn to_json_pretty(status: &ProxyStatus) -> Result<String, serde_json::Error> {
    serde_json::to_string_pretty(status)
}
