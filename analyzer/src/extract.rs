//! One parsed file to [`FileFacts`]: a `syn` visitor that records items, paths, method calls,
//! SQL literals and route registrations, attributing each to the function (or item) around it.
//!
//! Why a single pass: parsing dominates the cost of the whole model, and walking the tree once
//! keeps the model build close to the cost of a bare parse.

use std::fmt::Write as _;

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::punctuated::Punctuated;
use syn::visit::{self, Visit};
use syn::{Attribute, Expr, ExprLit, Lit, Token, UseTree, Visibility};

use crate::facts::{
    FileFacts, LocatedDeclaration, ModDeclaration, PathArena, PathId, RawItem, RawMethodCall,
    RawModule, RawOwner, RawPath, RawRef, RawRefKind, RawSqlAccess, RawSqlOrigin, UseEntry,
};
use crate::fast_hash::{FastMap, FastSet};
use crate::model::{ItemKind, SqlDialect};
use crate::{diesel, routes, sql};

/// Calls and methods whose string argument is SQL.
fn is_query_function(name: &[u8]) -> bool {
    matches!(
        name,
        b"query"
            | b"query_as"
            | b"query_scalar"
            | b"query_with"
            | b"query_as_with"
            | b"query_scalar_with"
            | b"execute"
            | b"execute_batch"
            | b"batch_execute"
            | b"prepare"
            | b"prepare_cached"
            | b"query_row"
            | b"query_map"
            | b"query_one"
            | b"query_opt"
            | b"query_raw"
            | b"query_and_then"
            | b"sql_query"
            | b"simple_query"
            | b"exec"
            | b"exec_drop"
            | b"exec_first"
            | b"exec_map"
            | b"query_first"
            | b"query_drop"
            | b"raw_sql"
            | b"execute_unprepared"
            | b"from_sql_and_values"
            | b"prepare_typed"
            | b"copy_in"
    )
}

/// Names a lone path segment can take that never denote a workspace item: primitives and the
/// prelude. (`Result` is not here: workspaces often alias it to their own error type.)
fn is_prelude_name(name: &[u8]) -> bool {
    matches!(
        name,
        b"i8"
            | b"i16"
            | b"i32"
            | b"i64"
            | b"i128"
            | b"isize"
            | b"u8"
            | b"u16"
            | b"u32"
            | b"u64"
            | b"u128"
            | b"usize"
            | b"f32"
            | b"f64"
            | b"bool"
            | b"char"
            | b"str"
            | b"String"
            | b"Vec"
            | b"Option"
            | b"Some"
            | b"None"
            | b"Ok"
            | b"Err"
            | b"Box"
            | b"self"
            | b"Default"
            | b"Clone"
            | b"Copy"
            | b"Send"
            | b"Sync"
            | b"Sized"
            | b"ToString"
    )
}

/// sqlx macros whose first string literal is SQL.
const QUERY_MACROS: [&str; 6] = [
    "query",
    "query_as",
    "query_scalar",
    "query_unchecked",
    "query_as_unchecked",
    "query_scalar_unchecked",
];

/// Macros whose literals are messages, never SQL.
const MESSAGE_MACROS: [&str; 22] = [
    "format",
    "print",
    "println",
    "eprint",
    "eprintln",
    "write",
    "writeln",
    "panic",
    "assert",
    "assert_eq",
    "assert_ne",
    "debug_assert",
    "info",
    "warn",
    "error",
    "debug",
    "trace",
    "bail",
    "anyhow",
    "ensure",
    "unreachable",
    "todo",
];

/// Macros other than the message ones whose arguments are comma-separated expressions.
const EXPRESSION_MACROS: [&str; 8] = [
    "vec", "routes", "matches", "dbg", "ready", "json", "try_join", "join",
];

/// Diesel functions whose arguments name the table written.
fn is_diesel_write(name: &[u8]) -> bool {
    matches!(
        name,
        b"insert_into" | b"update" | b"delete" | b"replace_into" | b"insert_or_ignore_into"
    )
}

/// An identifier's text, held on the stack when it is short (nearly always). The visitor looks
/// at far more names than it keeps, and `Ident::to_string` would allocate for each one.
pub(crate) struct IdentText {
    inline: [u8; IdentText::INLINE],
    len: usize,
    long: Option<String>,
}

impl IdentText {
    const INLINE: usize = 48;

    pub(crate) fn of(ident: &proc_macro2::Ident) -> IdentText {
        let mut text = IdentText {
            inline: [0; IdentText::INLINE],
            len: 0,
            long: None,
        };
        let _ = write!(text, "{ident}");
        text
    }

    /// The bytes of the name: enough to compare it, without the UTF-8 check of `as_str`.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        match &self.long {
            Some(long) => long.as_bytes(),
            None => &self.inline[..self.len],
        }
    }

    /// Whether the name starts with a lower-case letter or `_` (a binding, not a type or a
    /// variant by convention).
    pub(crate) fn starts_lowercase(&self) -> bool {
        match self.as_bytes().first() {
            Some(byte) if byte.is_ascii() => byte.is_ascii_lowercase() || *byte == b'_',
            Some(_) => self.as_str().starts_with(char::is_lowercase),
            None => false,
        }
    }

    /// Whether the name starts with an upper-case letter (a type by convention).
    pub(crate) fn starts_uppercase(&self) -> bool {
        match self.as_bytes().first() {
            Some(byte) if byte.is_ascii() => byte.is_ascii_uppercase(),
            Some(_) => self.as_str().starts_with(char::is_uppercase),
            None => false,
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        match &self.long {
            Some(long) => long,
            // Only whole `&str` pieces are copied in, so the bytes are always valid UTF-8.
            None => std::str::from_utf8(&self.inline[..self.len]).unwrap_or_default(),
        }
    }
}

impl std::fmt::Write for IdentText {
    fn write_str(&mut self, piece: &str) -> std::fmt::Result {
        if let Some(long) = &mut self.long {
            long.push_str(piece);
        } else if self.len + piece.len() <= IdentText::INLINE {
            self.inline[self.len..self.len + piece.len()].copy_from_slice(piece.as_bytes());
            self.len += piece.len();
        } else {
            let mut long = String::with_capacity(self.len + piece.len());
            long.push_str(std::str::from_utf8(&self.inline[..self.len]).unwrap_or_default());
            long.push_str(piece);
            self.long = Some(long);
        }
        Ok(())
    }
}

