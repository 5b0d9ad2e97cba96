//! The code model: what the analyzer knows about a source tree after discovery, parsing, SQL
//! analysis and name resolution, as plain data.
//!
//! The coupling graph and every report are built from this value alone, so it carries positions
//! (file and line) for everything a reader may want to check, and it is deterministic: maps are
//! `BTreeMap`s, lists are sorted, paths are relative to the analyzed root with `/` separators.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// A stable identifier of an item: `crate_name::module::Name`, `crate_name::module::Type::method`,
/// or `crate_name::module::<Type as Trait>::method` for methods of trait impls.
pub type ItemId = String;

/// Everything the analyzer found in one source tree.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CodeModel {
    /// The crates found (one per Cargo target: library, binaries), sorted by name.
    pub crates: Vec<CrateInfo>,
    /// Every analyzed `.rs` file, by its path relative to the root.
    pub files: BTreeMap<String, SourceFile>,
    /// Every item (function, method, type, trait, const...) by id.
    pub items: BTreeMap<ItemId, Item>,
    /// HTTP routes, sorted by path, then method.
    pub routes: Vec<Route>,
    /// Tables declared by DDL (migrations, DDL literals in code) or by diesel `table!` blocks.
    pub tables: BTreeMap<String, Table>,
    /// The `.sql` files found, relative to the root.
    pub sql_files: Vec<String>,
    /// The SQL dialect used to parse statements.
    pub dialect: SqlDialect,
    /// Problems met on the way; the rest of the tree was analyzed regardless.
    pub diagnostics: Vec<Diagnostic>,
}

/// One compilation target of the tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrateInfo {
    /// Crate name as Rust code spells it (`-` turned into `_`).
    pub name: String,
    /// The package's directory relative to the root (`""` for the root itself).
    pub dir: String,
    /// The root file of the crate (`src/lib.rs`, `src/main.rs`...).
    pub root_file: String,
    /// Library or binary.
    pub kind: CrateKind,
    /// Names (as Rust spells them) of the package's declared dependencies.
    pub dependencies: Vec<String>,
}

/// Whether a crate is a library or a binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CrateKind {
    /// `src/lib.rs` or `[lib]`.
    Lib,
    /// `src/main.rs`, `src/bin/*.rs` or `[[bin]]`.
    Bin,
    /// A directory of `.rs` files without a Cargo.toml above it.
    Loose,
}

/// One `.rs` file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceFile {
    /// Path relative to the root.
    pub path: String,
    /// Name of the crate the file belongs to.
    pub crate_name: String,
    /// Module path inside its crate, e.g. `crate::handlers::reviews`.
    pub module_path: String,
    /// Whether a `mod` declaration chain from the crate root reaches the file; when not, the
    /// module path was guessed from the file's location.
    pub declared: bool,
    /// Number of lines.
    pub lines: u32,
    /// Whether syn parsed the file; when not, it holds no items (see the diagnostics).
    pub parsed: bool,
    /// References made outside function bodies: `use` declarations, field types, impl headers,
    /// signatures of trait methods without a body, const types...
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<FileReference>,
    /// External crates referred to from outside function bodies.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub external_crates: BTreeSet<String>,
}

/// A reference from code outside any function body.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FileReference {
    /// The item whose definition holds the reference (a struct for its field types, a trait
    /// for its method signatures...), or `None` for `use` declarations and impl headers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<ItemId>,
    /// The referenced item of the workspace.
    pub target: ItemId,
    /// How it is referenced.
    pub kind: ReferenceKind,
    /// 1-based line.
    pub line: u32,
}

/// What sort of item an [`Item`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// A free function.
    Function,
    /// A function inside an `impl` (or a trait's provided method).
    Method,
    /// A struct.
    Struct,
    /// An enum.
    Enum,
    /// A union.
    Union,
    /// A trait.
    Trait,
    /// A `const`.
    Const,
    /// A `static`.
    Static,
    /// A `type` alias.
    TypeAlias,
}

impl ItemKind {
    /// Functions and methods: the items that have a body and so make calls and run SQL.
    pub fn is_function(self) -> bool {
        matches!(self, ItemKind::Function | ItemKind::Method)
    }

    /// Items that name a type (struct, enum, union, trait, type alias).
    pub fn is_type(self) -> bool {
        matches!(
            self,
            ItemKind::Struct
                | ItemKind::Enum
                | ItemKind::Union
                | ItemKind::Trait
                | ItemKind::TypeAlias
        )
    }
}

