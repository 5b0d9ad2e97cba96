//! `strangler`: the command-line shell over the analyzer, scaffold and proxy libraries.
//!
//! This binary parses arguments, calls a library, prints what it returns and maps failures to exit
//! codes: 0 success, 1 the work failed, 2 bad usage (clap's own code). No analysis or proxy logic
//! lives here.

mod cli;
mod commands;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

/// mimalloc rather than the system's allocator: syn's syntax trees are made of many small
/// allocations, and with glibc's malloc `analyze` spent about 40% of its time allocating and
/// freeing them (measured in `docs/PERFORMANCE.md`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(usage) = cli.check() {
        usage.exit();
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", error_chain(&error));
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Analyze(args) => commands::analyze::run(&args),
        Command::Plan(args) => commands::plan::run(&args),
        Command::Scaffold(args) => commands::scaffold::run(&args),
        Command::Proxy(args) => commands::proxy::proxy(&args),
        Command::Cutover(args) => commands::proxy::cutover(&args),
        Command::Status(args) => commands::proxy::status(&args),
        Command::Demo(args) => commands::demo::run(&args),
    }
}

/// The error and its causes as one line, `outer: inner: root`, leaving out a cause whose text
/// the line already holds (libraries often repeat their source in their own message).
fn error_chain(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}
