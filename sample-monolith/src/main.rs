//! The movie-booking monolith: one process, one SQLite file, five business areas (movies,
//! customers, reviews, bookings, fares) cutting across a layered code base. It is the subject
//! of the strangler demo and course, and the analyzer's first scored input.
//!
//! Start-up contract relied on by tests, the demo and the proxy tests: the database is created,
//! migrated and seeded, the listener is bound, and then exactly one line
//! `listening on http://IP:PORT` is printed to stdout with the real port (so `--addr
//! 127.0.0.1:0` works). SIGTERM or ctrl-c stops it gracefully; so does the end of standard input
//! with `--stop-when-stdin-closes`.

mod app;
mod common;
mod handlers;
mod repo;
mod services;

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use tracing_subscriber::EnvFilter;

use crate::common::db::Db;

/// Command-line flags, each with an environment fallback.
#[derive(Debug, Parser)]
#[command(
    name = "sample-monolith",
    version,
    about = "The movie-booking monolith"
)]
struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "CINEMA_ADDR", default_value = "127.0.0.1:3000")]
    addr: SocketAddr,
    /// SQLite database file, created and seeded when missing.
    #[arg(long, env = "CINEMA_DB", default_value = "./cinema.db")]
    db: PathBuf,
    /// Also stop when standard input reaches its end: a supervisor that holds the other end of
    /// a pipe (such as `strangler demo`) then takes this process with it however it dies.
    #[arg(long)]
    stop_when_stdin_closes: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let outcome = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
        .and_then(|runtime| runtime.block_on(run(args)));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("sample-monolith: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();

    let db_path = args.db.clone();
    let db = tokio::task::spawn_blocking(move || Db::open(&db_path))
        .await
        .context("database start-up task failed")?
        .with_context(|| format!("cannot open database {}", args.db.display()))?;
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("cannot listen on {}", args.addr))?;
    let local = listener.local_addr().context("no local address")?;
    tracing::info!(db = %args.db.display(), %local, "sample-monolith started");

    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on http://{local}").context("cannot write to stdout")?;
    stdout.flush().context("cannot flush stdout")?;
    drop(stdout);

    axum::serve(listener, app::build_router(db))
        .with_graceful_shutdown(shutdown_signal(args.stop_when_stdin_closes))
        .await
        .context("server failed")?;
    tracing::info!("sample-monolith stopped");
    Ok(())
}

/// Resolves on ctrl-c or SIGTERM, or when standard input closes if `stdin_lifeline` is set.
async fn shutdown_signal(stdin_lifeline: bool) {
    let stdin_closed = async {
        if !stdin_lifeline {
            std::future::pending::<()>().await;
        }
        let (closed, on_close) = tokio::sync::oneshot::channel::<()>();
        // A plain thread: reading stdin blocks, and this read only ends with the pipe.
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
            let _ = closed.send(());
        });
        let _ = on_close.await;
        tracing::info!("standard input closed");
    };
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
        () = stdin_closed => {}
    }
}
