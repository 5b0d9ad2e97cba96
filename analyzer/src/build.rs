//! The pipeline that turns a root directory into a [`CodeModel`]: discover, parse (in parallel),
//! place files in modules, build scopes, resolve, then assemble items, routes and tables.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use crate::discover::{self, Discovery};
use crate::facts::{FileFacts, RawRef, RawRefKind, RawSqlOrigin};
use crate::model::{
    Access, CodeModel, CrateInfo, CrateKind, Diagnostic, FileReference, Item, ItemId, ItemKind,
    MethodOwner, Reference, ReferenceKind, SourceFile, SqlAccess, SqlDialect, SqlOrigin,
    StatementKind, UnresolvedCall,
};
use crate::modules::{self, FilePlace};
use crate::resolve::{Context, ItemIndex, Resolution, Scopes};
use crate::{AnalyzeError, ModelOptions, Progress, extract, route_table, sql, tables};

/// Method names so common on standard types (iterators, collections, options, connections)
/// that a call by that name alone says nothing about which workspace method runs.
const COMMON_METHOD_NAMES: [&str; 64] = [
    "new",
    "default",
    "from",
    "into",
    "clone",
    "to_string",
    "to_owned",
    "fmt",
    "eq",
    "ne",
    "cmp",
    "partial_cmp",
    "hash",
    "get",
    "get_mut",
    "insert",
    "remove",
    "push",
    "pop",
    "len",
    "is_empty",
    "iter",
    "iter_mut",
    "into_iter",
    "next",
    "map",
    "and_then",
    "unwrap",
    "expect",
    "ok",
    "err",
    "as_ref",
    "as_mut",
    "borrow",
    "deref",
    "drop",
    "contains",
    "extend",
    "collect",
    "filter",
    "find",
    "first",
    "last",
    "join",
    "split",
    "parse",
    "read",
    "write",
    "flush",
    "lock",
    "send",
    "recv",
    "execute",
    "query",
    "prepare",
    "query_row",
    "query_map",
    "call",
    "run",
    "set",
    "take",
    "build",
    "finish",
    "with",
];

