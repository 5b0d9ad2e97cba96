//! The proxy's configuration: a TOML file read in two steps, serde into raw structs, then
//! `validate()` into a [`ValidConfig`] that the rest of the crate trusts without re-checking.
//!
//! A refused file yields a [`ConfigError`] listing every problem with its file, line and reason.
//! The format is documented for users in `docs/proxy.md`.

mod policies;
mod raw;
mod read;
mod validate;

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use http::uri::{Authority, Scheme};

use crate::route_match::RouteMatch;

pub use validate::parse_duration;

/// A configuration that passed validation: every name it mentions exists, every address parses,
/// every number is in range.
#[derive(Debug, Clone)]
pub struct ValidConfig {
    pub(crate) source: Option<PathBuf>,
    /// Stable hash of the file's bytes as loaded, so a watcher knows what "changed" means.
    pub(crate) source_hash: Option<u64>,
    pub(crate) listen: SocketAddr,
    pub(crate) admin: SocketAddr,
    pub(crate) admin_token: Option<String>,
    pub(crate) watch_interval: Option<Duration>,
    pub(crate) upstreams: BTreeMap<String, UpstreamConfig>,
    pub(crate) routes: Vec<RouteConfig>,
    pub(crate) default_primary: String,
    pub(crate) limits: Limits,
    pub(crate) timeouts: Timeouts,
    pub(crate) log: LogConfig,
}

/// One named upstream: a service with one or more instances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamConfig {
    pub(crate) name: String,
    pub(crate) endpoints: Vec<EndpointAddress>,
    pub(crate) health: Option<HealthCheck>,
    pub(crate) balance: Balance,
    pub(crate) preserve_host: bool,
    pub(crate) outlier: Option<OutlierDetection>,
}

/// Passive outlier detection: `failures` failed requests in a row eject an instance for
/// `ejection`, doubling on each repeat up to `max_ejection`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutlierDetection {
    pub(crate) failures: u32,
    pub(crate) ejection: Duration,
    pub(crate) max_ejection: Duration,
}

/// Where one instance listens: `http://host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointAddress {
    pub(crate) scheme: Scheme,
    pub(crate) authority: Authority,
}

impl fmt::Display for EndpointAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme, self.authority)
    }
}

/// Active health check of every instance of an upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthCheck {
    pub(crate) path: String,
    pub(crate) interval: Duration,
    pub(crate) timeout: Duration,
}

/// How a request picks one instance of an upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Balance {
    /// The instance with the fewest requests in flight (ties go round robin).
    LeastOutstanding,
    /// Each instance in turn.
    RoundRobin,
}

/// One `[[routes]]` entry, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteConfig {
    pub(crate) name: String,
    pub(crate) matcher: RouteMatch,
    pub(crate) primary: String,
    pub(crate) candidate: Option<String>,
    pub(crate) weight: u8,
    pub(crate) sticky: Option<StickyKey>,
    /// Methods retried on the primary when the candidate fails (empty: no fallback).
    pub(crate) fallback_methods: Vec<http::Method>,
    /// Token bucket in front of the route.
    pub(crate) rate_limit: Option<RateLimit>,
    /// When to take traffic away from a misbehaving candidate.
    pub(crate) rollback: Option<RollbackRule>,
    /// Mirror primary-served requests to the candidate and compare.
    pub(crate) shadow: Option<ShadowRule>,
}

/// A route's shadow settings.
#[derive(Debug, Clone, PartialEq)]
pub struct ShadowRule {
    /// Share of eligible requests mirrored, 0-1.
    pub(crate) sample: f64,
    /// Mirror writes too (the candidate must have its own store).
    pub(crate) writes: bool,
    /// What to compare.
    pub(crate) diff: crate::diff::DiffRule,
    /// How long a mirror may take.
    pub(crate) timeout: Duration,
    /// Learn noise by sending reads to the primary twice and ignoring what differs.
    pub(crate) noise_probe: bool,
}

