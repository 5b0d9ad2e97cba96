//! Debug aid: fan-in and fan-out (distinct files) and data reach of every file of a tree:
//! `cargo run -p analyzer --example fanin -- PATH`.
#![allow(clippy::print_stdout)]

use std::collections::BTreeSet;

fn main() {
    let root = std::env::args().nth(1).unwrap_or_else(|| ".".into());
    let model = analyzer::build_model(std::path::Path::new(&root), &Default::default()).unwrap();
    let input = analyzer::graph_input::coupling_input(&model);
    let graph = analyzer::graph::CouplingGraph::build(&input);
    let n = input.files.len();
    let mut fan_in = vec![BTreeSet::new(); n];
    let mut fan_out = vec![BTreeSet::new(); n];
    let mut tables = vec![BTreeSet::new(); n];
    for (from, to, _) in graph.edges() {
        match (from, to) {
            (analyzer::graph::Node::File(a), analyzer::graph::Node::File(b)) => {
                fan_in[b].insert(a);
                fan_out[a].insert(b);
            }
            (analyzer::graph::Node::File(a), analyzer::graph::Node::Table(t)) => {
                tables[a].insert(input.tables[t].name.clone());
            }
            _ => {}
        }
    }
    for f in 0..n {
        println!(
            "{:40} in {:2} out {:2} tables {:?}",
            input.files[f].path,
            fan_in[f].len(),
            fan_out[f].len(),
            tables[f]
        );
    }
}
