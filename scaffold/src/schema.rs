//! The service's own database schema, sliced out of the monolith's migrations.
//!
//! Each migration the carried code embeds is rewritten at the same place in the service with
//! only the statements about tables the context owns (`CREATE TABLE`, its indexes, triggers and
//! `ALTER TABLE`s). Data statements stay behind: rows come from the monolith's live database
//! through the generated `copy-from` command, not from the seed. Foreign keys to tables the
//! service does not have are cut, since those rows now live in another service.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use analyzer::CodeModel;

use crate::ScaffoldError;
use crate::plan::Plan;

/// The service's migrations and the tables its copy command fills.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Migrations {
    /// Service path -> SQL text.
    pub files: BTreeMap<PathBuf, String>,
    /// Owned tables in an order that respects their foreign keys (parents first).
    pub tables: Vec<CopiedTable>,
    /// Whether the carried code applies the migrations itself (it embeds them); when not, the
    /// generated start-up code does.
    pub applied_by_carried_code: bool,
}

/// A table `copy-from` copies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CopiedTable {
    /// Name.
    pub name: String,
    /// Columns in declaration order.
    pub columns: Vec<String>,
    /// Primary-key columns (empty: the rowid).
    pub key: Vec<String>,
}

/// Builds the service's migrations.
pub(crate) fn migrations(
    model: &CodeModel,
    plan: &Plan<'_>,
    included_sql: &BTreeMap<String, PathBuf>,
    root: &Path,
) -> Result<Migrations, ScaffoldError> {
    let owned = &plan.owned_tables;
    let mut files = BTreeMap::new();
    let read = |file: &str| {
        let path = root.join(file);
        std::fs::read_to_string(&path).map_err(|source| ScaffoldError::Read { path, source })
    };
    let context = &plan.context.name;
    if included_sql.is_empty() {
        let mut text =
            format!("-- Tables owned by the {context} context, from the monolith's migrations.\n");
        for file in &model.sql_files {
            let kept = owned_ddl(&read(file)?, owned);
            if !kept.trim().is_empty() {
                text.push_str(&format!("\n-- from {file}\n{kept}"));
            }
        }
        files.insert(PathBuf::from("migrations/0001_init.sql"), text);
    } else {
        for (source, target) in included_sql {
            let kept = owned_ddl(&read(source)?, owned);
            let body = if kept.trim().is_empty() {
                "-- Nothing here for this service: its rows come from the monolith's database \
                 through `copy-from`.\n"
                    .to_string()
            } else {
                kept
            };
            files.insert(
                target.clone(),
                format!(
                    "-- The statements of the monolith's {source} about tables the {context} \
                     context owns.\n\n{body}"
                ),
            );
        }
    }
    Ok(Migrations {
        files,
        tables: copy_order(model, owned),
        applied_by_carried_code: !included_sql.is_empty(),
    })
}

fn copy_order(model: &CodeModel, owned: &BTreeSet<String>) -> Vec<CopiedTable> {
    let mut placed: Vec<CopiedTable> = Vec::new();
    let mut left: Vec<&String> = owned.iter().collect();
    while !left.is_empty() {
        let placed_names: BTreeSet<&str> = placed.iter().map(|t| t.name.as_str()).collect();
        let ready = left.iter().position(|name| {
            model.tables.get(*name).is_none_or(|table| {
                table.foreign_keys.iter().all(|fk| {
                    fk.to_table == **name
                        || !owned.contains(&fk.to_table)
                        || placed_names.contains(fk.to_table.as_str())
                })
            })
        });
        // A cycle of foreign keys: take the rest in name order.
        let index = ready.unwrap_or(0);
        let name = left.remove(index);
        let (columns, key) = match model.tables.get(name) {
            Some(table) => (
                table.columns.iter().map(|c| c.name.clone()).collect(),
                table
                    .columns
                    .iter()
                    .filter(|c| c.primary_key)
                    .map(|c| c.name.clone())
                    .collect(),
            ),
            None => (Vec::new(), Vec::new()),
        };
        placed.push(CopiedTable {
            name: name.clone(),
            columns,
            key,
        });
    }
    placed
}

/// A lexical piece of SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Word,
    Quoted,
    Comment,
    Space,
    Punct,
}

#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    kind: Kind,
    text: &'a str,
    start: usize,
}

