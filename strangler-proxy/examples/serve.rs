//! The proxy alone, without the CLI: `serve CONFIG [WORKERS]`. Builds in a fraction of the time
//! of the `strangler` binary, which is what a profiling loop wants; it serves exactly as
//! `strangler proxy --config CONFIG --workers WORKERS` does.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::process::ExitCode;

/// The allocator of the `strangler` binary, so that what this measures is what users run.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(config) = args.next().map(PathBuf::from) else {
        eprintln!("usage: serve CONFIG [WORKERS]");
        return ExitCode::from(2);
    };
    let workers = args.next().and_then(|w| w.parse().ok()).unwrap_or(1);
    match strangler_proxy::serve::serve_until_signal(&config, workers, |running| {
        println!("listening on http://{}", running.listen_addr());
    }) {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{error}");
            ExitCode::FAILURE
        }
    }
}
