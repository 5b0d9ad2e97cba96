//! Name resolution: per module, a scope of items, child modules, `use` entries and glob
//! imports, and the path resolver that maps what code writes (`crate::repo::find`,
//! `super::Review`, `Self::new`, `reviews::list` through a `use`) to workspace items, or to an
//! external crate's name. External crates are recorded, never followed.
//!
//! # Order independence
//!
//! Items are assembled in parallel, so lookups run in no fixed order, yet the model must be the
//! same byte for byte on every run: what a lookup of `name` in `module` at a given depth returns
//! is a function of those three alone, never of which lookup ran first. A name brought in by
//! `use` or a glob is searched recursively, and the search is cut in two places: a lookup
//! already under way on this thread finds nothing (glob imports can form cycles), and so does
//! any step past [`MAX_DEPTH`]. A result reached through a cut depends on where the search
//! started, so it must not be shared. Hence two stages:
//!
//! 1. The search runs with the shared memo and a flag that any cut sets (a lookup that finds
//!    the flag set returns at once, the search is abandoned). A lookup that ends with the flag
//!    clear met no cut below it; by induction over the order in which lookups end (every memo
//!    entry is written by such a lookup, after the lookups it used), it made the same steps
//!    as the uncut, unmemoized search of its name would, so it found what that search finds,
//!    and its height (how deep below it the search went) is that search's too. Only these
//!    results, with their height, enter the shared memo, and one is used only where the depth
//!    left covers its height (elsewhere the search is done afresh, and cut where it must be).
//!    Conversely, when the uncut search of a name from its depth is finite and within the
//!    limit, this stage never sets the flag: a memo entry it uses fits, and a step it takes
//!    afresh follows a path of that finite search, in which no lookup repeats. So whether the
//!    stage ends clear depends on `(module, name, depth)` alone, and so does what it found.
//! 2. When the flag is set at the lookup that started the search, the search is done again
//!    from scratch on a private memo that only this search fills (the shared memo is neither
//!    read nor written), with cycles cut where they close. That is a deterministic computation
//!    over the scopes, which never change, so its result is a function of
//!    `(module, name, depth)` too, and it is memoized under that key for later lookups.
//!
//! On a tree whose imports form no cycle and no chain past the limit, stage 2 never runs and
//! every result is the uncut one, as before. (A name that no module brings in itself is found
//! nowhere, so its search stops at once in both stages: a step of the search, not a cut.)

use std::cell::{Cell, RefCell};
use std::sync::RwLock;

use crate::facts::{FileFacts, RawPath, UseEntry};
use crate::fast_hash::{FastMap, FastSet};
use crate::model::{CrateInfo, CrateKind, ItemKind};
use crate::modules::FilePlace;

/// Index of a module in [`Scopes::modules`].
pub(crate) type ModuleIndex = usize;
/// Index of an item in [`Scopes::items`].
pub(crate) type ItemIndex = usize;

/// What a path stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resolution {
    Item(ItemIndex),
    Module(ModuleIndex),
    External(String),
    Unknown,
}

/// One module's scope.
#[derive(Debug, Default)]
pub(crate) struct ModuleScope {
    pub crate_index: usize,
    pub path: Vec<String>,
    pub parent: Option<ModuleIndex>,
    pub children: FastMap<String, ModuleIndex>,
    pub items: FastMap<String, Vec<ItemIndex>>,
    pub uses: FastMap<String, RawPath>,
    pub globs: Vec<RawPath>,
}

/// An item with where it lives.
#[derive(Debug)]
pub(crate) struct ItemEntry {
    pub file: usize,
    pub raw: usize,
    pub module: ModuleIndex,
    pub kind: ItemKind,
    pub name: String,
    /// For methods: the self type's item, once resolved.
    pub self_item: Option<ItemIndex>,
}

/// The context a path is resolved in.
pub(crate) struct Context<'a> {
    pub module: ModuleIndex,
    pub local_uses: &'a [UseEntry],
    pub local_globs: &'a [RawPath],
    pub self_item: Option<ItemIndex>,
}

