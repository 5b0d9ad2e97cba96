//! The coupling graph: code units and database tables joined by weighted edges of five kinds.
//!
//! This is where extracted facts become the one structure every later step reads: clustering
//! folds it into an undirected weighted graph, metrics count its edges across contexts, and the
//! report draws it. The graph is built from [`CouplingInput`], a plain description of files,
//! functions, tables and routes, so that the weighting rules can be tested on hand-written
//! inputs without parsing any Rust.
//!
//! ## Weights, and why
//!
//! | edge | weight | reason |
//! |---|---|---|
//! | table write | 3 per writing function | a writer holds the table's invariants; two writers of one table cannot be separated without a shared database or an API between them |
//! | table read | 1 per reading function | a reader only needs the data; a read can become an API call or a replica |
//! | call | 1 per distinct caller–callee pair | each distinct call is one seam to turn into an API call |
//! | type use | 0.5 per distinct function–type pair | sharing a type couples less than calling: it can be copied or published |
//! | foreign key | 0.5 | a reference between tables is real coupling, but weaker evidence of ownership than code |
//!
//! Data access is carried up the call graph: a function that calls a function that writes
//! `bookings` touches `bookings` too, at half the weight per call level (up to
//! [`PROPAGATION_DEPTH`] levels). Most monoliths funnel SQL through one layer; without this,
//! contexts would form around that layer instead of around what each entry point touches.

use std::collections::{BTreeMap, BTreeSet};

use petgraph::graph::{DiGraph, NodeIndex};
use serde::Serialize;

/// Weight of one function writing one table.
pub const WRITE_WEIGHT: f64 = 3.0;
/// Weight of one function reading one table.
pub const READ_WEIGHT: f64 = 1.0;
/// Weight of one distinct call between two functions in different files.
pub const CALL_WEIGHT: f64 = 1.0;
/// Weight of one function using one type defined in another file.
pub const TYPE_USE_WEIGHT: f64 = 0.5;
/// Weight of one foreign key between two tables.
pub const FOREIGN_KEY_WEIGHT: f64 = 0.5;
/// Factor applied to data access for each call level it is carried up.
pub const PROPAGATION_DECAY: f64 = 0.5;
/// How many call levels data access is carried up.
pub const PROPAGATION_DEPTH: usize = 4;

/// How a function touches a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    /// SELECT, or the read side of a join or subquery.
    Read,
    /// INSERT, UPDATE, DELETE, or DDL that changes the table.
    Write,
}

/// A source file: the default unit of clustering.
#[derive(Debug, Clone, PartialEq)]
pub struct FileFacts {
    /// Path relative to the analyzed root, `/`-separated.
    pub path: String,
    /// Lines of code, used to size contexts.
    pub lines: usize,
    /// The root file of a binary (`main.rs`): wiring, not business logic.
    pub entry_point: bool,
}

/// A function or method and the coupling its body carries.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FunctionFacts {
    /// Name as the report shows it after `FILE::` (e.g. `add_review` or `Repo::add`).
    pub name: String,
    /// Index into [`CouplingInput::files`].
    pub file: usize,
    /// Line of the definition.
    pub line: u32,
    /// Calls to workspace functions: (index into [`CouplingInput::functions`], line).
    pub calls: Vec<(usize, u32)>,
    /// Types used from workspace files: (index into [`CouplingInput::files`], line).
    pub type_uses: Vec<(usize, u32)>,
    /// Tables touched directly: (index into [`CouplingInput::tables`], access, line).
    pub accesses: Vec<(usize, Access, u32)>,
    /// Tables this function creates rows in (`INSERT`), a subset of its writes: the creator of
    /// an entity is its first candidate owner.
    pub creates: Vec<usize>,
}

/// A database table.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TableFacts {
    /// Table name, lower case.
    pub name: String,
    /// Tables this one references by foreign key (indices into [`CouplingInput::tables`]).
    pub references: Vec<usize>,
}

