//! Properties every report keeps: byte-identical output, escaping of whatever the analysed code
//! is named, no panic on an empty analysis, and a context map whose boxes never overlap.

use analyzer::analysis::{Analysis, OverallMetrics, Summary};
use analyzer::report::{Detail, Format, RenderOptions, render, terminal_summary};

use crate::fixture::{cinema, hostile, many};

fn every_output(analysis: &Analysis) -> Vec<String> {
    let mut outputs = Vec::new();
    for format in Format::ALL {
        for detail in [Detail::Contexts, Detail::Units] {
            outputs.push(render(analysis, format, &RenderOptions { detail }));
        }
    }
    outputs.push(terminal_summary(analysis));
    outputs
}

#[test]
fn the_same_analysis_gives_the_same_bytes() {
    let first = every_output(&cinema());
    // A copy that went through JSON, as the CLI's `--format json` and a later render would.
    let json = render(&cinema(), Format::Json, &RenderOptions::default());
    let reread: Analysis = serde_json::from_str(&json).unwrap();
    assert_eq!(first, every_output(&reread));
    assert_eq!(first, every_output(&cinema()));
    let large = many(30);
    assert_eq!(every_output(&large), every_output(&large.clone()));
}

#[test]
fn names_are_escaped_in_every_format() {
    let analysis = hostile();
    let html = render(&analysis, Format::Html, &RenderOptions::default());
    assert!(!html.contains("<script"), "raw markup in the HTML");
    assert!(html.contains("&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;"));

    let markdown = render(&analysis, Format::Markdown, &RenderOptions::default());
    // Markup is only allowed inside code spans, where Markdown shows it as text.
    let outside_code: String = markdown
        .lines()
        .flat_map(|line| line.split('`').step_by(2))
        .collect();
    assert!(
        !outside_code.contains("<script"),
        "raw markup in the Markdown"
    );
    assert!(
        markdown.contains(r"\| \*reviews\*"),
        "Markdown syntax escaped"
    );
    // Every row of a Markdown table has as many cell separators as its header.
    let mut header_cells = None;
    for line in markdown.lines() {
        if !line.starts_with('|') {
            header_cells = None;
            continue;
        }
        let cells = line.replace(r"\|", "").matches('|').count();
        let expected = *header_cells.get_or_insert(cells);
        assert_eq!(cells, expected, "a name split a table row: {line}");
    }

    for detail in [Detail::Contexts, Detail::Units] {
        let dot = render(&analysis, Format::Dot, &RenderOptions { detail });
        for line in dot.lines() {
            let unescaped_quotes = line.replace("\\\"", "").matches('"').count();
            assert_eq!(unescaped_quotes % 2, 0, "unbalanced quotes in DOT: {line}");
        }
        let mermaid = render(&analysis, Format::Mermaid, &RenderOptions { detail });
        assert!(!mermaid.contains("<script"), "raw markup in Mermaid");
        for line in mermaid.lines() {
            assert!(
                line.matches('"').count() % 2 == 0,
                "unbalanced quotes: {line}"
            );
        }
    }
    assert!(!terminal_summary(&analysis).contains('\u{1b}'));
}

#[test]
fn an_empty_analysis_renders_in_every_format() {
    let empty = Analysis {
        schema_version: 1,
        root: "empty".into(),
        summary: Summary {
            files: 0,
            lines: 0,
            functions: 0,
            routes: 0,
            tables: 0,
            contexts: 0,
            shared: 0,
        },
        contexts: vec![],
        shared: vec![],
        shared_kernel: vec![],
        tables: vec![],
        moves: vec![],
        seams: vec![],
        metrics: OverallMetrics {
            modularity: 0.0,
            sm: 0.0,
            icp: 0.0,
            ifn: 0.0,
            ned: 0.0,
        },
        diagnostics: vec![],
    };
    let html = render(&empty, Format::Html, &RenderOptions::default());
    assert!(html.contains("No bounded context found"));
    assert!(html.contains("No context was proposed."));
    for output in every_output(&empty) {
        assert!(!output.is_empty());
    }
}

/// `(x, y, width, height)` of every context box in the map.
fn boxes(html: &str) -> Vec<(i64, i64, i64, i64)> {
    let attribute = |tag: &str, name: &str| -> i64 {
        let start = tag.find(&format!(" {name}=\"")).expect("attribute") + name.len() + 3;
        tag[start..]
            .split('"')
            .next()
            .and_then(|v| v.parse().ok())
            .expect("a number")
    };
    html.match_indices("<rect class=\"box\"")
        .map(|(at, _)| {
            let tag = &html[at..at + html[at..].find('>').expect("tag end")];
            (
                attribute(tag, "x"),
                attribute(tag, "y"),
                attribute(tag, "width"),
                attribute(tag, "height"),
            )
        })
        .collect()
}

#[test]
fn map_boxes_never_overlap_whatever_the_number_of_contexts() {
    for n in [1, 2, 3, 5, 8, 9, 13, 21, 30, 40, 49, 120] {
        let html = render(&many(n), Format::Html, &RenderOptions::default());
        let boxes = boxes(&html);
        assert_eq!(boxes.len(), n);
        for (i, a) in boxes.iter().enumerate() {
            assert!(a.0 >= 0 && a.1 >= 0, "box {i} of {n} is off the map");
            for b in &boxes[i + 1..] {
                let apart =
                    a.0 + a.2 <= b.0 || b.0 + b.2 <= a.0 || a.1 + a.3 <= b.1 || b.1 + b.3 <= a.1;
                assert!(apart, "boxes {a:?} and {b:?} overlap with {n} contexts");
            }
        }
    }
}
