//! Tests of the reports: snapshots of every format on a realistic analysis, determinism, and the
//! HTML checked in a real headless Chromium. One test binary keeps link time down.

mod browser;
mod fixture;
mod properties;
mod sample;
mod snapshots;
