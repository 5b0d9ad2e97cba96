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
    /// Reaches no business data and is coupled to no context: health checks, plumbing.
    Infrastructure,
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
/// ... and by at least this absolute weight (a read and a call, or a write).
const MOVE_MIN_PULL: f64 = READ_WEIGHT + CALL_WEIGHT;
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
    for (file, reason) in find_kernel(input, graph, &data, &first) {
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
    let (kept, hollow) = absorb_hollow_groups(&data, groups, &reduced, &pins);
    groups = kept;
    for file in hollow {
        shared.insert(file, SharedReason::Infrastructure);
    }

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
    let by_file: Vec<Option<usize>> = input
        .functions
        .iter()
        .map(|f| file_context(f.file))
        .collect();
    let tables = own_tables(input, graph, &by_file);

    // 7. Moves.
    let (function_context, moves) = find_moves(input, graph, &file_context, &tables);
    // Ownership again, now that moved functions count for the context they move to.
    let tables = own_tables(input, graph, &function_context);

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

/// Which files touch business data, computed once.
///
/// A *business table* is one that some route handler reaches (directly or through its callees):
/// the data the application serves. Tables reached only from elsewhere (a migrations ledger, a
/// job queue's bookkeeping) are infrastructure and do not make a file part of a context. A tree
/// without routes has no way to tell, so there every table is business data.
struct DataReach {
    /// The file runs SQL on a business table itself.
    direct: Vec<bool>,
    /// The file reaches a business table, itself or through its callees.
    reaches: Vec<bool>,
}

impl DataReach {
    fn of(input: &CouplingInput, graph: &CouplingGraph) -> Self {
        let handlers: BTreeSet<usize> = input.routes.iter().filter_map(|r| r.handler).collect();
        let business: BTreeSet<usize> = if handlers.is_empty() {
            (0..input.tables.len()).collect()
        } else {
            handlers
                .iter()
                .filter_map(|&h| graph.footprints.get(h))
                .flat_map(|footprint| footprint.tables.keys().copied())
                .collect()
        };
        let mut direct = vec![false; input.files.len()];
        let mut reaches = vec![false; input.files.len()];
        for (index, function) in input.functions.iter().enumerate() {
            let file = function.file;
            if file >= input.files.len() {
                continue;
            }
            if function
                .accesses
                .iter()
                .any(|(table, _, _)| business.contains(table))
            {
                direct[file] = true;
            }
            if graph.footprints[index]
                .tables
                .keys()
                .any(|table| business.contains(table))
            {
                reaches[file] = true;
            }
        }
        Self { direct, reaches }
    }
}

/// Folder names that declare their files a shared library.
const SHARED_FOLDERS: &[&str] = &[
    "common",
    "shared",
    "kernel",
    "util",
    "utils",
    "support",
    "infra",
    "infrastructure",
];

/// The shared kernel, read off a first clustering. A file that runs no SQL on business tables
/// is shared when it is
/// - a **library**: it reaches no business table even through its callees, and files of at
///   least two contexts use it, or it lives in a folder that declares it shared (`common/`,
///   `shared/`, `utils/`...);
/// - a **composition root**: the root file of a binary, or a file that registers the routes of
///   handlers in at least two contexts (the router).
fn find_kernel(
    input: &CouplingInput,
    graph: &CouplingGraph,
    data: &DataReach,
    partition: &Partition,
) -> BTreeMap<usize, SharedReason> {
    let files = graph.file_count();
    let mut users: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); files];
    for (from, to, _) in graph.edges() {
        if let (Node::File(f), Node::File(g)) = (from, to) {
            users[g].insert(partition.community[f]);
        }
    }
    let mut routed_contexts: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); files];
    for route in &input.routes {
        if let (Some(handler), Some(set)) = (
            route.handler.and_then(|h| input.functions.get(h)),
            routed_contexts.get_mut(route.file),
        ) {
            set.insert(partition.community[handler.file]);
        }
    }
    let mut kernel = BTreeMap::new();
    for file in 0..files {
        if data.direct[file] {
            continue;
        }
        let facts = &input.files[file];
        if facts.entry_point || routed_contexts[file].len() >= 2 {
            kernel.insert(file, SharedReason::CompositionRoot);
            continue;
        }
        let declared_shared = facts
            .path
            .split('/')
            .rev()
            .skip(1)
            .any(|dir| SHARED_FOLDERS.contains(&dir));
        let own = partition.community[file];
        let foreign_users = users[file].iter().filter(|c| **c != own).count();
        let widely_used = users[file].len() >= LIBRARY_MIN_CONTEXTS && foreign_users >= 1;
        if !data.reaches[file] && (widely_used || declared_shared) {
            kernel.insert(file, SharedReason::Library);
        }
    }
    kernel
}

