//! The analysis result in the JSON contract (schema version 1): what `strangler analyze
//! --format json` prints and what every report, the plan and the scaffold read.
//!
//! Field names of the contract (`schema_version`, `root`, `contexts[].name/modules/tables/routes`,
//! `shared`, `tables[].name/owner/readers/writers`, `metrics.modularity`, `diagnostics`) are never
//! renamed; new fields may be added. Every list is sorted, and floats are rounded to four
//! decimals, so the same input gives byte-identical JSON.

use serde::{Deserialize, Serialize};

use crate::contexts::{Placement, Proposal, SharedReason};
use crate::graph::{CouplingGraph, CouplingInput};
use crate::metrics::Metrics;

/// The whole analysis of one source tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// Version of this contract.
    pub schema_version: u32,
    /// The analyzed path, as given.
    pub root: String,
    /// Counts for the report's summary.
    pub summary: Summary,
    /// Proposed contexts, in recommended extraction order (easiest first).
    pub contexts: Vec<ContextReport>,
    /// Files of the shared kernel (paths), sorted.
    pub shared: Vec<String>,
    /// The shared kernel with the reason of each file.
    pub shared_kernel: Vec<SharedFile>,
    /// Every table with its owner, readers and writers (context names), sorted by name.
    pub tables: Vec<TableReport>,
    /// Functions proposed to move to another context than their file's.
    pub moves: Vec<MoveReport>,
    /// Calls that cross contexts: the seams that become API calls.
    pub seams: Vec<SeamReport>,
    /// Overall metrics.
    pub metrics: OverallMetrics,
    /// Files and statements that could not be analyzed, and why.
    pub diagnostics: Vec<DiagnosticReport>,
}

/// Counts of what was analyzed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Rust files analyzed.
    pub files: usize,
    /// Lines in them.
    pub lines: usize,
    /// Functions and methods.
    pub functions: usize,
    /// HTTP routes found.
    pub routes: usize,
    /// Tables found.
    pub tables: usize,
    /// Contexts proposed.
    pub contexts: usize,
    /// Files in the shared kernel.
    pub shared: usize,
}

/// One proposed bounded context.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContextReport {
    /// Name, unique in the analysis.
    pub name: String,
    /// Files (relative paths) and moved-in functions (`FILE::fn`), sorted.
    pub modules: Vec<String>,
    /// Tables it owns, sorted.
    pub tables: Vec<String>,
    /// Routes it serves, `METHOD /path`, sorted.
    pub routes: Vec<String>,
    /// Position in the recommended extraction order, 1 = first.
    pub extraction_order: usize,
    /// Weight of its coupling to other contexts; lower is easier to extract.
    pub difficulty: f64,
    /// `easy`, `moderate` or `hard`, from its cohesion.
    pub difficulty_label: String,
    /// Files whose home is this context.
    pub files: usize,
    /// Lines of those files.
    pub lines: usize,
    /// Share of its coupling that stays inside, 0..1.
    pub cohesion: f64,
    /// Coupling weight crossing its boundary.
    pub coupling: f64,
    /// Functions other contexts call: the operations its API must offer.
    pub interfaces: usize,
    /// Contexts it calls, sorted.
    pub calls: Vec<String>,
    /// Contexts that call it, sorted.
    pub called_by: Vec<String>,
    /// Tables owned by other contexts that it reads, sorted.
    pub reads_foreign: Vec<String>,
    /// Tables owned by other contexts that it writes, sorted.
    pub writes_foreign: Vec<String>,
}

/// A shared-kernel file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SharedFile {
    /// Relative path.
    pub path: String,
    /// `library`, `composition_root` or `uncoupled`.
    pub reason: SharedReason,
    /// Contexts whose files use it, sorted.
    pub used_by: Vec<String>,
}

