//! The database handle every handler gets: one SQLite file in WAL mode, a small pool of
//! connections, and two entry points that run blocking SQLite work off the async threads.
//! `write` wraps the work in `BEGIN IMMEDIATE ... COMMIT`, so a failed request writes nothing
//! and concurrent writers queue on SQLite's lock (with a busy timeout) instead of failing.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::common::errors::{AppError, AppResult};
use crate::common::migrations;

/// Idle connections kept for reuse; more may be open while many requests run at once.
const MAX_IDLE_CONNECTIONS: usize = 8;
/// How long a connection waits for SQLite's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Cheap to clone: all clones share one pool.
#[derive(Clone)]
pub struct Db {
    inner: Arc<DbInner>,
}

struct DbInner {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Db {
    /// Opens (creating if needed) the database file, then migrates and seeds it.
    pub fn open(path: &Path) -> AppResult<Db> {
        let mut conn = open_connection(path)?;
        migrations::apply_pending(&mut conn)?;
        Ok(Db {
            inner: Arc::new(DbInner {
                path: path.to_path_buf(),
                idle: Mutex::new(vec![conn]),
            }),
        })
    }

    /// Runs read-only work on a pooled connection.
    pub async fn read<T, F>(&self, work: F) -> AppResult<T>
    where
        F: FnOnce(&Connection) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let db = self.clone();
        run_blocking(move || {
            let conn = db.checkout()?;
            let result = work(&conn);
            db.checkin(conn);
            result
        })
        .await
    }

    /// Runs work inside one `BEGIN IMMEDIATE` transaction: committed when the work returns
    /// `Ok`, rolled back when it returns `Err`.
    pub async fn write<T, F>(&self, work: F) -> AppResult<T>
    where
        F: FnOnce(&Transaction<'_>) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let db = self.clone();
        run_blocking(move || {
            let mut conn = db.checkout()?;
            let result = run_in_transaction(&mut conn, work);
            db.checkin(conn);
            result
        })
        .await
    }

    fn checkout(&self) -> AppResult<Connection> {
        let pooled = self
            .inner
            .idle
            .lock()
            .map_err(|_| AppError::Internal("connection pool lock poisoned".into()))?
            .pop();
        match pooled {
            Some(conn) => Ok(conn),
            None => Ok(open_connection(&self.inner.path)?),
        }
    }

    fn checkin(&self, conn: Connection) {
        if let Ok(mut idle) = self.inner.idle.lock()
            && idle.len() < MAX_IDLE_CONNECTIONS
        {
            idle.push(conn);
        }
    }
}

fn run_in_transaction<T, F>(conn: &mut Connection, work: F) -> AppResult<T>
where
    F: FnOnce(&Transaction<'_>) -> AppResult<T>,
{
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let value = work(&tx)?;
    tx.commit()?;
    Ok(value)
}

async fn run_blocking<T, F>(work: F) -> AppResult<T>
where
    F: FnOnce() -> AppResult<T> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|err| AppError::Internal(format!("database worker failed: {err}")))?
}

/// Opens one connection with the settings every connection needs.
fn open_connection(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // Quoted values: SQLite accepts them, and SQL tooling parses them.
    let _mode: String = conn.query_row("PRAGMA journal_mode = 'wal'", [], |row| row.get(0))?;
    conn.execute_batch("PRAGMA foreign_keys = 'on'; PRAGMA synchronous = 'normal';")?;
    Ok(conn)
}