/// The elements of a punctuated list. (`Punctuated::iter`, `first` and `last` box their
/// iterator, one allocation per call; the visitor calls them on every path it meets.)
pub(crate) fn each<T, P>(list: &Punctuated<T, P>) -> impl DoubleEndedIterator<Item = &T> {
    list.pairs().map(syn::punctuated::Pair::into_value)
}

/// The first element of a punctuated list, without [`Punctuated::first`]'s allocation.
pub(crate) fn first<T, P>(list: &Punctuated<T, P>) -> Option<&T> {
    list.get(0)
}

/// The last element of a punctuated list, without [`Punctuated::last`]'s allocation.
pub(crate) fn last<T, P>(list: &Punctuated<T, P>) -> Option<&T> {
    list.len().checked_sub(1).and_then(|index| list.get(index))
}

/// 1-based line of a span.
pub(crate) fn line_of(span: Span) -> u32 {
    u32::try_from(span.start().line).unwrap_or(u32::MAX)
}

fn end_line_of(span: Span) -> u32 {
    u32::try_from(span.end().line).unwrap_or(u32::MAX)
}

/// Line of a path's first token. (`Spanned::span` would print the path back into tokens to
/// join their spans, which costs as much as parsing it did.)
pub(crate) fn path_line(path: &syn::Path) -> u32 {
    let span = match (&path.leading_colon, first(&path.segments)) {
        (Some(colon), _) => colon.spans[0],
        (None, Some(segment)) => segment.ident.span(),
        (None, None) => return 0,
    };
    line_of(span)
}

/// The span closing a struct's or union's fields.
fn fields_end(fields: &syn::Fields, semi: Option<&Token![;]>) -> Span {
    match (semi, fields) {
        (Some(semi), _) => semi.span,
        (None, syn::Fields::Named(named)) => named.brace_token.span.close(),
        (None, syn::Fields::Unnamed(unnamed)) => unnamed.paren_token.span.close(),
        (None, syn::Fields::Unit) => Span::call_site(),
    }
}

fn path_segments(path: &syn::Path) -> RawPath {
    each(&path.segments).map(|s| s.ident.to_string()).collect()
}

/// Stores a path's segments in the file's arena.
fn store_path(arena: &mut PathArena, path: &syn::Path) -> PathId {
    let start = arena.start();
    for segment in each(&path.segments) {
        arena.push_display(&segment.ident);
    }
    arena.finish(start)
}

fn is_public(visibility: &Visibility) -> bool {
    !matches!(visibility, Visibility::Inherited)
}

/// `#[cfg(test)]` (also inside `all(...)`, but not `not(test)`).
fn is_test_only(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|attr| {
        if attr.path().is_ident("test") {
            return true;
        }
        if last(&attr.path().segments).is_some_and(|s| s.ident == "test") {
            return true;
        }
        if !attr.path().is_ident("cfg") {
            return false;
        }
        let tokens = match &attr.meta {
            syn::Meta::List(list) => list.tokens.to_string(),
            _ => return false,
        };
        let words: Vec<&str> = tokens
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|w| !w.is_empty())
            .collect();
        words.contains(&"test") && !words.contains(&"not")
    })
}

fn path_attribute(attrs: &[Attribute]) -> Option<String> {
    attrs.iter().find_map(|attr| match &attr.meta {
        syn::Meta::NameValue(nv) if nv.path.is_ident("path") => match &nv.value {
            Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            }) => Some(s.value()),
            _ => None,
        },
        _ => None,
    })
}

/// The string a SQL argument holds: a literal, `concat!` of literals, `&"..."`, `"...".to_string()`.
pub(crate) fn sql_text_of(expr: &Expr) -> Option<(String, u32)> {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Some((s.value(), line_of(s.span()))),
        Expr::Reference(r) => sql_text_of(&r.expr),
        Expr::Paren(p) => sql_text_of(&p.expr),
        Expr::Group(g) => sql_text_of(&g.expr),
        Expr::MethodCall(m) if m.args.is_empty() => sql_text_of(&m.receiver),
        Expr::Macro(m) if m.mac.path.is_ident("concat") => {
            let parts = m
                .mac
                .parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated)
                .ok()?;
            let mut text = String::new();
            for part in each(&parts) {
                match part {
                    Expr::Lit(ExprLit {
                        lit: Lit::Str(s), ..
                    }) => text.push_str(&s.value()),
                    Expr::Lit(ExprLit {
                        lit: Lit::Int(i), ..
                    }) => text.push_str(i.base10_digits()),
                    _ => return None,
                }
            }
            Some((text, path_line(&m.mac.path)))
        }
        _ => None,
    }
}

/// The first string literal among a macro's top-level tokens (sqlx's `query!(...)` family).
fn first_literal_in_tokens(tokens: &TokenStream) -> Option<(String, u32, usize)> {
    tokens.clone().into_iter().find_map(|tree| match tree {
        TokenTree::Literal(literal) => {
            let parsed: syn::Lit = syn::parse_str(&literal.to_string()).ok()?;
            match parsed {
                Lit::Str(s) => Some((
                    s.value(),
                    line_of(literal.span()),
                    literal.span().start().column,
                )),
                _ => None,
            }
        }
        _ => None,
    })
}

/// The visitor state.
struct Extractor {
    facts: FileFacts,
    dialect: SqlDialect,
    /// Current module scope (index into `facts.modules`).
    module: usize,
    /// Item that owns references found now.
    owner: Option<usize>,
    /// Whether `owner` is a function (references go to it) or not (to file references).
    in_function: bool,
    /// Impl or trait around the current item (index into `facts.owners`).
    impl_context: Option<usize>,
    diesel_write_depth: u32,
    message_macro_depth: u32,
    /// Literals already taken as SQL (by line and column), so the generic literal check skips them.
    consumed_literals: FastSet<(usize, usize)>,
    /// The current body calls a router-building method, so it is worth a route walk.
    saw_router_method: bool,
    /// Types of the current body's parameters and `let` bindings, where the code states them.
    local_types: FastMap<Vec<u8>, PathId>,
    /// Names bound by patterns in the current body (parameters, `let`, closures, arms).
    bound_names: FastSet<Vec<u8>>,
    /// SQL texts found so far, parsed once the file's items are visited (see
    /// [`Extractor::analyze_pending_sql`]).
    pending_sql: Vec<PendingSql>,
}

/// A text to hand to the SQL parser, with where it was found. A query call's argument is SQL
/// whatever sqlparser makes of it; any other literal counts only if it parses as a whole
/// statement.
struct PendingSql {
    text: String,
    line: u32,
    origin: RawSqlOrigin,
    owner: Option<usize>,
}