/// Runs the whole pipeline.
pub(crate) fn build(
    root: &Path,
    options: &ModelOptions,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<CodeModel, AnalyzeError> {
    build_in_order(root, options, progress, None)
}

/// The order to assemble items in, given how many there are (a permutation of them).
type AssemblyOrder<'a> = &'a dyn Fn(usize) -> Vec<usize>;

/// [`build`], assembling items on the pool or, for tests that check the model does not depend
/// on that order, one by one in the order given.
fn build_in_order(
    root: &Path,
    options: &ModelOptions,
    progress: &(dyn Fn(Progress) + Sync),
    order: Option<AssemblyOrder<'_>>,
) -> Result<CodeModel, AnalyzeError> {
    let metadata = std::fs::metadata(root).map_err(|source| AnalyzeError::Root {
        path: root.to_path_buf(),
        source,
    })?;
    if !metadata.is_dir() {
        return Err(AnalyzeError::NotADirectory {
            path: root.to_path_buf(),
        });
    }
    std::fs::read_dir(root).map_err(|source| AnalyzeError::Root {
        path: root.to_path_buf(),
        source,
    })?;

    let mut discovery = discover::walk(root, options.include_tests);
    add_loose_crate(root, &mut discovery);
    let dialect = options
        .dialect
        .unwrap_or_else(|| discover::detect_dialect(&discovery.crates));
    let mut diagnostics = std::mem::take(&mut discovery.diagnostics);

    let total = discovery.rust_files.len() + discovery.sql_files.len();
    progress(Progress { done: 0, total });
    let done = AtomicUsize::new(0);
    let tick = || {
        let now = done.fetch_add(1, Ordering::Relaxed) + 1;
        progress(Progress { done: now, total });
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.threads)
        // Deeply nested (generated) code recurses deeply in the parser and the visitors.
        .stack_size(256 << 20)
        .build()
        .map_err(|error| AnalyzeError::Threads {
            message: error.to_string(),
        })?;
    let (facts, sql_files): (Vec<FileFacts>, Vec<sql::SqlAnalysis>) = pool.install(|| {
        let facts = discovery
            .rust_files
            .par_iter()
            .map(|file| {
                let facts = read_and_extract(root, file, dialect, options);
                tick();
                facts
            })
            .collect();
        let sql_files = discovery
            .sql_files
            .par_iter()
            .map(|file| {
                let analysis = match read_text(root, file, options.max_file_bytes) {
                    Ok(text) => sql::analyze(&text, dialect),
                    Err(message) => sql::SqlAnalysis {
                        problems: vec![sql::SqlProblem {
                            line_offset: 0,
                            message,
                        }],
                        ..sql::SqlAnalysis::default()
                    },
                };
                tick();
                analysis
            })
            .collect();
        (facts, sql_files)
    });

    for (file, analysis) in discovery.sql_files.iter().zip(&sql_files) {
        for problem in &analysis.problems {
            diagnostics.push(Diagnostic {
                file: file.clone(),
                line: Some(problem.line_offset + 1),
                message: format!(
                    "SQL statement not parsed ({}); tables taken by keyword scan",
                    problem.message
                ),
            });
        }
    }

    let places = modules::place_files(&discovery.crates, &discovery.rust_files, &facts);
    // Files only test code declares (`#[cfg(test)] mod tests;`) leave the model with the rest
    // of the test code, their diagnostics included.
    let (rust_files, facts, places) =
        without_test_files(std::mem::take(&mut discovery.rust_files), facts, places);
    discovery.rust_files = rust_files;
    for (file, file_facts) in discovery.rust_files.iter().zip(&facts) {
        for (line, message) in &file_facts.problems {
            diagnostics.push(Diagnostic {
                file: file.clone(),
                line: *line,
                message: message.clone(),
            });
        }
    }
    let scopes = Scopes::build(&discovery.crates, &places, &facts);
    let ids = item_ids(&discovery.crates, &places, &facts, &scopes);
    let table_names = tables::diesel_table_names(&facts);

    let assembler = Assembler {
        files: &discovery.rust_files,
        facts: &facts,
        scopes: &scopes,
        ids: &ids,
        diesel_tables: &table_names,
    };
    // In any order: what the resolver finds does not depend on which lookup came first.
    let assemble = |index: usize| (ids[index].clone(), assembler.item(index));
    let items: Vec<(ItemId, Item)> = if let Some(order) = order {
        order(scopes.items.len())
            .into_iter()
            .map(assemble)
            .collect()
    } else {
        pool.install(|| {
            (0..scopes.items.len())
                .into_par_iter()
                .map(assemble)
                .collect()
        })
    };
    let files = assembler.source_files(&discovery.crates, &places);
    let routes =
        route_table::build_routes(&assembler, &discovery.crates, &places, &mut diagnostics);
    let tables = tables::build_tables(
        &discovery.rust_files,
        &facts,
        &discovery.sql_files,
        &sql_files,
    );
    // The facts were allocated file by file on the workers; freeing them there too spreads
    // the work over the pool instead of leaving it all to this thread.
    drop(scopes);
    pool.install(|| facts.into_par_iter().for_each(drop));

    // Items are large: put them in id order in place (each moved about once) so that the map
    // is built from a sorted vector, with no second vector of items alongside.
    let items = sorted_by_id(items);
    let items: BTreeMap<ItemId, Item> = items.into_iter().collect();

    diagnostics.sort();
    diagnostics.dedup();
    Ok(CodeModel {
        crates: discovery.crates,
        files,
        items,
        routes,
        tables,
        sql_files: discovery.sql_files,
        dialect,
        diagnostics,
    })
}

/// The pairs in key order, moved in place: the permutation that sorts them is found on
/// indices, then applied cycle by cycle, so each pair is moved about once and no second vector
/// of them is allocated (an in-place sort would move each pair many times).
fn sorted_by_id<V>(mut items: Vec<(ItemId, V)>) -> Vec<(ItemId, V)> {
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_unstable_by(|&a, &b| items[a].0.cmp(&items[b].0));
    // `order[i]` is the index of the pair that belongs at `i`; a slot whose pair is in place is
    // marked `usize::MAX`.
    for start in 0..order.len() {
        if order[start] == usize::MAX {
            continue;
        }
        let mut slot = start;
        loop {
            let source = order[slot];
            order[slot] = usize::MAX;
            if source == start {
                break;
            }
            items.swap(slot, source);
            slot = source;
        }
    }
    items
}

/// When some `.rs` file sits under no package, a pseudo crate named after the root holds it.
fn add_loose_crate(root: &Path, discovery: &mut Discovery) {
    let covered = |file: &String| {
        discovery
            .crates
            .iter()
            .any(|c| c.dir.is_empty() || file.starts_with(&format!("{}/", c.dir)))
    };
    if discovery.rust_files.iter().all(covered) {
        return;
    }
    let name = root
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "root".to_string())
        .replace(|c: char| !(c.is_alphanumeric() || c == '_'), "_");
    discovery.crates.insert(
        0,
        CrateInfo {
            name,
            dir: String::new(),
            root_file: String::new(),
            kind: CrateKind::Loose,
            dependencies: Vec::new(),
        },
    );
}

