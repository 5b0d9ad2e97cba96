//! `reviews-service`: serves the reviews context's API on its own database, or copies the
//! context's tables from the monolith's database (`copy-from`).
//!
//! ```text
//! reviews-service [--addr 127.0.0.1:4000] [--db reviews_service.db]
//! reviews-service copy-from --monolith-db PATH [--db reviews_service.db]
//! ```
//!
//! Flags fall back to `REVIEWS_SERVICE_ADDR` and `REVIEWS_SERVICE_DB`. On start it migrates its
//! database, binds, then prints one line, `listening on http://IP:PORT`, with the real port.
//! Logs go to stderr (`RUST_LOG=debug` for more); SIGTERM or ctrl-c stops it gracefully, and so
//! does the end of standard input with `--stop-when-stdin-closes`.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use tracing_subscriber::EnvFilter;

/// What the command line asks for.
enum Mode {
    Serve {
        addr: SocketAddr,
        db: PathBuf,
        stdin_lifeline: bool,
    },
    CopyFrom {
        monolith_db: PathBuf,
        db: PathBuf,
    },
}

const USAGE: &str = "usage: reviews-service [--addr IP:PORT] [--db PATH] [--stop-when-stdin-closes]\n       reviews-service copy-from --monolith-db PATH [--db PATH]";

fn main() -> ExitCode {
    let mode = match parse_args(std::env::args().skip(1).collect()) {
        Ok(mode) => mode,
        Err(message) => {
            eprintln!("reviews-service: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let outcome = match mode {
        Mode::CopyFrom { monolith_db, db } => copy_from(&monolith_db, &db),
        Mode::Serve {
            addr,
            db,
            stdin_lifeline,
        } => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|err| format!("cannot start the async runtime: {err}"))
            .and_then(|runtime| runtime.block_on(serve(addr, db, stdin_lifeline))),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("reviews-service: {message}");
            ExitCode::FAILURE
        }
    }
}

fn parse_args(args: Vec<String>) -> Result<Mode, String> {
    let mut args = args.into_iter();
    let mut copy = false;
    let mut addr =
        std::env::var("REVIEWS_SERVICE_ADDR").unwrap_or_else(|_| "127.0.0.1:4000".to_string());
    let mut db =
        std::env::var("REVIEWS_SERVICE_DB").unwrap_or_else(|_| "reviews_service.db".to_string());
    let mut monolith_db = None;
    let mut stdin_lifeline = false;
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| args.next().ok_or_else(|| format!("{flag} needs a value"));
        match arg.as_str() {
            "copy-from" if !copy => copy = true,
            "--addr" => addr = value("--addr")?,
            "--db" => db = value("--db")?,
            "--monolith-db" if copy => monolith_db = Some(value("--monolith-db")?),
            "--stop-when-stdin-closes" if !copy => stdin_lifeline = true,
            other => return Err(format!("unexpected argument `{other}`")),
        }
    }
    if copy {
        let monolith_db = monolith_db.ok_or("copy-from needs --monolith-db PATH")?;
        return Ok(Mode::CopyFrom {
            monolith_db: PathBuf::from(monolith_db),
            db: PathBuf::from(db),
        });
    }
    let addr = addr
        .parse()
        .map_err(|_| format!("`{addr}` is not an IP:PORT address"))?;
    Ok(Mode::Serve {
        addr,
        db: PathBuf::from(db),
        stdin_lifeline,
    })
}

fn open_state(db: &std::path::Path) -> Result<reviews_service::common::db::Db, String> {
    reviews_service::common::db::Db::open(db)
        .map_err(|err| format!("cannot open database {}: {err}", db.display()))
}

fn copy_from(monolith_db: &std::path::Path, db: &std::path::Path) -> Result<(), String> {
    // Opening the service's database first creates its tables.
    drop(open_state(db)?);
    let reports = reviews_service::copy::copy_from(monolith_db, db)?;
    let mut stdout = std::io::stdout().lock();
    for report in reports {
        writeln!(
            stdout,
            "{}: monolith {} rows, service {} rows ({} copied{})",
            report.table,
            report.source_rows,
            report.target_rows,
            report.copied,
            if report.resumed { ", resumed" } else { "" }
        )
        .map_err(|err| format!("cannot write to stdout: {err}"))?;
    }
    Ok(())
}

async fn serve(addr: SocketAddr, db: PathBuf, stdin_lifeline: bool) -> Result<(), String> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let db_path = db.clone();
    let state = tokio::task::spawn_blocking(move || open_state(&db_path))
        .await
        .map_err(|err| format!("database start-up task failed: {err}"))??;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|err| format!("cannot listen on {addr}: {err}"))?;
    let local = listener
        .local_addr()
        .map_err(|err| format!("no local address: {err}"))?;
    tracing::info!(db = %db.display(), %local, "reviews-service started");
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "listening on http://{local}")
            .and_then(|()| stdout.flush())
            .map_err(|err| format!("cannot write to stdout: {err}"))?;
    }
    axum::serve(listener, reviews_service::routes::router(state, db))
        .with_graceful_shutdown(async move {
            tokio::select! {
                () = reviews_service::ops::shutdown_signal() => {}
                () = stdin_closed(stdin_lifeline) => {}
            }
        })
        .await
        .map_err(|err| format!("server failed: {err}"))?;
    tracing::info!("reviews-service stopped");
    Ok(())
}

/// Resolves when standard input reaches its end, if `lifeline` is set (never otherwise): a
/// supervisor holding the other end of a pipe (such as `strangler demo`) then takes this
/// process with it however it dies. Not generated by `strangler scaffold`: added by hand.
async fn stdin_closed(lifeline: bool) {
    if !lifeline {
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
}
