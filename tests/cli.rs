//! The `strangler` binary as a user meets it: help, version, usage errors and exit codes.

use std::process::{Command, Output};

fn strangler(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strangler"))
        .args(args)
        .output()
        .expect("the strangler binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

const SUBCOMMANDS: [&str; 7] = [
    "analyze", "plan", "scaffold", "proxy", "cutover", "status", "demo",
];

#[test]
fn help_lists_all_seven_subcommands() {
    let output = strangler(&["--help"]);
    assert_eq!(output.status.code(), Some(0));
    let help = stdout(&output);
    for name in SUBCOMMANDS {
        assert!(
            help.lines().any(|line| line.trim_start().starts_with(name)),
            "`{name}` missing from --help:\n{help}"
        );
    }
}

#[test]
fn every_subcommand_has_a_long_help_with_an_example() {
    for name in SUBCOMMANDS {
        let output = strangler(&[name, "--help"]);
        assert_eq!(output.status.code(), Some(0), "{name} --help");
        let help = stdout(&output);
        assert!(
            help.contains("Example:") && help.contains(&format!("strangler {name}")),
            "{name} --help lacks an example:\n{help}"
        );
    }
}

#[test]
fn version_names_the_package_version() {
    let output = strangler(&["--version"]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        stdout(&output).trim(),
        format!("strangler {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn unknown_subcommand_is_a_usage_error() {
    let output = strangler(&["frobnicate"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("frobnicate"));
}

#[test]
fn no_subcommand_is_a_usage_error() {
    let output = strangler(&[]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn analyze_of_a_missing_path_fails_with_a_clear_error() {
    let output = strangler(&["analyze", "/nonexistent/monolith"]);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.contains("/nonexistent/monolith") && !message.contains("panicked"),
        "{message}"
    );
}

#[test]
fn a_subcommand_not_built_yet_says_so_and_fails() {
    // `demo` is the last job to land (issue 10); until then it must not pretend to work.
    let output = strangler(&["demo"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("not built yet"),
        "{}",
        stderr(&output)
    );
}

fn fixture(name: &str) -> String {
    format!(
        "{}/analyzer/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn analyze_prints_versioned_json_with_routes_and_tables_per_module() {
    let output = strangler(&["analyze", &fixture("axum_layered"), "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("valid JSON");
    assert_eq!(json["schema_version"], 1);
    assert_eq!(json["root"], fixture("axum_layered"));
    let modules = json["modules"].as_array().expect("modules");
    let repo = modules
        .iter()
        .find(|m| m["file"] == "src/repo/reviews.rs")
        .expect("the reviews repository is a module");
    assert_eq!(repo["writes"], serde_json::json!(["movies", "reviews"]));
    assert_eq!(repo["reads"], serde_json::json!(["movies", "reviews"]));
    let handlers = modules
        .iter()
        .find(|m| m["file"] == "src/handlers/reviews.rs")
        .expect("the reviews handlers are a module");
    assert_eq!(
        handlers["routes"],
        serde_json::json!([
            "GET /api/reviews",
            "GET /api/reviews/top",
            "POST /api/movies/{id}/reviews"
        ])
    );
    let tables = json["tables"].as_array().expect("tables");
    let movies = tables
        .iter()
        .find(|t| t["name"] == "movies")
        .expect("movies");
    assert_eq!(
        movies["writers"],
        serde_json::json!(["src/repo/movies.rs", "src/repo/reviews.rs"])
    );
}

#[test]
fn analyze_output_is_byte_identical_across_runs_and_out_writes_the_same() {
    let first = strangler(&["analyze", &fixture("actix_features")]);
    let second = strangler(&["analyze", &fixture("actix_features")]);
    assert_eq!(first.status.code(), Some(0));
    assert_eq!(first.stdout, second.stdout);
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("analysis.json");
    let written = strangler(&[
        "analyze",
        &fixture("actix_features"),
        "--out",
        out.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(written.status.code(), Some(0));
    assert!(written.stdout.is_empty(), "--out keeps stdout empty");
    assert_eq!(std::fs::read(&out).expect("written"), first.stdout);
}

#[test]
fn analyze_of_a_file_is_a_clear_error() {
    let output = strangler(&[
        "analyze",
        &format!("{}/Cargo.toml", env!("CARGO_MANIFEST_DIR")),
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("not a directory"),
        "{}",
        stderr(&output)
    );
}
