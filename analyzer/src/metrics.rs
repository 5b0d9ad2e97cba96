//! Metrics that judge a proposal, overall and per context, so a team can compare proposals
//! (another resolution, other pins) by numbers rather than by eye.
//!
//! Definitions (see `docs/analysis.md` for the sources):
//! - **modularity Q** (Newman 2006) of the file/table partition, shared kernel left out;
//! - **cohesion** of a context: the share of its coupling weight that stays inside it;
//!   **coupling**: the weight that crosses its boundary;
//! - **SM**, structural modularity (Candela et al. 2016): mean structural cohesion
//!   `μᵢ/Nᵢ²` minus mean pairwise coupling `σᵢⱼ/(2NᵢNⱼ)`, over file-to-file dependencies;
//! - **ICP**, inter-call percentage (Jin et al. 2019): share of distinct function calls
//!   between contexts that cross a boundary (lower is better);
//! - **IFN**, interface number (Jin et al. 2019): mean number of functions per context called
//!   from other contexts, i.e. the operations its API must publish (lower is better);
//! - **NED**, non-extreme distribution (Wu et al. 2005, as used by Jin et al. 2019): share of
//!   files in contexts that are extremely small or large, outside `[NED_MIN, NED_MAX]` files
//!   (lower is better).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::cluster::{self, Partition};
use crate::contexts::{Placement, Proposal};
use crate::graph::{CouplingGraph, CouplingInput, EdgeKind, Node};

/// Smallest context (in files) that NED counts as non-extreme.
pub const NED_MIN: usize = 5;
/// Largest context (in files) that NED counts as non-extreme.
pub const NED_MAX: usize = 20;

/// Metrics of one context.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContextMetrics {
    /// Files whose home is the context.
    pub files: usize,
    /// Lines of those files.
    pub lines: usize,
    /// Internal weight / (internal + crossing weight); 1 when it has no coupling at all.
    pub cohesion: f64,
    /// Coupling weight crossing the context's boundary.
    pub coupling: f64,
    /// Functions of this context called from other contexts.
    pub interfaces: usize,
    /// Distinct calls from other contexts into this one.
    pub calls_in: usize,
    /// Distinct calls from this context into others.
    pub calls_out: usize,
}

/// A call that crosses a context boundary: a seam that becomes an API call on extraction.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Seam {
    /// Calling context index.
    pub from_context: usize,
    /// Called context index.
    pub to_context: usize,
    /// Calling function index.
    pub caller: usize,
    /// Called function index.
    pub callee: usize,
    /// Line of the call in the caller's file.
    pub line: u32,
}

/// Metrics of a whole proposal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    /// Newman modularity of the partition (shared kernel left out).
    pub modularity: f64,
    /// Structural modularity.
    pub sm: f64,
    /// Inter-call percentage, 0..1.
    pub icp: f64,
    /// Interface number.
    pub ifn: f64,
    /// Non-extreme distribution, 0..1.
    pub ned: f64,
    /// Per context, same order as [`Proposal::contexts`].
    pub contexts: Vec<ContextMetrics>,
    /// Cross-context calls, sorted.
    pub seams: Vec<Seam>,
}

/// Computes the metrics of a proposal.
pub fn measure(input: &CouplingInput, graph: &CouplingGraph, proposal: &Proposal) -> Metrics {
    let k = proposal.contexts.len();
    let context_of_node = |node: Node| match node {
        Node::File(f) => match proposal.placement.get(f) {
            Some(Placement::Context(c)) => Some(*c),
            _ => None,
        },
        Node::Table(t) => proposal.tables.get(t).and_then(|u| u.owner),
    };

    // Modularity over the nodes placed in contexts.
    let shared: BTreeSet<usize> = proposal
        .placement
        .iter()
        .enumerate()
        .filter(|(_, p)| matches!(p, Placement::Shared(_)))
        .map(|(f, _)| f)
        .collect();
    let folded = crate::contexts::fold(graph, &shared);
    let mut labels = Vec::with_capacity(folded.len());
    let mut lone = k;
    for dense in 0..folded.len() {
        let node = if dense < graph.file_count() {
            Node::File(dense)
        } else {
            Node::Table(dense - graph.file_count())
        };
        labels.push(context_of_node(node).unwrap_or_else(|| {
            lone += 1;
            lone
        }));
    }
    let modularity = cluster::modularity(&folded, &Partition { community: labels }, 1.0);

    // Cohesion and coupling per context.
    let mut inside = vec![0.0; k];
    let mut crossing = vec![0.0; k];
    for (from, to, coupling) in graph.edges() {
        if coupling.kind == EdgeKind::ForeignKey {
            continue;
        }
        match (context_of_node(from), context_of_node(to)) {
            (Some(a), Some(b)) if a == b => inside[a] += coupling.weight,
            (Some(a), Some(b)) => {
                crossing[a] += coupling.weight;
                crossing[b] += coupling.weight;
            }
            _ => {}
        }
    }

    // Calls between functions, by context after moves.
    let mut pairs: BTreeSet<(usize, usize)> = BTreeSet::new();
    let mut seams = Vec::new();
    for (caller, function) in input.functions.iter().enumerate() {
        let mut seen = BTreeSet::new();
        for &(callee, line) in &function.calls {
            if callee >= input.functions.len() || !seen.insert(callee) {
                continue;
            }
            let (Some(a), Some(b)) = (
                proposal.function_context.get(caller).copied().flatten(),
                proposal.function_context.get(callee).copied().flatten(),
            ) else {
                continue;
            };
            pairs.insert((caller, callee));
            if a != b {
                seams.push(Seam {
                    from_context: a,
                    to_context: b,
                    caller,
                    callee,
                    line,
                });
            }
        }
    }
    seams.sort();
    let icp = if pairs.is_empty() {
        0.0
    } else {
        seams.len() as f64 / pairs.len() as f64
    };
    let mut interfaces: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); k];
    let mut calls_in = vec![0; k];
    let mut calls_out = vec![0; k];
    for seam in &seams {
        interfaces[seam.to_context].insert(seam.callee);
        calls_in[seam.to_context] += 1;
        calls_out[seam.from_context] += 1;
    }
    let ifn = if k == 0 {
        0.0
    } else {
        interfaces.iter().map(BTreeSet::len).sum::<usize>() as f64 / k as f64
    };

    let sizes: Vec<usize> = proposal.contexts.iter().map(|c| c.files.len()).collect();
    let sm = structural_modularity(graph, proposal, &sizes);
    let placed: usize = sizes.iter().sum();
    let non_extreme: usize = sizes
        .iter()
        .filter(|&&n| (NED_MIN..=NED_MAX).contains(&n))
        .sum();
    let ned = if placed == 0 {
        0.0
    } else {
        1.0 - non_extreme as f64 / placed as f64
    };

    let contexts = (0..k)
        .map(|c| {
            let total = inside[c] + crossing[c];
            ContextMetrics {
                files: sizes[c],
                lines: proposal.contexts[c]
                    .files
                    .iter()
                    .map(|&f| input.files[f].lines)
                    .sum(),
                cohesion: if total > 0.0 { inside[c] / total } else { 1.0 },
                coupling: crossing[c],
                interfaces: interfaces[c].len(),
                calls_in: calls_in[c],
                calls_out: calls_out[c],
            }
        })
        .collect();
    Metrics {
        modularity,
        sm,
        icp,
        ifn,
        ned,
        contexts,
        seams,
    }
}