/// All scopes of the workspace.
#[derive(Debug, Default)]
pub(crate) struct Scopes {
    pub modules: Vec<ModuleScope>,
    module_index: FastMap<(usize, Vec<String>), ModuleIndex>,
    pub items: Vec<ItemEntry>,
    /// `(file, raw item)` to item index.
    pub item_of: FastMap<(usize, usize), ItemIndex>,
    /// `(file, raw module)` to module index.
    pub module_of: FastMap<(usize, usize), ModuleIndex>,
    /// Methods by self type, then by name (two levels, so a lookup needs no owned key).
    methods: FastMap<ItemIndex, FastMap<String, ItemIndex>>,
    /// Methods by name alone, for calls on receivers of unknown type.
    pub methods_by_name: FastMap<String, Vec<ItemIndex>>,
    crate_roots: FastMap<String, ModuleIndex>,
    /// Every name some module brings in itself (an item, a child module, a `use` alias, an
    /// enum variant): a glob only passes names on, so a name outside this set is found nowhere.
    provided: FastSet<String>,
    /// Cut-free results of names found (or not) through `use` entries and globs, per module.
    memo: RwLock<FastMap<ModuleIndex, FastMap<String, Memoized>>>,
    /// Results of lookups whose search met a cut, per `(module, depth)` they started at.
    cut_memo: RwLock<FastMap<(ModuleIndex, usize), NamesFound>>,
    dependencies: Vec<Vec<String>>,
    enum_variants: FastMap<ItemIndex, Vec<String>>,
}

/// A cut-free lookup result and how deep its search went below the lookup.
#[derive(Debug)]
struct Memoized {
    found: Option<Resolution>,
    /// The deepest depth the search reached, less the lookup's own depth.
    height: u8,
}

const MAX_DEPTH: usize = 16;

/// What lookups of names found (or not), by name.
type NamesFound = FastMap<String, Option<Resolution>>;
type PrivateMemo = FastMap<ModuleIndex, NamesFound>;

thread_local! {
    /// The `(module, name)` lookups under way on this thread, to cut import cycles.
    static IN_PROGRESS: RefCell<Vec<(ModuleIndex, String)>> = const { RefCell::new(Vec::new()) };
    /// How many shared-memo lookups are under way on this thread (0: the next one starts a
    /// search of its own).
    static NESTING: Cell<usize> = const { Cell::new(0) };
    /// Set when the search under way met a cut (a lookup already under way, or the depth limit).
    static CUT: Cell<bool> = const { Cell::new(false) };
    /// The deepest depth the search under way has reached.
    static REACHED: Cell<usize> = const { Cell::new(0) };
    /// Set while a search that met a cut is done again with [`PRIVATE_MEMO`].
    static PRIVATE: Cell<bool> = const { Cell::new(false) };
    /// The memo of that search, emptied when it ends.
    static PRIVATE_MEMO: RefCell<PrivateMemo> = RefCell::new(PrivateMemo::default());
}

/// Marks `key` as under way on this thread; false when it already is (an import cycle).
fn enter(key: &(ModuleIndex, String)) -> bool {
    IN_PROGRESS.with(|stack| {
        let mut stack = stack.borrow_mut();
        if stack.contains(key) {
            return false;
        }
        stack.push(key.clone());
        true
    })
}

/// Ends what [`enter`] began.
fn leave() {
    IN_PROGRESS.with(|stack| stack.borrow_mut().pop());
}

/// Notes that the search reached `depth`; false (and the search is cut) past the limit.
fn checkpoint(depth: usize) -> bool {
    if depth > MAX_DEPTH {
        CUT.set(true);
        return false;
    }
    REACHED.set(REACHED.get().max(depth));
    true
}

impl Scopes {
    fn module(&mut self, crate_index: usize, path: &[String]) -> ModuleIndex {
        if let Some(&index) = self.module_index.get(&(crate_index, path.to_vec())) {
            return index;
        }
        let parent = if path.is_empty() {
            None
        } else {
            Some(self.module(crate_index, &path[..path.len() - 1]))
        };
        let index = self.modules.len();
        self.modules.push(ModuleScope {
            crate_index,
            path: path.to_vec(),
            parent,
            ..ModuleScope::default()
        });
        self.module_index
            .insert((crate_index, path.to_vec()), index);
        if let (Some(parent), Some(name)) = (parent, path.last()) {
            self.modules[parent].children.insert(name.clone(), index);
        }
        index
    }

