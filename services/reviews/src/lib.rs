//! The reviews service, extracted from the monolith by `strangler scaffold`.
//!
//! The modules under `common`, and the context's own modules, carry the monolith's code at the
//! same module paths; `routes` serves them, `ops` adds health, readiness, metrics and request
//! logging, `copy` moves the owned tables' rows over, and `upstream` reads what other services
//! own. See README.md for what was carried over and what is stubbed.

pub mod copy;
pub mod ops;
pub mod routes;
pub mod upstream;

/// The monolith's shared kernel, copied.
pub mod common {
    pub mod db;
    pub mod errors;
    pub mod extract;
    pub mod ids;
    pub mod migrations;
    pub mod money;
    pub mod pagination;
    pub mod time;
    pub mod validation;
}
/// HTTP handlers of the context.
pub mod handlers {
    pub mod reviews;
}
/// SQL of the context.
pub mod repo {
    pub mod reviews;
}
/// Business rules of the context.
pub mod services {
    pub mod reviews;
}
