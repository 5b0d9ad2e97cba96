//! The analyzer turns a Rust monolith's source tree into data: a code model (items, references,
//! SQL, routes), a weighted coupling graph over code and tables, proposed bounded contexts, and
//! the metrics that judge them.
//!
//! It is a pure library: it reads files and returns values plus diagnostics. It never prints and
//! never exits; the `strangler` CLI decides what to show.
//!
//! The code model is built by [`build_model`] in four steps (see `docs/ARCHITECTURE.md`):
//! discover (`discover`), parse in parallel (`extract`, `routes`, `sql`, `diesel`), place files
//! in modules (`modules`) and resolve names (`resolve`), then assemble (`build`, `route_table`,
//! `tables`).
#![deny(clippy::print_stdout, clippy::print_stderr)]

use std::path::{Path, PathBuf};

mod build;
mod diesel;
mod discover;
mod extract;
mod facts;
mod fast_hash;
pub mod model;
mod modules;
#[cfg(test)]
mod proptests;
mod resolve;
mod route_table;
mod routes;
mod sql;
mod tables;

pub use model::{
    Access, CodeModel, Column, CrateInfo, CrateKind, Diagnostic, FileReference, ForeignKey,
    Framework, Item, ItemId, ItemKind, Location, MethodOwner, Reference, ReferenceKind, Route,
    SourceFile, SqlAccess, SqlDialect, SqlOrigin, StatementKind, Table, UnresolvedCall,
};

/// Version of the analysis JSON contract described in `docs/ARCHITECTURE.md`.
pub const SCHEMA_VERSION: u32 = 1;

/// Choices for one model build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelOptions {
    /// SQL dialect; `None` detects it from the crates' database drivers.
    pub dialect: Option<SqlDialect>,
    /// Also analyze `tests/`, `examples/`, `benches/` and build scripts. (`#[cfg(test)]` code
    /// inside the crates never enters the model.)
    pub include_tests: bool,
    /// Worker threads for parsing; 0 lets rayon choose (one per core).
    pub threads: usize,
    /// Files larger than this are reported and skipped.
    pub max_file_bytes: u64,
    /// Files whose brackets nest deeper than this are reported and skipped (they would exhaust
    /// the parser's stack).
    pub max_nesting: usize,
}

impl Default for ModelOptions {
    fn default() -> Self {
        ModelOptions {
            dialect: None,
            include_tests: false,
            threads: 0,
            max_file_bytes: 64 << 20,
            max_nesting: 2_000,
        }
    }
}

/// How far a build has come: files done out of files to analyze.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Files analyzed so far.
    pub done: usize,
    /// Files to analyze in total.
    pub total: usize,
}

/// Why no model could be built at all. Everything less than that is a [`Diagnostic`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnalyzeError {
    /// The root does not exist or cannot be read.
    #[error("{}: cannot read", path.display())]
    Root {
        /// The root as given.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The root is a file, not a directory.
    #[error("{}: not a directory", path.display())]
    NotADirectory {
        /// The root as given.
        path: PathBuf,
    },
    /// The worker threads could not be started.
    #[error("cannot start worker threads: {message}")]
    Threads {
        /// What the thread pool said.
        message: String,
    },
}

/// Builds the code model of the tree at `root`.
pub fn build_model(root: &Path, options: &ModelOptions) -> Result<CodeModel, AnalyzeError> {
    build::build(root, options, &|_| {})
}

/// [`build_model`], calling `progress` as files are analyzed (from worker threads).
pub fn build_model_with_progress(
    root: &Path,
    options: &ModelOptions,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<CodeModel, AnalyzeError> {
    build::build(root, options, progress)
}

pub mod analysis;
pub mod cluster;
pub mod contexts;
pub mod graph;
pub mod graph_input;
pub mod metrics;

#[cfg(test)]
mod fixture;

/// Choices for a whole analysis: how to build the model and how to propose contexts.
#[derive(Debug, Clone, Default)]
pub struct AnalyzeOptions {
    /// Model building.
    pub model: ModelOptions,
    /// Clustering knobs and pins.
    pub proposal: contexts::ProposalOptions,
}

/// Runs the whole pipeline on the tree at `root`: model, coupling graph, contexts, metrics,
/// and the analysis in the JSON contract. `root_label` is the root as the user gave it.
pub fn analyze(
    root: &Path,
    root_label: &str,
    options: &AnalyzeOptions,
) -> Result<analysis::Analysis, AnalyzeError> {
    analyze_with_progress(root, root_label, options, &|_| {})
}

/// [`analyze`], reporting the model build's progress.
pub fn analyze_with_progress(
    root: &Path,
    root_label: &str,
    options: &AnalyzeOptions,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<analysis::Analysis, AnalyzeError> {
    let code = build_model_with_progress(root, &options.model, progress)?;
    Ok(analyze_model(&code, root_label, &options.proposal))
}

/// The steps after the model: coupling graph, contexts, metrics, assembled analysis.
pub fn analyze_model(
    code: &CodeModel,
    root_label: &str,
    options: &contexts::ProposalOptions,
) -> analysis::Analysis {
    let input = graph_input::coupling_input(code);
    let coupling = graph::CouplingGraph::build(&input);
    let proposal = contexts::propose(&input, &coupling, options);
    let measured = metrics::measure(&input, &coupling, &proposal);
    let diagnostics = code
        .diagnostics
        .iter()
        .map(|d| analysis::DiagnosticReport {
            file: d.file.clone(),
            line: d.line,
            message: d.message.clone(),
        })
        .collect();
    analysis::assemble(
        root_label,
        &input,
        &coupling,
        &proposal,
        &measured,
        diagnostics,
    )
}
pub mod report;
pub mod score;
