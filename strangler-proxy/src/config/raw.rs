//! The config file exactly as serde reads it: strings and spans, nothing checked yet.
//!
//! Kept apart from the validated types so that no other module can use a value that has not been
//! through `validate()`. Spans (byte ranges in the file) travel with the values a user is likely to
//! get wrong, so a refusal can name the line.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    pub listen: Spanned<String>,
    pub admin: Option<Spanned<String>>,
    pub admin_token: Option<Spanned<String>>,
    pub watch_config: Option<Spanned<String>>,
    #[serde(default)]
    pub upstreams: BTreeMap<String, Spanned<RawUpstream>>,
    #[serde(default)]
    pub routes: Vec<Spanned<RawRoute>>,
    pub default: Option<Spanned<RawDefault>>,
    #[serde(default)]
    pub limits: RawLimits,
    #[serde(default)]
    pub timeouts: RawTimeouts,
    #[serde(default)]
    pub log: RawLog,
    /// `[analyze]`: the analyzer's knobs and pins (`strangler analyze` reads them), so one
    /// `strangler.toml` can hold both. The proxy takes the table as it is and never reads it.
    #[serde(default, rename = "analyze")]
    pub _analyze: Option<toml::Table>,
}

/// `[upstreams.NAME]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawUpstream {
    pub endpoints: Spanned<Vec<Spanned<String>>>,
    pub health: Option<Spanned<RawHealth>>,
    pub balance: Option<Spanned<String>>,
    #[serde(default)]
    pub preserve_host: bool,
    pub outlier: Option<Spanned<RawOutlier>>,
}

/// `outlier = { failures, ejection, max_ejection }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOutlier {
    pub failures: Option<Spanned<i64>>,
    pub ejection: Option<Spanned<String>>,
    pub max_ejection: Option<Spanned<String>>,
}

/// `health = { path, interval, timeout }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHealth {
    pub path: Spanned<String>,
    pub interval: Option<Spanned<String>>,
    pub timeout: Option<Spanned<String>>,
}

/// One `[[routes]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRoute {
    pub name: Spanned<String>,
    #[serde(rename = "match")]
    pub matcher: Spanned<RawMatch>,
    pub primary: Spanned<String>,
    pub candidate: Option<Spanned<String>>,
    pub weight: Option<Spanned<i64>>,
    pub sticky: Option<Spanned<RawSticky>>,
    pub fallback: Option<Spanned<bool>>,
    pub rate_limit: Option<Spanned<RawRateLimit>>,
    pub rollback: Option<Spanned<RawRollback>>,
    pub shadow: Option<Spanned<RawShadow>>,
    pub idempotent_methods: Option<Spanned<Vec<String>>>,
}

/// `match = { prefix | exact | pattern, methods, headers }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMatch {
    pub prefix: Option<String>,
    pub exact: Option<String>,
    pub pattern: Option<String>,
    #[serde(default)]
    pub methods: Vec<String>,
    #[serde(default)]
    pub headers: Vec<RawHeaderMatch>,
}

/// `{ name = "x-beta", value = "1" }`; no `value` means "present".
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHeaderMatch {
    pub name: String,
    pub value: Option<String>,
}

/// `sticky = { header = "..." }` or `{ cookie = "..." }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSticky {
    pub header: Option<String>,
    pub cookie: Option<String>,
}

/// `[default]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDefault {
    pub primary: Spanned<String>,
}

/// `[limits]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLimits {
    pub max_header_bytes: Option<Spanned<i64>>,
    pub max_body_bytes: Option<Spanned<i64>>,
}

/// `[timeouts]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTimeouts {
    pub connect: Option<Spanned<String>>,
    pub request: Option<Spanned<String>>,
    pub client_header: Option<Spanned<String>>,
    pub drain: Option<Spanned<String>>,
}

/// `[log]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLog {
    pub target: Option<Spanned<String>>,
    pub access: Option<bool>,
}

/// `rate_limit = { rate, per, burst, key = { header | cookie } }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRateLimit {
    pub rate: Spanned<i64>,
    pub per: Option<Spanned<String>>,
    pub burst: Option<Spanned<i64>>,
    pub key: Option<Spanned<RawSticky>>,
}

/// `rollback = { max_error_rate, max_p99_ms, window, min_requests, on_breach }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRollback {
    pub max_error_rate: Option<f64>,
    pub max_p99_ms: Option<i64>,
    pub window: Option<Spanned<String>>,
    pub min_requests: Option<i64>,
    pub on_breach: Option<String>,
}

/// `shadow = { sample, writes, headers, ignore, timeout }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawShadow {
    pub sample: Option<f64>,
    #[serde(default)]
    pub writes: bool,
    #[serde(default)]
    pub headers: Vec<String>,
    #[serde(default)]
    pub ignore: Vec<String>,
    #[serde(default)]
    pub redact: Vec<String>,
    #[serde(default)]
    pub noise_probe: bool,
    pub timeout: Option<Spanned<String>>,
}
