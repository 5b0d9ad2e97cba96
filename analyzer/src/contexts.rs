//! Bounded contexts proposed from the coupling graph: which files go together, which form the
//! shared kernel, which table each context owns, which functions should move, and in what order
//! to extract the contexts.
//!
//! The steps, each a small function below:
//! 1. files with no coupling at all (module declarations, glue) are shared;
//! 2. a first clustering of files and tables finds rough contexts;
//! 3. the **shared kernel** is read off that clustering: files without data of their own that
//!    files of several contexts use (ids, errors, db pool), and composition roots whose
//!    coupling is spread over several contexts with none dominant (`main.rs`, the router);
//! 4. the rest is clustered again without them, so the kernel cannot glue contexts together;
//! 5. communities that own no table and serve no route join the context they are most coupled to;
//! 6. each table gets one owner, its heaviest writer (else heaviest reader);
//! 7. functions whose coupling points to another context than their file's are proposed as moves;
//! 8. contexts are named after what they hold, and ordered by extraction difficulty.

use std::collections::{BTreeMap, BTreeSet};

use crate::cluster::{self, ClusterOptions, Partition, WeightedGraph};
use crate::graph::{
    CALL_WEIGHT, CouplingGraph, CouplingInput, EdgeKind, Node, READ_WEIGHT, WRITE_WEIGHT,
};

/// Knobs of [`propose`].
#[derive(Debug, Clone, Default)]
pub struct ProposalOptions {
    /// Modularity resolution (1.0 when `None`).
    pub resolution: Option<f64>,
    /// Target number of contexts, if the user asked for one.
    pub target_contexts: Option<usize>,
    /// User pins: file path (relative to the root) -> context name.
    pub pins: BTreeMap<String, String>,
}

/// Why a file is in the shared kernel rather than in a context.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum SharedReason {
    /// Used by several contexts and touching no table: a shared library.
    Library,
    /// Coupled to several contexts, none dominant, touching no table itself: wiring such as
    /// `main.rs` or the router.
    CompositionRoot,
    /// No coupling to anything: module declarations and glue.
    Uncoupled,
}

/// Where a file ended up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// In a bounded context (index into [`Proposal::contexts`]).
    Context(usize),
    /// In the shared kernel.
    Shared(SharedReason),
}

/// One proposed bounded context.
#[derive(Debug, Clone, PartialEq)]
pub struct BoundedContext {
    /// Name derived from what it holds, unique within the proposal.
    pub name: String,
    /// Files (indices into [`CouplingInput::files`]) whose home is this context.
    pub files: Vec<usize>,
    /// Functions moved in from files of other contexts (indices into functions).
    pub moved_in: Vec<usize>,
    /// Tables it owns.
    pub tables: Vec<usize>,
    /// Routes it serves (indices into routes).
    pub routes: Vec<usize>,
}

/// A function proposed to move to another context than its file's.
#[derive(Debug, Clone, PartialEq)]
pub struct Move {
    /// Function index.
    pub function: usize,
    /// Context of its file.
    pub from: usize,
    /// Context it is pulled to.
    pub to: usize,
    /// Human-readable reason: the tables and calls that pull it.
    pub reason: String,
}

/// Ownership and use of one table.
#[derive(Debug, Clone, PartialEq)]
pub struct TableUse {
    /// Owner context (the heaviest writer, else the heaviest reader); `None` when no context
    /// touches the table.
    pub owner: Option<usize>,
    /// Contexts that read it directly.
    pub readers: BTreeSet<usize>,
    /// Contexts that write it directly.
    pub writers: BTreeSet<usize>,
}

/// The proposal: contexts, shared kernel, table ownership, moves.
#[derive(Debug, Clone)]
pub struct Proposal {
    /// Contexts, in recommended extraction order (easiest first).
    pub contexts: Vec<BoundedContext>,
    /// Placement of every file.
    pub placement: Vec<Placement>,
    /// Context of every function after moves (`None` for functions in shared files).
    pub function_context: Vec<Option<usize>>,
    /// Per table.
    pub tables: Vec<TableUse>,
    /// Proposed moves.
    pub moves: Vec<Move>,
    /// Extraction difficulty per context (same order as `contexts`): the weight of its coupling
    /// to other contexts, see `docs/analysis.md`.
    pub difficulty: Vec<f64>,
}

