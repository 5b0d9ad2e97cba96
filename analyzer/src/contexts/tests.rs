//! Proposals on small hand-written monoliths, one rule per test.

use std::collections::BTreeMap;

use super::*;
use crate::graph::{Access, FileFacts, FunctionFacts, RouteFacts, TableFacts};

/// Writes a `CouplingInput` by name instead of by index.
#[derive(Default)]
struct Monolith {
    input: CouplingInput,
    files: BTreeMap<String, usize>,
    functions: BTreeMap<String, usize>,
    tables: BTreeMap<String, usize>,
}

impl Monolith {
    fn file(&mut self, path: &str) -> usize {
        if let Some(&f) = self.files.get(path) {
            return f;
        }
        self.input.files.push(FileFacts {
            path: path.into(),
            lines: 100,
        });
        self.files.insert(path.into(), self.input.files.len() - 1);
        self.input.files.len() - 1
    }

    /// `"src/repo/reviews.rs::insert"`
    fn function(&mut self, id: &str) -> usize {
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

    fn table(&mut self, name: &str) -> usize {
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

    fn call(&mut self, from: &str, to: &str) -> &mut Self {
        let (a, b) = (self.function(from), self.function(to));
        self.input.functions[a].calls.push((b, 2));
        self
    }

    fn access(&mut self, function: &str, table: &str, access: Access) -> &mut Self {
        let (f, t) = (self.function(function), self.table(table));
        self.input.functions[f].accesses.push((t, access, 3));
        self
    }

    fn uses(&mut self, function: &str, file: &str) -> &mut Self {
        let (f, g) = (self.function(function), self.file(file));
        self.input.functions[f].type_uses.push((g, 1));
        self
    }

    fn route(&mut self, method: &str, path: &str, handler: &str) -> &mut Self {
        let h = self.function(handler);
        let file = self.file("src/main.rs");
        self.input.routes.push(RouteFacts {
            method: method.into(),
            path: path.into(),
            handler: Some(h),
            file,
        });
        self.function("src/main.rs::router");
        self.call("src/main.rs::router", handler)
    }

    fn fk(&mut self, from: &str, to: &str) -> &mut Self {
        let (a, b) = (self.table(from), self.table(to));
        self.input.tables[a].references.push(b);
        self
    }

    /// One business area in three layers, with its own tables.
    fn area(&mut self, area: &str, tables: &[&str]) -> &mut Self {
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

    fn propose(&self, options: &ProposalOptions) -> Proposal {
        let graph = CouplingGraph::build(&self.input);
        propose(&self.input, &graph, options)
    }

    fn context_of(&self, proposal: &Proposal, path: &str) -> Option<String> {
        match proposal.placement[self.files[path]] {
            Placement::Context(c) => Some(proposal.contexts[c].name.clone()),
            Placement::Shared(_) => None,
        }
    }
}

/// Four areas in layers, a common library, a router, and the coupling real monoliths have.
fn cinema() -> Monolith {
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

#[test]
fn layered_areas_become_contexts_across_layers() {
    let m = cinema();
    let p = m.propose(&ProposalOptions::default());
    let mut names: Vec<&str> = p.contexts.iter().map(|c| c.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["bookings", "customers", "movies", "reviews"]);
    for area in ["movies", "customers", "reviews", "bookings"] {
        for layer in ["handlers", "services", "repo"] {
            assert_eq!(
                m.context_of(&p, &format!("src/{layer}/{area}.rs"))
                    .as_deref(),
                Some(area),
                "{layer}/{area}"
            );
        }
    }
}

#[test]
fn common_library_and_router_are_the_shared_kernel() {
    let m = cinema();
    let p = m.propose(&ProposalOptions::default());
    let reason = |path: &str| match p.placement[m.files[path]] {
        Placement::Shared(r) => Some(r),
        Placement::Context(_) => None,
    };
    assert_eq!(reason("src/common/db.rs"), Some(SharedReason::Library));
    assert_eq!(reason("src/common/error.rs"), Some(SharedReason::Library));
    assert_eq!(reason("src/main.rs"), Some(SharedReason::CompositionRoot));
    assert_eq!(reason("src/handlers/mod.rs"), Some(SharedReason::Uncoupled));
}

#[test]
fn each_table_has_its_heaviest_writer_as_owner() {
    let m = cinema();
    let p = m.propose(&ProposalOptions::default());
    for (table, owner) in [
        ("movies", "movies"),
        ("showtimes", "movies"),
        ("customers", "customers"),
        ("reviews", "reviews"),
        ("bookings", "bookings"),
    ] {
        let usage = &p.tables[m.tables[table]];
        assert_eq!(
            usage.owner.map(|c| p.contexts[c].name.as_str()),
            Some(owner),
            "{table}"
        );
    }
    // movies is written by two contexts: a shared table.
    assert_eq!(p.tables[m.tables["movies"]].writers.len(), 2);
}

#[test]
fn routes_follow_their_handlers() {
    let m = cinema();
    let p = m.propose(&ProposalOptions::default());
    for (r, route) in m.input.routes.iter().enumerate() {
        let area = route.path.split('/').nth(2).unwrap();
        let holder = p.contexts.iter().find(|c| c.routes.contains(&r)).unwrap();
        assert_eq!(holder.name, area, "{}", route.path);
    }
}

#[test]
fn a_function_pulled_elsewhere_is_a_move() {
    let m = cinema();
    let p = m.propose(&ProposalOptions::default());
    let f = m.functions["src/services/movies.rs::review_summary"];
    let found = p.moves.iter().find(|mv| mv.function == f).expect("move");
    assert_eq!(p.contexts[found.to].name, "reviews");
    assert_eq!(p.contexts[found.from].name, "movies");
    assert!(found.reason.contains("reads reviews"), "{}", found.reason);
    assert!(p.contexts[found.to].moved_in.contains(&f));
    // The rest of the file stays home: no other move out of movies.
    assert_eq!(p.moves.len(), 1, "{:?}", p.moves);
}

#[test]
fn pins_override_the_clustering_and_name_the_context() {
    let m = cinema();
    let mut options = ProposalOptions::default();
    options
        .pins
        .insert("src/handlers/reviews.rs".into(), "feedback".into());
    options
        .pins
        .insert("src/repo/customers.rs".into(), "feedback".into());
    let p = m.propose(&options);
    assert_eq!(
        m.context_of(&p, "src/handlers/reviews.rs").as_deref(),
        Some("feedback")
    );
    assert_eq!(
        m.context_of(&p, "src/repo/customers.rs").as_deref(),
        Some("feedback")
    );
}

#[test]
fn target_count_merges_the_closest_contexts() {
    let m = cinema();
    let options = ProposalOptions {
        target_contexts: Some(3),
        ..Default::default()
    };
    let p = m.propose(&options);
    let names: Vec<_> = p.contexts.iter().map(|c| &c.name).collect();
    assert_eq!(p.contexts.len(), 3, "{names:?}");
}

#[test]
fn extraction_order_is_easiest_first_and_deterministic() {
    let m = cinema();
    let a = m.propose(&ProposalOptions::default());
    let b = m.propose(&ProposalOptions::default());
    let names = |p: &Proposal| {
        p.contexts
            .iter()
            .map(|c| c.name.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&a), names(&b));
    assert!(a.difficulty.windows(2).all(|w| w[0] <= w[1]));
    // customers is only read by others: easier than bookings, which reads and calls across.
    let position = |name: &str| names(&a).iter().position(|n| n == name).unwrap();
    assert!(position("customers") < position("bookings"));
}

#[test]
fn an_empty_monolith_proposes_nothing() {
    let m = Monolith::default();
    let p = m.propose(&ProposalOptions::default());
    assert!(p.contexts.is_empty());
}
