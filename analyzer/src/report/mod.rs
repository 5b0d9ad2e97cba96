//! Reports of an [`Analysis`]: what a team reads in its architecture meeting (HTML), what goes
//! into a pull request or wiki (Markdown), what other tools read (JSON), and the context map as a
//! graph for Graphviz (DOT) or for Markdown renderers (Mermaid).
//!
//! Every format is a pure function of the analysis: no clock, no environment, no randomness, so
//! the same analysis gives byte-identical output. The HTML is one self-contained file (inline CSS
//! and SVG, no script, nothing fetched from the network) so it can be mailed, archived or printed.
//! Writing files and printing is the CLI's job.

use std::fmt::Write as _;

use crate::analysis::Analysis;

mod diagram;
mod map;
mod palette;
mod ring;
mod text;
mod view;

/// An output format of `strangler analyze`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    /// One self-contained HTML page with the context map as inline SVG.
    Html,
    /// Markdown with a Mermaid context map, for a pull request or a wiki.
    Markdown,
    /// The analysis JSON contract, pretty-printed.
    Json,
    /// Graphviz DOT of the context map (or of the units, see [`Detail`]).
    Dot,
    /// Mermaid flowchart of the context map (or of the units, see [`Detail`]).
    Mermaid,
}

impl Format {
    /// Every format, in the order the CLI lists them.
    pub const ALL: [Format; 5] = [
        Format::Html,
        Format::Markdown,
        Format::Json,
        Format::Dot,
        Format::Mermaid,
    ];

    /// The name used on the command line (`html`, `md`, `json`, `dot`, `mermaid`).
    pub fn name(self) -> &'static str {
        match self {
            Format::Html => "html",
            Format::Markdown => "md",
            Format::Json => "json",
            Format::Dot => "dot",
            Format::Mermaid => "mermaid",
        }
    }

    /// The usual file extension of the format, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Html => "html",
            Format::Markdown => "md",
            Format::Json => "json",
            Format::Dot => "dot",
            Format::Mermaid => "mmd",
        }
    }

    /// Parses a command-line name; `markdown` is accepted beside `md`.
    pub fn from_name(name: &str) -> Option<Format> {
        match name {
            "html" => Some(Format::Html),
            "md" | "markdown" => Some(Format::Markdown),
            "json" => Some(Format::Json),
            "dot" => Some(Format::Dot),
            "mermaid" | "mmd" => Some(Format::Mermaid),
            _ => None,
        }
    }
}

/// How fine-grained the DOT and Mermaid graphs are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Detail {
    /// One node per context, the shared kernel and the shared tables.
    #[default]
    Contexts,
    /// One node per unit (file, or moved function), grouped by context, plus the shared kernel.
    Units,
}

impl Detail {
    /// Parses a command-line name: `contexts` or `units`.
    pub fn from_name(name: &str) -> Option<Detail> {
        match name {
            "contexts" => Some(Detail::Contexts),
            "units" => Some(Detail::Units),
            _ => None,
        }
    }
}

/// Options of [`render`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RenderOptions {
    /// Granularity of the DOT and Mermaid graphs; the other formats ignore it.
    pub detail: Detail,
}

/// Renders `analysis` in `format`. The same analysis always gives the same bytes.
pub fn render(analysis: &Analysis, format: Format, options: &RenderOptions) -> String {
    match format {
        Format::Html => render_template(&view::HtmlReport {
            report: view::ReportView::new(analysis),
        }),
        Format::Markdown => render_template(&view::MarkdownReport {
            report: view::ReportView::new(analysis),
            mermaid: diagram::mermaid(analysis, Detail::Contexts),
        }),
        Format::Json => match serde_json::to_string_pretty(analysis) {
            Ok(mut json) => {
                json.push('\n');
                json
            }
            // Only a non-string map key can fail here, and the contract has none.
            Err(error) => format!("{{\"error\": \"{error}\"}}\n"),
        },
        Format::Dot => diagram::dot(analysis, options.detail),
        Format::Mermaid => diagram::mermaid(analysis, options.detail),
    }
}

/// Askama only fails when a value's `Display` fails, and ours cannot; the fallback keeps the
/// promise of "no panic" without making every caller handle an impossible error.
fn render_template(template: &dyn askama::DynTemplate) -> String {
    template
        .dyn_render()
        .unwrap_or_else(|error| format!("report rendering failed: {error}\n"))
}

/// A one-screen plain-text summary for the terminal: counts, modularity, the verdict, then the
/// contexts in extraction order, one line each.
pub fn terminal_summary(analysis: &Analysis) -> String {
    let s = &analysis.summary;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "strangler analysis of {}",
        text::terminal_safe(&analysis.root)
    );
    let _ = writeln!(
        out,
        "{} · {} · {} · {} · {} · {} · {}",
        text::count(s.files, "file", "files"),
        text::count(s.lines, "line", "lines"),
        text::count(s.functions, "function", "functions"),
        text::count(s.routes, "route", "routes"),
        text::count(s.tables, "table", "tables"),
        text::count(s.contexts, "context", "contexts"),
        text::count(s.shared, "shared-kernel file", "shared-kernel files"),
    );
    let shared_tables = analysis.tables.iter().filter(|t| t.shared).count();
    let _ = writeln!(
        out,
        "modularity Q = {:.2} · {} · {} · {}",
        analysis.metrics.modularity,
        text::count(shared_tables, "shared table", "shared tables"),
        text::count(analysis.moves.len(), "proposed move", "proposed moves"),
        text::count(analysis.diagnostics.len(), "diagnostic", "diagnostics"),
    );
    let _ = writeln!(out, "{}", text::terminal_safe(&view::verdict(analysis)));
    if analysis.contexts.is_empty() {
        return out;
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "extraction order (easiest first):");
    let names: Vec<String> = analysis
        .contexts
        .iter()
        .map(|c| text::terminal_safe(&c.name))
        .collect();
    let name_width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    let order_width = analysis.contexts.len().to_string().len();
    for (context, name) in analysis.contexts.iter().zip(&names) {
        let _ = writeln!(
            out,
            "  {:>ow$}. {:<nw$}  {:>9}  {:>9}  {:>10}  {}",
            context.extraction_order,
            name,
            text::count(context.files, "file", "files"),
            text::count(context.tables.len(), "table", "tables"),
            text::count(context.routes.len(), "route", "routes"),
            text::terminal_safe(&context.difficulty_label),
            ow = order_width,
            nw = name_width,
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names_round_trip() {
        for format in Format::ALL {
            assert_eq!(Format::from_name(format.name()), Some(format));
        }
        assert_eq!(Format::from_name("markdown"), Some(Format::Markdown));
        assert_eq!(Format::from_name("pdf"), None);
        assert_eq!(Detail::from_name("units"), Some(Detail::Units));
        assert_eq!(Detail::from_name("files"), None);
    }
}
