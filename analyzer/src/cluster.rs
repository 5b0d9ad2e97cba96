//! Community detection on a weighted undirected graph: the step that turns coupling into
//! proposed bounded contexts.
//!
//! We implement Louvain modularity optimisation with two refinements borrowed from Leiden:
//! communities are split into their connected components after every run (Louvain alone can
//! leave a community whose halves only meet through a node that moved away), and local moves are
//! made in a fixed order so that the same graph always gives the same partition. No crate in the
//! ecosystem offers a deterministic, weighted, pin-aware Louvain, and the algorithm is small.
//!
//! Pins let a user say "these units belong together (and apart from other pins)": pinned nodes
//! with the same label start in one community, and no move may put two labels in one community.
//!
//! Everything here is pure and works on dense indices `0..n`; the caller maps them to units.

use std::collections::BTreeMap;

/// An undirected weighted graph in adjacency-list form, the input of [`detect`].
///
/// Parallel edges are summed and self-loops are kept (they appear once, with their full weight).
#[derive(Debug, Clone, Default)]
pub struct WeightedGraph {
    adjacency: Vec<Vec<(usize, f64)>>,
    self_loops: Vec<f64>,
}

impl WeightedGraph {
    /// A graph of `nodes` nodes and no edges.
    pub fn new(nodes: usize) -> Self {
        Self {
            adjacency: vec![Vec::new(); nodes],
            self_loops: vec![0.0; nodes],
        }
    }

    /// Builds a graph from `(a, b, weight)` edges in one pass: parallel edges are summed, in
    /// time `O(E log E)` whatever the degrees (adding edges one by one is linear in the degree).
    pub fn from_edges(nodes: usize, edges: impl IntoIterator<Item = (usize, usize, f64)>) -> Self {
        let mut summed: BTreeMap<(usize, usize), f64> = BTreeMap::new();
        for (a, b, weight) in edges {
            if a < nodes && b < nodes && weight.is_finite() && weight > 0.0 {
                *summed.entry((a.min(b), a.max(b))).or_insert(0.0) += weight;
            }
        }
        let mut graph = Self::new(nodes);
        for ((a, b), weight) in summed {
            if a == b {
                graph.self_loops[a] += weight;
            } else {
                graph.adjacency[a].push((b, weight));
                graph.adjacency[b].push((a, weight));
            }
        }
        graph
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.adjacency.len()
    }

    /// True when the graph has no node.
    pub fn is_empty(&self) -> bool {
        self.adjacency.is_empty()
    }

    /// Adds `weight` to the undirected edge `a`–`b` (a self-loop when `a == b`). Non-positive or
    /// non-finite weights are ignored: they carry no coupling.
    pub fn add_edge(&mut self, a: usize, b: usize, weight: f64) {
        if !(weight.is_finite() && weight > 0.0) {
            return;
        }
        if a == b {
            self.self_loops[a] += weight;
            return;
        }
        add_to(&mut self.adjacency[a], b, weight);
        add_to(&mut self.adjacency[b], a, weight);
    }

    /// Neighbours of `node` with edge weights, self-loop excluded, in insertion order.
    pub fn neighbours(&self, node: usize) -> &[(usize, f64)] {
        &self.adjacency[node]
    }

    /// Weight of the undirected edge between `a` and `b` (0 when absent).
    pub fn weight(&self, a: usize, b: usize) -> f64 {
        if a == b {
            return self.self_loops[a];
        }
        self.adjacency[a]
            .iter()
            .find(|(n, _)| *n == b)
            .map_or(0.0, |(_, w)| *w)
    }

    /// Weighted degree: the sum of incident edge weights, a self-loop counted twice.
    pub fn degree(&self, node: usize) -> f64 {
        self.adjacency[node].iter().map(|(_, w)| w).sum::<f64>() + 2.0 * self.self_loops[node]
    }

    /// Total edge weight `m` (each undirected edge once).
    pub fn total_weight(&self) -> f64 {
        let twice: f64 = (0..self.len()).map(|n| self.degree(n)).sum();
        twice / 2.0
    }
}

fn add_to(list: &mut Vec<(usize, f64)>, target: usize, weight: f64) {
    match list.iter_mut().find(|(n, _)| *n == target) {
        Some((_, w)) => *w += weight,
        None => list.push((target, weight)),
    }
}

