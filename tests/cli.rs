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
