//! Which parts of the monolith a service needs, and what becomes of each.
//!
//! A context's own files are carried over whole; the shared kernel's library files too (the
//! service gets its own copy of the common code). From those roots the plan follows the code
//! model's references: a function of the context whose SQL touches a table another context owns,
//! and a function of another context that the service's code calls, keep their signature but get
//! a new body (an HTTP call to the owner, or a stub); the types they mention come along as they
//! are, so the carried code compiles without edits to its `use` lines.

use std::collections::{BTreeMap, BTreeSet};

use analyzer::analysis::{Analysis, ContextReport};
use analyzer::contexts::SharedReason;
use analyzer::{Access, CodeModel, Item, ItemId};

use crate::ScaffoldError;

/// How a source file of the monolith enters the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileRole {
    /// A file of the context: every item the service reaches, bodies rewritten where needed.
    Own,
    /// A shared-kernel library file: carried verbatim.
    Shared,
    /// A file of another context: only the items the service's code names.
    Foreign,
}

/// Why a function's body cannot be carried as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Replacement {
    /// What it was, for the `TODO(strangler)` comment: `a call to ... at FILE:LINE`.
    pub note: String,
    /// When the function only reads one table of another context: that table, its owner, and
    /// the owner's `GET .../{id}` route for it, if one exists.
    pub read_through: Option<ReadThrough>,
}

/// A foreign table read that the owner's API can answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReadThrough {
    /// The owning context.
    pub owner: String,
    /// Its route returning one row by id, e.g. `/api/movies/{id}`.
    pub route: String,
}

/// A route the service registers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PlannedRoute {
    /// Upper-case method.
    pub method: String,
    /// The monolith's path.
    pub path: String,
    /// The handler item.
    pub handler: ItemId,
}

/// The service's needs, decided from the model and the analysis.
#[derive(Debug, Clone)]
pub(crate) struct Plan<'a> {
    /// The context.
    pub context: &'a ContextReport,
    /// Source files entering the service, by their path relative to the root.
    pub files: BTreeMap<String, FileRole>,
    /// Items the service needs (in own and foreign files; shared files are whole).
    pub included: BTreeSet<ItemId>,
    /// Functions whose body is replaced.
    pub replaced: BTreeMap<ItemId, Replacement>,
    /// Routes to register.
    pub routes: Vec<PlannedRoute>,
    /// Routes of the context without a handler function.
    pub skipped_routes: Vec<String>,
    /// Tables the context owns.
    pub owned_tables: BTreeSet<String>,
    /// Every other context that the service calls over HTTP (bridges), sorted.
    pub upstreams: BTreeSet<String>,
}

/// Where each item belongs: its file's context, or the context it moved to.
struct Placement<'a> {
    by_file: BTreeMap<&'a str, &'a str>,
    by_unit: BTreeMap<&'a str, &'a str>,
}

impl<'a> Placement<'a> {
    fn new(analysis: &'a Analysis) -> Self {
        let mut by_file = BTreeMap::new();
        let mut by_unit = BTreeMap::new();
        for context in &analysis.contexts {
            for module in &context.modules {
                if module.contains("::") {
                    by_unit.insert(module.as_str(), context.name.as_str());
                } else {
                    by_file.insert(module.as_str(), context.name.as_str());
                }
            }
        }
        Placement { by_file, by_unit }
    }

    fn context_of(&self, item: &Item) -> Option<&'a str> {
        let unit = item.unit_label();
        if let Some(context) = self.by_unit.get(unit.as_str()) {
            return Some(context);
        }
        self.by_file.get(item.file.as_str()).copied()
    }
}

