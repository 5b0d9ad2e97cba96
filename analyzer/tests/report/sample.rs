//! Every format on the real pipeline's analysis of `sample-monolith/`, as committed snapshots:
//! a change in extraction, clustering or rendering that alters what a team reads shows up here.

use std::path::Path;

use analyzer::report::{Detail, Format, RenderOptions, render, terminal_summary};
use analyzer::{AnalyzeOptions, analyze};

fn sample() -> analyzer::analysis::Analysis {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sample-monolith");
    analyze(&root, "sample-monolith", &AnalyzeOptions::default()).expect("sample analyzes")
}

#[test]
fn every_format_of_the_sample_monolith() {
    let analysis = sample();
    let contexts = RenderOptions {
        detail: Detail::Contexts,
    };
    let units = RenderOptions {
        detail: Detail::Units,
    };
    insta::assert_snapshot!("sample.html", render(&analysis, Format::Html, &contexts));
    insta::assert_snapshot!("sample.md", render(&analysis, Format::Markdown, &contexts));
    insta::assert_snapshot!("sample.json", render(&analysis, Format::Json, &contexts));
    insta::assert_snapshot!("sample.dot", render(&analysis, Format::Dot, &contexts));
    insta::assert_snapshot!("sample-units.dot", render(&analysis, Format::Dot, &units));
    insta::assert_snapshot!("sample.mmd", render(&analysis, Format::Mermaid, &contexts));
    insta::assert_snapshot!("sample.txt", terminal_summary(&analysis));
}

#[test]
fn the_sample_report_is_byte_identical_across_runs() {
    let options = RenderOptions {
        detail: Detail::Contexts,
    };
    for format in Format::ALL {
        assert_eq!(
            render(&sample(), format, &options),
            render(&sample(), format, &options),
            "{format:?}"
        );
    }
}
