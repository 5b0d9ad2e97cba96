//! `strangler analyze`: run the analysis pipeline on a tree and write the result.
//!
//! `--format json` prints the analysis in the JSON contract of `docs/ARCHITECTURE.md`
//! (schema_version 1: contexts, shared kernel, tables, moves, seams, metrics, diagnostics).
//! `--format model` prints the raw code model instead (per module its routes and table accesses,
//! the routes, the tables with their readers and writers), which helps when a proposal surprises.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::OnceLock;

use analyzer::contexts::ProposalOptions;
use analyzer::{Access, CodeModel, ModelOptions, Progress, SqlDialect};
use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use analyzer::report::{self, Detail, Format, RenderOptions};

use crate::cli::{AnalyzeArgs, AnalyzeFormat, DetailArg, DialectArg, ProposalArgs};

/// Where the HTML report goes when neither --format nor --out is given.
const DEFAULT_REPORT: &str = "strangler-report.html";

/// Trees with fewer files than this finish too fast for a progress bar to help.
const PROGRESS_MIN_FILES: usize = 500;

/// The code model document (`--format model`).
#[derive(Debug, Serialize)]
pub struct ModelJson<'a> {
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

/// Builds the JSON document of a code model.
pub fn model_json<'a>(root: &Path, model: &'a CodeModel) -> ModelJson<'a> {
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
    ModelJson {
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
    let model_options = ModelOptions {
        dialect: args.dialect.map(|d| match d {
            DialectArg::Sqlite => SqlDialect::Sqlite,
            DialectArg::Postgres => SqlDialect::Postgres,
            DialectArg::Mysql => SqlDialect::Mysql,
            DialectArg::Generic => SqlDialect::Generic,
        }),
        include_tests: args.include_tests,
        threads: usize::from(args.threads),
        ..ModelOptions::default()
    };
    let proposal = proposal_options(&args.path, &args.proposal)?;
    let model = build_model(&args.path, &model_options)?;
    check_model(&args.path, &model, &proposal)?;
    let root_label = args.path.display().to_string();
    let format = match args.format {
        Some(AnalyzeFormat::Model) => {
            let mut text = serde_json::to_string_pretty(&model_json(&args.path, &model))?;
            text.push('\n');
            return write_output(args.out.as_deref(), &text);
        }
        Some(AnalyzeFormat::Html) => Format::Html,
        Some(AnalyzeFormat::Md) => Format::Markdown,
        Some(AnalyzeFormat::Json) => Format::Json,
        Some(AnalyzeFormat::Dot) => Format::Dot,
        Some(AnalyzeFormat::Mermaid) => Format::Mermaid,
        None => Format::Html,
    };
    let analysis = analyzer::analyze_model(&model, &root_label, &proposal);
    if let Some(truth) = &args.truth {
        report_score(truth, &analysis)?;
    }
    let options = RenderOptions {
        detail: match args.detail {
            None | Some(DetailArg::Contexts) => Detail::Contexts,
            Some(DetailArg::Units) => Detail::Units,
        },
    };
    let text = report::render(&analysis, format, &options);
    if args.format.is_some() {
        return write_output(args.out.as_deref(), &text);
    }
    // The default: the HTML report to a file, and a one-screen summary on the terminal.
    let path = args
        .out
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from(DEFAULT_REPORT));
    write_output(Some(&path), &text)?;
    let mut summary = report::terminal_summary(&analysis);
    summary.push_str(&format!("\nreport: {}\n", path.display()));
    write_output(None, &summary)
}