/// Decides what the service of `context` carries, bridges and stubs.
pub(crate) fn plan<'a>(
    model: &CodeModel,
    analysis: &'a Analysis,
    context: &str,
) -> Result<Plan<'a>, ScaffoldError> {
    let Some(report) = analysis.contexts.iter().find(|c| c.name == context) else {
        let known: Vec<&str> = analysis.contexts.iter().map(|c| c.name.as_str()).collect();
        return Err(ScaffoldError::UnknownContext {
            name: context.to_string(),
            known: known.join(", "),
        });
    };
    let placement = Placement::new(analysis);
    let owned_tables: BTreeSet<String> = report.tables.iter().cloned().collect();
    let table_owner: BTreeMap<&str, &str> = analysis
        .tables
        .iter()
        .filter_map(|t| Some((t.name.as_str(), t.owner.as_deref()?)))
        .collect();

    let mut files: BTreeMap<String, FileRole> = BTreeMap::new();
    for shared in &analysis.shared_kernel {
        let carried = matches!(
            shared.reason,
            SharedReason::Library | SharedReason::Declared | SharedReason::Uncoupled
        );
        if carried && !is_module_root(&shared.path) && model.files.contains_key(&shared.path) {
            files.insert(shared.path.clone(), FileRole::Shared);
        }
    }
    for module in &report.modules {
        if !module.contains("::") && model.files.contains_key(module) {
            files.insert(module.clone(), FileRole::Own);
        }
    }

    let mut routes = Vec::new();
    let mut skipped_routes = Vec::new();
    for label in &report.routes {
        let found = model
            .routes
            .iter()
            .find(|route| &route.label() == label)
            .and_then(|route| Some((route, route.handler.as_ref()?)))
            .filter(|(_, handler)| model.items.contains_key(*handler));
        match found {
            Some((route, handler)) => routes.push(PlannedRoute {
                method: route.method.clone(),
                path: route.path.clone(),
                handler: handler.clone(),
            }),
            None => skipped_routes.push(label.clone()),
        }
    }

    let in_context = |item: &Item| placement.context_of(item) == Some(context);
    let mut queue: Vec<ItemId> = model
        .items
        .values()
        .filter(|item| in_context(item) && (item.public || item.owner.is_some()))
        .map(|item| item.id.clone())
        .collect();
    queue.extend(routes.iter().map(|r| r.handler.clone()));

    let mut included = BTreeSet::new();
    let mut replaced = BTreeMap::new();
    let mut upstreams = BTreeSet::new();
    while let Some(id) = queue.pop() {
        let Some(item) = model.items.get(&id) else {
            continue;
        };
        if !included.insert(id.clone()) {
            continue;
        }
        let role = match placement.context_of(item) {
            Some(owner) if owner == context => FileRole::Own,
            Some(_) => FileRole::Foreign,
            None if files.get(&item.file) == Some(&FileRole::Shared) => continue,
            // A shared file that is not carried (composition root, infrastructure): its items
            // stay behind.
            None => {
                included.remove(&id);
                continue;
            }
        };
        files.entry(item.file.clone()).or_insert(FileRole::Foreign);
        if let Some(owner) = item.owner.as_ref().and_then(|o| o.self_item.clone()) {
            queue.push(owner);
        }
        if item.kind.is_function() {
            let replacement = replacement_for(
                model,
                item,
                role,
                context,
                &owned_tables,
                &table_owner,
                &placement,
            );
            match &replacement {
                None => queue.extend(item.references.iter().map(|r| r.target.clone())),
                Some(found) => {
                    if let Some(read) = &found.read_through {
                        upstreams.insert(read.owner.clone());
                    }
                    queue.extend(item.type_uses().map(|r| r.target.clone()));
                }
            }
            if let Some(found) = replacement {
                replaced.insert(id.clone(), found);
            }
        } else {
            if let Some(file) = model.files.get(&item.file) {
                queue.extend(
                    file.references
                        .iter()
                        .filter(|r| r.from.as_deref() == Some(id.as_str()))
                        .map(|r| r.target.clone()),
                );
            }
            // Trait impls of a type come with it: derived behaviour the code relies on
            // (`Display`, `From`) is never named by a path.
            queue.extend(
                model
                    .items
                    .values()
                    .filter(|m| {
                        m.owner.as_ref().is_some_and(|o| {
                            o.trait_name.is_some() && o.self_item.as_deref() == Some(id.as_str())
                        })
                    })
                    .map(|m| m.id.clone()),
            );
        }
    }

    Ok(Plan {
        context: report,
        files,
        included,
        replaced,
        routes,
        skipped_routes,
        owned_tables,
        upstreams,
    })
}

/// Files that only declare modules: the service writes its own module tree.
fn is_module_root(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    matches!(name, "mod.rs" | "lib.rs" | "main.rs")
}