/// Knobs of [`detect`].
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// Modularity resolution γ: above 1 gives more, smaller communities; below 1 fewer, larger.
    pub resolution: f64,
    /// Pin label per node (same label = same community, different labels = different ones).
    pub pins: Vec<Option<u32>>,
}

impl ClusterOptions {
    /// Resolution 1 and no pins for a graph of `nodes` nodes.
    pub fn unpinned(nodes: usize) -> Self {
        Self {
            resolution: 1.0,
            pins: vec![None; nodes],
        }
    }
}

/// A partition of the nodes: `community[node]` is a dense community index, numbered in order of
/// each community's smallest node, so equal partitions compare equal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    /// Community of each node.
    pub community: Vec<usize>,
}

impl Partition {
    /// Number of communities.
    pub fn count(&self) -> usize {
        self.community.iter().max().map_or(0, |m| m + 1)
    }

    /// Members of each community, in node order.
    pub fn members(&self) -> Vec<Vec<usize>> {
        let mut members = vec![Vec::new(); self.count()];
        for (node, &c) in self.community.iter().enumerate() {
            members[c].push(node);
        }
        members
    }

    /// Renumbers communities by first appearance so that the numbering is canonical.
    fn canonical(labels: &[usize]) -> Self {
        let mut renumber = BTreeMap::new();
        let community = labels
            .iter()
            .map(|label| {
                let next = renumber.len();
                *renumber.entry(*label).or_insert(next)
            })
            .collect();
        Self { community }
    }
}

/// Upper bound on local-moving sweeps per level; Louvain converges in a handful, this only
/// guarantees termination on pathological float ties.
const MAX_SWEEPS: usize = 64;
/// Upper bound on aggregation levels.
const MAX_LEVELS: usize = 32;
/// A move must gain at least this much modularity (scaled by 2m) to count, so float noise
/// cannot make nodes oscillate.
const MIN_GAIN: f64 = 1e-12;

/// Detects communities by Louvain local moving and aggregation, then splits every community
/// into connected components. Deterministic for a given graph and options.
pub fn detect(graph: &WeightedGraph, options: &ClusterOptions) -> Partition {
    let n = graph.len();
    if n == 0 {
        return Partition {
            community: Vec::new(),
        };
    }
    // Start from the pins: nodes with the same label share a community.
    let mut labels: Vec<usize> = (0..n).collect();
    let mut first_of_pin: BTreeMap<u32, usize> = BTreeMap::new();
    for (node, pin) in options.pins.iter().enumerate().take(n) {
        if let Some(pin) = pin {
            labels[node] = *first_of_pin.entry(*pin).or_insert(node);
        }
    }
    let start = Partition::canonical(&labels);

    let mut level_graph = aggregate(graph, &start.community, start.count());
    let mut level_pins = pins_of(&start.community, start.count(), &options.pins);
    let mut assignment = start.community;

    for _ in 0..MAX_LEVELS {
        let moved = local_moving(&level_graph, &level_pins, options.resolution);
        let moved = Partition::canonical(&moved);
        if moved.count() == level_graph.len() {
            break;
        }
        for c in assignment.iter_mut() {
            *c = moved.community[*c];
        }
        level_pins = pins_of(&moved.community, moved.count(), &level_pins);
        level_graph = aggregate(&level_graph, &moved.community, moved.count());
    }
    split_disconnected(graph, &Partition::canonical(&assignment), &options.pins)
}

/// Pin of each community given the pins of the nodes it contains (at most one label, by the
/// move rule).
fn pins_of(community: &[usize], count: usize, pins: &[Option<u32>]) -> Vec<Option<u32>> {
    let mut out = vec![None; count];
    for (node, &c) in community.iter().enumerate() {
        if let Some(Some(pin)) = pins.get(node) {
            out[c] = Some(*pin);
        }
    }
    out
}