/// Structural modularity over distinct file-to-file dependencies (calls and type uses).
fn structural_modularity(graph: &CouplingGraph, proposal: &Proposal, sizes: &[usize]) -> f64 {
    let k = sizes.len();
    if k == 0 {
        return 0.0;
    }
    let context_of = |f: usize| match proposal.placement.get(f) {
        Some(Placement::Context(c)) => Some(*c),
        _ => None,
    };
    let mut dependencies: BTreeSet<(usize, usize)> = BTreeSet::new();
    for (from, to, coupling) in graph.edges() {
        if let (Node::File(a), Node::File(b), EdgeKind::Call | EdgeKind::TypeUse) =
            (from, to, coupling.kind)
        {
            dependencies.insert((a, b));
        }
    }
    let mut within = vec![0usize; k];
    let mut between: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    for (a, b) in dependencies {
        match (context_of(a), context_of(b)) {
            (Some(x), Some(y)) if x == y => within[x] += 1,
            (Some(x), Some(y)) => *between.entry((x.min(y), x.max(y))).or_default() += 1,
            _ => {}
        }
    }
    let cohesion: f64 = (0..k)
        .map(|i| {
            let n = sizes[i].max(1) as f64;
            within[i] as f64 / (n * n)
        })
        .sum::<f64>()
        / k as f64;
    let coupling = if k > 1 {
        between
            .iter()
            .map(|(&(i, j), &sigma)| {
                sigma as f64 / (2.0 * sizes[i].max(1) as f64 * sizes[j].max(1) as f64)
            })
            .sum::<f64>()
            / (k * (k - 1) / 2) as f64
    } else {
        0.0
    };
    cohesion - coupling
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contexts::ProposalOptions;
    use crate::fixture::cinema;

    fn cinema_metrics() -> (crate::fixture::Monolith, Proposal, Metrics) {
        let m = cinema();
        let p = m.propose(&ProposalOptions::default());
        let graph = CouplingGraph::build(&m.input);
        let metrics = measure(&m.input, &graph, &p);
        (m, p, metrics)
    }

    #[test]
    fn a_good_split_scores_well() {
        let (_, p, metrics) = cinema_metrics();
        assert!(metrics.modularity > 0.3, "Q = {}", metrics.modularity);
        assert!(metrics.sm > 0.0, "SM = {}", metrics.sm);
        assert!(
            metrics.icp > 0.0 && metrics.icp < 0.3,
            "ICP = {}",
            metrics.icp
        );
        // Three files per context: all extreme by the literature's bounds.
        assert_eq!(metrics.ned, 1.0);
        assert_eq!(metrics.contexts.len(), p.contexts.len());
        for c in &metrics.contexts {
            assert!(c.cohesion > 0.5 && c.cohesion <= 1.0, "{c:?}");
        }
    }

    #[test]
    fn seams_name_the_calls_that_cross() {
        let (m, p, metrics) = cinema_metrics();
        let caller = m.functions["src/services/reviews.rs::create"];
        let callee = m.functions["src/repo/movies.rs::update_rating"];
        let seam = metrics
            .seams
            .iter()
            .find(|s| s.caller == caller && s.callee == callee)
            .expect("reviews -> movies seam");
        assert_eq!(p.contexts[seam.from_context].name, "reviews");
        assert_eq!(p.contexts[seam.to_context].name, "movies");
        let movies = seam.to_context;
        assert!(metrics.contexts[movies].interfaces >= 1);
        assert!(metrics.ifn > 0.0);
    }

    #[test]
    fn a_worse_split_scores_worse() {
        let m = cinema();
        let good = m.propose(&ProposalOptions::default());
        let bad = m.propose(&ProposalOptions {
            target_contexts: Some(2),
            ..Default::default()
        });
        let graph = CouplingGraph::build(&m.input);
        let good = measure(&m.input, &graph, &good);
        let bad = measure(&m.input, &graph, &bad);
        assert!(bad.modularity < good.modularity);
    }
}
