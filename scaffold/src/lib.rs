//! Scaffold renders one proposed bounded context as a new service crate: a map from relative
//! path to file contents. It writes nothing itself; the CLI puts the files on disk.
//!
//! The steps: `plan` decides which items of the monolith the service needs and what becomes of
//! each (carried over as is, bridged to the owning service over HTTP, or stubbed); `carry`
//! re-prints the chosen source files through syn + prettyplease with those rewrites (new bodies
//! from `bodies`, error constructors found by `errors_type`, `use` lines trimmed by `imports`);
//! `schema`
//! slices the DDL of the tables the context owns out of the monolith's migrations; `render`
//! fills the askama templates of `templates/service/` (server, ops endpoints, data copy,
//! Dockerfile, Kubernetes manifests, proxy route block, tests, README).
#![deny(clippy::print_stdout, clippy::print_stderr)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use analyzer::CodeModel;
use analyzer::analysis::Analysis;

mod bodies;
mod carry;
mod errors_type;
mod imports;
mod plan;
mod render;
mod schema;
mod splice;

/// Choices for one scaffold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScaffoldOptions {
    /// The monolith's root, the directory the model's relative paths start from: the carried
    /// code and the migrations are read from there.
    pub source_root: PathBuf,
    /// Package name of the new crate; `<context>-service` when `None`.
    pub name: Option<String>,
    /// Port the service listens on by default (and in its container and manifests).
    pub port: u16,
}

/// What became of one piece of the monolith's code in the new service.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SummaryEntry {
    /// The monolith's item (`src/services/reviews.rs::list_reviews`) or file.
    pub what: String,
    /// `FILE:LINE` in the monolith.
    pub at: String,
    /// Why it was bridged or stubbed, in words (empty for carried code).
    pub note: String,
}

/// The summary the CLI prints and the README lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Files carried over (the service's path, and the monolith's path it came from).
    pub carried_files: Vec<SummaryEntry>,
    /// Functions whose body now calls the owning service over HTTP.
    pub bridged: Vec<SummaryEntry>,
    /// Functions whose body is a stub returning an error, with a `TODO(strangler)` comment.
    pub stubbed: Vec<SummaryEntry>,
    /// Routes the service serves, `METHOD /path`.
    pub routes: Vec<String>,
    /// Tables the service owns (its migrations create them, `copy-from` fills them).
    pub tables: Vec<String>,
    /// Routes of the context that could not be registered (no handler function found).
    pub skipped_routes: Vec<String>,
}

/// A generated service crate, not yet on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedService {
    /// Package name.
    pub name: String,
    /// The context it was generated from.
    pub context: String,
    /// Every file, by its path relative to the crate's directory.
    pub files: BTreeMap<PathBuf, String>,
    /// What was carried over, bridged and stubbed.
    pub summary: Summary,
}

impl GeneratedService {
    /// The Rust source files (for a formatter run after writing).
    pub fn rust_files(&self) -> impl Iterator<Item = &Path> {
        self.files
            .keys()
            .map(PathBuf::as_path)
            .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
    }
}

/// Why no service could be generated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScaffoldError {
    /// The analysis has no context of that name.
    #[error("no context named `{name}` in the analysis (known: {known})")]
    UnknownContext {
        /// The name asked for.
        name: String,
        /// The names the analysis has, comma-separated.
        known: String,
    },
    /// A source file of the monolith could not be read.
    #[error("{}: cannot read", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A source file the service needs does not parse as Rust.
    #[error("{file}: does not parse as Rust: {message}")]
    Parse {
        /// The file, relative to the root.
        file: String,
        /// What syn said.
        message: String,
    },
    /// The context's code does not have the shape the generator supports.
    #[error("cannot scaffold `{context}`: {reason}")]
    Unsupported {
        /// The context.
        context: String,
        /// What is missing.
        reason: String,
    },
    /// A package name that cargo would refuse.
    #[error(
        "`{0}` is not a valid package name (letters, digits, `-`, `_`, starting with a letter)"
    )]
    InvalidName(String),
    /// A template failed to render.
    #[error("template {template}: {message}")]
    Template {
        /// The template's path.
        template: &'static str,
        /// What askama said.
        message: String,
    },
}

/// Generates the service crate of `context`.
pub fn generate(
    model: &CodeModel,
    analysis: &Analysis,
    context: &str,
    options: &ScaffoldOptions,
) -> Result<GeneratedService, ScaffoldError> {
    let name = match &options.name {
        Some(name) => name.clone(),
        None => format!("{}-service", context.to_ascii_lowercase().replace('_', "-")),
    };
    if !is_valid_package_name(&name) {
        return Err(ScaffoldError::InvalidName(name));
    }
    let service_plan = plan::plan(model, analysis, context)?;
    let carried = carry::carry(model, &service_plan, &options.source_root)?;
    let migrations = schema::migrations(
        model,
        &service_plan,
        &carried.included_sql,
        &options.source_root,
    )?;
    render::render(render::Inputs {
        plan: &service_plan,
        carried,
        migrations,
        name,
        port: options.port,
    })
}

/// A name that is at once a cargo package, a binary, a Kubernetes object and a DNS label.
fn is_valid_package_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-')
        && name.len() <= 63
}