impl Extractor {
    /// Records a path unless it is a lone name that can never be a workspace item: a
    /// primitive, a prelude item or a binding of this body (a local variable, a parameter).
    /// Most paths in bodies are those, so checking before building the segments saves most of
    /// the allocations of the pass.
    fn push_path(&mut self, path: &syn::Path, kind: RawRefKind) {
        if path.leading_colon.is_none()
            && path.segments.len() == 1
            && let Some(segment) = first(&path.segments)
        {
            let text = IdentText::of(&segment.ident);
            let name = text.as_bytes();
            if !(is_prelude_name(name) || self.bound_names.contains(name)) {
                let id = self.facts.paths.push_path(&[text.as_str()]);
                self.push_ref(id, kind, line_of(segment.ident.span()));
            }
            return;
        }
        let id = store_path(&mut self.facts.paths, path);
        self.push_ref(id, kind, path_line(path));
    }

    fn push_ref(&mut self, path: PathId, kind: RawRefKind, line: u32) {
        if path.is_empty() {
            return;
        }
        // A lone name that is a primitive, a prelude item or a binding of this body (a local
        // variable, a parameter) can never be a workspace item; most paths in bodies are these,
        // so dropping them here keeps the facts small.
        let reference = RawRef {
            path,
            kind,
            line,
            diesel_write: self.diesel_write_depth > 0,
        };
        match (self.owner, self.in_function) {
            // The body under way: its range of `refs` is closed when the function ends.
            (Some(_), true) => self.facts.refs.push(reference),
            (owner, _) => self.facts.file_refs.push((owner, self.module, reference)),
        }
    }

    fn new_item(
        &mut self,
        name: String,
        kind: ItemKind,
        span_name: Span,
        end: Span,
        public: bool,
    ) -> usize {
        self.facts.items.push(RawItem {
            name,
            kind,
            line: line_of(span_name),
            end_line: end_line_of(end).max(line_of(span_name)),
            public,
            module: self.module,
            owner: None,
            refs: 0..0,
            method_calls: 0..0,
            sql: Vec::new(),
            extras: None,
        });
        self.facts.items.len() - 1
    }

    /// Runs `walk` with `item` as the owner of what it finds.
    fn within_item(&mut self, item: usize, function: bool, walk: impl FnOnce(&mut Self)) {
        let saved = (self.owner, self.in_function);
        self.owner = Some(item);
        self.in_function = function;
        walk(self);
        (self.owner, self.in_function) = saved;
    }

    /// Notes a text found at `line` for SQL analysis, attributed to the current owner.
    fn record_sql(&mut self, text: String, line: u32, origin: RawSqlOrigin) {
        self.pending_sql.push(PendingSql {
            text,
            line,
            origin,
            owner: self.owner,
        });
    }

    /// Parses the SQL the visit found, in the order found, so the facts are those of parsing
    /// each text where it was met. sqlparser runs once the file's Rust is done rather than
    /// between its items: its code does not fit the first-level instruction cache, and running
    /// it over the file's statements back to back, not interleaved with syn and the visitor,
    /// costs fewer cache misses (docs/PERFORMANCE.md, 2026-12-06).
    fn analyze_pending_sql(&mut self) {
        let saved_owner = self.owner;
        for pending in std::mem::take(&mut self.pending_sql) {
            self.owner = pending.owner;
            let analysis = match pending.origin {
                RawSqlOrigin::QueryCall => Some(sql::analyze(&pending.text, self.dialect)),
                RawSqlOrigin::Literal => sql::analyze_whole(&pending.text, self.dialect),
            };
            if let Some(analysis) = analysis {
                self.record_analysis(analysis, pending.line, pending.origin);
            }
        }
        self.owner = saved_owner;
    }

    fn record_analysis(&mut self, analysis: sql::SqlAnalysis, line: u32, origin: RawSqlOrigin) {
        for problem in &analysis.problems {
            if origin == RawSqlOrigin::QueryCall {
                self.facts.problems.push((
                    Some(line + problem.line_offset),
                    format!(
                        "SQL not parsed ({}); tables taken by keyword scan",
                        problem.message
                    ),
                ));
            }
        }
        for declaration in analysis.declarations {
            let at = line + declaration.line_offset;
            self.facts.declarations.push(LocatedDeclaration {
                declaration,
                line: at,
            });
        }
        let Some(owner) = self.owner else { return };
        for access in analysis.accesses {
            self.facts.items[owner].sql.push(RawSqlAccess {
                table: access.table,
                access: access.access,
                statement: access.statement,
                line: line + access.line_offset,
                origin,
            });
        }
    }

    fn record_query_argument(&mut self, args: &Punctuated<Expr, Token![,]>) {
        for arg in each(args) {
            if let Some((text, line)) = sql_text_of(arg) {
                self.consume_literals(arg);
                self.record_sql(text, line, RawSqlOrigin::QueryCall);
                return;
            }
        }
    }

