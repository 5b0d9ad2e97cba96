//! Schema and seed data, embedded in the binary and applied in order on start. Each migration
//! runs once, in its own transaction, and is recorded in `schema_migrations`, so restarting on
//! an existing database file changes nothing.

use rusqlite::{Connection, TransactionBehavior, params};

use crate::common::time::Timestamp;

/// Every migration, in the order it must run. The name is the file name without `.sql`.
const MIGRATIONS: [(&str, &str); 2] = [
    (
        "0001_schema",
        include_str!("../../migrations/0001_schema.sql"),
    ),
    ("0002_seed", include_str!("../../migrations/0002_seed.sql")),
];

/// Applies every migration not applied yet; returns how many ran.
pub fn apply_pending(conn: &mut Connection) -> rusqlite::Result<usize> {
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version TEXT PRIMARY KEY,
            applied_at TEXT NOT NULL
        )",
        [],
    )?;
    let mut applied = 0;
    for (version, sql) in MIGRATIONS {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let already: bool = tx.query_row(
            "SELECT EXISTS(SELECT 1 FROM schema_migrations WHERE version = ?1)",
            [version],
            |row| row.get(0),
        )?;
        if !already {
            tx.execute_batch(sql)?;
            tx.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
                params![version, Timestamp::now().to_string()],
            )?;
            applied += 1;
        }
        tx.commit()?;
    }
    Ok(applied)
}