/// One table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableReport {
    /// Table name.
    pub name: String,
    /// Owning context, if any context touches it.
    pub owner: Option<String>,
    /// Contexts that read it, sorted.
    pub readers: Vec<String>,
    /// Contexts that write it, sorted.
    pub writers: Vec<String>,
    /// True when more than one context touches it.
    pub shared: bool,
    /// What to do about it, in one sentence.
    pub advice: String,
}

/// A proposed move.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MoveReport {
    /// `FILE::fn`.
    pub function: String,
    /// Line of the function.
    pub line: u32,
    /// Context of its file.
    pub from: String,
    /// Context that pulls it.
    pub to: String,
    /// The tables and calls that pull it.
    pub reason: String,
}

/// A call crossing contexts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeamReport {
    /// Calling context.
    pub from: String,
    /// Called context.
    pub to: String,
    /// `FILE::fn` of the caller.
    pub caller: String,
    /// `FILE::fn` of the callee.
    pub callee: String,
    /// `FILE:LINE` of the call.
    pub at: String,
}

/// Overall metrics.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OverallMetrics {
    /// Newman modularity Q.
    pub modularity: f64,
    /// Structural modularity (SM).
    pub sm: f64,
    /// Inter-call percentage (ICP).
    pub icp: f64,
    /// Interface number (IFN).
    pub ifn: f64,
    /// Non-extreme distribution (NED).
    pub ned: f64,
}

/// A problem met during the analysis.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DiagnosticReport {
    /// File (relative path).
    pub file: String,
    /// Line, when known.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub line: Option<u32>,
    /// What went wrong.
    pub message: String,
}

/// Rounds to four decimals so that reports are stable and readable.
fn round(value: f64) -> f64 {
    if value.is_finite() {
        (value * 10_000.0).round() / 10_000.0
    } else {
        0.0
    }
}

/// The difficulty label of a cohesion (the same rule that orders the contexts).
fn difficulty_label(cohesion: f64) -> &'static str {
    crate::contexts::DifficultyLabel::of(cohesion).as_str()
}

