//! Per-file facts: what one file says, before any name is resolved against the rest of the
//! workspace.
//!
//! Parsing is the expensive, parallel step; it produces these plain values and drops the syntax
//! tree at once, so memory stays proportional to facts rather than to syntax. Paths are kept as
//! written (segments), to be resolved once every file's module path is known.

use std::ops::Range;

use crate::model::{Access, Framework, ItemKind, StatementKind};
use crate::sql::TableDeclaration;

/// A path as written, one string per segment (`crate`, `super`, `Self` included).
pub(crate) type RawPath = Vec<String>;

/// The text of the paths and names a file's bodies mention, kept back to back in one buffer.
///
/// References and method calls are most of what the facts hold, and they are kept for every
/// file until the whole workspace is parsed. A `Vec<String>` per path cost one allocation per
/// segment plus one per path; here a path is two numbers and its text is appended to the
/// file's buffer, so holding the facts of a large tree costs a fraction of the memory (and of
/// the allocator calls).
///
/// Offsets are `u32`: a file would need gigabytes of path text to exceed them. Should one do,
/// the arena stops taking segments and every later path comes out empty (dropped, as if the
/// file had not mentioned it) rather than wrong.
#[derive(Debug, Clone, Default)]
pub(crate) struct PathArena {
    text: String,
    /// End offset in `text` of each segment; a segment starts where the one before it ends.
    ends: Vec<u32>,
    /// Set once a segment did not fit the offsets.
    full: bool,
}

/// A path stored in a [`PathArena`]: `len` segments from segment `first` on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PathId {
    first: u32,
    len: u32,
}

impl PathId {
    /// Whether the path has no segment.
    pub(crate) fn is_empty(self) -> bool {
        self.len == 0
    }
}

/// Paths longer than this are decoded into a `Vec` rather than on the stack.
const INLINE_SEGMENTS: usize = 16;

impl PathArena {
    /// Starts a new path; append its segments with [`PathArena::push_segment`] or
    /// [`PathArena::push_display`], then close it with [`PathArena::finish`].
    pub(crate) fn start(&self) -> usize {
        self.ends.len()
    }

    /// Appends one segment to the path under way.
    pub(crate) fn push_segment(&mut self, segment: &str) {
        if self.full {
            return;
        }
        self.text.push_str(segment);
        self.end_segment();
    }

    /// Appends one segment written by its `Display` (an identifier), without a `String` of
    /// its own.
    pub(crate) fn push_display(&mut self, segment: &dyn std::fmt::Display) {
        use std::fmt::Write as _;
        if self.full {
            return;
        }
        let _ = write!(self.text, "{segment}");
        self.end_segment();
    }

    fn end_segment(&mut self) {
        match u32::try_from(self.text.len()) {
            Ok(end) if self.ends.len() < u32::MAX as usize => self.ends.push(end),
            _ => self.full = true,
        }
    }

    /// The path made of the segments pushed since `start` (empty once the arena is full).
    pub(crate) fn finish(&self, start: usize) -> PathId {
        match (u32::try_from(start), u32::try_from(self.ends.len() - start)) {
            (Ok(first), Ok(len)) if !self.full => PathId { first, len },
            _ => PathId { first: 0, len: 0 },
        }
    }

    /// Stores a whole path.
    pub(crate) fn push_path<S: AsRef<str>>(&mut self, segments: &[S]) -> PathId {
        let start = self.start();
        for segment in segments {
            self.push_segment(segment.as_ref());
        }
        self.finish(start)
    }

    /// One segment's text.
    fn segment(&self, index: usize) -> &str {
        let begin = index
            .checked_sub(1)
            .and_then(|before| self.ends.get(before))
            .map_or(0, |&end| end as usize);
        let end = self.ends.get(index).map_or(begin, |&end| end as usize);
        self.text.get(begin..end).unwrap_or_default()
    }

    /// The text of a one-segment path (a method's name).
    pub(crate) fn name(&self, id: PathId) -> &str {
        if id.len == 0 {
            return "";
        }
        self.segment(id.first as usize)
    }

    /// Calls `f` with the path's segments, decoded on the stack when the path is short.
    pub(crate) fn with_segments<R>(&self, id: PathId, f: impl FnOnce(&[&str]) -> R) -> R {
        let (first, len) = (id.first as usize, id.len as usize);
        if len <= INLINE_SEGMENTS {
            let mut segments = [""; INLINE_SEGMENTS];
            for (offset, slot) in segments[..len].iter_mut().enumerate() {
                *slot = self.segment(first + offset);
            }
            f(&segments[..len])
        } else {
            let segments: Vec<&str> = (first..first + len)
                .map(|index| self.segment(index))
                .collect();
            f(&segments)
        }
    }
}