/// One item of the workspace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// Stable id (see [`ItemId`]).
    pub id: ItemId,
    /// The item's own name (`average_rating`, `Review`).
    pub name: String,
    /// What it is.
    pub kind: ItemKind,
    /// File that defines it, relative to the root.
    pub file: String,
    /// 1-based line of its name.
    pub line: u32,
    /// 1-based last line of its definition.
    pub end_line: u32,
    /// For methods: the impl or trait they belong to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<MethodOwner>,
    /// Whether the item is `pub` (any `pub(...)` counts).
    pub public: bool,
    /// Workspace items this item uses: calls, types, values (functions and methods only; other
    /// items' references are in [`SourceFile::references`]). Sorted by line, then target.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<Reference>,
    /// Method calls whose receiver type is unknown and whose name several workspace methods
    /// share (or a name so common on std types, like `get` or `insert`, that one workspace
    /// method of that name proves nothing), kept with the name for later heuristics. Calls
    /// whose name no workspace method has are calls into std or dependencies and are dropped.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unresolved_calls: Vec<UnresolvedCall>,
    /// External crates this item uses.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub external_crates: BTreeSet<String>,
    /// Tables read and written by the SQL this item runs (for a const: the SQL it holds).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sql: Vec<SqlAccess>,
}

impl Item {
    /// The label the analysis JSON uses for a single function placed apart from its file:
    /// `src/repo/reviews.rs::average_rating` (`FILE::Type::method` for methods).
    pub fn unit_label(&self) -> String {
        match &self.owner {
            Some(owner) => format!("{}::{}::{}", self.file, owner.self_type, self.name),
            None => format!("{}::{}", self.file, self.name),
        }
    }

    /// References that are calls (by path, by method on a known type, or by unique method name).
    pub fn calls(&self) -> impl Iterator<Item = &Reference> {
        self.references.iter().filter(|r| r.kind.is_call())
    }

    /// References to types (struct, enum, trait, alias) in signatures and bodies.
    pub fn type_uses(&self) -> impl Iterator<Item = &Reference> {
        self.references
            .iter()
            .filter(|r| r.kind == ReferenceKind::Type)
    }
}

/// The impl block or trait a method belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MethodOwner {
    /// The self type's name as written (`ReviewRepo`), or the trait's name for a trait's
    /// provided method.
    pub self_type: String,
    /// The self type's item when it is defined in the workspace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_item: Option<ItemId>,
    /// The implemented trait's name, for methods of `impl Trait for Type`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trait_name: Option<String>,
}

/// How one item refers to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferenceKind {
    /// A call through a path: `repo::find(id)`, `Review::new()`.
    Call,
    /// A method call whose receiver type is known: `self.m()`, or a receiver whose type the
    /// body states (a typed parameter or `let`, a struct literal, `Type::new(..)`).
    MethodCall,
    /// A method call resolved because exactly one workspace impl defines a method of that name.
    MethodByName,
    /// A type in a signature, a `let` annotation, a struct literal, a pattern or a generic.
    Type,
    /// A value path that is not called: a function passed as a handler, a const, a static,
    /// an enum variant.
    Value,
    /// A `use` declaration.
    Import,
}

impl ReferenceKind {
    /// Calls of any kind.
    pub fn is_call(self) -> bool {
        matches!(
            self,
            ReferenceKind::Call | ReferenceKind::MethodCall | ReferenceKind::MethodByName
        )
    }
}

/// A reference from a function to a workspace item.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Reference {
    /// The referenced item.
    pub target: ItemId,
    /// How.
    pub kind: ReferenceKind,
    /// 1-based line of the reference.
    pub line: u32,
}

/// A method call that could not be tied to an item.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct UnresolvedCall {
    /// The method's name.
    pub method: String,
    /// 1-based line.
    pub line: u32,
}

/// Whether a statement reads or writes a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// SELECT, a join, a subquery, the source of `INSERT ... SELECT`.
    Read,
    /// The target of INSERT, UPDATE, DELETE, MERGE, REPLACE.
    Write,
}

/// The kind of SQL statement behind an access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatementKind {
    /// A query.
    Select,
    /// INSERT or REPLACE.
    Insert,
    /// UPDATE.
    Update,
    /// DELETE.
    Delete,
    /// MERGE.
    Merge,
    /// Recovered by a keyword scan from a statement sqlparser rejected.
    Unparsed,
    /// Inferred from an ORM's query builder (diesel paths), not from SQL text.
    Orm,
}