/// An HTTP route and the function that serves it.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteFacts {
    /// `GET`, `POST`, ... upper case.
    pub method: String,
    /// Full path as registered, e.g. `/api/movies/{id}/reviews`.
    pub path: String,
    /// Handler function, when it could be resolved.
    pub handler: Option<usize>,
    /// File that registers the route (used when the handler is unknown).
    pub file: usize,
    /// Function whose body registers the route (`fn routes() -> Router`), when known.
    pub registrar: Option<usize>,
}

/// Everything the coupling step needs, independent of how it was extracted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CouplingInput {
    /// Source files, the units of clustering.
    pub files: Vec<FileFacts>,
    /// Functions and methods.
    pub functions: Vec<FunctionFacts>,
    /// Tables.
    pub tables: Vec<TableFacts>,
    /// Routes.
    pub routes: Vec<RouteFacts>,
    /// References between files made outside function bodies (`use` of a type in a struct
    /// field, a trait impl): (from file, to file).
    pub file_references: Vec<(usize, usize)>,
}

/// A node of the coupling graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "kind", content = "index", rename_all = "lowercase")]
pub enum Node {
    /// A source file (index into [`CouplingInput::files`]).
    File(usize),
    /// A table (index into [`CouplingInput::tables`]).
    Table(usize),
}

/// Why two nodes are coupled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EdgeKind {
    /// A function calls a function of another file.
    Call,
    /// A function or item uses a type of another file.
    TypeUse,
    /// Code reads a table (directly or through its callees).
    TableRead,
    /// Code writes a table (directly or through its callees).
    TableWrite,
    /// A table references another by foreign key.
    ForeignKey,
}

/// One directed, weighted edge: from the user to the used (caller to callee, code to table,
/// referencing table to referenced table).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Coupling {
    /// What kind of coupling.
    pub kind: EdgeKind,
    /// Summed weight of every fact of this kind between the two nodes.
    pub weight: f64,
}

/// The weighted coupling graph over files and tables.
#[derive(Debug, Clone)]
pub struct CouplingGraph {
    /// The graph; one edge per (from, to, kind).
    pub graph: DiGraph<Node, Coupling>,
    file_nodes: Vec<NodeIndex>,
    table_nodes: Vec<NodeIndex>,
    /// Per function and table, the data access carried up the call graph (decayed weights of
    /// reading and writing), so later steps can explain where a function's pull comes from.
    pub footprints: Vec<Footprint>,
}

/// A function's data footprint: for each table, the strongest read and write reaching it,
/// 1.0 for direct access and halved per call level.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Footprint {
    /// table index -> (read strength, write strength)
    pub tables: BTreeMap<usize, (f64, f64)>,
}