/// A moved function must be pulled at least this much harder to the other context than to its
/// own, so that a single call does not scatter a file.
const MOVE_MARGIN: f64 = 2.0;
/// ... and by at least this absolute weight (one direct write).
const MOVE_MIN_PULL: f64 = WRITE_WEIGHT;
/// A composition root spreads its coupling: no context holds more than this share of it.
const ROOT_MAX_SHARE: f64 = 0.5;
/// A shared library is used by files of at least this many contexts.
const LIBRARY_MIN_CONTEXTS: usize = 2;

/// Proposes bounded contexts for the given facts and their coupling graph.
pub fn propose(
    input: &CouplingInput,
    graph: &CouplingGraph,
    options: &ProposalOptions,
) -> Proposal {
    let files = input.files.len();
    let undirected = fold(graph, &BTreeSet::new());
    let data = DataReach::of(input, graph);

    // 1. Uncoupled files.
    let mut shared: BTreeMap<usize, SharedReason> = (0..files)
        .filter(|&f| undirected.neighbours(f).is_empty() && undirected.weight(f, f) == 0.0)
        .filter(|f| !options.pins.contains_key(&input.files[*f].path))
        .map(|f| (f, SharedReason::Uncoupled))
        .collect();

    // 2. First clustering.
    let pins = pin_labels(input, graph, options);
    let uncoupled: BTreeSet<usize> = shared.keys().copied().collect();
    let first = run_clustering(&undirected, &uncoupled, &pins, options);

    // 3. Shared kernel.
    for (file, reason) in find_kernel(graph, &data, &first) {
        if !options.pins.contains_key(&input.files[file].path) {
            shared.entry(file).or_insert(reason);
        }
    }

    // 4. Cluster again without the kernel.
    let excluded: BTreeSet<usize> = shared.keys().copied().collect();
    let reduced = fold(graph, &excluded);
    let second = run_clustering(&reduced, &excluded, &pins, options);

    // Communities holding at least one non-shared file become contexts.
    let mut community_files: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for file in (0..files).filter(|f| !excluded.contains(f)) {
        community_files
            .entry(second.community[file])
            .or_default()
            .push(file);
    }
    let mut groups: Vec<Vec<usize>> = community_files.into_values().collect();

    // 5. Fold data-less, route-less groups into their closest neighbour.
    groups = absorb_hollow_groups(input, &data, groups, &reduced, &pins);

    let mut placement = vec![Placement::Shared(SharedReason::Uncoupled); files];
    for (file, reason) in &shared {
        placement[*file] = Placement::Shared(*reason);
    }
    for (c, group) in groups.iter().enumerate() {
        for &file in group {
            placement[file] = Placement::Context(c);
        }
    }

    // 6. Table ownership.
    let file_context = |file: usize| match placement.get(file) {
        Some(Placement::Context(c)) => Some(*c),
        _ => None,
    };
    let tables = own_tables(input, &file_context);

    // 7. Moves.
    let (function_context, moves) = find_moves(input, graph, &file_context, &tables);

    // Assemble contexts.
    let mut contexts: Vec<BoundedContext> = groups
        .iter()
        .map(|group| BoundedContext {
            name: String::new(),
            files: group.clone(),
            moved_in: Vec::new(),
            tables: Vec::new(),
            routes: Vec::new(),
        })
        .collect();
    for m in &moves {
        contexts[m.to].moved_in.push(m.function);
    }
    for (t, usage) in tables.iter().enumerate() {
        if let Some(owner) = usage.owner {
            contexts[owner].tables.push(t);
        }
    }
    for (r, route) in input.routes.iter().enumerate() {
        let context = match route.handler {
            Some(h) => function_context.get(h).copied().flatten(),
            None => file_context(route.file),
        };
        if let Some(c) = context {
            contexts[c].routes.push(r);
        }
    }

    // 8. Names, difficulty, order.
    name_contexts(
        input,
        &mut contexts,
        &pins_by_context(input, options, &placement),
    );
    let difficulty: Vec<f64> = (0..contexts.len())
        .map(|c| cross_weight(graph, &placement, &tables, c))
        .collect();
    let mut order: Vec<usize> = (0..contexts.len()).collect();
    order.sort_by(|&a, &b| {
        difficulty[a]
            .total_cmp(&difficulty[b])
            .then_with(|| contexts[a].name.cmp(&contexts[b].name))
    });
    let mut new_index = vec![0; contexts.len()];
    for (position, &old) in order.iter().enumerate() {
        new_index[old] = position;
    }
    let renumber = |c: usize| new_index[c];
    let contexts: Vec<BoundedContext> = order.iter().map(|&c| contexts[c].clone()).collect();
    let difficulty: Vec<f64> = order.iter().map(|&c| difficulty[c]).collect();
    let placement = placement
        .into_iter()
        .map(|p| match p {
            Placement::Context(c) => Placement::Context(renumber(c)),
            shared => shared,
        })
        .collect();
    let function_context = function_context
        .into_iter()
        .map(|c| c.map(renumber))
        .collect();
    let tables = tables
        .into_iter()
        .map(|t| TableUse {
            owner: t.owner.map(renumber),
            readers: t.readers.into_iter().map(renumber).collect(),
            writers: t.writers.into_iter().map(renumber).collect(),
        })
        .collect();
    let moves = moves
        .into_iter()
        .map(|m| Move {
            from: renumber(m.from),
            to: renumber(m.to),
            ..m
        })
        .collect();
    Proposal {
        contexts,
        placement,
        function_context,
        tables,
        moves,
        difficulty,
    }
}