/// Where the SQL behind an access was found.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "item")]
pub enum SqlOrigin {
    /// A literal passed to a query-like call or macro (`execute`, `query!`...).
    QueryCall,
    /// A literal elsewhere that sqlparser accepts as a whole statement.
    Literal,
    /// A const holding SQL, used by this function (the const's id).
    Const(ItemId),
    /// Diesel DSL paths (`users::table`, `insert_into(users::table)`).
    Diesel,
}

/// One table access by one item.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SqlAccess {
    /// Table name, lower case, without schema.
    pub table: String,
    /// Read or write.
    pub access: Access,
    /// The statement's kind.
    pub statement: StatementKind,
    /// 1-based line of the SQL literal (or the DSL path).
    pub line: u32,
    /// Where the SQL came from.
    pub origin: SqlOrigin,
}

/// The web framework a route was registered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Framework {
    /// `Router::route`, `nest`, `merge`.
    Axum,
    /// Attributes `#[get]`..., `web::resource`, `web::scope`, `App::route`.
    ActixWeb,
    /// Attributes plus `mount("/p", routes![...])`.
    Rocket,
}

/// One HTTP route.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Route {
    /// Upper-case method (`GET`), or `ANY` for handlers of every method.
    pub method: String,
    /// Full path with nest and scope prefixes applied, parameters as written (`{id}`, `:id`,
    /// `<id>`).
    pub path: String,
    /// The handler function when it is a workspace item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handler: Option<ItemId>,
    /// The handler as written (`reviews::list`), or `<closure>`.
    pub handler_name: String,
    /// File of the registration (the `.route(...)` call or the attribute).
    pub file: String,
    /// 1-based line of the registration.
    pub line: u32,
    /// The framework.
    pub framework: Framework,
}

impl Route {
    /// `GET /api/reviews`: how reports list a route.
    pub fn label(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// A table with its columns and foreign keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    /// Name, lower case, without schema.
    pub name: String,
    /// Columns in declaration order (later `ALTER TABLE ... ADD COLUMN` appended).
    pub columns: Vec<Column>,
    /// Foreign keys to other tables.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub foreign_keys: Vec<ForeignKey>,
    /// Where the table is declared (several places when migrations alter it).
    pub declared_at: Vec<Location>,
}

/// One column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// Name, lower case.
    pub name: String,
    /// Declared type as written (`INTEGER`, `TEXT`, diesel's `Integer`).
    pub data_type: String,
    /// Part of the primary key.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub primary_key: bool,
}

/// A foreign key from some columns of a table to another table.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ForeignKey {
    /// Local columns.
    pub columns: Vec<String>,
    /// Referenced table, lower case.
    pub to_table: String,
    /// Referenced columns (empty when implied).
    pub to_columns: Vec<String>,
}

/// A position in the tree.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Location {
    /// File relative to the root.
    pub file: String,
    /// 1-based line.
    pub line: u32,
}

/// A problem met while analyzing; never fatal.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Diagnostic {
    /// File relative to the root (`.` for the tree as a whole).
    pub file: String,
    /// 1-based line when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// What went wrong, in words.
    pub message: String,
}

/// SQL dialects the analyzer can parse with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SqlDialect {
    /// SQLite (rusqlite, sqlx sqlite).
    Sqlite,
    /// PostgreSQL (tokio-postgres, postgres, sqlx postgres, diesel postgres).
    Postgres,
    /// MySQL.
    Mysql,
    /// sqlparser's generic dialect.
    #[default]
    Generic,
}

impl CodeModel {
    /// The routes registered in one file.
    pub fn routes_in_file<'a>(&'a self, file: &'a str) -> impl Iterator<Item = &'a Route> + 'a {
        self.routes.iter().filter(move |route| route.file == file)
    }

    /// The items defined in one file, in id order.
    pub fn items_in_file<'a>(&'a self, file: &'a str) -> impl Iterator<Item = &'a Item> + 'a {
        self.items.values().filter(move |item| item.file == file)
    }

    /// Tables read and written by the items of each file (direct SQL only, not through calls).
    pub fn table_access_by_file(&self) -> BTreeMap<String, BTreeMap<String, BTreeSet<Access>>> {
        let mut by_file: BTreeMap<String, BTreeMap<String, BTreeSet<Access>>> = BTreeMap::new();
        for item in self.items.values() {
            for access in &item.sql {
                by_file
                    .entry(item.file.clone())
                    .or_default()
                    .entry(access.table.clone())
                    .or_default()
                    .insert(access.access);
            }
        }
        by_file
    }
}