/// A route's automatic rollback rule, judged on the candidate's outcomes over `window`.
#[derive(Debug, Clone, PartialEq)]
pub struct RollbackRule {
    pub(crate) max_error_rate: Option<f64>,
    pub(crate) max_p99_ms: Option<u64>,
    pub(crate) window: Duration,
    pub(crate) min_requests: u64,
    pub(crate) on_breach: BreachAction,
}

/// What a broken rollback rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreachAction {
    /// Weight to 0 until an operator moves it again.
    Rollback,
    /// Hold the weight and alert.
    Freeze,
}

impl BreachAction {
    /// `rollback` or `freeze`.
    pub fn as_str(self) -> &'static str {
        match self {
            BreachAction::Rollback => "rollback",
            BreachAction::Freeze => "freeze",
        }
    }
}

/// A route's rate limit: `rate` requests per `per`, bursts up to `burst`, one bucket per `key`
/// value (or one for the route).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimit {
    pub(crate) rate: u32,
    pub(crate) per: Duration,
    pub(crate) burst: u32,
    pub(crate) key: Option<StickyKey>,
}

/// What identifies a user for sticky routing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StickyKey {
    /// The value of this request header (lower-cased name).
    Header(http::HeaderName),
    /// The value of this cookie.
    Cookie(String),
}

/// Size limits on what a client may send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub(crate) max_header_bytes: usize,
    pub(crate) max_body_bytes: u64,
}

/// Timeouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub(crate) connect: Duration,
    pub(crate) request: Duration,
    pub(crate) client_header: Duration,
    pub(crate) drain: Duration,
}

/// Where the JSON-lines log goes and whether it includes one line per request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    pub(crate) target: LogTarget,
    pub(crate) access: bool,
}

/// The log's destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogTarget {
    /// Standard error of the process.
    Stderr,
    /// Appended to this file.
    File(PathBuf),
    /// Nowhere.
    Off,
}

/// The name under which requests that match no route are counted and shown.
pub const DEFAULT_ROUTE: &str = "default";

impl ValidConfig {
    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<ValidConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError {
            file: path.display().to_string(),
            problems: vec![ConfigProblem {
                line: 0,
                column: 0,
                reason: format!("cannot read: {error}"),
            }],
        })?;
        let mut config = validate::from_toml(&text, &path.display().to_string())?;
        config.source = Some(path.to_owned());
        config.source_hash = Some(crate::ids::stable_hash(text.as_bytes()));
        Ok(config)
    }

    /// Validates config text; `origin` names it in errors (a file name, or e.g. `<test>`). A
    /// config made this way has no file to reload from.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<ValidConfig, ConfigError> {
        validate::from_toml(text, origin)
    }

    /// The address of the proxy listener as configured (port 0 means "any free port").
    pub fn listen(&self) -> SocketAddr {
        self.listen
    }

    /// The address of the admin listener as configured.
    pub fn admin(&self) -> SocketAddr {
        self.admin
    }

    /// The file this config was read from, if any.
    pub fn source(&self) -> Option<&Path> {
        self.source.as_deref()
    }

    /// The names of the routes, in file order.
    pub fn route_names(&self) -> impl Iterator<Item = &str> {
        self.routes.iter().map(|route| route.name.as_str())
    }

    /// The admin bearer token, if one is set.
    pub fn admin_token(&self) -> Option<&str> {
        self.admin_token.as_deref()
    }
}

/// A config that was refused: the file and every problem found in it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// The file (or origin) that was refused.
    pub file: String,
    /// What is wrong, in file order.
    pub problems: Vec<ConfigProblem>,
}

/// One reason a config was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// 1-based line, 0 when the problem has no place in the file.
    pub line: usize,
    /// 1-based column, 0 when unknown.
    pub column: usize,
    /// What is wrong, in words.
    pub reason: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, problem) in self.problems.iter().enumerate() {
            if index > 0 {
                writeln!(f)?;
            }
            if problem.line == 0 {
                write!(f, "{}: {}", self.file, problem.reason)?;
            } else {
                write!(
                    f,
                    "{}:{}:{}: {}",
                    self.file, problem.line, problem.column, problem.reason
                )?;
            }
        }
        Ok(())
    }
}