    /// Builds the scopes of every file.
    pub(crate) fn build(crates: &[CrateInfo], places: &[FilePlace], facts: &[FileFacts]) -> Scopes {
        let mut scopes = Scopes {
            dependencies: crates.iter().map(|c| c.dependencies.clone()).collect(),
            ..Scopes::default()
        };
        // One entry per item of every file: sized once rather than grown by doubling.
        let item_count = facts.iter().map(|f| f.items.len()).sum();
        scopes.items.reserve_exact(item_count);
        scopes.item_of.reserve(item_count);
        for (crate_index, info) in crates.iter().enumerate() {
            let root = scopes.module(crate_index, &[]);
            // Libraries are what other crates name; a binary's name never is a path root.
            if info.kind == CrateKind::Lib || !scopes.crate_roots.contains_key(&info.name) {
                scopes.crate_roots.insert(info.name.clone(), root);
            }
        }
        for (file, (place, file_facts)) in places.iter().zip(facts).enumerate() {
            for (raw_module, module) in file_facts.modules.iter().enumerate() {
                let mut path = place.module.clone();
                path.extend(module.inline_path.iter().cloned());
                let index = scopes.module(place.crate_index, &path);
                scopes.module_of.insert((file, raw_module), index);
                let scope = &mut scopes.modules[index];
                for entry in &module.uses {
                    scope
                        .uses
                        .entry(entry.alias.clone())
                        .or_insert_with(|| entry.path.clone());
                }
                scope.globs.extend(module.globs.iter().cloned());
            }
            for (raw, item) in file_facts.items.iter().enumerate() {
                let module = scopes.module_of[&(file, item.module)];
                let index = scopes.items.len();
                scopes.items.push(ItemEntry {
                    file,
                    raw,
                    module,
                    kind: item.kind,
                    name: item.name.clone(),
                    self_item: None,
                });
                scopes.item_of.insert((file, raw), index);
                if item.kind != ItemKind::Method {
                    scopes.modules[module]
                        .items
                        .entry(item.name.clone())
                        .or_default()
                        .push(index);
                }
                if item.kind == ItemKind::Enum {
                    scopes
                        .enum_variants
                        .insert(index, item.extras().variants.clone());
                }
            }
        }
        let mut provided = FastSet::default();
        for scope in &scopes.modules {
            provided.extend(scope.items.keys().cloned());
            provided.extend(scope.children.keys().cloned());
            provided.extend(scope.uses.keys().cloned());
        }
        provided.extend(scopes.enum_variants.values().flatten().cloned());
        scopes.provided = provided;
        // Methods hang off their self type, which needs the scopes above to resolve.
        for index in 0..scopes.items.len() {
            if scopes.items[index].kind != ItemKind::Method {
                continue;
            }
            let entry = &scopes.items[index];
            let raw = &facts[entry.file].items[entry.raw];
            let Some(owner) = facts[entry.file].owner_of(raw) else {
                continue;
            };
            let context = Context {
                module: entry.module,
                local_uses: &[],
                local_globs: &[],
                self_item: None,
            };
            let self_item = match scopes.resolve(&context, &owner.self_type) {
                Resolution::Item(target) if scopes.items[target].kind.is_type() => Some(target),
                _ => None,
            };
            scopes.items[index].self_item = self_item;
            let name = scopes.items[index].name.clone();
            if let Some(self_item) = self_item {
                scopes
                    .methods
                    .entry(self_item)
                    .or_default()
                    .entry(name.clone())
                    .or_insert(index);
            }
            scopes.methods_by_name.entry(name).or_default().push(index);
        }
        scopes
    }

    /// The method `name` of the type `item`, when the workspace defines one.
    pub(crate) fn method(&self, item: ItemIndex, name: &str) -> Option<ItemIndex> {
        self.methods.get(&item)?.get(name).copied()
    }

    /// Resolves a path written in `context`.
    pub(crate) fn resolve<S: AsRef<str>>(&self, context: &Context<'_>, path: &[S]) -> Resolution {
        self.resolve_at(context, path, 0)
    }

    fn resolve_at<S: AsRef<str>>(
        &self,
        context: &Context<'_>,
        path: &[S],
        depth: usize,
    ) -> Resolution {
        let Some((first, rest)) = path.split_first() else {
            return Resolution::Unknown;
        };
        if !checkpoint(depth) {
            return Resolution::Unknown;
        }
        if first.as_ref() == "::" {
            // `::name::...` names a crate, never a local item.
            let Some((name, rest)) = rest.split_first() else {
                return Resolution::Unknown;
            };
            let start = self.crate_named(context.module, name.as_ref());
            return self.walk(start, rest, depth);
        }
        let start = self.resolve_first(context, first.as_ref(), rest, depth);
        self.walk(start, rest, depth)
    }

