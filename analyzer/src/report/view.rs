//! The view model behind the HTML and Markdown templates: everything a template shows, already
//! counted, sorted, formatted and coloured, so the templates stay plain markup and both formats
//! say the same thing.

use std::collections::BTreeMap;

use askama::Template;

use super::map::{self, ContextMap};
use super::palette::{self, Colour};
use super::text;
use crate::analysis::{
    Analysis, ContextReport, DiagnosticReport, MoveReport, SeamReport, SharedFile, TableReport,
};
use crate::contexts::SharedReason;

/// The HTML page.
#[derive(Template)]
#[template(path = "report/report.html")]
pub(super) struct HtmlReport<'a> {
    pub report: ReportView<'a>,
}

/// The Markdown document; `mermaid` is the context map block.
#[derive(Template)]
#[template(path = "report/report.md")]
pub(super) struct MarkdownReport<'a> {
    pub report: ReportView<'a>,
    pub mermaid: String,
}

/// Markdown-escaped text, called from the Markdown template (which askama does not escape).
fn md(value: impl AsRef<str>) -> String {
    text::markdown(value.as_ref())
}

/// Text for a Markdown code span.
fn code(value: impl AsRef<str>) -> String {
    text::markdown_code(value.as_ref())
}

/// A number with a caption, in the summary.
pub(super) struct Tile {
    pub label: &'static str,
    pub value: String,
    pub hint: String,
}

/// A mention of a context, in its colour, linking to its card.
pub(super) struct Chip {
    pub name: String,
    pub colour: String,
    pub tint: String,
    pub anchor: String,
}

/// One context card and its row in the extraction order.
pub(super) struct ContextView<'a> {
    pub context: &'a ContextReport,
    pub anchor: String,
    pub colour: Colour,
    pub lines: String,
    pub cohesion: String,
    pub difficulty: String,
    pub coupling: String,
    /// `1 file`, `3 files`.
    pub files: String,
    /// `1 interface`, `3 interfaces`.
    pub interfaces: String,
    /// Width of the difficulty bar, in percent of the hardest context's.
    pub bar: u32,
    /// CSS class of the difficulty label.
    pub label_class: &'static str,
    pub routes: Vec<RouteView>,
    /// Tables of other contexts it touches, each once; `true` when it writes them.
    pub foreign: Vec<(&'a str, bool)>,
    pub calls: Vec<Chip>,
    pub called_by: Vec<Chip>,
    pub seams_out: Vec<&'a SeamReport>,
    pub seams_in: Vec<&'a SeamReport>,
    /// Long lists start folded so that a large tree's page stays readable.
    pub modules_open: bool,
    pub seams_open: bool,
}

/// A route split into its method and path, so the method can be tagged.
pub(super) struct RouteView {
    pub method: String,
    pub path: String,
}

/// A table row of the shared-data section.
pub(super) struct TableView<'a> {
    pub table: &'a TableReport,
    pub owner: Option<Chip>,
    pub readers: Vec<Chip>,
    pub writers: Vec<Chip>,
}

/// A shared-kernel file.
pub(super) struct KernelView<'a> {
    pub file: &'a SharedFile,
    pub reason: &'static str,
    pub used_by: Vec<Chip>,
}

/// A proposed move.
pub(super) struct MoveView<'a> {
    pub entry: &'a MoveReport,
    pub from: Chip,
    pub to: Chip,
}

/// A diagnostic with its location as one string.
pub(super) struct DiagnosticView<'a> {
    pub location: String,
    pub diagnostic: &'a DiagnosticReport,
}

/// Everything the report shows.
pub(super) struct ReportView<'a> {
    pub root: &'a str,
    pub verdict: String,
    pub tiles: Vec<Tile>,
    pub metrics: Vec<Tile>,
    pub contexts: Vec<ContextView<'a>>,
    pub shared_tables: Vec<TableView<'a>>,
    pub other_tables: Vec<TableView<'a>>,
    pub kernel: Vec<KernelView<'a>>,
    pub moves: Vec<MoveView<'a>>,
    pub map: ContextMap,
    pub diagnostics: Vec<DiagnosticView<'a>>,
    pub seams: usize,
    pub schema_version: u32,
}

/// Lists longer than this start folded in the HTML.
const OPEN_LIST_LIMIT: usize = 12;