    fn consume_literals(&mut self, expr: &Expr) {
        struct Literals<'a>(&'a mut FastSet<(usize, usize)>);
        impl<'ast> Visit<'ast> for Literals<'_> {
            fn visit_lit_str(&mut self, lit: &'ast syn::LitStr) {
                let start = lit.span().start();
                self.0.insert((start.line, start.column));
            }
            fn visit_macro(&mut self, mac: &'ast syn::Macro) {
                if let Ok(parts) =
                    mac.parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated)
                {
                    for part in each(&parts) {
                        self.visit_expr(part);
                    }
                }
            }
        }
        Literals(&mut self.consumed_literals).visit_expr(expr);
    }

    fn add_use_tree(&mut self, tree: &UseTree, prefix: &mut RawPath, line: u32) {
        match tree {
            UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.add_use_tree(&p.tree, prefix, line);
                prefix.pop();
            }
            UseTree::Name(n) => {
                let name = n.ident.to_string();
                let (alias, path) = if name == "self" {
                    (prefix.last().cloned().unwrap_or_default(), prefix.clone())
                } else {
                    let mut path = prefix.clone();
                    path.push(name.clone());
                    (name, path)
                };
                self.add_use_entry(alias, path, line);
            }
            UseTree::Rename(r) => {
                let mut path = prefix.clone();
                let name = r.ident.to_string();
                if name != "self" {
                    path.push(name);
                }
                self.add_use_entry(r.rename.to_string(), path, line);
            }
            UseTree::Glob(_) => {
                let id = self.facts.paths.push_path(prefix);
                self.push_ref(id, RawRefKind::Import, line);
                let glob = prefix.clone();
                match (self.owner, self.in_function) {
                    (Some(index), true) => {
                        self.facts.items[index].extras_mut().local_globs.push(glob);
                    }
                    _ => self.facts.modules[self.module].globs.push(glob),
                }
            }
            UseTree::Group(g) => {
                for tree in each(&g.items) {
                    self.add_use_tree(tree, prefix, line);
                }
            }
        }
    }

    fn add_use_entry(&mut self, alias: String, path: RawPath, line: u32) {
        let id = self.facts.paths.push_path(&path);
        self.push_ref(id, RawRefKind::Import, line);
        if alias == "_" || alias.is_empty() {
            return;
        }
        let entry = UseEntry { alias, path };
        match (self.owner, self.in_function) {
            (Some(index), true) => self.facts.items[index].extras_mut().local_uses.push(entry),
            _ => self.facts.modules[self.module].uses.push(entry),
        }
    }

    fn visit_function(
        &mut self,
        attrs: &[Attribute],
        sig: &syn::Signature,
        block: Option<&syn::Block>,
        public: bool,
        end: Span,
    ) {
        let kind = if self.impl_context.is_some() {
            ItemKind::Method
        } else {
            ItemKind::Function
        };
        let index = self.new_item(sig.ident.to_string(), kind, sig.ident.span(), end, public);
        self.facts.items[index].owner = self.impl_context;
        let route_attributes = routes::route_attributes(attrs);
        if !route_attributes.is_empty() {
            self.facts.items[index].extras_mut().route_attributes = route_attributes;
        }
        // Functions never nest here (items inside bodies are visited as part of the body), so
        // the per-body tables are empty on entry and are cleared, keeping their capacity, on
        // the way out.
        let outer_saw_router_method = std::mem::take(&mut self.saw_router_method);
        for input in each(&sig.inputs) {
            if let syn::FnArg::Typed(typed) = input
                && let syn::Pat::Ident(ident) = typed.pat.as_ref()
                && let Some(path) = type_path_id(&mut self.facts.paths, &typed.ty)
            {
                self.local_types
                    .insert(ident.ident.to_string().into_bytes(), path);
            }
        }
        let (refs, calls) = (self.facts.refs.len(), self.facts.method_calls.len());
        self.within_item(index, true, |this| {
            this.visit_signature(sig);
            if let Some(block) = block {
                this.visit_block(block);
            }
        });
        self.facts.items[index].refs = refs..self.facts.refs.len();
        self.facts.items[index].method_calls = calls..self.facts.method_calls.len();
        if let Some(block) = block
            && std::mem::take(&mut self.saw_router_method)
        {
            let routes = routes::fragments_in_block(block);
            if !routes.is_empty() {
                self.facts.items[index].extras_mut().routes = routes;
            }
        }
        self.saw_router_method = outer_saw_router_method;
        self.local_types.clear();
        self.bound_names.clear();
    }

    fn visit_inner_macro(&mut self, mac: &syn::Macro) {
        let Some(last) = last(&mac.path.segments) else {
            return;
        };
        if mac.path.segments.len() > 1 {
            self.push_path(&mac.path, RawRefKind::Value);
        }
        let text = IdentText::of(&last.ident);
        let name = text.as_bytes();
        let query = QUERY_MACROS.iter().any(|m| m.as_bytes() == name);
        let message = MESSAGE_MACROS.iter().any(|m| m.as_bytes() == name);
        let expression = EXPRESSION_MACROS.iter().any(|m| m.as_bytes() == name);
        if query && let Some((text, line, column)) = first_literal_in_tokens(&mac.tokens) {
            self.consumed_literals.insert((line as usize, column));
            self.record_sql(text, line, RawSqlOrigin::QueryCall);
        }
        // Only macros whose arguments are plain expressions are worth a second parse; the
        // bodies of `quote!`, DSL and generated-code macros would cost as much as the file.
        if !(message || expression || query) {
            return;
        }
        if let Ok(parts) = mac.parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated) {
            if message {
                self.message_macro_depth += 1;
            }
            for part in each(&parts) {
                self.visit_expr(part);
            }
            if message {
                self.message_macro_depth -= 1;
            }
        }
    }

    /// Runs `walk` inside the scope of the inline module `name`, a child of the current one.
    fn within_inline_module(&mut self, name: String, walk: impl FnOnce(&mut Self)) {
        let mut inline_path = self.facts.modules[self.module].inline_path.clone();
        inline_path.push(name);
        self.facts.modules.push(RawModule {
            inline_path,
            ..RawModule::default()
        });
        let saved = self.module;
        self.module = self.facts.modules.len() - 1;
        walk(self);
        self.module = saved;
    }

    /// Records the `mod name;` declarations inside an inline test module (nested ones too) as
    /// test-only, so that their files are left out like the module itself. Nothing is recorded
    /// for the (usual) test module that declares no other module.
    fn declare_test_files(&mut self, node: &syn::ItemMod) {
        let Some((_, items)) = &node.content else {
            return;
        };
        if !items.iter().any(|item| matches!(item, syn::Item::Mod(_))) {
            return;
        }
        self.within_inline_module(node.ident.to_string(), |this| {
            for item in items {
                if let syn::Item::Mod(inner) = item {
                    match inner.content {
                        None => this.facts.mod_declarations.push(ModDeclaration {
                            module: this.module,
                            name: inner.ident.to_string(),
                            path_attribute: path_attribute(&inner.attrs),
                            test_only: true,
                        }),
                        Some(_) => this.declare_test_files(inner),
                    }
                }
            }
        });
    }
}

impl<'ast> Visit<'ast> for Extractor {
    fn visit_attribute(&mut self, _: &'ast Attribute) {
        // Doc comments and attribute arguments are not code: their literals are not SQL.
    }

    fn visit_item_fn(&mut self, node: &'ast syn::ItemFn) {
        if is_test_only(&node.attrs) {
            return;
        }
        if self.in_function {
            // A function nested in a body: its facts belong to the enclosing function.
            return visit::visit_item_fn(self, node);
        }
        let saved = self.impl_context.take();
        self.visit_function(
            &node.attrs,
            &node.sig,
            Some(&node.block),
            is_public(&node.vis),
            node.block.brace_token.span.close(),
        );
        self.impl_context = saved;
    }