/// Folds the directed multigraph into the undirected weighted graph clustering works on,
/// leaving out the `excluded` files (their edges vanish).
pub fn fold(graph: &CouplingGraph, excluded: &BTreeSet<usize>) -> WeightedGraph {
    let is_excluded = |n: Node| matches!(n, Node::File(f) if excluded.contains(&f));
    WeightedGraph::from_edges(
        graph.file_count() + graph.table_count(),
        graph
            .edges()
            .filter(|(from, to, _)| !is_excluded(*from) && !is_excluded(*to))
            .map(|(from, to, coupling)| (graph.dense(from), graph.dense(to), coupling.weight)),
    )
}

/// Pin label per dense node, from the user's `path = context` pins.
fn pin_labels(
    input: &CouplingInput,
    graph: &CouplingGraph,
    options: &ProposalOptions,
) -> Vec<Option<u32>> {
    let names: BTreeSet<&String> = options.pins.values().collect();
    let label = |name: &String| names.iter().position(|n| *n == name).map(|p| p as u32);
    let mut pins = vec![None; graph.file_count() + graph.table_count()];
    for (file, facts) in input.files.iter().enumerate() {
        if let Some(name) = options.pins.get(&facts.path) {
            pins[file] = label(name);
        }
    }
    pins
}

/// The user's pin name per context, when a pinned file landed there.
fn pins_by_context(
    input: &CouplingInput,
    options: &ProposalOptions,
    placement: &[Placement],
) -> BTreeMap<usize, String> {
    let mut out = BTreeMap::new();
    for (file, facts) in input.files.iter().enumerate() {
        if let (Some(name), Placement::Context(c)) =
            (options.pins.get(&facts.path), placement[file])
        {
            out.entry(c).or_insert_with(|| name.clone());
        }
    }
    out
}

/// Clusters the nodes that take part (files not excluded, tables coupled to something) and
/// gives every other node a community of its own, so a target count counts real contexts only.
fn run_clustering(
    graph: &WeightedGraph,
    excluded_files: &BTreeSet<usize>,
    pins: &[Option<u32>],
    options: &ProposalOptions,
) -> Partition {
    let n = graph.len();
    let taking_part: Vec<usize> = (0..n)
        .filter(|&node| {
            !excluded_files.contains(&node)
                && (!graph.neighbours(node).is_empty() || pins[node].is_some())
        })
        .collect();
    let mut compact_of = vec![usize::MAX; n];
    for (compact, &node) in taking_part.iter().enumerate() {
        compact_of[node] = compact;
    }
    let compact_of = &compact_of;
    let compact = WeightedGraph::from_edges(
        taking_part.len(),
        taking_part.iter().flat_map(|&node| {
            graph
                .neighbours(node)
                .iter()
                .filter(move |(neighbour, _)| *neighbour > node)
                .filter(move |(neighbour, _)| compact_of[*neighbour] != usize::MAX)
                .map(move |&(neighbour, weight)| (compact_of[node], compact_of[neighbour], weight))
        }),
    );
    let cluster_options = ClusterOptions {
        resolution: options.resolution.unwrap_or(1.0),
        pins: taking_part.iter().map(|&node| pins[node]).collect(),
    };
    let found = match options.target_contexts {
        Some(target) => cluster::detect_count(&compact, &cluster_options, target),
        None => cluster::detect(&compact, &cluster_options),
    };
    let mut next = found.count();
    let community = (0..n)
        .map(|node| match compact_of[node] {
            usize::MAX => {
                next += 1;
                next - 1
            }
            c => found.community[c],
        })
        .collect();
    Partition { community }
}

