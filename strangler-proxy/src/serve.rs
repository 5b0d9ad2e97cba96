//! Running the proxy as a process, for the CLI: its own runtime, SIGHUP reloads, and a graceful
//! stop on SIGTERM or ctrl-c. Kept here so the CLI needs no async runtime of its own.

use std::path::Path;

use crate::config::{ConfigError, ValidConfig};
use crate::server::{Proxy, ProxyOptions, RunningProxy, ShutdownReport, StartError};

/// Why serving ended with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The config file was refused.
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// The proxy could not start.
    #[error("{0}")]
    Start(#[from] StartError),
    /// The runtime or signal handlers could not be set up.
    #[error("cannot set up the runtime: {0}")]
    Runtime(std::io::Error),
}

/// Loads `config_path`, serves on `workers` threads (1 = a single-threaded runtime) until SIGTERM
/// or ctrl-c, then drains. `on_ready` runs once both listeners are bound.
pub fn serve_until_signal(
    config_path: &Path,
    workers: usize,
    on_ready: impl FnOnce(&RunningProxy),
) -> Result<ShutdownReport, ServeError> {
    let config = ValidConfig::load(config_path)?;
    let runtime = if workers <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_all()
            .build()
    }
    .map_err(ServeError::Runtime)?;
    runtime.block_on(async move {
        let options = ProxyOptions {
            reload_on_sighup: true,
        };
        let running = Proxy::start_with(config, options).await?;
        on_ready(&running);
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate = signal(SignalKind::terminate()).map_err(ServeError::Runtime)?;
        tokio::select! {
            _ = terminate.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        Ok(running.shutdown().await)
    })
}
