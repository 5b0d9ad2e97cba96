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
    /// Lives in a folder whose name declares it shared (`common/`, `shared/`, `utils/`...) and
    /// writes no business table.
    Declared,
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
    /// Context of its file; `None` for a function of the shared kernel.
    pub from: Option<usize>,
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

/// Pull of one function calling the function in question (a callee pulls [`CALL_WEIGHT`]).
const CALLER_WEIGHT: f64 = 0.5;
/// A moved function must be pulled at least this much harder to the other context than to its
/// own, so that a single call does not scatter a file.
const MOVE_MARGIN: f64 = 2.0;
/// ... and by at least this absolute weight (a read and a caller, or a write).
const MOVE_MIN_PULL: f64 = READ_WEIGHT + CALLER_WEIGHT;
/// An omnipresent file is used by at least this many files...
const OMNIPRESENT_MIN_FAN_IN: usize = 4;
/// ... and by at least this share of all files.
const OMNIPRESENT_SHARE: f64 = 0.15;
/// A shared library is used by files of at least this many contexts...
const LIBRARY_MIN_CONTEXTS: usize = 2;
/// ... none of which holds more than this share of its use.
const LIBRARY_MAX_SHARE: f64 = 0.5;

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
    // Omnipresent files (used by a large share of the tree) would glue everything together in
    // the first clustering; they take part only in the second, unless they turn out shared.
    let omnipresent = omnipresent_files(input, graph);
    let mut left_out: BTreeSet<usize> = shared.keys().copied().collect();
    left_out.extend(omnipresent.iter().copied());
    let first = run_clustering(&undirected, &left_out, &pins, options);

    // 3. Shared kernel.
    for (file, reason) in find_kernel(input, graph, &data, &first, &omnipresent) {
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
    let labels: Vec<DifficultyLabel> = (0..contexts.len())
        .map(|c| DifficultyLabel::of(cohesion(graph, &placement, &tables, c)))
        .collect();
    // Easy contexts first, then moderate, then hard; within a label, the least coupled first.
    let mut order: Vec<usize> = (0..contexts.len()).collect();
    order.sort_by(|&a, &b| {
        labels[a]
            .cmp(&labels[b])
            .then_with(|| difficulty[a].total_cmp(&difficulty[b]))
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
            from: m.from.map(renumber),
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
    /// The file writes a business table itself.
    writes: Vec<bool>,
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
        let mut writes = vec![false; input.files.len()];
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
            if function.accesses.iter().any(|(table, access, _)| {
                *access == crate::graph::Access::Write && business.contains(table)
            }) {
                writes[file] = true;
            }
            if graph.footprints[index]
                .tables
                .keys()
                .any(|table| business.contains(table))
            {
                reaches[file] = true;
            }
        }
        Self {
            direct,
            writes,
            reaches,
        }
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

/// Files used by so many others that they are infrastructure whatever the contexts turn out to
/// be: at least [`OMNIPRESENT_MIN_FAN_IN`] files and [`OMNIPRESENT_SHARE`] of the tree use them
/// (the "omnipresent modules" of Mancoridis et al.'s Bunch, which are set aside before
/// clustering for the same reason).
fn omnipresent_files(input: &CouplingInput, graph: &CouplingGraph) -> BTreeSet<usize> {
    let files = input.files.len();
    let mut users: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); files];
    for (from, to, _) in graph.edges() {
        if let (Node::File(a), Node::File(b)) = (from, to) {
            users[b].insert(a);
        }
    }
    let threshold = (OMNIPRESENT_SHARE * files as f64)
        .ceil()
        .max(OMNIPRESENT_MIN_FAN_IN as f64) as usize;
    (0..files)
        .filter(|&f| users[f].len() >= threshold)
        .collect()
}

