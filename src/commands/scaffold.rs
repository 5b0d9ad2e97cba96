//! `strangler scaffold`: generate a service crate from one context and write it to `--out`.
//!
//! The scaffold library returns the files; this shell writes them (refusing a non-empty
//! directory unless `--force`, and never deleting anything), formats the Rust files with
//! `rustfmt` when it is installed, and prints what was carried over, bridged and stubbed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use analyzer::analysis::Analysis;
use analyzer::contexts::ProposalOptions;
use analyzer::{CodeModel, ModelOptions};
use anyhow::{Context, bail};
use scaffold::{GeneratedService, ScaffoldOptions};

use crate::cli::ScaffoldArgs;

/// Runs `strangler scaffold`.
pub fn run(args: &ScaffoldArgs) -> anyhow::Result<()> {
    refuse_non_empty(&args.out, args.force)?;
    let (root, model, analysis) = load(args)?;
    let options = ScaffoldOptions {
        source_root: root,
        name: args.name.clone(),
        port: args.port,
    };
    let service = scaffold::generate(&model, &analysis, &args.context, &options)?;
    write_files(&args.out, &service)?;
    let formatted = format_rust(&args.out, &service);
    print_summary(&args.out, &service, formatted)
}

/// The monolith's root, its code model and the analysis naming the contexts.
fn load(args: &ScaffoldArgs) -> anyhow::Result<(PathBuf, CodeModel, Analysis)> {
    if let Some(file) = &args.analysis {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        let analysis: Analysis = serde_json::from_str(&text)
            .with_context(|| format!("{} is not an analysis JSON", file.display()))?;
        let as_given = PathBuf::from(&analysis.root);
        let beside_file = file
            .parent()
            .map(|dir| dir.join(&analysis.root))
            .unwrap_or_else(|| as_given.clone());
        let root = if as_given.is_dir() {
            as_given
        } else if beside_file.is_dir() {
            beside_file
        } else {
            bail!(
                "the analysis's root `{}` is not a directory (relative to here or to {})",
                analysis.root,
                file.display()
            );
        };
        let model = analyzer::build_model(&root, &ModelOptions::default())?;
        return Ok((root, model, analysis));
    }
    let root = args.from.clone().unwrap_or_else(|| PathBuf::from("."));
    let model = analyzer::build_model(&root, &ModelOptions::default())?;
    let analysis = analyzer::analyze_model(
        &model,
        &root.display().to_string(),
        &ProposalOptions::default(),
    );
    Ok((root, model, analysis))
}

fn refuse_non_empty(out: &Path, force: bool) -> anyhow::Result<()> {
    if out.exists() && !out.is_dir() {
        bail!("{}: exists and is not a directory", out.display());
    }
    let non_empty = out.is_dir()
        && std::fs::read_dir(out)
            .with_context(|| format!("cannot read {}", out.display()))?
            .next()
            .is_some();
    if non_empty && !force {
        bail!(
            "{} is not empty; choose an empty directory, or pass --force to overwrite the \
             generated files (other files are left alone)",
            out.display()
        );
    }
    Ok(())
}

fn write_files(out: &Path, service: &GeneratedService) -> anyhow::Result<()> {
    for (relative, text) in &service.files {
        let path = out.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// Formats the Rust files with rustfmt (carried code is printed by prettyplease, whose layout
/// differs from rustfmt's in places). Returns whether it ran.
fn format_rust(out: &Path, service: &GeneratedService) -> bool {
    let files: Vec<PathBuf> = service.rust_files().map(|path| out.join(path)).collect();
    Command::new("rustfmt")
        .args(["--edition", "2024"])
        .args(&files)
        .status()
        .is_ok_and(|status| status.success())
}

fn print_summary(out: &Path, service: &GeneratedService, formatted: bool) -> anyhow::Result<()> {
    let summary = &service.summary;
    let mut stdout = std::io::stdout().lock();
    writeln!(
        stdout,
        "generated {} ({} context) in {}: {} files",
        service.name,
        service.context,
        out.display(),
        service.files.len()
    )?;
    writeln!(stdout, "routes: {}", summary.routes.join(", "))?;
    writeln!(stdout, "tables: {}", summary.tables.join(", "))?;
    writeln!(stdout, "carried over:")?;
    for entry in &summary.carried_files {
        writeln!(stdout, "  {} <- {} ({})", entry.what, entry.at, entry.note)?;
    }
    for (title, entries) in [
        ("bridged to the owner's API", &summary.bridged),
        ("stubbed (TODO(strangler))", &summary.stubbed),
    ] {
        writeln!(stdout, "{title}: {}", entries.len())?;
        for entry in entries {
            writeln!(stdout, "  {} at {}: {}", entry.what, entry.at, entry.note)?;
        }
    }
    for route in &summary.skipped_routes {
        writeln!(stdout, "not served (no handler function): {route}")?;
    }
    if !formatted {
        writeln!(
            stdout,
            "note: rustfmt did not run; format the crate with `cargo fmt` before committing it"
        )?;
    }
    writeln!(
        stdout,
        "next: cd {} && cargo test, then `{} copy-from --monolith-db PATH`",
        out.display(),
        service.name
    )?;
    stdout.flush()?;
    Ok(())
}