/// Which files touch data, computed once: `direct` when one of their functions runs SQL itself,
/// `reaches` when any of their edges leads to a table (also through callees).
struct DataReach {
    direct: Vec<bool>,
    reaches: Vec<bool>,
}

impl DataReach {
    fn of(input: &CouplingInput, graph: &CouplingGraph) -> Self {
        let mut direct = vec![false; input.files.len()];
        for function in &input.functions {
            if !function.accesses.is_empty()
                && let Some(d) = direct.get_mut(function.file)
            {
                *d = true;
            }
        }
        let mut reaches = vec![false; input.files.len()];
        for (from, to, _) in graph.edges() {
            if let (Node::File(f), Node::Table(_)) = (from, to) {
                reaches[f] = true;
            }
        }
        Self { direct, reaches }
    }
}

/// Files that run no SQL themselves and are either libraries (used by files of several
/// contexts, reaching no table even through callees) or composition roots (their own coupling
/// spread over several contexts, none dominant).
fn find_kernel(
    graph: &CouplingGraph,
    data: &DataReach,
    partition: &Partition,
) -> BTreeMap<usize, SharedReason> {
    let files = graph.file_count();
    let mut users: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); files];
    let mut outgoing: Vec<BTreeMap<usize, f64>> = vec![BTreeMap::new(); files];
    for (from, to, coupling) in graph.edges() {
        let Node::File(f) = from else { continue };
        if let Node::File(g) = to {
            users[g].insert(partition.community[f]);
        }
        *outgoing[f]
            .entry(partition.community[graph.dense(to)])
            .or_default() += coupling.weight;
    }
    let mut kernel = BTreeMap::new();
    for file in 0..files {
        if data.direct[file] {
            continue;
        }
        let own = partition.community[file];
        let foreign_users = users[file].iter().filter(|c| **c != own).count();
        if !data.reaches[file] && users[file].len() >= LIBRARY_MIN_CONTEXTS && foreign_users >= 1 {
            kernel.insert(file, SharedReason::Library);
            continue;
        }
        let total: f64 = outgoing[file].values().sum();
        let spread = outgoing[file].len();
        let top = outgoing[file].values().copied().fold(0.0, f64::max);
        if spread >= 3 && total > 0.0 && top / total <= ROOT_MAX_SHARE {
            kernel.insert(file, SharedReason::CompositionRoot);
        }
    }
    kernel
}

/// Groups that own no table (nothing in them writes or reads one) and register no route join
/// the group they are most coupled to, when there is one.
fn absorb_hollow_groups(
    input: &CouplingInput,
    data: &DataReach,
    mut groups: Vec<Vec<usize>>,
    folded: &WeightedGraph,
    pins: &[Option<u32>],
) -> Vec<Vec<usize>> {
    let has_data = |group: &[usize]| group.iter().any(|&f| data.reaches[f]);
    let has_route = |group: &[usize]| {
        input.routes.iter().any(|r| match r.handler {
            Some(h) => input
                .functions
                .get(h)
                .is_some_and(|func| group.contains(&func.file)),
            None => group.contains(&r.file),
        })
    };
    // Bounded: each pass removes one group.
    for _ in 0..groups.len() {
        let Some(hollow) = groups
            .iter()
            .position(|g| !has_data(g) && !has_route(g) && !g.iter().any(|f| pins[*f].is_some()))
        else {
            break;
        };
        let mut group_of: BTreeMap<usize, usize> = BTreeMap::new();
        for (g, files) in groups.iter().enumerate() {
            for &f in files {
                group_of.insert(f, g);
            }
        }
        let mut pull: BTreeMap<usize, f64> = BTreeMap::new();
        for &file in &groups[hollow] {
            for &(neighbour, weight) in folded.neighbours(file) {
                if let Some(&g) = group_of.get(&neighbour)
                    && g != hollow
                {
                    *pull.entry(g).or_default() += weight;
                }
            }
        }
        let Some((&target, _)) = pull
            .iter()
            .max_by(|a, b| a.1.total_cmp(b.1).then_with(|| b.0.cmp(a.0)))
        else {
            break;
        };
        let moved = groups[hollow].clone();
        groups[target].extend(moved);
        groups[target].sort_unstable();
        groups.remove(hollow);
    }
    groups
}

