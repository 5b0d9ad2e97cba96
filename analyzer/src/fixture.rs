//! Hand-written monoliths for unit tests: a builder that names files, functions and tables
//! instead of indexing them, and `cinema`, a layered movie-booking monolith in miniature.

use std::collections::BTreeMap;

use crate::contexts::{Placement, Proposal, ProposalOptions, propose};
use crate::graph::{
    Access, CouplingGraph, CouplingInput, FileFacts, FunctionFacts, RouteFacts, TableFacts,
};

/// Writes a `CouplingInput` by name instead of by index.
#[derive(Default)]
pub(crate) struct Monolith {
    pub input: CouplingInput,
    pub files: BTreeMap<String, usize>,
    pub functions: BTreeMap<String, usize>,
    pub tables: BTreeMap<String, usize>,
}

impl Monolith {
    pub(crate) fn file(&mut self, path: &str) -> usize {
        if let Some(&f) = self.files.get(path) {
            return f;
        }
        self.input.files.push(FileFacts {
            path: path.into(),
            lines: 100,
            entry_point: path == "src/main.rs",
        });
        self.files.insert(path.into(), self.input.files.len() - 1);
        self.input.files.len() - 1
    }

    /// `"src/repo/reviews.rs::insert"`
    pub(crate) fn function(&mut self, id: &str) -> usize {
        if let Some(&f) = self.functions.get(id) {
            return f;
        }
        let (path, name) = id.split_once("::").expect("FILE::fn");
        let file = self.file(path);
        self.input.functions.push(FunctionFacts {
            name: name.into(),
            file,
            line: 1,
            ..Default::default()
        });
        self.functions
            .insert(id.into(), self.input.functions.len() - 1);
        self.input.functions.len() - 1
    }

    pub(crate) fn table(&mut self, name: &str) -> usize {
        if let Some(&t) = self.tables.get(name) {
            return t;
        }
        self.input.tables.push(TableFacts {
            name: name.into(),
            references: vec![],
        });
        self.tables.insert(name.into(), self.input.tables.len() - 1);
        self.input.tables.len() - 1
    }

    pub(crate) fn call(&mut self, from: &str, to: &str) -> &mut Self {
        let (a, b) = (self.function(from), self.function(to));
        self.input.functions[a].calls.push((b, 2));
        self
    }

    pub(crate) fn access(&mut self, function: &str, table: &str, access: Access) -> &mut Self {
        let (f, t) = (self.function(function), self.table(table));
        self.input.functions[f].accesses.push((t, access, 3));
        self
    }

    pub(crate) fn uses(&mut self, function: &str, file: &str) -> &mut Self {
        let (f, g) = (self.function(function), self.file(file));
        self.input.functions[f].type_uses.push((g, 1));
        self
    }

    pub(crate) fn route(&mut self, method: &str, path: &str, handler: &str) -> &mut Self {
        let h = self.function(handler);
        let file = self.file("src/main.rs");
        self.input.routes.push(RouteFacts {
            method: method.into(),
            path: path.into(),
            handler: Some(h),
            file,
            registrar: None,
        });
        let registrar = self.function("src/main.rs::router");
        if let Some(last) = self.input.routes.last_mut() {
            last.registrar = Some(registrar);
        }
        self.call("src/main.rs::router", handler)
    }

    pub(crate) fn fk(&mut self, from: &str, to: &str) -> &mut Self {
        let (a, b) = (self.table(from), self.table(to));
        self.input.tables[a].references.push(b);
        self
    }

    /// One business area in three layers, with its own tables.
    pub(crate) fn area(&mut self, area: &str, tables: &[&str]) -> &mut Self {
        let handler = format!("src/handlers/{area}.rs");
        let service = format!("src/services/{area}.rs");
        let repo = format!("src/repo/{area}.rs");
        for op in ["list", "get", "create"] {
            self.call(&format!("{handler}::{op}"), &format!("{service}::{op}"));
            self.call(&format!("{service}::{op}"), &format!("{repo}::{op}"));
            self.call(&format!("{repo}::{op}"), "src/common/db.rs::conn");
            self.uses(&format!("{handler}::{op}"), "src/common/error.rs");
            self.uses(&format!("{service}::{op}"), "src/common/error.rs");
            self.route(
                if op == "create" { "POST" } else { "GET" },
                &format!("/api/{area}/{op}"),
                &format!("{handler}::{op}"),
            );
            for table in tables {
                let access = if op == "create" {
                    Access::Write
                } else {
                    Access::Read
                };
                self.access(&format!("{repo}::{op}"), table, access);
            }
        }
        self
    }

    pub(crate) fn propose(&self, options: &ProposalOptions) -> Proposal {
        let graph = CouplingGraph::build(&self.input);
        propose(&self.input, &graph, options)
    }

    pub(crate) fn context_of(&self, proposal: &Proposal, path: &str) -> Option<String> {
        match proposal.placement[self.files[path]] {
            Placement::Context(c) => Some(proposal.contexts[c].name.clone()),
            Placement::Shared(_) => None,
        }
    }
}

/// Four areas in layers, a common library, a router, and the coupling real monoliths have.
pub(crate) fn cinema() -> Monolith {
    let mut m = Monolith::default();
    m.area("movies", &["movies", "showtimes"])
        .area("customers", &["customers"])
        .area("reviews", &["reviews"])
        .area("bookings", &["bookings"]);
    // bookings joins customers and showtimes.
    m.access("src/repo/bookings.rs::create", "customers", Access::Read)
        .access("src/repo/bookings.rs::create", "showtimes", Access::Read)
        .access("src/repo/bookings.rs::list", "showtimes", Access::Read);
    // reviews update the movie's average rating.
    m.call(
        "src/services/reviews.rs::create",
        "src/repo/movies.rs::update_rating",
    )
    .access("src/repo/movies.rs::update_rating", "movies", Access::Write)
    .access("src/repo/reviews.rs::create", "movies", Access::Write);
    // a function in the movies service that really belongs to reviews.
    m.call(
        "src/handlers/reviews.rs::list",
        "src/services/movies.rs::review_summary",
    )
    .call(
        "src/services/movies.rs::review_summary",
        "src/repo/reviews.rs::list",
    )
    .access(
        "src/services/movies.rs::review_summary",
        "reviews",
        Access::Read,
    )
    .call(
        "src/services/movies.rs::review_summary",
        "src/repo/reviews.rs::summary",
    )
    .access("src/repo/reviews.rs::summary", "reviews", Access::Read);
    m.fk("bookings", "customers")
        .fk("bookings", "showtimes")
        .fk("showtimes", "movies")
        .fk("reviews", "movies");
    m.file("src/handlers/mod.rs");
    m
}
