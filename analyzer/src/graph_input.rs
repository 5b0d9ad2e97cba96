//! From the code model to the coupling step's input: which facts count as coupling, and how.
//!
//! Decisions made here, and why:
//! - test, bench and example files and `build.rs` are left out: they are not part of any
//!   context, and their calls would glue every context together;
//! - calls of every kind count as calls, and so does a function passed by name (`get(handler)`):
//!   registering a handler couples the router to it exactly like calling it;
//! - `use` declarations do not count: what a file imports it also uses, and the use is counted
//!   where it happens (a signature, a body, a field), so imports would count it twice;
//! - SQL held in a const counts for the functions that use the const, not for the const.

use std::collections::BTreeMap;

use crate::graph::{Access, CouplingInput, FileFacts, FunctionFacts, RouteFacts, TableFacts};
use crate::model::{self, CodeModel, ReferenceKind};

/// Whether a path is outside the application proper (tests, benches, examples, build script).
pub fn is_auxiliary(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    parts
        .iter()
        .rev()
        .skip(1)
        .any(|dir| matches!(*dir, "tests" | "benches" | "examples" | "fuzz"))
        || parts.last() == Some(&"build.rs")
}

/// Builds the coupling step's input from a code model.
pub fn coupling_input(code: &CodeModel) -> CouplingInput {
    let mut input = CouplingInput::default();
    let mut file_index: BTreeMap<&str, usize> = BTreeMap::new();
    let entry_points: Vec<&str> = code
        .crates
        .iter()
        .filter(|c| c.kind == model::CrateKind::Bin)
        .map(|c| c.root_file.as_str())
        .collect();
    for (path, file) in &code.files {
        if is_auxiliary(path) {
            continue;
        }
        file_index.insert(path.as_str(), input.files.len());
        input.files.push(FileFacts {
            path: path.clone(),
            lines: file.lines as usize,
            entry_point: entry_points.contains(&path.as_str()),
        });
    }

    // Tables: declared ones, plus any table SQL touches without a declaration we saw.
    let mut table_names: Vec<String> = code.tables.keys().cloned().collect();
    for item in code.items.values() {
        table_names.extend(item.sql.iter().map(|access| access.table.clone()));
    }
    table_names.sort();
    table_names.dedup();
    let table_index: BTreeMap<&str, usize> = table_names
        .iter()
        .enumerate()
        .map(|(i, name)| (name.as_str(), i))
        .collect();
    input.tables = table_names
        .iter()
        .map(|name| TableFacts {
            name: name.clone(),
            references: code
                .tables
                .get(name)
                .map(|table| {
                    table
                        .foreign_keys
                        .iter()
                        .filter_map(|fk| table_index.get(fk.to_table.as_str()).copied())
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect();

    // Functions, in item-id order.
    let mut function_index: BTreeMap<&str, usize> = BTreeMap::new();
    let functions: Vec<&model::Item> = code
        .items
        .values()
        .filter(|item| item.kind.is_function())
        .filter(|item| file_index.contains_key(item.file.as_str()))
        .collect();
    for (i, item) in functions.iter().enumerate() {
        function_index.insert(item.id.as_str(), i);
    }
    let file_of_item = |id: &str| {
        code.items
            .get(id)
            .and_then(|item| file_index.get(item.file.as_str()).copied())
    };
    for item in &functions {
        let mut facts = FunctionFacts {
            name: function_label(item),
            file: file_index[item.file.as_str()],
            line: item.line,
            ..Default::default()
        };
        for reference in &item.references {
            match reference.kind {
                kind if kind.is_call() => {
                    if let Some(&callee) = function_index.get(reference.target.as_str()) {
                        facts.calls.push((callee, reference.line));
                    }
                }
                ReferenceKind::Value => {
                    if let Some(&callee) = function_index.get(reference.target.as_str()) {
                        facts.calls.push((callee, reference.line));
                    } else if let Some(file) = file_of_item(&reference.target) {
                        facts.type_uses.push((file, reference.line));
                    }
                }
                ReferenceKind::Type => {
                    if let Some(file) = file_of_item(&reference.target) {
                        facts.type_uses.push((file, reference.line));
                    }
                }
                _ => {}
            }
        }
        for access in &item.sql {
            if let Some(&table) = table_index.get(access.table.as_str()) {
                let access_kind = match access.access {
                    model::Access::Read => Access::Read,
                    model::Access::Write => Access::Write,
                };
                facts.accesses.push((table, access_kind, access.line));
                if access.statement == model::StatementKind::Insert
                    && !facts.creates.contains(&table)
                {
                    facts.creates.push(table);
                }
            }
        }
        input.functions.push(facts);
    }

    for (path, file) in &code.files {
        let Some(&from) = file_index.get(path.as_str()) else {
            continue;
        };
        for reference in &file.references {
            if reference.kind == ReferenceKind::Import {
                continue;
            }
            if let Some(to) = file_of_item(&reference.target)
                && to != from
            {
                input.file_references.push((from, to));
            }
        }
    }

    for route in &code.routes {
        let Some(&file) = file_index.get(route.file.as_str()) else {
            continue;
        };
        input.routes.push(RouteFacts {
            method: route.method.clone(),
            path: route.path.clone(),
            handler: route
                .handler
                .as_deref()
                .and_then(|h| function_index.get(h).copied()),
            file,
            registrar: functions.iter().position(|f| {
                f.file == route.file && f.line <= route.line && route.line <= f.end_line
            }),
        });
    }
    input
}

/// `name` for a free function, `Type::name` for a method: what follows `FILE::` in reports.
fn function_label(item: &model::Item) -> String {
    match &item.owner {
        Some(owner) => format!("{}::{}", owner.self_type, item.name),
        None => item.name.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auxiliary_paths_are_recognised() {
        assert!(is_auxiliary("tests/api.rs"));
        assert!(is_auxiliary("crates/web/tests/it/main.rs"));
        assert!(is_auxiliary("build.rs"));
        assert!(is_auxiliary("examples/demo.rs"));
        assert!(!is_auxiliary("src/tests.rs"));
        assert!(!is_auxiliary("src/handlers/reviews.rs"));
    }
}