/// Groups that reach no business table, even through their callees, are not contexts: each
/// joins the group it is most coupled to, or the shared kernel when it is coupled to none (a
/// health check that only pings the database). Returns the groups left and the files moved to
/// the kernel.
fn absorb_hollow_groups(
    data: &DataReach,
    mut groups: Vec<Vec<usize>>,
    folded: &WeightedGraph,
    pins: &[Option<u32>],
) -> (Vec<Vec<usize>>, Vec<usize>) {
    let mut to_kernel = Vec::new();
    // Bounded: each pass removes one group.
    for _ in 0..groups.len() {
        let Some(hollow) = groups.iter().position(|g| {
            !g.iter().any(|&f| data.reaches[f]) && !g.iter().any(|f| pins[*f].is_some())
        }) else {
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
        let target = pull
            .iter()
            .max_by(|a, b| a.1.total_cmp(b.1).then_with(|| b.0.cmp(a.0)))
            .map(|(g, _)| *g);
        let moved = groups.remove(hollow);
        match target {
            Some(target) => {
                let target = if target > hollow { target - 1 } else { target };
                groups[target].extend(moved);
                groups[target].sort_unstable();
            }
            None => to_kernel.extend(moved),
        }
    }
    (groups, to_kernel)
}

/// Owner of each table: the context whose functions write it most (direct writes); for a
/// table nobody writes, the context whose functions reach it most, counting reads through
/// callees at their decayed strength (so the context that *uses* a lookup table owns it, not
/// the repository function that happens to run the SELECT). Readers and writers are the
/// contexts whose functions run the SQL themselves.
fn own_tables(
    input: &CouplingInput,
    graph: &CouplingGraph,
    function_context: &[Option<usize>],
) -> Vec<TableUse> {
    let tables = input.tables.len();
    let mut write_weight: Vec<BTreeMap<usize, f64>> = vec![BTreeMap::new(); tables];
    let mut reach_weight: Vec<BTreeMap<usize, f64>> = vec![BTreeMap::new(); tables];
    let mut usage: Vec<TableUse> = (0..tables)
        .map(|_| TableUse {
            owner: None,
            readers: BTreeSet::new(),
            writers: BTreeSet::new(),
        })
        .collect();
    for (index, function) in input.functions.iter().enumerate() {
        let Some(context) = function_context.get(index).copied().flatten() else {
            continue;
        };
        for &(table, access, _) in &function.accesses {
            if table >= tables {
                continue;
            }
            match access {
                crate::graph::Access::Read => {
                    usage[table].readers.insert(context);
                }
                crate::graph::Access::Write => {
                    usage[table].writers.insert(context);
                    *write_weight[table].entry(context).or_default() += WRITE_WEIGHT;
                }
            }
        }
        for (&table, &(read, write)) in &graph.footprints[index].tables {
            if table < tables {
                *reach_weight[table].entry(context).or_default() += read.max(write);
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
        use_.owner = heaviest(&write_weight[table]).or_else(|| heaviest(&reach_weight[table]));
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
        // Per context the strongest table counts, not the sum: a query joining four tables of
        // one context is one dependency on it, not four.
        for (owner, _, read, write) in table_pulls.clone() {
            let weight = READ_WEIGHT * read + WRITE_WEIGHT * write;
            let entry = pull.entry(owner).or_default();
            *entry = entry.max(weight);
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