/// Owner of each table: the context whose files write it most (direct writes), else the one
/// that reads it most.
fn own_tables(
    input: &CouplingInput,
    file_context: &dyn Fn(usize) -> Option<usize>,
) -> Vec<TableUse> {
    let mut write_weight: Vec<BTreeMap<usize, f64>> = vec![BTreeMap::new(); input.tables.len()];
    let mut read_weight: Vec<BTreeMap<usize, f64>> = vec![BTreeMap::new(); input.tables.len()];
    let mut usage: Vec<TableUse> = (0..input.tables.len())
        .map(|_| TableUse {
            owner: None,
            readers: BTreeSet::new(),
            writers: BTreeSet::new(),
        })
        .collect();
    for function in &input.functions {
        let Some(context) = file_context(function.file) else {
            continue;
        };
        for &(table, access, _) in &function.accesses {
            if table >= input.tables.len() {
                continue;
            }
            match access {
                crate::graph::Access::Read => {
                    usage[table].readers.insert(context);
                    *read_weight[table].entry(context).or_default() += READ_WEIGHT;
                }
                crate::graph::Access::Write => {
                    usage[table].writers.insert(context);
                    *write_weight[table].entry(context).or_default() += WRITE_WEIGHT;
                }
            }
        }
    }
    for (table, use_) in usage.iter_mut().enumerate() {
        let heaviest = |weights: &BTreeMap<usize, f64>| {
            weights
                .iter()
                .max_by(|a, b| a.1.total_cmp(b.1).then_with(|| b.0.cmp(a.0)))
                .map(|(c, _)| *c)
        };
        use_.owner = heaviest(&write_weight[table]).or_else(|| heaviest(&read_weight[table]));
    }
    usage
}

/// Functions pulled harder to another context than to their file's own.
fn find_moves(
    input: &CouplingInput,
    graph: &CouplingGraph,
    file_context: &dyn Fn(usize) -> Option<usize>,
    tables: &[TableUse],
) -> (Vec<Option<usize>>, Vec<Move>) {
    let mut function_context: Vec<Option<usize>> = input
        .functions
        .iter()
        .map(|f| file_context(f.file))
        .collect();
    // Who calls each function.
    let mut callers: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); input.functions.len()];
    for (caller, function) in input.functions.iter().enumerate() {
        for &(callee, _) in &function.calls {
            if let Some(set) = callers.get_mut(callee) {
                set.insert(caller);
            }
        }
    }
    let mut moves = Vec::new();
    for (index, function) in input.functions.iter().enumerate() {
        let Some(home) = file_context(function.file) else {
            continue;
        };
        // Pull of each context on this function: the tables it touches, by owner, and the
        // functions it calls or is called by, by their file's context.
        let mut pull: BTreeMap<usize, f64> = BTreeMap::new();
        let table_pulls =
            graph.footprints[index]
                .tables
                .iter()
                .filter_map(|(&table, &(read, write))| {
                    let owner = tables.get(table).and_then(|t| t.owner)?;
                    Some((owner, table, read, write))
                });
        for (owner, _, read, write) in table_pulls.clone() {
            *pull.entry(owner).or_default() += READ_WEIGHT * read + WRITE_WEIGHT * write;
        }
        let neighbours: BTreeSet<usize> = function
            .calls
            .iter()
            .map(|(c, _)| *c)
            .chain(callers[index].iter().copied())
            .filter(|&other| other != index)
            .collect();
        let call_pulls: Vec<(usize, &crate::graph::FunctionFacts)> = neighbours
            .into_iter()
            .filter_map(|other| {
                let target = input.functions.get(other)?;
                if target.file == function.file {
                    return None;
                }
                Some((file_context(target.file)?, target))
            })
            .collect();
        for &(context, _) in &call_pulls {
            *pull.entry(context).or_default() += CALL_WEIGHT;
        }
        let own_pull = pull.get(&home).copied().unwrap_or(0.0);
        let best = pull
            .iter()
            .filter(|(c, _)| **c != home)
            .max_by(|a, b| a.1.total_cmp(b.1).then_with(|| b.0.cmp(a.0)));
        if let Some((&to, &weight)) = best
            && weight >= MOVE_MIN_PULL
            && weight >= MOVE_MARGIN * own_pull
        {
            function_context[index] = Some(to);
            let mut reasons: Vec<String> = table_pulls
                .filter(|(owner, ..)| *owner == to)
                .map(|(_, table, _, write)| {
                    let verb = if write > 0.0 { "writes" } else { "reads" };
                    format!("{verb} {}", input.tables[table].name)
                })
                .chain(
                    call_pulls
                        .iter()
                        .filter(|(c, _)| *c == to)
                        .map(|(_, target)| format!("calls or is called by {}", target.name)),
                )
                .collect();
            reasons.sort();
            reasons.dedup();
            moves.push(Move {
                function: index,
                from: home,
                to,
                reason: reasons.join(", "),
            });
        }
    }
    (function_context, moves)
}