    fn resolve_first<S: AsRef<str>>(
        &self,
        context: &Context<'_>,
        first: &str,
        rest: &[S],
        depth: usize,
    ) -> Resolution {
        let module = context.module;
        match first {
            "crate" => return Resolution::Module(self.crate_root(module)),
            "self" => return Resolution::Module(module),
            "super" => return Resolution::Module(self.modules[module].parent.unwrap_or(module)),
            "Self" => {
                return context
                    .self_item
                    .map_or(Resolution::Unknown, Resolution::Item);
            }
            _ => {}
        }
        if let Some(entry) = context.local_uses.iter().rev().find(|e| e.alias == first) {
            let inner = Context {
                local_uses: &[],
                local_globs: &[],
                ..*context
            };
            return self.resolve_at(&inner, &entry.path, depth + 1);
        }
        // A segment followed by more segments is a module, a type or a crate, never a value.
        let type_namespace = !rest.is_empty();
        if let Some(found) = self.lookup(module, first, depth)
            && !(type_namespace && self.is_value(&found))
        {
            return found;
        }
        for glob in context.local_globs {
            let inner = Context {
                local_uses: &[],
                local_globs: &[],
                ..*context
            };
            if let Some(found) =
                self.lookup_in_target(self.resolve_at(&inner, glob, depth + 1), first, depth)
            {
                return found;
            }
        }
        self.crate_named(module, first)
    }

    /// A crate name as a path root: a workspace library, std, or a declared dependency.
    fn crate_named(&self, module: ModuleIndex, name: &str) -> Resolution {
        if let Some(&root) = self.crate_roots.get(name) {
            return Resolution::Module(root);
        }
        if matches!(name, "std" | "core" | "alloc") {
            return Resolution::External(name.to_string());
        }
        let crate_index = self.modules[module].crate_index;
        if self
            .dependencies
            .get(crate_index)
            .is_some_and(|deps| deps.iter().any(|d| d == name))
        {
            return Resolution::External(name.to_string());
        }
        Resolution::Unknown
    }

    fn is_value(&self, resolution: &Resolution) -> bool {
        matches!(resolution, Resolution::Item(item)
            if matches!(self.items[*item].kind, ItemKind::Function | ItemKind::Const | ItemKind::Static))
    }

    fn crate_root(&self, mut module: ModuleIndex) -> ModuleIndex {
        while let Some(parent) = self.modules[module].parent {
            module = parent;
        }
        module
    }

    /// A name in a module: its items, child modules, `use` entries, then glob imports.
    fn lookup(&self, module: ModuleIndex, name: &str, depth: usize) -> Option<Resolution> {
        if !checkpoint(depth) {
            return None;
        }
        let scope = &self.modules[module];
        if let Some(items) = scope.items.get(name) {
            // Prefer a type when a type and a value share the name (`struct Id` + `fn Id`).
            let chosen = items
                .iter()
                .find(|&&i| self.items[i].kind.is_type())
                .or_else(|| items.first())
                .copied()?;
            return Some(Resolution::Item(chosen));
        }
        if let Some(&child) = scope.children.get(name) {
            return Some(Resolution::Module(child));
        }
        if scope.uses.is_empty() && scope.globs.is_empty() {
            return None;
        }
        // Through `use` entries and globs the search can fan out (glob re-exports of glob
        // re-exports) and loop: see the module doc for how it stays order-independent.
        if PRIVATE.get() {
            return self.lookup_private(module, name, depth);
        }
        if CUT.get() {
            // This search already depends on where it started: unwind, it is done again.
            return None;
        }
        if let Some(known) = self.memo_hit(module, name, depth) {
            return known;
        }
        if !self.provided.contains(name) {
            // Found nowhere (checked after the memo, which never holds such a name, because
            // most lookups hit the memo): no search, nothing to memoize.
            return None;
        }
        if NESTING.get() > 0 {
            return self.lookup_shared(module, name, depth);
        }
        // A lookup of its own (no other under way on this thread).
        if let Some(known) = self
            .cut_memo
            .read()
            .ok()
            .and_then(|memo| memo.get(&(module, depth))?.get(name).cloned())
        {
            return known;
        }
        let found = self.lookup_shared(module, name, depth);
        if !CUT.replace(false) {
            return found;
        }
        PRIVATE.set(true);
        let found = self.lookup_private(module, name, depth);
        PRIVATE.set(false);
        CUT.set(false);
        PRIVATE_MEMO.with(|memo| memo.borrow_mut().clear());
        if let Ok(mut memo) = self.cut_memo.write() {
            memo.entry((module, depth))
                .or_default()
                .insert(name.to_string(), found.clone());
        }
        found
    }

