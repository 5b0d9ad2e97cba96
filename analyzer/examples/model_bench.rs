//! Benchmark driver for the code model (not a test; see `bench/analyzer.sh` and
//! `docs/PERFORMANCE.md`).
//!
//! ```text
//! model_bench generate DIR LINES      write a synthetic layered monolith of about LINES lines
//! model_bench parse DIR               bare syn::parse_file over every .rs file, one thread
//! model_bench model DIR THREADS       analyzer::build_model with THREADS workers
//! model_bench dump DIR                the model (default options) and the analysis as JSON,
//!                                     to check that an optimisation changed no output
//! ```
//!
//! `parse` and `model` read the same files: every `.rs` file the `ignore` walk finds outside
//! `target/` (the model is built with `include_tests`, so it skips nothing the bare parse reads).
#![allow(clippy::print_stdout, clippy::print_stderr, missing_docs)]

use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The allocator of the `strangler` binary, so that what this measures is what users run (the
/// bare parse uses it too).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["generate", dir, lines] => lines
            .parse()
            .map_err(|e| format!("LINES: {e}"))
            .and_then(|lines| generate(Path::new(dir), lines)),
        ["parse", dir] => bare_parse(Path::new(dir)),
        ["model", dir, threads] => threads
            .parse()
            .map_err(|e| format!("THREADS: {e}"))
            .and_then(|threads| model(Path::new(dir), threads)),
        ["dump", dir] => dump(Path::new(dir)),
        _ => Err(
            "usage: model_bench generate DIR LINES | parse DIR | model DIR THREADS | dump DIR"
                .into(),
        ),
    };
    if let Err(message) = result {
        eprintln!("error: {message}");
        std::process::exit(1);
    }
}

fn rust_files(root: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = ignore::WalkBuilder::new(root)
        .require_git(false)
        .filter_entry(|e| !(e.file_type().is_some_and(|t| t.is_dir()) && e.file_name() == "target"))
        .build()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
        .map(|e| e.into_path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .collect();
    files.sort();
    files
}

fn bare_parse(root: &Path) -> Result<(), String> {
    let started = Instant::now();
    let (mut lines, mut parsed, mut failed) = (0usize, 0usize, 0usize);
    for path in rust_files(root) {
        let Ok(text) = std::fs::read_to_string(&path) else {
            failed += 1;
            continue;
        };
        lines += text.lines().count();
        match syn::parse_file(&text) {
            Ok(file) => {
                parsed += 1;
                drop(file);
            }
            Err(_) => failed += 1,
        }
    }
    report(
        "bare syn::parse_file, 1 thread",
        lines,
        started,
        &format!("{parsed} parsed, {failed} failed"),
    );
    Ok(())
}

fn model(root: &Path, threads: usize) -> Result<(), String> {
    let options = analyzer::ModelOptions {
        include_tests: true,
        threads,
        ..analyzer::ModelOptions::default()
    };
    let started = Instant::now();
    let model = analyzer::build_model(root, &options).map_err(|e| e.to_string())?;
    let lines: usize = model.files.values().map(|f| f.lines as usize).sum();
    let references: usize = model
        .items
        .values()
        .map(|i| i.references.len())
        .sum::<usize>()
        + model
            .files
            .values()
            .map(|f| f.references.len())
            .sum::<usize>();
    let detail = format!(
        "{} files, {} items, {references} references, {} routes, {} tables, {} diagnostics",
        model.files.len(),
        model.items.len(),
        model.routes.len(),
        model.tables.len(),
        model.diagnostics.len()
    );
    report(
        &format!("build_model, {threads} thread(s)"),
        lines,
        started,
        &detail,
    );
    // Freeing the model is part of the process's wall time (the bare parse frees each file as
    // it goes); shown apart so that the two can be told apart.
    let dropping = Instant::now();
    drop(model);
    println!("  model freed in {:.3} s", dropping.elapsed().as_secs_f64());
    Ok(())
}

fn dump(root: &Path) -> Result<(), String> {
    let model = analyzer::build_model(root, &analyzer::ModelOptions::default())
        .map_err(|e| e.to_string())?;
    let model = serde_json::to_string_pretty(&model).map_err(|e| e.to_string())?;
    let analysis = analyzer::analyze(root, "tree", &analyzer::AnalyzeOptions::default())
        .map_err(|e| e.to_string())?;
    let analysis = serde_json::to_string_pretty(&analysis).map_err(|e| e.to_string())?;
    // Written, not printed: `model_bench dump DIR | head` closes the pipe early, which is fine.
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{model}\n{analysis}").and_then(|()| out.flush()) {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => Err(error.to_string()),
        _ => Ok(()),
    }
}