/// Writes to the file, or to stdout.
fn write_output(out: Option<&Path>, text: &str) -> anyhow::Result<()> {
    match out {
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

/// Builds the code model, with a progress bar on a terminal for large trees.
pub fn build_model(root: &Path, options: &ModelOptions) -> anyhow::Result<CodeModel> {
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
    let model = analyzer::build_model_with_progress(root, options, &progress)?;
    if let Some(Some(bar)) = bar.get() {
        bar.finish_and_clear();
    }
    Ok(model)
}

/// Refuses pins that name no file of the tree, and warns when the tree holds no Rust at all.
pub fn check_model(
    root: &Path,
    model: &CodeModel,
    proposal: &ProposalOptions,
) -> anyhow::Result<()> {
    for file in proposal.pins.keys() {
        if !model.files.contains_key(file) {
            anyhow::bail!(
                "pin `{file}`: no such Rust file under {} (pins name files relative to the analyzed directory, like `src/handlers/fares.rs`)",
                root.display()
            );
        }
    }
    if model.files.is_empty() {
        let mut err = std::io::stderr().lock();
        writeln!(
            err,
            "warning: no Rust files under {}; is it the root of a crate or workspace?",
            root.display()
        )?;
    }
    Ok(())
}

/// The `[analyze]` section of a strangler.toml: knobs and pins.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AnalyzeSection {
    resolution: Option<f64>,
    contexts: Option<u16>,
    #[serde(default)]
    pins: BTreeMap<String, String>,
}

/// Clustering knobs: the config file's `[analyze]` section, then the command line on top.
pub fn proposal_options(root: &Path, args: &ProposalArgs) -> anyhow::Result<ProposalOptions> {
    let config_path = match &args.config {
        Some(path) => Some(path.clone()),
        None => Some(root.join("strangler.toml")).filter(|p| p.is_file()),
    };
    let section = match &config_path {
        Some(path) => read_analyze_section(path)?,
        None => AnalyzeSection::default(),
    };
    let mut pins = section.pins;
    pins.extend(args.pins.iter().cloned());
    Ok(ProposalOptions {
        resolution: args.resolution.or(section.resolution),
        target_contexts: args.target_contexts.or(section.contexts).map(usize::from),
        pins,
    })
}

fn read_analyze_section(path: &Path) -> anyhow::Result<AnalyzeSection> {
    #[derive(serde::Deserialize)]
    struct File {
        #[serde(default)]
        analyze: Option<toml::Value>,
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let file: File = toml::from_str(&text).map_err(|error| config_error(path, &text, &error))?;
    let Some(section) = file.analyze else {
        return Ok(AnalyzeSection::default());
    };
    let section: AnalyzeSection = section.try_into().map_err(|error: toml::de::Error| {
        anyhow::anyhow!("{}: [analyze]: {}", path.display(), error.message())
    })?;
    if let Some(resolution) = section.resolution
        && !(resolution.is_finite() && resolution > 0.0)
    {
        anyhow::bail!("{}: [analyze] resolution must be above 0", path.display());
    }
    Ok(section)
}

/// `FILE:LINE: reason` for a TOML error.
fn config_error(path: &Path, text: &str, error: &toml::de::Error) -> anyhow::Error {
    let line = error
        .span()
        .map(|span| text[..span.start.min(text.len())].lines().count().max(1));
    match line {
        Some(line) => anyhow::anyhow!("{}:{line}: {}", path.display(), error.message()),
        None => anyhow::anyhow!("{}: {}", path.display(), error.message()),
    }
}

/// Prints how the proposal scores against a ground truth.
fn report_score(truth: &Path, analysis: &analyzer::analysis::Analysis) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(truth)
        .with_context(|| format!("cannot read {}", truth.display()))?;
    let truth_value: analyzer::score::GroundTruth = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a contexts.json ground truth", truth.display()))?;
    let score = analyzer::score::score(&truth_value, analysis);
    let mut err = std::io::stderr().lock();
    writeln!(
        err,
        "score against {}: ARI {:.3} over {} files, table owners {:.0}%, routes found {:.0}%, in the right context {:.0}%, moves {}/{}",
        truth.display(),
        score.ari,
        score.files,
        score.table_owners * 100.0,
        score.route_recall * 100.0,
        score.route_contexts * 100.0,
        score.moves_found.0,
        score.moves_found.1
    )?;
    for (file, expected, got) in &score.misplaced_files {
        writeln!(err, "  {file}: expected {expected}, proposed {got}")?;
    }
    for (table, expected, got) in &score.wrong_owners {
        writeln!(
            err,
            "  table {table}: expected owner {expected}, proposed {got}"
        )?;
    }
    Ok(())
}