/// The shared kernel, read off a first clustering. A file is shared when it is
/// - **declared shared**: it lives in a folder whose name says so (`common/`, `shared/`,
///   `utils/`...) and writes no business table (cross-cutting code such as authentication may
///   read the users table and still be what the team shares);
/// - a **composition root**: it runs no business SQL and is the root file of a binary,
///   registers the routes of handlers in at least two contexts (the router), or assembles the
///   routers of at least two contexts;
/// - a **library**: it runs no business SQL, files of at least two contexts use it with none of
///   them holding more than half of the use (a domain model used mostly by its own context
///   belongs to that context), and it reaches no business table even through its callees, or
///   it is omnipresent (authentication that asks the users service is still everyone's).
fn find_kernel(
    input: &CouplingInput,
    graph: &CouplingGraph,
    data: &DataReach,
    partition: &Partition,
    omnipresent: &BTreeSet<usize>,
) -> BTreeMap<usize, SharedReason> {
    let files = graph.file_count();
    // Per file, how much each community uses it (omnipresent users have no community yet and
    // count for nobody).
    let mut use_by: Vec<BTreeMap<usize, f64>> = vec![BTreeMap::new(); files];
    for (from, to, coupling) in graph.edges() {
        if let (Node::File(f), Node::File(g)) = (from, to)
            && !omnipresent.contains(&f)
        {
            *use_by[g].entry(partition.community[f]).or_default() += coupling.weight;
        }
    }
    // Routes registered per file, and router functions per community.
    let mut routed_contexts: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); files];
    let mut registrars: BTreeMap<usize, usize> = BTreeMap::new();
    for route in &input.routes {
        let Some(handler) = route.handler.and_then(|h| input.functions.get(h)) else {
            continue;
        };
        let community = partition.community[handler.file];
        if let Some(set) = routed_contexts.get_mut(route.file) {
            set.insert(community);
        }
        if let Some(registrar) = route.registrar {
            registrars.insert(registrar, community);
        }
    }
    let mut assembled_contexts: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); files];
    for function in &input.functions {
        for (callee, _) in &function.calls {
            if let (Some(&community), Some(target)) =
                (registrars.get(callee), input.functions.get(*callee))
                && target.file != function.file
                && let Some(set) = assembled_contexts.get_mut(function.file)
            {
                set.insert(community);
            }
        }
    }
    let mut kernel = BTreeMap::new();
    for file in 0..files {
        let facts = &input.files[file];
        let declared_shared = facts
            .path
            .split('/')
            .rev()
            .skip(1)
            .any(|dir| SHARED_FOLDERS.contains(&dir));
        if declared_shared && !data.writes[file] {
            kernel.insert(file, SharedReason::Declared);
            continue;
        }
        if data.direct[file] {
            continue;
        }
        if facts.entry_point
            || routed_contexts[file].len() >= 2
            || assembled_contexts[file].len() >= 2
        {
            kernel.insert(file, SharedReason::CompositionRoot);
            continue;
        }
        let own = partition.community[file];
        let users = &use_by[file];
        let total: f64 = users.values().sum();
        let top = users.values().copied().fold(0.0, f64::max);
        let foreign_users = users.keys().filter(|c| **c != own).count();
        let widely_used = users.len() >= LIBRARY_MIN_CONTEXTS
            && foreign_users >= 1
            && total > 0.0
            && top / total <= LIBRARY_MAX_SHARE;
        if widely_used && (!data.reaches[file] || omnipresent.contains(&file)) {
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

/// How much each function's own SQL ties it to each table: a write weighs [`WRITE_WEIGHT`]; a
/// read weighs [`READ_WEIGHT`] shared among the tables the function reads, so a query joining
/// three tables depends on each less than a query on one table does.
fn direct_affinity(function: &crate::graph::FunctionFacts, tables: usize) -> BTreeMap<usize, f64> {
    let reads: BTreeSet<usize> = function
        .accesses
        .iter()
        .filter(|(t, access, _)| *access == crate::graph::Access::Read && *t < tables)
        .map(|(t, _, _)| *t)
        .collect();
    let writes: BTreeSet<usize> = function
        .accesses
        .iter()
        .filter(|(t, access, _)| *access == crate::graph::Access::Write && *t < tables)
        .map(|(t, _, _)| *t)
        .collect();
    let mut out = BTreeMap::new();
    for &t in &reads {
        *out.entry(t).or_insert(0.0) += READ_WEIGHT / reads.len() as f64;
    }
    for &t in &writes {
        *out.entry(t).or_insert(0.0) += WRITE_WEIGHT;
    }
    out
}

/// Owner of each table. Only contexts that write a table can own it; if some of them create its
/// rows (`INSERT`), only those (the creator of an entity owns its lifecycle; a context that only
/// updates a status is a foreign writer to route through the owner's API); among them the one
/// most tied to it by its own SQL ([`direct_affinity`]) wins; a table nobody writes (reference
/// data) goes to the context most tied to it by reads, else to the one whose functions reach it
/// most through their callees (so the context that *uses* a lookup table owns it, not the
/// repository function that happens to run the SELECT). Readers and writers are the contexts
/// whose functions run the SQL themselves.
fn own_tables(
    input: &CouplingInput,
    graph: &CouplingGraph,
    function_context: &[Option<usize>],
) -> Vec<TableUse> {
    let tables = input.tables.len();
    let mut affinity: Vec<BTreeMap<usize, f64>> = vec![BTreeMap::new(); tables];
    let mut reach_weight: Vec<BTreeMap<usize, f64>> = vec![BTreeMap::new(); tables];
    let mut creators: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); tables];
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
                crate::graph::Access::Read => usage[table].readers.insert(context),
                crate::graph::Access::Write => usage[table].writers.insert(context),
            };
        }
        for (table, weight) in direct_affinity(function, tables) {
            *affinity[table].entry(context).or_default() += weight;
        }
        for &table in &function.creates {
            if let Some(set) = creators.get_mut(table) {
                set.insert(context);
            }
        }
        for (&table, &(read, write)) in &graph.footprints[index].tables {
            if table < tables {
                *reach_weight[table].entry(context).or_default() += read.max(write);
            }
        }
    }
    for (table, use_) in usage.iter_mut().enumerate() {
        let heaviest = |weights: &BTreeMap<usize, f64>, eligible: &dyn Fn(usize) -> bool| {
            weights
                .iter()
                .filter(|(c, w)| eligible(**c) && **w > 0.0)
                .max_by(|a, b| a.1.total_cmp(b.1).then_with(|| b.0.cmp(a.0)))
                .map(|(c, _)| *c)
        };
        let writers = if creators[table].is_empty() {
            use_.writers.clone()
        } else {
            creators[table].clone()
        };
        use_.owner = if writers.is_empty() {
            heaviest(&affinity[table], &|_| true)
                .or_else(|| heaviest(&reach_weight[table], &|_| true))
        } else {
            heaviest(&affinity[table], &|c| writers.contains(&c))
        };
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
    let ties = table_ties(input, graph, file_context);
    let mut moves = Vec::new();
    for (index, function) in input.functions.iter().enumerate() {
        let Some(home) = file_context(function.file) else {
            // The shared kernel owns no data: a kernel function that runs SQL on a context's
            // tables itself (a token lookup in `auth.rs`) belongs to that context.
            if let Some(kernel_move) = move_out_of_kernel(input, index, tables) {
                function_context[index] = Some(kernel_move.to);
                moves.push(kernel_move);
            }
            continue;
        };
        // Pull of each context on this function: the tables it touches, shared among the
        // contexts in proportion to how tied each is to the table *without this function* (so a
        // misplaced function cannot make its own home look like the owner, and a table two
        // contexts use pulls both), and the functions it calls or is called by.
        let mut pull: BTreeMap<usize, f64> = BTreeMap::new();
        let own_affinity = direct_affinity(function, input.tables.len());
        let mut table_pulls: Vec<(usize, usize, f64, f64)> = Vec::new();
        let footprint = &graph.footprints[index];
        for (&table, &(read, write)) in &footprint.tables {
            let weight = READ_WEIGHT * read + WRITE_WEIGHT * write;
            for (context, share) in
                ties_without(table, home, (&own_affinity, footprint), &ties, tables)
            {
                table_pulls.push((context, table, read, write));
                // Per context the strongest table counts, not the sum: a query joining four
                // tables of one context is one dependency on it, not four.
                let entry = pull.entry(context).or_default();
                *entry = entry.max(weight * share);
            }
        }
        // What a function calls is what it depends on; who calls it is what it serves. A getter
        // called mostly from elsewhere is an interface of its context (see IFN), not misplaced,
        // so callers pull at half the weight of callees.
        let callees: BTreeSet<usize> = function
            .calls
            .iter()
            .map(|(c, _)| *c)
            .filter(|&other| other != index)
            .collect();
        let callers_of: BTreeSet<usize> = callers[index]
            .iter()
            .copied()
            .filter(|&other| other != index && !callees.contains(&other))
            .collect();
        let mut call_pulls: Vec<(usize, &crate::graph::FunctionFacts)> = Vec::new();
        for (others, weight) in [(&callees, CALL_WEIGHT), (&callers_of, CALLER_WEIGHT)] {
            for &other in others {
                let Some(target) = input.functions.get(other) else {
                    continue;
                };
                let Some(context) = file_context(target.file) else {
                    continue;
                };
                *pull.entry(context).or_default() += weight;
                call_pulls.push((context, target));
            }
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
                .iter()
                .filter(|(owner, ..)| *owner == to)
                .map(|&(_, table, _, write)| {
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
                from: Some(home),
                to,
                reason: reasons.join(", "),
            });
        }
    }
    (function_context, moves)
}

