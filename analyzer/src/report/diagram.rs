//! The context map as a graph description: Graphviz DOT and Mermaid flowcharts, at the level of
//! contexts (with shared tables and the shared kernel) or of units (one node per file or moved
//! function, grouped per context). Node ids are positional (`c1`, `u12`, `t3`), so any name is
//! safe; names appear only in escaped labels.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::Detail;
use super::palette;
use super::text;
use crate::analysis::Analysis;

/// Calls between contexts, `(from, to) -> count`, by index.
fn context_calls(analysis: &Analysis) -> BTreeMap<(usize, usize), usize> {
    let index = context_index(analysis);
    let mut calls = BTreeMap::new();
    for seam in &analysis.seams {
        if let (Some(&a), Some(&b)) = (index.get(seam.from.as_str()), index.get(seam.to.as_str()))
            && a != b
        {
            *calls.entry((a, b)).or_insert(0) += 1;
        }
    }
    calls
}

fn context_index(analysis: &Analysis) -> BTreeMap<&str, usize> {
    analysis
        .contexts
        .iter()
        .enumerate()
        .map(|(i, c)| (c.name.as_str(), i))
        .collect()
}

/// Contexts that use the shared kernel.
fn kernel_users(analysis: &Analysis) -> BTreeSet<usize> {
    let index = context_index(analysis);
    analysis
        .shared_kernel
        .iter()
        .flat_map(|f| &f.used_by)
        .filter_map(|name| index.get(name.as_str()).copied())
        .collect()
}

/// The units of the analysis: each context's modules and the kernel files, with positional ids.
struct Units<'a> {
    /// (context index or None for the kernel, path)
    nodes: Vec<(Option<usize>, &'a str)>,
    by_path: BTreeMap<&'a str, usize>,
}

impl<'a> Units<'a> {
    fn new(analysis: &'a Analysis) -> Self {
        let mut nodes = Vec::new();
        for (c, context) in analysis.contexts.iter().enumerate() {
            nodes.extend(context.modules.iter().map(|m| (Some(c), m.as_str())));
        }
        nodes.extend(analysis.shared.iter().map(|p| (None, p.as_str())));
        let mut by_path = BTreeMap::new();
        for (u, (_, path)) in nodes.iter().enumerate() {
            by_path.entry(*path).or_insert(u);
        }
        Units { nodes, by_path }
    }

    /// The unit of a `FILE::fn`: the moved function itself, else its file.
    fn of_function(&self, function: &str) -> Option<usize> {
        self.by_path.get(function).copied().or_else(|| {
            let file = function.split_once("::").map_or(function, |(file, _)| file);
            self.by_path.get(file).copied()
        })
    }

    /// Cross-context calls between units, `(caller unit, callee unit) -> count`.
    fn calls(&self, analysis: &Analysis) -> BTreeMap<(usize, usize), usize> {
        let mut calls = BTreeMap::new();
        for seam in &analysis.seams {
            if let (Some(a), Some(b)) = (
                self.of_function(&seam.caller),
                self.of_function(&seam.callee),
            ) && a != b
            {
                *calls.entry((a, b)).or_insert(0) += 1;
            }
        }
        calls
    }
}

fn edge_width(count: usize) -> String {
    format!("{:.1}", (1.0 + (count as f64).log2()).min(8.0))
}

/// Graphviz DOT.
pub(super) fn dot(analysis: &Analysis, detail: Detail) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "digraph context_map {{");
    let _ = writeln!(
        out,
        "  graph [label=\"{}\", labelloc=t, fontname=\"Helvetica\", rankdir=LR, compound=true];",
        text::dot(&format!("strangler context map of {}", analysis.root))
    );
    let _ = writeln!(
        out,
        "  node [fontname=\"Helvetica\", shape=box, style=\"rounded,filled\"];"
    );
    let _ = writeln!(out, "  edge [fontname=\"Helvetica\", fontsize=10];");
    match detail {
        Detail::Contexts => dot_contexts(analysis, &mut out),
        Detail::Units => dot_units(analysis, &mut out),
    }
    let _ = writeln!(out, "}}");
    out
}