fn read_text(root: &Path, file: &str, max_bytes: u64) -> Result<String, String> {
    let path = root.join(file);
    let size = std::fs::metadata(&path)
        .map_err(|e| format!("cannot read: {e}"))?
        .len();
    if size > max_bytes {
        return Err(format!(
            "not analyzed: {size} bytes, over the limit of {max_bytes}"
        ));
    }
    let bytes = std::fs::read(&path).map_err(|e| format!("cannot read: {e}"))?;
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "not analyzed: not valid UTF-8 (first bad byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}

fn read_and_extract(
    root: &Path,
    file: &str,
    dialect: SqlDialect,
    options: &ModelOptions,
) -> FileFacts {
    match read_text(root, file, options.max_file_bytes) {
        Ok(text) => extract::extract_file(&text, dialect, options.max_nesting),
        Err(message) => FileFacts {
            modules: vec![Default::default()],
            problems: vec![(None, message)],
            ..FileFacts::default()
        },
    }
}

/// Ids of all items, in item order; collisions (two `impl Display` blocks' `fmt` in one module)
/// get `#2`, `#3`... in source order.
fn item_ids(
    crates: &[CrateInfo],
    places: &[FilePlace],
    facts: &[FileFacts],
    scopes: &Scopes,
) -> Vec<ItemId> {
    let mut ids: Vec<ItemId> = scopes
        .items
        .iter()
        .map(|entry| {
            let module = &scopes.modules[entry.module];
            let crate_name = crates
                .get(places[entry.file].crate_index)
                .map_or("crate", |c| c.name.as_str());
            let mut id = String::with_capacity(64);
            id.push_str(crate_name);
            for part in &module.path {
                id.push_str("::");
                id.push_str(part);
            }
            let raw = &facts[entry.file].items[entry.raw];
            if let Some(owner) = facts[entry.file].owner_of(raw) {
                let self_name = owner.self_type.last().map_or("", String::as_str);
                match &owner.trait_path {
                    Some(trait_path) => {
                        let trait_name = trait_path.last().map_or("", String::as_str);
                        id.push_str("::<");
                        id.push_str(self_name);
                        id.push_str(" as ");
                        id.push_str(trait_name);
                        id.push('>');
                    }
                    None => {
                        id.push_str("::");
                        id.push_str(self_name);
                    }
                }
            }
            id.push_str("::");
            id.push_str(&entry.name);
            id
        })
        .collect();
    // Equal ids side by side, each run in item (source) order: the second and later of a run
    // get their rank as a suffix.
    let mut order: Vec<usize> = (0..ids.len()).collect();
    order.sort_by(|&a, &b| ids[a].cmp(&ids[b]).then(a.cmp(&b)));
    let mut suffixes = Vec::new();
    let mut rank = 1;
    for pair in order.windows(2) {
        if ids[pair[0]] == ids[pair[1]] {
            rank += 1;
            suffixes.push((pair[1], rank));
        } else {
            rank = 1;
        }
    }
    for (index, rank) in suffixes {
        let _ = write!(ids[index], "#{rank}");
    }
    ids
}

/// Read-only state shared by the assembly of items, files and routes.
pub(crate) struct Assembler<'a> {
    pub files: &'a [String],
    pub facts: &'a [FileFacts],
    pub scopes: &'a Scopes,
    pub ids: &'a [ItemId],
    pub diesel_tables: &'a BTreeMap<String, BTreeSet<String>>,
}