/// The move of a shared-kernel function that runs SQL on tables owned by a context: to the
/// context it is most tied to by that SQL.
fn move_out_of_kernel(input: &CouplingInput, index: usize, tables: &[TableUse]) -> Option<Move> {
    let function = input.functions.get(index)?;
    let mut pull: BTreeMap<usize, f64> = BTreeMap::new();
    let mut reasons: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for (table, weight) in direct_affinity(function, input.tables.len()) {
        let Some(owner) = tables.get(table).and_then(|t| t.owner) else {
            continue;
        };
        *pull.entry(owner).or_default() += weight;
        let writes = function
            .accesses
            .iter()
            .any(|(t, access, _)| *t == table && *access == crate::graph::Access::Write);
        let verb = if writes { "writes" } else { "reads" };
        reasons
            .entry(owner)
            .or_default()
            .push(format!("{verb} {}", input.tables[table].name));
    }
    let (&to, _) = pull
        .iter()
        .max_by(|a, b| a.1.total_cmp(b.1).then_with(|| b.0.cmp(a.0)))?;
    let mut reason = reasons.remove(&to).unwrap_or_default();
    reason.sort();
    reason.dedup();
    Some(Move {
        function: index,
        from: None,
        to,
        reason: format!(
            "runs SQL on its tables from the shared kernel: {}",
            reason.join(", ")
        ),
    })
}

