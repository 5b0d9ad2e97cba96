//! Every format on the cinema analysis, as committed snapshots (CI fails on a mismatch), and the
//! promise that the same analysis always gives the same bytes.

use analyzer::report::{Detail, Format, RenderOptions, render, terminal_summary};

use crate::fixture::cinema;

const CONTEXTS: RenderOptions = RenderOptions {
    detail: Detail::Contexts,
};
const UNITS: RenderOptions = RenderOptions {
    detail: Detail::Units,
};

#[test]
fn html() {
    insta::assert_snapshot!("cinema.html", render(&cinema(), Format::Html, &CONTEXTS));
}

#[test]
fn markdown() {
    insta::assert_snapshot!("cinema.md", render(&cinema(), Format::Markdown, &CONTEXTS));
}

#[test]
fn json() {
    insta::assert_snapshot!("cinema.json", render(&cinema(), Format::Json, &CONTEXTS));
}

#[test]
fn dot_contexts() {
    insta::assert_snapshot!("cinema.dot", render(&cinema(), Format::Dot, &CONTEXTS));
}

#[test]
fn dot_units() {
    insta::assert_snapshot!("cinema-units.dot", render(&cinema(), Format::Dot, &UNITS));
}

#[test]
fn mermaid_contexts() {
    insta::assert_snapshot!("cinema.mmd", render(&cinema(), Format::Mermaid, &CONTEXTS));
}

#[test]
fn mermaid_units() {
    insta::assert_snapshot!(
        "cinema-units.mmd",
        render(&cinema(), Format::Mermaid, &UNITS)
    );
}

#[test]
fn terminal() {
    insta::assert_snapshot!("cinema.txt", terminal_summary(&cinema()));
}