/// How a raw path is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RawRefKind {
    /// Called: `f(x)`, `Type::new()`.
    Call,
    /// In a type position, a struct literal or a pattern.
    Type,
    /// A value: a function passed along, a const, an enum variant, a macro.
    Value,
    /// A `use` declaration.
    Import,
}

/// One path occurrence.
#[derive(Debug, Clone)]
pub(crate) struct RawRef {
    /// The path, in the file's [`FileFacts::paths`].
    pub path: PathId,
    pub kind: RawRefKind,
    pub line: u32,
    /// Inside the arguments of diesel's `insert_into`, `update` or `delete`.
    pub diesel_write: bool,
}

/// A method call `receiver.name(...)`.
#[derive(Debug, Clone)]
pub(crate) struct RawMethodCall {
    /// The method's name: a one-segment path in the file's [`FileFacts::paths`].
    pub name: PathId,
    pub line: u32,
    /// The receiver is `self`, so the method belongs to the enclosing impl's type if it has it.
    pub on_self: bool,
    /// The receiver's type when the body says it: a typed parameter or `let`, a struct literal,
    /// or a `Type::constructor(...)` call. In the file's [`FileFacts::paths`].
    pub receiver_type: Option<PathId>,
}

/// Where a SQL literal was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RawSqlOrigin {
    QueryCall,
    Literal,
}

/// A table access found in a literal of this item.
#[derive(Debug, Clone)]
pub(crate) struct RawSqlAccess {
    pub table: String,
    pub access: Access,
    pub statement: StatementKind,
    pub line: u32,
    pub origin: RawSqlOrigin,
}

/// A route registration or an inclusion of another function's routes, inside one function.
#[derive(Debug, Clone)]
pub(crate) enum RawRouteFragment {
    /// `.route("/p", get(h))` and friends; `path` has this function's local prefixes applied.
    Route {
        method: String,
        path: String,
        handler: Option<RawPath>,
        handler_name: String,
        line: u32,
        framework: Framework,
    },
    /// `.nest("/p", other())`, `.service(handler_fn)`, `.configure(f)`, `mount("/p", routes![f])`:
    /// the target function's routes (or route attribute) apply under `prefix`.
    Include {
        prefix: String,
        target: RawPath,
        line: u32,
    },
}

/// A route attribute on a function: `#[get("/p")]`.
#[derive(Debug, Clone)]
pub(crate) struct RouteAttribute {
    pub method: String,
    pub path: String,
    pub line: u32,
}

/// `use` entry: `alias` stands for `path`.
#[derive(Debug, Clone)]
pub(crate) struct UseEntry {
    pub alias: String,
    pub path: RawPath,
}

/// The impl or trait around a method.
#[derive(Debug, Clone)]
pub(crate) struct RawOwner {
    /// Self type path as written (the trait's name for a trait's provided method).
    pub self_type: RawPath,
    pub trait_path: Option<RawPath>,
}

/// One item defined in the file.
#[derive(Debug, Clone)]
pub(crate) struct RawItem {
    pub name: String,
    pub kind: ItemKind,
    pub line: u32,
    pub end_line: u32,
    pub public: bool,
    /// Index into [`FileFacts::modules`].
    pub module: usize,
    /// Index into [`FileFacts::owners`]: the impl or trait around a method.
    pub owner: Option<usize>,
    /// The function's references: a range of [`FileFacts::refs`] (empty for other items).
    pub refs: Range<usize>,
    /// The function's method calls: a range of [`FileFacts::method_calls`].
    pub method_calls: Range<usize>,
    pub sql: Vec<RawSqlAccess>,
    /// What few items have, behind one pointer (see [`RawItem::extras`]).
    pub extras: Option<Box<RawItemExtras>>,
}

/// The parts of an item that most items lack: routes, `use` declarations in bodies, enum
/// variants. Kept apart so that the many items without them stay small (every item of every
/// file is held until the whole tree is parsed).
#[derive(Debug, Clone, Default)]
pub(crate) struct RawItemExtras {
    pub routes: Vec<RawRouteFragment>,
    pub route_attributes: Vec<RouteAttribute>,
    /// `use` declarations inside the body.
    pub local_uses: Vec<UseEntry>,
    pub local_globs: Vec<RawPath>,
    /// For enums: the variant names (so glob imports of variants resolve to the enum).
    pub variants: Vec<String>,
}

static NO_EXTRAS: RawItemExtras = RawItemExtras {
    routes: Vec::new(),
    route_attributes: Vec::new(),
    local_uses: Vec::new(),
    local_globs: Vec::new(),
    variants: Vec::new(),
};