fn tokenize(sql: &str) -> Vec<Token<'_>> {
    let bytes = sql.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let c = bytes[i];
        let kind = if c == b'-' && bytes.get(i + 1) == Some(&b'-') {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
            Kind::Comment
        } else if c == b'/' && bytes.get(i + 1) == Some(&b'*') {
            i += 2;
            while i < bytes.len() && !(bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/')) {
                i += 1;
            }
            i = (i + 2).min(bytes.len());
            Kind::Comment
        } else if matches!(c, b'\'' | b'"' | b'`' | b'[') {
            let close = if c == b'[' { b']' } else { c };
            i += 1;
            while i < bytes.len() && bytes[i] != close {
                i += 1;
            }
            i = (i + 1).min(bytes.len());
            Kind::Quoted
        } else if c.is_ascii_whitespace() {
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            Kind::Space
        } else if c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80 {
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] >= 0x80)
            {
                i += 1;
            }
            Kind::Word
        } else {
            i += 1;
            Kind::Punct
        };
        tokens.push(Token {
            kind,
            text: &sql[start..i],
            start,
        });
    }
    tokens
}

/// Splits a script into statements (each with its leading comments), keeping trigger bodies
/// whole.
fn statements(sql: &str) -> Vec<&str> {
    let tokens = tokenize(sql);
    let mut out = Vec::new();
    let mut begin = 0;
    let mut depth = 0usize;
    for token in &tokens {
        match token.kind {
            Kind::Word if token.text.eq_ignore_ascii_case("begin") => depth += 1,
            Kind::Word if token.text.eq_ignore_ascii_case("end") => depth = depth.saturating_sub(1),
            Kind::Punct if token.text == ";" && depth == 0 => {
                let end = token.start + 1;
                out.push(&sql[begin..end]);
                begin = end;
            }
            _ => {}
        }
    }
    if !sql[begin..].trim().is_empty() {
        out.push(&sql[begin..]);
    }
    out
}

