//! The strangler proxy sits in front of the monolith and the services carved out of it, and moves
//! traffic between them route by route: weighted, sticky, shadowed and compared, with automatic
//! rollback, while both sides keep serving.
//!
//! Only this crate and the CLI touch the network. It never prints: it logs through `tracing`.
#![deny(clippy::print_stdout, clippy::print_stderr)]