/// The Louvain local-moving phase: each node in turn moves to the neighbouring community with
/// the best modularity gain, until a sweep moves nothing.
fn local_moving(graph: &WeightedGraph, pins: &[Option<u32>], resolution: f64) -> Vec<usize> {
    let n = graph.len();
    let two_m = 2.0 * graph.total_weight();
    let mut community: Vec<usize> = (0..n).collect();
    if two_m <= 0.0 {
        return community;
    }
    let degree: Vec<f64> = (0..n).map(|v| graph.degree(v)).collect();
    let mut total: Vec<f64> = degree.clone();
    let mut community_pin: Vec<Option<u32>> = pins.to_vec();
    let mut members: Vec<usize> = vec![1; n];
    // Scratch: weight from the current node to each neighbouring community.
    let mut link: Vec<f64> = vec![0.0; n];
    let mut touched: Vec<usize> = Vec::new();

    for _ in 0..MAX_SWEEPS {
        let mut moved_any = false;
        for node in 0..n {
            let own = community[node];
            touched.clear();
            for &(neighbour, weight) in graph.neighbours(node) {
                let c = community[neighbour];
                if link[c] == 0.0 {
                    touched.push(c);
                }
                link[c] += weight;
            }
            // Take the node out of its community.
            total[own] -= degree[node];
            members[own] -= 1;
            let node_pin = pins[node];
            // Pinned nodes of one label are merged before the first level, so a pin lives on
            // exactly one node per level: when that node leaves, its community loses the pin.
            let own_pin_left = if node_pin.is_some() || members[own] == 0 {
                None
            } else {
                community_pin[own]
            };
            let gain = |c: usize, link_weight: f64| {
                link_weight - resolution * total[c] * degree[node] / two_m
            };
            let mut best = own;
            let mut best_gain = gain(own, link[own]);
            touched.sort_unstable();
            for &c in &touched {
                if c == own {
                    continue;
                }
                let target_pin = community_pin[c];
                if node_pin.is_some() && target_pin.is_some() && node_pin != target_pin {
                    continue;
                }
                let g = gain(c, link[c]);
                if g > best_gain + MIN_GAIN {
                    best = c;
                    best_gain = g;
                }
            }
            total[best] += degree[node];
            members[best] += 1;
            if best != own {
                moved_any = true;
                community[node] = best;
                community_pin[own] = own_pin_left;
                if node_pin.is_some() {
                    community_pin[best] = node_pin;
                }
            }
            for &c in &touched {
                link[c] = 0.0;
            }
        }
        if !moved_any {
            break;
        }
    }
    community
}

/// Collapses each community into one node; internal weight becomes a self-loop.
fn aggregate(graph: &WeightedGraph, community: &[usize], count: usize) -> WeightedGraph {
    let mut members = vec![Vec::new(); count];
    for (node, &c) in community.iter().enumerate() {
        members[c].push(node);
    }
    let mut out = WeightedGraph::new(count);
    let mut link = vec![0.0; count];
    let mut touched = Vec::new();
    for (c, nodes) in members.iter().enumerate() {
        for &node in nodes {
            out.self_loops[c] += graph.self_loops[node];
            for &(neighbour, weight) in graph.neighbours(node) {
                let d = community[neighbour];
                if d == c {
                    // An internal edge is seen from both ends: count it once.
                    if neighbour > node {
                        out.self_loops[c] += weight;
                    }
                    continue;
                }
                if link[d] == 0.0 {
                    touched.push(d);
                }
                link[d] += weight;
            }
        }
        touched.sort_unstable();
        for d in touched.drain(..) {
            out.adjacency[c].push((d, link[d]));
            link[d] = 0.0;
        }
    }
    out
}

/// Splits every community into its connected components (Leiden's guarantee that a community
/// is connected). Components that hold a pin stay together with the rest of that pin.
fn split_disconnected(
    graph: &WeightedGraph,
    partition: &Partition,
    pins: &[Option<u32>],
) -> Partition {
    let n = graph.len();
    let mut component = vec![usize::MAX; n];
    let mut next = 0;
    let mut stack = Vec::new();
    for start in 0..n {
        if component[start] != usize::MAX {
            continue;
        }
        component[start] = next;
        stack.push(start);
        while let Some(node) = stack.pop() {
            for &(neighbour, _) in graph.neighbours(node) {
                if component[neighbour] == usize::MAX
                    && partition.community[neighbour] == partition.community[node]
                {
                    component[neighbour] = next;
                    stack.push(neighbour);
                }
            }
        }
        next += 1;
    }
    // Re-join the components of one pin label.
    let mut pin_component: BTreeMap<u32, usize> = BTreeMap::new();
    for node in 0..n {
        if let Some(Some(pin)) = pins.get(node) {
            let first = *pin_component.entry(*pin).or_insert(component[node]);
            let mine = component[node];
            if mine != first {
                for c in component.iter_mut() {
                    if *c == mine {
                        *c = first;
                    }
                }
            }
        }
    }
    Partition::canonical(&component)
}