fn words(tokens: &[Token<'_>]) -> Vec<String> {
    tokens
        .iter()
        .filter(|t| matches!(t.kind, Kind::Word | Kind::Quoted))
        .map(|t| unquote(t.text).to_ascii_lowercase())
        .collect()
}

fn unquote(text: &str) -> &str {
    text.trim_matches(|c| matches!(c, '"' | '`' | '[' | ']'))
}

/// The table a DDL statement is about, or `None` for anything else.
fn ddl_table(statement: &str) -> Option<String> {
    let tokens = tokenize(statement);
    let words = words(&tokens);
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    let skip_if_exists = |at: usize| {
        if w.get(at..at + 3) == Some(&["if", "not", "exists"][..]) {
            at + 3
        } else if w.get(at..at + 2) == Some(&["if", "exists"][..]) {
            at + 2
        } else {
            at
        }
    };
    let name_at = |at: usize| {
        w.get(at)
            .map(|name| name.rsplit('.').next().unwrap_or(name))
    };
    match w.as_slice() {
        ["create", "table", ..] | ["alter", "table", ..] => {
            name_at(skip_if_exists(2)).map(str::to_string)
        }
        ["create", "temp" | "temporary", "table", ..] => {
            name_at(skip_if_exists(3)).map(str::to_string)
        }
        ["create", "index" | "unique", ..] | ["create", "trigger", ..] => {
            let on = w.iter().position(|word| *word == "on")?;
            name_at(on + 1).map(str::to_string)
        }
        _ => None,
    }
}

/// The DDL statements about owned tables, with foreign keys to other tables removed.
fn owned_ddl(sql: &str, owned: &BTreeSet<String>) -> String {
    let mut out = String::new();
    for statement in statements(sql) {
        let Some(table) = ddl_table(statement) else {
            continue;
        };
        if !owned.contains(&table) {
            continue;
        }
        let text = strip_foreign_references(statement.trim_start_matches('\n'), owned);
        out.push_str(text.trim());
        out.push_str("\n\n");
    }
    out
}

/// Removes `REFERENCES other (...) [ON DELETE ...]` clauses and `FOREIGN KEY` constraints that
/// point at tables not in `owned`.
fn strip_foreign_references(statement: &str, owned: &BTreeSet<String>) -> String {
    let tokens = tokenize(statement);
    let significant: Vec<usize> = (0..tokens.len())
        .filter(|&i| !matches!(tokens[i].kind, Kind::Space | Kind::Comment))
        .collect();
    let word = |i: usize| tokens[i].text.to_ascii_lowercase();
    let mut cuts: Vec<(usize, usize)> = Vec::new();
    let mut s = 0;
    while s < significant.len() {
        let i = significant[s];
        if tokens[i].kind != Kind::Word || word(i) != "references" {
            s += 1;
            continue;
        }
        let Some(&table_at) = significant.get(s + 1) else {
            break;
        };
        let table = unquote(tokens[table_at].text).to_ascii_lowercase();
        // The clause runs to the end of the column list and any ON/MATCH/DEFERRABLE options.
        let mut e = s + 2;
        if significant.get(e).is_some_and(|&j| tokens[j].text == "(") {
            while e < significant.len() && tokens[significant[e]].text != ")" {
                e += 1;
            }
            e += 1;
        }
        while let Some(&j) = significant.get(e) {
            let w = word(j);
            if w == "on" {
                // ON DELETE|UPDATE CASCADE|RESTRICT|SET NULL|SET DEFAULT|NO ACTION
                e += 2;
                let two_words = significant
                    .get(e)
                    .is_some_and(|&k| matches!(word(k).as_str(), "set" | "no"));
                e += if two_words { 2 } else { 1 };
            } else if matches!(w.as_str(), "match" | "deferrable") {
                e += 2;
            } else if w == "not" {
                e += 1;
            } else {
                break;
            }
        }
        if owned.contains(&table) {
            s = e;
            continue;
        }
        let end = significant
            .get(e.saturating_sub(1))
            .map(|&j| tokens[j].start + tokens[j].text.len())
            .unwrap_or(statement.len());
        // A table constraint `, [CONSTRAINT n] FOREIGN KEY (...) REFERENCES ...` goes whole.
        let mut start_s = s;
        let foreign_key_at = (0..s).rev().find(|&k| {
            let w = word(significant[k]);
            w == "foreign" && significant.get(k + 1).is_some_and(|&n| word(n) == "key")
        });
        if let Some(k) = foreign_key_at
            && significant[k..s]
                .iter()
                .all(|&j| tokens[j].text != "," && word(j) != "references")
        {
            start_s = k;
            if k >= 2 && word(significant[k - 2]) == "constraint" {
                start_s = k - 2;
            }
            if start_s > 0 && tokens[significant[start_s - 1]].text == "," {
                start_s -= 1;
            }
        }
        let mut start = tokens[significant[start_s]].start;
        // Take the whitespace before the clause along.
        while start > 0 && statement.as_bytes()[start - 1] == b' ' {
            start -= 1;
        }
        cuts.push((start, end));
        s = e;
    }
    let mut out = String::with_capacity(statement.len());
    let mut at = 0;
    for (start, end) in cuts {
        if start >= at {
            out.push_str(&statement[at..start]);
            at = end;
        }
    }
    out.push_str(&statement[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn keeps_owned_ddl_and_cuts_references_to_other_services_tables() {
        let sql = "-- movies\nCREATE TABLE movies (id INTEGER PRIMARY KEY);\n\
            -- reviews\nCREATE TABLE reviews (\n    id INTEGER PRIMARY KEY,\n    \
            movie_id INTEGER NOT NULL REFERENCES movies (id) ON DELETE CASCADE,\n    \
            parent INTEGER REFERENCES reviews (id),\n    UNIQUE (movie_id, id)\n);\n\
            CREATE INDEX reviews_by_movie ON reviews (movie_id);\n\
            INSERT INTO reviews (id, movie_id) VALUES (1, 1);\n";
        let kept = owned_ddl(sql, &owned(&["reviews"]));
        assert_eq!(
            kept,
            "-- reviews\nCREATE TABLE reviews (\n    id INTEGER PRIMARY KEY,\n    \
             movie_id INTEGER NOT NULL,\n    parent INTEGER REFERENCES reviews (id),\n    \
             UNIQUE (movie_id, id)\n);\n\nCREATE INDEX reviews_by_movie ON reviews (movie_id);\n\n"
        );
    }

    #[test]
    fn table_foreign_key_constraints_go_whole() {
        let sql = "CREATE TABLE a (id INTEGER, b_id INTEGER, CONSTRAINT fk FOREIGN KEY (b_id) \
            REFERENCES b (id) ON UPDATE SET NULL);";
        assert_eq!(
            owned_ddl(sql, &owned(&["a"])).trim(),
            "CREATE TABLE a (id INTEGER, b_id INTEGER);"
        );
    }

    #[test]
    fn semicolons_in_strings_and_trigger_bodies_do_not_split() {
        let sql = "CREATE TABLE t (x TEXT DEFAULT ';');\nCREATE TRIGGER tr AFTER INSERT ON t \
            BEGIN UPDATE t SET x = 'a'; END;\nCREATE TABLE u (y INT);";
        let parts = statements(sql);
        assert_eq!(parts.len(), 3, "{parts:?}");
        assert_eq!(ddl_table(parts[1]).as_deref(), Some("t"));
    }

    proptest::proptest! {
        #[test]
        fn any_script_is_sliced_without_panicking(sql in ".{0,400}") {
            let _ = owned_ddl(&sql, &owned(&["reviews", "a"]));
        }

        #[test]
        fn ddl_like_scripts_are_sliced_without_panicking(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "CREATE", "TABLE", "reviews", "a", "(", ")", ",", ";", "REFERENCES",
                    "FOREIGN", "KEY", "ON", "DELETE", "SET", "NULL", "CONSTRAINT", "'x;'",
                    "-- c\n", "BEGIN", "END", "INDEX", "é", "\"q\"",
                ]),
                0..60,
            )
        ) {
            let sql = parts.join(" ");
            let _ = owned_ddl(&sql, &owned(&["reviews", "a"]));
        }
    }
}
