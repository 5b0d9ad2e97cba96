//! A readable, stable text summary of a code model, for snapshots: routes, tables, and per
//! item the references and SQL accesses. Reviewing a snapshot diff reviews an extraction rule.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use analyzer::{Access, CodeModel, ModelOptions};

/// The fixture directory of that name.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Builds the model of a fixture with default options.
pub fn model_of(name: &str) -> CodeModel {
    analyzer::build_model(&fixture(name), &ModelOptions::default()).expect("fixture exists")
}

/// The summary text.
pub fn summary(model: &CodeModel) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "dialect: {:?}", model.dialect);
    out.push_str("crates:\n");
    for info in &model.crates {
        let _ = writeln!(out, "  {} {:?} {}", info.name, info.kind, info.root_file);
    }
    out.push_str("files:\n");
    for file in model.files.values() {
        let _ = writeln!(
            out,
            "  {} = {}::{}{}",
            file.path,
            file.crate_name,
            file.module_path,
            if file.declared { "" } else { " (guessed)" }
        );
    }
    out.push_str("routes:\n");
    for route in &model.routes {
        let _ = writeln!(
            out,
            "  {} -> {} [{}:{} {:?}]",
            route.label(),
            route
                .handler
                .as_deref()
                .unwrap_or(&format!("? {}", route.handler_name)),
            route.file,
            route.line,
            route.framework
        );
    }
    out.push_str("tables:\n");
    for table in model.tables.values() {
        let columns: Vec<String> = table
            .columns
            .iter()
            .map(|c| format!("{}{}", c.name, if c.primary_key { "*" } else { "" }))
            .collect();
        let keys: Vec<String> = table
            .foreign_keys
            .iter()
            .map(|k| format!("{:?}->{}", k.columns, k.to_table))
            .collect();
        let at: Vec<String> = table
            .declared_at
            .iter()
            .map(|l| format!("{}:{}", l.file, l.line))
            .collect();
        let _ = writeln!(
            out,
            "  {} ({}) fk [{}] at {}",
            table.name,
            columns.join(", "),
            keys.join(", "),
            at.join(" ")
        );
    }
    out.push_str("items:\n");
    for item in model.items.values() {
        let _ = writeln!(
            out,
            "  {} {:?} {}:{}",
            item.id, item.kind, item.file, item.line
        );
        for reference in &item.references {
            let _ = writeln!(
                out,
                "    {:?} {} @{}",
                reference.kind, reference.target, reference.line
            );
        }
        for access in &item.sql {
            let rw = match access.access {
                Access::Read => "reads",
                Access::Write => "writes",
            };
            let _ = writeln!(
                out,
                "    {rw} {} ({:?}, {:?}) @{}",
                access.table, access.statement, access.origin, access.line
            );
        }
        for call in &item.unresolved_calls {
            let _ = writeln!(out, "    unresolved .{}() @{}", call.method, call.line);
        }
        if !item.external_crates.is_empty() {
            let crates: Vec<&str> = item.external_crates.iter().map(String::as_str).collect();
            let _ = writeln!(out, "    external {}", crates.join(", "));
        }
    }
    out.push_str("file references:\n");
    for file in model.files.values() {
        for reference in &file.references {
            let _ = writeln!(
                out,
                "  {}:{} {} {:?} {}",
                file.path,
                reference.line,
                reference.from.as_deref().unwrap_or("-"),
                reference.kind,
                reference.target
            );
        }
    }
    out.push_str("diagnostics:\n");
    for diagnostic in &model.diagnostics {
        let _ = writeln!(
            out,
            "  {}:{} {}",
            diagnostic.file,
            diagnostic
                .line
                .map_or_else(|| "-".to_string(), |l| l.to_string()),
            diagnostic.message
        );
    }
    out
}