/// Assembles the contract from the pipeline's results.
pub fn assemble(
    root: &str,
    input: &CouplingInput,
    graph: &CouplingGraph,
    proposal: &Proposal,
    metrics: &Metrics,
    mut diagnostics: Vec<DiagnosticReport>,
) -> Analysis {
    let name = |c: usize| proposal.contexts[c].name.clone();
    let function_id = |f: usize| {
        let function = &input.functions[f];
        format!("{}::{}", input.files[function.file].path, function.name)
    };
    let route_label = |r: usize| {
        let route = &input.routes[r];
        format!("{} {}", route.method, route.path)
    };
    let sorted_names = |set: &std::collections::BTreeSet<usize>| {
        let mut names: Vec<String> = set.iter().map(|&c| name(c)).collect();
        names.sort();
        names
    };

    let mut contexts = Vec::with_capacity(proposal.contexts.len());
    for (c, context) in proposal.contexts.iter().enumerate() {
        let mut modules: Vec<String> = context
            .files
            .iter()
            .map(|&f| input.files[f].path.clone())
            .chain(context.moved_in.iter().map(|&f| function_id(f)))
            .collect();
        modules.sort();
        let mut tables: Vec<String> = context
            .tables
            .iter()
            .map(|&t| input.tables[t].name.clone())
            .collect();
        tables.sort();
        let mut routes: Vec<String> = context.routes.iter().map(|&r| route_label(r)).collect();
        routes.sort();
        routes.dedup();
        let calls: std::collections::BTreeSet<usize> = metrics
            .seams
            .iter()
            .filter(|s| s.from_context == c)
            .map(|s| s.to_context)
            .collect();
        let called_by: std::collections::BTreeSet<usize> = metrics
            .seams
            .iter()
            .filter(|s| s.to_context == c)
            .map(|s| s.from_context)
            .collect();
        let foreign = |want_write: bool| {
            let mut names: Vec<String> = proposal
                .tables
                .iter()
                .enumerate()
                .filter(|(_, usage)| usage.owner.is_some_and(|o| o != c))
                .filter(|(_, usage)| {
                    if want_write {
                        usage.writers.contains(&c)
                    } else {
                        usage.readers.contains(&c)
                    }
                })
                .map(|(t, _)| input.tables[t].name.clone())
                .collect();
            names.sort();
            names
        };
        let m = &metrics.contexts[c];
        contexts.push(ContextReport {
            name: context.name.clone(),
            modules,
            tables,
            routes,
            extraction_order: c + 1,
            difficulty: round(proposal.difficulty[c]),
            difficulty_label: difficulty_label(m.cohesion).to_string(),
            files: m.files,
            lines: m.lines,
            cohesion: round(m.cohesion),
            coupling: round(m.coupling),
            interfaces: m.interfaces,
            calls: sorted_names(&calls),
            called_by: sorted_names(&called_by),
            reads_foreign: foreign(false),
            writes_foreign: foreign(true),
        });
    }

    // Shared kernel, with the contexts that use each file.
    let mut shared_kernel = Vec::new();
    for (file, placement) in proposal.placement.iter().enumerate() {
        let Placement::Shared(reason) = placement else {
            continue;
        };
        let mut users = std::collections::BTreeSet::new();
        for (from, to, _) in graph.edges() {
            if let (crate::graph::Node::File(a), crate::graph::Node::File(b)) = (from, to)
                && b == file
                && let Placement::Context(c) = proposal.placement[a]
            {
                users.insert(c);
            }
        }
        shared_kernel.push(SharedFile {
            path: input.files[file].path.clone(),
            reason: *reason,
            used_by: sorted_names(&users),
        });
    }
    shared_kernel.sort_by(|a, b| a.path.cmp(&b.path));
    let shared: Vec<String> = shared_kernel.iter().map(|s| s.path.clone()).collect();

    let mut tables: Vec<TableReport> = proposal
        .tables
        .iter()
        .enumerate()
        .map(|(t, usage)| {
            let owner = usage.owner.map(name);
            let readers = sorted_names(&usage.readers);
            let writers = sorted_names(&usage.writers);
            let touching: std::collections::BTreeSet<usize> =
                usage.readers.union(&usage.writers).copied().collect();
            let shared = touching.len() > 1;
            let kernel_only = usage.owner.is_none()
                && input.functions.iter().any(|f| {
                    f.accesses.iter().any(|(table, _, _)| *table == t)
                        && matches!(proposal.placement.get(f.file), Some(Placement::Shared(_)))
                });
            let advice = if kernel_only {
                "Used only by the shared kernel: infrastructure data (such as a migrations ledger) that stays with the platform, not with a context.".to_string()
            } else {
                table_advice(owner.as_deref(), &usage.readers, &usage.writers, &name)
            };
            TableReport {
                name: input.tables[t].name.clone(),
                owner,
                readers,
                writers,
                shared,
                advice,
            }
        })
        .collect();
    tables.sort_by(|a, b| a.name.cmp(&b.name));

    let mut moves: Vec<MoveReport> = proposal
        .moves
        .iter()
        .map(|m| MoveReport {
            function: function_id(m.function),
            line: input.functions[m.function].line,
            from: m.from.map_or_else(|| "(shared kernel)".to_string(), name),
            to: name(m.to),
            reason: m.reason.clone(),
        })
        .collect();
    moves.sort_by(|a, b| a.function.cmp(&b.function));

    let mut seams: Vec<SeamReport> = metrics
        .seams
        .iter()
        .map(|s| SeamReport {
            from: name(s.from_context),
            to: name(s.to_context),
            caller: function_id(s.caller),
            callee: function_id(s.callee),
            at: format!(
                "{}:{}",
                input.files[input.functions[s.caller].file].path, s.line
            ),
        })
        .collect();
    seams.sort_by(|a, b| {
        (&a.from, &a.to, &a.at, &a.callee).cmp(&(&b.from, &b.to, &b.at, &b.callee))
    });
    seams.dedup();

    diagnostics.sort();
    diagnostics.dedup();

    Analysis {
        schema_version: crate::SCHEMA_VERSION,
        root: root.to_string(),
        summary: Summary {
            files: input.files.len(),
            lines: input.files.iter().map(|f| f.lines).sum(),
            functions: input.functions.len(),
            routes: input.routes.len(),
            tables: input.tables.len(),
            contexts: contexts.len(),
            shared: shared.len(),
        },
        contexts,
        shared,
        shared_kernel,
        tables,
        moves,
        seams,
        metrics: OverallMetrics {
            modularity: round(metrics.modularity),
            sm: round(metrics.sm),
            icp: round(metrics.icp),
            ifn: round(metrics.ifn),
            ned: round(metrics.ned),
        },
        diagnostics,
    }
}