impl CouplingGraph {
    /// Builds the graph from extracted facts.
    pub fn build(input: &CouplingInput) -> Self {
        let mut graph = DiGraph::new();
        let file_nodes: Vec<_> = (0..input.files.len())
            .map(|f| graph.add_node(Node::File(f)))
            .collect();
        let table_nodes: Vec<_> = (0..input.tables.len())
            .map(|t| graph.add_node(Node::Table(t)))
            .collect();
        let footprints = propagate(input);

        // Accumulate in ordered maps so edge order, and everything downstream, is stable.
        let mut weights: BTreeMap<(Node, Node, EdgeKind), f64> = BTreeMap::new();
        let mut add = |from: Node, to: Node, kind: EdgeKind, weight: f64| {
            if from != to && weight > 0.0 {
                *weights.entry((from, to, kind)).or_insert(0.0) += weight;
            }
        };

        for (index, function) in input.functions.iter().enumerate() {
            let from = Node::File(function.file);
            let callees: BTreeSet<usize> = function.calls.iter().map(|(c, _)| *c).collect();
            for callee in callees {
                if let Some(target) = input.functions.get(callee) {
                    add(from, Node::File(target.file), EdgeKind::Call, CALL_WEIGHT);
                }
            }
            let types: BTreeSet<usize> = function.type_uses.iter().map(|(f, _)| *f).collect();
            for file in types {
                add(from, Node::File(file), EdgeKind::TypeUse, TYPE_USE_WEIGHT);
            }
            for (&table, &(read, write)) in &footprints[index].tables {
                add(
                    from,
                    Node::Table(table),
                    EdgeKind::TableRead,
                    READ_WEIGHT * read,
                );
                add(
                    from,
                    Node::Table(table),
                    EdgeKind::TableWrite,
                    WRITE_WEIGHT * write,
                );
            }
        }
        let file_refs: BTreeSet<(usize, usize)> = input.file_references.iter().copied().collect();
        for (from, to) in file_refs {
            add(
                Node::File(from),
                Node::File(to),
                EdgeKind::TypeUse,
                TYPE_USE_WEIGHT,
            );
        }
        for (index, table) in input.tables.iter().enumerate() {
            let referenced: BTreeSet<usize> = table.references.iter().copied().collect();
            for target in referenced {
                add(
                    Node::Table(index),
                    Node::Table(target),
                    EdgeKind::ForeignKey,
                    FOREIGN_KEY_WEIGHT,
                );
            }
        }
        for ((from, to, kind), weight) in weights {
            let (Some(a), Some(b)) = (
                node_index(&file_nodes, &table_nodes, from),
                node_index(&file_nodes, &table_nodes, to),
            ) else {
                continue;
            };
            graph.add_edge(a, b, Coupling { kind, weight });
        }
        Self {
            graph,
            file_nodes,
            table_nodes,
            footprints,
        }
    }

    /// Graph index of a node.
    pub fn index(&self, node: Node) -> Option<NodeIndex> {
        node_index(&self.file_nodes, &self.table_nodes, node)
    }

    /// Dense position of a node in `0..files+tables`: files first, then tables. This is the
    /// numbering clustering uses.
    pub fn dense(&self, node: Node) -> usize {
        match node {
            Node::File(f) => f,
            Node::Table(t) => self.file_nodes.len() + t,
        }
    }

    /// Number of file nodes.
    pub fn file_count(&self) -> usize {
        self.file_nodes.len()
    }

    /// Number of table nodes.
    pub fn table_count(&self) -> usize {
        self.table_nodes.len()
    }

    /// Every edge as (from, to, coupling), in a stable order.
    pub fn edges(&self) -> impl Iterator<Item = (Node, Node, Coupling)> + '_ {
        self.graph.edge_indices().filter_map(|e| {
            let (a, b) = self.graph.edge_endpoints(e)?;
            Some((self.graph[a], self.graph[b], self.graph[e]))
        })
    }
}

fn node_index(files: &[NodeIndex], tables: &[NodeIndex], node: Node) -> Option<NodeIndex> {
    match node {
        Node::File(f) => files.get(f).copied(),
        Node::Table(t) => tables.get(t).copied(),
    }
}