    fn visit_item_impl(&mut self, node: &'ast syn::ItemImpl) {
        if is_test_only(&node.attrs) {
            return;
        }
        if self.in_function {
            return visit::visit_item_impl(self, node);
        }
        let self_type = type_path_of(&node.self_ty).unwrap_or_else(|| vec!["?".to_string()]);
        let trait_path = node.trait_.as_ref().map(|(_, path, _)| path_segments(path));
        let line = line_of(node.impl_token.span);
        self.visit_generics(&node.generics);
        if let Some((_, path, _)) = &node.trait_ {
            let id = store_path(&mut self.facts.paths, path);
            self.push_ref(id, RawRefKind::Type, line);
            self.visit_path_generics(path);
        }
        self.visit_type(&node.self_ty);
        self.facts.owners.push(RawOwner {
            self_type,
            trait_path,
        });
        let saved = self.impl_context.replace(self.facts.owners.len() - 1);
        for item in &node.items {
            match item {
                syn::ImplItem::Fn(f) => {
                    if !is_test_only(&f.attrs) {
                        self.visit_function(
                            &f.attrs,
                            &f.sig,
                            Some(&f.block),
                            is_public(&f.vis),
                            f.block.brace_token.span.close(),
                        );
                    }
                }
                other => visit::visit_impl_item(self, other),
            }
        }
        self.impl_context = saved;
    }

    fn visit_item_trait(&mut self, node: &'ast syn::ItemTrait) {
        if self.in_function || is_test_only(&node.attrs) {
            return;
        }
        let index = self.new_item(
            node.ident.to_string(),
            ItemKind::Trait,
            node.ident.span(),
            node.brace_token.span.close(),
            is_public(&node.vis),
        );
        self.within_item(index, false, |this| {
            this.visit_generics(&node.generics);
            for bound in each(&node.supertraits) {
                this.visit_type_param_bound(bound);
            }
        });
        self.facts.owners.push(RawOwner {
            self_type: vec![node.ident.to_string()],
            trait_path: None,
        });
        let saved = self.impl_context.replace(self.facts.owners.len() - 1);
        for item in &node.items {
            match item {
                syn::TraitItem::Fn(f) if f.default.is_some() => {
                    self.visit_function(
                        &f.attrs,
                        &f.sig,
                        f.default.as_ref(),
                        true,
                        f.default
                            .as_ref()
                            .map_or(f.semi_token.map_or(f.sig.ident.span(), |s| s.span), |b| {
                                b.brace_token.span.close()
                            }),
                    );
                }
                other => {
                    self.within_item(index, false, |this| visit::visit_trait_item(this, other))
                }
            }
        }
        self.impl_context = saved;
    }

    fn visit_item_struct(&mut self, node: &'ast syn::ItemStruct) {
        if is_test_only(&node.attrs) {
            return;
        }
        if self.in_function {
            return visit::visit_item_struct(self, node);
        }
        let index = self.new_item(
            node.ident.to_string(),
            ItemKind::Struct,
            node.ident.span(),
            fields_end(&node.fields, node.semi_token.as_ref()),
            is_public(&node.vis),
        );
        self.within_item(index, false, |this| visit::visit_item_struct(this, node));
    }

    fn visit_item_enum(&mut self, node: &'ast syn::ItemEnum) {
        if is_test_only(&node.attrs) {
            return;
        }
        if self.in_function {
            return visit::visit_item_enum(self, node);
        }
        let index = self.new_item(
            node.ident.to_string(),
            ItemKind::Enum,
            node.ident.span(),
            node.brace_token.span.close(),
            is_public(&node.vis),
        );
        if !node.variants.is_empty() {
            self.facts.items[index].extras_mut().variants =
                each(&node.variants).map(|v| v.ident.to_string()).collect();
        }
        self.within_item(index, false, |this| visit::visit_item_enum(this, node));
    }

    fn visit_item_union(&mut self, node: &'ast syn::ItemUnion) {
        if is_test_only(&node.attrs) {
            return;
        }
        if self.in_function {
            return visit::visit_item_union(self, node);
        }
        let index = self.new_item(
            node.ident.to_string(),
            ItemKind::Union,
            node.ident.span(),
            node.fields.brace_token.span.close(),
            is_public(&node.vis),
        );
        self.within_item(index, false, |this| visit::visit_item_union(this, node));
    }

    fn visit_item_type(&mut self, node: &'ast syn::ItemType) {
        if is_test_only(&node.attrs) {
            return;
        }
        if self.in_function {
            return visit::visit_item_type(self, node);
        }
        let index = self.new_item(
            node.ident.to_string(),
            ItemKind::TypeAlias,
            node.ident.span(),
            node.semi_token.span,
            is_public(&node.vis),
        );
        self.within_item(index, false, |this| visit::visit_item_type(this, node));
    }

    fn visit_item_const(&mut self, node: &'ast syn::ItemConst) {
        if is_test_only(&node.attrs) {
            return;
        }
        if self.in_function {
            return visit::visit_item_const(self, node);
        }
        let index = self.new_item(
            node.ident.to_string(),
            ItemKind::Const,
            node.ident.span(),
            node.semi_token.span,
            is_public(&node.vis),
        );
        self.within_item(index, false, |this| visit::visit_item_const(this, node));
    }

    fn visit_item_static(&mut self, node: &'ast syn::ItemStatic) {
        if is_test_only(&node.attrs) {
            return;
        }
        if self.in_function {
            return visit::visit_item_static(self, node);
        }
        let index = self.new_item(
            node.ident.to_string(),
            ItemKind::Static,
            node.ident.span(),
            node.semi_token.span,
            is_public(&node.vis),
        );
        self.within_item(index, false, |this| visit::visit_item_static(this, node));
    }

    fn visit_item_mod(&mut self, node: &'ast syn::ItemMod) {
        if self.in_function {
            return;
        }
        let test_only = is_test_only(&node.attrs);
        if test_only && node.content.is_some() {
            self.declare_test_files(node);
            return;
        }
        let name = node.ident.to_string();
        match &node.content {
            // A test module in a file of its own is still declared, so that its file can be
            // told apart from a file nothing declares, and left out like the rest of the tests.
            None => self.facts.mod_declarations.push(ModDeclaration {
                module: self.module,
                name,
                path_attribute: path_attribute(&node.attrs),
                test_only,
            }),
            Some((_, items)) => self.within_inline_module(name, |this| {
                for item in items {
                    this.visit_item(item);
                }
            }),
        }
    }

    fn visit_item_use(&mut self, node: &'ast syn::ItemUse) {
        let line = line_of(node.use_token.span);
        let mut prefix = Vec::new();
        if node.leading_colon.is_some() {
            prefix.push("::".to_string());
        }
        self.add_use_tree(&node.tree, &mut prefix, line);
    }

