//! `strangler analyze`: build the code model of a tree and print the analysis JSON.
//!
//! The JSON follows the contract of `docs/ARCHITECTURE.md` (schema_version 1). Until contexts
//! exist it carries the parts the model already fixes: per module its routes and table
//! accesses, the routes, the tables with their readers and writers, and the diagnostics.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::OnceLock;

use analyzer::{Access, CodeModel, ModelOptions, Progress, SqlDialect};
use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use crate::cli::{AnalyzeArgs, AnalyzeFormat, DialectArg};

/// Trees with fewer files than this finish too fast for a progress bar to help.
const PROGRESS_MIN_FILES: usize = 500;

/// The analysis document.
#[derive(Debug, Serialize)]
pub struct AnalysisJson<'a> {
    /// Version of the contract.
    pub schema_version: u32,
    /// The analyzed path as given.
    pub root: String,
    /// SQL dialect used.
    pub dialect: SqlDialect,
    /// Per file: module path, the routes it serves, the tables it reads and writes.
    pub modules: Vec<ModuleJson>,
    /// Every route.
    pub routes: Vec<RouteJson<'a>>,
    /// Every declared or accessed table, with the files that read and write it.
    pub tables: Vec<TableJson<'a>>,
    /// Problems met; the rest of the tree was analyzed.
    pub diagnostics: &'a [analyzer::Diagnostic],
}

/// One source file in the analysis.
#[derive(Debug, Serialize)]
pub struct ModuleJson {
    /// Path relative to the root.
    pub file: String,
    /// Crate name.
    #[serde(rename = "crate")]
    pub crate_name: String,
    /// Module path inside the crate.
    pub module: String,
    /// Lines of code.
    pub lines: u32,
    /// Routes whose handler lives in this file (`GET /api/reviews`).
    pub routes: Vec<String>,
    /// Tables read by this file's functions (directly, not through calls).
    pub reads: Vec<String>,
    /// Tables written by this file's functions.
    pub writes: Vec<String>,
}

/// One route.
#[derive(Debug, Serialize)]
pub struct RouteJson<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// Full path.
    pub path: &'a str,
    /// Handler item id, when it is a workspace function.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handler: Option<&'a str>,
    /// File of the handler (or of the registration when the handler is unknown).
    pub module: &'a str,
    /// Where the route is registered.
    pub registered_at: String,
}

/// One table.
#[derive(Debug, Serialize)]
pub struct TableJson<'a> {
    /// Table name.
    pub name: String,
    /// Whether DDL or a diesel `table!` declares it.
    pub declared: bool,
    /// Column names.
    pub columns: Vec<&'a str>,
    /// Tables this one has foreign keys to.
    pub references: Vec<&'a str>,
    /// Files whose functions read it.
    pub readers: Vec<String>,
    /// Files whose functions write it.
    pub writers: Vec<String>,
}

/// Builds the JSON document of a model.
pub fn analysis_json<'a>(root: &Path, model: &'a CodeModel) -> AnalysisJson<'a> {
    let access = model.table_access_by_file();
    let mut routes_by_file: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let mut routes = Vec::new();
    for route in &model.routes {
        let module = route
            .handler
            .as_ref()
            .and_then(|h| model.items.get(h))
            .map_or(route.file.as_str(), |item| item.file.as_str());
        routes_by_file
            .entry(module)
            .or_default()
            .insert(route.label());
        routes.push(RouteJson {
            method: &route.method,
            path: &route.path,
            handler: route.handler.as_deref(),
            module,
            registered_at: format!("{}:{}", route.file, route.line),
        });
    }
    let modules = model
        .files
        .values()
        .map(|file| {
            let tables = access.get(&file.path);
            let with = |wanted: Access| -> Vec<String> {
                tables
                    .map(|t| {
                        t.iter()
                            .filter(|(_, a)| a.contains(&wanted))
                            .map(|(name, _)| name.clone())
                            .collect()
                    })
                    .unwrap_or_default()
            };
            ModuleJson {
                file: file.path.clone(),
                crate_name: file.crate_name.clone(),
                module: file.module_path.clone(),
                lines: file.lines,
                routes: routes_by_file
                    .get(file.path.as_str())
                    .map(|r| r.iter().cloned().collect())
                    .unwrap_or_default(),
                reads: with(Access::Read),
                writes: with(Access::Write),
            }
        })
        .collect();
    let mut names: BTreeSet<String> = model.tables.keys().cloned().collect();
    for tables in access.values() {
        names.extend(tables.keys().cloned());
    }
    let tables = names
        .into_iter()
        .map(|name| {
            let declared = model.tables.get(&name);
            let users = |wanted: Access| -> Vec<String> {
                access
                    .iter()
                    .filter(|(_, t)| t.get(&name).is_some_and(|a| a.contains(&wanted)))
                    .map(|(file, _)| file.clone())
                    .collect()
            };
            TableJson {
                declared: declared.is_some(),
                columns: declared.map_or_else(Vec::new, |t| {
                    t.columns.iter().map(|c| c.name.as_str()).collect()
                }),
                references: declared.map_or_else(Vec::new, |t| {
                    let set: BTreeSet<&str> =
                        t.foreign_keys.iter().map(|k| k.to_table.as_str()).collect();
                    set.into_iter().collect()
                }),
                readers: users(Access::Read),
                writers: users(Access::Write),
                name,
            }
        })
        .collect();
    AnalysisJson {
        schema_version: analyzer::SCHEMA_VERSION,
        root: root.display().to_string(),
        dialect: model.dialect,
        modules,
        routes,
        tables,
        diagnostics: &model.diagnostics,
    }
}

/// Runs `strangler analyze`.
pub fn run(args: &AnalyzeArgs) -> anyhow::Result<()> {
    let options = ModelOptions {
        dialect: args.dialect.map(|d| match d {
            DialectArg::Sqlite => SqlDialect::Sqlite,
            DialectArg::Postgres => SqlDialect::Postgres,
            DialectArg::Mysql => SqlDialect::Mysql,
            DialectArg::Generic => SqlDialect::Generic,
        }),
        include_tests: args.include_tests,
        threads: args.threads,
        ..ModelOptions::default()
    };
    let bar: OnceLock<Option<ProgressBar>> = OnceLock::new();
    let show_progress = std::io::stderr().is_terminal();
    let progress = |step: Progress| {
        if !show_progress {
            return;
        }
        let bar = bar.get_or_init(|| {
            (step.total >= PROGRESS_MIN_FILES).then(|| {
                let bar = ProgressBar::with_draw_target(
                    Some(step.total as u64),
                    ProgressDrawTarget::stderr(),
                );
                if let Ok(style) =
                    ProgressStyle::with_template("analyzing {bar:40} {pos}/{len} files")
                {
                    bar.set_style(style);
                }
                bar
            })
        });
        if let Some(bar) = bar {
            bar.set_position(step.done as u64);
        }
    };
    let model = analyzer::build_model_with_progress(&args.path, &options, &progress)?;
    if let Some(Some(bar)) = bar.get() {
        bar.finish_and_clear();
    }
    let text = match args.format {
        AnalyzeFormat::Json => {
            let mut text = serde_json::to_string_pretty(&analysis_json(&args.path, &model))?;
            text.push('\n');
            text
        }
    };
    match &args.out {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(text.as_bytes())?;
            stdout.flush()?;
        }
    }
    Ok(())
}