/// One sentence on what to do about a table, from who touches it.
fn table_advice(
    owner: Option<&str>,
    readers: &std::collections::BTreeSet<usize>,
    writers: &std::collections::BTreeSet<usize>,
    name: &dyn Fn(usize) -> String,
) -> String {
    let Some(owner) = owner else {
        return "No context touches this table: check whether it is still used.".into();
    };
    let foreign_writers: Vec<String> = writers
        .iter()
        .map(|&c| name(c))
        .filter(|n| n != owner)
        .collect();
    let foreign_readers: Vec<String> = readers
        .iter()
        .filter(|c| !writers.contains(c))
        .map(|&c| name(c))
        .filter(|n| n != owner)
        .collect();
    if !foreign_writers.is_empty() {
        format!(
            "Owned by {owner}; {} also write it: route those writes through an API of {owner} (or events) before extracting either.",
            foreign_writers.join(", ")
        )
    } else if !foreign_readers.is_empty() {
        format!(
            "Owned by {owner}; {} read it: expose a read API from {owner}, or replicate the data they need.",
            foreign_readers.join(", ")
        )
    } else {
        format!("Owned by {owner} alone: moves with it.")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contexts::ProposalOptions;
    use crate::fixture::cinema;

    fn cinema_analysis() -> Analysis {
        let m = cinema();
        let graph = CouplingGraph::build(&m.input);
        let proposal = crate::contexts::propose(&m.input, &graph, &ProposalOptions::default());
        let metrics = crate::metrics::measure(&m.input, &graph, &proposal);
        assemble("cinema", &m.input, &graph, &proposal, &metrics, Vec::new())
    }

    #[test]
    fn the_contract_fields_are_there() {
        let analysis = cinema_analysis();
        let json = serde_json::to_value(&analysis).unwrap();
        assert_eq!(json["schema_version"], 1);
        assert_eq!(json["root"], "cinema");
        let reviews = json["contexts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "reviews")
            .unwrap();
        assert!(
            reviews["modules"]
                .as_array()
                .unwrap()
                .contains(&"src/services/movies.rs::review_summary".into())
        );
        assert_eq!(reviews["tables"], serde_json::json!(["reviews"]));
        assert!(
            json["shared"]
                .as_array()
                .unwrap()
                .contains(&"src/common/db.rs".into())
        );
        let movies = json["tables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == "movies")
            .unwrap();
        assert_eq!(movies["owner"], "movies");
        assert_eq!(movies["writers"], serde_json::json!(["movies", "reviews"]));
        assert!(
            movies["advice"]
                .as_str()
                .unwrap()
                .contains("reviews also write it")
        );
        assert!(json["metrics"]["modularity"].as_f64().unwrap() > 0.0);
    }

    #[test]
    fn json_is_byte_identical_across_runs() {
        let a = serde_json::to_string_pretty(&cinema_analysis()).unwrap();
        let b = serde_json::to_string_pretty(&cinema_analysis()).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn seams_carry_file_and_line() {
        let analysis = cinema_analysis();
        let seam = analysis
            .seams
            .iter()
            .find(|s| s.callee == "src/repo/movies.rs::update_rating")
            .unwrap();
        assert_eq!(seam.from, "reviews");
        assert_eq!(seam.at, "src/services/reviews.rs:2");
    }
}