/// Words in paths that name a layer or a convention rather than a business area.
const GENERIC_WORDS: &[&str] = &[
    "api",
    "app",
    "bin",
    "common",
    "controller",
    "controllers",
    "core",
    "crates",
    "db",
    "dao",
    "domain",
    "dto",
    "entities",
    "entity",
    "error",
    "errors",
    "handler",
    "handlers",
    "http",
    "infra",
    "lib",
    "main",
    "migrations",
    "mod",
    "model",
    "models",
    "repo",
    "repos",
    "repositories",
    "repository",
    "routes",
    "router",
    "schema",
    "server",
    "service",
    "services",
    "shared",
    "src",
    "store",
    "types",
    "util",
    "utils",
    "web",
];

/// Names each context after the business word that dominates its file paths (weighted by
/// lines), else after its largest owned table; a user's pin name wins. Names are unique.
fn name_contexts(
    input: &CouplingInput,
    contexts: &mut [BoundedContext],
    pinned: &BTreeMap<usize, String>,
) {
    let mut taken: BTreeSet<String> = pinned.values().cloned().collect();
    let mut order: Vec<usize> = (0..contexts.len()).collect();
    // Larger contexts choose first, so the main holder of a word gets it.
    order.sort_by_key(|&c| {
        let lines: usize = contexts[c]
            .files
            .iter()
            .map(|&f| input.files[f].lines)
            .sum();
        (std::cmp::Reverse(lines), c)
    });
    for c in order {
        if let Some(name) = pinned.get(&c) {
            contexts[c].name = name.clone();
            continue;
        }
        let mut words: BTreeMap<String, usize> = BTreeMap::new();
        for &file in &contexts[c].files {
            let facts = &input.files[file];
            for word in path_words(&facts.path) {
                *words.entry(word).or_default() += facts.lines.max(1);
            }
        }
        let mut candidates: Vec<(usize, String)> = words.into_iter().map(|(w, n)| (n, w)).collect();
        candidates.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        let from_tables = contexts[c]
            .tables
            .iter()
            .map(|&t| input.tables[t].name.clone());
        let name = candidates
            .into_iter()
            .map(|(_, w)| w)
            .chain(from_tables)
            .find(|n| !taken.contains(n))
            .unwrap_or_else(|| {
                (1..)
                    .map(|i| format!("context-{i}"))
                    .find(|n| !taken.contains(n))
                    .unwrap_or_default()
            });
        taken.insert(name.clone());
        contexts[c].name = name;
    }
}

/// Business words of a path: its folders and file stem, minus layer and convention words.
fn path_words(path: &str) -> Vec<String> {
    let without_ext = path.strip_suffix(".rs").unwrap_or(path);
    without_ext
        .split('/')
        .flat_map(|part| part.split(['_', '-']))
        .map(str::to_ascii_lowercase)
        .filter(|w| w.len() > 1 && !GENERIC_WORDS.contains(&w.as_str()))
        .filter(|w| !w.chars().all(|c| c.is_ascii_digit()))
        .collect()
}

/// Coupling weight between context `c` and every other context: calls and type uses across the
/// boundary in both directions, and table access across ownership.
fn cross_weight(
    graph: &CouplingGraph,
    placement: &[Placement],
    tables: &[TableUse],
    c: usize,
) -> f64 {
    let context_of = |node: Node| match node {
        Node::File(f) => match placement.get(f) {
            Some(Placement::Context(x)) => Some(*x),
            _ => None,
        },
        Node::Table(t) => tables.get(t).and_then(|u| u.owner),
    };
    graph
        .edges()
        .filter(|(_, _, coupling)| coupling.kind != EdgeKind::ForeignKey)
        .filter_map(|(from, to, coupling)| {
            let (a, b) = (context_of(from)?, context_of(to)?);
            (a != b && (a == c || b == c)).then_some(coupling.weight)
        })
        .sum()
}

#[cfg(test)]
mod tests;