    fn visit_item_extern_crate(&mut self, node: &'ast syn::ItemExternCrate) {
        let name = node.ident.to_string();
        let alias = node
            .rename
            .as_ref()
            .map_or_else(|| name.clone(), |(_, rename)| rename.to_string());
        if alias != name {
            self.facts.modules[self.module].uses.push(UseEntry {
                alias,
                path: vec!["::".to_string(), name],
            });
        }
    }

    fn visit_item_macro(&mut self, node: &'ast syn::ItemMacro) {
        let name = last(&node.mac.path.segments).map(|s| s.ident.to_string());
        match name.as_deref() {
            Some("table") => self
                .facts
                .diesel_tables
                .extend(diesel::parse_table_macro(&node.mac.tokens)),
            Some("joinable") => self
                .facts
                .diesel_joins
                .extend(diesel::parse_joinable_macro(&node.mac.tokens)),
            Some("macro_rules") => {}
            _ => self.visit_inner_macro(&node.mac),
        }
    }

    fn visit_expr_call(&mut self, node: &'ast syn::ExprCall) {
        let mut diesel_write = false;
        if let Expr::Path(path) = node.func.as_ref() {
            self.push_path(&path.path, RawRefKind::Call);
            self.visit_path_generics(&path.path);
            if let Some(last) = last(&path.path.segments) {
                let text = IdentText::of(&last.ident);
                let query = is_query_function(text.as_bytes());
                diesel_write = is_diesel_write(text.as_bytes());
                if query {
                    self.record_query_argument(&node.args);
                }
            }
        } else {
            self.visit_expr(&node.func);
        }
        if diesel_write {
            self.diesel_write_depth += 1;
        }
        for arg in each(&node.args) {
            self.visit_expr(arg);
        }
        if diesel_write {
            self.diesel_write_depth -= 1;
        }
    }

    fn visit_expr_method_call(&mut self, node: &'ast syn::ExprMethodCall) {
        let text = IdentText::of(&node.method);
        let is_query = is_query_function(text.as_bytes());
        let is_router = routes::is_router_method(text.as_bytes());
        if self.owner.is_some() && self.in_function {
            let on_self =
                matches!(node.receiver.as_ref(), Expr::Path(p) if p.path.is_ident("self"));
            let receiver_type = self.type_of_expr(&node.receiver);
            let name = self.facts.paths.push_path(&[text.as_str()]);
            self.facts.method_calls.push(RawMethodCall {
                name,
                line: line_of(node.method.span()),
                on_self,
                receiver_type,
            });
        }
        if is_query {
            self.record_query_argument(&node.args);
        }
        if is_router {
            self.saw_router_method = true;
        }
        visit::visit_expr_method_call(self, node);
    }

    fn visit_expr_path(&mut self, node: &'ast syn::ExprPath) {
        // Lone lower-case names are mostly local variables, which resolution drops; they are
        // kept because handlers passed by name (`get(list_movies)`) look the same.
        self.push_path(&node.path, RawRefKind::Value);
        self.visit_path_generics(&node.path);
        if let Some(qself) = &node.qself {
            self.visit_type(&qself.ty);
        }
    }

    fn visit_expr_struct(&mut self, node: &'ast syn::ExprStruct) {
        self.push_path(&node.path, RawRefKind::Type);
        self.visit_path_generics(&node.path);
        for field in each(&node.fields) {
            self.visit_expr(&field.expr);
        }
        if let Some(rest) = &node.rest {
            self.visit_expr(rest);
        }
    }

    fn visit_type_path(&mut self, node: &'ast syn::TypePath) {
        self.push_path(&node.path, RawRefKind::Type);
        self.visit_path_generics(&node.path);
        if let Some(qself) = &node.qself {
            self.visit_type(&qself.ty);
        }
    }

    fn visit_trait_bound(&mut self, node: &'ast syn::TraitBound) {
        self.push_path(&node.path, RawRefKind::Type);
        self.visit_path_generics(&node.path);
    }

    fn visit_pat_tuple_struct(&mut self, node: &'ast syn::PatTupleStruct) {
        self.push_path(&node.path, RawRefKind::Type);
        for elem in each(&node.elems) {
            self.visit_pat(elem);
        }
    }

    fn visit_pat_struct(&mut self, node: &'ast syn::PatStruct) {
        self.push_path(&node.path, RawRefKind::Type);
        for field in each(&node.fields) {
            self.visit_pat(&field.pat);
        }
    }

    fn visit_pat_ident(&mut self, node: &'ast syn::PatIdent) {
        if self.in_function {
            let text = IdentText::of(&node.ident);
            // `None`, `Empty`: unit variants and consts in patterns, not bindings.
            if text.starts_lowercase() && !self.bound_names.contains(text.as_bytes()) {
                self.bound_names.insert(text.as_bytes().to_vec());
            }
        }
        visit::visit_pat_ident(self, node);
    }

    fn visit_local(&mut self, node: &'ast syn::Local) {
        visit::visit_local(self, node);
        if !self.in_function {
            return;
        }
        let (pattern, stated) = match &node.pat {
            syn::Pat::Type(typed) => (
                typed.pat.as_ref(),
                type_path_id(&mut self.facts.paths, &typed.ty),
            ),
            other => (other, None),
        };
        if let syn::Pat::Ident(ident) = pattern {
            let inferred = stated.or_else(|| {
                node.init
                    .as_ref()
                    .and_then(|init| self.type_of_expr(&init.expr))
            });
            match inferred {
                Some(path) => {
                    self.local_types
                        .insert(ident.ident.to_string().into_bytes(), path);
                }
                None => {
                    // Shadowed by a value of unknown type.
                    if !self.local_types.is_empty() {
                        self.local_types
                            .remove(IdentText::of(&ident.ident).as_bytes());
                    }
                }
            }
        }
    }

    fn visit_expr_lit(&mut self, node: &'ast syn::ExprLit) {
        let Lit::Str(literal) = &node.lit else { return };
        if self.message_macro_depth > 0 {
            return;
        }
        if !self.consumed_literals.is_empty() {
            let start = literal.span().start();
            if self.consumed_literals.contains(&(start.line, start.column)) {
                return;
            }
        }
        let text = literal.value();
        if sql::starts_with_statement_keyword(&text) {
            self.record_sql(text, line_of(literal.span()), RawSqlOrigin::Literal);
        }
    }