/// Newman modularity of a partition at resolution γ:
/// `Q = Σ_c [ L_c / m − γ (d_c / 2m)² ]`, with `L_c` the weight inside community `c` and
/// `d_c` the total degree of its nodes.
pub fn modularity(graph: &WeightedGraph, partition: &Partition, resolution: f64) -> f64 {
    let m = graph.total_weight();
    if m <= 0.0 {
        return 0.0;
    }
    let count = partition.count();
    let mut inside = vec![0.0; count];
    let mut degree = vec![0.0; count];
    for node in 0..graph.len() {
        let c = partition.community[node];
        degree[c] += graph.degree(node);
        inside[c] += graph.self_loops[node];
        for &(neighbour, weight) in graph.neighbours(node) {
            if neighbour > node && partition.community[neighbour] == c {
                inside[c] += weight;
            }
        }
    }
    (0..count)
        .map(|c| inside[c] / m - resolution * (degree[c] / (2.0 * m)).powi(2))
        .sum()
}

/// Finds a partition with `target` communities (or as close as the graph allows) by searching
/// the resolution, then merging the pair of communities whose union loses the least modularity
/// while there are too many. Pins are honoured; merging never joins two pin labels.
pub fn detect_count(graph: &WeightedGraph, options: &ClusterOptions, target: usize) -> Partition {
    let target = target.max(1);
    let mut best = detect(graph, options);
    let mut low = 0.0_f64;
    let mut high = options.resolution.max(1.0);
    // Grow the upper bound until it gives enough communities (bounded).
    for _ in 0..8 {
        let trial = detect(
            graph,
            &ClusterOptions {
                resolution: high,
                pins: options.pins.clone(),
            },
        );
        if trial.count() >= target {
            break;
        }
        high *= 2.0;
    }
    for _ in 0..24 {
        if best.count() == target {
            break;
        }
        let mid = (low + high) / 2.0;
        let trial = detect(
            graph,
            &ClusterOptions {
                resolution: mid,
                pins: options.pins.clone(),
            },
        );
        let closer = trial.count().abs_diff(target) < best.count().abs_diff(target)
            || (trial.count().abs_diff(target) == best.count().abs_diff(target)
                && trial.count() > best.count()
                && best.count() < target);
        if closer {
            best = trial.clone();
        }
        if trial.count() < target {
            low = mid;
        } else {
            high = mid;
        }
    }
    merge_down(graph, best, &options.pins, target)
}