fn replacement_for(
    model: &CodeModel,
    item: &Item,
    role: FileRole,
    context: &str,
    owned: &BTreeSet<String>,
    table_owner: &BTreeMap<&str, &str>,
    placement: &Placement<'_>,
) -> Option<Replacement> {
    let foreign_sql: Vec<_> = item
        .sql
        .iter()
        .filter(|access| !owned.contains(&access.table))
        .collect();
    let read_through = || {
        let tables: BTreeSet<&str> = foreign_sql.iter().map(|a| a.table.as_str()).collect();
        let only_reads = foreign_sql.iter().all(|a| a.access == Access::Read);
        let all_foreign = item.sql.len() == foreign_sql.len();
        match (tables.len(), only_reads && all_foreign) {
            (1, true) => {
                let table = tables.into_iter().next()?;
                let owner = *table_owner.get(table)?;
                let route = resource_route(model, placement, owner, table)?;
                Some(ReadThrough {
                    owner: owner.to_string(),
                    route,
                })
            }
            _ => None,
        }
    };
    match role {
        FileRole::Shared => None,
        FileRole::Own => {
            let first = foreign_sql.first()?;
            let owner = table_owner
                .get(first.table.as_str())
                .copied()
                .unwrap_or("?");
            Some(Replacement {
                note: format!(
                    "was SQL on table `{}` (owned by {owner}) at {}:{}",
                    first.table, item.file, first.line
                ),
                read_through: read_through(),
            })
        }
        FileRole::Foreign => {
            let calls_out = item.calls().any(|call| {
                model.items.get(&call.target).is_some_and(|target| {
                    placement.context_of(target).is_some() || !target.sql.is_empty()
                })
            });
            if item.sql.is_empty() && !calls_out {
                return None;
            }
            let owner = placement.context_of(item).unwrap_or("?");
            let mut callers: Vec<(&str, u32)> = model
                .items
                .values()
                .filter(|caller| placement.context_of(caller) == Some(context))
                .flat_map(|caller| {
                    caller
                        .calls()
                        .filter(|call| call.target == item.id)
                        .map(move |call| (caller.file.as_str(), call.line))
                })
                .collect();
            callers.sort();
            callers.dedup();
            let at = if callers.is_empty() {
                format!("{}:{}", item.file, item.line)
            } else {
                let sites: Vec<String> = callers
                    .iter()
                    .map(|(file, line)| format!("{file}:{line}"))
                    .collect();
                sites.join(", ")
            };
            Some(Replacement {
                note: format!(
                    "was a call to {} (the {owner} context, {}:{}) at {at}",
                    qualified_name(model, item),
                    item.file,
                    item.line
                ),
                read_through: if foreign_sql.is_empty() {
                    None
                } else {
                    read_through()
                },
            })
        }
    }
}

/// The owner's `GET /.../{id}` route that returns one row of `table`: a route of the owning
/// context whose only parameter is the last segment and whose handler reads the table (through
/// at most a few calls); a path naming the table wins.
fn resource_route(
    model: &CodeModel,
    placement: &Placement<'_>,
    owner: &str,
    table: &str,
) -> Option<String> {
    let mut candidates: Vec<(bool, usize, String)> = model
        .routes
        .iter()
        .filter(|route| route.method == "GET" && single_trailing_param(&route.path))
        .filter_map(|route| {
            let handler = model.items.get(route.handler.as_ref()?)?;
            (placement.context_of(handler) == Some(owner) && reads_table(model, handler, table, 4))
                .then(|| {
                    let names_table = route.path.split('/').any(|segment| segment == table);
                    (!names_table, route.path.len(), route.path.clone())
                })
        })
        .collect();
    candidates.sort();
    candidates.into_iter().next().map(|(_, _, path)| path)
}

fn single_trailing_param(path: &str) -> bool {
    let params = path.matches('{').count();
    let last = path.rsplit('/').next().unwrap_or("");
    params == 1 && last.starts_with('{') && last.ends_with('}')
}

fn reads_table(model: &CodeModel, item: &Item, table: &str, depth: u32) -> bool {
    if item
        .sql
        .iter()
        .any(|a| a.table == table && a.access == Access::Read)
    {
        return true;
    }
    depth > 0
        && item.calls().any(|call| {
            model
                .items
                .get(&call.target)
                .is_some_and(|target| reads_table(model, target, table, depth - 1))
        })
}

/// `crate::services::fares::price_order` (`...::Type::method` for methods).
fn qualified_name(model: &CodeModel, item: &Item) -> String {
    let module = model
        .files
        .get(&item.file)
        .map(|f| f.module_path.as_str())
        .unwrap_or("crate");
    match &item.owner {
        Some(owner) => format!("{module}::{}::{}", owner.self_type, item.name),
        None => format!("{module}::{}", item.name),
    }
}