    fn visit_macro(&mut self, node: &'ast syn::Macro) {
        self.visit_inner_macro(node);
    }
}

impl Extractor {
    /// The type an expression evaluates to, when the code states it plainly.
    fn type_of_expr(&mut self, expr: &Expr) -> Option<PathId> {
        match expr {
            Expr::Path(p) if p.path.segments.len() == 1 => {
                if self.local_types.is_empty() {
                    return None;
                }
                self.local_types
                    .get(IdentText::of(&p.path.segments[0].ident).as_bytes())
                    .copied()
            }
            Expr::Struct(s) => Some(store_path(&mut self.facts.paths, &s.path)),
            Expr::Call(call) => match call.func.as_ref() {
                // `Type::new(...)`, `Type::open(...)`: a constructor by convention.
                Expr::Path(p) if p.path.segments.len() >= 2 => {
                    let count = p.path.segments.len();
                    IdentText::of(&p.path.segments[count - 2].ident)
                        .starts_uppercase()
                        .then(|| {
                            let arena = &mut self.facts.paths;
                            let start = arena.start();
                            for segment in each(&p.path.segments).take(count - 1) {
                                arena.push_display(&segment.ident);
                            }
                            arena.finish(start)
                        })
                }
                _ => None,
            },
            Expr::Reference(r) => self.type_of_expr(&r.expr),
            Expr::Paren(p) => self.type_of_expr(&p.expr),
            Expr::Try(t) => self.type_of_expr(&t.expr),
            Expr::Await(a) => self.type_of_expr(&a.base),
            Expr::MethodCall(m)
                if m.method == "unwrap" || m.method == "expect" || m.method == "clone" =>
            {
                self.type_of_expr(&m.receiver)
            }
            _ => None,
        }
    }

    /// Visits the generic arguments of a path (`Json<Review>`, `Vec::<Movie>::new`).
    fn visit_path_generics(&mut self, path: &syn::Path) {
        for segment in each(&path.segments) {
            self.visit_path_arguments(&segment.arguments);
        }
    }
}

/// [`type_path_of`], stored in the file's arena.
fn type_path_id(arena: &mut PathArena, ty: &syn::Type) -> Option<PathId> {
    match ty {
        syn::Type::Path(p) => Some(store_path(arena, &p.path)),
        syn::Type::Reference(r) => type_path_id(arena, &r.elem),
        syn::Type::Paren(p) => type_path_id(arena, &p.elem),
        syn::Type::Group(g) => type_path_id(arena, &g.elem),
        _ => None,
    }
}

/// The path naming an impl's self type: `Foo`, `Foo<T>`, `&Foo`, `Box<Foo>` is kept as `Box`.
fn type_path_of(ty: &syn::Type) -> Option<RawPath> {
    match ty {
        syn::Type::Path(p) => Some(path_segments(&p.path)),
        syn::Type::Reference(r) => type_path_of(&r.elem),
        syn::Type::Paren(p) => type_path_of(&p.elem),
        syn::Type::Group(g) => type_path_of(&g.elem),
        _ => None,
    }
}

/// Lines of a text (as `str::lines` counts them) and its opening brackets, in one pass over the
/// bytes written so that the compiler vectorizes it: this runs over every byte of every file.
pub(crate) fn count_lines_and_openings(text: &str) -> (usize, usize) {
    let bytes = text.as_bytes();
    let (mut newlines, mut openings) = (0usize, 0usize);
    // Per-chunk counters of one byte each vectorize best; a chunk of 255 bytes cannot
    // overflow them.
    for chunk in bytes.chunks(255) {
        let (mut chunk_newlines, mut chunk_openings) = (0u8, 0u8);
        for &byte in chunk {
            chunk_newlines += u8::from(byte == b'\n');
            chunk_openings +=
                u8::from(byte == b'(') + u8::from(byte == b'[') + u8::from(byte == b'{');
        }
        newlines += usize::from(chunk_newlines);
        openings += usize::from(chunk_openings);
    }
    let unterminated = usize::from(bytes.last().is_some_and(|&byte| byte != b'\n'));
    (newlines + unterminated, openings)
}

/// The deepest bracket nesting of a text when it exceeds `limit`, found block by block: a block
/// whose closing brackets cannot bring the depth below zero changes it by its counts alone, and
/// cannot exceed the limit unless the depth plus its openings does. Only blocks that fail these
/// tests are walked byte by byte, and the whole text only when the limit may be exceeded.
pub(crate) fn nesting_beyond(text: &str, limit: usize) -> Option<usize> {
    let mut depth = 0usize;
    for block in text.as_bytes().chunks(64) {
        let (mut openings, mut closings) = (0u8, 0u8);
        for &byte in block {
            openings += u8::from(byte == b'(') + u8::from(byte == b'[') + u8::from(byte == b'{');
            closings += u8::from(byte == b')') + u8::from(byte == b']') + u8::from(byte == b'}');
        }
        let (openings, closings) = (usize::from(openings), usize::from(closings));
        if depth + openings > limit {
            let deepest = bracket_depth(text);
            return (deepest > limit).then_some(deepest);
        }
        if depth >= closings {
            depth = depth + openings - closings;
        } else {
            for &byte in block {
                match byte {
                    b'(' | b'[' | b'{' => depth += 1,
                    b')' | b']' | b'}' => depth = depth.saturating_sub(1),
                    _ => {}
                }
            }
        }
    }
    None
}

/// Deepest bracket nesting in a source text, a cheap guard against inputs that would exhaust
/// the parser's stack.
pub(crate) fn bracket_depth(text: &str) -> usize {
    // A branch-free table walk: this runs over every byte of every file.
    const STEP: [i8; 256] = {
        let mut step = [0i8; 256];
        step[b'(' as usize] = 1;
        step[b'[' as usize] = 1;
        step[b'{' as usize] = 1;
        step[b')' as usize] = -1;
        step[b']' as usize] = -1;
        step[b'}' as usize] = -1;
        step
    };
    let mut depth = 0i64;
    let mut deepest = 0i64;
    for byte in text.bytes() {
        // A closing bracket at depth 0 stays at 0 (stray closers do not hide later nesting).
        depth = (depth + i64::from(STEP[usize::from(byte)])).max(0);
        deepest = deepest.max(depth);
    }
    usize::try_from(deepest).unwrap_or(usize::MAX)
}