impl Assembler<'_> {
    /// The resolution context inside an item's body.
    pub(crate) fn context(&self, index: ItemIndex) -> Context<'_> {
        let entry = &self.scopes.items[index];
        let raw = &self.facts[entry.file].items[entry.raw];
        Context {
            module: entry.module,
            local_uses: &raw.extras().local_uses,
            local_globs: &raw.extras().local_globs,
            self_item: entry.self_item.or_else(|| {
                // Inside a struct/enum/trait definition, `Self` is the item itself.
                entry.kind.is_type().then_some(index)
            }),
        }
    }

    fn reference_kind(&self, kind: RawRefKind, target: ItemIndex) -> ReferenceKind {
        let target_kind = self.scopes.items[target].kind;
        match kind {
            RawRefKind::Call if target_kind.is_function() => ReferenceKind::Call,
            RawRefKind::Call if target_kind.is_type() => ReferenceKind::Type,
            RawRefKind::Call => ReferenceKind::Value,
            RawRefKind::Type => ReferenceKind::Type,
            RawRefKind::Value => ReferenceKind::Value,
            RawRefKind::Import => ReferenceKind::Import,
        }
    }

    fn item(&self, index: ItemIndex) -> Item {
        let entry = &self.scopes.items[index];
        let raw = &self.facts[entry.file].items[entry.raw];
        let mut item = Item {
            id: self.ids[index].clone(),
            name: raw.name.clone(),
            kind: raw.kind,
            file: self.files[entry.file].clone(),
            line: raw.line,
            end_line: raw.end_line,
            owner: self.facts[entry.file]
                .owner_of(raw)
                .map(|owner| MethodOwner {
                    self_type: owner.self_type.last().cloned().unwrap_or_default(),
                    self_item: entry.self_item.map(|i| self.ids[i].clone()),
                    trait_name: owner.trait_path.as_ref().and_then(|p| p.last().cloned()),
                }),
            public: raw.public,
            references: Vec::new(),
            unresolved_calls: Vec::new(),
            external_crates: BTreeSet::new(),
            sql: raw
                .sql
                .iter()
                .map(|access| SqlAccess {
                    table: access.table.clone(),
                    access: access.access,
                    statement: access.statement,
                    line: access.line,
                    origin: match access.origin {
                        RawSqlOrigin::QueryCall => SqlOrigin::QueryCall,
                        RawSqlOrigin::Literal => SqlOrigin::Literal,
                    },
                })
                .collect(),
        };
        let context = self.context(index);
        let diesel_bare = self.diesel_bare_names(index);
        let paths = &self.facts[entry.file].paths;
        for reference in self.facts[entry.file].refs_of(raw) {
            let resolution = paths.with_segments(reference.path, |path| {
                self.diesel_access(path, reference, &diesel_bare, &mut item.sql);
                self.scopes.resolve(&context, path)
            });
            match resolution {
                Resolution::Item(target) if target != index => {
                    let kind = self.reference_kind(reference.kind, target);
                    item.references.push(Reference {
                        target: self.ids[target].clone(),
                        kind,
                        line: reference.line,
                    });
                    self.inherit_const_sql(target, reference.line, &mut item.sql);
                }
                Resolution::External(name) => {
                    item.external_crates.insert(name);
                }
                _ => {}
            }
        }
        for call in self.facts[entry.file].method_calls_of(raw) {
            let name = paths.name(call.name);
            let receiver = match call.receiver_type {
                Some(path) => paths.with_segments(path, |path| self.scopes.resolve(&context, path)),
                None if call.on_self => entry
                    .self_item
                    .map_or(Resolution::Unknown, Resolution::Item),
                None => Resolution::Unknown,
            };
            if let Resolution::External(name) = &receiver {
                // A method of an external type (`conn.execute` on a rusqlite connection).
                item.external_crates.insert(name.clone());
                continue;
            }
            let on_type = match receiver {
                Resolution::Item(type_item) => self.scopes.method(type_item, name),
                _ => None,
            };
            if let Some(target) = on_type {
                item.references.push(Reference {
                    target: self.ids[target].clone(),
                    kind: ReferenceKind::MethodCall,
                    line: call.line,
                });
                continue;
            }
            let distinctive = !COMMON_METHOD_NAMES.contains(&name);
            match self.scopes.methods_by_name.get(name).map(Vec::as_slice) {
                Some([target]) if distinctive && *target != index => {
                    item.references.push(Reference {
                        target: self.ids[*target].clone(),
                        kind: ReferenceKind::MethodByName,
                        line: call.line,
                    });
                }
                // A method calling itself by name: recursion, nothing to record.
                Some([_]) if distinctive => {}
                Some(_) => item.unresolved_calls.push(UnresolvedCall {
                    method: name.to_string(),
                    line: call.line,
                }),
                None => {}
            }
        }
        item.references.sort();
        item.references.dedup();
        item.unresolved_calls.sort();
        item.unresolved_calls.dedup();
        item.sql.sort();
        item.sql.dedup();
        item
    }

    /// A function using a const that holds SQL runs that SQL.
    fn inherit_const_sql(&self, target: ItemIndex, line: u32, sql: &mut Vec<SqlAccess>) {
        let entry = &self.scopes.items[target];
        if !matches!(entry.kind, ItemKind::Const | ItemKind::Static) {
            return;
        }
        for access in &self.facts[entry.file].items[entry.raw].sql {
            sql.push(SqlAccess {
                table: access.table.clone(),
                access: access.access,
                statement: access.statement,
                line,
                origin: SqlOrigin::Const(self.ids[target].clone()),
            });
        }
    }

    /// Diesel tables a body may name bare (`users.filter(...)`): those whose `dsl` it imports.
    fn diesel_bare_names(&self, index: ItemIndex) -> BTreeSet<String> {
        if self.diesel_tables.is_empty() {
            return BTreeSet::new();
        }
        let entry = &self.scopes.items[index];
        let raw = &self.facts[entry.file].items[entry.raw];
        let module_uses = self.facts[entry.file]
            .modules
            .iter()
            .flat_map(|m| m.globs.iter().chain(m.uses.iter().map(|u| &u.path)));
        let extras = raw.extras();
        let paths = extras
            .local_globs
            .iter()
            .chain(extras.local_uses.iter().map(|u| &u.path))
            .chain(module_uses);
        let mut names = BTreeSet::new();
        for path in paths {
            for window in path.windows(2) {
                if window[1] == "dsl" && self.diesel_tables.contains_key(&window[0]) {
                    names.insert(window[0].clone());
                }
            }
            if let Some(last) = path.last()
                && path.len() >= 2
                && path[path.len() - 2] == "dsl"
                && self.diesel_tables.contains_key(last)
            {
                names.insert(last.clone());
            }
        }
        names
    }

    /// A path naming a diesel table (`users::table`, `users::dsl::name`, `users::id`, or a
    /// bare `users` after `use users::dsl::*`) is an access to it.
    fn diesel_access(
        &self,
        path: &[&str],
        reference: &RawRef,
        bare: &BTreeSet<String>,
        sql: &mut Vec<SqlAccess>,
    ) {
        if self.diesel_tables.is_empty() || reference.kind == RawRefKind::Import {
            return;
        }
        let mut table = None;
        for (position, &segment) in path.iter().enumerate() {
            let Some(columns) = self.diesel_tables.get(segment) else {
                continue;
            };
            let next = path.get(position + 1).copied();
            let previous = position.checked_sub(1).map(|p| path[p]);
            let names_table = match next {
                Some(next) => next == "table" || next == "dsl" || columns.contains(next),
                None => {
                    previous.is_some_and(|p| p == "dsl")
                        || (path.len() == 1 && bare.contains(segment))
                }
            };
            if names_table {
                table = Some(segment.to_string());
                break;
            }
        }
        if let Some(table) = table {
            let (access, statement) = if reference.diesel_write {
                (Access::Write, StatementKind::Orm)
            } else {
                (Access::Read, StatementKind::Orm)
            };
            sql.push(SqlAccess {
                table,
                access,
                statement,
                line: reference.line,
                origin: SqlOrigin::Diesel,
            });
        }
    }

    fn source_files(
        &self,
        crates: &[CrateInfo],
        places: &[FilePlace],
    ) -> BTreeMap<String, SourceFile> {
        let mut files = BTreeMap::new();
        for (file, (path, facts)) in self.files.iter().zip(self.facts).enumerate() {
            let place = &places[file];
            let mut references = Vec::new();
            let mut external_crates = BTreeSet::new();
            for (from, raw_module, reference) in &facts.file_refs {
                let from_index =
                    from.and_then(|raw| self.scopes.item_of.get(&(file, raw)).copied());
                let context = match from_index {
                    Some(index) => self.context(index),
                    None => Context {
                        module: self.scopes.module_of[&(file, *raw_module)],
                        local_uses: &[],
                        local_globs: &[],
                        self_item: None,
                    },
                };
                let resolution = facts
                    .paths
                    .with_segments(reference.path, |path| self.scopes.resolve(&context, path));
                match resolution {
                    Resolution::Item(target) if Some(target) != from_index => {
                        references.push(FileReference {
                            from: from_index.map(|i| self.ids[i].clone()),
                            target: self.ids[target].clone(),
                            kind: self.reference_kind(reference.kind, target),
                            line: reference.line,
                        });
                    }
                    Resolution::External(name) => {
                        external_crates.insert(name);
                    }
                    _ => {}
                }
            }
            references.sort();
            references.dedup();
            let mut module_path = "crate".to_string();
            for part in &place.module {
                module_path.push_str("::");
                module_path.push_str(part);
            }
            files.insert(
                path.clone(),
                SourceFile {
                    path: path.clone(),
                    crate_name: crates
                        .get(place.crate_index)
                        .map_or_else(String::new, |c| c.name.clone()),
                    module_path,
                    declared: place.declared,
                    lines: facts.lines,
                    parsed: facts.parsed,
                    references,
                    external_crates,
                },
            );
        }
        files
    }
}