fn report(what: &str, lines: usize, started: Instant, detail: &str) {
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{what}: {lines} lines in {seconds:.2} s = {:.0} lines/s ({detail})",
        lines as f64 / seconds.max(1e-9)
    );
}

/// Bounded contexts of the synthetic monolith; each gets a table, a repository, a service, a
/// handler module and model types, spread over layers like a real layered monolith.
const AREAS: [&str; 12] = [
    "movies",
    "showtimes",
    "customers",
    "bookings",
    "reviews",
    "fares",
    "payments",
    "loyalty",
    "cinemas",
    "staff",
    "promotions",
    "reports",
];

fn generate(dir: &Path, target_lines: usize) -> Result<(), String> {
    let write = |path: &str, text: &str| -> Result<usize, String> {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(text.lines().count())
    };
    let mut lines = write(
        "Cargo.toml",
        "[package]\nname = \"synthetic-monolith\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\naxum = \"0.8\"\nrusqlite = \"0.31\"\n",
    )?;
    // A chunk is one file per area and layer, six functions each per round, about 450 lines
    // per area and round; files hold four rounds (300 to 700 lines, like a real module).
    const ROUNDS_PER_FILE: usize = 4;
    let per_round = AREAS.len() * 430;
    let rounds = target_lines.div_ceil(per_round).max(1);
    let chunks = rounds.div_ceil(ROUNDS_PER_FILE);
    let mut schema = String::new();
    for (index, area) in AREAS.iter().enumerate() {
        let other = AREAS[(index + 1) % AREAS.len()];
        let _ = writeln!(
            schema,
            "CREATE TABLE {area} (id INTEGER PRIMARY KEY, name TEXT, kind INTEGER, total INTEGER, updated INTEGER, {other}_id INTEGER REFERENCES {other}(id));"
        );
    }
    lines += write("migrations/001_schema.sql", &schema)?;
    let mut lib = String::from(
        "pub mod common;\npub mod handlers;\npub mod models;\npub mod repo;\npub mod services;\n",
    );
    lib.push_str("pub fn app() -> axum::Router {\n    axum::Router::new()\n");
    for area in AREAS {
        for chunk in 0..chunks {
            let _ = writeln!(
                lib,
                "        .nest(\"/api/{area}/{chunk}\", handlers::{area}_{chunk}::router())"
            );
        }
    }
    lib.push_str("}\n");
    lines += write("src/lib.rs", &lib)?;
    lines += write(
        "src/common/mod.rs",
        "pub struct Db { pub path: String }\nimpl Db {\n    pub fn conn(&self) -> rusqlite::Connection { rusqlite::Connection::open(&self.path).unwrap() }\n}\npub struct Page { pub limit: i64, pub offset: i64 }\n#[derive(Debug)]\npub enum AppError { NotFound, Db(String) }\n",
    )?;
    for layer in ["handlers", "models", "repo", "services"] {
        let mut module = String::new();
        for area in AREAS {
            for chunk in 0..chunks {
                let _ = writeln!(module, "pub mod {area}_{chunk};");
            }
        }
        lines += write(&format!("src/{layer}/mod.rs"), &module)?;
    }
    for area in AREAS {
        for chunk in 0..chunks {
            let name = format!("{area}_{chunk}");
            let mut handlers = format!(
                "use axum::routing::{{get, post}};\nuse crate::common::Db;\nuse crate::services::{name} as service;\n\npub fn router() -> axum::Router {{\n    axum::Router::new()\n"
            );
            let mut models = String::from("use crate::common::Page;\n\n");
            let mut repo = String::from("use crate::common::{AppError, Db};\n\n");
            let mut services = format!(
                "use crate::common::{{AppError, Db}};\nuse crate::repo::{name} as repo;\n\n"
            );
            let mut handler_fns = String::new();
            for round in chunk * ROUNDS_PER_FILE..(chunk + 1) * ROUNDS_PER_FILE {
                for n in 0..6 {
                    let k = round * 6 + n;
                    let other = AREAS[(k * 7 + area.len()) % AREAS.len()];
                    let _ = writeln!(
                        handlers,
                        "        .route(\"/{k}/{{id}}\", get(show_{k}).post(update_{k}))"
                    );
                    let _ = write!(
                        handler_fns,
                        "\n/// Shows item {k}.\npub async fn show_{k}(db: Db) -> String {{\n    match service::load_{k}(&db, {k}) {{\n        Ok(Some(value)) => format!(\"{{value}}\"),\n        Ok(None) => String::from(\"not found\"),\n        Err(error) => format!(\"{{error:?}}\"),\n    }}\n}}\n\npub async fn update_{k}(db: Db) -> String {{\n    let total = (0..{k}).map(|i| i * 2 + 1).filter(|i| i % 3 == 0).sum::<i64>();\n    service::store_{k}(&db, total).map(|_| String::new()).unwrap_or_default()\n}}\n"
                    );
                    let _ = write!(
                        models,
                        "\n#[derive(Debug, Clone, PartialEq)]\npub struct Record{k} {{\n    pub id: i64,\n    pub name: String,\n    pub amount: f64,\n    pub tags: Vec<String>,\n    pub page: Option<Page>,\n}}\n\nimpl Record{k} {{\n    pub fn score_{k}(&self) -> f64 {{\n        let mut score = self.amount;\n        for tag in &self.tags {{\n            if tag.starts_with('a') {{ score += 1.0; }} else if tag.len() > 3 {{ score *= 1.1; }} else {{ score -= 0.5; }}\n        }}\n        score\n    }}\n}}\n"
                    );
                    let _ = write!(
                        repo,
                        "\npub fn find_{k}(db: &Db, id: i64) -> Result<Option<String>, AppError> {{\n    let conn = db.conn();\n    let mut statement = conn\n        .prepare(\"SELECT a.name, o.id FROM {area} a JOIN {other} o ON o.{area}_id = a.id WHERE a.id = ?1 AND a.kind = {k}\")\n        .map_err(|e| AppError::Db(e.to_string()))?;\n    let mut rows = statement.query([id]).map_err(|e| AppError::Db(e.to_string()))?;\n    match rows.next() {{\n        Ok(Some(row)) => Ok(row.get(0).ok()),\n        Ok(None) => Ok(None),\n        Err(e) => Err(AppError::Db(e.to_string())),\n    }}\n}}\n\npub fn save_{k}(db: &Db, value: i64) -> Result<usize, AppError> {{\n    db.conn()\n        .execute(\n            \"UPDATE {area} SET total = total + ?1, updated = (SELECT MAX(id) FROM {other}) WHERE kind = {k}\",\n            [value],\n        )\n        .map_err(|e| AppError::Db(e.to_string()))\n}}\n"
                    );
                    let _ = write!(
                        services,
                        "\npub fn load_{k}(db: &Db, id: i64) -> Result<Option<String>, AppError> {{\n    let found = repo::find_{k}(db, id)?;\n    let adjusted = found.map(|name| {{\n        let mut name = name.trim().to_string();\n        if name.len() > {k} {{ name.truncate({k}); }}\n        name\n    }});\n    Ok(adjusted)\n}}\n\npub fn store_{k}(db: &Db, total: i64) -> Result<(), AppError> {{\n    if total < 0 {{\n        return Err(AppError::NotFound);\n    }}\n    let rows = repo::save_{k}(db, total)?;\n    if rows == 0 {{ Err(AppError::NotFound) }} else {{ Ok(()) }}\n}}\n"
                    );
                }
            }
            handlers.push_str("}\n");
            handlers.push_str(&handler_fns);
            lines += write(&format!("src/handlers/{name}.rs"), &handlers)?;
            lines += write(&format!("src/models/{name}.rs"), &models)?;
            lines += write(&format!("src/repo/{name}.rs"), &repo)?;
            lines += write(&format!("src/services/{name}.rs"), &services)?;
        }
    }
    println!("generated {lines} lines in {}", dir.display());
    Ok(())
}