impl RawItem {
    /// The item's routes, body `use`s and variants (all empty for most items).
    pub(crate) fn extras(&self) -> &RawItemExtras {
        self.extras.as_deref().unwrap_or(&NO_EXTRAS)
    }

    /// The same, to fill in; allocated on first use.
    pub(crate) fn extras_mut(&mut self) -> &mut RawItemExtras {
        self.extras.get_or_insert_with(Box::default)
    }
}

/// A module scope of the file: index 0 is the file's own module, others are inline `mod x {}`.
#[derive(Debug, Clone, Default)]
pub(crate) struct RawModule {
    /// Names of the inline modules from the file's module down to this one.
    pub inline_path: Vec<String>,
    pub uses: Vec<UseEntry>,
    pub globs: Vec<RawPath>,
}

/// An out-of-line `mod name;` declaration.
#[derive(Debug, Clone)]
pub(crate) struct ModDeclaration {
    /// Index of the module scope holding the declaration.
    pub module: usize,
    pub name: String,
    /// Value of a `#[path = "..."]` attribute.
    pub path_attribute: Option<String>,
    /// Declared under `#[cfg(test)]`: the file it names is test code.
    pub test_only: bool,
}

/// A diesel `table!` block.
#[derive(Debug, Clone)]
pub(crate) struct DieselTable {
    pub name: String,
    pub columns: Vec<(String, String)>,
    pub primary_key: Vec<String>,
    pub line: u32,
}

/// A diesel `joinable!(child -> parent (column))`.
#[derive(Debug, Clone)]
pub(crate) struct DieselJoin {
    pub child: String,
    pub parent: String,
    pub column: String,
}

/// A DDL statement found in a literal, with its absolute line.
#[derive(Debug, Clone)]
pub(crate) struct LocatedDeclaration {
    pub declaration: TableDeclaration,
    pub line: u32,
}

/// Everything one `.rs` file says.
#[derive(Debug, Clone, Default)]
pub(crate) struct FileFacts {
    pub lines: u32,
    pub parsed: bool,
    pub items: Vec<RawItem>,
    pub modules: Vec<RawModule>,
    pub mod_declarations: Vec<ModDeclaration>,
    /// References outside function bodies, with the index of the item holding them.
    pub file_refs: Vec<(Option<usize>, usize, RawRef)>,
    pub declarations: Vec<LocatedDeclaration>,
    pub diesel_tables: Vec<DieselTable>,
    pub diesel_joins: Vec<DieselJoin>,
    /// Problems, each with an optional line.
    pub problems: Vec<(Option<u32>, String)>,
    /// The text of the paths of [`RawRef`]s and [`RawMethodCall`]s.
    pub paths: PathArena,
    /// References made in function bodies, function after function (a body's references are
    /// contiguous: functions do not nest in the facts). One vector per file rather than one
    /// per function: fewer allocations, and one spare capacity instead of one per function.
    pub refs: Vec<RawRef>,
    /// Method calls made in function bodies, function after function.
    pub method_calls: Vec<RawMethodCall>,
    /// Impl blocks and traits, each once however many methods it holds.
    pub owners: Vec<RawOwner>,
}

impl FileFacts {
    /// The facts of a file of `lines` lines before anything in it is found: its root module only.
    pub(crate) fn empty(lines: u32) -> Self {
        FileFacts {
            lines,
            modules: vec![RawModule::default()],
            ..FileFacts::default()
        }
    }

    /// Gives back the spare capacity of the vectors that grew while the file was visited: the
    /// facts of every file are held until the whole tree is parsed.
    pub(crate) fn shrink_to_fit(&mut self) {
        self.refs.shrink_to_fit();
        self.method_calls.shrink_to_fit();
        self.file_refs.shrink_to_fit();
        self.items.shrink_to_fit();
        self.paths.text.shrink_to_fit();
        self.paths.ends.shrink_to_fit();
    }

    /// The references made in an item's body.
    pub(crate) fn refs_of(&self, item: &RawItem) -> &[RawRef] {
        self.refs.get(item.refs.clone()).unwrap_or_default()
    }

    /// The method calls made in an item's body.
    pub(crate) fn method_calls_of(&self, item: &RawItem) -> &[RawMethodCall] {
        self.method_calls
            .get(item.method_calls.clone())
            .unwrap_or_default()
    }

    /// The impl or trait around a method.
    pub(crate) fn owner_of(&self, item: &RawItem) -> Option<&RawOwner> {
        self.owners.get(item.owner?)
    }
}