/// The files, their facts and places, without the files that are test code.
fn without_test_files(
    files: Vec<String>,
    facts: Vec<FileFacts>,
    places: Vec<FilePlace>,
) -> (Vec<String>, Vec<FileFacts>, Vec<FilePlace>) {
    if !places.iter().any(|place| place.test_only) {
        return (files, facts, places);
    }
    let mut kept = (Vec::new(), Vec::new(), Vec::new());
    for ((file, file_facts), place) in files.into_iter().zip(facts).zip(places) {
        if !place.test_only {
            kept.0.push(file);
            kept.1.push(file_facts);
            kept.2.push(place);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_by_id_puts_every_pair_in_key_order_once() {
        // Several cycles of different lengths, a pair already in place, and an empty input.
        let keys = ["d", "a", "f", "c", "b", "e", "g", "i", "h"];
        let items: Vec<(ItemId, usize)> = keys
            .iter()
            .enumerate()
            .map(|(index, key)| ((*key).to_string(), index))
            .collect();
        let sorted = sorted_by_id(items);
        let got: Vec<(&str, usize)> = sorted.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        assert_eq!(
            got,
            [
                ("a", 1),
                ("b", 4),
                ("c", 3),
                ("d", 0),
                ("e", 5),
                ("f", 2),
                ("g", 6),
                ("h", 8),
                ("i", 7)
            ]
        );
        assert!(sorted_by_id(Vec::<(ItemId, ())>::new()).is_empty());
    }

    /// Glob imports that form cycles, in two crates: the model is the same whichever item is
    /// assembled first and however many threads assemble them, and names defined on one side
    /// of a cycle are found from every module of it.
    #[test]
    fn glob_cycles_resolve_alike_in_any_order() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/glob_cycles");
        let options = |threads| ModelOptions {
            threads,
            ..ModelOptions::default()
        };
        let json = |model: &CodeModel| serde_json::to_string_pretty(model).expect("json");
        let forward = build(&root, &options(1), &|_| {}).expect("model");
        let reversed: AssemblyOrder = &|n| (0..n).rev().collect();
        let reversed = build_in_order(&root, &options(1), &|_| {}, Some(reversed)).expect("model");
        assert_eq!(json(&forward), json(&reversed), "forward and reversed");
        // Rotations and strides: each item gets to be the first lookup of its cycle.
        for step in [1, 3, 7] {
            for start in 0..5 {
                let order: AssemblyOrder = &|n| {
                    let mut order: Vec<usize> = (0..n).collect();
                    order.sort_by_key(|&i| ((i * step) % n, i));
                    order.rotate_left(start % n);
                    order
                };
                let model =
                    build_in_order(&root, &options(1), &|_| {}, Some(order)).expect("model");
                assert_eq!(json(&forward), json(&model), "from {start} by {step}");
            }
        }
        for _ in 0..4 {
            let parallel = build(&root, &options(2), &|_| {}).expect("model");
            assert_eq!(json(&forward), json(&parallel), "one and two threads");
        }
        let targets = |id: &str| -> Vec<String> {
            let item = forward
                .items
                .get(id)
                .unwrap_or_else(|| panic!("no item {id}"));
            item.references.iter().map(|r| r.target.clone()).collect()
        };
        let helper = "kernel::d::helper".to_string();
        let deep = "kernel::ring::s::deep".to_string();
        let turn = "kernel::ring::s::Gear::turn".to_string();
        let build_widget = "kernel::d::Widget::build".to_string();
        assert!(targets("kernel::a::from_a").contains(&helper));
        assert!(targets("kernel::a::from_a").contains(&build_widget));
        assert!(targets("kernel::b::from_b").contains(&helper));
        assert!(targets("kernel::b::from_b").contains(&"kernel::a::from_a".to_string()));
        for id in [
            "kernel::ring::p::in_p",
            "kernel::ring::q::in_q",
            "kernel::ring::r::in_r",
        ] {
            assert!(targets(id).contains(&deep), "{id}");
        }
        assert!(targets("kernel::ring::p::in_p").contains(&turn));
        assert!(targets("kernel::prelude::from_prelude").contains(&helper));
        assert!(targets("kernel::prelude::from_prelude").contains(&deep));
        assert!(targets("kernel::from_root").contains(&"kernel::ring::s::turn_all".to_string()));
        let main = targets("app::main");
        for id in [
            &helper,
            &deep,
            &build_widget,
            &"kernel::ring::p::in_p".to_string(),
        ] {
            assert!(main.contains(id), "app::main -> {id}: {main:?}");
        }
        let later = targets("app::later");
        assert!(
            later.contains(&"kernel::b::from_b".to_string()),
            "{later:?}"
        );
    }

    /// Items that would share an id (two trait impls' methods of one name, a function defined
    /// twice under different `cfg`s) get `#2`, `#3` in source order; the first keeps the bare id.
    #[test]
    fn colliding_item_ids_are_ranked_in_source_order() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("src")).expect("src");
        std::fs::write(
            dir.path().join("Cargo.toml"),
            "[package]\nname = \"ids\"\nversion = \"0.1.0\"\n",
        )
        .expect("manifest");
        std::fs::write(
            dir.path().join("src/lib.rs"),
            "pub struct A;\n\
             impl std::fmt::Display for A { fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result { Ok(()) } }\n\
             impl std::fmt::Debug for A { fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result { Ok(()) } }\n\
             #[cfg(unix)] pub fn run() {}\n\
             #[cfg(windows)] pub fn run() {}\n\
             #[cfg(target_os = \"wasi\")] pub fn run() {}\n\
             pub fn run_2() {}\n",
        )
        .expect("lib");
        let model = build(dir.path(), &ModelOptions::default(), &|_| {}).expect("model");
        let lines: Vec<(String, u32)> = model
            .items
            .values()
            .map(|item| (item.id.clone(), item.line))
            .collect();
        let expected = [
            ("ids::<A as Debug>::fmt", 3),
            ("ids::<A as Display>::fmt", 2),
            ("ids::A", 1),
            ("ids::run", 4),
            ("ids::run#2", 5),
            ("ids::run#3", 6),
            ("ids::run_2", 7),
        ];
        let expected: Vec<(String, u32)> = expected
            .iter()
            .map(|(id, line)| ((*id).to_string(), *line))
            .collect();
        assert_eq!(lines, expected);
    }
}
