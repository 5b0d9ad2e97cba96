//! The analyzer turns a Rust monolith's source tree into data: a code model (items, references,
//! SQL, routes), a weighted coupling graph over code and tables, proposed bounded contexts, and
//! the metrics that judge them.
//!
//! It is a pure library: it reads files and returns values plus diagnostics. It never prints and
//! never exits; the `strangler` CLI decides what to show.
#![deny(clippy::print_stdout, clippy::print_stderr)]

/// Version of the analysis JSON contract described in `docs/ARCHITECTURE.md`.
pub const SCHEMA_VERSION: u32 = 1;

pub mod cluster;
pub mod contexts;
pub mod graph;
pub mod metrics;

pub mod analysis;
#[cfg(test)]
mod fixture;
pub mod report;