    /// A result of the shared memo, when it holds one whose search fits in the depth left.
    fn memo_hit(
        &self,
        module: ModuleIndex,
        name: &str,
        depth: usize,
    ) -> Option<Option<Resolution>> {
        let memo = self.memo.read().ok()?;
        let known = memo.get(&module)?.get(name)?;
        let reach = depth + known.height as usize;
        if reach > MAX_DEPTH {
            // Searched afresh here, the chain would be cut: search afresh, so it is.
            return None;
        }
        REACHED.set(REACHED.get().max(reach));
        Some(known.found.clone())
    }

    /// A lookup that may use and fill the shared memo: what it finds is memoized only when
    /// nothing was cut on the way, so it is the cut-free result (see the module doc).
    fn lookup_shared(&self, module: ModuleIndex, name: &str, depth: usize) -> Option<Resolution> {
        let key = (module, name.to_string());
        if !enter(&key) {
            CUT.set(true);
            return None;
        }
        NESTING.set(NESTING.get() + 1);
        let outer = REACHED.replace(depth);
        let found = self.lookup_imported(module, name, depth);
        let reached = REACHED.get();
        REACHED.set(outer.max(reached));
        NESTING.set(NESTING.get() - 1);
        leave();
        if !CUT.get()
            && let Ok(mut memo) = self.memo.write()
        {
            let height = u8::try_from(reached - depth).unwrap_or(u8::MAX);
            memo.entry(module).or_default().insert(
                key.1,
                Memoized {
                    found: found.clone(),
                    height,
                },
            );
        }
        found
    }

    /// A lookup inside a search that met a cut: cycles are cut where they close and every
    /// result is memoized, but only for the one search under way on this thread.
    fn lookup_private(&self, module: ModuleIndex, name: &str, depth: usize) -> Option<Resolution> {
        if !self.provided.contains(name) {
            return None;
        }
        if let Some(known) =
            PRIVATE_MEMO.with(|memo| memo.borrow().get(&module)?.get(name).cloned())
        {
            return known;
        }
        let key = (module, name.to_string());
        if !enter(&key) {
            return None;
        }
        let found = self.lookup_imported(module, name, depth);
        leave();
        PRIVATE_MEMO.with(|memo| {
            memo.borrow_mut()
                .entry(module)
                .or_default()
                .insert(key.1, found.clone());
        });
        found
    }

    /// The slow half of [`Scopes::lookup`]: a name brought in by `use` or a glob import.
    fn lookup_imported(&self, module: ModuleIndex, name: &str, depth: usize) -> Option<Resolution> {
        let scope = &self.modules[module];
        let context = Context {
            module,
            local_uses: &[],
            local_globs: &[],
            self_item: None,
        };
        if let Some(path) = scope.uses.get(name) {
            // `use foo::bar` inside a module that also calls its own item `foo` would loop.
            if !(path.len() == 1 && path[0] == name) {
                let found = self.resolve_at(&context, path, depth + 1);
                if found != Resolution::Unknown {
                    return Some(found);
                }
            } else {
                return Some(self.crate_named(module, name));
            }
        }
        for glob in &scope.globs {
            let target = self.resolve_at(&context, glob, depth + 1);
            if let Some(found) = self.lookup_in_target(target, name, depth + 1) {
                return Some(found);
            }
        }
        None
    }

    fn lookup_in_target(&self, target: Resolution, name: &str, depth: usize) -> Option<Resolution> {
        match target {
            Resolution::Module(module) => self.lookup(module, name, depth + 1),
            Resolution::Item(item) => self
                .enum_variants
                .get(&item)
                .filter(|variants| variants.iter().any(|v| v == name))
                .map(|_| Resolution::Item(item)),
            _ => None,
        }
    }

    /// Follows the remaining segments from a resolved start.
    fn walk<S: AsRef<str>>(&self, start: Resolution, rest: &[S], depth: usize) -> Resolution {
        let mut current = start;
        for segment in rest {
            let segment = segment.as_ref();
            current = match current {
                Resolution::Module(module) => match self.lookup(module, segment, depth + 1) {
                    Some(found) => found,
                    None => return Resolution::Unknown,
                },
                Resolution::Item(item) => {
                    // `Type::method`; otherwise an associated item or variant we do not model:
                    // the type itself is what the path couples to.
                    if let Some(method) = self.method(item, segment) {
                        Resolution::Item(method)
                    } else {
                        return Resolution::Item(item);
                    }
                }
                other => return other,
            };
        }
        current
    }
}
