//! A keyword scan that recovers table names from statements sqlparser rejects (vendor syntax,
//! `DO $$ ... $$` blocks, templated SQL), so that one odd statement does not hide its tables.

use crate::model::{Access, StatementKind};

use super::{SqlAnalysis, TableAccess, TableDeclaration};

/// Words of a statement, quotes removed, punctuation kept as one-character words.
fn words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() || c == '_' || c == '.' {
            current.push(c);
        } else {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            if c == '(' || c == ',' || c == ')' {
                words.push(c.to_string());
            }
            // Quotes around identifiers are dropped: `"users"` scans as `users`.
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

const NOT_TABLES: [&str; 12] = [
    "select", "where", "set", "values", "if", "not", "exists", "only", "lateral", "table", "as",
    "(",
];

/// The table name a word stands for, if it can be one.
fn table_word(word: &str) -> Option<String> {
    let name = word.rsplit('.').next()?.to_lowercase();
    let plausible = name
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
        && !NOT_TABLES.contains(&name.as_str());
    plausible.then_some(name)
}

/// Index of the first word at or after `from` that is not one of `skip`.
fn skip_words(words: &[String], mut from: usize, skip: &[&str]) -> usize {
    while from < words.len() && skip.iter().any(|s| words[from].eq_ignore_ascii_case(s)) {
        from += 1;
    }
    from
}

/// Records what a keyword scan can see in an unparsable statement.
pub(super) fn scan_statement(text: &str, line_offset: u32, out: &mut SqlAnalysis) {
    let words = words(text);
    let is = |index: usize, keyword: &str| {
        words
            .get(index)
            .is_some_and(|w| w.eq_ignore_ascii_case(keyword))
    };
    let mut push = |table: String, access: Access| {
        let duplicate = out
            .accesses
            .iter()
            .any(|a| a.table == table && a.access == access && a.line_offset == line_offset);
        if !duplicate {
            out.accesses.push(TableAccess {
                table,
                access,
                statement: StatementKind::Unparsed,
                line_offset,
            });
        }
    };
    for index in 0..words.len() {
        if is(index, "create") {
            let table_at = skip_words(
                &words,
                index + 1,
                &["temp", "temporary", "virtual", "unlogged"],
            );
            if is(table_at, "table") {
                let name_at = skip_words(&words, table_at + 1, &["if", "not", "exists"]);
                if let Some(name) = words.get(name_at).and_then(|w| table_word(w)) {
                    out.declarations.push(TableDeclaration {
                        name,
                        columns: Vec::new(),
                        foreign_keys: Vec::new(),
                        creates: true,
                        line_offset,
                    });
                }
            }
        } else if is(index, "into") {
            let writes = index > 0
                && (0..index)
                    .rev()
                    .take(4)
                    .any(|i| is(i, "insert") || is(i, "replace"));
            if writes && let Some(name) = words.get(index + 1).and_then(|w| table_word(w)) {
                push(name, Access::Write);
            }
        } else if is(index, "update") {
            let name_at = skip_words(
                &words,
                index + 1,
                &[
                    "or", "rollback", "abort", "replace", "fail", "ignore", "only",
                ],
            );
            if let Some(name) = words.get(name_at).and_then(|w| table_word(w)) {
                push(name, Access::Write);
            }
        } else if is(index, "from") || is(index, "join") {
            let deleting = is(index, "from") && index > 0 && is(index - 1, "delete");
            if let Some(name) = words.get(index + 1).and_then(|w| table_word(w)) {
                push(
                    name,
                    if deleting {
                        Access::Write
                    } else {
                        Access::Read
                    },
                );
            }
        }
    }
}