/// Greedy agglomeration: while there are more than `target` communities, merge the connected
/// pair with the smallest modularity loss (largest gain).
fn merge_down(
    graph: &WeightedGraph,
    mut partition: Partition,
    pins: &[Option<u32>],
    target: usize,
) -> Partition {
    while partition.count() > target {
        let count = partition.count();
        let m = graph.total_weight();
        if m <= 0.0 {
            break;
        }
        let reduced = aggregate(graph, &partition.community, count);
        let community_pins = pins_of(&partition.community, count, pins);
        let degree: Vec<f64> = (0..count).map(|c| reduced.degree(c)).collect();
        let mut best: Option<(f64, usize, usize)> = None;
        for a in 0..count {
            for &(b, weight) in reduced.neighbours(a) {
                if b <= a {
                    continue;
                }
                if let (Some(pa), Some(pb)) = (community_pins[a], community_pins[b])
                    && pa != pb
                {
                    continue;
                }
                let gain = weight / m - degree[a] * degree[b] / (2.0 * m * m);
                if best.is_none_or(|(g, _, _)| gain > g + MIN_GAIN) {
                    best = Some((gain, a, b));
                }
            }
        }
        let Some((_, a, b)) = best else { break };
        let labels: Vec<usize> = partition
            .community
            .iter()
            .map(|&c| if c == b { a } else { c })
            .collect();
        partition = Partition::canonical(&labels);
    }
    partition
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two 4-cliques joined by one light edge: the textbook case.
    fn two_cliques() -> WeightedGraph {
        let mut g = WeightedGraph::new(8);
        for group in [[0, 1, 2, 3], [4, 5, 6, 7]] {
            for (i, &a) in group.iter().enumerate() {
                for &b in &group[i + 1..] {
                    g.add_edge(a, b, 1.0);
                }
            }
        }
        g.add_edge(3, 4, 0.5);
        g
    }

    #[test]
    fn finds_the_two_cliques() {
        let g = two_cliques();
        let p = detect(&g, &ClusterOptions::unpinned(8));
        assert_eq!(p.community, vec![0, 0, 0, 0, 1, 1, 1, 1]);
        let q = modularity(&g, &p, 1.0);
        assert!(q > 0.4, "modularity {q}");
    }

    #[test]
    fn same_graph_same_partition() {
        let g = ring_of_cliques(12, 5);
        let a = detect(&g, &ClusterOptions::unpinned(g.len()));
        let b = detect(&g, &ClusterOptions::unpinned(g.len()));
        assert_eq!(a, b);
        assert_eq!(a.count(), 12);
    }

    #[test]
    fn pins_keep_labels_apart_and_together() {
        let g = two_cliques();
        let mut options = ClusterOptions::unpinned(8);
        // Pin node 0 and node 7 together: they must end in one community.
        options.pins[0] = Some(1);
        options.pins[7] = Some(1);
        let p = detect(&g, &options);
        assert_eq!(p.community[0], p.community[7]);
        // Pin two nodes of one clique apart: they must be separated.
        let mut options = ClusterOptions::unpinned(8);
        options.pins[0] = Some(1);
        options.pins[1] = Some(2);
        let p = detect(&g, &options);
        assert_ne!(p.community[0], p.community[1]);
    }

    #[test]
    fn communities_are_connected() {
        // Two disconnected edges and an isolated node: three communities at least.
        let mut g = WeightedGraph::new(5);
        g.add_edge(0, 1, 1.0);
        g.add_edge(2, 3, 1.0);
        let p = detect(&g, &ClusterOptions::unpinned(5));
        assert_eq!(p.count(), 3);
        assert_ne!(p.community[0], p.community[2]);
    }

    #[test]
    fn target_count_is_reached_by_merging() {
        let g = ring_of_cliques(8, 4);
        let p = detect_count(&g, &ClusterOptions::unpinned(g.len()), 4);
        assert_eq!(p.count(), 4);
        // Merges join neighbouring cliques, never split one.
        for clique in 0..8 {
            let base = clique * 4;
            assert!((base..base + 4).all(|n| p.community[n] == p.community[base]));
        }
    }

    #[test]
    fn resolution_moves_the_granularity() {
        let g = ring_of_cliques(16, 3);
        let coarse = detect(
            &g,
            &ClusterOptions {
                resolution: 0.05,
                pins: vec![None; g.len()],
            },
        );
        let fine = detect(&g, &ClusterOptions::unpinned(g.len()));
        assert!(
            coarse.count() < fine.count(),
            "{} vs {}",
            coarse.count(),
            fine.count()
        );
    }

    #[test]
    fn ignores_bad_weights_and_empty_graphs() {
        let mut g = WeightedGraph::new(2);
        g.add_edge(0, 1, f64::NAN);
        g.add_edge(0, 1, -1.0);
        assert_eq!(g.total_weight(), 0.0);
        assert_eq!(detect(&g, &ClusterOptions::unpinned(2)).count(), 2);
        assert_eq!(
            detect(&WeightedGraph::new(0), &ClusterOptions::unpinned(0)).count(),
            0
        );
    }

    /// `k` cliques of `size` nodes in a ring, neighbouring cliques joined by one edge.
    pub(crate) fn ring_of_cliques(k: usize, size: usize) -> WeightedGraph {
        let mut g = WeightedGraph::new(k * size);
        for c in 0..k {
            let base = c * size;
            for a in 0..size {
                for b in a + 1..size {
                    g.add_edge(base + a, base + b, 1.0);
                }
            }
            g.add_edge(base + size - 1, ((c + 1) % k) * size, 1.0);
        }
        g
    }
}