impl<'a> ReportView<'a> {
    pub(super) fn new(analysis: &'a Analysis) -> Self {
        let colours: BTreeMap<&str, (usize, Colour)> = analysis
            .contexts
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name.as_str(), (i, palette::context_colour(i))))
            .collect();
        let chip = |name: &str| match colours.get(name) {
            Some((i, colour)) => Chip {
                name: name.to_string(),
                colour: colour.strong.clone(),
                tint: colour.tint.clone(),
                anchor: anchor(*i),
            },
            None => {
                let colour = palette::neutral();
                Chip {
                    name: name.to_string(),
                    colour: colour.strong,
                    tint: colour.tint,
                    anchor: String::new(),
                }
            }
        };
        let chips = |names: &[String]| names.iter().map(|n| chip(n)).collect::<Vec<_>>();

        let hardest = analysis
            .contexts
            .iter()
            .map(|c| c.difficulty)
            .fold(0.0_f64, f64::max);
        let contexts = analysis
            .contexts
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let seams_out: Vec<&SeamReport> =
                    analysis.seams.iter().filter(|s| s.from == c.name).collect();
                let seams_in: Vec<&SeamReport> =
                    analysis.seams.iter().filter(|s| s.to == c.name).collect();
                let seams_open = seams_out.len() + seams_in.len() <= OPEN_LIST_LIMIT;
                ContextView {
                    context: c,
                    anchor: anchor(i),
                    colour: palette::context_colour(i),
                    lines: text::thousands(c.lines),
                    cohesion: percent(c.cohesion),
                    difficulty: number(c.difficulty),
                    coupling: number(c.coupling),
                    files: text::count(c.files, "file", "files"),
                    interfaces: text::count(c.interfaces, "interface", "interfaces"),
                    bar: bar_width(c.difficulty, hardest),
                    label_class: match c.difficulty_label.as_str() {
                        "easy" => "easy",
                        "moderate" => "moderate",
                        "hard" => "hard",
                        _ => "unknown",
                    },
                    routes: c
                        .routes
                        .iter()
                        .map(|r| match r.split_once(' ') {
                            Some((method, path)) => RouteView {
                                method: method.to_string(),
                                path: path.to_string(),
                            },
                            None => RouteView {
                                method: String::new(),
                                path: r.clone(),
                            },
                        })
                        .collect(),
                    foreign: foreign_tables(c),
                    calls: chips(&c.calls),
                    called_by: chips(&c.called_by),
                    seams_out,
                    seams_in,
                    modules_open: c.modules.len() <= OPEN_LIST_LIMIT,
                    seams_open,
                }
            })
            .collect();

        let table_view = |t: &'a TableReport| TableView {
            table: t,
            owner: t.owner.as_deref().map(chip),
            readers: chips(&t.readers),
            writers: chips(&t.writers),
        };
        let shared_tables = analysis
            .tables
            .iter()
            .filter(|t| t.shared)
            .map(table_view)
            .collect();
        let other_tables = analysis
            .tables
            .iter()
            .filter(|t| !t.shared)
            .map(table_view)
            .collect();
        let kernel = analysis
            .shared_kernel
            .iter()
            .map(|file| KernelView {
                file,
                reason: reason_label(file.reason),
                used_by: chips(&file.used_by),
            })
            .collect();
        let moves = analysis
            .moves
            .iter()
            .map(|entry| MoveView {
                entry,
                from: chip(&entry.from),
                to: chip(&entry.to),
            })
            .collect();
        let diagnostics = analysis
            .diagnostics
            .iter()
            .map(|diagnostic| DiagnosticView {
                location: match diagnostic.line {
                    Some(line) => format!("{}:{line}", diagnostic.file),
                    None => diagnostic.file.clone(),
                },
                diagnostic,
            })
            .collect();

        ReportView {
            root: &analysis.root,
            verdict: verdict(analysis),
            tiles: tiles(analysis),
            metrics: metric_tiles(analysis),
            contexts,
            shared_tables,
            other_tables,
            kernel,
            moves,
            map: map::layout(analysis),
            diagnostics,
            seams: analysis.seams.len(),
            schema_version: analysis.schema_version,
        }
    }
}

/// The report's one-sentence verdict, from modularity and the contexts.
pub(super) fn verdict(analysis: &Analysis) -> String {
    let q = analysis.metrics.modularity;
    let contexts = &analysis.contexts;
    let Some(first) = contexts.first() else {
        return "No bounded context found: there is no code with data or routes to extract yet."
            .into();
    };
    if contexts.len() == 1 {
        return format!(
            "One context ({}): the code shows no seam to split along (Q = {q:.2}).",
            first.name
        );
    }
    let n = contexts.len();
    let shared = analysis.tables.iter().filter(|t| t.shared).count();
    if q >= 0.5 {
        format!(
            "{n} bounded contexts with clear seams (Q = {q:.2}); start with {}.",
            first.name
        )
    } else if q >= 0.3 {
        format!(
            "{n} bounded contexts with visible but entangled seams (Q = {q:.2}); start with {}{}.",
            first.name,
            if shared > 0 {
                format!(
                    " and untangle the {} first",
                    text::count(shared, "shared table", "shared tables")
                )
            } else {
                String::new()
            }
        )
    } else {
        format!(
            "{n} candidate contexts, but weak structure (Q = {q:.2}): untangle shared code and data before extracting; {} is the least entangled.",
            first.name
        )
    }
}

