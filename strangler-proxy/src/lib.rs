//! The strangler proxy sits in front of the monolith and the services carved out of it, and moves
//! traffic between them route by route: weighted, sticky, shadowed and compared, with automatic
//! rollback, while both sides keep serving.
//!
//! Only this crate and the CLI touch the network. It never prints: it writes its own JSON-lines
//! log (see [`log`]) and also emits `tracing` events for embedders.
//!
//! Layers, from the outside in: [`server`] accepts connections and owns the lifecycle (plain
//! requests are read and answered by `fast_path`, the rest by hyper's server);
//! [`forward`] serves one request on one snapshot of the [`table::RoutingTable`], choosing a side
//! with [`split`] and an instance with [`upstream`]; [`state`] is the only place that changes
//! routing (weights, reloads); [`admin`] exposes it; [`metrics`] and [`log`] record what happened.
//! The config format is in `docs/proxy.md`.
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod admin;
pub mod body;
pub mod config;
mod deadline;
pub mod diff;
mod fast_path;
pub mod forward;
pub mod h1;
mod ids;
pub mod log;
pub mod message;
pub mod metrics;
pub mod pool;
pub mod rollback;
pub mod route_match;
pub mod serve;
pub mod server;
pub mod shadow;
pub mod split;
pub mod state;
pub mod status;
pub mod table;
pub mod throttle;
pub mod upstream;

pub use admin::{
    AdminClient, AdminError, BlockingAdminClient, CutoverPlan, PlanEvent, PlanOutcome, run_plan,
};
pub use config::{ConfigError, ValidConfig};
pub use server::{Proxy, ProxyOptions, RunningProxy, ShutdownReport, StartError};
pub use split::Side;
pub use status::ProxyStatus;
