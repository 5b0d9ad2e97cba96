//! The {{ context }} service, extracted from the monolith by `strangler scaffold`.
//!
//! The modules under `common`, and the context's own modules, carry the monolith's code at the
//! same module paths; `routes` serves them, `ops` adds health, readiness, metrics and request
//! logging, `copy` moves the owned tables' rows over, and `upstream` reads what other services
//! own. See README.md for what was carried over and what is stubbed.

pub mod copy;
pub mod ops;
pub mod routes;
pub mod upstream;

{{ module_tree }}
