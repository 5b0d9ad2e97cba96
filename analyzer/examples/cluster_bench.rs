//! Benchmark of the coupling, clustering and metrics steps on a synthetic graph of N file units
//! (default 10,000): `cargo run --release -p analyzer --example cluster_bench [-- FILES]`.
//!
//! The synthetic monolith has areas of ~50 files, each with its own tables, layered calls
//! inside the area, 3% of calls crossing to a random other area, and a small common library
//! used by everyone, so the graph looks like a large real monolith's.
#![allow(clippy::print_stdout)]

use std::time::Instant;

use analyzer::contexts::{ProposalOptions, propose};
use analyzer::graph::{Access, CouplingGraph, CouplingInput, FileFacts, FunctionFacts, TableFacts};
use analyzer::metrics::measure;

/// A small deterministic generator (xorshift64*), so every run measures the same graph.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn synthetic(files: usize) -> CouplingInput {
    let mut rng = Rng(0x5eed);
    let area_size = 50;
    let areas = files.div_ceil(area_size);
    let common = 10;
    let mut input = CouplingInput::default();
    for f in 0..files {
        input.files.push(FileFacts {
            path: format!("src/area{}/file{}.rs", f / area_size, f % area_size),
            lines: 200,
            entry_point: false,
        });
    }
    for t in 0..areas * 3 {
        input.tables.push(TableFacts {
            name: format!("table{t}"),
            references: vec![],
        });
    }
    // Four functions per file.
    for f in 0..files {
        for k in 0..4 {
            input.functions.push(FunctionFacts {
                name: format!("f{k}"),
                file: f,
                line: 10 * k as u32 + 1,
                ..Default::default()
            });
        }
    }
    let functions = input.functions.len();
    for index in 0..functions {
        let file = index / 4;
        let area = file / area_size;
        let base = area * area_size;
        let size = area_size.min(files - base);
        for _ in 0..3 {
            let target_file = if rng.below(100) < 3 {
                rng.below(files)
            } else if rng.below(100) < 10 {
                rng.below(common.min(files))
            } else {
                base + rng.below(size)
            };
            let callee = target_file * 4 + rng.below(4);
            if callee != index {
                input.functions[index].calls.push((callee, 1));
            }
        }
        if rng.below(100) < 20 {
            let table = area * 3 + rng.below(3);
            let access = if rng.below(3) == 0 {
                Access::Write
            } else {
                Access::Read
            };
            input.functions[index].accesses.push((table, access, 1));
        }
    }
    input
}

fn main() {
    let files: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    let input = synthetic(files);
    let started = Instant::now();
    let graph = CouplingGraph::build(&input);
    let built = started.elapsed();
    let folded = analyzer::contexts::fold(&graph, &Default::default());
    let clustering = Instant::now();
    let partition = analyzer::cluster::detect(
        &folded,
        &analyzer::cluster::ClusterOptions::unpinned(folded.len()),
    );
    let clustered = clustering.elapsed();
    println!(
        "clustering alone: {:.3}s, {} communities over {} nodes",
        clustered.as_secs_f64(),
        partition.count(),
        folded.len()
    );
    let started = Instant::now() - built;
    let proposal = propose(&input, &graph, &ProposalOptions::default());
    let proposed = started.elapsed() - built;
    let metrics = measure(&input, &graph, &proposal);
    let measured = started.elapsed() - built - proposed;
    println!(
        "{files} files, {} functions, {} tables, {} edges",
        input.functions.len(),
        input.tables.len(),
        graph.graph.edge_count()
    );
    println!(
        "graph {:.3}s  propose (two clusterings, kernel, owners, moves) {:.3}s  metrics {:.3}s",
        built.as_secs_f64(),
        proposed.as_secs_f64(),
        measured.as_secs_f64()
    );
    println!(
        "{} contexts, {} shared, {} moves, modularity {:.3}",
        proposal.contexts.len(),
        proposal
            .placement
            .iter()
            .filter(|p| matches!(p, analyzer::contexts::Placement::Shared(_)))
            .count(),
        proposal.moves.len(),
        metrics.modularity
    );
}