fn dot_contexts(analysis: &Analysis, out: &mut String) {
    for (i, context) in analysis.contexts.iter().enumerate() {
        let colour = palette::context_colour(i);
        let _ = writeln!(
            out,
            "  c{} [label=\"{}. {}\\n{} · {}\\n{}\", color=\"{}\", fillcolor=\"{}\"];",
            i + 1,
            context.extraction_order,
            text::dot(&context.name),
            text::count(context.files, "file", "files"),
            text::count(context.lines, "line", "lines"),
            text::dot(&context.difficulty_label),
            colour.strong,
            colour.tint
        );
    }
    let index = context_index(analysis);
    for (t, table) in analysis.tables.iter().filter(|t| t.shared).enumerate() {
        let _ = writeln!(
            out,
            "  t{} [label=\"{}\", shape=cylinder, style=filled, fillcolor=\"#fff7e0\", color=\"#b58b00\"];",
            t + 1,
            text::dot(&table.name)
        );
        let touching: BTreeSet<&String> = table.readers.iter().chain(&table.writers).collect();
        for name in touching {
            let Some(&c) = index.get(name.as_str()) else {
                continue;
            };
            let writes = table.writers.contains(name);
            let owner = table.owner.as_ref() == Some(name);
            let _ = writeln!(
                out,
                "  c{} -> t{} [label=\"{}\", style={}, arrowhead=none, color=\"{}\"{}];",
                c + 1,
                t + 1,
                if owner {
                    "owns"
                } else if writes {
                    "writes"
                } else {
                    "reads"
                },
                if writes { "solid" } else { "dashed" },
                palette::context_colour(c).strong,
                if owner { ", penwidth=2" } else { "" }
            );
        }
    }
    if !analysis.shared_kernel.is_empty() {
        let neutral = palette::neutral();
        let _ = writeln!(
            out,
            "  kernel [label=\"shared kernel\\n{}\", shape=folder, color=\"{}\", fillcolor=\"{}\"];",
            text::count(analysis.shared_kernel.len(), "file", "files"),
            neutral.strong,
            neutral.tint
        );
        for c in kernel_users(analysis) {
            let _ = writeln!(
                out,
                "  c{} -> kernel [style=dotted, color=\"{}\"];",
                c + 1,
                neutral.strong
            );
        }
    }
    for ((a, b), count) in context_calls(analysis) {
        let _ = writeln!(
            out,
            "  c{} -> c{} [label=\"{}\", penwidth={}];",
            a + 1,
            b + 1,
            text::count(count, "call", "calls"),
            edge_width(count)
        );
    }
}

fn dot_units(analysis: &Analysis, out: &mut String) {
    let units = Units::new(analysis);
    let mut groups: Vec<(String, String, String, Vec<usize>)> = analysis
        .contexts
        .iter()
        .enumerate()
        .map(|(i, context)| {
            let colour = palette::context_colour(i);
            (
                format!("{}. {}", context.extraction_order, context.name),
                colour.strong,
                colour.tint,
                Vec::new(),
            )
        })
        .collect();
    let neutral = palette::neutral();
    groups.push((
        "shared kernel".into(),
        neutral.strong,
        neutral.tint,
        Vec::new(),
    ));
    let kernel_group = groups.len() - 1;
    for (u, (context, _)) in units.nodes.iter().enumerate() {
        groups[context.unwrap_or(kernel_group)].3.push(u);
    }
    for (g, (label, strong, tint, members)) in groups.iter().enumerate() {
        if members.is_empty() {
            continue;
        }
        let _ = writeln!(out, "  subgraph cluster_{} {{", g + 1);
        let _ = writeln!(
            out,
            "    label=\"{}\"; style=\"rounded,filled\"; color=\"{strong}\"; fillcolor=\"{tint}\";",
            text::dot(label)
        );
        for &u in members {
            let _ = writeln!(
                out,
                "    u{} [label=\"{}\", fillcolor=white, color=\"{strong}\"];",
                u + 1,
                text::dot(units.nodes[u].1)
            );
        }
        let _ = writeln!(out, "  }}");
    }
    for ((a, b), count) in units.calls(analysis) {
        let _ = writeln!(
            out,
            "  u{} -> u{} [label=\"{}\", penwidth={}];",
            a + 1,
            b + 1,
            text::count(count, "call", "calls"),
            edge_width(count)
        );
    }
}

/// A Mermaid flowchart.
pub(super) fn mermaid(analysis: &Analysis, detail: Detail) -> String {
    let mut out = String::from("flowchart LR\n");
    match detail {
        Detail::Contexts => mermaid_contexts(analysis, &mut out),
        Detail::Units => mermaid_units(analysis, &mut out),
    }
    out
}