/// Carries each function's data access up to its callers, halved per level, keeping per table
/// the strongest read and write that reaches the function (a maximum, not a sum, so a diamond
/// of calls does not count one access twice and recursion converges).
fn propagate(input: &CouplingInput) -> Vec<Footprint> {
    let mut footprints: Vec<Footprint> = input
        .functions
        .iter()
        .map(|function| {
            let mut footprint = Footprint::default();
            for &(table, access, _) in &function.accesses {
                if table >= input.tables.len() {
                    continue;
                }
                let entry = footprint.tables.entry(table).or_insert((0.0, 0.0));
                match access {
                    Access::Read => entry.0 = 1.0,
                    Access::Write => entry.1 = 1.0,
                }
            }
            footprint
        })
        .collect();
    let callees: Vec<BTreeSet<usize>> = input
        .functions
        .iter()
        .map(|f| {
            f.calls
                .iter()
                .map(|(c, _)| *c)
                .filter(|c| *c < input.functions.len())
                .collect()
        })
        .collect();
    for _ in 0..PROPAGATION_DEPTH {
        let previous = footprints.clone();
        let mut changed = false;
        for (caller, targets) in callees.iter().enumerate() {
            for &callee in targets {
                if callee == caller {
                    continue;
                }
                for (&table, &(read, write)) in &previous[callee].tables {
                    let entry = footprints[caller].tables.entry(table).or_insert((0.0, 0.0));
                    let carried = (read * PROPAGATION_DECAY, write * PROPAGATION_DECAY);
                    if carried.0 > entry.0 {
                        entry.0 = carried.0;
                        changed = true;
                    }
                    if carried.1 > entry.1 {
                        entry.1 = carried.1;
                        changed = true;
                    }
                }
            }
        }
        if !changed {
            break;
        }
    }
    footprints
}

#[cfg(test)]
mod tests {
    use super::*;

    /// handler.rs -> service.rs -> repo.rs, repo writes `bookings`.
    fn layered() -> CouplingInput {
        CouplingInput {
            files: ["handler.rs", "service.rs", "repo.rs"]
                .map(|p| FileFacts {
                    path: p.into(),
                    lines: 10,
                    entry_point: false,
                })
                .to_vec(),
            functions: vec![
                FunctionFacts {
                    name: "create".into(),
                    file: 0,
                    calls: vec![(1, 3)],
                    ..Default::default()
                },
                FunctionFacts {
                    name: "book".into(),
                    file: 1,
                    calls: vec![(2, 5), (2, 6)],
                    ..Default::default()
                },
                FunctionFacts {
                    name: "insert".into(),
                    file: 2,
                    accesses: vec![(0, Access::Write, 9)],
                    ..Default::default()
                },
            ],
            tables: vec![TableFacts {
                name: "bookings".into(),
                references: vec![],
            }],
            ..Default::default()
        }
    }

    fn weight(graph: &CouplingGraph, from: Node, to: Node, kind: EdgeKind) -> f64 {
        graph
            .edges()
            .filter(|(a, b, c)| *a == from && *b == to && c.kind == kind)
            .map(|(_, _, c)| c.weight)
            .sum()
    }

    #[test]
    fn data_access_is_carried_up_with_decay() {
        let graph = CouplingGraph::build(&layered());
        let write = |file| {
            weight(
                &graph,
                Node::File(file),
                Node::Table(0),
                EdgeKind::TableWrite,
            )
        };
        assert_eq!(write(2), WRITE_WEIGHT);
        assert_eq!(write(1), WRITE_WEIGHT * 0.5);
        assert_eq!(write(0), WRITE_WEIGHT * 0.25);
        assert_eq!(
            weight(&graph, Node::File(0), Node::Table(0), EdgeKind::TableRead),
            0.0
        );
    }

    #[test]
    fn repeated_calls_count_once() {
        let graph = CouplingGraph::build(&layered());
        assert_eq!(
            weight(&graph, Node::File(1), Node::File(2), EdgeKind::Call),
            CALL_WEIGHT
        );
    }

    #[test]
    fn recursion_terminates_and_keeps_the_strongest_path() {
        let mut input = layered();
        // insert calls book back: a cycle.
        input.functions[2].calls.push((1, 10));
        let graph = CouplingGraph::build(&input);
        assert_eq!(graph.footprints[1].tables[&0].1, 0.5);
        assert_eq!(graph.footprints[2].tables[&0].1, 1.0);
    }

    #[test]
    fn out_of_range_indices_are_ignored() {
        let mut input = layered();
        input.functions[0].calls.push((99, 1));
        input.functions[0].accesses.push((42, Access::Read, 1));
        input.tables[0].references.push(7);
        let graph = CouplingGraph::build(&input);
        assert_eq!(graph.file_count(), 3);
    }
}
