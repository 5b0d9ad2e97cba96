//! `copy-from`: copies the rows of the tables this service owns out of the monolith's
//! database into its own.
//!
//! Idempotent: rows are written with `INSERT OR REPLACE`, keyed by their primary key, so a
//! second run changes nothing that did not change in the monolith. Resumable: rows go over in
//! batches by rowid, each batch committed with its position in `strangler_copy_progress`; a run
//! that stopped half-way continues from there, and a finished run clears its position. Rows
//! deleted in the monolith after a copy are not deleted here.

use std::path::Path;

use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags, params_from_iter};

/// Rows per committed batch.
const BATCH_ROWS: i64 = 500;

/// One table to copy.
#[derive(Debug, Clone, Copy)]
pub struct TableCopy {
    /// Table name.
    pub name: &'static str,
    /// Its columns.
    pub columns: &'static [&'static str],
}

/// The owned tables, parents before children.
pub const TABLES: [TableCopy; 1] = [TableCopy {
    name: "reviews",
    columns: &[
        "id",
        "movie_id",
        "customer_id",
        "rating",
        "title",
        "body",
        "created_at",
    ],
}];

/// What one table's copy did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyReport {
    /// Table name.
    pub table: String,
    /// Rows in the monolith's table.
    pub source_rows: i64,
    /// Rows in the service's table afterwards.
    pub target_rows: i64,
    /// Rows written by this run.
    pub copied: i64,
    /// Whether this run continued an interrupted one.
    pub resumed: bool,
}

/// Copies every owned table from `monolith_db` (opened read-only) into `service_db`.
pub fn copy_from(monolith_db: &Path, service_db: &Path) -> Result<Vec<CopyReport>, String> {
    let source = Connection::open_with_flags(monolith_db, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|err| {
            format!(
                "cannot open the monolith's database {}: {err}",
                monolith_db.display()
            )
        })?;
    let mut target = Connection::open(service_db)
        .map_err(|err| format!("cannot open {}: {err}", service_db.display()))?;
    target
        .execute_batch(
            "CREATE TABLE IF NOT EXISTS strangler_copy_progress (table_name TEXT PRIMARY KEY, last_rowid INTEGER NOT NULL)",
        )
        .map_err(|err| format!("cannot record copy progress: {err}"))?;
    TABLES
        .iter()
        .map(|table| copy_table(&source, &mut target, table))
        .collect()
}

fn count(conn: &Connection, table: &str) -> Result<i64, String> {
    conn.query_row(&format!("SELECT COUNT(*) FROM \"{table}\""), [], |row| {
        row.get(0)
    })
    .map_err(|err| format!("cannot count {table}: {err}"))
}

fn copy_table(
    source: &Connection,
    target: &mut Connection,
    table: &TableCopy,
) -> Result<CopyReport, String> {
    let name = table.name;
    let columns: Vec<String> = table.columns.iter().map(|c| format!("\"{c}\"")).collect();
    let column_list = columns.join(", ");
    let placeholders: Vec<String> = (1..=columns.len()).map(|i| format!("?{i}")).collect();
    let select = format!(
        "SELECT rowid, {column_list} FROM \"{name}\" WHERE rowid > ?1 ORDER BY rowid LIMIT ?2"
    );
    let insert = format!(
        "INSERT OR REPLACE INTO \"{name}\" ({column_list}) VALUES ({})",
        placeholders.join(", ")
    );
    let start: Option<i64> = target
        .query_row(
            "SELECT last_rowid FROM strangler_copy_progress WHERE table_name = ?1",
            [name],
            |row| row.get(0),
        )
        .ok();
    let mut last_rowid = start.unwrap_or(i64::MIN);
    let mut copied = 0;
    let mut statement = source
        .prepare(&select)
        .map_err(|err| format!("cannot read {name} from the monolith: {err}"))?;
    loop {
        let rows: Vec<(i64, Vec<Value>)> = statement
            .query_map(rusqlite::params![last_rowid, BATCH_ROWS], |row| {
                let rowid: i64 = row.get(0)?;
                let values = (1..=columns.len())
                    .map(|i| row.get::<_, Value>(i))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok((rowid, values))
            })
            .and_then(|rows| rows.collect())
            .map_err(|err| format!("cannot read {name} from the monolith: {err}"))?;
        let Some(&(batch_last, _)) = rows.last() else {
            break;
        };
        let tx = target
            .transaction()
            .map_err(|err| format!("cannot write {name}: {err}"))?;
        for (_, values) in &rows {
            tx.execute(&insert, params_from_iter(values.iter()))
                .map_err(|err| format!("cannot write a row of {name}: {err}"))?;
        }
        tx.execute(
            "INSERT OR REPLACE INTO strangler_copy_progress (table_name, last_rowid) VALUES (?1, ?2)",
            rusqlite::params![name, batch_last],
        )
        .map_err(|err| format!("cannot record copy progress: {err}"))?;
        tx.commit()
            .map_err(|err| format!("cannot write {name}: {err}"))?;
        copied += i64::try_from(rows.len()).unwrap_or(i64::MAX);
        last_rowid = batch_last;
    }
    target
        .execute(
            "DELETE FROM strangler_copy_progress WHERE table_name = ?1",
            [name],
        )
        .map_err(|err| format!("cannot record copy progress: {err}"))?;
    Ok(CopyReport {
        table: name.to_string(),
        source_rows: count(source, name)?,
        target_rows: count(target, name)?,
        copied,
        resumed: start.is_some(),
    })
}