fn mermaid_contexts(analysis: &Analysis, out: &mut String) {
    let mut styles = Vec::new();
    for (i, context) in analysis.contexts.iter().enumerate() {
        let colour = palette::context_colour(i);
        let _ = writeln!(
            out,
            "  c{}[\"{}. {}<br/>{} · {}<br/>{}\"]",
            i + 1,
            context.extraction_order,
            text::mermaid(&context.name),
            text::count(context.files, "file", "files"),
            text::count(context.lines, "line", "lines"),
            text::mermaid(&context.difficulty_label)
        );
        styles.push(format!(
            "  style c{} fill:{},stroke:{},stroke-width:2px",
            i + 1,
            colour.tint,
            colour.strong
        ));
    }
    let index = context_index(analysis);
    for (t, table) in analysis.tables.iter().filter(|t| t.shared).enumerate() {
        let _ = writeln!(out, "  t{}[(\"{}\")]", t + 1, text::mermaid(&table.name));
        let touching: BTreeSet<&String> = table.readers.iter().chain(&table.writers).collect();
        for name in touching {
            let Some(&c) = index.get(name.as_str()) else {
                continue;
            };
            let role = if table.owner.as_ref() == Some(name) {
                "owns"
            } else if table.writers.contains(name) {
                "writes"
            } else {
                "reads"
            };
            let arrow = if role == "reads" { "-.-" } else { "---" };
            let _ = writeln!(out, "  c{} {arrow}|{role}| t{}", c + 1, t + 1);
        }
        styles.push(format!("  style t{} fill:#fff7e0,stroke:#b58b00", t + 1));
    }
    if !analysis.shared_kernel.is_empty() {
        let _ = writeln!(
            out,
            "  kernel[[\"shared kernel<br/>{}\"]]",
            text::count(analysis.shared_kernel.len(), "file", "files")
        );
        for c in kernel_users(analysis) {
            let _ = writeln!(out, "  c{} -.-> kernel", c + 1);
        }
        let neutral = palette::neutral();
        styles.push(format!(
            "  style kernel fill:{},stroke:{},stroke-dasharray:4 3",
            neutral.tint, neutral.strong
        ));
    }
    for ((a, b), count) in context_calls(analysis) {
        let _ = writeln!(
            out,
            "  c{} ==>|{}| c{}",
            a + 1,
            text::count(count, "call", "calls"),
            b + 1
        );
    }
    for style in styles {
        let _ = writeln!(out, "{style}");
    }
}

fn mermaid_units(analysis: &Analysis, out: &mut String) {
    let units = Units::new(analysis);
    let mut styles = Vec::new();
    let mut write_group = |id: &str, label: &str, members: &[usize], strong: &str, tint: &str| {
        if members.is_empty() {
            return;
        }
        let _ = writeln!(out, "  subgraph {id}[\"{}\"]", text::mermaid(label));
        for &u in members {
            let _ = writeln!(
                out,
                "    u{}[\"{}\"]",
                u + 1,
                text::mermaid(units.nodes[u].1)
            );
        }
        let _ = writeln!(out, "  end");
        styles.push(format!("  style {id} fill:{tint},stroke:{strong}"));
    };
    for (i, context) in analysis.contexts.iter().enumerate() {
        let colour = palette::context_colour(i);
        let members: Vec<usize> = (0..units.nodes.len())
            .filter(|&u| units.nodes[u].0 == Some(i))
            .collect();
        write_group(
            &format!("c{}", i + 1),
            &format!("{}. {}", context.extraction_order, context.name),
            &members,
            &colour.strong,
            &colour.tint,
        );
    }
    let neutral = palette::neutral();
    let kernel: Vec<usize> = (0..units.nodes.len())
        .filter(|&u| units.nodes[u].0.is_none())
        .collect();
    write_group(
        "kernel",
        "shared kernel",
        &kernel,
        &neutral.strong,
        &neutral.tint,
    );
    for ((a, b), count) in units.calls(analysis) {
        let _ = writeln!(
            out,
            "  u{} -->|{}| u{}",
            a + 1,
            text::count(count, "call", "calls"),
            b + 1
        );
    }
    for style in styles {
        let _ = writeln!(out, "{style}");
    }
}