fn tiles(analysis: &Analysis) -> Vec<Tile> {
    let s = &analysis.summary;
    let shared_tables = analysis.tables.iter().filter(|t| t.shared).count();
    vec![
        tile(
            "files",
            s.files,
            format!("{} functions", text::thousands(s.functions)),
        ),
        tile("lines", s.lines, "of Rust analyzed".into()),
        tile("routes", s.routes, {
            let in_contexts: usize = analysis.contexts.iter().map(|c| c.routes.len()).sum();
            if in_contexts == s.routes {
                "HTTP endpoints".into()
            } else {
                format!(
                    "{} in contexts, {} in the shared kernel",
                    text::thousands(in_contexts),
                    text::thousands(s.routes.saturating_sub(in_contexts))
                )
            }
        }),
        tile(
            "tables",
            s.tables,
            format!("{} shared by contexts", text::thousands(shared_tables)),
        ),
        tile(
            "contexts",
            s.contexts,
            format!(
                "{} seams between them",
                text::thousands(analysis.seams.len())
            ),
        ),
        tile("shared kernel", s.shared, "files no context owns".into()),
    ]
}

fn tile(label: &'static str, value: usize, hint: String) -> Tile {
    Tile {
        label,
        value: text::thousands(value),
        hint,
    }
}

fn metric_tiles(analysis: &Analysis) -> Vec<Tile> {
    let m = &analysis.metrics;
    let metric = |label, value: f64, hint: &str| Tile {
        label,
        value: format!("{value:.2}"),
        hint: hint.into(),
    };
    vec![
        metric(
            "modularity Q",
            m.modularity,
            "higher is better; 0.3+ is clear structure",
        ),
        metric("SM", m.sm, "structural modularity; higher is better"),
        metric(
            "ICP",
            m.icp,
            "share of calls crossing contexts; lower is better",
        ),
        metric("IFN", m.ifn, "operations per context API; lower is better"),
        metric(
            "NED",
            m.ned,
            if analysis.contexts.iter().all(|c| c.files < 5) && !analysis.contexts.is_empty() {
                "share of files in contexts under 5 or over 20 files; every context here is under 5, so 1 by definition"
            } else {
                "share of files in contexts under 5 or over 20 files; lower is better"
            },
        ),
    ]
}

fn foreign_tables(context: &ContextReport) -> Vec<(&str, bool)> {
    let mut tables: BTreeMap<&str, bool> = BTreeMap::new();
    for name in &context.reads_foreign {
        tables.entry(name).or_insert(false);
    }
    for name in &context.writes_foreign {
        tables.insert(name, true);
    }
    tables.into_iter().collect()
}

fn anchor(index: usize) -> String {
    format!("context-{}", index + 1)
}

fn percent(share: f64) -> String {
    format!("{:.0}%", (share * 100.0).clamp(0.0, 100.0))
}

/// A metric for reading: at most two decimals, no trailing zeros.
fn number(value: f64) -> String {
    let fixed = format!("{value:.2}");
    let trimmed = fixed.trim_end_matches('0').trim_end_matches('.');
    trimmed.to_string()
}

fn bar_width(difficulty: f64, hardest: f64) -> u32 {
    if hardest <= 0.0 || !difficulty.is_finite() {
        return 2;
    }
    ((difficulty / hardest * 100.0).round() as u32).clamp(2, 100)
}

fn reason_label(reason: SharedReason) -> &'static str {
    match reason {
        SharedReason::Library => "library used by several contexts",
        SharedReason::CompositionRoot => "composition root (wiring)",
        SharedReason::Uncoupled => "uncoupled glue",
        SharedReason::Infrastructure => "infrastructure (no business data)",
        SharedReason::Declared => "declared shared by its folder",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(number(2.5), "2.5");
        assert_eq!(number(14.0), "14");
        assert_eq!(number(0.1234), "0.12");
        assert_eq!(percent(0.9123), "91%");
        assert_eq!(bar_width(7.25, 14.5), 50);
        assert_eq!(bar_width(0.0, 0.0), 2);
    }
}