/// Parses one file's text into facts. Never panics on any input; problems become entries of
/// `FileFacts::problems`.
pub(crate) fn extract_file(text: &str, dialect: SqlDialect, max_nesting: usize) -> FileFacts {
    let facts = extract_file_spans(text, dialect, max_nesting);
    // proc-macro2 keeps a copy of every parsed text, with its line table, for the lifetime of
    // the thread so that spans can be located. Facts hold lines, never spans, so once a file
    // is done its entry can go: this keeps memory flat over a large tree and the span lookups
    // of the next file short. Files are extracted on the model's own worker pool, so no
    // caller's spans live on this thread.
    proc_macro2::extra::invalidate_current_thread_spans();
    facts
}

fn extract_file_spans(text: &str, dialect: SqlDialect, max_nesting: usize) -> FileFacts {
    let (lines, opening) = count_lines_and_openings(text);
    let lines = u32::try_from(lines).unwrap_or(u32::MAX);
    let mut facts = FileFacts::empty(lines);
    // The count of opening brackets bounds their nesting; only a file with more of them than
    // the limit needs a closer look.
    let depth = if opening > max_nesting {
        nesting_beyond(text, max_nesting).unwrap_or(0)
    } else {
        0
    };
    if depth > max_nesting {
        facts.problems.push((
            None,
            format!("not analyzed: brackets nest {depth} deep (limit {max_nesting})"),
        ));
        return facts;
    }
    let mut extractor = Extractor::new(facts, dialect);
    if let Err(error) = parse_and_visit(text, &mut extractor) {
        // A file that does not parse yields its syntax error and nothing else, however many
        // of its items were visited before the error.
        let line = line_of(error.span());
        let mut facts = FileFacts::empty(lines);
        facts.problems.push((
            Some(line).filter(|l| *l > 0),
            format!("Rust syntax error: {error}"),
        ));
        return facts;
    }
    extractor.analyze_pending_sql();
    extractor.facts.parsed = true;
    extractor.facts.shrink_to_fit();
    extractor.facts
}

impl Extractor {
    fn new(facts: FileFacts, dialect: SqlDialect) -> Self {
        Extractor {
            facts,
            dialect,
            module: 0,
            owner: None,
            in_function: false,
            impl_context: None,
            diesel_write_depth: 0,
            message_macro_depth: 0,
            consumed_literals: FastSet::default(),
            saw_router_method: false,
            local_types: FastMap::default(),
            bound_names: FastSet::default(),
            pending_sql: Vec::new(),
        }
    }
}

/// The facts of a file as they were found before items were visited while parsing: the whole
/// file parsed by `syn::parse_file`, then its items visited. `None` when it does not parse.
#[cfg(test)]
pub(crate) fn extract_parsed_file(text: &str, dialect: SqlDialect) -> Option<FileFacts> {
    let file = syn::parse_file(text).ok()?;
    let (lines, _) = count_lines_and_openings(text);
    let facts = FileFacts::empty(u32::try_from(lines).unwrap_or(u32::MAX));
    let mut extractor = Extractor::new(facts, dialect);
    for item in &file.items {
        extractor.visit_item(item);
    }
    extractor.analyze_pending_sql();
    extractor.facts.parsed = true;
    extractor.facts.shrink_to_fit();
    Some(extractor.facts)
}

/// Whether the next item is a `#[cfg(test)]` (or `#[test]`) module with its body inline: the
/// common home of unit tests, often a large share of a file. The token shape is checked first,
/// without allocating, so that items with ordinary attributes (doc comments are attributes too)
/// are not parsed twice.
fn is_test_module(input: syn::parse::ParseStream<'_>) -> bool {
    inline_module_end(input.cursor()).is_some()
        && input
            .fork()
            .call(Attribute::parse_outer)
            .is_ok_and(|attrs| is_test_only(&attrs))
}

/// Where an item of the shape `#[..]* [pub[(..)]] mod name { .. }` ends, if it has that shape,
/// at least one attribute, and no `mod` among the body's top-level tokens.
fn inline_module_end(cursor: syn::buffer::Cursor<'_>) -> Option<syn::buffer::Cursor<'_>> {
    use proc_macro2::Delimiter;
    let mut cursor = cursor;
    let mut attributes = 0;
    while let Some((punct, next)) = cursor.punct()
        && punct.as_char() == '#'
        && let Some((_, _, after)) = next.group(Delimiter::Bracket)
    {
        attributes += 1;
        cursor = after;
    }
    if attributes == 0 {
        return None;
    }
    if let Some((ident, next)) = cursor.ident()
        && ident == "pub"
    {
        cursor = next
            .group(Delimiter::Parenthesis)
            .map_or(next, |(_, _, after)| after);
    }
    let (keyword, next) = cursor.ident()?;
    if keyword != "mod" {
        return None;
    }
    let (_name, next) = next.ident()?;
    let (mut body, _, end) = next.group(Delimiter::Brace)?;
    // A module that declares others is parsed, so that their files are known to be tests too.
    while let Some((token, next)) = body.token_tree() {
        if matches!(&token, proc_macro2::TokenTree::Ident(ident) if ident == "mod") {
            return None;
        }
        body = next;
    }
    Some(end)
}

/// Parses a file as `syn::parse_file` does and visits each top-level item as soon as it is
/// parsed, then drops it: the visit reads an item's syntax tree while it is still in the
/// processor's caches, where visiting the whole file's tree after parsing it found most of it
/// evicted. The outcome is the same: the same items in the same order, and any syntax error
/// is the one `syn::parse_file` reports.
fn parse_and_visit(text: &str, extractor: &mut Extractor) -> syn::Result<()> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.starts_with("#!") {
        // A shebang line (or an inner attribute spelled `#![...]`): rare enough to leave to
        // syn's own rules for telling the two apart.
        let file = syn::parse_file(text)?;
        for item in &file.items {
            extractor.visit_item(item);
        }
        return Ok(());
    }
    syn::parse::Parser::parse_str(
        |input: syn::parse::ParseStream<'_>| {
            input.call(Attribute::parse_inner)?;
            while !input.is_empty() {
                if is_test_module(input) {
                    // Never part of the model (see `visit_item_mod`): stepped over unparsed.
                    // The end is found a second time here because `step` only moves to a
                    // cursor found inside it; the walk is over tokens, far cheaper than a parse.
                    input.step(|cursor| {
                        inline_module_end(*cursor)
                            .map(|end| ((), end))
                            .ok_or_else(|| cursor.error("expected a module"))
                    })?;
                    continue;
                }
                let item: syn::Item = input.parse()?;
                extractor.visit_item(&item);
            }
            Ok(())
        },
        text,
    )
}