/// Per table and context, how tied the context's functions are to the table: by their own SQL
/// ([`direct_affinity`]), and separately by what they reach through callees.
struct TableTies {
    direct: Vec<BTreeMap<usize, f64>>,
    reach: Vec<BTreeMap<usize, f64>>,
}

fn table_ties(
    input: &CouplingInput,
    graph: &CouplingGraph,
    file_context: &dyn Fn(usize) -> Option<usize>,
) -> TableTies {
    let tables = input.tables.len();
    let mut ties = TableTies {
        direct: vec![BTreeMap::new(); tables],
        reach: vec![BTreeMap::new(); tables],
    };
    for (index, function) in input.functions.iter().enumerate() {
        let Some(context) = file_context(function.file) else {
            continue;
        };
        for (table, weight) in direct_affinity(function, tables) {
            *ties.direct[table].entry(context).or_default() += weight;
        }
        for (&table, &(read, write)) in &graph.footprints[index].tables {
            if table < tables {
                *ties.reach[table].entry(context).or_default() += read.max(write);
            }
        }
    }
    ties
}

/// How the tie to `table` is shared among contexts once the function in question (in context
/// `home`) is left out: (context, share) with shares summing to 1. Contexts whose own SQL
/// touches the table decide; when only the function itself does, the contexts that reach the
/// table through callees decide; when nobody else touches it, its owner, if any.
fn ties_without(
    table: usize,
    home: usize,
    function: (&BTreeMap<usize, f64>, &crate::graph::Footprint),
    ties: &TableTies,
    tables: &[TableUse],
) -> Vec<(usize, f64)> {
    let (own_direct, footprint) = function;
    let own_reach = footprint
        .tables
        .get(&table)
        .map_or(0.0, |(read, write)| read.max(*write));
    let shares = |weights: Option<&BTreeMap<usize, f64>>, own: f64| -> Vec<(usize, f64)> {
        let weights: Vec<(usize, f64)> = weights
            .map(|w| {
                w.iter()
                    .map(|(&c, &w)| (c, if c == home { w - own } else { w }))
                    .filter(|(_, w)| *w > 1e-9)
                    .collect()
            })
            .unwrap_or_default();
        let total: f64 = weights.iter().map(|(_, w)| w).sum();
        weights.into_iter().map(|(c, w)| (c, w / total)).collect()
    };
    let direct = shares(
        ties.direct.get(table),
        own_direct.get(&table).copied().unwrap_or(0.0),
    );
    if !direct.is_empty() {
        return direct;
    }
    let reach = shares(ties.reach.get(table), own_reach);
    if !reach.is_empty() {
        return reach;
    }
    tables
        .get(table)
        .and_then(|t| t.owner)
        .map(|owner| vec![(owner, 1.0)])
        .unwrap_or_default()
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

/// How hard a context is to extract, from its cohesion (the share of its coupling that stays
/// inside it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DifficultyLabel {
    /// Cohesion of at least 0.8.
    Easy,
    /// Cohesion of at least 0.6.
    Moderate,
    /// Less.
    Hard,
}

impl DifficultyLabel {
    /// The label of a cohesion.
    pub fn of(cohesion: f64) -> Self {
        if cohesion >= 0.8 {
            Self::Easy
        } else if cohesion >= 0.6 {
            Self::Moderate
        } else {
            Self::Hard
        }
    }

    /// `easy`, `moderate` or `hard`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Easy => "easy",
            Self::Moderate => "moderate",
            Self::Hard => "hard",
        }
    }
}

/// Cohesion of context `c`: weight inside / (inside + crossing), foreign keys left out; 1 when
/// it has no coupling at all. The same figure [`crate::metrics`] reports.
pub fn cohesion(
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
    let mut inside = 0.0;
    let mut crossing = 0.0;
    for (from, to, coupling) in graph.edges() {
        if coupling.kind == EdgeKind::ForeignKey {
            continue;
        }
        match (context_of(from), context_of(to)) {
            (Some(a), Some(b)) if a == b && a == c => inside += coupling.weight,
            (Some(a), Some(b)) if a != b && (a == c || b == c) => crossing += coupling.weight,
            _ => {}
        }
    }
    let total = inside + crossing;
    if total > 0.0 { inside / total } else { 1.0 }
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
